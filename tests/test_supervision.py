"""The supervision bridge against the real supervision package: Dataloop ↔ ``sv.Detections``.

Oracles: supervision's own annotators (they must draw our shapes where our renderer does), its
``DetectionDataset.as_coco`` read back by our COCO reader and judged by pycocotools' COCOeval, its
``DetectionDataset.from_coco`` of a real COCO export compared with our COCO reader's reading of the
same file, and hypothesis round trips Dataloop → Detections → Dataloop.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from realfiles import real_file, requires_real_files
from strategies import attributes, boxes, labels, masks

from dlconvert import AnnotationCollection, Box, Ellipse, Point, Polygon, Polyline, Segmentation
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.demo import sample_dataset_path
from dlconvert.formats import get_format
from dlconvert.labels import LabelMap
from dlconvert.report import ConversionReport

sv = pytest.importorskip("supervision", reason="the supervision extra is not installed (pip install .[supervision])")

from dlconvert.interop.supervision import (  # noqa: E402  (after the skip: needs supervision)
    from_detections,
    to_detection_dataset,
    to_detections,
)


def _item(width: int = 120, height: int = 90, name: str = "/a.png") -> AnnotationCollection:
    return AnnotationCollection(filename=name, width=width, height=height, mimetype="image/png")


def _mask(shape, *boxes_) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    for top, bottom, left, right in boxes_:
        out[top:bottom, left:right] = True
    return out


def _quiet(function, *args, **kwargs):
    report = ConversionReport(on_error=kwargs.pop("on_error", "fail"))
    return function(*args, report=report, **kwargs), report


# -- import cost ------------------------------------------------------------------------------------------
def test_importing_dlconvert_or_the_bridge_does_not_import_supervision():
    code = ("import sys, dlconvert, dlconvert.interop, dlconvert.interop.supervision\n"
            "print(sorted(m for m in ('supervision', 'cv2', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent.parent, timeout=120)
    assert out.stdout.strip() == "[]"


def test_without_supervision_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "supervision", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r'pip install "dlconvert\[supervision\]"'):
        to_detections(_item())


# -- the columns ------------------------------------------------------------------------------------------
def test_columns_of_an_item_with_boxes_masks_ids_and_confidences():
    item = _item()
    item.add(Box(10.5, 12.25, 60.75, 50, label="dog", attributes={"color": "brown"}), object_id=7,
             model_info={"confidence": 0.25, "name": "yolo"})
    item.add(Segmentation(_mask((90, 120), (55, 85, 20, 70)), label="cat"))
    detections, report = _quiet(to_detections, item)
    assert detections.xyxy.tolist() == [[10.5, 12.25, 60.75, 50.0], [20.0, 55.0, 70.0, 85.0]]
    assert detections.xyxy.dtype == np.float64
    assert detections.class_id.tolist() == [1, 0]  # LabelMap.from_names: sorted → YOLO order
    assert list(detections.data["class_name"]) == ["dog", "cat"]
    assert detections.tracker_id.tolist() == [7, -1]
    assert detections.confidence[0] == 0.25 and math.isnan(detections.confidence[1])
    assert detections.data["attributes"][0] == {"color": "brown"}
    assert list(detections.data["dataloop_type"]) == ["box", "binary"]
    assert detections.mask.shape == (2, 90, 120)
    assert not detections.mask[0].any()  # a box is not a mask (as supervision's from_coco: bbox-only → empty)
    assert np.array_equal(detections.mask[1], item[1].annotation_definition.geo)
    assert detections.metadata == {"filename": "/a.png", "item_id": None, "width": 120, "height": 90}
    assert "iscrowd" not in detections.data
    assert report.issues == [] and not report.unbalanced()


def test_class_names_are_kept_whole():
    item = _item()
    item.add(Box(1, 2, 3, 4, label="dog\x00"))  # a numpy str column would cut the trailing NUL
    item.add(Box(1, 2, 3, 4, label="狗 🚗"))
    detections, _ = _quiet(to_detections, item)
    assert [a.label for a in _quiet(from_detections, detections)[0]] == ["dog\x00", "狗 🚗"]


def test_no_object_ids_no_tracker_ids_and_no_confidence_without_model_info():
    item = _item()
    item.add(Box(1, 2, 3, 4, label="a"))
    detections, _ = _quiet(to_detections, item)
    assert detections.tracker_id is None and detections.confidence is None and detections.mask is None


def test_an_item_with_no_row_and_empty_detections_convert_both_ways():
    item = _item()
    item.add(Box(5, 5, 5, 9, label="flat"))  # degenerate: takes no class id either
    item.add(Box(1, 2, 3, 4, label="zebra"))
    detections, _ = _quiet(to_detections, item)
    assert detections.class_id.tolist() == [0]
    empty, report = _quiet(to_detections, _item())
    assert len(empty) == 0 and empty.xyxy.shape == (0, 4) and set(empty.data) >= {"class_name", "xyxyxyxy"}
    back, report = _quiet(from_detections, sv.Detections.empty())
    assert len(back) == 0 and report.items_out == 1 and report.issues == []


def test_labels_given_number_the_classes_and_a_label_they_lack_is_an_error_or_skipped():
    item = _item()
    item.add(Box(1, 2, 3, 4, label="dog"))
    item.add(Box(1, 2, 3, 4, label="cat"))
    detections, _ = _quiet(to_detections, item, labels=["person", "dog", "cat"])
    assert detections.class_id.tolist() == [1, 2]
    assert _quiet(to_detections, item, labels={"dog": 7, "cat": 3})[0].class_id.tolist() == [7, 3]
    label_map = LabelMap.from_names(["cat", "dog", "emu"])
    assert _quiet(to_detections, item, labels=label_map)[0].class_id.tolist() == [1, 0]
    with pytest.raises(ValueError, match="label 'cat' is not in the label map given"):
        _quiet(to_detections, item, labels=["dog"])
    detections, report = _quiet(to_detections, item, labels=["dog"], on_error="skip")
    assert list(detections.data["class_name"]) == ["dog"]
    assert [i.code for i in report.issues] == ["supervision.label-not-in-map"] and not report.unbalanced()


def test_types_detections_cannot_hold_are_skipped_and_reported_and_the_ledger_balances():
    item = _item()
    item.add(Point(3, 4, label="p"))
    item.add(Polyline([[0, 0], [5, 5]], label="line"))
    item.add(Box(5, 5, 5, 9, label="flat"))  # degenerate: no width
    item.add(Box(1, 1, 9, 9))  # no label
    item.add(Polygon([[10, 10], [40, 10], [40, 30]], label="tri"))
    item.add(Ellipse(60, 40, 10, 5, label="egg"))
    detections, report = _quiet(to_detections, item, masks=False)
    assert list(detections.data["class_name"]) == ["tri", "egg"]
    codes = sorted(i.code for i in report.issues)
    assert codes == ["supervision.degenerate-shape", "supervision.ellipse-as-box", "supervision.no-label",
                     "supervision.polygon-as-box", "supervision.unsupported-type", "supervision.unsupported-type"]
    assert not report.unbalanced() and sum(report.skipped.values()) == 4
    assert detections.xyxy[1].tolist() == list(item[5].annotation_definition.bounds())


def test_without_a_report_one_warning_names_what_was_not_held():
    item = _item()
    item.add(Point(3, 4, label="p"))
    item.add(Box(1, 2, 3, 4, label="a"))
    with pytest.warns(UserWarning, match=r"to_detections: 1 skipped supervision.unsupported-type"):
        to_detections(item)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_detections(_item())  # nothing lost: no warning


def test_a_video_item_needs_a_frame_and_gives_its_tracks_as_tracker_ids():
    video = AnnotationCollection.from_json_file(sample_dataset_path() / "json" / "video" / "traffic.json")
    with pytest.raises(ValueError, match="is a video: pass frame=N"):
        to_detections(video)
    detections, _ = _quiet(to_detections, video, frame=3)
    expected = [a for a in video.get_frame(3)]
    assert detections.tracker_id.tolist() == [int(a.object_id) for a in expected]
    assert detections.xyxy.tolist() == [list(a.annotation_definition.bounds()) for a in expected]


def test_a_crowd_region_is_supervisions_iscrowd():
    item = _item()
    item.add(Box(1, 2, 3, 4, label="a"), metadata={"user": {"coco": {"iscrowd": 1}}})
    item.add(Box(1, 2, 30, 40, label="a"))
    detections, _ = _quiet(to_detections, item)
    assert detections.data["iscrowd"].tolist() == [1, 0]
    back, _ = _quiet(from_detections, detections)
    assert back[0].metadata["user"]["coco"] == {"iscrowd": 1} and "coco" not in back[1].metadata.get("user", {})


def test_rotated_boxes_are_supervisions_oriented_boxes():
    item = _item()
    box = Box(10, 20, 50, 40, label="car", angle=30)
    item.add(box)
    detections, _ = _quiet(to_detections, item)
    assert np.array_equal(detections.data["xyxyxyxy"][0], box.corners())
    assert detections.xyxy[0].tolist() == list(box.bounds())
    drawn = sv.OrientedBoxAnnotator(thickness=1).annotate(np.zeros((90, 120, 3), np.uint8), detections)
    for x, y in box.corners():  # each corner is drawn (within the pixel it rounds to)
        near = drawn[max(int(y) - 1, 0):int(y) + 2, max(int(x) - 1, 0):int(x) + 2]
        assert near.any()
    back, _ = _quiet(from_detections, detections)
    again = back[0].annotation_definition
    assert again.type == "box" and math.isclose(again.angle % 360, 30, abs_tol=1e-9)
    assert np.allclose(again.corners(), box.corners(), atol=1e-9, rtol=0)


def test_compact_masks_hold_the_same_pixels_and_dense_masks_have_a_memory_bound():
    item = _item()
    item.add(Polygon([[10, 10], [40, 12], [30, 50]], label="tri"))
    item.add(Segmentation(_mask((90, 120), (60, 80, 5, 100)), label="band"))
    dense, _ = _quiet(to_detections, item)
    compact, _ = _quiet(to_detections, item, compact_masks=True)
    assert isinstance(compact.mask, sv.CompactMask)
    assert np.array_equal(compact.mask.to_dense(), dense.mask)
    huge = _item(width=30_000, height=20_000)
    huge.add(Polygon([[10, 10], [40, 12], [30, 50]], label="tri"))
    with pytest.raises(ValueError, match="compact_masks=True"):
        _quiet(to_detections, huge, masks=True)
    small, _ = _quiet(to_detections, huge, compact_masks=True)
    assert small.mask.shape == (1, 20_000, 30_000) and int(small.mask.area[0]) == int(dense.mask[0].sum())


# -- round trips Dataloop → Detections → Dataloop ----------------------------------------------------------
def _same(back: AnnotationCollection, original: AnnotationCollection) -> None:
    assert len(back) == len(original)
    for again, annotation in zip(back, original, strict=True):
        assert again.annotation_definition == annotation.annotation_definition  # type, geometry, label, attributes
        assert again.object_id == annotation.object_id
        assert again.id == annotation.id
        confidence = (annotation.model_info or {}).get("confidence")
        assert (again.model_info or {}).get("confidence") == confidence


@st.composite
def _box_items(draw):
    item = _item(width=400, height=300)
    for _ in range(draw(st.integers(0, 6))):
        box = draw(boxes(rotated=False, min_size=0.5))
        box.label = draw(labels())
        box.description = None
        object_id = draw(st.one_of(st.none(), st.integers(0, 2**40)))
        model = draw(st.one_of(st.none(), st.floats(0, 1).map(lambda c: {"confidence": c})))
        annotation = item.add(box, object_id=object_id, model_info=model)
        annotation.id = draw(st.one_of(st.none(), st.binary(min_size=12, max_size=12).map(bytes.hex)))
    return item


@given(_box_items())
def test_boxes_labels_object_ids_and_confidences_come_back_exactly(item):
    detections, report = _quiet(to_detections, item)
    back, back_report = _quiet(from_detections, detections)
    _same(back, item)
    assert report.issues == [] and back_report.issues == []


@given(st.lists(st.tuples(masks(max_side=12), labels(), attributes()), min_size=1, max_size=4), st.booleans())
def test_masks_come_back_exactly(drawn, compact):
    height, width = 12, 12
    item = _item(width=width, height=height)
    for mask, label, attrs in drawn:
        canvas = np.zeros((height, width), dtype=bool)
        canvas[:mask.shape[0], :mask.shape[1]] = mask
        if canvas.any():
            item.add(Segmentation(canvas, label=label, attributes=attrs))
    detections, _ = _quiet(to_detections, item, compact_masks=compact)
    back, report = _quiet(from_detections, detections)
    _same(back, item)
    assert report.issues == []


def test_detections_from_a_model_come_back_exactly_through_dataloop():
    # A segmentation model's row: its own box (supervision's inclusive max) beside its mask, a
    # confidence outside 0…1, a score column and an object column that JSON cannot hold.
    mask = _mask((40, 50), (10, 20, 5, 25))
    detections = sv.Detections(
        xyxy=np.array([[5.0, 10.0, 24.0, 19.0], [1.0, 1.0, 8.0, 9.0]]), mask=np.stack([mask, np.zeros_like(mask)]),
        confidence=np.array([0.5, 1.5]), class_id=np.array([0, 1]), tracker_id=np.array([3, -1]),
        data={"class_name": np.array(["cat", "dog"]), "score2": np.array([0.1, 0.2]),
              "blob": np.array([object(), object()], dtype=object)},
        metadata={"source_image": "x"})
    item, report = _quiet(from_detections, detections)
    assert [a.type for a in item] == ["binary", "box"] and (item.width, item.height) == (50, 40)
    assert item[0].object_id == "3" and item[1].object_id is None
    assert sorted({i.code for i in report.issues}) == ["supervision.confidence-out-of-range",
                                                       "supervision.data-not-kept", "supervision.empty-mask",
                                                       "supervision.metadata-not-kept"]
    again, _ = _quiet(to_detections, item, masks=True)
    assert np.array_equal(again.xyxy, detections.xyxy)  # the model's box, kept beside the mask
    assert np.array_equal(again.data["score2"], detections.data["score2"])
    assert again.tracker_id.tolist() == [3, -1] and again.confidence[0] == 0.5


def test_oriented_boxes_of_a_model_become_rotated_boxes_or_polygons():
    square = np.array([[10, 0], [20, 10], [10, 20], [0, 10]], dtype=float)
    skewed = np.array([[0, 0], [10, 0], [12, 8], [0, 5]], dtype=float)
    detections = sv.Detections(xyxy=np.array([[0, 0, 20, 20], [0, 0, 12, 8]], dtype=float),
                               class_id=np.array([0, 0]), data={"xyxyxyxy": np.stack([square, skewed])})
    item, _ = _quiet(from_detections, detections, classes=["tile"])
    box, polygon = (a.annotation_definition for a in item)
    assert box.type == "box" and math.isclose(box.angle, 45) and np.allclose(box.corners(), square)
    assert polygon.type == "segment" and np.array_equal(polygon.parts[0], skewed)
    assert [a.label for a in item] == ["tile", "tile"]


def test_class_ids_without_names_need_classes():
    detections = sv.Detections(xyxy=np.array([[0, 0, 2, 2]], dtype=float), class_id=np.array([4]))
    with pytest.raises(ValueError, match="pass classes"):
        from_detections(detections)
    with pytest.raises(ValueError, match="class_id 4"):
        from_detections(detections, classes=["a"])
    item, _ = _quiet(from_detections, detections, classes={4: "emu"}, filename="/x.jpg")
    assert item[0].label == "emu" and item.filename == "/x.jpg"


def test_detections_of_each_frame_build_the_tracks_of_a_video():
    video = AnnotationCollection(filename="/v.mp4", width=64, height=48, mimetype="video/mp4", fps=25)
    for frame in range(3):
        detections = sv.Detections(xyxy=np.array([[frame, 0, frame + 10, 10]], dtype=float),
                                   class_id=np.array([0]), tracker_id=np.array([5]))
        _quiet(from_detections, detections, video, classes=["car"], frame=frame)
    (track,) = video
    assert track.object_id == "5" and sorted(track.frames) == [0, 1, 2]
    assert _quiet(to_detections, video, frame=2)[0].xyxy.tolist() == [[2, 0, 12, 10]]
    with pytest.raises(ValueError, match="pass frame=N"):
        from_detections(detections, video, classes=["car"])
    with pytest.raises(ValueError, match="pass the video's collection"):
        from_detections(detections, _item(), classes=["car"], frame=1)


# -- supervision's annotators draw our shapes -----------------------------------------------------------------
def _scene_item() -> AnnotationCollection:
    item = _item(width=160, height=120)
    item.add(Box(10.5, 12.25, 60.75, 50, label="dog"))
    item.add(Polygon([[[70, 10], [150, 20], [120, 70]], [[100, 25], [120, 30], [115, 45]]], label="roof"))
    item.add(Segmentation(_mask((120, 160), (80, 110, 20, 70), (90, 100, 30, 40)), label="pond"))
    item.add(Ellipse(120, 95, 25, 12, angle=20, label="egg"))
    return item


def test_mask_annotator_paints_exactly_the_pixels_our_renderer_fills():
    item = _scene_item()
    detections, _ = _quiet(to_detections, item, masks=True)
    painted = sv.MaskAnnotator(opacity=1.0).annotate(np.zeros((120, 160, 3), np.uint8), detections).any(axis=2)
    ours = item.show(annotation_format="mask", thickness=-1)[:, :, 3] > 0
    assert painted.sum() > 2000 and np.array_equal(painted, ours)
    compact, _ = _quiet(to_detections, item, masks=True, compact_masks=True)
    again = sv.MaskAnnotator(opacity=1.0).annotate(np.zeros((120, 160, 3), np.uint8), compact).any(axis=2)
    assert np.array_equal(again, ours)


def test_box_annotator_draws_each_box_on_its_edges():
    item = _scene_item()
    detections, _ = _quiet(to_detections, item)
    drawn = sv.BoxAnnotator(thickness=1).annotate(np.zeros((120, 160, 3), np.uint8), detections).any(axis=2)
    for left, top, right, bottom in detections.xyxy:
        x0, y0, x1, y1 = int(left), int(top), min(int(right), 159), min(int(bottom), 119)
        assert drawn[y0, x0:x1 + 1].all() and drawn[y1, x0:x1 + 1].all()  # top and bottom edges
        assert drawn[y0:y1 + 1, x0].all() and drawn[y0:y1 + 1, x1].all()  # left and right edges
    box = item[0].annotation_definition
    assert not drawn[int(box.top) + 3:int(box.bottom) - 3, int(box.left) + 3:int(box.right) - 3].any()


def test_label_annotator_writes_our_class_names():
    item = _scene_item()
    detections, _ = _quiet(to_detections, item)
    scene = np.zeros((120, 160, 3), np.uint8)
    by_default = sv.LabelAnnotator().annotate(scene.copy(), detections)
    named = sv.LabelAnnotator().annotate(scene.copy(), detections, labels=[a.label for a in item])
    by_index = sv.LabelAnnotator().annotate(scene.copy(), detections,
                                            labels=[str(i) for i in detections.class_id])
    assert by_default.any() and np.array_equal(by_default, named) and not np.array_equal(by_default, by_index)
    left, top = (int(v) for v in detections.xyxy[0][:2])
    assert by_default[max(top - 12, 0):top + 1, left:left + 20].any()  # the tag sits at the box's top left


# -- DetectionDataset.as_coco, read back by our COCO reader, judged by pycocotools -----------------------------
def _dataset_with_images(root: Path) -> list[AnnotationCollection]:
    import cv2

    rng = np.random.default_rng(0)
    (root / "images").mkdir()
    items = []
    for n in range(3):
        item = _item(width=120, height=90, name=f"/img{n}.png")
        cv2.imwrite(str(root / "images" / f"img{n}.png"), rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
        item.add(Box(10.5 + n, 12.25, 60.75 + n / 3, 50, label="car"))
        item.add(Box(70, 5, 110, 30.5, label="dog"))
        item.add(Segmentation(_mask((90, 120), (55, 85, 20, 70)) & ~_mask((90, 120), (60, 70, 30, 40)), label="dog"))
        item.add(Segmentation(_mask((90, 120), (40, 80, 80, 115)), label="car"))
        items.append(item)
    return items


def _as_results(gt, exported: dict) -> list[dict]:
    """supervision's records as pycocotools results on the ground truth's image and category ids."""
    from pycocotools import mask as mask_utils

    image_ids = {i["file_name"]: i["id"] for i in gt.dataset["images"]}
    category_ids = {c["name"]: c["id"] for c in gt.dataset["categories"]}
    files = {i["id"]: i["file_name"] for i in exported["images"]}
    names = {c["id"]: c["name"] for c in exported["categories"]}
    results = []
    for record in exported["annotations"]:
        result = {"image_id": image_ids[files[record["image_id"]]], "category_id": category_ids[names[record[
            "category_id"]]], "bbox": record["bbox"], "score": 1.0}
        segmentation = record["segmentation"]
        if isinstance(segmentation, dict):  # supervision writes uncompressed RLE for masks with holes or parts
            segmentation = mask_utils.frPyObjects(segmentation, *segmentation["size"])
        if segmentation:
            result["segmentation"] = segmentation
        results.append(result)
    return results


def test_as_coco_of_converted_data_is_read_back_by_our_coco_reader_and_pycocotools_agrees(tmp_path):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    items = _dataset_with_images(tmp_path)
    dataset = to_detection_dataset(Dataset(items), images=tmp_path / "images", report=ConversionReport())
    assert dataset.classes == ["car", "dog"] and len(dataset) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # supervision warns of each box row's empty mask
        dataset.as_coco(annotations_path=str(tmp_path / "sv" / "annotations.json"))
    exported = json.loads((tmp_path / "sv" / "annotations.json").read_text())

    # our reader takes supervision's file: every record, its label, its box
    back = list(get_format("coco").read(tmp_path / "sv" / "annotations.json", ConvertOptions(),
                                        ConversionReport()).items)
    assert [c.filename.lstrip("/") for c in back] == ["img0.png", "img1.png", "img2.png"]
    for original, again in zip(items, back, strict=True):
        assert [a.label for a in again] == [a.label for a in original]
        for a, b in zip(original, again, strict=True):  # each record's bbox is the row's xyxy
            assert np.allclose(a.annotation_definition.bounds(), _coco_box(b), atol=1e-9, rtol=0)
        assert [a.type for a in again][:2] == ["box", "box"]
        for a, b in zip(original[:2], again[:2], strict=True):
            assert np.allclose(a.annotation_definition.bounds(), b.annotation_definition.bounds(), atol=1e-9, rtol=0)
        hole = again[2].annotation_definition  # a mask with a hole: RLE (supervision calls it a crowd)
        assert hole.type == "binary" and np.array_equal(hole.geo, original[2].annotation_definition.geo)
        assert again[2].metadata["user"]["coco"]["iscrowd"] == 1

    # pycocotools judges supervision's records against the same data written by our COCO writer
    get_format("coco").write(Dataset(items), tmp_path / "ours", ConvertOptions(), ConversionReport())
    ground_truth = COCO(str(tmp_path / "ours" / "coco.json"))
    results = _as_results(ground_truth, exported)
    boxes_eval = COCOeval(ground_truth, ground_truth.loadRes(results), "bbox")
    boxes_eval.evaluate()
    boxes_eval.accumulate()
    boxes_eval.summarize()
    assert boxes_eval.stats[0] == 1.0  # AP over IoU 0.50…0.95: every box exact
    masks_eval = COCOeval(ground_truth, ground_truth.loadRes([r for r in results if "segmentation" in r]), "segm")
    masks_eval.params.catIds = ground_truth.getCatIds()
    masks_eval.evaluate()
    masks_eval.accumulate()
    masks_eval.summarize()
    # supervision traces a simple mask's outline through its border pixels' centres (a polygon half a pixel
    # inside), so IoU is high but not 1: AP@0.5 and @0.75 are 1, the 0.50…0.95 mean is not
    assert masks_eval.stats[1] == 1.0 and masks_eval.stats[2] == 1.0


def test_to_detections_of_a_dataset_shares_class_ids_and_skips_video(tmp_path):
    first, second = _item(name="/a.png"), _item(name="/b.png")
    first.add(Box(1, 2, 3, 4, label="zebra"))
    second.add(Box(1, 2, 3, 4, label="ant"))
    second.add(Box(1, 2, 3, 4, label="zebra"))
    video = AnnotationCollection.from_json_file(sample_dataset_path() / "json" / "video" / "traffic.json")
    report = ConversionReport()
    out = list(to_detections(Dataset([first, video, second]), report=report))
    assert [d.class_id.tolist() for d in out] == [[0], [1, 0]]  # numbered as first met: ids never change
    assert {i.code for i in report.issues} == {"supervision.not-an-image"} and not report.unbalanced()
    with_map = list(to_detections(Dataset([first, second], labels=LabelMap.from_names(["ant", "zebra"])),
                                  report=ConversionReport()))
    assert [d.class_id.tolist() for d in with_map] == [[1], [0, 1]]
    with pytest.raises(Exception, match="2 of 2 images not found"):
        to_detection_dataset([first, second], images=tmp_path, report=ConversionReport())


# -- supervision's reading of a real COCO export, brought into Dataloop ---------------------------------------
@requires_real_files
def test_supervisions_reading_of_a_real_coco_export_matches_ours():
    import cv2

    source = real_file("coco/icevision/annotations.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = sv.DetectionDataset.from_coco(str(real_file("coco/icevision/images")), str(source))
    ours = {Path(c.filename).name: c for c in get_format("coco").read(source, ConvertOptions(),
                                                                       ConversionReport()).items}
    assert len(dataset) == len(ours) == 6
    total = 0
    for path, detections in dataset.annotations.items():
        expected = ours[Path(path).name]
        report = ConversionReport()
        item = from_detections(detections, filename=expected.filename, width=expected.width, height=expected.height,
                               report=report)
        assert not report.unbalanced()
        assert [a.label for a in item] == [a.label for a in expected]
        for again, annotation in zip(item, expected, strict=True):
            # supervision holds the bbox as float32; a record with a segmentation becomes a mask
            assert np.allclose(again.annotation_definition.bounds() if again.type == "box" else
                               _kept_box(again), annotation.annotation_definition.bounds() if annotation.type == "box"
                               else _coco_box(annotation), atol=1e-3)
            crowd = (annotation.metadata.get("user", {}).get("coco") or {}).get("iscrowd") == 1
            assert (again.metadata.get("user", {}).get("coco") or {}).get("iscrowd", 0) == int(crowd)
            theirs = again.annotation_definition.geo
            if annotation.type == "binary":  # an RLE: supervision decodes it exactly
                assert np.array_equal(theirs, annotation.annotation_definition.geo)
            elif annotation.type == "segment":
                # supervision rounds the vertices to whole pixels and fills with cv2.fillPoly, which also paints
                # the outline (pixel centres inside is ours): each mask lies within two pixels of the other
                mine = Segmentation.from_polygon(annotation.annotation_definition, shape=theirs.shape).geo
                for one, other in ((mine, theirs), (theirs, mine)):
                    near = cv2.dilate(other.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
                    assert one.any() and not (one & ~near).any()
        total += len(item)
    assert total == 36


def _kept_box(annotation) -> list[float]:
    return annotation.metadata["user"]["supervision"]["xyxy"]


def _coco_box(annotation) -> list[float]:
    x, y, w, h = annotation.metadata["user"]["coco"]["bbox"]
    return [x, y, x + w, y + h]
