"""Cube (Dataloop type ``cube``): a 2-D pseudo-3-D cuboid, a front and a back quad.

JSON: an object with the 8 corners ``front_tl, front_tr, front_br, front_bl, back_tl, back_tr,
back_br, back_bl`` (each ``{x, y, z}``) and ``angle`` in degrees.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidAnnotationError, json_pointer
from .base import BaseAnnotationDefinition, finite_number, read_number, read_xy
from .box import rotate_points

__all__ = ["CUBE_CORNERS", "Cube"]

CUBE_CORNERS = ("front_tl", "front_tr", "front_br", "front_bl", "back_tl", "back_tr", "back_br", "back_bl")


class Cube(BaseAnnotationDefinition):
    """Eight ``(x, y)`` corners; ``angle`` is front_tl → front_tr's direction when not given."""

    type = "cube"
    _geometry_fields = frozenset({*CUBE_CORNERS, "angle"})
    _number_fields: ClassVar[dict[str, bool]] = {"angle": True}

    def __init__(
        self, label: str | None = None,
        front_tl=None, front_tr=None, front_br=None, front_bl=None,
        back_tl=None, back_tr=None, back_br=None, back_bl=None,
        angle: float | None = None, attributes: dict | None = None, description: str | None = None,
    ) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        corners = (front_tl, front_tr, front_br, front_bl, back_tl, back_tr, back_br, back_bl)
        for name, value in zip(CUBE_CORNERS, corners, strict=True):
            setattr(self, name, value)
        if angle is None and front_tl is not None and front_tr is not None:
            angle = math.degrees(math.atan2(self.front_tr[1] - self.front_tl[1],
                                            self.front_tr[0] - self.front_tl[0])) % 360
        self.angle = angle

    def __setattr__(self, name: str, value: Any) -> None:
        if name in CUBE_CORNERS:
            value = _corner(value, f"Cube {name}")
        super().__setattr__(name, value)

    @classmethod
    def from_boxes_and_angle(
        cls, front_left: float, front_top: float, front_right: float, front_bottom: float,
        back_left: float, back_top: float, back_right: float, back_bottom: float,
        label: str | None = None, angle: float = 0, attributes: dict | None = None,
    ) -> Cube:
        """From a front and a back box, each turned by ``angle`` degrees about its own centre."""
        def face(left, top, right, bottom):
            pts = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=float)
            return rotate_points(pts, angle, ((left + right) / 2, (top + bottom) / 2)) if angle else pts

        front = face(front_left, front_top, front_right, front_bottom)
        back = face(back_left, back_top, back_right, back_bottom)
        return cls(label, *front.tolist(), *back.tolist(), angle=angle, attributes=attributes)

    def points(self) -> np.ndarray:
        """The 8 corners in canonical order as an (8, 2) array."""
        return np.array([getattr(self, name) for name in CUBE_CORNERS], dtype=float)

    def bounds(self) -> tuple[float, float, float, float]:
        pts = self.points()
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))

    def to_shapely(self):
        import shapely

        return shapely.MultiPoint(self.points()).convex_hull

    @property
    def area(self) -> float:
        return float(self.to_shapely().area)

    def _geometry_key(self) -> Any:
        return (*(getattr(self, n) for n in CUBE_CORNERS), self.angle)

    def _coordinates(self) -> dict:
        out: dict = {name: {"x": getattr(self, name)[0], "y": getattr(self, name)[1], "z": 0} for name in CUBE_CORNERS}
        out["angle"] = self.angle if self.angle is not None else 0
        return out

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Cube:
        if not isinstance(coordinates, dict):
            raise InvalidAnnotationError("cube coordinates must be an object of 8 corners", where="")
        corners = []
        for name in CUBE_CORNERS:
            if name not in coordinates:
                raise InvalidAnnotationError(f"cube coordinates are missing {name!r}", where="")
            corners.append(read_xy(coordinates[name], json_pointer(name)))
        angle = read_number(coordinates["angle"], "/angle") if "angle" in coordinates else None
        return cls(None, *corners, angle=angle)


def _corner(value: Any, name: str) -> tuple[float, float]:
    """A corner ``(x, y)`` of finite numbers, as floats; anything else is refused."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)) or len(value) < 2:
        raise InvalidAnnotationError(f"{name} must be a point (x, y), got {type(value).__name__}", where="")
    return (float(finite_number(value[0], name + " x")), float(finite_number(value[1], name + " y")))
