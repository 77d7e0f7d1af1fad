"""Writing Pascal VOC XML from a :class:`~dlconvert.table.Table`: whole columns at once.

The same files, bytes and report as the object writer (:mod:`.write`) — the table path is its fast
form — but every row's fate and ``<bndbox>`` are decided as arrays (:mod:`.fates`) and the XML of
item headers and objects is laid out as character matrices (:mod:`dlconvert._text`), the strings
escaped by lxml itself in one serialisation. A row the arrays leave open goes through the object
writer's own per-annotation code (:func:`.write.refusal_of`, :func:`.write.numbers_of`,
:func:`.write.as_box`, and :func:`.write.object_element` for an object with more than a name and a
box), its annotation built on demand (:meth:`Table.annotations_of`). Forked workers
(:func:`dlconvert.parallel.map_shared`) write ranges of items; this process lists the arrays'
issues of each range meanwhile, so that no issue travels between processes. Crowd regions are
skipped from their flag: their RLE is never decoded.

None (before anything is written) when only the object writer does the job: ``voc_origin`` 0 (the
numbers are COCO's ``x + w`` summed in decimal, which the table holds as a float sum), segmentation
PNGs to draw, a pinned label map or a label it would add, an item path that is unsafe, taken or not
XML text, or ``coco_ids.json`` type hints (a box they make may declare another box).
"""

from __future__ import annotations

import posixpath
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..._io import OutputFolder
from ..._text import int_tokens, join_tokens, side_by_side, text_matrix
from ...dataset import Dataset, ShardOutput
from ...errors import OutputError
from ...geometry import Box
from ...parallel import frozen_for_gc, map_shared
from ...report import Issue
from .._metadata import section
from ..coco.reader import shape_hints
from .capabilities import refusal
from .fates import (
    BOX_ROUNDED,
    CROWD,
    DEGENERATE,
    DELEGATED,
    SHAPE_AS_BOX,
    SKIPPED,
    UNSUPPORTED,
    WRITTEN,
    WROTE,
    Fates,
    fates,
    has_pixels,
)
from .safe_xml import not_xml_text
from .write import (
    CROWD_REGION,
    MASKS_OFF,
    as_box,
    box_rounded,
    finish,
    numbers_of,
    object_element,
    record,
    refusal_of,
    shape_as_box,
    text_change,
    with_changed_text,
    with_text_change,
)

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...dataset import ConvertOptions
    from ...report import ConversionReport
    from ...table import Table

__all__ = ["write_table"]

# The XML of the object writer's lxml serialisation (pretty-printed, two spaces a level); each piece's last
# line ends with the "\n" join_tokens adds.
_HEADER = (b"<annotation>\n  <folder>", b"</folder>\n  <filename>", b"</filename>\n  <source>\n    <database>Unknown"
           b"</database>\n  </source>\n  <size>\n    <width>", b"</width>\n    <height>",
           b"</height>\n    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>")
_OBJECT = (b"  <object>\n    <name>", b"</name>\n    <bndbox>\n      <xmin>", b"</xmin>\n      <ymin>",
           b"</ymin>\n      <xmax>", b"</xmax>\n      <ymax>", b"</ymax>\n    </bndbox>\n  </object>")
_OPEN, _CLOSE = "<annotation>\n", "</annotation>\n"
_FOOTER = _CLOSE.encode()
_INT64 = 2 ** 62  # numbers the template's integer tokens hold


