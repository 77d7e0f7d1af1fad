"""Does a path look like COCO? (``FORMAT.detect``; bounded looks, :mod:`dlconvert.formats._sniff`)

A COCO file is a JSON object with an ``images`` list and an ``annotations`` or ``categories`` list,
in any key order (the outline also searches the file's end, where ``categories`` usually is). A
JSON object cut short after some of COCO's own top-level keys is COCO too, so that the reader gives
the parse error (line and column) rather than "no known format". A JSON list of records with
``image_id`` and ``category_id`` is a COCO *results* file, no dataset: :func:`detect` raises
:class:`~dlconvert.errors.NotADatasetError` with the reader's own refusal (:data:`RESULTS_LIST`). A folder
is COCO when its only ``.json`` file is, or when some of its ``.json`` files (at most a few levels down;
dlconvert's ``labelmap.json`` and ``coco_ids.json`` aside) are COCO dataset files (:func:`document_kind`,
the classification the folder reader uses): the reader reads them all as one dataset. A folder whose
JSON files are results lists only is refused like one.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import NotADatasetError
from ...labels import LABELMAP_FILENAME
from .._sniff import JSON_HEAD_BYTES, JsonOutline, json_outline, relative, walk
from .source import IDS_FILENAME

__all__ = ["RESULTS_LIST", "detect", "document_kind"]

#: Why a COCO results list is no dataset (the reader and detection say the same).
RESULTS_LIST = ("this is a COCO results list (detections: records with image_id and category_id, no images or "
                "categories), not a dataset; convert the ground-truth file instead")
_SECTIONS = ("images", "annotations", "categories")
#: COCO's top-level keys that other JSON formats do not have: evidence of a COCO file cut short.
_OWN_KEYS = ("images", "categories", "info", "licenses")
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
    if _is_results_list(outline):
        raise NotADatasetError(RESULTS_LIST, path=path)
    if outline.kind == "array":
        return None
    lists = [key for key in _SECTIONS if outline.has_list(key)]
    if "images" in lists and len(lists) >= 2:
        return f"a JSON object with {_quoted(lists)} lists"
    own = [key for key in _OWN_KEYS if key in outline.keys]
    if own and not outline.complete and _read_whole(path):
        return f"a JSON object with COCO's {_quoted(own)}, cut short (not valid JSON)"
    return None


def _is_results_list(outline: JsonOutline) -> bool:
    keys = outline.item_keys()
    return outline.kind == "array" and "image_id" in keys and "category_id" in keys


def _read_whole(path: Path) -> bool:
    """Whether the outline's head was the whole file: an outline that did not close then ends with the file."""
    try:
        return os.stat(path).st_size < JSON_HEAD_BYTES
    except OSError:
        return False


def document_kind(array: bool, lists: set[str], record_keys) -> str | None:
    """What a JSON document is to a folder's COCO reader, from its top level (``lists``: the keys holding lists)
    and the keys of its first record: ``"dataset"`` (instances, person keypoints, labels, stuff, image info),
    ``"results list"``, ``"panoptic"`` or ``"captions"`` (COCO tasks that are read as no annotations), or None."""
    if array:
        return "results list" if {"image_id", "category_id"} <= set(record_keys) else None
    if "images" not in lists or not {"annotations", "categories"} & lists:
        return None
    if "segments_info" in record_keys:
        return "panoptic"
    if "caption" in record_keys:
        return "captions"
    return "dataset"


def _folder(folder: Path) -> str | None:
    files = walk(folder, (".json",), skip=(LABELMAP_FILENAME, IDS_FILENAME))
    if len(files) == 1:  # the reader reads a folder's only JSON file as that file
        why = _file(files[0])
        return f"{relative(files[0], folder)}: {why}" if why is not None else None
    datasets, results = [], []
    for path in files[:_SNIFFED]:
        outline = json_outline(path)
        if outline is None:
            continue
        lists = {key for key in _SECTIONS if outline.has_list(key)}
        kind = document_kind(outline.kind == "array", lists, outline.item_keys("" if outline.kind == "array"
                                                                                else "annotations"))
        if kind == "dataset":
            datasets.append(relative(path, folder))
        elif kind == "results list":
            results.append(path)
    if not datasets:
        if results:
            raise NotADatasetError(RESULTS_LIST, path=results[0])
        return None
    more = "+" if len(files) > _SNIFFED else ""
    if len(datasets) == 1:
        return f"{datasets[0]}: a COCO file ({len(files)}{more} JSON files in the folder, the others no COCO dataset)"
    return (f"{len(datasets)}{more} COCO files read as one dataset, each file's images under its split: "
            f"{', '.join(datasets[:4])}{', …' if len(datasets) > 4 or more else ''}")


def _quoted(keys: list[str]) -> str:
    quoted = [f"'{key}'" for key in keys]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
