"""Reading a Dataloop export into tables (:class:`~dlconvert.table.Table`), for bulk jobs — when it can be done exactly.

Reading 25k small item files is most of a Dataloop → COCO run, so the files are read range by range
(:class:`ItemFiles`) by the worker that writes that range (:func:`dlconvert.parallel.map_shared`): what a
range holds never travels between processes, and the main process never holds it all. Each file is
decoded once by msgspec (the annotations as raw JSON per key, a box's and a polygon's points typed
straight into floats — no annotation object, no dict per point). The item fields are the object
reader's own: the item's JSON without its annotations goes through :meth:`AnnotationCollection.from_json
<dlconvert.collection.AnnotationCollection.from_json>`.

Rows: one per annotation of the types the columns model (box, segment, binary, class), in file
order; a box's edges and a polygon's rings in the columns; the rest of what a writer may need — the
annotation's id, ``metadata.user.coco`` (what a COCO source kept), its v2 attributes, the item's JSON —
in :class:`SourceJSON` (``Table.extras[SOURCE_JSON]``). A row the columns do not settle exactly (a
rotated box or one with odd coordinates, a polygon read the careful way, a mask, a classification) is
marked ``delegated``: a writer hands it to its per-annotation code through the view
(:meth:`Table.annotations_of`: the object reader's annotation, its item file read again).

None — the object path runs, and says precisely what is wrong — for a range with a file the object reader would
report or refuse (invalid JSON, a bad annotation, a mask whose PNG header is broken), a type the
columns do not model (point, polyline, ellipse, cube, pose, note …), a track (a video or audio
item, an annotation with stored frames), an item that is no image or has no file name, an
annotation without a label, or a label map the user pinned.

The table is held to the COCO writer only (``FORMAT.table_writers``): the other table writers
and the renderer take COCO's columns and conventions (a declared box, item splits, object ids) that a
Dataloop item says elsewhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import orjson

from .._json import read_json_bytes
from ..collection import AnnotationCollection
from ..errors import DlconvertError
from ..geometry import definition_from_json
from ..labels import LabelMap
from ..parallel import without_cyclic_gc
from ..report import ConversionReport
from ..table import BOX, CLASS, MASK, POLYGON, Rings, Table, offsets
from ._metadata import section
from ._policy import is_image_item
from .dataloop import plan

if TYPE_CHECKING:
    from ..annotation import Annotation
    from ..dataset import ConvertOptions, SourcePlan

__all__ = ["SOURCE_JSON", "ItemFiles", "SourceJSON", "read_table"]

#: ``Table.extras`` key of the reader's :class:`SourceJSON`.
SOURCE_JSON = "dataloop_json"
#: The JSON text of each modelled type (as it is in nearly every file: no escapes) → its kind.
_KINDS = {b'"box"': BOX, b'"segment"': POLYGON, b'"binary"': MASK, b'"class"': CLASS}
_TYPES = {BOX: "box", POLYGON: "segment", MASK: "binary", CLASS: "class"}


class _Point(msgspec.Struct):
    x: float
    y: float


_TOP = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ANNOTATIONS = msgspec.json.Decoder(list[dict[str, msgspec.Raw]])
_POINTS = msgspec.json.Decoder(list[_Point])  # a box's points, a polygon's flat ring
_RINGS = msgspec.json.Decoder(list[list[_Point]])
_POLYGONS = msgspec.json.Decoder(list[list[list[_Point]]])  # the rings of every polygon of a file
_NO_BOX = (math.nan,) * 4


class _Refused(Exception):
    """Something only the object path reads (or reports) exactly."""


def read_table(src: Path, options: ConvertOptions, *, workers: int = 1) -> ItemFiles | None:
    """The Dataloop export ``src`` as item files a writer reads range by range (``workers``: each range is read by
    the worker that writes it); None when only the object reader reads it exactly (see the module docstring)."""
    if options.labels is not None:  # a pinned map: the writers report its missing labels per annotation
        return None
    try:
        source = plan(Path(src), options, ConversionReport())
    except DlconvertError:
        return None
    if not source.units:
        return None
    return ItemFiles([Path(unit) for unit in source.units], source, Path(src))


@dataclass
class ItemFiles:
    """A Dataloop export's item files, in the order the object reader reads them, each range read into a table of
    its own (items and rows numbered from 0) where it is written."""

    files: list[Path]
    source_plan: SourcePlan
    src: Path

    @property
    def item_count(self) -> int:
        return len(self.files)

    @property
    def label_map(self) -> LabelMap:
        return self.source_plan.labels if self.source_plan.labels is not None else LabelMap()

    def read(self, first: int, stop: int) -> Table | None:
        """Files ``first:stop`` as a table; None when one of them is left to the object reader."""
        with without_cyclic_gc():  # a few small acyclic objects per annotation
            part = _read_files(self.files, first, stop)
        return None if part is None else _table(part, self.files[first:stop], self)


@dataclass
class _Part:
    """What a range of files holds, gathered while they are read."""

    filenames: list[str] = field(default_factory=list)
    sizes: list[tuple[int, int]] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)  # each item's JSON, its annotations left out
    collections: list[AnnotationCollection] = field(default_factory=list)  # each item, without annotations
    row_counts: list[int] = field(default_factory=list)
    kinds: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    boxes: list[tuple] = field(default_factory=list)
    ring_sizes: list[int] = field(default_factory=list)  # points per ring
    row_rings: list[int] = field(default_factory=list)  # rings per row
    xs: list[float] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    coords: np.ndarray | None = None  # (xs, ys) once the range is read
    ids: list[Any] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)
    attributes: list[dict] = field(default_factory=list)
    delegated: list[bool] = field(default_factory=list)
    raws: dict[int, dict] = field(default_factory=dict)  # the JSON of delegated rows (by row in this part)


def _read_files(files: list[Path], first: int, stop: int) -> _Part | None:
    part = _Part()
    try:
        for path in files[first:stop]:
            _read_file(path, part)
    except _Refused:
        return None
    part.coords = np.column_stack((np.array(part.xs, dtype=np.float64), np.array(part.ys, dtype=np.float64)))
    part.xs, part.ys = [], []  # one array from here on, not a float object each
    return part


def _read_file(path: Path, part: _Part) -> None:
    try:
        top = _TOP.decode(read_json_bytes(path))
        item = {key: orjson.loads(memoryview(raw)) for key, raw in top.items() if key != "annotations"}
        raw_annotations = _ANNOTATIONS.decode(top["annotations"]) if "annotations" in top else []
        if "annotations" in top:
            item["annotations"] = []
        collection = AnnotationCollection.from_json(item, path=path)
    except (msgspec.DecodeError, msgspec.ValidationError, orjson.JSONDecodeError, DlconvertError) as exc:
        raise _Refused from exc
    if not is_image_item(collection) or not collection.filename:
        raise _Refused
    width, height = collection.display_size
    part.filenames.append(collection.filename)
    part.sizes.append((width, height) if width and height else (-1, -1))
    part.items.append(item)
    part.collections.append(collection)
    part.row_counts.append(len(raw_annotations))
    still = collection.mimetype is not None  # else a stored snapshot makes a track (AnnotationCollection.from_json)
    polygons: list[tuple[int, dict[str, msgspec.Raw]]] = []  # (row in this part, annotation) of the file's polygons
    for raw in raw_annotations:
        if _read_annotation(raw, still, part):
            polygons.append((len(part.kinds) - 1, raw))
    _read_polygons(polygons, part)


def _read_annotation(raw: dict[str, msgspec.Raw], still: bool, part: _Part) -> bool:
    """Add one annotation's row; True for a polygon (its coordinates are read with the file's others)."""
    kind = _KINDS.get(bytes(raw["type"])) if "type" in raw else None
    if kind is None:
        raise _Refused  # a type the columns do not model, or a malformed one
    label = _value(raw, "label")
    metadata = _value(raw, "metadata")
    metadata = {} if metadata is None else metadata
    system = metadata.get("system", {}) if isinstance(metadata, dict) else None
    if type(label) is not str or not isinstance(system, dict):
        raise _Refused
    identity = _value(raw, "id") if "id" in raw else _value(raw, "_id")
    for value in (identity, _value(raw, "_id"), system.get("parentId")):
        if value is not None and type(value) not in (str, int):
            raise _Refused
    if not still and system.get("snapshots_"):
        raise _Refused
    attributes = system.get("attributes")
    part.kinds.append(kind)
    part.labels.append(label)
    part.ids.append(identity)
    part.kept.append(section(metadata, "user", "coco"))
    part.attributes.append(dict(attributes) if isinstance(attributes, dict) else {})
    key = "coordinates" if "coordinates" in raw else ("data" if "data" in raw else None)
    coordinates = raw[key] if key is not None else None
    part.row_rings.append(0)  # a polygon's count is set when the file's polygons are read
    if kind == POLYGON and coordinates is not None:
        part.boxes.append(_NO_BOX)
        part.delegated.append(False)
        return True
    box = _box(coordinates) if kind == BOX else None
    if box is None:  # a mask, a classification, a box with an angle or odd points: the object code's
        _check(raw, key, kind, label)
    part.boxes.append(box or _NO_BOX)
    part.delegated.append(box is None)
    if box is None:
        part.raws[len(part.kinds) - 1] = _parsed(raw)
    return False


def _parsed(raw: dict[str, msgspec.Raw]) -> dict:
    """An annotation's JSON as the object reader reads it."""
    return {key: orjson.loads(memoryview(value)) for key, value in raw.items()}


