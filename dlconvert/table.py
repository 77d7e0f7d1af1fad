"""The columnar hub of bulk conversions: a dataset as arrays, one row per annotation.

Bulk jobs (COCO → YOLO, a whole dataset rendered …) spend their time per annotation; building a
few Python objects per annotation is what made them slow. A reader that can fills a
:class:`Table` instead — whole columns at once — and a writer that can consumes it, formatting
whole arrays; neither builds an annotation object. The SDK-shaped classes
(:class:`~dlconvert.collection.AnnotationCollection`, :class:`~dlconvert.annotation.Annotation`)
stay the Python API and the path of everything else: hooks, formats without a columnar reader or
writer, and the rows a columnar writer cannot settle by itself, which it hands to the format's
per-annotation code through :meth:`Table.annotations_of` (the row's view, built on demand).

Layout (``n`` items, ``m`` annotation rows, rows grouped by item, in source order within an item)::

    items            filename (list of "/remote/path.jpg"), width, height (int64, -1 unknown)
    item_rows        int64 (n + 1): the rows of item i are item_rows[i]:item_rows[i + 1]
    kind             uint8 (m): BOX, POLYGON, MASK, CLASS (see KINDS)
    label            int32 (m): index into ``labels`` (the names, as the model labels them)
    box              float64 (m, 4): left, top, right, bottom — a box's own edges; for a polygon
                     or mask the box its source declared (a COCO ``bbox``), NaN where none
    crowd            bool (m): a COCO crowd region (an ignore region, not an object)
    attributes       bool (m): the row has attributes (a format without a place for them reports it)
    rings            the polygons, ragged (the layout of shapely 2's ``from_ragged_array``):
                     ``coords`` (k, 2) float64, ``ring_offsets`` (r + 1), ``row_rings`` (m + 1):
                     the rings of row j are row_rings[j]:row_rings[j + 1]. A reader may give
                     :class:`LazyRings`: the polygons kept in their source form and parsed when a
                     writer first asks, range by range in the worker that writes those items
                     (``table.slice(a, b).rings``); what parsing finds the columns cannot hold
                     exactly raises :class:`NotExact`, and the job goes the object way

A reader attaches ``view``: a callable giving a row's annotations as the object reader builds them
(the same objects, the same metadata), so a writer can hand a rare row to its per-annotation code
and stay byte-identical to the object path; ``origin`` names the source for errors. A reader whose
items and rows carry more source JSON than the columns model (``metadata.user.<format>``) attaches
``extras[KEPT_JSON]`` (:class:`KeptJSON`), so that the Dataloop JSON writer gives it back byte for byte.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from .geometry.polygon import ring_areas, ring_scales

if TYPE_CHECKING:
    from .annotation import Annotation
    from .labels import LabelMap
    from .report import ConversionReport

__all__ = ["BOX", "CLASS", "KEPT_JSON", "KINDS", "MASK", "POLYGON", "KeptJSON", "LazyRings", "NotExact", "RingDecoder",
           "RingFacts", "Rings", "Table", "offsets", "ranges"]

BOX, POLYGON, MASK, CLASS = 1, 2, 3, 4
#: Kind code → the Dataloop type of the row's annotation.
KINDS = {BOX: "box", POLYGON: "segment", MASK: "binary", CLASS: "class"}
#: ``Table.extras`` key of the reader's :class:`KeptJSON`.
KEPT_JSON = "kept_json"


class KeptJSON(Protocol):
    """What the object reader puts in the Dataloop JSON of the table's items and rows beyond the columns
    (items and rows numbered as in the table the reader made, not in a slice of it)."""

    def prepare(self) -> None:
        """Get ready to answer (called once, before workers are forked)."""

    def item_json(self, item: int) -> dict:
        """The item's JSON as the object reader builds it, its ``annotations`` empty."""

    def metadata(self, kind: int, row: int, shape_fingerprint: str, own_rings: bool) -> tuple[dict, dict]:
        """The row annotation's ``metadata`` as the object reader builds it, and its attributes (``kind``: the row's;
        ``own_rings``: whether it has rings, which a writer knows from the rings of the range it writes)."""

    def mask(self, row: int) -> np.ndarray:
        """A MASK row's pixels (bool, height × width)."""


