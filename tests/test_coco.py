"""COCO, both ways: real files round-trip exactly, Dataloop shapes survive COCO, every edge case is
reported, and broken files fail with the file and the JSON place.

Oracles are independent of dlconvert: pycocotools (``COCOeval``, ``annToMask``, its RLE codec),
the source files' own JSON, and geometry computed here with numpy.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from realfiles import AVAILABLE, NO_REAL_FILES, real_file, requires_real_files

from dlconvert import (
    AnnotationCollection,
    Box,
    Classification,
    Cube,
    Ellipse,
    FormatError,
    Point,
    Polygon,
    Polyline,
    Pose,
    Segmentation,
    Subtitle,
)
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.formats.dataloop import read_dataloop
from dlconvert.labels import LabelInfo, LabelMap, PoseTemplate, stable_color

COCO_DIR = real_file("coco")

# pycocotools' mask.decode warns about its own numpy-2 incompatibility on every call
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")

#: Real COCO files written by other tools (see ../shared/fixtures/PROVENANCE.md).
REAL_FILES = {
    "dtlpy-converters": "dataloop/dtlpy-converters-examples/coco/coco/annotations.json",
    "icevision": "coco/icevision/annotations.json",
    "icevision-keypoints": "coco/icevision/keypoints_annotations.json",
    "mmdetection-coco-dummy": "coco/mmdetection/coco_dummy/annotations/instances_val2017.json",
    "mmdetection-coco-sample": "coco/mmdetection/coco_sample.json",
    "datumaro-instances-train": "coco/datumaro/coco_dataset/annotations/instances_train.json",
    "datumaro-instances-val": "coco/datumaro/coco_dataset/annotations/instances_val.json",
    "datumaro-person-keypoints-train": "coco/datumaro/coco_dataset/annotations/person_keypoints_train.json",
    "datumaro-person-keypoints-val": "coco/datumaro/coco_dataset/annotations/person_keypoints_val.json",
    "datumaro-coco-roboflow-train": "coco/datumaro/coco_roboflow/train/_annotations.coco.json",
    "datumaro-coco-roboflow-val": "coco/datumaro/coco_roboflow/val/_annotations.coco.json",
    "datumaro-roboflow-coco-train": "coco/datumaro/roboflow_coco/train/_annotations.coco.json",
    "datumaro-roboflow-coco-val": "coco/datumaro/roboflow_coco/val/_annotations.coco.json",
}
DTLPY_COCO = real_file(REAL_FILES["dtlpy-converters"])

#: Record fields COCO defines that a writer may add when the source left them out.
ADDABLE_RECORD_FIELDS = {"iscrowd", "area"}
ADDABLE_TOP_LEVEL = {"info", "licenses"}


# ==== helpers ======================================================================================
def load(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def coco_round_trip(src: Path, work: Path, options: ConvertOptions | None = None):
    """COCO → Dataloop folder → COCO; returns (written COCO, forward report, back report, dataloop folder)."""
    converter = Converter(options=options)
    forward = converter.run(src, "coco", work / "dataloop", "dataloop")
    back = Converter(options=options).run(work / "dataloop", "dataloop", work / "coco", "coco")
    return load(work / "coco" / "coco.json"), forward, back, work / "dataloop"


def dataloop_to_coco(collections, work: Path, labels: LabelMap | None = None, **options):
    """Collections → Dataloop folder (save_to_file) → COCO; returns (COCO dict, report, COCO folder).

    The COCO step skips and reports (``on_error="skip"``): a generated item may hold only types COCO cannot
    hold, which under ``"fail"`` is a NothingConvertedError by design."""
    Converter(options=ConvertOptions(labels=labels)).save_to_file(work / "dl", "dataloop", collections)
    report = Converter(on_error="skip", options=ConvertOptions(**options)).run(work / "dl", "dataloop",
                                                                               work / "coco", "coco")
    return load(work / "coco" / "coco.json"), report, work / "coco"


def coco_to_collections(coco_folder: Path, work: Path):
    report = Converter().run(coco_folder, "coco", work / "back", "dataloop")
    return {c.filename: c for c in read_dataloop(work / "back")}, report


def assert_balanced(report) -> None:
    assert report.unbalanced() == {}
    assert sum(report.annotations_in.values()) == sum(report.annotations_out.values()) + sum(report.skipped.values())


def issues_by_code(report) -> Counter:
    return Counter((i.kind, i.code) for i in report.issues)


def gt_index(data: dict) -> COCO:
    """A pycocotools ground truth built from a dict (no file), quietly."""
    coco = COCO()
    coco.dataset = copy.deepcopy(data)
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    return coco


def average_precision(ground_truth: dict, detections: list[dict], iou_type: str) -> float:
    """COCOeval's AP@[.5:.95] of ``detections`` (score 1) against ``ground_truth``."""
    ground_truth = copy.deepcopy(ground_truth)
    for number, record in enumerate(ground_truth["annotations"], start=1):
        record.setdefault("iscrowd", 0)  # COCOeval needs it; absent means 0
        record["id"] = number  # COCOeval takes a matched id 0 for "unmatched" (Roboflow files start at 0)
    gt = gt_index(ground_truth)
    dets = [dict(copy.deepcopy(d), score=1.0) for d in detections]
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(dets)
        evaluation = COCOeval(gt, dt, iou_type)
        if iou_type == "keypoints":
            count = len(ground_truth["categories"][0]["keypoints"]) or len(detections[0]["keypoints"]) // 3
            evaluation.params.kpt_oks_sigmas = np.full(count, 0.05)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])


def shoelace(ring) -> float:
    """The area of a simple ring (x, y pairs)."""
    r = np.asarray(ring, dtype=float).reshape(-1, 2)
    return 0.5 * abs(float(np.dot(r[:, 0], np.roll(r[:, 1], -1)) - np.dot(r[:, 1], np.roll(r[:, 0], -1))))


def by_id(records: list[dict]) -> dict:
    out = {r["id"]: r for r in records}
    assert len(out) == len(records), "ids must be unique"
    return out


# ==== 1–2. real COCO files round-trip ===============================================================
def _source(name: str) -> dict:
    return load(real_file(REAL_FILES[name]))


#: Files whose every record has a segmentation (segm AP is defined) and files with keypoints.
SEGM_FILES = sorted(n for n in REAL_FILES if AVAILABLE
                    and all(a.get("segmentation") for a in _source(n)["annotations"])) or NO_REAL_FILES
KEYPOINT_FILES = sorted(n for n in REAL_FILES if AVAILABLE
                        and any("keypoints" in a for a in _source(n)["annotations"])) or NO_REAL_FILES


@pytest.fixture(scope="module")
def real_round_trips(tmp_path_factory):
    """``get(name)`` → (name, source, written COCO, forward report, back report), each file converted once."""
    cache: dict = {}

    def get(name: str):
        if name not in cache:
            work = tmp_path_factory.mktemp(name)
            out, forward, back, _ = coco_round_trip(real_file(REAL_FILES[name]), work)
            cache[name] = (name, _source(name), out, forward, back)
        return cache[name]

    return get


