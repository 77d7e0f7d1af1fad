"""``sv.Detections`` → Dataloop annotations added to one collection, row by row.

Each row becomes one annotation: a Box (from ``xyxy``, or a rotated Box from the oriented-box
corners in ``data['xyxyxyxy']``, or a 4-point Polygon when those corners are not a rectangle) or a
Segmentation (from the row's mask). Rows made by :func:`~dlconvert.interop.supervision.to_detections`
say which (``data['dataloop_type']``); any other row with a non-empty mask becomes a Segmentation.
What the annotation's shape does not hold is kept in its metadata and given back by
``to_detections``: the row's own ``xyxy`` when it is not the shape's extent (a model's box beside
its mask), a confidence outside 0…1, and every other ``data`` column whose value JSON can hold
(``metadata.user.supervision``). A value JSON cannot hold is reported, never dropped silently.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..formats._fingerprint import geometry_fingerprint
from ..geometry import Box, Polygon, Segmentation
from ..report import Issue
from ._sv_common import (
    ANNOTATION_ID,
    ATTRIBUTES,
    CLASS_NAME,
    DATALOOP_TYPE,
    ISCROWD,
    OBB_CORNERS,
    json_value,
)

if TYPE_CHECKING:
    from ..collection import AnnotationCollection
    from ..geometry import BaseAnnotationDefinition
    from ..report import ConversionReport

__all__ = ["ITEM_METADATA", "add_detections"]

#: ``Detections.metadata`` keys :func:`to_detections` writes (the item they came from).
ITEM_METADATA = frozenset({"filename", "item_id", "width", "height"})
#: ``data`` columns that become the annotation itself rather than kept metadata.
_MODELLED = frozenset({CLASS_NAME, OBB_CORNERS, ATTRIBUTES, ANNOTATION_ID, DATALOOP_TYPE})
_RECTANGLE_TOLERANCE = 1e-6  # relative: corners this close to a rectangle are an oriented box


def add_detections(detections: Any, collection: AnnotationCollection, names: dict[int, str] | None, *,
                   frame: int | None, model: dict, report: ConversionReport) -> None:
    """Add one annotation per row of ``detections`` to ``collection`` (reporting what is not held)."""
    count = len(detections)
    item = collection.filename
    _check_mask_size(detections, collection)
    class_names = detections.data.get(CLASS_NAME)
    if class_names is None and detections.class_id is not None and names is None and count:
        raise ValueError("the detections have class ids but no class names (data['class_name']): pass classes=[...]")
    taken = {a.id for a in collection if a.id is not None}
    report.items_in += 1
    for i in range(count):
        label = _label(detections, class_names, names, i)
        definition, note = _definition(detections, i)
        if definition is None:
            _skip_row(report, i, label, item, note)
            continue
        definition.label = label
        attributes = _column(detections, ATTRIBUTES, i)
        if isinstance(attributes, dict):
            definition.attributes = dict(attributes)
        kept, confidence, lost = _kept(detections, definition, i)
        metadata = {"user": {"supervision": kept}} if kept else None
        iscrowd = _column(detections, ISCROWD, i)
        if iscrowd is not None and int(iscrowd) == 1:
            metadata = metadata or {}
            metadata.setdefault("user", {})["coco"] = {"iscrowd": 1}  # a COCO crowd region, as the COCO reader marks it
        tracker = detections.tracker_id[i] if detections.tracker_id is not None else None
        object_id = str(int(tracker)) if tracker is not None and int(tracker) >= 0 else None
        annotation = collection.add(definition, object_id=object_id, frame_num=frame, metadata=metadata,
                                    model_info={**model, "confidence": confidence} if confidence is not None else None)
        annotation_id = _column(detections, ANNOTATION_ID, i)
        if isinstance(annotation_id, str) and annotation_id not in taken:  # never the id of one already there
            annotation.id = annotation_id
        report.annotations_in[annotation.type] += 1
        report.wrote(annotation)
        if note:
            report.approximate(annotation, *note, item)
        for code, message in lost:
            report.approximate(annotation, code, message, item)
    report.items_out += 1
    others = sorted(set(detections.metadata) - ITEM_METADATA)
    if others:
        report.issues.append(Issue("approximated", "supervision.metadata-not-kept",
                                   f"Detections.metadata {', '.join(map(repr, others))} has no place in a Dataloop "
                                   f"item: not kept", item=item))


def _check_mask_size(detections: Any, collection: AnnotationCollection) -> None:
    if detections.mask is None or not len(detections):
        return
    height, width = detections.mask.shape[1:]
    shown_width, shown_height = collection.display_size
    if (shown_width, shown_height) != (None, None) and (shown_width, shown_height) != (width, height):
        raise ValueError(f"the detections' masks are {width}×{height}, the item {collection.filename!r} is "
                         f"{shown_width}×{shown_height}: masks of another image")


def _column(detections: Any, key: str, i: int) -> Any:
    values = detections.data.get(key)
    if values is None:
        return None
    value = values[i]
    return value.item() if isinstance(value, np.generic) else value


def _label(detections: Any, class_names: Any, names: dict[int, str] | None, i: int) -> str | None:
    if class_names is not None:
        value = class_names[i]
        value = value.item() if isinstance(value, np.generic) else value
        return str(value) if value is not None and value != "" else None
    if detections.class_id is None:
        return None
    class_id = int(detections.class_id[i])
    if class_id not in names:
        raise ValueError(f"detection {i} has class_id {class_id}, which the classes given do not name "
                         f"(they name {sorted(names)})")
    return names[class_id]


def _definition(detections: Any, i: int) -> tuple[BaseAnnotationDefinition | None, tuple[str, str] | None]:
    """The row's shape, and ``(code, message)`` when it holds the row in another shape (or why there is none)."""
    xyxy = np.asarray(detections.xyxy[i], dtype=np.float64)
    kind = _column(detections, DATALOOP_TYPE, i)
    mask = detections.mask[i] if detections.mask is not None else None
    has_pixels = mask is not None and bool(np.asarray(mask).any())
    if kind == "box" or (kind is None and not has_pixels):
        shape = _box(xyxy, _column(detections, OBB_CORNERS, i))
        if shape is None:
            return None, ("supervision.invalid-box", f"xyxy {xyxy.tolist()} is not four finite numbers")
        if kind is None and mask is not None:
            return shape, ("supervision.empty-mask", "the row's mask is empty: its box is kept")
        return shape, None
    if has_pixels:
        return Segmentation(geo=np.asarray(mask, dtype=bool)), None
    shape = _box(xyxy, None)
    if shape is None:
        return None, ("supervision.invalid-box", f"xyxy {xyxy.tolist()} is not four finite numbers")
    why = "has no mask" if mask is None else "has an empty mask"
    return shape, ("supervision.region-as-box", f"a {kind} row {why}: its extent (xyxy) becomes a box")


