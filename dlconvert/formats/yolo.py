"""YOLO text labels (Ultralytics and darknet): detect, segment, pose and obb, both ways.

Layout written::

    out/
    ├── data.yaml                               path: ., <split>: images/<split>, nc, names: {0: …}
    │                                           (+ kpt_shape, flip_idx, kpt_names for pose)
    ├── labels/<split>/<remote dir>/<stem>.txt  one line per object; empty for an image without objects
    ├── images/<split>/<remote dir>/<file>      only with images_mode "copy" or "link" (a symlink)
    └── labelmap.json                           the label map (colours, ids, pose templates)

Lines (every coordinate divided by the image width or height **as displayed**: EXIF orientations
5–8 swap them)::

    detect   cls cx cy w h
    segment  cls x1 y1 x2 y2 x3 y3 …            one line per object
    pose     cls cx cy w h px1 py1 v1 …         K keypoints (v: 2 visible, 1 not visible, 0 missing)
    obb      cls x1 y1 x2 y2 x3 y3 x4 y4        the 4 corners, clockwise on screen

Writing (Dataloop model →):
* Task: ``options.yolo_task`` ("detect", "segment", "pose", "obb"), or by default the richest the
  data needs: pose if any pose, else segment if any polygon, mask or ellipse, else obb if any
  rotated box, else detect — and never less than the task of the YOLO dataset the data was read
  from (kept in the label map), so an obb dataset of upright boxes stays obb.
* Class index: position in the label map's ``yolo_names()`` (``options.labels``, else the
  dataset's, else the data's labels sorted; labels met that the map lacks are appended sorted),
  leaving out labels used only as keypoint names. ``data.yaml`` ``names`` and ``labelmap.json``
  say the same.
* Values: fixed ``options.precision`` decimals (default 6) with trailing zeros kept
  (``f"{v:.6f}"``), so every run writes the same bytes; lines end with ``\\n``.
* Clipping: everything is clipped into the image ([0, 1]; a box by its edges, polygons, corners
  and keypoints point by point), since Ultralytics drops an image with a value outside. Clipping
  that changes a written digit is reported (``yolo.clipped``); a shape left with no area is
  skipped (``yolo.outside-image``).
* Multi-part polygons and holes: one line per object, the rings joined into one by zero-width
  bridges between their closest vertices (a minimum spanning tree over the rings, walked once),
  the way Ultralytics' ``merge_multi_segment`` joins parts; reported ``yolo.multipart-merged``.
  One line per part would make each part a separate instance.
* Masks → traced polygons (``Polygon.from_segmentation``, every part and hole, merged as above;
  ``yolo.mask-as-polygon``). Boxes in a segment dataset → their 4 corners (``yolo.box-as-polygon``);
  ellipses → 72-point polygons. In detect: a shape's bounds (``yolo.*-as-box``). In obb: boxes
  (upright too) → corners exactly; polygons, masks, ellipses → their minimum rotated rectangle.
  In pose: shapes without keypoints → their bounds with every keypoint missing (``yolo.no-keypoints``).
* Pose: keypoints in the order of the pose's template (``LabelMap.template_for``; without one,
  the keypoint labels in the order first met), padded to the largest K with ``0 0 0``. ``v`` comes
  from the child point's ``visibility`` attribute; a keypoint with no point is ``0 0 0``; an
  ``unlabeled`` point keeps its x, y with v 0. The box is the pose's partner box (the one box,
  polygon, mask or ellipse sharing its object id; a shape's bounds are approximated), else the
  bounds of its labelled keypoints (``yolo.pose-box-from-keypoints``). ``kpt_shape``, ``kpt_names``
  and, when keypoint names pair up as left/right, ``flip_idx`` go into ``data.yaml``.
* Splits: an item's split is ``metadata.user.yolo.split`` (set when read from YOLO), else
  ``options.split``; a remote path that already starts with that split's folder does not repeat it.
  ``data.yaml`` lists the splits written (train, val, test, then others); Ultralytics also wants
  a ``val`` split, which is not invented here.
* Images (``images_mode`` "copy" / "link"): the item's file under ``options.images`` or the
  source's image folder; one that cannot be found fails the item (``yolo.image-not-found``).
* Two passes: items are spooled to a temporary file while the task, the classes and the keypoint
  order are decided from all of them, then written; memory holds one item at a time.
* Not representable, so skipped and reported (``yolo.unsupported-type``): polylines, cubes,
  classifications, subtitles, points outside a pose, poses outside the pose task, unknown types;
  COCO crowd regions (``yolo.crowd-region``: YOLO has no ignore regions, and Ultralytics'
  ``convert_coco`` skips them too); video and audio items (``yolo.not-an-image``). An item whose
  image size is unknown (no metadata, no image file) gets no label file and each annotation is
  skipped ``yolo.no-image-size``; an image item without annotations gets an empty file.

Reading (→ Dataloop model), from a folder or a named ``data.yaml`` / ``obj.data``:
* ``data.yaml`` (Ultralytics): ``path`` (relative to the YAML; when it does not exist, the YAML's
  folder), ``train``/``val``/``test`` each a folder of images, a list of them, or a ``.txt`` list of
  image paths; ``names`` as a list or a ``{index: name}`` map (``nc`` alone gives ``class_0`` …);
  ``kpt_shape``, ``flip_idx``, ``kpt_names``. Roboflow's ``../train/images`` and CVAT's ``data/``
  prefixes are resolved as Ultralytics and darknet do. A YAML without split keys uses ``images/``.
* darknet ``obj.data`` (``train``/``valid``/``test`` list files, ``names``); a folder with
  ``images/`` (and ``labels/``) but no YAML; or any folder of ``.txt`` label files with the
  images beside them or under ``options.images`` (names from ``obj.names``, ``classes.txt``,
  ``labels.txt`` or ``*.names``; without names the classes are ``class_0`` … up to the largest
  index used).
* A label file belongs to an image as Ultralytics pairs them (the last ``images`` folder of the
  image path replaced by ``labels``) or sits beside it. An image without a label file is an item
  without annotations; a label file without an image fails (``yolo.image-not-found``).
* Line kind from its column count: 5 → box; with ``kpt_shape`` [K, D] → pose (5 + K·D columns);
  9 → a rotated box when the 4 points form a rectangle in pixels (diagonals agreeing within
  1e-4 × (W + H)), unless the task is segment or the same file has polygons of other sizes: then
  a polygon; any other odd count ≥ 7 → polygon. ``options.yolo_task`` forces the reading. The
  dataset's task (the richest kind read, or pose with ``kpt_shape``) is kept in the label map.
* Item: ``filename`` = ``/`` + the image path under its split's image folder (with ``/<split>``
  in front when the dataset has several splits, so ``train/1.jpg`` and ``val/1.jpg`` stay two
  items), ``width``/``height`` = the stored image size and the EXIF orientation from the header,
  so coordinates are scaled by the displayed size; ``mimetype`` from the extension.
* Pose lines → a Box and a Pose sharing an object id, one Point child per keypoint (``visibility``
  attribute ``visible`` / ``not-visible`` / ``unlabeled``; a ``0 0 0`` keypoint has no point).
  Rotated boxes remember their source corners, so an unchanged box is written back digit for digit.
* Names → a label map with instance ids 1…N in names order (``labelmap.json`` beside the YAML adds
  colours and templates when it lists the same names); duplicate names become ``name (index)``.
  Pose classes get a template each: ``kpt_names`` from the YAML, else ``keypoint_1`` … .
* Class indices must be whole numbers (``2`` or ``2.0``); values must be plain decimals (no
  ``nan``, ``inf``, ``1_0``); values up to 1 % outside [0, 1] are read as they are.
* Errors name the file and ``line N``: wrong column counts, non-numbers, commas, class indices past
  the names, values outside [0, 1] by more than Ultralytics' own 1 % tolerance, visibilities other
  than 0/1/2, a folder where a label file should be.
"""

from __future__ import annotations

import hashlib
import math
import mimetypes
import os
import posixpath
import re
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._io import atomic_write, read_input_bytes, safe_join
from .._json import dumps, loads
from ..annotation import Annotation
from ..collection import AnnotationCollection
from ..errors import DlconvertError, FormatError, OutputError
from ..geometry import Box, Point, Polygon, Pose
from ..images import IMAGE_EXTENSIONS, find_image, image_info
from ..labels import LABELMAP_FILENAME, LabelInfo, LabelMap, PoseTemplate, stable_color
from . import FormatSpec
from ._keypoints import VISIBILITY_ATTRIBUTE, VISIBILITY_NAMES, pose_partners, visibility
from ._metadata import section

if TYPE_CHECKING:
    from ..dataset import ConvertOptions, Dataset, ShardOutput
    from ..report import ConversionReport

__all__ = ["DATA_YAML", "FORMAT", "TASKS", "class_names", "merge_rings", "read", "write"]

DATA_YAML = "data.yaml"
MAX_KEYPOINTS = 10_000  # per pose: far above any skeleton, far below what would exhaust memory
MAX_CLASSES = 100_000  # nc without names: far above any label set, far below what would exhaust memory
TASKS = ("detect", "segment", "pose", "obb")
#: Richness order for the default task: a dataset is written with the richest task its data needs.
_RANK = {"detect": 0, "obb": 1, "segment": 2, "pose": 3}
_SPLIT_KEYS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
_NAMES_FILES = ("obj.names", "classes.txt", "labels.txt")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
#: Ultralytics accepts normalised values up to 1 % outside [0, 1] (``verify_image_label``).
_TOLERANCE = 0.01
#: ``metadata.user.yolo`` keys.
_CORNERS_KEY = "corners"
_FINGERPRINT_KEY = "geometry_sha1"
_SPLIT_KEY = "split"