def write_table(table: Table, dst: Path, options: ConvertOptions, report: ConversionReport, *,
                workers: int = 1, progress: Callable | None = None) -> list[Path] | None:
    """Write the VOC dataset of ``table`` under ``dst`` as the object writer would, the items cut into ranges over
    ``workers`` processes; None when it cannot (see the module docstring)."""
    if options.labels is not None or options.voc_origin != 1 or table.rings is None:
        return None
    if table.origin is not None and shape_hints(Path(table.origin)):
        return None
    labels = _Labels.of(table)
    if labels is None or (options.voc_masks and has_pixels(table)):
        return None
    placed = _place(table, Path(dst))
    if placed is None:
        return None
    stems, targets = placed
    for folder in sorted({target.parent for target in targets}):
        folder.mkdir(parents=True, exist_ok=True)
    decided = Fates(np.zeros(table.row_count, dtype=np.uint8), np.zeros((table.row_count, 4), dtype=np.int64))
    job = _Job(table, decided, labels, table.type_names(), targets, _Items.of(table), report.blank())
    table.count_read(report)
    outputs: list[Path] = []
    with frozen_for_gc():  # the table's objects: never scanned, nor copied into the workers by the collector
        for first, stop, found, shard_report, issue_rows, written in map_shared(
                job, _write_items, table.item_count, workers=workers, progress=progress):
            start, end = int(table.item_rows[first]), int(table.item_rows[stop])
            decided.code[start:end], decided.numbers[start:end] = found.code, found.numbers
            _count_arrays(job, start, end, report)
            shard_report.issues = _in_row_order(*_issues(job, first, stop), issue_rows, shard_report.issues)
            report.merge(shard_report)
            outputs.extend(written)
    shard = ShardOutput(outputs, state=stems)
    return [*outputs, *finish([shard], Dataset((), labels=table.label_map), Path(dst), options, report)]


# ==== what is known before writing ========================================================================
@dataclass
class _Labels:
    """Per label of the table: its name, its ``<name>`` text as lxml escapes it, why XML cannot hold it, and how
    a VOC reader gives it back otherwise."""

    names: np.ndarray  # object
    xml: np.ndarray  # character matrix
    invalid: list[str | None]
    changed: list[str | None]

    @classmethod
    def of(cls, table: Table) -> _Labels | None:
        """None when a used label is empty or not in the label map (the object writer adds it)."""
        names = table.labels
        if any(not names[i] or names[i] not in table.label_map for i in np.unique(table.label).tolist()):
            return None
        invalid = [not_xml_text(name) for name in names]
        xml = _escaped([name if why is None else "" for name, why in zip(names, invalid, strict=True)])
        return cls(np.asarray(names, dtype=object), text_matrix([text.encode() for text in xml]), invalid,
                   [text_change(name, {}) for name in names])

    def invalid_mask(self) -> np.ndarray:
        return np.array([why is not None for why in self.invalid], dtype=bool)

    def changed_mask(self) -> np.ndarray:
        return np.array([text is not None for text in self.changed], dtype=bool)


@dataclass
class _Items:
    """Per item: its filename, and its ``<folder>`` and ``<filename>`` texts as lxml escapes them (UTF-8)."""

    filenames: np.ndarray  # object
    folders: list[bytes]
    names: list[bytes]

    @classmethod
    def of(cls, table: Table) -> _Items:
        folders = [posixpath.basename(posixpath.dirname(name)) for name in table.filenames]
        escaped = _escaped(folders + [posixpath.basename(name) for name in table.filenames])
        encoded = [text.encode() for text in escaped]
        return cls(np.asarray(table.filenames, dtype=object), encoded[:table.item_count], encoded[table.item_count:])


def _escaped(texts: list[str]) -> list[str]:
    """Each text as lxml writes it as an element's text (one serialisation for all)."""
    from lxml import etree

    if not texts:
        return []
    root = etree.Element("t")
    for value in texts:
        etree.SubElement(root, "e").text = value
    body = etree.tostring(root, encoding="unicode")
    return body[len("<t><e>"):-len("</e></t>")].split("</e><e>")  # escaped text holds no "<"


