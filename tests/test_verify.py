"""``verify``: each kind of shape compared by a measure that fits it, and the conversion's report held to
what really changed — on the bundled sample and on real files of every format, through every format.

Oracles: shapely for exact areas and distances, OpenCV's ``fillPoly`` on pixel centres for masks,
the sample's and the real files' own JSON/text read with the standard library.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import shapely
from realfiles import AVAILABLE, NO_REAL_FILES, real_file, real_files, requires_real_files

from dlconvert import AnnotationCollection, Box, Point, Polygon, Polyline, Segmentation
from dlconvert.annotation import Annotation
from dlconvert.cli import main
from dlconvert.compare import Tolerance, change, geometry_change, iou
from dlconvert.dataset import ConvertOptions
from dlconvert.geometry import Ellipse, Pose, Subtitle
from dlconvert.report import ConversionReport
from dlconvert.verify import compare_round_trip, tag_annotations, verify

FORMATS = ["dataloop", "coco", "voc", "yolo", "vtt", "labelme"]  # those dlconvert writes
READ_ONLY = ["labelbox"]
EXIT_INTERNAL_ERROR = 3

# pycocotools' mask.decode warns about its own numpy-2 incompatibility on every call
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


# ==== measures that fit each shape =====================================================================
def test_an_unchanged_polyline_is_unchanged():
    # lines have no area: an IoU would call every polyline changed (it was "IoU 0.000000")
    line = Polyline(geo=[[[0, 0], [10, 5], [20, 0]], [[3, 3], [4, 9]]], label="lane")
    assert geometry_change(line, copy.deepcopy(line), Tolerance()) is None


def test_a_moved_polyline_says_how_far():
    line = Polyline(geo=[[0, 0], [10, 5], [20, 0]], label="lane")
    moved = Polyline(geo=[[0, 0], [10, 5.5], [20, 0]], label="lane")
    expected = shapely.hausdorff_distance(shapely.MultiPoint(line.geo), shapely.MultiPoint(moved.geo))
    assert geometry_change(line, moved, Tolerance()) == f"moved by up to {expected:.6g} px"
    assert geometry_change(line, moved, Tolerance(max_distance=0.5)) is None
    split = Polyline(geo=[[[0, 0], [10, 5]], [[10, 5], [20, 0]]], label="lane")
    assert geometry_change(line, split, Tolerance()) == "came back with 2 lines instead of 1"


def test_points_by_distance():
    point = Point(x=10, y=20)
    assert geometry_change(point, Point(x=10.005, y=20), Tolerance()) is None
    assert geometry_change(point, Point(x=13, y=24), Tolerance()) == "moved by up to 5 px"


def test_rotated_boxes_by_the_iou_of_their_turned_corners():
    box = Box(left=10, top=10, right=50, bottom=30, angle=30)
    assert geometry_change(box, Box(left=10, top=10, right=50, bottom=30, angle=30), Tolerance()) is None
    upright = Box(left=10, top=10, right=50, bottom=30)
    expected = shapely.Polygon(box.corners()).intersection(shapely.box(10, 10, 50, 30)).area / \
        shapely.Polygon(box.corners()).union(shapely.box(10, 10, 50, 30)).area
    assert iou(box, upright) == pytest.approx(expected, abs=1e-12)
    assert geometry_change(box, upright, Tolerance()) == f"geometry changed (IoU {expected:.6f} < 0.999)"
    # the same rectangle turned half a turn is the same shape
    assert geometry_change(box, Box(left=10, top=10, right=50, bottom=30, angle=210), Tolerance()) is None


def test_a_tiny_box_rounded_by_a_format_is_not_changed():
    box = Box(left=100, top=100, right=102, bottom=102)
    rounded = Box(left=100.004, top=100, right=102, bottom=102.003)  # IoU 0.9965, but moved 4/1000 px
    assert iou(box, rounded) < 0.999
    assert geometry_change(box, rounded, Tolerance()) is None


def test_polygons_by_iou_and_by_their_number_of_rings():
    square = Polygon(geo=[[0, 0], [10, 0], [10, 10], [0, 10]])
    assert geometry_change(square, Polygon(geo=[[0, 0], [10, 0], [10, 10], [0, 10]]), Tolerance()) is None
    two_parts = Polygon(geo=[[[0, 0], [4, 0], [4, 4]], [[6, 6], [9, 6], [9, 9]]])
    bridged = Polygon(geo=[[0, 0], [4, 0], [6, 6], [9, 6], [9, 9], [6, 6], [4, 0], [4, 4]])  # one ring
    assert iou(two_parts, bridged) == pytest.approx(1.0)
    assert geometry_change(two_parts, bridged, Tolerance()).startswith("came back with 1 rings instead of 2")


def _cv2_mask(points, shape) -> np.ndarray:
    """OpenCV's fill sampled at pixel centres: shift by half a pixel, fill with sub-pixel precision."""
    canvas = np.zeros(shape, dtype=np.uint8)
    shifted = np.round((np.asarray(points, dtype=np.float64) - 0.5) * 256).astype(np.int32)
    cv2.fillPoly(canvas, [shifted], 1, lineType=cv2.LINE_8, shift=8)
    return canvas.astype(bool)


