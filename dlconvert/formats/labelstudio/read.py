"""Label Studio tasks → Dataloop items: one item per task, one annotation per region (and label).

Every result of every annotation and prediction arrives — as a shape, an attribute of its region, a
classification, or carried through as it is — or is reported:

* A region is the results sharing an ``id`` within one annotation: its shape result (:mod:`.results`), the
  labels (its own ``<type>labels`` list, or a ``labels`` result beside it — the magic wand's way), and the
  control results of the region (attributes). A region with several labels is one annotation per label.
* Without a shape: each ``choices`` value is a :class:`~dlconvert.geometry.Classification`, each
  ``textarea`` text a Dataloop free-text annotation (type ``text``).
* Everything else — text spans (``labels`` with ``start``/``end``), relations (``from_id``/``to_id``),
  video tracks, taxonomies, results of tags dlconvert does not model, shapes on an image of unknown
  size (no ``original_width``/``original_height`` in the task, no image found: a ``labelstudio.size-unknown``
  warning says so) and every result of a cancelled annotation (``was_cancelled``: the annotator skipped the
  task; a ``labelstudio.cancelled`` warning says so) — is carried through as type ``labelstudio.<type>``,
  its result verbatim: Dataloop JSON and Label Studio keep it, every other writer lists it as a type it
  cannot hold (as Label Studio's own exports leave cancelled annotations out).

Several annotators: every annotation of a task is read (``annotations``, legacy ``completions``) and every
prediction, none merged; each Dataloop annotation records where it came from in
``metadata.user.labelstudio`` (``from``, ``index``, the region id, ``completed_by`` or ``model_version``,
``cancelled``); predictions are ``automated`` with their ``score`` as ``metadata.user.model.confidence``.
The task's other fields (``drafts``, ``meta`` …), and each annotation's, stay in the item's
``metadata.user.labelstudio`` so that writing Label Studio again gives them back. A JSON_MIN export is
read as the tasks it stands for (:mod:`.json_min`).
"""

from __future__ import annotations

import copy
import functools
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._json import read_json_file
from ...annotation import Annotation
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError, InvalidAnnotationError
from ...geometry import Classification, UndefinedAnnotationType
from ...images import image_info
from ...labels import LABELMAP_FILENAME, LabelMap
from ...report import Issue
from .config import LabelConfig, read_config
from .json_min import TaskPlaces, is_json_min, tasks_from_records
from .kept import GROUP_KEYS, KEY, annotation_fingerprint
from .layout import config_file, image_roots, task_files
from .media import ImageFinder, filename_of, media_key, mimetype_of
from .results import CONTROL_VALUE_KEYS, attribute_value, definition_of, region_labels, shape_kind

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset
    from ...report import ConversionReport

__all__ = ["read"]


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a Label Studio JSON file (or a folder of them): one item per task."""
    from ...dataset import Dataset

    config = read_config(config_file(src))
    files: list[_TaskFile] = []
    for path in task_files(src):
        try:
            files.append(_task_file(path, config))
        except DlconvertError as exc:
            report.failed(exc.at(path=path), code="labelstudio.invalid-file")
    roots = tuple(r for r in (options.images, *image_roots(src)) if r is not None)
    label_map = options.labels or _own_label_map(src) or config.label_map(_labels_used(files))
    reader = _TaskReader(config.object_keys, roots, report)

    def items() -> Iterator[AnnotationCollection]:
        for file in files:
            for index, task in enumerate(file.tasks):
                places = file.places[index] if file.places is not None else None
                # the JSON pointer of the task in its file
                where = places.task if places is not None else "" if file.single else f"/{index}"
                try:
                    yield reader.item(task, file.path, index, where, places.results if places else None)
                except DlconvertError as exc:  # the task's own errors already name their place in the file
                    report.failed(exc.at(path=file.path, where=None if exc.where else where or None),
                                  code="labelstudio.invalid-task")

    return Dataset(items(), labels=label_map, images_root=roots[0] if roots else None,
                   total=sum(len(file.tasks) for file in files), image_roots=image_roots(src),
                   declared_empty=bool(files) and not any(file.tasks for file in files))


@dataclass
class _TaskFile:
    """The tasks of one file. ``single``: the file is one task object; ``places``: for a JSON_MIN export, where
    each task's records and results were (the tasks are made from them)."""

    path: Path
    tasks: list
    single: bool = False
    places: list[TaskPlaces] | None = None