@pytest.fixture(params=sorted(REAL_FILES))
def real_round_trip(request, real_round_trips):
    return real_round_trips(request.param)


@pytest.fixture(params=SEGM_FILES)
def segm_round_trip(request, real_round_trips):
    return real_round_trips(request.param)


@pytest.fixture(params=KEYPOINT_FILES)
def keypoint_round_trip(request, real_round_trips):
    return real_round_trips(request.param)


@requires_real_files
def test_fixture_selection_covers_the_edge_cases():
    """The files exercise what they are here for: crowd RLE, multi-part polygons, keypoints, gaps in ids."""
    assert {"dtlpy-converters", "icevision", "mmdetection-coco-dummy"} <= set(SEGM_FILES)
    assert {"icevision-keypoints", "datumaro-person-keypoints-train"} <= set(KEYPOINT_FILES)
    crowd = [n for n in REAL_FILES if any(a.get("iscrowd") == 1 and isinstance(a.get("segmentation"), dict)
                                          and isinstance(a["segmentation"]["counts"], list)
                                          for a in _source(n)["annotations"])]
    assert {"dtlpy-converters", "icevision", "mmdetection-coco-dummy", "datumaro-instances-val"} <= set(crowd)
    multipart = [n for n in REAL_FILES if any(isinstance(a.get("segmentation"), list) and len(a["segmentation"]) > 1
                                              for a in _source(n)["annotations"])]
    assert {"icevision", "mmdetection-coco-dummy"} <= set(multipart)


@requires_real_files
def test_real_file_counts_survive(real_round_trip):
    _, src, out, _, _ = real_round_trip
    assert len(out["images"]) == len(src["images"])
    assert len(out["categories"]) == len(src["categories"])
    assert len(out["annotations"]) == len(src["annotations"])


@requires_real_files
def test_real_file_records_equal_field_for_field(real_round_trip):
    name, src, out, _, _ = real_round_trip
    source, result = by_id(src["annotations"]), by_id(out["annotations"])
    assert result.keys() == source.keys()
    for record_id, original in source.items():
        written = result[record_id]
        added = written.keys() - original.keys()
        assert added <= ADDABLE_RECORD_FIELDS, (name, record_id, added)
        assert original.keys() <= written.keys(), (name, record_id)
        for key, value in original.items():
            assert written[key] == value, (name, record_id, key)
            assert type(written[key]) is type(value), (name, record_id, key)
        if "iscrowd" in added:
            assert written["iscrowd"] == 0


@requires_real_files
def test_real_file_images_and_categories_equal(real_round_trip):
    name, src, out, _, _ = real_round_trip
    assert by_id(out["images"]) == by_id(src["images"])
    assert by_id(out["categories"]) == by_id(src["categories"])
    assert set(out) - set(src) <= ADDABLE_TOP_LEVEL
    assert set(src) <= set(out)
    for key in ADDABLE_TOP_LEVEL & set(src):
        assert out[key] == src[key], (name, key)


@requires_real_files
def test_real_file_bbox_ap_is_one(real_round_trip):
    _name, src, out, _, _ = real_round_trip
    assert average_precision(src, out["annotations"], "bbox") == pytest.approx(1.0, abs=1e-12)


def test_real_file_segm_ap_is_one(segm_round_trip):
    _name, src, out, _, _ = segm_round_trip
    assert average_precision(src, out["annotations"], "segm") == pytest.approx(1.0, abs=1e-12)


def test_real_file_keypoints_equal_triplet_for_triplet(keypoint_round_trip):
    _name, src, out, _, _ = keypoint_round_trip
    source = {i: a for i, a in by_id(src["annotations"]).items() if "keypoints" in a}
    result = by_id(out["annotations"])
    for record_id, original in source.items():
        written = result[record_id]
        triplets = [original["keypoints"][i:i + 3] for i in range(0, len(original["keypoints"]), 3)]
        assert [written["keypoints"][i:i + 3] for i in range(0, len(written["keypoints"]), 3)] == triplets
        assert written["num_keypoints"] == original["num_keypoints"]
    if any(a["num_keypoints"] for a in source.values()):
        # Detections of nothing (num_keypoints 0) are not keypoint detections: OKS is undefined for them.
        detections = [a for a in out["annotations"] if a.get("num_keypoints")]
        assert average_precision(src, detections, "keypoints") == pytest.approx(1.0, abs=1e-12)


@requires_real_files
def test_real_file_report_balances(real_round_trip):
    _, src, _, forward, back = real_round_trip
    for report in (forward, back):
        assert_balanced(report)
    assert sum(forward.annotations_in.values()) >= len(src["annotations"])
    assert forward.items_in == forward.items_out == len(src["images"])
    assert back.items_in == back.items_out == len(src["images"])
    assert not [i for i in forward.issues + back.issues if i.kind == "skipped"]
    # writing back the source's own bbox, area and segmentation is not an approximation
    assert not [i for i in forward.issues + back.issues if i.kind == "approximated"]


