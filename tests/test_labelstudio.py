"""Label Studio JSON: percent coordinates and rotations, every result of the real exports, the labelling
config, image paths, several annotators and cancelled annotations, bad input and detection (the brush RLE:
``test_labelstudio_rle.py``; JSON_MIN: ``test_labelstudio_json_min.py``).

Oracles: label-studio-converter's own test expectations (its YOLO and YOLO-OBB numbers for the same exports),
the reader's own formula for which pixels a percentage can give, and the files' own JSON read with the
standard library.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from realfiles import real_file, requires_real_files

from dlconvert import Box, Point
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import FormatError, InvalidAnnotationError
from dlconvert.formats import get_format
from dlconvert.formats.labelstudio.layout import detect
from dlconvert.formats.labelstudio.media import filename_of
from dlconvert.formats.labelstudio.results import definition_of, shape_value
from dlconvert.formats.labelstudio.rle import encode_mask
from dlconvert.report import ConversionReport, OnError

LS = "labelstudio"
CONVERTER = "labelstudio/label-studio-converter/tests/data"
FRONTEND = "labelstudio/label-studio-frontend/examples"
EXPORT = "labelstudio/comparing-data-markup/resourses/label_studio/export/project-1-at-2025-06-19-14-54-b0c66fa7.json"
MAGIC_WAND = f"{FRONTEND}/image_magic_wand/annotations/1.json"


def _read(path, on_error=OnError.FAIL, **options):
    report = ConversionReport(on_error=on_error, source=str(path))
    dataset = get_format(LS).read(Path(path), ConvertOptions(**options), report)
    return list(dataset.items), dataset, report


def _results(path) -> list[dict]:
    """Every result of every annotation, completion and prediction of a file, read with the json module."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    tasks = data if isinstance(data, list) else [data]
    return [r for t in tasks for key in ("annotations", "completions", "predictions") for g in t.get(key) or []
            for r in g["result"]]


# ==== coordinates: exact where a percentage can be ===========================================================
def _reads_back(target: float, size: int, start: float = 0.0) -> bool:
    """Whether some float near the percentage reads back (start + percent / 100 * size) as ``target`` exactly."""
    nearest = (target - start) / size * 100
    candidates = [nearest]
    for direction in (math.inf, -math.inf):
        value = nearest
        for _ in range(8):
            value = math.nextafter(value, direction)
            candidates.append(value)
    return any(start + value / 100 * size == target for value in candidates)


@given(st.integers(1, 20000), st.data())
def test_pixels_come_back_exactly_wherever_a_percentage_can_give_them(width, data):
    height = data.draw(st.integers(1, 20000))
    xs = sorted(data.draw(st.lists(st.one_of(st.integers(0, width), st.floats(0, width)), min_size=2, max_size=2)))
    ys = sorted(data.draw(st.lists(st.one_of(st.integers(0, height), st.floats(0, height)), min_size=2,
                                   max_size=2)))
    box = Box(left=xs[0], top=ys[0], right=xs[1], bottom=ys[1])
    kind, value = shape_value(box, width, height)
    back = definition_of({"type": "rectanglelabels", "value": value}, kind, width, height)
    for mine, theirs, size, start in ((back.left, box.left, width, 0.0), (back.top, box.top, height, 0.0),
                                      (back.right, box.right, width, back.left),
                                      (back.bottom, box.bottom, height, back.top)):
        assert mine == theirs or not _reads_back(theirs, size, start)
        assert mine == pytest.approx(theirs, rel=1e-12, abs=1e-9)
    point = Point(x=xs[0], y=ys[1])
    kind, value = shape_value(point, width, height)
    back = definition_of({"type": "keypointlabels", "value": value}, kind, width, height)
    assert back.x == point.x or not _reads_back(point.x, width)
    assert back.y == point.y or not _reads_back(point.y, height)


def test_whole_pixels_that_the_nearest_percentage_misses_come_back_exactly():
    # 1/3*100 is 33.33333333333333, which reads back as 0.9999999999999998; the next float up reads back as 1
    kind, value = shape_value(Point(x=1, y=1), 3, 3)
    assert value["x"] != 1 / 3 * 100
    assert definition_of({"type": "keypoint", "value": value}, kind, 3, 3).x == 1


