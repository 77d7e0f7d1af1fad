"""Annotation definitions: one class per Dataloop annotation type, with exact JSON both ways."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidAnnotationError
from .base import BaseAnnotationDefinition
from .box import Box
from .classification import Classification
from .cube import Cube
from .ellipse import Ellipse
from .point import Point
from .polygon import Polygon, Polyline
from .pose import Pose
from .segmentation import Segmentation
from .subtitle import Subtitle
from .types import ANNOTATION_TYPE_CONSTANTS, AnnotationType, annotation_type_name
from .undefined import PASS_THROUGH_TYPES, Cube3d, Description, Note, UndefinedAnnotationType

__all__ = [
    "ANNOTATION_TYPE_CONSTANTS",
    "DEFINITION_TYPES",
    "AnnotationType",
    "BaseAnnotationDefinition",
    "Box",
    "Classification",
    "Cube",
    "Cube3d",
    "Description",
    "Ellipse",
    "Note",
    "Point",
    "Polygon",
    "Polyline",
    "Pose",
    "Segmentation",
    "Subtitle",
    "UndefinedAnnotationType",
    "annotation_type_name",
    "definition_from_json",
]

#: Dataloop ``type`` string → definition class.
DEFINITION_TYPES: dict[str, type[BaseAnnotationDefinition]] = {
    cls.type: cls
    for cls in (Box, Classification, Cube, Ellipse, Point, Polygon, Polyline, Pose, Segmentation, Subtitle)
}


def definition_from_json(
    type_: str, coordinates: Any, label: str | None, attributes: dict | None, description: str | None = None,
    *, has_coordinates: bool = True,
) -> BaseAnnotationDefinition:
    """Build the definition for a Dataloop ``type`` from its ``coordinates`` (unknown types pass through)."""
    cls = DEFINITION_TYPES.get(type_)
    if cls is None:
        carrier = PASS_THROUGH_TYPES.get(type_, UndefinedAnnotationType)
        return carrier.carried(type_, coordinates, label, attributes, description)
    if not has_coordinates and cls is not Classification:
        raise InvalidAnnotationError(f"a {type_!r} annotation needs coordinates", where="")
    return cls.from_coordinates(coordinates, label=label, attributes=attributes, description=description)
