"""Base64 images inside LabelMe files, read with bounds: ``imageData`` and the PNGs of mask shapes.

Both arrive as text in an untrusted file. Before a string is decoded, the size its image's header
declares is read from its first characters only, and an absurd size is refused: ``imageData`` over
Pillow's limit (about 179 million pixels, as for image files), a mask window larger than the
image or than :data:`~dlconvert.geometry.masks.MAX_MASK_PIXELS`, or a mask string far longer than
any PNG of its window. Only the formats LabelMe saves (and Qt opens) are accepted as ``imageData``.

Writing: masks as a 1-bit PNG of the mask's window, as LabelMe ≥ 5.3 does; ``imageData`` from an
image file as LabelMe's own ``load_image_file`` makes it (EXIF orientation applied, so the pixels
are those the coordinates refer to).
"""

from __future__ import annotations

import base64
import binascii
import io
import os
from pathlib import Path

import numpy as np

from ...errors import FormatError, InvalidAnnotationError
from ...geometry.masks import MAX_MASK_PIXELS, decode_png_mask, png_size, split_data_url

__all__ = ["decode_mask", "encode_mask", "file_image_data", "image_data_size", "validate_image_data"]

#: The image formats accepted in ``imageData`` (those LabelMe writes, and the common ones Qt opens).
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "GIF", "TIFF", "WEBP")
#: How much of a base64 ``imageData`` is decoded to find its header, step by step (a JPEG's size can sit
#: after a large EXIF block); each a multiple of 4 characters.
_HEAD_STEPS = (8_192, 262_144, 4_194_304)
_WHITESPACE = b" \t\r\n"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _decoded(text: str, where: str) -> bytes:
    """The bytes of base64 ``text`` (ASCII whitespace ignored, anything else not base64 refused)."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise InvalidAnnotationError(f"{where[1:]} is not base64 (it holds non-ASCII characters)",
                                     where=where) from None
    if any(c in raw for c in _WHITESPACE):
        raw = raw.translate(None, _WHITESPACE)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAnnotationError(f"{where[1:]} is not valid base64", where=where) from None


def _head(text: str, characters: int) -> str:
    """The first ``characters`` of base64 ``text``, whitespace left out, cut to whole 4-character groups."""
    chunk = "".join(text[: characters + characters // 8].split())[:characters]
    return chunk[: len(chunk) - len(chunk) % 4]


def image_data_size(text: str) -> tuple[int, int]:
    """``(width, height)`` the header of a base64 ``imageData`` declares, decoding only its head.

    Raises :class:`InvalidAnnotationError` (at ``/imageData``) for text that is not a base64 image of
    an accepted format, or whose header declares more pixels than Pillow opens.
    """
    from PIL import Image, UnidentifiedImageError

    last = None
    for step in _HEAD_STEPS:
        complete = len(text) <= step
        data = _decoded(text if complete else _head(text, step), "/imageData")
        try:
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
                return image.size
        except Image.DecompressionBombError as exc:
            raise InvalidAnnotationError(f"imageData declares an image too large to open: {exc}",
                                         where="/imageData") from None
        except UnidentifiedImageError:
            last = None  # Pillow's message names its in-memory buffer, nothing the user can find
        except (OSError, SyntaxError, ValueError) as exc:
            last = exc
        if complete:
            break
    why = f": {last}" if last is not None and "BytesIO" not in str(last) else ""
    raise InvalidAnnotationError(f"imageData is not a base64 image LabelMe saves ({', '.join(IMAGE_FORMATS)}){why}",
                                 where="/imageData")


def validate_image_data(text: str) -> None:
    """Check that the whole ``imageData`` is valid base64 (done only when it is kept to be written back)."""
    _decoded(text, "/imageData")


def decode_mask(text: str, max_size: tuple[int, int] | None) -> np.ndarray:
    """The bool ``(h, w)`` window of a mask shape, from its base64 PNG.

    ``max_size`` (the image's ``(height, width)``) bounds the window; the header is read and
    checked before the PNG is decoded. Raises :class:`InvalidAnnotationError` (at ``/mask``).
    """
    if not isinstance(text, str):
        raise InvalidAnnotationError("a mask shape needs its mask: a base64 PNG string", where="/mask")
    payload = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
    try:
        head = _decoded(_head(payload, 32), "/mask")
        if not head.startswith(_PNG_SIGNATURE):
            raise InvalidAnnotationError("the mask is not a base64 PNG", where="/mask")
        height, width = png_size(head)
        limit = MAX_MASK_PIXELS if max_size is None else min(MAX_MASK_PIXELS, max_size[0] * max_size[1])
        if height * width > limit or (max_size is not None and (height > max_size[0] or width > max_size[1])):
            raise InvalidAnnotationError(f"the mask PNG is {width}×{height} pixels, larger than the image",
                                         where="/mask")
        # No PNG of that window needs more than 8 bytes a pixel (16-bit RGBA, uncompressed) plus its chunks.
        if len(payload) > (height * width * 8 + 1_048_576) * 4 // 3 + 4:
            raise InvalidAnnotationError(f"the mask text ({len(payload)} characters) is far longer than a "
                                         f"{width}×{height} PNG", where="/mask")
        mask, _ = decode_png_mask(split_data_url(payload), max_pixels=limit)
    except InvalidAnnotationError as exc:
        raise InvalidAnnotationError(exc.message, where="/mask") from None
    return mask


def encode_mask(window: np.ndarray) -> str:
    """A bool window as LabelMe stores a mask: base64 of a 1-bit PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(window, dtype=bool)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def file_image_data(path: str | os.PathLike[str], orientation: int | None) -> str:
    """``imageData`` for an image file, as LabelMe makes it: a JPEG or PNG file's own bytes; any other
    format, or a picture its EXIF orientation turns, re-encoded as displayed (JPEG for .jpg/.jpeg, else PNG)."""
    from PIL import Image, ImageOps

    path = Path(path)
    jpeg = path.suffix.lower() in (".jpg", ".jpeg")
    try:
        if orientation in (None, 1) and (jpeg or path.suffix.lower() == ".png"):
            return base64.b64encode(path.read_bytes()).decode("ascii")
        with Image.open(path) as image:
            shown = ImageOps.exif_transpose(image)
            if shown.mode not in (("RGB", "L") if jpeg else ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16")):
                shown = shown.convert("RGB" if jpeg else "RGBA")
            buffer = io.BytesIO()
            shown.save(buffer, format="JPEG" if jpeg else "PNG")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise FormatError(f"cannot embed the image: {exc}", path=path) from None
    return base64.b64encode(buffer.getvalue()).decode("ascii")
