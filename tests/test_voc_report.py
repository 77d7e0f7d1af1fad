"""The VOC writer's report tells the truth (issue 13 §4–§6): every annotation that does not come back
from VOC as it went is listed, and nothing else — so ``convert`` and ``verify`` agree on it.

Oracles: ``dlconvert.verify`` (the round trip read back and compared annotation by annotation, with
its own measure of change), pycocotools for the COCO files written back, lxml for the XML, Pillow
for the PNGs, and numbers worked out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from PIL import Image
from pycocotools.coco import COCO as CocoApi
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, Ellipse, Point, Polygon, Segmentation
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.formats.coco import OUTPUT_FILENAME
from dlconvert.formats.dataloop import write_dataloop
from dlconvert.formats.voc import CAPABILITIES, FORMAT
from dlconvert.labels import LabelInfo, LabelMap
from dlconvert.verify import verify

COCO_FILES = ["icevision/annotations.json", "mmdetection/coco_dummy/annotations/instances_val2017.json",
              "dagshub/annotations.json", "datumaro/coco_dataset/annotations/instances_val.json"]


def objects(path: Path) -> list[tuple[str, list[str]]]:
    """``(name, [xmin, ymin, xmax, ymax] text)`` of every <object>, parsed with lxml (entities off)."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    return [(o.findtext("name"), [o.findtext(f"bndbox/{k}").strip() for k in ("xmin", "ymin", "xmax", "ymax")])
            for o in root.findall("object")]


def to_voc(tmp_path: Path, items: list[AnnotationCollection], **options):
    write_dataloop(items, tmp_path / "dl")
    report = Converter(on_error="skip", options=ConvertOptions(**options)).run(tmp_path / "dl", "dataloop",
                                                                               tmp_path / "voc", "voc")
    assert report.unbalanced() == {}
    return report


def codes(report) -> list[tuple[str, str, str]]:
    return [(i.kind, i.code, i.annotation_type) for i in report.issues]


def agrees(result) -> None:
    """``verify`` found exactly what the report said: nothing lost, changed or over-reported."""
    assert result.differences == [], "\n".join(str(d) for d in result.differences)


# ==== convert and verify agree ===============================================================================
@requires_real_files
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")  # pycocotools
@pytest.mark.parametrize("options", [{}, {"voc_origin": 0}, {"voc_masks": False},
                                     {"voc_origin": 0, "voc_masks": False}],
                         ids=["devkit", "origin0", "no-masks", "origin0-no-masks"])
@pytest.mark.parametrize("source", COCO_FILES)
def test_coco_to_voc_report_and_verify_agree(source, options):
    """Regression: COCO → VOC reported 0 approximated while verify found 35 changed shapes (icevision)."""
    result = verify(real_file("coco") / source, "coco", "voc", options=ConvertOptions(**options))
    agrees(result)
    approximated = [i for i in result.forward.issues if i.kind == "approximated"]
    assert len(approximated) == len(result.approximated)
    if source.startswith("icevision") and options.get("voc_masks", True):
        assert len(approximated) == 35  # every polygon comes back as its pixels: listed, one entry each
        assert {i.code for i in approximated} == {"voc.shape-as-mask"}


@requires_real_files
@pytest.mark.parametrize("options", [{}, {"voc_origin": 0}, {"voc_masks": False}])
@pytest.mark.parametrize("source", ["dtlpy-documentation/hamster/hamster.json", "dtlpy-documentation/FruitImage/json",
                                    "dtlpy-converters-examples/yolo/dataloop/json"])
def test_dataloop_to_voc_report_and_verify_agree(source, options):
    agrees(verify(real_file("dataloop") / source, "dataloop", "voc", options=ConvertOptions(**options)))


@pytest.mark.parametrize("options", [{}, {"voc_origin": 0}, {"voc_masks": False}])
def test_the_bundled_sample_verifies_via_voc(sample_dir, options):
    result = verify(sample_dir, "dataloop", "voc", options=ConvertOptions(**options))
    agrees(result)
    assert result.checked and result.not_representable  # it has types VOC cannot hold, reported