def test_masks_by_pixel_iou_against_any_shape():
    triangle = [[2.2, 1.7], [40.3, 5.1], [12.6, 28.9]]
    polygon = Polygon(geo=triangle, label="a")
    pixels = _cv2_mask(triangle, (32, 48))
    mask = Segmentation(geo=pixels, label="a")
    ours = iou(polygon, mask)
    # OpenCV draws the outline pixels too: the masks agree up to the pixels on the edges
    assert ours == pytest.approx(1.0, abs=0.1)
    shifted = Segmentation(geo=np.roll(pixels, 3, axis=1), label="a")
    expected = np.count_nonzero(pixels & shifted.geo) / np.count_nonzero(pixels | shifted.geo)
    assert iou(mask, shifted) == pytest.approx(expected, abs=1e-12)
    assert geometry_change(mask, shifted, Tolerance()) == f"geometry changed (IoU {expected:.6f} < 0.999)"
    assert geometry_change(polygon, mask, Tolerance()).startswith("came back as a binary (IoU ")


def test_a_shape_that_comes_back_as_the_box_its_source_declared_is_unchanged():
    polygon = Polygon(geo=[[2, 2], [20, 3], [11, 18]])
    declared = (1.5, 1.5, 20.5, 18.5)  # a COCO bbox: not the polygon's bounds
    back = Box(left=1.5, top=1.5, right=20.5, bottom=18.500001)
    assert geometry_change(polygon, back, Tolerance(), declared) is None
    assert geometry_change(polygon, back, Tolerance()).startswith("came back as a box (IoU ")
    assert geometry_change(polygon, Box(left=2, top=2, right=20, bottom=18), Tolerance(), declared) is not None


def test_ellipses_by_iou():
    ellipse = Ellipse(x=50, y=40, rx=20, ry=10, angle=15)
    assert geometry_change(ellipse, Ellipse(x=50, y=40, rx=20, ry=10, angle=15), Tolerance()) is None
    assert geometry_change(ellipse, Ellipse(x=50, y=40, rx=20, ry=10, angle=40), Tolerance()).startswith(
        "geometry changed (IoU ")


def _timed(text: str, start: float, end: float, label: str = "speaker") -> Annotation:
    collection = AnnotationCollection(filename="/a.mp3", mimetype="audio/mpeg")
    return collection.add(Subtitle(text=text, label=label), start_time=start, end_time=end)


def test_subtitles_by_text_and_times_to_the_millisecond():
    cue = _timed("Hi", 1.2345, 2.0)
    assert change(cue, _timed("Hi", 1.235, 2.0), Tolerance()) is None  # WebVTT rounds half-up to 1.235
    assert change(cue, _timed("Hi", 1.237, 2.0), Tolerance()) == "start time changed: 1.2345 → 1.237"
    assert change(cue, _timed("Hi!", 1.2345, 2.0), Tolerance()) == "text changed: 'Hi' → 'Hi!'"


def test_attributes_are_compared():
    a = Annotation(Box(left=0, top=0, right=5, bottom=5, label="x", attributes={"color": "red"}))
    b = Annotation(Box(left=0, top=0, right=5, bottom=5, label="x", attributes={"color": "blue"}))
    assert change(a, b, Tolerance()) == "attributes changed: {'color': 'red'} → {'color': 'blue'}"


