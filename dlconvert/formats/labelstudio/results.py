"""One Label Studio region ↔ one Dataloop definition: the geometry in percent of the image, both ways.

Label Studio gives every coordinate in percent of ``original_width`` / ``original_height`` (x of the
width, y of the height; a polygon point ``[x, y]``); rotations are degrees, clockwise on screen. Read, a
percentage is ``percent / 100 * size`` pixels; written, it is the float that reads back as the pixels
exactly where one does (most do; a turned box's corner never can), else the nearest:

* ``rectanglelabels``: ``x, y`` is the box's top-left corner and the box turns by ``rotation`` about that
  corner (not its centre). The Dataloop box keeps the same size and angle about its centre, the centre
  being the corner plus the turned half-diagonal — the same four corners, exactly.
* ``ellipselabels``: ``x, y`` is the centre, ``radiusX`` (percent of the width) and ``radiusY`` (of the
  height) the semi-axes, turned by ``rotation`` about the centre, as a Dataloop ellipse.
* ``polygonlabels``: ``points`` is one ring; ``closed: false`` (an open path) is a polyline.
* ``keypointlabels``: ``x, y`` is the point; ``width`` is only its drawn size.
* ``brushlabels`` (and the magic wand's ``magicwand``, and ``labels`` carrying an ``rle``): a mask in
  :mod:`.rle` over the whole image.

Attributes: a result of a control (``choices``, ``textarea``, ``number``, ``rating``, ``taxonomy``,
``datetime``) that shares its region's ``id`` is the attribute ``from_name`` of that region: one choice or
one text is a string, several a list; numbers stay numbers. Written back, a string is a ``textarea``, a
number a ``number``, a list of texts ``choices``; :func:`attribute_read_back` says what comes back, so the
writer reports the values Label Studio gives back otherwise.
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import InvalidAnnotationError
from ...geometry import Box, Ellipse, Point, Polygon, Polyline, Segmentation
from ...geometry.base import BaseAnnotationDefinition, read_number
from .rle import decode_mask, encode_mask

__all__ = ["CONTROL_VALUE_KEYS", "SHAPE_KINDS", "attribute_read_back", "attribute_result", "attribute_value",
           "definition_of", "region_labels", "shape_kind", "value_of"]

#: Result types that draw a region, by the geometry their value holds.
SHAPE_KINDS = {
    "rectanglelabels": "rectangle", "rectangle": "rectangle", "polygonlabels": "polygon", "polygon": "polygon",
    "keypointlabels": "keypoint", "keypoint": "keypoint", "ellipselabels": "ellipse", "ellipse": "ellipse",
    "brushlabels": "brush", "brush": "brush", "magicwand": "brush",
}
#: How many floats next to the nearest percentage are tried for one that reads back exactly (more find no more).
_NUDGES = 4
#: Control results that are a region's attribute (or, alone, an item's): the value key of each.
CONTROL_VALUE_KEYS = {"choices": "choices", "textarea": "text", "number": "number", "rating": "rating",
                      "taxonomy": "taxonomy", "datetime": "datetime"}


def shape_kind(result: dict) -> str | None:
    """The geometry a result draws (``rectangle``, ``polygon``, ``keypoint``, ``ellipse``, ``brush``), or None.

    A ``labels`` result (a plain ``<Labels>`` control tied to an image) draws what its value holds.
    """
    kind = SHAPE_KINDS.get(result.get("type"))
    if kind is not None or result.get("type") != "labels":
        return kind
    value = result.get("value")
    if not isinstance(value, dict):
        return None
    for key, found in (("rle", "brush"), ("points", "polygon"), ("radiusX", "ellipse"), ("height", "rectangle")):
        if key in value:
            return found
    return None


def value_of(result: dict) -> dict:
    value = result.get("value")
    if not isinstance(value, dict):
        raise InvalidAnnotationError("a result needs a 'value' object", where="/value")
    return value


def region_labels(result: dict) -> list[str] | None:
    """The labels a result gives its region (``value.<type>`` or ``value.labels``; a relation's ``labels``),
    None when it gives none."""
    kind = result.get("type")
    value = result.get("value") if kind != "relation" else result  # a relation's labels are its own
    if not isinstance(value, dict):
        return None
    key = kind if isinstance(kind, str) and kind.endswith("labels") and kind in value else "labels"
    labels = value.get(key)
    if labels is None:
        return None
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise InvalidAnnotationError(f"{key} must be a list of label names", where=f"/value/{key}")
    return labels


# ==== percent → pixels =================================================================================
def definition_of(result: dict, kind: str, width: int, height: int) -> BaseAnnotationDefinition:
    """The Dataloop definition a region's shape result draws on a ``width`` × ``height`` image."""
    value = value_of(result)

    def number(key: str, default: float | None = None) -> float:
        if key not in value and default is not None:
            return default
        if key not in value:
            raise InvalidAnnotationError(f"the {result.get('type')} value has no {key!r}", where=f"/value/{key}")
        return read_number(value[key], f"/value/{key}")

    if kind == "rectangle":
        left, top = number("x") / 100 * width, number("y") / 100 * height
        w, h = number("width") / 100 * width, number("height") / 100 * height
        angle = number("rotation", 0.0)
        if angle % 360 == 0:
            return Box(left=left, top=top, right=left + w, bottom=top + h)
        theta = math.radians(angle)
        cx = left + (w * math.cos(theta) - h * math.sin(theta)) / 2
        cy = top + (w * math.sin(theta) + h * math.cos(theta)) / 2
        return Box(left=cx - w / 2, top=cy - h / 2, right=cx + w / 2, bottom=cy + h / 2, angle=angle)
    if kind == "ellipse":
        return Ellipse(x=number("x") / 100 * width, y=number("y") / 100 * height, rx=number("radiusX") / 100 * width,
                       ry=number("radiusY") / 100 * height, angle=number("rotation", 0.0))
    if kind == "keypoint":
        return Point(x=number("x") / 100 * width, y=number("y") / 100 * height)
    if kind == "polygon":
        return _polygon(value, width, height)
    if value.get("format") != "rle":
        raise InvalidAnnotationError(f"brush format {value.get('format')!r} is not 'rle'", where="/value/format")
    return Segmentation(geo=decode_mask(value.get("rle"), width, height))


def _polygon(value: dict, width: int, height: int) -> BaseAnnotationDefinition:
    points = value.get("points")
    if not isinstance(points, list):
        raise InvalidAnnotationError("polygon points must be a list of [x, y] pairs", where="/value/points")
    ring = []
    for index, point in enumerate(points):
        if not isinstance(point, list) or len(point) != 2:
            raise InvalidAnnotationError("a point must be [x, y]", where=f"/value/points/{index}")
        ring.append([read_number(point[0], f"/value/points/{index}/0") / 100 * width,
                     read_number(point[1], f"/value/points/{index}/1") / 100 * height])
    closed = value.get("closed", True)
    if not isinstance(closed, bool):
        raise InvalidAnnotationError("closed must be true or false", where="/value/closed")
    return Polygon(geo=[ring]) if closed else Polyline(geo=[ring])


# ==== pixels → percent =================================================================================
def shape_value(definition: BaseAnnotationDefinition, width: int, height: int) -> tuple[str, dict]:
    """``(kind, value without labels)`` of a definition Label Studio holds as it is (see the writer)."""
    kind = definition.type
    if kind == "box" and definition.is_rotated:  # its top-left corner, turned: no exact way back
        w, h = definition.right - definition.left, definition.bottom - definition.top
        left, top = definition.corners()[0]
        return "rectangle", {"x": float(left) / width * 100, "y": float(top) / height * 100,
                             "width": w / width * 100, "height": h / height * 100, "rotation": definition.angle}
    if kind == "box":  # the reader adds the size to the corner it read: right = left + width
        x, y = _pct(definition.left, width), _pct(definition.top, height)
        return "rectangle", {"x": x, "y": y, "width": _pct(definition.right, width, x / 100 * width),
                             "height": _pct(definition.bottom, height, y / 100 * height), "rotation": 0}
    if kind == "ellipse":
        return "ellipse", {"x": _pct(definition.x, width), "y": _pct(definition.y, height),
                           "radiusX": _pct(definition.rx, width), "radiusY": _pct(definition.ry, height),
                           "rotation": definition.angle}
    if kind == "point":
        return "keypoint", {"x": _pct(definition.x, width), "y": _pct(definition.y, height), "width": 0.5}
    if kind in ("segment", "polyline"):
        ring = definition.parts[0]
        points = [[_pct(x, width), _pct(y, height)] for x, y in ring.tolist()]
        return "polygon", {"points": points, "closed": kind == "segment"}
    return "brush", {"format": "rle", "rle": encode_mask(definition.geo)}


def _pct(pixels: float, size: int, start: float = 0.0) -> float:
    """The percentage of ``size`` that :func:`definition_of` reads back (``start + percent / 100 * size``) as
    ``pixels`` exactly, when one of the floats next to the nearest percentage does; else the nearest."""
    pixels = float(pixels)
    nearest = percent = (pixels - start) / size * 100
    for _ in range(_NUDGES):
        back = start + percent / 100 * size
        if back == pixels:
            return percent
        percent = math.nextafter(percent, math.inf if back < pixels else -math.inf)
    return nearest


# ==== attributes ===========================================================================================
def attribute_value(result: dict) -> Any:
    """A control result's value as an attribute: one choice or text a string, several a list."""
    value = value_of(result)
    key = CONTROL_VALUE_KEYS.get(result.get("type"), result.get("type"))
    found = value.get(key, value)
    if result.get("type") in ("choices", "textarea") and isinstance(found, list) and len(found) == 1:
        return found[0]
    return found


def attribute_result(value: Any) -> tuple[str, dict]:
    """``(type, value)`` of the control result that holds an attribute value."""
    if isinstance(value, str):
        return "textarea", {"text": [value]}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number", {"number": value}
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "choices", {"choices": list(value)}
    import json

    return "textarea", {"text": [json.dumps(value, ensure_ascii=False)]}


def attribute_read_back(value: Any) -> Any:
    """What reading the written attribute gives back (a list of one choice comes back as its text)."""
    kind, written = attribute_result(value)
    return attribute_value({"type": kind, "value": written})
