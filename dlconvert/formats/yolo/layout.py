"""Where a YOLO dataset's images and label files are, and which label file belongs to which image.

Images are found the way Ultralytics finds them, and label files from them:

* ``data.yaml``: ``path`` (relative to the YAML; when it does not exist, the YAML's folder), and
  ``train``/``val``/``test``, each a folder of images, a list of them, or a ``.txt`` list of image
  paths, relative to ``path``; Roboflow's ``../train/images`` is ``<path>/train/images`` when the
  former does not exist (as in Ultralytics' ``check_det_dataset``), and ``valid/images`` stands in
  for a missing ``val/images``; CVAT/darknet's ``data/`` prefix is the dataset root.
* darknet ``obj.data`` (``train``/``valid``/``test`` lists, as CVAT writes with ``obj_train_data/``);
  a folder with ``images/`` (and ``labels/``) but no YAML; or any folder of ``.txt`` label files with
  the images beside them or under ``--images``.
* An image's label file: the last ``images`` folder of its path replaced by ``labels`` and the
  extension by ``.txt`` (Ultralytics' ``img2label_paths``), else the ``.txt`` beside it.
* A label file whose image is not where the layout puts it (a labels-only output, or images kept
  elsewhere) is still an item when its image is found under ``--images`` (by its path under the
  dataset root, under its split folder, or under the split's or its folder's name), or when the output's
  ``image_sizes.json`` (:mod:`.image_sizes`) records it; otherwise it is reported
  (``yolo.image-not-found``). A split folder that does not exist while its ``labels`` counterpart
  does is such a labels-only split.
* Symbolic links to image files are followed (dlconvert's own ``--images-mode link`` output is
  made of them); links to folders are not walked.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import FormatError
from ...images import IMAGE_EXTENSIONS, find_image
from ...labels import LABELMAP_FILENAME
from . import image_sizes
from .common import DATA_YAML, NAMES_FILES, SPLIT_KEYS, read_text
from .config import darknet_entries, find_names_file, invalid, load_yaml, names_file, names_from_yaml, pose_config
from .detect import refuse_several_datasets

if TYPE_CHECKING:
    from ...dataset import ConvertOptions
    from ...report import ConversionReport


@dataclass
class Source:
    """One image of the dataset: where its file is (or would be), its label file (None: no objects),
    its item name, and — when the file is not there — the size ``image_sizes.json`` records."""

    image: Path
    label: Path | None
    filename: str
    split: str | None
    present: bool = True
    size: image_sizes.Size = None


@dataclass
class Split:
    name: str | None
    images: list[Path]
    root: Path | None  # the split's image folder; remote paths are relative to it (None: the images' common folder)
    from_folder: bool  # a folder of images (label files without an image can be told), not a list
    several: bool = False  # one of several splits: item names start with the split's name


@dataclass
class Layout:
    root: Path
    sources: list[Source]
    names: list[str] | None
    names_where: str
    config: dict = field(default_factory=dict)  # kpt_shape, flip_idx, kpt_names (from data.yaml)
    labelmap_path: Path | None = None
    numbered: bool = False  # names are class_0 … from nc, as the dataset names none
    declared_empty: bool = False  # dlconvert's output of no image: image_sizes.json records none


@dataclass
class _Finder:
    """Where a label file's image is looked for when it is not where the layout puts it."""

    root: Path  # the dataset root
    images: Path | None  # --images

    @classmethod
    def at(cls, root: Path, options: ConvertOptions) -> _Finder:
        return cls(root, Path(options.images) if options.images is not None else None)

    @functools.cached_property
    def sizes(self) -> dict[str, tuple[str, image_sizes.Size]]:
        """``image_sizes.json`` by image path without extension, read when a label file first needs it."""
        return image_sizes.load(self.root)

    def source(self, label: Path, stem: Path, split: Split | None, base: Path | None) -> Source | None:
        """The item of ``label`` whose image would be ``stem`` + an image extension, or None."""
        relatives = [_relative(stem, self.root), _relative(stem, split.root if split else None)]
        if split is not None and split.root is not None and relatives[1] is not None:
            relatives += [f"{folder}/{relatives[1]}" for folder in (split.name, split.root.name) if folder]
        if self.images is not None:
            for relative in dict.fromkeys(r for r in relatives if r):
                found = find_image(self.images, relative + IMAGE_EXTENSIONS[0])
                if found is not None:
                    image = Path(f"{stem}{found.suffix}")
                    return Source(found, label, _item_name(image, base, split), split.name if split else None)
        recorded = self.sizes.get(relatives[0]) if relatives[0] else None
        if recorded is None:
            return None
        image = self.root / recorded[0]
        if recorded[1] is None and label.stat().st_size:  # objects, and no size to scale them by
            return None
        return Source(image, label, _item_name(image, base, split), split.name if split else None, False, recorded[1])

    def records_none_under(self, folder: str) -> bool:
        """Whether the dataset is dlconvert's output and its ``image_sizes.json`` records no image under ``folder``."""
        if not (self.root / image_sizes.IMAGE_SIZES).is_file():
            return False
        prefix = folder.strip().replace("\\", "/").strip("/") + "/"
        return not any(image.startswith(prefix) for image, _ in self.sizes.values())

    def where(self, split_root: Path | None) -> str:
        places = [str(split_root) if split_root is not None else "beside it"]
        if self.images is not None:
            places.append(f"--images {self.images}")
        if self.sizes:
            places.append(image_sizes.IMAGE_SIZES)
        return ", ".join(places)