def _task_file(path: Path, config: LabelConfig) -> _TaskFile:
    """A file's list of tasks, its one task (cloud storage, the legacy ``completions/<id>.json``), or the
    tasks of its JSON_MIN records."""
    data = read_json_file(path)
    if isinstance(data, dict) and not any(key in data for key in ("data", *GROUP_KEYS)):
        raise FormatError("not a Label Studio task: no 'data', 'annotations' or 'predictions'", path=path)
    if not isinstance(data, (dict, list)):
        raise FormatError("Label Studio JSON is a list of tasks or one task object", path=path)
    if is_json_min(data):
        tasks, places = tasks_from_records(data, config.controls, config.object_keys, path)
        return _TaskFile(path, tasks, places=places)
    return _TaskFile(path, data if isinstance(data, list) else [data], single=isinstance(data, dict))


def _own_label_map(src: Path) -> LabelMap | None:
    """The ``labelmap.json`` dlconvert wrote beside its Label Studio output (ids and colours), if any."""
    path = (src if src.is_dir() else src.parent) / LABELMAP_FILENAME
    return LabelMap.load(path) if path.is_file() else None


def _labels_used(files: list[_TaskFile]) -> list[str]:
    """Every label name the tasks' results give, in order of appearance (for the label map)."""
    seen: dict[str, None] = {}
    for file in files:
        for task in file.tasks:
            for _, _, results in _groups(task):
                for result in results:
                    try:
                        labels = region_labels(result) if isinstance(result, dict) else None
                    except InvalidAnnotationError:
                        labels = None
                    for name in labels or ():
                        seen.setdefault(name)
    return list(seen)


def _groups(task: Any) -> Iterator[tuple[str, int, list]]:
    """``(group key, index, result list)`` of each annotation and prediction of a task (lists only)."""
    if not isinstance(task, dict):
        return
    for key in GROUP_KEYS:
        groups = task.get(key)
        for index, group in enumerate(groups if isinstance(groups, list) else []):
            results = group.get("result") if isinstance(group, dict) else None
            if isinstance(results, list):
                yield key, index, results


class _TaskReader:
    """Builds the item of one task."""

    def __init__(self, object_keys: dict[str, str], roots: tuple[Path, ...], report: ConversionReport) -> None:
        self.object_keys = object_keys
        self.images = ImageFinder(roots)
        self.report = report

    def item(self, task: Any, path: Path, index: int, where: str,
             places: list[list[str]] | None = None) -> AnnotationCollection:
        """The item of the task at ``where`` (its JSON pointer) in ``path`` (``places``: of a JSON_MIN task, where
        each annotation's results were)."""
        if not isinstance(task, dict):
            raise FormatError("a task must be an object", path=path, where=where or None)
        data = task.get("data", {})
        if not isinstance(data, dict):
            raise FormatError("'data' must be an object", path=path, where=f"{where}/data")
        for key in GROUP_KEYS:
            if key in task and not isinstance(task[key], list):
                raise FormatError(f"{key!r} must be a list", path=path, where=f"{where}/{key}")
            for number, group in enumerate(task.get(key) or ()):
                if not isinstance(group, dict) or not isinstance(group.get("result", []), list):
                    raise FormatError("an annotation or prediction must be an object with a 'result' list",
                                      path=path, where=f"{where}/{key}/{number}")
        to_names = tuple(r.get("to_name") for _, _, results in _groups(task) for r in results
                         if isinstance(r, dict) and isinstance(r.get("to_name"), str))
        key = media_key(data, self.object_keys, to_names)
        task_id = task.get("id", index + 1)
        filename = filename_of(data[key]) if key is not None else f"/task-{task_id}"
        image = self.images.find(filename, data[key]) if key is not None else None
        size = self._size(task, image)
        collection = self._collection(task, key, filename, size, image, path)
        builder = _ItemBuilder(collection, size, path, where, places, self.report)
        for group_key, group_index, results in _groups(task):
            builder.group(group_key, group_index, task[group_key][group_index], results)
        builder.done()
        return collection

    def _size(self, task: dict, image: Path | None) -> tuple[int, int, int | None] | None:
        """``(width, height, orientation)``: the results' ``original_width``/``original_height``, else the image's."""
        for _, _, results in _groups(task):
            for result in results:
                if isinstance(result, dict):
                    width, height = result.get("original_width"), result.get("original_height")
                    if _is_size(width) and _is_size(height):
                        return int(width), int(height), None
        if image is not None:
            try:
                info = image_info(image)
            except FormatError:
                return None
            width, height = info.display_size
            return width, height, info.orientation
        return None

    def _collection(self, task: dict, key: str | None, filename: str, size, image: Path | None,
                    path: Path) -> AnnotationCollection:
        kept = {"task": {k: v for k, v in task.items() if k not in GROUP_KEYS},
                "groups": {k: [{f: v for f, v in g.items() if f != "result"} if isinstance(g, dict) else g
                               for g in task[k]] for k in GROUP_KEYS if k in task},
                "media": key}
        system: dict[str, Any] = {"mimetype": mimetype_of(filename, key) if key else _data_kind(task)}
        if size is not None:
            width, height, orientation = size
            swapped = orientation in (5, 6, 7, 8)  # the stored file's size; LS sizes are as displayed
            system.update(width=height if swapped else width, height=width if swapped else height)
            if orientation not in (None, 1):
                system["exif"] = {"Orientation": orientation}
        item_json = {"id": None, "filename": filename, "name": posixpath.basename(filename),
                     "dir": posixpath.dirname(filename) or "/", "type": "file",
                     "metadata": {"system": system, "user": {KEY: kept}}, "annotations": []}
        collection = AnnotationCollection.for_item(item_json, path)
        if image is not None:
            collection.image_path = str(image)
        return collection


