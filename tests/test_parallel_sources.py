"""YOLO, Pascal VOC and WebVTT sources read in shards by worker processes: the same bytes and report as one process.

Shards are made tiny (``MIN_SHARD = 1``) so that the small real fixtures are cut into many shards.
Oracles: the one-worker run (the one ordered pass) for files and reports, the forced one-pass plan
for the YOLO task the plan settles up front, and the files' own text for errors and label order.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
from columnar_support import same_tree
from realfiles import AVAILABLE, NO_REAL_FILES, ROOT, requires_real_files

from dlconvert import Converter, ConvertOptions, parallel
from dlconvert.errors import DlconvertError
from dlconvert.formats import get_format
from dlconvert.formats.yolo import task_scan
from dlconvert.render.batch import render_source
from dlconvert.report import ConversionReport

YOLO = ["yolo/cvat-datumaro/yolov8_classification", "yolo/cvat-datumaro/yolov8_detection",
        "yolo/cvat-datumaro/yolov8_detection_with_list_of_imgs",
        "yolo/cvat-datumaro/yolov8_detection_with_list_of_names",
        "yolo/cvat-datumaro/yolov8_detection_with_subset_txt", "yolo/cvat-datumaro/yolov8_oriented_boxes",
        "yolo/cvat-datumaro/yolov8_pose", "yolo/cvat-datumaro/yolov8_pose_two_values_per_point",
        "yolo/cvat-datumaro/yolov8_segmentation", "yolo/datumaro/roboflow_yolo", "yolo/datumaro/roboflow_yolo_obb",
        "yolo/datumaro/dota_dataset", "yolo/datumaro/yolo_dataset/labels", "yolo/datumaro/yolo_dataset/annotations",
        "yolo/datumaro/yolo_dataset/strict", "yolo/roboflow-shoe-sole-seg", "yolo/dagshub/res/pose_2dim.yaml",
        "yolo/dagshub/res/pose_3dim.yaml", "yolo/dagshub/res/bbox_and_segmentation.yaml",
        "dataloop/dtlpy-converters-examples/yolo/yolo"]
VOC = ["voc/icevision/fridge", "voc/icevision/voc", "voc/datumaro/voc_dataset/voc_dataset1",
       "voc/datumaro/voc_dataset/voc_dataset2", "voc/datumaro/voc_dataset/voc_dataset3", "voc/datumaro/roboflow_voc",
       "voc/mmdetection/VOC2012", "dataloop/dtlpy-converters-examples/voc/voc"]
VTT = ["vtt/1c7-vtt-test-file", "vtt/dtlpy-converters", "vtt/swift-webvtt-parser", "vtt/vtt.js", "vtt/webvtt-py",
       "vtt/wpt"]
SOURCES = [*(("yolo", s) for s in YOLO), *(("voc", s) for s in VOC), *(("vtt", s) for s in VTT)]
#: Targets: YOLO without a task spools and writes in one process; with one (and the classes known) in shards.
TARGETS = [("coco", {}), ("yolo", {}), ("yolo", {"yolo_task": "segment"}), ("voc", {}), ("dataloop", {})]
CASES = [pytest.param(fmt, src, target, options, id="-".join([src, target, *options.values()]))
         for fmt, src in SOURCES for target, options in TARGETS]


@pytest.fixture(autouse=True)
def tiny_shards(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)


def _outcome(src: Path, source: str, dst: Path, target: str, workers: int, on_error: str, **options) -> dict:
    """The report's JSON (without output paths), or the error's class, message, file and place."""
    converter = Converter(concurrency=workers, on_error=on_error, options=ConvertOptions(**options))
    try:
        report = converter.run(src, source, dst, target)
    except DlconvertError as exc:
        return {"error": type(exc).__name__, "message": str(exc), "path": exc.path, "where": exc.where}
    facts = report.to_json()
    facts.pop("outputs")
    for key in ("annotations_in", "annotations_out", "skipped", "labels_in", "labels_out"):
        facts[key] = {k: v for k, v in facts[key].items() if v}  # a shard may leave a zero count behind
    return facts


class _Pools:
    """Counts the process pools made and the shards sent to them."""

    def __init__(self, monkeypatch) -> None:
        self.made: list[int] = []
        self.shards: list[int] = []
        real_pool, real_map = parallel.worker_pool, parallel.map_in_order

        def pool(workers):
            self.made.append(workers)
            return real_pool(workers)

        def counting_map(executor, fn, tasks, window):
            tasks = list(tasks)
            self.shards.append(len(tasks))
            return real_map(executor, fn, tasks, window)

        monkeypatch.setattr(parallel, "worker_pool", pool)
        monkeypatch.setattr(parallel, "map_in_order", counting_map)


# ==== every real fixture, every target ================================================================
@requires_real_files
@pytest.mark.parametrize("source, src, target, options", CASES)
def test_two_workers_write_the_same_bytes_and_report_as_one(source, src, target, options, tmp_path):
    for on_error in ("skip", "fail"):
        one = _outcome(ROOT / src, source, tmp_path / f"one-{on_error}", target, 1, on_error, **options)
        two = _outcome(ROOT / src, source, tmp_path / f"two-{on_error}", target, 2, on_error, **options)
        assert two == one, on_error
        if "error" in one:
            assert not (tmp_path / f"two-{on_error}").exists()
        else:
            same_tree(tmp_path / f"one-{on_error}", tmp_path / f"two-{on_error}")


def _fixture_files(fmt: str) -> list[Path]:
    suffixes = {"yolo": (".txt", ".yaml", ".data", ".names"), "voc": (".xml", ".png"), "vtt": (".vtt",)}[fmt]
    return [p for p in (ROOT / fmt).rglob("*") if p.is_file() and p.suffix.lower() in suffixes]


@requires_real_files
@pytest.mark.parametrize("fmt", ["yolo", "voc", "vtt"])
def test_the_sources_cover_every_fixture_of_their_format(fmt):
    """Every label, XML, mask and VTT file of the corpus lies in one of the sources above."""
    roots = [ROOT / src for kind, src in SOURCES if kind == fmt]
    yaml_sources = {r for r in roots if r.is_file()}
    left = [p for p in _fixture_files(fmt)
            if p not in yaml_sources and not any(r in p.parents for r in roots if r.is_dir())
            and not any(p.is_relative_to(r.parent / "data") for r in yaml_sources)]
    assert not left


@requires_real_files
@pytest.mark.parametrize("source, src", [("yolo", "yolo/roboflow-shoe-sole-seg"), ("voc", "voc/datumaro/roboflow_voc"),
                                         ("vtt", "vtt/webvtt-py")])
def test_the_shards_really_run_in_other_processes(source, src, tmp_path, monkeypatch):
    pools = _Pools(monkeypatch)
    report = Converter(concurrency=2, on_error="skip").run(ROOT / src, source, tmp_path / "out", "dataloop")
    assert pools.made == [2] and pools.shards and pools.shards[0] > 1
    assert report.items_in >= pools.shards[0]


@pytest.mark.parametrize("source, src", [*(s for s in SOURCES)] if AVAILABLE else NO_REAL_FILES)
def test_units_are_small_json_values_and_the_context_travels(source, src):
    """A unit names a file (and what a worker needs to read it), never the parsed item; the context pickles."""
    spec = get_format(source)
    try:
        plan = spec.plan(ROOT / src, ConvertOptions(), ConversionReport(on_error="skip"))
    except DlconvertError:
        return  # not a source of this format (DOTA, classification folders): refused before any unit
    for unit in plan.units:
        assert len(json.dumps(unit)) < 600
    assert len(pickle.dumps(plan.context)) < 20_000
    assert pickle.loads(pickle.dumps(plan.context)) is not None or plan.context is None


# ==== YOLO: the task is settled before the shards read ===================================================
def _yolo_dataset(root: Path, lines: list[list[str]], names=("a", "b")) -> Path:
    """``images/train/NNN.png`` (40×20) and ``labels/train/NNN.txt`` with these lines, and data.yaml."""
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    names_yaml = "".join(f"  {i}: {n}\n" for i, n in enumerate(names))
    (root / "data.yaml").write_text(f"path: .\ntrain: images/train\nnames:\n{names_yaml}")
    for index, item in enumerate(lines):
        cv2.imwrite(str(root / "images" / "train" / f"{index:03}.png"), np.zeros((20, 40, 3), np.uint8))
        (root / "labels" / "train" / f"{index:03}.txt").write_text("".join(f"{line}\n" for line in item))
    return root


BOX = "0 0.5 0.5 0.25 0.5"
POLYGON = "1 0.1 0.1 0.9 0.1 0.5 0.9"
BAD_POLYGON = "1 0.1 0.1 7.0 0.1 0.5 0.9"  # a coordinate past 1: a bad record, no polygon read
RECTANGLE = "0 0.25 0.25 0.75 0.25 0.75 0.75 0.25 0.75"  # 9 columns: an upright rectangle in pixels


def _task_written(dst: Path) -> str:
    return json.loads((dst / "labelmap.json").read_text())["extras"]["yolo"]["task"]


@pytest.mark.parametrize("late, expected", [(POLYGON, "segment"), (BAD_POLYGON, "detect"), (RECTANGLE, "obb")])
@pytest.mark.parametrize("target", ["coco", "dataloop"])
def test_the_task_settled_up_front_is_the_one_one_pass_raises(late, expected, target, tmp_path, monkeypatch):
    """A polygon (or rotated box) on the last line of the last file makes the dataset's task; the plan settles it
    before any shard reads, as the one ordered pass (forced here: no witness tried) raises it lazily."""
    src = _yolo_dataset(tmp_path / "src", [[BOX]] * 11 + [[BAD_POLYGON, BOX]] + [[BOX]] * 7 + [[BOX, late]])
    plan = get_format("yolo").plan(src, ConvertOptions(), ConversionReport(on_error="skip"))
    assert not plan.one_pass and plan.labels.extras["yolo"]["task"] == expected
    outcomes = [_outcome(src, "yolo", tmp_path / str(w), target, w, "skip") for w in (1, 2)]
    monkeypatch.setattr(task_scan, "WITNESS_TRIES", 0)  # every such dataset left to one pass: the lazy rule
    assert get_format("yolo").plan(src, ConvertOptions(), ConversionReport(on_error="skip")).one_pass
    outcomes.append(_outcome(src, "yolo", tmp_path / "lazy", target, 2, "skip"))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    same_tree(tmp_path / "1", tmp_path / "2")
    same_tree(tmp_path / "1", tmp_path / "lazy")
    assert _task_written(tmp_path / "2") == expected


def test_a_detect_dataset_needs_no_witness_and_a_pose_dataset_no_pre_pass(tmp_path, monkeypatch):
    read = []
    real = task_scan._label_text
    monkeypatch.setattr(task_scan, "_label_text", lambda path: read.append(path) or real(path))
    src = _yolo_dataset(tmp_path / "detect", [[BOX, BOX]] * 5)
    plan = get_format("yolo").plan(src, ConvertOptions(), ConversionReport())
    assert plan.labels.extras["yolo"]["task"] == "detect" and not plan.one_pass and len(read) == 5
    read.clear()
    plan = get_format("yolo").plan(src, ConvertOptions(yolo_task="segment"), ConversionReport())
    assert plan.labels.extras["yolo"]["task"] == "segment" and not read  # nothing outranks it: no pre-pass


def test_an_obb_dataset_past_the_witnesses_is_read_in_one_process(tmp_path, monkeypatch):
    """Rectangles or polygons: only every 9-column line's pixels tell, so the plan leaves the task to one pass."""
    monkeypatch.setattr(task_scan, "WITNESS_TRIES", 4)
    src = _yolo_dataset(tmp_path / "src", [[RECTANGLE]] * 10)
    plan = get_format("yolo").plan(src, ConvertOptions(), ConversionReport())
    assert plan.one_pass and plan.labels.extras["yolo"]["task"] == "detect"  # raised as the pass reads
    pools = _Pools(monkeypatch)
    two = _outcome(src, "yolo", tmp_path / "two", "coco", 2, "fail")
    assert not pools.made  # no pool: one process
    one = _outcome(src, "yolo", tmp_path / "one", "coco", 1, "fail")
    assert one == two and _task_written(tmp_path / "two") == "obb"
    same_tree(tmp_path / "one", tmp_path / "two")
    counts = []
    for workers in (1, 2):
        out = tmp_path / f"render{workers}"
        counts.append(render_source(src, "yolo", out, ["mask"], workers=workers)[0])
    assert counts[0] == counts[1] and not pools.made
    same_tree(tmp_path / "render1", tmp_path / "render2")


