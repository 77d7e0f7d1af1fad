"""Label Studio's brush RLE: a bit stream that packs the RGBA pixels of a mask (``value.rle``, ``format: "rle"``).

The stream is thi.ng's ``rle-pack``, which the Label Studio frontend writes and label-studio-converter's
``brush.py`` reads (``decode_rle``), as a list of byte values, most significant bit first::

    32 bits   number of values (width × height × 4: R, G, B, A of each pixel, row by row)
     5 bits   word size − 1 (8 in every file Label Studio writes)
    4×4 bits  the four run-length widths − 1 (Label Studio: 3, 4, 8, 16)
    then records until every value is given:
      1 bit  repeat?   2 bits  which run-length width   that many bits: count − 1
      repeat: one word, ``count`` times; else ``count`` words, one each

The mask is the alpha channel: a pixel belongs to the region when its alpha is not 0 (the converter's
``[:, :, 3] > 0``). Decoding is bounded: the declared number of values must be the image's
``width × height × 4`` and the image within :data:`~dlconvert.geometry.masks.MAX_MASK_PIXELS` before anything
is allocated, every record must fit the values declared and the bits given, and only the alpha channel is
kept (one bool per pixel). Encoding writes what label-studio-converter's ``mask2rle`` writes (each pixel
0 or 255 in all four channels, words of 8 bits, widths 3, 4, 8, 16), byte for byte.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import InvalidAnnotationError
from ...geometry.masks import MAX_MASK_PIXELS

__all__ = ["decode_mask", "encode_mask", "encode_runs"]

_HEADER_BITS = 32 + 5 + 4 * 4
#: What label-studio-converter's encoder writes: 8-bit words and these four run-length widths.
_WORD_SIZE = 8
_RUN_WIDTHS = (3, 4, 8, 16)


def decode_mask(rle: Any, width: int, height: int, where: str = "/value/rle") -> np.ndarray:
    """The ``(height, width)`` bool mask of a brush RLE (alpha ≠ 0); a malformed stream raises with ``where``."""
    if not isinstance(rle, list):
        raise InvalidAnnotationError(f"rle must be a list of byte values, got {type(rle).__name__}", where=where)
    try:
        data = bytes(rle)
    except (TypeError, ValueError):
        raise InvalidAnnotationError("rle must be a list of byte values (integers 0–255)", where=where) from None
    if width * height > MAX_MASK_PIXELS:
        raise InvalidAnnotationError(f"a {width}×{height} mask is more than the limit of {MAX_MASK_PIXELS} pixels",
                                     where=where)
    return _Decoder(data, where).mask(width, height)


class _Decoder:
    """Reads the bit stream: fixed-width fields one at a time, runs of literal words all at once."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data + b"\x00" * 5  # every read of up to 32 bits sees 5 bytes
        self.bits = len(data) * 8
        self.position = 0
        self.where = where

    def read(self, count: int) -> int:
        start = self.position
        if start + count > self.bits:
            raise InvalidAnnotationError(f"the RLE ends early (at bit {start}, {count} more needed)", where=self.where)
        self.position = start + count
        window = int.from_bytes(self.data[start >> 3:(start >> 3) + 5], "big")
        return (window >> (40 - (start & 7) - count)) & ((1 << count) - 1)

    def words(self, count: int, size: int) -> np.ndarray:
        """``count`` consecutive words of ``size`` bits, as int64."""
        start = self.position
        if start + count * size > self.bits:
            raise InvalidAnnotationError(f"the RLE ends early (at bit {start}, {count * size} more needed)",
                                         where=self.where)
        self.position = start + count * size
        first, last = start >> 3, (start + count * size + 7) >> 3
        bits = np.unpackbits(np.frombuffer(self.data, np.uint8, last - first, first))
        offset = start - (first << 3)
        chunk = bits[offset:offset + count * size].reshape(count, size).astype(np.int64)
        return chunk @ (1 << np.arange(size - 1, -1, -1, dtype=np.int64))

    def mask(self, width: int, height: int) -> np.ndarray:
        total = self.read(32)
        word_size = self.read(5) + 1
        widths = [self.read(4) + 1 for _ in range(4)]
        if total != width * height * 4:
            raise InvalidAnnotationError(f"the RLE holds {total} values; a {width}×{height} RGBA image has "
                                         f"{width * height * 4}", where=self.where)
        alpha = np.zeros(width * height, dtype=bool)
        done = 0
        while done < total:
            repeat = self.read(1)
            end = done + 1 + self.read(widths[self.read(2)])
            if end > total:
                raise InvalidAnnotationError(f"a run of the RLE goes past its {total} values", where=self.where)
            if repeat:
                if self.read(word_size):
                    alpha[done // 4:end // 4] = True  # the alpha values among [done, end)
            else:
                values = self.words(end - done, word_size)
                first_alpha = done + (3 - done) % 4
                alpha[first_alpha // 4:end // 4] = values[first_alpha - done::4] != 0
            done = end
        return alpha.reshape(height, width)


def encode_mask(mask: np.ndarray) -> list[int]:
    """The brush RLE of a bool mask, as label-studio-converter's ``mask2rle`` writes it (0/255 in R, G, B, A)."""
    flat = np.ascontiguousarray(mask, dtype=bool).reshape(-1)
    if flat.size == 0:
        return encode_runs(np.zeros(0, np.int64), np.zeros(0, np.int64), 0)
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [flat.size])))
    return encode_runs(lengths * 4, flat[starts].astype(np.int64) * 255, flat.size * 4)


