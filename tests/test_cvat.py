"""CVAT XML 1.1 read and written: real CVAT exports (read in place), every shape kind, the label map with its
colours, images found beside the XML, and COCO written from real CVAT files read back by pycocotools.

Oracles: lxml reads the same files on its own (counts, coordinates, attributes); pycocotools reads the COCO
dlconvert writes from them; a row-major run-length decoder written here decodes CVAT's masks.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from lxml import etree
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, Classification, Cube, Ellipse, Point, Polygon, Polyline, Pose
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.formats import get_format
from dlconvert.geometry import Segmentation
from dlconvert.report import ConversionReport

CVAT = get_format("cvat")
AIRO = "cvat/airo-mono/airo-dataset-tools/airo_dataset_tools/cvat_labeling/example"
LEGO = "cvat/airo-mono/airo-dataset-tools/test/test_data/lego-battery-resized/original_annotations.xml"
MASKS = "cvat/cgras_settler_counter-7cdbad1/annotations.xml"
REAL_FILES = [f"{AIRO}/annotations.xml", LEGO, "cvat/cgras_settler_counter/annotations.xml",
              "cvat/comparing-data-markup/resourses/cvat/exported_annotations/annotations.xml",
              "cvat/darwin-py/e2e_tests/data/convert/cvat/to/output.xml",
              "cvat/docling-cvat-tools/tests/cvat_to_docling/fixtures/007_rotation_test/input.xml",
              "cvat/docling-cvat-tools/tests/cvat_to_docling/fixtures/009_rotation_on_table/input.xml",
              "cvat/docling-cvat-tools/tests/cvat_to_docling/fixtures/012_key_value_picture_glitch/input.xml"]
_TYPE_OF = {"box": "box", "polygon": "segment", "polyline": "polyline", "ellipse": "ellipse", "mask": "binary",
            "tag": "class", "cuboid": "cube"}

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def _read(src: Path | str, **options) -> tuple[list[AnnotationCollection], Dataset, ConversionReport]:
    report = ConversionReport(on_error=options.pop("on_error", "fail"))
    dataset = CVAT.read(Path(src), ConvertOptions(**options), report)
    return list(dataset.items), dataset, report


def _expected_types(path: Path) -> Counter:
    """What lxml finds in the file: one annotation per shape, per point of a <points>, per skeleton keypoint."""
    root = etree.parse(str(path)).getroot()
    counts: Counter = Counter()
    for image in root.iter("image"):
        for shape in image:
            if shape.tag == "points":
                counts["point"] += len(shape.get("points").split(";"))
            elif shape.tag == "skeleton":
                counts["pose"] += 1
                counts["point"] += len(shape.findall("points"))
            elif shape.tag in _TYPE_OF:
                counts[_TYPE_OF[shape.tag]] += 1
    return counts


def _cvat_rle(text: str, width: int, height: int) -> np.ndarray:
    """CVAT's run lengths decoded run by run (row-major, starting with background)."""
    flat, value, at = np.zeros(width * height, dtype=bool), False, 0
    for run in (int(v) for v in text.split(",")):
        flat[at:at + run] = value
        at, value = at + run, not value
    return flat.reshape(height, width)


# ==== real CVAT exports ===================================================================================
@requires_real_files
@pytest.mark.parametrize("name", [*REAL_FILES, MASKS], ids=lambda n: n.split("/")[1])
def test_every_shape_of_a_real_file_arrives(name):
    items, _, report = _read(real_file(name))
    assert report.issues == []
    assert Counter(a.type for item in items for a in item) == _expected_types(real_file(name))
    root = etree.parse(str(real_file(name))).getroot()
    assert [item.filename for item in items] == ["/" + image.get("name") for image in root.iter("image")]
    assert [(item.width, item.height) for item in items] == [
        (int(image.get("width")), int(image.get("height"))) for image in root.iter("image")]


