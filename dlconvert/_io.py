"""Safe input and output: bounded reads, atomic file writes, staged output folders, paths that stay inside."""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._destination import MANIFEST, MANIFEST_KIND, Destination, check_destination, list_tree, manifest_of
from .errors import OutputError

__all__ = ["OutputFolder", "atomic_write", "empty_staging", "read_input_bytes", "record_output", "safe_join",
           "staged_output", "write_manifest"]

_NAME_MAX = 255  # bytes in one file or folder name on the usual file systems


def read_input_bytes(path: str | os.PathLike[str], kind: str = "file") -> bytes:
    """The bytes of an input file; a folder, device, pipe or unreadable file is a :class:`FormatError`.

    One open and one ``fstat``: a device is refused before reading (a label "file" linked to /dev/zero
    would never end), and a pipe opens without waiting for a writer (``O_NONBLOCK``).
    """
    from .errors import FormatError

    path = Path(path)
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except IsADirectoryError:
        raise FormatError(f"expected {kind}, found a directory", path=path) from None
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror}", path=path) from None
    mode = os.fstat(handle).st_mode
    if not stat.S_ISREG(mode):
        os.close(handle)
        found = "a directory" if stat.S_ISDIR(mode) else "a device, pipe or socket"
        raise FormatError(f"expected {kind}, found {found}", path=path)
    with open(handle, "rb") as file:  # closes the handle
        try:
            return file.read()
        except OSError as exc:
            raise FormatError(f"cannot read the file: {exc.strerror}", path=path) from None


def safe_join(root: str | os.PathLike[str], relative: str) -> Path:
    """``root / relative`` for a path taken from input data, refusing anything that escapes ``root``.

    ``relative`` is a POSIX-style path as stored in annotation files (``/sub/a.jpg``); a leading
    ``/`` means the dataset root, and ``..``, drive letters or NUL bytes are refused.
    """
    parts = _parts(relative)
    root_path = Path(root).resolve()
    target = root_path.joinpath(*parts) if parts else root_path
    _inside(root_path, target.resolve(), relative)
    return target