def _place(table: Table, dst: Path) -> tuple[list[str], list[Path]] | None:
    """Each item's stem and ``Annotations/<stem>.xml``, as the object writer places it; None when one is unsafe,
    taken or not XML text (the object writer reports those items)."""
    stems = [posixpath.splitext(name.lstrip("/"))[0] for name in table.filenames]
    if len(set(stems)) != len(stems) or not_xml_text("\n".join(table.filenames), "\n".join(stems)):
        return None
    folder = OutputFolder(dst / "Annotations")
    try:
        return stems, [folder.join(stem + ".xml") for stem in stems]
    except OutputError:
        return None


@dataclass
class _Job:
    """What every range of items needs (shared with forked workers, never sent)."""

    table: Table
    fates: Fates  # decided by the workers, range by range (filled in as their results come back)
    labels: _Labels
    types: np.ndarray  # the Dataloop type of every row
    targets: list[Path]
    items: _Items
    report: ConversionReport  # a blank report of this conversion, for each range to fill


# ==== the report ==========================================================================================
def _count_arrays(job: _Job, start: int, end: int, report: ConversionReport) -> None:
    """Count the rows ``start:end`` the arrays write or skip (the object code counts the others)."""
    code, types, label = job.fates.code[start:end], job.types[start:end], job.table.label[start:end]
    written, skipped = np.isin(code, WRITTEN), np.isin(code, SKIPPED)
    report.annotations_out.update(Counter(types[written].tolist()))
    report.labels_out.update(Counter(job.labels.names[label[written]].tolist()))
    report.skipped.update(Counter(types[skipped].tolist()))
    # written in another shape, or with a label that reads back otherwise: one approximated annotation each
    changed = job.labels.changed_mask()[label]
    approximated = np.isin(code, (SHAPE_AS_BOX, BOX_ROUNDED)) | ((code == WROTE) & changed)
    report.approximated.update(Counter(types[approximated].tolist()))


def _issues(job: _Job, first: int, stop: int) -> tuple[np.ndarray, list[Issue]]:
    """The issues of the rows of items ``first:stop`` the arrays decide, as the object writer words them, and
    their rows."""
    table, labels, fates_ = job.table, job.labels, job.fates
    start, end = int(table.item_rows[first]), int(table.item_rows[stop])
    code, label = fates_.code[start:end], table.label[start:end]
    changed = labels.changed_mask()[label]
    listed = np.flatnonzero(((code != WROTE) & (code != DELEGATED)) | ((code == WROTE) & changed))
    rows, fate, label = listed + start, code[listed], label[listed]
    types = job.types[rows]
    count = rows.size
    kinds, codes, messages = np.empty(count, dtype=object), np.empty(count, dtype=object), np.empty(count, dtype=object)
    shapes = np.flatnonzero(fate == SHAPE_AS_BOX)
    if shapes.size:  # the common case, at once: the numbers' text from the arrays
        written = _numbers_text(fates_.numbers[rows[shapes]])
        kinds[shapes] = "approximate"
        codes[shapes], messages[shapes] = zip(*map(shape_as_box, types[shapes].tolist(), written,
                                                   [MASKS_OFF] * shapes.size), strict=True)
    for position in np.flatnonzero(fate != SHAPE_AS_BOX).tolist():
        row = int(rows[position])
        if fate[position] in SKIPPED:
            kinds[position] = "skip"
            codes[position], messages[position] = _skip_reason(int(fate[position]), table.box[row],
                                                                labels.invalid[label[position]])
        elif fate[position] == BOX_ROUNDED:
            written = " ".join(map(str, fates_.numbers[row].tolist()))
            kinds[position] = "approximate"
            codes[position], messages[position] = box_rounded(*table.box[row].tolist(), written)
        else:
            kinds[position], codes[position], messages[position] = "wrote", "", ""
    for position in np.flatnonzero(changed[listed] & np.isin(fate, WRITTEN)).tolist():
        kinds[position], codes[position], messages[position] = with_changed_text(
            kinds[position], codes[position], messages[position], labels.changed[label[position]])
    items = job.items.filenames[np.searchsorted(table.item_rows, rows, side="right") - 1]
    issues = list(map(Issue, np.where(kinds == "skip", "skipped", "approximated").tolist(), codes.tolist(),
                      messages.tolist(), items.tolist(), [None] * count, types.tolist(),
                      labels.names[label].tolist()))
    return rows, issues