def test_every_frame_of_a_track_is_compared():
    item = AnnotationCollection(filename="/v.mp4", mimetype="video/mp4", fps=5)
    track = item.add(Box(left=0, top=0, right=10, bottom=10, label="car"), object_id=1, frame_num=0)
    item.add(Box(left=5, top=0, right=15, bottom=10, label="car"), object_id=1, frame_num=3)
    other = AnnotationCollection(filename="/v.mp4", mimetype="video/mp4", fps=5)
    moved = other.add(Box(left=0, top=0, right=10, bottom=10, label="car"), object_id=1, frame_num=0)
    other.add(Box(left=6, top=0, right=16, bottom=10, label="car"), object_id=1, frame_num=3)
    assert change(track, copy.deepcopy(track), Tolerance()) is None
    assert change(track, moved, Tolerance()).startswith("frame 3: geometry changed (IoU ")
    still = Annotation(Box(left=0, top=0, right=10, bottom=10, label="car"))
    assert change(track, still, Tolerance()) == "came back without its frames (one state instead of a track)"


# ==== the report held to what changed ==================================================================
def _item(*definitions, filename="/a.jpg") -> AnnotationCollection:
    collection = AnnotationCollection(filename=filename, width=100, height=80, mimetype="image/jpeg")
    for definition in definitions:
        collection.add(definition)
    tag_annotations(collection)
    return collection


def _report(*events) -> ConversionReport:
    report = ConversionReport()
    for kind, annotation, code in events:
        getattr(report, {"approximated": "approximate", "skipped": "skip"}[kind])(annotation, code, "why", "/a.jpg")
    return report


def test_a_change_the_report_did_not_mention_is_a_difference():
    original = _item(Box(left=0, top=0, right=10, bottom=10, label="a"))
    back = _item(Box(left=0, top=0, right=12, bottom=10, label="a"))
    result = compare_round_trip([original], [back], _report(), source_format="dataloop")
    assert [d.kind for d in result.differences] == ["changed"]
    assert result.found_changed == {("/a.jpg", original[0].id)} and result.reported_approximated == set()


def test_an_approximation_that_came_back_unchanged_is_over_reported():
    original = _item(Box(left=0, top=0, right=10, bottom=10, label="a"))
    back = _item(Box(left=0, top=0, right=10, bottom=10, label="a"))
    result = compare_round_trip([original], [back], _report(("approximated", original[0], "x.box-as-box")),
                                source_format="dataloop")
    assert [d.kind for d in result.differences] == ["over-reported"]
    assert "x.box-as-box" in result.differences[0].what


def test_a_reported_approximation_that_changed_agrees():
    original = _item(Box(left=0, top=0, right=10, bottom=10, label="a", angle=30))
    back = _item(Polygon(geo=original[0].annotation_definition.corners(), label="a"))
    result = compare_round_trip([original], [back], _report(("approximated", original[0], "x.rotated")),
                                source_format="dataloop")
    assert result.differences == [] and len(result.approximated) == 1
    assert result.found_changed == result.reported_approximated == {("/a.jpg", original[0].id)}


def test_skips_lost_annotations_and_extras():
    original = _item(Point(x=1, y=2, label="p"), Polyline(geo=[[0, 0], [5, 5]], label="l"),
                     Box(left=0, top=0, right=3, bottom=3, label="kept"))
    back = _item(Point(x=1, y=2, label="p"), Box(left=0, top=0, right=3, bottom=3, label="kept"),
                 Box(left=0, top=0, right=3, bottom=3, label="kept"))
    result = compare_round_trip([original], [back], _report(("skipped", original[0], "x.no-points")),
                                source_format="dataloop")
    kinds = sorted(d.kind for d in result.differences)
    assert kinds == ["extra", "lost", "over-reported"]  # the point came back; the line did not; a box twice
    assert result.not_representable == 0 and result.checked == 3


def test_a_skipped_annotation_that_did_not_come_back_is_not_representable():
    original = _item(Polyline(geo=[[0, 0], [5, 5]], label="l"))
    result = compare_round_trip([original], [_item()], _report(("skipped", original[0], "x.unsupported-type")),
                                source_format="dataloop")
    assert result.differences == [] and result.not_representable == 1 and result.checked == 0


