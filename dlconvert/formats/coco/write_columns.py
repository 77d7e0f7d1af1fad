"""Writing COCO from a :class:`~dlconvert.table.Table`: the records of boxes and polygons from the columns.

The same files, bytes and report as the object writer (:mod:`.writer`) — the table path is its fast
form, held to it by ``tests/test_columnar_coco.py`` — and the same code wherever it can be: each
range of items (on forked workers, :func:`dlconvert.parallel.map_shared`) fills the object writer's
own :class:`~.writer._Writer` — its image records, its :meth:`~.writer._Writer.finish_record` (ids, what
the source kept, attributes) — and the ranges are joined and written by its :func:`~.writer.finish`.
What the columns settle is a box's or a polygon's geometry fields: bounds, degenerate and finite
checks as arrays, the even-odd area of every polygon by shapely's array functions (the very GEOS
calls :meth:`Polygon.to_shapely <dlconvert.geometry.Polygon.to_shapely>` makes, in the same order, so
the same bits). A row with more to say — a mask, a classification, a degenerate or overflowing shape,
a polygon whose rings touch or nest (written as a mask), a row its reader left to the object code —
goes through the object writer's per-annotation code with its annotation built on demand
(:meth:`Table.annotations_of`), so every message is that code's.

The tables of two readers are written: a Dataloop export's (its :class:`~.._dataloop_read_table.SourceJSON`),
read range by range in the workers (:class:`~.._dataloop_read_table.ItemFiles`), and a COCO file's (its
:class:`~.kept.KeptJSON`: COCO → COCO), read whole before. None — the object path runs — for any other
table, a pinned label map, an item without a file name or whose size is found nowhere, a range of
Dataloop files only the object reader reads exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...collection import AnnotationCollection
from ...errors import InvalidAnnotationError
from ...geometry import Segmentation
from ...images import ImageLookup
from ...parallel import frozen_for_gc, map_shared
from ...table import BOX, KEPT_JSON, POLYGON, offsets, ranges
from .._dataloop_read_table import SOURCE_JSON, ItemFiles
from .._fingerprint import fingerprint, geometry_fingerprint, rings_fingerprint, still_matches
from .shapes import _rings_overlap
from .source import BOX_SEGMENTATION_KEY, GEOMETRY_KEY
from .writer import _Writer, finish

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...dataset import ConvertOptions, ShardOutput
    from ...labels import LabelMap
    from ...report import ConversionReport
    from ...table import Table

__all__ = ["write_table"]

#: A polygon this close to _rings_overlap's threshold, relative to the sum of its rings' points × their largest
#: coordinate², is decided by that code: two shoelace sums differ by ~1e-16 of that (rounding), far less.
_OVERLAP_MARGIN = 1e-12
#: Rows with more rings are left to GEOS rather than compared ring by ring.
_MOST_RINGS_COMPARED = 12


def write_table(table: Table | ItemFiles, dst: Path, options: ConvertOptions, report: ConversionReport, *,
                workers: int = 1, progress: Callable | None = None) -> list[Path] | None:
    """Write ``coco.json``, ``coco_ids.json`` and ``labelmap.json`` of ``table`` under ``dst`` as the object writer
    would, the items cut into ranges over ``workers`` processes; None when it cannot (see the module docstring)."""
    if options.labels is not None:
        return None
    if isinstance(table, ItemFiles):  # an item without a size takes its image's: found as the object writer finds it
        source, images_root, image_roots = None, table.source_plan.images_root, table.source_plan.image_roots
    else:
        source, images_root, image_roots = _source(table), None, ()
        if source is None or table.rings is None:
            return None
    meta = _Meta(table.label_map, options.images or images_root, image_roots)
    job = _Job(table, source, options, report.blank(), meta)
    with frozen_for_gc():  # a table stays out of the collector's scans, shared by the workers
        shards: list[ShardOutput] = []
        reports: list[ConversionReport] = []
        for done in map_shared(job, _write_items, table.item_count, workers=workers, progress=progress):
            if done is None:
                return None
            reports.append(done[0])
            shards.append(done[1].unpacked())
    for part in reports:
        report.merge(part)
    return finish(shards, meta, Path(dst), options, report)


@dataclass
class _Meta:
    """What the object writer asks of a dataset: its label map and where its images are."""

    labels: LabelMap
    images_root: Any
    image_roots: tuple


@dataclass
class _Job:
    """What every range of items needs (shared with forked workers, never sent)."""

    table: Table | ItemFiles
    source: Any  # _Coco for a COCO table; None for ItemFiles (each range's table has its _Dataloop)
    options: ConvertOptions
    report: ConversionReport  # a blank report of this conversion, for each range to fill
    meta: _Meta


class _Dataloop:
    """A Dataloop export's table: each row's id, kept COCO fields and attributes as the object reader reads them."""

    def __init__(self, table: Table) -> None:
        self.json = table.extras[SOURCE_JSON]

    def collection(self, table: Table, item: int) -> AnnotationCollection:
        return self.json.collections[item]

    def delegated(self, table: Table, row: int) -> bool:
        return bool(self.json.delegated[row])

    def row(self, table: Table, row: int, shape: Callable[[], str], own_rings: bool) -> tuple[Any, dict, dict]:
        return self.json.ids[row], self.json.kept[row], self.json.attributes[row]

    def annotation(self, table: Table, row: int, own_rings: bool) -> Annotation:
        return table.annotations_of(row)[0]


class _Coco:
    """A COCO file's table: what its object reader keeps of each record (:class:`~.kept.KeptJSON`)."""

    def __init__(self, table: Table) -> None:
        self.kept = table.extras[KEPT_JSON]
        self.kept.prepare()

    def collection(self, table: Table, item: int) -> AnnotationCollection:
        return AnnotationCollection.from_json(self.kept.item_json(item), path=table.origin)

    def delegated(self, table: Table, row: int) -> bool:
        return False

    def row(self, table: Table, row: int, shape: Callable[[], str], own_rings: bool) -> tuple[Any, dict, dict]:
        metadata, attributes = self.kept.metadata(int(table.kind[row]), row, shape(), own_rings)
        return None, metadata["user"]["coco"], attributes

    def annotation(self, table: Table, row: int, own_rings: bool) -> Annotation:
        """The row's annotation, with what the object reader keeps of its record as that reader keeps it (the
        view decodes the record's numbers typed: ``2`` as ``2.0``)."""
        annotation = table.annotations_of(row)[0]
        metadata, attributes = self.kept.metadata(int(table.kind[row]), row,
                                                  geometry_fingerprint(annotation.annotation_definition), own_rings)
        annotation.metadata = metadata
        annotation.attributes = attributes
        return annotation


