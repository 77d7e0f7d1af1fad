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
from .undefined import UndefinedAnnotationType

__all__ = [
    "DEFINITION_TYPES",
    "BaseAnnotationDefinition",
    "Box",
    "Classification",
    "Cube",
    "Ellipse",
    "Point",
    "Polygon",
    "Polyline",
    "Pose",
    "Segmentation",
    "Subtitle",
    "UndefinedAnnotationType",
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
        definition = UndefinedAnnotationType(type_, coordinates, label=label, attributes=attributes,
                                             description=description)
        object.__setattr__(definition, "_source", coordinates)
        return definition
    if not has_coordinates and cls is not Classification:
        raise InvalidAnnotationError(f"a {type_!r} annotation needs coordinates", where="")
    return cls.from_coordinates(coordinates, label=label, attributes=attributes, description=description)
