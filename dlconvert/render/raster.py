"""Which pixels a definition covers: exact, never anti-aliased, computed in its bounding window.

Every shape becomes a bool mask over the window ``[y0:y1, x0:x1]`` of the canvas it touches, so
the cost follows the shape's size, not the image's. Filled shapes sample pixel centres (pixel
(r, c) belongs to a shape when (c + ½, r + ½) is inside, COCO's convention, see
``geometry.masks``); lines and outlines are drawn 8-connected with OpenCV at the given thickness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import BaseAnnotationDefinition
from ..geometry.masks import rasterize_rings

__all__ = ["Coverage", "coverage", "line_coverage"]

FILLED = -1
_SUBPIXEL_BITS = 8  # OpenCV fixed-point precision for lines and discs: 1/256 px
_SCALE = 1 << _SUBPIXEL_BITS


@dataclass(frozen=True)
class Coverage:
    """Pixels ``mask`` (bool) of the window starting at row ``y0``, column ``x0``."""

    mask: np.ndarray
    y0: int
    x0: int

    def paste(self, canvas: np.ndarray, value) -> int:
        """Write ``value`` where covered; returns how many of those pixels were already non-zero."""
        h, w = self.mask.shape
        window = canvas[self.y0:self.y0 + h, self.x0:self.x0 + w]
        # whole-window operations: much faster than gathering the covered pixels with a bool index
        painted = window if canvas.ndim == 2 else window.any(axis=-1)
        overlapped = int(np.count_nonzero(np.logical_and(painted, self.mask)))
        where = self.mask if canvas.ndim == 2 else self.mask[..., None]
        np.copyto(window, np.asarray(value, dtype=canvas.dtype), where=where)
        return overlapped


def _window(points: np.ndarray, shape: tuple[int, int], margin: float) -> tuple[int, int, int, int] | None:
    height, width = shape
    if len(points) == 0:
        return None
    x0 = max(int(np.floor(points[:, 0].min() - margin)), 0)
    y0 = max(int(np.floor(points[:, 1].min() - margin)), 0)
    x1 = min(int(np.ceil(points[:, 0].max() + margin)) + 1, width)
    y1 = min(int(np.ceil(points[:, 1].max() + margin)) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def _fixed(points: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """Continuous coordinates → OpenCV's pixel-centre grid in the window, fixed point."""
    shifted = (points - 0.5 - np.array([x0, y0])) * _SCALE
    return np.clip(np.round(shifted), -(2**30), 2**30).astype(np.int32).reshape(-1, 1, 2)


def fill_rings(rings: list[np.ndarray], shape: tuple[int, int]) -> Coverage | None:
    """Rings filled even-odd (parts and holes), pixel centres sampled exactly (``rasterize_rings``)."""
    usable = [np.asarray(r, dtype=np.float64) for r in rings if len(r) >= 3]
    if not usable:
        return None
    window = _window(np.concatenate(usable), shape, 1.0)
    if window is None:
        return None
    x0, y0, x1, y1 = window
    offset = np.array([x0, y0], dtype=np.float64)
    mask = rasterize_rings([ring - offset for ring in usable], (y1 - y0, x1 - x0))
    return Coverage(mask, y0, x0)


def line_coverage(lines: list[np.ndarray], shape: tuple[int, int], thickness: int, closed: bool) -> Coverage | None:
    """Polylines (or closed outlines) ``thickness`` pixels wide, 8-connected."""
    import cv2

    usable = [np.asarray(line, dtype=np.float64) for line in lines if len(line) >= 1]
    if not usable:
        return None
    thickness = max(int(thickness), 1)
    window = _window(np.concatenate(usable), shape, thickness + 1.0)
    if window is None:
        return None
    x0, y0, x1, y1 = window
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    for line in usable:
        points = _fixed(line, x0, y0)
        if len(line) == 1:
            cv2.circle(mask, tuple(int(v) for v in points[0, 0]), max(thickness // 2, 0) * _SCALE, 1, -1,
                       cv2.LINE_8, _SUBPIXEL_BITS)
        else:
            cv2.polylines(mask, [points], closed, 1, thickness, cv2.LINE_8, _SUBPIXEL_BITS)
    return Coverage(mask.astype(bool), y0, x0)


def disc(x: float, y: float, radius: float, shape: tuple[int, int]) -> Coverage | None:
    """A filled disc of ``radius`` pixels centred at ``(x, y)``."""
    import cv2

    window = _window(np.array([[x, y]]), shape, radius + 1.0)
    if window is None:
        return None
    x0, y0, x1, y1 = window
    mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    center = _fixed(np.array([[x, y]]), x0, y0)[0, 0]
    cv2.circle(mask, (int(center[0]), int(center[1])), round(radius * _SCALE), 1, -1, cv2.LINE_8,
               _SUBPIXEL_BITS)
    return Coverage(mask.astype(bool), y0, x0)


def coverage(definition: BaseAnnotationDefinition, shape: tuple[int, int], thickness: int = FILLED,
             point_radius: float = 3.0) -> Coverage | None:
    """The pixels ``definition`` covers on an ``(h, w)`` canvas; ``None`` for shapeless types.

    ``thickness=FILLED`` (-1) fills areas; a positive thickness draws their outlines. Polylines,
    cube edges and points are always lines/discs (width ``max(thickness, 1)``).
    """
    kind = definition.type
    line_width = thickness if thickness > 0 else 2
    if kind == "box":
        corners = definition.corners()
        return fill_rings([corners], shape) if thickness == FILLED else line_coverage([corners], shape, thickness,
                                                                                       True)
    if kind == "segment":
        return (fill_rings(definition.parts, shape) if thickness == FILLED
                else line_coverage(definition.parts, shape, thickness, True))
    if kind == "ellipse":
        outline = definition.to_polygon_points(max(36, int(4 * (abs(definition.rx) + abs(definition.ry)))))
        return fill_rings([outline], shape) if thickness == FILLED else line_coverage([outline], shape, thickness,
                                                                                       True)
    if kind == "binary":
        return _mask_coverage(definition.geo, shape)
    if kind == "polyline":
        return line_coverage(definition.parts, shape, line_width, False)
    if kind == "point":
        return disc(definition.x, definition.y, point_radius if thickness <= 0 else thickness, shape)
    if kind == "cube":
        pts = definition.points()
        edges = [pts[0:4], pts[4:8]]
        lines = [np.vstack([edges[0], edges[0][:1]]), np.vstack([edges[1], edges[1][:1]])]
        lines += [np.array([pts[i], pts[i + 4]]) for i in range(4)]
        return line_coverage(lines, shape, line_width, False)
    return None


def _mask_coverage(mask: np.ndarray, shape: tuple[int, int]) -> Coverage | None:
    """A mask's own pixels, cropped to the canvas (a mask larger than the item is cut, smaller is placed at 0, 0)."""
    height, width = shape
    mask = mask[:height, :width]
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return Coverage(np.ascontiguousarray(mask[y0:y1, x0:x1]), int(y0), int(x0))
