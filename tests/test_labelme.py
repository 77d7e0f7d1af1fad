"""LabelMe JSON, both ways: real files written by LabelMe 3.16.7 read in place, every shape type LabelMe
5.x writes, COCO from LabelMe read by pycocotools, the images found as LabelMe finds them, and
hypothesis round trips (Dataloop → LabelMe → Dataloop keeps what LabelMe holds and reports the rest;
LabelMe → LabelMe gives the shapes back as written).

Oracles are independent of dlconvert: the files are read here with the standard library's ``json``,
masks with Pillow, areas with shapely and pycocotools, and what LabelMe itself does is written out
here from its source (``label_file.py``: ``imagePath`` relative to the JSON file, a mask shape's
points the first and last pixel of its window, ``shapes_to_label``'s placement).
"""

from __future__ import annotations

import base64
import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import assume, given
from hypothesis import strategies as st
from labelme_support import image_file, reported, rich_folder, shape, write_labelme
from PIL import Image
from realfiles import real_file, requires_real_files
from strategies import boxes, collections, coords, labels, points, polylines, star_rings

from dlconvert import AnnotationCollection, Box, Classification, Ellipse, Polygon, Polyline, Segmentation
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.errors import OptionError
from dlconvert.formats import get_format
from dlconvert.formats.labelme import FORMAT, detect
from dlconvert.images import ImageLookup
from dlconvert.labels import LabelMap
from dlconvert.report import ConversionReport, OnError
from dlconvert.verify import compare_round_trip, tag_annotations

FIXTURES = real_file("labelme")
REAL_JSON = ["unet-pytorch/datasets/before/1.json", "yolact-pytorch/datasets/before/0.json",
             "yolact-pytorch/datasets/before/1.json"]
EMBED = {"labelme_image_data": "embed"}

# pycocotools' mask functions warn about their own numpy-2 incompatibility
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def _read(src: Path, options: ConvertOptions | None = None, report: ConversionReport | None = None) -> list:
    report = report or ConversionReport(on_error=OnError.FAIL)
    return list(FORMAT.read(Path(src), options or ConvertOptions(), report).items)


def _write(collections_: list, dst: Path, options: ConvertOptions | None = None,
           report: ConversionReport | None = None) -> ConversionReport:
    report = report or ConversionReport(on_error=OnError.SKIP)
    FORMAT.write(Dataset(collections_), dst, options or ConvertOptions(), report)
    return report


# ==== real files ===========================================================================================
@requires_real_files
@pytest.mark.parametrize("name", REAL_JSON)
def test_real_files_arrive_shape_for_shape(name):
    source = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    (item,) = _read(FIXTURES / name)
    assert len(item) == len(source["shapes"])
    for annotation, raw in zip(item, source["shapes"], strict=True):
        assert annotation.type == "segment" and annotation.label == raw["label"]
        np.testing.assert_array_equal(annotation.annotation_definition.parts[0], np.array(raw["points"], float))
        assert annotation.attributes == {}
    assert (item.width, item.height) == (source["imageWidth"], source["imageHeight"])
    assert item.filename == "/" + Path(source["imagePath"]).name  # the file's folder is the source itself
    assert item.mimetype == "image/jpeg"


@requires_real_files
def test_a_folder_reads_each_file_as_its_item_under_its_folder():
    items = _read(FIXTURES)
    assert [c.filename for c in items] == ["/unet-pytorch/datasets/before/1.jpg",
                                           "/yolact-pytorch/datasets/before/0.jpg",
                                           "/yolact-pytorch/datasets/before/1.jpg"]
    total = sum(len(json.loads((FIXTURES / n).read_text("utf-8"))["shapes"]) for n in REAL_JSON)
    assert sum(len(c) for c in items) == total == 24


@requires_real_files
def test_images_are_found_as_labelme_finds_them():
    # unet: imagePath "1.jpg" beside the JSON. yolact: "before/0.jpg" although the JSON is in before/ (the repo
    # resolves it from the parent folder); LabelMe itself would use the embedded imageData. Both find the file.
    dataset = FORMAT.read(FIXTURES, ConvertOptions(), ConversionReport())
    lookup = ImageLookup.for_source(None, dataset)
    found = {c.filename: lookup.find(c) for c in dataset.items}
    assert found == {f"/{n[:-5]}.jpg": FIXTURES / f"{n[:-5]}.jpg" for n in REAL_JSON}


