"""Polygon (Dataloop type ``segment``) and Polyline (``polyline``), keeping every ring.

JSON: a list of rings, each a list of ``{"x", "y"}`` points: ``[[{x, y}, …], [{x, y}, …]]``. The
SDK reads only ring 0 (B19); we keep all. Polygon rings combine even-odd: a ring inside another
is a hole, disjoint rings are parts of one object. A polyline's rings are separate lines.
A flat list of points (not nested) is read as one ring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InvalidAnnotationError, json_pointer
from .base import BaseAnnotationDefinition, read_xy

__all__ = ["Polygon", "Polyline", "ring_areas", "ring_scales", "signed_area"]


def _as_ring(values: Any) -> np.ndarray:
    ring = np.array(values, dtype=np.float64)
    if ring.size == 0:
        ring = ring.reshape(0, 2)
    if ring.ndim != 2 or ring.shape[1] != 2:
        raise ValueError(f"a ring must be an (n, 2) array of x, y; got shape {ring.shape}")
    if not np.isfinite(ring).all():
        raise ValueError("ring coordinates must be finite")
    ring.setflags(write=False)
    return ring


def _as_rings(geo: Any) -> list[np.ndarray]:
    """One (n, 2) array, or a list of them, as a list of read-only rings."""
    if isinstance(geo, np.ndarray) and geo.ndim == 2:
        return [_as_ring(geo)]
    if isinstance(geo, Sequence) and geo and not isinstance(geo[0], (Sequence, np.ndarray)):
        raise ValueError("geo must be an (n, 2) array or a list of (n, 2) arrays")
    if isinstance(geo, Sequence) and geo and np.ndim(geo[0]) == 1:
        return [_as_ring(geo)]  # a plain list of [x, y] pairs
    return [_as_ring(ring) for ring in (geo or [])]


def signed_area(ring: np.ndarray) -> float:
    """The signed area of one (n, 2) ring by the shoelace formula: positive when counter-clockwise in x-right,
    y-up axes (clockwise on screen). The one shoelace of dlconvert. Coordinates beyond ~1e154 overflow the
    products: the result is then infinite or NaN, without a numpy warning (callers check what they write)."""
    x, y = ring[:, 0], ring[:, 1]
    next_x, next_y = np.concatenate((x[1:], x[:1])), np.concatenate((y[1:], y[:1]))  # np.roll(·, -1), cheaper
    with np.errstate(over="ignore", invalid="ignore"):
        return 0.5 * float(np.dot(x, next_y) - np.dot(y, next_x))


def ring_areas(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The signed area of every ring ``coords[offsets[i]:offsets[i + 1]]`` at once (the shoelace, summed point by
    point: not bit for bit :func:`signed_area`'s sum, so a screen — "clearly has area" — for bulk writers, which
    leave the close calls to :func:`signed_area`)."""
    if coords.shape[0] == 0:
        return np.zeros(offsets.size - 1)
    following = np.arange(1, coords.shape[0] + 1)
    filled = np.diff(offsets) > 0
    following[offsets[1:][filled] - 1] = offsets[:-1][filled]  # each ring's last point wraps to its first
    x, y = coords[:, 0], coords[:, 1]
    cross = x * y[following] - y * x[following]
    sums = np.zeros(offsets.size - 1)
    # over the filled rings only: an empty ring holds no point, so each sum ends where the next filled ring starts
    sums[filled] = np.add.reduceat(cross, offsets[:-1][filled])
    return 0.5 * sums


