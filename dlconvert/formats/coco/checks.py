"""Checks of COCO image and annotation records before anything is built from them.

Each check answers why a record cannot be read, as ``(message, JSON pointer suffix)``, or None.
Every field COCO defines is checked for its type, the optional ones too (``iscrowd: "yes"`` or
``area: "12"`` is reported, not guessed), and both RLE forms must decode to exactly
height × width pixels: the compressed string is decoded here (pycocotools does not reliably
refuse a corrupt one) with a few array operations, so the ~1 % of crowd records stay cheap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...geometry.segmentation import MAX_MASK_PIXELS

__all__ = ["check_image", "check_record", "compressed_runs", "numbers", "record_type", "rle_problem"]

Problem = tuple[str, str]

_NUMBER_TYPES = frozenset({int, float})
_ID_TYPES = frozenset({int, str})
#: The longest number a compressed count may take: 7 characters of 5 bits hold any count of a mask
#: within MAX_MASK_PIXELS (and keep the arithmetic far from overflowing).
_MAX_COUNT_CHARACTERS = 7


def numbers(values: Any, count: int) -> bool:
    """``values`` is a list of ``count`` finite JSON numbers."""
    if not isinstance(values, list) or len(values) != count:
        return False
    if not values:
        return True
    if not _NUMBER_TYPES.issuperset(map(type, values)):  # bools, strings, None …
        return False
    # a finite sum means every value is finite; an overflowing sum of finite values is checked one by one
    return math.isfinite(sum(values)) or all(map(math.isfinite, values))


def _count(value: Any) -> bool:
    """A non-negative JSON integer (not a boolean)."""
    return type(value) is int and value >= 0


def check_image(image: Any, images: dict) -> Problem | None:
    """Why an image record cannot be read; None when it is fine."""
    if not isinstance(image, dict):
        return "an image must be an object", ""
    image_id = image.get("id")
    if type(image_id) not in _ID_TYPES:
        return "image 'id' must be an integer", "/id"
    if image_id in images:
        return f"image id {image_id} appears twice", "/id"
    if not isinstance(image.get("file_name"), str) or not image["file_name"]:
        return "image 'file_name' must be a non-empty string", "/file_name"
    for key in ("width", "height"):
        value = image.get(key)
        if value is not None and not (_count(value) and value > 0):
            return f"image {key!r} must be a positive integer", f"/{key}"
    return None


def record_type(record: Any) -> str:
    """The Dataloop type a record would have become (for counting records that failed)."""
    if not isinstance(record, dict):
        return "unknown"
    segmentation = record.get("segmentation")
    if isinstance(segmentation, dict):
        return "binary"
    if record.get("keypoints"):
        return "pose"
    if segmentation:
        return "segment"
    return "box" if record.get("bbox") is not None else "class"


def check_record(record: Any, images: dict, labels: dict) -> Problem | None:
    """Why an annotation record cannot be read; None when it is fine.

    Runs once per record of the file: the common fields are checked inline, the rarer ones
    (segmentation, keypoints) in their own functions.
    """
    if not isinstance(record, dict):
        return "an annotation must be an object", ""
    image_id = record.get("image_id")
    if type(image_id) not in _ID_TYPES or image_id not in images:
        return f"image_id {image_id!r} is not in 'images'", "/image_id"
    category_id = record.get("category_id")
    if type(category_id) not in _ID_TYPES or category_id not in labels:
        return f"category_id {category_id!r} is not in 'categories'", "/category_id"
    if "id" in record and type(record["id"]) not in _ID_TYPES:
        return "annotation 'id' must be an integer", "/id"
    iscrowd = record.get("iscrowd", 0)
    if type(iscrowd) is not int or not 0 <= iscrowd <= 1:
        return f"'iscrowd' must be 0 or 1, not {iscrowd!r}", "/iscrowd"
    area = record.get("area", 0)
    if type(area) not in _NUMBER_TYPES or not 0 <= area < math.inf:
        return f"'area' must be a non-negative number, not {area!r}", "/area"
    if "attributes" in record and not isinstance(record["attributes"], dict):
        return "'attributes' must be an object", "/attributes"
    bbox = record.get("bbox")
    if bbox is not None:
        if not numbers(bbox, 4):
            return "bbox must be 4 finite numbers [x, y, width, height]", "/bbox"
        if bbox[2] < 0 or bbox[3] < 0:
            return "bbox width and height must not be negative", "/bbox"
    segmentation = record.get("segmentation")
    if segmentation is not None:
        problem = _segmentation(segmentation, images[image_id])
        if problem is not None:
            return problem
    if "keypoints" in record or "num_keypoints" in record:
        return _keypoints(record)
    return None


def _segmentation(segmentation: Any, image: dict) -> Problem | None:
    if isinstance(segmentation, dict):
        return rle_problem(segmentation, image)
    if isinstance(segmentation, list):
        for i, ring in enumerate(segmentation):
            if not (isinstance(ring, list) and len(ring) % 2 == 0 and numbers(ring, len(ring))):
                return "a polygon must be a flat list of x, y numbers", f"/segmentation/{i}"
        return None
    return "segmentation must be a polygon list or an RLE object", "/segmentation"


def rle_problem(rle: dict, image: dict) -> Problem | None:
    """What is wrong with an RLE segmentation of ``image`` (message, JSON pointer), or None."""
    size, counts = rle.get("size"), rle.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(_count(v) for v in size)):
        return "RLE 'size' must be [height, width]", "/segmentation/size"
    if size[0] * size[1] > MAX_MASK_PIXELS:  # refused before anything is allocated
        return (f"RLE mask is {size[1]}×{size[0]} pixels, more than the limit of {MAX_MASK_PIXELS}",
                "/segmentation/size")
    height, width = image.get("height"), image.get("width")
    if height is not None and width is not None and size != [height, width]:
        return f"RLE 'size' {size} is not the image's [height, width] = [{height}, {width}]", "/segmentation/size"
    pixels = size[0] * size[1]
    if isinstance(counts, list):
        if counts and not (set(map(type, counts)) == {int} and min(counts) >= 0 and max(counts) < 2**32):
            return "RLE 'counts' must be non-negative 32-bit integers", "/segmentation/counts"
        total = sum(counts)
    elif isinstance(counts, str) and counts.isascii():
        runs = compressed_runs(counts)
        if isinstance(runs, str):
            return runs, "/segmentation/counts"
        total = int(runs.sum())
    else:
        return "RLE 'counts' must be a list or an ASCII string", "/segmentation/counts"
    if total != pixels:
        return f"RLE counts add up to {total}, not height×width = {pixels}", "/segmentation/counts"
    return None


def compressed_runs(counts: str) -> np.ndarray | str:
    """The run lengths of a compressed COCO RLE string, or why it is not one.

    The format (pycocotools' ``rleToString``): each count is a little-endian run of 5-bit groups,
    one character each (``'0'`` + group, bit 0x20 set while more groups follow, bit 0x10 of the
    last group the sign); from the third count on, each is stored as the difference to the count
    two before it.
    """
    codes = np.frombuffer(counts.encode("ascii"), dtype=np.uint8).astype(np.int64) - ord("0")
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    if codes.min() < 0 or codes.max() > 63:
        return "RLE 'counts' has a character outside COCO's alphabet ('0' to 'o')"
    more = (codes & 0x20) != 0
    if more[-1]:
        return "RLE 'counts' ends in the middle of a number"
    ends = np.flatnonzero(~more)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > _MAX_COUNT_CHARACTERS:
        return "RLE 'counts' holds a number longer than any run of a mask"
    shifts = 5 * (np.arange(codes.size) - np.repeat(starts, lengths))
    values = np.add.reduceat((codes & 0x1F) << shifts, starts)
    values -= ((codes[ends] & 0x10) != 0).astype(np.int64) << (5 * lengths)  # the sign of the last group
    runs = values.copy()
    runs[1::2] = np.cumsum(values[1::2])  # counts 3, 5, … are differences to counts 1, 3, …
    runs[2::2] = np.cumsum(values[2::2])  # counts 4, 6, … to counts 2, 4, …
    if runs.min() < 0:
        return "RLE 'counts' decodes to a negative run"
    return runs


def _keypoints(record: dict) -> Problem | None:
    keypoints = record.get("keypoints")
    if keypoints is not None:
        if not isinstance(keypoints, list) or len(keypoints) % 3 or not numbers(keypoints, len(keypoints)):
            return "keypoints must be a flat list of x, y, v triplets", "/keypoints"
        for index in range(2, len(keypoints), 3):
            if keypoints[index] not in (0, 1, 2):
                return f"keypoint visibility must be 0, 1 or 2, not {keypoints[index]!r}", f"/keypoints/{index}"
    if "num_keypoints" in record and not _count(record["num_keypoints"]):
        return f"'num_keypoints' must be a non-negative integer, not {record['num_keypoints']!r}", "/num_keypoints"
    return None
