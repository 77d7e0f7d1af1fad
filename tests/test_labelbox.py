"""Labelbox exports (read only): the real legacy exports Labelbox and Dataloop's converters shipped, and export
v2 NDJSON rows as Labelbox documents them.

Oracles: the export files themselves read with the standard library (and shapely's WKT parser for
counting polygons), pycocotools on the COCO written from them, and the pictures the shapes make
(the 2018 editors' cars stand on their wheels only when y is turned).
"""

from __future__ import annotations

import base64
import io
import json
import posixpath
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import shapely
import shapely.wkt
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from realfiles import AVAILABLE, ROOT, real_file, real_files, requires_real_files

from dlconvert import Converter
from dlconvert.cli import main
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import FormatError, OptionError
from dlconvert.formats import get_format
from dlconvert.formats.labelbox import files as labelbox_files
from dlconvert.report import ConversionReport, OnError
from dlconvert.verify import verify

LABELBOX = get_format("labelbox")
BIRD = "dataloop/dtlpy-converters-examples/labelbox/bird_gt.json"
TEST_JSON = "labelbox/labelbox/exporters/coco-exporter/test_JSON.json"  # the v4 editor (2019): y from the top
V3_XY = "labelbox/labelbox/scripts/test-fixtures/v3_xy.json"  # the v3 editor (2018): y from the bottom
V3_WKT = "labelbox/labelbox/scripts/test-fixtures/v3_wkt.json"
EMPTY_SKIPPED = "labelbox/labelbox/scripts/test-fixtures/empty_skipped.json"
REAL = real_files("labelbox", "*.json") + ([real_file(BIRD)] if AVAILABLE else [])
IMAGE_SIZE = (2560, 1440)  # the Tesla images are remote: the tests give them this size

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def _read(src, options: ConvertOptions | None = None, on_error: str = OnError.FAIL):
    report = ConversionReport(on_error=on_error)
    items = list(LABELBOX.read(Path(src), options or ConvertOptions(), report).items)
    return items, report


def _rows(name: str) -> list:
    return json.loads(real_file(name).read_text(encoding="utf-8"))


def _images_for(rows: list, folder: Path, size=IMAGE_SIZE) -> Path:
    """Blank images named as the rows' ``Labeled Data`` files: the exports' remote images are not in the corpus."""
    folder.mkdir(exist_ok=True)
    for row in rows:
        name = posixpath.basename(urlsplit(row["Labeled Data"]).path)
        external = row.get("External ID")
        for each in (name, external + ("" if posixpath.splitext(external)[1] else posixpath.splitext(name)[1])
                     if external else None):
            if each and not (folder / each).exists():
                Image.new("RGB", size, "white").save(folder / each)
    return folder


def _expected_objects(rows: list) -> int:
    """Objects and classifications in a legacy export, counted from its JSON (polygons of WKT by shapely)."""
    total = 0
    for row in rows:
        label = row["Label"]
        if not isinstance(label, dict):
            continue
        if "objects" in label:
            total += len(label["objects"]) + len(label.get("classifications", []))
            continue
        for value in label.values():
            if isinstance(value, str):
                geometry = shapely.wkt.loads(value)
                total += len(getattr(geometry, "geoms", [geometry]))
            else:
                total += len(value)
    return total


# ==== real files ========================================================================================
@requires_real_files
@pytest.mark.parametrize("path", REAL, ids=lambda p: str(p).split("fixtures/")[-1] if p else "none")
def test_every_object_of_a_real_export_arrives_or_is_reported(path, tmp_path):
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert LABELBOX.detect(path) is not None
    items, report = _read(path, ConvertOptions(images=_images_for(rows, tmp_path / "images")))
    arrived = sum(len(item) for item in items)
    not_read = sum(report.skipped.values())
    assert arrived + not_read == _expected_objects(rows)
    assert not_read == sum(1 for i in report.issues if i.kind == "skipped" and i.annotation_type)
    assert all(i.path == str(path) and i.where.startswith("/") for i in report.issues)


