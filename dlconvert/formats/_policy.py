"""What every writer does alike with what it cannot write: items that are not images, crowd regions,
and degenerate shapes. One place, so that COCO, VOC and YOLO (and the formats to come) skip and
report the same annotations for the same reason, each under its own ``<format>.<reason>`` code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._metadata import section

if TYPE_CHECKING:
    from ..annotation import Annotation
    from ..collection import AnnotationCollection
    from ..labels import LabelMap
    from ..report import ConversionReport

__all__ = ["degenerate_reason", "is_crowd", "is_image_item", "label_not_in_map", "skip_if_not_an_image"]


def is_image_item(collection: AnnotationCollection) -> bool:
    """An image item: not video or audio, and no non-image mimetype."""
    mimetype = collection.mimetype or ""
    return not (collection.is_video or collection.is_audio) and (not mimetype or mimetype.startswith("image/"))


def skip_if_not_an_image(collection: AnnotationCollection, report: ConversionReport, fmt: str, title: str) -> bool:
    """For a format that holds images only: report every annotation of a video, audio or other item
    (``<fmt>.not-an-image``) and return True; return False for an image."""
    if is_image_item(collection):
        return False
    kind = "audio" if collection.is_audio else ("video" if collection.is_video else collection.mimetype)
    for annotation in collection:
        report.skip(annotation, f"{fmt}.not-an-image", f"{title} holds images; this item is {kind}",
                    collection.filename)
    return True


def is_crowd(annotation: Annotation) -> bool:
    """A COCO crowd region (``iscrowd: 1``): an ignore region, not an object. Formats without ignore
    regions skip it and report ``<fmt>.crowd-region``, as Ultralytics' ``convert_coco`` does."""
    return section(annotation.metadata, "user", "coco").get("iscrowd") == 1


def degenerate_reason(annotation: Annotation) -> str | None:
    """Why the annotation's shape cannot be written as a shape (an inverted or empty box, a polygon of
    fewer than 3 distinct points or no area, …), or None. Writers skip it as ``<fmt>.degenerate-shape``."""
    problems = annotation.annotation_definition.problems()
    return problems[0] if problems else None


def label_not_in_map(label: str, label_map: LabelMap | None, report: ConversionReport, title: str,
                     collection: AnnotationCollection) -> tuple[str, str | None, str] | None:
    """For a label the user's label map (pinned: its classes are the classes) lacks: with
    ``on_error="fail"`` a one-line error naming the item; else ``(message, path, where)`` for the
    writer to skip each of the label's annotations as ``<fmt>.label-not-in-map`` at that place.
    None when the map has the label or is not pinned (a writer then adds the label)."""
    from ..errors import FormatError
    from ..report import OnError

    if label_map is None or not label_map.pinned or label in label_map:
        return None
    message = f"label {label!r} is not in the label map given: {title} follows that map, so no class is added"
    path, where = collection.origin or report.source, f"item {collection.filename!r}"
    if report.on_error != OnError.SKIP:
        raise FormatError(message, path=path, where=where)
    return message, path, where