def _numbers_text(numbers: np.ndarray) -> list[str]:
    """``" ".join`` of each row's four integers (``bndbox.text`` of integral values), at once."""
    separators = np.tile(np.frombuffer(b"   \n", dtype=np.uint8), numbers.shape[0])
    text, _ = join_tokens(int_tokens(numbers.reshape(-1)), separators)
    return text.decode("ascii").split("\n")[:-1]


def _skip_reason(fate: int, box: np.ndarray, invalid: str | None) -> tuple[str, str]:
    """``(code, message)`` of a row the arrays skip, as :func:`.write.refusal_of` words it."""
    if fate == UNSUPPORTED:
        return "voc.unsupported-type", refusal("class")
    if fate == CROWD:
        return CROWD_REGION
    if fate == DEGENERATE:
        left, top, right, bottom = box.tolist()
        return "voc.degenerate-shape", Box(left=left, top=top, right=right, bottom=bottom).problems()[0]
    return "voc.invalid-text", invalid


def _in_row_order(rows: np.ndarray, issues: list[Issue], other_rows: list[int], others: list[Issue]) -> list[Issue]:
    """Two row-ordered lists of issues (rows apart) as one, in row order."""
    if not others:
        return issues
    out: list[Issue] = []
    done = 0
    for position, issue in zip(np.searchsorted(rows, other_rows).tolist(), others, strict=True):
        out.extend(issues[done:position])
        out.append(issue)
        done = position
    out.extend(issues[done:])
    return out


# ==== writing a range of items (in a forked worker) =======================================================
def _write_items(job: _Job, first: int, stop: int):
    """Items ``first:stop``: their rows' fates decided, their XML files written; ``(first, stop, fates, report,
    issue rows, files)`` — the report of the rows the object code decides, and the row of each of its issues."""
    table = job.table
    start = int(table.item_rows[first])
    found = fates(table.slice(first, stop), job.labels.invalid_mask())
    report = job.report.blank()
    numbers = found.numbers.copy()
    written = np.isin(found.code, WRITTEN)
    chunks: dict[int, bytes] = {}  # rows written by the object code with more than a name and a box
    issue_rows: list[int] = []
    for offset in np.flatnonzero(found.code == DELEGATED).tolist():
        row = start + offset
        before = len(report.issues)
        outcome = _object_code(job, row, int(np.searchsorted(table.item_rows, row, side="right") - 1), report)
        issue_rows.extend([row] * (len(report.issues) - before))
        if isinstance(outcome, bytes):
            chunks[row] = outcome
        elif outcome is not None:
            numbers[offset], written[offset] = outcome, True
    bodies = _bodies(job, first, stop, np.flatnonzero(written) + start, numbers[written], chunks)
    headers, header_ends = _headers(job, first, stop)
    header_starts = [0, *header_ends[:-1].tolist()]
    targets = job.targets[first:stop]
    for index, target in enumerate(targets):
        with open(target, "wb") as handle:
            handle.write(headers[header_starts[index]:header_ends[index]] + bodies[index] + _FOOTER)
    report.items_out += len(targets)
    return first, stop, found, report, issue_rows, targets