def _value(raw: dict[str, msgspec.Raw], key: str) -> Any:
    return orjson.loads(memoryview(raw[key])) if key in raw else None


def _box(coordinates: msgspec.Raw | None) -> tuple[float, float, float, float] | None:
    """A box's edges when its coordinates are points alone (``[{x, y, z}, {x, y, z}]``), as the object reader
    takes them (min and max of every point); None for anything else."""
    if coordinates is None:
        return None
    try:
        points = _POINTS.decode(coordinates)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    if len(points) < 2:
        return None
    xs, ys = [p.x for p in points], [p.y for p in points]
    box = (min(xs), min(ys), max(xs), max(ys))
    return box if all(map(math.isfinite, box)) else None


def _check(raw: dict[str, msgspec.Raw], key: str | None, kind: int, label: str) -> None:
    """Refuse a delegated row the object reader would refuse (its coordinates malformed, a mask's PNG header)."""
    try:
        definition_from_json(_TYPES[kind], _value(raw, key) if key is not None else None, label, None,
                             has_coordinates=key is not None)
    except (DlconvertError, orjson.JSONDecodeError) as exc:
        raise _Refused from exc


def _read_polygons(polygons: list[tuple[int, dict[str, msgspec.Raw]]], part: _Part) -> None:
    """The rings of a file's polygons, decoded at once (each alone, the careful way, when that fails)."""
    if not polygons:
        return
    raws = [raw["coordinates" if "coordinates" in raw else "data"] for _, raw in polygons]
    try:
        decoded = _POLYGONS.decode(b"[" + b",".join(raws) + b"]")
    except (msgspec.DecodeError, msgspec.ValidationError):
        decoded = [_rings(raw) for raw in raws]
    for (row, raw), rings in zip(polygons, decoded, strict=True):
        if rings is False:
            part.delegated[row] = True
            part.raws[row] = _parsed(raw)
            continue
        part.row_rings[row] = len(rings)
        for ring in rings:
            part.ring_sizes.append(len(ring))
            part.xs.extend([p.x for p in ring])
            part.ys.extend([p.y for p in ring])