def _source(table: Table) -> _Coco | None:
    return _Coco(table) if KEPT_JSON in table.extras else None


def _write_items(job: _Job, first: int, stop: int) -> tuple[ConversionReport, _RingsApart] | None:
    """Items ``first:stop`` as the object writer's shard (and what they count as read); None when one is left to
    the object path."""
    table, source, report = job.table, job.source, job.report.blank()
    if isinstance(table, ItemFiles):  # the range's files are read here, into a table of its own
        table = table.read(first, stop)
        if table is None:
            return None
        source, first, stop = _Dataloop(table), 0, table.item_count
    part = table.slice(first, stop)  # its rings parsed for this range alone
    part.count_read(report)
    writer = _Writer(job.meta.labels.copy(), job.options, report, ImageLookup.for_source(job.options.images, job.meta))
    start, end = int(table.item_rows[first]), int(table.item_rows[stop])
    shapes = _Shapes(part)
    facts = _facts(table, source, shapes, start, end)
    shapes.settle(np.array([fact is not None and fact[3] and "area" in fact[1] for fact in facts], dtype=bool))
    types, labels = table.type_names(), table.labels
    polygon_records: list[int] = []  # the records whose rings are views of the range's coordinates
    for item in range(first, stop):
        collection = source.collection(table, item)
        if not (collection.filename or collection.name or "").strip("/"):
            return None
        width, height = int(table.width[item]), int(table.height[item])
        if width <= 0 or height <= 0:
            width, height = writer._size(collection)
            if not (width and height):
                return None
        image_index = writer.add_image(collection, width, height)
        report.items_out += 1
        for row in range(int(table.item_rows[item]), int(table.item_rows[item + 1])):
            fact = facts[row - start]
            record = None if fact is None else shapes.record(row - start)
            if record is None:
                annotation = source.annotation(table, row, shapes.rings.has_rings(row - start))
                if not _decodes(annotation):
                    return None  # a mask whose PNG does not decode: the object path reports it where it was read
                writer.add_annotation(collection, annotation, image_index, width, height)
                continue
            identity, kept, attributes, unchanged = fact
            type_name, label = types[row], labels[table.label[row]]
            if table.kind[row] == BOX and BOX_SEGMENTATION_KEY in kept:  # a box record without a polygon of its own
                if kept[BOX_SEGMENTATION_KEY] == "absent":
                    del record["segmentation"]
                else:
                    record["segmentation"] = kept[BOX_SEGMENTATION_KEY]
            writer.finish_record(record, label, kept, unchanged, attributes, image_index,
                                 {"annotation_id": identity, "item_id": collection.item_id, "type": type_name})
            if table.kind[row] == POLYGON:
                polygon_records.append(len(writer.records) - 1)
            report.annotations_out[type_name] += 1
            report.labels_out[label] += 1
    return report, _RingsApart.pack(writer.shard(), polygon_records)


