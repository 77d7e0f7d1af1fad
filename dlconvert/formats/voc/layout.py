"""Where a VOC source keeps its files: the dataset root, the XML files, the PNG-only items, the images.

A source is one XML file, a folder of them (Roboflow's ``train/*.xml``, LabelImg's folders), or a
devkit tree: ``Annotations/``, ``SegmentationClass/``, ``SegmentationObject/``, ``JPEGImages/``,
``labelmap.txt`` under one root (VOC's own spelling, or snake_case as dtlpy-converters writes it).
An ``Annotations`` folder, or a file inside one, is read as part of the tree around it
(``VOC2012/Annotations`` → the masks in ``VOC2012/Segmentation*``, the images in
``VOC2012/JPEGImages``), and ``VOCdevkit/`` (the official download) — or the folder holding it — as
the one tree inside it (two trees, VOC2007 beside VOC2012, are refused: name one).
Segmentation PNGs without an XML (CVAT's and Datumaro's "Segmentation mask" exports carry no
``Annotations/``) are items of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...errors import FormatError

__all__ = ["LOOKS_FOR", "Layout", "find_layout", "folder", "is_tree"]

LOOKS_FOR = ("*.xml files (Annotations/*.xml in a VOC devkit tree), or SegmentationObject/*.png and "
             "SegmentationClass/*.png")
_TREE_FOLDERS = ("Annotations", "SegmentationClass", "SegmentationObject", "JPEGImages")
_MAX_DEPTH = 32  # how far up a single XML file looks for the Annotations folder it sits in


def folder(root: Path, name: str) -> Path:
    """``root/<name>`` as VOC spells it, or its snake_case spelling (``segmentation_class``) if that exists."""
    snake = "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
    for candidate in (name, snake):
        if (root / candidate).is_dir():
            return root / candidate
    return root / name


def is_tree(root: Path) -> bool:
    """Whether ``root`` is a VOC devkit tree (it holds Annotations/, JPEGImages/, ImageSets/ …), by a few stats."""
    return any(folder(root, name).is_dir() for name in _TREE_FOLDERS)


def _is_devkit(root: Path) -> bool:
    """A tree with more than its Annotations folder (images, masks or image sets beside it)."""
    return any(folder(root, name).is_dir() for name in (*_TREE_FOLDERS[1:], "ImageSets"))


@dataclass(frozen=True)
class Layout:
    """What :func:`find_layout` found. Item stems are POSIX paths relative to ``xml_root`` (XML files)
    or to the segmentation folders (PNG-only items), without extension."""

    root: Path
    xml_root: Path
    xml_files: list[Path]
    mask_stems: list[str]
    object_dir: Path | None
    class_dir: Path | None
    image_roots: tuple[Path, ...]

    @property
    def total(self) -> int:
        return len(self.xml_files) + len(self.mask_stems)


def _pngs(directory: Path | None) -> set[str]:
    if directory is None:
        return set()
    return {p.relative_to(directory).with_suffix("").as_posix() for p in directory.rglob("*.png")
            if not p.name.startswith(".") and p.is_file()}


def find_layout(src: Path) -> Layout:
    """The layout of ``src`` (a file or a folder)."""
    if src.is_file():
        xml_root = next((parent for depth, parent in enumerate(list(src.parents)[:_MAX_DEPTH])
                         if parent.name.lower() == "annotations" and (depth == 0 or _is_devkit(parent.parent))),
                        src.parent)
        root = xml_root.parent if xml_root.name.lower() == "annotations" else xml_root
        files = [src]
    else:
        if src.name.lower() == "annotations":
            root, xml_root = src.parent, src
        else:
            root = src
            if not is_tree(root) and not any(p.suffix.lower() == ".xml" for p in root.iterdir() if p.is_file()):
                root = _the_tree_below(root)
            xml_root = folder(root, "Annotations") if folder(root, "Annotations").is_dir() else root
        files = sorted((p for p in xml_root.rglob("*.xml") if not p.name.startswith(".")),
                       key=lambda p: p.relative_to(xml_root).as_posix())
    object_dir = folder(root, "SegmentationObject") if folder(root, "SegmentationObject").is_dir() else None
    class_dir = folder(root, "SegmentationClass") if folder(root, "SegmentationClass").is_dir() else None
    mask_stems: list[str] = []
    if not src.is_file():
        with_xml = {p.relative_to(xml_root).with_suffix("").as_posix() for p in files}
        mask_stems = sorted((_pngs(object_dir) | _pngs(class_dir)) - with_xml)
    return Layout(root, xml_root, files, mask_stems, object_dir, class_dir, _image_roots(root, xml_root))


def _the_tree_below(root: Path) -> Path:
    """The one devkit tree one or two levels below ``root`` (``VOCdevkit/VOC2012``, or the folder holding
    ``VOCdevkit``), else ``root``. Several trees (VOC2007 beside VOC2012) are refused: read as one folder
    of XML files, their items would be named by their Annotations paths and their masks lost."""
    children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    trees = [p for p in children if is_tree(p)]
    if not trees:
        trees = [g for p in children for g in sorted(p.iterdir()) if g.is_dir() and is_tree(g)]
    if len(trees) > 1:
        shown = ", ".join(tree.relative_to(root).as_posix() for tree in trees[:4]) + (" …" if len(trees) > 4 else "")
        raise FormatError(f"{len(trees)} VOC devkit trees in this folder ({shown}): convert one at a time "
                          f"(name its folder)", path=root)
    return trees[0] if trees else root


def _image_roots(root: Path, xml_root: Path) -> tuple[Path, ...]:
    """Where VOC tools look for an item's image: ``JPEGImages/`` in a devkit tree, else ``images/``
    beside the XML folder (LabelImg, icevision), else beside the XML files (Roboflow)."""
    roots = []
    if is_tree(root) or xml_root != root:
        roots.append(folder(root, "JPEGImages"))
    if (root / "images").is_dir():
        roots.append(root / "images")
    if not roots or xml_root == root:
        roots.append(xml_root)
    return tuple(dict.fromkeys(roots))