def _object_code(job: _Job, row: int, item: int, report: ConversionReport) -> tuple | bytes | None:
    """A row the arrays leave open, through the object writer's code (reported in ``report``): None when nothing
    is written, the ``<bndbox>`` numbers of an object with nothing but a label and a box, else its XML."""
    from lxml import etree

    table = job.table
    filename = table.filenames[item]
    written: list[tuple[Annotation, tuple]] = []
    for annotation in table.annotations_of(row):
        why = refusal_of(annotation)
        if why is not None:
            record(report, "skip", annotation, *why, filename)
            continue
        numbers, declared = numbers_of(annotation, 1)
        fate = as_box(annotation, numbers, declared, None if annotation.type == "box" else MASKS_OFF)
        kind, code, message = with_text_change(annotation, *fate)
        record(report, kind, annotation, code, message, filename)
        written.append((annotation, numbers))
    if not written:
        return None
    if len(written) == 1 and _plain(job, row, *written[0]):
        return written[0][1].values
    document = etree.Element("annotation")
    position = row - int(table.item_rows[item])
    for annotation, numbers in written:
        object_element(document, annotation, numbers, table.origin or report.source or filename,
                       f"/annotations/{position}/metadata/user/voc/extra_xml", report)
    return etree.tostring(document, pretty_print=True, encoding="unicode")[len(_OPEN):-len(_CLOSE)].encode()


def _plain(job: _Job, row: int, annotation: Annotation, numbers) -> bool:
    """Whether :func:`.write.object_element` writes the object as the template does: the row's label, no
    attributes or kept XML, integer numbers."""
    definition = annotation.annotation_definition
    return (definition.label == job.labels.names[job.table.label[row]] and not definition.attributes
            and not section(annotation.metadata, "user", "voc").get("extra_xml")
            and all(type(v) is int and -_INT64 < v < _INT64 for v in numbers.values))


def _bodies(job: _Job, first: int, stop: int, written: np.ndarray, numbers: np.ndarray,
            chunks: dict[int, bytes]) -> list[bytes]:
    """Each item's ``<object>`` elements: the template's for ``written`` rows (with their ``numbers``), the object
    code's ``chunks``, in row order."""
    text, ends = _objects(job, written, numbers)
    starts = np.concatenate(([0], ends))
    item_rows = job.table.item_rows[first:stop + 1]
    first_line = np.searchsorted(written, item_rows)  # the written rows of item i: lines first_line[i]:[i + 1]
    own = np.zeros(stop - first, dtype=bool)
    if chunks:
        own[np.searchsorted(item_rows, list(chunks), side="right") - 1] = True
    line_of = dict(zip(written.tolist(), range(written.size), strict=True)) if chunks else {}
    bodies = []
    for index in range(stop - first):
        if not own[index]:
            bodies.append(text[starts[first_line[index]]:starts[first_line[index + 1]]])
            continue
        parts = []
        for row in range(int(item_rows[index]), int(item_rows[index + 1])):
            if row in line_of:
                parts.append(text[starts[line_of[row]]:starts[line_of[row] + 1]])
            elif row in chunks:
                parts.append(chunks[row])
        bodies.append(b"".join(parts))
    return bodies


def _objects(job: _Job, rows: np.ndarray, numbers: np.ndarray) -> tuple[bytes, np.ndarray]:
    """One buffer of the ``<object>`` XML of every row in ``rows`` and where each ends."""
    if not rows.size:
        return b"", np.zeros(0, dtype=np.int64)
    tokens = int_tokens(numbers.reshape(-1)).reshape(rows.size, 4, -1)
    parts = [_OBJECT[0], job.labels.xml[job.table.label[rows]]]
    for column in range(4):
        parts.extend((_OBJECT[1 + column], tokens[:, column]))
    parts.append(_OBJECT[5])
    return join_tokens(side_by_side(parts, rows.size), np.full(rows.size, ord("\n"), dtype=np.uint8))


def _headers(job: _Job, first: int, stop: int) -> tuple[bytes, np.ndarray]:
    """One buffer of the XML before the objects of items ``first:stop`` and where each ends."""
    table, count = job.table, stop - first
    parts = [_HEADER[0], text_matrix(job.items.folders[first:stop]), _HEADER[1],
             text_matrix(job.items.names[first:stop]), _HEADER[2], int_tokens(table.width[first:stop]), _HEADER[3],
             int_tokens(table.height[first:stop]), _HEADER[4]]
    return join_tokens(side_by_side(parts, count), np.full(count, ord("\n"), dtype=np.uint8))