@requires_real_files
def test_dagshub_missing_fields_are_added_from_the_geometry(tmp_path):
    """dagshub records lack iscrowd/area and one lacks bbox: only those are added, computed right."""
    src = load(COCO_DIR / "dagshub" / "annotations.json")
    out, forward, back, _ = coco_round_trip(COCO_DIR / "dagshub" / "annotations.json", tmp_path)
    assert_balanced(forward)
    assert_balanced(back)
    result = by_id(out["annotations"])
    for original in src["annotations"]:
        written = result[original["id"]]
        assert {k: written[k] for k in original} == original
        assert written.keys() - original.keys() <= {"iscrowd", "area", "bbox"}
        assert written["iscrowd"] == 0
        rings = [np.asarray(r, dtype=float).reshape(-1, 2) for r in original.get("segmentation", [])]
        if rings:  # shoelace area of every part; the bounds of every vertex
            expected_area = sum(shoelace(r) for r in rings)
            points = np.concatenate(rings)
            x0, y0 = points.min(axis=0)
            x1, y1 = points.max(axis=0)
            assert written["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0])
        else:
            expected_area = original["bbox"][2] * original["bbox"][3]
        assert written["area"] == pytest.approx(expected_area)


@requires_real_files
def test_label_only_records_are_reported_not_dropped(tmp_path):
    """Datumaro's "labels" task (category only) cannot go back to COCO records: reported as skipped, and
    with ``on_error="fail"`` a conversion that writes none of them is an error."""
    from dlconvert.errors import NothingConvertedError

    src = COCO_DIR / "datumaro" / "coco_dataset" / "annotations" / "labels_val.json"
    forward = Converter().run(src, "coco", tmp_path / "dataloop", "dataloop")
    assert forward.annotations_out["class"] == 2
    with pytest.raises(NothingConvertedError):
        Converter().run(tmp_path / "dataloop", "dataloop", tmp_path / "failed", "coco")
    back = Converter(on_error="skip").run(tmp_path / "dataloop", "dataloop", tmp_path / "coco", "coco")
    assert back.skipped["class"] == 2
    assert issues_by_code(back)[("skipped", "coco.unsupported-type")] == 2
    assert load(tmp_path / "coco" / "coco.json")["annotations"] == []
    assert_balanced(forward)
    assert_balanced(back)


# ==== 3. property: Dataloop → COCO → Dataloop ======================================================
KEYPOINT_NAMES = ("nose", "left_eye", "right_eye")
POSE_TEMPLATE = PoseTemplate("5f1e0b0c0d0e0f1011121314", "person", list(KEYPOINT_NAMES),
                             [("nose", "left_eye"), ("nose", "right_eye")])
SHAPE_LABELS = ("car", "vehicle.truck", "dog", "ñandú", "person")
VISIBILITIES = ("visible", "not-visible", "unlabeled")
#: Types COCO cannot hold exactly, with what the forward report must say about them.
OTHER_EXPECTED = {
    "polyline": ("skipped", {"coco.unsupported-type"}),
    "cube": ("skipped", {"coco.unsupported-type"}),
    "class": ("skipped", {"coco.unsupported-type"}),
    "subtitle": ("skipped", {"coco.unsupported-type"}),
    "ellipse": ("approximated", {"coco.ellipse-as-polygon"}),
    "box": ("approximated", {"coco.rotated-box-as-polygon"}),  # rotated boxes only
    "empty mask": ("skipped", {"coco.degenerate-shape"}),  # drawn by coco_items, not other_definitions
}


def pose_label_map() -> LabelMap:
    names = sorted({*SHAPE_LABELS, *KEYPOINT_NAMES})
    return LabelMap([LabelInfo(n, i, stable_color(n)) for i, n in enumerate(names, start=1)], [POSE_TEMPLATE])


def _hex(n: int) -> str:
    return f"{n:024x}"


finite = st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def upright_boxes(draw):
    left, top = draw(finite), draw(finite)
    width = draw(st.floats(min_value=0.5, max_value=300, allow_nan=False))
    height = draw(st.floats(min_value=0.5, max_value=300, allow_nan=False))
    return Box(left=left, top=top, right=left + width, bottom=top + height, label=draw(st.sampled_from(SHAPE_LABELS)),
               attributes=draw(st.dictionaries(st.sampled_from(["color", "occluded"]),
                                               st.one_of(st.booleans(), st.sampled_from(["red", "ß"])), max_size=2)))


@st.composite
def disjoint_ring(draw, cell: int):
    """A simple star-shaped ring inside grid cell ``cell`` (cells 200 px apart: parts never touch)."""
    cx, cy = 100 + 200 * cell, 100 + draw(st.floats(0, 300))
    n = draw(st.integers(3, 9))
    phase = draw(st.floats(0, 2 * math.pi))
    ring = []
    for k in range(n):
        angle = phase + 2 * math.pi * (k + draw(st.floats(-0.2, 0.2))) / n
        radius = draw(st.floats(5, 80))
        ring.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return ring


@st.composite
def disjoint_polygons(draw):
    cells = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True))
    rings = [draw(disjoint_ring(cell)) for cell in cells]
    return Polygon(geo=[np.array(r) for r in rings], label=draw(st.sampled_from(SHAPE_LABELS)))


@st.composite
def other_definitions(draw):
    kind = draw(st.sampled_from(sorted(set(OTHER_EXPECTED) - {"empty mask"})))
    label = draw(st.sampled_from(SHAPE_LABELS))
    if kind == "polyline":
        line = draw(st.lists(st.tuples(finite, finite), min_size=2, max_size=5))
        return Polyline(geo=np.array(line), label=label)
    if kind == "cube":
        return Cube(label, *[(draw(finite), draw(finite)) for _ in range(8)])
    if kind == "class":
        return Classification(label=label)
    if kind == "subtitle":
        return Subtitle(text=draw(st.text(max_size=10)), label=label)
    if kind == "ellipse":
        return Ellipse(x=draw(finite), y=draw(finite), rx=draw(st.floats(1, 50)), ry=draw(st.floats(1, 50)),
                       angle=draw(st.floats(-180, 180)), label=label)
    box = draw(upright_boxes())
    # oblique only: a box turned by a right angle is written upright and exactly (tests/test_trust_right_angles.py)
    box.angle = draw(st.floats(1, 359).filter(lambda angle: angle % 90 != 0))
    return box


@st.composite
def coco_items(draw):
    """1–3 images with boxes, disjoint multi-part polygons, masks, poses (each with its box) and others."""
    counter = iter(range(1, 10_000))
    items, expected = [], []
    for index in range(draw(st.integers(1, 3))):
        width, height = draw(st.integers(4, 24)), draw(st.integers(4, 24))
        item = AnnotationCollection(filename=f"/img_{index}.png", width=width, height=height, mimetype="image/png")
        want = {"boxes": [], "polygons": [], "masks": [], "poses": [], "other": {}}
        for _ in range(draw(st.integers(0, 3))):
            box = draw(upright_boxes())
            item.add(box).id = _hex(next(counter))
            want["boxes"].append(box)
        for _ in range(draw(st.integers(0, 2))):
            polygon = draw(disjoint_polygons())
            item.add(polygon).id = _hex(next(counter))
            want["polygons"].append(polygon)
        for _ in range(draw(st.integers(0, 2))):
            mask = draw(hnp.arrays(np.bool_, (height, width)))
            segmentation = Segmentation(geo=mask, label=draw(st.sampled_from(SHAPE_LABELS)))
            annotation = item.add(segmentation)
            annotation.id = _hex(next(counter))
            if mask.any():
                want["masks"].append(segmentation)
            else:  # a degenerate shape: skipped and reported, as by every writer
                want["other"][annotation.id] = "empty mask"
        for object_id in range(1, draw(st.integers(0, 2)) + 1):
            box = draw(upright_boxes())
            box.label = "person"
            item.add(box, object_id=object_id).id = _hex(next(counter))
            want["boxes"].append(box)
            pose = item.add(Pose(label="person", template_id=POSE_TEMPLATE.id), object_id=object_id)
            pose.id = _hex(next(counter))
            points = []
            for name in KEYPOINT_NAMES:
                point = Point(x=draw(finite), y=draw(finite), label=name,
                              attributes={"visibility": draw(st.sampled_from(VISIBILITIES))})
                item.add(point, parent_id=pose.id).id = _hex(next(counter))
                points.append(point)
            want["poses"].append(points)
        for _ in range(draw(st.integers(0, 3))):
            definition = draw(other_definitions())
            annotation = item.add(definition)
            annotation.id = _hex(next(counter))
            want["other"][annotation.id] = definition.type
        items.append(item)
        expected.append(want)
    return items, expected


def box_key(box) -> tuple:
    return (box.label, box.left, box.top, box.right, box.bottom, tuple(sorted(box.attributes.items())))


def polygon_key(polygon) -> tuple:
    return (polygon.label, tuple(tuple(map(tuple, np.asarray(p).tolist())) for p in polygon.parts))


