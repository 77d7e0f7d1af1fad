"""Box: an axis-aligned rectangle, optionally rotated about its centre (Dataloop type ``box``).

JSON: ``[{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}, angle?]``. The angle is
in degrees; the two points are the un-rotated corners, and a positive angle turns the box
clockwise on screen (y points down) about its centre — the SDK's historical rule, which its
current releases ignore (dataloop-format.md, B4). We apply it everywhere: bounds, area, shapes.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidAnnotationError, json_pointer
from .base import BaseAnnotationDefinition, read_number, read_xy

__all__ = ["Box", "rotate_points"]


#: cos and sin of 0°, 90°, 180°, 270°: exact, so a box turned by a right angle keeps exact corners.
_QUARTER_TURNS = ((1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (0.0, -1.0))


def rotate_points(points: np.ndarray, angle_deg: float, center: tuple[float, float]) -> np.ndarray:
    """Rotate ``(n, 2)`` points by ``angle_deg`` about ``center`` (clockwise on screen, y down); a multiple of
    90° turns them exactly (``math.cos(math.radians(90))`` is 6e-17, which moved corners off the pixel grid)."""
    quarters, rest = divmod(angle_deg, 90.0)
    if rest == 0 and math.isfinite(quarters):
        c, s = _QUARTER_TURNS[int(quarters) % 4]
    else:
        theta = math.radians(angle_deg)
        c, s = math.cos(theta), math.sin(theta)
    cx, cy = center
    dx = points[:, 0] - cx
    dy = points[:, 1] - cy
    return np.stack([cx + c * dx - s * dy, cy + s * dx + c * dy], axis=1)


class Box(BaseAnnotationDefinition):
    """A box from ``left, top, right, bottom`` in pixels, with an optional ``angle`` in degrees."""

    type = "box"
    _geometry_fields = frozenset({"left", "top", "right", "bottom", "angle"})
    _number_fields: ClassVar[dict[str, bool]] = {"left": False, "top": False, "right": False, "bottom": False,
                                                 "angle": True}

    def __init__(
        self,
        left: float | None = None,
        top: float | None = None,
        right: float | None = None,
        bottom: float | None = None,
        label: str | None = None,
        attributes: dict | None = None,
        description: str | None = None,
        angle: float | None = None,
    ) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        # Stored un-rotated, min/max ordered, as the SDK does.
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
        self.angle = angle

    # The stored, un-rotated edges (as given to the constructor, like the SDK). They shadow the
    # base class's bounds properties; bounds() gives the extent of the rotated corners.
    left: float = 0.0
    top: float = 0.0
    right: float = 0.0
    bottom: float = 0.0

    @classmethod
    def from_xywh(cls, x: float, y: float, w: float, h: float, label: str | None = None, **kwargs: Any) -> Box:
        """From a top-left corner and a size (COCO ``bbox`` order)."""
        return cls(left=x, top=y, right=x + w, bottom=y + h, label=label, **kwargs)

    @classmethod
    def from_segmentation(cls, mask: np.ndarray, label: str | None = None, attributes: dict | None = None) -> list[Box]:
        """One box per separate segmentation of ``mask`` (8-connected parts, largest first), as the SDK.

        Boxes lie on pixel edges (a one-pixel part is 1×1, as pycocotools' ``toBbox``), where the SDK
        gives the boundary pixels' indices (one pixel less wide and high); a hole is not a part (the
        SDK's contour tracing adds a box per hole, B17). An empty mask gives ``[]``.
        """
        from .masks import mask_parts

        return [cls(left=left, top=top, right=right, bottom=bottom, label=label,
                    attributes=dict(attributes) if attributes else None)
                for left, top, right, bottom in mask_parts(np.asarray(mask))]

    # -- geometry --------------------------------------------------------------------------------
    @property
    def is_rotated(self) -> bool:
        """Whether the stored edges are turned (an angle that is no multiple of 360°)."""
        return bool(self.angle) and (self.angle % 360) != 0

    def upright(self) -> Box | None:
        """The same region as a box that is not turned, when its sides are axis-parallel (an angle that is a
        multiple of 90°: turned by 90° its width and height swap about the centre; the box itself when it is
        not turned); None when it is oblique.

        What a format without rotated boxes writes for it, exactly: no approximation.
        """
        if not self.is_rotated:
            return self
        if self.angle % 90 != 0:
            return None
        left, top, right, bottom = self.bounds()
        return Box(left=left, top=top, right=right, bottom=bottom, label=self.label,
                   attributes=dict(self.attributes) if self.attributes else None, description=self.description)

    def corners(self) -> np.ndarray:
        """The 4 corners (top-left, top-right, bottom-right, bottom-left before rotation), rotated."""
        pts = np.array(
            [[self.left, self.top], [self.right, self.top], [self.right, self.bottom], [self.left, self.bottom]],
            dtype=np.float64,
        )
        if not self.is_rotated:
            return pts
        center = ((self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0)
        return rotate_points(pts, float(self.angle), center)

    def bounds(self) -> tuple[float, float, float, float]:
        if not self.is_rotated:
            return (self.left, self.top, self.right, self.bottom)
        pts = self.corners()
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))

    @property
    def x(self) -> list[float]:
        """Un-rotated ``[left, right]``, as the SDK exposes them."""
        return [self.left, self.right]

    @property
    def y(self) -> list[float]:
        """Un-rotated ``[top, bottom]``."""
        return [self.top, self.bottom]

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def to_shapely(self):
        import shapely

        return shapely.Polygon(self.corners())

    def problems(self) -> list[str]:
        if self.width < 0 or self.height < 0:
            return [f"box is inverted (right < left or bottom < top: width {self.width:g}, height {self.height:g})"]
        if self.width == 0 or self.height == 0:
            return [f"box has no area (width {self.width:g}, height {self.height:g})"]
        return []

    def _geometry_key(self) -> Any:
        return (self.left, self.top, self.right, self.bottom, self.angle or 0)

    # -- JSON ----------------------------------------------------------------------------------
    def _coordinates(self) -> list:
        coords: list = [
            {"x": self.left, "y": self.top, "z": 0},
            {"x": self.right, "y": self.bottom, "z": 0},
        ]
        if self.angle:
            coords.append(self.angle)
        return coords

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Box:
        if not isinstance(coordinates, list):
            raise InvalidAnnotationError("box coordinates must be a list of two points", where="")
        points = [p for p in coordinates if isinstance(p, dict)]
        if len(points) < 2:
            raise InvalidAnnotationError(
                f"box coordinates need two points, found {len(points)}", where=""
            )
        # where: json_pointer(i), written out (an index needs no escaping) as this runs for every box read
        xy = [read_xy(p, f"/{i}") for i, p in enumerate(coordinates) if isinstance(p, dict)]
        # min/max over every point: the old 4-point boxes stay boxes (the SDK's B15 collapses them).
        xs = [p[0] for p in xy]
        ys = [p[1] for p in xy]
        angle = None
        # The angle: the first non-point element; null means none (the SDK reads only numbers there).
        extras = [(i, v) for i, v in enumerate(coordinates) if not isinstance(v, dict) and v is not None]
        if extras:
            index, value = extras[0]
            angle = read_number(value, json_pointer(index))
        return cls(left=min(xs), top=min(ys), right=max(xs), bottom=max(ys), angle=angle)