def _relative(path: Path, folder: Path | None) -> str | None:
    if folder is None:
        return None
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return None


def _item_name(image: Path, base: Path | None, split: Split | None) -> str:
    relative = _relative(image, base) or image.name
    several = split is not None and split.name is not None and split.several
    return "/" + (f"{split.name}/{relative}" if several else relative)


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


def _swap(path: Path, old: tuple[str, ...], new: str, *, last_part_too: bool = True) -> Path | None:
    """``path`` with its last folder named one of ``old`` renamed ``new`` (None when it has none)."""
    parts = path.parts if last_part_too else path.parts[:-1]
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in old:
            return Path(*path.parts[:index], new, *path.parts[index + 1:])
    return None


def _label_candidates(image: Path) -> list[Path]:
    """Where an image's label file may be: Ultralytics' ``images`` → ``labels`` swap, then beside it."""
    swapped = _swap(image, ("images", "JPEGImages"), "labels", last_part_too=False)
    beside = image.with_suffix(".txt")
    return [swapped.with_suffix(".txt"), beside] if swapped is not None else [beside]


def _labels_folder(images: Path) -> Path:
    return _swap(images, ("images", "JPEGImages"), "labels") or images


def _split_images(entry: Any, root: Path, key: str, config_path: Path, report: ConversionReport,
                  finder: _Finder | None = None) -> tuple[list[Path], Path | None, bool]:
    """The images one split names: ``(images, folder they are relative to, it was one folder)``.

    A folder that does not exist while its ``labels`` counterpart does is returned as the split's
    folder with no images: its label files are paired through :class:`_Finder`. Neither existing is
    an empty split in dlconvert's own output whose ``image_sizes.json`` records no image there (an
    output of items none of which was an image), and a missing split otherwise.
    """
    entries = entry if isinstance(entry, list) else [entry]
    images: list[Path] = []
    folders: list[Path] = []
    for value in entries:
        if not isinstance(value, str):
            raise FormatError(f"split {key!r} must be a path or a list of paths", path=config_path, where=f"/{key}")
        path = _resolve(root, value)
        if path is None:  # Roboflow names valid/images "../valid/images", others "val/images": try the split's names
            canonical = SPLIT_KEYS.get(key, key)
            aliases = [a for a, c in SPLIT_KEYS.items() if c == canonical]
            path = next((root / a / "images" for a in aliases if (root / a / "images").is_dir()), None)
        if path is None:
            labels = _swap(Path(value.strip().replace("\\", "/")), ("images",), "labels")
            found = _resolve(root, labels.as_posix()) if labels is not None else None
            if found is not None and found.is_dir():  # labels only: the images are not there
                folders.append(_swap(found, ("labels",), "images"))
                continue
            if finder is not None and finder.records_none_under(value):
                continue
            report.failed(FormatError(f"split {key!r}: {value!r} does not exist under {root}", path=config_path,
                                      where=f"/{key}"), code="yolo.missing-split")
            continue
        if path.is_dir():
            images.extend(_images_under(path))
            folders.append(path)
        elif path.suffix.lower() == ".txt":
            for number, line in enumerate(read_text(path).splitlines(), start=1):
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


