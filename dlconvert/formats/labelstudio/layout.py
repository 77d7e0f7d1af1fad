"""Where Label Studio data lives: which JSON files are task lists, the labelling config beside them, and
the folders where a task's image may be found.

A source is one JSON file (an export: a list of tasks; or one task object, as Label Studio's cloud
storage and the legacy ``completions/<id>.json`` files hold), or a folder: every ``*.json`` directly in
it that looks like Label Studio tasks, sorted by name (the export's ``-info.json`` sidecar and other JSON
are not tasks). What "looks like" means is :func:`looks_like_tasks`: the outline of the file's head only.
"""

from __future__ import annotations

import re
from pathlib import Path

from .._sniff import json_outline, listing, read_head
from .kept import GROUP_KEYS

__all__ = ["CONFIG_NAMES", "LOOKS_FOR", "config_file", "detect", "image_roots", "looks_like_tasks", "task_files"]

LOOKS_FOR = ("Label Studio JSON: a list of tasks (or one task) with 'data' and 'annotations', 'completions' or "
             "'predictions', or a JSON_MIN export (records with 'annotator' and 'annotation_id'); a *.json file, or "
             "a folder of them")
#: The labelling config beside an export, by the names Label Studio's examples and converter tests use.
CONFIG_NAMES = ("config.xml", "label_config.xml")
#: Folders of per-task files inside a project folder that holds the config.
_TASK_FOLDERS = ("completions", "annotations")
_FROM_NAME = re.compile(rb'"from_name"\s*:')
_SNIFFED = 8  # JSON files of a folder looked into by detect


def looks_like_tasks(path: Path) -> str | None:
    """Why the JSON file at ``path`` looks like Label Studio tasks, or None: its (first) task has ``data`` and
    ``annotations``, ``completions`` or ``predictions`` — or, when ``data`` comes after results too long
    for the head, results with a ``from_name`` — or it is a JSON_MIN export: a list of records with the
    annotation's ``annotator`` and ``annotation_id`` (in the tail, when the first record is longer than the
    head). Bounded looks (:mod:`dlconvert.formats._sniff`)."""
    outline = json_outline(path)
    if outline is None:
        return None
    keys = outline.item_keys() if outline.kind == "array" else tuple(outline.keys)
    groups = [key for key in GROUP_KEYS if key in keys]
    if not groups:
        seen = {*keys, *outline.tail_keys}
        if outline.kind == "array" and "data" not in keys and {"annotator", "annotation_id"} <= seen:
            return "a Label Studio JSON_MIN export (records with 'annotator' and 'annotation_id')"
        return None
    shape = "a list of Label Studio tasks" if outline.kind == "array" else "a Label Studio task"
    if "data" in keys:
        return f"{shape} with 'data' and {_quoted(groups)}"
    head = read_head(path)
    if head is not None and _FROM_NAME.search(head) and "filename" not in keys:
        return f"{shape} with {_quoted(groups)} holding results"
    return None


def _quoted(keys: list[str]) -> str:
    return " and ".join(f"'{key}'" for key in keys)


def task_files(src: Path) -> list[Path]:
    """The JSON files to read: ``src`` itself, or the task files directly in the folder ``src``."""
    if not src.is_dir():
        return [src]
    return [path for path in sorted(src.glob("*.json")) if path.is_file() and looks_like_tasks(path)]


def detect(path: Path) -> str | None:
    """Why ``path`` looks like Label Studio JSON (a task file, or a folder holding some directly), or None."""
    if not path.is_dir():
        return looks_like_tasks(path) if path.suffix.lower() == ".json" else None
    files = [path / e.name for e in listing(path) if e.is_file and e.name.lower().endswith(".json")]
    for file in files[:_SNIFFED]:
        why = looks_like_tasks(file)
        if why is not None:
            return f"{file.name}: {why}"
    return None


def config_file(src: Path) -> Path | None:
    """The labelling config beside the source (``config.xml``, ``label_config.xml``), if there is one; for
    files in ``completions/`` or ``annotations/`` (Label Studio 0.x projects, the frontend's examples), the
    project folder's."""
    folder = src if src.is_dir() else src.parent
    folders = [folder, folder.parent] if folder.name in _TASK_FOLDERS else [folder]
    return next((f / name for f in folders for name in CONFIG_NAMES if (f / name).is_file()), None)


def image_roots(src: Path) -> tuple[Path, ...]:
    """Folders where a task's image may be: beside the export, and its ``images/`` folder (those that exist)."""
    folder = (src if src.is_dir() else src.parent).absolute()
    return tuple(root for root in (folder, folder / "images") if root.is_dir())
