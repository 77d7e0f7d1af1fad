"""A mask's PNG, written directly: the bytes OpenCV (libpng 1.6, zlib level 1) wrote, in a fraction of the time.

A Dataloop mask PNG is RGBA with two pixel values only: the label colour with alpha 255 inside
the mask, transparent black outside. libpng spends most of its time choosing a filter for every
row — it tries all five (None, Sub, Up, Average, Paeth) and keeps the one whose bytes, read as
signed, have the smallest sum of absolute values, the earlier on a tie. With two pixel values,
every filtered byte depends only on whether the pixel, its left, upper and upper-left neighbours
are inside the mask (a 4-bit *case*), so each row's five sums are its count of each case times a
16 × 5 table, and its filtered bytes one lookup per pixel. Rows without a mask pixel need nothing:
their None filter costs 0 and leaves zeros. The filtered rows go through zlib with libpng's
settings (level 1, default strategy, memory level 8, the window trimmed for small images, the
stream header's window field trimmed again as libpng's ``optimize_cmf`` does) and are cut into
8 KiB IDAT chunks, as libpng writes them. ``tests/test_render_columnar_png.py`` holds the bytes to
OpenCV's for masks of every size and density.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

import numpy as np

__all__ = ["SIGNATURE", "chunk", "mask_png"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_IDAT_SIZE = 8192  # libpng's compression buffer: one IDAT chunk per full buffer
_SMALL = 16384  # libpng trims the zlib window of images of at most this many (filtered) bytes


def mask_png(mask: np.ndarray, rgba: tuple[int, int, int, int]) -> bytes:
    """The PNG of a bool ``(height, width)`` mask: ``rgba`` inside, ``(0, 0, 0, 0)`` outside."""
    height, width = mask.shape
    stride = 4 * width
    rows = np.flatnonzero(mask.any(axis=1))
    filtered = np.zeros((height, stride + 1), dtype=np.uint8)  # each row: its filter byte, then its bytes
    if rows.size:
        values, costs = _tables(rgba)
        case = _cases(mask, rows)
        count = rows.size
        per_row = np.bincount((np.arange(count, dtype=np.int64)[:, None] * 16 + case).ravel(),
                              minlength=16 * count).reshape(count, 16)
        best = np.argmin(per_row @ costs, axis=1).astype(np.uint8)  # the first minimum, as libpng
        filtered[rows, 0] = best
        filtered[rows, 1:] = values[case + (best[:, None] << 4)].reshape(count, stride)
    data = filtered.tobytes()
    stream = _deflate(data, len(data) if stride < 32768 and height < 32768 else 0xFFFFFFFF)
    chunks = [SIGNATURE, chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))]
    chunks += [chunk(b"IDAT", stream[i:i + _IDAT_SIZE]) for i in range(0, len(stream), _IDAT_SIZE)]
    chunks.append(chunk(b"IEND", b""))
    return b"".join(chunks)


def _cases(mask: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per pixel of ``rows``: inside 8 | left inside 4 | above inside 2 | upper-left inside 1 (outside the
    image is outside the mask, as libpng reads the bytes before a row and above the first as zeros)."""
    inside = mask[rows].view(np.uint8)
    above = np.zeros_like(inside)
    has_above = rows > 0
    above[has_above] = mask[rows[has_above] - 1]
    case = inside << 3
    case |= above << 1
    case[:, 1:] |= inside[:, :-1] << 2
    case[:, 1:] |= above[:, :-1]
    return case


@lru_cache(maxsize=64)
def _tables(rgba: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(values, costs)``: the 4 filtered bytes of a pixel per ``filter << 4 | case`` (80 × 4), and each
    case's contribution to each filter's sum (16 × 5)."""
    values = np.zeros((5, 16, 4), dtype=np.uint8)
    for case in range(16):
        here, left, up, up_left = (case >> 3) & 1, (case >> 2) & 1, (case >> 1) & 1, case & 1
        for channel, value in enumerate(rgba):
            x, a, b, c = here * value, left * value, up * value, up_left * value
            predictions = (0, a, b, (a + b) >> 1, _paeth(a, b, c))  # None, Sub, Up, Average, Paeth
            for kind, prediction in enumerate(predictions):
                values[kind, case, channel] = (x - prediction) % 256
    signed = values.astype(np.int64)
    costs = np.minimum(signed, 256 - signed).sum(axis=2).T  # |byte as int8|, summed over the channels
    values.setflags(write=False)
    return values.reshape(80, 4), np.ascontiguousarray(costs)


def _paeth(a: int, b: int, c: int) -> int:
    """The Paeth predictor of the PNG specification (left ``a``, above ``b``, upper-left ``c``)."""
    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _deflate(data: bytes, size: int) -> bytes:
    """zlib-compress the filtered rows as libpng 1.6 does; ``size`` is libpng's image size (its window rules)."""
    window_bits = 15
    if size <= _SMALL:  # png_deflate_claim: the smallest window that still holds the image
        half = 1 << (window_bits - 1)
        while size + 262 <= half:
            half >>= 1
            window_bits -= 1
        window_bits = max(window_bits, 9)  # zlib does not take 8
    compressor = zlib.compressobj(1, zlib.DEFLATED, window_bits, 8, zlib.Z_DEFAULT_STRATEGY)
    stream = bytearray(compressor.compress(data) + compressor.flush())
    if size <= _SMALL and (stream[0] & 0x0F) == 8 and (stream[0] & 0xF0) <= 0x70:  # optimize_cmf
        cinfo = stream[0] >> 4
        half = 1 << (cinfo + 7)
        if size <= half:
            while True:
                half >>= 1
                cinfo -= 1
                if not (cinfo > 0 and size <= half):
                    break
            cmf = (stream[0] & 0x0F) | (cinfo << 4)
            check = stream[1] & 0xE0
            stream[0], stream[1] = cmf, check + 0x1F - ((cmf << 8) + check) % 0x1F
    return bytes(stream)


def chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, kind, data, CRC-32."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