@requires_real_files
def test_overlays_of_real_files_find_their_images(tmp_path, cli_runner):
    result = cli_runner.invoke(main, ["render", str(FIXTURES), str(tmp_path / "out"), "--from", "labelme",
                                      "--view", "overlay"])
    assert result.exit_code == 0, result.output
    picture = np.asarray(Image.open(tmp_path / "out" / "img_mask" / "unet-pytorch/datasets/before/1.png"))
    image = np.asarray(Image.open(FIXTURES / "unet-pytorch/datasets/before/1.jpg").convert("RGB"))
    assert picture.shape[:2] == image.shape[:2]
    # far from the polygon the overlay is the photo itself, not a grey "image not found" checkerboard
    assert np.abs(picture[:40, -40:, :3].astype(int) - image[:40, -40:].astype(int)).max() <= 2


@requires_real_files
def test_real_files_to_coco_are_read_by_pycocotools(tmp_path):
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO

    report = Converter().run(FIXTURES, "labelme", tmp_path / "coco", "coco")
    assert report.unbalanced() == {} and sum(report.skipped.values()) == 0
    coco = COCO(str(tmp_path / "coco" / "coco.json"))
    sources = {f"{n[:-5]}.jpg": json.loads((FIXTURES / n).read_text("utf-8")) for n in REAL_JSON}
    assert {image["file_name"] for image in coco.dataset["images"]} == set(sources)
    for image in coco.dataset["images"]:
        source = sources[image["file_name"]]
        assert (image["width"], image["height"]) == (source["imageWidth"], source["imageHeight"])
        records = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        assert len(records) == len(source["shapes"])
        for record, raw in zip(records, source["shapes"], strict=True):
            assert coco.loadCats(record["category_id"])[0]["name"] == raw["label"]
            outline = shapely.Polygon(raw["points"])
            assert record["segmentation"] == [[float(v) for point in raw["points"] for v in point]]
            assert record["area"] == pytest.approx(outline.area)
            assert record["bbox"] == pytest.approx([*outline.bounds[:2], outline.bounds[2] - outline.bounds[0],
                                                    outline.bounds[3] - outline.bounds[1]])
            # pycocotools' own rasterisation: the polygon's pixels, give or take the ones its outline crosses
            pixels = int(coco.annToMask(record).sum())
            assert abs(pixels - outline.area) <= outline.length
            assert int(mask_utils.area(coco.annToRLE(record))) == pixels


@requires_real_files
def test_real_files_come_back_as_labelme_wrote_them(tmp_path):
    Converter().run(FIXTURES, "labelme", tmp_path / "out", "labelme")
    for name in REAL_JSON:
        source = json.loads((FIXTURES / name).read_text("utf-8"))
        written = json.loads((tmp_path / "out" / name).read_text("utf-8"))
        if name.startswith("unet"):
            assert written["imageData"] is None  # dropped by default (imagePath names the image)
        else:  # yolact's imagePath "before/0.jpg" names no file from before/: its imageData is all LabelMe opens
            assert written["imageData"] == source["imageData"]
        for key in ("version", "flags", "imagePath", "imageHeight", "imageWidth", "lineColor", "fillColor"):
            assert written[key] == source[key], key
        assert list(written)[:7] == ["version", "flags", "shapes", "imagePath", "imageData", "imageHeight",
                                     "imageWidth"]
        for mine, theirs in zip(written["shapes"], source["shapes"], strict=True):
            assert {k: mine[k] for k in theirs} == theirs  # 3.x keys kept (line_color …), as LabelMe 5 saves them
            assert (mine["group_id"], mine["description"], mine["mask"]) == (None, "", None)


@requires_real_files
def test_embedded_image_data_is_kept_with_embed(tmp_path):
    name = REAL_JSON[1]
    Converter(options=ConvertOptions(extras=EMBED)).run(FIXTURES / name, "labelme", tmp_path / "out", "labelme")
    source = json.loads((FIXTURES / name).read_text("utf-8"))
    written = json.loads((tmp_path / "out" / Path(name).name).read_text("utf-8"))
    assert written["imageData"] == source["imageData"]


