"""The columnar path (dlconvert.table) against the object path: the same files, byte for byte, and the same
report, for every real COCO file and for hypothesis-made COCO documents full of the cases the object writer
treats apart (multi-part polygons, rectangles that are boxes, degenerate rings, crowd RLE, attributes,
boxes outside the image, empty boxes, label-only records, images without annotations).
"""

from __future__ import annotations

import json
from pathlib import Path

import columnar_support
import pytest
from columnar_support import real_coco_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realfiles import AVAILABLE, NO_REAL_FILES, real_file

from dlconvert import Converter, ConvertOptions, parallel
from dlconvert.formats.coco.columns import read_table

TASKS = [None, "detect", "segment"]


def assert_same(src: Path, work: Path, on_error: str = "skip", workers: int = 1, **options) -> None:
    """COCO → YOLO: the object path in one process and the columnar path on ``workers`` write the same."""
    columnar_support.assert_same(src, "coco", "yolo", work, on_error=on_error, workers=workers, **options)


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("path", real_coco_files())
def test_real_coco_files_give_the_same_yolo_both_ways(path, task, tmp_path):
    assert_same(path, tmp_path, yolo_task=task)


#: Real files the columnar path reads (several images each, so that ranges of items form).
_SHARDED = ["coco/icevision/annotations.json", "coco/mmdetection/coco_sample.json", "coco/dagshub/annotations.json",
            "dataloop/dtlpy-converters-examples/coco/coco/annotations.json"]


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("name", _SHARDED if AVAILABLE else NO_REAL_FILES)
def test_the_columnar_path_on_two_workers_writes_what_one_process_does(name, task, tmp_path, monkeypatch):
    """Items cut into ranges of one item, written by forked workers sharing the table."""
    pools = []
    real_pool = parallel.worker_pool
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    monkeypatch.setattr(parallel, "worker_pool", lambda workers: pools.append(workers) or real_pool(workers))
    assert read_table(real_file(name), ConvertOptions()) is not None
    assert_same(real_file(name), tmp_path, workers=2, yolo_task=task)
    assert pools == [2]


def test_the_columnar_path_is_taken_for_clean_files_and_left_for_others():
    if not AVAILABLE:
        pytest.skip("needs the real-file corpus")
    options = ConvertOptions()
    assert read_table(real_file("coco/icevision/annotations.json"), options) is not None
    assert read_table(real_file("coco/icevision/keypoints_annotations.json"), options) is None  # keypoints
    assert read_table(real_file("coco/dtlpy-converters-old/annotations.json"), options) is None  # a bad RLE sum


# ==== hypothesis: COCO documents with every case the writer treats apart ==================================
_coordinate = st.one_of(st.integers(-20, 660), st.floats(-20, 660, allow_nan=False).map(lambda v: round(v, 3)))


@st.composite
def _ring(draw, width: int, height: int) -> list:
    kind = draw(st.sampled_from(["free", "rectangle", "collinear", "short", "empty", "point"]))
    if kind == "rectangle":
        x0, y0 = draw(st.integers(0, width - 2)), draw(st.integers(0, height - 2))
        x1, y1 = draw(st.integers(x0 + 1, width)), draw(st.integers(y0 + 1, height))
        return [x0, y0, x1, y0, x1, y1, x0, y1]
    if kind == "collinear":
        return [1, 1, 5, 5, 9, 9]
    if kind == "short":
        return [3, 4, 8, 9]
    if kind == "empty":
        return []
    if kind == "point":
        return [7, 7, 7, 7, 7, 7]
    count = draw(st.integers(3, 9))
    return [draw(_coordinate) for _ in range(2 * count)]