@dataclass
class RingFacts:
    """The screen table writers run over polygon rows before writing them by arrays: per row, how many rings it
    has (``count``), whether one has fewer than 3 points (``short``), whether one clearly encloses area (``clear``:
    its shoelace area beyond 1e-9 of its largest coordinate squared, so that no float evaluation of it is zero).
    A row in doubt (:meth:`doubtful`) may be degenerate: the format's object code decides it exactly. One rule
    for YOLO, VOC and COCO, which had each written it out. The rings' own measures come along for a writer that
    needs them (COCO's areas)."""

    count: np.ndarray  # int64 (m,)
    short: np.ndarray  # bool (m,)
    clear: np.ndarray  # bool (m,)
    ring_area: np.ndarray  # float64 (r,): each ring's shoelace area, unsigned
    ring_scale: np.ndarray  # float64 (r,): each ring's largest coordinate magnitude

    def doubtful(self) -> np.ndarray:
        """Rows without a ring, with a ring of fewer than 3 points, or without a ring of clear area."""
        return (self.count == 0) | self.short | ~self.clear


@dataclass
class Rings:
    """Polygons as one coordinate array: ring i is ``coords[ring_offsets[i]:ring_offsets[i + 1]]``, and
    row j's rings are ``row_rings[j]:row_rings[j + 1]``."""

    coords: np.ndarray  # (k, 2) float64
    ring_offsets: np.ndarray  # (r + 1,) int64
    row_rings: np.ndarray  # (m + 1,) int64

    def ring_count(self) -> np.ndarray:
        """Rings per row."""
        return np.diff(self.row_rings)

    def facts(self) -> RingFacts:
        """Every row's :class:`RingFacts`, from its points."""
        count = self.ring_count()
        with np.errstate(over="ignore", invalid="ignore"):  # beyond ~1e154 an area is inf or NaN: not clear
            area = np.abs(ring_areas(self.coords, self.ring_offsets))
            scale = ring_scales(self.coords, self.ring_offsets)
            clear = area > 1e-9 * np.maximum(scale, 1.0) ** 2
        short, any_clear = np.zeros(count.size, dtype=bool), np.zeros(count.size, dtype=bool)
        has = count > 0
        starts = self.row_rings[:-1][has]
        if starts.size:  # a row's rings are contiguous
            short[has] = np.logical_or.reduceat(np.diff(self.ring_offsets) < 3, starts)
            any_clear[has] = np.logical_or.reduceat(clear, starts)
        return RingFacts(count, short, any_clear, area, scale)

    def has_rings(self, row: int) -> bool:
        """Whether row ``row`` has a ring (a box may, when its source wrote it as a rectangle)."""
        return bool(self.row_rings[row] != self.row_rings[row + 1])

    def ring(self, index: int) -> np.ndarray:
        return self.coords[self.ring_offsets[index]:self.ring_offsets[index + 1]]

    def rings_of(self, row: int) -> list[np.ndarray]:
        return [self.ring(i) for i in range(self.row_rings[row], self.row_rings[row + 1])]

    def take(self, rows: np.ndarray) -> Rings:
        """The rings of ``rows``, in that order (a permutation or a selection of rows)."""
        rows = np.asarray(rows, dtype=np.int64)
        first, count = self.row_rings[rows], np.diff(self.row_rings)[rows]
        rings = ranges(first, count)
        sizes = np.diff(self.ring_offsets)[rings]
        points = ranges(self.ring_offsets[rings], sizes)
        return Rings(self.coords[points], offsets(sizes), offsets(count))

    def rows(self, start: int, end: int) -> Rings:
        """The rings of rows ``start:end``, renumbered from 0 (views, no copy)."""
        ring_start, ring_end = int(self.row_rings[start]), int(self.row_rings[end])
        point_start = int(self.ring_offsets[ring_start])
        return Rings(self.coords[point_start:int(self.ring_offsets[ring_end])],
                     self.ring_offsets[ring_start:ring_end + 1] - point_start,
                     self.row_rings[start:end + 1] - ring_start)


