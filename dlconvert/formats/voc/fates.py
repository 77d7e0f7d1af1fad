"""What the object writer (:mod:`.write`) decides for every row of a table, as arrays — or that it must decide.

A row is skipped (its type, a crowd region, a degenerate box, a label XML cannot hold), written with
its ``<bndbox>`` as it is, written approximated (a polygon as its box, a box moved to pixel indices),
or left open (:data:`DELEGATED`) for the object writer's own per-annotation code: a row with
attributes, a mask that is no crowd region, a polygon that may be degenerate, and a box whose edge
lies within float noise of a pixel boundary or of a ``verify`` threshold.

That noise is the one fact the table does not settle: the object writer sums COCO's ``x + w`` in
decimal (:func:`.bndbox.coco_declared`, so that 500.27 + 22.8 is 523.07), the table holds the
float sum ``x + w`` (and, for a rectangle read as a box, its corner, equal to ``x + w`` within
1e-12). Both lie within :data:`_POLYGON_SLACK` (:data:`_BOX_SLACK` for boxes) of each other, per
unit of ``|left| + |right| + 1``: the shortest decimals of ``x`` and ``w`` are within half a unit in
the last place of them, and each sum rounds once. A decision that cannot change within that
distance is the object writer's; the others are its to take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...table import BOX, CLASS, MASK, POLYGON, ranges
from .bndbox import pixel_spans

if TYPE_CHECKING:
    from ...table import Table

__all__ = ["BOX_ROUNDED", "CROWD", "DEGENERATE", "DELEGATED", "INVALID_TEXT", "SHAPE_AS_BOX", "SKIPPED",
           "UNSUPPORTED", "WRITTEN", "WROTE", "Fates", "fates", "has_pixels"]

WROTE, SHAPE_AS_BOX, BOX_ROUNDED, UNSUPPORTED, CROWD, DEGENERATE, INVALID_TEXT, DELEGATED = range(8)
WRITTEN = (WROTE, SHAPE_AS_BOX, BOX_ROUNDED)
SKIPPED = (UNSUPPORTED, CROWD, DEGENERATE, INVALID_TEXT)
# 2**-51 bounds the float and decimal sums' rounding (doubled here); 1e-12 is how far a rectangle's corner
# may be from x + w and still be read as the box (doubled).
_POLYGON_SLACK, _BOX_SLACK = 2.0 ** -49, 2e-12
_LARGEST = 2.0 ** 40  # beyond this, to the object code (pixel indices as exact integers, slack far below a pixel)
_TOLERANCE_PX, _TOLERANCE_IOU = 0.01, 0.999  # verify's defaults (dlconvert.compare.Tolerance)


@dataclass
class Fates:
    code: np.ndarray  # uint8 per row: WROTE … DELEGATED
    numbers: np.ndarray  # int64 (m, 4): xmin, ymin, xmax, ymax of the rows written here


def has_pixels(table: Table) -> bool:
    """Whether a row has pixels for the VOC masks (a polygon or a mask that is no crowd region): with masks on,
    only the object writer draws them."""
    return bool((~table.crowd & (table.kind != CLASS) & (table.kind != BOX)).any())


def fates(table: Table, invalid_label: np.ndarray) -> Fates:
    """Every row's fate and ``<bndbox>`` numbers (``voc_origin`` 1); ``invalid_label``: per label, XML cannot hold
    it. Row by row: a range of items (``table.slice``) gets the fates the whole table gives its rows, so each
    worker decides its own (and parses only its own polygons)."""
    kind, box = table.kind, table.box
    code = np.full(table.row_count, WROTE, dtype=np.uint8)
    unsupported = kind == CLASS
    crowd = table.crowd & ~unsupported
    live = ~unsupported & ~crowd
    delegated = live & (table.attributes | (kind == MASK) | _maybe_degenerate(table))
    rest = live & ~delegated
    with np.errstate(invalid="ignore"):
        degenerate = rest & (kind == BOX) & ~((box[:, 2] - box[:, 0] > 0) & (box[:, 3] - box[:, 1] > 0))
    invalid = rest & ~degenerate & invalid_label[table.label]
    code[unsupported], code[crowd], code[degenerate], code[invalid] = UNSUPPORTED, CROWD, DEGENERATE, INVALID_TEXT
    numbers = np.zeros((table.row_count, 4), dtype=np.int64)
    rows = np.flatnonzero(rest & ~degenerate & ~invalid)
    code[rows], numbers[rows] = _judged(table, rows)
    code[delegated] = DELEGATED
    return Fates(code, numbers)


def _maybe_degenerate(table: Table) -> np.ndarray:
    """Polygon rows whose degeneracy the object code decides (:meth:`RingFacts.doubtful`)."""
    return (table.kind == POLYGON) & table.rings.facts().doubtful()


def _judged(table: Table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The fate (written, approximated or DELEGATED) and ``<bndbox>`` of box and polygon ``rows`` as
    :func:`.write.numbers_of` and :func:`.write.as_box` decide them (see the module docstring)."""
    kind, box = table.kind[rows], table.box[rows]
    declared = ~np.isnan(box[:, 0])  # every box (a COCO bbox or rectangle), polygons with a bbox
    low, high = box[:, :2].copy(), box[:, 2:].copy()
    low[~declared], high[~declared] = _ring_bounds(table, rows[~declared])  # exact: no slack
    per_unit = np.where(kind == BOX, _BOX_SLACK, _POLYGON_SLACK)[:, None]
    slack = np.where(declared[:, None], per_unit * (np.abs(low) + np.abs(high) + 1.0), 0.0)
    spans = [pixel_spans(low[:, axis], high[:, axis]) for axis in (0, 1)]
    open_ = ~((np.abs(low) < _LARGEST) & (np.abs(high) < _LARGEST)).all(axis=1)
    for axis, (first, end) in enumerate(spans):
        for moved in (high[:, axis] - slack[:, axis], high[:, axis] + slack[:, axis]):
            other_first, other_end = pixel_spans(low[:, axis], moved)
            open_ |= (other_first != first) | (other_end != end)
    (xmin, xmax), (ymin, ymax) = spans
    back = np.column_stack((xmin - 1, ymin - 1, xmax, ymax))
    # the reference: a box's own edges (exact); a polygon's declared box (right and bottom within the slack)
    error = np.zeros((rows.size, 4))
    error[:, 2:] = np.where((kind == POLYGON)[:, None], slack, 0.0)
    same, same_open = _same_edges(back, box, error)
    largest = error.max(axis=1)
    near, near_open = _at_most(np.abs(back - box).max(axis=1), _TOLERANCE_PX, 2 * largest)
    overlap, iou_open = _iou(back, box, largest)
    changed = ~declared | (~same & ~near & (overlap < _TOLERANCE_IOU))
    open_ |= declared & (same_open | (~same & (near_open | (~near & iou_open))))
    fate = np.where(changed, np.where(kind == BOX, BOX_ROUNDED, SHAPE_AS_BOX), WROTE).astype(np.uint8)
    fate[open_] = DELEGATED
    return fate, np.column_stack((xmin, ymin, xmax, ymax)).astype(np.int64)