def test_yolo_to_voc_records_the_task_the_whole_dataset_has(tmp_path):
    """The VOC writer copies the label map before it reads the items: it recorded the task of the first items
    ('detect') for a segment dataset; the plan now settles it first."""
    src = _yolo_dataset(tmp_path / "src", [[BOX]] * 3 + [[POLYGON]])
    Converter(concurrency=1).run(src, "yolo", tmp_path / "out", "voc")
    assert _task_written(tmp_path / "out") == "segment"


# ==== a bad file in a worker ================================================================================
def _fails_alike(src: Path, source: str, tmp_path: Path, path: Path, where: str) -> None:
    outcomes = []
    for workers in (1, 2):
        dst = tmp_path / f"out{workers}"
        with pytest.raises(DlconvertError) as caught:
            Converter(concurrency=workers).run(src, source, dst, "coco")
        assert caught.value.path == str(path) and caught.value.where == where
        assert not dst.exists() and not list(tmp_path.glob(f".out{workers}.*"))
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]


def test_a_bad_yolo_line_in_a_worker_stops_the_run_with_its_file_and_line(tmp_path):
    src = _yolo_dataset(tmp_path / "src", [[BOX]] * 9 + [[BOX, BOX, "0 0.5 abc 0.1 0.1"]])
    _fails_alike(src, "yolo", tmp_path, src / "labels" / "train" / "009.txt", "line 3")