@requires_real_files
def test_the_v4_editor_measures_from_the_top_and_its_shapes_are_read_as_they_are():
    rows = _rows(TEST_JSON)
    items, report = _read(real_file(TEST_JSON))  # no image needed: nothing to turn
    assert report.issues == [] and len(items) == len(rows) == 27
    first = items[0]
    assert first.filename == "/2007_007698.jpg"  # External ID "2007_007698" + the row data's extension
    ring = [(p["x"], p["y"]) for p in rows[0]["Label"]["aeroplane"][0]["geometry"]]
    assert ring[0] == ring[-1]  # Labelbox repeats the first point
    assert first[0].annotation_definition.parts[0].tolist() == [list(p) for p in ring[:-1]]
    # several objects of a class, and several classes, in one item
    cows = next(i for i in items if i.filename == "/2008_003094.jpg")
    assert sorted({a.label for a in cows}) == ["cow", "person"] and len(cows) == 17


@requires_real_files
def test_the_2018_editors_measure_from_the_bottom_and_are_turned_with_the_image_height(tmp_path):
    rows = _rows(V3_XY)
    images = _images_for(rows, tmp_path / "images")
    items, report = _read(real_file(V3_XY), ConvertOptions(images=images))
    assert report.issues == []
    height = IMAGE_SIZE[1]
    for row, item in zip(rows, items, strict=True):
        points = np.array([(p["x"], height - p["y"]) for p in row["Label"]["Car"][0]["geometry"]], dtype=float)
        assert item[0].annotation_definition.parts[0].tolist() == points.tolist()
        assert (item.width, item.height) == IMAGE_SIZE  # read from the image's header


@requires_real_files
def test_v3_wkt_and_v3_xy_are_the_same_labels_in_two_encodings(tmp_path):
    images = _images_for(_rows(V3_XY), tmp_path / "images")
    wkt, _ = _read(real_file(V3_WKT), ConvertOptions(images=images))
    xy, _ = _read(real_file(V3_XY), ConvertOptions(images=images))
    for a, b in zip(wkt, xy, strict=True):
        assert a.filename == b.filename
        assert shapely.Polygon(a[0].annotation_definition.parts[0]).equals(
            shapely.Polygon(b[0].annotation_definition.parts[0]))


@requires_real_files
def test_a_bottom_measured_export_without_its_images_says_what_to_give(tmp_path):
    with pytest.raises(FormatError) as caught:
        _read(real_file(V3_XY))
    assert caught.value.path == str(real_file(V3_XY)) and caught.value.where == "/0/Label/Car/0"
    assert "--images" in caught.value.message and "Red_Bay-1440.jpg" in caught.value.message
    items, report = _read(real_file(V3_XY), on_error=OnError.SKIP)
    assert sum(len(i) for i in items) == 0 and report.skipped == {"segment": 10}
    assert {i.code for i in report.issues} == {"labelbox.image-height-unknown"}
    # the user who knows better says so
    items, report = _read(real_file(V3_XY), ConvertOptions(extras={"labelbox_y_origin": "top"}))
    assert report.issues == [] and sum(len(i) for i in items) == 10


@requires_real_files
def test_the_rectangle_tool_of_the_legacy_editor_gives_a_box(tmp_path):
    name = "labelbox/labelbox/scripts/test-fixtures/v3_wkt_rectangle.json"
    images = _images_for(_rows(name), tmp_path / "images")
    items, _ = _read(real_file(name), ConvertOptions(images=images))
    box = items[0][0]
    height = IMAGE_SIZE[1]  # POLYGON ((356 420, 356 74, 1198 74, 1198 420, 356 420)), y from the bottom
    assert box.type == "box" and box.annotation_definition.bounds() == (356, height - 420, 1198, height - 74)
    assert box.metadata["user"]["labelbox"]["color"] == "blue"


