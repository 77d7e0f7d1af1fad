"""Input trees: the files of one case, built on disk on demand (never committed).

A tree maps POSIX relative paths to file contents (``bytes``), :data:`DIR` (an empty folder) or a
:class:`Link` (a symbolic link). ``{OUTSIDE}`` in a link target, or in the bytes of a file, is
replaced when the tree is built by a folder outside both the input and the output, so a case
can aim at a real place it must never read from or write to.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DIR", "OUTSIDE", "Link", "Tree", "build_tree", "snapshot"]

OUTSIDE = "{OUTSIDE}"


class _Dir:
    def __repr__(self) -> str:
        return "DIR"

    def __reduce__(self):  # one DIR across pickling (cases travel to worker processes)
        return "DIR"


#: An empty folder in a tree (where a file may be expected).
DIR = _Dir()


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (``{OUTSIDE}`` is replaced by the outside folder)."""

    target: str


Tree = dict  # str -> bytes | Link | DIR


def build_tree(tree: Tree, root: Path, outside: Path) -> None:
    """Write ``tree`` under ``root``; ``outside`` replaces ``{OUTSIDE}``."""
    root.mkdir(parents=True, exist_ok=True)
    marker = OUTSIDE.encode()
    for relative, content in sorted(tree.items(), key=lambda kv: kv[0]):
        path = root.joinpath(*relative.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is DIR:
            path.mkdir(exist_ok=True)
        elif isinstance(content, Link):
            os.symlink(content.target.replace(OUTSIDE, str(outside)), path)
        else:
            if marker in content:
                content = content.replace(marker, str(outside).encode())
            path.write_bytes(content)


def snapshot(root: Path, *, skip: Path | tuple[Path, ...] = ()) -> dict[str, tuple]:
    """Every entry under ``root`` (links not followed): kind, and size and mtime of files; ``skip`` is left out."""
    skipped = (skip,) if isinstance(skip, Path) else tuple(skip)
    out: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        if any(here == s or s in here.parents for s in skipped):
            dirs[:] = []
            continue
        for name in dirs + files:
            path = here / name
            if path in skipped:
                continue
            stat = path.lstat()
            kind = "link" if path.is_symlink() else ("dir" if path.is_dir() else "file")
            file = kind == "file"
            out[str(path.relative_to(root))] = (kind, stat.st_size if file else 0, stat.st_mtime_ns if file else 0)
    return out
