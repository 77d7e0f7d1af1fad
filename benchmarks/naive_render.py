"""The render peers: semantic masks the obvious way, one PNG per COCO image.

    python benchmarks/naive_render.py cv2|pycocotools coco.json OUT

Pixel value = the category's index in id-sorted categories + 1 (0 = background), one channel.

* cv2 (``naive-cv2``, the render floor): orjson (cyclic GC off), annotations grouped by image,
  ``cv2.fillPoly`` of every polygon part (sub-pixel, ``shift=4``) in annotation order; crowd RLE
  decoded by ``pycocotools.mask`` (left out, with a note on stderr, if pycocotools is missing).
* pycocotools (``pycocotools``): the COCO API loop: ``COCO(path)``, then per image
  ``annToMask`` of each annotation, combined with ``np.maximum``; PNG via cv2.
"""

from __future__ import annotations

import gc
import os
import sys
from collections import defaultdict

import cv2
import numpy as np


def render_cv2(src: str, out: str) -> None:
    """orjson + cv2.fillPoly; crowd RLE through pycocotools when it is there."""
    import orjson

    try:
        from pycocotools import mask as rle
    except ImportError:  # crowd regions are then left unpainted
        rle = None
        sys.stderr.write("pycocotools missing: crowd (RLE) regions are not painted\n")
    gc.disable()
    with open(src, "rb") as handle:
        data = orjson.loads(handle.read())
    value = {cid: i + 1 for i, cid in enumerate(sorted(c["id"] for c in data["categories"]))}
    by_image = defaultdict(list)
    for record in data["annotations"]:
        by_image[record["image_id"]].append(record)
    for image in data["images"]:
        h, w = image["height"], image["width"]
        canvas = np.zeros((h, w), np.uint8)
        for record in by_image.get(image["id"], ()):
            segmentation = record["segmentation"]
            if isinstance(segmentation, list):
                parts = [(np.asarray(part).reshape(-1, 2) * 16).round().astype(np.int32) for part in segmentation]
                cv2.fillPoly(canvas, parts, value[record["category_id"]], shift=4)
            elif rle is not None:
                counts = rle.frPyObjects(segmentation, h, w) if isinstance(segmentation["counts"], list) \
                    else segmentation
                canvas[rle.decode(counts) > 0] = value[record["category_id"]]
        cv2.imwrite(os.path.join(out, os.path.splitext(image["file_name"])[0] + ".png"), canvas)


def render_pycocotools(src: str, out: str) -> None:
    """The COCO API: annToMask per annotation, np.maximum over the image's instances."""
    from pycocotools.coco import COCO

    coco = COCO(src)
    value = {cid: i + 1 for i, cid in enumerate(sorted(coco.getCatIds()))}
    for image_id in coco.getImgIds():
        image = coco.loadImgs(image_id)[0]
        canvas = np.zeros((image["height"], image["width"]), np.uint8)
        for annotation in coco.loadAnns(coco.getAnnIds(imgIds=image_id)):
            canvas = np.maximum(canvas, coco.annToMask(annotation) * np.uint8(value[annotation["category_id"]]))
        cv2.imwrite(os.path.join(out, os.path.splitext(image["file_name"])[0] + ".png"), canvas)


def main() -> None:
    method, src, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    {"cv2": render_cv2, "pycocotools": render_pycocotools}[method](src, out)


if __name__ == "__main__":
    main()
