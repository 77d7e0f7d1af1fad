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
    "decode_png_mask",
    "encode_png_mask",
    "mask_bounds",
    "mask_to_rings",
    "png_size",
    "rasterize_rings",
]

_SUBPIXEL_BITS = 8  # cv2.fillPoly fixed-point precision: 1/256 px
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_DATA_URL = re.compile(r"^data:image/png(;[^,;]*=[^,;]*)*;base64,", re.IGNORECASE)


def rasterize_rings(rings: Sequence[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """A bool ``(h, w)`` mask of the rings, combined even-odd, pixel centres sampled."""
    import cv2

    height, width = shape
    mask = np.zeros((height, width), dtype=np.uint8)
    scale = 1 << _SUBPIXEL_BITS
    for ring in rings:
        ring = np.asarray(ring, dtype=np.float64)
        if len(ring) < 3:
            continue
        # Continuous → OpenCV's pixel-centre integer grid, in fixed point.
        pts = np.round((ring - 0.5) * scale).astype(np.int64)
        pts = np.clip(pts, -(2**30), 2**30).astype(np.int32)
        layer = np.zeros_like(mask)
        cv2.fillPoly(layer, [pts.reshape(-1, 1, 2)], 1, lineType=cv2.LINE_8, shift=_SUBPIXEL_BITS)
        mask ^= layer
    return mask.astype(bool)


def mask_bounds(mask: np.ndarray) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` around the foreground, on pixel edges; zeros when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return (0.0, 0.0, 0.0, 0.0)
    cols = np.flatnonzero(mask.any(axis=0))
    return (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))


def mask_to_rings(
    mask: np.ndarray, *, epsilon: float | None = None, max_instances: int | None = 1, min_area: float = 0
) -> list[list[np.ndarray]]:
    """Trace a mask into instances, each ``[outer ring, hole rings …]`` on pixel edges.

    Instances are connected components, largest first; those with area ≤ ``min_area`` are
    dropped, then at most ``max_instances`` are kept (``None`` = all). The outline follows the
    pixel edges (a filled 16×16 square becomes a 16×16 polygon, area 256, not the 15×15 polygon
    through the boundary pixels' centres), then ``epsilon`` (pixels; ``None`` = 0.5) simplifies it.
    """
    import cv2
    import shapely

    binary = (np.asarray(mask) > 0).astype(np.uint8)
    if not binary.any():
        return []
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    hierarchy = hierarchy[0]
    instances = []
    for index, contour in enumerate(contours):
        if hierarchy[index][3] != -1:  # a hole: handled with its parent
            continue
        holes = []
        child = hierarchy[index][2]
        while child != -1:
            holes.append(contours[child].reshape(-1, 2).astype(np.float64))
            child = hierarchy[child][0]
        shape = _pixel_edge_outline(contour.reshape(-1, 2).astype(np.float64), holes)
        if shape.is_empty or shape.area <= min_area:
            continue
        instances.append(shape)
    instances.sort(key=lambda s: -s.area)
    if max_instances is not None:
        instances = instances[:max_instances]
    tolerance = 0.5 if epsilon is None else float(epsilon)
    out = []
    for shape in instances:
        if tolerance > 0:
            simplified = shape.simplify(tolerance, preserve_topology=True)
            shape = simplified if not simplified.is_empty else shape
        polygons = list(shape.geoms) if isinstance(shape, shapely.MultiPolygon) else [shape]
        rings: list[np.ndarray] = []
        for polygon in polygons:
            rings.append(np.asarray(polygon.exterior.coords)[:-1])
            rings.extend(np.asarray(hole.coords)[:-1] for hole in polygon.interiors)
        out.append(rings)
    return out


def _pixel_edge_outline(outer: np.ndarray, holes: list[np.ndarray]):
    """Grow a pixel-centre contour by half a pixel onto the pixel edges (holes shrink)."""
    import shapely

    if len(outer) < 3:  # a 1-pixel-wide line or a single pixel
        base = shapely.LineString(outer) if len(outer) > 1 else shapely.Point(outer[0])
        grown = base.buffer(0.5, cap_style="square", join_style="mitre")
    else:
        polygon = shapely.Polygon(outer, [h for h in holes if len(h) >= 3])
        polygon = shapely.make_valid(polygon)
        grown = polygon.buffer(0.5, join_style="mitre", mitre_limit=2.0)
    return shapely.affinity.translate(grown, 0.5, 0.5)


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
            has_alpha = "A" in image.getbands() or "transparency" in image.info
            if has_alpha:
                rgba = np.asarray(image.convert("RGBA"))
                mask = rgba[:, :, 3] > 127
                rgb = rgba[:, :, :3]
            else:
                rgb = np.asarray(image.convert("RGB"))
                mask = rgb.any(axis=2)
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidAnnotationError(f"mask PNG cannot be decoded: {exc}", where="") from None
    color = None
    flat = np.flatnonzero(mask)
    if flat.size:
        r, c = divmod(int(flat[0]), mask.shape[1])
        color = tuple(int(v) for v in rgb[r, c])
    return mask, color


def encode_png_mask(mask: np.ndarray, color: tuple[int, int, int] | None) -> str:
    """Encode as the SDK does: an RGBA PNG, RGB = label colour, alpha 255 inside the mask, 0 outside."""
    import cv2

    r, g, b = color if color is not None else (255, 255, 255)
    mask = np.asarray(mask, dtype=bool)
    bgra = np.zeros((*mask.shape, 4), dtype=np.uint8)
    bgra[mask] = (b, g, r, 255)
    ok, buffer = cv2.imencode(".png", bgra)
    if not ok:  # pragma: no cover - OpenCV only fails on empty images
        raise InvalidAnnotationError("cannot encode mask as PNG", where="")
    return "data:image/png;base64," + base64.b64encode(buffer.tobytes()).decode("ascii")