@requires_real_files
def test_the_dtlpy_converters_sample_every_kind_of_object():
    items, report = _read(real_file(BIRD))  # URL masks are reported, not an error
    (item,) = items
    raw = _rows(BIRD)[0]["Label"]
    assert item.filename == "/image-1.jpg"
    assert [(a.type, a.label) for a in item] == [
        ("box", "Frog"), ("box", "Plant"), ("segment", "Bird poly"), ("segment", "Bird poly"), ("point", "Frog pt"),
        ("point", "Frog pt"), ("polyline", "Person line"), ("class", "Bird cls")]
    frog = raw["objects"][1]["bbox"]
    assert item[0].annotation_definition.bounds() == (frog["left"], frog["top"], frog["left"] + frog["width"],
                                                       frog["top"] + frog["height"])
    assert item[-1].attributes == {"Bird cls": "ddddd"}
    assert item[0].metadata["user"]["labelbox"]["featureId"] == raw["objects"][1]["featureId"]
    assert [(i.code, i.label, i.where) for i in report.issues] == [
        ("labelbox.mask-not-fetched", "Bird", "/0/Label/objects/0"),
        ("labelbox.mask-not-fetched", "dsadas", "/0/Label/objects/7")]
    assert report.skipped == {"binary": 2} and report.annotations_in == {"binary": 2}


@requires_real_files
def test_a_skipped_label_is_no_item_and_an_empty_one_is(tmp_path):
    items, report = _read(real_file(EMPTY_SKIPPED))
    assert [(i.filename, len(i)) for i in items] == [("/2017_tesla_model-s_LIFE1_ot_209175_1280.jpg", 0)]
    (issue,) = report.issues
    assert issue.code == "labelbox.not-labelled" and issue.where == "/0" and issue.annotation_type is None


@requires_real_files
@pytest.mark.parametrize("name", [TEST_JSON, BIRD, V3_XY])
def test_real_exports_convert_to_coco_that_pycocotools_reads(name, tmp_path):
    from pycocotools.coco import COCO

    images = _images_for(_rows(name), tmp_path / "images", size=(4000, 6000))
    converter = Converter(options=ConvertOptions(images=images), on_error=OnError.SKIP)
    report = converter.run(real_file(name), "labelbox", tmp_path / "coco", "coco")
    assert not report.unbalanced()
    coco = COCO(str(tmp_path / "coco" / "coco.json"))
    items, _ = _read(real_file(name), ConvertOptions(images=images))
    regions = [a for item in items for a in item if a.type in ("box", "segment")]
    assert len(coco.getAnnIds()) == len(regions) == report.annotations_out["box"] + report.annotations_out["segment"]
    for record, annotation in zip(coco.loadAnns(coco.getAnnIds()), regions, strict=True):
        left, top, right, bottom = annotation.annotation_definition.bounds()
        assert record["bbox"] == pytest.approx([left, top, right - left, bottom - top])
        assert coco.annToMask(record).any()


def _verify_cases() -> list:
    if not AVAILABLE:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason="no real files"))]
    cases = []
    for name in (TEST_JSON, V3_XY, EMPTY_SKIPPED, BIRD):
        for via in ("dataloop", "coco", "voc", "yolo", "vtt", "labelme", "labelstudio"):
            cases.append(pytest.param(name, via, id=f"{name.rsplit('/', 1)[-1]}->{via}"))
    return cases


@requires_real_files
@pytest.mark.parametrize(("name", "via"), _verify_cases())
def test_verify_agrees_with_the_report(name, via, tmp_path):
    images = _images_for(_rows(name), tmp_path / "images", size=(4000, 6000))
    result = verify(real_file(name), "labelbox", via, options=ConvertOptions(images=images))
    assert result.differences == [], result.summary(limit=5)
    assert result.found_missing == result.reported_skipped
    assert result.found_changed == result.reported_approximated


@requires_real_files
def test_detection_says_why_and_claims_no_other_format():
    assert "legacy JSON export" in LABELBOX.detect(real_file(BIRD))
    assert LABELBOX.detect(real_file("labelbox/labelbox/scripts/fixtures")).startswith("labelbox2coco_1.json: ")
    others = [p for p in ROOT.rglob("*") if p.suffix.lower() in (".json", ".ndjson", ".jsonl") and p.is_file()
              and "labelbox" not in p.relative_to(ROOT).as_posix()]
    assert len(others) > 100
    assert [p for p in others if LABELBOX.detect(p) is not None] == []


