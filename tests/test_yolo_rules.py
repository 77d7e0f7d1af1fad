"""The YOLO rules a user relies on without seeing them: the report is true (the source's own box is no
approximation, nothing is swapped), a names file pins the classes, a dataset without names says so,
pixels carry no float noise, options the data cannot fill are errors, user-given names stay inside
the output folder, and data.yaml is read with bounds and checked types.

Oracles: COCO's own numbers with the YOLO formulas written out here, the names file's lines, exact
decimal arithmetic (``fractions.Fraction``), and the file system (nothing outside the output folder).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, Ellipse, FormatError, OutputError, Point, Polygon, Pose, Segmentation
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import DlconvertError
from dlconvert.formats import get_format
from dlconvert.formats.dataloop import read_dataloop, write_dataloop
from dlconvert.labels import LabelInfo, LabelMap, PoseTemplate, stable_color

COCO = real_file("coco/icevision/annotations.json")
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def codes(report) -> Counter:
    return Counter((i.kind, i.code) for i in report.issues)


def item(filename: str, width: int | None, height: int | None, *definitions) -> AnnotationCollection:
    collection = AnnotationCollection(filename=filename, width=width, height=height, mimetype="image/png")
    for definition in definitions:
        collection.add(definition, automated=False)
    return collection


def to_yolo(collections, work: Path, *, on_error: str = "fail", labels: LabelMap | None = None, **options):
    """Collections → Dataloop folder → YOLO (options.labels = ``labels``); returns (report, output folder)."""
    write_dataloop(collections, work / "dl")
    report = Converter(on_error=on_error, options=ConvertOptions(labels=labels, **options)).run(
        work / "dl", "dataloop", work / "yolo", "yolo")
    return report, work / "yolo"


def label_lines(folder: Path, name: str = "a") -> list[list[str]]:
    return [line.split() for line in (folder / "labels" / "train" / f"{name}.txt").read_text().splitlines()]


def yolo_folder(root: Path, config: dict | str, lines: str = "0 0.5 0.5 0.5 0.5\n") -> Path:
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.new("L", (264, 100)).save(root / "images" / "train" / "a.png")
    (root / "labels" / "train" / "a.txt").write_text(lines)
    (root / "data.yaml").write_text(config if isinstance(config, str) else yaml.safe_dump(config))
    return root


# ==== the report tells the truth ======================================================================
@requires_real_files
def test_coco_objects_written_as_their_own_bbox_are_not_approximated(tmp_path):
    report = Converter(options=ConvertOptions(yolo_task="detect")).run(COCO, "coco", tmp_path / "yolo", "yolo")
    coco = json.loads(COCO.read_text())
    images = {i["id"]: i for i in coco["images"]}
    objects = [a for a in coco["annotations"] if not a.get("iscrowd")]
    for image_id, image in images.items():
        expected = sorted([(x + w / 2) / image["width"], (y + h / 2) / image["height"], w / image["width"],
                           h / image["height"]] for x, y, w, h in (a["bbox"] for a in objects
                                                                   if a["image_id"] == image_id))
        got = sorted([float(v) for v in line[1:]] for line in label_lines(tmp_path / "yolo",
                                                                            Path(image["file_name"]).stem))
        assert np.allclose(got, expected, atol=0.5e-6 + 1e-12, rtol=0)  # 6 decimals
    assert len(objects) > 30 and report.annotations_out["segment"] == len(objects)
    assert not [i for i in report.issues if i.kind == "approximated"]

    def move(annotation):  # a changed polygon has no declared box any more: its bounds are an approximation
        annotation.annotation_definition.geo = annotation.annotation_definition.geo + 1.0
        return annotation

    changed = Converter(options=ConvertOptions(yolo_task="detect")).run(COCO, "coco", tmp_path / "moved", "yolo",
                                                                       conversion_func=move)
    assert codes(changed)[("approximated", "yolo.polygon-as-box")] == len(objects)


@pytest.mark.parametrize("task", [None, "detect", "obb", "segment"])
def test_an_inverted_box_is_skipped_never_swapped(tmp_path, task):
    # through the Python API (no JSON in between): one pass with a task and labels, else two passes
    inverted = Box(left=50, top=10, right=10, bottom=40, label="x")
    upright = Box(left=10, top=10, right=50, bottom=40, label="x")
    converter = Converter(on_error="skip", options=ConvertOptions(
        yolo_task=task, labels=LabelMap.from_names(["x"]) if task else None))
    converter.save_to_file(tmp_path / "out", "yolo", [item("/a.png", 100, 100, inverted, upright)])
    lines = label_lines(tmp_path / "out")
    assert len(lines) == 1 and len(lines[0]) == (5 if task in (None, "detect") else 9)
    assert [float(v) for v in lines[0][1:3]] == ([0.3, 0.25] if len(lines[0]) == 5 else [0.1, 0.1])
    report = converter.report
    assert {k: n for k, n in codes(report).items() if k[0] == "skipped"} == {("skipped", "yolo.degenerate-shape"): 1}
    assert "inverted" in report.issues[0].message
    assert report.skipped["box"] == 1 and report.annotations_out["box"] == 1


# ==== a names file pins the classes ====================================================================
def names_file(tmp_path: Path, *names: str) -> LabelMap:
    path = tmp_path / "names.txt"
    path.write_text("".join(f"{n}\n" for n in names))
    return LabelMap.load(path)


@pytest.mark.parametrize("task", [None, "detect", "segment"])
def test_a_label_missing_from_a_names_file_is_an_error_never_a_new_class(tmp_path, task):
    labels = names_file(tmp_path, "person", "car")
    collection = item("/a.png", 10, 10, Box(left=1, top=1, right=5, bottom=5, label="car"),
                      Box(left=2, top=2, right=6, bottom=6, label="zebra"))
    with pytest.raises(FormatError, match="label 'zebra' is not in the label map given") as error:
        to_yolo([collection], tmp_path / "fail", labels=labels, yolo_task=task)
    assert error.value.path and error.value.where == "item '/a.png'"
    assert not (tmp_path / "fail" / "yolo").exists()
    report, out = to_yolo([collection], tmp_path / "skip", labels=labels, yolo_task=task, on_error="skip")
    assert {k: n for k, n in codes(report).items() if k[0] == "skipped"} == {("skipped", "yolo.label-not-in-map"): 1}
    assert yaml.safe_load((out / "data.yaml").read_text())["names"] == {0: "person", 1: "car"}
    assert [line[0] for line in label_lines(out)] == ["1"]
    assert report.unbalanced() == {}


def test_a_pose_whose_label_is_missing_from_the_names_file_is_skipped_with_its_box_and_keypoints(tmp_path):
    template = PoseTemplate("t", "person", ["nose", "eye"])
    labels = LabelMap([LabelInfo("cat", 1, stable_color("cat"))], [template]).pin()
    collection = item("/a.png", 10, 10)
    pose = collection.add(Pose(label="person", template_id="t"), object_id=1, automated=False)
    pose.id = "pose-1"
    collection.add(Box(left=1, top=1, right=5, bottom=5, label="person"), object_id=1, automated=False)
    for name, x in (("nose", 2), ("eye", 3)):
        collection.add(Point(x=x, y=2, label=name), parent_id=pose.id, automated=False)
    report, _ = to_yolo([collection], tmp_path, labels=labels, yolo_task="pose", on_error="skip")
    assert codes(report) == Counter({("skipped", "yolo.label-not-in-map"): 4})
    assert report.unbalanced() == {}


def test_label_maps_pin_only_when_the_user_passes_them(tmp_path):
    labels = names_file(tmp_path, "a", "b")
    assert not labels.pinned and labels.pin() is labels and labels.pinned and labels.copy().pinned
    assert not LabelMap.from_names(["a"]).pinned
    # a map a reader found (labelmap.json beside the data) is not pinned: new labels are appended
    collection = item("/a.png", 10, 10, Box(left=1, top=1, right=5, bottom=5, label="zebra"))
    write_dataloop([collection], tmp_path / "dl")
    LabelMap.from_names(["ant"]).save(tmp_path / "dl" / "labelmap.json")
    report = Converter(options=ConvertOptions(yolo_task="detect")).run(tmp_path / "dl", "dataloop",
                                                                       tmp_path / "out", "yolo")
    assert yaml.safe_load((tmp_path / "out" / "data.yaml").read_text())["names"] == {0: "ant", 1: "zebra"}
    assert not report.issues


@requires_real_files
def test_a_pinned_map_gives_the_same_bytes_in_shards_as_in_one_process(tmp_path, monkeypatch):
    from dlconvert import parallel

    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    labels = names_file(tmp_path, "person", "bottle")  # the file has more categories than these
    runs = {}
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        report = Converter(concurrency=workers, on_error="skip", options=ConvertOptions(
            labels=labels, yolo_task="detect")).run(COCO, "coco", out, "yolo")
        runs[workers] = ({str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()},
                         codes(report))
    assert runs[1] == runs[2]
    assert runs[1][1][("skipped", "yolo.label-not-in-map")] > 0
    assert yaml.safe_load(runs[1][0]["data.yaml"])["names"] == {0: "person", 1: "bottle"}


# ==== a dataset without names says so =================================================================
@pytest.mark.parametrize("config", [{"path": ".", "train": "images/train"},
                                    {"path": ".", "train": "images/train", "nc": 3}])
def test_a_dataset_without_names_is_read_as_numbered_classes_and_says_so(tmp_path, config):
    root = yolo_folder(tmp_path / "ds", config, "2 0.5 0.5 0.5 0.5\n")
    report = Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    (collection,) = read_dataloop(tmp_path / "dl")
    assert collection[0].label == "class_2"
    (issue,) = report.issues
    assert (issue.kind, issue.code, issue.path) == ("warning", "yolo.no-names", str(root / "data.yaml"))
    assert "class_0" in issue.message


def test_a_dataset_with_names_says_nothing_about_them(tmp_path):
    root = yolo_folder(tmp_path / "ds", {"path": ".", "train": "images/train", "names": ["a", "b", "c"]})
    assert not Converter().run(root, "yolo", tmp_path / "dl", "dataloop").issues


# ==== pixels without float noise =======================================================================
def test_pixels_are_the_exact_decimals_the_normalised_values_express(tmp_path):
    # 0.1 × 264 = 26.400000000000002 in floating point; the source said 26.4 exactly
    lines = ("0 0.1 0.3 0.2 0.1\n"  # a box: edges cx ± w/2 have one decimal more
             "0 0.1 0.1 0.3 0.1 0.2 0.7\n"
             "0 1.5e-1 0.3 2.5E-2 0.1\n")
    root = yolo_folder(tmp_path / "ds", {"path": ".", "train": "images/train", "names": ["a"]}, lines)
    Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    written = json.loads((tmp_path / "dl" / "json" / "a.json").read_text())["annotations"]
    coordinates = [a["coordinates"] for a in written]

    def exact(value: str, side: int, shift: str = "0") -> float:
        return float(Fraction(value) * side + Fraction(shift) * side)

    assert coordinates[0][0] == {"x": exact("0.1", 264, "-0.1"), "y": exact("0.3", 100, "-0.05"), "z": 0}
    assert coordinates[0][1] == {"x": exact("0.1", 264, "0.1"), "y": exact("0.3", 100, "0.05"), "z": 0}
    assert [[p["x"], p["y"]] for p in coordinates[1][0]] == [[26.4, 10.0], [79.2, 10.0], [52.8, 70.0]]
    assert coordinates[2][0]["x"] == exact("0.15", 264, "-0.0125") == 36.3
    # and back to YOLO, digit for digit
    Converter().run(tmp_path / "dl", "dataloop", tmp_path / "back", "yolo")
    assert label_lines(tmp_path / "back")[1] == "0 0.100000 0.100000 0.300000 0.100000 0.200000 0.700000".split()


def test_values_beyond_what_a_double_holds_are_kept_as_read(tmp_path):
    # 17 significant digits (as Roboflow writes): no decimal rounding can be exact, so none is done
    root = yolo_folder(tmp_path / "ds", {"path": ".", "train": "images/train", "names": ["a"]},
                       "0 0.06327812499999999 0.5381687500000001 0.2 0.5 0.3 0.9\n")
    Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    (annotation,) = json.loads((tmp_path / "dl" / "json" / "a.json").read_text())["annotations"]
    assert annotation["coordinates"][0][0] == {"x": 0.06327812499999999 * 264, "y": 0.5381687500000001 * 100}


# ==== options the data cannot fill =====================================================================
def test_the_pose_task_on_data_without_keypoints_is_an_error(tmp_path):
    collection = item("/a.png", 10, 10, Box(left=1, top=1, right=5, bottom=5, label="car"))
    with pytest.raises(FormatError, match="the pose task needs keypoints"):
        to_yolo([collection], tmp_path / "pose", yolo_task="pose")
    assert not (tmp_path / "pose" / "yolo").exists()


def test_a_default_task_never_writes_a_pose_dataset_without_keypoints(tmp_path):
    # a pose with no keypoint at all and a polygon: the default task is the richest other one (segment)
    collection = item("/a.png", 10, 10, Polygon(geo=[[1, 1], [8, 1], [4, 8]], label="road"))
    collection.add(Pose(label="person"), object_id=1, automated=False)
    collection.add(Box(left=1, top=1, right=5, bottom=5, label="person"), object_id=1, automated=False)
    report, out = to_yolo([collection], tmp_path, on_error="skip")
    config = yaml.safe_load((out / "data.yaml").read_text())
    assert "kpt_shape" not in config
    assert sorted(len(line) for line in label_lines(out)) == [7, 9]  # the polygon, the box as 4 corners
    assert codes(report)[("skipped", "yolo.unsupported-type")] == 1  # the pose


# ==== names that become paths stay inside the output folder ===========================================
@pytest.mark.parametrize("split", ["../../../x", "/tmp/escape", "a/b", "..", "", "a\\b"])
def test_a_split_that_is_no_folder_name_is_refused_before_anything_is_written(tmp_path, split):
    collection = item("/a.png", 10, 10, Box(left=1, top=1, right=5, bottom=5, label="car"))
    before = sorted(p for p in tmp_path.parent.rglob("*") if "x" == p.name)
    with pytest.raises(DlconvertError, match="split") as error:
        to_yolo([collection], tmp_path / "w", split=split)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "w" / "yolo").exists()
    assert sorted(p for p in tmp_path.parent.rglob("*") if "x" == p.name) == before
    assert not Path("/tmp/escape").exists()


def test_an_item_split_that_is_no_folder_name_is_a_bad_item(tmp_path):
    collections = []
    for name, split in (("a", "../../outside"), ("b", 7), ("c", "val")):
        collection = item(f"/{name}.png", 10, 10, Box(left=1, top=1, right=5, bottom=5, label="car"))
        raw = collection.to_json()
        raw["metadata"]["user"] = {"yolo": {"split": split}}
        collections.append(AnnotationCollection.from_json(raw))
    report, out = to_yolo(collections, tmp_path, on_error="skip")
    assert codes(report) == Counter({("skipped", "yolo.unwritable-item"): 2, ("failed", "yolo.unwritable-item"): 2})
    assert sorted(p.relative_to(out).as_posix() for p in (out / "labels").rglob("*.txt")) == ["labels/val/c.txt"]
    assert not (tmp_path / "outside").exists()
    with pytest.raises(OutputError, match="must be one folder name") as error:
        to_yolo(collections, tmp_path / "fail")
    assert error.value.path == str(tmp_path / "fail" / "dl" / "json" / "a.json")


# ==== data.yaml: bounded, typed ========================================================================
def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 12):  # 10^12 names once expanded, a few hundred bytes on disk
        bomb.append(f"{chr(97 + level)}: &{chr(97 + level)} [{', '.join([f'*{chr(96 + level)}'] * 10)}]")
    text = "\n".join(bomb) + "\npath: .\ntrain: images/train\nnames: *l\n"
    root = yolo_folder(tmp_path / "ds", text)
    started = time.monotonic()
    with pytest.raises(FormatError, match="expands") as error:
        Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    assert time.monotonic() - started < 10
    assert error.value.path == str(root / "data.yaml")


@pytest.mark.parametrize("text, message", [
    ("a: &a [*a]\nnames: *a\n", "refers to itself"),
    ("names: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply|expands|invalid YAML"),
])
def test_recursive_or_deep_yaml_is_a_one_line_error(tmp_path, text, message):
    root = yolo_folder(tmp_path / "ds", text)
    with pytest.raises(FormatError, match=message) as error:
        Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    assert error.value.path == str(root / "data.yaml") and "\n" not in str(error.value)


def test_a_huge_data_yaml_is_refused_unread(tmp_path):
    root = yolo_folder(tmp_path / "ds", {"path": ".", "train": "images/train", "names": ["a"]})
    with open(root / "data.yaml", "a") as handle:
        handle.write("#" * (17 * 2 ** 20) + "\n")
    with pytest.raises(FormatError, match="bytes"):
        Converter().run(root, "yolo", tmp_path / "dl", "dataloop")


@pytest.mark.parametrize("extra, where", [
    ({"flip_idx": "left-right"}, "/flip_idx"),
    ({"flip_idx": [0, 0]}, "/flip_idx"),
    ({"kpt_names": "nose"}, "/kpt_names"),
    ({"kpt_names": {0: ["nose"]}}, "/kpt_names/0"),
    ({"nc": "3"}, "/nc"),
    ({"path": 5}, "/path"),
])
def test_optional_fields_of_a_wrong_type_are_reported_not_guessed(tmp_path, extra, where):
    config = {"path": ".", "train": "images/train", "names": ["a", "b", "c"], "kpt_shape": [2, 3], **extra}
    root = yolo_folder(tmp_path / "ds", config, "0 0.5 0.5 0.2 0.2 0.5 0.5 2 0.4 0.4 1\n")
    with pytest.raises(FormatError) as error:
        Converter().run(root, "yolo", tmp_path / "fail", "dataloop")
    assert (error.value.path, error.value.where) == (str(root / "data.yaml"), where)
    report = Converter(on_error="skip").run(root, "yolo", tmp_path / "skip", "dataloop")
    assert [(i.code, i.where) for i in report.issues if i.kind == "failed"] == [("yolo.invalid-config", where)]
    assert report.annotations_out["pose"] == 1  # the field left out, the data read


@pytest.mark.parametrize("names, where", [([["a"], "b"], "/names/0"), (["a", None], "/names/1"),
                                          ({0: "a", 1.0: "b"}, "/names")])
def test_names_of_a_wrong_type_are_an_error(tmp_path, names, where):
    text = yaml.safe_dump({"path": ".", "train": "images/train"}) + yaml.dump({"names": names})
    root = yolo_folder(tmp_path / "ds", text)
    with pytest.raises(FormatError) as error:
        Converter().run(root, "yolo", tmp_path / "dl", "dataloop")
    assert (error.value.path, error.value.where) == (str(root / "data.yaml"), where)


@pytest.mark.parametrize("field, value", [("coco_id", "7"), ("supercategory", 3), ("color", "reddish"),
                                          ("extras", [1])])
def test_a_labelmap_field_of_a_wrong_type_is_an_error(tmp_path, field, value):
    data = LabelMap.from_names(["a"]).to_json()
    data["labels"][0][field] = value
    with pytest.raises(FormatError) as error:
        LabelMap.from_json(data, path="labelmap.json")
    assert error.value.where == f"/labels/0/{field}"


# ==== one capability table =============================================================================
def test_the_format_spec_derives_from_the_capability_table():
    from dlconvert.formats.yolo.capabilities import approximates, holds

    spec = get_format("yolo")
    assert spec.holds == holds() == {"box", "segment", "pose", "point"}
    assert spec.approximates == approximates() and "binary" in spec.approximates
    assert {"yolo_task", "precision", "split", "images_mode", "images", "labels"} <= spec.options
    assert "data.yaml" in spec.looks_for


@pytest.mark.parametrize("task", ["detect", "segment", "obb", "pose"])
def test_the_writer_reports_what_the_table_says(tmp_path, task):
    from dlconvert.formats.yolo.capabilities import CAPABILITIES

    mask = np.zeros((20, 20), dtype=bool)
    mask[2:9, 3:12] = True
    shapes = {"box": Box(left=1, top=1, right=9, bottom=9, label="a"),
              "box (rotated)": Box(left=1, top=1, right=9, bottom=9, angle=30, label="a"),
              "segment": Polygon(geo=[[1, 1], [9, 1], [5, 9]], label="a"),
              "binary": Segmentation(geo=mask, label="a"),
              "ellipse": Ellipse(x=10, y=10, rx=4, ry=2, label="a")}
    template = PoseTemplate("t", "p", ["k"])
    for kind, definition in shapes.items():
        collection = item("/a.png", 20, 20, definition)
        pose = collection.add(Pose(label="p", template_id="t"), object_id=9, automated=False)
        collection.add(Point(x=3, y=3, label="k"), parent_id=pose.id, automated=False)
        labels = LabelMap([LabelInfo("a", 1, (1, 2, 3)), LabelInfo("p", 2, (1, 2, 3))], [template])
        write_dataloop([collection], tmp_path / kind / "dl")
        labels.save(tmp_path / kind / "dl" / "labelmap.json")
        report = Converter(on_error="skip", options=ConvertOptions(yolo_task=task)).run(
            tmp_path / kind / "dl", "dataloop", tmp_path / kind / "yolo", "yolo")
        way = CAPABILITIES[kind].ways[task]
        mine = [i for i in report.issues if i.annotation_type == definition.type and i.code != "yolo.clipped"]
        if way.verdict == "exact":
            assert mine == [], (kind, task)
        else:
            assert [(i.kind, i.code) for i in mine] == [
                ("approximated" if way.writes else "skipped", way.code)], (kind, task)


# ==== what a line cannot hold besides the shape ========================================================
def test_attributes_a_line_cannot_hold_are_reported_on_the_written_annotation(tmp_path):
    collection = item("/a.png", 10, 10, Box(left=1, top=1, right=5, bottom=5, label="car", attributes={"color": "red"}),
                      Box(left=2, top=2, right=6, bottom=6, label="car"))
    pose = collection.add(Pose(label="person", template_id="t"), object_id=1, automated=False)
    pose.id = "pose-1"
    collection.add(Box(left=1, top=1, right=9, bottom=9, label="person"), object_id=1, automated=False)
    for name, value in (("nose", "occluded"), ("eye", "visible")):  # "occluded" is written as v 1: "not-visible"
        collection.add(Point(x=3, y=3, label=name, attributes={"visibility": value}), parent_id="pose-1",
                       automated=False)
    labels = LabelMap([LabelInfo(n, i, (1, 2, 3)) for i, n in enumerate(["car", "person"], 1)],
                      [PoseTemplate("t", "person", ["nose", "eye"])])
    report, _ = to_yolo([collection], tmp_path, labels=labels, yolo_task="pose")
    dropped = [(i.label, i.message) for i in report.issues if i.code == "yolo.attributes-dropped"]
    assert dropped == [("car", "YOLO lines hold no attributes: {'color': 'red'} come back as {}"),
                       ("nose", "YOLO lines hold no attributes: {'visibility': 'occluded'} come back as "
                                "{'visibility': 'not-visible'}")]


@pytest.mark.parametrize("task", [None, "detect", "segment", "obb", "pose"])
def test_the_bundled_sample_verifies_via_every_yolo_task(sample_dir, task):
    from dlconvert.verify import verify

    result = verify(sample_dir, "dataloop", "yolo", options=ConvertOptions(yolo_task=task))
    assert not result.lost, result.differences


# ==== what reads back is what the report says ==========================================================
def test_an_item_path_that_starts_with_the_split_name_reads_back_as_itself(tmp_path):
    collection = item("/train/a.png", 10, 10, Box(left=1, top=1, right=5, bottom=5, label="car"))
    _, out = to_yolo([collection], tmp_path)
    assert (out / "labels" / "train" / "train" / "a.txt").is_file()
    Converter().run(out, "yolo", tmp_path / "back", "dataloop")
    assert [c.filename for c in read_dataloop(tmp_path / "back")] == ["/train/a.png"]


def test_a_segment_dataset_reads_its_4_point_lines_back_as_polygons(tmp_path):
    # a box written as 4 corners and a genuine 4-point rectangle polygon: both come back as polygons, as the
    # report says for the box (labelmap.json records the task; another tool's 9-column lines stay obb-or-polygon)
    box = Box(left=1, top=1, right=5, bottom=5, label="car")
    square = Polygon(geo=[[6, 1], [9, 1], [9, 4], [6, 4]], label="road")
    report, out = to_yolo([item("/a.png", 10, 10, box, square)], tmp_path, yolo_task="segment")
    assert codes(report) == Counter({("approximated", "yolo.box-as-polygon"): 1})
    Converter().run(out, "yolo", tmp_path / "back", "dataloop")
    (back,) = read_dataloop(tmp_path / "back")
    assert [a.type for a in back] == ["segment", "segment"]


def coco_file(tmp_path: Path, annotation: dict, categories: list | None = None) -> Path:
    source = tmp_path / "coco.json"
    source.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg", "width": 200, "height": 100}],
                                  "categories": categories or [{"id": 3, "name": "car"}],
                                  "annotations": [{"id": 7, "image_id": 1, "category_id": 3, "iscrowd": 0,
                                                   **annotation}]}))
    return source


def test_obb_writes_a_coco_object_whose_rectangle_is_upright_as_its_own_bbox(tmp_path):
    # a rectangle with one corner cut: its smallest rectangle is its upright bounds, COCO's bbox
    source = coco_file(tmp_path, {"bbox": [10.0, 20.0, 40.0, 30.0], "area": 1150.0,
                                  "segmentation": [[10.0, 20.0, 50.0, 20.0, 50.0, 50.0, 20.0, 50.0, 10.0, 45.0]]})
    report = Converter(options=ConvertOptions(yolo_task="obb")).run(source, "coco", tmp_path / "yolo", "yolo")
    assert not [i for i in report.issues if i.kind == "approximated"]
    (line,) = label_lines(tmp_path / "yolo")
    assert np.allclose([float(v) for v in line[1:]], [0.05, 0.2, 0.25, 0.2, 0.25, 0.5, 0.05, 0.5], atol=5e-7)
    # a slanted polygon's rectangle is rotated: that is an approximation
    slanted = coco_file(tmp_path, {"bbox": [10.0, 10.0, 40.0, 40.0], "area": 400.0,
                                   "segmentation": [[30.0, 10.0, 50.0, 30.0, 30.0, 50.0, 10.0, 30.0]]})
    report = Converter(options=ConvertOptions(yolo_task="obb")).run(slanted, "coco", tmp_path / "obb2", "yolo")
    assert codes(report) == Counter({("approximated", "yolo.polygon-as-obb"): 1})


def test_a_pose_box_from_a_coco_segment_is_its_own_bbox(tmp_path):
    source = coco_file(tmp_path, {"bbox": [10.0, 20.0, 100.0, 50.0], "area": 100.0, "num_keypoints": 1,
                                  "segmentation": [[30.0, 30.0, 60.0, 30.0, 60.0, 50.0]],
                                  "keypoints": [40, 40, 2]},
                       [{"id": 3, "name": "person", "keypoints": ["nose"], "skeleton": []}])
    report = Converter().run(source, "coco", tmp_path / "yolo", "yolo")
    assert not [i for i in report.issues if i.code == "yolo.pose-box-from-shape"]
    (line,) = label_lines(tmp_path / "yolo")
    assert np.allclose([float(v) for v in line[1:5]], [60 / 200, 45 / 100, 0.5, 0.5], atol=5e-7)


def test_an_output_without_image_items_reads_back_as_no_item(tmp_path):
    video = AnnotationCollection(filename="/v.mp4", width=64, height=48, mimetype="video/mp4", fps=25)
    video.add(Box(left=1, top=1, right=5, bottom=5, label="car"), object_id=1, frame_num=0)
    report, out = to_yolo([video], tmp_path, on_error="skip")
    assert not (out / "labels").exists()
    dataset = get_format("yolo").read(out, ConvertOptions(), report.blank())
    assert list(dataset.items) == [] and dataset.declared_empty
