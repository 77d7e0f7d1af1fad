"""One LabelMe shape ↔ Dataloop annotations: every field checked, with the JSON pointer of a fault.

Reading (``shape_annotations``), by ``shape_type`` (absent: ``polygon``, as LabelMe reads 3.x files):

=====================  ==========================  ==================================================
shape_type             points                      Dataloop
=====================  ==========================  ==================================================
``rectangle``          2 corners, any order, or    Box (min/max; the source's corner order and
                       X-AnyLabeling's 4 corners   count are kept); 4 points that are no upright
                                                   rectangle are refused
``oriented_rectangle`` 4 corners in order          rotated Box (centre, side lengths, angle of the
                                                   first side); 4 points that are no rectangle are
                                                   refused
``rotation``           4 corners in order, and     X-AnyLabeling's rotated box, read as an
                       ``direction``               ``oriented_rectangle``; ``direction`` (radians,
                                                   [0, 2π)) is the angle of the first side, p0→p1,
                                                   clockwise on screen, as X-AnyLabeling computes
                                                   it: one that disagrees with the points is refused
``polygon``            the outline (one ring)      Polygon
``circle``             centre, a point on it       Ellipse with rx = ry = their distance
``line``               2                           Polyline (one line)
``linestrip``          at least 1                  Polyline
``point``              1                           Point
``points``             at least 1                  one Point per point (written back as one
                                                   ``points`` shape while they stay together)
``mask``               first and last pixel of     Segmentation on the image's canvas: the window's
                       the window (inclusive)      PNG placed at the first point (rounded, as LabelMe
                                                   does); needs the image size
=====================  ==========================  ==================================================

Every shape: ``label`` (a string, as LabelMe requires) → label; ``flags`` (name → true/false)
and X-AnyLabeling's ``attributes`` object → v2 attributes (a name in both is refused);
``group_id`` (an integer or null) → object id (a negative one is kept in the metadata instead);
``description`` → description (LabelMe's empty text: none). Other keys are kept (:mod:`.source`).
X-AnyLabeling (2.x, 3.x) writes LabelMe's files with ``rectangle`` as 4 corners and ``rotation``;
its other shape types are LabelMe's. Any other ``shape_type`` is a bad record naming it.
Degenerate shapes (a 2-point polygon, a zero-radius circle) are read as they are: writers report
them. Coordinates are LabelMe's pixels, continuous from the image's top-left corner: dlconvert's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...annotation import Annotation
from ...errors import InvalidAnnotationError, json_pointer
from ...geometry import Box, Ellipse, Point, Polygon, Polyline, Segmentation
from .._fingerprint import geometry_fingerprint
from .embedded import decode_mask
from .source import GEOMETRY_KEY, SHAPE_KEYS

__all__ = ["SHAPE_TYPES", "circle_points", "kind_of", "oriented_points", "rectangle_corners", "rectangle_points",
           "shape_annotations", "shape_kind"]

#: shape_type → (fewest points, most points, the Dataloop type it reads as).
SHAPE_TYPES: dict[str, tuple[int, int | None, str]] = {
    "rectangle": (2, 4, "box"),
    "oriented_rectangle": (4, 4, "box"),
    "rotation": (4, 4, "box"),
    "polygon": (1, None, "segment"),
    "circle": (2, 2, "ellipse"),
    "line": (2, 2, "polyline"),
    "linestrip": (1, None, "polyline"),
    "point": (1, 1, "point"),
    "points": (1, None, "point"),
    "mask": (2, 2, "binary"),
}
_NUMBER_TYPES = frozenset({int, float})
#: How far an oriented rectangle's corners may be from a true rectangle, relative to its size.
_RECTANGLE_TOLERANCE = 1e-6
#: How far (radians) X-AnyLabeling's ``direction`` may be from the angle of a rotation's first side.
_DIRECTION_TOLERANCE = 1e-3


def shape_kind(raw: Any) -> str:
    """The Dataloop type a shape reads as (``"unknown"`` when it cannot tell), for the report of a bad one."""
    shape_type = raw.get("shape_type", "polygon") if isinstance(raw, dict) else None
    return SHAPE_TYPES[shape_type][2] if isinstance(shape_type, str) and shape_type in SHAPE_TYPES else "unknown"


def shape_annotations(raw: Any, size: tuple[int, int] | None, index: int = 0) -> list[Annotation]:
    """The annotations of one shape (``size``: the image's ``(height, width)``, needed by masks; ``index``:
    the shape's place in its file, which ties the points of one ``points`` shape together).

    Raises :class:`InvalidAnnotationError` whose ``where`` is the JSON pointer inside the shape.
    """
    if not isinstance(raw, dict):
        raise InvalidAnnotationError(f"a shape is an object, not {kind_of(raw)}", where="")
    label = raw.get("label")
    if not isinstance(label, str):
        raise InvalidAnnotationError(f"a shape's label is text, not {kind_of(label)}", where="/label")
    shape_type = raw.get("shape_type")
    shape_type = "polygon" if shape_type is None else shape_type
    if not isinstance(shape_type, str) or shape_type not in SHAPE_TYPES:
        raise InvalidAnnotationError(f"unknown shape_type {shape_type!r} (LabelMe's and X-AnyLabeling's are "
                                     f"{', '.join(SHAPE_TYPES)})",
                                     where="/shape_type")
    points = _points(raw.get("points"), shape_type)
    attributes = _attributes(raw)
    group_id = raw.get("group_id")
    if group_id is not None and (type(group_id) is not int):
        raise InvalidAnnotationError(f"group_id is a whole number or null, not {kind_of(group_id)}", where="/group_id")
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidAnnotationError(f"description is text or null, not {kind_of(description)}", where="/description")
    kept: dict[str, Any] = {"shape_type": shape_type}
    other = {k: v for k, v in raw.items() if k not in SHAPE_KEYS and k != "attributes"
             and not (k == "direction" and shape_type == "rotation")}
    if "attributes" in raw and not isinstance(raw["attributes"], dict):
        other["attributes"] = raw["attributes"]
    if other:
        kept["other"] = other
    if group_id is not None and group_id < 0:
        kept["group_id"] = group_id
    if shape_type == "rotation":
        kept["direction"] = _direction(raw.get("direction"))
    elif shape_type == "points" and len(points) > 1:
        kept["points_shape"] = index  # its points go back as one shape
    definitions = _geometry(shape_type, points, raw.get("mask"), size, kept)
    out = []
    for definition in definitions:
        definition.label = label
        definition.attributes = dict(attributes)
        definition.description = description or None
        annotation = Annotation(definition, metadata={"system": {"automated": False},
                                                      "user": {"labelme": dict(kept)}})
        if group_id is not None and group_id >= 0:
            annotation.object_id = group_id
        out.append(annotation)
    return out


# ==== checking the fields =================================================================================
def _points(raw: Any, shape_type: str) -> np.ndarray:
    """The shape's points as an (n, 2) float array, each checked; the count the shape type needs."""
    if not isinstance(raw, list):
        raise InvalidAnnotationError(f"points is a list of [x, y], not {kind_of(raw)}", where="/points")
    array = _fast_points(raw)
    if array is None:  # something is off: the careful path names the point
        for index, point in enumerate(raw):
            if not (isinstance(point, list) and len(point) == 2 and all(
                    type(v) in _NUMBER_TYPES and math.isfinite(v) for v in point)):
                raise InvalidAnnotationError(f"a point is [x, y], two finite numbers, not {_shown(point)}",
                                             where=json_pointer("points", index))
        array = np.array(raw, dtype=np.float64).reshape(-1, 2)
    fewest, most, _ = SHAPE_TYPES[shape_type]
    if shape_type == "rectangle" and len(raw) not in (2, 4):
        raise InvalidAnnotationError(f"a rectangle has 2 points (4 in X-AnyLabeling's files), this one {len(raw)}",
                                     where="/points")
    if len(raw) < fewest or (most is not None and len(raw) > most):
        wanted = f"{fewest}" if fewest == most else f"at least {fewest}"
        raise InvalidAnnotationError(f"a {shape_type} has {wanted} point{'s' if most != 1 else ''}, this one "
                                     f"{len(raw)}", where="/points")
    return array


def _fast_points(raw: list) -> np.ndarray | None:
    """Well-formed points as an (n, 2) array, checked a column at a time; None to take the careful path."""
    if not all(type(point) is list for point in raw) or any(len(point) != 2 for point in raw):
        return None
    xs, ys = [p[0] for p in raw], [p[1] for p in raw]
    if not (_NUMBER_TYPES.issuperset(map(type, xs)) and _NUMBER_TYPES.issuperset(map(type, ys))):
        return None  # bools, text, null …
    array = np.empty((len(raw), 2), dtype=np.float64)
    array[:, 0], array[:, 1] = xs, ys
    return array if np.isfinite(array).all() else None


def _attributes(raw: dict) -> dict:
    """``flags`` (name → bool, as LabelMe requires) and X-AnyLabeling's ``attributes`` object, as one dict."""
    flags = raw.get("flags")
    if flags is None:
        flags = {}
    if not isinstance(flags, dict):
        raise InvalidAnnotationError(f"flags is an object of true/false values, not {kind_of(flags)}", where="/flags")
    for key, value in flags.items():
        if type(value) is not bool:
            raise InvalidAnnotationError(f"a flag is true or false, not {kind_of(value)}",
                                         where=json_pointer("flags", key))
    attributes = dict(flags)
    extra = raw.get("attributes")
    if isinstance(extra, dict):
        for key, value in extra.items():
            if key in attributes:
                raise InvalidAnnotationError(f"{key!r} is both a flag and an attribute",
                                             where=json_pointer("attributes", key))
            attributes[key] = value
    return attributes


# ==== geometry =============================================================================================
def _geometry(shape_type: str, points: np.ndarray, mask: Any, size: tuple[int, int] | None, kept: dict) -> list:
    """The definitions of the shape; ``kept`` gets the source's points where the writer would not give them back."""
    if shape_type == "rectangle" and len(points) == 2:
        (x0, y0), (x1, y1) = points.tolist()
        definition = Box(left=min(x0, x1), top=min(y0, y1), right=max(x0, x1), bottom=max(y0, y1))
        written = rectangle_points(definition)
    elif shape_type == "rectangle":
        definition = _upright_box(points)
        kept["corners"] = 4
        written = rectangle_corners(definition)
    elif shape_type in ("oriented_rectangle", "rotation"):
        definition = _oriented_box(points, shape_type)
        if shape_type == "rotation":
            _check_direction(kept["direction"], definition)
        written = oriented_points(definition)
    elif shape_type == "circle":
        (cx, cy), (px, py) = points.tolist()
        radius = math.hypot(px - cx, py - cy)
        definition = Ellipse(x=cx, y=cy, rx=radius, ry=radius, angle=0)
        written = circle_points(definition)
    elif shape_type == "polygon":
        return [Polygon(geo=[points])]
    elif shape_type in ("line", "linestrip"):
        return [Polyline(geo=[points])]
    elif shape_type in ("point", "points"):
        return [Point(x=x, y=y) for x, y in points.tolist()]
    else:
        return [_mask(points, mask, size)]
    source = points.tolist()
    if written != source:
        kept["points"] = source
    if written != source or "direction" in kept:
        kept[GEOMETRY_KEY] = geometry_fingerprint(definition)
    return [definition]


def _upright_box(points: np.ndarray) -> Box:
    """The box of X-AnyLabeling's 4-corner rectangle: the corners of an upright rectangle, in order around it."""
    box = Box(left=float(points[:, 0].min()), top=float(points[:, 1].min()), right=float(points[:, 0].max()),
              bottom=float(points[:, 1].max()))
    corners = {tuple(corner) for corner in rectangle_corners(box)}
    given = [tuple(point) for point in points.tolist()]
    in_order = all(given[i][0] == given[i - 1][0] or given[i][1] == given[i - 1][1] for i in range(len(given)))
    if len(given) != 4 or not in_order or not set(given) <= corners or (len(corners) == 4 and set(given) != corners):
        raise InvalidAnnotationError(f"a rectangle has 2 corners, or 4 (X-AnyLabeling) that are the corners of an "
                                     f"upright rectangle in order; these {len(given)} points are not",
                                     where="/points")
    return box


def _direction(value: Any) -> float | None:
    """X-AnyLabeling's ``direction`` of a rotation: a finite number of radians, or absent."""
    if value is None:
        return None
    if type(value) not in _NUMBER_TYPES or not math.isfinite(value):
        raise InvalidAnnotationError(f"direction is the rotation's angle in radians, not {_shown(value)}",
                                     where="/direction")
    return value


def _check_direction(direction: float | None, box: Box) -> None:
    """A rotation's ``direction`` must agree with its points (the angle of its first side), or it is refused."""
    if direction is None:
        return
    gap = abs(math.remainder(direction - math.radians(box.angle), 2 * math.pi))
    if gap > _DIRECTION_TOLERANCE:
        raise InvalidAnnotationError(f"direction {direction!r} (radians) is not the angle of the rotation's first "
                                     f"side, {math.radians(box.angle):.6f}: which one is meant cannot be told",
                                     where="/direction")


def _oriented_box(points: np.ndarray, shape_type: str = "oriented_rectangle") -> Box:
    """The rotated box of 4 corners in order: its first side gives the width and the angle."""
    first, second = points[1] - points[0], points[2] - points[1]
    width, height = float(np.hypot(*first)), float(np.hypot(*second))
    scale = max(width, height, 1.0)
    closing = points[3] - points[0] - second
    if (abs(float(np.dot(first, second))) > _RECTANGLE_TOLERANCE * scale * scale
            or float(np.abs(closing).max()) > _RECTANGLE_TOLERANCE * scale):
        raise InvalidAnnotationError(f"the 4 points of a {shape_type} do not form a rectangle", where="/points")
    cx, cy = ((points[0] + points[2]) / 2.0).tolist()
    angle = math.degrees(math.atan2(float(first[1]), float(first[0]))) % 360.0
    return Box(left=cx - width / 2, top=cy - height / 2, right=cx + width / 2, bottom=cy + height / 2,
               angle=angle)


def _mask(points: np.ndarray, mask: Any, size: tuple[int, int] | None) -> Segmentation:
    if size is None:
        raise InvalidAnnotationError("a mask shape needs the image's size (imageHeight and imageWidth)",
                                     where="/points")
    window = decode_mask(mask, size)
    height, width = size
    top_left = np.round(points[0])  # as LabelMe places it
    x, y = int(top_left[0]), int(top_left[1])
    h, w = window.shape
    canvas = np.zeros((height, width), dtype=bool)
    rows, cols = slice(max(y, 0), min(y + h, height)), slice(max(x, 0), min(x + w, width))
    if rows.start < rows.stop and cols.start < cols.stop:
        canvas[rows, cols] = window[rows.start - y: rows.stop - y, cols.start - x: cols.stop - x]
    if int(np.count_nonzero(canvas)) != int(np.count_nonzero(window)):
        raise InvalidAnnotationError(f"the mask window at ({x}, {y}), {w}×{h} pixels, has pixels outside the "
                                     f"{width}×{height} image", where="/points")
    return Segmentation(geo=canvas)


# ==== the points a writer gives for a shape ================================================================
def rectangle_points(box: Box) -> list[list[float]]:
    """A LabelMe rectangle: the top-left and bottom-right corners."""
    return [[box.left, box.top], [box.right, box.bottom]]


def rectangle_corners(box: Box) -> list[list[float]]:
    """X-AnyLabeling's rectangle: its 4 corners from the top-left, clockwise on screen."""
    return [[box.left, box.top], [box.right, box.top], [box.right, box.bottom], [box.left, box.bottom]]


def oriented_points(box: Box) -> list[list[float]]:
    """A LabelMe oriented rectangle: the 4 turned corners, from the turned top-left, clockwise on screen."""
    return box.corners().tolist()


def circle_points(ellipse: Ellipse) -> list[list[float]]:
    """A LabelMe circle: the centre and the point one radius to its right."""
    return [[ellipse.x, ellipse.y], [ellipse.x + ellipse.rx, ellipse.y]]


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def kind_of(value: Any) -> str:
    """What a JSON value is, for messages ("an object", "text", "null" …)."""
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", bool: "true/false"}.get(type(value), type(value).__name__)