def _voc_dataset(root: Path, labels: list[list[str]]) -> Path:
    (root / "Annotations").mkdir(parents=True)
    for index, names in enumerate(labels):
        objects = "".join(f"\n<object><name>{n}</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>{10 + i}</xmax>"
                          f"<ymax>12</ymax></bndbox></object>" for i, n in enumerate(names))
        (root / "Annotations" / f"{index:03}.xml").write_text(
            f"<annotation>\n<filename>{index:03}.jpg</filename><size><width>40</width><height>20</height>"
            f"<depth>3</depth></size>{objects}\n</annotation>")  # object N on line N + 2
    return root


def test_a_bad_voc_file_in_a_worker_stops_the_run_with_its_file_and_place(tmp_path):
    src = _voc_dataset(tmp_path / "src", [["cat"]] * 10)
    last = src / "Annotations" / "009.xml"
    last.write_text(last.read_text().replace("<xmax>10</xmax>", "<xmax>ten</xmax>"))
    _fails_alike(src, "voc", tmp_path, last, "line 3")


def test_a_bad_cue_in_a_worker_stops_the_run_with_its_file_and_line(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for index in range(10):
        (src / f"{index:03}.mp4.vtt").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v bob>Hi.\n")
    last = src / "009.mp4.vtt"
    last.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi.\n\n00:00:03.000 --> 00:00:0x.000\nBye.\n")
    outcomes = []
    for workers in (1, 2):
        dst = tmp_path / f"out{workers}"
        with pytest.raises(DlconvertError) as caught:
            Converter(concurrency=workers).run(src, "vtt", dst, "dataloop")
        assert caught.value.path == str(last) and caught.value.where == "line 6"
        assert not dst.exists() and not list(tmp_path.glob(f".out{workers}.*"))
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]


