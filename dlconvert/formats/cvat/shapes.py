"""One CVAT shape element ↔ one Dataloop definition: the geometry, its numbers and its attributes.

| CVAT element | Dataloop | |
|---|---|---|
| ``<box xtl ytl xbr ybr rotation>`` | Box (``rotation`` → ``angle``) | both turn clockwise on screen about the centre |
| ``<polygon points="x,y;…">`` | Polygon (one ring) | |
| ``<polyline points>`` | Polyline (one line) | |
| ``<points points>`` | one Point per point | |
| ``<ellipse cx cy rx ry rotation>`` | Ellipse | |
| ``<cuboid xtl1 … ybr2>`` | Cube (face 1 = front, face 2 = back) | |
| ``<mask rle left top width height>`` | Segmentation of the image's size | :mod:`.rle` |

Numbers must be finite; a missing or bad one is a one-line error naming the file, the line and the
element. Numbers are written as the shortest decimal that reads back as the value (CVAT's own
exports round to 2 decimals; writing more keeps what the source had).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError
from ...geometry import Box, Cube, Ellipse, Point, Polygon, Polyline, Segmentation
from ...geometry.segmentation import MAX_MASK_PIXELS
from ..voc.bndbox import text as number_text
from .meta import typed
from .rle import decode_window, encode_window, place_window, window_of

__all__ = ["SHAPE_TAGS", "Where", "attributes_of", "cuboid_fields", "flag", "geometry_fields", "read_geometry",
           "upright", "whole"]

SHAPE_TAGS = ("box", "polygon", "polyline", "points", "ellipse", "cuboid", "mask", "skeleton")
#: CVAT cuboid corners in its attribute order, and the Cube corner each one is (face 1 = front).
_CUBOID = (("tl1", "front_tl"), ("bl1", "front_bl"), ("tr1", "front_tr"), ("br1", "front_br"),
           ("tl2", "back_tl"), ("bl2", "back_bl"), ("tr2", "back_tr"), ("br2", "back_br"))


class Where:
    """An element of a file, for one-line errors: ``line 12: <box> …`` (the place is worked out only for an error)."""

    __slots__ = ("element", "path")

    def __init__(self, path: Path, element) -> None:
        self.path = path
        self.element = element

    @property
    def where(self) -> str:
        line = self.element.sourceline
        return f"line {line}" if line else f"<{self.element.tag}>"

    def error(self, message: str) -> FormatError:
        return FormatError(f"<{self.element.tag}> {message}", path=self.path, where=self.where)

    def number(self, name: str) -> float:
        text = self.element.get(name)
        if text is None:
            raise self.error(f"has no {name}")
        try:
            value = float(text)
        except ValueError:
            raise self.error(f"{name} is not a number: {text[:40]!r}") from None
        if not math.isfinite(value):
            raise self.error(f"{name} is not finite: {text[:40]!r}")
        return value

    def count(self, name: str) -> int:
        value = self.number(name)
        if value < 0 or not value.is_integer():
            raise self.error(f"{name} must be a whole number ≥ 0, not {self.element.get(name)!r}")
        return int(value)

    def points(self) -> np.ndarray:
        """The ``points="x,y;x,y"`` attribute as an (n, 2) array (parsed by numpy, not number by number)."""
        text = self.element.get("points")
        if text is None:
            raise self.error("has no points")
        try:
            values = np.array(text.strip().strip(";").replace(";", ",").split(","), dtype=np.float64)
        except ValueError:
            raise self.error("points must be numbers as x,y;x,y;…") from None
        if values.size % 2:
            raise self.error(f"points must be x,y pairs (found {values.size} numbers)")
        if not np.isfinite(values).all():
            raise self.error("points must be finite numbers")
        return values.reshape(-1, 2)


def flag(element, name: str) -> bool:
    """A CVAT 0/1 flag (``occluded``, ``outside``, ``keyframe``); absent is 0."""
    return (element.get(name) or "0").strip() in ("1", "true", "True")


def whole(element, name: str, where: Where, default: int = 0) -> int:
    """An optional whole-number attribute (``z_order``, ``group_id``)."""
    text = element.get(name)
    if not text:
        return default
    if text.isascii() and text.isdigit():  # the common case, without a float (str.isdigit alone takes '²')
        return int(text)
    value = where.number(name)
    if not value.is_integer():
        raise where.error(f"{name} must be a whole number, not {element.get(name)!r}")
    return int(value)


def attributes_of(element, label: str | None, input_types: dict) -> dict[str, Any]:
    """The ``<attribute name>value</attribute>`` children, typed by the label's spec (CVAT's lookup: the label's
    own spec, else any label's spec of that name)."""
    out: dict[str, Any] = {}
    for child in element.iterchildren("attribute"):
        name = child.get("name")
        if name is None:
            continue
        kind = input_types.get((label, name), input_types.get((None, name)))
        out[name] = typed(child.text or "", kind)
    return out


