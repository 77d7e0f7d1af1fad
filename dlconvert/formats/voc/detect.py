"""Does a path look like Pascal VOC? (``FORMAT.detect``; bounded looks, :mod:`dlconvert.formats._sniff`)

A VOC file is XML whose root element is ``<annotation>`` (CVAT's ``<annotations>`` is another
format). A folder is VOC when such a file lies in it a few levels down (a devkit's
``Annotations/``, ``VOCdevkit/VOC2012/Annotations/``, Roboflow's ``train/*.xml``), or when it —
or a tree right inside it — has ``SegmentationClass/`` or ``SegmentationObject/`` PNGs (a
segmentation export without XML). A folder that is no tree and holds no XML file itself but holds
several trees (VOC2007 beside VOC2012, Datumaro's test trees) is refused naming them, as the reader
refuses it (:class:`~dlconvert.errors.NotADatasetError`).
"""

from __future__ import annotations

from pathlib import Path

from ...errors import NotADatasetError
from .._sniff import MAX_FOLDERS, listing, relative, walk, xml_root
from .layout import folder as tree_folder
from .layout import is_tree  # the reader's own test of a devkit tree (a few stats of one folder)

__all__ = ["detect"]

_SNIFFED = 8  # XML files looked into
_MASK_FOLDERS = ("SegmentationClass", "SegmentationObject")


def detect(path: Path) -> str | None:
    """Why ``path`` (an XML file or a folder) looks like Pascal VOC, or None."""
    if path.is_dir():
        return _folder(path)
    return "an XML file whose root is <annotation>" if xml_root(path) == "annotation" else None


def _folder(folder: Path) -> str | None:
    trees = _trees_below(folder)
    if len(trees) > 1:
        shown = ", ".join(trees[:4]) + (" …" if len(trees) > 4 else "")
        raise NotADatasetError(f"a folder of {len(trees)} VOC devkit trees ({shown}): dlconvert reads one dataset at "
                               "a time: point at one of them", path=folder)
    files = walk(folder, (".xml",))
    for path in files[:_SNIFFED]:
        if xml_root(path) == "annotation":
            many = f" ({len(files)}{'+' if len(files) >= 64 else ''} XML files)" if len(files) > 1 else ""
            return f"{relative(path, folder)} has the root <annotation>{many}"
    trees = [folder, *(folder / e.name for e in listing(folder) if e.is_dir and not e.name.startswith("."))]
    for root in trees[:_SNIFFED]:
        for name in _MASK_FOLDERS:
            masks = tree_folder(root, name)
            if masks.is_dir() and walk(masks, (".png",), max_depth=1, limit=1):
                return f"{relative(masks, folder)}/ holds PNG masks (a VOC segmentation export)"
    return None


def _trees_below(folder: Path) -> list[str]:
    """The devkit trees the reader would choose from (:func:`.layout.find_layout`): when ``folder`` is no tree and
    has no XML file of its own, the trees right inside it, else those one level further down."""
    entries = listing(folder)
    if is_tree(folder) or any(e.is_file and e.name.lower().endswith(".xml") for e in entries):
        return []
    children = [folder / e.name for e in entries if e.is_dir and not e.name.startswith(".")]
    trees = [child for child in children[:MAX_FOLDERS] if is_tree(child)]
    if not trees:
        grandchildren = [child / e.name for child in children[:MAX_FOLDERS] for e in listing(child)
                         if e.is_dir and not e.name.startswith(".")]
        trees = [grandchild for grandchild in grandchildren[:MAX_FOLDERS] if is_tree(grandchild)]
    return [relative(tree, folder) for tree in trees]
