"""Numbers as text for whole arrays at once: the bytes Python's ``format`` would write, without a
Python call per number.

Bulk writers (a YOLO label line per object, a VOC ``<bndbox>`` per object …) spend most of their
time turning floats into text one ``format()`` call at a time. Here a whole column is rounded —
exactly as ``format`` rounds: Dekker's two-product gives ``v × 10**decimals`` without error, so a
product that lands within a rounding error of a half still goes the right way — split into digits
and laid out as a character matrix with numpy. Values too large for int64 digits, tiny ones and
non-finite ones are formatted by Python itself, so the result is byte-identical to
``format(v + 0.0, f".{decimals}f")`` for every value.

A *token stream* is the text of many numbers in output order, each followed by its separator
byte (a space, a newline): :func:`join_tokens` packs it into one ``bytes`` and the offsets at which
each token ends, so a caller can cut the text of each file or line out of one buffer. Lines made
of fixed text and fields (an XML element per object) are laid out the same way: :func:`side_by_side`
puts constant bytes and character matrices (numbers, :func:`text_matrix` of strings) next to each
other, one row per line, and :func:`join_tokens` joins the rows.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fixed_tokens", "int_tokens", "join_tokens", "pad_to", "side_by_side", "text_matrix"]

_MAX_EXACT = 2.0 ** 52  # a scaled value below this is an exact integer once rounded
_SPLITTER = 2.0 ** 27 + 1  # Veltkamp's constant for float64
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)  # 10 … 10**18
_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8).reshape(100, 2)


def int_tokens(values: np.ndarray) -> np.ndarray:
    """Integers as a character matrix (one left-aligned row per value, padded with NUL bytes)."""
    values = np.asarray(values, dtype=np.int64)
    negative = values < 0
    magnitude = np.abs(values)
    return _digits_matrix(negative, magnitude, np.zeros_like(magnitude), 0)


def fixed_tokens(values: np.ndarray, decimals: int) -> np.ndarray:
    """``format(v + 0.0, f".{decimals}f")`` of every value, as a character matrix (NUL-padded rows)."""
    if not 0 <= decimals <= 15:
        raise ValueError(f"decimals must be 0…15, not {decimals}")
    values = np.asarray(values, dtype=np.float64) + 0.0  # -0.0 → 0.0, as the writers ask
    magnitude = np.abs(values)
    # beyond these, the exact product below could overflow, underflow or leave int64: Python decides
    risky = ~((magnitude < _MAX_EXACT / 10.0 ** decimals) & ((magnitude == 0) | (magnitude > 1e-290)))
    units = _rounded(np.where(risky, 0.0, magnitude), 10.0 ** decimals)
    power = 10 ** decimals
    matrix = _digits_matrix(np.signbit(values), units // power, units % power, decimals)
    if risky.any():
        matrix = _patch(matrix, values, np.flatnonzero(risky), decimals)
    return matrix


def _rounded(magnitude: np.ndarray, scale: float) -> np.ndarray:
    """``round(m * scale)`` of the exact real product, ties to even — what ``format`` does — as int64.

    The float product is right unless it lands within its own rounding error of a half; for those
    few, Dekker's two-product gives the product exactly as ``high + low`` and the fraction is
    compared with a half exactly.
    """
    high = magnitude * scale
    whole = np.floor(high)
    fraction = high - whole  # exact: dropping the integer bits of a double below 2**52
    units = (whole + (fraction > 0.5)).astype(np.int64)
    near = np.flatnonzero(np.abs(fraction - 0.5) <= high * 2.0 ** -50)
    if near.size:
        exact_high, exact_whole = high[near], whole[near]
        low = _product_error(magnitude[near], scale, exact_high)
        above = fraction[near] - 0.5  # exact (Sterbenz): the fraction is near a half
        up = (above > -low) | ((above == -low) & (np.fmod(exact_whole, 2.0) == 1.0))  # ties to even
        units[near] = (exact_whole + up).astype(np.int64)
    return units


def _product_error(a: np.ndarray, b: float, product: np.ndarray) -> np.ndarray:
    """``a * b - product`` exactly (Dekker's two-product with Veltkamp splitting; no FMA needed)."""
    def split(value):
        c = _SPLITTER * value
        high = c - (c - value)
        return high, value - high

    a_high, a_low = split(a)
    b_high, b_low = split(np.float64(b))
    return ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low


def _digits_matrix(negative: np.ndarray, whole: np.ndarray, fraction: np.ndarray, decimals: int) -> np.ndarray:
    """Rows of ``[-]whole[.fraction]`` text. The whole part is right-aligned after the sign column with
    NUL bytes in front of it: NULs are dropped when tokens are joined, so every column is filled at once."""
    count = whole.shape[0]
    width_whole = 1 + np.searchsorted(_POWERS, whole, side="right")  # digits: 1 + how many of 10, 100 … ≤ it
    most = int(width_whole.max()) if count else 1
    matrix = np.zeros((count, 1 + most + (1 + decimals if decimals else 0)), dtype=np.uint8)
    matrix[:, 0] = np.where(negative, ord("-"), 0)
    if most == 1:  # one whole digit (every YOLO value): no leading positions to blank
        matrix[:, 1] = _DIGITS[whole]
    else:
        remaining = whole.copy()
        for place in range(most):  # least significant first, from the right of the whole block
            matrix[:, most - place] = np.where(place < width_whole, _DIGITS[remaining % 10], 0)
            remaining //= 10
    if decimals:
        matrix[:, 1 + most] = ord(".")
        _fill_digits(matrix[:, 2 + most:], fraction)
    return matrix


def _fill_digits(columns: np.ndarray, values: np.ndarray) -> None:
    """Write ``values`` as zero-padded decimal digits into ``columns`` (one column per digit), two at a time."""
    remaining = values.astype(np.uint64 if columns.shape[1] > 9 else np.uint32)
    place = columns.shape[1]
    while place >= 2:
        pair = remaining % 100
        columns[:, place - 2:place] = _PAIRS[pair]
        remaining //= 100
        place -= 2
    if place:
        columns[:, 0] = _DIGITS[remaining % 10]


def _patch(matrix: np.ndarray, values: np.ndarray, rows: np.ndarray, decimals: int) -> np.ndarray:
    """Put Python's own text for ``rows`` into the matrix (widening it when needed)."""
    texts = [format(float(values[r]), f".{decimals}f").encode() for r in rows]
    longest = max(len(t) for t in texts)
    if longest > matrix.shape[1]:
        matrix = np.pad(matrix, ((0, 0), (0, longest - matrix.shape[1])))
    for row, text in zip(rows.tolist(), texts, strict=True):
        matrix[row] = 0
        matrix[row, :len(text)] = np.frombuffer(text, dtype=np.uint8)
    return matrix


def join_tokens(tokens: np.ndarray, separators: np.ndarray) -> tuple[bytes, np.ndarray]:
    """One buffer of every token followed by its separator byte, and each token's end offset in it.

    ``tokens`` is a character matrix (rows NUL-padded, e.g. from :func:`fixed_tokens`, stacked in
    output order); ``separators`` one byte per token (``b" "``, ``b"\\n"`` as uint8).
    """
    tokens = np.asarray(tokens, dtype=np.uint8)
    matrix = np.concatenate([tokens, np.asarray(separators, dtype=np.uint8)[:, None]], axis=1)
    keep = matrix != 0
    ends = np.cumsum(keep.sum(axis=1))
    return matrix[keep].tobytes(), ends


def pad_to(matrices: list[np.ndarray]) -> list[np.ndarray]:
    """Character matrices widened to a common width, so that they can be stacked."""
    width = max(m.shape[1] for m in matrices)
    return [np.pad(m, ((0, 0), (0, width - m.shape[1]))) for m in matrices]


def text_matrix(texts: list[bytes]) -> np.ndarray:
    """Byte strings as a character matrix (one left-aligned row per string, NUL-padded; no NUL inside)."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    matrix = np.zeros((len(texts), int(lengths.max(initial=0))), dtype=np.uint8)
    keep = np.arange(matrix.shape[1]) < lengths[:, None]
    matrix[keep] = np.frombuffer(b"".join(texts), dtype=np.uint8)  # row-major order is the strings' order
    return matrix


def side_by_side(parts: list[bytes | np.ndarray], count: int) -> np.ndarray:
    """``count`` rows of text, each the ``parts`` in order: a constant (``bytes``, the same on every row) or a
    character matrix (one row per row, NUL-padded — NULs are dropped by :func:`join_tokens`)."""
    widths = [len(part) if isinstance(part, bytes) else part.shape[1] for part in parts]
    matrix = np.empty((count, sum(widths)), dtype=np.uint8)
    column = 0
    for part, width in zip(parts, widths, strict=True):
        matrix[:, column:column + width] = np.frombuffer(part, dtype=np.uint8) if isinstance(part, bytes) else part
        column += width
    return matrix
