"""A box turned by a multiple of 90° has sides parallel to the axes: a format without rotated boxes writes it as
the upright box of the same region, exactly, and that is no approximation. What ``convert`` calls approximated
is what ``verify`` finds changed, for every writer, at 0, 90, 180, 270, 360, -90, 450, -180 and 720 degrees (and
an oblique box, which is approximated where the format has no angle). Angles are compared modulo the turn that
gives the shape back (180° for boxes and ellipses).

Oracles: pycocotools on the COCO written; shapely for the regions.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from dlconvert import Converter
from dlconvert.compare import Tolerance, geometry_change
from dlconvert.geometry import Box, Ellipse
from dlconvert.verify import verify

RIGHT_ANGLES = [0, 90, 180, 270, 360, -90, 450, -180, 720]
OBLIQUE = 30


def _source(folder: Path, angles: list[float]) -> Path:
    annotations = [{"id": f"a{i}", "type": "box", "label": "car", "attributes": [], "metadata": {"system": {}},
                    "coordinates": [{"x": 100, "y": 200, "z": 0}, {"x": 300, "y": 260, "z": 0}, angle]}
                   for i, angle in enumerate(angles)]
    item = {"id": "i1", "filename": "/a.jpg", "name": "a.jpg", "dir": "/", "type": "file",
            "metadata": {"system": {"mimetype": "image/jpeg", "width": 640, "height": 480}},
            "annotations": annotations}
    (folder / "json").mkdir(parents=True)
    (folder / "json" / "a.json").write_text(json.dumps(item), encoding="utf-8")
    return folder


@pytest.mark.parametrize("angle", RIGHT_ANGLES)
def test_a_right_angle_turn_has_exact_corners_and_an_upright_twin(angle):
    box = Box(left=100, top=200, right=300, bottom=260, angle=angle)
    upright = box.upright()
    turned = shapely.Polygon(box.corners())
    assert upright is not None and not upright.is_rotated
    assert shapely.Polygon(upright.corners()).symmetric_difference(turned).area == 0
    expected = (100, 200, 300, 260) if angle % 180 == 0 else (170, 130, 230, 330)  # width and height swap
    assert upright.bounds() == expected and box.bounds() == expected
    assert set(map(tuple, box.corners().tolist())) == set(map(tuple, upright.corners().tolist()))
    assert Box(left=0, top=0, right=1, bottom=1, angle=angle + 0.5).upright() is None


VIAS = [("coco", {}), ("voc", {}), ("cvat", {}), ("labelme", {}), ("labelstudio", {}), ("dataloop", {}),
        ("yolo", {"yolo_task": "detect"}), ("yolo", {"yolo_task": "obb"}), ("yolo", {"yolo_task": "segment"})]


@pytest.mark.parametrize(("via", "options"), VIAS, ids=[f"{v}-{o.get('yolo_task', '')}" for v, o in VIAS])
def test_verify_agrees_with_the_report_for_right_angles(tmp_path, via, options):
    from dlconvert.dataset import ConvertOptions

    src = _source(tmp_path / "src", [*RIGHT_ANGLES, OBLIQUE])
    result = verify(src, "dataloop", via, options=ConvertOptions(**options))
    assert result.differences == [], [str(d) for d in result.differences]
    approximated = {i.annotation_id for i in result.forward.issues if i.kind == "approximated"}
    if via == "yolo" and options["yolo_task"] == "segment":
        assert len(approximated) == len(RIGHT_ANGLES) + 1  # every box becomes a polygon
    elif via in ("coco", "voc", "labelme") or options.get("yolo_task") == "detect":
        assert approximated == {f"a{len(RIGHT_ANGLES)}"}  # the oblique box alone
    else:
        assert approximated == set()


def test_coco_writes_a_right_angle_box_as_its_upright_region(tmp_path):
    from pycocotools.coco import COCO

    src = _source(tmp_path / "src", RIGHT_ANGLES)
    report = Converter().run(src, "dataloop", tmp_path / "out", "coco")
    assert not report.approximated and not [i for i in report.issues if i.kind == "approximated"]
    coco = COCO(str(tmp_path / "out" / "coco.json"))
    boxes = [coco.anns[i]["bbox"] for i in sorted(coco.anns)]
    assert boxes == [[100, 200, 200, 60] if a % 180 == 0 else [170, 130, 60, 200] for a in RIGHT_ANGLES]
    for ann_id in coco.anns:  # the polygon covers exactly the box's pixels
        mask = coco.annToMask(coco.anns[ann_id])
        x, y, w, h = (int(v) for v in coco.anns[ann_id]["bbox"])
        assert mask.sum() == w * h and mask[y:y + h, x:x + w].all()


def test_angles_are_compared_by_the_turn_that_gives_the_shape_back():
    tolerance = Tolerance()
    small = Box(left=0, top=0, right=1, bottom=1)
    assert geometry_change(small, Box(left=0.005, top=0, right=1.005, bottom=1, angle=360), tolerance) is None
    assert geometry_change(Box(left=0, top=0, right=1, bottom=1, angle=30),
                           Box(left=0.005, top=0, right=1.005, bottom=1, angle=390), tolerance) is None
    assert geometry_change(Box(left=0, top=0, right=1, bottom=1, angle=30),
                           Box(left=0.005, top=0, right=1.005, bottom=1, angle=210), tolerance) is None
    assert geometry_change(Box(left=0, top=0, right=2, bottom=1, angle=30),
                           Box(left=0, top=0, right=2, bottom=1, angle=120), tolerance) is not None
    tiny = Ellipse(x=0, y=0, rx=1, ry=0.5, angle=0)
    assert geometry_change(tiny, Ellipse(x=0.005, y=0, rx=1, ry=0.5, angle=180), tolerance) is None
    assert geometry_change(tiny, Ellipse(x=0, y=0, rx=1, ry=0.5, angle=90), tolerance) is not None


def test_quarter_turns_keep_coordinates_on_the_grid():
    box = Box(left=1, top=2, right=4, bottom=3, angle=270)
    assert np.array_equal(box.corners(), np.array([[2, 4], [2, 1], [3, 1], [3, 4]], dtype=float))
