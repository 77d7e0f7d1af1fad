"""Dataloop JSON: one item JSON file per item, in a dataset export folder.

Layout (``dataset.download_annotations()`` and the platform export)::

    export/
    ├── items/<remote dir>/<file>          binaries, optional
    └── json/<remote dir>/<stem>.json      V1 naming (default): extension replaced
        json/<remote dir>/<file>.json      V2 naming: ".json" appended

Reading accepts the export root, its ``json/`` folder, or a single file, and both item JSON
shapes (server export and the SDK's ``_id`` shape). Nothing is lost: a file read and written
back is the same JSON value, key order and number types included. The label map is the export
root's ``labelmap.json`` (what dlconvert writes), else its ``ontology.json`` (with ``recipe.json``);
images are looked for under the export's ``items/`` (``Dataset.image_roots``).

An export without item files is an empty dataset when it is recognisably a Dataloop export — a
``json/`` folder, ``labelmap.json`` or ``ontology.json`` at its root (a dlconvert output of an
empty dataset holds only ``labelmap.json``): it reads as zero items with ``declared_empty`` set.
A folder with none of them holds nothing Dataloop-like, and zero items read from it is "no items
found" (``FORMAT.looks_for`` says what was looked for).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from .._io import atomic_write, safe_join
from .._json import dumps
from ..collection import AnnotationCollection
from ..errors import DlconvertError, FormatError, OutputError
from ..labels import LABELMAP_FILENAME, LabelMap
from . import FormatSpec
from ._dataloop_detect import detect, is_export_root, refuse_several_exports

if TYPE_CHECKING:
    from ..dataset import ConvertOptions, Dataset, ShardOutput, SourcePlan
    from ..report import ConversionReport
    from ..table import Table

__all__ = [
    "FORMAT",
    "export_root",
    "find_item_file",
    "iter_json_files",
    "json_relpath",
    "read_dataloop",
    "write_dataloop",
]

#: File names at an export's top level that describe the dataset, not an item.
_DATASET_FILES = frozenset({LABELMAP_FILENAME, "ontology.json", "recipe.json", "labels.json"})
#: What the reader looks for (the "no items found" error names it).
LOOKS_FOR = "item JSON files: json/**/*.json in an export folder, or *.json"


def _json_root(src: Path) -> Path:
    return src / "json" if (src / "json").is_dir() else src


def export_root(src: str | os.PathLike[str]) -> Path:
    """The export folder a source path belongs to: the folder itself, the parent of its ``json/``
    folder, or for a single item file the folder above the ``json/`` it lies in (else its folder)."""
    path = Path(src)
    if path.is_file():
        json_folder = next((parent for parent in path.parents if parent.name == "json"), None)
        return json_folder.parent if json_folder is not None else path.parent
    return path.parent if path.name == "json" else path


def iter_json_files(src: str | os.PathLike[str]) -> list[Path]:
    """The item JSON files of an export folder (sorted), or ``[src]`` for a single file."""
    src = Path(src)
    if src.is_file():
        return [src]
    if not src.is_dir():
        raise FormatError("no such file or folder", path=src)
    root = _json_root(src)
    top = str(root)
    found: list[tuple[str, str]] = []  # (the file's path under root, POSIX style; its path)
    for folder, folders, names in os.walk(top):  # (text, not a Path per file: 25k exports list in 0.1 s, not 0.5)
        folders[:] = [name for name in folders if not name.startswith(".")]  # (links to folders: not followed)
        under = os.path.relpath(folder, top).replace(os.sep, "/")
        for name in names:  # everything but folders: a link to nowhere or to a device is listed, reading it fails
            if name.startswith(".") or not name.endswith(".json"):
                continue
            if name in _DATASET_FILES and root.name != "json" and (
                    under == "." or ("json" in folders and "json" not in under.split("/"))):
                continue  # an export root's own files, at the top or beside a json/ folder (inside json/ the same
                # names are items: /ontology.jpg)
            found.append((name if under == "." else f"{under}/{name}", os.path.join(folder, name)))
    return [Path(path) for _, path in sorted(found)]


def read_dataloop(
    src: str | os.PathLike[str], *, errors: list[DlconvertError] | None = None
) -> Iterator[AnnotationCollection]:
    """Yield one collection per item JSON file, lazily.

    Without ``errors`` the first malformed file or annotation raises; with a list, problems
    are appended there and reading goes on (a bad file is skipped, a bad annotation dropped).
    """
    for path in iter_json_files(src):
        try:
            yield AnnotationCollection.from_json_file(path, errors=errors)
        except DlconvertError as exc:
            if errors is None:
                raise
            errors.append(exc.at(path=path))


def json_relpath(collection: AnnotationCollection, naming: str = "v1") -> str:
    """Where an item's JSON goes under ``json/``: its remote path with ``.json`` (V1 replaces the extension)."""
    return filename_relpath(collection.filename or (collection.item_id and f"/{collection.item_id}") or "/item",
                            naming)


def filename_relpath(filename: str, naming: str = "v1") -> str:
    """:func:`json_relpath` of an item whose remote path is ``filename``."""
    relative = filename.lstrip("/")
    if naming == "v2":
        return relative + ".json"
    stem, _ = posixpath.splitext(relative)
    return (stem or relative) + ".json"


def write_dataloop(
    collections: Iterable[AnnotationCollection], dst: str | os.PathLike[str], *, naming: str = "v1",
    indent: bool = True,
) -> list[Path]:
    """Write each collection to ``dst/json/<remote path>.json`` atomically; returns the paths.

    Two items that map to the same file (``a.jpg`` and ``a.png`` under V1 naming) raise
    :class:`OutputError` rather than overwrite each other.
    """
    if naming not in ("v1", "v2"):
        raise ValueError("naming must be 'v1' or 'v2'")
    written: dict[Path, str | None] = {}
    for collection in collections:
        _write_item(collection, Path(dst), written, naming, indent)
    return list(written)