# ==== every shape type LabelMe writes ===================================================================
def test_every_shape_type_reads_as_labelme_means_it(tmp_path):
    items = {c.filename: c for c in _read(rich_folder(tmp_path / "src"))}
    a, b = items["/street/a.jpg"], items["/street/b.jpg"]
    assert [x.type for x in a] == ["box", "segment", "box", "ellipse", "polyline", "polyline", "point", "binary",
                                   "class"]
    rectangle, polygon, oriented, circle, line, strip, point, mask, flag = a
    box = rectangle.annotation_definition
    assert (box.left, box.top, box.right, box.bottom, box.angle) == (10, 5, 40, 30, None)
    assert rectangle.attributes == {"occluded": True, "color": "red", "doors": 4}
    assert rectangle.object_id == polygon.object_id == "1" and polygon.description == "its outline"
    turned = oriented.annotation_definition
    assert turned.angle == pytest.approx(45)
    corners = shapely.Polygon([[20, 10], [30, 20], [25, 25], [15, 15]])
    assert shapely.Polygon(turned.corners()).symmetric_difference(corners).area < 1e-9
    wheel = circle.annotation_definition
    assert (wheel.x, wheel.y, wheel.rx, wheel.ry) == (20.5, 30.5, 5, 5) and circle.object_id is None
    assert line.annotation_definition.parts[0].tolist() == [[0, 40], [63, 38]]
    assert len(strip.annotation_definition.parts[0]) == 3
    assert (point.annotation_definition.x, point.annotation_definition.y) == (50, 8)
    # LabelMe's shapes_to_label: the window's PNG placed at its first point
    expected = np.zeros((48, 64), dtype=bool)
    expected[21:24, 32:36] = True
    expected[20, 30] = True
    np.testing.assert_array_equal(mask.annotation_definition.geo, expected)
    assert flag.type == "class" and flag.label == "rain"  # "night" is false: no classification
    assert [(p.type, p.annotation_definition.x, p.annotation_definition.y) for p in b] == [
        ("point", 5, 5), ("point", 9, 12)]


def test_labelme_to_labelme_gives_every_shape_back_as_written(tmp_path):
    src = rich_folder(tmp_path / "src")
    report = Converter().run(src, "labelme", tmp_path / "out", "labelme")
    assert not report.issues and report.unbalanced() == {}
    for name in ("street/a.json", "street/b.json"):
        source = json.loads((src / name).read_text("utf-8"))
        written = json.loads((tmp_path / "out" / name).read_text("utf-8"))
        assert list(written) == list(source)
        for key in source:
            if key != "shapes":
                assert written[key] == source[key], key
        for mine, theirs in zip(written["shapes"], source["shapes"], strict=True):
            if theirs["shape_type"] != "mask":
                assert mine == theirs
    # the mask keeps its pixels; its window is the foreground's (the source's had an empty last row and column)
    mine = json.loads((tmp_path / "out" / "street/a.json").read_text("utf-8"))["shapes"][-1]
    assert mine["points"] == [[30.0, 20.0], [35.0, 23.0]]
    window = np.asarray(Image.open(io.BytesIO(base64.b64decode(mine["mask"])))).astype(bool)
    assert window.shape == (4, 6) and window[0, 0] and window[1:4, 2:6].all() and window.sum() == 13


def test_written_masks_are_placed_by_labelme_rules(tmp_path):
    mask = np.zeros((30, 40), dtype=bool)
    mask[3:9, 10:14] = True
    mask[20, 39] = True
    item = AnnotationCollection(filename="/m.png", width=40, height=30, mimetype="image/png")
    item.add(Segmentation(geo=mask, label="spot"))
    _write([item], tmp_path / "out")
    (raw,) = json.loads((tmp_path / "out" / "m.json").read_text("utf-8"))["shapes"]
    # LabelMe 5.3's shapes_to_label: (x1, y1), (x2, y2) = points; mask[y1:y2 + 1, x1:x2 + 1] = the PNG
    (x1, y1), (x2, y2) = np.asarray(raw["points"]).astype(int)
    placed = np.zeros((30, 40), dtype=bool)
    placed[y1:y2 + 1, x1:x2 + 1] = np.asarray(Image.open(io.BytesIO(base64.b64decode(raw["mask"])))).astype(bool)
    np.testing.assert_array_equal(placed, mask)
    assert raw["shape_type"] == "mask"


