"""The raw floor: what a COCO conversion costs with nothing but a fast parser and string formatting.

    python benchmarks/floor.py det|seg|voc coco.json OUT

Parses with orjson (cyclic GC off), groups annotations by image, and writes YOLO detect / segment
lines or VOC XML from templates — no validation, no report, no model. dlconvert must not be
slower than this on the same job (it has two cores to this script's one).
"""

from __future__ import annotations

import gc
import os
import sys
from collections import defaultdict

import orjson

VOC = ("<annotation><filename>{name}</filename><size><width>{w}</width><height>{h}</height><depth>3</depth>"
       "</size>{objects}</annotation>\n")
OBJECT = ("<object><name>{label}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin><xmax>{x1}</xmax>"
          "<ymax>{y1}</ymax></bndbox></object>")


def main() -> None:
    job, src, out = sys.argv[1:4]
    gc.disable()
    with open(src, "rb") as handle:
        data = orjson.loads(handle.read())
    categories = sorted(c["id"] for c in data["categories"])
    index = {cid: i for i, cid in enumerate(categories)}
    names = {c["id"]: c["name"] for c in data["categories"]}
    by_image = defaultdict(list)
    for record in data["annotations"]:
        by_image[record["image_id"]].append(record)
    os.makedirs(out, exist_ok=True)
    for image in data["images"]:
        w, h = image["width"], image["height"]
        stem = os.path.splitext(image["file_name"])[0]
        records = [r for r in by_image.get(image["id"], ()) if not r.get("iscrowd")]
        if job == "voc":
            objects = "".join(OBJECT.format(label=names[r["category_id"]], x0=r["bbox"][0], y0=r["bbox"][1],
                                            x1=r["bbox"][0] + r["bbox"][2], y1=r["bbox"][1] + r["bbox"][3])
                              for r in records)
            text = VOC.format(name=image["file_name"], w=w, h=h, objects=objects)
            path = os.path.join(out, stem + ".xml")
        else:
            lines = []
            for r in records:
                if job == "det":
                    x, y, bw, bh = r["bbox"]
                    lines.append(f"{index[r['category_id']]} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} "
                                 f"{bw / w:.6f} {bh / h:.6f}\n")
                else:
                    coords = [c for part in r["segmentation"] for c in part]
                    values = " ".join(f"{v / (w if i % 2 == 0 else h):.6f}" for i, v in enumerate(coords))
                    lines.append(f"{index[r['category_id']]} {values}\n")
            text = "".join(lines)
            path = os.path.join(out, stem + ".txt")
        with open(path, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
