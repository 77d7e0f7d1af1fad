"""Does a path look like COCO? (``FORMAT.detect``; bounded looks, :mod:`dlconvert.formats._sniff`)

A COCO file is a JSON object with an ``images`` list and an ``annotations`` or ``categories`` list,
in any key order (the outline also searches the file's end, where ``categories`` usually is). A
JSON list of records with ``image_id`` and ``category_id`` is a COCO *results* file: it is named as
COCO, so that the reader says what it is and what to convert instead. A folder is COCO when one of
its ``.json`` files (at most a few levels down; dlconvert's ``labelmap.json`` and ``coco_ids.json``
aside) is; the reader wants exactly one, so the reason says how many there are.
"""

from __future__ import annotations

from pathlib import Path

from ...labels import LABELMAP_FILENAME
from .._sniff import json_outline, relative, walk
from .source import IDS_FILENAME

__all__ = ["detect"]

_SECTIONS = ("images", "annotations", "categories")
_SNIFFED = 8  # JSON files of a folder looked into


def detect(path: Path) -> str | None:
    """Why ``path`` (a COCO file, or a folder holding one) looks like COCO, or None."""
    if path.is_dir():
        return _folder(path)
    return _file(path)


def _file(path: Path) -> str | None:
    outline = json_outline(path)
    if outline is None:
        return None
    if outline.kind == "array":
        keys = outline.item_keys()
        if "image_id" in keys and "category_id" in keys:
            return "a COCO results list (records with image_id and category_id)"
        return None
    lists = [key for key in _SECTIONS if outline.has_list(key)]
    if "images" not in lists or len(lists) < 2:
        return None
    return f"a JSON object with {_quoted(lists)} lists"


def _folder(folder: Path) -> str | None:
    files = walk(folder, (".json",), skip=(LABELMAP_FILENAME, IDS_FILENAME))
    for path in files[:_SNIFFED]:
        why = _file(path)
        if why is not None:
            shown = relative(path, folder)
            if len(files) == 1:
                return f"{shown}: {why}"
            more = f"{len(files)}+" if len(files) >= 64 else str(len(files))
            return f"{shown}: {why} ({more} JSON files in the folder: the COCO reader takes one, name it)"
    return None


def _quoted(keys: list[str]) -> str:
    quoted = [f"'{key}'" for key in keys]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