@requires_real_files
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")  # pycocotools
def test_coco_through_voc_and_back_returns_each_object_once(tmp_path):
    """Regression: COCO → VOC → COCO returned every segmented object twice (its box and its mask)."""
    source = real_file("coco") / "icevision/annotations.json"
    coco = json.loads(source.read_text(encoding="utf-8"))
    Converter().run(source, "coco", tmp_path / "voc", "voc")
    Converter().run(tmp_path / "voc", "voc", tmp_path / "coco", "coco")
    back = CocoApi(str(tmp_path / "coco" / OUTPUT_FILENAME))
    kept = [a for a in coco["annotations"] if not a["iscrowd"]]
    assert len(back.getAnnIds()) == len(kept)
    by_image = {i["file_name"]: i["id"] for i in coco["images"]}
    for image in back.dataset["images"]:
        mine = [a for a in kept if a["image_id"] == by_image[image["file_name"]]]
        theirs = back.loadAnns(back.getAnnIds(imgIds=[image["id"]]))
        names = {c["id"]: c["name"] for c in coco["categories"]}
        their_names = {c["id"]: c["name"] for c in back.dataset["categories"]}
        assert sorted(names[a["category_id"]] for a in mine) == sorted(their_names[a["category_id"]] for a in theirs)


# ==== what VOC cannot hold, skipped and said (§5, §6) ========================================================
def test_polygon_of_one_point_is_skipped_not_written_inverted(tmp_path):
    """Regression: a polygon whose points are all one point was written as xmin 4 > xmax 3."""
    item = AnnotationCollection(filename="/d.png", width=10, height=10)
    item.add(Polygon(geo=[[3, 5], [3, 5], [3, 5]], label="dot"))
    item.add(Box(left=1, top=1, right=4, bottom=4, label="ok"))
    report = to_voc(tmp_path, [item])
    assert codes(report) == [("skipped", "voc.degenerate-shape", "segment")]
    assert objects(tmp_path / "voc" / "Annotations" / "d.xml") == [("ok", ["2", "2", "4", "4"])]


def test_video_items_are_skipped_as_not_images(tmp_path):
    video = AnnotationCollection(filename="/clip.mp4", width=10, height=10, mimetype="video/mp4")
    video.add(Box(left=1, top=1, right=4, bottom=4, label="car"))
    image = AnnotationCollection(filename="/still.jpg", width=10, height=10)
    image.add(Box(left=1, top=1, right=4, bottom=4, label="car"))
    report = to_voc(tmp_path, [video, image])
    assert codes(report) == [("skipped", "voc.not-an-image", "box")]
    assert sorted(p.name for p in (tmp_path / "voc" / "Annotations").iterdir()) == ["still.xml"]


def test_labels_missing_from_a_pinned_map_are_skipped(tmp_path):
    """A label map the user gives is the class list: VOC never adds a label to it."""
    labels = LabelMap([LabelInfo("cat", 1, (1, 2, 3))], pinned=True)
    item = AnnotationCollection(filename="/p.png", width=10, height=10)
    item.add(Box(left=1, top=1, right=4, bottom=4, label="cat"))
    item.add(Box(left=2, top=2, right=5, bottom=5, label="dog"))
    report = to_voc(tmp_path, [item], labels=labels)
    assert codes(report) == [("skipped", "voc.label-not-in-map", "box")]
    assert report.issues[0].path == str(tmp_path / "dl" / "json" / "p.json")  # where the item was read
    assert [name for name, _ in objects(tmp_path / "voc" / "Annotations" / "p.xml")] == ["cat"]
    saved = json.loads((tmp_path / "voc" / "labelmap.json").read_text(encoding="utf-8"))
    assert [label["name"] for label in saved["labels"]] == ["cat"]
    assert "dog" not in (tmp_path / "voc" / "labelmap.txt").read_text(encoding="utf-8")
    with pytest.raises(FormatError, match="label 'dog' is not in the label map given") as caught:
        Converter(options=ConvertOptions(labels=labels)).run(tmp_path / "dl", "dataloop", tmp_path / "fail", "voc")
    assert caught.value.where == "item '/p.png'" and caught.value.path.endswith("p.json")
    assert not (tmp_path / "fail").exists()


def test_types_voc_cannot_hold_are_skipped_with_the_tables_reason(tmp_path):
    item = AnnotationCollection(filename="/t.png", width=10, height=10)
    item.add(Point(x=3, y=3, label="p"))
    report = to_voc(tmp_path, [item])
    (issue,) = report.issues
    assert (issue.kind, issue.code, issue.message) == ("skipped", "voc.unsupported-type", CAPABILITIES["point"].how)


def test_format_spec_is_derived_from_the_capability_table():
    exact = {kind for kind, c in CAPABILITIES.items() if c.exact and " " not in kind}
    assert FORMAT.holds == exact == {"box", "binary"}
    assert FORMAT.approximates == {kind: c.how for kind, c in CAPABILITIES.items() if c.writes and not c.exact}
    assert {"voc_origin", "voc_masks", "labels", "images", "split"} <= FORMAT.options
    assert "Annotations/*.xml" in FORMAT.looks_for and "SegmentationObject" in FORMAT.looks_for