def _box(xyxy: np.ndarray, corners: Any) -> BaseAnnotationDefinition | None:
    """A Box from ``xyxy``, a rotated Box or a Polygon from oriented-box corners; None when not finite."""
    if not np.isfinite(xyxy).all():
        return None
    left, top, right, bottom = (float(v) for v in xyxy)
    if corners is None:
        return Box(left=left, top=top, right=right, bottom=bottom)
    corners = np.asarray(corners, dtype=np.float64)
    if corners.shape != (4, 2) or not np.isfinite(corners).all():
        return Box(left=left, top=top, right=right, bottom=bottom)
    upright = np.array([[left, top], [right, top], [right, bottom], [left, bottom]])
    if np.array_equal(corners, upright):
        return Box(left=left, top=top, right=right, bottom=bottom)
    return _oriented_box(corners)


def _oriented_box(corners: np.ndarray) -> BaseAnnotationDefinition:
    """The rotated Box whose corners these are (our ``Box.corners`` order or any other), else a Polygon."""
    side_a, side_b = corners[1] - corners[0], corners[3] - corners[0]
    width, height = float(np.hypot(*side_a)), float(np.hypot(*side_b))
    scale = max(width, height, 1.0)
    closes = np.allclose(corners[0] + side_a + side_b, corners[2], rtol=0, atol=_RECTANGLE_TOLERANCE * scale)
    square = abs(float(np.dot(side_a, side_b))) <= _RECTANGLE_TOLERANCE * scale * scale
    if not (closes and square and width > 0 and height > 0):
        return Polygon(geo=corners)
    cx, cy = (float(v) for v in corners.mean(axis=0))
    angle = math.degrees(math.atan2(side_a[1], side_a[0]))
    return Box(left=cx - width / 2, top=cy - height / 2, right=cx + width / 2, bottom=cy + height / 2,
               angle=angle if angle else None)


def _kept(detections: Any, definition: BaseAnnotationDefinition, i: int) -> tuple[dict, float | None, list]:
    """What the annotation keeps of the row beyond its shape (``metadata.user.supervision``), the confidence
    for its model info, and ``(code, message)`` for each value that could not be kept."""
    kept: dict = {}
    lost: list[tuple[str, str]] = []
    xyxy = [float(v) for v in np.asarray(detections.xyxy[i], dtype=np.float64)]
    if tuple(xyxy) != tuple(definition.bounds()):
        kept["xyxy"] = xyxy
    confidence = None
    if detections.confidence is not None:
        value = float(detections.confidence[i])
        if 0 <= value <= 1:
            confidence = value
        elif not math.isnan(value):
            kept["confidence"] = value if math.isfinite(value) else str(value)
            lost.append(("supervision.confidence-out-of-range",
                         f"confidence {value} is outside 0…1, which Dataloop model info holds: kept in "
                         f"metadata.user.supervision.confidence"))
    extra = {}
    for key in sorted(set(detections.data) - _MODELLED):
        fits, value = json_value(_column(detections, key, i))
        if fits:
            extra[key] = value
        else:
            lost.append(("supervision.data-not-kept", f"data[{key!r}] of this row is not a JSON value: not kept"))
    if extra:
        kept["data"] = extra
    if kept:
        kept["geometry_sha1"] = geometry_fingerprint(definition)  # kept values apply while the shape is unchanged
    return kept, confidence, lost


def _skip_row(report: ConversionReport, i: int, label: str | None, item: str | None, note: tuple[str, str]) -> None:
    """A row that cannot become an annotation: counted as read and skipped, and listed."""
    report.annotations_in["detection"] += 1
    report.skipped["detection"] += 1
    code, message = note
    report.issues.append(Issue("skipped", code, message, item=item, annotation_type="detection", label=label,
                               where=f"row {i}"))
