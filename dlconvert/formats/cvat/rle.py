"""CVAT's mask encoding: run lengths over the mask's bounding window, row by row, starting with background.

``<mask rle="3, 5, 7, …" left="707" top="888" width="13" height="15">``: the window's pixels in
row-major order, alternating runs of 0 and 1 (the first run counts zeros and may be 0). CVAT's
exports may leave the last run of zeros out, so the runs may add up to less than ``width × height``
(the rest is background), never to more. Sizes are checked before anything is allocated.
"""

from __future__ import annotations

import numpy as np

from ...errors import FormatError
from ...geometry.segmentation import MAX_MASK_PIXELS

__all__ = ["decode_window", "encode_window", "place_window", "window_of"]


def decode_window(text: str, width: int, height: int, path, where: str) -> np.ndarray:
    """The ``(height, width)`` bool window of an ``rle`` attribute."""
    if width * height > MAX_MASK_PIXELS:
        raise FormatError(f"<mask> window is {width}×{height} pixels, more than the limit of {MAX_MASK_PIXELS}",
                          path=path, where=where)
    tokens = text.replace(" ", "").split(",") if text.strip() else []
    if len(tokens) > width * height + 1:
        raise FormatError(f"<mask> rle has {len(tokens)} runs for a {width}×{height} window", path=path, where=where)
    try:
        counts = np.array(tokens, dtype=np.int64)
    except (ValueError, OverflowError):
        raise FormatError("<mask> rle must be whole numbers separated by commas", path=path, where=where) from None
    if counts.size and (counts.min() < 0 or counts.max() > width * height):
        raise FormatError("<mask> rle has a run that is negative or longer than its window", path=path, where=where)
    total = int(counts.sum())  # at most width × height + 1 runs of at most width × height: no overflow
    if total > width * height:
        raise FormatError(f"<mask> rle covers {total} pixels, more than its {width}×{height} window", path=path,
                          where=where)
    flat = np.zeros(width * height, dtype=bool)
    flat[:total] = np.repeat(np.arange(counts.size) % 2 == 1, counts)
    return flat.reshape(height, width)


def place_window(window: np.ndarray, left: int, top: int, shape: tuple[int, int]) -> np.ndarray:
    """The image-sized read-only mask with ``window`` at ``(left, top)``.

    The canvas is made with ``np.zeros`` (pages the system hands out as they are first written), and
    only the window's rows are written: a small mask on a 36-megapixel photo costs its rows, not 36 MB.
    """
    canvas = np.zeros(shape, dtype=bool)
    height, width = window.shape
    canvas[top:top + height, left:left + width] = window
    canvas.setflags(write=False)
    return canvas


def window_of(mask: np.ndarray) -> tuple[int, int, np.ndarray] | None:
    """``(left, top, window)``: the smallest window holding every pixel of ``mask``; None when it is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask[rows[0]:rows[-1] + 1].any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    return left, top, mask[top:bottom + 1, left:right + 1]


def encode_window(window: np.ndarray) -> str:
    """The ``rle`` text of a window, every run to its last pixel (``3, 5, 7``, as CVAT's documentation shows it)."""
    flat = np.asarray(window, dtype=bool).reshape(-1)
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs.insert(0, 0)
    return ", ".join(str(run) for run in runs)