def ring_scales(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The largest coordinate magnitude of every ring (the scale of a relative area tolerance), at once."""
    if coords.shape[0] == 0:
        return np.zeros(offsets.size - 1)
    magnitude = np.maximum(np.abs(coords[:, 0]), np.abs(coords[:, 1]))  # max(axis=1) over 2 columns is slow
    filled = np.diff(offsets) > 0
    out = np.zeros(offsets.size - 1)
    out[filled] = np.maximum.reduceat(magnitude, offsets[:-1][filled])
    return out


def _has_area(ring: np.ndarray) -> bool:
    """Whether a ring encloses any area. Coordinates beyond ~1e154 overflow the shoelace (inf − inf is NaN,
    which is no area either way): such a ring is measured scaled down to at most 1, where its sign is exact
    enough to tell zero from not."""
    area = signed_area(ring)
    if math.isfinite(area):
        return area != 0
    return signed_area(ring / float(np.abs(ring).max())) != 0


def _fast_ring(ring: list) -> np.ndarray | None:
    """A ring of well-formed ``{x, y}`` points as an (n, 2) array, or None to take the careful path.

    Reading coordinates is the hot loop of every Dataloop reader: this checks the whole ring at
    once (types, then finiteness) instead of point by point, one column at a time (numpy fills
    an array from two flat lists of floats far faster than from a list of pairs).
    """
    try:
        xs = [p["x"] for p in ring]
        ys = [p["y"] for p in ring]
    except (TypeError, KeyError):
        return None
    if not (_NUMBER_TYPES.issuperset(map(type, xs)) and _NUMBER_TYPES.issuperset(map(type, ys))):
        return None  # bools, strings, None …
    array = np.empty((len(xs), 2), dtype=np.float64)
    array[:, 0] = xs
    array[:, 1] = ys
    return array if np.isfinite(array).all() else None


_NUMBER_TYPES = frozenset({int, float})


def _ring_pointer(index: int, flat: bool) -> str:
    """Where ring ``index`` is: a flat list of points is the one ring, at the coordinates themselves."""
    return "" if flat else json_pointer(index)


class _Rings(BaseAnnotationDefinition):
    """Shared by Polygon and Polyline: a list of point rings."""

    _geometry_fields = frozenset({"parts"})
    closed = True

    def __init__(
        self, geo: Any = None, label: str | None = None, attributes: dict | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        # _as_rings already validated and froze every ring: __setattr__ would check them again.
        object.__setattr__(self, "parts", _as_rings(geo if geo is not None else []))

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "parts":
            value = [_as_ring(ring) for ring in value]
        super().__setattr__(name, value)

    @property
    def geo(self) -> np.ndarray:
        """The first ring as an (n, 2) array (the SDK's view); ``parts`` holds all of them."""
        return self.parts[0] if self.parts else np.zeros((0, 2))

    @geo.setter
    def geo(self, value: Any) -> None:
        self.parts = _as_rings(value)

    @property
    def x(self) -> np.ndarray:
        return self.geo[:, 0]

    @property
    def y(self) -> np.ndarray:
        return self.geo[:, 1]

    def _all_points(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros((0, 2))

    def bounds(self) -> tuple[float, float, float, float]:
        pts = self._all_points()
        if len(pts) == 0:
            return (0.0, 0.0, 0.0, 0.0)
        return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))

    def _geometry_key(self) -> Any:
        return tuple(self.parts)

    def _coordinates(self) -> list:
        return [[{"x": x, "y": y} for x, y in ring.tolist()] for ring in self.parts]

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> _Rings:
        if not isinstance(coordinates, list):
            raise InvalidAnnotationError(f"{cls.type} coordinates must be a list of rings", where="")
        flat = bool(coordinates) and isinstance(coordinates[0], dict)
        if flat:
            coordinates = [coordinates]  # a flat list of points is one ring
        rings = []
        for i, ring in enumerate(coordinates):
            if not isinstance(ring, list):
                raise InvalidAnnotationError("each ring must be a list of points", where=_ring_pointer(i, flat))
            array = _fast_ring(ring)
            if array is None:  # something is off: the careful path names the exact point
                where = _ring_pointer(i, flat)
                array = np.array([read_xy(p, where + json_pointer(j)) for j, p in enumerate(ring)],
                                 dtype=np.float64).reshape(-1, 2)
            array.setflags(write=False)
            rings.append(array)
        # Every ring is a new, finite (n, 2) float array, frozen above: set them as they are
        # rather than have the constructor copy and check each again.
        definition = cls()
        object.__setattr__(definition, "parts", rings)
        return definition

    def __repr__(self) -> str:
        sizes = "+".join(str(len(r)) for r in self.parts) or "0"
        return f"<{type(self).__name__} label={self.label!r} points={sizes}>"


class Polygon(_Rings):
    """A closed shape of one or more rings (parts and holes, combined even-odd)."""

    type = "segment"

    @property
    def area(self) -> float:
        return float(self.to_shapely().area) if self.parts else 0.0

    def to_shapely(self):
        """Rings combined even-odd (XOR), self-intersections made valid."""
        import shapely

        shape = shapely.Polygon()
        for ring in self.parts:
            if len(ring) < 3:
                continue
            # shapely.polygons builds what shapely.Polygon(ring) does, without its per-call checks.
            part = shapely.make_valid(shapely.polygons(ring))
            shape = shapely.symmetric_difference(shape, part)
        return shape

    def problems(self) -> list[str]:
        if not self.parts:
            return ["polygon has no points"]
        short = [i for i, r in enumerate(self.parts) if len(r) < 3]
        if short:
            return [f"polygon ring {short[0]} has {len(self.parts[short[0]])} points (needs 3)"]
        if any(_has_area(r) for r in self.parts):  # the common case, and the cheap test: has area
            return []
        if all(len(np.unique(r, axis=0)) < 3 for r in self.parts):
            return ["polygon has fewer than 3 distinct points"]
        return ["polygon has no area (its points are on one line)"]

    @classmethod
    def from_segmentation(
        cls,
        mask: np.ndarray,
        label: str | None = None,
        attributes: dict | None = None,
        epsilon: float | None = None,
        max_instances: int | None = 1,
        min_area: float = 0,
    ) -> Polygon | list[Polygon] | None:
        """Trace a mask into polygons whose holes stay holes (not extra polygons, unlike the SDK).

        With ``max_instances=1`` (the default) returns the largest connected part as one Polygon,
        or ``None`` for an empty mask; otherwise a list, largest first. ``epsilon`` is the
        simplification tolerance in pixels (``None`` = 0.5, ``0`` = keep every pixel corner).
        """
        from .masks import mask_to_rings

        found = mask_to_rings(np.asarray(mask), epsilon=epsilon, max_instances=max_instances, min_area=min_area)
        polygons = [cls(geo=rings, label=label, attributes=dict(attributes or {})) for rings in found]
        if max_instances == 1:
            return polygons[0] if polygons else None
        return polygons


class Polyline(_Rings):
    """One or more open lines."""

    type = "polyline"
    closed = False

    def to_shapely(self):
        import shapely

        lines = [shapely.LineString(r) for r in self.parts if len(r) >= 2]
        return lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)

    def problems(self) -> list[str]:
        if not any(len(r) >= 2 for r in self.parts):
            return ["polyline has no line of two or more points"]
        return []
