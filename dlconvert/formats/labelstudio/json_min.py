"""Label Studio's JSON_MIN export → the tasks of its JSON export, which :mod:`.read` reads.

JSON_MIN (Label Studio's "JSON-MIN" export: label-studio-converter's ``convert_to_json_min``) is a list of
flat records, one per task and submitted annotation; Label Studio leaves cancelled annotations and
predictions out, and writes a task without annotations as one record with ``annotator: null``::

    [{"image": "/data/upload/29/example.png", "id": 87,
      "label": [{"points": [[44.4, 48.3], [42.5, 60.3], [56.2, 50.8]], "closed": true,
                 "polygonlabels": ["Airplane"], "original_width": 128, "original_height": 128}],
      "annotator": 1, "annotation_id": 22, "created_at": "…", "updated_at": "…", "lead_time": 8.65}]

A record holds the task's ``data`` keys, its ``id``, one key per control (``from_name``) listing the
``value`` of each of its results (with ``original_width``/``original_height`` folded in; one choice or one
text alone is a bare string) and the annotation's own fields. Region ids, result types and ``to_name`` are
not in it, so each value is a region of its own (per-region choices or texts lose their region: they
are the image's). Here each record becomes one annotation of its task — records with the same ``id`` are
the task's annotators, in order — and each value one result: its type the value's ``<type>labels`` key,
else the config's tag for the control, else what its keys hold; its ``to_name`` the config's, else the
task's media key; its id ``m<n>`` (made up: Label Studio's are not in the file).

Which keys are controls: those the labelling config beside the export names; without one, keys whose
value is a list of objects holding a Label Studio value (labels, choices, a text list, coordinates). A
bare string is a control's only when the config says so: without it, it stays task data (kept in the
item's metadata, not converted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from ...errors import FormatError, json_pointer
from .kept import GROUP_KEYS
from .media import media_key

__all__ = ["ANNOTATION_FIELDS", "TaskPlaces", "is_json_min", "tasks_from_records"]

#: The annotation's fields in a record (label-studio-converter writes every one of them).
ANNOTATION_FIELDS = ("annotator", "annotation_id", "created_at", "updated_at", "lead_time")
#: Record keys that are the task's own fields, not its data.
_TASK_FIELDS = ("id", "agreement")
#: The group fields of the JSON export each annotation field stands for.
_GROUP_FIELDS = {"annotator": "completed_by", "annotation_id": "id", "created_at": "created_at",
                 "updated_at": "updated_at", "lead_time": "lead_time"}
#: Value keys of controls, and the result type each stands for.
_CONTROL_VALUES = {"choices": "choices", "text": "textarea", "taxonomy": "taxonomy", "number": "number",
                   "rating": "rating", "datetime": "datetime"}


class TaskPlaces(NamedTuple):
    """Where a task made from records was in the file: its first record, and each annotation's results."""

    task: str
    results: list[list[str]]


def is_json_min(data: Any) -> bool:
    """Whether a JSON document is a JSON_MIN export: a list whose first record has the annotation's
    ``annotator`` or ``annotation_id`` and neither ``data`` nor result lists."""
    first = data[0] if isinstance(data, list) and data else None
    return (isinstance(first, dict) and not any(key in first for key in ("data", *GROUP_KEYS))
            and any(key in first for key in ANNOTATION_FIELDS[:2]))


def tasks_from_records(records: list, controls: dict[str, tuple[str, str | None]], object_keys: dict[str, str],
                       path: Path) -> tuple[list[dict], list[TaskPlaces]]:
    """The tasks of JSON_MIN ``records`` (``controls`` and ``object_keys``: the config's), and where each
    task and result was in the file (errors name the place there)."""
    tasks: dict[Any, dict] = {}
    places: dict[Any, TaskPlaces] = {}
    for number, record in enumerate(records):
        if not isinstance(record, dict):
            raise FormatError("a JSON_MIN record must be an object", path=path, where=f"/{number}")
        task_id = record.get("id")
        key = task_id if isinstance(task_id, (int, str)) and not isinstance(task_id, bool) else ("record", number)
        data = {k: v for k, v in record.items()
                if k not in ANNOTATION_FIELDS and k not in _TASK_FIELDS and not _is_control(k, v, controls)}
        task = tasks.setdefault(key, {**{k: record[k] for k in _TASK_FIELDS if k in record}, "data": data,
                                      "annotations": []})
        places.setdefault(key, TaskPlaces(f"/{number}", []))
        media = media_key(data, object_keys) or "image"
        to_name = next((name for name, data_key in object_keys.items() if data_key == media), media)
        results, where = _results(record, number, controls, to_name, path)
        if results or record.get("annotation_id") is not None or record.get("annotator") is not None:
            fields = {_GROUP_FIELDS[k]: record[k] for k in ANNOTATION_FIELDS if k in record}
            task["annotations"].append({**fields, "result": results})
            places[key].results.append(where)
    return list(tasks.values()), list(places.values())


def _is_control(key: str, value: Any, controls: dict[str, tuple[str, str | None]]) -> bool:
    if key in controls:
        return isinstance(value, list) or isinstance(value, dict) or (
            isinstance(value, str) and controls[key][0] in ("choices", "textarea"))
    if isinstance(value, dict):  # one value alone: a choice of several, a text of several lines
        return _drawn(value) in ("choices", "textarea")
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and _drawn(v) for v in value)


def _labels_key(value: dict) -> str | None:
    """The value's ``<type>labels`` key (``rectanglelabels``, ``labels`` …): the result's type."""
    return next((key for key, names in value.items() if key.endswith("labels") and isinstance(names, list)), None)


def _drawn(value: dict) -> str | None:
    """The result type a value's keys say: its ``<type>labels`` key, else its geometry, else a control's value."""
    labels = _labels_key(value)
    if labels is not None:
        return labels
    for key, kind in (("radiusX", "ellipse"), ("points", "polygon"), ("rle", "brush")):
        if key in value:
            return kind
    if "x" in value and "y" in value:
        return "rectangle" if "height" in value else "keypoint"
    for key, kind in _CONTROL_VALUES.items():
        if isinstance(value.get(key), list) or (key in ("number", "rating") and key in value):
            return kind
    return None


def _results(record: dict, number: int, controls: dict[str, tuple[str, str | None]], media: str,
             path: Path) -> tuple[list[dict], list[str]]:
    """The results of one record and the JSON pointer of each one's value."""
    results: list[dict] = []
    where: list[str] = []
    for key, values in record.items():
        if key in ANNOTATION_FIELDS or key in _TASK_FIELDS or not _is_control(key, values, controls):
            continue
        kind, to_name = controls.get(key, (None, None))
        listed = values if isinstance(values, list) else [values]
        for index, value in enumerate(listed):
            place = json_pointer(number, key, *((index,) if isinstance(values, list) else ()))
            result: dict[str, Any] = {"id": f"m{len(results) + 1}", "from_name": key, "to_name": to_name or media}
            if isinstance(value, str) and kind in ("choices", "textarea"):
                result.update(type=kind, value={"choices" if kind == "choices" else "text": [value]})
            elif isinstance(value, dict):
                value = dict(value)
                for size in ("original_width", "original_height"):
                    if size in value:
                        result[size] = value.pop(size)
                result.update(type=_labels_key(value) or kind or _drawn(value), value=value)
            else:
                raise FormatError(f"a value of control {key!r} must be an object (or, for choices and texts, a "
                                  f"string)", path=path, where=place)
            results.append(result)
            where.append(place)
    return results, where