# ==== reading: the layout =========================================================================
@dataclass
class _Source:
    """One image of the dataset: the file, its label file (None: no objects) and its item name."""

    image: Path
    label: Path | None
    filename: str
    split: str | None


@dataclass
class _Split:
    name: str | None
    images: list[Path]
    root: Path | None  # remote paths are relative to it (None: the images' common folder)
    from_folder: bool  # a folder of images (orphan label files can be told), not a list


@dataclass
class _Layout:
    root: Path
    sources: list[_Source]
    names: list[str] | None
    names_where: str
    config: dict = field(default_factory=dict)  # kpt_shape, flip_idx, kpt_names (from data.yaml)
    labelmap_path: Path | None = None


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file() and not path.name.startswith(".")


def _images_under(folder: Path) -> list[Path]:
    """Image files under a folder, sorted; hidden files and folders (``.ipynb_checkpoints``) left out."""
    return sorted((p for p in folder.rglob("*") if _is_image(p)
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts)),
                  key=lambda p: p.as_posix())


def _resolve(root: Path, text: str, list_dir: Path | None = None) -> Path | None:
    """A path named in a YAML, obj.data or list file, resolved as Ultralytics and darknet do.

    Tried in order: absolute; relative to the list file (``./``); relative to ``root``; Roboflow's
    ``../x`` as ``root/x``; CVAT/darknet's ``data/x`` as ``root/x``.
    """
    text = text.strip().replace("\\", "/")
    if not text:
        return None
    candidates = []
    path = Path(text)
    if path.is_absolute():
        candidates.append(path)
    else:
        if list_dir is not None and text.startswith("./"):
            candidates.append(list_dir / text[2:])
        candidates.append(root / text)
        if text.startswith("../"):
            candidates.append(root / text[3:])
        parts = text.split("/")
        if parts[0] in ("data", "."):
            candidates.append(root.joinpath(*parts[1:]))
    for candidate in candidates:
        if candidate.exists():
            if candidate.is_dir() and candidate.resolve() in root.resolve().parents:
                # '/' or an ancestor of the dataset: walking it would read the whole file system
                raise FormatError(f"the dataset names {text!r}, a folder that holds the dataset itself "
                                  f"(or the file system root)", path=root)
            return candidate
    return None