def _pose_item(keypoints: dict, num_keypoints: int | None = None) -> AnnotationCollection:
    collection = AnnotationCollection(filename="/a.jpg", width=100, height=80, mimetype="image/jpeg")
    pose = collection.add(Pose(label="person", template_id="t"))
    pose.id = "pose-1"
    if num_keypoints is not None:
        pose.metadata.setdefault("user", {})["coco"] = {"num_keypoints": num_keypoints}
    for name, (x, y, v) in keypoints.items():
        collection.add(Point(x=x, y=y, label=name, attributes={"visibility": v}), parent_id="pose-1")
    tag_annotations(collection)
    return collection


def test_poses_by_their_keypoints_positions_and_visibility():
    original = _pose_item({"nose": (10, 10, "visible"), "eye": (12, 9, "not-visible"), "ear": (0, 0, "unlabeled")})
    # COCO and YOLO write "0 0 0" for an unlabelled keypoint; the YOLO reader makes no point of it
    same = _pose_item({"nose": (10, 10, "visible"), "eye": (12, 9, "not-visible")})
    result = compare_round_trip([original], [same], _report(), source_format="dataloop")
    assert result.differences == [] and result.checked == 4
    hidden = _pose_item({"nose": (10, 10, "visible"), "eye": (12, 9, "visible")})
    result = compare_round_trip([original], [hidden], _report(), source_format="dataloop")
    assert [(d.kind, d.label, d.what.split(",")[0]) for d in result.differences] == [
        ("changed", "eye", "visibility changed: 1 → 2")]


def test_kept_values_of_the_source_format_are_compared_when_the_way_back_holds_them():
    # A CrowdPose-style record says num_keypoints 5 though 7 points are labelled; recomputing it is a change.
    points = {f"k{i}": (10 + i, 10, "visible") for i in range(7)}
    original = _pose_item(points, num_keypoints=5)
    result = compare_round_trip([original], [_pose_item(points, num_keypoints=7)], _report(), source_format="coco")
    assert [(d.kind, d.type) for d in result.differences] == [("changed", "pose")]
    assert "coco num_keypoints changed: 5 → 7" in result.differences[0].what
    kept = compare_round_trip([original], [_pose_item(points, num_keypoints=5)], _report(), source_format="coco")
    assert kept.differences == []
    # a way back that holds no COCO values (YOLO, VOC) cannot have changed them
    assert compare_round_trip([original], [_pose_item(points)], _report(), source_format="coco").differences == []


# ==== the bundled sample through every format ===========================================================
def test_the_sample_via_dataloop_comes_back_whole(sample_dir):
    result = verify(sample_dir, "dataloop", "dataloop")
    items = [json.loads(p.read_text(encoding="utf-8")) for p in (sample_dir / "json").rglob("*.json")]
    assert result.differences == [], result.summary()
    assert result.checked == sum(len(item["annotations"]) for item in items)
    assert result.approximated == [] and result.not_representable == 0


@pytest.mark.parametrize("via", FORMATS)
def test_cli_verify_the_sample_via_every_format(sample_dir, cli_runner, via):
    result = cli_runner.invoke(main, ["verify", str(sample_dir), "--from", "dataloop", "--via", via])
    assert result.exit_code == 0, result.output
    assert "differences: 0" in result.stdout.splitlines()