def mask_key(segmentation) -> tuple:
    mask = np.asarray(segmentation.geo, dtype=bool)
    return (segmentation.label, mask.shape, np.packbits(mask).tobytes())


def pose_key(points) -> tuple:
    return tuple((p.label, p.x, p.y, p.attributes["visibility"]) for p in points)


@given(coco_items())
def test_dataloop_shapes_survive_coco_exactly(case):
    items, expected = case
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        coco, forward, folder = dataloop_to_coco(items, work, labels=pose_label_map())
        back, back_report = coco_to_collections(folder, work)
    assert_balanced(forward)
    assert_balanced(back_report)
    assert len(coco["images"]) == len(items)
    by_annotation = {}
    for issue in forward.issues:
        assert issue.annotation_id not in by_annotation, "one issue per annotation"
        by_annotation[issue.annotation_id] = issue
    for item, want in zip(items, expected, strict=True):
        result = back[item.filename]
        # every other type is accounted for: skipped or approximated, with its code
        for annotation_id, kind in want["other"].items():
            issue = by_annotation.pop(annotation_id)
            assert (issue.kind, issue.code in OTHER_EXPECTED[kind][1]) == (OTHER_EXPECTED[kind][0], True)
        approximated = sum(1 for i in want["other"].values() if OTHER_EXPECTED[i][0] == "approximated")
        # boxes exactly, polygons vertex for vertex (all parts), masks pixel for pixel
        out_boxes = Counter(box_key(a.annotation_definition) for a in result if a.type == "box")
        out_polygons = Counter(polygon_key(a.annotation_definition) for a in result if a.type == "segment")
        want_boxes = Counter(box_key(b) for b in want["boxes"])
        want_polygons = Counter(polygon_key(p) for p in want["polygons"])
        assert not want_boxes - out_boxes, "a box changed or went missing"
        assert not want_polygons - out_polygons, "a polygon changed or went missing"
        extra = (out_boxes.total() - want_boxes.total()) + (out_polygons.total() - want_polygons.total())
        assert extra == approximated, "only the approximated annotations come back as extra shapes"
        assert (sorted(mask_key(a.annotation_definition) for a in result if a.type == "binary")
                == sorted(mask_key(m) for m in want["masks"]))
        # poses: every keypoint's x, y, name and visibility, and the pose's box shares its object id
        poses = [a for a in result if a.type == "pose"]
        got_poses = Counter(pose_key(sorted((c.annotation_definition for c in result.children(p)),
                                            key=lambda d: KEYPOINT_NAMES.index(d.label))) for p in poses)
        assert got_poses == Counter(pose_key(points) for points in want["poses"])
        for pose in poses:
            partners = [a for a in result if a.type == "box" and a.object_id == pose.object_id]
            assert pose.object_id is not None and len(partners) == 1
    assert by_annotation == {}, f"issues for annotations that COCO holds: {list(by_annotation.values())}"


# ==== 4. edge cases ================================================================================
def item(filename="/a.png", width=100, height=80, **kwargs) -> AnnotationCollection:
    return AnnotationCollection(filename=filename, width=width, height=height, mimetype="image/png", **kwargs)


def only_record(coco: dict) -> dict:
    assert len(coco["annotations"]) == 1
    return coco["annotations"][0]


def issues_for(report, annotation_id: str) -> list[tuple[str, str]]:
    return [(i.kind, i.code) for i in report.issues if i.annotation_id == annotation_id]


@requires_real_files
def test_multi_part_polygon_from_coco_keeps_every_part(tmp_path):
    """dagshub record 13 has two rings: one Dataloop polygon with both, and both back in COCO."""
    src = COCO_DIR / "dagshub" / "annotations.json"
    out, _, _, dataloop = coco_round_trip(src, tmp_path)
    original = by_id(load(src)["annotations"])[13]["segmentation"]
    item_json = load(dataloop / "json" / "images" / "b.json")
    polygons = [a for a in item_json["annotations"] if a["type"] == "segment" and a["label"] == "dog"]
    assert len(polygons) == 1
    rings = [[[p["x"], p["y"]] for p in ring] for ring in polygons[0]["coordinates"]]
    assert rings == [np.asarray(r).reshape(-1, 2).tolist() for r in original]
    assert by_id(out["annotations"])[13]["segmentation"] == original


def test_multi_part_polygon_to_coco_keeps_every_part(tmp_path):
    parts = [[[10, 10], [30, 10], [20, 25]], [[50, 50], [70, 52], [60, 70], [52, 64]], [[80, 5], [95, 5], [90, 20]]]
    collection = item()
    collection.add(Polygon(geo=[np.array(p, dtype=float) for p in parts], label="grass")).id = _hex(1)
    coco, report, folder = dataloop_to_coco([collection], tmp_path)
    record = only_record(coco)
    assert record["segmentation"] == [np.asarray(p, dtype=float).reshape(-1).tolist() for p in parts]
    assert record["iscrowd"] == 0
    assert record["area"] == pytest.approx(sum(shoelace(p) for p in parts))
    assert report.issues == []
    back, _ = coco_to_collections(folder, tmp_path)
    (polygon,) = back["/a.png"].annotations
    assert [np.asarray(p).tolist() for p in polygon.annotation_definition.parts] == parts


def rle_file(tmp_path: Path, counts, height=6, width=5, iscrowd=0) -> Path:
    return write_json(tmp_path / "src" / "rle.json", {
        "images": [{"id": 7, "file_name": "m.png", "width": width, "height": height}],
        "categories": [{"id": 3, "name": "blob", "supercategory": "thing"}],
        "annotations": [{"id": 11, "image_id": 7, "category_id": 3, "iscrowd": iscrowd, "area": 0.0,
                         "bbox": [0.0, 0.0, 0.0, 0.0], "segmentation": {"size": [height, width], "counts": counts}}],
    })


def blob_mask(height=6, width=5) -> np.ndarray:
    mask = np.zeros((height, width), dtype=bool)
    mask[1:4, 2:5] = True
    mask[5, 0] = True
    return mask


def test_rle_list_counts_stay_list_counts(tmp_path):
    counts = [5, 1, 1, 3, 2, 3, 2, 3, 2, 3, 5]
    assert sum(counts) == 30
    src = rle_file(tmp_path, counts)
    out, forward, back, _ = coco_round_trip(src, tmp_path)
    assert only_record(out)["segmentation"] == {"size": [6, 5], "counts": counts}
    assert_balanced(forward)
    assert_balanced(back)


def test_rle_compressed_string_stays_a_string(tmp_path):
    encoded = mask_utils.encode(np.asfortranarray(blob_mask().astype(np.uint8)))
    counts = encoded["counts"].decode("ascii")
    out, _, _, dataloop = coco_round_trip(rle_file(tmp_path, counts), tmp_path)
    assert only_record(out)["segmentation"] == {"size": [6, 5], "counts": counts}
    (collection,) = read_dataloop(dataloop)
    assert np.array_equal(collection.annotations[0].annotation_definition.geo, blob_mask())


