"""Writing Dataloop JSON from a :class:`~dlconvert.table.Table`: every item's JSON without an annotation object.

The same files, bytes and report as the object writer (:mod:`.dataloop`) — the table path is its
fast form. An annotation's JSON is laid out as the model lays out one a reader built
(:meth:`Annotation.to_json <dlconvert.annotation.Annotation.to_json>`: the key order of a fresh
annotation, ``metadata.system`` with ``automated`` and ``attributes``); what the source said beyond
the columns (the item's own fields, a record's kept fields, the fingerprint of its shape) comes
from the reader's :class:`~dlconvert.table.KeptJSON`; the shapes come from the columns: a box's
edges, a polygon's rings written by orjson straight from the coordinate array (its ``[x, y]``
pairs turned into ``{"x", "y"}`` points by a few byte replacements and spliced in as a
pre-indented ``orjson.Fragment``), and a mask's PNG — the only rows whose pixels are decoded.
Each item is then one ``orjson.dumps`` call, on forked workers (:func:`dlconvert.parallel.map_shared`).

A table without ``KeptJSON``, or an item path that is unsafe or taken by another item, gives None
before anything is written: the object writer decides and reports those. So does a file the system
refuses (a folder of one item where another's file goes, a path too long), found while writing: the
files written so far lie in the engine's staging folder, which it drops before the object path runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import orjson

from .._io import OutputFolder
from ..annotation import _fresh_json
from ..errors import OutputError
from ..geometry import Segmentation
from ..parallel import frozen_for_gc, map_shared
from ..table import BOX, KEPT_JSON, KINDS, MASK, POLYGON
from ._fingerprint import fingerprint, geometry_fingerprint, rings_fingerprint
from .dataloop import filename_relpath, save_label_map

if TYPE_CHECKING:
    from ..dataset import ConvertOptions
    from ..report import ConversionReport
    from ..table import KeptJSON, Table

__all__ = ["write_table"]

_INDENTED = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY
_COMPACT = orjson.OPT_SERIALIZE_NUMPY
_CLASS_FINGERPRINT = fingerprint("class", ())


def write_table(table: Table, dst: Path, options: ConvertOptions, report: ConversionReport, *,
                workers: int = 1, progress: Callable | None = None) -> list[Path] | None:
    """Write the item JSON files of ``table`` (V1 naming) and ``labelmap.json`` under ``dst`` as the object
    writer would, the items cut into ranges over ``workers`` processes; None when it cannot."""
    kept = table.extras.get(KEPT_JSON)
    if kept is None or table.rings is None:
        return None
    kept.prepare()
    job = _Job(table, kept, Path(dst), options.indent, report.blank())
    with frozen_for_gc():  # the table and the source stay out of the collector's scans, shared by the workers
        job.targets = _targets(job, workers)
        if job.targets is None:
            return None
        table.count_read(report)
        outputs: list[Path] = []
        for written in map_shared(job, _write_items, table.item_count, workers=workers, progress=progress):
            if written is None:
                return None  # the system refused a file: only in the staging folder, which the engine drops
            report.merge(written[0])
            outputs.extend(written[1])
    return [*outputs, *save_label_map(table.label_map, job.dst)]


@dataclass
class _Job:
    """What every range of items needs (shared with forked workers, never sent)."""

    table: Table
    kept: KeptJSON
    dst: Path
    indent: bool
    report: ConversionReport  # a blank report of this conversion, for each range to fill
    targets: list[Path] | None = None  # each item's file


def _targets(job: _Job, workers: int) -> list[Path] | None:
    """Each item's JSON file, as the object writer places it (found on ``workers`` processes); None when one is
    unsafe or two items share one (the object writer reports those per item)."""
    ranges = list(map_shared(job, _place, job.table.item_count, workers=workers))
    if any(targets is None for targets in ranges):
        return None
    targets = [target for part in ranges for target in part]
    return targets if len(set(targets)) == len(targets) else None


def _place(job: _Job, first: int, stop: int) -> list[Path] | None:
    """The files of items ``first:stop``; None when one is unsafe."""
    folder = OutputFolder(job.dst / "json")
    try:
        return [folder.join(filename_relpath(filename)) for filename in job.table.filenames[first:stop]]
    except OutputError:
        return None


def _write_items(job: _Job, first: int, stop: int) -> tuple[ConversionReport, list[Path]] | None:
    """Items ``first:stop`` written; ``(report, files)`` for the whole, or None when the system refused a file
    (a folder where a file goes, a path too long …: the object writer reports the item)."""
    table, report = job.table, job.report.blank()
    items = _Items(job, first, stop)
    folders: set[Path] = set()
    try:
        for item in range(first, stop):
            target = job.targets[item]
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
            target.write_bytes(items.text(item))
    except OSError:
        return None
    report.items_out += stop - first
    rows = slice(int(table.item_rows[first]), int(table.item_rows[stop]))
    report.annotations_out.update(Counter(table.type_names()[rows].tolist()))
    report.labels_out.update(Counter(np.asarray(table.labels, dtype=object)[table.label[rows]].tolist()))
    return report, job.targets[first:stop]


class _Items:
    """The JSON text of items, one ``orjson.dumps`` each (see the module docstring)."""

    def __init__(self, job: _Job, first: int, stop: int) -> None:
        """For items ``first:stop``: their rows' rings are parsed for them alone (the table's are parsed range by
        range; reading the whole table's would parse every polygon of the source in each worker)."""
        self.table, self.kept = job.table, job.kept
        self.option = _INDENTED if job.indent else _COMPACT
        self.layout = _RingLayout(job.indent)
        self.start = int(job.table.item_rows[first])
        self.rings = job.table.rings.rows(self.start, int(job.table.item_rows[stop]))  # row - start: the range's

    def text(self, item: int) -> bytes:
        """Item ``item``'s file."""
        table = self.table
        out = self.kept.item_json(item)
        out["annotations"] = [self._annotation(row)
                              for row in range(int(table.item_rows[item]), int(table.item_rows[item + 1]))]
        return orjson.dumps(out, option=self.option)

    def _annotation(self, row: int) -> dict:
        """Row ``row``'s annotation JSON (``Annotation.to_json`` of the annotation the reader builds)."""
        table = self.table
        kind = int(table.kind[row])
        out = _fresh_json(KINDS[kind])
        out["label"] = table.labels[table.label[row]]
        if kind == BOX:
            left, top, right, bottom = self._box(row)
            out["coordinates"] = [{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}]
            shape = fingerprint("box", (left, top, right, bottom, 0))  # Box._geometry_key: angle None → 0
        elif kind == POLYGON:
            rings = self.rings.rings_of(row - self.start)
            out["coordinates"] = orjson.Fragment(self.layout.text(rings))
            shape = rings_fingerprint(rings)
        elif kind == MASK:
            definition = Segmentation(geo=self.kept.mask(row))
            out["coordinates"] = definition.to_coordinates()
            shape = geometry_fingerprint(definition)
        else:  # CLASS: no coordinates
            shape = _CLASS_FINGERPRINT
        metadata, attributes = self.kept.metadata(kind, row, shape, self.rings.has_rings(row - self.start))
        metadata["system"]["attributes"] = attributes
        out["metadata"] = metadata
        return out

    def _box(self, row: int) -> list[float]:
        """A box row's edges as the object reader makes them: a rectangle's corners, else the declared box."""
        rings, local = self.rings, row - self.start
        if not rings.has_rings(local):
            return self.table.box[row].tolist()
        xs, ys = rings.ring(int(rings.row_rings[local])).T.tolist()
        return [min(xs), min(ys), max(xs), max(ys)]  # Python's min: of 0.0 and -0.0, the first, as the reader


