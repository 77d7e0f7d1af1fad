"""Exact fills of many shapes at once, as row spans; and the picture they make when drawn in order.

The pixel rule is the renderer's (:func:`~dlconvert.render.raster.fill_rings`, which samples with
:func:`~dlconvert.geometry.masks.rasterize_rings`): pixel (r, c) belongs to a shape when its centre
(c + ½, r + ½) is inside, its rings combined even-odd. Here it is applied to every ring of a whole
chunk of items in one pass, with the very same floating-point operations on the same numbers —
each shape in its own window, placed as ``fill_rings`` places it — so the pixels are, bit for bit,
those of the per-shape code (``tests/test_render_columnar.py`` holds the two to it). A shape's
pixels come out as spans ``[start, stop)`` of canvas rows, never as a mask.

:func:`stack` then draws spans in order as the renderer pastes shapes (a later shape covers an earlier
one) without a canvas: each item's flat canvas is cut into runs of one topmost shape (or none), cut at
every row's start too (the runs a PNG row is made of), which also give the overlapping pixels (each pixel
counted once per shape under the topmost one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..table import ranges

__all__ = ["Layers", "Spans", "fill_spans", "mask_spans", "stack"]

_MARGIN = 1.0  # fill_rings' window margin (raster._window)


@dataclass
class Spans:
    """Pixels of shapes: shape ``owner[i]`` covers row ``row[i]``, columns ``start[i]:stop[i]`` (canvas
    coordinates, ``stop > start``)."""

    owner: np.ndarray
    row: np.ndarray
    start: np.ndarray
    stop: np.ndarray

    @classmethod
    def empty(cls) -> Spans:
        zeros = np.zeros(0, dtype=np.int64)
        return cls(zeros, zeros, zeros, zeros)

    @classmethod
    def concatenate(cls, parts: list[Spans]) -> Spans:
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("owner", "row", "start", "stop")))

    def take(self, chosen: np.ndarray) -> Spans:
        return Spans(self.owner[chosen], self.row[chosen], self.start[chosen], self.stop[chosen])


def fill_spans(coords: np.ndarray, ring_offsets: np.ndarray, ring_owner: np.ndarray, heights: np.ndarray,
               widths: np.ndarray) -> Spans:
    """The pixels of every shape, each the rings ``owner == shape`` filled even-odd on a canvas of
    ``heights[shape]`` × ``widths[shape]`` (rings of fewer than 3 points left out, as ``fill_rings`` does).

    ``coords`` (k, 2) float64, ring i = ``coords[ring_offsets[i]:ring_offsets[i + 1]]``, owned by
    ``ring_owner[i]`` (an index into ``heights``/``widths``).
    """
    sizes = np.diff(ring_offsets)
    usable = np.flatnonzero(sizes >= 3)
    if not usable.size:
        return Spans.empty()
    sizes = sizes[usable]
    points = coords[ranges(ring_offsets[usable], sizes)]
    point_owner = np.repeat(ring_owner[usable], sizes)
    x0, y0, x1, y1 = _windows(points, point_owner, heights, widths)
    inside = (x1 > x0) & (y1 > y0)  # a shape whose window is empty covers nothing (fill_rings: None)
    x1, y1 = np.where(inside, x1, x0), np.where(inside, y1, y0)
    kept_points = inside[point_owner]
    ring_kept = inside[ring_owner[usable]]
    sizes = sizes[ring_kept]
    points, point_owner = points[kept_points], point_owner[kept_points]
    if not sizes.size:
        return Spans.empty()
    # the window's own coordinates, as fill_rings hands them to rasterize_rings: ``ring - offset``
    offset = np.column_stack((x0, y0)).astype(np.float64)
    local = points - offset[point_owner]
    window_h, window_w = (y1 - y0).astype(np.float64), (x1 - x0).astype(np.float64)
    return _crossing_spans(local, sizes, point_owner, window_h, window_w, x0, y0)


def _windows(points: np.ndarray, owner: np.ndarray, heights: np.ndarray, widths: np.ndarray):
    """Each shape's window ``x0, y0, x1, y1`` (int64) as ``raster._window`` computes it (margin 1), clipped to
    its canvas; empty (x1 <= x0 or y1 <= y0) where the shape misses the canvas or has no usable ring."""
    count = heights.size
    order = np.argsort(owner, kind="stable")
    sorted_owner = owner[order]
    firsts = np.flatnonzero(np.concatenate(([True], sorted_owner[1:] != sorted_owner[:-1])))
    present = sorted_owner[firsts]
    xs, ys = points[order, 0], points[order, 1]
    low_x, low_y = np.full(count, np.inf), np.full(count, np.inf)
    high_x, high_y = np.full(count, -np.inf), np.full(count, -np.inf)
    low_x[present], low_y[present] = np.minimum.reduceat(xs, firsts), np.minimum.reduceat(ys, firsts)
    high_x[present], high_y[present] = np.maximum.reduceat(xs, firsts), np.maximum.reduceat(ys, firsts)
    width, height = widths.astype(np.float64), heights.astype(np.float64)
    with np.errstate(invalid="ignore"):  # shapes without points: inf - inf; their window is empty below
        # max(floor(min - margin), 0) and min(ceil(max + margin) + 1, size), clipped into [0, size] first so
        # that no coordinate overflows an integer (the windows that clipping changes are empty either way)
        x0 = np.clip(np.floor(low_x - _MARGIN), 0, width)
        y0 = np.clip(np.floor(low_y - _MARGIN), 0, height)
        x1 = np.clip(np.ceil(high_x + _MARGIN) + 1, 0, width)
        y1 = np.clip(np.ceil(high_y + _MARGIN) + 1, 0, height)
    missing = np.ones(count, dtype=bool)
    missing[present] = False
    for array in (x0, y0, x1, y1):
        array[missing] = 0
    return x0.astype(np.int64), y0.astype(np.int64), x1.astype(np.int64), y1.astype(np.int64)


def _crossing_spans(local: np.ndarray, sizes: np.ndarray, owner: np.ndarray, window_h: np.ndarray,
                    window_w: np.ndarray, x0: np.ndarray, y0: np.ndarray) -> Spans:
    """``rasterize_rings`` on every ring at once: where each edge crosses each row of pixel centres (half-open in
    y, so a vertex on a row counts once), then, per shape and row, the sorted crossings paired into spans."""
    count = local.shape[0]
    ends = np.cumsum(sizes)
    following = np.arange(1, count + 1)
    following[ends - 1] = ends - sizes  # each ring's last point joins its first
    xa, ya = local[:, 0], local[:, 1]
    xb, yb = xa[following], ya[following]
    height = window_h[owner]
    first = np.ceil(np.minimum(ya, yb) - 0.5).clip(0, height)
    counts = (np.ceil(np.maximum(ya, yb) - 0.5).clip(0, height) - first).astype(np.int64)
    total = int(counts.sum())
    if not total:
        return Spans.empty()
    edge = np.repeat(np.arange(count), counts)
    starts = np.cumsum(counts) - counts
    row = first[edge] + (np.arange(total) - starts[edge])
    t = (row + 0.5 - ya[edge]) / (yb[edge] - ya[edge])
    x = xa[edge] + t * (xb[edge] - xa[edge])
    crossing_owner = owner[edge]
    col = np.ceil(x - 0.5).clip(0, window_w[crossing_owner]).astype(np.int64)
    # sort by (shape, row, column): one integer key; every (shape, row) has an even number of crossings
    row_base = np.concatenate(([0], np.cumsum(window_h.astype(np.int64))))
    stride = int(window_w.max()) + 1
    key = np.sort((row_base[crossing_owner] + row.astype(np.int64)) * stride + col)
    line, col = np.divmod(key, stride)
    start, stop, line = col[0::2], col[1::2], line[0::2]
    filled = stop > start
    line, start, stop = line[filled], start[filled], stop[filled]
    span_owner = np.searchsorted(row_base, line, side="right") - 1
    shift_x = x0[span_owner]
    return Spans(span_owner, line - row_base[span_owner] + y0[span_owner], start + shift_x, stop + shift_x)


def mask_spans(mask: np.ndarray, owner: int) -> Spans:
    """The pixels of a bool mask as spans of ``owner``."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not rows.size:
        return Spans.empty()
    top, bottom = int(rows[0]), int(rows[-1]) + 1
    columns = np.flatnonzero(mask[top:bottom].any(axis=0))
    left, right = int(columns[0]), int(columns[-1]) + 1
    padded = np.zeros((bottom - top, right - left + 2), dtype=bool)  # the mask's box, a column of 0 each side
    padded[:, 1:-1] = mask[top:bottom, left:right]
    rows, cols = np.nonzero(padded[:, 1:] != padded[:, :-1])  # row by row: a run's start, then its stop
    return Spans(np.full(rows.size // 2, owner, dtype=np.int64), rows[0::2].astype(np.int64) + top,
                 cols[0::2].astype(np.int64) + left, cols[1::2].astype(np.int64) + left)


@dataclass
class Layers:
    """Shapes drawn in order on the flat canvases of several items, cut at every row's start: run ``k`` covers
    flat pixels ``bounds[k]:bounds[k + 1]`` with shape ``top[k]`` topmost (-1: background) and ``depth[k]``
    shapes in all; item ``i``'s runs are ``item_runs[i]:item_runs[i + 1]``."""

    bounds: np.ndarray
    top: np.ndarray
    depth: np.ndarray
    item_runs: np.ndarray

    def starts(self) -> np.ndarray:
        """Each run's first pixel in its item's canvas."""
        first = self.item_runs[:-1]
        return self.bounds[:-1] - np.repeat(self.bounds[first], np.diff(self.item_runs))

    def overlap_pixels(self) -> np.ndarray:
        """Per item, pixels painted again, counted once for each shape that covers an earlier one
        (``Coverage.paste``)."""
        extra = np.maximum(self.depth - 1, 0) * np.diff(self.bounds)
        return np.add.reduceat(extra, self.item_runs[:-1]) if extra.size else np.zeros(0, dtype=np.int64)


def stack(spans: Spans, shape_item: np.ndarray, heights: np.ndarray, widths: np.ndarray) -> Layers:
    """Draw ``spans`` of shapes in shape order (a larger shape index is drawn later) on the flat canvas of
    each shape's item ``shape_item[shape]``; items ``heights.size``, canvases ``heights[i]`` × ``widths[i]``."""
    heights, widths = heights.astype(np.int64), widths.astype(np.int64)
    base = np.concatenate(([0], np.cumsum(heights * widths)))
    item = shape_item[spans.owner]
    line = base[item] + spans.row * widths[item]
    begin, end = line + spans.start, line + spans.stop
    row_item = np.repeat(np.arange(heights.size), heights)
    rows = base[row_item] + ranges(np.zeros(heights.size, dtype=np.int64), heights) * widths[row_item]
    bounds = _sorted_unique(np.concatenate((begin, end, rows, base[-1:])))
    first, last = np.searchsorted(bounds, begin), np.searchsorted(bounds, end)
    runs = bounds.size - 1
    covered = ranges(first, last - first)
    drawn = np.repeat(spans.owner, last - first)
    top = np.full(runs, -1, dtype=np.int64)
    np.maximum.at(top, covered, drawn)
    depth = np.bincount(covered, minlength=runs)
    return Layers(bounds, top, depth, np.searchsorted(bounds, base))


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of integers by sorting (numpy's hashing unique is several times slower here)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values