# ==== coordinates: label-studio-converter's own numbers ===================================================
@requires_real_files
def test_boxes_match_label_studio_converters_yolo_numbers():
    # tests/test_export_yolo.py::test_convert_annotation_to_yolo_format, on the same boxes of data.json
    expected = {"C7oHaRDVVC": (0.39253187613843354, 0.7304189435336975, 0.04189435336976321, 0.04735883424408015),
                "9GLz8g9skg": (0.5969531379367445, 0.6519291273389635, 0.03808577579069383, 0.04636529226693169),
                "ipBS_GBGZp": (0.39799635701275043, 0.7404371584699453, 0.03825136612021857, 0.04553734061930784)}
    items, _, _ = _read(real_file(f"{CONVERTER}/test_export_yolo/data.json"))
    boxes = {a.id: a.annotation_definition for c in items for a in c}
    for region, (cx, cy, w, h) in expected.items():
        box = boxes[region]
        assert not box.is_rotated
        assert ((box.left + box.right) / 2 / 2800, (box.top + box.bottom) / 2 / 2800) == pytest.approx((cx, cy),
                                                                                                      abs=1e-12)
        assert ((box.right - box.left) / 2800, (box.bottom - box.top) / 2800) == pytest.approx((w, h), abs=1e-12)


#: tests/test_export_yolo.py::test_convert_annotation_to_yolo_obb_format: the corners label-studio-converter
#: computes (normalised; top left, top right, bottom right, bottom left) for two boxes of data_obb.json.
OBB_CORNERS = {
    "TSpc2wAqVz": [(0.32940009098188566, 0.7738909168266751), (0.4078648636432219, 0.7579911558782483),
                   (0.43217208011269465, 0.830475727539231), (0.35370730745135837, 0.8463754884876579)],
    "1hosi4rK9f": [(0.16814074232397513, 0.5743596079245723), (0.29990750552628187, 0.6721650332758418),
                   (0.24395249444460837, 0.7177171056620688), (0.11218573124230163, 0.6199116803107994)],
}


@requires_real_files
def test_a_rectangle_turns_about_its_top_left_corner_as_label_studio_converter_says():
    items, _, _ = _read(real_file(f"{CONVERTER}/test_export_yolo/data_obb.json"))
    boxes = {a.id: a.annotation_definition for c in items for a in c}
    assert len(boxes) == 25 and all(b.is_rotated for b in boxes.values())
    for region, corners in OBB_CORNERS.items():
        ours = boxes[region].corners() / np.array([597, 768])
        np.testing.assert_allclose(ours, corners, atol=1e-12)


@requires_real_files
def test_rotated_rectangles_become_the_yolo_obb_lines_label_studio_converter_writes(tmp_path, cli_runner):
    result = cli_runner.invoke(main, ["convert", str(real_file(f"{CONVERTER}/test_export_yolo/data_obb.json")),
                                      str(tmp_path / "out"), "--from", LS, "--to", "yolo", "--task", "obb"])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out/labels/train/image1.txt").read_text().splitlines()
    assert len(lines) == 23  # the converter's test: 23 boxes in image1.txt
    written = [np.array(line.split()[1:], dtype=float).reshape(4, 2) for line in lines]
    for corners in OBB_CORNERS.values():  # the same corners, in the same order, to the 6 decimals written
        assert any(np.allclose(w, corners, atol=5e-7) for w in written)


# ==== every result of the real files arrives ==============================================================
LS_FILES = [f"{CONVERTER}/test_export_yolo/data.json", f"{CONVERTER}/test_export_yolo/data_obb.json",
            f"{CONVERTER}/test_export_yolo/data_polygons.json", f"{CONVERTER}/test_export_json_min/data.json",
            f"{CONVERTER}/test_export_json_min/data_repeater.json", f"{CONVERTER}/test_export_csv/csv_test.json",
            f"{CONVERTER}/test_export_csv/csv_test2.json", f"{CONVERTER}/test_export_csv/csv_test_history.json",
            "labelstudio/label-studio-converter/test/fixtures/completions/348.json",
            "labelstudio/label-studio-converter/tests/pathtrack/ls-video.json", EXPORT,
            "labelstudio/comparing-data-markup/docs/use_case/data/project-14-at-2025-06-25-13-18-72190ffe.json",
            *(f"{FRONTEND}/{name}" for name in (
                "image_bbox/annotations/1.json", "image_bbox/tasks.json", "image_ellipses/annotations/1.json",
                "image_ellipses/tasks.json", "image_keypoints/annotations/0.json", "image_keypoints/tasks.json",
                "image_magic_wand/annotations/1.json", "image_magic_wand/tasks.json",
                "image_multilabel/annotations/1.json", "image_multilabel/tasks.json",
                "image_polygons/annotations/0.json", "image_polygons/tasks.json"))]