# ==== writing from elsewhere ===========================================================================
def test_the_sample_becomes_labelme_files_beside_their_images(sample_dir, tmp_path):
    report = Converter().run(sample_dir, "dataloop", tmp_path / "out", "labelme")
    assert report.unbalanced() == {}
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json")
                     if not p.name.startswith("."))
    assert written == ["animals/empty_01.json", "labelmap.json", "street/scene_01.json", "street/scene_02.json"]
    scene = json.loads((tmp_path / "out" / "street/scene_01.json").read_text("utf-8"))
    assert scene["imagePath"] == "scene_01.png" and (scene["imageWidth"], scene["imageHeight"]) == (320, 240)
    assert scene["flags"] == {"daytime": True}
    kinds = [(s["label"], s["shape_type"], s["group_id"]) for s in scene["shapes"]]
    assert kinds == [("vehicle.car", "rectangle", 1), ("vehicle.car", "polygon", 2), ("vegetation", "mask", None),
                     ("lane", "linestrip", None), ("streetlamp", "point", None), ("puddle", "polygon", None),
                     ("person", "rectangle", None)]
    assert scene["shapes"][0]["attributes"] == {"color": "red"} and scene["shapes"][0]["flags"] == {}
    codes = {i.code for i in report.issues}
    assert codes == {"labelme.not-an-image", "labelme.unsupported-type", "labelme.rotated-box-as-polygon",
                     "labelme.polygon-as-mask", "labelme.ellipse-as-polygon"}
    empty = json.loads((tmp_path / "out" / "animals/empty_01.json").read_text("utf-8"))
    assert empty["shapes"] == [] and empty["imagePath"] == "empty_01.png"


def test_images_mode_copy_puts_each_image_where_image_path_says(sample_dir, tmp_path):
    options = ConvertOptions(images_mode="copy")
    Converter(options=options).run(sample_dir, "dataloop", tmp_path / "out", "labelme")
    for path in (tmp_path / "out").rglob("*.json"):
        if path.name in ("labelmap.json", ".dlconvert-output.json"):
            continue
        document = json.loads(path.read_text("utf-8"))
        image = path.parent / document["imagePath"]  # LabelMe: relative to the JSON file
        assert image.is_file()
        assert Image.open(image).size == (document["imageWidth"], document["imageHeight"])


def test_embed_writes_the_image_labelme_would_load(sample_dir, tmp_path):
    Converter(options=ConvertOptions(extras=EMBED)).run(sample_dir, "dataloop", tmp_path / "out", "labelme")
    document = json.loads((tmp_path / "out" / "street/scene_02.json").read_text("utf-8"))
    embedded = Image.open(io.BytesIO(base64.b64decode(document["imageData"])))
    original = Image.open(sample_dir / "items/street/scene_02.jpg")
    assert embedded.size == original.size == (document["imageWidth"], document["imageHeight"])
    np.testing.assert_array_equal(np.asarray(embedded), np.asarray(original))