class NotExact(Exception):
    """A column decoded on demand met what only the object reader reads exactly (a malformed polygon…): the
    job is run again the object way, which says precisely what is wrong. Raised in a worker, it reaches the
    process that started the job like any exception."""


class RingDecoder(Protocol):
    """A reader's polygons, kept in their source form until a writer asks for them."""

    def decode(self, start: int, end: int) -> Rings:
        """The rings of rows ``start:end`` of the table the reader made; :class:`NotExact` when the source
        holds there what the columns do not read exactly."""


class LazyRings(Rings):
    """Rings decoded on first use: the rows' polygons are parsed where they are written — each worker its own
    range of items — not in the process that read the source (the number parsing is most of a reader's work).
    """

    def __init__(self, decoder: RingDecoder, start: int, end: int) -> None:
        self._decoder, self._start, self._end = decoder, start, end
        self._decoded: Rings | None = None

    def _rings(self) -> Rings:
        if self._decoded is None:
            self._decoded = self._decoder.decode(self._start, self._end)
        return self._decoded

    coords = property(lambda self: self._rings().coords)
    ring_offsets = property(lambda self: self._rings().ring_offsets)
    row_rings = property(lambda self: self._rings().row_rings)

    def rows(self, start: int, end: int) -> Rings:
        if self._decoded is not None:
            return self._decoded.rows(start, end)
        return LazyRings(self._decoder, self._start + start, self._start + end)


def offsets(counts: np.ndarray) -> np.ndarray:
    """``[0, c0, c0 + c1, …]`` (int64): where each run of ``counts`` starts and the last one ends."""
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    offsets = np.repeat(starts - (ends - counts), counts)
    return np.arange(total, dtype=np.int64) + offsets


@dataclass
class Table:
    """A dataset as columns (see the module docstring)."""

    filenames: list[str]
    width: np.ndarray
    height: np.ndarray
    item_rows: np.ndarray
    kind: np.ndarray
    label: np.ndarray
    box: np.ndarray
    crowd: np.ndarray
    attributes: np.ndarray
    labels: list[str]
    label_map: LabelMap
    view: Callable[[int], list[Annotation]]  # row → its annotations, built as the object reader builds them
    origin: str | None = None
    rings: Rings | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # reader-specific facts writers may ask for

    @property
    def item_count(self) -> int:
        return len(self.filenames)

    @property
    def row_count(self) -> int:
        return int(self.kind.shape[0])

    def row_item(self) -> np.ndarray:
        """The item index of every row."""
        return np.repeat(np.arange(self.item_count, dtype=np.int64), np.diff(self.item_rows))

    def slice(self, first: int, stop: int) -> Table:
        """Items ``first:stop`` and their rows, as a table of their own (numpy views, no copy)."""
        start, end = int(self.item_rows[first]), int(self.item_rows[stop])
        rings = None if self.rings is None else self.rings.rows(start, end)
        parent_view = self.view
        return Table(
            filenames=self.filenames[first:stop], width=self.width[first:stop], height=self.height[first:stop],
            item_rows=self.item_rows[first:stop + 1] - start, kind=self.kind[start:end], label=self.label[start:end],
            box=self.box[start:end], crowd=self.crowd[start:end], attributes=self.attributes[start:end],
            labels=self.labels, label_map=self.label_map, view=lambda row: parent_view(row + start),
            origin=self.origin, rings=rings, extras=self.extras)

    def count_read(self, report: ConversionReport) -> None:
        """What the object path's ``report.read_item`` counts, for every item at once."""
        report.items_in += self.item_count
        report.annotations_in.update(Counter(self.type_names().tolist()))
        report.labels_in.update(Counter(np.asarray(self.labels, dtype=object)[self.label].tolist()))

    def annotations_of(self, row: int) -> list[Annotation]:
        """The row's annotations as the object reader builds them (a shape; a pose and its points)."""
        return self.view(row)

    def type_names(self) -> np.ndarray:
        """The Dataloop type of every row (object array), for reports."""
        names = np.empty(len(KINDS) + 1, dtype=object)
        for code, name in KINDS.items():
            names[code] = name
        return names[self.kind]