class _RingLayout:
    """A polygon's ``coordinates`` — ``[[{"x": …, "y": …}, …], …]`` — as orjson lays it out inside an item's
    annotation: indented (the annotation's keys 6 spaces deep) or compact.

    orjson writes the rings of a row as nested ``[x, y]`` lists at once, straight from the coordinate
    array; the separators of that text tell points and rings apart (``],[`` between points, ``]],[[``
    between rings, ``,`` within a point) and no number's text holds a bracket or a comma, so a few
    byte replacements give the points' layout.
    """

    def __init__(self, indent: bool) -> None:
        def line(depth: int) -> bytes:  # a new line at ``depth`` levels below the annotation's keys
            return b"\n" + b" " * (6 + 2 * depth) if indent else b""

        space = b" " if indent else b""
        head = line(2) + b"{" + line(3) + b'"x":' + space  # a point's opening, up to its x
        self.middle = b"," + line(3) + b'"y":' + space  # between x and y
        tail = line(2) + b"}"  # a point's closing
        ring_open, ring_close = line(1) + b"[", line(1) + b"]"
        self.between_points = tail + b"," + head
        self.between_rings = tail + ring_close + b"," + ring_open + head
        self.start = b"[" + ring_open + head
        self.end = tail + ring_close + line(0) + b"]"

    def text(self, rings: list[np.ndarray]) -> bytes:
        """The ``coordinates`` text of a polygon row's rings."""
        text = orjson.dumps(rings, option=_COMPACT)  # [[[x,y],[x,y]],[[x,y]]]
        several = len(rings) > 1
        if several:
            text = text.replace(b"]],[[", b"\x01")
        text = text.replace(b"],[", b"\x02").replace(b",", self.middle).replace(b"\x02", self.between_points)
        if several:
            text = text.replace(b"\x01", self.between_rings)
        return self.start + text[3:-3] + self.end

