"""One item's annotations → one ``sv.Detections``: which annotations become rows, and each column.

Rows keep the item's order. Columns: ``xyxy`` (float64, continuous pixels, COCO's convention: a
box's own edges, a shape's extent, a mask's pixel edges), ``class_id``, ``mask`` (full-image bool
masks, or a ``CompactMask``), ``confidence`` (model info), ``tracker_id`` (object ids) and ``data``
(see :mod:`dlconvert.interop.supervision`). What cannot become a row is skipped and reported; what
becomes a row in another shape is reported as approximated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..formats._fingerprint import geometry_fingerprint, still_matches
from ..formats._metadata import section
from ..formats._policy import degenerate_reason, is_crowd, is_image_item, label_not_in_map
from ..geometry.masks import MAX_MASK_PIXELS
from ._sv_common import (
    ANNOTATION_ID,
    ATTRIBUTES,
    CLASS_NAME,
    DATALOOP_TYPE,
    ISCROWD,
    NO_TRACKER,
    OBB_CORNERS,
    ClassIndex,
    import_supervision,
)

if TYPE_CHECKING:
    from ..annotation import Annotation
    from ..collection import AnnotationCollection
    from ..report import ConversionReport

__all__ = ["CANNOT", "HOLDS", "REGION_TYPES", "ROW_TYPES", "item_detections"]

#: Dataloop types held as they are, and how.
HOLDS: dict[str, str] = {
    "box": "xyxy",
    "box (rotated)": "its corners in data['xyxyxyxy'] (supervision's oriented boxes), xyxy their extent",
    "binary": "its mask (xyxy: the mask's extent)",
}
#: Why the other types are skipped (``supervision.unsupported-type``).
CANNOT: dict[str, str] = {
    "point": "Detections hold regions; points are keypoints (sv.KeyPoints), which this bridge does not write",
    "pose": "Detections hold regions; poses are keypoints (sv.KeyPoints), which this bridge does not write",
    "polyline": "Detections hold regions; a line has no inside",
    "cube": "Detections have no cuboids",
    "class": "an image-level label is not a detection",
    "subtitle": "Detections hold images, not timed text",
    "note": "Detections have no notes",
    "item_description": "Detections have no item descriptions",
}
#: Types whose shape is a region other than a box: a mask is what holds their pixels.
REGION_TYPES = frozenset({"binary", "segment", "ellipse"})
ROW_TYPES = frozenset({"box"}) | REGION_TYPES  # the types that become rows


def item_detections(collection: AnnotationCollection, classes: ClassIndex, report: ConversionReport, *,
                    masks: bool | None, compact_masks: bool, frame: int | None) -> Any:
    """The ``sv.Detections`` of one image item (or of one frame of a video item)."""
    sv = import_supervision()
    if frame is not None:
        view = collection.get_frame(frame)
    elif not is_image_item(collection):
        kind = "a video: pass frame=N" if collection.is_video else f"not an image ({collection.mimetype})"
        raise ValueError(f"item {collection.filename!r} is {kind}")
    else:
        view = collection
    report.read_item(view)
    rows = [a for a in view if _keep(a, view, classes, report)]
    with_masks = masks if masks is not None else any(a.type in REGION_TYPES for a in rows)
    shape = _canvas(view, rows) if with_masks else None
    for annotation in rows:
        _note_approximation(annotation, with_masks, shape, frame is None, view.filename, report)
        report.wrote(annotation)
    report.items_out += 1
    count = len(rows)
    width, height = view.display_size
    return sv.Detections(
        xyxy=np.array([_xyxy(a) for a in rows], dtype=np.float64).reshape(count, 4),
        mask=None if shape is None else _masks(sv, rows, shape, compact_masks, boxes=masks is True),
        confidence=_confidence(rows),
        class_id=np.array([classes.index[a.label] for a in rows], dtype=np.int64),
        tracker_id=_tracker_ids(rows, view.filename, report),
        data=_data(rows),
        metadata={"filename": view.filename, "item_id": view.item_id, "width": width, "height": height},
    )


def _keep(annotation: Annotation, collection: AnnotationCollection, classes: ClassIndex,
          report: ConversionReport) -> bool:
    """Whether ``annotation`` becomes a row; if not, it is reported skipped with the reason."""
    kind = annotation.type
    item = collection.filename
    if kind not in ROW_TYPES:
        reason = CANNOT.get(kind or "", f"Detections cannot hold a {kind!r} annotation")
        report.skip(annotation, "supervision.unsupported-type", reason, item)
        return False
    reason = degenerate_reason(annotation)
    if reason is not None:
        report.skip(annotation, "supervision.degenerate-shape", reason, item)
        return False
    label = annotation.label
    if label is None:
        report.skip(annotation, "supervision.no-label", "an annotation without a label has no class_id", item)
        return False
    if classes.class_id(label) is None:
        message, path, where = label_not_in_map(label, _PinnedNames(classes), report, "to_detections", collection)
        report.skip(annotation, "supervision.label-not-in-map", message, item, path=path, where=where)
        return False
    return True


class _PinnedNames:
    """The pinned class index as ``label_not_in_map`` asks a label map: pinned, with ``in``."""

    pinned = True

    def __init__(self, classes: ClassIndex) -> None:
        self._names = classes.index

    def __contains__(self, name: object) -> bool:
        return name in self._names


def _note_approximation(annotation: Annotation, with_masks: bool, shape: tuple[int, int] | None, image: bool,
                        item: str | None, report: ConversionReport) -> None:
    """Report the rows that hold their annotation in another shape (see the module's table)."""
    kind = annotation.type
    if image and annotation.is_video:
        report.approximate(annotation, "supervision.video-first-frame",
                           "a track on an image item: its first frame is the row", item)
    if kind in ("segment", "ellipse"):
        name = "polygon" if kind == "segment" else "ellipse"
        message = (f"{name} held as its pixels (pixel centres inside): a mask, not vertices" if with_masks else
                   f"{name} held as its extent only (xyxy): pass masks=True to keep its pixels")
        report.approximate(annotation, f"supervision.{name}-as-{'mask' if with_masks else 'box'}", message, item)
    elif kind == "binary" and not with_masks:
        report.approximate(annotation, "supervision.mask-as-box",
                           "mask held as its extent only (xyxy): masks=False", item)
    elif kind == "binary" and shape is not None:
        mask = annotation.annotation_definition.geo
        if mask[shape[0]:].any() or mask[:, shape[1]:].any():
            report.approximate(annotation, "supervision.mask-cut",
                               f"the mask is {mask.shape[1]}×{mask.shape[0]}, larger than the item "
                               f"({shape[1]}×{shape[0]}): its pixels outside the item are cut, as drawn", item)


def _xyxy(annotation: Annotation) -> tuple[float, float, float, float]:
    """The row's box: the one a Detections row held (kept while the shape is unchanged), else the shape's extent."""
    definition = annotation.annotation_definition
    kept = section(annotation.metadata, "user", "supervision")
    box = kept.get("xyxy")
    if (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
            and still_matches(kept, "geometry_sha1", geometry_fingerprint(definition))):
        return tuple(float(v) for v in box)
    return definition.bounds()


def _canvas(collection: AnnotationCollection, rows: list[Annotation]) -> tuple[int, int]:
    """``(height, width)`` the masks are drawn on: the item's displayed size, else its masks' size."""
    width, height = collection.display_size
    if width and height:
        return int(height), int(width)
    for annotation in rows:
        if annotation.type == "binary":
            return annotation.annotation_definition.shape
    raise ValueError(f"item {collection.filename!r} has no width and height: masks need the image size "
                     f"(pass masks=False for boxes only)")


def _masks(sv: Any, rows: list[Annotation], shape: tuple[int, int], compact: bool, *, boxes: bool) -> Any:
    """Each row's filled pixels, as our renderer covers them: a dense ``(n, H, W)`` bool array or a CompactMask.

    A box's mask is empty unless ``boxes`` (``masks=True``): a box is not a mask, and supervision's own
    ``DetectionDataset.from_coco`` gives a bbox-only record an empty mask too.
    """
    from ..render.raster import coverage

    height, width = shape
    covers = [coverage(a.annotation_definition, shape) if boxes or a.type != "box" else None for a in rows]
    if compact:
        empty = np.zeros((1, 1, 1), dtype=bool)
        parts = []
        for cover in covers:
            crop = empty if cover is None else cover.mask[None]
            h, w = crop.shape[1:]
            part = sv.CompactMask.from_dense(crop, np.array([[0, 0, w - 1, h - 1]]), image_shape=(h, w))
            parts.append(part.with_offset(0 if cover is None else cover.x0, 0 if cover is None else cover.y0,
                                          new_image_shape=shape))
        if parts:
            return sv.CompactMask.merge(parts)
        return sv.CompactMask.from_dense(np.zeros((0, height, width), dtype=bool), np.zeros((0, 4)), image_shape=shape)
    if len(rows) * height * width > MAX_MASK_PIXELS:
        raise ValueError(f"{len(rows)} full-image masks of {width}×{height} are more than {MAX_MASK_PIXELS:,} "
                         f"pixels: pass compact_masks=True (supervision's CompactMask) or masks=False")
    stack = np.zeros((len(rows), height, width), dtype=bool)
    for i, cover in enumerate(covers):
        if cover is not None:
            h, w = cover.mask.shape
            stack[i, cover.y0:cover.y0 + h, cover.x0:cover.x0 + w] = cover.mask
    return stack


def _confidence(rows: list[Annotation]) -> np.ndarray | None:
    """Model confidences (``metadata.user.model.confidence``); NaN for rows without; None when no row has one."""
    values = []
    for annotation in rows:
        info = annotation.model_info
        value = info.get("confidence") if isinstance(info, dict) else None
        usable = isinstance(value, (int, float)) and not isinstance(value, bool)
        values.append(float(value) if usable else np.nan)
    if not values or np.isnan(values).all():
        return None
    return np.array(values, dtype=np.float64)


def _tracker_ids(rows: list[Annotation], item: str | None, report: ConversionReport) -> np.ndarray | None:
    """Object ids as tracker ids; ``NO_TRACKER`` (-1) for rows without; None when no row has one."""
    ids = []
    for annotation in rows:
        object_id = annotation.object_id
        if object_id is None:
            ids.append(NO_TRACKER)
        elif object_id.isdigit() and str(int(object_id)) == object_id and int(object_id) < 2**63:
            ids.append(int(object_id))
        else:
            report.approximate(annotation, "supervision.object-id-not-an-integer",
                               f"object id {object_id!r} is not a plain whole number: tracker_id -1", item)
            ids.append(NO_TRACKER)
    if all(i == NO_TRACKER for i in ids):
        return None
    return np.array(ids, dtype=np.int64)


def _objects(values: list) -> np.ndarray:
    """An object array of ``values`` (numpy would make a list of lists or dicts into something else)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


def _data(rows: list[Annotation]) -> dict[str, np.ndarray]:
    """``data``: supervision's ``class_name`` and ``xyxyxyxy`` (and ``iscrowd`` when a row is a COCO crowd
    region), the Dataloop attributes, annotation ids and types, and what a Detections row held before."""
    data: dict[str, np.ndarray] = {
        CLASS_NAME: _objects([a.label for a in rows]),  # objects: a str array would cut a trailing NUL
        OBB_CORNERS: np.array([_corners(a) for a in rows], dtype=np.float64).reshape(len(rows), 4, 2),
        ATTRIBUTES: _objects([dict(a.attributes) for a in rows]),
        ANNOTATION_ID: _objects([a.id for a in rows]),
        DATALOOP_TYPE: np.array([a.type for a in rows], dtype=str) if rows else np.array([], dtype=str),
    }
    if any(is_crowd(a) for a in rows):
        data[ISCROWD] = np.array([int(is_crowd(a)) for a in rows], dtype=np.int64)
    kept = [section(a.metadata, "user", "supervision", "data") for a in rows]
    for key in (set(kept[0]) - set(data)) if kept else ():
        if all(key in k for k in kept):  # a column every row held: given back
            values = [k[key] for k in kept]
            column = np.asarray(values) if _uniform(values) else _objects(values)
            data[key] = column
    return data


def _uniform(values: list) -> bool:
    """Whether numpy can make a plain column of ``values`` (scalars of one kind)."""
    kinds = {type(v) for v in values}
    return len(kinds) == 1 and kinds <= {int, float, str, bool}


def _corners(annotation: Annotation) -> np.ndarray:
    """The row as an oriented box: a box's 4 corners (rotated), else the corners of its extent."""
    definition = annotation.annotation_definition
    if definition.type == "box":
        return definition.corners()
    left, top, right, bottom = _xyxy(annotation)
    return np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float64)