@requires_real_files
def test_boxes_polygons_points_and_flags_are_the_files_own():
    items, dataset, _ = _read(real_file(f"{AIRO}/annotations.xml"))
    image = etree.parse(str(real_file(f"{AIRO}/annotations.xml"))).getroot().find("image[@name='3.jpeg']")
    item = next(i for i in items if i.filename == "/3.jpeg")
    box_element = image.find("box")
    box = next(a for a in item if a.type == "box" and a.object_id == "2").annotation_definition
    assert (box.left, box.top, box.right, box.bottom) == tuple(float(box_element.get(k)) for k in
                                                               ("xtl", "ytl", "xbr", "ybr"))
    polygon = next(a for a in item if a.type == "segment" and a.object_id == "2").annotation_definition
    ring = [tuple(map(float, p.split(","))) for p in image.find("polygon").get("points").split(";")]
    assert polygon.parts[0].tolist() == [list(p) for p in ring]
    # group_id 2 ties the t-shirt's box, mask and keypoints together: one object
    grouped = [a for a in item if a.object_id == "2"]
    assert sorted(Counter(a.type for a in grouped).items()) == [("box", 1), ("point", 4), ("segment", 1)]
    assert all(a.metadata["user"]["cvat"]["source"] == "manual" for a in item)
    occluded = [a for i in items for a in i if a.attributes.get("occluded") == 1]
    assert len(occluded) == 2 and {a.label for a in occluded} == {"towel.corner1", "towel.corner2"}
    # the label map: <meta>'s labels in order, with their colours
    assert dataset.labels.names[:3] == ["towel.corner1", "towel.corner2", "towel.corner3"]
    assert dataset.labels["towel.corner1"].color == (0xdc, 0x38, 0x1e)
    assert [info.instance_id for info in dataset.labels] == list(range(1, 13))


@requires_real_files
def test_rotations_and_attributes_of_docling_files():
    path = real_file("cvat/docling-cvat-tools/tests/cvat_to_docling/fixtures/009_rotation_on_table/input.xml")
    items, _, _ = _read(path)
    boxes = [a for a in items[0] if a.type == "box"]
    rotations = [float(b.get("rotation", 0)) for b in etree.parse(str(path)).getroot().iter("box")]
    assert sorted(b.annotation_definition.angle or 0 for b in boxes) == sorted(r % 360 for r in rotations)
    assert sum(1 for b in boxes if b.annotation_definition.angle == 90) == 11
    expected = sorted((b.get("label"), sorted((a.get("name"), a.text) for a in b.iter("attribute")))
                      for b in etree.parse(str(path)).getroot().iter("box"))
    assert sorted((b.label, sorted(b.attributes.items())) for b in boxes) == expected  # no <meta>: text
    # CVAT draws by z_order: the item keeps that order
    orders = [a.metadata["user"].get("cvat", {}).get("z_order", 0) for a in items[0]]
    assert orders == sorted(orders)


@requires_real_files
def test_real_masks_decode_as_cvat_encodes_them():
    path = real_file(MASKS)
    elements = list(etree.parse(str(path)).getroot().find("image").iter("mask"))
    items, _, _ = _read(path)
    masks = [a.annotation_definition for a in items[0]]
    assert len(masks) == len(elements) == 111
    for element, mask in list(zip(elements, masks, strict=True))[::10]:
        left, top, width, height = (int(element.get(k)) for k in ("left", "top", "width", "height"))
        counts = [int(v) for v in element.get("rle").split(",")]
        assert sum(counts) < width * height  # CVAT leaves the last run of background out
        expected = np.zeros(mask.geo.shape, dtype=bool)
        expected[top:top + height, left:left + width] = _cvat_rle(element.get("rle"), width, height)
        assert np.array_equal(mask.geo, expected)
        assert mask.geo.shape == (4912, 7360)


