"""An annotation's Dataloop JSON, both ways: parsed with every fault named by its JSON pointer, written
back as the source JSON with only what changed put in (see :mod:`dlconvert.annotation`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .errors import InvalidAnnotationError, json_pointer
from .frame_annotation import FrameAnnotation
from .geometry import annotation_type_name, definition_from_json

if TYPE_CHECKING:
    from .annotation import Annotation

__all__ = ["annotation_to_json", "finite_number", "flag", "frame_number", "parse_annotation", "put", "read_frames",
           "value_kind"]

_MISSING = object()


def put(out: dict, key: str, value: Any, absent: Any = _MISSING) -> None:
    """Write ``value`` into JSON read from a file without disturbing what did not change.

    An equal value already there is left as it was written (``5.0`` stays ``5.0``); a missing key
    is added only when ``value`` differs from what its absence means (``absent``).
    """
    if key in out:
        if out[key] != value:
            out[key] = value
    elif absent is _MISSING or value != absent:
        out[key] = value


# ==== reading ===================================================================================
def parse_annotation(cls: type[Annotation], data: dict, is_video: bool | None, fps: float | None) -> Annotation:
    """An annotation of class ``cls`` from its Dataloop JSON object ``data`` (kept as it is, for writing
    back); errors name the JSON pointer under it. Tracks get their frames when ``is_video``."""
    if "type" not in data:
        raise InvalidAnnotationError("annotation has no 'type'", where="")
    type_ = data["type"]
    if not isinstance(type_, str):
        raise InvalidAnnotationError("annotation 'type' must be a string", where="/type")
    if type(type_) is not str:  # an AnnotationType member (ours or the SDK's) in a dict built in Python
        type_ = annotation_type_name(type_)
    label = data.get("label")
    if label is not None and not isinstance(label, str):
        raise InvalidAnnotationError("annotation 'label' must be a string or null", where="/label")
    metadata = data.get("metadata")
    if metadata is None:
        metadata_out: dict = {}
    elif isinstance(metadata, dict):
        metadata_out = metadata
    else:
        raise InvalidAnnotationError("annotation 'metadata' must be an object", where="/metadata")
    system = metadata_out.get("system", {})
    if not isinstance(system, dict):  # [], "", null: every reader of metadata.system needs an object
        raise InvalidAnnotationError("'metadata.system' must be an object", where="/metadata/system")
    # ids are looked up and compared (a pose's keypoints by parentId): a string or a number, or none
    for value, where in ((data.get("id"), "/id"), (data.get("_id"), "/_id"),
                         (system.get("parentId"), "/metadata/system/parentId")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            raise InvalidAnnotationError(f"an id must be a string, got {value_kind(value)}", where=where)
    attributes = system.get("attributes")
    if attributes is not None and not isinstance(attributes, dict):
        attributes = None  # the SDK reads a non-dict as no v2 attributes; the JSON keeps it
    description = data.get("description")
    coords_key = "coordinates" if "coordinates" in data else ("data" if "data" in data else None)
    try:
        definition = definition_from_json(
            type_, data.get(coords_key) if coords_key else None, label,
            dict(attributes) if attributes else None, description if isinstance(description, str) else None,
            has_coordinates=coords_key is not None,
        )
    except InvalidAnnotationError as exc:
        raise exc.at(where=json_pointer(coords_key or "coordinates")) from None
    v1 = data.get("attributes")
    annotation = cls(definition, metadata=metadata_out, fps=fps,
                     v1_attributes=v1 if isinstance(v1, list) else None, _json=data)
    annotation._attributes_present = "attributes" in system
    if is_video is None:
        # Item unknown: only stored states make a track (UI image annotations carry an
        # empty snapshots_ list and endFrame 1, which the SDK misreads as video, B6).
        is_video = bool(system.get("snapshots_"))
    if is_video:
        read_frames(annotation, type_)
    return annotation

def read_frames(annotation: Annotation, type_: str) -> None:
    """The stored states of a track: the top-level state at ``frame``, then each of ``snapshots_``."""
    system = annotation.metadata.get("system", {})
    start = frame_number(system.get("frame", 0) or 0, "'frame'", "/metadata/system/frame")
    if system.get("endFrame") is not None:
        frame_number(system["endFrame"], "'endFrame'", "/metadata/system/endFrame")
    for key in ("startTime", "endTime"):
        if system.get(key) is not None:
            finite_number(system[key], f"{key!r}", json_pointer("metadata", "system", key))
    visible = flag(system.get("objectVisible"), True, "'objectVisible'", "/metadata/system/objectVisible")
    annotation.frames = {start: FrameAnnotation(annotation.annotation_definition, start, fixed=True,
                                                object_visible=visible)}
    snapshots = system.get("snapshots_")
    if snapshots is None:
        snapshots = []
    if not isinstance(snapshots, list):
        raise InvalidAnnotationError("'snapshots_' must be a list", where="/metadata/system/snapshots_")
    for i, snap in enumerate(snapshots):
        where = json_pointer("metadata", "system", "snapshots_", i)
        if not isinstance(snap, dict):
            raise InvalidAnnotationError("a snapshot must be an object", where=where)
        frame = frame_number(snap.get("frame"), "snapshot 'frame'", where + "/frame")
        for key in ("type", "label"):
            if snap.get(key) is not None and not isinstance(snap[key], str):
                raise InvalidAnnotationError(f"snapshot {key!r} must be a string", where=where + "/" + key)
        named = snap.get("namedAttributes")
        key = "coordinates" if ("coordinates" in snap and "data" not in snap) else "data"
        try:
            definition = definition_from_json(
                snap.get("type", type_), snap.get(key), snap.get("label", annotation.annotation_definition.label),
                dict(named) if isinstance(named, dict) else None,
                snap.get("description") if isinstance(snap.get("description"), str) else None,
                has_coordinates=key in snap,
            )
        except InvalidAnnotationError as exc:
            raise exc.at(where=where + json_pointer(key)) from None
        # A snapshot without 'fixed' is not a keyframe: the SDK's FrameAnnotation.from_snapshot reads False.
        annotation.frames[frame] = FrameAnnotation(
            definition, frame, fixed=flag(snap.get("fixed"), False, "snapshot 'fixed'", where + "/fixed"),
            object_visible=flag(snap.get("objectVisible"), True, "snapshot 'objectVisible'",
                                 where + "/objectVisible"), _raw=snap,
        )


# ==== writing ===================================================================================
def annotation_to_json(annotation: Annotation) -> dict:
    """The Dataloop annotation object: the source JSON with what changed written back."""
    out = dict(annotation._json)
    definition = annotation.annotation_definition
    put(out, "type", definition.type)
    put(out, "label", definition.label)
    key = "data" if ("data" in out and "coordinates" not in out) else "coordinates"
    if key in out or definition.type != "class":
        coordinates = definition.to_coordinates()
        if key in out or coordinates is not None:  # an unknown type read without coordinates gets none
            put(out, key, coordinates)
    if definition.description is not None or isinstance(out.get("description"), str):
        put(out, "description", definition.description)
    if annotation.v1_attributes is not None and ("attributes" in out or annotation.v1_attributes):
        put(out, "attributes", annotation.v1_attributes)
    metadata = _metadata_json(annotation)
    if metadata or out.get("metadata") is not None:  # "metadata": null stays null unless filled
        out["metadata"] = metadata
    return out

def _metadata_json(annotation: Annotation) -> dict:
    metadata = dict(annotation.metadata)
    system = dict(metadata.get("system") or {})
    attributes = annotation.annotation_definition.attributes
    if attributes or (annotation._attributes_present and isinstance(system.get("attributes", {}), dict)):
        # a non-object value read from the file (null, a list) stays as it was while none are set
        put(system, "attributes", attributes)
    if annotation.frames is not None:
        first = annotation.frames.get(annotation.start_frame)
        if first is not None:
            put(system, "objectVisible", first.object_visible, absent=True)
        if "snapshots_" in system or len(annotation.frames) > 1:
            system["snapshots_"] = _snapshots_json(annotation)
    if system or "system" in metadata:
        metadata["system"] = system
    return metadata

def _snapshots_json(annotation: Annotation) -> list:
    snapshots = []
    start = annotation.start_frame
    for frame_num in sorted(annotation.frames):
        if frame_num == start:
            continue  # the first state is the top-level coordinates
        state = annotation.frames[frame_num]
        raw = state._raw or {}
        snap = dict(raw)
        definition = state.annotation_definition
        # A snapshot read from a file keeps its own layout; a new one gets the SDK's full layout
        # (the SDK's reader needs 'label'; a missing 'fixed' reads as false, here as there).
        top = annotation.annotation_definition
        put(snap, "frame", frame_num)
        put(snap, "fixed", state.fixed, absent=False if raw else _MISSING)
        put(snap, "label", definition.label, absent=top.label if raw else _MISSING)
        put(snap, "type", definition.type, absent=top.type if raw else _MISSING)
        put(snap, "objectVisible", state.object_visible, absent=True if raw else _MISSING)
        key = "coordinates" if ("coordinates" in snap and "data" not in snap) else "data"
        coordinates = definition.to_coordinates()
        if key in snap or not raw or coordinates is not None:
            put(snap, key, coordinates)
        if definition.attributes or not raw or isinstance(snap.get("namedAttributes", {}), dict):
            put(snap, "namedAttributes", definition.attributes, absent={} if raw else _MISSING)
        if definition.description is not None or isinstance(snap.get("description"), str):
            put(snap, "description", definition.description)
        snapshots.append(snap)
    return snapshots


# ==== checks ====================================================================================
def value_kind(value: Any) -> str:
    return {dict: "an object", list: "a list", float: "a number", int: "a number", str: "a string",
            bool: "a boolean"}.get(type(value), type(value).__name__)


def finite_number(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidAnnotationError(f"{name} must be a number", where=where)
    if not math.isfinite(value):
        raise InvalidAnnotationError(f"{name} must be a finite number, got {value}", where=where)
    return value


def flag(value: Any, absent: bool, name: str, where: str) -> bool:
    """A JSON boolean; a missing or null one means ``absent``. Anything else is reported, not guessed."""
    if value is None:
        return absent
    if not isinstance(value, bool):
        raise InvalidAnnotationError(f"{name} must be true or false, got {value_kind(value)}", where=where)
    return value


def frame_number(value: Any, name: str, where: str) -> int:
    """A frame index: a whole, finite number (``5`` or ``5.0``), as an int."""
    value = finite_number(value, name, where)
    if value != int(value):
        raise InvalidAnnotationError(f"{name} must be a whole number, got {value}", where=where)
    return int(value)
