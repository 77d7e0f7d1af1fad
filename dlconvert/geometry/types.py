"""The Dataloop annotation type names: the SDK's ``AnnotationType`` enum and ``ANNOTATION_TYPE_*`` constants.

A member is its type string (``AnnotationType.POLYGON == "segment"``), so ``annotation.type ==
AnnotationType.SEGMENTATION`` reads as in the SDK's examples. :func:`annotation_type_name` takes a
type wherever dlconvert is given one: a plain string, this enum, or the SDK's own enum (whose
``str()`` is ``"AnnotationType.BOX"``, not its value).
"""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["ANNOTATION_TYPE_CONSTANTS", "AnnotationType", "annotation_type_name"]


class AnnotationType(str, enum.Enum):
    """Every Dataloop annotation type, with the SDK's member names and values."""

    BOX = "box"
    CUBE = "cube"
    CUBE3D = "cube_3d"
    CLASSIFICATION = "class"
    COMPARISON = "comparison"
    ELLIPSE = "ellipse"
    NOTE = "note"
    POINT = "point"
    POLYGON = "segment"
    POLYLINE = "polyline"
    POSE = "pose"
    SEGMENTATION = "binary"
    SUBTITLE = "subtitle"
    TEXT = "text_mark"
    GIS = "gis"
    SEMANTIC_3D = "ref_semantic_3d"
    POLYLINE_3D = "polyline_3d"
    FREE_TEXT = "text"
    REF_IMAGE = "ref_image"

    def __str__(self) -> str:
        return self.value


#: The SDK's module constants (``dl.ANNOTATION_TYPE_BOX`` …), exported by ``dlconvert`` as well.
ANNOTATION_TYPE_CONSTANTS: dict[str, AnnotationType] = {
    f"ANNOTATION_TYPE_{member.name}": member
    for member in (AnnotationType.BOX, AnnotationType.CLASSIFICATION, AnnotationType.COMPARISON,
                   AnnotationType.ELLIPSE, AnnotationType.NOTE, AnnotationType.POINT, AnnotationType.POLYGON,
                   AnnotationType.POLYLINE, AnnotationType.POSE, AnnotationType.SEGMENTATION,
                   AnnotationType.SUBTITLE, AnnotationType.TEXT, AnnotationType.FREE_TEXT)
}


def annotation_type_name(value: Any) -> str:
    """The Dataloop type string of ``value``: a string, an ``AnnotationType`` (ours or the SDK's)."""
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str):
        raise ValueError(f"an annotation type must be a string or an AnnotationType, got {value!r}")
    return value