@pytest.mark.parametrize("form", ["uncompressed", "compressed"])
def test_rle_form_option_writes_that_form_and_decodes_to_the_mask(tmp_path, form):
    mask = blob_mask(9, 7)
    mask[8, 6] = True  # a run at the very end
    collection = item(width=7, height=9)
    collection.add(Segmentation(geo=mask, label="blob")).id = _hex(1)
    coco, _, _ = dataloop_to_coco([collection], tmp_path, rle=form)
    rle = only_record(coco)["segmentation"]
    assert rle["size"] == [9, 7]
    if form == "uncompressed":
        assert isinstance(rle["counts"], list) and all(isinstance(c, int) for c in rle["counts"])
        assert sum(rle["counts"]) == 63
        decoded = mask_utils.decode(mask_utils.frPyObjects(rle, 9, 7))
    else:
        assert isinstance(rle["counts"], str)
        decoded = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")})
    assert np.array_equal(decoded.astype(bool), mask)
    assert only_record(coco)["area"] == mask.sum()


def test_rle_auto_writes_compressed_for_dataloop_masks(tmp_path):
    collection = item(width=5, height=6)
    collection.add(Segmentation(geo=blob_mask(), label="blob")).id = _hex(1)
    coco, _, _ = dataloop_to_coco([collection], tmp_path)
    assert isinstance(only_record(coco)["segmentation"]["counts"], str)


def test_uncompressed_option_rewrites_a_compressed_source(tmp_path):
    encoded = mask_utils.encode(np.asfortranarray(blob_mask().astype(np.uint8)))
    src = rle_file(tmp_path, encoded["counts"].decode("ascii"))
    out, _, _, _ = coco_round_trip(src, tmp_path, ConvertOptions(rle="uncompressed"))
    rle = only_record(out)["segmentation"]
    assert isinstance(rle["counts"], list)
    assert np.array_equal(mask_utils.decode(mask_utils.frPyObjects(rle, 6, 5)).astype(bool), blob_mask())


@requires_real_files
def test_crowd_is_preserved(tmp_path):
    src = DTLPY_COCO
    crowd = [a for a in load(src)["annotations"] if a["iscrowd"] == 1]
    assert crowd
    out, _, _, _ = coco_round_trip(src, tmp_path)
    written = by_id(out["annotations"])
    for record in crowd:
        assert written[record["id"]]["iscrowd"] == 1
        assert written[record["id"]]["segmentation"] == record["segmentation"]
    assert sum(a["iscrowd"] for a in out["annotations"]) == len(crowd)


@requires_real_files
def test_crowd_mask_reaches_dataloop_pixel_for_pixel(tmp_path):
    """The crowd RLE becomes a Dataloop binary annotation whose PNG (read with Pillow) is the RLE's mask."""
    import base64

    from PIL import Image

    src = DTLPY_COCO
    source = load(src)
    (crowd,) = [a for a in source["annotations"] if a["iscrowd"] == 1]
    image = by_id(source["images"])[crowd["image_id"]]
    height, width = crowd["segmentation"]["size"]
    expected = mask_utils.decode(mask_utils.frPyObjects(crowd["segmentation"], height, width)).astype(bool)
    assert expected.sum() > 0
    _, _, _, dataloop = coco_round_trip(src, tmp_path)
    item_json = load(dataloop / "json" / (Path(image["file_name"]).stem + ".json"))
    binaries = [a for a in item_json["annotations"] if a["type"] == "binary"]
    assert len(binaries) == 1
    png = base64.b64decode(binaries[0]["coordinates"].split(",", 1)[1])
    with Image.open(io.BytesIO(png)) as picture:
        alpha = np.asarray(picture.convert("RGBA"))[:, :, 3]
    assert alpha.shape == (height, width) == (image["height"], image["width"])
    assert np.array_equal(alpha > 0, expected)


def test_crowd_from_a_tiny_list_rle(tmp_path):
    out, _, _, _ = coco_round_trip(rle_file(tmp_path, [0, 20, 10], iscrowd=1), tmp_path)
    assert only_record(out)["iscrowd"] == 1
    assert only_record(out)["segmentation"]["counts"] == [0, 20, 10]


@requires_real_files
def test_empty_images_are_listed(tmp_path):
    src = COCO_DIR / "icevision" / "annotations.json"
    source = load(src)
    empty = {i["id"] for i in source["images"]} - {a["image_id"] for a in source["annotations"]}
    assert empty == {89}
    out, _, _, _ = coco_round_trip(src, tmp_path)
    assert by_id(out["images"])[89] == by_id(source["images"])[89]


def test_empty_dataloop_item_is_listed(tmp_path):
    full, empty = item("/full.png"), item("/empty.png", width=30, height=20)
    full.add(Box(left=1, top=2, right=3, bottom=4, label="dot")).id = _hex(1)
    coco, _, _ = dataloop_to_coco([full, empty], tmp_path)
    images = {i["file_name"]: i for i in coco["images"]}
    assert set(images) == {"full.png", "empty.png"}
    assert (images["empty.png"]["width"], images["empty.png"]["height"]) == (30, 20)
    assert [a["image_id"] for a in coco["annotations"]] == [images["full.png"]["id"]]


def test_non_contiguous_category_ids_are_kept_and_instance_ids_are_contiguous(tmp_path):
    src = write_json(tmp_path / "src" / "ids.json", {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
        "categories": [{"id": 90, "name": "toothbrush", "supercategory": "indoor"},
                       {"id": 1, "name": "person", "supercategory": "person"},
                       {"id": 5, "name": "airplane", "supercategory": "vehicle"}],
        "annotations": [{"id": i, "image_id": 1, "category_id": c, "bbox": [i, i, 5, 5], "area": 25.0, "iscrowd": 0,
                         "segmentation": [[i, i, i + 5, i, i + 5, i + 5, i, i + 5]]}
                        for i, c in ((1, 90), (2, 5), (3, 1))],
    })
    out, _, _, dataloop = coco_round_trip(src, tmp_path)
    assert sorted(c["id"] for c in out["categories"]) == [1, 5, 90]
    assert {a["id"]: a["category_id"] for a in out["annotations"]} == {1: 90, 2: 5, 3: 1}
    for folder in (dataloop, tmp_path / "coco"):
        label_map = LabelMap.load(folder / "labelmap.json")
        assert {i.name: i.coco_id for i in label_map} == {"person": 1, "airplane": 5, "toothbrush": 90}
        assert sorted(i.instance_id for i in label_map) == [1, 2, 3]
        assert [label_map[n].instance_id for n in label_map.yolo_names()] == [1, 2, 3]
        # instance ids follow the COCO ids' order
        assert label_map.yolo_names() == ["person", "airplane", "toothbrush"]