def test_embed_applies_the_exif_orientation_as_labelme_does(tmp_path):
    from PIL import ImageOps

    image = Image.new("RGB", (40, 20), (200, 10, 10))
    image.paste((10, 200, 10), (0, 0, 10, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter turn clockwise: 20 × 40
    (tmp_path / "images").mkdir()
    image.save(tmp_path / "images" / "t.png", exif=exif)
    item = AnnotationCollection(filename="/t.png", mimetype="image/png")
    item.add(Box(left=1, top=2, right=10, bottom=12, label="x"))
    options = ConvertOptions(images=tmp_path / "images", extras=EMBED)
    report = _write([item], tmp_path / "out", options)
    assert not report.failed_files
    document = json.loads((tmp_path / "out" / "t.json").read_text("utf-8"))
    assert (document["imageWidth"], document["imageHeight"]) == (20, 40)
    embedded = Image.open(io.BytesIO(base64.b64decode(document["imageData"])))
    shown = ImageOps.exif_transpose(Image.open(tmp_path / "images" / "t.png"))
    np.testing.assert_array_equal(np.asarray(embedded.convert("RGB")), np.asarray(shown.convert("RGB")))


def test_a_folder_in_labelmes_output_layout_keeps_its_images_and_never_points_outside(tmp_path):
    # `labelme images/ --output annotations/` saves imagePath "../images/a.jpg"
    image_file(tmp_path / "project" / "images" / "a.jpg", 64, 48)
    write_labelme(tmp_path / "project" / "annotations" / "a.json",
                  [shape("cat", "rectangle", [[1, 2], [30, 40]])], image_path="../images/a.jpg")
    src = tmp_path / "project" / "annotations"
    dataset = FORMAT.read(src, ConvertOptions(), ConversionReport())
    (item,) = list(dataset.items)
    assert item.filename == "/a.jpg"
    found = ImageLookup.for_source(None, dataset).find(item)
    assert found.resolve() == (tmp_path / "project" / "images" / "a.jpg").resolve()
    report = Converter().run(src, "labelme", tmp_path / "out", "labelme")
    written = json.loads((tmp_path / "out" / "a.json").read_text("utf-8"))
    assert written["imagePath"] == "a.jpg"
    assert [i.code for i in report.issues] == ["labelme.image-path-rewritten"]


def test_an_image_path_inside_the_output_is_written_back_as_the_source_had_it(tmp_path):
    write_labelme(tmp_path / "src" / "x" / "a.json", [shape("cat", "point", [[1, 2]])], image_path="imgs\\a.jpg")
    (item,) = _read(tmp_path / "src")
    assert item.filename == "/x/imgs/a.jpg"  # where LabelMe looks for it (no such file, no embedded image)
    Converter().run(tmp_path / "src", "labelme", tmp_path / "out", "labelme")
    assert json.loads((tmp_path / "out" / "x" / "a.json").read_text("utf-8"))["imagePath"] == "imgs\\a.jpg"


def test_what_labelme_cannot_hold_is_reported_once_each(tmp_path):
    item = AnnotationCollection(filename="/a.png", width=50, height=40, mimetype="image/png")
    kept = [item.add(Box(left=1, top=1, right=5, bottom=5, label="ok")), item.add(Classification(label="sunny"))]
    skipped = {
        "labelme.no-label": item.add(Box(left=1, top=1, right=5, bottom=5)),
        "labelme.degenerate-shape": item.add(Box(left=5, top=1, right=5, bottom=5, label="flat")),
        "labelme.multi-part-line": item.add(Polyline(geo=[[[0, 0], [5, 5]], [[7, 7], [9, 9]]], label="two")),
        "labelme.mask-size": item.add(Segmentation(geo=np.ones((3, 3), bool), label="small")),
        "labelme.duplicate-flag": item.add(Classification(label="sunny")),
    }
    crowd = item.add(Polygon(geo=[[0, 0], [9, 0], [9, 9]], label="people"))
    crowd.metadata.setdefault("user", {})["coco"] = {"iscrowd": 1}
    skipped["labelme.crowd-region"] = crowd
    tag_annotations(item)
    report = ConversionReport(on_error=OnError.SKIP)
    report.read_item(item)
    _write([item], tmp_path / "out", report=report)
    assert report.unbalanced() == {}
    assert {(i.code, i.annotation_id) for i in reported(report)} == {(c, a.id) for c, a in skipped.items()}
    assert sum(report.annotations_out.values()) == len(kept)


def test_a_pinned_label_map_is_followed(tmp_path):
    item = AnnotationCollection(filename="/a.png", width=50, height=40, mimetype="image/png")
    item.add(Box(left=1, top=1, right=5, bottom=5, label="cat"))
    item.add(Box(left=1, top=1, right=5, bottom=5, label="dog"))
    options = ConvertOptions(labels=LabelMap.from_names(["cat"]))
    report = _write([item], tmp_path / "out", options)
    assert [i.code for i in reported(report)] == ["labelme.label-not-in-map"]
    shapes = json.loads((tmp_path / "out" / "a.json").read_text("utf-8"))["shapes"]
    assert [s["label"] for s in shapes] == ["cat"]


# ==== options, detection, the registry ==================================================================
def test_image_data_option_is_checked(tmp_path):
    item = AnnotationCollection(filename="/a.png", width=5, height=4, mimetype="image/png")
    with pytest.raises(OptionError, match=r"'drop'.*'embed'"):
        _write([item], tmp_path / "a", ConvertOptions(extras={"labelme_image_data": "keep"}))
    with pytest.raises(OptionError, match="did you mean 'labelme_image_data'"):
        _write([item], tmp_path / "b", ConvertOptions(extras={"labelme_imagedata": "embed"}))
    with pytest.raises(OptionError, match="neither coco nor yolo uses it"):
        Converter(options=ConvertOptions(extras=EMBED)).run(tmp_path, "coco", tmp_path / "c", "yolo")


@requires_real_files
def test_detect_reads_heads_and_names_why():
    assert detect(FIXTURES) == ("unet-pytorch/datasets/before/1.json: a JSON object with a 'shapes' list and "
                                "'imagePath'")
    assert detect(FIXTURES / REAL_JSON[1]) == "a JSON object with a 'shapes' list and 'imagePath'"
    for other in ("coco/dagshub/annotations.json", "coco/dagshub", "voc/icevision/voc", "labelme/unet-pytorch/"
                  "datasets/before/1.jpg", "dataloop/dtlpy-documentation/hamster"):
        assert detect(real_file(other)) is None, other


def test_detect_sees_a_file_whose_image_path_comes_after_megabytes_of_shapes(tmp_path):
    many = [shape("x", "polygon", [[i, 0], [i + 1, 5], [i, 9]]) for i in range(12_000)]
    path = write_labelme(tmp_path / "big.json", many)
    assert path.stat().st_size > 2 << 20
    assert detect(path).startswith("a JSON object with a 'shapes' list")
    assert detect(tmp_path) == f"big.json: {detect(path)}"
    assert detect(tmp_path / "nothing") is None


def test_detect_never_opens_a_pipe_named_like_a_labelme_file(tmp_path):
    import os

    os.mkfifo(tmp_path / "a.json")  # a plain open() would wait for a writer forever
    assert detect(tmp_path / "a.json") is None and detect(tmp_path) is None


def test_formats_lists_what_labelme_holds_and_approximates(cli_runner):
    result = cli_runner.invoke(main, ["formats"])
    assert result.exit_code == 0 and "labelme" in result.output
    spec = get_format("labelme")
    assert spec.holds == {"box", "segment", "binary", "ellipse", "polyline", "point", "class"}
    assert set(spec.approximates) == {"box (rotated)", "segment (several rings)", "ellipse (not a circle)",
                                      "track on an image"}
    assert spec.options == {"images", "labels", "images_mode", "extras"} and spec.detect is detect


def test_sharded_and_one_process_conversions_write_the_same_bytes(tmp_path, monkeypatch):
    from dlconvert import parallel

    monkeypatch.setattr(parallel, "MIN_SHARD", 5)
    sharded = []
    real_map = parallel.map_shards
    monkeypatch.setattr(parallel, "map_shards", lambda *a, **k: sharded.append(1) or real_map(*a, **k))
    src = tmp_path / "src"
    for i in range(40):
        write_labelme(src / f"d{i % 3}" / f"{i}.json",
                      [shape(f"l{i % 5}", "rectangle", [[i, 1], [i + 9, 20]], group_id=i),
                       shape("p", "polygon", [[1, 1], [20, 3], [9, 17]])], flags={"x": bool(i % 2)})
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        report = Converter(concurrency=workers).run(src, "labelme", out, "labelme")
        assert report.items_out == 40
        outputs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*")
                        if p.is_file() and not p.name.startswith(".")})
    assert outputs[0] == outputs[1] and len(outputs[0]) == 41 and sharded == [1]