def _ring_bounds(table: Table, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(min, max)`` of every point of each row's rings (``Polygon.bounds``), as (k, 2) arrays."""
    if not rows.size:
        return np.zeros((0, 2)), np.zeros((0, 2))
    rings = table.rings
    first = rings.ring_offsets[rings.row_rings[rows]]
    counts = rings.ring_offsets[rings.row_rings[rows + 1]] - first
    points = rings.coords[ranges(first, counts)]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return np.minimum.reduceat(points, starts, axis=0), np.maximum.reduceat(points, starts, axis=0)


def _at_most(value: np.ndarray, limit: float | np.ndarray, margin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``value <= limit``, and where a value within ``margin`` of the one computed could answer otherwise."""
    return value <= limit, (margin > 0) & (np.abs(value - limit) <= margin)


def _same_edges(back: np.ndarray, reference: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`.bndbox.same_edges` of every row (``math.isclose``'s own tests, so exact where ``error`` is 0), and
    where an edge within ``error`` of the reference could answer otherwise."""
    difference = np.abs(reference - back)
    tolerance = np.maximum(np.maximum(np.abs(1e-12 * reference), np.abs(1e-12 * back)), 1e-9)
    close, open_ = _at_most(difference, tolerance, 2 * error)
    return (close | (back == reference)).all(axis=1), open_.any(axis=1)


def _iou(a: np.ndarray, b: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``compare._box_iou`` of every row (its operations, so exact where ``error`` is 0), and where the IoU with a
    box whose right and bottom edges lie within ``error`` of ``b``'s could fall on the other side of verify's
    threshold: it moves by at most 3e(W + H + e) / (U - 2e(W + H + e)) (U the union, W and H the widths)."""
    width = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    height = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.maximum(width, 0.0) * np.maximum(height, 0.0)
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        overlap = inter / union
        span = np.maximum(np.abs(a[:, 2:] - a[:, :2]), np.abs(b[:, 2:] - b[:, :2])).sum(axis=1) + error
        room = union - 2 * error * span
        margin = np.where(error > 0, 3 * error * span / room + 1e-12, 0.0)
    open_ = ~(union > 0) | ((error > 0) & ~(room > 0)) | _at_most(overlap, _TOLERANCE_IOU, margin)[1]
    return overlap, open_