def test_two_point_polygon_is_skipped_and_reported(tmp_path):
    """A polygon without 3 distinct points is degenerate: skipped as by every writer (it was padded before)."""
    collection = item()
    collection.add(Polygon(geo=[[10.0, 20.0], [40.0, 60.0]], label="stick")).id = _hex(1)
    collection.add(Box(left=1, top=2, right=3, bottom=4, label="dot")).id = _hex(2)
    coco, report, _folder = dataloop_to_coco([collection], tmp_path)
    dot = next(c["id"] for c in coco["categories"] if c["name"] == "dot")
    assert [r["category_id"] for r in coco["annotations"]] == [dot]
    assert issues_for(report, _hex(1)) == [("skipped", "coco.degenerate-shape")]
    assert_balanced(report)


@requires_real_files
@pytest.mark.parametrize("source", ["coco", "dataloop"])
def test_keypoint_visibility_round_trips(tmp_path, source):
    """v = 0, 1, 2 come back exactly, both ways."""
    if source == "coco":
        src = COCO_DIR / "datumaro" / "coco_dataset" / "annotations" / "person_keypoints_train.json"
        original = load(src)["annotations"][0]["keypoints"]
        assert sorted(set(original[2::3])) == [0, 1, 2]
        out, _, _, _ = coco_round_trip(src, tmp_path)
        assert only_record(out)["keypoints"] == original
        return
    collection = item()
    pose = collection.add(Pose(label="person", template_id=POSE_TEMPLATE.id))
    pose.id = _hex(1)
    expected = []
    for number, (name, visibility) in enumerate(zip(KEYPOINT_NAMES, VISIBILITIES, strict=True), start=2):
        x, y = 10.5 * number, 7.25 * number
        collection.add(Point(x=x, y=y, label=name, attributes={"visibility": visibility}), parent_id=pose.id).id = (
            _hex(number))
        expected.extend([x, y, {"visible": 2, "not-visible": 1, "unlabeled": 0}[visibility]])
    coco, _report, folder = dataloop_to_coco([collection], tmp_path, labels=pose_label_map())
    record = only_record(coco)
    assert record["keypoints"] == expected
    assert record["num_keypoints"] == 2
    person = next(c for c in coco["categories"] if c["name"] == "person")
    assert person["keypoints"] == list(KEYPOINT_NAMES)
    assert person["skeleton"] == [[1, 2], [1, 3]]
    assert not {c["name"] for c in coco["categories"]} & set(KEYPOINT_NAMES)
    back, _ = coco_to_collections(folder, tmp_path)
    points = [a for a in back["/a.png"] if a.type == "point"]
    assert [(p.label, p.annotation_definition.x, p.annotation_definition.y, p.attributes["visibility"])
            for p in points] == [(n, expected[3 * i], expected[3 * i + 1], v)
                                 for i, (n, v) in enumerate(zip(KEYPOINT_NAMES, VISIBILITIES, strict=True))]


def test_dataloop_string_ids_become_integers_and_map_back(tmp_path):
    items = []
    for n in range(2):
        collection = item(f"/dir/img{n}.png", item_id=f"65f0c0deb00{n}000000000000")
        for k in range(2):
            box = Box(left=k, top=k, right=k + 3, bottom=k + 4, label="car")
            collection.add(box).id = f"65f0c0deb00{n}00000000000{k}"
        items.append(collection)
    coco, _, folder = dataloop_to_coco(items, tmp_path)
    for record in coco["images"] + coco["annotations"] + coco["categories"]:
        assert type(record["id"]) is int
    assert len({r["id"] for r in coco["annotations"]}) == 4
    ids = load(folder / "coco_ids.json")
    image_of = {i["id"]: i["item_id"] for i in ids["images"]}
    assert {i["id"]: i["file_name"] for i in coco["images"]} == {
        i["id"]: i["filename"].lstrip("/") for i in ids["images"]}
    assert sorted(image_of.values()) == ["65f0c0deb000000000000000", "65f0c0deb001000000000000"]
    mapping = {a["id"]: a["annotation_id"] for a in ids["annotations"]}
    for record in coco["annotations"]:
        annotation_id = mapping[record["id"]]
        owner = next(c for c in items if any(a.id == annotation_id for a in c))
        assert image_of[record["image_id"]] == owner.item_id
        (annotation,) = [a for a in owner if a.id == annotation_id]
        box = annotation.annotation_definition
        assert record["bbox"] == [box.left, box.top, box.right - box.left, box.bottom - box.top]


def test_dotted_labels_keep_their_name_and_get_a_supercategory(tmp_path):
    collection = item()
    for n, label in enumerate(["vehicle.car", "vehicle.car.wheel", "person"], start=1):
        collection.add(Box(left=n, top=n, right=n + 5, bottom=n + 5, label=label)).id = _hex(n)
    coco, _, folder = dataloop_to_coco([collection], tmp_path)
    categories = {c["name"]: c for c in coco["categories"]}
    assert set(categories) == {"vehicle.car", "vehicle.car.wheel", "person"}
    assert categories["vehicle.car"]["supercategory"] == "vehicle"
    assert categories["vehicle.car.wheel"]["supercategory"] == "vehicle.car"
    back, _ = coco_to_collections(folder, tmp_path)
    assert sorted(a.label for a in back["/a.png"]) == ["person", "vehicle.car", "vehicle.car.wheel"]


@requires_real_files
def test_coco_names_equal_to_their_supercategory_do_not_become_dotted(tmp_path):
    src = COCO_DIR / "icevision" / "annotations.json"
    out, _, _, dataloop = coco_round_trip(src, tmp_path)
    names = {c["name"] for c in load(src)["categories"]}
    assert "person" in names
    labels = {a["label"] for path in (dataloop / "json").rglob("*.json") for a in load(path)["annotations"]}
    assert labels <= names
    assert "person" in labels and "person.person" not in labels
    assert {c["name"] for c in out["categories"]} == names


def test_exif_orientation_6_swaps_the_written_size(tmp_path):
    collection = AnnotationCollection.from_json({
        "id": _hex(99), "filename": "/photos/portrait.jpg", "name": "portrait.jpg",
        "metadata": {"system": {"mimetype": "image/jpeg", "width": 640, "height": 480,
                                "exif": {"Orientation": 6}}},
        "annotations": [],
    })
    collection.add(Box(left=10, top=500, right=470, bottom=630, label="face")).id = _hex(1)
    coco, _, _ = dataloop_to_coco([collection], tmp_path)
    (image,) = coco["images"]
    assert (image["width"], image["height"]) == (480, 640)
    record = only_record(coco)
    x, y, w, h = record["bbox"]
    assert x + w <= image["width"] and y + h <= image["height"]


