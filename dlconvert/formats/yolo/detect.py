"""Does a path look like a YOLO dataset? (``FORMAT.detect``; bounded looks, :mod:`dlconvert.formats._sniff`)

What the reader starts from (:func:`.layout.discover`), looked at without reading the dataset: a
``data.yaml`` (or another YAML with ``names`` or ``nc``: Ultralytics' dataset YAML), a darknet
``obj.data``, ``images/`` beside ``labels/``, or ``.txt`` files a few levels down whose first line
is a label line: a class index and at least four numbers, the normalised coordinates (a pose's
visibilities and a video's frame column stay small too). Names files, image lists and read-me's are
not label files. A YAML is read as text, line by line (never parsed: it is untrusted).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from .._sniff import HEAD_BYTES, first_line, listing, read_head, relative, walk
from .common import DATA_YAML, NAMES_FILES

__all__ = ["detect"]

_YAML_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:", re.M)
_YAML_KEYS = ("names", "nc", "path", "train", "val", "valid", "test", "kpt_shape")
_DARKNET_KEYS = ("classes", "train", "valid", "test", "names")
_SNIFFED = 8  # label files looked into
_SHOWN = 40  # characters of a label line quoted in a reason


def detect(path: Path) -> str | None:
    """Why ``path`` (a dataset folder, a data.yaml or an obj.data) looks like YOLO, or None."""
    if path.is_dir():
        return _folder(path)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _yaml(path, required=False)
    if suffix == ".data":
        return _darknet(path)
    return None


def _head_text(path: Path) -> str | None:
    data = read_head(path, HEAD_BYTES)
    return None if data is None else data.decode("utf-8", "replace").lstrip("\ufeff")


def _yaml(path: Path, *, required: bool) -> str | None:
    """A dataset YAML: ``names`` or ``nc`` at the top level (``required``: the file the reader takes anyway)."""
    text = _head_text(path)
    if text is None:
        return None
    keys = [key for key in dict.fromkeys(_YAML_KEY.findall(text)) if key in _YAML_KEYS]
    if "names" in keys or "nc" in keys:
        return f"{path.name} with {', '.join(keys)}"
    if required:
        return f"{path.name} ({', '.join(keys) or 'no names or nc'})"
    return None


def _darknet(path: Path) -> str | None:
    text = _head_text(path)
    if text is None:
        return None
    keys = [line.split("=", 1)[0].strip() for line in text.splitlines() if "=" in line.split("#", 1)[0]]
    found = [key for key in dict.fromkeys(keys) if key in _DARKNET_KEYS]
    return f"a darknet {path.name} with {', '.join(found)}" if found else None


def _folder(folder: Path) -> str | None:
    entries = {entry.name: entry for entry in listing(folder)}
    if DATA_YAML in entries and entries[DATA_YAML].is_file:
        return _yaml(folder / DATA_YAML, required=True)
    files = [name for name, entry in entries.items() if entry.is_file]
    yamls = [(name, why) for name in files if name.lower().endswith((".yaml", ".yml"))
             for why in [_yaml(folder / name, required=False)] if why is not None]
    if len(yamls) > 1:
        shown = ", ".join(name for name, _ in yamls[:3]) + (" …" if len(yamls) > 3 else "")
        return f"{len(yamls)} dataset YAML files ({shown}: the YOLO reader takes one, name it)"
    if yamls:
        return yamls[0][1]
    for name in files:
        why = _darknet(folder / name) if name.lower().endswith(".data") else None
        if why is not None:
            return why
    if entries.get("images") and entries["images"].is_dir and entries.get("labels") and entries["labels"].is_dir:
        return "images/ and labels/ folders"
    return _label_files(folder)


def _label_files(folder: Path) -> str | None:
    """``.txt`` label files a few levels down (the loose layout), judged by their first lines."""
    files = [p for p in walk(folder, (".txt",), skip=NAMES_FILES)
             if not p.name.lower().startswith(("readme", "license", "licence"))]
    good, bad, example = 0, 0, None
    for path in files:
        if good + bad >= _SNIFFED:
            break
        line = first_line(path)
        if line is None:  # an empty label file: an image without objects, no evidence either way
            continue
        if _label_line(line):
            good += 1
            example = example or (path, line)
        else:
            bad += 1
    if not good or bad > good:
        return None
    path, line = example
    shown = line if len(line) <= _SHOWN else line[:_SHOWN] + "…"
    many = "a .txt label file" if len(files) == 1 else f"{len(files)}{'+' if len(files) >= 64 else ''} .txt label files"
    return f"{many} such as {relative(path, folder)} ({shown!r})"


def _label_line(line: str) -> bool:
    """A YOLO label line: a class index, then at least four numbers, small ones (normalised coordinates)."""
    tokens = line.split()
    if len(tokens) < 5 or not tokens[0].isdigit():
        return False
    try:
        values = [float(token) for token in tokens[1:]]
    except ValueError:
        return False
    return all(math.isfinite(v) and -0.5 <= v <= 2.5 for v in values)