# ==== export v2 (NDJSON) ================================================================================
def _png(mask: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _v2_row(objects=(), classifications=(), *, data_row=None, media=None, relationships=()) -> dict:
    return {"data_row": data_row or {"id": "dr1", "external_id": "street/a.jpg",
                                     "row_data": "https://storage.example/a.jpg?Expires=1"},
            "media_attributes": media or {"height": 40, "width": 60, "mime_type": "image/jpeg"},
            "projects": {"p1": {"name": "roads", "labels": [{
                "id": "label1", "label_details": {"created_by": "a@example.com"},
                "annotations": {"objects": list(objects), "classifications": list(classifications),
                                "relationships": list(relationships)}}]}}}


def _ndjson(path: Path, *rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_an_export_v2_row_every_kind_of_feature(tmp_path):
    composite = np.zeros((40, 60, 3), np.uint8)
    composite[5:15, 10:30] = (255, 0, 0)
    composite[20:30, 40:50] = (0, 255, 0)
    objects = [
        {"feature_id": "f1", "feature_schema_id": "s1", "name": "car", "value": "car",
         "annotation_kind": "ImageBoundingBox", "bounding_box": {"top": 5.0, "left": 10.0, "height": 10.0, "width": 20},
         "classifications": [{"name": "colour", "radio_answer": {"name": "red", "classifications": [
             {"name": "shade", "text_answer": {"content": "dark"}}]}},
             {"name": "parts", "checklist_answers": [{"name": "door"}, {"name": "wheel"}]}]},
        {"feature_id": "f2", "name": "road", "annotation_kind": "ImagePolygon",
         "polygon": [{"x": 0, "y": 20}, {"x": 60, "y": 20}, {"x": 55, "y": 40}, {"x": 0, "y": 20}]},
        {"feature_id": "f3", "name": "lane", "annotation_kind": "ImagePolyline",
         "line": [{"x": 1, "y": 39}, {"x": 30, "y": 21}]},
        {"feature_id": "f4", "name": "pothole", "annotation_kind": "ImagePoint", "point": {"x": 33.5, "y": 30}},
        {"feature_id": "f5", "name": "tree", "annotation_kind": "ImageSegmentationMask",
         "composite_mask": {"png": _png(composite), "color_rgb": [0, 255, 0]}},
        {"feature_id": "f6", "name": "sky", "annotation_kind": "ImageSegmentationMask",
         "mask": {"url": "https://api.labelbox.com/api/v1/projects/p1/annotations/f6/index/1/mask"}},
        {"feature_id": "f7", "name": "thing", "annotation_kind": "ImageCuboid", "cuboid": {}},
    ]
    classifications = [{"feature_id": "g1", "name": "weather", "radio_answer": {"name": "sunny"}},
                        {"name": "tags", "checklist_answers": [{"name": "urban"}, {"name": "day"}]},
                        {"name": "note", "text_answer": {"content": "fine"}}]
    relation = {"name": "on", "relationship": {"source": "f1", "target": "f2", "type": "unidirectional"}}
    path = _ndjson(tmp_path / "export.ndjson", _v2_row(objects, classifications, relationships=[relation]))
    (item,), report = _read(path)
    assert (item.filename, item.width, item.height, item.mimetype) == ("/street/a.jpg", 60, 40, "image/jpeg")
    assert [(a.type, a.label) for a in item] == [("box", "car"), ("segment", "road"), ("polyline", "lane"),
                                                 ("point", "pothole"), ("binary", "tree"), ("class", "weather"),
                                                 ("class", "tags"), ("class", "note")]
    car, road, lane, pothole, tree, weather, tags, note = item
    assert car.annotation_definition.bounds() == (10, 5, 30, 15)
    assert car.attributes == {"colour": "red", "shade": "dark", "parts": ["door", "wheel"]}
    assert road.annotation_definition.parts[0].tolist() == [[0, 20], [60, 20], [55, 40]]  # closing point dropped
    assert lane.annotation_definition.parts[0].tolist() == [[1, 39], [30, 21]]
    assert (pothole.annotation_definition.x, pothole.annotation_definition.y) == (33.5, 30)
    assert np.array_equal(tree.annotation_definition.geo, (composite == (0, 255, 0)).all(axis=2))
    assert (weather.attributes, tags.attributes, note.attributes) == (
        {"weather": "sunny"}, {"tags": ["urban", "day"]}, {"note": "fine"})
    assert car.metadata["user"]["labelbox"] == {"project_id": "p1", "label_id": "label1", "feature_id": "f1",
                                                "feature_schema_id": "s1", "value": "car",
                                                "annotation_kind": "ImageBoundingBox"}
    kept = item.to_json()["metadata"]["user"]["labelbox"]
    assert kept["relationships"] == [relation] and kept["labels"][0]["id"] == "label1"
    assert [(i.code, i.annotation_type, i.label, i.where) for i in report.issues] == [
        ("labelbox.mask-not-fetched", "binary", "sky", "line 1 /projects/p1/labels/0/annotations/objects/5"),
        ("labelbox.unsupported-object", "unknown", "thing", "line 1 /projects/p1/labels/0/annotations/objects/6")]


def test_an_export_v2_saved_as_a_json_list_reads_the_same(tmp_path):
    rows = [_v2_row([{"name": "car", "bounding_box": {"top": 1, "left": 2, "height": 3, "width": 4}}]),
            _v2_row([{"name": "bus", "point": {"x": 1, "y": 2}}], data_row={"id": "dr2", "external_id": "b.png"})]
    lines, _ = _read(_ndjson(tmp_path / "export.ndjson", *rows))
    (tmp_path / "list").mkdir()
    (tmp_path / "list" / "export.json").write_text(json.dumps(rows), encoding="utf-8")
    listed, _ = _read(tmp_path / "list")
    assert [c.to_json() for c in lines] == [c.to_json() for c in listed]
    assert "a JSON list of data rows" in LABELBOX.detect(tmp_path / "list")


def test_labels_of_several_projects_and_labellers_join_one_item(tmp_path):
    row = _v2_row([{"name": "car", "point": {"x": 1, "y": 2}}])
    row["projects"]["p2"] = {"labels": [{"id": "l2", "annotations": {"objects": [{"name": "bus", "point": {
        "x": 3, "y": 4}}]}}, {"id": "l3", "annotations": {"classifications": [
            {"name": "q", "radio_answer": {"name": "a"}}]}}]}
    (item,), _ = _read(_ndjson(tmp_path / "e.ndjson", row))
    assert [(a.label, a.metadata["user"]["labelbox"]["label_id"]) for a in item] == [
        ("car", "label1"), ("bus", "l2"), ("q", "l3")]


def test_item_names(tmp_path):
    rows = [_v2_row([{"name": "a", "point": {"x": 1, "y": 1}}], data_row={"id": "1", "row_data": "https://h/x%2Fy.png?s"}),
            _v2_row([{"name": "a", "point": {"x": 1, "y": 1}}], data_row={"id": "2", "external_id": "shot",
                                                                         "row_data": "https://h/shot.webp"}),
            _v2_row([{"name": "a", "point": {"x": 1, "y": 1}}], data_row={"id": "3", "global_key": "k/c.jpg"})]
    items, _ = _read(_ndjson(tmp_path / "e.ndjson", *rows))
    assert [i.filename for i in items] == ["/y.png", "/shot.webp", "/k/c.jpg"]


# ==== untrusted input ===================================================================================
def test_a_bad_line_is_named_by_file_and_line_and_the_others_are_read(tmp_path):
    path = tmp_path / "e.ndjson"
    good = json.dumps(_v2_row([{"name": "a", "point": {"x": 1, "y": 1}}]))
    path.write_text(good + "\n{\"data_row\": \n" + good.replace("dr1", "dr9") + "\n", encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        _read(path)
    assert caught.value.path == str(path) and caught.value.where.startswith("line 2 column ")
    items, report = _read(path, on_error=OnError.SKIP)
    assert len(items) == 2 and [i.code for i in report.issues] == ["labelbox.invalid-row"]


def test_a_bad_value_is_named_by_its_json_pointer(tmp_path):
    row = _v2_row([{"name": "ok", "point": {"x": 1, "y": 1}},
                   {"name": "car", "bounding_box": {"top": "5", "left": 1, "height": 2, "width": 3}}])
    path = _ndjson(tmp_path / "e.ndjson", row)
    with pytest.raises(FormatError) as caught:
        _read(path)
    assert str(caught.value) == (f"{path}:line 1 /projects/p1/labels/0/annotations/objects/1/bounding_box/top: "
                                 "expected a number, got a string")
    (item,), report = _read(path, on_error=OnError.SKIP)
    assert len(item) == 1 and report.skipped == {"box": 1} and report.annotations_in == {"box": 1}


def test_overlong_lines_and_files_are_refused_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(labelbox_files, "MAX_LINE_BYTES", 600)
    long_row = _v2_row([{"name": "x" * 700, "point": {"x": 1, "y": 1}}])
    path = _ndjson(tmp_path / "e.ndjson", long_row, _v2_row([{"name": "a", "point": {"x": 1, "y": 1}}],
                                                            data_row={"id": "2", "external_id": "b.jpg"}))
    items, report = _read(path, on_error=OnError.SKIP)
    assert [i.filename for i in items] == ["/b.jpg"]
    assert report.issues[0].where == "line 1" and "longer than 600 bytes" in report.issues[0].message
    monkeypatch.setattr(labelbox_files, "MAX_JSON_BYTES", 100)
    (tmp_path / "e.json").write_text(json.dumps([long_row]), encoding="utf-8")
    with pytest.raises(FormatError, match="read whole, up to 100 bytes"):
        _read(tmp_path / "e.json")


def test_absurd_nesting_and_names_are_refused(tmp_path):
    nested: dict = {"name": "q", "text_answer": {"content": "x"}}
    for _ in range(40):
        nested = {"name": "q", "radio_answer": {"name": "a", "classifications": [nested]}}
    path = _ndjson(tmp_path / "e.ndjson", _v2_row(classifications=[nested]))
    with pytest.raises(FormatError, match="nested more than 32 deep"):
        _read(path)
    path = _ndjson(tmp_path / "f.ndjson", _v2_row([{"name": "n" * 5000, "point": {"x": 1, "y": 1}}]))
    with pytest.raises(FormatError, match="at most 4096"):
        _read(path)


def test_a_data_row_read_twice_is_refused_naming_the_first(tmp_path):
    row = _v2_row([{"name": "a", "point": {"x": 1, "y": 1}}])
    _ndjson(tmp_path / "a.ndjson", row)
    _ndjson(tmp_path / "b.ndjson", row)
    with pytest.raises(FormatError, match=r"read before, at .*a\.ndjson:line 1"):
        _read(tmp_path)
    items, report = _read(tmp_path, on_error=OnError.SKIP)
    assert len(items) == 1 and [(i.code, i.where) for i in report.issues] == [("labelbox.duplicate-data-row", "line 1")]


def test_a_video_data_row_is_not_read_as_an_image(tmp_path):
    path = _ndjson(tmp_path / "e.ndjson", _v2_row(media={"width": 10, "height": 10, "mime_type": "video/mp4"}))
    with pytest.raises(FormatError, match="video/mp4: dlconvert reads Labelbox image labels only"):
        _read(path)


def test_names_from_the_data_never_leave_the_output(tmp_path):
    row = _v2_row([{"name": "a", "bounding_box": {"top": 1, "left": 1, "height": 5, "width": 5}}],
                  data_row={"id": "1", "external_id": "../../escaped.jpg"})
    path = _ndjson(tmp_path / "e.ndjson", row)
    for fmt in ("voc", "dataloop", "yolo"):
        Converter(on_error=OnError.SKIP).run(path, "labelbox", tmp_path / "out" / fmt, fmt)
        written = [p for p in tmp_path.rglob("escaped*")]
        assert written and all((tmp_path / "out" / fmt) in p.parents for p in written if fmt in p.parts)
    assert {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("escaped*")} == {"out"}


def test_options_are_checked():
    with pytest.raises(OptionError, match="labelbox_y_origin"):
        LABELBOX.read(Path("."), ConvertOptions(extras={"labelbox_y_origin": "middle"}), ConversionReport())
    with pytest.raises(OptionError, match="unknown Labelbox option"):
        LABELBOX.read(Path("."), ConvertOptions(extras={"labelbox_origin": "top"}), ConversionReport())


def test_the_cli_converts_and_fails_in_one_line(tmp_path, cli_runner):
    path = _ndjson(tmp_path / "e.ndjson", _v2_row([{"name": "car", "bounding_box": {
        "top": 5, "left": 10, "height": 10, "width": 20}}]))
    result = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "coco"), "--from", "labelbox",
                                      "--to", "coco"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "coco" / "coco.json").read_text())["annotations"][0]["bbox"] == [10, 5, 20, 10]
    bad = _ndjson(tmp_path / "bad.ndjson", _v2_row([{"name": "car", "polygon": [{"x": 1}]}]))
    result = cli_runner.invoke(main, ["convert", str(bad), str(tmp_path / "out"), "--from", "labelbox",
                                      "--to", "coco"])
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    assert result.stderr.strip() == (f"error: {bad}:line 1 /projects/p1/labels/0/annotations/objects/0/polygon/0: "
                                     "point is missing 'y'")


