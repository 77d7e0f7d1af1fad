"""Which folders dlconvert may write into or replace: it never deletes or changes a file it did not write.

Every output folder dlconvert writes holds a manifest, ``.dlconvert-output.json``, listing the
folders and files it wrote (each file with its size). A destination is accepted when

* it is not, does not hold and does not lie inside a source (symlinks resolved): an output inside
  its source would be read back as source the next time, and one that holds it would hide it;
* it is missing or empty — or, with ``overwrite``, it holds a previous dlconvert output: the
  manifest is there and lists every file and folder in it, each file at the size dlconvert wrote;
* when it is not empty, ``overwrite`` never replaces the working folder or a folder above it, the
  home folder or a folder above it, nor a filesystem root (``/``, a drive).

Replacing a previous output deletes exactly the files and folders its manifest lists, nothing else.
Everything is checked before anything is touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import OutputError, listed

__all__ = ["MANIFEST", "MANIFEST_KIND", "Destination", "check_destination", "list_tree", "manifest_of"]

MANIFEST = ".dlconvert-output.json"
MANIFEST_KIND = "dlconvert-output"  # the manifest's "written_by"
_SHOWN = 3  # file names an error message shows before "and N more"


@dataclass(frozen=True)
class Destination:
    """A checked output folder: where to write, and what of a previous output to replace."""

    path: Path  # absolute, symlinks resolved (a linked output folder is written through)
    exists: bool
    replaces: bool = False  # the folder holds a previous dlconvert output, to be replaced
    old_files: tuple[str, ...] = ()  # its files (POSIX paths relative to ``path``; the manifest too)
    old_folders: tuple[str, ...] = ()  # and its folders

    @property
    def old_entries(self) -> list[str]:
        """The top-level names the previous output holds."""
        return sorted({p.split("/", 1)[0] for p in (*self.old_files, *self.old_folders)})


def check_destination(dst: str | os.PathLike[str], *, overwrite: bool,
                      sources: Iterable[str | os.PathLike[str] | None] = ()) -> Destination:
    """Check that ``dst`` may be written (see the module docstring); raises :class:`OutputError` if not."""
    given = Path(dst)
    path = Path(os.path.realpath(given))
    if os.path.lexists(path) and not path.is_dir():
        raise OutputError("the output exists and is not a folder", path=given)
    for source in sources:
        if source is not None:
            _refuse_source(path, given, Path(source))
    if not path.is_dir():
        return Destination(path, exists=False)
    try:
        entries = sorted(os.listdir(path))
    except OSError as exc:
        raise OutputError(f"cannot read the output folder: {exc.strerror or exc}", path=given) from None
    if not entries:
        return Destination(path, exists=True)  # nothing to replace: any empty folder will do, "." too
    if overwrite:
        _refuse_protected(path, given)
    manifest = manifest_of(path)
    if not overwrite:
        if manifest is None:
            raise OutputError(f"the output folder is not empty and was not written by dlconvert (it holds "
                              f"{_names(entries)}); dlconvert never deletes files it did not write: choose a new "
                              f"or empty folder", path=given)
        raise OutputError("the output folder is not empty; pass --overwrite to replace it", path=given)
    if manifest is None:
        raise OutputError(f"the output folder holds files dlconvert did not write ({_names(entries)}) and no "
                          f"{MANIFEST}: dlconvert replaces only its own outputs; choose a new or empty folder",
                          path=given)
    files, folders = list_tree(path)
    files.pop(MANIFEST, None)
    listed_files, listed_folders = manifest["files"], set(manifest["folders"])
    foreign = sorted({*(f for f in files if f not in listed_files), *(d for d in folders if d not in listed_folders)})
    if foreign:
        raise OutputError(f"the output folder holds {_names(foreign)}, which dlconvert did not write (not in its "
                          f"{MANIFEST}): refusing to replace it; move them away or choose another folder", path=given)
    changed = sorted(f for f, size in files.items() if listed_files[f] != size)
    if changed:
        raise OutputError(f"{_names(changed)} in the output folder changed since dlconvert wrote them: refusing to "
                          f"replace them; move them away or choose another folder", path=given)
    return Destination(path, exists=True, replaces=True, old_files=(MANIFEST, *sorted(files)),
                       old_folders=tuple(sorted(folders)))


def _refuse_source(path: Path, given: Path, source: Path) -> None:
    """The output must not be a source, hold one, or lie inside one."""
    if not os.path.lexists(source):
        return
    real = Path(os.path.realpath(source))
    if path == real:
        raise OutputError(f"the output folder is the source {str(source)!r}: write to another folder", path=given)
    if real in path.parents:
        raise OutputError(f"the output folder lies inside the source {str(source)!r}: it would be read as source "
                          f"next time; write outside it", path=given)
    if path in real.parents:
        raise OutputError(f"the output folder holds the source {str(source)!r}: write to another folder",
                          path=given)


def _refuse_protected(path: Path, given: Path) -> None:
    """Never replaced: a filesystem root, the working folder, the home folder, or a folder above either."""
    if path.parent == path:  # "/" or a drive; a mount point is a folder like another (the manifest protects it)
        raise OutputError("--overwrite would replace a filesystem root: refused", path=given)
    cwd = Path(os.path.realpath(os.getcwd()))
    if path == cwd or path in cwd.parents:
        place = "the working folder" if path == cwd else "a folder above the working folder"
        raise OutputError(f"--overwrite would replace {place}: refused; write into a new folder (an empty folder "
                          f"needs no --overwrite)", path=given)
    try:
        home = Path(os.path.realpath(Path.home()))
    except (KeyError, RuntimeError):  # no home folder known
        home = None
    if home is not None and (path == home or path in home.parents):
        raise OutputError("--overwrite would replace the home folder or a folder above it: refused", path=given)


def _names(paths: list[str]) -> str:
    return listed([repr(p) for p in paths], _SHOWN)


def list_tree(root: Path) -> tuple[dict[str, int], list[str]]:
    """``({file: size}, [folder])`` under ``root``, POSIX paths; links are files and are never followed."""
    files: dict[str, int] = {}
    folders: list[str] = []
    pending = [("", root)]
    while pending:
        prefix, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append(relative)
                    pending.append((relative + "/", Path(entry.path)))
                else:
                    files[relative] = entry.stat(follow_symlinks=False).st_size
    return files, folders


def manifest_of(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of a dlconvert output folder, or None when ``folder`` is not one (or it is unreadable)."""
    from ._json import loads

    path = Path(folder) / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = loads(path.read_bytes(), path=path)
    except Exception:  # unreadable or not JSON: not a manifest we can trust
        return None
    if not (isinstance(data, dict) and data.get("written_by") == MANIFEST_KIND and isinstance(data.get("files"), dict)
            and isinstance(data.get("folders"), list)):
        return None
    if not all(isinstance(size, int) for size in data["files"].values()):
        return None
    return data