def _sources_from_splits(splits: list[Split], finder: _Finder, report: ConversionReport) -> list[Source]:
    """Pair each image with its label file and name it; then the label files that have no image."""
    several = len({s.name for s in splits}) > 1
    sources: list[Source] = []
    claimed: set[Path] = set()
    seen: set[Path] = set()
    for split in splits:
        split.several = several
        base = split.root or _common_folder(split.images)
        for image in split.images:
            if image in seen:
                continue
            seen.add(image)
            label = next((c for c in _label_candidates(image) if c.exists()), None)
            if label is not None:
                claimed.add(label)
            sources.append(Source(image, label, _item_name(image, base, split), split.name))
    for split in splits:
        if not split.from_folder or split.root is None:
            continue
        labels = _labels_folder(split.root)
        if not labels.is_dir():
            continue
        for path in sorted(labels.rglob("*.txt"), key=lambda p: p.as_posix()):
            if path in claimed or path.name.startswith(".") or _excluded_txt(path):
                continue
            stem = split.root / path.relative_to(labels).with_suffix("")
            source = finder.source(path, stem, split, split.root)
            if source is None:
                report.failed(FormatError("label file has no image (looked for the same name with an image "
                                          f"extension in {finder.where(split.root)})", path=path),
                              code="yolo.image-not-found")
                continue
            sources.append(source)
    return sources


def _excluded_txt(path: Path, read_first_line: bool = True) -> bool:
    """Text files in a YOLO folder that are not label files: names, lists, read-me's and licences.

    Telling an image list (darknet ``train.txt``) means reading its first line; callers skip that
    where lists do not live, so a large folder of labels is not opened twice.
    """
    name = path.name.lower()
    return (name in NAMES_FILES or name.startswith(("readme", "license", "licence"))
            or (read_first_line and _is_list_file(path)))


def discover(src: Path, options: ConvertOptions, report: ConversionReport) -> Layout:
    """The layout of the dataset at ``src``: a folder, a ``data.yaml`` or an ``obj.data``."""
    if src.is_file():
        suffix = src.suffix.lower()
        if suffix in (".yaml", ".yml"):
            return _yaml_layout(src, options, report)
        if suffix == ".data":
            return _darknet_layout(src, options, report)
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
        return _darknet_layout(datas[0], options, report)
    if (src / "images").is_dir():
        return _folder_layout(src, src, options, report, None)
    refuse_several_datasets(src)
    return _loose_layout(src, options, report)


def _yaml_layout(path: Path, options: ConvertOptions, report: ConversionReport) -> Layout:
    data = load_yaml(path)
    root = path.parent
    given = data.get("path")
    if given is not None and not isinstance(given, str):
        invalid(report, f"path must be a folder name, not {given!r}", path, "/path")
    elif given is not None and given.strip():
        candidate = Path(given) if Path(given).is_absolute() else path.parent / given
        if candidate.is_dir():
            root = candidate
    config = pose_config(data, path, report)
    names = names_from_yaml(data, path, report)
    finder = _Finder.at(root, options)
    splits: list[Split] = []
    for key, name in SPLIT_KEYS.items():
        if data.get(key) in (None, ""):
            continue
        images, folder, single = _split_images(data[key], root, key, path, report, finder)
        splits.append(Split(name, images, folder, single))
    labelmap = root / LABELMAP_FILENAME if (root / LABELMAP_FILENAME).is_file() else None
    if labelmap is None and (path.parent / LABELMAP_FILENAME).is_file():
        labelmap = path.parent / LABELMAP_FILENAME
    if not splits:
        if (root / "images").is_dir():
            layout = _folder_layout(root, root, options, report, names)
        else:
            layout = _loose_layout(root, options, report, names=names)
        layout.config, layout.names_where = config, str(path)
        layout.labelmap_path = labelmap
        layout.numbered = "names" not in data and names is not None
        return layout
    sources = _sources_from_splits(splits, finder, report)
    return Layout(root, sources, names, str(path), config, labelmap, numbered="names" not in data and names is not None,
                  declared_empty=not sources and (root / image_sizes.IMAGE_SIZES).is_file() and not finder.sizes)