@requires_real_files
def test_real_masks_survive_cvat_to_cvat(tmp_path):
    out = tmp_path / "out"
    report = Converter().run(real_file(MASKS), "cvat", out, "cvat")
    assert report.issues == [] and sum(report.annotations_out.values()) == 273
    back, _, _ = _read(out)
    original, _, _ = _read(real_file(MASKS))
    for mine, theirs in zip(original, back, strict=True):
        assert mine.filename == theirs.filename and len(mine) == len(theirs)
        for a, b in zip(mine, theirs, strict=True):
            assert a.label == b.label and np.array_equal(a.annotation_definition.geo, b.annotation_definition.geo)


@requires_real_files
def test_images_beside_the_export_are_found(tmp_path):
    from dlconvert.images import ImageLookup

    items, dataset, _ = _read(real_file(AIRO))
    folder = real_file(f"{AIRO}/images")
    assert folder in dataset.image_roots
    lookup = ImageLookup.for_source(None, dataset)
    assert [lookup.find(item) for item in items] == [
        folder / name for name in ("1.png", "2.png", "3.jpeg", "4.png")]


@requires_real_files
def test_render_draws_real_cvat_items_on_their_images(tmp_path, cli_runner):
    from PIL import Image

    from dlconvert.cli import main

    result = cli_runner.invoke(main, ["render", str(real_file(AIRO) / "annotations.xml"), str(tmp_path / "pics"),
                                      "--from", "cvat", "--view", "overlay"])
    assert result.exit_code == 0, result.output
    overlay = np.asarray(Image.open(next((tmp_path / "pics").rglob("1.png"))).convert("RGB"))
    photo = np.asarray(Image.open(real_file(f"{AIRO}/images/1.png")).convert("RGB"))
    assert overlay.shape == photo.shape
    assert np.mean(np.all(overlay == photo, axis=2)) > 0.3  # the photo, under translucent shapes


# ==== real CVAT files to COCO, read by pycocotools =================================================================
@requires_real_files
@pytest.mark.parametrize("name", REAL_FILES, ids=lambda n: n.split("/")[1] + "-" + n.split("/")[-2])
def test_real_cvat_files_convert_to_coco_that_pycocotools_reads(name, tmp_path):
    from pycocotools.coco import COCO

    out = tmp_path / "coco"
    report = Converter(on_error="skip").run(real_file(name), "cvat", out, "coco")
    coco = COCO(str(out / "coco.json"))
    records = coco.loadAnns(coco.getAnnIds())
    written = sum(report.annotations_out.values()) - report.annotations_out["point"] - report.annotations_out["pose"]
    assert len(records) == written == len(_coco_shapes(real_file(name)))
    assert len(coco.loadImgs(coco.getImgIds())) == report.items_in
    for record in records:
        image = coco.loadImgs(record["image_id"])[0]
        assert coco.annToMask(record).shape == (image["height"], image["width"])
    expected = sorted(_coco_shapes(real_file(name)))
    assert sorted((coco.loadCats(r["category_id"])[0]["name"], *map(_rounded, r["bbox"])) for r in records) == expected


def _rounded(value: float) -> float:
    return round(value, 6)


def _coco_shapes(path: Path) -> list:
    """``(label, x, y, w, h)`` of each shape COCO holds, from the CVAT file itself (rotated boxes by their corners)."""
    out = []
    for element in etree.parse(str(path)).getroot().iter("box", "polygon"):
        if element.tag == "box":
            box = Box(left=float(element.get("xtl")), top=float(element.get("ytl")), right=float(element.get("xbr")),
                      bottom=float(element.get("ybr")), angle=float(element.get("rotation") or 0))
            left, top, right, bottom = box.bounds()
        else:
            ring = np.array([p.split(",") for p in element.get("points").split(";")], dtype=float)
            left, top = ring.min(axis=0)
            right, bottom = ring.max(axis=0)
        out.append((element.get("label"), *map(_rounded, (left, top, right - left, bottom - top))))
    return out