def _write_item(collection: AnnotationCollection, dst: Path, written: dict[Path, str | None], naming: str,
                indent: bool) -> Path:
    """Write one item's JSON; an unsafe or taken path raises :class:`OutputError` before anything is written."""
    target = safe_join(dst / "json", json_relpath(collection, naming))
    if target in written:
        raise OutputError(
            f"items {written[target]!r} and {collection.filename!r} both map to {target.name} "
            f"under {naming.upper()} naming; use naming='v2'", path=target)
    atomic_write(target, dumps(collection.to_json(), indent=indent))
    written[target] = collection.filename
    return target


def find_item_file(export: str | os.PathLike[str], collection: AnnotationCollection) -> Path | None:
    """The item's binary under ``items/`` of an export folder, if it is there."""
    if not collection.filename:
        return None
    root = export_root(export)
    try:
        candidate = safe_join(root / "items", collection.filename)
    except OutputError:
        return None
    return candidate if candidate.is_file() else None


def find_label_map(src: str | os.PathLike[str]) -> LabelMap | None:
    """The label map saved at an export's root: ``labelmap.json``, else ``ontology.json`` (+ ``recipe.json``)."""
    root = export_root(src)
    for name in (LABELMAP_FILENAME, "ontology.json"):
        if (root / name).is_file():
            return LabelMap.load(root / name)
    return None


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """The item JSON files (one unit each), the saved label map and the export's ``items/`` folder;
    a recognisable export without items is ``declared_empty`` (see the module docstring)."""
    from ..dataset import SourcePlan

    if src.is_dir():
        refuse_several_exports(src)
    root = export_root(src)
    units = [str(p) for p in iter_json_files(src)]
    images = root / "items" if (root / "items").is_dir() else None
    return SourcePlan(units, labels=find_label_map(src), images_root=images, image_roots=(images,) if images else (),
                      declared_empty=not units and src.is_dir() and is_export_root(root))


def read_units(context: None, files: list[str], options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """Items of these files, lazily; malformed records reported by the report's policy."""
    for path in files:
        errors: list[DlconvertError] = []
        try:
            collection = AnnotationCollection.from_json_file(path, errors=errors)
        except DlconvertError as exc:
            report.failed(exc.at(path=path), code="dataloop.invalid-file")
            continue
        for error in errors:
            report.bad_record(error, code="dataloop.invalid-annotation", item=collection.filename)
        yield collection


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """The converter's reader: items lazily, malformed records reported by the report's policy."""
    source = plan(src, options, report)
    return source.dataset(read_units(None, source.units, options, report))


def write_shard(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> ShardOutput:
    """Write the item JSON files (V1 naming) of these items.

    An item whose path is unsafe or taken by another item is a bad item (see ``ConversionReport.bad_item``).
    """
    from ..dataset import ShardOutput

    by_path: dict[Path, str | None] = {}
    for collection in dataset.items:
        try:
            _write_item(collection, Path(dst), by_path, "v1", options.indent)
        except OutputError as exc:
            report.bad_item(exc, collection, code="dataloop.unwritable-item")
            continue
        for annotation in collection:
            report.wrote(annotation)
        report.items_out += 1
    return ShardOutput(list(by_path))


def finish(shards: list[ShardOutput], dataset: Dataset, dst: Path, options: ConvertOptions,
           report: ConversionReport) -> list[Path]:
    """``labelmap.json`` when the labels are known."""
    return save_label_map(dataset.labels, Path(dst))


def save_label_map(labels: LabelMap | None, dst: Path) -> list[Path]:
    """``dst/labelmap.json`` when the labels are known; the paths written."""
    if labels is None:
        return []
    labels.save(dst / LABELMAP_FILENAME)
    return [dst / LABELMAP_FILENAME]


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write item JSON files (V1 naming) and ``labelmap.json`` when labels are known."""
    shard = write_shard(dataset, dst, options, report)
    return [*shard.outputs, *finish([shard], dataset, dst, options, report)]


def read_table(src: Path, options: ConvertOptions, *, workers: int = 1) -> Table | None:
    """The columnar path's reader (:mod:`._dataloop_read_table`, which builds on this module)."""
    from ._dataloop_read_table import read_table as read_columns

    return read_columns(src, options, workers=workers)




def write_table(table: Table, dst: Path, options: ConvertOptions, report: ConversionReport, *,
                workers: int = 1, progress: Callable | None = None) -> list[Path] | None:
    """The columnar path's writer (:mod:`._dataloop_table`, which builds on this module)."""
    from ._dataloop_table import write_table as write_columns

    return write_columns(table, dst, options, report, workers=workers, progress=progress)


FORMAT = FormatSpec(
    name="dataloop",
    summary="Dataloop item JSON, one file per item in an export folder (json/ + items/); lossless",
    holds=frozenset({"box", "segment", "polyline", "binary", "point", "ellipse", "cube", "pose", "class",
                     "subtitle", "*"}),
    approximates={},
    read=read,
    write=write,
    plan=plan,
    read_units=read_units,
    write_shard=write_shard,
    finish=finish,
    read_table=read_table,
    table_writers=frozenset({"coco"}),  # held to the COCO writer only (the others read what an item says elsewhere)
    write_table=write_table,
    options=frozenset({"indent"}),
    looks_for=LOOKS_FOR,
    detect=detect,
)