@st.composite
def coco_documents(draw) -> dict:
    categories = [{"id": cid, "name": name, "supercategory": "thing"} for cid, name in
                  zip(draw(st.lists(st.integers(1, 90), min_size=1, max_size=4, unique=True)), "abcd", strict=False)]
    images, annotations = [], []
    for index in range(draw(st.integers(1, 4))):
        width, height = draw(st.sampled_from([(640, 480), (427, 640), (333, 250)]))
        images.append({"id": 100 + index, "file_name": f"dir/img_{index}.jpg", "width": width, "height": height})
        for _ in range(draw(st.integers(0, 5))):
            record = {"id": len(annotations) + 1, "image_id": 100 + index,
                      "category_id": draw(st.sampled_from(categories))["id"]}
            shape = draw(st.sampled_from(["box", "polygon", "polygons", "crowd", "label", "zero-box"]))
            if shape in ("box", "zero-box"):
                x, y = draw(_coordinate), draw(_coordinate)
                w = 0 if shape == "zero-box" else draw(st.integers(1, 300))
                record["bbox"] = [x, y, w, draw(st.integers(0, 300))]
            elif shape in ("polygon", "polygons"):
                rings = draw(st.lists(_ring(width, height), min_size=1, max_size=1 if shape == "polygon" else 3))
                record["segmentation"] = rings
                points = [v for ring in rings for v in ring]
                if points and draw(st.booleans()):
                    xs, ys = points[0::2], points[1::2]
                    record["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            elif shape == "crowd":
                record.update(iscrowd=1, bbox=[0, 0, 2, 2],
                              segmentation={"size": [height, width], "counts": [0, width * height]})
            if draw(st.booleans()) and shape != "label":
                record["area"] = draw(st.floats(0, 1e5))
            if draw(st.integers(0, 5)) == 0:
                record["attributes"] = {"occluded": draw(st.booleans())}
            annotations.append(record)
    draw(st.randoms()).shuffle(annotations)  # COCO files need not group records by image
    return {"images": images, "annotations": annotations, "categories": categories}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=coco_documents(), task=st.sampled_from(TASKS), on_error=st.sampled_from(["skip", "fail"]))
def test_any_coco_document_gives_the_same_yolo_both_ways(document, task, on_error, tmp_path_factory):
    work = tmp_path_factory.mktemp("columnar")
    src = work / "coco.json"
    src.write_text(json.dumps(document))
    assert_same(src, work, on_error, yolo_task=task)


@pytest.mark.parametrize("target", ["yolo", "voc", "dataloop", "coco"])
def test_the_columnar_write_counts_every_item_on_the_progress_bar(target, tmp_path, monkeypatch):
    if not AVAILABLE:
        pytest.skip("needs the real-file corpus")
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    src = real_file("coco/dagshub/annotations.json")
    table = read_table(src, ConvertOptions())
    bars = []

    def progress(iterable, total=None, desc=None):
        bars.append({"total": total, "desc": desc, "count": 0})
        for value in iterable:
            bars[-1]["count"] += 1
            yield value

    Converter(concurrency=2, progress=progress).run(src, "coco", tmp_path / "out", target)
    assert bars == [{"total": table.item_count, "desc": f"coco → {target}", "count": table.item_count}]


@pytest.mark.parametrize("names", [["a\\b.jpg", "c.jpg"], ["x\x00.jpg", "y.jpg"], ["é" * 70 + ".jpg", "b.jpg"],
                                   ["..", "b.jpg"], ["a/../b.jpg", "b.jpg"], ["/sub/a.jpg", "sub/a.png"],
                                   ["sub/" + "é" * 126 + ".jpg", "sub/b.jpg"]])
def test_hostile_file_names_are_placed_as_the_object_writer_places_them(names, tmp_path):
    images = [{"id": i, "file_name": name, "width": 10, "height": 10} for i, name in enumerate(names, 1)]
    records = [{"id": i, "image_id": i, "category_id": 1, "bbox": [1, 1, 4, 4], "area": 16, "iscrowd": 0}
               for i in range(1, len(names) + 1)]
    src = tmp_path / "coco.json"
    src.write_text(json.dumps({"images": images, "annotations": records, "categories": [{"id": 1, "name": "a"}]}))
    assert_same(src, tmp_path, yolo_task="detect")
    assert_same(src, tmp_path / "fail", on_error="fail", yolo_task="detect")
