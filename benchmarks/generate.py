"""Seeded COCO-train2017-shaped data for the benchmarks, as COCO JSON and as a Dataloop export.

Shape (the figures of COCO train2017): image sizes drawn from COCO's common ones; ~7.3
instances per image (some images empty); 80 categories with COCO's non-contiguous ids (1…90);
polygon segmentations with 1–3 parts of 8–60 vertices; ~1% crowd instances as uncompressed RLE.

    python benchmarks/generate.py --images 5000 --out bench-data/5k

writes ``coco.json`` and ``dataloop/json/…`` (the same annotations, one item file each).
``--placeholders`` adds ``images/``: for tools that open every image (supervision), a hard link per
COCO image to one solid-grey JPEG of its size (so decoding is cheaper than on real photos).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import numpy as np
import orjson

COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]
SIZES = [(640, 480), (640, 427), (480, 640), (640, 426), (500, 375), (640, 424), (427, 640), (640, 512)]
MEAN_INSTANCES = 7.3
EMPTY_FRACTION = 0.009
CROWD_FRACTION = 0.01


def _polygon(rng: np.random.Generator, cx: float, cy: float, radius: float, vertices: int) -> np.ndarray:
    angles = np.sort(rng.uniform(0, 2 * math.pi, vertices))
    radii = radius * rng.uniform(0.55, 1.0, vertices)
    return np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)


def _uncompressed_rle(mask: np.ndarray) -> list[int]:
    flat = mask.reshape(-1, order="F").astype(np.uint8)
    change = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.concatenate([[0], change, [flat.size]])).tolist()
    return [0, *runs] if flat[0] else runs


def generate(n_images: int, seed: int = 0) -> dict:
    """A COCO instances document with ``n_images`` images."""
    rng = np.random.default_rng(seed)
    categories = [{"id": cid, "name": f"class_{cid:02d}", "supercategory": f"group_{cid // 10}"} for cid in COCO_IDS]
    images, annotations = [], []
    next_id = 1
    for index in range(n_images):
        width, height = SIZES[int(rng.integers(len(SIZES)))]
        image_id = 100000 + index
        images.append({"id": image_id, "file_name": f"{image_id:012d}.jpg", "width": width, "height": height,
                       "license": 1})
        if rng.random() < EMPTY_FRACTION:
            continue
        for _ in range(max(1, int(rng.poisson(MEAN_INSTANCES)))):
            category = COCO_IDS[int(rng.integers(len(COCO_IDS)))]
            radius = float(rng.uniform(8, min(width, height) / 4))
            cx = float(rng.uniform(radius, width - radius))
            cy = float(rng.uniform(radius, height - radius))
            record = {"id": next_id, "image_id": image_id, "category_id": category, "iscrowd": 0}
            next_id += 1
            if rng.random() < CROWD_FRACTION:
                yy, xx = np.mgrid[0:height, 0:width]
                mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= radius ** 2
                record["segmentation"] = {"size": [height, width], "counts": _uncompressed_rle(mask)}
                record["iscrowd"] = 1
                rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
                x0, y0 = float(cols[0]), float(rows[0])
                record["bbox"] = [x0, y0, float(cols[-1] + 1) - x0, float(rows[-1] + 1) - y0]
                record["area"] = float(mask.sum())
            else:
                # 1–3 disjoint parts (an occluded object seen in pieces): the main one, then smaller
                # ones beside it, each outside the others' reach.
                parts = []
                count = int(rng.integers(1, 4))
                part_radius = radius / count
                for part in range(count):
                    px = cx - radius + part_radius * (2 * part + 1)
                    ring = _polygon(rng, px, cy, part_radius * 0.95, int(rng.integers(8, 61)))
                    parts.append(np.round(np.clip(ring, 0, [width, height]), 2))
                points = np.concatenate(parts)
                x0, y0 = points.min(0)
                x1, y1 = points.max(0)
                record["segmentation"] = [p.reshape(-1).tolist() for p in parts]
                record["bbox"] = [round(float(x0), 2), round(float(y0), 2), round(float(x1 - x0), 2),
                                  round(float(y1 - y0), 2)]
                record["area"] = round(float(sum(_shoelace(p) for p in parts)), 2)
            annotations.append(record)
    return {"info": {"description": "dlconvert benchmark data"}, "licenses": [{"id": 1, "name": "synthetic"}],
            "images": images, "annotations": annotations, "categories": categories}


def _shoelace(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2.0


def write_placeholders(out: Path) -> int:
    """Write ``out/images/<file_name>`` for every image of ``out/coco.json``; returns how many."""
    import cv2

    images = orjson.loads((out / "coco.json").read_bytes())["images"]
    sources, folder = out / ".placeholders", out / "images"
    sources.mkdir(exist_ok=True)
    folder.mkdir(exist_ok=True)
    for image in images:
        source = sources / f"{image['width']}x{image['height']}.jpg"
        if not source.exists():
            cv2.imwrite(str(source), np.full((image["height"], image["width"], 3), 128, np.uint8))
        target = folder / image["file_name"]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(source, target)
    return len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-dataloop", action="store_true", help="Write only coco.json.")
    parser.add_argument("--placeholders", action="store_true",
                        help="Only add images/ (placeholder JPEGs) beside an existing coco.json.")
    args = parser.parse_args()
    if args.placeholders:
        print(f"{write_placeholders(args.out)} placeholder images → {args.out / 'images'}")
        return
    args.out.mkdir(parents=True, exist_ok=True)
    document = generate(args.images, args.seed)
    (args.out / "coco.json").write_bytes(orjson.dumps(document))
    if not args.no_dataloop:
        from dlconvert.converter import Converter

        Converter().run(args.out / "coco.json", "coco", args.out / "dataloop", "dataloop", overwrite=True)
    print(f"{len(document['images'])} images, {len(document['annotations'])} annotations → {args.out}")


if __name__ == "__main__":
    main()
