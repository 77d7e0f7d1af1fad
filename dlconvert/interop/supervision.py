"""Dataloop annotations ↔ Roboflow supervision's ``sv.Detections`` and ``sv.DetectionDataset``.

Install with ``pip install "dlconvert[supervision]"``; supervision is imported when a function here
is called (``import dlconvert`` never imports it).

``to_detections(collection)`` gives one ``sv.Detections`` per image item (``frame=N`` for a frame of
a video item); ``to_detections(dataset)`` yields one per image item, and
``to_detection_dataset(dataset)`` builds an ``sv.DetectionDataset`` over the items' image files.
Columns (rows in the item's order):

* ``xyxy`` float64, continuous pixels (COCO's convention, as ``DetectionDataset.from_coco``): a
  box's own edges; a rotated box, polygon, ellipse or mask by its extent.
* ``class_id``: the label's index in the label map's YOLO order (the dataset's label map, e.g. COCO
  categories or YOLO names; for one item, its labels sorted), or in the ``labels`` given (a
  ``LabelMap``, class names in id order, or ``{name: class_id}``; an annotation whose label they lack
  is skipped, or with ``report.on_error == "fail"`` — the default — an error).
* ``mask``: full-image bool masks, as our renderer fills each shape (pixel centres inside), with
  ``masks=True``; ``masks=None`` (the default) makes them when the item holds a polygon, ellipse or
  mask, as ``DetectionDataset.from_coco`` does for segmentations. ``compact_masks=True`` gives
  supervision's ``CompactMask`` (crop RLE) instead of an ``(n, H, W)`` array, whose memory grows
  with the image: dense masks beyond 400 M pixels are refused with that advice.
* ``confidence``: the model info's confidence (NaN for rows without); None when no row has one.
* ``tracker_id``: object ids (-1 for rows without); None when no row has one.
* ``data``: ``class_name`` (supervision's), ``xyxyxyxy`` (supervision's oriented-box corners: a
  rotated box exactly, other rows the corners of their extent; ``sv.OrientedBoxAnnotator`` draws
  them), ``attributes`` (the Dataloop v2 attributes, a dict per row), ``annotation_id``,
  ``dataloop_type``, ``iscrowd`` (supervision's, only when a row is a COCO crowd region).
* ``metadata``: ``filename``, ``item_id``, ``width``, ``height`` of the item.

Held exactly: boxes (rotated ones as their corners), masks, labels, object ids, confidences,
attributes, annotation ids. Approximated (reported): polygons and ellipses become their pixels
(or only their extent with ``masks=False``), masks become their extent with ``masks=False``.
Skipped (reported, ``supervision.unsupported-type``): points, poses, polylines, cuboids,
classifications, subtitles, notes; also degenerate shapes and annotations without a label. The
model's name and id (``metadata.user.model``) are not held by Detections: pass them back to
``from_detections``.

``from_detections(detections)`` makes a collection (or adds to one) with one annotation per row:
see :mod:`dlconvert.interop._sv_from`. Every function takes a ``report``
(:class:`~dlconvert.report.ConversionReport`); without one, what was skipped or approximated is
summed up in one warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..collection import AnnotationCollection
from ..errors import FormatError
from ..formats._policy import degenerate_reason, skip_if_not_an_image
from ..labels import LabelMap
from ..report import ConversionReport
from ._sv_common import ClassIndex, import_supervision, report_or_warn, warn_about
from ._sv_from import add_detections
from ._sv_to import CANNOT, HOLDS, ROW_TYPES, item_detections

if TYPE_CHECKING:
    import os

    from ..dataset import Dataset

__all__ = ["APPROXIMATES", "CANNOT", "HOLDS", "from_detections", "to_detection_dataset", "to_detections"]

#: What becomes a row in another shape, and how (reported as approximated).
APPROXIMATES: dict[str, str] = {
    "segment": "its pixels as a mask (its extent only with masks=False)",
    "ellipse": "its pixels as a mask (its extent only with masks=False)",
    "binary (masks=False)": "its extent (xyxy)",
}

Labels = LabelMap | Iterable[str] | Mapping[str, int]


def to_detections(source: AnnotationCollection | Dataset | Iterable[AnnotationCollection], *,
                  labels: Labels | None = None, masks: bool | None = None, compact_masks: bool = False,
                  frame: int | None = None, report: ConversionReport | None = None) -> Any:
    """``sv.Detections`` of one item, or (for a dataset or any iterable of items) an iterator of them.

    For one item: a video item needs ``frame`` (the objects visible there, tracker ids from their
    object ids). For a dataset: one Detections per image item, in order, class ids shared by all;
    video and audio items are skipped and reported (``supervision.not-an-image``). See the module
    docstring for the columns and what is approximated.
    """
    _check_masks(masks, compact_masks)
    import_supervision()
    if isinstance(source, AnnotationCollection):
        own, warn = report_or_warn(report, "dataloop", "supervision")
        classes = ClassIndex.given(labels) if labels is not None else _sorted_labels(source, frame)
        detections = item_detections(source, classes, own, masks=masks, compact_masks=compact_masks, frame=frame)
        if warn:
            warn_about(own, "to_detections")
        return detections
    if frame is not None:
        raise ValueError("frame applies to one video item, not to a dataset")
    pairs = _pairs(source, _dataset_classes(source, labels), masks, compact_masks, report)
    return (detections for _, detections in pairs)


def _dataset_classes(source: Any, labels: Labels | None) -> ClassIndex:
    """The classes given, else the dataset's label map (a reader's), growing as labels are met."""
    return ClassIndex.given(labels) if labels is not None else ClassIndex.found(getattr(source, "labels", None))


def _pairs(source: Any, classes: ClassIndex, masks: bool | None, compact_masks: bool,
           report: ConversionReport | None) -> Iterator[tuple[AnnotationCollection, Any]]:
    """``(item, its Detections)`` for each image item of ``source``, class ids shared by all; video and
    audio items are reported skipped. Without a report, one warning at the end sums up what was not held."""
    own, warn = report_or_warn(report, "dataloop", "supervision")
    for collection in getattr(source, "items", source):
        if skip_if_not_an_image(collection, own, "supervision", "Detections"):
            own.read_item(collection)
            continue
        yield collection, item_detections(collection, classes, own, masks=masks, compact_masks=compact_masks,
                                          frame=None)
    if warn:
        warn_about(own, "to_detections")


def to_detection_dataset(dataset: Dataset | Iterable[AnnotationCollection], *,
                         images: str | os.PathLike[str] | None = None, labels: Labels | None = None,
                         masks: bool | None = None, compact_masks: bool = False,
                         report: ConversionReport | None = None) -> Any:
    """An ``sv.DetectionDataset`` of the image items: ``classes`` in class-id order, each item's image file.

    Images are found as the renderer finds them (``images`` first, then the image each reader paired
    with its item, then the dataset's image folders, ``Dataset.image_roots``). An item whose image is
    not found, or two items of one image, is an error: supervision reads every image (its
    ``as_coco`` and ``as_yolo`` take the size from the file).
    """
    from ..images import ImageLookup

    sv = import_supervision()
    _check_masks(masks, compact_masks)
    lookup = ImageLookup.for_source(images, dataset)
    annotations: dict[str, Any] = {}
    missing: list[str] = []
    classes = _dataset_classes(dataset, labels)
    classes.names()  # the user's {name: class_id} must number 0…K−1: refused before any work
    for collection, detections in _pairs(dataset, classes, masks, compact_masks, report):
        found = lookup.find(collection)
        if found is None:
            missing.append(collection.filename or collection.name or "?")
            continue
        path = str(found)
        if path in annotations:
            raise FormatError(f"two items have the image {path}: a DetectionDataset holds one entry per image")
        annotations[path] = detections
    if missing:
        shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
        raise FormatError(f"{len(missing)} of {len(missing) + len(annotations)} images not found: {shown} "
                          f"(looked in: {lookup.describe()})")
    return sv.DetectionDataset(classes=classes.names(), images=list(annotations),
                               annotations=annotations)


def from_detections(detections: Any, collection: AnnotationCollection | None = None, *,
                    classes: LabelMap | Iterable[str] | Mapping[Any, Any] | None = None,
                    filename: str | None = None, width: int | None = None, height: int | None = None,
                    frame: int | None = None, model_name: str | None = None, model_id: str | None = None,
                    report: ConversionReport | None = None) -> AnnotationCollection:
    """Dataloop annotations from ``sv.Detections``: added to ``collection``, or to a new one, which is returned.

    Labels come from ``data['class_name']``, else from ``classes`` by ``class_id`` (class names in id
    order, a ``LabelMap``'s YOLO order, ``{class_id: name}`` or ``{name: class_id}``). ``tracker_id`` ≥ 0
    becomes the object id; ``confidence`` the model info (with ``model_name`` and ``model_id``);
    ``frame`` adds the rows as the states of that frame of a video collection (rows with a tracker id
    extend the track of that object id). A new collection takes ``filename``, ``width`` and ``height``,
    else the Detections' ``metadata`` (written by ``to_detections``), else the masks' size.
    """
    timed = collection is not None and (collection.is_video or collection.is_audio)
    if frame is not None and not timed:
        raise ValueError("frame applies to the detections of a video frame: pass the video's collection")
    if timed and frame is None:
        raise ValueError(f"item {collection.filename!r} is a video: pass frame=N for the detections' frame")
    own, warn = report_or_warn(report, "supervision", "dataloop")
    if collection is None:
        metadata = detections.metadata or {}
        mask_size = detections.mask.shape[1:] if detections.mask is not None else (None, None)
        collection = AnnotationCollection(
            filename=filename if filename is not None else metadata.get("filename"),
            item_id=metadata.get("item_id"),
            width=width if width is not None else metadata.get("width") or mask_size[1],
            height=height if height is not None else metadata.get("height") or mask_size[0])
    add_detections(detections, collection, _names(classes), frame=frame,
                   model={"name": model_name, "model_id": model_id}, report=own)
    if warn:
        warn_about(own, "from_detections")
    return collection


def _names(classes: Any) -> dict[int, str] | None:
    """``{class_id: name}`` from the ways classes are given to :func:`from_detections`."""
    if classes is None:
        return None
    if isinstance(classes, LabelMap):
        return dict(enumerate(classes.yolo_names()))
    if isinstance(classes, Mapping):
        pairs = [(v, k) if isinstance(k, str) else (k, v) for k, v in classes.items()]
        if not all(isinstance(i, int) and not isinstance(i, bool) and isinstance(n, str) for i, n in pairs):
            raise ValueError("classes must map class ids to names ({0: 'cat'}) or names to class ids")
        return dict(pairs)
    if isinstance(classes, str):
        raise ValueError("classes must be class names in class-id order, not a string")
    return dict(enumerate(classes))


def _sorted_labels(collection: AnnotationCollection, frame: int | None) -> ClassIndex:
    """One item's default classes: the labels of its annotations that can become rows, sorted
    (``LabelMap.from_names``, the Dataloop default, whose YOLO order is the sorted names)."""
    view = collection.get_frame(frame) if frame is not None else collection
    used = {a.label for a in view if a.type in ROW_TYPES and a.label is not None and degenerate_reason(a) is None}
    return ClassIndex.found(LabelMap.from_names(used))


def _check_masks(masks: Any, compact_masks: Any) -> None:
    if masks not in (None, True, False) or compact_masks not in (True, False):
        raise ValueError(f"masks must be None, True or False and compact_masks True or False, not {masks!r} / "
                         f"{compact_masks!r}")
    if compact_masks and masks is False:
        raise ValueError("compact_masks=True asks for masks, masks=False for none")
