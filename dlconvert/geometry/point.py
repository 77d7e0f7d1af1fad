"""Point: one location (Dataloop type ``point``); also a pose's keypoint.

JSON: ``{"x": .., "y": .., "z": ..}``; a one-element list holding that object is read too.
Unlike the SDK (B13), ``right`` is x and ``bottom`` is y.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ..errors import InvalidAnnotationError
from .base import BaseAnnotationDefinition, read_xy

__all__ = ["Point"]


class Point(BaseAnnotationDefinition):
    """A point at ``(x, y)`` pixels."""

    type = "point"
    _geometry_fields = frozenset({"x", "y"})
    _number_fields: ClassVar[dict[str, bool]] = {"x": False, "y": False}

    def __init__(
        self, x: float | None = None, y: float | None = None, label: str | None = None,
        attributes: dict | None = None, description: str | None = None,
    ) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        self.x = x
        self.y = y

    @property
    def geo(self):
        import numpy as np

        return np.array([[self.x, self.y]], dtype=float)

    def bounds(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.x, self.y)

    def to_shapely(self):
        import shapely

        return shapely.Point(self.x, self.y)

    def _geometry_key(self) -> Any:
        return (self.x, self.y)

    def _coordinates(self) -> dict:
        return {"x": self.x, "y": self.y, "z": 0}

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Point:
        if isinstance(coordinates, list) and len(coordinates) == 1:
            x, y = read_xy(coordinates[0], "/0")
        elif isinstance(coordinates, dict):
            x, y = read_xy(coordinates, "")
        else:
            raise InvalidAnnotationError("point coordinates must be an object {x, y}", where="")
        return cls(x=x, y=y)
