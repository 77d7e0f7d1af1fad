"""What a COCO file said beyond the shapes, kept for the way back, and whether it still applies.

The reader keeps a record's fields that the Dataloop model has no place for (``iscrowd``, its
``bbox``, ``area``, ``num_keypoints``, the RLE form, unknown fields) in the annotation's
``metadata.user.coco``, and the image record in the item's. Values derived from the geometry are
given back only while a fingerprint of that geometry, stored beside them, still matches
(:mod:`dlconvert.formats._fingerprint`): the shape's for ``bbox`` and ``area``, the keypoint
triplets' for ``num_keypoints`` (and a lone pose's ``bbox`` and ``area``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from .._fingerprint import fingerprint, geometry_fingerprint, still_matches
from .._metadata import section
from .checks import numbers

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection

__all__ = ["IDS_FILENAME", "OUTPUT_FILENAME", "SPLIT_KEY", "annotation_coco", "item_coco", "keypoints_fingerprint",
           "keypoints_unchanged", "shape_unchanged", "source_bbox"]

OUTPUT_FILENAME = "coco.json"
#: ``metadata.user.coco`` key of an item read from one of a folder's several COCO files: its split (``train``),
#: where the YOLO and VOC readers record theirs (``metadata.user.<format>.split``).
SPLIT_KEY = "split"
IDS_FILENAME = "coco_ids.json"
#: ``metadata.user.coco`` key: the fingerprint of the geometry read (the source's bbox and area apply while it matches).
GEOMETRY_KEY = "geometry_sha1"
#: ``metadata.user.coco`` key of a pose: the fingerprint of its keypoint triplets as read.
KEYPOINTS_KEY = "keypoints_sha1"
#: ``metadata.user.coco`` key remembering whether a source RLE had list or string counts.
RLE_FORM_KEY = "rle_counts"
#: ``metadata.user.coco`` key remembering a box record's own segmentation (``[]``, ``[[]]`` or absent).
BOX_SEGMENTATION_KEY = "box_segmentation"
#: Kept values the writer uses itself (only while they apply): never copied into a record as they are.
BOOKKEEPING_KEYS = frozenset({"iscrowd", "num_keypoints", GEOMETRY_KEY, KEYPOINTS_KEY, RLE_FORM_KEY,
                              BOX_SEGMENTATION_KEY})


def item_coco(collection: AnnotationCollection) -> dict:
    """The image record an item was read with (``{}`` for items from elsewhere)."""
    return section(collection.source_item, "metadata", "user", "coco")


def annotation_coco(annotation: Annotation) -> dict:
    """The record fields an annotation was read with (``{}`` for annotations from elsewhere)."""
    return section(annotation.metadata, "user", "coco")


def shape_unchanged(annotation: Annotation, kept: dict | None = None) -> bool:
    """Whether the annotation still has the shape it was read from COCO with (hashed only when it was)."""
    kept = annotation_coco(annotation) if kept is None else kept
    return GEOMETRY_KEY in kept and still_matches(kept, GEOMETRY_KEY,
                                                  geometry_fingerprint(annotation.annotation_definition))


def keypoints_fingerprint(keypoints: list) -> str:
    """The fingerprint of flat ``[x, y, v, …]`` keypoints, numbers compared as floats (``2`` is ``2.0``)."""
    return fingerprint([float(v) for v in keypoints])


def keypoints_unchanged(kept: dict, keypoints: list) -> bool:
    """Whether a pose's keypoints, as they would be written, are the ones it was read with."""
    return KEYPOINTS_KEY in kept and still_matches(kept, KEYPOINTS_KEY, keypoints_fingerprint(keypoints))


def source_bbox(annotation: Annotation) -> tuple[float, float, float, float] | None:
    """``(left, top, right, bottom)`` of the COCO ``bbox`` the annotation was read with, while its shape
    is unchanged — the box a COCO dataset declares for the object, which other writers should
    use for it rather than the polygon's bounds (they differ in real COCO files). None too for a ``bbox``
    whose right or bottom edge overflows a float (``[1e308, 0, 1e308, 1]``): no box to write."""
    kept = annotation_coco(annotation)
    bbox = kept.get("bbox")
    if not numbers(bbox, 4) or not shape_unchanged(annotation, kept):
        return None
    x, y, w, h = (float(v) for v in bbox)
    right, bottom = x + w, y + h  # Python floats: inf on overflow, no warning
    return (x, y, right, bottom) if math.isfinite(right) and math.isfinite(bottom) else None