@dataclass
class _RingsApart:
    """A range's records with their polygons' rings taken out into one array (which travels between processes in
    one piece, where a float object each made up most of what the main process unpickled); :meth:`unpacked`
    puts back in each record a view per ring, which :func:`dlconvert._json.dumps` writes as the list it was."""

    shard: ShardOutput
    records: np.ndarray  # which records had their rings taken out
    ring_counts: np.ndarray  # rings per record
    ring_sizes: np.ndarray  # numbers per ring
    numbers: np.ndarray  # every ring's x, y, x, y … in a row

    @classmethod
    def pack(cls, shard: ShardOutput, records: list[int]) -> _RingsApart:
        written = shard.state[1]
        rings = [ring for index in records for ring in written[index]["segmentation"]]
        apart = cls(shard, np.array(records, dtype=np.int64),
                    np.array([len(written[index]["segmentation"]) for index in records], dtype=np.int64),
                    np.array([ring.size for ring in rings], dtype=np.int64),
                    np.concatenate(rings) if rings else np.zeros(0))
        for index in records:
            written[index]["segmentation"] = None
        return apart

    def unpacked(self) -> ShardOutput:
        written, starts = self.shard.state[1], offsets(self.ring_sizes).tolist()
        numbers, ring = self.numbers, 0
        for index, count in zip(self.records.tolist(), self.ring_counts.tolist(), strict=True):
            written[index]["segmentation"] = [numbers[starts[i]:starts[i + 1]] for i in range(ring, ring + count)]
            ring += count
        return self.shard


def _facts(table: Table, source, shapes: _Shapes, start: int, end: int) -> list[tuple | None]:
    """Each box or polygon row's ``(annotation id, kept COCO fields, attributes, shape unchanged)`` (None for the
    rows left to the object code)."""
    facts: list[tuple | None] = []
    kind = table.kind
    for row in range(start, end):
        if kind[row] not in (BOX, POLYGON) or source.delegated(table, row):
            facts.append(None)
            continue
        local = row - start
        identity, kept, attributes = source.row(table, row, lambda local=local: shapes.fingerprint(local),
                                                shapes.rings.has_rings(local))
        unchanged = GEOMETRY_KEY in kept and still_matches(kept, GEOMETRY_KEY, shapes.fingerprint(local))
        facts.append((identity, kept, attributes, unchanged))
    return facts


def _decodes(annotation: Annotation) -> bool:
    """Whether a mask's pixels decode (the object path reports one that does not as it reads it)."""
    definition = annotation.annotation_definition
    if not isinstance(definition, Segmentation):
        return True
    try:
        definition._decode()
    except InvalidAnnotationError:
        return False
    return True