def _rings(raw: msgspec.Raw) -> list[list[_Point]] | bool:
    """One polygon's rings; a flat list of points is one ring; False (delegated) for anything the object
    reader reads the careful way, which must read it (else the object path reports it)."""
    for decoder in (_RINGS, _POINTS):
        try:
            rings = decoder.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            continue
        if decoder is _POINTS:
            rings = [rings] if rings else []
        if all(math.isfinite(v) for ring in rings for p in ring for v in (p.x, p.y)):
            return rings
        break
    try:
        definition_from_json("segment", orjson.loads(memoryview(raw)), None, None)
    except (DlconvertError, orjson.JSONDecodeError) as exc:
        raise _Refused from exc
    return False


def _table(part: _Part, files: list[Path], export: ItemFiles) -> Table | None:
    if not np.isfinite(part.coords).all():  # a number beyond a float (1e999): the object reader reports it
        return None
    names, label_index = np.unique(np.asarray(part.labels, dtype=object), return_inverse=True) \
        if part.labels else (np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64))
    item_rows = offsets(np.array(part.row_counts, dtype=np.int64))
    sizes = np.array(part.sizes, dtype=np.int64).reshape(-1, 2)
    source = SourceJSON(items=part.items, collections=part.collections, files=files, ids=part.ids, kept=part.kept,
                        attributes=part.attributes, delegated=np.array(part.delegated, dtype=bool),
                        item_rows=item_rows, raws=part.raws)
    return Table(
        filenames=part.filenames, width=sizes[:, 0], height=sizes[:, 1], item_rows=item_rows,
        kind=np.array(part.kinds, dtype=np.uint8), label=label_index.astype(np.int32),
        box=np.array(part.boxes, dtype=np.float64).reshape(-1, 4),
        crowd=np.fromiter((k.get("iscrowd") == 1 for k in part.kept), bool, len(part.kept)),
        attributes=np.fromiter(map(bool, part.attributes), bool, len(part.attributes)),
        labels=names.tolist(), label_map=export.label_map, view=source.view, origin=str(export.src),
        rings=Rings(part.coords, offsets(np.array(part.ring_sizes, dtype=np.int64)),
                    offsets(np.array(part.row_rings, dtype=np.int64))),
        extras={SOURCE_JSON: source})