class OutputFolder:
    """:func:`safe_join` for the many files of one output folder that dlconvert is making (a staging folder):
    the folder and each sub-folder resolved once, a file's own name checked as text — such a folder holds no
    link that dlconvert did not make, and resolving every file's path cost more than writing it."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self._folders: dict[tuple[str, ...], str] = {}

    def join(self, relative: str) -> Path:
        """``root / relative``, refused (:class:`OutputError`) as :func:`safe_join` refuses it."""
        parts = _parts(relative)
        if not parts:
            raise OutputError(f"path {relative!r} names no file")
        key = tuple(parts[:-1])
        folder = self._folders.get(key)
        if folder is None:
            path = self.root.joinpath(*key)
            _inside(self.root, path.resolve(), relative)
            folder = self._folders[key] = str(path)
        return Path(f"{folder}/{parts[-1]}")


def _parts(relative: str) -> list[str]:
    """The names of a relative path from input data; :class:`OutputError` when it would leave its folder."""
    if "\x00" in relative:
        raise OutputError(f"path {relative!r} contains a NUL byte")
    normal = posixpath.normpath("/" + relative.replace("\\", "/")).lstrip("/")
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts) or (parts and ":" in parts[0]):
        raise OutputError(f"path {relative!r} would leave the output folder")
    if any(len(p.encode("utf-8", "surrogatepass")) > _NAME_MAX for p in parts):
        raise OutputError(f"path {relative!r} has a name longer than {_NAME_MAX} bytes")
    return parts


def _inside(root: Path, resolved: Path, relative: str) -> None:
    if resolved != root and root not in resolved.parents:
        raise OutputError(f"path {relative!r} resolves outside the output folder (through a link?)")


@contextmanager
def staged_output(dst: str | os.PathLike[str], *, overwrite: bool,
                  sources: Iterable[str | os.PathLike[str] | None] = (),
                  about: dict[str, Any] | None = None) -> Iterator[Path]:
    """A temporary folder to write into; its content becomes ``dst`` only if the block succeeds.

    ``dst`` is checked first (:func:`~dlconvert._destination.check_destination`): a non-empty
    folder is refused unless ``overwrite`` and it holds a previous dlconvert output, and a folder
    that is, holds or lies inside one of ``sources`` (the paths read) is always refused. On success
    the output gets its manifest (with ``about``, which the block may fill: what the output is) and
    replaces exactly the files of the previous output; on any failure the staging folder is
    removed and ``dst`` is left as it was, so no half-written output is ever seen.

    A missing ``dst`` is staged beside it and renamed into place in one step. An existing folder
    (the working folder, a link's target, a mount point) is kept: the staging folder is made inside
    it and its entries are moved in (the previous output's aside first), so the folder itself is
    never replaced and no path outside it is needed.
    """
    target = check_destination(dst, overwrite=overwrite, sources=sources)
    try:
        if target.exists:
            staging = Path(tempfile.mkdtemp(prefix=".dlconvert-staging.", suffix=".tmp", dir=target.path))
        else:
            target.path.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{target.path.name[:200]}.", suffix=".tmp",
                                            dir=target.path.parent))
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror or exc}", path=dst) from None
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 is for the staging name only
    try:
        yield staging
        write_manifest(staging, about)
        if target.exists:
            _move_in(staging, target)
        else:
            try:
                os.replace(staging, target.path)
            except OSError as exc:  # the folder appeared meanwhile, and not empty
                raise OutputError(f"cannot move the output into place: {exc.strerror or exc}", path=dst) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def empty_staging(staging: Path) -> None:
    """Remove what an attempt wrote into a staging folder of :func:`staged_output` (dlconvert's own files,
    never the destination's), so that another way of writing starts from nothing."""
    for entry in staging.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _move_in(staging: Path, target: Destination) -> None:
    """Move the staged entries into the existing folder, the previous output's aside first; then delete those."""
    trash = None
    if target.replaces:
        trash = Path(tempfile.mkdtemp(prefix=".dlconvert-replaced.", suffix=".tmp", dir=target.path))
    moves: list[tuple[Path, Path]] = []  # done so far, undone on failure
    try:
        for name in target.old_entries if trash is not None else ():
            moves.append((target.path / name, trash / name))
            os.rename(*moves[-1])
        for name in sorted(os.listdir(staging)):
            if os.path.lexists(target.path / name):  # appeared while we wrote: never replace it
                raise OutputError(f"{name!r} appeared in the output folder during the conversion; it was left as "
                                  f"it is and nothing was written", path=target.path)
            moves.append((staging / name, target.path / name))
            os.rename(*moves[-1])
    except BaseException as exc:
        for origin, moved in reversed(moves):
            with contextlib.suppress(FileNotFoundError):
                os.rename(moved, origin)
        if trash is not None:
            with contextlib.suppress(OSError):
                os.rmdir(trash)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot move the output into place: {exc.strerror or exc}", path=target.path) from None
        raise
    os.rmdir(staging)
    if trash is not None:
        _delete_listed(trash, target)


def _delete_listed(trash: Path, target: Destination) -> None:
    """Delete the previous output's listed files and folders; anything else (put there meanwhile) stays."""
    for relative in target.old_files:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(trash / relative)
    for relative in sorted(target.old_folders, key=lambda p: p.count("/"), reverse=True):
        with contextlib.suppress(OSError):  # not empty: something not listed is in it, keep it
            os.rmdir(trash / relative)
    with contextlib.suppress(OSError):
        os.rmdir(trash)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place.

    The system refusing the file (a name too long, no space left …) raises :class:`OutputError`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # the temporary name is a little longer than the file's: keep it within the usual 255 bytes
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:200]}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary name only
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write the file: {exc.strerror or exc}", path=path) from None
        raise


def write_manifest(folder: Path, about: dict[str, Any] | None = None) -> None:
    """List every file and folder under ``folder`` in its manifest (``about``: what the output is)."""
    files, folders = list_tree(folder)
    files.pop(MANIFEST, None)
    _save_manifest(folder, about or {}, folders, files)


def record_output(folder: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Add a file dlconvert wrote into a finished output folder (a ``--report`` inside it) to its manifest."""
    folder = Path(os.path.realpath(folder))
    manifest = manifest_of(folder)
    if manifest is None:
        return
    file = Path(os.path.realpath(path))
    relative = file.relative_to(folder)
    files = {**manifest["files"], relative.as_posix(): file.lstat().st_size}
    folders = {*manifest["folders"], *(p.as_posix() for p in relative.parents if p != Path("."))}
    about = {k: v for k, v in manifest.items() if k not in ("written_by", "version", "folders", "files")}
    _save_manifest(folder, about, folders, files)


def _save_manifest(folder: Path, about: dict[str, Any], folders: Iterable[str], files: dict[str, int]) -> None:
    from ._json import dumps

    manifest = {"written_by": MANIFEST_KIND, "version": 1, **about, "folders": sorted(folders),
                "files": dict(sorted(files.items()))}
    atomic_write(folder / MANIFEST, dumps(manifest))