def _data_kind(task: dict) -> str:
    """The mimetype of a task without one media file: text, else its JSON data (several images, a table)."""
    data = task.get("data")
    texts = [v for v in data.values() if isinstance(v, str)] if isinstance(data, dict) else []
    return "text/plain" if texts else "application/json"


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 and float(value).is_integer()


class _ItemBuilder:
    """Turns the result lists of one task into the item's annotations."""

    def __init__(self, collection: AnnotationCollection, size, path: Path, where: str,
                 places: list[list[str]] | None, report: ConversionReport) -> None:
        self.collection = collection
        self.size = size
        self.path = path
        self.where = where
        self.places = places
        self.report = report
        self.ids: set[str] = set()
        self.size_unknown = 0
        self.cancelled = 0

    def group(self, key: str, index: int, group: dict, results: list) -> None:
        """The annotations of one annotation (or prediction) of the task, region by region."""
        origin: dict[str, Any] = {"from": key, "index": index}
        model = None
        if key == "predictions":
            origin["model_version"] = group.get("model_version")
            model = group.get("score")
        elif "completed_by" in group:
            origin["completed_by"] = group["completed_by"]
        # an annotator's "skip" (``skipped`` before Label Studio 1.0): what it holds is no answer
        cancelled = key != "predictions" and (group.get("was_cancelled") is True or group.get("skipped") is True)
        if cancelled:
            origin["cancelled"] = True
        regions: dict[Any, list[tuple[int, dict]]] = {}
        for number, result in enumerate(results):
            if not isinstance(result, dict) or not isinstance(result.get("type"), str):
                self._bad("a result must be an object with a 'type'", self._place(key, index, number))
                continue
            if cancelled:
                self.cancelled += 1
                self._carry(result, origin, model)
                continue
            region = result.get("id")
            regions.setdefault(region if isinstance(region, str) and result["type"] != "relation" else
                               ("alone", number), []).append((number, result))
        for region, members in regions.items():
            self._region(region if isinstance(region, str) else None, members, origin, model,
                         functools.partial(self._place, key, index))

    def _place(self, key: str, index: int, number: int, inner: str | None = None) -> str:
        """The JSON pointer of result ``number`` of a task's annotation (``inner``: a place in it) in the file."""
        inner = inner or ""
        if self.places is not None:  # a JSON_MIN record's value: the result's value, its sizes folded in
            return self.places[index][number] + inner.removeprefix("/value")
        return f"{self.where}/{key}/{index}/result/{number}{inner}"

    def _region(self, region: str | None, members: list[tuple[int, dict]], origin: dict, model: Any,
                place: Callable[[int, str | None], str]) -> None:
        """The annotations of one region; a bad result is reported at its ``place``, with the rest of its region."""
        numbers = {id(result): number for number, result in members}
        results = [result for _, result in members]
        shapes = [r for r in results if shape_kind(r) is not None]
        shape = next((r for r in shapes if r["type"] != "labels"), shapes[0] if shapes else None)
        if shape is None:
            for result in results:
                self._alone(result, origin, model)
            return
        consumed = [r for r in results if r is shape or r["type"] == "labels" or (
            r["type"] in CONTROL_VALUE_KEYS and isinstance(r.get("from_name"), str))]
        try:
            size = _result_size(shape) or (self.size[:2] if self.size else None)
        except InvalidAnnotationError as exc:
            self._bad(exc.message, place(numbers[id(shape)], exc.where))
            return
        if size is None:  # percentages without a size: every result of the region carried as it is
            self.size_unknown += 1
            for result in results:
                self._carry(result, origin, model)
            return
        for result in results:
            if not any(result is c for c in consumed):
                self._carry(result, origin, model)
        labels: list[str] = []
        attributes: dict[str, Any] = {}
        reading = shape
        try:
            for reading in consumed:
                if reading is shape or reading["type"] == "labels":
                    labels += [label for label in region_labels(reading) or () if label not in labels]
                else:
                    attributes[reading["from_name"]] = attribute_value(reading)
            reading = shape
            definition = definition_of(shape, shape_kind(shape), *size)
        except InvalidAnnotationError as exc:
            self._bad(exc.message, place(numbers[id(reading)], exc.where))
            return
        description = _description(shape)
        for number, label in enumerate(labels or [None]):
            annotation = definition if number == 0 else copy.deepcopy(definition)
            annotation.label, annotation.attributes, annotation.description = label, dict(attributes), description
            kept = {**origin, "region": region, "results": consumed,
                    "result_sha1": annotation_fingerprint(annotation)}
            self._add(annotation, region, _siblings(kept, len(labels)), model, shape)

    def _alone(self, result: dict, origin: dict, model: Any) -> None:
        """A result that is no region's: choices → classifications, textarea → free text, the rest carried."""
        kind = result["type"]
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        key = CONTROL_VALUE_KEYS.get(kind)
        values = value.get(key) if kind in ("choices", "textarea") else None
        if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
            self._carry(result, origin, model)
            return
        region = result.get("id") if isinstance(result.get("id"), str) else None
        for text in values:
            if kind == "choices":
                definition = Classification(label=text)
            else:
                definition = UndefinedAnnotationType("text", text, label=result.get("from_name"))
            kept = {**origin, "region": region, "results": [result], "result_sha1": annotation_fingerprint(definition)}
            self._add(definition, region, _siblings(kept, len(values)), model, result)

    def _carry(self, result: dict, origin: dict, model: Any) -> None:
        """A result dlconvert does not model, as type ``labelstudio.<type>`` with the result verbatim."""
        try:
            labels = region_labels(result)
        except InvalidAnnotationError:
            labels = None
        definition = UndefinedAnnotationType(f"{KEY}.{result['type']}", result, label=(labels or [None])[0])
        region = result.get("id") if isinstance(result.get("id"), str) else None
        self._add(definition, region, {**origin, "region": region}, model, result)

    def _add(self, definition, region: str | None, kept: dict, model: Any, result: dict) -> None:
        automated = kept["from"] == "predictions"
        metadata: dict[str, Any] = {"system": {"automated": automated}, "user": {KEY: kept}}
        score = result.get("score", model)
        if automated and isinstance(score, (int, float)) and not isinstance(score, bool) and 0 <= score <= 1:
            metadata["user"]["model"] = {"name": kept.get("model_version"), "confidence": score}
        # built directly, not by Annotation.new, which copies the metadata (the results) once more
        annotation = Annotation(definition, id=self._unique(region or f"{kept['from']}-{kept['index']}"),
                                metadata=metadata)
        self.collection.annotations.append(annotation)

    def _unique(self, wanted: str) -> str:
        candidate, number = wanted, 1
        while candidate in self.ids:
            number += 1
            candidate = f"{wanted}~{number}"
        self.ids.add(candidate)
        return candidate

    def _bad(self, message: str, where: str) -> None:
        self.report.bad_record(FormatError(message, path=self.path, where=where), code="labelstudio.invalid-result",
                               item=self.collection.filename)

    def done(self) -> None:
        self.collection.mark_read()
        if self.size_unknown:
            self.report.issues.append(Issue(
                "warning", "labelstudio.size-unknown",
                f"{self.size_unknown} region(s) stay in Label Studio's percentages (carried through as "
                f"labelstudio.<type>): the task gives no original_width/original_height and its image was not "
                f"found (pass the image folder with --images)", item=self.collection.filename, path=str(self.path)))
        if self.cancelled:
            self.report.issues.append(Issue(
                "warning", "labelstudio.cancelled", f"{self.cancelled} result(s) of cancelled (skipped) annotations "
                f"are carried through as labelstudio.<type>, not converted, as Label Studio's own exports leave "
                f"them out", item=self.collection.filename, path=str(self.path)))


def _siblings(kept: dict, count: int) -> dict:
    """``kept`` with the number of annotations made of the same results, when more than one (a region with
    several labels, a choice of several values): the writer gives the results back only with all of them."""
    return {**kept, "siblings": count} if count > 1 else kept


def _result_size(result: dict) -> tuple[int, int] | None:
    width, height = result.get("original_width"), result.get("original_height")
    if width is None and height is None:
        return None
    if not (_is_size(width) and _is_size(height)):
        raise InvalidAnnotationError("original_width and original_height must be positive whole numbers",
                                     where="/original_width")
    return int(width), int(height)


def _description(result: dict) -> str | None:
    """A region's note (``meta.text``), as the annotation's description."""
    meta = result.get("meta")
    texts = meta.get("text") if isinstance(meta, dict) else None
    if isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts):
        return "\n".join(texts)
    return None