def test_a_vtt_file_named_without_extension_keeps_its_name(tmp_path):
    """It was read as the item '/.mp3' (the whole name taken for the extension)."""
    (tmp_path / "talk").write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHi.\n")
    items = list(get_format("vtt").read(tmp_path / "talk", ConvertOptions(), ConversionReport()).items)
    assert [c.filename for c in items] == ["/talk.mp3"]


# ==== VOC: labels met in the files keep the one pass's order =================================================
@pytest.mark.parametrize("target", ["voc", "coco", "yolo", "dataloop"])
def test_labels_met_in_voc_files_keep_the_order_of_one_pass(target, tmp_path, monkeypatch):
    """Without a label map a VOC source names its labels as the files are read: a writer that numbers them in
    the order met leaves the job to one ordered pass, so ids, colours and class numbers are the one pass's."""
    src = _voc_dataset(tmp_path / "src", [["zebra"], ["zebra", "apple"], ["mango"]] * 4 + [["kiwi", "apple"]])
    assert get_format("voc").plan(src, ConvertOptions(), ConversionReport()).labels is None
    one = _outcome(src, "voc", tmp_path / "one", target, 1, "fail")
    pools = _Pools(monkeypatch)
    two = _outcome(src, "voc", tmp_path / "two", target, 2, "fail")
    assert one == two
    assert bool(pools.made) == (target != "yolo")  # shards tried; YOLO needs its classes up front: one process
    same_tree(tmp_path / "one", tmp_path / "two")
    if target == "voc":
        names = [line.split(":")[0] for line in (tmp_path / "two" / "labelmap.txt").read_text().splitlines()
                 if line and not line.startswith("#")]
        assert names == ["background", "zebra", "apple", "mango", "kiwi"]


