"""Writing YOLO detect and segment labels from a :class:`~dlconvert.table.Table`: whole columns at once.

The same files, bytes and report as the object writer (:mod:`.writer`, :mod:`.lines`) — the table
path is its fast form — but the lines of ordinary rows are computed and formatted as arrays
(:mod:`dlconvert._text`): a box normalised, clipped and written; a polygon's one ring divided,
clipped and written; rings of a multi-part polygon joined by :func:`.plane.merge_rings`. A row with
anything else to say — attributes, a degenerate shape, a mask, a shape left outside the image —
goes through the object writer's own per-annotation code with its annotations built on demand
(:meth:`Table.annotations_of`), so every message is that code's. Returns None when the job is one
only the object writer does (pose and obb tasks, images copied or linked, a pinned label map).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..._text import fixed_tokens, int_tokens, join_tokens, pad_to
from ...errors import OutputError
from ...geometry import Box
from ...geometry.polygon import ring_areas, signed_area
from ...images import ImageLookup
from ...parallel import map_shared
from ...table import BOX, CLASS, KINDS, MASK, POLYGON, RingFacts
from ...table import ranges as _ranges
from .capabilities import CAPABILITIES, way_of
from .lines import LineWriter
from .plan import Scan, make_plan
from .plane import merge_rings
from .writer import _Writer, is_folder_name, one_pass

if TYPE_CHECKING:
    from ...dataset import ConvertOptions
    from ...report import ConversionReport
    from ...table import Table

__all__ = ["write_table"]

_CROWD = ("yolo.crowd-region", "a COCO crowd region: YOLO has no ignore regions")
_CLIPPED = ("yolo.clipped", "coordinates outside the image were clipped into it")


def write_table(table: Table, dst: Path, options: ConvertOptions, report: ConversionReport, *,
                workers: int = 1, progress: Callable | None = None) -> list[Path] | None:
    """Write the YOLO dataset of ``table`` under ``dst`` as the object writer would, the items cut into
    ranges over ``workers`` processes (:func:`dlconvert.parallel.map_shared`); None when it cannot."""
    if options.images_mode != "none" or options.yolo_task not in (None, "detect", "segment") or options.labels:
        return None
    labels = np.asarray(table.labels, dtype=object)
    dataset = _Meta(table)
    two_pass = not one_pass(dataset, options)
    plan = make_plan(_scan(table, labels) if two_pass else Scan(), table.label_map, options)
    if plan.task not in ("detect", "segment"):
        return None
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    writer = _Writer(plan, dst, options, report, ImageLookup.for_source(None, dataset))
    placed = _targets(writer, table, options)
    if placed is None:
        return None
    types = table.type_names()
    table.count_read(report)
    early = _inverted_boxes(table) if two_pass else np.zeros(table.row_count, dtype=bool)
    for row in np.flatnonzero(early).tolist():  # the object writer reports these before it writes
        _skip_box_early(table, row, types, labels, report)
    job = _Job(table, plan, options, report.blank(), labels, early, placed)
    for shard_report, outputs, sizes, splits in map_shared(job, _write_items, table.item_count, workers=workers,
                                                                   progress=progress):
        report.merge(shard_report)
        writer.outputs.extend(outputs)
        writer.sizes.extend(sizes)
        writer.splits.update(splits)
    return writer.finish()


@dataclass
class _Job:
    """What every range of items needs (shared with forked workers, never sent)."""

    table: Table
    plan: object
    options: ConvertOptions
    report: ConversionReport  # a blank report of this conversion, for each range to fill
    labels: np.ndarray
    early: np.ndarray  # rows reported before the second pass
    placed: list[tuple[str, str, str]]


def _write_items(job: _Job, first: int, stop: int):
    """Items ``first:stop``: their label files written; ``(report, files, sizes, splits)`` for the whole."""
    table = job.table.slice(first, stop)
    report = job.report.blank()
    start, end = int(job.table.item_rows[first]), int(job.table.item_rows[stop])
    text = _Rows(table, job.plan, job.options, report, table.type_names(), job.labels,
                 excluded=job.early[start:end]).lines()
    outputs, sizes, splits = [], [], set()
    for index, (target, split, relative) in enumerate(job.placed[first:stop]):
        with open(target, "wb") as file:
            file.write(text[index])
        outputs.append(target)
        sizes.append((f"images/{split}/{relative}", (int(table.width[index]), int(table.height[index]), 1)))
        splits.add(split)
    report.items_out += len(outputs)
    return report, outputs, sizes, splits


class _Meta:
    """What the object writer asks of a dataset (its label map, where images are)."""

    def __init__(self, table: Table) -> None:
        self.labels = table.label_map
        self.images_root = None
        self.image_roots = ()


def _scan(table: Table, labels: np.ndarray) -> Scan:
    """Pass 1 of the object writer: the tasks the kinds need and the labels they use (crowd regions aside)."""
    scan = Scan()
    counted = ~table.crowd
    for code, name in KINDS.items():
        chosen = counted & (table.kind == code)
        needs = CAPABILITIES[name].needs
        if needs is not None and chosen.any():
            scan.tasks.add(needs)
            scan.used.update(labels[np.unique(table.label[chosen])].tolist())
    return scan


def _targets(writer: _Writer, table: Table, options: ConvertOptions) -> list[tuple[str, str, str]] | None:
    """Each item's ``(label file, split, path under the split)`` (its folder made), as the object writer
    places it; None when one is unsafe or two items share one (the object writer reports those per item).
    Paths are text: a Path per file costs more than the rest of this loop."""
    import posixpath

    split = options.split  # the columnar path's items name no split of their own (place(name, None, split))
    if not is_folder_name(split):
        return None
    relatives = [filename.lstrip("/") for filename in table.filenames]
    labels = [posixpath.splitext(relative)[0] + ".txt" for relative in relatives]
    if "\\" in "".join(labels) or "\x00" in "".join(labels):  # is_folder_name of every file name, at once
        return None
    placed, seen, folders = [], set(), {}
    for relative, label in zip(relatives, labels, strict=True):
        folder_key, _, name = label.rpartition("/")  # (a key of the cache of folders only: posixpath.split is slower)
        folder = folders.get(folder_key)
        try:
            if folder is None:  # the object writer's checks, once per folder
                folder = folders[folder_key] = str(writer._target("labels", split, label).parent)
            elif name in ("", ".", "..") or (len(name) > 255 // 4 and not is_folder_name(name)):
                raise OutputError(f"path {relative!r} would leave the output folder or is no file name")
        except OutputError:
            return None
        target = f"{folder}/{name}"
        if target in seen:
            return None
        seen.add(target)
        placed.append((target, split, relative))
    return placed


def _inverted_boxes(table: Table) -> np.ndarray:
    """Box rows with no area: the two-pass object writer reports them before its second pass."""
    box = table.box
    return (table.kind == BOX) & ((box[:, 2] - box[:, 0] <= 0) | (box[:, 3] - box[:, 1] <= 0))


def _skip_box_early(table: Table, row: int, types, labels, report: ConversionReport) -> None:
    left, top, right, bottom = table.box[row].tolist()
    reason = Box(left=left, top=top, right=right, bottom=bottom).problems()[0]
    report.skip_row(types[row], labels[table.label[row]], "yolo.degenerate-shape", reason,
                    table.filenames[_item_of(table, row)])


def _item_of(table: Table, row: int) -> int:
    return int(np.searchsorted(table.item_rows, row, side="right") - 1)


class _Rows:
    """Every row's fate and line: vectorised for ordinary rows, the object writer's code for the others."""

    def __init__(self, table: Table, plan, options: ConvertOptions, report: ConversionReport, types: np.ndarray,
                 labels: np.ndarray, excluded: np.ndarray) -> None:
        self.table, self.plan, self.report = table, plan, report
        self.types, self.labels = types, labels
        self.precision = options.precision
        self.half_unit = 0.5 * 10.0 ** -options.precision
        self.excluded = excluded
        self.item = table.row_item()
        self.size = np.column_stack((table.width, table.height)).astype(np.float64)[self.item]
        self.classes = np.array([plan.index.get(name, -1) for name in table.labels], dtype=np.int64)
        self.line_writer = LineWriter(plan, options.precision, report)

    def lines(self) -> list[bytes]:
        """The label file bytes of every item, and every row reported as the object writer reports it."""
        table = self.table
        task = self.plan.task
        kind, crowd = table.kind, table.crowd
        active = ~self.excluded
        unsupported = active & (kind == CLASS)
        crowd_skip = active & ~unsupported & crowd & (kind != CLASS)
        candidates = active & ~unsupported & ~crowd_skip
        facts = table.rings.facts() if table.rings is not None else None
        delegate = candidates & (table.attributes | (kind == MASK) | self._maybe_degenerate(facts))
        if task == "detect":
            delegate |= candidates & (kind == POLYGON) & np.isnan(table.box[:, 0])
        else:
            delegate |= candidates & (kind == BOX)
        vectorised = candidates & ~delegate
        self._polygon_rows = vectorised.copy()
        values, clipped, outside = (self._boxes if task == "detect" else self._polygons)(vectorised)
        delegate |= vectorised & outside
        vectorised &= ~outside
        own_lines: dict[int, str | None] = {}
        way_class = way_of("class", task)
        multipart = way_of("segment (several rings)", task)
        several = facts.count > 1 if facts is not None else np.zeros(len(kind), bool)
        for row in np.flatnonzero(unsupported | crowd_skip | delegate | (vectorised & (clipped | several))).tolist():
            item = table.filenames[self.item[row]]
            type_name, label = self.types[row], self.labels[table.label[row]]
            if unsupported[row]:
                self.report.skip_row(type_name, label, way_class.code, way_class.message, item)
            elif crowd_skip[row]:
                self.report.skip_row(type_name, label, *_CROWD, item)
            elif delegate[row]:
                own_lines[row] = self._delegated(row, item)
            else:
                if task == "segment" and several[row]:
                    self.report.approximate_row(type_name, label, multipart.code, multipart.message, item)
                if clipped[row]:
                    self.report.approximate_row(type_name, label, *_CLIPPED, item,
                                                again=bool(task == "segment" and several[row]))
        written = np.flatnonzero(vectorised)
        self.report.annotations_out.update(Counter(self.types[written].tolist()))
        self.report.labels_out.update(Counter(self.labels[table.label[written]].tolist()))
        return self._files(written, values, own_lines)

    # -- the object writer, for rows with more to say ------------------------------------------------
    def _delegated(self, row: int, item: str) -> str | None:
        width, height = (int(v) for v in self.size[row])
        lines = [self.line_writer._shape_line(annotation, width, height, item)
                 for annotation in self.table.annotations_of(row)]
        lines = [line for line in lines if line is not None]
        return "\n".join(lines) if lines else None

    def _maybe_degenerate(self, facts: RingFacts | None) -> np.ndarray:
        """Rows whose shape may be degenerate (checked exactly by the object writer): a polygon in doubt
        (:meth:`RingFacts.doubtful`); a box with no area."""
        out = _inverted_boxes(self.table)
        return out if facts is None else out | ((self.table.kind == POLYGON) & facts.doubtful())

    # -- detect -----------------------------------------------------------------------------------------
    def _boxes(self, rows: np.ndarray):
        """Each row's ``cx cy w h`` (as the object writer computes them), whether clipping changed a digit,
        and whether the box lies outside the image."""
        box, size = self.table.box, self.size
        w, h = size[:, 0], size[:, 1]
        raw = np.column_stack((box[:, 0] / w, box[:, 1] / h, box[:, 2] / w, box[:, 3] / h))
        with np.errstate(invalid="ignore"):
            clip = np.where(raw < 0.0, 0.0, np.where(raw > 1.0, 1.0, raw))
            clipped = (np.abs(clip - raw) > self.half_unit).any(axis=1)
        x0, y0, x1, y1 = clip.T
        with np.errstate(invalid="ignore"):
            outside = rows & ((x1 <= x0) | (y1 <= y0))
        values = np.column_stack(((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0))
        return values, clipped & rows, outside

    # -- segment ----------------------------------------------------------------------------------------
    def _polygons(self, rows: np.ndarray):
        """Each row's points — its ring, or its rings merged as the object writer merges them — normalised and
        clipped (``(points, points per row)`` over ``rows`` in order); whether clipping changed a digit;
        whether the polygon is left without area."""
        table, rings = self.table, self.table.rings
        count = table.row_count
        chosen = np.flatnonzero(rows)
        ring_count = rings.ring_count()[chosen]
        sizes = np.diff(rings.ring_offsets)
        points_per_row = np.zeros(chosen.size, dtype=np.int64)
        single = ring_count == 1
        points_per_row[single] = sizes[rings.row_rings[chosen[single]]]
        merged = [merge_rings(rings.rings_of(row)) for row in chosen[~single].tolist()]
        points_per_row[~single] = [len(m) for m in merged]
        destination = np.concatenate(([0], np.cumsum(points_per_row)))
        points = np.empty((int(destination[-1]), 2))
        first = rings.ring_offsets[rings.row_rings[chosen[single]]]
        points[_ranges(destination[:-1][single], points_per_row[single])] = rings.coords[
            _ranges(first, points_per_row[single])]
        if merged:
            points[_ranges(destination[:-1][~single], points_per_row[~single])] = np.concatenate(merged)
        normal = points / np.repeat(self.size[chosen], points_per_row, axis=0)
        clip = np.clip(normal, 0.0, 1.0)
        changed = (np.abs(clip - normal) > self.half_unit).any(axis=1)
        clipped = np.zeros(count, dtype=bool)
        outside = np.zeros(count, dtype=bool)
        if chosen.size:
            starts = destination[:-1]
            clipped[chosen] = np.logical_or.reduceat(changed, starts) & (points_per_row > 0)
            area = ring_areas(clip, destination)
            suspicious = np.flatnonzero(np.abs(area) <= 1e-9)  # exactly as the object writer decides
            for position in suspicious.tolist():
                ring = clip[destination[position]:destination[position + 1]]
                outside[chosen[position]] = signed_area(ring) == 0
        return (clip, points_per_row), clipped, outside

    # -- files ------------------------------------------------------------------------------------------
    def _files(self, written: np.ndarray, values, own_lines: dict[int, str | None]) -> list[bytes]:
        """The bytes of every item's label file: the vectorised lines and the object writer's, in row order."""
        table = self.table
        text, line_ends = self._format(written, values)
        line_of = dict(zip(written.tolist(), range(len(written)), strict=True))
        files: list[bytes] = []
        starts = np.concatenate(([0], line_ends))
        for index in range(table.item_count):
            first, last = int(table.item_rows[index]), int(table.item_rows[index + 1])
            rows_here = range(first, last)
            if not any(row in own_lines for row in rows_here):  # only vectorised lines: one slice
                mine = [line_of[row] for row in rows_here if row in line_of]
                files.append(text[starts[mine[0]]:starts[mine[-1] + 1]] if mine else b"")
                continue
            parts = []
            for row in rows_here:
                if row in line_of:
                    parts.append(text[starts[line_of[row]]:starts[line_of[row] + 1]])
                elif own_lines.get(row) is not None:
                    parts.append(own_lines[row].encode("utf-8") + b"\n")
            files.append(b"".join(parts))
        return files

    def _format(self, written: np.ndarray, values) -> tuple[bytes, np.ndarray]:
        """One buffer of every vectorised line ``cls v1 v2 …\\n`` and where each line ends."""
        if not written.size:
            return b"", np.zeros(0, dtype=np.int64)
        classes = int_tokens(self.classes[self.table.label[written]])
        if self.plan.task == "detect":
            numbers = values[written].reshape(-1)
            per_line = np.full(written.size, 4, dtype=np.int64)
        else:  # the points of the rows given to _polygons, in order; ``written`` is a subset of them
            points, points_per_row = values
            rows = np.flatnonzero(self._polygon_rows)
            keep = np.isin(rows, written)
            starts = np.concatenate(([0], np.cumsum(points_per_row)))[:-1]
            numbers = points[_ranges(starts[keep], points_per_row[keep])].reshape(-1)
            per_line = 2 * points_per_row[keep]
        floats = fixed_tokens(numbers, self.precision)
        classes, floats = pad_to([classes, floats])
        tokens_per_line = per_line + 1
        total = int(tokens_per_line.sum())
        line_start = np.concatenate(([0], np.cumsum(tokens_per_line)[:-1]))
        is_class = np.zeros(total, dtype=bool)
        is_class[line_start] = True
        tokens = np.empty((total, classes.shape[1]), dtype=np.uint8)
        tokens[is_class] = classes
        tokens[~is_class] = floats
        separators = np.full(total, ord(" "), dtype=np.uint8)
        separators[np.cumsum(tokens_per_line) - 1] = ord("\n")
        text, ends = join_tokens(tokens, separators)
        return text, ends[np.cumsum(tokens_per_line) - 1]
