"""LabelMe files for tests, written the way LabelMe 5.x saves them (``LabelFile.save``): one JSON per
image, ``imagePath`` relative to the JSON file, masks as base64 PNGs of 0/1 bytes (LabelMe's
``img_arr_to_b64(mask.astype(np.uint8))``), 2-space indented UTF-8 JSON.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["image_file", "labelme_mask", "reported", "rich_folder", "shape", "write_labelme"]


def shape(label: str, shape_type: str, points: list, *, group_id=None, description: str = "", flags=None,
          mask=None, **other) -> dict:
    """A shape as LabelMe 5.3+ saves it (its other_data first)."""
    out = dict(other)
    out.update(label=label, points=[[float(x), float(y)] for x, y in points], group_id=group_id,
               description=description, shape_type=shape_type, flags=dict(flags or {}), mask=mask)
    return out


def reported(report) -> list:
    """The report's issues but the warning that an item's image was found nowhere (items made in memory have
    none: each LabelMe file written for them says so, ``labelme.image-not-found``)."""
    return [i for i in report.issues if not (i.kind == "warning" and i.code == "labelme.image-not-found")]


def labelme_mask(window: np.ndarray) -> str:
    """A mask window as LabelMe stores it: a PNG of 0/1 bytes, base64."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(window, dtype=np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def image_file(path: Path, width: int, height: int, color=(40, 90, 160)) -> Path:
    """A small image file (its format from the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), color).save(path)
    return path


def write_labelme(path: Path, shapes: list, *, image_path: str | None = None, width: int | None = 64,
                  height: int | None = 48, flags=None, image_data=None, version: str = "5.3.1", **other) -> Path:
    """Write a LabelMe JSON file (``imagePath`` defaults to ``<stem>.jpg`` beside it)."""
    document = {"version": version, "flags": dict(flags or {}), "shapes": shapes,
                "imagePath": image_path if image_path is not None else path.with_suffix(".jpg").name,
                "imageData": image_data, "imageHeight": height, "imageWidth": width, **other}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def rich_folder(root: Path) -> Path:
    """A LabelMe folder holding every shape type, flags, group ids, attributes, and the images beside."""
    window = np.zeros((5, 7), dtype=bool)
    window[1:4, 2:6] = True
    window[0, 0] = True
    shapes = [
        shape("car", "rectangle", [[40, 30], [10, 5]], group_id=1, flags={"occluded": True},
              attributes={"color": "red", "doors": 4}),
        shape("car", "polygon", [[12, 6], [38, 7], [36, 28], [11, 27]], group_id=1, description="its outline"),
        shape("sign", "oriented_rectangle", [[20, 10], [30, 20], [25, 25], [15, 15]]),
        shape("wheel", "circle", [[20.5, 30.5], [23.5, 34.5]], group_id=-3),
        shape("lane", "line", [[0, 40], [63, 38]]),
        shape("lane", "linestrip", [[0, 47], [30, 44], [63, 46]]),
        shape("lamp", "point", [[50, 8]]),
        shape("puddle", "mask", [[30, 20], [36, 24]], mask=labelme_mask(window)),
    ]
    write_labelme(root / "street" / "a.json", shapes, flags={"night": False, "rain": True},
                  difficult_image=True)
    image_file(root / "street" / "a.jpg", 64, 48)
    write_labelme(root / "street" / "b.json", [shape("person", "points", [[5, 5], [9, 12]])], width=32, height=24)
    image_file(root / "street" / "b.jpg", 32, 24)
    return root