def test_cli_verify_json(sample_dir, cli_runner):
    result = cli_runner.invoke(main, ["verify", str(sample_dir), "--from", "dataloop", "--via", "coco", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["via"] == "coco" and document["differences"] == []
    assert document["checked"] + document["not_representable"] == document["annotations"]
    assert {d["kind"] for d in document["approximated"]} == {"approximated"}


def test_cli_verify_fails_when_the_way_back_moves_a_box(sample_dir, cli_runner, monkeypatch):
    # a format whose reader moves every box by a pixel, without a word in any report
    from dlconvert import formats

    spec = formats.get_format("dataloop")

    def read_moved(src, options, report):
        dataset = spec.read(src, options, report)
        if "dlconvert-verify-" not in str(src):  # the source itself is read as it is
            return dataset

        def items():
            for collection in dataset.items:
                for annotation in collection:
                    if annotation.type == "box" and annotation.frames is None:
                        annotation.annotation_definition.left += 1
                yield collection

        return dataclasses.replace(dataset, items=items())

    monkeypatch.setitem(formats._cache, "dataloop", dataclasses.replace(spec, read=read_moved))
    result = cli_runner.invoke(main, ["verify", str(sample_dir), "--from", "dataloop", "--via", "dataloop"])
    assert result.exit_code == 1
    changed = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("changed:")]
    items = [json.loads(p.read_text("utf-8")) for p in (sample_dir / "json").rglob("*.json")]
    boxes = [a for item in items if item["metadata"]["system"]["mimetype"].startswith("image/")
             for a in item["annotations"] if a["type"] == "box"]
    assert len(changed) == len(boxes) == 3
    assert all(line.endswith(", and the report did not say so") and "geometry changed (IoU" in line for line in changed)


@pytest.fixture
def empty_dataloop_output(tmp_path) -> Path:
    """What dlconvert writes for a Dataloop dataset without items: ``labelmap.json`` only."""
    from dlconvert.converter import Converter

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "labelmap.json").write_text(json.dumps({"labels": [{"name": "cat", "instance_id": 1}]}), "utf-8")
    Converter().run(empty, "dataloop", tmp_path / "out", "dataloop")
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == ["labelmap.json"]
    return tmp_path / "out"


@pytest.mark.parametrize("via", FORMATS)
def test_an_empty_dataloop_output_verifies(empty_dataloop_output, cli_runner, via):
    result = cli_runner.invoke(main, ["verify", str(empty_dataloop_output), "--from", "dataloop", "--via", via])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        "annotations checked: 0, not representable in the target: 0, approximated by the target: 0", "differences: 0"]


# ==== real files: never an internal error; the report agrees with verify ================================
COCO_FILES = real_files("coco", "*.json") + (
    [real_file("dataloop/dtlpy-converters-examples/coco/coco/annotations.json")] if AVAILABLE else [])


@requires_real_files
@pytest.mark.parametrize("path", COCO_FILES, ids=lambda p: str(p).split("fixtures/")[-1] if p else "none")
@pytest.mark.parametrize("via", ["dataloop", "coco"])
def test_verify_never_fails_internally_on_a_real_coco_file(path, via, cli_runner):
    result = cli_runner.invoke(main, ["verify", str(path), "--from", "coco", "--via", via])
    assert result.exit_code != EXIT_INTERNAL_ERROR, result.output
    if result.exit_code:  # files COCO tools would refuse too: one line naming the file
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith(f"error: {path}")
    else:
        assert "differences: 0" in result.stdout.splitlines()


@requires_real_files
@pytest.mark.parametrize("name", ["coco/icevision/keypoints_annotations.json",
                                  "coco/datumaro/coco_dataset/annotations/person_keypoints_val.json"])
def test_person_keypoints_with_segmentations_verify_via_dataloop(name, cli_runner):
    # both used to end in an internal error (a mask compared with a pose)
    path = real_file(name)
    records = json.loads(path.read_text(encoding="utf-8"))["annotations"]
    assert any(r.get("keypoints") and r.get("segmentation") for r in records)
    result = cli_runner.invoke(main, ["verify", str(path), "--from", "coco", "--via", "dataloop"])
    assert result.exit_code == 0, result.output
    assert "differences: 0" in result.stdout.splitlines()


def test_crowdpose_style_num_keypoints_survive_coco_to_coco(tmp_path):
    # CrowdPose does not count some labelled points: num_keypoints 5 with 7 labelled keypoints
    keypoints = [v for i in range(7) for v in (10.0 + 3 * i, 20.0 + i, 2)]
    document = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 80}],
        "categories": [{"id": 1, "name": "person", "keypoints": [f"k{i}" for i in range(7)], "skeleton": [[1, 2]]}],
        "annotations": [{"id": 3, "image_id": 1, "category_id": 1, "bbox": [5, 5, 40, 30], "area": 1200,
                         "iscrowd": 0, "keypoints": keypoints, "num_keypoints": 5}],
    }
    path = tmp_path / "crowdpose.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = verify(path, "coco", "coco")
    assert result.differences == [], result.summary()
    assert result.checked == 1 + 1 + 7  # the box, the pose, its keypoints