@requires_real_files
@pytest.mark.parametrize("name", REAL_FILES, ids=lambda n: n.split("/")[1] + "-" + n.split("/")[-2])
def test_a_real_cvat_folder_converts_to_coco_without_naming_its_format(name, tmp_path, cli_runner):
    from dlconvert.cli import main

    folder = real_file(name).parent
    result = cli_runner.invoke(main, ["convert", str(folder), str(tmp_path / "coco"), "--to", "coco"])
    assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "coco" / "coco.json").read_text("utf-8"))
    assert len(document["images"]) == len(etree.parse(str(real_file(name))).getroot().findall("image"))


@requires_real_files
def test_a_real_mask_converts_to_coco_rle_pixel_for_pixel(tmp_path):
    from pycocotools.coco import COCO

    # one image of the mask file (3 masks), copied: the whole file holds 111 masks on a 36-megapixel photo
    document = etree.parse(str(real_file(MASKS))).getroot()
    for image in document.findall("image"):
        if image.get("id") != "1":
            document.remove(image)
    source = tmp_path / "annotations.xml"
    source.write_bytes(etree.tostring(document))
    Converter().run(source, "cvat", tmp_path / "coco", "coco")
    coco = COCO(str(tmp_path / "coco" / "coco.json"))
    records = coco.loadAnns(coco.getAnnIds())
    elements = list(document.iter("mask"))
    assert len(records) == len(elements) == 3
    for record, element in zip(records, elements, strict=True):
        left, top, width, height = (int(element.get(k)) for k in ("left", "top", "width", "height"))
        expected = np.zeros((4912, 7360), dtype=np.uint8)
        expected[top:top + height, left:left + width] = _cvat_rle(element.get("rle"), width, height)
        assert np.array_equal(coco.annToMask(record), expected)


# ==== every shape kind, written and read back ======================================================================
def _every_kind() -> AnnotationCollection:
    item = AnnotationCollection(filename="/sub/a.png", width=64, height=48, mimetype="image/png")
    item.add(Box(left=1.5, top=2, right=30.25, bottom=20, label="car", angle=30,
                 attributes={"parked": True, "wheels": 4, "ratio": 0.5, "colour": "red"}), object_id=3)
    item.add(Polygon(geo=[[5, 5], [25, 6], [12, 30]], label="roof"), object_id=3)
    item.add(Polyline(geo=[[0, 40], [63, 41]], label="lane"))
    item.add(Point(x=10, y=11, label="lamp", attributes={"occluded": 1}))
    item.add(Ellipse(x=40, y=30, rx=10, ry=5, angle=20, label="puddle"))
    mask = np.zeros((48, 64), dtype=bool)
    mask[10:20, 30:50] = True
    mask[12, 35] = False
    item.add(Segmentation(geo=mask, label="grass"))
    item.add(Cube(front_tl=(1, 1), front_tr=(11, 1), front_br=(11, 11), front_bl=(1, 11), back_tl=(4, 0),
                  back_tr=(14, 0), back_br=(14, 9), back_bl=(4, 9), label="crate"))
    item.add(Classification(label="daytime", attributes={"cloudy": False}))
    pose = item.add(Pose(label="person", template_id="t1"))
    pose.id = "pose-1"
    for name, (x, y), flag in (("head", (20, 5), "visible"), ("hand", (25, 15), "not-visible"),
                               ("foot", (22, 40), "unlabeled")):
        item.add(Point(x=x, y=y, label=name, attributes={"visibility": flag}), parent_id="pose-1")
    return item