def _read_text(path: Path) -> str:
    data = read_input_bytes(path, "a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError("not UTF-8 text", path=path, where=f"line {line}") from None


def _load_yaml(path: Path) -> dict:
    import yaml

    try:
        data = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FormatError(f"invalid YAML: {problem}", path=path, where=where) from None
    if not isinstance(data, dict):
        raise FormatError("a YOLO data.yaml must be a mapping (path, train, val, names …)", path=path)
    return data


def _names_from_yaml(data: dict, path: Path) -> list[str] | None:
    names = data.get("names")
    count = data.get("nc")
    if names is None:
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            if count > MAX_CLASSES:
                raise FormatError(f"nc asks for {count} classes without names, more than {MAX_CLASSES}",
                                  path=path, where="/nc")
            return [f"class_{i}" for i in range(count)]
        return None
    if isinstance(names, dict):
        by_index: dict[int, Any] = {}
        for key, value in names.items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise FormatError(f"names key {key!r} is not a class index", path=path, where="/names") from None
            by_index[index] = value
        if sorted(by_index) != list(range(len(by_index))):
            raise FormatError(f"names must number the classes 0…{len(by_index) - 1} without gaps, "
                              f"found {sorted(by_index)}", path=path, where="/names")
        names = [by_index[i] for i in range(len(by_index))]
    if not isinstance(names, list):
        raise FormatError("names must be a list or an {index: name} map", path=path, where="/names")
    out = [str(n) for n in names]
    if isinstance(count, int) and not isinstance(count, bool) and count != len(out):
        raise FormatError(f"nc is {count} but names has {len(out)} entries", path=path, where="/nc")
    return _unique(out)


def _unique(names: list[str]) -> list[str]:
    """Names with duplicates kept apart (``name (index)``), as the COCO reader does."""
    seen: set[str] = set()
    out = []
    for index, name in enumerate(names):
        if name in seen:
            name = f"{name} ({index})"
        seen.add(name)
        out.append(name)
    return out


def _names_file(path: Path) -> list[str]:
    return _unique([line.strip() for line in _read_text(path).splitlines() if line.strip()])


def _find_names_file(folder: Path) -> Path | None:
    for name in _NAMES_FILES:
        if (folder / name).is_file():
            return folder / name
    others = sorted(p for p in folder.glob("*.names") if p.is_file())
    return others[0] if others else None


def _is_list_file(path: Path) -> bool:
    """A ``.txt`` that lists image paths (darknet ``train.txt``), not labels."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    return line.strip().lower().endswith(IMAGE_EXTENSIONS)
    except OSError:
        return False
    return False


def _label_candidates(image: Path) -> list[Path]:
    """Where an image's label file may be: Ultralytics' ``images`` → ``labels`` swap, then beside it."""
    parts = image.parts
    out = []
    for folder in ("images", "JPEGImages"):
        if folder in parts[:-1]:
            index = len(parts) - 2 - parts[:-1][::-1].index(folder)
            out.append(Path(*parts[:index], "labels", *parts[index + 1:]).with_suffix(".txt"))
            break
    out.append(image.with_suffix(".txt"))
    return out


def _labels_folder(images: Path) -> Path:
    parts = images.parts
    for folder in ("images", "JPEGImages"):
        if folder in parts:
            index = len(parts) - 1 - parts[::-1].index(folder)
            return Path(*parts[:index], "labels", *parts[index + 1:])
    return images


def _split_images(entry: Any, root: Path, key: str, config_path: Path, report: ConversionReport
                  ) -> tuple[list[Path], Path | None, bool]:
    """The images one split names: ``(images, folder they are relative to, it was one folder)``."""
    entries = entry if isinstance(entry, list) else [entry]
    images: list[Path] = []
    folders: list[Path] = []
    for value in entries:
        if not isinstance(value, str):
            raise FormatError(f"split {key!r} must be a path or a list of paths", path=config_path, where=f"/{key}")
        path = _resolve(root, value)
        if path is None:  # Roboflow names valid/images "../valid/images", others "val/images": try the split's names
            canonical = _SPLIT_KEYS.get(key, key)
            aliases = [a for a, c in _SPLIT_KEYS.items() if c == canonical]
            path = next((root / a / "images" for a in aliases if (root / a / "images").is_dir()), None)
        if path is None:
            report.failed(FormatError(f"split {key!r}: {value!r} does not exist under {root}", path=config_path,
                                      where=f"/{key}"), code="yolo.missing-split")
            continue
        if path.is_dir():
            images.extend(_images_under(path))
            folders.append(path)
        elif path.suffix.lower() == ".txt":
            for number, line in enumerate(_read_text(path).splitlines(), start=1):
                if not line.strip():
                    continue
                image = _resolve(root, line, list_dir=path.parent)
                if image is None or not image.is_file():
                    report.failed(FormatError(f"image {line.strip()!r} does not exist", path=path,
                                              where=f"line {number}"), code="yolo.image-not-found")
                    continue
                images.append(image)
        else:
            images.append(path)
    single_folder = len(folders) == 1 and len(entries) == 1
    return images, folders[0] if single_folder else None, single_folder


def _common_folder(paths: list[Path]) -> Path | None:
    if not paths:
        return None
    return Path(os.path.commonpath([str(p.parent) for p in paths]))


def _sources_from_splits(splits: list[_Split], report: ConversionReport) -> list[_Source]:
    """Pair each image with its label file and name it; list label files that have no image."""
    several = len({s.name for s in splits}) > 1
    sources: list[_Source] = []
    claimed: set[Path] = set()
    seen: set[Path] = set()
    for split in splits:
        base = split.root or _common_folder(split.images)
        for image in split.images:
            if image in seen:
                continue
            seen.add(image)
            label = next((c for c in _label_candidates(image) if c.exists()), None)
            if label is not None:
                claimed.add(label)
            relative = image.relative_to(base).as_posix() if base is not None else image.name
            if several and split.name:
                relative = f"{split.name}/{relative}"
            sources.append(_Source(image, label, "/" + relative, split.name))
    for split in splits:
        if not split.from_folder or split.root is None:
            continue
        labels = _labels_folder(split.root)
        if not labels.is_dir():
            continue
        for path in sorted(labels.rglob("*.txt"), key=lambda p: p.as_posix()):
            if path in claimed or path.name.startswith(".") or _excluded_txt(path):
                continue
            report.failed(FormatError("label file has no image (looked for the same name with an image "
                                      f"extension under {split.root})", path=path), code="yolo.image-not-found")
    return sources


def _excluded_txt(path: Path, read_first_line: bool = True) -> bool:
    """Text files in a YOLO folder that are not label files: names, lists, read-me's and licences.

    Telling an image list (darknet ``train.txt``) means reading its first line; callers skip that
    where lists do not live, so a large folder of labels is not opened twice.
    """
    name = path.name.lower()
    return (name in _NAMES_FILES or name.startswith(("readme", "license", "licence"))
            or (read_first_line and _is_list_file(path)))


def _discover(src: Path, options: ConvertOptions, report: ConversionReport) -> _Layout:
    if src.is_file():
        suffix = src.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return _yaml_layout(src, options, report)
        if suffix == ".data":
            return _darknet_layout(src, report)
        raise FormatError("name a data.yaml, an obj.data or a folder of YOLO labels", path=src)
    if not src.is_dir():
        raise FormatError("no such file or folder", path=src)
    if (src / DATA_YAML).is_file():
        return _yaml_layout(src / DATA_YAML, options, report)
    yamls = sorted(p for p in src.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
    if len(yamls) == 1:
        return _yaml_layout(yamls[0], options, report)
    if len(yamls) > 1:
        raise FormatError(f"{len(yamls)} YAML files and no data.yaml: name the dataset's YAML", path=src)
    datas = sorted(p for p in src.glob("*.data") if p.is_file())
    if datas:
        return _darknet_layout(datas[0], report)
    if (src / "images").is_dir():
        return _folder_layout(src, src, options, report, None)
    return _loose_layout(src, options, report)


def _yaml_layout(path: Path, options: ConvertOptions, report: ConversionReport) -> _Layout:
    data = _load_yaml(path)
    root = path.parent
    given = data.get("path")
    if isinstance(given, str) and given.strip():
        candidate = Path(given) if Path(given).is_absolute() else path.parent / given
        if candidate.is_dir():
            root = candidate
    config: dict[str, Any] = {}
    shape = data.get("kpt_shape")
    if shape is not None:
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                    for v in shape)
                and shape[0] >= 0 and shape[1] in (2, 3)):
            raise FormatError("kpt_shape must be [number of keypoints, 2 or 3]", path=path, where="/kpt_shape")
        if shape[0] > MAX_KEYPOINTS:
            raise FormatError(f"kpt_shape asks for {shape[0]} keypoints, more than {MAX_KEYPOINTS}", path=path,
                              where="/kpt_shape")
        config["kpt_shape"] = [shape[0], shape[1]]
    flip = data.get("flip_idx")
    if isinstance(flip, list) and all(isinstance(v, int) for v in flip):
        config["flip_idx"] = list(flip)
    kpt_names = data.get("kpt_names")
    if kpt_names is not None:
        config["kpt_names"] = kpt_names
    names = _names_from_yaml(data, path)
    splits: list[_Split] = []
    for key, name in _SPLIT_KEYS.items():
        if data.get(key) in (None, ""):
            continue
        images, folder, single = _split_images(data[key], root, key, path, report)
        splits.append(_Split(name, images, folder, single))
    labelmap = root / LABELMAP_FILENAME if (root / LABELMAP_FILENAME).is_file() else None
    if labelmap is None and (path.parent / LABELMAP_FILENAME).is_file():
        labelmap = path.parent / LABELMAP_FILENAME
    if not splits:
        folder = root / "images" if (root / "images").is_dir() else None
        if folder is not None:
            layout = _folder_layout(root, root, options, report, names)
        else:
            layout = _loose_layout(root, options, report, names=names)
        layout.config, layout.names_where = config, str(path)
        layout.labelmap_path = labelmap
        return layout
    return _Layout(root, _sources_from_splits(splits, report), names, str(path), config, labelmap)


def _darknet_layout(path: Path, report: ConversionReport) -> _Layout:
    root = path.parent
    entries: dict[str, str] = {}
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if "=" not in text:
            raise FormatError("expected 'key = value'", path=path, where=f"line {number}")
        key, value = (part.strip() for part in text.split("=", 1))
        entries[key] = value
    names: list[str] | None = None
    names_where = str(path)
    if entries.get("names"):
        names_path = _resolve(root, entries["names"])
        if names_path is None or not names_path.is_file():
            raise FormatError(f"names file {entries['names']!r} does not exist", path=path)
        names, names_where = _names_file(names_path), str(names_path)
    elif _find_names_file(root) is not None:
        names_path = _find_names_file(root)
        names, names_where = _names_file(names_path), str(names_path)
    if names is not None and entries.get("classes", "").isdigit() and int(entries["classes"]) != len(names):
        raise FormatError(f"classes is {entries['classes']} but the names file has {len(names)} names", path=path)
    splits = []
    for key in ("train", "valid", "test"):
        if entries.get(key):
            images, folder, single = _split_images(entries[key], root, key, path, report)
            splits.append(_Split(_SPLIT_KEYS[key], images, folder, single))
    return _Layout(root, _sources_from_splits(splits, report), names, names_where)


def _folder_layout(src: Path, root: Path, options: ConvertOptions, report: ConversionReport,
                   names: list[str] | None) -> _Layout:
    """``images/<split>/…`` and ``labels/<split>/…`` without a YAML (or a YAML without split keys)."""
    images_dir = root / "images"
    subfolders = sorted(p for p in images_dir.iterdir() if p.is_dir())
    direct = [p for p in images_dir.iterdir() if _is_image(p)]
    if subfolders and not direct:
        splits = [_Split(_SPLIT_KEYS.get(p.name, p.name), _images_under(p), p, True) for p in subfolders]
    else:
        splits = [_Split(None, _images_under(images_dir), images_dir, True)]
    names_where = str(src)
    if names is None:
        found = _find_names_file(root)
        if found is not None:
            names, names_where = _names_file(found), str(found)
    layout = _Layout(root, _sources_from_splits(splits, report), names, names_where)
    if (root / LABELMAP_FILENAME).is_file():
        layout.labelmap_path = root / LABELMAP_FILENAME
    return layout


def _loose_layout(src: Path, options: ConvertOptions, report: ConversionReport,
                  names: list[str] | None = None) -> _Layout:
    """Any folder of ``.txt`` label files; images beside them or under ``options.images``."""
    images_root = Path(options.images) if options.images is not None else src
    names_where = str(src)
    names_path = _find_names_file(src)
    if names is None and names_path is not None:
        names, names_where = _names_file(names_path), str(names_path)
    labels = sorted((p for p in src.rglob("*.txt") if not any(part.startswith(".") for part in
                                                              p.relative_to(src).parts)),
                    key=lambda p: p.as_posix())
    labels = [p for p in labels if not _excluded_txt(p, read_first_line=p.parent == src)]
    sources: list[_Source] = []
    claimed: set[Path] = set()
    base = images_root.resolve()
    for label in labels:
        relative = label.relative_to(src).with_suffix("")
        image = None
        for candidate in _loose_candidates(relative):
            image = find_image(images_root, candidate.as_posix())
            if image is not None:
                break
        if image is None:
            report.failed(FormatError(f"label file has no image (looked under {images_root}; pass the image "
                                      "folder with --images)", path=label), code="yolo.image-not-found")
            continue
        claimed.add(image.resolve())
        sources.append(_Source(image, label, "/" + image.resolve().relative_to(base).as_posix(), None))
    for image in _images_under(images_root):
        if image.resolve() not in claimed:  # an image without a label file: no objects
            sources.append(_Source(image, None, "/" + image.resolve().relative_to(base).as_posix(), None))
    if not sources and not labels:
        raise FormatError("found no YOLO label files and no images (expected data.yaml, obj.data, or .txt labels "
                          "beside their images)", path=src)
    sources.sort(key=lambda s: s.filename)
    layout = _Layout(src, sources, names, names_where)
    if (src / LABELMAP_FILENAME).is_file():
        layout.labelmap_path = src / LABELMAP_FILENAME
    return layout


def _loose_candidates(relative: Path) -> list[Path]:
    """Image stems to look for, for a label file at ``relative`` (no suffix) under the label folder."""
    out = [relative]
    parts = relative.parts
    swaps = {"labels": "images", "Labels": "Images", "annotations": "images", "Annotations": "Images"}
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in swaps:
            out.append(Path(*parts[:index], swaps[parts[index]], *parts[index + 1:]))
            out.append(Path(*parts[:index], *parts[index + 1:]))
            break
    return out


# ==== reading: the label map ======================================================================
def _label_map(layout: _Layout, options: ConvertOptions) -> tuple[LabelMap, list[str]]:
    """The label map the items use and the class names in index order."""
    if options.labels is not None:
        label_map = options.labels.copy()
        return label_map, class_names(label_map)
    names = layout.names
    if names is None:
        names = [f"class_{i}" for i in range(_largest_index(layout) + 1)]
    saved = LabelMap.load(layout.labelmap_path) if layout.labelmap_path is not None else None
    if saved is not None and class_names(saved) == names:
        label_map = saved
    else:
        infos = []
        for i, name in enumerate(names, start=1):
            old = saved.get(name) if saved is not None else None
            infos.append(LabelInfo(name, i, old.color if old else stable_color(name)))
        label_map = LabelMap(infos, saved.templates.values() if saved is not None else ())
    return label_map, names


def class_names(label_map: LabelMap) -> list[str]:
    """YOLO class names in index order: the map's ``yolo_names()`` without keypoint-only labels.

    A map written by this module records its list (``extras["yolo"]["names"]``), which wins.
    """
    recorded = (label_map.extras.get("yolo") or {}).get("names")
    if isinstance(recorded, list) and all(isinstance(n, str) and n in label_map for n in recorded):
        return list(recorded)
    keypoints = label_map.keypoint_names()
    return [n for n in label_map.yolo_names() if n not in keypoints]


def _largest_index(layout: _Layout) -> int:
    """The largest class index used (names-less datasets are named from it); -1 when none."""
    largest = -1
    for source in layout.sources:
        if source.label is None or source.label.is_dir():
            continue
        try:
            text = _read_text(source.label)
        except FormatError:
            continue
        for line in text.splitlines():
            token = line.split(maxsplit=1)[0] if line.strip() else ""
            if token.isdigit():
                largest = max(largest, int(token))
    return largest


def _pose_templates(label_map: LabelMap, names: list[str], config: dict) -> dict[int, PoseTemplate]:
    """``{class index: template}`` for a pose dataset (``kpt_shape``), reusing the map's templates."""
    shape = config.get("kpt_shape")
    if not shape:
        return {}
    count = shape[0]
    kpt_names = config.get("kpt_names")
    out: dict[int, PoseTemplate] = {}
    for index, name in enumerate(names):
        order = _kpt_names_for(kpt_names, index, count)
        template = label_map.template_for(None, name)
        if template is not None and (order is None or list(template.order) == order) and len(template.order) == count:
            out[index] = template
            continue
        if order is None:
            order = [f"keypoint_{i + 1}" for i in range(count)]
        match = next((t for _, t in sorted(label_map.templates.items()) if list(t.order) == order), None)
        if match is None:
            match = PoseTemplate(f"yolo-class-{index}", name, order)
            label_map.templates[match.id] = match
        out[index] = match
    return out


def _kpt_names_for(kpt_names: Any, index: int, count: int) -> list[str] | None:
    value = None
    if isinstance(kpt_names, dict):
        value = kpt_names.get(index, kpt_names.get(str(index)))
    elif isinstance(kpt_names, list) and kpt_names and all(isinstance(v, list) for v in kpt_names):
        value = kpt_names[index] if index < len(kpt_names) else None
    elif isinstance(kpt_names, list):
        value = kpt_names
    if isinstance(value, list) and len(value) == count and len({str(v) for v in value}) == count:
        return [str(v) for v in value]
    return None


# ==== reading: lines ===============================================================================
@dataclass
class _ReadContext:
    path: Path
    filename: str
    width: int  # displayed
    height: int
    names: list[str]
    templates: dict[int, PoseTemplate]
    kpt_shape: list[int] | None
    task: str | None
    seen: set = field(default_factory=set)  # line kinds read (for the dataset's task)
    polygons: bool = False  # the file has polygon lines other than 4-point ones: its 4-point lines are polygons


def _number(token: str, column: int) -> float:
    if not _NUMBER.match(token):
        raise FormatError(f"column {column}: {token!r} is not a number")
    value = float(token)
    if not math.isfinite(value):
        raise FormatError(f"column {column}: {token!r} is not a finite number")
    return value


def _coordinate(token: str, column: int) -> float:
    value = _number(token, column)
    if not -_TOLERANCE <= value <= 1 + _TOLERANCE:
        raise FormatError(f"column {column}: {token} is outside [0, 1] (YOLO coordinates are divided by the "
                          "image width and height)")
    return value


def _line_kind(count: int, context: _ReadContext) -> str:
    """What a line with ``count`` values after the class is: box, polygon, quad (8 values) or pose."""
    task = context.task
    shape = context.kpt_shape
    if task == "pose" or (shape is not None and task is None):
        if shape is None:
            raise FormatError("pose lines need kpt_shape in data.yaml")
        expected = 4 + shape[0] * shape[1]
        if count != expected:
            raise FormatError(f"a pose line has {expected + 1} columns (class cx cy w h and kpt_shape "
                              f"{shape[0]}×{shape[1]} keypoint values); found {count + 1}")
        return "pose"
    if count == 4 and task in (None, "detect", "segment"):
        return "box"
    if task == "detect":
        raise FormatError(f"a detect line has 5 columns (class cx cy w h); found {count + 1}")
    if task == "obb" and count != 8:
        raise FormatError(f"an obb line has 9 columns (class x1 y1 x2 y2 x3 y3 x4 y4); found {count + 1}")
    if count >= 6 and count % 2 == 0:
        return "quad" if count == 8 and task != "segment" and not context.polygons else "polygon"
    raise FormatError(f"expected 5 columns (class cx cy w h), a polygon (class x1 y1 x2 y2 x3 y3 …, an even "
                      f"number of values) or a pose line with kpt_shape in data.yaml; found {count + 1} columns")


def _class_index(token: str, context: _ReadContext) -> int:
    value = _number(token, 1)
    if value < 0 or value != int(value):
        raise FormatError(f"column 1: the class index must be a whole number ≥ 0, not {token}")
    index = int(value)
    if index >= len(context.names):
        raise FormatError(f"class {index} is past the {len(context.names)} class names "
                          f"(0–{len(context.names) - 1})")
    return index


def _parse_lines(text: str, context: _ReadContext, report: ConversionReport) -> list[Annotation]:
    annotations: list[Annotation] = []
    counts = {len(line.split()) for line in text.splitlines()}
    context.polygons = context.task != "obb" and any(c >= 7 and c % 2 and c != 9 for c in counts)
    object_ids = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            if "," in line:
                raise FormatError("values must be separated by spaces, not commas")
            tokens = line.split()
            kind = _line_kind(len(tokens) - 1, context)
            index = _class_index(tokens[0], context)
            label = context.names[index]
            if kind == "pose":
                object_ids += 1
                made = _pose_annotations(tokens, label, index, number, object_ids, context)
            else:
                made = [_shape_annotation(tokens, kind, label, context)]
        except FormatError as exc:
            report.bad_record(exc.at(path=context.path, where=f"line {number}"), code="yolo.invalid-line",
                              annotation_type=_guess_type(raw), item=context.filename)
            continue
        annotations.extend(made)
    return annotations


def _guess_type(line: str) -> str:
    count = len(line.replace(",", " ").split())
    return "box" if count in (5, 9) else ("segment" if count >= 7 and count % 2 else "unknown")


def _new(definition, metadata: dict | None = None) -> Annotation:
    return Annotation.new(annotation_definition=definition, automated=False,
                          metadata=metadata or {"system": {}, "user": {}})


def _box_from_centre(cx: float, cy: float, w: float, h: float, label: str, context: _ReadContext) -> Box:
    if w < 0 or h < 0:
        raise FormatError("box width and height must not be negative")
    width, height = context.width, context.height
    return Box(left=(cx - w / 2) * width, top=(cy - h / 2) * height, right=(cx + w / 2) * width,
               bottom=(cy + h / 2) * height, label=label)


def _shape_annotation(tokens: list[str], kind: str, label: str, context: _ReadContext) -> Annotation:
    values = [_coordinate(t, i) for i, t in enumerate(tokens[1:], start=2)]
    if kind == "box":
        context.seen.add("detect")
        return _new(_box_from_centre(*values, label=label, context=context))
    points = np.asarray(values, dtype=np.float64).reshape(-1, 2) * (context.width, context.height)
    if kind == "quad":
        box = _rectangle(points, context.width, context.height)
        if box is not None:
            box.label = label
            context.seen.add("obb")
            meta = {_CORNERS_KEY: values, _FINGERPRINT_KEY: _fingerprint(box, context.width, context.height)}
            return _new(box, {"system": {}, "user": {"yolo": meta}})
    context.seen.add("segment")
    return _new(Polygon(geo=points, label=label))


def _rectangle(points: np.ndarray, width: float, height: float) -> Box | None:
    """The rotated Box whose corners are these 4 points (in pixels), or None if they are no rectangle.

    Rectangle: the diagonals share their midpoint and have the same length, within 1e-4 of the
    image's width + height (0.1 px on a 1000 px image; rounding to 6 decimals moves a point far less).
    The box's angle is the direction from the first corner to the next one clockwise on screen,
    fitted to all four edges; angles within 1e-9° of a multiple of 90° give an upright box.
    """
    tol = 1e-4 * (width + height)
    p0, p1, p2, p3 = points
    if np.hypot(*((p0 + p2) - (p1 + p3))) / 2 > tol:
        return None
    if abs(np.hypot(*(p2 - p0)) - np.hypot(*(p3 - p1))) > tol:
        return None
    cross = (p1 - p0)[0] * (p2 - p1)[1] - (p1 - p0)[1] * (p2 - p1)[0]
    nxt, prv = (p1, p3) if cross > 0 else (p3, p1)  # the corners after and before p0, clockwise on screen
    # Fit the direction to all four edges (the long ones weigh most), not to one rounded edge.
    across = (nxt - p0) + (p2 - prv)  # two widths, along the box's x
    down = (prv - p0) + (p2 - nxt)  # two heights, along its y (x turned clockwise on screen)
    direction = across + np.array([down[1], -down[0]])
    length = float(np.hypot(*direction))
    if length <= tol:
        return None
    u = direction / length
    w = float(np.dot(across, u)) / 2
    h = float(np.dot(down, (-u[1], u[0]))) / 2
    if w <= tol or h <= tol:
        return None
    angle = math.degrees(math.atan2(u[1], u[0]))
    cx, cy = (float(v) for v in points.mean(axis=0))
    quarter = round(angle / 90.0)
    if abs(angle - 90.0 * quarter) < 1e-9:  # upright: no angle, the extents along x and y
        if quarter % 2:
            w, h = h, w
        return Box(left=cx - w / 2, top=cy - h / 2, right=cx + w / 2, bottom=cy + h / 2)
    return Box(left=cx - w / 2, top=cy - h / 2, right=cx + w / 2, bottom=cy + h / 2, angle=angle)


def _fingerprint(box: Box, width: float, height: float) -> str:
    """A hash of a box's geometry and the image size: equal exactly when neither changed."""
    key = tuple(float(v) for v in (box.left, box.top, box.right, box.bottom, box.angle or 0, width, height))
    return hashlib.sha1(repr(key).encode()).hexdigest()


def _pose_annotations(tokens: list[str], label: str, index: int, number: int, object_id: int,
                      context: _ReadContext) -> list[Annotation]:
    count, dims = context.kpt_shape  # type: ignore[misc]
    head = [_coordinate(t, i) for i, t in enumerate(tokens[1:5], start=2)]
    box = _box_from_centre(*head, label=label, context=context)
    template = context.templates.get(index)
    names = list(template.order) if template else [f"keypoint_{i + 1}" for i in range(count)]
    pose = Pose(label=label, template_id=template.id if template else None,
                instance_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"yolo:{context.filename}#{number}")))
    pose_annotation = _new(pose)
    pose_annotation.id = f"yolo-line-{number}-pose"
    box_annotation = _new(box)
    for annotation in (box_annotation, pose_annotation):
        annotation.object_id = object_id
    out = [box_annotation, pose_annotation]
    for k in range(count):
        column = 6 + k * dims
        x = _coordinate(tokens[column - 1], column)
        y = _coordinate(tokens[column], column + 1)
        attributes: dict = {}
        if dims == 3:
            v = _number(tokens[column + 1], column + 2)
            if v not in (0, 1, 2):
                raise FormatError(f"column {column + 2}: keypoint visibility must be 0, 1 or 2, not "
                                  f"{tokens[column + 1]}")
            if v == 0 and x == 0 and y == 0:
                continue  # not labelled
            attributes = {VISIBILITY_ATTRIBUTE: VISIBILITY_NAMES[int(v)]}
        point = Point(x=x * context.width, y=y * context.height, label=names[k], attributes=attributes)
        child = _new(point)
        child.parent_id = pose_annotation.id
        out.append(child)
    context.seen.add("pose")
    return out