def _id(path) -> str:
    return str(path).split("fixtures/")[-1]


_YOLO = ["yolo/cvat-datumaro/yolov8_detection", "yolo/cvat-datumaro/yolov8_detection_with_list_of_imgs",
         "yolo/cvat-datumaro/yolov8_detection_with_list_of_names",
         "yolo/cvat-datumaro/yolov8_detection_with_subset_txt",
         "yolo/cvat-datumaro/yolov8_oriented_boxes", "yolo/cvat-datumaro/yolov8_pose",
         "yolo/cvat-datumaro/yolov8_pose_two_values_per_point", "yolo/cvat-datumaro/yolov8_segmentation",
         "yolo/datumaro/roboflow_yolo", "yolo/datumaro/yolo_dataset/labels", "yolo/datumaro/yolo_dataset/strict",
         "yolo/roboflow-shoe-sole-seg"]
_VOC = ["voc/datumaro/voc_dataset/voc_dataset1", "voc/datumaro/voc_dataset/voc_dataset2",
        "voc/datumaro/voc_dataset/voc_dataset3", "voc/datumaro/roboflow_voc", "voc/icevision/voc",
        "voc/icevision/fridge",
        "voc/mmdetection/VOC2012", "dataloop/dtlpy-converters-examples/voc/voc"]
_VTT = ["vtt/dtlpy-converters/conversation.vtt", "vtt/webvtt-py/sample.vtt", "vtt/webvtt-py/comments.vtt",
        "vtt/webvtt-py/styles.vtt", "vtt/webvtt-py/using_identifiers.vtt", "vtt/webvtt-py/youtube_dl.vtt",
        "vtt/wpt/regions-scroll.vtt", "vtt/wpt/settings-multiple.vtt", "vtt/wpt/timings-omitted-hours.vtt",
        "vtt/1c7-vtt-test-file/8. Chapters.vtt", "vtt/swift-webvtt-parser/entities.vtt",
        "vtt/vtt.js/integration/spec-example.vtt"]
_DATALOOP = ["dataloop/dtlpy-converters-examples/voc/dataloop", "dataloop/dtlpy-converters-examples/yolo/dataloop",
             "dataloop/dtlpy-converters-examples/tfrecord/dtlpy", "dataloop/dtlpy-converters-examples/vtt",
             "dataloop/dtlpy-documentation/FruitImage", "dataloop/dtlpy-documentation/hamster"]
_COCO = ["coco/dagshub/annotations.json", "coco/datumaro/coco_dataset/annotations/image_info_train.json",
         "coco/datumaro/coco_dataset/annotations/instances_train.json",
         "coco/datumaro/coco_dataset/annotations/instances_val.json",
         "coco/datumaro/coco_dataset/annotations/labels_val.json",
         "coco/datumaro/coco_dataset/annotations/person_keypoints_train.json",
         "coco/datumaro/coco_dataset/annotations/person_keypoints_val.json",
         "coco/datumaro/coco_dataset/annotations/stuff_val.json",
         "coco/datumaro/coco_roboflow/val/_annotations.coco.json",
         "coco/datumaro/roboflow_coco/train/_annotations.coco.json", "coco/icevision/annotations.json",
         "coco/icevision/keypoints_annotations.json", "coco/mmdetection/coco_dummy/annotations/instances_val2017.json",
         "coco/mmdetection/coco_sample.json", "dataloop/dtlpy-converters-examples/coco/coco/annotations.json"]
_LABELME = ["labelme/unet-pytorch/datasets/before", "labelme/yolact-pytorch/datasets/before"]
# the legacy exports measuring y from the bottom need their images, which the fixtures do not have
_LABELBOX = ["labelbox/labelbox/exporters/coco-exporter/test_JSON.json",
             "dataloop/dtlpy-converters-examples/labelbox/bird_gt.json"]