def _arrived(items) -> list[str]:
    """The results the annotations were read from (each region once), as canonical JSON."""
    seen, out = set(), []
    for collection in items:
        for annotation in collection:
            kept = annotation.metadata["user"][LS]
            if annotation.type.startswith(LS + "."):
                out.append(json.dumps(annotation.annotation_definition.coordinates, sort_keys=True))
                continue
            key = (collection.filename, kept["from"], kept["index"], kept["region"],
                   json.dumps(kept["results"], sort_keys=True))
            if key not in seen:
                seen.add(key)
                out.extend(json.dumps(r, sort_keys=True) for r in kept["results"])
    return sorted(out)


@requires_real_files
@pytest.mark.parametrize("name", LS_FILES)
def test_every_result_of_a_real_file_arrives(name):
    path = real_file(name)
    items, _, report = _read(path)
    assert _arrived(items) == sorted(json.dumps(r, sort_keys=True) for r in _results(path))
    assert report.failed_files == []


@requires_real_files
def test_a_real_export_reads_in_pixels():
    path = real_file(EXPORT)
    items, dataset, _ = _read(path)
    tasks = json.loads(path.read_text(encoding="utf-8"))
    assert len(items) == 14 and sum(len(c) for c in items) == 24
    first = tasks[0]["annotations"][0]["result"][0]
    box = items[0][0].annotation_definition
    w, h = first["original_width"], first["original_height"]
    value = first["value"]
    assert (box.left, box.top) == (value["x"] / 100 * w, value["y"] / 100 * h)
    assert box.right == pytest.approx((value["x"] + value["width"]) / 100 * w, abs=1e-9)
    assert items[0].filename == "/48c220e9-pexels-fox-58267-762986.jpg"
    assert (items[0].width, items[0].height) == (w, h)
    assert items[0][0].metadata["user"][LS]["completed_by"] == tasks[0]["annotations"][0]["completed_by"]
    assert dataset.labels.names == ["Cat", "Cats"] or set(dataset.labels.names) == {"Cat", "Cats"}


@requires_real_files
def test_every_annotator_is_read_and_marked():
    items, _, _ = _read(real_file(f"{CONVERTER}/test_export_yolo/data.json"))
    first = items[0]
    assert [(a.metadata["user"][LS]["index"], a.metadata["user"][LS]["completed_by"]) for a in first] == [
        (0, 2), (0, 2), (1, 1), (1, 1)]
    assert all(a.automated is False for a in first)


@requires_real_files
def test_predictions_are_automated_with_their_score():
    path = real_file(f"{CONVERTER}/test_export_csv/csv_test.json")
    items, _, _ = _read(path)
    predicted = [a for c in items for a in c if a.metadata["user"][LS]["from"] == "predictions"]
    assert predicted and all(a.automated for a in predicted)
    tasks = json.loads(path.read_text(encoding="utf-8"))
    scores = [r.get("score", p.get("score")) for t in tasks for p in t["predictions"] for r in p["result"]]
    assert [a.model_info["confidence"] for a in predicted] == scores


