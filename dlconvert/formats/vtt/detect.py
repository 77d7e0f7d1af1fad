"""Does a path look like WebVTT? (``FORMAT.detect``; bounded looks, :mod:`dlconvert.formats._sniff`)

A file that starts with ``WEBVTT`` (a BOM allowed), or any ``.vtt`` file — the reader then says
what is wrong with one that does not; a folder with ``.vtt`` files a few levels down.
"""

from __future__ import annotations

import re
from pathlib import Path

from .._sniff import read_head, relative, walk

__all__ = ["detect"]

_HEADER = re.compile(rb"(\xef\xbb\xbf)?WEBVTT([ \t\r\n]|$)")


def detect(path: Path) -> str | None:
    """Why ``path`` (a ``.vtt`` file or a folder of them) looks like WebVTT, or None."""
    if path.is_dir():
        files = walk(path, (".vtt",))
        if not files:
            return None
        many = f"{len(files)}{'+' if len(files) >= 64 else ''} .vtt files" if len(files) > 1 else "a .vtt file"
        return f"{many}: {relative(files[0], path)}" + (" …" if len(files) > 1 else "")
    head = read_head(path, 16)
    if head is not None and _HEADER.match(head):
        return "a WebVTT file (starts with WEBVTT)"
    if path.suffix.lower() == ".vtt":
        return "a .vtt file (without the WEBVTT header: reading it says what is wrong)"
    return None