# ==== reading: items ===============================================================================
def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a YOLO dataset (folder, ``data.yaml`` or ``obj.data``) lazily, one item per image."""
    from ..dataset import Dataset

    task = _check_task(options.yolo_task)
    layout = _discover(Path(src), options, report)
    if all(s.label is None for s in layout.sources) and next(layout.root.rglob("labelTxt"), None) is not None:
        raise FormatError("this looks like DOTA (labelTxt/ with pixel corners and class names), not YOLO",
                          path=layout.root)
    label_map, names = _label_map(layout, options)
    config = dict(layout.config)
    if task == "pose" and "kpt_shape" not in config:
        raise FormatError("reading with the pose task needs kpt_shape in data.yaml", path=layout.names_where)
    templates = _pose_templates(label_map, names, config)
    yolo_extras: dict[str, Any] = {"names": list(names)}
    for key in ("kpt_shape", "flip_idx"):
        if key in config:
            yolo_extras[key] = config[key]
    yolo_extras["task"] = "pose" if "kpt_shape" in config else (task or "detect")
    label_map.extras["yolo"] = yolo_extras

    def items() -> Iterator[AnnotationCollection]:
        for source in layout.sources:
            try:
                collection, seen = _read_item(source, names, templates, config, task, report)
            except DlconvertError as exc:
                report.failed(exc.at(path=source.label or source.image), code="yolo.invalid-file")
                continue
            for kind in seen:  # the dataset's task: the richest line kind read
                if _RANK[kind] > _RANK[yolo_extras["task"]]:
                    yolo_extras["task"] = kind
            yield collection

    return Dataset(items(), labels=label_map, images_root=_images_root(layout), total=len(layout.sources))


def _images_root(layout: _Layout) -> Path | None:
    """The folder under which every item's remote path names its image, if there is one."""
    roots = set()
    for source in layout.sources:
        image = source.image.as_posix()
        relative = source.filename.lstrip("/")
        if not image.endswith("/" + relative):
            return layout.root
        roots.add(image[: -len(relative) - 1])
    return Path(roots.pop()) if len(roots) == 1 else layout.root