# ==== round trips ======================================================================================
@st.composite
def _items(draw) -> AnnotationCollection:
    """Any image item the strategies make (every type, poses with keypoints), at an image size of its own."""
    item = draw(collections())
    item.width, item.height = draw(st.integers(1, 300)), draw(st.integers(1, 300))
    return item


@given(item=_items())
def test_dataloop_to_labelme_keeps_what_labelme_holds_and_reports_the_rest(item):
    import tempfile

    ids = [a.id for a in item if a.id is not None]
    assume(len(set(ids)) == len(ids))  # the report names annotations by id
    tag_annotations(item)
    report = ConversionReport(on_error=OnError.SKIP)
    report.read_item(item)
    with tempfile.TemporaryDirectory() as tmp:
        _write([item], Path(tmp), report=report)
        back = _read(Path(tmp))
    assert report.unbalanced() == {}
    result = compare_round_trip([item], back, report, source_format="dataloop")
    assert result.differences == [], result.summary()


@st.composite
def _held(draw) -> AnnotationCollection:
    """An image item of only what LabelMe holds as it is."""
    width, height = draw(st.integers(20, 200)), draw(st.integers(20, 200))
    item = AnnotationCollection(filename=f"/{draw(st.sampled_from(['a', 'b/c', 'ñ d']))}.png", width=width,
                                height=height, mimetype="image/png")
    label = labels()
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["box", "polygon", "circle", "line", "point", "mask", "class"]))
        if kind == "box":
            definition = draw(boxes(rotated=False, min_size=0.5))
        elif kind == "polygon":
            definition = Polygon(geo=draw(star_rings()))
        elif kind == "circle":
            radius = draw(st.floats(0.5, 100))
            definition = Ellipse(x=draw(coords()), y=draw(coords()), rx=radius, ry=radius)
        elif kind == "line":
            definition = draw(polylines())
            definition.parts = definition.parts[:1]
        elif kind == "point":
            definition = draw(points())
        elif kind == "mask":
            mask = np.zeros((height, width), dtype=bool)
            top, left = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
            mask[top: top + draw(st.integers(1, 9)), left: left + draw(st.integers(1, 9))] = True
            definition = Segmentation(geo=mask)
        else:
            definition = Classification()
        definition.label = draw(label)
        definition.attributes = draw(st.dictionaries(st.sampled_from(["a", "b", "c"]),
                                                     st.one_of(st.booleans(), st.integers(), st.text(max_size=5))))
        item.add(definition, object_id=draw(st.one_of(st.none(), st.integers(0, 10**6))))
    return item