# ==== rendering ================================================================================================
@requires_real_files
@pytest.mark.parametrize("source, src", [("yolo", "yolo/roboflow-shoe-sole-seg"),
                                         ("voc", "voc/icevision/fridge"), ("voc", "voc/icevision/voc")])
def test_rendering_yolo_and_voc_sources_in_shards_writes_the_same_pictures(source, src, tmp_path, monkeypatch):
    pools = _Pools(monkeypatch)
    counts = []
    for workers in (1, 2):
        out = tmp_path / str(workers)
        counts.append(render_source(ROOT / src, source, out, ["instance", "object_id"], workers=workers,
                                    allow_missing_images=True)[0])
    assert pools.made == [2] and pools.shards[-1] > 1
    assert counts[0] == counts[1] and counts[0].pictures > 2
    same_tree(tmp_path / "1", tmp_path / "2")



@pytest.mark.parametrize("target", ["coco", "dataloop"])
def test_two_labelme_files_on_one_image_in_different_shards_are_refused_as_in_one_pass(target, tmp_path,
                                                                                      monkeypatch):
    """The LabelMe reader refuses the second file that annotates an image: an ordered decision, so such a source
    is read in one process, and two workers write and report what one does."""
    src = tmp_path / "src"
    src.mkdir()
    for index in range(6):
        image = "same.jpg" if index in (0, 5) else f"img{index}.jpg"
        (src / f"f{index}.json").write_text(json.dumps({
            "version": "5.4.1", "flags": {}, "imagePath": image, "imageData": None, "imageHeight": 10,
            "imageWidth": 10, "shapes": [{"label": "a", "points": [[1, 1], [5, 5]], "group_id": None,
                                          "shape_type": "rectangle", "flags": {}}]}))
    one = _outcome(src, "labelme", tmp_path / "one", target, 1, "skip")
    pools = _Pools(monkeypatch)
    two = _outcome(src, "labelme", tmp_path / "two", target, 2, "skip")
    assert one == two and not pools.made
    assert [issue["code"] for issue in two["issues"]] == ["labelme.invalid-file"]
    same_tree(tmp_path / "one", tmp_path / "two")