def _read_item(source: _Source, names: list[str], templates: dict[int, PoseTemplate], config: dict,
               task: str | None, report: ConversionReport) -> tuple[AnnotationCollection, set]:
    info = image_info(source.image)
    width, height = info.display_size
    filename = source.filename
    system: dict[str, Any] = {"mimetype": mimetypes.guess_type(filename)[0] or "image/jpeg",
                              "width": info.width, "height": info.height}
    if info.orientation != 1:
        system["exif"] = {"Orientation": info.orientation}
    metadata: dict[str, Any] = {"system": system}
    if source.split is not None:
        metadata["user"] = {"yolo": {_SPLIT_KEY: source.split}}
    item_json = {"id": None, "filename": filename, "name": posixpath.basename(filename),
                 "dir": posixpath.dirname(filename) or "/", "type": "file", "metadata": metadata,
                 "annotations": []}
    collection = AnnotationCollection(_item_json=item_json)
    collection._read_item_fields(item_json, source.image)
    collection.orientation = info.orientation
    context = _ReadContext(source.label or source.image, filename, width, height, names, templates,
                           config.get("kpt_shape"), task)
    if source.label is not None:
        if source.label.is_dir():
            raise FormatError("expected a label file, found a directory", path=source.label)
        collection.annotations.extend(_parse_lines(_read_text(source.label), context, report))
    collection._count_read = len(collection.annotations)
    return collection, context.seen


# ==== writing ======================================================================================
def _check_task(task: str | None) -> str | None:
    if task is not None and task not in TASKS:
        raise ValueError(f"YOLO task must be one of {', '.join(TASKS)}, not {task!r}")
    return task


def _is_image_item(collection: AnnotationCollection) -> bool:
    mimetype = collection.mimetype or ""
    return not (collection.is_video or collection.is_audio) and (not mimetype or mimetype.startswith("image/"))


def _is_crowd(annotation: Annotation) -> bool:
    return section(annotation.metadata, "user", "coco").get("iscrowd") == 1


def _label(annotation: Annotation) -> str:
    return annotation.annotation_definition.label or "unlabeled"


_SHAPES = ("box", "segment", "binary", "ellipse")


class _Scan:
    """What pass 1 learns: the task the data needs, labels used, keypoint names per pose label."""

    def __init__(self) -> None:
        self.needs = "detect"
        self.used: set[str] = set()
        self.pose_keypoints: dict[str, list[str]] = {}  # pose label → keypoint labels in order first met
        self.pose_templates: dict[str, str | None] = {}  # pose label → first template id met

    def add(self, collection: AnnotationCollection) -> None:
        for annotation in collection.annotations:
            kind = annotation.type
            if kind not in (*_SHAPES, "pose") or _is_crowd(annotation):
                continue
            label = _label(annotation)
            self.used.add(label)
            if kind == "pose":
                self._need("pose")
                self.pose_templates.setdefault(label, annotation.annotation_definition.template_id)
                order = self.pose_keypoints.setdefault(label, [])
                for child in collection.children(annotation):
                    name = child.annotation_definition.label
                    if child.type == "point" and name is not None and name not in order:
                        order.append(name)
            elif kind in ("segment", "binary", "ellipse"):
                self._need("segment")
            elif annotation.annotation_definition.is_rotated:
                self._need("obb")

    def _need(self, task: str) -> None:
        if _RANK[task] > _RANK[self.needs]:
            self.needs = task


@dataclass
class _Plan:
    task: str
    label_map: LabelMap
    names: list[str]
    index: dict[str, int]
    orders: dict[str, list[str]]  # pose label → keypoint order
    kpt_count: int
    kpt_dims: int
    flip_idx: list[int] | None


def _plan(scan: _Scan, source: LabelMap | None, options: ConvertOptions) -> _Plan:
    label_map = source.copy() if source is not None else LabelMap.from_names(scan.used)
    for name in sorted(scan.used):
        if name not in label_map:
            label_map.add(name)
    yolo_extras = label_map.extras.get("yolo") if isinstance(label_map.extras.get("yolo"), dict) else {}
    task = options.yolo_task
    if task is None:
        task = scan.needs
        floor = yolo_extras.get("task")
        if floor in _RANK and _RANK[floor] > _RANK[task]:
            task = floor
    keypoint_only = label_map.keypoint_names() - scan.used
    names = [n for n in label_map.yolo_names() if n not in keypoint_only]
    orders: dict[str, list[str]] = {}
    if task == "pose":
        for label, met in sorted(scan.pose_keypoints.items()):
            template = label_map.template_for(scan.pose_templates.get(label), label)
            if template is None:
                template = PoseTemplate(f"yolo-{label}", label, list(met))
                label_map.templates[template.id] = template
            orders[label] = list(template.order)
    count = max((len(o) for o in orders.values()), default=0)
    shape = yolo_extras.get("kpt_shape")
    dims = 2 if isinstance(shape, list) and len(shape) == 2 and shape[1] == 2 else 3
    if not orders and isinstance(shape, list) and len(shape) == 2 and isinstance(shape[0], int):
        count = shape[0]
    flip = _flip_idx(orders, count, yolo_extras.get("flip_idx"))
    label_map.extras["yolo"] = {k: v for k, v in {
        "task": task, "names": names, "kpt_shape": [count, dims] if task == "pose" else None,
        "flip_idx": flip if task == "pose" else None}.items() if v is not None}
    return _Plan(task, label_map, names, {n: i for i, n in enumerate(names)}, orders, count, dims, flip)