def _cancelled_export(tmp_path) -> tuple[Path, list]:
    """A task answered by one annotator and skipped by another who had drawn a box first."""
    def box(region, label, x):
        return {"id": region, "type": "rectanglelabels", "from_name": "label", "to_name": "image",
                "original_width": 200, "original_height": 100,
                "value": {"x": x, "y": 20, "width": 30, "height": 40, "rotation": 0, "rectanglelabels": [label]}}

    tasks = [{"id": 5, "data": {"image": "/data/upload/1/0badcafe-cat.jpg"}, "annotations": [
        {"id": 1, "completed_by": 3, "was_cancelled": False, "result": [box("a", "cat", 10)]},
        {"id": 2, "completed_by": 4, "was_cancelled": True, "result": [box("b", "dog", 50)]}]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    return path, tasks


def test_a_cancelled_annotation_is_carried_through_not_converted(tmp_path):
    path, tasks = _cancelled_export(tmp_path)
    items, _, report = _read(path)
    answered, skipped = items[0]
    assert (answered.type, answered.label) == ("box", "cat")
    assert (skipped.type, skipped.label) == ("labelstudio.rectanglelabels", "dog")
    assert skipped.metadata["user"][LS] == {"from": "annotations", "index": 1, "completed_by": 4, "cancelled": True,
                                            "region": "b"}
    assert [(i.kind, i.code) for i in report.issues] == [("warning", "labelstudio.cancelled")]
    coco = Converter(on_error=OnError.SKIP).run(path, LS, tmp_path / "coco", "coco")
    assert coco.annotations_out == {"box": 1} and coco.skipped == {"labelstudio.rectanglelabels": 1}
    Converter().run(path, LS, tmp_path / "again", LS)
    assert json.loads((tmp_path / "again/tasks.json").read_text())[0]["annotations"] == tasks[0]["annotations"]


@requires_real_files
def test_a_region_takes_its_label_from_the_labels_result_beside_its_mask():
    items, dataset, _ = _read(real_file(MAGIC_WAND))
    assert [(a.type, a.label, int(a.annotation_definition.geo.sum())) for a in items[0]] == [
        ("binary", "Cloud", 381431), ("binary", "Cloud Shadow", 261525)]
    # the config's labels, in its order, with its colours
    assert dataset.labels.names == ["Snow", "Cloud Shadow", "Haze", "Cloud", "Exclude"]
    assert dataset.labels["Cloud"].color == (0x1b, 0x32, 0xde)


@requires_real_files
def test_config_colours_in_any_css_form():
    _, dataset, _ = _read(real_file(f"{CONVERTER}/test_export_yolo/data.json"))
    assert dataset.labels["parasites"].color == (218, 1, 238)  # rgba(218, 1, 238, 1)
    assert dataset.labels["white"].color == (0, 255, 0)


@requires_real_files
def test_choices_and_per_region_controls():
    items, _, _ = _read(real_file(f"{CONVERTER}/test_export_json_min/data_repeater.json"))
    (box,) = items[0]
    assert box.type == "box" and box.label == "Document Title"
    assert box.attributes == {"categories_0": [["Archaea"]]}
    items, _, _ = _read(real_file(f"{CONVERTER}/test_export_csv/csv_test2.json"))
    assert [(a.type, a.label) for a in items[0]] == [("class", _results(
        real_file(f"{CONVERTER}/test_export_csv/csv_test2.json"))[0]["value"]["choices"][0])]


@requires_real_files
def test_regions_without_a_size_are_kept_in_percent_until_the_image_is_given(tmp_path):
    path = real_file(f"{FRONTEND}/image_ellipses/annotations/1.json")
    items, _, report = _read(path)
    assert sorted(a.type for a in items[0]) == ["class", "labelstudio.ellipselabels"]
    assert [i.code for i in report.issues] == ["labelstudio.size-unknown"]
    Image.new("RGB", (750, 500)).save(tmp_path / "nick-owuor-astro-nic-visuals-wDifg5xc9Z4-unsplash.jpg")
    items, _, report = _read(path, images=tmp_path)
    ellipse = next(a.annotation_definition for a in items[0] if a.type == "ellipse")
    value = _results(path)[0]["value"]
    assert (ellipse.x, ellipse.y, ellipse.rx, ellipse.ry) == pytest.approx(
        (value["x"] * 7.5, value["y"] * 5, value["radiusX"] * 7.5, value["radiusY"] * 5))
    assert report.issues == []
    assert (items[0].width, items[0].height) == (750, 500)


@requires_real_files
def test_text_spans_video_tracks_and_relations_are_carried_through(tmp_path):
    items, _, _ = _read(real_file("labelstudio/label-studio-converter/test/fixtures/completions/348.json"))
    assert {a.type for a in items[0]} == {"labelstudio.labels"} and len(items[0]) == 38
    assert items[0].mimetype == "text/plain" and items[0].filename == "/task-348"
    items, _, _ = _read(real_file("labelstudio/label-studio-converter/tests/pathtrack/ls-video.json"))
    assert [a.type for a in items[0]] == ["labelstudio.videorectangle"] and items[0].is_video
    tasks = [{"id": 3, "data": {"image": "a.png"}, "annotations": [{"result": [
        {"id": "a", "type": "rectanglelabels", "original_width": 10, "original_height": 10, "from_name": "l",
         "to_name": "i", "value": {"x": 0, "y": 0, "width": 50, "height": 50, "rectanglelabels": ["x"]}},
        {"id": "b", "type": "keypointlabels", "original_width": 10, "original_height": 10, "from_name": "k",
         "to_name": "i", "value": {"x": 70, "y": 70, "width": 1, "keypointlabels": ["y"]}},
        {"type": "relation", "from_id": "a", "to_id": "b", "direction": "right", "labels": ["near"]}]}]}]
    (tmp_path / "t.json").write_text(json.dumps(tasks))
    items, _, _ = _read(tmp_path / "t.json")
    assert [(a.type, a.label) for a in items[0]] == [("box", "x"), ("point", "y"), ("labelstudio.relation", "near")]


# ==== image paths =========================================================================================
@pytest.mark.parametrize(("reference", "filename"), [
    ("/data/upload/1/48c220e9-pexels-fox.jpg", "/48c220e9-pexels-fox.jpg"),
    ("/data/local-files/?d=dataset/train/a%20b.png", "/dataset/train/a b.png"),
    ("data/local-files/?d=x/y.jpg", "/x/y.jpg"),
    ("https://example.org/images/cat%201.jpeg?token=3", "/cat 1.jpeg"),
    ("s3://bucket/folder/img.png", "/img.png"),
    ("/image1", "/image1"),
    ("photos\\b.jpg", "/photos/b.jpg"),
])
def test_image_references_map_to_item_file_names(reference, filename):
    assert filename_of(reference) == filename


def test_an_uploaded_image_is_found_under_its_own_name_and_gives_the_size(tmp_path):
    tasks = [{"id": 1, "data": {"image": "/data/upload/3/0123abcd-fox.jpg"}, "annotations": [{"result": [
        {"id": "k", "type": "keypointlabels", "from_name": "k", "to_name": "image",
         "value": {"x": 50, "y": 25, "width": 1, "keypointlabels": ["nose"]}}]}]}]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    images = tmp_path / "photos"
    images.mkdir()
    Image.new("RGB", (640, 480)).save(images / "fox.jpg")
    items, _, _ = _read(tmp_path / "export.json", images=images)
    point = items[0][0].annotation_definition
    assert (point.x, point.y) == (320, 120)
    assert items[0].image_path == str(images / "fox.jpg")


@pytest.mark.parametrize("given", ["media", "media/upload"])
def test_an_uploaded_image_is_found_where_label_studio_keeps_it(tmp_path, given):
    tasks = [{"id": 1, "data": {"image": "/data/upload/3/0123abcd-fox%20b.jpg"}, "annotations": []},
             {"id": 2, "data": {"image": "/data/upload/4/0123abcd-fox%20b.jpg"}, "annotations": []}]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    for project, size in (("3", (64, 48)), ("4", (32, 16))):  # the same name in two projects
        folder = tmp_path / "media/upload" / project
        folder.mkdir(parents=True)
        Image.new("RGB", size).save(folder / "0123abcd-fox b.jpg")
    items, _, _ = _read(tmp_path / "export.json", images=tmp_path / given)
    assert [(c.filename, c.image_path, c.width) for c in items] == [
        ("/0123abcd-fox b.jpg", str(tmp_path / "media/upload/3/0123abcd-fox b.jpg"), 64),
        ("/0123abcd-fox b.jpg", str(tmp_path / "media/upload/4/0123abcd-fox b.jpg"), 32)]


# ==== bad input ===========================================================================================
def _one_task(tmp_path, result) -> Path:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"id": 1, "data": {"image": "a.png"}, "annotations": [{"result": [result]}]}]))
    return path


