"""Where a LabelMe source keeps its files, and whether a path looks like LabelMe at all (``detect``).

A source is one LabelMe JSON file or a folder of them, in any subfolders (LabelMe saves each
file beside its image, or in its ``--output`` folder). Hidden files and folders (``.ipynb_checkpoints``,
dlconvert's ``.dlconvert-output.json``) and dlconvert's ``labelmap.json`` are not items. The
conventions some users keep beside (labelme2voc's ``SegmentationClass/`` PNGs, labelme2coco's
``annotations.json``) are not LabelMe: a JSON file that has neither ``shapes`` nor ``imagePath`` is
left out and listed as a warning (``labelme.not-labelme``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ...labels import LABELMAP_FILENAME
from .._sniff import json_outline, relative, walk

__all__ = ["LOOKS_FOR", "MAX_FILE_BYTES", "detect", "label_files"]

LOOKS_FOR = "LabelMe *.json files with a 'shapes' list (in the folder and its subfolders)"
#: Largest LabelMe file read (an embedded image of Pillow's largest size fits): a bigger one is refused unread.
MAX_FILE_BYTES = 1 << 30
#: How many JSON files of a folder ``detect`` looks into.
_FILES_LOOKED_AT = 8


def label_files(src: Path) -> tuple[Path, list[str]]:
    """``(root, paths)``: the folder items are named from and the JSON files under it (relative, POSIX, sorted)."""
    if src.is_file():
        return src.parent, [src.name]
    found = []
    for folder, folders, names in os.walk(src, followlinks=False):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        base = Path(folder)
        for name in names:
            if name.lower().endswith(".json") and not name.startswith(".") and name != LABELMAP_FILENAME:
                found.append((base / name).relative_to(src).as_posix())
    return src, sorted(found)


def _file(path: Path) -> str | None:
    """Why a JSON file looks like LabelMe (a ``shapes`` list, and ``imagePath`` or a shape's keys), or None."""
    outline = json_outline(path)
    if outline is None or outline.kind != "object" or not outline.has_list("shapes"):
        return None
    if outline.has("imagePath"):
        return "a JSON object with a 'shapes' list and 'imagePath'"
    if {"label", "points"} <= set(outline.item_keys("shapes")):
        return "a JSON object with a 'shapes' list of shapes with 'label' and 'points'"
    return None


def detect(path: Path) -> str | None:
    """Why ``path`` looks like LabelMe — a JSON file, or a folder with one a few levels down (the first few
    by name) — or None. Bounded looks only (:mod:`dlconvert.formats._sniff`)."""
    path = Path(path)
    if not path.is_dir():
        return _file(path) if path.suffix.lower() == ".json" else None
    files = walk(path, (".json",), skip=(LABELMAP_FILENAME,))
    for candidate in files[:_FILES_LOOKED_AT]:
        why = _file(candidate)
        if why is not None:
            return f"{relative(candidate, path)}: {why}"
    return None