# ==== numbers: pixel indices, no float noise (§4) ================================================================
def _coco_file(tmp_path: Path, bbox: list[float]) -> Path:
    path = tmp_path / "in.json"
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "n.jpg", "width": 800, "height": 600}],
        "categories": [{"id": 1, "name": "thing"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": bbox, "area": bbox[2] * bbox[3],
                         "iscrowd": 0, "segmentation": []}]}), encoding="utf-8")
    return path


@pytest.mark.parametrize(("origin", "expected", "issues"), [
    (0, ["500.27", "100.2", "523.07", "120.3"], []),  # x + w summed at COCO's decimals: not 523.0699999999999
    (1, ["501", "101", "523", "120"], ["voc.box-rounded"]),  # whole pixel indices, and said so
])
def test_numbers_carry_no_float_noise(tmp_path, origin, expected, issues):
    assert 500.27 + 22.8 == 523.0699999999999 and 100.2 + 20.1 == 120.30000000000001  # the noise is real
    source = _coco_file(tmp_path, [500.27, 100.2, 22.8, 20.1])
    report = Converter(options=ConvertOptions(voc_origin=origin)).run(source, "coco", tmp_path / "voc", "voc")
    assert objects(tmp_path / "voc" / "Annotations" / "n.xml") == [("thing", expected)]
    assert [i.code for i in report.issues] == issues


def test_integer_devkit_boxes_are_not_approximated(tmp_path):
    source = _coco_file(tmp_path, [10, 20, 30, 40])
    report = Converter().run(source, "coco", tmp_path / "voc", "voc")
    assert objects(tmp_path / "voc" / "Annotations" / "n.xml") == [("thing", ["11", "21", "40", "60"])]
    assert report.issues == []


def test_rounding_verify_cannot_see_is_not_reported(tmp_path):
    """A large box 0.004 px off the grid moves less than verify's tolerance: written as integers, not listed."""
    item = AnnotationCollection(filename="/big.png", width=2000, height=2000)
    item.add(Box(left=10.004, top=20, right=1500, bottom=1800.003, label="big"))
    item.add(Box(left=10.4, top=20, right=14, bottom=25, label="small"))  # 0.4 px on a 4 px box: changed
    report = to_voc(tmp_path, [item])
    assert objects(tmp_path / "voc" / "Annotations" / "big.xml") == [
        ("big", ["11", "21", "1500", "1800"]), ("small", ["11", "21", "14", "25"])]
    assert [(i.code, i.label) for i in report.issues] == [("voc.box-rounded", "small")]


# ==== masks: one object per pixel (§4) ==========================================================================
def _square(size: int, top: int, left: int, side: int) -> np.ndarray:
    mask = np.zeros((size, size), dtype=bool)
    mask[top:top + side, left:left + side] = True
    return mask


def test_a_mask_under_a_later_object_is_listed_and_verify_agrees(tmp_path):
    item = AnnotationCollection(filename="/o.png", width=40, height=40)
    item.add(Segmentation(geo=_square(40, 0, 0, 20), label="under"))   # 400 px, 100 of them covered below
    item.add(Segmentation(geo=_square(40, 10, 10, 20), label="over"))
    item.add(Segmentation(geo=_square(40, 32, 32, 2), label="hidden"))  # entirely under the next one
    item.add(Segmentation(geo=_square(40, 31, 31, 6), label="top"))
    report = to_voc(tmp_path, [item])
    assert [(i.code, i.label) for i in report.issues] == [("voc.mask-overlapped", "under"),
                                                         ("voc.shape-as-box", "hidden")]
    assert "100 of its 400 pixels" in report.issues[0].message
    with Image.open(tmp_path / "voc" / "SegmentationObject" / "o.png") as image:
        pixels = np.asarray(image)
    assert np.count_nonzero(pixels == 1) == 300 and not (pixels == 3).any()
    agrees(verify(tmp_path / "dl", "dataloop", "voc"))


