"""Where a CVAT source keeps its files, and whether a path looks like one (``detect``).

CVAT's exports are ``annotations.xml`` with the images in ``images/`` beside it (a project export:
``images/<subset>/``); Datumaro writes ``<subset>.xml``; dlconvert writes a CVAT for video file per
video item under ``videos/``. A source is one XML file, or a folder: its ``*.xml`` files and
``videos/**/annotations.xml`` (hidden ones aside) are read. A folder with no CVAT file of its own but
exports in sub-folders (:func:`exports_inside`) is refused naming them, by detection and by the reader:
point at one. Each file's ``<meta>`` is read up front (the label
map must be known before the first item): only the head of the file, up to the first ``<image>`` or
``<track>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...errors import DlconvertError, FormatError, NotADatasetError, listed
from .. import _sniff as sniff
from .document import ROOT, top_elements
from .meta import Meta, parse_meta

__all__ = ["IMAGES_FILENAME", "LOOKS_FOR", "VIDEOS", "Layout", "detect", "exports_inside", "find_layout"]

LOOKS_FOR = ("CVAT XML files: annotations.xml of a CVAT export (or *.xml with an <annotations> root) in the folder, "
             "and videos/**/annotations.xml")
IMAGES_FILENAME = "annotations.xml"
VIDEOS = "videos"  # where dlconvert writes a CVAT for video file per video item
_HEAD_MARKS = (("<version>1.1</version>", "<version>1.1</version>"), ("<meta>", "<meta>"),
               ("<image ", "<image> elements"), ("<track ", "<track> elements"))
_NAMED = 4  # exports named in a refusal


@dataclass
class Layout:
    """What :func:`find_layout` found: the files in reading order and each file's ``<meta>``."""

    root: Path
    files: list[Path]
    metas: dict[Path, Meta] = field(default_factory=dict)
    errors: dict[Path, DlconvertError] = field(default_factory=dict)  # a <meta> that cannot be read
    image_roots: tuple[Path, ...] = ()

    @property
    def declared_empty(self) -> bool:
        """Every file is a CVAT file that says what it is (a ``<meta>``): finding no item in them is no error."""
        return bool(self.files) and all(self.metas.get(p, Meta()).declared for p in self.files)


def find_layout(src: Path) -> Layout:
    """The files of a source: one XML file, or a folder's ``*.xml`` and ``videos/**/annotations.xml``."""
    if src.is_file():
        root, files = src.parent, [src]
    elif src.is_dir():
        root = src
        files = _visible(src.glob("*.xml"), src) + _visible((src / VIDEOS).rglob(IMAGES_FILENAME), src)
        if not files:
            _refuse_exports_inside(src)
    else:
        raise FormatError("no such file or folder", path=src)
    layout = Layout(root, files, image_roots=tuple(p for p in (root / "images", root) if p.is_dir()))
    for path in files:
        try:
            layout.metas[path] = _meta_of(path)
        except DlconvertError as exc:
            layout.errors[path] = exc
    return layout


def _visible(paths, root: Path) -> list[Path]:
    """Regular files not hidden (nor in a hidden folder) below ``root``, by path."""
    return sorted((p for p in paths if p.is_file() and not any(part.startswith(".") for part in
                                                               p.relative_to(root).parts)),
                  key=lambda p: p.relative_to(root).as_posix())


def _meta_of(path: Path) -> Meta:
    """The ``<meta>`` of a file, reading no further than its first item."""
    for element in top_elements(path):
        if element.tag == "meta":
            return parse_meta(element, path)
        if element.tag in ("image", "track", "tag"):
            break
    return Meta()


def detect(path: Path) -> str | None:
    """Why ``path`` looks like CVAT XML (its root ``<annotations>`` with ``<version>1.1</version>``, ``<meta>`` or
    ``<image>``/``<track>`` elements, read from the head of a file), or None. A folder: where the reader looks —
    its ``*.xml`` (``annotations.xml`` first), then ``videos/`` (a bounded walk, :mod:`dlconvert.formats._sniff`)."""
    path = Path(path)
    if not path.is_dir():
        return _file_reason(path) if path.suffix.lower() == ".xml" else None
    files = [path / entry.name for entry in sniff.listing(path) if entry.is_file and not entry.name.startswith(".")
             and entry.name.lower().endswith(".xml")]
    files.sort(key=lambda p: p.name != IMAGES_FILENAME)
    if (path / VIDEOS).is_dir():
        files += [p for p in sniff.walk(path / VIDEOS, (".xml",), limit=8) if p.name == IMAGES_FILENAME]
    reason = _first_reason(files, path)
    if reason is None and not files:
        _refuse_exports_inside(path)
    return reason


def _first_reason(files: list[Path], folder: Path) -> str | None:
    for candidate in files:
        reason = _file_reason(candidate)
        if reason:
            return f"{sniff.relative(candidate, folder)}: {reason}"
    return None


def exports_inside(folder: Path) -> list[str]:
    """The CVAT exports in sub-folders of ``folder`` (a few levels down, bounded), relative to it: folders with a
    CVAT XML file of their own (``annotations.xml``, Datumaro's ``<subset>.xml``); folders below one are its own."""
    def export(current: Path) -> list[str] | None:
        xml = sorted((current / entry.name for entry in sniff.listing(current) if entry.is_file
                      and not entry.name.startswith(".") and entry.name.lower().endswith(".xml")),
                     key=lambda p: p.name != IMAGES_FILENAME)
        return [sniff.relative(current, folder)] if _first_reason(xml[:4], current) is not None else None

    return sniff.search_below(folder, export)


def _refuse_exports_inside(folder: Path) -> None:
    """:class:`NotADatasetError` naming the CVAT exports below a folder that has no CVAT file of its own."""
    exports = exports_inside(folder)
    if not exports:
        return
    named = listed(exports, _NAMED)
    if len(exports) > 1:
        what, which = f"a folder of {len(exports)} CVAT exports ({named})", "one of them"
    else:
        what, which = f"a folder holding a CVAT export in {named}/", "it"
    raise NotADatasetError(f"{what}, with no CVAT file of its own: point at {which}", path=folder)


def _file_reason(path: Path) -> str | None:
    if sniff.xml_root(path) != ROOT:
        return None
    head = (sniff.read_head(path) or b"").decode("utf-8", "replace")
    marks = [shown for mark, shown in _HEAD_MARKS if mark in head]
    if not marks:
        return None
    return f"an <{ROOT}> root with {' and '.join(marks[:2])} (CVAT XML)"