def read_geometry(element, where: Where, image_size: tuple[int | None, int | None], label: str,
                  attributes: dict[str, Any]) -> list:
    """The definitions of a shape element (one, or a Point per point of a ``<points>``), each with ``label`` and
    its own copy of ``attributes``."""
    tag = element.tag
    if tag == "points":
        return [Point(x=x, y=y, label=label, attributes=dict(attributes)) for x, y in where.points().tolist()]
    if tag == "box":
        definition = Box(left=where.number("xtl"), top=where.number("ytl"), right=where.number("xbr"),
                         bottom=where.number("ybr"), angle=_rotation(element, where), label=label,
                         attributes=dict(attributes))
    elif tag == "polygon":
        definition = Polygon(geo=where.points(), label=label, attributes=dict(attributes))
    elif tag == "polyline":
        definition = Polyline(geo=where.points(), label=label, attributes=dict(attributes))
    elif tag == "ellipse":
        definition = Ellipse(x=where.number("cx"), y=where.number("cy"), rx=where.number("rx"), ry=where.number("ry"),
                             angle=_rotation(element, where) or 0, label=label, attributes=dict(attributes))
    elif tag == "cuboid":
        corners = {corner: (where.number("x" + suffix), where.number("y" + suffix)) for suffix, corner in _CUBOID}
        definition = Cube(**corners, label=label, attributes=dict(attributes))
    elif tag == "mask":
        definition = _mask(where, image_size)
        definition.label, definition.attributes = label, dict(attributes)
    else:
        raise where.error("is not a shape dlconvert reads")
    return [definition]


def _rotation(element, where: Where) -> float | None:
    if element.get("rotation") in (None, ""):
        return None
    rotation = where.number("rotation")
    return rotation if rotation % 360 else None


def _mask(where: Where, image_size: tuple[int | None, int | None]) -> Segmentation:
    width, height = image_size
    if not (width and height):
        raise where.error("needs the image's size (its <image> has no width and height, and no image file says)")
    if width * height > MAX_MASK_PIXELS:
        raise where.error(f"lies on a {width}×{height} image, more than the limit of {MAX_MASK_PIXELS} pixels")
    left, top = where.count("left"), where.count("top")
    window_width, window_height = where.count("width"), where.count("height")
    if left + window_width > width or top + window_height > height:
        raise where.error(f"window {window_width}×{window_height} at ({left}, {top}) lies outside the "
                          f"{width}×{height} image")
    window = decode_window(where.element.get("rle") or "", window_width, window_height, where.path, where.where)
    segmentation = Segmentation()
    # The constructor copies a mask (every byte written): set the placed canvas as it is, so that a small
    # mask on a large photo keeps only its rows in memory (see rle.place_window).
    segmentation._mask = place_window(window, left, top, (height, width))
    return segmentation


# ==== writing ===========================================================================================
def geometry_fields(definition) -> list[tuple[str, str]]:
    """The geometry attributes of a definition's element, in CVAT's order (the tag is the caller's)."""
    kind = definition.type
    if kind == "box":
        fields = [("xtl", definition.left), ("ytl", definition.top), ("xbr", definition.right),
                  ("ybr", definition.bottom)]
        out = [(name, number_text(value)) for name, value in fields]
        if definition.is_rotated:
            out.append(("rotation", number_text(definition.angle % 360)))
        return out
    if kind == "ellipse":
        out = [(name, number_text(getattr(definition, attribute)))
               for name, attribute in (("cx", "x"), ("cy", "y"), ("rx", "rx"), ("ry", "ry"))]
        if definition.angle % 360:
            out.append(("rotation", number_text(definition.angle % 360)))
        return out
    if kind == "cube":
        return cuboid_fields(definition)
    if kind == "binary":
        found = window_of(definition.geo)
        left, top, window = found  # an empty mask is degenerate: skipped before
        return [("rle", encode_window(window)), ("left", str(left)), ("top", str(top)),
                ("width", str(window.shape[1])), ("height", str(window.shape[0]))]
    if kind == "point":
        return [("points", f"{number_text(definition.x)},{number_text(definition.y)}")]
    ring = definition.parts[0]
    return [("points", ";".join(f"{number_text(x)},{number_text(y)}" for x, y in ring.tolist()))]


def cuboid_fields(cube) -> list[tuple[str, str]]:
    out = []
    for suffix, corner in _CUBOID:
        x, y = getattr(cube, corner)
        out.extend(((f"x{suffix}", number_text(x)), (f"y{suffix}", number_text(y))))
    return out


def upright(cube) -> bool:
    """Whether a cube's vertical edges are vertical, as CVAT's cuboids keep them."""
    return all(getattr(cube, f"{face}_t{side}")[0] == getattr(cube, f"{face}_b{side}")[0]
               for face in ("front", "back") for side in ("l", "r"))