@given(item=_held())
def test_what_labelme_holds_comes_back_unchanged_and_unreported(item):
    import tempfile

    for annotation in list(item):
        if annotation.type == "class":
            annotation.attributes = {}
    seen = set()
    item.annotations = [a for a in item if a.type != "class" or not (a.label in seen or seen.add(a.label))]
    tag_annotations(item)
    report = ConversionReport(on_error=OnError.FAIL)
    report.read_item(item)
    with tempfile.TemporaryDirectory() as tmp:
        _write([item], Path(tmp), report=report)
        back = _read(Path(tmp))
    assert reported(report) == [] and report.unbalanced() == {}
    result = compare_round_trip([item], back, report, source_format="dataloop")
    assert result.differences == [] and result.approximated == [] and result.checked == len(item)
    (returned,) = back  # group_id is the object id (an image flag has none)
    assert sorted(a.object_id or "" for a in returned if a.type != "class") == sorted(
        a.object_id or "" for a in item if a.type != "class")


_XY = st.tuples(st.floats(-5, 500, allow_nan=False), st.floats(-5, 500, allow_nan=False))


@st.composite
def _labelme_shapes(draw) -> dict:
    shape_type = draw(st.sampled_from(["rectangle", "polygon", "circle", "line", "linestrip", "point"]))
    count = {"rectangle": 2, "circle": 2, "line": 2, "point": 1}.get(shape_type)
    pts = draw(st.lists(_XY, min_size=count or 3, max_size=count or 12))
    return shape(draw(st.text(min_size=1, max_size=8)), shape_type, pts,
                 group_id=draw(st.one_of(st.none(), st.integers(-5, 10**6))),
                 description=draw(st.text(max_size=10)),
                 flags=draw(st.dictionaries(st.text(max_size=5), st.booleans(), max_size=3)))


@given(shapes=st.lists(_labelme_shapes(), max_size=8),
       flags=st.dictionaries(st.text(min_size=1, max_size=6), st.booleans(), max_size=4))
def test_labelme_files_come_back_shape_for_shape(shapes, flags):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        src = write_labelme(Path(tmp) / "src" / "a.json", shapes, flags=flags, width=500, height=500)
        out = Path(tmp) / "out"
        report = Converter(on_error=OnError.SKIP).run(src.parent, "labelme", out, "labelme")
        written = json.loads((out / "a.json").read_text("utf-8"))
    kept = [s for s in shapes if not _degenerate(s)]
    assert [i.code for i in reported(report)] == ["labelme.degenerate-shape"] * (len(shapes) - len(kept))
    assert written["flags"] == flags and list(written["flags"]) == list(flags)
    assert written["shapes"] == kept


def _degenerate(raw: dict) -> bool:
    """A shape no writer but Dataloop's writes (no area, radius or line), judged from its points alone."""
    pts = np.array(raw["points"], dtype=float)
    if raw["shape_type"] == "rectangle":
        return bool(pts[0, 0] == pts[1, 0] or pts[0, 1] == pts[1, 1])
    if raw["shape_type"] == "circle":
        return bool((pts[0] == pts[1]).all())
    if raw["shape_type"] == "polygon":
        x, y = pts[:, 0], pts[:, 1]
        return bool(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) == 0)
    return False


# ==== errors on the way in and out ====================================================================
def test_sizes_and_images_beside(tmp_path):
    image_file(tmp_path / "src" / "a.png", 33, 21)
    write_labelme(tmp_path / "src" / "a.json", [shape("x", "point", [[1, 2]])], image_path="a.png", width=None,
                  height=None)
    (item,) = _read(tmp_path / "src")
    assert (item.width, item.height) == (33, 21)  # from the image's header, as LabelMe reads it


