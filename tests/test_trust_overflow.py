"""Coordinates near the top of the float range (1e308) are refused or reported cleanly: a polygon whose area
overflows the shoelace (inf − inf is NaN) is judged by its real shape, not taken to have area; a COCO ``bbox``
whose right or bottom edge overflows is no declared box to write. No numpy warning, no inf in any output.
"""

from __future__ import annotations

import json
import math
import warnings

import pytest
import shapely

import dlconvert
from dlconvert import Converter, ConvertOptions
from dlconvert.formats.coco.columns import read_table
from dlconvert.geometry import Polygon
from dlconvert.report import OnError

BIG = 1e308


@pytest.mark.parametrize(("ring", "says"), [
    ([[-BIG, -BIG], [BIG, BIG], [BIG, BIG]], "fewer than 3 distinct points"),
    ([[-BIG, -BIG], [0, 0], [BIG, BIG]], "no area"),
    ([[-BIG, 0.0], [BIG, 0.0], [BIG, 1.0]], None),
    ([[0.0, 0.0], [BIG, 0.0], [BIG, BIG]], None),
])
def test_a_polygon_whose_area_overflows_is_judged_by_its_shape(ring, says):
    scaled = shapely.Polygon([[x / BIG, y / BIG] for x, y in ring])  # the same shape, in range
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problems = Polygon(geo=ring).problems()
    assert (scaled.area > 0) == (says is None)
    assert problems == [] if says is None else (len(problems) == 1 and says in problems[0])


def _coco(path, bbox, segmentation=None) -> None:
    record = {"id": 1, "image_id": 1, "category_id": 1, "bbox": bbox, "area": 1.0, "iscrowd": 0}
    if segmentation is not None:
        record["segmentation"] = segmentation
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}], "annotations": [record],
                "categories": [{"id": 1, "name": "cat"}]}
    path.write_text(json.dumps(document), encoding="utf-8")


def test_a_coco_bbox_that_overflows_declares_no_box(tmp_path):
    from dlconvert.formats.coco import source_bbox

    _coco(tmp_path / "c.json", [BIG, 10, BIG, 20], [[10, 10, 40, 10, 40, 30]])
    [item] = list(dlconvert.read(tmp_path / "c.json", format="coco"))
    assert source_bbox(item[0]) is None
    _coco(tmp_path / "d.json", [10, 10, 30, 20], [[10, 10, 40, 10, 40, 30]])
    [item] = list(dlconvert.read(tmp_path / "d.json", format="coco"))
    assert source_bbox(item[0]) == (10, 10, 40, 30)


@pytest.mark.parametrize(("fmt", "options"), [("voc", {}), ("yolo", {"yolo_task": "detect"}),
                                              ("yolo", {"yolo_task": "segment"}), ("dataloop", {})])
def test_writers_given_an_overflowing_bbox_write_finite_numbers_without_warnings(tmp_path, fmt, options):
    _coco(tmp_path / "c.json", [BIG, 10, BIG, 20], [[10, 10, 40, 10, 40, 30]])
    dataset = dlconvert.read(tmp_path / "c.json", format="coco")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = dlconvert.write(dataset, tmp_path / "out", fmt, on_error=OnError.SKIP, **options)
    assert not report.unbalanced() and sum(report.annotations_out.values()) == 1
    for path in (tmp_path / "out").rglob("*"):
        if path.suffix in (".txt", ".xml", ".json"):
            text = path.read_text(encoding="utf-8")
            assert not any(word in text.split() or f">{word}<" in text or f": {word}" in text
                           for word in ("inf", "Infinity", "NaN", "nan")), path
            numbers = [float(v) for v in text.split()] if path.suffix == ".txt" and "labels" in path.parts else []
            assert all(math.isfinite(v) for v in numbers)


@pytest.mark.parametrize("target", ["voc", "yolo", "dataloop"])
def test_a_bbox_whose_right_edge_overflows_is_the_object_readers_to_report_on_the_table_path_too(target, tmp_path):
    """The columnar reader leaves such a file to the object reader, which skips the record and says why."""

    src = tmp_path / "coco.json"
    src.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
                               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1e308, 1, 1e308, 2],
                                                "area": 1, "iscrowd": 0}],
                               "categories": [{"id": 1, "name": "x"}]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_table(src, ConvertOptions()) is None
        report = Converter(on_error="skip").run(src, "coco", tmp_path / "out", target)
    assert [issue.code for issue in report.issues] == ["coco.invalid-record"]
