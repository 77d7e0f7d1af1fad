"""webvtt-py, whichever version: 0.4.3 (the version dtlpy pins) and 0.5/0.6 hold cues differently.

dlconvert collects a document's blocks itself (for line numbers, NOTEs, settings and identifiers,
which 0.4.3 does not keep) and hands each cue's timing and text to ``webvtt.Caption``; the writer
parses every file it writes back with the library.
"""

from __future__ import annotations

import functools
import io
import warnings
from typing import Any

import webvtt

__all__ = ["WEBVTT_VERSION", "caption_ms", "library_errors", "library_hour_limit", "library_parse", "new_caption"]

WEBVTT_VERSION = str(getattr(webvtt, "__version__", "unknown"))


def new_caption(start: str, end: str, lines: list[str], identifier: str | None) -> Any:
    """A ``webvtt.Caption`` (0.4.x: ``Caption(start, end, text)``; 0.5+: also ``identifier``)."""
    caption = webvtt.Caption(start, end, list(lines))
    caption.identifier = identifier
    return caption


def caption_ms(caption: Any) -> tuple[int, int]:
    """``(start, end)`` in milliseconds: 0.5+ has ``Timestamp`` objects, 0.4.x float seconds."""
    out = []
    for which in ("start", "end"):
        stamp = getattr(caption, f"{which}_time", None)
        if stamp is not None and hasattr(stamp, "to_tuple"):
            hours, minutes, seconds, millis = stamp.to_tuple()
            out.append(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis)
        else:
            out.append(round(getattr(caption, f"{which}_in_seconds") * 1000))
    return out[0], out[1]


def library_errors() -> tuple[type[BaseException], ...]:
    errors = getattr(webvtt, "errors", None)
    found = tuple(getattr(errors, name) for name in ("MalformedCaptionError", "MalformedFileError")
                  if errors is not None and hasattr(errors, name))
    return (*found, ValueError)


def library_parse(text: str) -> list[Any]:
    """Parse a whole document with webvtt-py (``from_buffer`` in 0.5+, ``read_buffer`` in 0.4.x)."""
    reader = getattr(webvtt.WebVTT, "from_buffer", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if reader is not None:
            return list(reader(io.StringIO(text)).captions)
        return list(webvtt.WebVTT.read_buffer(io.StringIO(text)).captions)


@functools.lru_cache(maxsize=1)
def library_hour_limit() -> int | None:
    """Milliseconds from which the installed webvtt-py cannot read a time (0.5.x: 100 hours), or None."""
    try:
        if caption_ms(new_caption("100:00:00.000", "100:00:00.001", ["x"], None)) == (360_000_000, 360_000_001):
            return None
    except library_errors():
        pass
    return 100 * 3_600_000