class _Shapes:
    """The geometry fields of a range's box and polygon rows, decided as arrays (see the module docstring)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rings = table.rings
        self.fast = np.zeros(table.row_count, dtype=bool)
        self.area = np.zeros(table.row_count)
        self.box = table.box.copy()
        rings = self.rings
        for row in np.flatnonzero((table.kind == BOX) & (rings.ring_count() > 0)).tolist():
            xs, ys = rings.ring(int(rings.row_rings[row])).T.tolist()  # a COCO rectangle read as a box: its corners,
            self.box[row] = (min(xs), min(ys), max(xs), max(ys))  # by Python's min (of 0.0 and -0.0, the first)
        self.bounds = self.box.copy()
        self._fingerprints: dict[int, str] = {}
        self._listed: dict[int, list[np.ndarray]] = {}  # each polygon row's rings, listed once

    def settle(self, area_given: np.ndarray) -> None:
        """Decide every row; ``area_given``: rows whose written area is the source's (their shape unchanged), so
        that only whether their rings overlap matters, not the bits of their area."""
        self._boxes(self.table.kind == BOX)
        self._polygons(np.flatnonzero(self.table.kind == POLYGON), area_given)

    def _boxes(self, rows: np.ndarray) -> None:
        left, top, right, bottom = self.box.T
        with np.errstate(over="ignore", invalid="ignore"):
            width, height = right - left, bottom - top
            area = width * height
            self.fast |= rows & (width > 0) & (height > 0) & np.isfinite(area) & np.isfinite(width) \
                & np.isfinite(height)
        self.area[rows] = area[rows]

    def _polygons(self, rows: np.ndarray, area_given: np.ndarray) -> None:
        """Polygons with rings of 3 points or more, one of clear area, whose even-odd shape is finite and not
        holes (their rings neither touch nor nest)."""
        import shapely

        rings = self.rings
        facts = rings.facts()
        candidates = rows[~facts.doubtful()[rows]]
        if not candidates.size:
            return
        count = rings.ring_count()[candidates]
        ring_index = rings.row_rings[candidates].repeat(count) + _within(count)
        ring_sizes = np.diff(rings.ring_offsets)[ring_index]
        coords = rings.coords[ranges(rings.ring_offsets[ring_index], ring_sizes)]
        ring_area, ring_scale = facts.ring_area[ring_index], facts.ring_scale[ring_index]
        polygons = shapely.polygons(shapely.linearrings(coords, indices=np.repeat(np.arange(ring_index.size),
                                                                                  ring_sizes)))
        first_ring = offsets(count)[:-1]  # each row's first ring in ``ring_index``
        ring_start = offsets(ring_sizes)[:-1]  # each ring's first point in ``coords``
        with np.errstate(over="ignore", invalid="ignore"):
            ring_low, ring_high = np.minimum.reduceat(coords, ring_start), np.maximum.reduceat(coords, ring_start)
            low = np.minimum.reduceat(ring_low, first_ring)
            high = np.maximum.reduceat(ring_high, first_ring)
            total = np.add.reduceat(ring_area, first_ring)
            magnitude = np.add.reduceat(ring_sizes * ring_scale ** 2, first_ring)
        # Rows whose area is the source's need no GEOS area: one ring (no holes to look for), or valid rings whose
        # boxes lie apart (no holes); their shoelace total says whether the area is finite.
        given = area_given[candidates] & (magnitude < 1e200)
        apart = _apart(np.column_stack((ring_low, ring_high)), first_ring, count, (count > 1) & given)
        checked = np.repeat(apart, count)
        valid_rings = np.ones(ring_index.size, dtype=bool)
        valid_rings[checked] = shapely.is_valid(polygons[checked])
        apart &= np.logical_and.reduceat(valid_rings, first_ring)
        apart |= (count == 1) & given
        area = total.copy()
        shapes = np.empty(candidates.size, dtype=object)
        single = (count == 1) & ~apart
        alone = polygons[first_ring[single]]
        valid = shapely.is_valid(alone)  # a valid single ring is its own even-odd shape (shapes._simple_ring)
        simple = np.zeros(candidates.size, dtype=bool)
        simple[np.flatnonzero(single)[valid]] = True
        shapes[simple] = alone[valid]
        folded = ~simple & ~apart
        shapes[folded] = _even_odd(polygons, first_ring[folded], count[folded])
        area[~apart] = shapely.area(shapes[~apart])
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(area) & np.isfinite(high - low).all(axis=1)
            gap = np.abs(total - area) - 1e-6 * np.maximum(1.0, total)  # > 0: _rings_overlap says they overlap
        several = (count > 1) & finite & ~apart
        fast = finite & ~(several & (gap > 0))
        close = several & (np.abs(gap) <= _OVERLAP_MARGIN * np.maximum(1.0, magnitude))
        for position in np.flatnonzero(close).tolist():  # too close to call by the arrays: _rings_overlap decides
            fast[position] = not _rings_overlap(rings.rings_of(int(candidates[position])), shapes[position])
        self.fast[candidates] = fast
        self.area[candidates] = area
        self.bounds[candidates] = np.column_stack((low, high))

    def record(self, row: int) -> dict | None:
        """A fast row's geometry fields as :class:`~.shapes.ShapeWriter` builds them; None for another row."""
        if not self.fast[row]:
            return None
        left, top, right, bottom = self.bounds[row].tolist()
        bbox = [left, top, right - left, bottom - top]
        if self.table.kind[row] == BOX:
            return {"segmentation": [[left, top, right, top, right, bottom, left, bottom]],
                    "area": float(self.area[row]), "bbox": bbox, "iscrowd": 0}
        return {"segmentation": [ring.reshape(-1) for ring in self._rings_of(row)],  # views: see _RingsApart
                "area": float(self.area[row]), "bbox": bbox, "iscrowd": 0}

    def fingerprint(self, row: int) -> str:
        """The row's :func:`~dlconvert.formats._fingerprint.geometry_fingerprint` (computed once)."""
        found = self._fingerprints.get(row)
        if found is None:
            if self.table.kind[row] == BOX:
                found = fingerprint("box", (*self.box[row].tolist(), 0))
            else:
                found = rings_fingerprint(self._rings_of(row))
            self._fingerprints[row] = found
        return found

    def _rings_of(self, row: int) -> list[np.ndarray]:
        """The row's rings (views of the range's coordinates), listed once for its fingerprint and its record."""
        found = self._listed.get(row)
        if found is None:
            found = self._listed[row] = self.rings.rings_of(row)
        return found


