"""Ellipse (Dataloop type ``ellipse``): a centre, two semi-axes and a rotation in degrees.

JSON: ``{"center": {"x", "y", "z"}, "rx": .., "ry": .., "angle": ..}``. ``rx`` lies along the
rotated x direction; a positive angle turns clockwise on screen, as ``cv2.ellipse`` draws it.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidAnnotationError
from .base import BaseAnnotationDefinition, read_number, read_xy
from .box import rotate_points

__all__ = ["Ellipse"]


class Ellipse(BaseAnnotationDefinition):
    """An ellipse centred at ``(x, y)`` with semi-axes ``rx``, ``ry`` and ``angle`` degrees."""

    type = "ellipse"
    _geometry_fields = frozenset({"x", "y", "rx", "ry", "angle"})
    _number_fields: ClassVar[dict[str, bool]] = {"x": False, "y": False, "rx": False, "ry": False, "angle": False}

    def __init__(
        self, x: float | None = None, y: float | None = None, rx: float | None = None,
        ry: float | None = None, angle: float | None = 0, label: str | None = None,
        attributes: dict | None = None, description: str | None = None,
    ) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        self.x = x
        self.y = y
        self.rx = rx
        self.ry = ry
        self.angle = 0 if angle is None else angle

    def bounds(self) -> tuple[float, float, float, float]:
        theta = math.radians(self.angle)
        c, s = math.cos(theta), math.sin(theta)
        half_w = math.sqrt((self.rx * c) ** 2 + (self.ry * s) ** 2)
        half_h = math.sqrt((self.rx * s) ** 2 + (self.ry * c) ** 2)
        return (self.x - half_w, self.y - half_h, self.x + half_w, self.y + half_h)

    @property
    def area(self) -> float:
        return math.pi * abs(self.rx) * abs(self.ry)

    def to_polygon_points(self, segments: int = 72) -> np.ndarray:
        """The outline as ``segments`` points (for formats and rasterisers without ellipses)."""
        t = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
        pts = np.stack([self.x + self.rx * np.cos(t), self.y + self.ry * np.sin(t)], axis=1)
        return rotate_points(pts, self.angle, (self.x, self.y)) if self.angle else pts

    def to_shapely(self):
        import shapely

        return shapely.Polygon(self.to_polygon_points(256))

    def problems(self) -> list[str]:
        return [] if self.rx > 0 and self.ry > 0 else ["ellipse has a non-positive radius"]

    def _geometry_key(self) -> Any:
        return (self.x, self.y, self.rx, self.ry, self.angle)

    def _coordinates(self) -> dict:
        return {"center": {"x": self.x, "y": self.y, "z": 0}, "rx": self.rx, "ry": self.ry, "angle": self.angle}

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Ellipse:
        if not isinstance(coordinates, dict):
            raise InvalidAnnotationError("ellipse coordinates must be an object", where="")
        for key in ("center", "rx", "ry"):
            if key not in coordinates:
                raise InvalidAnnotationError(f"ellipse coordinates are missing {key!r}", where="")
        x, y = read_xy(coordinates["center"], "/center")
        angle = read_number(coordinates["angle"], "/angle") if "angle" in coordinates else 0
        return cls(
            x=x, y=y, rx=read_number(coordinates["rx"], "/rx"), ry=read_number(coordinates["ry"], "/ry"),
            angle=angle,
        )
