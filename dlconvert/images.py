"""Image files: sizes and EXIF orientation from headers only, and finding an item's image.

Formats that store normalised or size-less coordinates (YOLO, VOC without ``<size>``) need each
image's size; decoding pixels for that would dominate a conversion, so only headers are read.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from .errors import FormatError

__all__ = ["IMAGE_EXTENSIONS", "ImageInfo", "find_image", "image_info"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


class ImageInfo(tuple):
    """``(width, height, orientation)``: the stored size and the EXIF orientation (1 when absent)."""

    __slots__ = ()

    def __new__(cls, width: int, height: int, orientation: int = 1):
        return super().__new__(cls, (width, height, orientation))

    width = property(lambda self: self[0])
    height = property(lambda self: self[1])
    orientation = property(lambda self: self[2])

    @property
    def display_size(self) -> tuple[int, int]:
        """``(width, height)`` as shown: orientations 5–8 turn the picture by 90°."""
        return (self[1], self[0]) if self[2] in (5, 6, 7, 8) else (self[0], self[1])


@functools.lru_cache(maxsize=65536)
def _cached_info(path: str, mtime_ns: int) -> ImageInfo:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:  # lazy: reads the header, not the pixels
            width, height = image.size
            orientation = 1
            try:
                orientation = int(image.getexif().get(0x0112, 1) or 1)
            except Exception:  # a broken EXIF block is no reason to refuse the image
                orientation = 1
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise FormatError(f"cannot read the image header: {exc}", path=path) from None
    return ImageInfo(width, height, orientation if 1 <= orientation <= 8 else 1)


def image_info(path: str | os.PathLike[str]) -> ImageInfo:
    """Size and orientation of an image file (header only, cached per file version)."""
    path = os.fspath(path)
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise FormatError(f"cannot open the image: {exc.strerror}", path=path) from None
    return _cached_info(path, stat.st_mtime_ns)


def find_image(root: str | os.PathLike[str] | None, relative: str) -> Path | None:
    """The image ``relative`` (a remote path like ``/sub/a.jpg``) under ``root``, if it exists there.

    Also tries the same stem with any image extension (labels often name ``a.txt`` for ``a.jpg``).
    """
    if root is None:
        return None
    from ._io import safe_join
    from .errors import OutputError

    try:
        candidate = safe_join(root, relative)
    except OutputError:
        return None
    if candidate.is_file():
        return candidate
    if candidate.parent.is_dir():
        for extension in IMAGE_EXTENSIONS:
            for variant in (extension, extension.upper()):
                other = candidate.with_suffix(variant)
                if other.is_file():
                    return other
    return None