GOOD_BOX = {"id": "r", "type": "rectanglelabels", "from_name": "l", "to_name": "i", "original_width": 100,
            "original_height": 50, "value": {"x": 10, "y": 10, "width": 20, "height": 20, "rectanglelabels": ["a"]}}


@pytest.mark.parametrize(("change", "where", "message"), [
    ({"value": {"x": "10", "y": 1, "width": 2, "height": 2}}, "/0/annotations/0/result/0/value/x",
     "expected a number, got a string"),
    ({"value": {"y": 1, "width": 2, "height": 2}}, "/0/annotations/0/result/0/value/x", "has no 'x'"),
    ({"original_width": -3}, "/0/annotations/0/result/0/original_width", "positive whole numbers"),
    ({"type": "brushlabels", "value": {"format": "rle", "rle": [1, 2, 3], "brushlabels": ["a"]}},
     "/0/annotations/0/result/0/value/rle", "the RLE"),
    ({"type": "polygonlabels", "value": {"points": [[1, 2], [3]], "polygonlabels": ["a"]}},
     "/0/annotations/0/result/0/value/points/1", "a point must be [x, y]"),
    ({"value": {"x": 1, "y": 1, "width": 2, "height": 2, "rectanglelabels": "a"}},
     "/0/annotations/0/result/0/value/rectanglelabels", "list of label names"),
])
def test_a_bad_result_is_one_line_naming_the_file_and_its_json_pointer(tmp_path, cli_runner, change, where,
                                                                         message):
    path = _one_task(tmp_path, {**GOOD_BOX, **change})
    result = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "out"), "--from", LS, "--to", "coco"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}:{where}: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_bad_result_of_a_region_is_named_not_the_first_of_its_region(tmp_path):
    # the magic wand's way: a mask, and a "labels" result of the same id beside it, whose labels are bad
    mask = {"id": "m", "type": "magicwand", "from_name": "w", "to_name": "i", "original_width": 2,
            "original_height": 2, "value": {"format": "rle", "rle": encode_mask(np.ones((2, 2), bool))}}
    labels = {**mask, "type": "labels", "from_name": "l", "value": {**mask["value"], "labels": "Cloud"}}
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"id": 1, "data": {"image": "a.png"}, "annotations": [{"result": [mask, labels]}]}]))
    with pytest.raises(FormatError, match="labels must be a list of label names") as caught:
        _read(path)
    assert caught.value.where == "/0/annotations/0/result/1/value/labels"


