"""Plane geometry YOLO needs: rectangles from 4 corners, minimum rotated rectangles, bridged rings."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np

from ...geometry import Box
from ...geometry.polygon import signed_area
from .._fingerprint import fingerprint, geometry_fingerprint


def rectangle(points: np.ndarray, width: float, height: float) -> Box | None:
    """The rotated Box whose corners are these 4 points (in pixels), or None if they are no rectangle.

    Rectangle: the diagonals share their midpoint and have the same length, within 1e-4 of the
    image's width + height (0.1 px on a 1000 px image; rounding to 6 decimals moves a point far less).
    The box's angle is the direction from the first corner to the next one clockwise on screen,
    fitted to all four edges; angles within 1e-9° of a multiple of 90° give an upright box.
    """
    tol = 1e-4 * (width + height)
    p0, p1, p2, p3 = points
    if np.hypot(*((p0 + p2) - (p1 + p3))) / 2 > tol:
        return None
    if abs(np.hypot(*(p2 - p0)) - np.hypot(*(p3 - p1))) > tol:
        return None
    cross = (p1 - p0)[0] * (p2 - p1)[1] - (p1 - p0)[1] * (p2 - p1)[0]
    nxt, prv = (p1, p3) if cross > 0 else (p3, p1)  # the corners after and before p0, clockwise on screen
    # Fit the direction to all four edges (the long ones weigh most), not to one rounded edge.
    across = (nxt - p0) + (p2 - prv)  # two widths, along the box's x
    down = (prv - p0) + (p2 - nxt)  # two heights, along its y (x turned clockwise on screen)
    direction = across + np.array([down[1], -down[0]])
    length = float(np.hypot(*direction))
    if length <= tol:
        return None
    u = direction / length
    w = float(np.dot(across, u)) / 2
    h = float(np.dot(down, (-u[1], u[0]))) / 2
    if w <= tol or h <= tol:
        return None
    angle = math.degrees(math.atan2(u[1], u[0]))
    cx, cy = (float(v) for v in points.mean(axis=0))
    quarter = round(angle / 90.0)
    if abs(angle - 90.0 * quarter) < 1e-9:  # upright: no angle, the extents along x and y
        if quarter % 2:
            w, h = h, w
        return Box(left=cx - w / 2, top=cy - h / 2, right=cx + w / 2, bottom=cy + h / 2)
    return Box(left=cx - w / 2, top=cy - h / 2, right=cx + w / 2, bottom=cy + h / 2, angle=angle)


def box_fingerprint(box: Box, width: float, height: float) -> str:
    """The fingerprint of a box's geometry on an image of this size: equal exactly when neither changed."""
    return fingerprint(geometry_fingerprint(box), float(width), float(height))


def min_rectangle(definition) -> np.ndarray:
    """The smallest rotated rectangle around a shape: 4 corners in pixels, clockwise on screen."""
    import shapely

    shape = definition.to_shapely()
    rectangle = shapely.minimum_rotated_rectangle(shape)
    points = np.asarray(rectangle.exterior.coords)[:-1] if rectangle.geom_type == "Polygon" else None
    if points is None or len(points) != 4:  # a line or a point: its bounds
        left, top, right, bottom = definition.bounds()
        points = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float64)
    if signed_area(points) < 0:
        points = points[::-1]
    return points


def _closest(a: np.ndarray, b: np.ndarray, with_distance: bool = False):
    """The closest pair of vertices of rings ``a`` and ``b``: ``(vertex of a, vertex of b)``, the first such pair
    in row-major order, with the squared distance first when asked."""
    dx = a[:, 0, None] - b[None, :, 0]
    dy = a[:, 1, None] - b[None, :, 1]
    squared = dx * dx + dy * dy
    k = int(squared.argmin())
    va, vb = divmod(k, len(b))
    return (float(squared.flat[k]), va, vb) if with_distance else (va, vb)


def merge_rings(rings: list[np.ndarray]) -> np.ndarray:
    """One ring through every ring, joined by zero-width bridges between their closest vertices.

    The rings are the nodes of a minimum spanning tree whose edges join the closest pair of
    vertices of two rings; the result walks every ring once from the vertex where it is entered,
    detouring into each child ring where it hangs and coming back the same way (a bridge
    is walked twice, so it adds no area). Filled even-odd, as YOLO's rasterisers fill a line,
    disjoint parts stay parts and a ring inside another stays a hole. A single ring is returned
    as it is.
    """
    rings = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in rings if len(r)]
    if len(rings) <= 1:
        return rings[0] if rings else np.zeros((0, 2))
    if len(rings) == 2:  # the common case, walked directly: ring 0 to its closest vertex, ring 1 round, back
        first, second = rings
        va, vb = _closest(first, second)
        return np.concatenate((first[:va + 1], second[vb:], second[:vb + 1], first[va:]))
    count = len(rings)
    closest: dict[tuple[int, int], tuple[float, int, int]] = {}

    def pair(i: int, j: int) -> tuple[float, int, int]:
        key = (min(i, j), max(i, j))
        if key not in closest:
            a, b = rings[key[0]], rings[key[1]]
            closest[key] = _closest(a, b, with_distance=True)
        distance, va, vb = closest[key]
        return (distance, va, vb) if i < j else (distance, vb, va)

    # Prim: grow the tree from ring 0, always adding the ring closest to it.
    hanging: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (ring, vertex) → [(child, vertex)]
    in_tree = [0]
    best = {j: (pair(0, j), 0) for j in range(1, count)}
    while best:
        j = min(best, key=lambda r: (best[r][0][0], r))
        (_, vi, vj), i = best.pop(j)
        hanging[(i, vi)].append((j, vj))
        in_tree.append(j)
        for other in best:
            candidate = pair(j, other)
            if candidate[0] < best[other][0][0]:
                best[other] = (candidate, j)
    # Which vertices of each ring have children hanging from them.
    stops: dict[int, list[int]] = defaultdict(list)
    for ring_index, vertex in hanging:
        stops[ring_index].append(vertex)
    # Walk whole runs of a ring's vertices at once, from its entry vertex to its next stop. A frame is
    # [ring, entry vertex, the ring rolled to start at its entry, stops to come as (steps from entry, vertex),
    #  steps walked, children still to visit at the current stop].
    out: list[np.ndarray] = []

    def enter(ring_index: int, entry: int) -> list[Any]:
        ring = rings[ring_index]
        todo = sorted(((v - entry) % len(ring), v) for v in stops.get(ring_index, ()))
        return [ring_index, entry, np.concatenate((ring[entry:], ring[:entry])), todo, 0, []]

    stack = [enter(0, 0)]
    while stack:
        frame = stack[-1]
        ring_index, _, walked, todo, done, pending = frame
        if pending:
            child, vertex = pending.pop(0)
            stack.append(enter(child, vertex))
            continue
        if todo:
            step, vertex = todo.pop(0)
            out.append(walked[done:step + 1])  # up to and including the stop's vertex
            frame[4] = step + 1
            frame[5] = list(hanging[(ring_index, vertex)])
            continue
        out.append(walked[done:])
        if ring_index != 0:
            out.append(walked[:1])  # a child ring closes back on its entry
        stack.pop()
        if stack:  # back over the bridge to the parent's vertex
            parent = stack[-1]
            out.append(parent[2][parent[4] - 1:parent[4]])
    return np.concatenate(out)