def test_the_embedded_image_gives_the_size_as_labelme_takes_it(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20)).save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode()
    write_labelme(tmp_path / "a.json", [], image_data=data, width=99, height=20)
    report = ConversionReport()
    (item,) = _read(tmp_path / "a.json", report=report)
    assert (item.width, item.height) == (30, 20)
    assert [(i.kind, i.code) for i in report.issues] == [("warning", "labelme.size-mismatch")]


def test_a_folder_without_labelme_files_says_what_was_looked_for(tmp_path, cli_runner):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "classes.json").write_text('{"names": ["a"]}', encoding="utf-8")
    result = cli_runner.invoke(main, ["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--from", "labelme",
                                      "--to", "coco"])
    assert result.exit_code == 1
    assert "no labelme item found: looked for LabelMe *.json files" in result.stderr
    assert not (tmp_path / "out").exists()


def test_written_paths_stay_inside_the_output(tmp_path):
    item = AnnotationCollection(filename="/../../evil.png", width=5, height=5, mimetype="image/png")
    item.add(Box(left=0, top=0, right=2, bottom=2, label="x"))
    report = ConversionReport(on_error=OnError.SKIP)
    _write([item], tmp_path / "out" / "inner", report=report)
    assert not (tmp_path / "out" / "evil.json").exists() and not (tmp_path / "evil.json").exists()
    written = [p for p in (tmp_path / "out").rglob("*.json") if p.name != "labelmap.json"]
    assert all((tmp_path / "out" / "inner") in p.parents for p in written)


def test_a_rotated_box_read_from_an_oriented_rectangle_goes_back_as_one(tmp_path):
    corners = [[10, 10], [30, 20], [25, 30], [5, 20]]
    write_labelme(tmp_path / "src" / "a.json", [shape("s", "oriented_rectangle", corners)])
    (item,) = _read(tmp_path / "src")
    box = item[0].annotation_definition
    assert box.angle == pytest.approx(math.degrees(math.atan2(10, 20)))
    assert shapely.Polygon(box.corners()).symmetric_difference(shapely.Polygon(corners)).area < 1e-9
    Converter().run(tmp_path / "src", "labelme", tmp_path / "out", "labelme")
    (raw,) = json.loads((tmp_path / "out" / "a.json").read_text("utf-8"))["shapes"]
    assert raw["shape_type"] == "oriented_rectangle" and raw["points"] == [[float(x), float(y)] for x, y in corners]


def test_cli_converts_and_verifies_a_labelme_folder(tmp_path, cli_runner):
    src = rich_folder(tmp_path / "src")
    result = cli_runner.invoke(main, ["convert", str(src), str(tmp_path / "out"), "--from", "labelme", "--to",
                                      "coco", "--report", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert saved["balanced"] and saved["annotations_in"] == {"binary": 1, "box": 2, "class": 1, "ellipse": 1,
                                                             "point": 3, "polyline": 2, "segment": 1}
    shutil.rmtree(tmp_path / "out")
    result = cli_runner.invoke(main, ["verify", str(src), "--from", "labelme", "--via", "coco"])
    assert result.exit_code == 0 and "differences: 0" in result.stdout.splitlines()


@requires_real_files
def test_detect_sees_no_labelme_in_any_other_real_file_or_folder():
    root = real_file("")
    wrong = [p for p in sorted(root.rglob("*")) if "labelme" not in p.relative_to(root).parts and detect(p)]
    assert wrong == []
    assert all(detect(FIXTURES / name) for name in REAL_JSON)


def test_whatever_a_pose_holds_is_skipped_with_it(tmp_path):
    # found by hypothesis: a box whose parent is a pose came back alone, though verify counts it part of the pose
    from dlconvert import Point, Pose

    item = AnnotationCollection(filename="/a.png", width=50, height=40, mimetype="image/png")
    pose = item.add(Pose(label="person", template_id="t"))
    pose.id = "pose-1"
    children = [item.add(Point(x=3, y=4, label="nose"), parent_id="pose-1"),
                item.add(Box(left=1, top=1, right=9, bottom=9, label="car"), parent_id="pose-1")]
    tag_annotations(item)
    report = _write([item], tmp_path / "out")
    assert [(i.code, i.annotation_id) for i in reported(report)] == [
        ("labelme.unsupported-type", a.id) for a in (pose, *children)]
    assert json.loads((tmp_path / "out" / "a.json").read_text("utf-8"))["shapes"] == []
