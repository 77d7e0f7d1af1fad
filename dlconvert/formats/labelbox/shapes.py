"""Labelbox geometry → Dataloop definitions: ``{x, y}`` point lists, ``{top, left, height, width}`` boxes and
the WKT strings of the oldest exports, checked, with a fault's JSON pointer inside the value.

Every builder takes ``flip``: the image height when the export measures y from the image's bottom
(the 2018 editors, see :mod:`.legacy`), else None. A closed ring's repeated first point is dropped
(Labelbox repeats it; Dataloop rings are implicitly closed). An axis-aligned ring of four corners —
what the legacy rectangle tool exported — is a Box.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import InvalidAnnotationError
from ...geometry import Box, Point, Polygon, Polyline
from ...geometry.base import BaseAnnotationDefinition, _kind, read_number, read_xy

__all__ = ["MAX_WKT_CHARS", "box_of", "line_of", "point_of", "polygon_of", "ring_of", "rings_shape", "wkt_shapes"]

#: A WKT string is parsed by GEOS: refused above this length (a row's line bound applies first).
MAX_WKT_CHARS = 64 * 2**20


def ring_of(points: Any, flip: float | None) -> np.ndarray:
    """A list of ``{x, y}`` points as an (n, 2) array, y flipped when asked; raises with the point's pointer."""
    if not isinstance(points, list):
        raise InvalidAnnotationError(f"expected a list of {{x, y}} points, got {_kind(points)}", where="")
    ring = Polyline.from_coordinates(points).parts[0] if points else np.zeros((0, 2))
    return _flipped(ring, flip)


def polygon_of(points: Any, label: str, flip: float | None) -> BaseAnnotationDefinition:
    """A polygon from its points (its closing point dropped), a Box when it is an upright rectangle."""
    return rings_shape([_open(ring_of(points, flip))], label)


def line_of(points: Any, label: str, flip: float | None) -> Polyline:
    return Polyline(geo=[ring_of(points, flip)], label=label)


def point_of(value: Any, label: str, flip: float | None) -> Point:
    x, y = read_xy(value, "")
    return Point(x=x, y=flip - y if flip is not None else y, label=label)


def box_of(value: Any, label: str, flip: float | None) -> Box:
    """``{top, left, height, width}`` as a Box (a negative size stays: writers report it degenerate)."""
    if not isinstance(value, dict):
        raise InvalidAnnotationError(f"expected a box object {{top, left, height, width}}, got {_kind(value)}",
                                     where="")
    top, left, height, width = (_field(value, key) for key in ("top", "left", "height", "width"))
    if flip is not None:
        top = flip - (top + height)
    return Box(left=left, top=top, right=left + width, bottom=top + height, label=label)


def rings_shape(rings: list[np.ndarray], label: str) -> BaseAnnotationDefinition:
    """An outer ring and its holes: a Polygon, or a Box when it is one upright rectangle."""
    if len(rings) == 1 and _upright_rectangle(rings[0]):
        xs, ys = rings[0][:, 0], rings[0][:, 1]
        return Box(left=float(xs.min()), top=float(ys.min()), right=float(xs.max()), bottom=float(ys.max()),
                   label=label)
    return Polygon(geo=rings, label=label)


def wkt_shapes(text: str, label: str, flip: float | None) -> list[BaseAnnotationDefinition]:
    """The shapes of a WKT string: one per polygon (holes kept), point or line of a multi-geometry."""
    import shapely
    from shapely import wkt

    if len(text) > MAX_WKT_CHARS:
        raise InvalidAnnotationError(f"the WKT string is {len(text)} characters; at most {MAX_WKT_CHARS}", where="")
    try:
        geometry = wkt.loads(text)
    except (shapely.errors.ShapelyError, ValueError, TypeError) as exc:
        raise InvalidAnnotationError(f"not a WKT geometry ({_first_line(exc)}): {text[:60]!r}", where="") from None
    parts = list(geometry.geoms) if hasattr(geometry, "geoms") else [geometry]
    shapes: list[BaseAnnotationDefinition] = []
    for part in parts:
        if part.is_empty:
            continue
        if part.geom_type == "Polygon":
            rings = [_open(_flipped(np.asarray(r.coords, dtype=np.float64)[:, :2], flip))
                     for r in (part.exterior, *part.interiors)]
            shapes.append(rings_shape(rings, label))
        elif part.geom_type == "LineString":
            shapes.append(Polyline(geo=[_flipped(np.asarray(part.coords, dtype=np.float64)[:, :2], flip)],
                                   label=label))
        elif part.geom_type == "Point":
            shapes.append(point_of({"x": part.x, "y": part.y}, label, flip))
        else:
            raise InvalidAnnotationError(f"WKT {part.geom_type} is not a shape dlconvert reads", where="")
    if not shapes:
        raise InvalidAnnotationError(f"the WKT geometry is empty: {text[:60]!r}", where="")
    return shapes


# -- internals ---------------------------------------------------------------------------------------
def _field(value: dict, key: str) -> float:
    if key not in value:
        raise InvalidAnnotationError(f"box is missing {key!r}", where="")
    return read_number(value[key], "/" + key)


def _flipped(ring: np.ndarray, flip: float | None) -> np.ndarray:
    if flip is None:
        return ring
    out = np.array(ring, dtype=np.float64)
    out[:, 1] = flip - out[:, 1]
    return out


def _open(ring: np.ndarray) -> np.ndarray:
    """The ring without its closing point (the first repeated at the end)."""
    if len(ring) > 1 and ring[0, 0] == ring[-1, 0] and ring[0, 1] == ring[-1, 1]:
        return ring[:-1]
    return ring


def _upright_rectangle(ring: np.ndarray) -> bool:
    """Four distinct corners on two x and two y values, in ring order: an axis-aligned rectangle."""
    if len(ring) != 4 or len({(float(x), float(y)) for x, y in ring}) != 4:
        return False
    if len(set(ring[:, 0].tolist())) != 2 or len(set(ring[:, 1].tolist())) != 2:
        return False
    # consecutive corners share an x or a y (not a bow tie)
    nxt = np.roll(ring, -1, axis=0)
    return bool(np.all((ring[:, 0] == nxt[:, 0]) | (ring[:, 1] == nxt[:, 1])))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:120] if text else type(exc).__name__
