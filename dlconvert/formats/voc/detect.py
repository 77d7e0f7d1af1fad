"""Does a path look like Pascal VOC? (``FORMAT.detect``; bounded looks, :mod:`dlconvert.formats._sniff`)

A VOC file is XML whose root element is ``<annotation>`` (CVAT's ``<annotations>`` is another
format). A folder is VOC when such a file lies in it a few levels down (a devkit's
``Annotations/``, ``VOCdevkit/VOC2012/Annotations/``, Roboflow's ``train/*.xml``), or when it —
or a tree right inside it — has ``SegmentationClass/`` or ``SegmentationObject/`` PNGs (a
segmentation export without XML).
"""

from __future__ import annotations

from pathlib import Path

from .._sniff import listing, relative, walk, xml_root
from .layout import folder as tree_folder

__all__ = ["detect"]

_SNIFFED = 8  # XML files looked into
_MASK_FOLDERS = ("SegmentationClass", "SegmentationObject")


def detect(path: Path) -> str | None:
    """Why ``path`` (an XML file or a folder) looks like Pascal VOC, or None."""
    if path.is_dir():
        return _folder(path)
    return "an XML file whose root is <annotation>" if xml_root(path) == "annotation" else None


def _folder(folder: Path) -> str | None:
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