def test_with_on_error_skip_a_bad_result_is_reported_and_the_rest_converts(tmp_path):
    path = tmp_path / "tasks.json"
    bad = {**GOOD_BOX, "id": "bad", "value": {"x": None}}
    path.write_text(json.dumps([{"id": 1, "data": {"image": "a.png"}, "annotations": [{"result": [GOOD_BOX, bad]}]},
                                "not a task"]))
    items, _, report = _read(path, on_error=OnError.SKIP)
    assert [a.id for a in items[0]] == ["r"]
    assert [(i.kind, i.code, i.where) for i in report.issues] == [
        ("skipped", "labelstudio.invalid-result", "/0/annotations/0/result/1/value/x"),
        ("failed", "labelstudio.invalid-task", "/1")]


@pytest.mark.parametrize(("text", "where"), [
    ('[{"data": {"image": "a.png"}, "annotations": [', "line 1 column 47"),
    ('{"project": 1, "platform": "x"}', None),
    ('"tasks"', None),
])
def test_a_file_that_is_no_task_list_is_refused(tmp_path, text, where):
    path = tmp_path / "export.json"
    path.write_text(text)
    with pytest.raises(FormatError) as caught:
        _read(path)
    assert caught.value.path == str(path) and caught.value.where == where


def test_the_config_is_read_without_entities(tmp_path):
    (tmp_path / "tasks.json").write_text(json.dumps([{"data": {"image": "a.png"}, "annotations": []}]))
    (tmp_path / "config.xml").write_text('<!DOCTYPE v [<!ENTITY e "boom">]><View><Label value="&e;"/></View>')
    with pytest.raises(FormatError, match="entities are never expanded") as caught:
        _read(tmp_path)
    assert caught.value.path == str(tmp_path / "config.xml")


# ==== detection ===========================================================================================
@requires_real_files
@pytest.mark.parametrize("name", [EXPORT, f"{CONVERTER}/test_export_yolo/data.json",
                                  "labelstudio/label-studio-converter/test/fixtures/completions/348.json",
                                  f"{FRONTEND}/image_magic_wand/tasks.json", MAGIC_WAND])
def test_label_studio_files_are_detected_from_their_head(name):
    assert "Label Studio task" in detect(real_file(name))