def _darknet_layout(path: Path, options: ConvertOptions, report: ConversionReport) -> Layout:
    root = path.parent
    entries = darknet_entries(path)
    names: list[str] | None = None
    names_where = str(path)
    if entries.get("names"):
        names_path = _resolve(root, entries["names"])
        if names_path is None or not names_path.is_file():
            raise FormatError(f"names file {entries['names']!r} does not exist", path=path)
        names, names_where = names_file(names_path), str(names_path)
    elif find_names_file(root) is not None:
        names_path = find_names_file(root)
        names, names_where = names_file(names_path), str(names_path)
    classes = entries.get("classes")
    if classes is not None and not classes.isdigit():
        invalid(report, f"classes must be a number, not {classes!r}", path, "classes")
    elif names is not None and classes is not None and int(classes) != len(names):
        raise FormatError(f"classes is {classes} but the names file has {len(names)} names", path=path)
    splits = []
    for key in ("train", "valid", "test"):
        if entries.get(key):
            images, folder, single = _split_images(entries[key], root, key, path, report)
            splits.append(Split(SPLIT_KEYS[key], images, folder, single))
    return Layout(root, _sources_from_splits(splits, _Finder.at(root, options), report), names, names_where)


def _folder_layout(src: Path, root: Path, options: ConvertOptions, report: ConversionReport,
                   names: list[str] | None) -> Layout:
    """``images/<split>/…`` and ``labels/<split>/…`` without a YAML (or a YAML without split keys)."""
    images_dir = root / "images"
    subfolders = sorted(p for p in images_dir.iterdir() if p.is_dir())
    direct = [p for p in images_dir.iterdir() if _is_image(p)]
    if subfolders and not direct:
        splits = [Split(SPLIT_KEYS.get(p.name, p.name), _images_under(p), p, True) for p in subfolders]
    else:
        splits = [Split(None, _images_under(images_dir), images_dir, True)]
    names_where = str(src)
    if names is None:
        found = find_names_file(root)
        if found is not None:
            names, names_where = names_file(found), str(found)
    layout = Layout(root, _sources_from_splits(splits, _Finder.at(root, options), report), names, names_where)
    if (root / LABELMAP_FILENAME).is_file():
        layout.labelmap_path = root / LABELMAP_FILENAME
    return layout


def _loose_layout(src: Path, options: ConvertOptions, report: ConversionReport,
                  names: list[str] | None = None) -> Layout:
    """Any folder of ``.txt`` label files; images beside them or under ``options.images``."""
    images_root = Path(options.images) if options.images is not None else src
    names_where = str(src)
    names_path = find_names_file(src)
    if names is None and names_path is not None:
        names, names_where = names_file(names_path), str(names_path)
    labels = sorted((p for p in src.rglob("*.txt") if not any(part.startswith(".") for part in
                                                              p.relative_to(src).parts)),
                    key=lambda p: p.as_posix())
    labels = [p for p in labels if not _excluded_txt(p, read_first_line=p.parent == src)]
    sources: list[Source] = []
    claimed: set[Path] = set()
    base = Path(os.path.abspath(images_root))
    sizes = image_sizes.load(src)
    for label in labels:
        relative = label.relative_to(src).with_suffix("")
        image = None
        for candidate in _loose_candidates(relative):
            image = find_image(images_root, candidate.as_posix() + IMAGE_EXTENSIONS[0])
            if image is not None:
                break
        if image is None:
            recorded = next((sizes[c.as_posix()] for c in _loose_candidates(relative) if c.as_posix() in sizes), None)
            if recorded is not None and (recorded[1] is not None or not label.stat().st_size):
                sources.append(Source(src / recorded[0], label, "/" + recorded[0], None, False, recorded[1]))
                continue
            report.failed(FormatError(f"label file has no image (looked under {images_root}; pass the image "
                                      "folder with --images)", path=label), code="yolo.image-not-found")
            continue
        image = Path(os.path.abspath(image))
        claimed.add(image)
        sources.append(Source(image, label, "/" + _relative(image, base), None))
    for image in _images_under(images_root):
        image = Path(os.path.abspath(image))
        if image not in claimed:  # an image without a label file: no objects
            sources.append(Source(image, None, "/" + _relative(image, base), None))
    if not sources and not labels:
        raise FormatError("found no YOLO label files and no images (expected data.yaml, obj.data, or .txt labels "
                          "beside their images)", path=src)
    sources.sort(key=lambda s: s.filename)
    layout = Layout(src, sources, names, names_where)
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
