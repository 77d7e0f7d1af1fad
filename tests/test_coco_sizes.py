"""COCO never writes a number it does not have: an image record needs integer width and height (the item's,
else its image file's header), and a record's bbox and area must be finite.

Oracles: pycocotools' ``COCO`` and ``annToMask`` on the written file, and the report's balance.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from PIL import Image
from pycocotools.coco import COCO
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, Ellipse, Point, Polygon, Pose
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.labels import LabelInfo, LabelMap, PoseTemplate, stable_color
from dlconvert.report import ConversionReport

LABELBOX_COCO = "labelbox/labelbox/exporters/coco-exporter/test_JSON.json"
NO_SIZE = "the image's size is unknown: not in the source and the image was not found (pass --images)"


def write(items, folder: Path, on_error="skip", labels=None, **options):
    report = ConversionReport(source_format="dataloop", target_format="coco", on_error=on_error)
    for collection in items:
        report.read_item(collection)
    get_format("coco").write(Dataset(list(items), labels=labels), folder, ConvertOptions(**options), report)
    return json.loads((folder / "coco.json").read_text()), report


def sizeless(filename="/a.png") -> AnnotationCollection:
    collection = AnnotationCollection(filename=filename, mimetype="image/png")
    collection.add(Polygon(geo=[[1.0, 1.0], [8.0, 1.0], [8.0, 6.0]], label="car"))
    return collection


# ==== 1: an item of unknown size is not written with null sizes ===================================
def test_an_item_of_unknown_size_is_skipped_and_reported_not_written_null(tmp_path):
    sized = AnnotationCollection(filename="/b.png", width=10, height=8, mimetype="image/png")
    sized.add(Box(left=1, top=1, right=5, bottom=5, label="car"))
    empty = AnnotationCollection(filename="/c.png", mimetype="image/png")
    coco, report = write([sizeless(), sized, empty], tmp_path)
    assert [(i["file_name"], i["width"], i["height"]) for i in coco["images"]] == [("b.png", 10, 8)]
    assert len(coco["annotations"]) == 1
    assert not report.unbalanced() and report.items_out == 1
    skipped = [(i.code, i.item, i.annotation_type) for i in report.issues]
    assert skipped == [("coco.no-image-size", "/a.png", "segment"), ("coco.no-image-size", "/c.png", None)]
    assert all(NO_SIZE in i.message for i in report.issues)


def test_an_item_of_unknown_size_fails_the_conversion_under_on_error_fail(tmp_path):
    with pytest.raises(FormatError, match=r"item '/a\.png'.*image's size is unknown"):
        write([sizeless()], tmp_path, on_error="fail")


def test_the_size_comes_from_the_image_header_when_the_image_is_found(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    Image.new("RGB", (12, 9)).save(images / "a.png")
    coco, report = write([sizeless()], tmp_path / "out", images=images)
    assert [(i["width"], i["height"]) for i in coco["images"]] == [(12, 9)]
    assert report.issues == [] and len(coco["annotations"]) == 1
    paired = sizeless()
    paired.image_path = str(images / "a.png")  # the image a reader paired with the item
    coco, _ = write([paired], tmp_path / "paired")
    assert [(i["width"], i["height"]) for i in coco["images"]] == [(12, 9)]


@requires_real_files
def test_labelbox_without_sizes_to_coco_is_refused_then_skipped_and_verify_agrees(cli_runner, tmp_path):
    source = real_file(LABELBOX_COCO)
    refused = cli_runner.invoke(main, ["convert", str(source), str(tmp_path / "out"), "--to", "coco"])
    assert refused.exit_code != 0
    [line] = [x for x in refused.stderr.splitlines() if x.strip()]
    assert "item '/2007_007698.jpg'" in line and NO_SIZE in line
    skipped = cli_runner.invoke(main, ["convert", str(source), str(tmp_path / "skip"), "--to", "coco",
                                       "--on-error", "skip"])
    assert skipped.exit_code == 0, skipped.output
    assert "52 read, 0 written, 52 skipped" in skipped.output and "52 skipped coco.no-image-size" in skipped.output
    written = json.loads((tmp_path / "skip" / "coco.json").read_text())
    assert written["images"] == [] and written["annotations"] == []
    verified = cli_runner.invoke(main, ["verify", str(source), "--from", "labelbox", "--via", "coco"])
    assert verified.exit_code == 0, verified.output
    assert "not representable in the target: 52" in verified.output and "differences: 0" in verified.output


@requires_real_files
def test_with_its_images_a_sizeless_source_gives_a_file_pycocotools_masks(tmp_path):
    source = json.loads(real_file(LABELBOX_COCO).read_text())
    images = tmp_path / "images"
    images.mkdir()
    for row in source:
        Image.new("RGB", (50, 40)).save(images / f"{row['External ID']}.jpg")
    report = Converter(on_error="fail", options=ConvertOptions(images=images)).run(
        real_file(LABELBOX_COCO), "labelbox", tmp_path / "out", "coco")
    coco = COCO(str(tmp_path / "out" / "coco.json"))
    assert len(coco.dataset["images"]) == 27 and len(coco.dataset["annotations"]) == 52
    assert {(i["width"], i["height"]) for i in coco.dataset["images"]} == {(50, 40)}
    for annotation in coco.dataset["annotations"]:
        assert coco.annToMask(annotation).shape == (40, 50)
    assert not [i for i in report.issues if "size" in i.code]


# ==== 2: a bbox or area that overflows a float is never written ==================================
HUGE = {
    "polygon": Polygon(geo=[[0.0, 0.0], [1e308, 0.0], [1e308, 1e308]], label="car"),
    "polygon across the range": Polygon(geo=[[-1e308, 0.0], [1e308, 0.0], [1e308, 1.0]], label="car"),
    "box": Box(left=-1e308, top=0, right=1e308, bottom=10, label="car"),
    "box of huge area": Box(left=0, top=0, right=1e308, bottom=1e308, label="car"),
    "rotated box": Box(left=0, top=0, right=1e308, bottom=1e308, angle=30, label="car"),
    "ellipse": Ellipse(x=0, y=0, rx=1e308, ry=1e308, label="car"),
}


@pytest.mark.parametrize("name", sorted(HUGE))
def test_a_shape_whose_size_overflows_is_skipped_with_the_reason_and_no_warning(tmp_path, name):
    collection = AnnotationCollection(filename="/a.png", width=40, height=30, mimetype="image/png")
    collection.add(HUGE[name])
    collection.add(Box(left=1, top=1, right=5, bottom=5, label="car"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning leaks
        coco, report = write([collection], tmp_path)
    assert len(coco["annotations"]) == 1 and coco["annotations"][0]["bbox"] == [1, 1, 4, 4]
    [issue] = report.issues
    assert (issue.kind, issue.code) == ("skipped", "coco.degenerate-shape")
    assert "overflows" in issue.message
    assert not report.unbalanced()


def test_a_lone_pose_whose_box_overflows_is_skipped_with_its_keypoints(tmp_path):
    template = PoseTemplate("t", "person", ["a", "b"])
    labels = LabelMap([LabelInfo("person", 1, stable_color("person"))], [template])
    collection = AnnotationCollection(filename="/a.png", width=40, height=30, mimetype="image/png")
    pose = collection.add(Pose(label="person", template_id="t"))
    pose.id = "p"
    for name, x in (("a", -1e308), ("b", 1e308)):
        point = collection.add(Point(x=x, y=1, label=name, attributes={"visibility": "visible"}), parent_id="p")
        point.id = name
    coco, report = write([collection], tmp_path, labels=labels)
    assert coco["annotations"] == []
    assert {(i.annotation_id, i.code) for i in report.issues} == {(a, "coco.degenerate-shape") for a in "pab"}
    assert not report.unbalanced()


def test_the_shoelace_of_huge_coordinates_is_not_finite_and_silent():
    import numpy as np

    from dlconvert.geometry.polygon import signed_area

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not np.isfinite(signed_area(np.array([[0.0, 0.0], [1e308, 0.0], [1e308, 1e308]])))
