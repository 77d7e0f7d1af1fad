"""Raster helpers: polygons ↔ masks, mask bounds, and Dataloop's PNG data-URL masks.

Pixel convention (see ``base``): pixel (r, c) covers [c, c+1] × [r, r+1]; a pixel belongs to a
polygon when its centre (c + ½, r + ½) is inside. Rings are combined even-odd, so a ring inside
another is a hole and disjoint rings are separate parts.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidAnnotationError

__all__ = [
    "MAX_MASK_PIXELS",
    "decode_png_mask",
    "encode_png_mask",
    "mask_bounds",
    "mask_parts",
    "mask_to_rings",
    "mask_to_shapes",
    "png_size",
    "rasterize_rings",
]

#: Largest mask decoded or drawn (pixels): a hostile 10⁹ × 10⁹ header or item size must not allocate.
MAX_MASK_PIXELS = 400_000_000

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DATA_URL = re.compile(r"^data:image/png(;[^,;]*=[^,;]*)*;base64,", re.IGNORECASE)


def rasterize_rings(rings: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """A bool ``(h, w)`` mask of the rings, combined even-odd, pixel centres sampled.

    A scanline fill on the pixel centres: each ring edge crossing the row of centres ``y = r + ½``
    (half-open in y, so a vertex on that row counts once) toggles every pixel whose centre lies at
    or right of the crossing. ``cv2.fillPoly`` cannot do this: it also draws the outline, which
    adds up to a pixel all around (a 3×3-pixel square came out 4×4).
    """
    height, width = shape
    if height * width > MAX_MASK_PIXELS:
        raise InvalidAnnotationError(f"a {width}×{height} mask is more than the limit of {MAX_MASK_PIXELS} pixels",
                                     where="")
    rows, xs = [], []
    for ring in rings:
        ring = np.asarray(ring, dtype=np.float64)
        if len(ring) < 3:
            continue
        x0, y0 = ring[:, 0], ring[:, 1]
        x1, y1 = np.concatenate((x0[1:], x0[:1])), np.concatenate((y0[1:], y0[:1]))  # each edge's end
        # Rows whose centre y satisfies min(y0, y1) <= y < max(y0, y1), clipped to the canvas.
        first = np.ceil(np.minimum(y0, y1) - 0.5).clip(0, height)
        counts = (np.ceil(np.maximum(y0, y1) - 0.5).clip(0, height) - first).astype(np.int64)
        total = int(counts.sum())
        if not total:
            continue
        edge = np.repeat(np.arange(len(ring)), counts)
        starts = np.cumsum(counts) - counts
        row = first[edge] + (np.arange(total) - starts[edge])
        t = (row + 0.5 - y0[edge]) / (y1[edge] - y0[edge])
        rows.append(row.astype(np.int64))
        xs.append(x0[edge] + t * (x1[edge] - x0[edge]))
    mask = np.zeros((height, width), dtype=bool)
    if not rows:
        return mask
    row = np.concatenate(rows) if len(rows) > 1 else rows[0]
    x = np.concatenate(xs) if len(xs) > 1 else xs[0]
    col = np.ceil(x - 0.5).clip(0, width).astype(np.int64)  # first centre at or right
    top, left = int(row.min()), int(col.min())
    span = (int(row.max()) + 1 - top, width + 1 - left)
    # crossings per (row, column), counted by one bincount (np.add.at does the same, many times slower)
    toggles = np.bincount((row - top) * span[1] + (col - left), minlength=span[0] * span[1])
    toggles = toggles.astype(np.uint8).reshape(span)
    # Even-odd: a centre is inside when an odd number of crossings lie at or left of it (uint8 wraps at
    # 256, which keeps the parity). Only the rows and columns the crossings reach can change.
    parity = np.cumsum(toggles[:, : width - left], axis=1, dtype=np.uint8) & 1
    mask[top : top + span[0], left:] = parity.astype(bool)
    return mask


def mask_bounds(mask: np.ndarray) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` around the foreground, on pixel edges; zeros when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return (0.0, 0.0, 0.0, 0.0)
    cols = np.flatnonzero(mask.any(axis=0))
    return (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))


def mask_parts(mask: np.ndarray) -> list[tuple[float, float, float, float]]:
    """``(left, top, right, bottom)`` on pixel edges of each 8-connected part of a mask, largest first.

    The parts are the instances :func:`mask_to_shapes` traces (a hole is not a part); equal sizes
    keep raster order (the part whose first pixel comes first, row by row).
    """
    import cv2

    binary = (np.asarray(mask) > 0).astype(np.uint8)
    if binary.ndim != 2 or not binary.any():
        return []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    # OpenCV numbers the parts in no promised order: sort by size, then by where each part starts.
    values, first = np.unique(labels.ravel(), return_index=True)  # first pixel of each label, row by row
    starts = np.zeros(count, dtype=np.int64)
    starts[values] = first
    order = np.lexsort((starts[1:], -stats[1:count, cv2.CC_STAT_AREA]))
    return [(float(x), float(y), float(x + w), float(y + h))
            for x, y, w, h in stats[1:count][order][:, :4].tolist()]


def mask_to_rings(
    mask: np.ndarray, *, epsilon: float | None = None, max_instances: int | None = 1, min_area: float = 0
) -> list[list[np.ndarray]]:
    """Trace a mask into instances, each a list of rings (outer rings and their holes) on pixel edges.

    Instances are connected components (8-connected, as OpenCV traces them), largest first; see
    :func:`mask_to_shapes`. The outline follows the pixel edges (a filled 16×16 square becomes a
    16×16 polygon, area 256, not the 15×15 polygon through the boundary pixels' centres), then
    ``epsilon`` (pixels; ``None`` = 0.5) simplifies it. Read the rings even-odd: an instance whose
    pixels touch only at a corner has several outer rings, the largest part first.
    """
    import shapely

    tolerance = 0.5 if epsilon is None else float(epsilon)
    out = []
    for shape in mask_to_shapes(mask, max_instances=max_instances, min_area=min_area):
        simplified = shape.simplify(tolerance, preserve_topology=True)  # 0 drops only collinear points
        shape = simplified if not simplified.is_empty else shape
        polygons = list(shape.geoms) if isinstance(shape, shapely.MultiPolygon) else [shape]
        polygons.sort(key=lambda p: -p.area)  # ring 0, all the SDK reads (B19), is the main outline
        rings: list[np.ndarray] = []
        for polygon in polygons:
            rings.append(np.asarray(polygon.exterior.coords)[:-1])
            rings.extend(np.asarray(hole.coords)[:-1] for hole in polygon.interiors)
        out.append(rings)
    return out


def mask_to_shapes(mask: np.ndarray, *, max_instances: int | None = None, min_area: float = 0) -> list:
    """A mask's instances as exact shapely (Multi)Polygons: the union of their pixel squares.

    Instances are 8-connected components, largest first; those with area ≤ ``min_area`` are
    dropped, then at most ``max_instances`` are kept (``None`` = all).
    """
    import cv2
    import shapely

    binary = (np.asarray(mask) > 0).astype(np.uint8)
    if not binary.any():
        return []
    left, top, right, bottom = (int(v) for v in mask_bounds(binary))
    binary = binary[top:bottom, left:right]  # work on the object, not the whole item
    faces, rows, cols = _pixel_edge_faces(binary, origin=(left, top))
    _, component = cv2.connectedComponents(binary, connectivity=8)
    labels = component[rows, cols]
    order = np.argsort(labels, kind="stable")
    groups = np.split(faces[order], np.flatnonzero(np.diff(labels[order])) + 1)
    # Faces of one instance touch only at pixel corners: together they are a valid MultiPolygon.
    instances = [group[0] if len(group) == 1 else shapely.MultiPolygon(list(group)) for group in groups]
    instances = [shape for shape in instances if shape.area > min_area]
    instances.sort(key=lambda s: -s.area)
    return instances if max_instances is None else instances[:max_instances]


def _pixel_edge_faces(binary: np.ndarray, origin: tuple[int, int] = (0, 0)):
    """The 4-connected foreground regions as polygons on pixel edges, each with one pixel inside it.

    Every unit pixel edge between foreground and background is a segment; polygonising them gives
    one face per region (foreground, or background enclosed as a hole), holes included. Returns the
    foreground faces, shifted by ``origin`` (x, y), and the ``(row, column)`` in ``binary`` of one
    foreground pixel in each.
    """
    import shapely

    padded = np.pad(binary, 1)
    # y = i, x from j to j + 1: rows i − 1 and i differ in column j.
    i, j = np.nonzero(padded[:-1, 1:-1] != padded[1:, 1:-1])
    horizontal = np.stack([np.stack([j, i], axis=1), np.stack([j + 1, i], axis=1)], axis=1)
    # x = j, y from i to i + 1: columns j − 1 and j differ in row i.
    i, j = np.nonzero(padded[1:-1, :-1] != padded[1:-1, 1:])
    vertical = np.stack([np.stack([j, i], axis=1), np.stack([j, i + 1], axis=1)], axis=1)
    edges = shapely.linestrings(np.concatenate([horizontal, vertical]).astype(np.float64) + origin)
    faces = shapely.get_parts(shapely.polygonize(edges))
    # A point inside a face lies in one of its pixels (on an inner pixel edge, floor picks either side).
    inside = shapely.get_coordinates(shapely.point_on_surface(faces)) - origin
    cols, rows = np.floor(inside).astype(np.int64).T
    foreground = binary[rows, cols] > 0
    return faces[foreground], rows[foreground], cols[foreground]


# -- PNG data URLs --------------------------------------------------------------------------------
def split_data_url(value: str) -> bytes:
    """The PNG bytes of a ``data:image/png;base64,…`` URL (any parameters; a bare base64 also works)."""
    match = _DATA_URL.match(value)
    payload = value[match.end():] if match else value
    if not match and value.startswith("data:"):
        raise InvalidAnnotationError(
            f"mask is a data URL but not a base64 PNG ({value[:40]!r}…)", where=""
        )
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAnnotationError("mask data is not valid base64", where="") from None
    if not data.startswith(_PNG_SIGNATURE):
        raise InvalidAnnotationError("mask data is not a PNG image", where="")
    return data


def png_size(data: bytes) -> tuple[int, int]:
    """``(height, width)`` from a PNG's header, without decoding pixels."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise InvalidAnnotationError("mask PNG has no IHDR header", where="")
    width, height = struct.unpack(">II", data[16:24])
    if not (width and height):
        raise InvalidAnnotationError(f"mask PNG is {width}×{height} pixels (a PNG has at least one)", where="")
    return height, width


def decode_png_mask(data: bytes, *, max_pixels: int) -> tuple[np.ndarray, tuple[int, int, int] | None]:
    """Decode a mask PNG of any mode into ``(bool mask, RGB colour of its first foreground pixel)``.

    With an alpha channel (RGBA, LA, or a palette with transparency), alpha > 127 is the mask, as
    the Dataloop SDK reads it; without one, any non-zero pixel is foreground.
    """
    from PIL import Image

    height, width = png_size(data)
    if height * width > max_pixels:
        raise InvalidAnnotationError(
            f"mask is {width}×{height} pixels, more than the limit of {max_pixels}", where=""
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode != "RGBA":  # (an RGBA PNG, as Dataloop writes them, needs no conversion)
                has_alpha = "A" in image.getbands() or "transparency" in image.info
                image = image.convert("RGBA" if has_alpha else "RGB")
            if image.mode == "RGBA":
                mask = np.asarray(image.getchannel("A")) > 127
            else:
                mask = np.asarray(image).any(axis=2)
            first = int(mask.argmax())  # the first foreground pixel (0 when there is none)
            color = tuple(image.getpixel((first % mask.shape[1], first // mask.shape[1])))[:3] \
                if mask.flat[first] else None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidAnnotationError(f"mask PNG cannot be decoded: {exc}", where="") from None
    return mask, color


def encode_png_mask(mask: np.ndarray, color: tuple[int, int, int] | None) -> str:
    """Encode as the SDK does: an RGBA PNG, RGB = label colour, alpha 255 inside the mask, 0 outside.

    Written by :func:`._png.mask_png`: the bytes OpenCV's ``imencode`` (zlib level 1) gave, several
    times faster (a mask has two pixel values).
    """
    from ._png import mask_png

    r, g, b = color if color is not None else (255, 255, 255)
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2 or not mask.size:
        raise InvalidAnnotationError(f"cannot encode a mask of shape {mask.shape} as PNG", where="")
    return "data:image/png;base64," + base64.b64encode(mask_png(mask, (r, g, b, 255))).decode("ascii")