def encode_runs(lengths: np.ndarray, values: np.ndarray, total: int) -> list[int]:
    """The RLE of ``total`` 8-bit values given as runs (``lengths[k]`` times ``values[k]``), as
    label-studio-converter's ``encode_rle`` writes it: a run of one as a literal word, longer runs as
    repeats (split every 65,536 values), and 1 to 8 zero bits of padding."""
    lengths = np.asarray(lengths, dtype=np.int64)
    values = np.asarray(values, dtype=np.int64)
    pieces = np.maximum((lengths + 65535) // 65536, 1)
    values = np.repeat(values, pieces)
    first = np.cumsum(pieces) - pieces  # the first piece of each run carries the remainder
    counts = np.full(int(pieces.sum()), 65536, dtype=np.int64)
    counts[first] = lengths - (pieces - 1) * 65536
    widths_used = np.searchsorted(np.array([8, 16, 256]), counts, side="left")  # 0..3: which width fits
    bits_for = np.array(_RUN_WIDTHS, dtype=np.int64)[widths_used]
    repeat = (counts > 1).astype(np.int64)
    widths_used = np.where(repeat == 1, widths_used, 0)
    bits_for = np.where(repeat == 1, bits_for, 3)
    # each record: repeat flag (1), width index (2), count − 1, word (8)
    field_values = np.stack([repeat, widths_used, counts - 1, values], axis=1).reshape(-1)
    field_widths = np.stack([np.ones_like(repeat), np.full_like(repeat, 2), bits_for,
                             np.full_like(repeat, _WORD_SIZE)], axis=1).reshape(-1)
    header_values = np.array([total, _WORD_SIZE - 1, *(w - 1 for w in _RUN_WIDTHS)], dtype=np.int64)
    header_widths = np.array([32, 5, 4, 4, 4, 4], dtype=np.int64)
    field_values = np.concatenate((header_values, field_values))
    field_widths = np.concatenate((header_widths, field_widths))
    size = int(field_widths.sum())
    offsets = np.arange(size) - np.repeat(np.cumsum(field_widths) - field_widths, field_widths)
    shifts = np.repeat(field_widths, field_widths) - 1 - offsets
    bits = ((np.repeat(field_values, field_widths) >> shifts) & 1).astype(np.uint8)
    bits = np.concatenate((bits, np.zeros(8 - size % 8, dtype=np.uint8)))
    return np.packbits(bits).tolist()
