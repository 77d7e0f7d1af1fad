"""Safe output: atomic file writes and output paths that cannot leave the output root."""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

__all__ = ["atomic_write", "read_input_bytes", "safe_join", "staged_output"]

_NAME_MAX = 255  # bytes in one file or folder name on the usual file systems


def read_input_bytes(path: str | os.PathLike[str], kind: str = "file") -> bytes:
    """The bytes of an input file; a folder, device, pipe or unreadable file is a :class:`FormatError`.

    A device is refused before reading (a label "file" linked to /dev/zero would never end).
    """
    from .errors import FormatError

    path = Path(path)
    if path.exists() and not path.is_file() and not path.is_dir():
        raise FormatError(f"expected {kind}, found a device, pipe or socket", path=path)
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise FormatError(f"expected {kind}, found a directory", path=path) from None
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror}", path=path) from None


def safe_join(root: str | os.PathLike[str], relative: str) -> Path:
    """``root / relative`` for a path taken from input data, refusing anything that escapes ``root``.

    ``relative`` is a POSIX-style path as stored in annotation files (``/sub/a.jpg``); a leading
    ``/`` means the dataset root, and ``..``, drive letters or NUL bytes are refused.
    """
    if "\x00" in relative:
        raise OutputError(f"path {relative!r} contains a NUL byte")
    normal = posixpath.normpath("/" + relative.replace("\\", "/")).lstrip("/")
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts) or (parts and ":" in parts[0]):
        raise OutputError(f"path {relative!r} would leave the output folder")
    if any(len(p.encode("utf-8", "surrogatepass")) > _NAME_MAX for p in parts):
        raise OutputError(f"path {relative!r} has a name longer than {_NAME_MAX} bytes")
    root_path = Path(root).resolve()
    target = root_path.joinpath(*parts) if parts else root_path
    resolved = target.resolve()
    if resolved != root_path and root_path not in resolved.parents:
        raise OutputError(f"path {relative!r} resolves outside the output folder (through a link?)")
    return target


@contextmanager
def staged_output(dst: str | os.PathLike[str], *, overwrite: bool) -> Iterator[Path]:
    """A temporary folder beside ``dst`` to write into; it becomes ``dst`` only if the block succeeds.

    A non-empty ``dst`` is refused unless ``overwrite``; on any failure the staging folder is
    removed and ``dst`` is left as it was, so no half-written output is ever seen.
    """
    dst = Path(dst)
    if dst.is_symlink():  # a linked output folder: write where it points, replacing the folder, not the link
        dst = Path(os.path.realpath(dst))
    if dst.exists() and not dst.is_dir():
        raise OutputError("the output exists and is not a folder", path=dst)
    if dst.is_dir() and any(dst.iterdir()) and not overwrite:
        raise OutputError("the output folder is not empty; pass --overwrite to replace it", path=dst)
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dst.name[:200]}.", suffix=".tmp", dir=dst.parent))
    except OSError as exc:
        raise OutputError(f"cannot create the output folder: {exc.strerror or exc}", path=dst) from None
    os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 is for the staging name only
    try:
        yield staging
        if dst.exists():
            shutil.rmtree(dst)
        os.replace(staging, dst)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


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
