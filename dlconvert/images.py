"""Image files: sizes and EXIF orientation from headers only, and finding an item's image.

Formats that store normalised or size-less coordinates (YOLO, VOC without ``<size>``) need each
image's size; decoding pixels for that would dominate a conversion, so only headers are read.

An item's image is found the way the format's own tools find it (:class:`ImageLookup`, the one
lookup the renderer, the contact sheet and the notebook use); links are followed, names from the
data never leave the folder they are looked up in (:func:`find_image`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FormatError

__all__ = ["IMAGE_EXTENSIONS", "ImageInfo", "ImageLookup", "embedded_image_bytes", "find_image", "image_info"]

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
    """The file ``relative`` (a remote path like ``/sub/a.jpg``) under ``root``, if it exists there.

    ``relative`` comes from the data, so ``..``, absolute or drive names and NUL bytes are refused
    (the rules of output paths, :func:`~dlconvert._io.safe_join`). Symbolic links are followed: an
    image is only read, and dlconvert's own ``--images-mode link`` output is made of links. The
    target must be a regular file (not a folder, device or pipe). Also tries the same stem with any
    image extension (labels often name ``a.txt`` for ``a.jpg``).
    """
    if root is None:
        return None
    from ._io import safe_join
    from .errors import OutputError

    try:
        # Under "/" the lexical checks apply and no link target can be outside: the name is confined,
        # the links in it are followed.
        clean = safe_join("/", relative)
    except OutputError:
        return None
    candidate = Path(root).joinpath(*clean.parts[1:])
    if candidate.is_file():
        return candidate
    if clean.parts[1:] and candidate.parent.is_dir():
        for extension in IMAGE_EXTENSIONS:
            for variant in (extension, extension.upper()):
                other = candidate.with_suffix(variant)
                if other.is_file():
                    return other
    return None


@dataclass(frozen=True)
class ImageLookup:
    """Where an item's image is looked for, the way each format's own tools look, in this order:

    1. ``images``: the folder the user named (``--images``), with the item's ``filename`` under it;
    2. the image file the reader paired with the item (``collection.image_path``: YOLO's
       ``images/``↔``labels/`` pairing and data.yaml's split folders);
    3. each of ``roots``, the dataset's image folders (``Dataset.image_roots``: COCO the JSON's
       folder, ``images/``, ``../images/``; VOC ``JPEGImages/``; Dataloop the export's ``items/``),
       with the item's ``filename`` under each.

    In 1 and 3 the same stem with another image extension is accepted (:func:`find_image`).
    """

    images: Path | None = None
    roots: tuple[Path, ...] = ()

    @classmethod
    def for_source(cls, images: str | os.PathLike[str] | None, source: Any) -> ImageLookup:
        """The lookup of a :class:`~dlconvert.dataset.Dataset` or ``SourcePlan``, ``images`` first."""
        return cls.of(images, (*getattr(source, "image_roots", ()), getattr(source, "images_root", None)))

    @classmethod
    def of(cls, images: ImageLookup | str | os.PathLike[str] | None, roots: Iterable[Any] = ()) -> ImageLookup:
        """A lookup from a folder tried first (or a lookup, returned as it is) and further folders."""
        if isinstance(images, ImageLookup):
            return images
        first = Path(images) if images is not None else None
        unique: list[Path] = []
        for root in roots:
            if root is not None and Path(root) != first and Path(root) not in unique:
                unique.append(Path(root))
        return cls(first, tuple(unique))

    def find(self, collection: Any) -> Path | None:
        """The image file of ``collection`` (an :class:`~dlconvert.collection.AnnotationCollection`), or None."""
        name = collection.filename or collection.name or ""
        if self.images is not None and name:
            found = find_image(self.images, name)
            if found is not None:
                return found
        paired = getattr(collection, "image_path", None)
        if paired and Path(paired).is_file():
            return Path(paired)
        if name:
            for root in self.roots:
                found = find_image(root, name)
                if found is not None:
                    return found
        return None

    def has_image(self, collection: Any) -> bool:
        """Whether the item's image is there to draw on: a file found, or the image its annotation file carries."""
        return self.find(collection) is not None or bool(getattr(collection, "embedded_image", None))

    def describe(self) -> str:
        """Where images were looked for, for messages."""
        places = [f"--images {self.images}"] if self.images is not None else []
        places.append("the image each reader paired with its item")
        places.extend(str(root) for root in self.roots)
        return "; ".join(places)


def embedded_image_bytes(collection: Any) -> bytes | None:
    """The image an item's annotation file carries (``collection.embedded_image``, base64 text its reader checked),
    decoded; None when it carries none."""
    import base64

    text = getattr(collection, "embedded_image", None)
    return base64.b64decode("".join(text.split())) if text else None