@requires_real_files
@pytest.mark.parametrize("name", [
    "labelstudio/comparing-data-markup/resourses/label_studio/export/"
    "project-1-at-2025-06-19-14-54-b0c66fa7-info.json",
    "coco/dagshub/annotations.json", f"{CONVERTER}/test_export_yolo/label_config.xml"])
def test_other_files_are_not_label_studio(name):
    assert detect(real_file(name)) is None


def test_a_dataloop_item_is_not_label_studio(sample_dir):
    item = next(sample_dir.rglob("json/**/*.json"))
    assert detect(item) is None and detect(item.parent) is None


@requires_real_files
def test_a_folder_is_read_as_the_task_files_in_it(tmp_path):
    shutil.copy(real_file(EXPORT), tmp_path / "export.json")
    shutil.copy(real_file(EXPORT.replace(".json", "-info.json")), tmp_path / "export-info.json")
    assert detect(tmp_path).startswith("export.json: a list of Label Studio tasks")
    items, _, _ = _read(tmp_path)
    assert len(items) == 14


def test_an_export_of_no_task_is_an_empty_dataset(tmp_path, cli_runner):
    (tmp_path / "tasks.json").write_text("[]")
    items, dataset, _ = _read(tmp_path / "tasks.json")
    assert items == [] and dataset.declared_empty
    result = cli_runner.invoke(main, ["convert", str(tmp_path / "tasks.json"), str(tmp_path / "out"), "--from", LS,
                                      "--to", "coco"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "out/coco.json").read_text())["images"] == []


def test_in_a_file_of_one_task_the_pointer_starts_at_the_task(tmp_path):
    path = tmp_path / "1.json"
    path.write_text(json.dumps({"id": 1, "data": {"image": "a.png"},
                                "annotations": [{"result": [{**GOOD_BOX, "value": {"x": []}}]}]}))
    with pytest.raises(FormatError) as caught:
        _read(path)
    assert caught.value.where == "/annotations/0/result/0/value/x"
    path.write_text(json.dumps([{"id": 1, "data": {"image": "a.png"}, "predictions": [{"result": {}}]}]))
    with pytest.raises(FormatError, match="an object with a 'result' list") as caught:
        _read(path)
    assert caught.value.where == "/0/predictions/0"


# ==== hostile input: any value anywhere is read or refused, never a crash ======================================
def _leaves(value, path=()):
    """Every place in a JSON value (objects' keys, lists' indices), the value itself first."""
    yield path
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:6]):
            yield from _leaves(inner, (*path, index))


def _replace(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


_HOSTILE = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=5),
                     st.just([]), st.just({}), st.just([[1, 2]]), st.just({"x": 1}), st.just(-1), st.just(1e308),
                     st.just([255] * 9))


@requires_real_files
@settings(max_examples=150)
@given(data=st.data())
def test_a_mutated_task_is_read_or_refused_with_its_place(tmp_path_factory, data):
    name = data.draw(st.sampled_from([f"{CONVERTER}/test_export_yolo/data_obb.json", EXPORT,
                                      f"{CONVERTER}/test_export_json_min/data.json",
                                      f"{CONVERTER}/test_export_csv/csv_test.json"]))
    tasks = json.loads(real_file(name).read_text(encoding="utf-8"))[:1]
    place = data.draw(st.sampled_from(list(_leaves(tasks))))
    tasks = _replace(tasks, place, data.draw(_HOSTILE))
    folder = tmp_path_factory.mktemp("hostile")
    try:
        (folder / "t.json").write_text(json.dumps(tasks, allow_nan=True))
    except ValueError:
        return
    for on_error in (OnError.SKIP, OnError.FAIL):
        try:
            items, dataset, report = _read(folder / "t.json", on_error=on_error)
            get_format(LS).write(type(dataset)(items, labels=dataset.labels), folder / f"out-{on_error}",
                                 ConvertOptions(), report)
            get_format("coco").write(type(dataset)(items, labels=dataset.labels), folder / f"coco-{on_error}",
                                     ConvertOptions(), report)
        except (FormatError, InvalidAnnotationError) as exc:
            assert on_error == OnError.FAIL or exc.path is not None
            assert exc.path == str(folder / "t.json") or exc.path is None or "t.json" in str(exc.path)
