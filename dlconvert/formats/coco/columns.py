"""Reading a COCO file into a :class:`~dlconvert.table.Table`, for bulk jobs — when it can be done exactly.

One typed decode (msgspec: only the fields COCO defines, no Python dict per record) and whole-column
checks replace the object reader's per-record work. The table path is taken only for what it
reads exactly as the object reader (:mod:`.reader`) would: a file with anything that reader would
report (a bad image or record, a corrupt RLE), keypoints, string ids, images without a size, or a
``coco_ids.json`` hint it does not know gives None, and the conversion goes the object way — which
then says precisely what is wrong, and where. So the two paths never disagree: the table path is
the object path's fast form for clean data, checked against it byte for byte by
``tests/test_columnar.py``.

What the object reader keeps of the source in Dataloop JSON beyond the columns (the image record, a
record's own fields as written) is read on demand by :class:`.kept.KeptJSON` (``Table.extras``).

Rows follow the object reader: one per record, items in ``images`` order, rows grouped by image in
file order; a record's kind and box as :func:`.records.record_to_annotations` decides them (a
rectangle equal to the record's ``bbox`` is a box with the rectangle's corners, other rings a
polygon with the declared box, an RLE a mask, a ``bbox`` alone a box, nothing a classification).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from ..._json import read_json_bytes
from ...errors import DlconvertError
from ...parallel import without_cyclic_gc
from ...table import BOX, CLASS, KEPT_JSON, MASK, POLYGON, LazyRings, NotExact, Rings, Table, offsets
from .categories import read_categories
from .checks import rle_problem
from .kept import KeptJSON
from .polygon_lists import decode_polygon_lists
from .reader import coco_file, shape_hints
from .records import record_to_annotations

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...dataset import ConvertOptions

__all__ = ["read_table"]

_UNSET = msgspec.UNSET


class _Image(msgspec.Struct):
    id: int
    file_name: str
    width: int | None = None
    height: int | None = None


class _Record(msgspec.Struct):
    image_id: int
    category_id: int
    id: int | msgspec.UnsetType = _UNSET
    bbox: list[float] | msgspec.UnsetType | None = _UNSET
    segmentation: msgspec.Raw | msgspec.UnsetType = _UNSET  # decoded in chunks (bounded memory), or per row
    iscrowd: int | msgspec.UnsetType = _UNSET
    area: float | msgspec.UnsetType = _UNSET
    attributes: dict[str, Any] | msgspec.UnsetType = _UNSET
    keypoints: msgspec.Raw | msgspec.UnsetType = _UNSET
    num_keypoints: msgspec.Raw | msgspec.UnsetType = _UNSET


class _Document(msgspec.Struct):
    images: list[_Image]
    categories: list[Any]
    annotations: list[_Record] = []
    info: Any | msgspec.UnsetType = _UNSET
    licenses: Any | msgspec.UnsetType = _UNSET


_DOCUMENT = msgspec.json.Decoder(_Document)
#: Hints (``coco_ids.json``) the table reads: a record's Dataloop type when dlconvert wrote it.
_KNOWN_HINTS = {"box", "segment", "binary", "class"}


def read_table(src: Path, options: ConvertOptions, *, workers: int = 1) -> Table | None:
    """The COCO source as a table; None when only the object reader reads it exactly (see the module
    docstring). One file, decoded in this process (``workers`` is for readers of many files); its polygons
    are parsed by the workers that write them (:class:`LazyRings`)."""
    if options.labels is not None:  # a pinned map may lack labels: the object writers report those per item
        return None
    try:
        path = coco_file(Path(src))
        data = read_json_bytes(path)
    except DlconvertError:
        return None
    with without_cyclic_gc():  # millions of acyclic objects: the records, the rings' floats
        return _read(data, path)


def _read(data: bytes, path: Path) -> Table | None:
    try:
        document = _DOCUMENT.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    categories = {"categories": document.categories}
    categories.update({key: getattr(document, key) for key in ("info", "licenses")
                       if getattr(document, key) is not _UNSET})
    try:
        names, label_map = read_categories(categories, path)
    except DlconvertError:
        return None
    return _table(document, names, label_map, path, data)


def _table(document: _Document, names: dict, label_map, path: Path, data: bytes) -> Table | None:
    try:
        return _columns(document, names, label_map, path, data)
    except OverflowError:  # an id or a size beyond int64 (10**30): the object reader says what is wrong
        return None


def _columns(document: _Document, names: dict, label_map, path: Path, data: bytes) -> Table | None:
    images, records = document.images, document.annotations
    n_images, count = len(images), len(records)
    image_ids = np.fromiter((image.id for image in images), np.int64, n_images)
    width = np.fromiter((image.width or 0 for image in images), np.int64, n_images)
    height = np.fromiter((image.height or 0 for image in images), np.int64, n_images)
    if (np.unique(image_ids).size != n_images or (width <= 0).any() or (height <= 0).any()
            or not all(image.file_name for image in images)):
        return None  # duplicate ids, sizes the images must give: the object reader's way
    if any(r.keypoints is not _UNSET or r.num_keypoints is not _UNSET for r in records):
        return None
    category_ids = np.array(sorted(k for k in names if type(k) is int), dtype=np.int64)
    if category_ids.size != len(names):
        return None
    item = _lookup(image_ids, np.fromiter((r.image_id for r in records), np.int64, count))
    label = _lookup(category_ids, np.fromiter((r.category_id for r in records), np.int64, count))
    if item is None or label is None:
        return None
    crowd = np.fromiter((0 if r.iscrowd is _UNSET else r.iscrowd for r in records), np.int64, count)
    areas = np.fromiter((0.0 if r.area is _UNSET else r.area for r in records), np.float64, count)
    if ((crowd < 0) | (crowd > 1)).any() or not ((areas >= 0) & np.isfinite(areas)).all():
        return None
    declared = _declared_boxes(records)
    if declared is None:
        return None
    rows = np.argsort(item, kind="stable")  # grouped by image, file order within an image
    shapes = _shapes(records, images, item, rows)
    if shapes is None:
        return None
    kind, eager, rectangle, polygons = shapes
    hints = _hints(records, path)
    if hints is None:
        return None
    kind, box = _kinds_and_boxes(kind, rectangle, declared[rows], hints[rows], eager)
    item_rows = offsets(np.bincount(item, minlength=n_images))
    return Table(
        filenames=["/" + image.file_name.lstrip("/") for image in images], width=width, height=height,
        item_rows=item_rows, kind=kind, label=label[rows].astype(np.int32), box=box,
        crowd=crowd[rows] == 1, attributes=np.fromiter((bool(records[i].attributes) for i in rows.tolist()), bool,
                                                      count),
        labels=[names[c] for c in category_ids.tolist()], label_map=label_map,
        view=_view(records, rows, names, label_map, path), origin=str(path), rings=LazyRings(polygons, 0, count),
        extras={KEPT_JSON: KeptJSON(data, rows, label_map, path)})  # no copy: raw segmentations hold data


def _lookup(known: np.ndarray, wanted: np.ndarray) -> np.ndarray | None:
    """The position of every ``wanted`` id in ``known`` (ids unique); None when one is not there."""
    order = np.argsort(known, kind="stable")
    where = np.searchsorted(known, wanted, sorter=order)
    inside = where < known.size
    if not inside.all():
        return None
    found = order[where]
    return found if (known[found] == wanted).all() else None


def _declared_boxes(records: list[_Record]) -> np.ndarray | None:
    """Each record's ``bbox`` as x, y, w, h (NaN where none); None when one is not 4 finite numbers, w, h ≥ 0,
    with a finite right and bottom."""
    boxes = np.full((len(records), 4), np.nan)
    given = [i for i, r in enumerate(records) if r.bbox is not None and r.bbox is not _UNSET]
    values = [records[i].bbox for i in given]
    if any(len(v) != 4 for v in values):
        return None
    if given:
        boxes[given] = values
    chosen = boxes[given]
    if not np.isfinite(chosen).all() or (chosen[:, 2:] < 0).any():
        return None
    with np.errstate(over="ignore"):
        ends = chosen[:, :2] + chosen[:, 2:]
    return boxes if np.isfinite(ends).all() else None  # a right or bottom beyond float: the object reader says so


def _shapes(records: list[_Record], images: list[_Image], item: np.ndarray, rows: np.ndarray):
    """Per row (``rows``: the records in table order): ``(kind, parsed, rectangle, polygons)`` — MASK for an
    RLE (checked as the object reader checks it), POLYGON where the record has a non-empty ring, else 0
    (decided by its bbox); the rings parsed here; which rows are one ring that is an upright rectangle; and
    every row's polygon list for :class:`LazyRings`. None when a segmentation is malformed.

    Only short polygon lists (at most 8 numbers: a rectangle, an empty list) are parsed here, as their kind
    depends on their points; longer ones are polygons, parsed by whoever writes them (:class:`_Polygons`).
    """
    count = len(records)
    kind = np.zeros(count, dtype=np.uint8)
    raws: list[msgspec.Raw | None] = [None] * count  # the polygon list of each row, as written
    short: list[int] = []  # rows whose polygon list may have at most 8 numbers
    for row, index in enumerate(rows.tolist()):
        raw = records[index].segmentation
        if raw is _UNSET:
            continue
        view = memoryview(raw)  # raw: the record's JSON, a view of the file's bytes (no copy)
        head = view[:1].tobytes()
        if head == b"{":
            rle = _decode(raw)
            image = images[item[index]]
            size = {"width": image.width, "height": image.height}
            if not isinstance(rle, dict) or rle_problem(rle, size) is not None:
                return None
            kind[row] = MASK
        elif head == b"[":
            raws[row] = raw
            # at most 8 numbers; a longer text is parsed later, and if it holds no more the object path runs
            if view.nbytes < 512 and view.tobytes().count(b",") < 8:
                short.append(row)
            else:
                kind[row] = POLYGON
        elif head != b"n":  # null: no segmentation
            return None
    decoded = decode_polygon_lists([raws[row] for row in short])
    if decoded is None:
        return None
    row_sizes, sizes, flat = decoded
    kind[np.asarray(short, dtype=np.int64)[row_sizes > 0]] = POLYGON
    per_row = np.zeros(count, dtype=np.int64)
    per_row[short] = row_sizes
    eager = Rings(flat.reshape(-1, 2), offsets(sizes // 2), offsets(per_row))
    unparsed = np.array([raw is not None for raw in raws], dtype=bool)
    unparsed[short] = False
    return kind, eager, _one_upright_rectangle(eager), _Polygons(raws, unparsed)


class _Polygons:
    """The rows' polygon lists as written, parsed when a writer asks for a range of rows (:class:`RingDecoder`).

    A long list was taken for a polygon unparsed: one that turns out malformed, without a ring, or a lone
    four-point ring (which the object reader may read as a box) raises :class:`NotExact`, and the object
    path runs."""

    def __init__(self, raws: list[msgspec.Raw | None], unparsed: np.ndarray) -> None:
        self.raws, self.unparsed = raws, unparsed

    def decode(self, start: int, end: int) -> Rings:
        rows = [row for row in range(start, end) if self.raws[row] is not None]
        decoded = decode_polygon_lists([self.raws[row] for row in rows])
        if decoded is None:
            raise NotExact
        row_sizes, sizes, flat = decoded
        given = np.asarray(rows, dtype=np.int64)
        single = row_sizes == 1
        lone_rectangle = np.zeros(len(rows), dtype=bool)
        lone_rectangle[single] = sizes[offsets(row_sizes)[:-1][single]] == 8  # one ring of 4 points (8 numbers)
        if (self.unparsed[given] & ((row_sizes == 0) | lone_rectangle)).any():
            raise NotExact
        per_row = np.zeros(end - start, dtype=np.int64)
        per_row[given - start] = row_sizes
        return Rings(flat.reshape(-1, 2), offsets(sizes // 2), offsets(per_row))


def _decode(raw: msgspec.Raw) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None


def _one_upright_rectangle(rings: Rings) -> np.ndarray:
    """Rows of exactly one ring of four distinct corners on two x and two y values (how boxes are written)."""
    rows = np.flatnonzero(rings.ring_count() == 1)
    first = rings.row_rings[rows]
    rows = rows[np.diff(rings.ring_offsets)[first] == 4]
    out = np.zeros(rings.row_rings.size - 1, dtype=bool)
    if rows.size:
        start = rings.ring_offsets[rings.row_rings[rows]]
        corners = rings.coords[start[:, None] + np.arange(4)]  # (k, 4, 2)
        xs, ys = np.sort(corners[:, :, 0], axis=1), np.sort(corners[:, :, 1], axis=1)
        two_x = (xs[:, 0] == xs[:, 1]) & (xs[:, 2] == xs[:, 3]) & (xs[:, 1] != xs[:, 2])
        two_y = (ys[:, 0] == ys[:, 1]) & (ys[:, 2] == ys[:, 3]) & (ys[:, 1] != ys[:, 2])
        # with two x and two y values, four distinct corners are the four combinations of them
        code = (corners[:, :, 0] == xs[:, :1]) * 2 + (corners[:, :, 1] == ys[:, :1])
        distinct = (np.sort(code, axis=1) == np.arange(4)).all(axis=1)
        out[rows] = two_x & two_y & distinct
    return out


def _hints(records: list[_Record], path: Path) -> np.ndarray | None:
    """Each record's ``coco_ids.json`` type ('' when none); None for a hint the table does not read."""
    known = shape_hints(path)
    hints = np.full(len(records), "", dtype=object)
    if known:
        for index, record in enumerate(records):
            hint = known.get(record.id) if record.id is not _UNSET else None
            if hint is not None:
                if hint not in _KNOWN_HINTS:
                    return None
                hints[index] = hint
    return hints