@dataclass
class SourceJSON:
    """What the object reader gives a writer beyond the columns, per item and per row of a range's table (items
    and rows numbered as in it, not in a slice of it)."""

    items: list[dict]  # each item's JSON without its annotations
    collections: list[AnnotationCollection]  # each item as the object reader reads it, without its annotations
    files: list[Path]
    ids: list[Any]  # each row's annotation id
    kept: list[dict]  # each row's metadata.user.coco
    attributes: list[dict]  # each row's v2 attributes
    delegated: np.ndarray  # rows left to a writer's per-annotation code
    item_rows: np.ndarray
    raws: dict[int, dict]  # the JSON of the rows the reader delegated
    _cached: tuple[int, AnnotationCollection] | None = None

    def view(self, row: int) -> list[Annotation]:
        """Row ``row``'s annotation as the object reader builds it: from its JSON, kept when the reader delegated
        it, else from its item file read again (and kept for the item's next row)."""
        item = int(np.searchsorted(self.item_rows, row, side="right")) - 1
        raw = self.raws.get(row)
        if raw is not None:  # (its errors would name /annotations/0: a row that has one goes the object way)
            item_json = {**self.items[item], "annotations": [raw]}
            return [AnnotationCollection.from_json(item_json, path=self.files[item]).annotations[0]]
        if self._cached is None or self._cached[0] != item:
            self._cached = (item, AnnotationCollection.from_json_file(self.files[item]))
        return [self._cached[1].annotations[row - int(self.item_rows[item])]]
