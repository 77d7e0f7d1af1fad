"""Where a LabelMe source keeps its files, and whether a path looks like LabelMe at all (``detect``).

A source is one LabelMe JSON file or a folder of them, in any subfolders (LabelMe saves each
file beside its image, or in its ``--output`` folder). Hidden files and folders (``.ipynb_checkpoints``,
dlconvert's ``.dlconvert-output.json``) and dlconvert's ``labelmap.json`` are not items. Linked folders
are followed when they stay inside the source (each real folder read once, under its real path when it
is also reached without the link, so a link loop ends); one that points outside the source is not read
and is listed as a warning (``labelme.linked-folder-outside``). ``detect`` walks the same way. The
conventions some users keep beside (labelme2voc's ``SegmentationClass/`` PNGs, labelme2coco's
``annotations.json``) are not LabelMe: a JSON file that has neither ``shapes`` nor ``imagePath`` is
left out and listed as a warning (``labelme.not-labelme``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from ...labels import LABELMAP_FILENAME
from ...report import Issue
from .._sniff import MAX_DEPTH, MAX_FOLDERS, json_outline

if TYPE_CHECKING:
    from ...report import ConversionReport

__all__ = ["LOOKS_FOR", "MAX_FILE_BYTES", "detect", "label_files"]

LOOKS_FOR = "LabelMe *.json files with a 'shapes' list (in the folder and its subfolders)"
#: Largest LabelMe file read (an embedded image of Pillow's largest size fits): a bigger one is refused unread.
MAX_FILE_BYTES = 1 << 30
#: How many JSON files of a folder ``detect`` looks into.
_FILES_LOOKED_AT = 8


def label_files(src: Path, report: ConversionReport | None = None) -> tuple[Path, list[str]]:
    """``(root, paths)``: the folder items are named from and the JSON files under it (relative, POSIX, sorted).

    A linked folder that points outside ``src`` is not read: listed in ``report`` as a warning.
    """
    if src.is_file():
        return src.parent, [src.name]
    return src, sorted(_json_files(src, report))


def _json_files(src: Path, report: ConversionReport | None = None, *, max_depth: int | None = None,
                max_folders: int | None = None) -> Iterator[str]:
    """The JSON files under ``src`` (relative, POSIX): shallowest folders first, by name within a folder.

    Real folders are walked first, then the linked folders met (in the order met) whose target lies
    inside ``src`` and was not walked yet; each real folder once, so a link loop ends. ``max_depth`` and
    ``max_folders`` bound the walk (``detect``'s looks).
    """
    root = src.resolve()
    folders: deque[tuple[Path, str, int]] = deque([(src, "", 0)])
    links: deque[tuple[Path, str, int]] = deque()
    visited: set[tuple[int, int]] = set()
    while folders or links:
        if max_folders is not None and len(visited) >= max_folders:
            return
        if folders:
            folder, relative, depth = folders.popleft()
        else:
            folder, relative, depth = links.popleft()
            target = folder.resolve()
            if target != root and root not in target.parents:
                if report is not None:
                    report.issues.append(Issue("warning", "labelme.linked-folder-outside", f"the linked folder "
                                               f"{relative!r} points outside the source ({target}): not read",
                                               path=str(folder)))
                continue
        try:
            info = folder.stat()
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) in visited:
            continue  # a link to a folder read already (or a loop)
        visited.add((info.st_dev, info.st_ino))
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            path = f"{relative}/{name}" if relative else name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if max_depth is None or depth < max_depth:
                    (links if entry.is_symlink() else folders).append((folder / name, path, depth + 1))
            elif name.lower().endswith(".json") and name != LABELMAP_FILENAME:
                yield path  # a linked file too (a dangling link fails when it is read)


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
    """Why ``path`` looks like LabelMe — a JSON file, or a folder with one a few levels down (the first few,
    shallowest first, by name; linked folders as the reader follows them) — or None. Bounded looks only
    (:mod:`dlconvert.formats._sniff`'s bounds)."""
    path = Path(path)
    if not path.is_dir():
        return _file(path) if path.suffix.lower() == ".json" else None
    for relative in islice(_json_files(path, max_depth=MAX_DEPTH, max_folders=MAX_FOLDERS), _FILES_LOOKED_AT):
        why = _file(path / relative)
        if why is not None:
            return f"{relative}: {why}"
    return None