def test_every_kind_of_shape_comes_back(tmp_path):
    item = _every_kind()
    report = ConversionReport()
    report.read_item(item)
    CVAT.write(Dataset(iter([item])), tmp_path / "out", ConvertOptions(), report)
    assert report.issues == [] and not report.unbalanced()
    (back,), dataset, _ = _read(tmp_path / "out")
    assert [(a.type, a.label) for a in back] == [(a.type, a.label) for a in item]
    for mine, theirs in zip(item, back, strict=True):
        if mine.type not in ("cube", "pose"):  # a cube's angle is its corners'; a pose's template is its label's
            assert theirs.annotation_definition == mine.annotation_definition
        assert theirs.attributes == mine.attributes
    cube = back[6].annotation_definition
    assert cube.points().tolist() == item[6].annotation_definition.points().tolist()
    assert back[0].object_id == back[1].object_id == "3"  # one object: group_id 3
    pose = next(a for a in back if a.type == "pose")
    assert [c.label for c in back.children(pose)] == ["head", "hand", "foot"]
    document = etree.parse(str(tmp_path / "out" / "annotations.xml")).getroot()
    skeleton = document.find("image/skeleton")
    assert [(p.get("label"), p.get("occluded"), p.get("outside")) for p in skeleton] == [
        ("head", "0", "0"), ("hand", "1", "0"), ("foot", "0", "1")]
    assert document.find("image/points").get("occluded") == "1"
    assert document.find("image/box").get("rotation") == "30"
    assert [a.get("name") for a in document.find("image/box").iter("attribute")] == ["parked", "wheels", "ratio",
                                                                                      "colour"]
    label = document.find("meta/task/labels/label[name='car']")
    assert [(a.findtext("name"), a.findtext("input_type")) for a in label.iter("attribute")] == [
        ("parked", "checkbox"), ("wheels", "number"), ("ratio", "number"), ("colour", "text")]
    assert dataset.labels.template_for("cvat-skeleton:person").order == ["head", "hand", "foot"]


def test_the_label_map_and_its_colours_survive(tmp_path):
    from dlconvert.labels import LabelInfo, LabelMap

    item = AnnotationCollection(filename="/a.jpg", width=10, height=10, mimetype="image/jpeg")
    item.add(Box(left=1, top=1, right=5, bottom=5, label="cat"))
    labels = LabelMap([LabelInfo("dog", 1, (1, 2, 3)), LabelInfo("cat", 2, (250, 128, 0))])
    CVAT.write(Dataset(iter([item]), labels=labels), tmp_path / "out", ConvertOptions(), ConversionReport())
    (tmp_path / "out" / "labelmap.json").unlink()  # the colours must come from <meta> alone
    _, dataset, _ = _read(tmp_path / "out")
    assert [(i.name, i.color) for i in dataset.labels] == [("dog", (1, 2, 3)), ("cat", (250, 128, 0))]
    document = etree.parse(str(tmp_path / "out" / "annotations.xml")).getroot()
    assert [c.text for c in document.iter("color")] == ["#010203", "#fa8000"]


def test_what_cvat_cannot_hold_is_reported(tmp_path):
    from dlconvert.geometry import Subtitle

    item = AnnotationCollection(filename="/a.jpg", width=50, height=50, mimetype="image/jpeg")
    lines = item.add(Polyline(geo=[[[0, 0], [5, 5]], [[9, 9], [20, 1]]], label="lane"))
    rings = item.add(Polygon(geo=[[[0, 0], [20, 0], [20, 20]], [[30, 30], [45, 30], [45, 45]]], label="lake"))
    tilted = item.add(Cube(front_tl=(1, 1), front_tr=(11, 2), front_br=(10, 12), front_bl=(0, 11), back_tl=(4, 0),
                           back_tr=(14, 1), back_br=(13, 10), back_bl=(3, 9), label="crate"))
    nameless = item.add(Box(left=1, top=1, right=5, bottom=5))
    bad_text = item.add(Box(left=1, top=1, right=5, bottom=5, label="a\x01b"))
    listed = item.add(Box(left=1, top=1, right=5, bottom=5, label="tag", attributes={"kinds": ["a", "b"]}))
    audio = AnnotationCollection(filename="/a.wav", mimetype="audio/wav")
    cue = audio.add(Subtitle(text="hi", label="speaker"), start_time=0, end_time=1)
    report = ConversionReport(on_error="skip")
    for collection in (item, audio):
        report.read_item(collection)
    CVAT.write(Dataset(iter([item, audio])), tmp_path / "out", ConvertOptions(), report)
    issues = {(i.annotation_id, i.kind, i.code) for i in report.issues}
    assert issues == {(lines.id, "skipped", "cvat.polyline-parts"), (tilted.id, "skipped", "cvat.cube-not-upright"),
                      (nameless.id, "skipped", "cvat.no-label"), (bad_text.id, "skipped", "cvat.invalid-text"),
                      (cue.id, "skipped", "cvat.not-an-image"),
                      (rings.id, "approximated", "cvat.polygon-rings-as-mask"),
                      (listed.id, "approximated", "cvat.attribute-as-text")}
    assert not report.unbalanced()