# ==== reading is exact (hypothesis) ======================================================================
_coordinate = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
_point = st.fixed_dictionaries({"x": _coordinate, "y": _coordinate})
_name = st.text(min_size=1, max_size=12)
_objects = st.lists(st.one_of(
    st.fixed_dictionaries({"name": _name, "bounding_box": st.fixed_dictionaries(
        {"top": _coordinate, "left": _coordinate, "height": _coordinate, "width": _coordinate})}),
    st.fixed_dictionaries({"name": _name, "point": _point}),
    st.fixed_dictionaries({"name": _name, "line": st.lists(_point, min_size=2, max_size=6)}),
    st.fixed_dictionaries({"name": _name, "polygon": st.lists(_point, min_size=3, max_size=8)})), max_size=6)


@given(objects=_objects)
def test_every_generated_object_reads_back_exactly(objects, tmp_path_factory):
    path = _ndjson(tmp_path_factory.mktemp("e") / "e.ndjson", _v2_row(objects))
    items, report = _read(path)
    annotations = [a for item in items for a in item]
    assert len(annotations) == len(objects) and report.issues == []
    for annotation, obj in zip(annotations, objects, strict=True):
        definition = annotation.annotation_definition
        assert annotation.label == obj["name"]
        if "bounding_box" in obj:
            b = obj["bounding_box"]
            assert (definition.left, definition.top, definition.width, definition.height) == pytest.approx(
                (b["left"], b["top"], b["width"], b["height"]))
        elif "point" in obj:
            assert (definition.x, definition.y) == (obj["point"]["x"], obj["point"]["y"])
        else:
            points = [[p["x"], p["y"]] for p in obj.get("line") or obj["polygon"]]
            if "polygon" in obj and len(points) > 1 and points[0] == points[-1]:
                points = points[:-1]
            ring = definition.parts[0].tolist()
            if definition.type == "box":  # an upright rectangle: the same four corners
                assert sorted(map(tuple, points)) == sorted(
                    {(definition.left, definition.top), (definition.right, definition.top),
                     (definition.left, definition.bottom), (definition.right, definition.bottom)})
            else:
                assert ring == points