def test_polygon_with_a_hole_is_written_as_rle_and_reported(tmp_path):
    collection = item(width=120, height=110)
    outer = [[10, 10], [100, 10], [100, 100], [10, 100]]
    hole = [[30, 30], [60, 30], [60, 60], [30, 60]]
    collection.add(Polygon(geo=[np.array(outer, float), np.array(hole, float)], label="donut")).id = _hex(1)
    coco, report, _ = dataloop_to_coco([collection], tmp_path)
    record = only_record(coco)
    assert isinstance(record["segmentation"], dict)
    assert record["segmentation"]["size"] == [110, 120]
    counts = record["segmentation"]["counts"]
    rle = mask_utils.frPyObjects(record["segmentation"], 110, 120) if isinstance(counts, list) else {
        "size": [110, 120], "counts": counts.encode("ascii")}
    expected = np.zeros((110, 120), dtype=bool)
    expected[10:100, 10:100] = True  # pixel (r, c) covers [c, c+1] × [r, r+1]
    expected[30:60, 30:60] = False
    assert np.array_equal(mask_utils.decode(rle).astype(bool), expected)
    assert record["area"] == pytest.approx(90 * 90 - 30 * 30)
    assert record["bbox"] == [10.0, 10.0, 90.0, 90.0]
    assert record["iscrowd"] == 0
    assert issues_for(report, _hex(1)) == [("approximated", "coco.polygon-holes-as-rle")]
    assert_balanced(report)


def test_rotated_box_is_written_as_its_corners_and_reported(tmp_path):
    collection = item(width=200, height=200)
    left, top, right, bottom, angle = 40.0, 50.0, 120.0, 90.0, 30.0
    collection.add(Box(left=left, top=top, right=right, bottom=bottom, angle=angle, label="car")).id = _hex(1)
    coco, report, _ = dataloop_to_coco([collection], tmp_path)
    record = only_record(coco)
    (ring,) = record["segmentation"]
    corners = np.array(ring).reshape(-1, 2)
    # clockwise on screen (y down) about the centre
    cx, cy, t = (left + right) / 2, (top + bottom) / 2, math.radians(angle)
    expected = np.array([[cx + (x - cx) * math.cos(t) - (y - cy) * math.sin(t),
                          cy + (x - cx) * math.sin(t) + (y - cy) * math.cos(t)]
                         for x, y in ((left, top), (right, top), (right, bottom), (left, bottom))])
    assert corners == pytest.approx(expected, abs=1e-9)
    x0, y0 = expected.min(axis=0)
    x1, y1 = expected.max(axis=0)
    assert record["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0], abs=1e-9)
    assert record["area"] == pytest.approx((right - left) * (bottom - top))
    assert issues_for(report, _hex(1)) == [("approximated", "coco.rotated-box-as-polygon")]
    assert_balanced(report)


def test_rectangular_polygon_written_as_polygon_is_read_as_box(tmp_path):
    """Documents the reader's rule: a ring equal to its bbox rectangle is a box (pycocotools' box shape)."""
    src = write_json(tmp_path / "src" / "rect.json", {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 50, "height": 50}],
        "categories": [{"id": 1, "name": "sign"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 3, 10, 20], "area": 200, "iscrowd": 0,
                         "segmentation": [[2, 3, 12, 3, 12, 23, 2, 23]]}],
    })
    out, _forward, _, dataloop = coco_round_trip(src, tmp_path)
    (collection,) = read_dataloop(dataloop)
    assert [a.type for a in collection] == ["box"]
    assert only_record(out) == load(src)["annotations"][0]


def test_rectangular_polygon_stays_a_polygon_or_is_reported(tmp_path):
    collection = item()
    collection.add(Polygon(geo=[[10.0, 10.0], [30.0, 10.0], [30.0, 20.0], [10.0, 20.0]], label="sign")).id = _hex(1)
    _coco, report, folder = dataloop_to_coco([collection], tmp_path)
    back, _ = coco_to_collections(folder, tmp_path)
    came_back_as = [a.type for a in back["/a.png"]]
    assert came_back_as == ["segment"] or issues_for(report, _hex(1)) != []


def test_pose_without_a_box_does_not_gain_one(tmp_path):
    collection = item()
    pose = collection.add(Pose(label="person", template_id=POSE_TEMPLATE.id))
    pose.id = _hex(1)
    for n, name in enumerate(KEYPOINT_NAMES, start=2):
        collection.add(Point(x=5.0 * n, y=3.0 * n * n, label=name, attributes={"visibility": "visible"}),
                       parent_id=pose.id).id = _hex(n)
    _coco, report, folder = dataloop_to_coco([collection], tmp_path, labels=pose_label_map())
    back, _ = coco_to_collections(folder, tmp_path)
    types = Counter(a.type for a in back["/a.png"])
    assert types == Counter({"pose": 1, "point": 3}) or issues_for(report, _hex(1)) != []