def test_masks_that_cannot_be_drawn_are_written_as_boxes_and_listed(tmp_path):
    item = AnnotationCollection(filename="/w.png", width=20, height=20)
    item.add(Segmentation(geo=_square(10, 2, 2, 5), label="small-canvas"))  # a 10×10 mask on a 20×20 image
    item.add(Ellipse(x=10, y=10, rx=4, ry=3, label="round"))
    unknown = AnnotationCollection(filename="/u.png")  # no size: nothing can be drawn
    unknown.add(Polygon(geo=[[1, 1], [8, 1], [8, 6]], label="tri"))
    report = to_voc(tmp_path, [item, unknown])
    assert [(i.code, i.label) for i in report.issues] == [  # items in file order: /u.png, /w.png
        ("voc.shape-as-box", "tri"), ("voc.shape-as-box", "small-canvas"), ("voc.shape-as-mask", "round")]
    assert "size is unknown" in report.issues[0].message and "10×10" in report.issues[1].message
    agrees(verify(tmp_path / "dl", "dataloop", "voc"))


def test_objects_past_254_are_boxes_not_wrapped_pixel_values(tmp_path):
    """The object PNG is 8-bit with 255 void: object 255 on would alias another; it is written as its box."""
    item = AnnotationCollection(filename="/many.png", width=16, height=16)
    for index in range(256):
        row, column = divmod(index, 16)
        item.add(Segmentation(geo=_square(16, row, column, 1), label="dot"))
    report = to_voc(tmp_path, [item])
    assert [(i.code, i.annotation_type) for i in report.issues] == [("voc.shape-as-box", "binary")] * 2
    with Image.open(tmp_path / "voc" / "SegmentationObject" / "many.png") as image:
        pixels = np.asarray(image)
    assert pixels.max() == 254 and np.count_nonzero(pixels == 0) == 2
    agrees(verify(tmp_path / "dl", "dataloop", "voc"))


def test_attributes_voc_gives_back_as_text_are_listed(tmp_path):
    item = AnnotationCollection(filename="/a.png", width=10, height=10)
    item.add(Box(left=1, top=1, right=4, bottom=4, label="n", attributes={"count": 3, "difficult": 1}))
    item.add(Box(left=1, top=1, right=4, bottom=4, label="t", attributes={"colour": "red", "truncated": 0}))
    report = to_voc(tmp_path, [item])
    assert [(i.code, i.label) for i in report.issues] == [("voc.text-changed", "n")]
    agrees(verify(tmp_path / "dl", "dataloop", "voc"))


def test_box_and_mask_of_one_object_verify(tmp_path):
    """The box of a mask's object becomes its <bndbox> (skipped as an annotation, said so); verify agrees."""
    item = AnnotationCollection(filename="/b.png", width=20, height=20)
    item.add(Box(left=2, top=2, right=9, bottom=9, label="cat"), object_id=4)
    item.add(Segmentation(geo=_square(20, 3, 3, 5), label="cat"), object_id=4)
    item.add(Box(left=12, top=12, right=18, bottom=18, label="dog"), object_id=5)  # no mask of its own
    report = to_voc(tmp_path, [item])
    assert codes(report) == [("skipped", "voc.box-of-mask", "box")]
    assert objects(tmp_path / "voc" / "Annotations" / "b.xml") == [("cat", ["3", "3", "9", "9"]),
                                                                   ("dog", ["13", "13", "18", "18"])]
    agrees(verify(tmp_path / "dl", "dataloop", "voc"))
    report = to_voc(tmp_path / "off", [item], voc_masks=False)
    assert codes(report) == [("skipped", "voc.masks-off", "binary")]


def test_voc_read_back_through_voc_keeps_its_numbers(tmp_path):
    """VOC → VOC: kept <bndbox> numbers (of masks, and of boxes off the pixel grid) are written as read."""
    src = tmp_path / "src"
    (src / "Annotations").mkdir(parents=True)
    (src / "Annotations" / "f.xml").write_text(
        "<annotation><filename>f.jpg</filename><size><width>10</width><height>10</height><depth>3</depth></size>"
        "<object><name>a</name><bndbox><xmin>1.5</xmin><ymin>2</ymin><xmax>6.25</xmax><ymax>7</ymax></bndbox></object>"
        "</annotation>", encoding="utf-8")
    result = verify(src, "voc", "voc")
    agrees(result)
    assert result.forward.issues == []
    Converter().run(src, "voc", tmp_path / "out", "voc")
    assert objects(tmp_path / "out" / "Annotations" / "f.xml") == [("a", ["1.5", "2", "6.25", "7"])]


def test_reading_is_unchanged_by_format_registry(tmp_path):
    """``get_format('voc')`` is this package; names others import stay importable."""
    from dlconvert.formats.voc import VOC_CLASSES, read, voc_colormap, write

    assert get_format("voc") is FORMAT and read is FORMAT.read and write is FORMAT.write
    assert VOC_CLASSES[15] == "person" and tuple(voc_colormap()[15]) == (192, 128, 128)
