"""Format auto-detection: which registered format a path holds, and why.

:func:`detect_format` asks every registered format's ``detect`` (``FormatSpec.detect``: a bounded
look at a file's head or a folder's names, see :mod:`dlconvert.formats._sniff`) and collects each
one's reason. A folder dlconvert wrote says its format in its manifest (``.dlconvert-output.json``),
which settles it without asking (an empty output holds nothing else to go by).

One format answering is the answer. None, or several — a folder holding a Dataloop export and a
VOC tree side by side — is an error (:meth:`Detection.require`) that says what each format looked
for, or names the candidates with their reasons, and how to choose: ``--from`` on the command
line, ``format=`` in Python. Nothing is guessed.

A format's ``detect`` that fails on what it finds (an unreadable file, a name that is not valid
text) counts as "not this format"; detection never follows a path outside the bounds of
:mod:`~dlconvert.formats._sniff`, so it stays fast on a large dataset and safe on hostile input.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DlconvertError, FormatError, NotADatasetError

if TYPE_CHECKING:
    from .formats import FormatSpec

__all__ = ["AUTO", "Detection", "detect_format", "resolve_format"]

#: The format name that asks for detection (``--from auto``, ``format="auto"``).
AUTO = "auto"
#: A manifest larger than this is not read for detection (one line per file written: ~50 bytes).
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Detection:
    """What :func:`detect_format` found at ``path``.

    ``matches``: each format that recognised the path → why (``"coco": "annotations.json holds
    'images', 'annotations' and 'categories' lists"``). ``looked_for``: every format that did not →
    what it looks for (its ``FormatSpec.looks_for``). ``note``: why nothing could be asked (the path
    is a device), if so. ``refusals``: each format that knows the path is no dataset of it → why (a
    COCO results list, a folder of several datasets); kept when another format recognised the path (the answer
    is that format, or the candidates).
    """

    path: Path
    matches: dict[str, str] = field(default_factory=dict)
    looked_for: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    refusals: dict[str, str] = field(default_factory=dict)

    @property
    def format(self) -> str | None:
        """The format, when exactly one recognised the path."""
        return next(iter(self.matches)) if len(self.matches) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.matches) > 1

    def require(self, choose_with: str = "--from") -> str:
        """The format's name; raises a one-line :class:`FormatError` when none or several recognised the path.

        ``choose_with`` names how the user picks a format instead (``--from``, ``format=``).
        """
        if self.format is not None:
            return self.format
        choices = " or ".join(f"{_choice(choose_with, name)}" for name in (self.matches or self.looked_for))
        if self.ambiguous:
            found = "; ".join(f"{name} ({why})" for name, why in self.matches.items())
            raise FormatError(f"holds more than one format: {found}; choose one with {choices}, or point at the "
                              f"one you mean", path=self.path)
        if self.note:
            raise FormatError(f"cannot tell the format: {self.note}", path=self.path)
        if self.refusals:
            raise FormatError("; ".join(self.refusals.values()), path=self.path)
        looked = "; ".join(f"{name}: {what}" for name, what in self.looked_for.items())
        raise FormatError(f"no known format found (looked for {looked}); name the format with "
                          f"{_choice(choose_with, 'FORMAT')}", path=self.path)

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "format": self.format, "matches": dict(self.matches),
                "looked_for": dict(self.looked_for), "note": self.note, "refusals": dict(self.refusals)}

    def summary(self) -> str:
        """Lines for people: the format found and why, or the candidates, or what was looked for."""
        if self.format is not None:
            return f"{self.path}: {self.format}\n  {self.matches[self.format]}"
        if self.ambiguous:
            lines = [f"{self.path}: more than one format (choose with --from)"]
            lines += [f"  {name}: {why}" for name, why in self.matches.items()]
            lines += [f"  {name}: not a dataset: {why}" for name, why in self.refusals.items()]
            return "\n".join(lines)
        if self.refusals:  # a format knows what it is: not a dataset of it, or several
            lines = [f"{self.path}: not one dataset dlconvert reads"]
        else:
            lines = [f"{self.path}: no known format" + (f" ({self.note})" if self.note else "")]
        lines += [f"  {name}: not a dataset: {why}" for name, why in self.refusals.items()]
        lines += [f"  {name}: looked for {what}" for name, what in self.looked_for.items()]
        return "\n".join(lines)


def _choice(choose_with: str, name: str) -> str:
    return f"{choose_with}{name!r}" if choose_with.endswith("=") else f"{choose_with} {name}"


def detect_format(path: str | os.PathLike[str], formats: Iterable[FormatSpec] | None = None) -> Detection:
    """Ask every registered format (or ``formats``) whether ``path`` looks like it; see :class:`Detection`.

    Raises :class:`FormatError` only when ``path`` does not exist.
    """
    from .formats import list_formats

    path = Path(path)
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        raise FormatError("no such file or folder", path=path) from None
    specs = list(formats) if formats is not None else list_formats()
    if not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
        return Detection(path, looked_for=_looked_for(specs), note="not a file or folder (a device, pipe or socket)")
    if stat.S_ISREG(info.st_mode) and info.st_size == 0:
        return Detection(path, looked_for=_looked_for(specs), note="the file is empty")
    if stat.S_ISREG(info.st_mode) and _archive(path):  # what CVAT, Roboflow and Label Studio download
        return Detection(path, looked_for=_looked_for(specs),
                         note="an archive: dlconvert reads folders and files, extract it first")
    written_as = _manifest_format(path, specs) if stat.S_ISDIR(info.st_mode) else None
    if written_as is not None:
        return Detection(path, {written_as: f"dlconvert wrote this folder as {written_as} (.dlconvert-output.json)"})
    from .formats._sniff import session

    matches: dict[str, str] = {}
    refusals: dict[str, str] = {}
    with session():  # the formats share one look at each folder and file
        for spec in specs:
            if spec.detect is None:
                continue
            try:
                why = spec.detect(path)
            except NotADatasetError as exc:
                refusals[spec.name], why = exc.message, None
            except (OSError, ValueError, RecursionError, DlconvertError):  # unreadable, not text: not this format
                why = None
            if why:
                matches[spec.name] = why
    return Detection(path, matches, _looked_for([s for s in specs if s.name not in matches and s.name not in refusals]),
                     refusals=refusals)


#: The first bytes of the archives exports come in: zip, gzip (.tar.gz), 7z, rar.
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07")


def _archive(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            head = file.read(8)
    except OSError:
        return False
    return head.startswith(_ARCHIVE_MAGIC)


def _looked_for(specs: Iterable[FormatSpec]) -> dict[str, str]:
    return {spec.name: (spec.looks_for or "(no description)") if spec.detect is not None
            else "(not detected: name it)" for spec in specs}


def _manifest_format(folder: Path, specs: list[FormatSpec]) -> str | None:
    """The registered format a dlconvert output's manifest names, if ``folder`` is one."""
    from ._destination import MANIFEST, manifest_of

    try:
        info = os.lstat(folder / MANIFEST)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_MANIFEST_BYTES:
        return None
    manifest = manifest_of(folder)
    named = manifest.get("format") if manifest else None
    return named if named in {spec.name for spec in specs} else None


def resolve_format(path: str | os.PathLike[str], name: Any, *, choose_with: str = "--from") -> str:
    """The registry name of ``name``, or, for ``None``/``"auto"``, the format detected at ``path``.

    Raises :class:`FormatError` when detection finds none or several (naming how to choose), and
    :class:`~dlconvert.errors.UnknownFormatError` for a name no format answers to.
    """
    from .formats import format_key, get_format

    if name is None or (isinstance(name, str) and name.strip().lower() == AUTO):
        return detect_format(path).require(choose_with)
    return get_format(format_key(name)).name