#: "left"/"right" as a word or word start (left_eye, eyeLeft, LEFT), or a lone l/r/L/R (l_eye, eye_r, RShoulder).
_SIDES = re.compile(r"(?<![a-z])(?:left|right|Left|Right|LEFT|RIGHT)(?![a-z])|(?<![A-Za-z])[lrLR](?![a-z])")


def _flip_idx(orders: dict[str, list[str]], count: int, given: Any) -> list[int] | None:
    """Keypoint index after a horizontal flip, from left/right name pairs; None without any pair."""
    if isinstance(given, list) and len(given) == count and sorted(given) == list(range(count)):
        return list(given)
    distinct = {tuple(o) for o in orders.values()}
    if len(distinct) != 1:
        return None
    order = list(distinct.pop())
    swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT",
            "l": "r", "r": "l", "L": "R", "R": "L"}
    position = {name: i for i, name in enumerate(order)}
    flip = list(range(count))
    paired = False
    for i, name in enumerate(order):
        other = _SIDES.sub(lambda m: swap[m.group(0)], name)
        j = position.get(other)
        if other != name and j is not None:
            flip[i] = j
            paired = True
    return flip if paired else None


class _Writer:
    """Pass 2: one label file per image item, lines built by the plan's task."""

    def __init__(self, plan: _Plan, dst: Path, options: ConvertOptions, report: ConversionReport,
                 images_root: Path | None) -> None:
        self.plan = plan
        self.dst = dst
        self.options = options
        self.report = report
        self.images_root = images_root
        self.precision = options.precision
        self.half_unit = 0.5 * 10.0 ** -options.precision
        self.written: dict[Path, str | None] = {}
        self.folders: dict[tuple[str, str, str], Path] = {}
        self.splits: set[str] = set()
        self.outputs: list[Path] = []
        self._claimed: set[int] = set()  # keypoints already written with a pose, in the current item

    # -- per item -------------------------------------------------------------------------------
    def add_item(self, collection: AnnotationCollection) -> bool:
        item = collection.filename
        self._claimed = set()
        width, height = collection.display_size
        wants_image = self.options.images_mode in ("copy", "link")
        image = None
        if self.images_root is not None and item and (wants_image or not (width and height)):
            image = find_image(self.images_root, item)
        if not (width and height) and image is not None:
            try:
                width, height = image_info(image).display_size
            except FormatError:
                width = height = None
        if not (width and height) and len(collection.annotations):
            for annotation in collection:
                self.report.skip(annotation, "yolo.no-image-size",
                                 f"the size of {item!r} is unknown (no width/height and no image file)", item)
            return False
        split, relative = self._place(collection)
        try:
            target = self._target("labels", split, posixpath.splitext(relative)[0] + ".txt")
            if target in self.written:
                raise OutputError(f"items {self.written[target]!r} and {item!r} both map to {target.name}")
            if len(target.name.encode("utf-8")) > 255:
                raise OutputError(f"the label file name of {item!r} is longer than 255 bytes")
        except OutputError as exc:
            self.report.bad_item(exc, collection, code="yolo.unwritable-item")
            return False
        self.written[target] = item
        lines = self._lines(collection, width or 0, height or 0) if collection.annotations else []
        # The converter stages the whole output folder and moves it into place when done: plain writes.
        target.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
        self.outputs.append(target)
        self.splits.add(split)
        if wants_image:
            self._put_image(image, split, relative, item)
        return True

    def _target(self, kind: str, split: str, relative: str) -> Path:
        """``dst/kind/split/relative``, its folder made; a path from item data cannot leave ``dst``.

        The same rules as ``safe_join`` (no ``..``, NUL or drive), checked on the text only: the
        output folder is new and holds no links, so resolving every path on disk would only cost time.
        """
        key = (kind, split, posixpath.dirname(relative))
        folder = self.folders.get(key)
        if folder is None:
            folder = safe_join(self.dst / kind / split, posixpath.dirname(relative) or ".")
            folder.mkdir(parents=True, exist_ok=True)
            self.folders[key] = folder
        name = posixpath.basename(relative)
        if name in ("", ".", "..") or "\x00" in name or "\\" in name:
            raise OutputError(f"path {relative!r} would leave the output folder")
        return folder / name

    def _place(self, collection: AnnotationCollection) -> tuple[str, str]:
        """``(split, remote path under it)`` of an item."""
        yolo = section(collection._item_json, "metadata", "user", "yolo")
        split = yolo.get(_SPLIT_KEY)
        if not (isinstance(split, str) and split not in ("", ".", "..") and not {"/", "\\"} & set(split)):
            split = self.options.split
        relative = (collection.filename or collection.name or f"/{collection.item_id or 'item'}").lstrip("/")
        if relative.startswith(split + "/"):
            relative = relative[len(split) + 1:]
        return split, relative

    def _put_image(self, image: Path | None, split: str, relative: str, item: str | None) -> None:
        if image is None:
            self.report.failed(FormatError(f"the image of {item!r} is not under {self.images_root}",
                                           path=self.images_root), code="yolo.image-not-found")
            return
        stem = posixpath.splitext(relative)[0]
        target = self._target("images", split, stem + image.suffix)
        if self.options.images_mode == "link":
            try:
                os.symlink(image.resolve(), target)
                return  # not listed among the outputs: a link is the source's file, not one written here
            except OSError:  # no symlinks here (Windows without the privilege): copy
                pass
        shutil.copy2(image, target)
        self.outputs.append(target)

    # -- lines --------------------------------------------------------------------------------------
    def _lines(self, collection: AnnotationCollection, width: int, height: int) -> list[str]:
        task = self.plan.task
        annotations = collection.annotations
        partners = pose_partners(annotations, _SHAPES) if task == "pose" else {}
        partnered = set(partners.values())
        pose_ids = {a.id for a in annotations if a.type == "pose" and a.id is not None}
        item = collection.filename
        lines = []
        for i, annotation in enumerate(annotations):
            if i in partnered:
                continue  # written on its pose's line
            if annotation.type == "point" and annotation.parent_id in pose_ids:
                if task != "pose":
                    self.report.skip(annotation, "yolo.unsupported-type", "keypoints need the pose task", item)
                continue  # else written (or reported) with its pose
            if annotation.type == "pose" and task == "pose":
                partner = annotations[partners[i]] if i in partners else None
                line = self._pose_line(collection, annotation, partner, width, height)
            else:
                line = self._shape_line(annotation, width, height, item)
            if line is not None:
                lines.append(line)
        return lines

    def _fmt(self, values) -> str:
        spec = f".{self.precision}f"  # + 0.0 writes -0.0 as 0.0
        return " ".join([format(v + 0.0, spec) for v in np.asarray(values, dtype=np.float64).tolist()])

    def _clamp(self, values):
        """``(values clipped into [0, 1], whether that changes a written digit)``."""
        if isinstance(values, np.ndarray):
            clipped = np.clip(values, 0.0, 1.0)
            return clipped, bool(np.any(np.abs(clipped - values) > self.half_unit))
        clipped = [0.0 if v < 0.0 else (1.0 if v > 1.0 else v) for v in values]
        return clipped, any(abs(c - v) > self.half_unit for c, v in zip(clipped, values, strict=True))

    def _clipped(self, annotation: Annotation, item) -> None:
        self.report.approximate(annotation, "yolo.clipped", "coordinates outside the image were clipped into it", item)

    def _missing_keypoint(self) -> str:
        return self._fmt([0, 0]) + (" 0" if self.plan.kpt_dims == 3 else "")

    def _class(self, annotation: Annotation) -> str:
        return str(self._class_index(_label(annotation)))

    def _class_index(self, label: str) -> int:
        """The label's class; a label the plan did not foresee (one-pass writing) is appended."""
        plan = self.plan
        if label not in plan.index:
            plan.label_map.add(label)
            plan.index[label] = len(plan.names)
            plan.names.append(label)
            plan.label_map.extras["yolo"]["names"] = plan.names
        return plan.index[label]

    def _shape_line(self, annotation: Annotation, width: int, height: int, item) -> str | None:
        report = self.report
        definition = annotation.annotation_definition
        kind = definition.type
        task = self.plan.task
        if kind not in _SHAPES:
            reason = {
                "pose": "keypoints need the pose task",
                "point": "a point is written only as a keypoint of a pose",
                "polyline": "YOLO has no open lines",
                "class": "YOLO detection labels have no image-level classes",
                "subtitle": "YOLO has no subtitles",
                "cube": "YOLO has no cuboids",
            }.get(kind, f"YOLO cannot hold a {kind!r} annotation")
            report.skip(annotation, "yolo.unsupported-type", reason, item)
            return None
        if _is_crowd(annotation):
            report.skip(annotation, "yolo.crowd-region", "a COCO crowd region: YOLO has no ignore regions", item)
            return None
        problems = definition.problems()
        if problems:
            report.skip(annotation, "yolo.invalid-geometry", problems[0], item)
            return None
        size = np.array([width, height], dtype=np.float64)
        if task == "segment":
            values = self._polygon_values(annotation, size, item)
        elif task == "obb":
            values = self._corner_values(annotation, size, item)
        else:
            values = self._box_values(annotation, size, item)
            if values is not None and task == "pose":
                report.approximate(annotation, "yolo.no-keypoints",
                                   "a shape without keypoints in a pose dataset: its box with every keypoint missing",
                                   item)
                values = " ".join([values, *(self._missing_keypoint() for _ in range(self.plan.kpt_count))])
        if values is None:
            return None
        report.wrote(annotation)
        return f"{self._class(annotation)} {values}"

    def _bounds(self, annotation: Annotation, item) -> tuple[float, float, float, float]:
        definition = annotation.annotation_definition
        kind = definition.type
        if self.plan.task == "detect":
            if kind == "box" and definition.is_rotated:
                self.report.approximate(annotation, "yolo.rotated-box-as-bounds",
                                        "a rotated box written as the upright box around it", item)
            elif kind in ("segment", "binary", "ellipse"):
                code = {"segment": "yolo.polygon-as-box", "binary": "yolo.mask-as-box",
                        "ellipse": "yolo.ellipse-as-box"}[kind]
                self.report.approximate(annotation, code, f"a {kind} written as its bounding box", item)
                from .coco import source_bbox

                declared = source_bbox(annotation)  # a COCO object's own bbox, as Ultralytics writes it
                if declared is not None:
                    return declared
        return definition.bounds()

    def _box_values(self, annotation: Annotation, size: np.ndarray, item) -> str | None:
        left, top, right, bottom = self._bounds(annotation, item)
        width, height = float(size[0]), float(size[1])
        (x0, y0, x1, y1), changed = self._clamp([left / width, top / height, right / width, bottom / height])
        if x1 <= x0 or y1 <= y0:
            self.report.skip(annotation, "yolo.outside-image", "the box lies outside the image", item)
            return None
        if changed:
            self._clipped(annotation, item)
        return self._fmt(((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0))

    def _rings(self, annotation: Annotation, item) -> list[np.ndarray]:
        """The rings to write for a shape, in pixels."""
        definition = annotation.annotation_definition
        kind = definition.type
        if kind == "box":
            self.report.approximate(annotation, "yolo.box-as-polygon", "a box written as its 4-corner polygon", item)
            return [definition.corners()]
        if kind == "ellipse":
            self.report.approximate(annotation, "yolo.ellipse-as-polygon", "an ellipse written as a 72-point polygon",
                                    item)
            return [definition.to_polygon_points()]
        if kind == "binary":
            traced = Polygon.from_segmentation(definition.geo, max_instances=None)
            rings = [ring for polygon in traced for ring in polygon.parts if len(ring) >= 3]
            self.report.approximate(annotation, "yolo.mask-as-polygon",
                                    "a mask traced into a polygon" + (" (its parts and holes joined into one line)"
                                                                      if len(rings) > 1 else ""), item)
            return rings
        rings = [ring for ring in definition.parts if len(ring) >= 3]
        if len(rings) > 1:
            self.report.approximate(annotation, "yolo.multipart-merged",
                                    f"{len(rings)} rings joined into one line by zero-width bridges", item)
        return rings

    def _polygon_values(self, annotation: Annotation, size: np.ndarray, item) -> str | None:
        points = self._yolo_corners(annotation, size)  # a box read from a 4-point line: its own corners
        if points is None:
            rings = self._rings(annotation, item)
            if not rings:
                self.report.skip(annotation, "yolo.invalid-geometry", "the shape has no ring of 3 or more points", item)
                return None
            points = merge_rings(rings) / size
        points, changed = self._clamp(points)
        if _area(points) <= 0:
            self.report.skip(annotation, "yolo.outside-image", "the polygon lies outside the image", item)
            return None
        if changed:
            self._clipped(annotation, item)
        return self._fmt(points.reshape(-1))

    def _yolo_corners(self, annotation: Annotation, size: np.ndarray) -> np.ndarray | None:
        """The normalised corners a box was read with, when it is unchanged since (digit-exact write-back)."""
        definition = annotation.annotation_definition
        if definition.type != "box":
            return None
        yolo = section(annotation.metadata, "user", "yolo")
        if not isinstance(yolo.get(_CORNERS_KEY), list):
            return None
        if yolo.get(_FINGERPRINT_KEY) != _fingerprint(definition, float(size[0]), float(size[1])):
            return None
        corners = np.asarray(yolo[_CORNERS_KEY], dtype=np.float64)
        return corners.reshape(4, 2) if corners.size == 8 and np.isfinite(corners).all() else None

    def _corner_values(self, annotation: Annotation, size: np.ndarray, item) -> str | None:
        definition = annotation.annotation_definition
        kind = definition.type
        corners = self._yolo_corners(annotation, size)
        if corners is None:
            if kind == "box":
                corners = definition.corners() / size
            else:
                code = {"segment": "yolo.polygon-as-obb", "binary": "yolo.mask-as-obb",
                        "ellipse": "yolo.ellipse-as-obb"}[kind]
                self.report.approximate(annotation, code, f"a {kind} written as its smallest rotated rectangle",
                                        item)
                corners = _min_rectangle(definition) / size
        corners, changed = self._clamp(corners)
        if _area(corners) <= 0:
            self.report.skip(annotation, "yolo.outside-image", "the box lies outside the image", item)
            return None
        if changed:
            self._clipped(annotation, item)
        return self._fmt(corners.reshape(-1))

    def _pose_line(self, collection: AnnotationCollection, pose_annotation: Annotation, partner: Annotation | None,
                   width: int, height: int) -> str | None:
        item = collection.filename
        report = self.report
        plan = self.plan
        pose = pose_annotation.annotation_definition
        label = _label(pose_annotation)
        order = plan.orders.get(label, [])
        template = plan.label_map.template_for(pose.template_id, label)
        if template is not None and len(template.order) <= plan.kpt_count:
            order = list(template.order)
        by_name: dict[str, Annotation] = {}
        # a keypoint is counted with the first pose that claims it (two poses may share an id)
        children = [c for c in collection.children(pose_annotation) if id(c) not in self._claimed]
        self._claimed.update(id(c) for c in children)
        for child in children:
            name = child.annotation_definition.label
            if child.type != "point":
                continue  # a shape with a parent is written (and counted) as a shape of its own
            if name not in order or name in by_name:
                report.skip(child, "yolo.keypoint-not-in-template",
                            f"keypoint {name!r} is not in the pose's keypoint order (or repeated)", item)
                continue
            by_name[name] = child
        size = np.array([width, height], dtype=np.float64)
        box = None
        if partner is not None:
            problems = partner.annotation_definition.problems()
            if problems:
                report.skip(partner, "yolo.invalid-geometry", problems[0], item)
                partner = None
            else:
                if partner.type != "box" or partner.annotation_definition.is_rotated:
                    report.approximate(partner, "yolo.pose-box-from-shape",
                                       f"the pose's {partner.type} written as its bounding box", item)
                box = np.array(partner.annotation_definition.bounds(), dtype=np.float64)
        if box is None:
            labelled = [c.annotation_definition for c in by_name.values() if visibility(c) > 0]
            if not labelled:
                report.skip(pose_annotation, "yolo.invalid-geometry", "the pose has no box and no labelled keypoint",
                            item)
                for child in by_name.values():
                    report.skip(child, "yolo.invalid-geometry", "its pose has no box and no labelled keypoint", item)
                return None
            xs = [p.x for p in labelled]
            ys = [p.y for p in labelled]
            box = np.array([min(xs), min(ys), max(xs), max(ys)], dtype=np.float64)
            report.approximate(pose_annotation, "yolo.pose-box-from-keypoints",
                               "the pose's box is the bounds of its labelled keypoints", item)
        edges, changed = self._clamp([float(v) for v in box / np.tile(size, 2)])
        if changed:
            self._clipped(pose_annotation, item)
        head = [(edges[0] + edges[2]) / 2, (edges[1] + edges[3]) / 2, edges[2] - edges[0], edges[3] - edges[1]]
        parts = [str(self._class_index(label)), self._fmt(head)]
        for k in range(plan.kpt_count):
            child = by_name.get(order[k]) if k < len(order) else None
            if child is None:
                parts.append(self._missing_keypoint())
                continue
            point = child.annotation_definition
            xy, changed = self._clamp([point.x / width, point.y / height])
            if changed:
                self._clipped(child, item)
            parts.append(self._fmt(xy) + (f" {visibility(child)}" if plan.kpt_dims == 3 else ""))
        for annotation in (pose_annotation, partner, *by_name.values()):
            if annotation is not None:
                report.wrote(annotation)
        return " ".join(parts)

    # -- dataset files ---------------------------------------------------------------------------
    def finish(self) -> list[Path]:
        plan = self.plan
        splits = sorted(self.splits, key=lambda s: (list(_SPLIT_KEYS.values()).index(s)
                                                    if s in _SPLIT_KEYS.values() else 9, s))
        if not splits:
            splits = [self.options.split]
        text = _data_yaml(plan, splits)
        atomic_write(self.dst / DATA_YAML, text.encode("utf-8"))
        plan.label_map.save(self.dst / LABELMAP_FILENAME)
        return [self.dst / DATA_YAML, *self.outputs, self.dst / LABELMAP_FILENAME]


def _data_yaml(plan: _Plan, splits: list[str]) -> str:
    import yaml

    def dump(value: dict, flow: bool | None = False) -> str:
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=flow, width=10 ** 6)

    parts = [dump({"path": "."})]
    parts.append(dump({s: f"images/{s}" for s in splits}))
    if plan.task == "pose":
        parts.append(dump({"kpt_shape": [plan.kpt_count, plan.kpt_dims]}, flow=None))
        if plan.flip_idx is not None:
            parts.append(dump({"flip_idx": plan.flip_idx}, flow=None))
    parts.append(dump({"nc": len(plan.names)}))
    parts.append(dump({"names": dict(enumerate(plan.names))}) if plan.names else "names: {}\n")
    if plan.task == "pose":
        kpt_names = {plan.index[label]: order for label, order in plan.orders.items() if label in plan.index}
        if kpt_names:
            parts.append(dump({"kpt_names": {k: kpt_names[k] for k in sorted(kpt_names)}}, flow=None))
    return "".join(parts)