def test_legacy_rows_of_one_data_row_are_one_item(tmp_path):
    row = {"ID": "l1", "DataRow ID": "d1", "Labeled Data": "https://h/a.jpg", "External ID": "a.jpg",
           "View Label": "https://editor.labelbox.com?project=p&label=l1",
           "Label": {"objects": [{"featureId": "f1", "title": "cat", "point": {"x": 1, "y": 2}}],
                     "classifications": []}}
    second = {**row, "ID": "l2", "Label": {"objects": [{"featureId": "f2", "title": "dog",
                                                        "bbox": {"top": 1, "left": 1, "height": 2, "width": 2}}]}}
    other = {**row, "ID": "l3", "DataRow ID": "d2", "External ID": "b.jpg", "Label": "Skip"}
    (tmp_path / "export.json").write_text(json.dumps([row, other, second]), encoding="utf-8")
    (item,), report = _read(tmp_path / "export.json")
    assert [(a.label, a.metadata["user"]["labelbox"]["label_id"]) for a in item] == [("cat", "l1"), ("dog", "l2")]
    assert [label["ID"] for label in item.to_json()["metadata"]["user"]["labelbox"]["labels"]] == ["l1", "l2"]
    assert [(i.code, i.where) for i in report.issues] == [("labelbox.not-labelled", "/1")]
