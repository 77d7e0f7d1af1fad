"""Rendering a whole source from its :class:`~dlconvert.table.Table`: the MASK, INSTANCE and OBJECT_ID pictures
without an annotation object per row, on every core.

The same files, bytes and counts as rendering item by item (:func:`~dlconvert.render.files.render_items`) —
this is its fast form, held to it by ``tests/test_render_columnar.py`` (every real COCO file, hypothesis-made
documents). Items are cut into ranges over forked workers sharing the table (:func:`dlconvert.parallel.map_shared`),
each range into chunks of about :data:`_CHUNK_ROWS` canvas rows, and a chunk is drawn in whole arrays:

* every box and polygon is filled by the renderer's own pixel-centre rule (:mod:`.spans`: its scanline, every
  ring at once, bit for bit the per-shape code's pixels). Not with ``cv2.fillPoly``: even with a sub-pixel
  ``shift`` it paints the outline too and rounds vertices to rows — a different, plausible wrong picture;
* a crowd RLE is decoded by pycocotools, through the row's annotation (:meth:`Table.annotations_of`) as the
  object reader builds it;
* a row left out is left out for the object code's reason: the degenerate-shape check is the object code's own,
  asked of the row's annotation where the per-item renderer asks it (a box with no area, a polygon with a short
  ring or no pixel, a mask);
* the shapes are stacked in draw order without a canvas (:func:`.spans.stack`: a later shape covers an earlier
  one, the covered pixels are counted), each view's values give every picture's runs of equal pixels, and the
  runs are the PNG files (:mod:`.png`, the item renderer's encoder) — the pixels never exist. Legends and
  counts are the item renderer's, written by its writer.

:func:`render_table` returns None — before writing anything — when the job is one only the item renderer
does exactly: overlays (they need the images), outlines (``thickness``), a frame of a video, a canvas past
the limit, an instance id the renderer refuses, two items drawn to one file or one's file where another's
folder goes (the item renderer writes those in item order, forked workers would not).
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import parallel
from .._io import OutputFolder
from ..errors import OutputError
from ..formats._policy import degenerate_reason
from ..table import BOX, CLASS, MASK, POLYGON
from . import png
from .files import encode_picture, picture_path, save_view
from .object_ids import object_color, whole_id
from .raster import FILLED
from .report import RenderReport
from .spans import Layers, Spans, fill_spans, mask_spans, stack
from .views import MAX_CANVAS_PIXELS, RenderResult, ViewAnnotationOptions

if TYPE_CHECKING:
    from ..annotation import Annotation
    from ..labels import LabelMap
    from ..table import Table

__all__ = ["render_table", "takes"]

#: The views drawn from a table; the overlay needs each item's image and stays with the item renderer.
_VIEWS = frozenset({ViewAnnotationOptions.MASK, ViewAnnotationOptions.INSTANCE,
                            ViewAnnotationOptions.OBJECT_ID})
_NO_SHAPE = ("render.no-shape", "class has no shape")
_NO_PIXELS = ("render.no-pixels", "covers no pixel centre of the picture")
_DEGENERATE = "render.degenerate-shape"
_ID_TYPES = {1: np.uint8, 2: np.uint16, 4: np.uint32}  # bytes of a picture's values → its dtype
_EXTENSIONS = (".png", ".tiff", ".json")  # a picture's files: its PNG or TIFF and its legend
_CHUNK_ROWS = 30_000  # canvas rows drawn at once (~60 pictures): the arrays stay in the caches, no page faults


def render_table(table: Table, dst: Path, views: list[ViewAnnotationOptions], style: dict, *, workers: int,
                 progress: Callable | None = None) -> RenderReport | None:
    """Render every item of ``table`` into ``dst`` in ``views`` (the layout of ``render_items``), the items cut
    into ranges over ``workers`` forked processes; the counts, or None (nothing written) when only the item
    renderer does the job exactly (see the module docstring)."""
    if not takes(views, style) or table.rings is None:
        return None
    if (table.width * table.height > MAX_CANVAS_PIXELS).any():
        return None  # the item renderer refuses the item in one line
    label_map = table.label_map
    if any(name not in label_map for name in table.labels):
        return None
    instance_ids = _instance_ids(table.labels, label_map) if ViewAnnotationOptions.INSTANCE in views else None
    if ViewAnnotationOptions.INSTANCE in views and instance_ids is None:
        return None
    if _clashing(table.filenames):
        return None
    alpha = style.get("alpha")
    colors = np.array([label_map[name].color for name in table.labels], dtype=np.uint8).reshape(-1, 3)
    job = _Job(table, views, dst, instance_ids, colors, round(255 * (1.0 if alpha is None else alpha)),
               style.get("color_by", "label") == "object")
    report = RenderReport()
    for part in parallel.map_shared(job, _render_range, table.item_count, workers=workers, progress=progress):
        report.merge(part)
    return report


def takes(views: list[ViewAnnotationOptions], style: dict) -> bool:
    """Whether the table path may draw ``views`` in ``style`` (asked before a table is read): filled MASK,
    INSTANCE and OBJECT_ID pictures of images; outlines and video frames stay with the item renderer."""
    return (bool(views) and set(views) <= _VIEWS and style.get("frame_num") is None
            and style.get("thickness") in (None, FILLED))


def _instance_ids(labels: list[str], label_map: LabelMap) -> np.ndarray | None:
    """Each label's INSTANCE pixel value, as the renderer takes it from the map; None when one of the map's is not
    a whole number it can draw (the item renderer then refuses the render in one line)."""
    given = {name: whole_id(value) for name, value in label_map.instance_map().items()}
    if any(value is None for value in given.values()):
        return None
    return np.array([given[name] for name in labels], dtype=np.int64)


def _clashing(names: list[str]) -> bool:
    """Whether two items' pictures go to one file, or one's file is where another's folder goes: the item
    renderer then writes in item order what forked workers would not (:func:`~.files.picture_path` keys, as
    :func:`~dlconvert._io.safe_join` normalises them; a name it refuses fails in both renderers alike)."""
    stems = {posixpath.normpath("/" + posixpath.splitext(name.lstrip("/"))[0].replace("\\", "/")) for name in names}
    if len(stems) != len(names):
        return True
    folders = {folder for stem in stems for folder in _folders(stem)}
    return any(posixpath.splitext(folder)[1] in _EXTENSIONS and posixpath.splitext(folder)[0] in stems
               for folder in folders)


def _folders(stem: str) -> list[str]:
    """The folders above ``/a/b/c``: ``/a``, ``/a/b``."""
    parts = stem.split("/")
    return ["/".join(parts[:end]) for end in range(2, len(parts))]


@dataclass
class _Job:
    """What every range of items needs (shared with forked workers, never sent)."""

    table: Table
    views: list[ViewAnnotationOptions]
    dst: Path
    instance_ids: np.ndarray | None  # per label
    colors: np.ndarray  # (labels, 3) uint8
    alpha: int  # the MASK picture's alpha, 0…255
    color_by_object: bool


@dataclass
class _Pictures:
    """One view of a range of items: each row's value and whether it shows, and every item's file."""

    view: ViewAnnotationOptions
    value: np.ndarray  # per row (RGBA rows for MASK)
    shown: np.ndarray  # bool per row: drawn in this view
    hidden: np.ndarray  # the rows drawn in other views that this one leaves out (INSTANCE id 0), sorted
    overlap_pixels: np.ndarray  # per item
    files: list[tuple[bytes, str]]  # per item: the picture's bytes and extension


def _render_range(job: _Job, first: int, stop: int) -> RenderReport:
    """Items ``first:stop``: their pictures written; their counts."""
    report = RenderReport()
    rows_before = np.concatenate(([0], np.cumsum(job.table.height[first:stop])))  # canvas rows before each item
    start = first
    while start < stop:  # chunks of at most _CHUNK_ROWS canvas rows, at least one item
        fitting = np.searchsorted(rows_before, rows_before[start - first] + _CHUNK_ROWS, side="right") - 1
        end = max(start + 1, first + int(fitting))
        report.merge(_render_items(job, start, end))
        start = end
    return report


def _render_items(job: _Job, first: int, stop: int) -> RenderReport:
    """Items ``first:stop`` (one chunk): their pictures written; their counts."""
    table = job.table.slice(first, stop)
    shapes = _Shapes(table)
    position = np.arange(table.row_count) - table.item_rows[shapes.item] + 1
    layers: dict[bool, Layers] = {}
    views = []
    for view in job.views:
        value, shown = _values(job, table, view, position, shapes.drawn)
        key = bool((shown != shapes.drawn).any())
        if key not in layers:
            layers[key] = stack(shapes.spans.take(shown[shapes.spans.owner]), shapes.item, table.height,
                                table.width)
        views.append(_Pictures(view, value, shown, np.flatnonzero(shapes.drawn & ~shown),
                               layers[key].overlap_pixels(), _files(table, view, value, shown, layers[key])))
    report = RenderReport()
    folders = {pictures.view: OutputFolder(Path(job.dst) / pictures.view.value) for pictures in views}
    for index in range(table.item_count):
        report.items += 1
        rows = range(int(table.item_rows[index]), int(table.item_rows[index + 1]))
        problems: dict[int, tuple[str, str]] = {}
        name = table.filenames[index]
        for pictures in views:
            path = picture_path(job.dst, pictures.view, name, folders[pictures.view])
            save_view(_result(table, pictures, index, rows, shapes), path, pictures.view, report, problems,
                      pictures.files[index], _create)
        report.left_out(table.filenames[index], problems)
    return report


def _create(path: Path, data: bytes) -> None:
    """Write a new file into the staged output folder (``render_source`` builds it aside and moves it into place
    whole: a file needs no atomic write of its own); its folder is made when missing."""
    try:
        try:
            handle = open(path, "xb")
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "xb")
        with handle:
            handle.write(data)
    except OSError as exc:  # as atomic_write says it
        raise OutputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None


def _values(job: _Job, table: Table, view, position: np.ndarray, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's pixel value in ``view`` (RGBA rows for MASK), and the rows it shows: the drawn rows, but for
    INSTANCE those whose value is not the background."""
    if view is ViewAnnotationOptions.MASK:
        rgba = np.empty((table.row_count, 4), dtype=np.uint8)
        if job.color_by_object:
            unique, back = np.unique(position, return_inverse=True)
            rgba[:, :3] = np.array([object_color(int(v)) for v in unique], dtype=np.uint8).reshape(-1, 3)[back]
        else:
            rgba[:, :3] = job.colors[table.label]
        rgba[:, 3] = job.alpha
        return rgba, drawn
    if view is ViewAnnotationOptions.INSTANCE:
        value = job.instance_ids[table.label]
        return value, drawn & (value != 0)
    return position, drawn