def _area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def _min_rectangle(definition) -> np.ndarray:
    """The smallest rotated rectangle around a shape: 4 corners in pixels, clockwise on screen."""
    import shapely

    shape = definition.to_shapely()
    rectangle = shapely.minimum_rotated_rectangle(shape)
    points = np.asarray(rectangle.exterior.coords)[:-1] if rectangle.geom_type == "Polygon" else None
    if points is None or len(points) != 4:  # a line or a point: its bounds
        left, top, right, bottom = definition.bounds()
        points = np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float64)
    if _signed_area(points) < 0:
        points = points[::-1]
    return points


def _signed_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2


def merge_rings(rings: list[np.ndarray]) -> np.ndarray:
    """One ring through every ring, joined by zero-width bridges between their closest vertices.

    The rings are the nodes of a minimum spanning tree whose edges join the closest pair of
    vertices of two rings; the result walks every ring once from the vertex where it is entered,
    detouring into each child ring where it hangs and coming back the same way (a bridge
    is walked twice, so it adds no area). Filled even-odd, as YOLO's rasterisers fill a line,
    disjoint parts stay parts and a ring inside another stays a hole. A single ring is returned
    as it is.
    """
    rings = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in rings if len(r)]
    if len(rings) <= 1:
        return rings[0] if rings else np.zeros((0, 2))
    count = len(rings)
    closest: dict[tuple[int, int], tuple[float, int, int]] = {}

    def pair(i: int, j: int) -> tuple[float, int, int]:
        key = (min(i, j), max(i, j))
        if key not in closest:
            a, b = rings[key[0]], rings[key[1]]
            dx = a[:, 0, None] - b[None, :, 0]
            dy = a[:, 1, None] - b[None, :, 1]
            squared = dx * dx + dy * dy
            k = int(squared.argmin())
            closest[key] = (float(squared.flat[k]), *divmod(k, len(b)))
        distance, va, vb = closest[key]
        return (distance, va, vb) if i < j else (distance, vb, va)

    # Prim: grow the tree from ring 0, always adding the ring closest to it.
    hanging: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # (ring, vertex) → [(child, vertex)]
    in_tree = [0]
    best = {j: (pair(0, j), 0) for j in range(1, count)}
    while best:
        j = min(best, key=lambda r: (best[r][0][0], r))
        (_, vi, vj), i = best.pop(j)
        hanging[(i, vi)].append((j, vj))
        in_tree.append(j)
        for other in best:
            candidate = pair(j, other)
            if candidate[0] < best[other][0][0]:
                best[other] = (candidate, j)
    # Which vertices of each ring have children hanging from them.
    stops: dict[int, list[int]] = defaultdict(list)
    for ring_index, vertex in hanging:
        stops[ring_index].append(vertex)
    # Walk whole runs of a ring's vertices at once, from its entry vertex to its next stop. A frame is
    # [ring, entry vertex, the ring rolled to start at its entry, stops to come as (steps from entry, vertex),
    #  steps walked, children still to visit at the current stop].
    out: list[np.ndarray] = []

    def enter(ring_index: int, entry: int) -> list[Any]:
        ring = rings[ring_index]
        todo = sorted(((v - entry) % len(ring), v) for v in stops.get(ring_index, ()))
        return [ring_index, entry, np.roll(ring, -entry, axis=0), todo, 0, []]

    stack = [enter(0, 0)]
    while stack:
        frame = stack[-1]
        ring_index, _, walked, todo, done, pending = frame
        if pending:
            child, vertex = pending.pop(0)
            stack.append(enter(child, vertex))
            continue
        if todo:
            step, vertex = todo.pop(0)
            out.append(walked[done:step + 1])  # up to and including the stop's vertex
            frame[4] = step + 1
            frame[5] = list(hanging[(ring_index, vertex)])
            continue
        out.append(walked[done:])
        if ring_index != 0:
            out.append(walked[:1])  # a child ring closes back on its entry
        stack.pop()
        if stack:  # back over the bridge to the parent's vertex
            parent = stack[-1]
            out.append(parent[2][parent[4] - 1:parent[4]])
    return np.concatenate(out)


