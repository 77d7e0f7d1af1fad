"""``image_sizes.json``: the size of every image a YOLO output names, so that its labels read back
without the images.

YOLO coordinates are divided by the image's width and height, so a label file alone cannot be
turned back into pixels. Ultralytics takes sizes from the images (and caches them in its own
``labels/*.cache``); an output written without its images (``images_mode`` "none", the default)
would lose them. The writer therefore saves, beside ``data.yaml``, each item's image path where
``data.yaml`` says it belongs (relative to the dataset root) with its stored size and, when not 1,
its EXIF orientation; ``null`` when the size is unknown (an image without objects)::

    {"format": "dlconvert-yolo-image-sizes", "version": 1,
     "images": {"images/train/street/a.png": [1280, 720], "images/train/b.jpg": [4000, 3000, 6],
                "images/train/empty.png": null}}

The reader takes the size from the image when it is there and from this file otherwise; the
file also gives back the image's name (its extension), which the label file's name does not
hold. Ultralytics and other tools ignore the file.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from ..._json import dumps, read_json_file
from ...errors import FormatError, json_pointer

IMAGE_SIZES = "image_sizes.json"
_KIND = "dlconvert-yolo-image-sizes"

#: ``(stored width, stored height, EXIF orientation)``, or None when unknown.
Size = tuple[int, int, int] | None


def encode(entries: list[tuple[str, Size]]) -> bytes:
    """The file's bytes for ``(image path under the dataset root, size)`` pairs, in the order given."""
    images = {path: None if size is None else (list(size[:2]) if size[2] == 1 else list(size))
              for path, size in entries}
    return dumps({"format": _KIND, "version": 1, "images": images}, indent=False) + b"\n"


def load(root: Path) -> dict[str, tuple[str, Size]]:
    """``{image path without its extension: (image path, size)}`` from ``root/image_sizes.json`` ({} if absent)."""
    path = root / IMAGE_SIZES
    if not path.is_file():
        return {}
    data = read_json_file(path)
    if not isinstance(data, dict) or data.get("format") != _KIND or not isinstance(data.get("images"), dict):
        raise FormatError(f"not a dlconvert image size list (expected format {_KIND!r} and an 'images' object)",
                          path=path)
    out: dict[str, tuple[str, Size]] = {}
    for image, value in data["images"].items():
        out[posixpath.splitext(image)[0]] = (image, _size(value, path, image))
    return out


def _size(value: Any, path: Path, image: str) -> Size:
    if value is None:
        return None
    if (isinstance(value, list) and len(value) in (2, 3)
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value)
            and (len(value) == 2 or value[2] <= 8)):
        return (value[0], value[1], value[2] if len(value) == 3 else 1)
    raise FormatError(f"expected [width, height] or [width, height, EXIF orientation 1…8] or null, got {value!r}",
                      path=path, where=json_pointer("images", image))