def _within(count: np.ndarray) -> np.ndarray:
    """``concatenate([arange(c) for c in count])``."""
    return ranges(np.zeros(count.size, dtype=np.int64), count)


def _apart(ring_bounds: np.ndarray, first: np.ndarray, count: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Which ``chosen`` rows (rings ``first:first + count`` of ``ring_bounds``: left, top, right, bottom) have rings
    whose boxes are pairwise disjoint: such rings neither touch nor nest, so valid ones are not holes."""
    apart = chosen & (count <= _MOST_RINGS_COMPARED)
    for i in range(int(count[apart].max(initial=0))):
        for j in range(i + 1, int(count[apart].max(initial=0))):
            rows = np.flatnonzero(apart & (count > j))
            a, b = ring_bounds[first[rows] + i], ring_bounds[first[rows] + j]
            meet = (a[:, 0] <= b[:, 2]) & (b[:, 0] <= a[:, 2]) & (a[:, 1] <= b[:, 3]) & (b[:, 1] <= a[:, 3])
            apart[rows[meet]] = False
    return apart


def _even_odd(polygons: np.ndarray, first: np.ndarray, count: np.ndarray) -> np.ndarray:
    """:meth:`Polygon.to_shapely` of each row (its rings ``polygons[first:first + count]``): every ring made
    valid, folded by symmetric difference from an empty polygon, ring by ring — the same GEOS calls."""
    import shapely

    shapes = np.full(first.size, shapely.Polygon(), dtype=object)
    for step in range(int(count.max(initial=0))):
        rows = np.flatnonzero(count > step)
        shapes[rows] = shapely.symmetric_difference(shapes[rows], shapely.make_valid(polygons[first[rows] + step]))
    return shapes