def _skip_if_not_image(collection: AnnotationCollection, report: ConversionReport) -> bool:
    """Report every annotation of a video or audio item (YOLO holds images) and say so."""
    if _is_image_item(collection):
        return False
    kind = "audio" if collection.is_audio else ("video" if collection.is_video else "not an image")
    for annotation in collection:
        report.skip(annotation, "yolo.not-an-image", f"YOLO holds images; this item is {kind}", collection.filename)
    return True


def _check_options(options: ConvertOptions) -> None:
    _check_task(options.yolo_task)
    if not 0 <= options.precision <= 15:
        raise ValueError(f"YOLO precision must be 0…15 decimals, not {options.precision}")
    if options.images_mode not in ("none", "copy", "link"):
        raise ValueError(f"images_mode must be 'none', 'copy' or 'link', not {options.images_mode!r}")


def one_pass(dataset: Dataset, options: ConvertOptions) -> bool:
    """Whether the task and the classes are known up front (not pose), so items can be written as they come."""
    return options.yolo_task not in (None, "pose") and (options.labels or dataset.labels) is not None


def _one_pass_writer(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> _Writer:
    labels = options.labels or dataset.labels
    return _Writer(_plan(_Scan(), labels, options), dst, options, report, options.images or dataset.images_root)


def _write_items(writer: _Writer, items, report: ConversionReport) -> None:
    for collection in items:
        if _skip_if_not_image(collection, report):
            continue
        if writer.add_item(collection):
            report.items_out += 1


def write_shard(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> ShardOutput:
    """The label files of these items, one pass (see :func:`one_pass`); a label the label map lacks
    would shift the class numbers of later shards, so it sends the job back to a single pass."""
    from ..dataset import ShardOutput
    from ..parallel import NeedsSequential

    _check_options(options)
    writer = _one_pass_writer(dataset, Path(dst), options, report)
    known = len(writer.plan.names)
    _write_items(writer, dataset.items, report)
    if len(writer.plan.names) != known:
        raise NeedsSequential(f"label {writer.plan.names[known]!r} is not in the label map")
    return ShardOutput(writer.outputs, state=writer.splits)


def finish(shards: list[ShardOutput], dataset: Dataset, dst: Path, options: ConvertOptions,
           report: ConversionReport) -> list[Path]:
    """``data.yaml`` naming every split the shards wrote, and ``labelmap.json``."""
    writer = _one_pass_writer(dataset, Path(dst), options, report)
    for shard in shards:
        writer.splits |= shard.state
    return writer.finish()


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``labels/``, ``data.yaml``, ``labelmap.json`` (and ``images/``) under ``dst``.

    With ``yolo_task`` given (not pose) and a label map known up front (from the source or
    ``options.labels``), one pass. Otherwise two: the items are spooled to a temporary file as
    Dataloop JSON lines (so the task, the class list and the keypoint order can be decided from
    all of them), then written one by one.
    """
    _check_options(options)
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    if one_pass(dataset, options):
        writer = _one_pass_writer(dataset, dst, options, report)
        _write_items(writer, dataset.items, report)
        return writer.finish()
    labels = options.labels or dataset.labels
    scan = _Scan()
    with tempfile.TemporaryDirectory(prefix="dlconvert-yolo-") as spool_dir:
        spool = Path(spool_dir) / "items.jsonl"  # one item's Dataloop JSON per line, lossless
        with open(spool, "wb") as handle:
            for collection in dataset.items:
                if _skip_if_not_image(collection, report):
                    continue
                scan.add(collection)
                handle.write(dumps(collection.to_json(), indent=False) + b"\n")
        writer = _Writer(_plan(scan, labels, options), dst, options, report, options.images or dataset.images_root)
        with open(spool, "rb") as handle:
            for line in handle:
                if writer.add_item(AnnotationCollection.from_json(loads(line))):
                    report.items_out += 1
    return writer.finish()


FORMAT = FormatSpec(
    name="yolo",
    summary="YOLO txt labels + data.yaml (Ultralytics detect / segment / pose / obb; darknet obj.data read)",
    holds=frozenset({"box", "segment", "pose", "point"}),
    approximates={"binary": "traced polygon (segment) or its box", "ellipse": "72-point polygon or its box",
                  "segment (several rings)": "one line, rings bridged", "box (rotated, detect)": "its bounds",
                  "box (segment)": "4-corner polygon"},
    read=read,
    write=write,
    write_shard=write_shard,
    finish=finish,
    shardable=one_pass,
)