def _kinds_and_boxes(kind: np.ndarray, rectangle: np.ndarray, declared: np.ndarray, hints: np.ndarray,
                     rings: Rings) -> tuple[np.ndarray, np.ndarray]:
    """The object reader's choice per row (see the module docstring) and its box: left, top, right, bottom."""
    x, y, w, h = declared.T
    has_box = ~np.isnan(x)
    box = np.column_stack((x, y, x + w, y + h))  # NaN rows stay NaN
    kind = kind.copy()
    kind[(kind == 0) & has_box] = BOX
    kind[kind == 0] = CLASS
    candidates = np.flatnonzero(rectangle & (kind == POLYGON) & ((hints == "box") | ((hints == "") & has_box)))
    if candidates.size:
        start = rings.ring_offsets[rings.row_rings[candidates]]
        corners = rings.coords[start[:, None] + np.arange(4)]
        low, high = corners.min(axis=1), corners.max(axis=1)
        is_box = hints[candidates] == "box"
        fits = ((low[:, 0] == x[candidates]) & (low[:, 1] == y[candidates])
                & _isclose(high[:, 0], (x + w)[candidates]) & _isclose(high[:, 1], (y + h)[candidates]))
        chosen = candidates[is_box | fits]
        kind[chosen] = BOX
        box[chosen] = np.column_stack((low, high))[is_box | fits]
    return kind, box


def _isclose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)``, element by element."""
    return np.abs(a - b) <= np.maximum(1e-12 * np.maximum(np.abs(a), np.abs(b)), 1e-12)


def _view(records: list[_Record], rows: np.ndarray, names: dict, label_map, path: Path):
    """Row → the annotations the object reader builds for its record (from the decoded fields)."""
    hints = shape_hints(path)

    def view(row: int) -> list[Annotation]:
        record = records[int(rows[row])]
        fields = {name: getattr(record, name) for name in ("id", "image_id", "category_id", "bbox", "iscrowd",
                                                            "area", "attributes")}
        fields = {k: v for k, v in fields.items() if v is not _UNSET}
        if record.segmentation is not _UNSET:
            fields["segmentation"] = msgspec.json.decode(record.segmentation)
        hint = hints.get(record.id) if record.id is not _UNSET else None
        return record_to_annotations(fields, names[record.category_id], label_map, hint)

    return view
