"""Does a path look like Dataloop JSON? (``dataloop.FORMAT.detect``; bounded looks, :mod:`._sniff`)

An item JSON is an object with an ``annotations`` list and the item's own keys (``filename``,
``_id``, ``itemMetadata`` …), or whose annotations have a ``type``, ``label`` or ``coordinates``;
a bare list of such annotations is the SDK's oldest shape. COCO files (``images`` at the top) are
not items. A folder is an export when its ``json/`` folder (or the folder itself, named ``json``)
holds item JSON files, or when item JSON files lie in it a few levels down; an export with a
``json/`` folder but no item yet, or only an ``ontology.json``, is an empty export.

A folder that is no export itself but holds several (:func:`exports_inside`: each a ``json/`` folder,
a ``labelmap.json`` or an ``ontology.json``) is refused, naming them
(:class:`~dlconvert.errors.NotADatasetError`): read as one, their items would be merged and their
label maps lost.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import NotADatasetError, listed
from ..labels import LABELMAP_FILENAME
from ._sniff import json_outline, relative, search_below, walk

__all__ = ["detect", "exports_inside", "is_export_root", "refuse_several_exports"]

_ITEM_KEYS = ("filename", "_id", "itemMetadata", "annotationsCount", "annotated")
_ANNOTATION_KEYS = ("type", "label", "coordinates")
_SNIFFED = 5  # JSON files of a folder looked into
_NAMED = 4  # exports named in a refusal


def detect(path: Path) -> str | None:
    """Why ``path`` (an item JSON file or an export folder) looks like Dataloop JSON, or None."""
    if path.is_dir():
        return _folder(path)
    return _file(path)


def _file(path: Path) -> str | None:
    outline = json_outline(path)
    if outline is None:
        return None
    if outline.kind == "array":
        keys = outline.item_keys()
        if "type" in keys and ("label" in keys or "coordinates" in keys):
            return "a list of Dataloop annotations ('type', 'label', 'coordinates')"
        return None
    if "images" in outline.keys:  # a COCO file, whose records also sit under "annotations"
        return None
    item_keys = [key for key in _ITEM_KEYS if key in outline.keys]
    annotation_like = any(key in outline.item_keys("annotations") for key in _ANNOTATION_KEYS)
    if outline.has_list("annotations") and (item_keys or annotation_like):
        if item_keys:
            return f"a Dataloop item JSON ('{item_keys[0]}' and an 'annotations' list)"
        return "a Dataloop item JSON (an 'annotations' list of 'type'/'label' records)"
    if "filename" in outline.keys and {"type", "coordinates"} <= outline.tail_keys:
        return "a Dataloop item JSON ('filename', annotations near its end)"
    return None


def _folder(folder: Path) -> str | None:
    from .dataloop import _DATASET_FILES

    root = folder if folder.name == "json" else folder / "json" if (folder / "json").is_dir() else None
    if root is not None:
        files = walk(root, (".json",), max_depth=4)
        if not files and root != folder:
            return "an export folder: json/ (no item JSON file in it yet)"
        return _first_item(files, folder)
    refuse_several_exports(folder)
    files = walk(folder, (".json",), skip=_DATASET_FILES)
    if files:
        return _first_item(files, folder)
    if (folder / "ontology.json").is_file():
        return "an export folder with no item yet (ontology.json)"
    return None


def _first_item(files: list[Path], folder: Path) -> str | None:
    for path in files[:_SNIFFED]:
        why = _file(path)
        if why is not None:
            many = f" ({len(files)}{'+' if len(files) >= 64 else ''} JSON files)" if len(files) > 1 else ""
            return f"{relative(path, folder)}: {why}{many}"
    return None


def is_export_root(folder: Path) -> bool:
    """Whether a folder is recognisably a Dataloop export's root (even without items): a ``json/`` folder, a
    ``labelmap.json`` or an ``ontology.json`` in it."""
    return (folder / "json").is_dir() or any((folder / name).is_file() for name in (LABELMAP_FILENAME, "ontology.json"))


def exports_inside(folder: Path) -> list[str]:
    """The Dataloop exports below ``folder`` (a few levels down, bounded), relative to it, when ``folder`` is no
    export itself (nor its ``json/`` folder); folders below an export are its own."""
    if folder.name == "json" or is_export_root(folder):
        return []
    return search_below(folder, lambda current: [relative(current, folder)] if is_export_root(current) else None)


def refuse_several_exports(folder: Path) -> None:
    """:class:`NotADatasetError` naming them when ``folder`` holds several Dataloop exports (:func:`exports_inside`):
    detection and the reader (``--from dataloop``) say the same."""
    exports = exports_inside(folder)
    if len(exports) > 1:
        raise NotADatasetError(f"a folder of {len(exports)} Dataloop exports ({listed(exports, _NAMED)}): dlconvert "
                               "reads one export at a time: point at one of them", path=folder)
