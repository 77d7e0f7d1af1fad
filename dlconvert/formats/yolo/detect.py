"""Does a path look like a YOLO dataset? (``FORMAT.detect``; bounded looks, :mod:`dlconvert.formats._sniff`)

What the reader starts from (:func:`.layout.discover`), looked at without reading the dataset: a
``data.yaml`` (or another YAML with ``names`` or ``nc``: Ultralytics' dataset YAML), a darknet
``obj.data``, ``images/`` beside ``labels/``, or ``.txt`` files a few levels down whose first line
is a label line: a class index and at least four numbers, the normalised coordinates (a pose's
visibilities and a video's frame column stay small too). Names files, image lists and read-me's are
not label files. A YAML is read as text, line by line (never parsed: it is untrusted).

A folder that is no dataset itself but holds several (:func:`datasets_inside`: CVAT's and Datumaro's
folders of exports, each with its own ``data.yaml``; or dataset YAMLs side by side) is refused,
naming them (:class:`~dlconvert.errors.NotADatasetError`): read as one folder of label files, their
own layouts and class names would be lost.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from ...errors import NotADatasetError, listed
from .._sniff import HEAD_BYTES, first_line, listing, read_head, relative, search_below, walk
from .common import DATA_YAML, NAMES_FILES, SPLIT_KEYS

__all__ = ["datasets_inside", "detect", "refuse_several_datasets"]

_YAML_KEY = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:", re.M)
_YAML_KEYS = ("names", "nc", "path", "train", "val", "valid", "test", "kpt_shape")
_DARKNET_KEYS = ("classes", "train", "valid", "test", "names")
_SNIFFED = 8  # label files looked into
_SHOWN = 40  # characters of a label line quoted in a reason
_NAMED = 4  # datasets named in a refusal


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
    why = _root(folder)
    if why is None:
        refuse_several_datasets(folder)
        return _label_files(folder)
    return why


def refuse_several_datasets(folder: Path) -> None:
    """:class:`NotADatasetError` naming them when ``folder`` holds several YOLO datasets
    (:func:`datasets_inside`): detection and the reader (``--from yolo``) say the same."""
    datasets = datasets_inside(folder)
    if datasets:
        raise NotADatasetError(f"a folder of {len(datasets)} YOLO datasets ({listed(datasets, _NAMED)}): dlconvert "
                               "reads one dataset at a time: point at one of them", path=folder)


def _root(folder: Path) -> str | None:
    """Why ``folder`` is a YOLO dataset's root (a dataset YAML, an obj.data, images/ beside labels/), or None.

    Several dataset YAMLs side by side (and no data.yaml) are several datasets: refused, each named.
    """
    yamls = _dataset_yamls(folder)
    if len(yamls) > 1:
        raise NotADatasetError(f"a folder of {len(yamls)} YOLO dataset YAML files ({', '.join(yamls[:_NAMED])}"
                               f"{' …' if len(yamls) > _NAMED else ''}) and no data.yaml: each is a dataset: point "
                               "at the one you mean", path=folder)
    return _root_reason(folder, yamls)


def _dataset_yamls(folder: Path) -> list[str]:
    """The dataset YAMLs of a folder: its data.yaml alone when it has one (the reader takes it), else each YAML
    with ``names`` or ``nc``."""
    entries = {entry.name: entry for entry in listing(folder)}
    if DATA_YAML in entries and entries[DATA_YAML].is_file:
        return [DATA_YAML]
    return [name for name, entry in entries.items() if entry.is_file and name.lower().endswith((".yaml", ".yml"))
            and _yaml(folder / name, required=False) is not None]


def _root_reason(folder: Path, yamls: list[str]) -> str | None:
    return _configuration(folder, yamls) or _images_and_labels(folder)


def _configuration(folder: Path, yamls: list[str]) -> str | None:
    """Why ``folder`` has a dataset configuration of its own (its one dataset YAML, an obj.data), or None."""
    if yamls:
        return _yaml(folder / yamls[0], required=yamls[0] == DATA_YAML)
    for entry in listing(folder):
        why = _darknet(folder / entry.name) if entry.is_file and entry.name.lower().endswith(".data") else None
        if why is not None:
            return why
    return None


def _images_and_labels(folder: Path) -> str | None:
    entries = {entry.name: entry for entry in listing(folder)}
    if entries.get("images") and entries["images"].is_dir and entries.get("labels") and entries["labels"].is_dir:
        return "images/ and labels/ folders"
    return None


def datasets_inside(folder: Path) -> list[str]:
    """The YOLO datasets below ``folder`` (a few levels down, bounded), relative to it, when there are two or
    more and one at least has its own configuration (a dataset YAML or an obj.data); else ``[]``.

    A dataset is a folder with a data.yaml, one dataset YAML or an obj.data (several YAMLs side by side are
    named one by one), or images/ beside labels/ — except a split's (``train/images``, ``valid/labels``:
    Roboflow's splits of one dataset, which the reader reads as one). Folders below a dataset are its own.
    """
    def datasets(current: Path) -> list[tuple[str, bool]] | None:  # (name, has its own configuration)
        yamls = _dataset_yamls(current)
        if len(yamls) > 1:
            return [(relative(current / name, folder), True) for name in yamls]
        if _configuration(current, yamls) is not None:
            return [(relative(current, folder), True)]
        if _images_and_labels(current) is not None:
            return [] if current.name.lower() in SPLIT_KEYS else [(relative(current, folder), False)]
        return None

    found = search_below(folder, datasets)
    if len(found) < 2 or not any(configured for _, configured in found):
        return []
    return [name for name, _ in found]


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