# ==== 5. pycocotools reads what dlconvert writes ===================================================
def ann_to_mask_everywhere(path: Path) -> int:
    """Load ``path`` with pycocotools and rasterise every record, warnings as errors; returns the count."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # pycocotools' own numpy-2 incompatibility inside mask.decode, whatever the input
        warnings.filterwarnings("ignore", message=r"__array__ implementation doesn't accept a copy keyword",
                                category=DeprecationWarning)
        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(str(path))
        count = 0
        for annotation in coco.loadAnns(coco.getAnnIds()):
            image = coco.imgs[annotation["image_id"]]
            mask = coco.annToMask(annotation)
            assert mask.shape == (image["height"], image["width"])
            count += 1
    return count


def every_type_item() -> AnnotationCollection:
    collection = item(width=64, height=48)
    mask = np.zeros((48, 64), dtype=bool)
    mask[5:9, 7:30] = True
    definitions = [
        Box(left=1, top=2, right=20, bottom=30, label="car"),
        Box(left=10, top=10, right=30, bottom=20, angle=25, label="car"),
        Polygon(geo=[[[1, 1], [9, 1], [5, 8]], [[20, 20], [30, 22], [25, 30]]], label="grass"),
        Polygon(geo=[[[2, 2], [40, 2], [40, 40], [2, 40]], [[10, 10], [20, 10], [20, 20]]], label="donut"),
        Polygon(geo=[[3, 3], [9, 9]], label="stick"),
        Segmentation(geo=mask, label="blob"),
        Ellipse(x=30, y=20, rx=8, ry=4, angle=10, label="puddle"),
        Polyline(geo=[[0, 0], [10, 10]], label="lane"),
        Classification(label="daytime"),
    ]
    for n, definition in enumerate(definitions, start=1):
        collection.add(definition).id = _hex(n)
    box = collection.add(Box(left=4, top=4, right=40, bottom=44, label="person"), object_id=1)
    box.id = _hex(50)
    pose = collection.add(Pose(label="person", template_id=POSE_TEMPLATE.id), object_id=1)
    pose.id = _hex(51)
    for n, name in enumerate(KEYPOINT_NAMES):
        collection.add(Point(x=10 + n, y=12 + 3 * n, label=name, attributes={"visibility": "visible"}),
                       parent_id=pose.id).id = _hex(60 + n)
    return collection


def test_pycocotools_masks_every_record_of_a_dataloop_conversion(tmp_path):
    coco, report, folder = dataloop_to_coco([every_type_item()], tmp_path, labels=pose_label_map())
    # 14 annotations: polyline, class and the 2-point stick are skipped; the person's box, pose and points: one record
    assert ann_to_mask_everywhere(folder / "coco.json") == len(coco["annotations"]) == 7
    assert_balanced(report)


@pytest.mark.parametrize("name", SEGM_FILES)
def test_pycocotools_masks_every_record_of_a_real_round_trip(real_round_trips, name, tmp_path):
    _, _, out, _, _ = real_round_trips(name)
    path = write_json(tmp_path / "coco.json", out)
    assert ann_to_mask_everywhere(path) == len(out["annotations"])


@pytest.mark.parametrize("visible", [0, 1])
def test_pycocotools_masks_a_pose_without_a_box(tmp_path, visible):
    collection = item()
    pose = collection.add(Pose(label="person", template_id=POSE_TEMPLATE.id))
    pose.id = _hex(1)
    for n, name in enumerate(KEYPOINT_NAMES, start=2):
        visibility = "visible" if n - 2 < visible else "unlabeled"
        collection.add(Point(x=4.0 * n, y=3.0 * n, label=name, attributes={"visibility": visibility}),
                       parent_id=pose.id).id = _hex(n)
    _coco, _, folder = dataloop_to_coco([collection], tmp_path, labels=pose_label_map())
    assert ann_to_mask_everywhere(folder / "coco.json") == 1


# ==== 6. malformed COCO ============================================================================
def good_coco() -> dict:
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10},
                   {"id": 2, "file_name": "b.jpg", "width": 20, "height": 10}],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [{"id": n, "image_id": 1 + n % 2, "category_id": 1 + n % 2, "bbox": [n, 1, 2, 3],
                         "area": 6.0, "iscrowd": 0} for n in range(1, 6)],
    }


def broken(kind: str) -> tuple[dict, str]:
    """A COCO document with one problem, and the JSON pointer that names it."""
    data = good_coco()
    if kind == "bbox-3-numbers":
        data["annotations"][2]["bbox"] = [1, 2, 3]
        return data, "/annotations/2/bbox"
    if kind == "unknown-category":
        data["annotations"][3]["category_id"] = 77
        return data, "/annotations/3/category_id"
    if kind == "image-without-id":
        del data["images"][1]["id"]
        return data, "/images/1/id"
    raise AssertionError(kind)


BROKEN_KINDS = ["bbox-3-numbers", "unknown-category", "image-without-id"]


def test_truncated_json_names_line_and_column(tmp_path):
    text = json.dumps(good_coco(), indent=1)
    cut = text[: text.index('"categories"') + 20]
    src = tmp_path / "truncated.json"
    src.write_text(cut, encoding="utf-8")
    lines = cut.split("\n")
    with pytest.raises(FormatError) as caught:
        Converter().run(src, "coco", tmp_path / "out", "dataloop")
    message = str(caught.value)
    assert caught.value.path == str(src)
    assert f"line {len(lines)}" in message
    assert f"column {len(lines[-1]) + 1}" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", BROKEN_KINDS)
def test_bad_record_raises_with_its_pointer(tmp_path, kind):
    data, pointer = broken(kind)
    src = write_json(tmp_path / "bad.json", data)
    with pytest.raises(FormatError) as caught:
        Converter().run(src, "coco", tmp_path / "out", "dataloop")
    assert (caught.value.path, caught.value.where) == (str(src), pointer)
    assert str(caught.value).startswith(f"{src}:{pointer}: ")
    assert not (tmp_path / "out").exists()


def leftovers(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{name}"))


@pytest.mark.parametrize("kind", [*BROKEN_KINDS, "truncated"])
def test_cli_bad_file_fails_in_one_line_without_output(tmp_path, cli_runner, kind):
    from dlconvert.cli import main

    if kind == "truncated":
        src = tmp_path / "bad.json"
        text = '{"images": [{"id": 1,\n "file_name": "a.jpg"'
        src.write_text(text, encoding="utf-8")
        pointer = f"line 2 column {len(text.split(chr(10))[1]) + 1}"  # the end of the data
    else:
        data, pointer = broken(kind)
        src = write_json(tmp_path / "bad.json", data)
    out = tmp_path / "out"
    result = cli_runner.invoke(main, ["convert", str(src), str(out), "--from", "coco", "--to", "dataloop"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {src}:{pointer}:")
    assert "Traceback" not in result.stderr + result.stdout
    assert not out.exists()
    assert leftovers(tmp_path, "out") == []


def test_cli_skip_converts_the_good_records_and_lists_the_bad(tmp_path, cli_runner):
    from dlconvert.cli import main

    data = good_coco()
    data["annotations"][1]["bbox"] = [1, 2, 3]
    data["annotations"][4]["category_id"] = 9
    src = write_json(tmp_path / "bad.json", data)
    out, report_path = tmp_path / "out", tmp_path / "r.json"
    result = cli_runner.invoke(main, ["convert", str(src), str(out), "--from", "coco", "--to", "dataloop",
                                      "--on-error", "skip", "--report", str(report_path)])
    assert result.exit_code == 0, result.output
    report = load(report_path)
    bad = [i for i in report["issues"] if i["code"] == "coco.invalid-record"]
    assert [(i["kind"], i["where"]) for i in bad] == [("skipped", "/annotations/1/bbox"),
                                                     ("skipped", "/annotations/4/category_id")]
    assert all(i["path"] == str(src) for i in bad)
    assert report["balanced"] is True
    total_in, total_out = sum(report["annotations_in"].values()), sum(report["annotations_out"].values())
    assert (total_in, total_out, sum(report["skipped"].values())) == (5, 3, 2)
    written = [a for path in (out / "json").rglob("*.json") for a in load(path)["annotations"]]
    good = [a for n, a in enumerate(data["annotations"]) if n not in (1, 4)]
    assert sorted((a["coordinates"][0]["x"], a["label"]) for a in written) == sorted(
        (a["bbox"][0], {1: "cat", 2: "dog"}[a["category_id"]]) for a in good)
    assert leftovers(tmp_path, "out") == []


def test_api_skip_policy_balances(tmp_path):
    data, pointer = broken("bbox-3-numbers")
    src = write_json(tmp_path / "bad.json", data)
    report = Converter(on_error="skip").run(src, "coco", tmp_path / "out", "dataloop")
    assert_balanced(report)
    assert [(i.kind, i.code, i.where) for i in report.issues] == [("skipped", "coco.invalid-record", pointer)]
    assert sum(report.annotations_out.values()) == len(data["annotations"]) - 1


def test_a_boolean_visibility_is_not_a_flag(tmp_path):
    """``True`` is not the flag 1: a keypoint whose visibility attribute is a boolean is written visible (2)."""
    collection = item()
    pose = collection.add(Pose(label="person", template_id=POSE_TEMPLATE.id))
    pose.id = _hex(1)
    for number, (name, value) in enumerate(zip(KEYPOINT_NAMES[:2], (True, False), strict=True), start=2):
        collection.add(Point(x=3.0 * number, y=2.0 * number, label=name, attributes={"visibility": value}),
                       parent_id=pose.id).id = _hex(number)
    coco, _report, _ = dataloop_to_coco([collection], tmp_path, labels=pose_label_map())
    flags = only_record(coco)["keypoints"][2::3]
    assert flags[:2] == [2, 2] and all(type(v) is int for v in flags)  # the third keypoint is missing (0)