def _files(table: Table, view, value: np.ndarray, shown: np.ndarray, layers: Layers) -> list[tuple[bytes, str]]:
    """Every item's picture file in ``view`` (bytes, extension) as :func:`~.files.encode_picture` writes the item
    renderer's picture: the same pixels in the same dtype (an id picture's by the largest value of a row shown),
    so the same runs and the same bytes — without the pixels."""
    if view is ViewAnnotationOptions.MASK:
        palette = np.concatenate((np.zeros((1, 4), dtype=np.uint8), value))  # the background, then each row's
        sizes = np.ones(table.item_count, dtype=np.int64)
    else:
        palette = np.concatenate(([0], value)).reshape(-1, 1)
        shown_values = np.append(np.where(shown, value, 0), 0)  # one more: an item without rows reads 0
        peak = np.maximum.reduceat(shown_values, table.item_rows[:-1])
        peak[np.diff(table.item_rows) == 0] = 0
        sizes = np.where(peak <= 0xFF, 1, np.where(peak <= 0xFFFF, 2, 4))  # bytes a value: uint8, 16, 32
    runs = png.joined_runs(table.height, table.width, layers.item_runs, layers.starts(), palette, layers.top + 1)
    files: list = [None] * table.item_count
    for size in np.unique(sizes).tolist():
        items = np.flatnonzero(sizes == size)
        chosen = runs if items.size == table.item_count else runs.take(items)
        chosen = dataclasses.replace(chosen, values=chosen.values.astype(_ID_TYPES[size], copy=False))
        fits = png.fits(chosen)
        encoded = png.encode(chosen if fits.all() else chosen.take(np.flatnonzero(fits)))
        for item, data in zip(items[fits].tolist(), encoded, strict=True):
            files[item] = (data, ".png")
        for index in np.flatnonzero(~fits).tolist():  # many small runs, or ids past 65,535: as the item renderer
            files[int(items[index])] = encode_picture(chosen.picture(index))
    return files


