"""Hostile values and small binary builders shared by the mutations."""

from __future__ import annotations

import base64
import io
import struct
import zlib

__all__ = [
    "BAD_FILENAMES",
    "BAD_LABELS",
    "HOSTILE_VALUES",
    "data_url",
    "png_bytes",
    "png_header",
    "wrong_type",
]

#: JSON values of every kind, for "wrong type in this field".
HOSTILE_VALUES: tuple = (
    None, True, False, 0, -1, 3.5, 1e300, -1e300, 10**30, -(10**30), "", "x", "12", "\x00", "../x",
    [], [None], [1, 2], [[]], {}, {"x": None}, {"x": 1, "y": 2},
)


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def wrong_type(value, rng):
    """A hostile value of another JSON kind than ``value``."""
    choices = [v for v in HOSTILE_VALUES if _kind(v) != _kind(value)]
    return rng.choice(choices)


#: Labels a file may carry: control characters, bidi overrides, emoji, empty, huge, XML-ish.
BAD_LABELS: tuple = (
    "\x00", "a\x00b", "\x1b[31mred\x1b[0m", "line\nbreak", "tab\there", "\r", "\u202egnp.exe", "\U0001f600",
    "", " ", "\ufeff", "\x7f\x85\x9f", "<v x>", "&amp;", "-->", "x" * 5000, "\u0301", "a/b/../c", "\ud7ff\ue000",
)

#: Item file names taken from the data: escapes, absolute paths, control characters, odd lengths.
BAD_FILENAMES: tuple = (
    "../../escape.jpg", "/../../../escape.jpg", "sub/../../escape.jpg", "{OUTSIDE}/pwned.jpg", "/{OUTSIDE}/pwned.jpg",
    "..", "/", "", ".", "./", "a\x00b.jpg", "line\nbreak.jpg", "C:\\Windows\\evil.jpg", "..\\..\\evil.jpg",
    "x" * 300 + ".jpg", "/" + "d/" * 200 + "deep.jpg", "\u202egpj.exe", "\U0001f600.jpg", "con.jpg", " .jpg",
    "a/./b//c.jpg", "\x1b[31mred.jpg", "tab\there.jpg",
)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header(width: int, height: int, *, color_type: int = 6, idat: bytes | None = None) -> bytes:
    """A PNG whose IHDR claims ``width × height`` (a decompression bomb header), with an optional IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    body = _chunk(b"IHDR", ihdr)
    if idat is not None:
        body += _chunk(b"IDAT", idat)
    return b"\x89PNG\r\n\x1a\n" + body + _chunk(b"IEND", b"")


def png_bytes(width: int, height: int, mode: str = "RGBA", fill=(255, 0, 0, 255)) -> bytes:
    """A real PNG of the given size, filled."""
    from PIL import Image

    image = Image.new(mode, (width, height), fill if mode != "L" else 255)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