def test_a_pinned_label_map_adds_no_label(tmp_path):
    from dlconvert.labels import LabelMap

    item = AnnotationCollection(filename="/a.jpg", width=10, height=10, mimetype="image/jpeg")
    item.add(Box(left=1, top=1, right=5, bottom=5, label="cat"))
    item.add(Box(left=1, top=1, right=5, bottom=5, label="zebra"))
    report = ConversionReport(on_error="skip")
    options = ConvertOptions(labels=LabelMap.from_names(["cat"]))
    CVAT.write(Dataset(iter([item])), tmp_path / "out", options, report)
    assert [(i.label, i.code) for i in report.issues] == [("zebra", "cvat.label-not-in-map")]
    names = [n.text for n in etree.parse(str(tmp_path / "out" / "annotations.xml")).getroot().iter("name")]
    assert names == ["dlconvert", "cat"]


def test_points_of_one_element_are_joined_again(tmp_path):
    source = tmp_path / "in.xml"
    source.write_text('<annotations><image id="0" name="a.png" width="10" height="10">'
                      '<points label="k" occluded="0" points="1,2;3,4;5,6" z_order="0"/>'
                      '<points label="k" occluded="0" points="7,8" z_order="0"/></image></annotations>')
    items, _, _ = _read(source)
    assert [(a.annotation_definition.x, a.annotation_definition.y) for a in items[0]] == [(1, 2), (3, 4), (5, 6),
                                                                                           (7, 8)]
    Converter().run(source, "cvat", tmp_path / "out", "cvat")
    elements = etree.parse(str(tmp_path / "out" / "annotations.xml")).getroot().findall("image/points")
    assert [e.get("points") for e in elements] == ["1,2;3,4;5,6", "7,8"]


def test_two_items_with_one_name_are_refused(tmp_path):
    first = AnnotationCollection(filename="/a.jpg", width=10, height=10, mimetype="image/jpeg")
    second = AnnotationCollection(filename="a.jpg", width=10, height=10, mimetype="image/jpeg")
    second.add(Box(left=1, top=1, right=5, bottom=5, label="cat"))
    report = ConversionReport(on_error="skip")
    report.read_item(second)
    CVAT.write(Dataset(iter([first, second])), tmp_path / "out", ConvertOptions(), report)
    assert [i.code for i in report.issues] == ["cvat.unwritable-item", "cvat.unwritable-item"]
    assert "both have the CVAT image name 'a.jpg'" in report.issues[0].message
    assert not report.unbalanced()


# ==== detection and the "nothing found" rules =======================================================================
@requires_real_files
def test_detect_reads_the_head_of_cvat_files(tmp_path):
    assert "CVAT XML" in CVAT.detect(real_file(AIRO))
    assert CVAT.detect(real_file(MASKS)).startswith("an <annotations> root with <version>1.1</version>")
    assert "<image> elements" in CVAT.detect(real_file(REAL_FILES[5]))
    for other in ("voc/icevision/voc", "coco/dagshub/annotations.json", "yolo/datumaro/roboflow_yolo"):
        assert CVAT.detect(real_file(other)) is None, other
    big = tmp_path / "big.xml"  # the head says it: a file cut short after its head is still CVAT
    big.write_text('<?xml version="1.0"?>\n<annotations>\n<version>1.1</version>\n' + "<image " * 10)
    assert CVAT.detect(big) is not None


