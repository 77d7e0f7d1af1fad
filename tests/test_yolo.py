"""YOLO, both ways: real datasets round-trip line for line, Dataloop shapes survive YOLO, COCO boxes
land where the YOLO formulas put them, and hostile label files fail with the file and the line.

Oracles are independent of dlconvert: the source label files' own numbers (parsed here), the COCO
numbers with the YOLO formulas written out here (cx = (x + w/2) / W …), shapely areas and OpenCV's
``fillPoly`` (what Ultralytics rasterises with), and PIL-written images with a known EXIF orientation.

Tolerances: values are written with 6 decimals, so a value read and written back is within half a
unit of the 6th decimal (0.5e-6) of the source, plus 1e-12 for float noise; a pixel coordinate that
went through YOLO is within 0.5e-6 × the image side (boxes: 1e-6, since a box edge is cx ± w/2).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import shapely
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from realfiles import real_file, requires_real_files

from dlconvert import (
    AnnotationCollection,
    Box,
    Classification,
    Cube,
    Ellipse,
    FormatError,
    OutputError,
    Point,
    Polygon,
    Polyline,
    Pose,
    Segmentation,
    Subtitle,
)
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.formats import get_format
from dlconvert.formats.dataloop import read_dataloop, write_dataloop
from dlconvert.formats.yolo import merge_rings
from dlconvert.labels import LabelInfo, LabelMap, PoseTemplate, stable_color

FIXTURES = real_file(".")
YOLO_DIR = FIXTURES / "yolo"
CVAT = YOLO_DIR / "cvat-datumaro"
DAGSHUB = YOLO_DIR / "dagshub" / "res"
SHOES = YOLO_DIR / "roboflow-shoe-sole-seg"
DTLPY_YOLO = FIXTURES / "dataloop" / "dtlpy-converters-examples" / "yolo"
DTLPY_JSON = FIXTURES / "dataloop" / "dtlpy-converters-examples" / "yolo" / "dataloop" / "json"
HALF_UNIT = 0.5e-6 + 1e-12

# pycocotools' mask.decode warns about its own numpy-2 incompatibility on every call
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")

SHOE_TRAIN_EMPTY = "img_-_20260112_111632_763_jpg.rf.a30abcaea0f2420749a34b827bf37a4c"
SHOE_TRAIN = "taban_65_png.rf.052c2111a2629b6a32cc129eb271cfcf"
SHOE_VALID = "taban_58_png.rf.328141ce0c741ec55edc23f8896206fd"
SHOE_TEST = "taban_34_png.rf.2a3164f86ee04f8ff14c65fee20c6480"
#: Every label file of the Roboflow export and where dlconvert writes it (Roboflow's valid/ is Ultralytics' val).
SHOE_PAIRS = [(f"{split}/labels/{p.name}", f"labels/{'val' if split == 'valid' else split}/{p.name}")
              for split in ("train", "valid", "test") for p in sorted((SHOES / split / "labels").glob("*.txt"))]


# ==== helpers ======================================================================================
def parse_lines(path: Path) -> list[list[float]]:
    """A label file's non-blank lines as lists of numbers (independent of dlconvert's reader)."""
    return [[float(v) for v in line.split()] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def assert_lines_close(got: list[list[float]], expected: list[list[float]], tol: float = HALF_UNIT) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert len(g) == len(e)
        assert g[0] == e[0]  # class index
        assert np.allclose(g[1:], e[1:], rtol=0, atol=tol), (g, e)


def coordinate_columns(length: int, kpt_shape: list[int] | None) -> np.ndarray:
    """Which columns of a line are normalised coordinates (not the class, not keypoint visibilities)."""
    mask = np.ones(length, dtype=bool)
    mask[0] = False
    if kpt_shape and kpt_shape[1] == 3:
        mask[7::3] = False
    return mask


def assert_balanced(report) -> None:
    assert report.unbalanced() == {}
    assert sum(report.annotations_in.values()) == sum(report.annotations_out.values()) + sum(report.skipped.values())


def codes(report) -> Counter:
    return Counter((i.kind, i.code) for i in report.issues)


def yolo_round_trip(src: Path, work: Path, options: ConvertOptions | None = None):
    """YOLO → Dataloop folder → YOLO; returns (forward report, back report, YOLO output folder)."""
    forward = Converter(options=options).run(src, "yolo", work / "dl", "dataloop")
    back = Converter(options=options).run(work / "dl", "dataloop", work / "yolo", "yolo")
    return forward, back, work / "yolo"


def write_items(collections, folder: Path, labels: LabelMap | None = None, images: dict | None = None) -> Path:
    """A Dataloop export folder: json/ (+ labelmap.json, + items/ with blank images of the given sizes)."""
    write_dataloop(collections, folder)
    if labels is not None:
        labels.save(folder / "labelmap.json")
    for filename, (width, height) in (images or {}).items():
        target = folder / "items" / filename.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (width, height)).save(target)
    return folder


def to_yolo(collections, work: Path, labels: LabelMap | None = None, images: dict | None = None, *,
            on_error: str = "fail", **options):
    """Collections → Dataloop folder → YOLO; returns (report, YOLO folder)."""
    src = write_items(collections, work / "dl", labels, images)
    out = work / "yolo"
    report = Converter(on_error=on_error, options=ConvertOptions(**options)).run(src, "dataloop", out, "yolo")
    return report, out


def data_yaml(folder: Path) -> dict:
    return yaml.safe_load((folder / "data.yaml").read_text(encoding="utf-8"))


def item(filename: str, width: int | None, height: int | None, *definitions, orientation: int | None = None,
         split: str | None = None) -> AnnotationCollection:
    collection = AnnotationCollection(filename=filename, width=width, height=height, mimetype="image/png",
                                      orientation=orientation)
    if split is not None:
        collection = AnnotationCollection.from_json({**collection.to_json(), "metadata": {
            **collection.to_json()["metadata"], "user": {"yolo": {"split": split}}}})
    for definition in definitions:
        collection.add(definition, automated=False)
    return collection


def assemble_dagshub(labels_folder: str, yaml_name: str, work: Path) -> Path:
    """The dagshub fixture keeps several label folders beside one image: give one of them the usual name."""
    root = work / "dagshub"
    (root / "data" / "labels").mkdir(parents=True)
    shutil.copytree(DAGSHUB / "data" / "images", root / "data" / "images")
    shutil.copy(DAGSHUB / yaml_name, root / "data.yaml")
    shutil.copy(DAGSHUB / "data" / labels_folder / "testimg.txt", root / "data" / "labels" / "testimg.txt")
    return root


# ==== real YOLO datasets: YOLO → Dataloop → YOLO, line by line ========================================
#: (source folder, [(source label file, written label file)], class names, counts read by type)
REAL_DATASETS = {
    "cvat-detect-names-map": (CVAT / "yolov8_detection", [("labels/train/1.txt", "labels/train/1.txt")],
                              [f"label_{i}" for i in range(10)], {"box": 2}),
    "cvat-detect-names-list": (CVAT / "yolov8_detection_with_list_of_names",
                               [("labels/train/1.txt", "labels/train/1.txt")], [f"label_{i}" for i in range(10)],
                               {"box": 2}),
    "cvat-detect-image-list": (CVAT / "yolov8_detection_with_list_of_imgs",
                               [("labels/train/1.txt", "labels/train/1.txt")], [f"label_{i}" for i in range(10)],
                               {"box": 2}),
    "cvat-detect-subset-txt": (CVAT / "yolov8_detection_with_subset_txt",
                               [("labels/train/1.txt", "labels/train/1.txt")], [f"label_{i}" for i in range(10)],
                               {"box": 2}),
    "cvat-segment": (CVAT / "yolov8_segmentation", [("labels/train/1.txt", "labels/train/1.txt")],
                     [f"label_{i}" for i in range(10)], {"segment": 2}),
    "cvat-obb": (CVAT / "yolov8_oriented_boxes", [("labels/train/1.txt", "labels/train/1.txt")],
                 [f"label_{i}" for i in range(10)], {"box": 2}),
    "cvat-pose": (CVAT / "yolov8_pose", [("labels/train/1.txt", "labels/train/1.txt")], ["skeleton_label"],
                  {"box": 1, "pose": 1, "point": 3}),
    "cvat-pose-2-values": (CVAT / "yolov8_pose_two_values_per_point", [("labels/train/1.txt", "labels/train/1.txt")],
                           ["skeleton_label"], {"box": 1, "pose": 1, "point": 3}),
    "darknet-obj-data": (YOLO_DIR / "datumaro" / "yolo_dataset" / "strict",
                         [("obj_train_data/1.txt", "labels/train/1.txt")], [f"label_{i}" for i in range(10)],
                         {"box": 2}),
    "datumaro-images-labels-no-yaml": (YOLO_DIR / "datumaro" / "yolo_dataset" / "labels",
                                       [("labels/train/1.txt", "labels/train/1.txt"),
                                        ("labels/val/1.txt", "labels/val/1.txt")],
                                       [f"label_{i}" for i in range(10)], {"box": 4}),
    "roboflow-detect": (YOLO_DIR / "datumaro" / "roboflow_yolo",
                        [("train/labels/train_001.txt", "labels/train/train_001.txt"),
                         ("train/labels/train_002.txt", "labels/train/train_002.txt"),
                         ("val/labels/val_001.txt", "labels/val/val_001.txt")], ["label_0", "label_1"], {"box": 4}),
    "roboflow-shoe-sole-segment": (SHOES, SHOE_PAIRS, ["shoes"],
                                   {"segment": sum(len(parse_lines(SHOES / s)) for s, _ in SHOE_PAIRS)}),
}


@requires_real_files
@pytest.mark.parametrize("case", sorted(REAL_DATASETS))
def test_real_dataset_round_trips_line_for_line(case, tmp_path):
    src, pairs, names, counts = REAL_DATASETS[case]
    forward, back, out = yolo_round_trip(src, tmp_path)
    assert dict(forward.annotations_in) == counts
    assert_balanced(forward)
    assert_balanced(back)
    assert sum(back.skipped.values()) == 0
    written = sorted(p.relative_to(out).as_posix() for p in (out / "labels").rglob("*.txt"))
    assert written == sorted(w for _, w in pairs)  # every image gets a file, nothing else
    shape = yaml.safe_load((src / "data.yaml").read_text()).get("kpt_shape") if (src / "data.yaml").is_file() else None
    clipped = False
    for source, target in pairs:
        expected = parse_lines(src / source)
        for line in expected:  # coordinates are clipped into [0, 1] (and reported); visibilities are not coordinates
            coordinate = coordinate_columns(len(line), shape)
            values = np.array(line)
            clipped |= bool((((values < -HALF_UNIT) | (values > 1 + HALF_UNIT)) & coordinate).any())
            line[:] = list(np.where(coordinate, np.clip(values, 0.0, 1.0), values))
        assert_lines_close(parse_lines(out / target), expected)
    assert (("approximated", "yolo.clipped") in codes(back)) == clipped
    config = data_yaml(out)
    assert config["names"] == dict(enumerate(names))
    assert config["path"] == "."
    assert all(config[split] == f"images/{split}" for split in {t.split("/")[1] for _, t in pairs})


@requires_real_files
def test_obb_fixture_corner_outside_the_image_is_read_then_clipped(tmp_path):
    # CVAT wrote one corner at -0.009808: inside Ultralytics' own 1 % tolerance, so it is read as is.
    _, back, out = yolo_round_trip(CVAT / "yolov8_oriented_boxes", tmp_path)
    boxes = [a.annotation_definition for c in read_dataloop(tmp_path / "dl") for a in c]
    assert all(b.type == "box" and b.is_rotated for b in boxes)
    corners = boxes[1].corners() / (15, 10)
    assert corners[:, 1].min() == pytest.approx(-0.009808, abs=1e-6)
    line = parse_lines(out / "labels/train/1.txt")[1]
    assert line[8] == 0.0  # clipped into the image
    assert [i.annotation_type for i in back.issues if i.code == "yolo.clipped"] == ["box"]
    assert data_yaml(out).get("kpt_shape") is None


@requires_real_files
def test_obb_corners_are_a_rectangle_in_pixels(tmp_path):
    Converter().run(CVAT / "yolov8_oriented_boxes", "yolo", tmp_path / "dl", "dataloop")
    for collection in read_dataloop(tmp_path / "dl"):
        for annotation in collection:
            box = annotation.annotation_definition
            source = np.asarray(annotation.metadata["user"]["yolo"]["corners"]).reshape(4, 2) * (15, 10)
            assert np.allclose(box.corners(), source, atol=1e-3)  # 6 decimals of 15 px


@pytest.mark.parametrize("labels_folder, yaml_name, counts", [
    ("labels_bbox", "bbox_and_segmentation.yaml", {"box": 2}),
    ("labels_segmentation", "bbox_and_segmentation.yaml", {"segment": 3}),
    ("labels_pose_2dim", "pose_2dim.yaml", {"box": 2, "pose": 2, "point": 8}),
    ("labels_pose_3dim", "pose_3dim.yaml", {"box": 2, "pose": 2, "point": 8}),  # v = 0 with x, y: kept
    ("empty", "bbox_and_segmentation.yaml", {}),
])
@requires_real_files
def test_dagshub_fixtures_round_trip(labels_folder, yaml_name, counts, tmp_path):
    root = assemble_dagshub(labels_folder, yaml_name, tmp_path)
    forward, back, out = yolo_round_trip(root, tmp_path / "work")
    assert dict(forward.annotations_in) == counts
    assert_balanced(back)
    assert not back.issues
    source = DAGSHUB / "data" / labels_folder / "testimg.txt"
    assert_lines_close(parse_lines(out / "labels/train/testimg.txt"), parse_lines(source))
    assert data_yaml(out)["names"] == {0: "dog", 1: "cat"}


@requires_real_files
def test_dagshub_pose_keypoints_keep_visibility_and_unlabelled_coordinates(tmp_path):
    # "0.2 0.2 0": a keypoint marked not labelled that still has coordinates keeps them.
    root = assemble_dagshub("labels_pose_3dim", "pose_3dim.yaml", tmp_path)
    Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    (collection,) = read_dataloop(tmp_path / "dl")
    pose = next(a for a in collection if a.type == "pose")
    points = collection.children(pose)
    assert [p.label for p in points] == ["keypoint_1", "keypoint_2", "keypoint_3", "keypoint_4"]
    assert [p.attributes["visibility"] for p in points] == ["not-visible", "unlabeled", "not-visible", "unlabeled"]
    assert (points[1].annotation_definition.x, points[1].annotation_definition.y) == pytest.approx((128, 96))
    box = next(a for a in collection if a.type == "box")
    assert box.object_id == pose.object_id
    assert box.annotation_definition.bounds() == pytest.approx((0, 0, 320, 240))


@requires_real_files
def test_dagshub_square_polygons_beside_a_triangle_stay_polygons(tmp_path):
    root = assemble_dagshub("labels_segmentation", "bbox_and_segmentation.yaml", tmp_path)
    Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    (collection,) = read_dataloop(tmp_path / "dl")
    assert [a.type for a in collection] == ["segment"] * 3
    assert collection[0].annotation_definition.parts[0].tolist() == [[0, 0], [320, 0], [320, 240], [0, 240]]


@requires_real_files
def test_shoe_sole_export_reads_every_image_with_its_split_and_size(tmp_path):
    forward = Converter().run(SHOES, "yolo", tmp_path / "dl", "dataloop")
    collections = {c.filename: c for c in read_dataloop(tmp_path / "dl")}
    # Three splits: the split folder leads each remote path, so same-named images could not collide.
    assert sorted(collections) == sorted("/" + target[len("labels/"):-len(".txt")] + ".jpg" for _, target in SHOE_PAIRS)
    assert {f"/train/{SHOE_TRAIN_EMPTY}.jpg", f"/train/{SHOE_TRAIN}.jpg", f"/val/{SHOE_VALID}.jpg",
            f"/test/{SHOE_TEST}.jpg"} <= set(collections)
    negative = collections[f"/train/{SHOE_TRAIN_EMPTY}.jpg"]
    assert len(negative) == 0 and (negative.width, negative.height) == (640, 480)
    assert negative.to_json()["metadata"]["user"]["yolo"]["split"] == "train"
    polygon = collections[f"/train/{SHOE_TRAIN}.jpg"][0].annotation_definition
    first = [float(v) for v in (SHOES / f"train/labels/{SHOE_TRAIN}.txt").read_text().split()[1:3]]
    assert polygon.parts[0][0].tolist() == pytest.approx([first[0] * 640, first[1] * 480], abs=1e-9)
    assert forward.items_in == len(SHOE_PAIRS)


@requires_real_files
def test_darknet_layout_reads_names_and_list_file(tmp_path):
    Converter().run(YOLO_DIR / "datumaro/yolo_dataset/strict/obj.data", "yolo", tmp_path / "dl", "dataloop")
    (collection,) = read_dataloop(tmp_path / "dl")
    assert collection.filename == "/1.jpg"
    assert [a.label for a in collection] == ["label_2", "label_4"]
    left, top, right, bottom = collection[0].annotation_definition.bounds()
    assert (left, top, right, bottom) == pytest.approx((0.0, 2.0, 4.0, 4.0), abs=1e-5)  # 15×10 image
    labels = json.loads((tmp_path / "dl" / "labelmap.json").read_text())
    assert [label["name"] for label in labels["labels"]] == [f"label_{i}" for i in range(10)]


@requires_real_files
def test_dota_label_txt_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(FormatError, match="DOTA"):
        Converter().run(YOLO_DIR / "datumaro/roboflow_yolo_obb", "yolo", tmp_path / "dl", "dataloop")
    assert not (tmp_path / "dl").exists()


# ==== the dtlpy-converters pair: real Dataloop exports and the YOLO files made from them ===============
@requires_real_files
def test_dataloop_export_to_yolo_matches_dtlpy_converters_labels(tmp_path):
    names = LabelMap.load(DTLPY_YOLO / "yolo/labels.txt")
    report = Converter(options=ConvertOptions(labels=names, yolo_task="detect")).run(
        DTLPY_JSON, "dataloop", tmp_path / "yolo", "yolo")
    out = tmp_path / "yolo"
    # the 13 COCO-derived detection files (cat.txt holds polygons, the video's file 7-column rows)
    sources = sorted(p for p in (DTLPY_YOLO / "yolo/annotations").rglob("*.txt") if p.stem.isdigit())
    assert len(sources) == 13
    for source in sources:
        relative = source.relative_to(DTLPY_YOLO / "yolo/annotations")
        got = sorted(parse_lines(out / "labels/train" / relative))
        expected = sorted(parse_lines(source))
        # The export's boxes were made by another tool from these lines, in floating point: one unit
        # of the 6th decimal apart at most.
        assert_lines_close(got, expected, tol=1e-6 + 1e-12)
    assert data_yaml(out)["names"] == dict(enumerate(names.names))
    assert ("skipped", "yolo.not-an-image") in codes(report)  # the webm video item
    assert_balanced(report)


@requires_real_files
def test_dtlpy_converters_labels_read_with_images_elsewhere_match_the_export(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    shutil.copy(DTLPY_YOLO / "input/000000000030.jpg", images)
    options = ConvertOptions(images=images)
    report = Converter(on_error="skip", options=options).run(DTLPY_YOLO / "yolo", "yolo", tmp_path / "dl", "dataloop")
    # Only one image is there: the other label files are named as failed, not dropped silently.
    label_files = list((DTLPY_YOLO / "yolo/annotations").rglob("*.txt"))
    assert codes(report)[("failed", "yolo.image-not-found")] == len(label_files) - 1
    (collection,) = read_dataloop(tmp_path / "dl")
    export = AnnotationCollection.from_json_file(DTLPY_JSON / "000000000030.json")
    assert collection.filename == export.filename
    assert (collection.width, collection.height) == (export.width, export.height)
    got = sorted((a.label, a.annotation_definition.bounds()) for a in collection)
    expected = sorted((a.label, a.annotation_definition.bounds()) for a in export)
    for (label, bounds), (label_e, bounds_e) in zip(got, expected, strict=True):
        assert label == label_e
        assert bounds == pytest.approx(bounds_e, abs=1e-6 * 640)


# ==== COCO → YOLO: boxes land where the YOLO formulas put them ========================================
def yolo_from_coco_box(bbox, width, height):
    """The YOLO line of a COCO box, by hand: clip the edges into the image, then centre and size."""
    x, y, w, h = bbox
    left, top = min(max(x, 0), width), min(max(y, 0), height)
    right, bottom = min(max(x + w, 0), width), min(max(y + h, 0), height)
    return [(left + right) / 2 / width, (top + bottom) / 2 / height, (right - left) / width, (bottom - top) / height]


def check_coco_to_yolo(coco: dict, coco_path: Path, tmp_path: Path):
    report = Converter().run(coco_path, "coco", tmp_path / "yolo", "yolo")
    out = tmp_path / "yolo"
    category_ids = sorted(c["id"] for c in coco["categories"])
    names = {c["id"]: c["name"] for c in coco["categories"]}
    config = data_yaml(out)
    assert config["names"] == {i: names[cid] for i, cid in enumerate(category_ids)}  # 0-based, COCO id order
    for image in coco["images"]:
        records = [r for r in coco["annotations"] if r["image_id"] == image["id"]]
        expected = [[category_ids.index(r["category_id"]),
                     *yolo_from_coco_box(r["bbox"], image["width"], image["height"])] for r in records]
        path = out / "labels" / "train" / (Path(image["file_name"]).stem + ".txt")
        assert path.is_file()  # negatives too, empty
        assert_lines_close(parse_lines(path), expected)
    assert_balanced(report)
    return report


def test_coco_boxes_to_yolo_by_hand(tmp_path):
    coco = {
        "images": [{"id": 7, "file_name": "street/a.jpg", "width": 640, "height": 427},
                   {"id": 8, "file_name": "b.png", "width": 300, "height": 500},
                   {"id": 9, "file_name": "empty.jpg", "width": 100, "height": 100}],
        "categories": [{"id": 90, "name": "toothbrush"}, {"id": 1, "name": "person"}, {"id": 5, "name": "bus"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 1, "bbox": [10.25, 20.5, 100.125, 200.75]},
            {"id": 2, "image_id": 7, "category_id": 90, "bbox": [0, 0, 640, 427]},  # the whole image
            {"id": 3, "image_id": 7, "category_id": 5, "bbox": [600.5, 400.25, 60, 40]},  # pokes out: clipped
            {"id": 4, "image_id": 8, "category_id": 5, "bbox": [1 / 3, 2 / 3, 123.456789, 0.5]},
        ],
    }
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco), encoding="utf-8")
    report = Converter().run(path, "coco", tmp_path / "yolo", "yolo")
    out = tmp_path / "yolo"
    assert (out / "labels/train/street/a.txt").is_file()
    assert (out / "labels/train/empty.txt").read_text() == ""
    # Class index = rank of the COCO category id: person (1) → 0, bus (5) → 1, toothbrush (90) → 2.
    expected_a = [[0, *yolo_from_coco_box([10.25, 20.5, 100.125, 200.75], 640, 427)],
                  [2, *yolo_from_coco_box([0, 0, 640, 427], 640, 427)],
                  [1, *yolo_from_coco_box([600.5, 400.25, 60, 40], 640, 427)]]
    assert_lines_close(parse_lines(out / "labels/train/street/a.txt"), expected_a)
    expected_b = [[1, *yolo_from_coco_box([1 / 3, 2 / 3, 123.456789, 0.5], 300, 500)]]
    assert_lines_close(parse_lines(out / "labels/train/b.txt"), expected_b)
    assert data_yaml(out)["names"] == {0: "person", 1: "bus", 2: "toothbrush"}
    assert [i.code for i in report.issues] == ["yolo.clipped"]
    assert (out / "labels/train/street/a.txt").read_text().splitlines()[1] == "2 0.500000 0.500000 1.000000 1.000000"
    assert_balanced(report)


@requires_real_files
def test_mmdetection_coco_sample_to_yolo(tmp_path):
    path = FIXTURES / "coco/mmdetection/coco_sample.json"
    coco = json.loads(path.read_text(encoding="utf-8"))
    check_coco_to_yolo(coco, path, tmp_path)
    assert (tmp_path / "yolo/labels/train/fake3.txt").read_text() == ""  # the image without annotations


def test_coco_keypoints_to_yolo_pose_by_hand(tmp_path):
    coco = {
        "images": [{"id": 1, "file_name": "p.jpg", "width": 200, "height": 100}],
        "categories": [{"id": 1, "name": "person", "keypoints": ["nose", "left_eye", "right_eye"],
                        "skeleton": [[1, 2], [1, 3]]}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [20, 10, 100, 80], "iscrowd": 0,
                         "keypoints": [50, 30, 2, 40, 20, 1, 0, 0, 0], "num_keypoints": 2}],
    }
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco), encoding="utf-8")
    report = Converter().run(path, "coco", tmp_path / "yolo", "yolo")
    line = parse_lines(tmp_path / "yolo/labels/train/p.txt")
    expected = [[0, 70 / 200, 50 / 100, 100 / 200, 80 / 100, 50 / 200, 30 / 100, 2, 40 / 200, 20 / 100, 1, 0, 0, 0]]
    assert_lines_close(line, expected)
    config = data_yaml(tmp_path / "yolo")
    assert config["kpt_shape"] == [3, 3]
    assert config["flip_idx"] == [0, 2, 1]  # left_eye ↔ right_eye
    assert config["kpt_names"] == {0: ["nose", "left_eye", "right_eye"]}
    assert config["names"] == {0: "person"}
    assert_balanced(report)


# ==== Dataloop → YOLO → Dataloop: properties ===========================================================
sizes = st.tuples(st.integers(1, 4000), st.integers(1, 4000))
heavy = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                         HealthCheck.function_scoped_fixture])


def unit(min_value=0.0, max_value=1.0):
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)


@st.composite
def boxes_in(draw, width, height):
    x0, x1 = sorted(draw(st.tuples(unit(), unit())))
    y0, y1 = sorted(draw(st.tuples(unit(), unit())))
    assume(x1 - x0 > 1e-3 and y1 - y0 > 1e-3)
    return Box(left=x0 * width, top=y0 * height, right=x1 * width, bottom=y1 * height, label=draw(st.sampled_from(
        ["car", "person", "Ünïcode label", "a.b"])))


@st.composite
def polygons_in(draw, width, height):
    count = draw(st.integers(3, 12))
    angles = np.sort(np.asarray(draw(st.lists(unit(0, 2 * np.pi), min_size=count, max_size=count, unique=True))))
    radius = np.asarray(draw(st.lists(unit(0.05, 0.5), min_size=count, max_size=count)))
    centre = np.asarray(draw(st.tuples(unit(0.4, 0.6), unit(0.4, 0.6))))
    points = (centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius[:, None] * 0.8) * (width, height)
    assume(shapely.Polygon(points).area > 1e-9 * width * height)
    return Polygon(geo=points, label=draw(st.sampled_from(["road", "sky"])))


@given(size=sizes, data=st.data())
@heavy
def test_property_boxes_survive_yolo(size, data, tmp_path_factory):
    width, height = size
    boxes = data.draw(st.lists(boxes_in(width, height), min_size=1, max_size=5))
    work = tmp_path_factory.mktemp("boxes")
    collection = item("/dir/img.png", width, height, *boxes)
    report, out = to_yolo([collection], work, images={"/dir/img.png": size}, images_mode="copy")
    assert data_yaml(out)["names"] == dict(enumerate(sorted({b.label for b in boxes})))
    back = Converter().run(out, "yolo", work / "back", "dataloop")
    (result,) = read_dataloop(work / "back")
    assert result.filename == "/dir/img.png" and (result.width, result.height) == size
    assert len(result) == len(boxes)
    for annotation, box in zip(result, boxes, strict=True):
        assert annotation.label == box.label
        got = np.array(annotation.annotation_definition.bounds())
        assert np.allclose(got, box.bounds(), rtol=0, atol=1e-6 * max(size) + 1e-9)
    assert_balanced(report)
    assert_balanced(back)


@given(size=sizes, data=st.data())
@heavy
def test_property_polygons_survive_yolo_vertex_for_vertex(size, data, tmp_path_factory):
    width, height = size
    polygons = data.draw(st.lists(polygons_in(width, height), min_size=1, max_size=3))
    work = tmp_path_factory.mktemp("polygons")
    report, out = to_yolo([item("/p.png", width, height, *polygons)], work, images={"/p.png": size},
                          images_mode="copy")
    Converter().run(out, "yolo", work / "back", "dataloop")
    (result,) = read_dataloop(work / "back")
    assert [a.type for a in result] == ["segment"] * len(polygons)
    for annotation, polygon in zip(result, polygons, strict=True):
        got = annotation.annotation_definition.parts[0] / size
        assert got.shape == polygon.parts[0].shape
        assert np.allclose(got, polygon.parts[0] / size, rtol=0, atol=HALF_UNIT)
    assert not report.issues


@given(size=sizes, data=st.data())
@heavy
def test_property_poses_survive_yolo_point_for_point(size, data, tmp_path_factory):
    width, height = size
    names = ["nose", "left_eye", "right_eye", "left_ear", "right_ear"]
    template = PoseTemplate("tpl-face", "face", names, [("nose", "left_eye"), ("nose", "right_eye")])
    labels = LabelMap([LabelInfo("face", 1, stable_color("face"))], [template])
    collection = item("/f.png", width, height)
    poses = []
    for number in range(data.draw(st.integers(1, 3))):
        box = data.draw(boxes_in(width, height))
        box.label = "face"
        collection.add(box, object_id=number + 1, automated=False)
        pose = collection.add(Pose(label="face", template_id="tpl-face", instance_id=f"i{number}"),
                              object_id=number + 1, automated=False)
        pose.id = f"pose-{number}"
        points = {}
        for name in names:
            state = data.draw(st.sampled_from(["visible", "not-visible", None]))
            if state is None:
                continue
            x, y = data.draw(unit()) * width, data.draw(unit()) * height
            collection.add(Point(x=x, y=y, label=name, attributes={"visibility": state}), parent_id=pose.id,
                           automated=False)
            points[name] = (x, y, state)
        poses.append((box, points))
    work = tmp_path_factory.mktemp("poses")
    report, out = to_yolo([collection], work, labels=labels, images={"/f.png": size}, images_mode="copy")
    config = data_yaml(out)
    assert config["kpt_shape"] == [5, 3] and config["flip_idx"] == [0, 2, 1, 4, 3]
    Converter().run(out, "yolo", work / "back", "dataloop")
    (result,) = read_dataloop(work / "back")
    result_poses = [a for a in result if a.type == "pose"]
    assert len(result_poses) == len(poses)
    for pose, (box, points) in zip(result_poses, poses, strict=True):
        assert pose.annotation_definition.template_id == "tpl-face"
        partner = next(a for a in result if a.type == "box" and a.object_id == pose.object_id)
        assert np.allclose(partner.annotation_definition.bounds(), box.bounds(), rtol=0, atol=1e-6 * max(size) + 1e-9)
        children = {c.label: c for c in result.children(pose)}
        assert set(children) == set(points)
        for name, (x, y, state) in points.items():
            point = children[name].annotation_definition
            assert children[name].attributes["visibility"] == state
            assert np.allclose([point.x / width, point.y / height], [x / width, y / height], rtol=0, atol=HALF_UNIT)
    assert_balanced(report)


@given(size=st.tuples(st.integers(50, 3000), st.integers(50, 3000)), data=st.data())
@heavy
def test_property_rotated_boxes_survive_yolo_obb(size, data, tmp_path_factory):
    width, height = size
    cx, cy = data.draw(unit(0.3, 0.7)) * width, data.draw(unit(0.3, 0.7)) * height
    w, h = data.draw(unit(0.05, 0.3)) * width, data.draw(unit(0.05, 0.3)) * height
    angle = data.draw(unit(-179, 179))
    assume(min(angle % 90, 90 - angle % 90) > 1e-3)  # not upright
    box = Box(left=cx - w / 2, top=cy - h / 2, right=cx + w / 2, bottom=cy + h / 2, angle=angle, label="ship")
    assume(((box.corners() >= 0) & (box.corners() <= size)).all())
    work = tmp_path_factory.mktemp("obb")
    report, out = to_yolo([item("/s.png", width, height, box)], work, images={"/s.png": size}, images_mode="copy")
    (line,) = parse_lines(out / "labels/train/s.txt")
    assert np.allclose(np.reshape(line[1:], (4, 2)), box.corners() / size, rtol=0, atol=HALF_UNIT)
    Converter().run(out, "yolo", work / "back", "dataloop")
    (result,) = read_dataloop(work / "back")
    (annotation,) = result
    got = annotation.annotation_definition
    assert got.type == "box" and got.is_rotated
    assert np.allclose(got.corners(), box.corners(), rtol=0, atol=2e-6 * max(size))
    assert not report.issues


# ==== Dataloop → YOLO: the rules, one by one ==========================================================
def test_task_is_the_richest_the_data_needs(tmp_path):
    upright = Box(left=1, top=1, right=5, bottom=5, label="a")
    rotated = Box(left=1, top=1, right=5, bottom=5, angle=30, label="a")
    polygon = Polygon(geo=[[1, 1], [8, 1], [4, 8]], label="b")
    cases = [([upright], "detect", 5), ([upright, rotated], "obb", 9), ([upright, rotated, polygon], "segment", 9)]
    for number, (definitions, task, columns) in enumerate(cases):
        report, out = to_yolo([item("/a.png", 10, 10, *definitions)], tmp_path / str(number))
        lines = parse_lines(out / "labels/train/a.txt")
        assert {len(line) for line in lines} == ({columns, 7} if task == "segment" else {columns}), task
        assert_balanced(report)
    forced, out = to_yolo([item("/a.png", 10, 10, upright, rotated, polygon)], tmp_path / "forced", yolo_task="detect")
    assert {len(line) for line in parse_lines(out / "labels/train/a.txt")} == {5}
    assert codes(forced)[("approximated", "yolo.rotated-box-as-bounds")] == 1
    assert codes(forced)[("approximated", "yolo.polygon-as-box")] == 1


def test_every_image_gets_a_label_file_and_class_indices_follow_the_label_map(tmp_path):
    labels = LabelMap([LabelInfo(name, i, stable_color(name)) for i, name in enumerate(["zebra", "ant", "cat"], 1)])
    collections = [item("/x/one.png", 100, 50, Box(left=0, top=0, right=50, bottom=25, label="cat"),
                        Box(left=50, top=25, right=100, bottom=50, label="zebra")),
                   item("/x/two.png", 100, 50), item("/three.png", 100, 50)]
    report, out = to_yolo(collections, tmp_path, labels=labels)
    assert (out / "labels/train/x/two.txt").read_text() == ""
    assert (out / "labels/train/three.txt").read_text() == ""
    assert (out / "labels/train/x/one.txt").read_text() == ("2 0.250000 0.250000 0.500000 0.500000\n"
                                                           "0 0.750000 0.750000 0.500000 0.500000\n")
    config = data_yaml(out)
    assert config["names"] == {0: "zebra", 1: "ant", 2: "cat"} and config["nc"] == 3
    saved = LabelMap.load(out / "labelmap.json")
    assert saved.yolo_names() == ["zebra", "ant", "cat"]
    assert report.items_out == 3


def test_labels_missing_from_the_map_are_appended(tmp_path):
    labels = LabelMap([LabelInfo("b", 1, stable_color("b"))])
    _, out = to_yolo([item("/a.png", 10, 10, Box(left=1, top=1, right=2, bottom=2, label="c"),
                           Box(left=1, top=1, right=2, bottom=2, label="a"))], tmp_path, labels=labels)
    assert data_yaml(out)["names"] == {0: "b", 1: "a", 2: "c"}
    assert [line[0] for line in parse_lines(out / "labels/train/a.txt")] == [2, 1]


def test_exif_orientation_6_normalises_by_the_displayed_size(tmp_path):
    # Stored 40×20, displayed 20×40 (EXIF 6 turns it by 90°): coordinates are in the displayed frame.
    images = tmp_path / "src" / "items"
    images.mkdir(parents=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (40, 20)).save(images / "r.jpg", exif=exif.tobytes())
    collection = AnnotationCollection(filename="/r.jpg", width=40, height=20, mimetype="image/jpeg", orientation=6)
    collection.add(Box(left=2, top=4, right=12, bottom=30, label="thing"), automated=False)
    write_dataloop([collection], tmp_path / "src")
    Converter(options=ConvertOptions(images_mode="copy")).run(tmp_path / "src", "dataloop", tmp_path / "yolo", "yolo")
    (line,) = parse_lines(tmp_path / "yolo/labels/train/r.txt")
    assert line == pytest.approx([0, 7 / 20, 17 / 40, 10 / 20, 26 / 40], abs=HALF_UNIT)
    assert (tmp_path / "yolo/images/train/r.jpg").is_file()
    Converter().run(tmp_path / "yolo", "yolo", tmp_path / "back", "dataloop")
    (back,) = read_dataloop(tmp_path / "back")
    assert (back.width, back.height, back.orientation) == (40, 20, 6)
    assert back.display_size == (20, 40)
    assert back[0].annotation_definition.bounds() == pytest.approx((2, 4, 12, 30), abs=1e-5)


def test_clipping_is_reported_and_a_box_outside_is_skipped(tmp_path):
    poking = Box(left=-10, top=5, right=50, bottom=120, label="a")
    outside = Box(left=200, top=200, right=250, bottom=260, label="b")
    inside = Box(left=10, top=10, right=20, bottom=20, label="c")
    report, out = to_yolo([item("/a.png", 100, 100, poking, outside, inside)], tmp_path)
    lines = parse_lines(out / "labels/train/a.txt")
    assert lines == [pytest.approx([0, 0.25, 0.525, 0.5, 0.95]), pytest.approx([2, 0.15, 0.15, 0.1, 0.1])]
    assert [(i.kind, i.code, i.label) for i in report.issues] == [("approximated", "yolo.clipped", "a"),
                                                                  ("skipped", "yolo.outside-image", "b")]
    assert_balanced(report)


def test_multipart_polygon_is_one_line_with_the_same_area(tmp_path):
    outer = [[10, 10], [90, 10], [90, 90], [10, 90]]
    hole = [[30, 30], [70, 30], [70, 70], [30, 70]]
    far = [[100, 100], [150, 100], [150, 180]]
    polygon = Polygon(geo=[np.array(outer, float), np.array(hole, float), np.array(far, float)], label="blob")
    report, out = to_yolo([item("/a.png", 200, 200, polygon)], tmp_path)
    (line,) = parse_lines(out / "labels/train/a.txt")
    ring = np.reshape(line[1:], (-1, 2)) * 200
    area = shapely.make_valid(shapely.Polygon(ring)).area
    assert area == pytest.approx(80 * 80 - 40 * 40 + 50 * 80 / 2, abs=1e-6)
    # OpenCV (Ultralytics' rasteriser) fills the one line as it fills the three rings, but for the
    # bridges, drawn 1 px wide.
    one = np.zeros((200, 200), np.uint8)
    cv2.fillPoly(one, [np.round(ring).astype(np.int32)], 1)
    three = np.zeros((200, 200), np.uint8)
    cv2.fillPoly(three, [np.asarray(r, np.int32) for r in (outer, hole, far)], 1)
    assert (one != three).sum() < 100
    assert codes(report) == Counter({("approximated", "yolo.multipart-merged"): 1})


def test_merge_rings_visits_every_vertex_and_bridges_closest_vertices():
    a = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    b = np.array([[20, 0], [30, 0], [30, 10]], float)
    c = np.array([[0, 20], [10, 20], [5, 30]], float)
    merged = merge_rings([a, b, c])
    assert len(merged) == 4 + (3 + 1 + 1) + (3 + 1 + 1)  # each child ring closes and bridges back
    for ring in (a, b, c):
        assert all(any(np.array_equal(v, m) for m in merged) for v in ring)
    ring_of = [next(i for i, r in enumerate((a, b, c)) if any(np.array_equal(v, p) for p in r)) for v in merged]
    bridges = [float(np.hypot(*(merged[(k + 1) % len(merged)] - merged[k]))) for k in range(len(merged))
               if ring_of[k] != ring_of[(k + 1) % len(merged)]]
    assert bridges == pytest.approx([10, 10, 10, 10])  # two bridges of the closest vertices, each walked twice
    assert merge_rings([a]) is not None and np.array_equal(merge_rings([a]), a)


def test_mask_becomes_a_polygon_line(tmp_path):
    mask = np.zeros((60, 80), bool)
    mask[10:50, 10:70] = True
    mask[20:40, 30:50] = False  # a hole
    report, out = to_yolo([item("/m.png", 80, 60, Segmentation(geo=mask, label="m"))], tmp_path)
    (line,) = parse_lines(out / "labels/train/m.txt")
    ring = np.reshape(line[1:], (-1, 2)) * (80, 60)
    assert shapely.make_valid(shapely.Polygon(ring)).area == pytest.approx(mask.sum(), rel=0.01)
    assert codes(report)[("approximated", "yolo.mask-as-polygon")] == 1


def test_segment_task_writes_boxes_and_ellipses_as_polygons(tmp_path):
    report, out = to_yolo([item("/a.png", 100, 100, Box(left=10, top=20, right=30, bottom=60, label="b"),
                                Ellipse(x=50, y=50, rx=20, ry=10, label="e"),
                                Polygon(geo=[[0, 0], [5, 0], [0, 5]], label="p"))], tmp_path)
    lines = parse_lines(out / "labels/train/a.txt")
    assert lines[0] == pytest.approx([0, 0.1, 0.2, 0.3, 0.2, 0.3, 0.6, 0.1, 0.6])
    assert len(lines[1]) == 1 + 2 * 72
    assert codes(report)[("approximated", "yolo.box-as-polygon")] == 1
    assert codes(report)[("approximated", "yolo.ellipse-as-polygon")] == 1


def test_unsupported_types_are_skipped_and_reported(tmp_path):
    collection = item("/a.png", 100, 100, Box(left=1, top=1, right=9, bottom=9, label="ok"),
                      Polyline(geo=[[0, 0], [5, 5]], label="line"), Point(x=3, y=3, label="dot"),
                      Classification(label="day"), Cube(front_tl=[0, 0], front_tr=[5, 0], front_br=[5, 5],
                                                         front_bl=[0, 5], back_tl=[1, 1], back_tr=[6, 1],
                                                         back_br=[6, 6], back_bl=[1, 6], label="cube"),
                      Subtitle(text="hi", label="sub"))
    report, out = to_yolo([collection], tmp_path)
    assert len(parse_lines(out / "labels/train/a.txt")) == 1
    assert codes(report)[("skipped", "yolo.unsupported-type")] == 5
    assert data_yaml(out)["names"] == {0: "ok"}
    assert_balanced(report)


def test_video_audio_and_sizeless_items(tmp_path):
    video = AnnotationCollection(filename="/v.mp4", width=64, height=48, mimetype="video/mp4", fps=25)
    video.add(Box(left=1, top=1, right=5, bottom=5, label="car"), object_id=1, frame_num=0)
    sizeless = AnnotationCollection(filename="/nosize.png", mimetype="image/png")
    sizeless.add(Box(left=1, top=1, right=5, bottom=5, label="car"), automated=False)
    empty_sizeless = AnnotationCollection(filename="/empty.png", mimetype="image/png")
    # nothing of these can be written: a run that writes 0 of N annotations needs on_error="skip"
    report, out = to_yolo([video, sizeless, empty_sizeless], tmp_path, on_error="skip")
    assert not (out / "labels/train/v.txt").exists()
    assert not (out / "labels/train/nosize.txt").exists()
    assert (out / "labels/train/empty.txt").read_text() == ""
    assert codes(report) == Counter({("skipped", "yolo.not-an-image"): 1, ("skipped", "yolo.no-image-size"): 1})
    assert next(i for i in report.issues if i.code == "yolo.no-image-size").item == "/nosize.png"
    assert report.items_out == 1
    assert_balanced(report)


def test_size_comes_from_the_image_when_the_item_has_none(tmp_path):
    collection = AnnotationCollection(filename="/a.png", mimetype="image/png")
    collection.add(Box(left=0, top=0, right=10, bottom=5, label="x"), automated=False)
    report, out = to_yolo([collection], tmp_path, images={"/a.png": (20, 10)})
    assert parse_lines(out / "labels/train/a.txt") == [pytest.approx([0, 0.25, 0.25, 0.5, 0.5])]
    assert not report.issues


def test_pose_without_partner_box_uses_its_keypoints_and_missing_keypoints_are_zeros(tmp_path):
    template = PoseTemplate("t", "hand", ["wrist", "thumb", "index"])
    labels = LabelMap([LabelInfo("hand", 1, stable_color("hand"))], [template])
    collection = item("/h.png", 100, 200)
    pose = collection.add(Pose(label="hand", template_id="t", instance_id="x"), automated=False)
    pose.id = "p1"
    collection.add(Point(x=10, y=20, label="wrist", attributes={"visibility": "visible"}), parent_id="p1")
    collection.add(Point(x=30, y=60, label="index", attributes={"visibility": "not-visible"}), parent_id="p1")
    collection.add(Point(x=1, y=1, label="elbow"), parent_id="p1")  # not in the template
    report, out = to_yolo([collection], tmp_path, labels=labels)
    (line,) = parse_lines(out / "labels/train/h.txt")
    assert line == pytest.approx([0, 0.2, 0.2, 0.2, 0.2, 0.1, 0.1, 2, 0, 0, 0, 0.3, 0.3, 1])
    assert codes(report) == Counter({("approximated", "yolo.pose-box-from-keypoints"): 1,
                                     ("skipped", "yolo.keypoint-not-in-template"): 1})
    assert "flip_idx" not in data_yaml(out)  # no left/right pairs
    assert_balanced(report)


def test_keypoint_labels_are_not_classes(tmp_path):
    # An ontology lists keypoint names as labels; they are not YOLO classes.
    names = ["left_hand", "person", "right_hand"]
    labels = LabelMap([LabelInfo(n, i, stable_color(n)) for i, n in enumerate(names, 1)],
                      [PoseTemplate("t", "skeleton", ["left_hand", "right_hand"])])
    collection = item("/a.png", 10, 10, Box(left=1, top=1, right=9, bottom=9, label="person"))
    collection.annotations[0].object_id = 1
    pose = collection.add(Pose(label="person", template_id="t", instance_id="i"), object_id=1, automated=False)
    pose.id = "p"
    collection.add(Point(x=2, y=2, label="left_hand"), parent_id="p")
    report, out = to_yolo([collection], tmp_path, labels=labels)
    config = data_yaml(out)
    assert config["names"] == {0: "person"}
    assert config["flip_idx"] == [1, 0]
    assert parse_lines(out / "labels/train/a.txt") == [pytest.approx([0, 0.5, 0.5, 0.8, 0.8, 0.2, 0.2, 2, 0, 0, 0])]
    assert_balanced(report)


def test_non_pose_shapes_in_a_pose_dataset_have_every_keypoint_missing(tmp_path):
    template = PoseTemplate("t", "p", ["a", "b"])
    collection = item("/a.png", 10, 10, Box(left=0, top=0, right=5, bottom=5, label="car"))
    pose = collection.add(Pose(label="p", template_id="t", instance_id="i"), automated=False)
    pose.id = "pp"
    collection.add(Point(x=1, y=1, label="a"), parent_id="pp")
    collection.add(Point(x=3, y=4, label="b"), parent_id="pp")
    labels = LabelMap([LabelInfo("car", 1, stable_color("car")), LabelInfo("p", 2, stable_color("p"))], [template])
    report, out = to_yolo([collection], tmp_path, labels=labels)
    lines = parse_lines(out / "labels/train/a.txt")
    assert lines[0] == pytest.approx([0, 0.25, 0.25, 0.5, 0.5, 0, 0, 0, 0, 0, 0])
    assert codes(report)[("approximated", "yolo.no-keypoints")] == 1


def test_splits_from_item_metadata_and_options(tmp_path):
    collections = [item("/a.png", 10, 10), item("/val/b.png", 10, 10, split="val"),
                   item("/c.png", 10, 10, split="test")]
    _, out = to_yolo(collections, tmp_path, split="train")
    assert sorted(p.relative_to(out / "labels").as_posix() for p in (out / "labels").rglob("*.txt")) == [
        "test/c.txt", "train/a.txt", "val/b.txt"]
    config = data_yaml(out)
    assert list(config)[:4] == ["path", "train", "val", "test"]


def test_precision_option_and_determinism(tmp_path):
    collection = item("/a.png", 3, 7, Box(left=1, top=1, right=2, bottom=3, label="x"))
    _, out = to_yolo([collection], tmp_path / "p3", precision=3)
    assert (out / "labels/train/a.txt").read_text() == "0 0.500 0.286 0.333 0.286\n"
    _, one = to_yolo([collection], tmp_path / "one")
    _, two = to_yolo([collection], tmp_path / "two")
    for path in sorted(p for p in one.rglob("*") if p.is_file()):
        assert path.read_bytes() == (two / path.relative_to(one)).read_bytes()


def test_images_link_mode_and_missing_image(tmp_path):
    collections = [item("/a.png", 10, 10)]
    _, out = to_yolo(collections, tmp_path / "link", images={"/a.png": (10, 10)}, images_mode="link")
    assert (out / "images/train/a.png").is_symlink() or (out / "images/train/a.png").is_file()
    with pytest.raises(FormatError, match=r"the image of '/missing.png' was not found \(looked in .*missing/dl/items"):
        to_yolo([item("/missing.png", 10, 10)], tmp_path / "missing", images={"/a.png": (10, 10)}, images_mode="copy")
    assert not (tmp_path / "missing" / "yolo").exists()


def test_format_is_registered():
    spec = get_format("yolo")
    assert spec.name == "yolo" and spec.read is not None and spec.write is not None
    assert {"box", "segment", "pose"} <= spec.holds


# ==== hostile label files ==========================================================================
def minimal_dataset(tmp_path: Path, text: str | None, *, kpt_shape: list[int] | None = None) -> Path:
    root = tmp_path / "ds"
    (root / "images/train").mkdir(parents=True)
    (root / "labels/train").mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(root / "images/train/a.png")
    config = {"path": ".", "train": "images/train", "names": {i: f"c{i}" for i in range(3)}}
    if kpt_shape:
        config["kpt_shape"] = kpt_shape
    (root / "data.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    if text is not None:
        (root / "labels/train/a.txt").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("text, message, line", [
    ("0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2 0.1\n", "found 6 columns", 2),
    ("0 0.5 1.5 0.2 0.2\n", "outside [0, 1]", 1),
    ("0 0.5 0.5 0.2 0.2\n\n3 0.5 0.5 0.2 0.2\n", "class 3 is past the 3 class names", 3),
    ("0,0.5,0.5,0.2,0.2\n", "commas", 1),
    ("0 0.5 abc 0.2 0.2\n", "'abc' is not a number", 1),
    ("0 0.5 nan 0.2 0.2\n", "'nan' is not a number", 1),
    ("-1 0.5 0.5 0.2 0.2\n", "whole number", 1),
    ("1.5 0.5 0.5 0.2 0.2\n", "whole number", 1),
    ("0 0.5 0.5 -0.005 0.2\n", "must not be negative", 1),
    ("0 120 40 30 30\n", "outside [0, 1]", 1),  # pixel values
])
def test_hostile_lines_fail_with_file_and_line(text, message, line, tmp_path):
    root = minimal_dataset(tmp_path, text)
    with pytest.raises(FormatError) as info:
        Converter().run(root, "yolo", tmp_path / "out", "dataloop")
    error = info.value
    assert error.path.endswith("a.txt") and error.where == f"line {line}"
    assert message in error.message
    assert "\n" not in str(error)
    assert str(error).startswith(str(root / "labels/train/a.txt") + f":line {line}: ")
    assert not (tmp_path / "out").exists()


def test_hostile_pose_visibility_and_columns(tmp_path):
    root = minimal_dataset(tmp_path, "0 0.5 0.5 0.2 0.2 0.1 0.1 3 0.2 0.2 2\n", kpt_shape=[2, 3])
    with pytest.raises(FormatError, match="visibility must be 0, 1 or 2"):
        Converter().run(root, "yolo", tmp_path / "out", "dataloop")
    root = minimal_dataset(tmp_path / "b", "0 0.5 0.5 0.2 0.2\n", kpt_shape=[2, 3])
    with pytest.raises(FormatError, match="a pose line has 11 columns"):
        Converter().run(root, "yolo", tmp_path / "out", "dataloop")


def test_a_directory_named_like_a_label_file(tmp_path):
    root = minimal_dataset(tmp_path, None)
    (root / "labels/train/a.txt").mkdir()
    with pytest.raises(FormatError, match="found a directory"):
        Converter().run(root, "yolo", tmp_path / "out", "dataloop")
    assert not (tmp_path / "out").exists()


def test_label_file_without_image_and_broken_yaml(tmp_path):
    root = minimal_dataset(tmp_path, "0 0.5 0.5 0.2 0.2\n")
    (root / "labels/train/orphan.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    with pytest.raises(FormatError, match="label file has no image"):
        Converter().run(root, "yolo", tmp_path / "out", "dataloop")
    (root / "data.yaml").write_text("names: [a, b\ntrain: x\n", encoding="utf-8")
    with pytest.raises(FormatError, match="invalid YAML") as info:
        Converter().run(root, "yolo", tmp_path / "out", "dataloop")
    assert info.value.where and info.value.where.startswith("line ")


def test_on_error_skip_reads_the_good_lines_and_balances(tmp_path):
    root = minimal_dataset(tmp_path, "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n1 0.25 0.5 0.1 0.2\n9 0.5 0.5 0.1 0.1\n")
    report = Converter(on_error="skip").run(root, "yolo", tmp_path / "out", "dataloop")
    (collection,) = read_dataloop(tmp_path / "out")
    assert [a.label for a in collection] == ["c0", "c1"]
    assert [(i.code, i.where) for i in report.issues] == [("yolo.invalid-line", "line 2"),
                                                          ("yolo.invalid-line", "line 4")]
    assert_balanced(report)


def test_names_less_folder_gets_class_names_up_to_the_largest_index(tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    Image.new("RGB", (10, 10)).save(folder / "a.jpg")
    Image.new("RGB", (10, 10)).save(folder / "b.jpg")
    (folder / "a.txt").write_text("3 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    Converter().run(folder, "yolo", tmp_path / "dl", "dataloop")
    collections = {c.filename: c for c in read_dataloop(tmp_path / "dl")}
    assert sorted(collections) == ["/a.jpg", "/b.jpg"]  # b.jpg: no label file, no objects
    assert collections["/a.jpg"][0].label == "class_3"
    labels = LabelMap.load(tmp_path / "dl" / "labelmap.json")
    assert labels.yolo_names() == ["class_0", "class_1", "class_2", "class_3"]


# ==== more reading and writing rules ==================================================================
def test_upright_obb_dataset_stays_obb(tmp_path):
    # Every box upright: without the dataset's task (kept in the label map) it would come back as detect.
    root = minimal_dataset(tmp_path, "1 0.25 0.2 0.75 0.2 0.75 0.8 0.25 0.8\n2 0.75 0.2 0.75 0.8 0.25 0.8 0.25 0.2\n")
    _, back, out = yolo_round_trip(root, tmp_path / "work")
    boxes = [a.annotation_definition for c in read_dataloop(tmp_path / "work/dl") for a in c]
    assert [(b.type, b.is_rotated) for b in boxes] == [("box", False), ("box", False)]
    assert boxes[1].bounds() == pytest.approx((5, 2, 15, 8))  # started at the top-right corner: still upright
    assert_lines_close(parse_lines(out / "labels/train/a.txt"), parse_lines(root / "labels/train/a.txt"))
    assert not back.issues


def test_task_option_forces_how_lines_are_read(tmp_path):
    text = "0 0.25 0.2 0.75 0.2 0.75 0.8 0.25 0.8\n"
    root = minimal_dataset(tmp_path, text)
    Converter(options=ConvertOptions(yolo_task="segment")).run(root, "yolo", tmp_path / "seg", "dataloop")
    assert [a.type for c in read_dataloop(tmp_path / "seg") for a in c] == ["segment"]
    with pytest.raises(FormatError, match="a detect line has 5 columns"):
        Converter(options=ConvertOptions(yolo_task="detect")).run(root, "yolo", tmp_path / "det", "dataloop")
    with pytest.raises(ValueError, match="task must be one of"):
        Converter(options=ConvertOptions(yolo_task="classify")).run(root, "yolo", tmp_path / "x", "dataloop")


@requires_real_files
def test_yolo_to_yolo_directly(tmp_path):
    report = Converter().run(SHOES, "yolo", tmp_path / "out", "yolo")
    for source, target in REAL_DATASETS["roboflow-shoe-sole-segment"][1]:
        assert_lines_close(parse_lines(tmp_path / "out" / target), parse_lines(SHOES / source))
    assert_balanced(report)
    assert report.items_out == len(SHOE_PAIRS)


def test_coco_crowd_regions_are_skipped(tmp_path):
    coco = {"images": [{"id": 1, "file_name": "c.jpg", "width": 4, "height": 3}],
            "categories": [{"id": 1, "name": "people"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 3], "iscrowd": 1,
                             "area": 6, "segmentation": {"size": [3, 4], "counts": [0, 6, 6]}},
                            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 1], "iscrowd": 0}]}
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(coco), encoding="utf-8")
    report = Converter(options=ConvertOptions(yolo_task="detect")).run(path, "coco", tmp_path / "yolo", "yolo")
    assert parse_lines(tmp_path / "yolo/labels/train/c.txt") == [pytest.approx([0, 0.5, 0.5, 0.5, 1 / 3])]
    assert codes(report) == Counter({("skipped", "yolo.crowd-region"): 1})
    assert_balanced(report)


def test_two_items_on_one_label_file_are_refused(tmp_path):
    with pytest.raises(OutputError, match=r"both map to a\.txt"):
        Converter().save_to_file(tmp_path / "yolo", "yolo", [item("/a.png", 10, 10), item("/a.jpg", 10, 10)])
    assert not (tmp_path / "yolo").exists()


def test_yaml_kpt_names_duplicate_names_and_hidden_folders(tmp_path):
    root = minimal_dataset(tmp_path, "1 0.5 0.5 0.4 0.4 0.1 0.1 2 0.2 0.2 1\n", kpt_shape=[2, 3])
    config = yaml.safe_load((root / "data.yaml").read_text())
    config["names"] = ["dog", "cat", "dog"]
    config["kpt_names"] = {1: ["nose", "tail"]}
    (root / "data.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (root / "images/train/.ipynb_checkpoints").mkdir()
    Image.new("RGB", (4, 4)).save(root / "images/train/.ipynb_checkpoints/a-checkpoint.png")
    Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    (collection,) = read_dataloop(tmp_path / "dl")  # the hidden folder's image is not an item
    pose = next(a for a in collection if a.type == "pose")
    assert pose.label == "cat"
    assert [c.label for c in collection.children(pose)] == ["nose", "tail"]
    labels = LabelMap.load(tmp_path / "dl/labelmap.json")
    assert labels.yolo_names() == ["dog", "cat", "dog (2)"]


@given(data=st.data(), task=st.sampled_from([None, *("detect", "segment", "pose", "obb")]))
@heavy
def test_property_any_dataloop_items_give_valid_yolo_and_a_balanced_report(data, task, tmp_path_factory):
    # Every annotation type, odd labels and file names (tests/strategies.py): the writer never
    # crashes, every line has the task's shape with values in [0, 1] and known classes, the report
    # balances, and dlconvert's own reader accepts what was written.
    from strategies import collections as any_collections

    items = data.draw(st.lists(any_collections(), min_size=1, max_size=3,
                               unique_by=lambda c: c.filename.rsplit(".", 1)[0]))
    work = tmp_path_factory.mktemp("any")
    try:
        report, _ = to_yolo(items, work, yolo_task=task, on_error="skip")
    except FormatError as exc:  # the pose task on data without keypoints is refused, not written as kpt_shape [0, 3]
        assert task == "pose" and "the pose task needs keypoints" in str(exc)
        images = [c for c in items if (c.mimetype or "image/").startswith("image/")]
        assert not any(a.type == "pose" and any(c.type == "point" and c.label is not None  # a keypoint has a name
                                                for c in collection.children(a))
                       for collection in images for a in collection)
        return
    config = data_yaml(work / "yolo")
    shape = config.get("kpt_shape")
    for path in (work / "yolo" / "labels").rglob("*.txt"):
        for line in parse_lines(path):
            assert 0 <= line[0] < config["nc"] and line[0] == int(line[0])
            columns = len(line)
            if shape:
                assert columns == 5 + shape[0] * shape[1]
            elif task == "detect":
                assert columns == 5
            elif task == "obb":
                assert columns == 9
            else:
                assert columns == 5 or (columns >= 7 and columns % 2 == 1)
            coordinate = coordinate_columns(columns, shape)
            assert all(0 <= v <= 1 for v, c in zip(line, coordinate, strict=True) if c)
        image = (work / "yolo" / "images" / path.relative_to(work / "yolo" / "labels")).with_suffix(".png")
        image.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (8, 8)).save(image)
    assert_balanced(report)
    back = Converter(options=ConvertOptions(yolo_task=task)).run(work / "yolo", "yolo", work / "back", "dataloop")
    assert_balanced(back)
    assert not back.failed_files


def test_coco_polygon_in_detect_uses_the_declared_bbox(tmp_path):
    """Real COCO files declare boxes that can differ from their polygons' extent (a bbox is the
    dataset's box for the object, as Ultralytics' convert_coco writes it); once the polygon
    changes, its own extent is used."""
    import json

    from dlconvert.converter import Converter

    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 100}],
            "categories": [{"id": 3, "name": "car"}],
            "annotations": [{"id": 7, "image_id": 1, "category_id": 3, "iscrowd": 0, "area": 1.0,
                             "bbox": [10.0, 20.0, 100.0, 50.0],
                             "segmentation": [[30.0, 30.0, 60.0, 30.0, 60.0, 50.0]]}]}
    source = tmp_path / "coco.json"
    source.write_text(json.dumps(coco))
    from dlconvert.dataset import ConvertOptions

    Converter(options=ConvertOptions(yolo_task="detect")).run(source, "coco", tmp_path / "yolo", "yolo")
    line = (tmp_path / "yolo" / "labels" / "train" / "a.txt").read_text().split()
    expected = [(10 + 50) / 200, (20 + 25) / 100, 100 / 200, 50 / 100]
    assert [float(v) for v in line[1:]] == pytest.approx(expected, abs=5e-7)

    def widen(annotation):
        polygon = annotation.annotation_definition
        polygon.geo = polygon.geo + np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 0.0]])  # move the 2nd vertex
        return annotation

    Converter(options=ConvertOptions(yolo_task="detect")).run(source, "coco", tmp_path / "yolo2", "yolo",
                                                                conversion_func=widen)
    line = (tmp_path / "yolo2" / "labels" / "train" / "a.txt").read_text().split()
    expected = [(30 + 70) / 2 / 200, (30 + 50) / 2 / 100, 40 / 200, 20 / 100]
    assert [float(v) for v in line[1:]] == pytest.approx(expected, abs=5e-7)
