"""One Dataloop annotation → one LabelMe shape, as LabelMe ≥ 5.3 writes it, and what the report says of it.

A shape holds ``label``, ``points``, ``group_id`` (the object id, when it is a whole number),
``description``, ``shape_type``, ``flags`` (the attributes whose values are true/false: LabelMe's
flags hold nothing else) and ``mask`` (null but for masks); other attributes go to an
``attributes`` object, as X-AnyLabeling writes them, so LabelMe keeps and writes them back. Keys
the source shape had beyond those are written first, as LabelMe writes its ``other_data``.

The geometry of each type is :mod:`.capabilities`' table; the source's own points are written back
while the shape is unchanged (:func:`~.source.kept_points`). A shape that changes on the way is
one approximation of the annotation (the first reason's code, every reason in its message), so
that ``convert`` lists exactly what ``verify`` finds changed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...geometry import Polygon
from ...geometry.masks import rasterize_rings
from .capabilities import approximation
from .embedded import encode_mask
from .shapes import circle_points, oriented_points, rectangle_corners, rectangle_points
from .source import annotation_labelme, kept_direction, kept_points

if TYPE_CHECKING:
    from ...annotation import Annotation

__all__ = ["NotWritten", "Shape", "shape_of"]

#: Points of the polygon an ellipse that is no circle is written as (COCO's number).
ELLIPSE_POINTS = 72


class NotWritten(Exception):
    """An annotation this writer cannot write as a shape: ``code`` and ``message`` for the report."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Shape:
    """A shape to write, and the approximations it holds (``(code, message)``, in order)."""

    shape: dict
    approximations: list[tuple[str, str]]


def shape_of(annotation: Annotation, size: tuple[int, int] | None) -> Shape:
    """The LabelMe shape of ``annotation`` (``size``: the image's ``(height, width)`` or None).

    Raises :class:`NotWritten` for a shape that cannot be written (its reason code and message).
    """
    definition = annotation.annotation_definition
    approximations: list[tuple[str, str]] = []
    if annotation.is_video and len(annotation.frames) > 1:
        approximations.append(approximation("track on an image"))
    shape_type, points, mask = _geometry(annotation, size, approximations)
    kept = annotation_labelme(annotation)
    shape: dict[str, Any] = dict(kept["other"]) if isinstance(kept.get("other"), dict) else {}
    flags = {key: value for key, value in definition.attributes.items() if type(value) is bool}
    others = {key: value for key, value in definition.attributes.items() if type(value) is not bool}
    if others:
        shape["attributes"] = others
    shape.update(label=definition.label, points=points, group_id=_group_id(annotation, kept),
                 description=definition.description or "", shape_type=shape_type, flags=flags, mask=mask)
    if shape_type == "rotation":  # X-AnyLabeling's angle of the first side, in radians
        direction = kept_direction(annotation)
        shape["direction"] = direction if direction is not None else math.radians(definition.angle or 0) % math.tau
    return Shape(shape, approximations)


def _group_id(annotation: Annotation, kept: dict) -> int | None:
    """The object id as LabelMe's ``group_id`` (a whole number), else the source's own (a negative one)."""
    if annotation.object_id is not None:
        return int(annotation.object_id)
    group_id = kept.get("group_id")
    return group_id if type(group_id) is int else None


def _geometry(annotation: Annotation, size: tuple[int, int] | None,
              approximations: list[tuple[str, str]]) -> tuple[str, list, str | None]:
    """``(shape_type, points, mask)`` of the annotation's shape (its first frame for a track)."""
    definition = annotation.annotation_definition
    kind = definition.type
    kept_type = annotation_labelme(annotation).get("shape_type")
    if kind == "box":
        if kept_type in ("oriented_rectangle", "rotation"):
            return kept_type, kept_points(annotation) or oriented_points(definition), None
        upright = definition.upright()  # turned by a right angle: the same region as a rectangle, exactly
        if upright is not None:
            corners = rectangle_corners if annotation_labelme(annotation).get("corners") == 4 else rectangle_points
            return "rectangle", kept_points(annotation) or corners(upright), None
        approximations.append(approximation("box (rotated)"))
        return "polygon", _outline(definition.corners(), "corners"), None
    if kind == "segment":
        if len(definition.parts) == 1:
            return "polygon", definition.parts[0].tolist(), None
        approximations.append(approximation("segment (several rings)"))
        return _mask_shape(rasterize_rings(definition.parts, _need(size, "a polygon of several rings is written "
                                                                         "as a mask, which")))
    if kind == "binary":
        mask = definition.geo
        if mask.shape != _need(size, "a mask"):
            raise NotWritten("labelme.mask-size", f"the mask is {mask.shape[1]}×{mask.shape[0]} pixels, the image "
                                                  f"{size[1]}×{size[0]}: a LabelMe mask lies on its image")
        return _mask_shape(mask)
    if kind == "ellipse":
        if definition.rx == definition.ry:
            return "circle", kept_points(annotation) or circle_points(definition), None
        approximations.append(approximation("ellipse (not a circle)"))
        return "polygon", _outline(definition.to_polygon_points(ELLIPSE_POINTS), "outline"), None
    if kind == "polyline":
        if len(definition.parts) != 1:
            raise NotWritten("labelme.multi-part-line", f"a LabelMe linestrip is one line; this polyline has "
                                                        f"{len(definition.parts)}")
        points = definition.parts[0].tolist()
        return ("line" if kept_type == "line" and len(points) == 2 else "linestrip"), points, None
    if kind == "point":  # a point of a "points" shape stays one ("points" of one point)
        return ("points" if kept_type == "points" else "point"), [[definition.x, definition.y]], None
    raise NotWritten("labelme.unsupported-type", f"LabelMe cannot hold a {kind!r} annotation")


def _outline(points: np.ndarray, what: str) -> list:
    """The polygon a shape is written as, unless it has no area left in floating point (a box 1e-200 wide)."""
    problems = Polygon(geo=points).problems()
    if problems:
        raise NotWritten("labelme.degenerate-shape", f"the polygon of its {what} is degenerate: {problems[0]}")
    return points.tolist()


def _need(size: tuple[int, int] | None, what: str) -> tuple[int, int]:
    if size is None:
        raise NotWritten("labelme.no-image-size", f"{what} needs the image's size, which is unknown (no width and "
                                                  f"height, no image file found)")
    return size


def _mask_shape(mask: np.ndarray) -> tuple[str, list, str]:
    """A LabelMe mask shape: the first and last pixel of the foreground's window, and the window's PNG."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise NotWritten("labelme.mask-not-written", "it covers no pixel centre of the image")
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    window = mask[top: bottom + 1, left: right + 1]
    return "mask", [[float(left), float(top)], [float(right), float(bottom)]], encode_mask(window)