class _Shapes:
    """Every row of a range of items: its pixels as spans, or why it is not drawn (the item renderer's reasons)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.item = table.row_item()
        count = table.row_count
        self.left_out: dict[int, tuple[str, str]] = {}
        kind = table.kind
        for row in np.flatnonzero(kind == CLASS).tolist():
            self.left_out[row] = _NO_SHAPE
        heights, widths = table.height[self.item], table.width[self.item]
        box = table.box
        boxes = np.flatnonzero(kind == BOX)
        flat = (box[boxes, 2] - box[boxes, 0] <= 0) | (box[boxes, 3] - box[boxes, 1] <= 0)
        for row in boxes[flat].tolist():
            self._degenerate(row)
        parts = [self._polygons_and_boxes(boxes[~flat], heights, widths)]
        for row in np.flatnonzero(kind == MASK).tolist():
            parts.append(self._mask(row, int(heights[row]), int(widths[row])))
        self.spans = Spans.concatenate(parts)
        has_pixels = np.bincount(self.spans.owner, minlength=count) > 0
        for row in np.flatnonzero((kind == POLYGON) & (~has_pixels | self._short_rings())).tolist():
            if not self._degenerate(row) and not has_pixels[row]:
                self.left_out[row] = _NO_PIXELS
        for row in np.flatnonzero(((kind == BOX) | (kind == MASK)) & ~has_pixels).tolist():
            self.left_out.setdefault(row, _NO_PIXELS)
        self.drawn = has_pixels
        self.drawn[list(self.left_out)] = False
        self.out_rows = np.array(sorted(self.left_out), dtype=np.int64)

    def _degenerate(self, row: int, annotation: Annotation | None = None) -> bool:
        """Leave the row out when the object code finds its shape (the row's ``annotation``) degenerate; whether
        it did."""
        reason = degenerate_reason(self.table.annotations_of(row)[0] if annotation is None else annotation)
        if reason is not None:
            self.left_out[row] = (_DEGENERATE, reason)
        return reason is not None

    def _polygons_and_boxes(self, boxes: np.ndarray, heights: np.ndarray, widths: np.ndarray) -> Spans:
        """The spans of every polygon row and of the ``boxes`` rows (filled as their four corners)."""
        table = self.table
        polygons = np.flatnonzero(table.kind == POLYGON)
        rings = table.rings.take(polygons)
        corners = table.box[boxes][:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)  # fill_rings of Box.corners()
        coords = np.concatenate((rings.coords, corners))
        offsets = np.concatenate((rings.ring_offsets, rings.ring_offsets[-1] + 4 * np.arange(1, boxes.size + 1)))
        owner = np.concatenate((np.repeat(polygons, rings.ring_count()), boxes))
        return fill_spans(coords, offsets, owner, heights, widths)

    def _short_rings(self) -> np.ndarray:
        """Rows with a ring of fewer than 3 points (the renderer then asks the degenerate-shape check)."""
        rings = self.table.rings
        short = np.diff(rings.ring_offsets) < 3
        owner = np.repeat(np.arange(self.table.row_count), rings.ring_count())
        return np.bincount(owner[short], minlength=self.table.row_count) > 0

    def _mask(self, row: int, height: int, width: int) -> Spans:
        """A mask row's pixels (decoded by the reader's code), cut to the canvas; or left out for its reason."""
        annotation = self.table.annotations_of(row)[0]
        if self._degenerate(row, annotation):
            return Spans.empty()
        return mask_spans(annotation.annotation_definition.geo[:height, :width], row)


def _result(table: Table, pictures: _Pictures, index: int, rows: range, shapes: _Shapes) -> RenderResult:
    """What the item renderer tells about an item's picture: what it left out, and for the id views the
    overlapping pixels and the legend (the picture itself is in ``pictures.files``)."""
    result = RenderResult(np.zeros(0))
    first = rows.start
    problems = {row: shapes.left_out[row] for row in _within(shapes.out_rows, rows)}
    for row in _within(pictures.hidden, rows):
        problems[row] = ("render.background-id", f"label {table.labels[table.label[row]]!r} has instance id 0, "
                                                 f"the background")
    for row in sorted(problems):
        result.leave_out(row - first, *problems[row])
    drawn = np.flatnonzero(pictures.shown[rows.start:rows.stop]) + first
    result.drawn = int(drawn.size)
    if pictures.view is not ViewAnnotationOptions.MASK:
        result.overlap_pixels = int(pictures.overlap_pixels[index])
        result.legend = _legend(table, pictures.view, drawn, pictures.value, first)
    return result


def _within(rows: np.ndarray, item: range) -> list[int]:
    """The sorted ``rows`` that belong to ``item``'s rows."""
    low, high = np.searchsorted(rows, (item.start, item.stop))
    return rows[low:high].tolist()


def _legend(table: Table, view, drawn: np.ndarray, value: np.ndarray, first: int) -> dict[int, dict]:
    """Pixel value → what it stands for, as the item renderer writes it (the first drawn row of a value)."""
    legend: dict[int, dict] = {}
    for row in drawn.tolist():
        label = table.labels[table.label[row]]
        meaning = ({"label": label} if view is ViewAnnotationOptions.INSTANCE
                   else {"object_id": None, "label": label, "position": row - first + 1})
        legend.setdefault(int(value[row]), meaning)
    return legend