def _agreement_cases() -> list:
    if not AVAILABLE:
        return NO_REAL_FILES
    sources = [("dataloop", "sample")] + [(fmt, name) for fmt, names in (
        ("dataloop", _DATALOOP), ("coco", _COCO), ("yolo", _YOLO), ("voc", _VOC), ("vtt", _VTT), ("labelme", _LABELME),
        ("labelbox", _LABELBOX)) for name in names]
    cases = []
    for fmt, name in sources:
        vias = [(via, {}) for via in FORMATS]
        if fmt == "coco" or name == "sample":  # the tasks a COCO user picks (Ultralytics' convert_coco: detect)
            vias += [("yolo", {"yolo_task": "detect"}), ("yolo", {"yolo_task": "obb"})]
        for via, options in vias:
            case = f"{fmt}:{name}->{via}" + "".join(f"[{v}]" for v in options.values())
            cases.append(pytest.param(fmt, name, via, options, id=case))
    return cases


@requires_real_files
@pytest.mark.parametrize(("fmt", "name", "via", "options"), _agreement_cases())
def test_convert_reports_exactly_what_verify_finds(fmt, name, via, options, sample_dir):
    """What ``convert`` calls approximated is what ``verify`` finds changed, and what it skips is what does
    not come back — no more, no less; and ``verify`` passes."""
    src = sample_dir if name == "sample" else real_file(name)
    result = verify(src, fmt, via, options=ConvertOptions(**options))
    assert result.differences == [], result.summary(limit=10)
    assert result.found_changed == result.reported_approximated
    assert result.found_missing == result.reported_skipped
    assert result.checked + result.not_representable == result.read


def test_agreement_covers_every_format_both_ways():
    cases = {(p.values[0], p.values[2]) for p in _agreement_cases() if p.values[0] is not None}
    if AVAILABLE:
        assert cases == {(source, via) for source in FORMATS + READ_ONLY for via in FORMATS}


def test_the_same_line_said_twice_pairs_by_its_times():
    collection = AnnotationCollection(filename="/a.mp3", mimetype="audio/mpeg")
    for start in (1.0, 5.0, 9.0):
        collection.add(Subtitle(text="♪", label="music"), start_time=start, end_time=start + 1)
    tag_annotations(collection)
    back = AnnotationCollection(filename="/a.mp3", mimetype="audio/mpeg")
    for start in (9.0, 1.0, 5.0004):  # another order, one time rounded by a format
        back.add(Subtitle(text="♪", label="music"), start_time=start, end_time=start + 1)
    result = compare_round_trip([collection], [back], ConversionReport(), source_format="dataloop")
    assert result.differences == [] and result.checked == 3


def test_a_label_that_came_back_otherwise_is_a_change_and_no_label_is_no_label():
    box = Annotation.new(annotation_definition=Box(left=0, top=0, right=10, bottom=10, label="car "))
    stripped = Annotation.new(annotation_definition=Box(left=0, top=0, right=10, bottom=10, label="car"))
    assert change(box, stripped, Tolerance()) == "the label 'car ' came back as 'car'"
    unlabeled = Annotation.new(annotation_definition=Box(left=0, top=0, right=10, bottom=10, label=None))
    empty = Annotation.new(annotation_definition=Box(left=0, top=0, right=10, bottom=10, label=""))
    assert change(unlabeled, empty, Tolerance()) is None


@requires_real_files
def test_a_label_with_spaces_pairs_with_its_stripped_twin_and_the_report_agrees():
    # Labelbox's Pascal VOC labels carry 'car ' (a trailing space); VOC <name> text reads back stripped
    result = verify(real_file("labelbox/labelbox/exporters/coco-exporter/test_JSON.json"), "labelbox", "voc")
    assert result.differences == [], result.summary(limit=5)
    assert any("'car '" in str(d) for d in result.approximated)


@requires_real_files
def test_what_the_source_reader_skipped_is_shown_not_held_against_the_round_trip():
    # bird_gt's masks are only at a URL: its reader reports them not fetched (dlconvert never goes online)
    result = verify(real_file("dataloop/dtlpy-converters-examples/labelbox/bird_gt.json"), "labelbox", "coco")
    assert result.differences == []
    assert [issue.code for issue in result.not_read] == ["labelbox.mask-not-fetched"] * 2
    assert "not read from the source (its reader skipped them): 2" in result.summary()
    assert len(result.to_json()["not_read"]) == 2
