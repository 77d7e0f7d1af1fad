"""PNG files of annotation pictures (MASK, INSTANCE, OBJECT_ID), written from their runs of equal pixels.

These pictures are a few flat areas: a row holds a handful of runs. zlib spends ~3 ms deflating the
1.1 MB of a 640 × 427 RGBA mask byte by byte, more than drawing it; here the compressed stream is
written from the runs themselves, which costs what the runs cost, and the picture need not exist as
pixels (the table renderer, :mod:`.columns`, never builds it). Many pictures are encoded in one pass
(:func:`encode`), and a picture's bytes do not depend on the others in its batch.

The file is an ordinary PNG that every decoder reads: 8-bit RGBA, RGB or grey, 16-bit grey; one IDAT
chunk; every row filtered with "Sub" (a run is its first pixel's difference from the pixel before it,
then zeros). **Compression**: one deflate block with a fixed Huffman code chosen for these pictures
(:data:`_LENGTHS`) and run-length copies only (distance 1, as zlib's ``Z_RLE`` strategy), no search —
the zlib header says level "fastest" (FLEVEL 0). Files are ~1.35× (MASK) to ~1.4× (id pictures) the size
OpenCV writes by default (level 1, ``Z_RLE``, a Huffman code made for each file) and take a fifth of its time
(~0.4 ms for a 640 × 427 RGBA mask, OpenCV 2–3 ms). The bytes depend only on the pixels: the item renderer
(:func:`runs_of` a picture) and the table renderer (:func:`joined_runs` of its layers) write the same file.

A picture that is not mostly runs (a photo drawn on), or one with more than 4 bytes a pixel, goes to
OpenCV as before: :func:`fits` decides it, from the runs alone.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..geometry._png import SIGNATURE, chunk
from ..table import offsets, ranges

__all__ = ["Runs", "encode", "fits", "joined_runs", "runs_of"]

_ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, "fastest" level (FLEVEL 0)
_IEND = chunk(b"IEND", b"")
_MOD_ADLER = 65521
_SUB = 1  # the PNG row filter: each byte minus the byte one pixel to the left
_LONGEST = 258  # the longest deflate copy
_EOB = 256  # the table entry of the end of block
_COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels → PNG colour type: grey, RGB, RGBA
_WHOLE = {1: np.uint8, 2: np.uint16, 4: np.uint32}  # bytes of a pixel → an integer of that size
_MIN_RUN = 16  # pixels a run averages at least for the runs to be written this way (see fits)
_MAX_PIXEL_BYTES = 4  # a run's head (filter, its pixel's bytes, a zero) must fit one 64-bit token
_COPIES_PER_TOKEN = 32  # 258-byte copies (2 bits each) packed in one token
_TAIL_COPIES = 20  # copies in a run's tail token: 40 bits, with the rest (≤ 15) and an end of block (9): 64
_BATCH_TOKENS = 2_000_000  # tokens encoded at once (bounds memory: ~40 bytes a token)

#: Code lengths of the one Huffman code every file uses (a complete code: the lengths' 2^-n add up to 1), chosen
#: for these pictures: the 258-byte copy of zeros 1 bit, a literal 0 3 bits, the Sub filter byte (1) 4 bits, the
#: other copy lengths, the end of block and a few common differences 9 bits, other bytes 10 bits.
_LENGTHS = {285: 1, 0: 3, 1: 4, **{symbol: 9 for symbol in (*range(256, 285), 2, 3, 4, 128, 252, 253, 254, 255)}}
_ORDER = (16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15)  # code-length code order (RFC 1951)


def _reversed(code: int, length: int) -> int:
    """A Huffman code (packed most significant bit first) as the bits of the LSB-first stream."""
    return int(format(code, f"0{length}b")[::-1], 2)


def _canonical(lengths: list[int]) -> list[int]:
    """The canonical Huffman codes of ``lengths`` (RFC 1951 3.2.2), stream order."""
    count = [0] * 16
    for length in lengths:
        count[length] += 1
    count[0] = 0
    following, code = [0] * 16, 0
    for bits in range(1, 16):
        code = (code + count[bits - 1]) << 1
        following[bits] = code
    codes = []
    for length in lengths:
        codes.append(_reversed(following[length], length) if length else 0)
        following[length] += 1
    return codes


def _codes() -> tuple[np.ndarray, np.ndarray, int]:
    """Each table entry's bits and length (entries 0…255 a literal byte, 256 end of block, 256 + L a copy of
    L = 3…258 bytes from one byte back), and the block header as one number (LSB first)."""
    literal_lengths = [_LENGTHS.get(symbol, 10) for symbol in range(286)]
    assert sum(2.0 ** -n for n in literal_lengths) == 1.0  # complete, as inflate wants it
    literal = _canonical(literal_lengths)
    bases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163,
             195, 227, 258]
    extra = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
    bits, lengths = np.zeros(257 + _LONGEST, dtype=np.uint64), np.zeros(257 + _LONGEST, dtype=np.int64)
    for symbol in range(257):
        bits[symbol], lengths[symbol] = literal[symbol], literal_lengths[symbol]
    for length in range(3, _LONGEST + 1):
        index = max(i for i, base in enumerate(bases) if base <= length)
        size = literal_lengths[257 + index]
        # the length's code, its extra bits, then the one distance code (one byte back): a single 0 bit
        bits[256 + length] = literal[257 + index] | ((length - bases[index]) << size)
        lengths[256 + length] = size + extra[index] + 1
    # the header: final dynamic block, 286 literal/length codes, 1 distance code (length 1), and the code lengths
    # sent with a code of their own over the lengths used (1, 3, 4, 9, 10), no repeat codes
    length_code_lengths = {1: 3, 3: 3, 4: 2, 9: 2, 10: 2}
    sent = [length_code_lengths.get(symbol, 0) for symbol in _ORDER]
    while sent[-1] == 0:
        sent.pop()
    length_codes = _canonical([length_code_lengths.get(symbol, 0) for symbol in range(19)])
    pieces = [(1, 1), (2, 2), (286 - 257, 5), (1 - 1, 5), (len(sent) - 4, 4), *((n, 3) for n in sent)]
    pieces += [(length_codes[n], length_code_lengths[n]) for n in (*literal_lengths, 1)]
    header = header_bits = 0
    for value, size in pieces:
        header |= value << header_bits
        header_bits += size
    return bits, lengths, header, header_bits


_CODE_BITS, _CODE_LENGTHS, _HEADER_VALUE, _HEADER_BITS = _codes()
#: The block header as bytes: its 648 bits are whole bytes, so each picture's tokens start on a byte
_HEADER = _HEADER_VALUE.to_bytes(_HEADER_BITS // 8, "little")
assert _HEADER_BITS % 8 == 0
_COPY_BITS, _COPY_LENGTH = int(_CODE_BITS[256 + _LONGEST]), int(_CODE_LENGTHS[256 + _LONGEST])
#: ``k`` 258-byte copies in a row, k = 0…_COPIES_PER_TOKEN: their bits as one token
_COPIES = np.array([sum(_COPY_BITS << (_COPY_LENGTH * i) for i in range(k)) for k in range(_COPIES_PER_TOKEN + 1)],
                   dtype=np.uint64)
_ZERO_LENGTH = int(_CODE_LENGTHS[0])
_ZEROS = np.array([0, _CODE_BITS[0], _CODE_BITS[0] | (_CODE_BITS[0] << np.uint64(_ZERO_LENGTH))],
                  dtype=np.uint64)  # 0, 1, 2 literal zeros
#: The end of a run's zeros, r = 0…257 bytes: nothing, 1 or 2 literal zeros, or a copy of r bytes
_REST_BITS = np.concatenate((_ZEROS, _CODE_BITS[256 + 3:]))
_REST_LENGTHS = np.concatenate(([0, _ZERO_LENGTH, 2 * _ZERO_LENGTH], _CODE_LENGTHS[256 + 3:]))


@dataclass
class Runs:
    """Pictures as runs of equal pixels, row by row: picture ``p`` is ``heights[p]`` × ``widths[p]`` pixels and
    has runs ``picture_runs[p]:picture_runs[p + 1]``; run ``i`` starts at flat pixel ``starts[i]`` of its picture
    (every row's first pixel starts a run; neighbours in a row differ) and has the pixel ``values[i]``
    (``channels`` samples, uint8 or uint16)."""

    heights: np.ndarray  # int64 (p,)
    widths: np.ndarray  # int64 (p,)
    picture_runs: np.ndarray  # int64 (p + 1,)
    starts: np.ndarray  # int64 (k,)
    values: np.ndarray  # (k, channels)

    @property
    def count(self) -> int:
        return int(self.heights.size)

    def take(self, pictures: np.ndarray) -> Runs:
        """The runs of ``pictures`` (indices, in that order)."""
        counts = np.diff(self.picture_runs)[pictures]
        chosen = ranges(self.picture_runs[pictures], counts)
        return Runs(self.heights[pictures], self.widths[pictures], offsets(counts), self.starts[chosen],
                    self.values[chosen])

    def slice(self, first: int, stop: int) -> Runs:
        """Pictures ``first:stop`` (views, no copy)."""
        if (first, stop) == (0, self.count):
            return self
        start, end = int(self.picture_runs[first]), int(self.picture_runs[stop])
        return Runs(self.heights[first:stop], self.widths[first:stop], self.picture_runs[first:stop + 1] - start,
                    self.starts[start:end], self.values[start:end])

    def picture(self, index: int) -> np.ndarray:
        """Picture ``index`` as pixels, ``(h, w)`` when it has one channel, else ``(h, w, channels)``."""
        first, stop = int(self.picture_runs[index]), int(self.picture_runs[index + 1])
        height, width = int(self.heights[index]), int(self.widths[index])
        lengths = np.diff(np.append(self.starts[first:stop], height * width))
        pixels = np.repeat(self.values[first:stop], lengths, axis=0)
        return pixels.reshape(height, width) if pixels.shape[1] == 1 else pixels.reshape(height, width, -1)


def runs_of(image: np.ndarray) -> Runs:
    """The runs of one picture: ``(h, w)`` grey or ``(h, w, c)``, uint8 or uint16."""
    height, width = image.shape[:2]
    pixels = np.ascontiguousarray(image).reshape(height, width, -1)
    whole = _WHOLE.get(pixels.shape[2] * pixels.itemsize)
    same = pixels.view(whole)[:, :, 0] if whole is not None else pixels
    change = np.ones((height, width), dtype=bool)
    if whole is not None:
        np.not_equal(same[:, 1:], same[:, :-1], out=change[:, 1:])
    else:
        np.any(same[:, 1:] != same[:, :-1], axis=2, out=change[:, 1:])
    starts = np.flatnonzero(change)
    return Runs(np.array([height]), np.array([width]), np.array([0, starts.size]), starts,
                pixels.reshape(height * width, -1)[starts])


def joined_runs(heights: np.ndarray, widths: np.ndarray, picture_runs: np.ndarray, starts: np.ndarray,
                palette: np.ndarray, index: np.ndarray) -> Runs:
    """The runs of pictures given as runs that may repeat a value: picture ``p`` is ``heights[p]`` ×
    ``widths[p]``, its runs are ``picture_runs[p]:picture_runs[p + 1]`` and start at ``starts`` (flat pixels of
    the picture, every row's start among them), run ``i`` with the value ``palette[index[i]]`` (``palette``:
    ``(values, channels)``). Equal neighbours in a row are joined: the runs :func:`runs_of` finds in the same
    pixels."""
    picture = np.repeat(np.arange(heights.size), np.diff(picture_runs))
    samples = np.ascontiguousarray(palette).view(np.uint8).reshape(palette.shape[0], -1)
    whole = _WHOLE.get(samples.shape[1])
    keep = np.empty(starts.size, dtype=bool)
    keep[:1] = True
    if whole is not None:  # one number a value: compare those
        value = samples.view(whole)[:, 0][index]
        np.not_equal(value[1:], value[:-1], out=keep[1:])
    else:
        np.any(palette[index[1:]] != palette[index[:-1]], axis=1, out=keep[1:])
    keep |= starts % widths[picture] == 0
    counts = np.add.reduceat(keep, picture_runs[:-1], dtype=np.int64) if heights.size else np.zeros(0, np.int64)
    return Runs(heights.astype(np.int64), widths.astype(np.int64), offsets(counts), starts[keep],
                palette[index[keep]])


def fits(runs: Runs) -> np.ndarray:
    """Per picture, whether it is runs enough to be written from them (else OpenCV deflates its pixels)."""
    channels = runs.values.shape[1]
    if (runs.values.dtype not in (np.uint8, np.uint16) or channels not in _COLOR_TYPES
            or channels * runs.values.itemsize > _MAX_PIXEL_BYTES):
        return np.zeros(runs.count, dtype=bool)
    return np.diff(runs.picture_runs) <= np.maximum(runs.heights, runs.heights * runs.widths // _MIN_RUN)


def encode(runs: Runs) -> list[bytes]:
    """The PNG file of every picture of ``runs`` (see the module docstring); the pictures must :func:`fit <fits>`."""
    out: list[bytes] = []
    tokens = np.cumsum(np.diff(runs.picture_runs) * 3 + runs.heights)  # about; bounds a batch's memory
    first = 0
    while first < runs.count:
        stop = max(first + 1, int(np.searchsorted(tokens, tokens[first] + _BATCH_TOKENS)))
        out.extend(_encode_batch(runs.slice(first, stop)))
        first = stop
    return out


def _encode_batch(runs: Runs) -> list[bytes]:
    values = runs.values
    depth = 16 if values.dtype == np.uint16 else 8
    color_type = _COLOR_TYPES[values.shape[1]]
    pixel = (values.astype(">u2").view(np.uint8) if depth == 16 else values).reshape(values.shape[0], -1)
    bpp = pixel.shape[1]
    picture = np.repeat(np.arange(runs.count), np.diff(runs.picture_runs))
    starts = runs.starts
    first_run, last_run = runs.picture_runs[:-1], runs.picture_runs[1:] - 1
    ends = np.append(starts[1:], 0)
    ends[last_run] = runs.heights * runs.widths
    run_row, run_column = np.divmod(starts, runs.widths[picture])
    first = run_column == 0
    before = np.roll(pixel, 1, axis=0)
    before[first] = 0
    difference = pixel - before  # uint8: modulo 256, as the Sub filter
    zeros = (ends - starts - 1) * bpp  # the rest of the run: zero differences, a literal 0 then copies of it
    full, rest = np.divmod(np.maximum(zeros - 1, 0), _LONGEST)
    # Each run is a row of tokens: its head (the filter byte when it starts a row, its pixel's differences, a
    # literal 0 when zeros follow), copies past _TAIL_COPIES in tokens of _COPIES_PER_TOKEN (long runs only), and
    # its tail (up to _TAIL_COPIES copies, the rest: a shorter copy or 1-2 literal zeros; after a picture's last
    # run, the end of block). The tokens of a picture follow its block header (_HEADER).
    head = np.where(first, _CODE_BITS[_SUB], np.uint64(0))
    size = np.where(first, _CODE_LENGTHS[_SUB], 0)
    pair_bits, pair_lengths, pair_sums = _pair_tables()
    entries = _entries(difference)
    for _, entry, pair in entries:
        head |= (pair_bits if pair else _CODE_BITS)[entry] << size.astype(np.uint64)
        size += (pair_lengths if pair else _CODE_LENGTHS)[entry]
    head |= np.where(zeros > 0, _ZEROS[1], np.uint64(0)) << size.astype(np.uint64)
    size += np.where(zeros > 0, _ZERO_LENGTH, 0)
    extra = np.maximum(full - _TAIL_COPIES, 0)
    columns = 2 + int(-(-extra.max(initial=0) // _COPIES_PER_TOKEN))
    bits, sizes = np.zeros((starts.size, columns), dtype=np.uint64), np.zeros((starts.size, columns), dtype=np.int64)
    bits[:, 0], sizes[:, 0] = head, size
    for column in range(1, columns - 1):
        count = np.clip(extra - _COPIES_PER_TOKEN * (column - 1), 0, _COPIES_PER_TOKEN)
        bits[:, column], sizes[:, column] = _COPIES[count], count * _COPY_LENGTH
    copies = np.minimum(full, _TAIL_COPIES)
    tail = _COPIES[copies] | (_REST_BITS[rest] << (copies * _COPY_LENGTH).astype(np.uint64))
    tail_size = copies * _COPY_LENGTH + _REST_LENGTHS[rest]
    tail[last_run] |= _CODE_BITS[_EOB] << tail_size[last_run].astype(np.uint64)
    tail_size[last_run] += _CODE_LENGTHS[_EOB]
    bits[:, -1], sizes[:, -1] = tail, tail_size
    picture_bits = np.add.reduceat(sum(sizes[:, column] for column in range(columns)), first_run)
    sizes[last_run, -1] += -picture_bits % 8  # each picture's stream ends on a byte
    stream, offsets = _pack(bits.ravel(), sizes.ravel())
    byte_at = np.append(offsets[first_run * columns] // 8, len(stream)).tolist()
    where = run_row * (runs.widths[picture] * bpp + 1) + 1 + run_column * bpp  # a run's first filtered byte
    adler = _adler32(runs, picture, where, entries, pair_sums)
    out = []
    for index in range(runs.count):
        ihdr = struct.pack(">IIBBBBB", int(runs.widths[index]), int(runs.heights[index]), depth, color_type, 0, 0, 0)
        idat = b"".join((_ZLIB_HEADER, _HEADER, stream[byte_at[index]:byte_at[index + 1]],
                         struct.pack(">I", adler[index])))
        out.append(b"".join((SIGNATURE, chunk(b"IHDR", ihdr), chunk(b"IDAT", idat), _IEND)))
    return out


def _entries(difference: np.ndarray) -> list[tuple[int, np.ndarray, bool]]:
    """A pixel's difference bytes two at a time: ``(first column, table entries, pair)`` — a pair of bytes
    ``b0 | b1 << 8`` in :func:`_pair_tables`, a last odd byte in the literal table."""
    bpp = difference.shape[1]
    out: list[tuple[int, np.ndarray, bool]] = []
    if bpp >= 2:
        pairs = np.ascontiguousarray(difference[:, :bpp - bpp % 2]).view("<u2")
        out += [(2 * index, pairs[:, index], True) for index in range(bpp // 2)]
    if bpp % 2:
        out.append((bpp - 1, difference[:, -1], False))
    return out


@cache
def _pair_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each two bytes ``b0 | b1 << 8``: their literal codes one after the other (bits, length) and
    ``b0 + b1`` (for Adler-32)."""
    low, high = np.arange(1 << 16) & 0xFF, np.arange(1 << 16) >> 8
    bits = _CODE_BITS[low] | (_CODE_BITS[high] << _CODE_LENGTHS[low].astype(np.uint64))
    return bits, _CODE_LENGTHS[low] + _CODE_LENGTHS[high], low + high


def _adler32(runs: Runs, picture: np.ndarray, where: np.ndarray, entries: list[tuple[int, np.ndarray, bool]],
             pair_sums: np.ndarray) -> list[int]:
    """Adler-32 of each picture's filtered rows: only the non-zero bytes (filter bytes, run starts) add to it;
    ``where``: each run's first byte in its picture's filtered rows, ``entries``: its bytes (:func:`_entries`)."""
    bpp = sum(2 if pair else 1 for _, _, pair in entries)
    stride = runs.widths * bpp + 1  # a row and its filter byte
    total = runs.heights * stride
    # Σ over a run's bytes j of (total - where - j) · byte_j = (total - where) · Σ byte_j - Σ j · byte_j
    byte_sum, byte_weight = np.zeros(where.size, dtype=np.int64), np.zeros(where.size, dtype=np.int64)
    for column, entry, pair in entries:
        if pair:  # bytes column and column + 1: column · (b0 + b1) + b1
            pair_sum = pair_sums[entry]
            byte_sum += pair_sum
            byte_weight += column * pair_sum + (entry >> 8)
        else:
            byte_sum += entry
            byte_weight += column * entry.astype(np.int64)
    terms = ((total[picture] - where) % _MOD_ADLER) * byte_sum - byte_weight
    byte_sum = np.add.reduceat(byte_sum, runs.picture_runs[:-1])
    weighted = np.add.reduceat(terms, runs.picture_runs[:-1])
    out = []
    for index in range(runs.count):
        height, row, size = int(runs.heights[index]), int(stride[index]), int(total[index])
        filters = _SUB * (height * size - row * height * (height - 1) // 2)  # Σ (total - r·stride)·1 over rows
        a = (1 + _SUB * height + int(byte_sum[index])) % _MOD_ADLER
        b = (size + filters + int(weighted[index])) % _MOD_ADLER
        out.append((b << 16) | a)
    return out


def _pack(bits: np.ndarray, sizes: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Tokens (LSB first, up to 64 bits each) one after the other, as bytes; and each token's bit offset."""
    offsets = np.cumsum(sizes) - sizes
    word = offsets >> 6
    shift = (offsets & 63).astype(np.uint64)
    low = bits << shift
    high = bits >> (np.uint64(64) - shift)  # the bits past the word (numpy shifts by 64 to 0: none)
    words = np.zeros(int(word[-1]) + 2, dtype=np.uint64)
    group = np.flatnonzero(np.concatenate(([True], word[1:] != word[:-1])))
    # tokens never share a bit: OR-ing the pieces that land in a word puts them together
    words[word[group]] = np.bitwise_or.reduceat(low, group)
    words[word[group] + 1] |= np.bitwise_or.reduceat(high, group)
    size = (int(offsets[-1] + sizes[-1]) + 7) // 8
    return words.astype("<u8").tobytes()[:size], offsets