def test_an_empty_cvat_output_reads_back_as_empty(tmp_path):
    Converter().run(_empty_source(tmp_path), "dataloop", tmp_path / "out", "cvat")
    items, dataset, _ = _read(tmp_path / "out")
    assert items == [] and dataset.declared_empty


def _empty_source(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "labelmap.json").write_text(json.dumps({"labels": [{"name": "cat", "instance_id": 1}]}), "utf-8")
    return empty


def test_a_folder_without_cvat_files_finds_nothing(tmp_path, cli_runner):
    from dlconvert.cli import main

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "notes.txt").write_text("hello")
    result = cli_runner.invoke(main, ["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--from", "cvat",
                                      "--to", "coco"])
    assert result.exit_code != 0
    assert "no cvat item found: looked for CVAT XML files" in result.stderr
    assert not (tmp_path / "out").exists()


@requires_real_files
def test_a_copied_export_keeps_its_images_folder(tmp_path):
    from dlconvert.images import ImageLookup

    export = tmp_path / "export"
    shutil.copytree(real_file(AIRO), export)
    items, dataset, _ = _read(export)
    assert dataset.image_roots[0] == export / "images"
    lookup = ImageLookup.for_source(None, dataset)
    assert all(lookup.find(item).parent == export / "images" for item in items)


def _png(path: Path, width: int, height: int) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height)).save(path)


def test_a_project_export_pairs_each_image_with_its_subset_folder(tmp_path):
    # CVAT's project export: images/<subset>/<name>; one name may stand in two subsets (two different photos)
    export = tmp_path / "export"
    _png(export / "images" / "Train" / "a.png", 30, 20)
    _png(export / "images" / "Validation" / "a.png", 40, 10)
    (export / "annotations.xml").write_text(
        '<annotations><version>1.1</version>'
        '<image id="0" name="a.png" subset="Train" width="30" height="20"/>'
        '<image id="1" name="a.png" subset="Validation" width="40" height="10"/>'
        '<image id="2" name="a.png" subset="../../outside"/></annotations>', encoding="utf-8")
    _png(tmp_path / "outside" / "a.png", 5, 5)  # a subset naming a folder outside the export is not followed
    items, _, _ = _read(export)
    assert [item.image_path for item in items] == [str(export / "images" / "Train" / "a.png"),
                                                   str(export / "images" / "Validation" / "a.png"), None]
    assert (items[2].width, items[2].height) == (None, None)


def test_an_image_without_its_size_takes_it_from_the_image_file(tmp_path):
    _png(tmp_path / "images" / "sub" / "b.png", 64, 48)
    (tmp_path / "annotations.xml").write_text(
        '<annotations><image id="0" name="sub/b.png"><box label="car" xtl="1" ytl="2" xbr="5" ybr="6"/></image>'
        '</annotations>', encoding="utf-8")
    (item,), _, _ = _read(tmp_path)
    assert (item.width, item.height) == (64, 48) and item.image_path == str(tmp_path / "images" / "sub" / "b.png")


def test_images_with_their_size_are_not_looked_for_while_reading(tmp_path, monkeypatch):
    """An export without its images (the usual annotations-only download) must not cost a file lookup per
    image (each tries ~20 names): the renderer finds images through the dataset's image roots when it needs them."""
    import importlib

    cvat_read = importlib.import_module("dlconvert.formats.cvat.read")  # the module, not the package's read()
    looked: list[str] = []
    real_find = cvat_read.find_image
    monkeypatch.setattr(cvat_read, "find_image", lambda root, name: looked.append(name) or real_find(root, name))
    images = "".join(f'<image id="{i}" name="{i}.jpg" width="10" height="10"><box label="car" xtl="1" ytl="1" '
                     f'xbr="5" ybr="5"/></image>' for i in range(50))
    (tmp_path / "annotations.xml").write_text(f"<annotations>{images}</annotations>", encoding="utf-8")
    items, _, _ = _read(tmp_path)
    assert len(items) == 50 and looked == []
