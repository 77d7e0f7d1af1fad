"""``dlconvert info`` and ``validate`` on every format: each reads SRC through the reader of ``--from``,
lists every file or record it cannot read with its place, checks what parsing does not (duplicates,
shapes outside the image …), counts YOLO label files as Ultralytics does, and refuses a path that
holds nothing of the named format.

Expected counts come from the files themselves, read here with the standard library.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from realfiles import real_file, requires_real_files

from dlconvert.cli import main
from dlconvert.validate import check_source

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# ==== every format, through its own reader ===========================================================
def _coco_images(path: Path) -> int:
    return len(json.loads(path.read_text(encoding="utf-8"))["images"])


def _files(folder: Path, pattern: str) -> int:
    return sum(1 for p in folder.rglob(pattern) if p.is_file())


def _yolo_images(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and "images" in p.parts)


REAL_SOURCES = [
    ("coco", "coco/icevision/annotations.json", _coco_images),
    ("coco", "coco/icevision/keypoints_annotations.json", _coco_images),
    ("voc", "voc/icevision/voc", lambda p: _files(p, "*.xml")),
    ("voc", "dataloop/dtlpy-converters-examples/voc/voc", lambda p: _files(p, "*.xml")),
    ("yolo", "yolo/roboflow-shoe-sole-seg", _yolo_images),
    ("yolo", "yolo/cvat-datumaro/yolov8_pose", _yolo_images),
    ("vtt", "vtt/dtlpy-converters", lambda p: _files(p, "*.vtt")),
    ("dataloop", "dataloop/dtlpy-converters-examples/voc/dataloop", lambda p: _files(p, "*.json")),
]


@requires_real_files
@pytest.mark.parametrize(("fmt", "name", "count"), REAL_SOURCES, ids=[f"{f}:{n}" for f, n, _ in REAL_SOURCES])
def test_validate_reads_every_format_with_its_own_reader(cli_runner, fmt, name, count):
    path = real_file(name)
    result = cli_runner.invoke(main, ["validate", "--from", fmt, str(path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert _lines(result.stdout)[-1] == f"{count(path)} items checked: 0 errors, 0 warnings"


@requires_real_files
@pytest.mark.parametrize(("fmt", "name", "count"), REAL_SOURCES, ids=[f"{f}:{n}" for f, n, _ in REAL_SOURCES])
def test_info_reads_every_format_with_its_own_reader(cli_runner, fmt, name, count):
    path = real_file(name)
    result = cli_runner.invoke(main, ["info", "--json", "--from", fmt, str(path)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["format"] == fmt and summary["items"] == count(path) and summary["problems"] == []
    assert (summary["label_files"] is not None) == (fmt == "yolo")


@requires_real_files
def test_info_counts_what_a_coco_file_holds(cli_runner):
    path = real_file("coco/icevision/annotations.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    result = cli_runner.invoke(main, ["info", "--from", "coco", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    annotated = len({a["image_id"] for a in document["annotations"]})
    assert lines[0] == f"items:        {len(document['images'])} ({annotated} annotated)"
    assert lines[1] == f"annotations:  {len(document['annotations'])}"


# ==== YOLO: Ultralytics' label-file counts ==========================================================
def _label_counts(root: Path) -> dict[str, int]:
    """found / missing / empty, as Ultralytics counts them: per image, the label file of its images/ folder."""
    counts = {"found": 0, "missing": 0, "empty": 0}
    for image in (p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and "images" in p.parts):
        parts = list(image.parts)
        index = len(parts) - 1 - parts[::-1].index("images")
        label = Path(*parts[:index], "labels", *parts[index + 1:]).with_suffix(".txt")
        if not label.is_file():
            counts["missing"] += 1
            continue
        counts["found"] += 1
        counts["empty"] += not label.read_text(encoding="utf-8").strip()
    return counts


@pytest.fixture
def shoe_soles(tmp_path) -> Path:
    """A copy of a real Roboflow YOLOv8 segmentation export (its empty label file included)."""
    root = tmp_path / "shoes"
    shutil.copytree(real_file("yolo/roboflow-shoe-sole-seg"), root)
    return root


@requires_real_files
def test_validate_a_yolo_folder_with_one_corrupt_label_names_it(cli_runner, shoe_soles):
    label = sorted((shoe_soles / "test" / "labels").glob("*.txt"))[0]
    lines = label.read_text(encoding="utf-8").splitlines()
    label.write_text("\n".join([*lines, "0 0.5 0.5 0.2", "7 0.1 0.1 0.2 0.2"]) + "\n", encoding="utf-8")
    missing = sorted((shoe_soles / "valid" / "labels").glob("*.txt"))[0]
    missing.unlink()
    expected = _label_counts(shoe_soles)
    assert expected["missing"] == 1 and expected["empty"] == 1

    result = cli_runner.invoke(main, ["validate", "--from", "yolo", str(shoe_soles)])
    assert result.exit_code == 1
    out = _lines(result.stdout)
    assert out[0].startswith(f"error: {label}:line {len(lines) + 1}: ")
    assert out[1].startswith(f"error: {label}:line {len(lines) + 2}: ") and "class 7" in out[1]
    found, missing, empty = expected["found"], expected["missing"], expected["empty"]
    assert out[2] == f"label files: {found} found, {missing} missing, {empty} empty, 1 corrupt; 0 images not found"
    assert out[3] == f"{expected['found'] + expected['missing']} items checked: 2 errors, 0 warnings"
    assert result.stderr == ""


@requires_real_files
def test_validate_json_lists_every_problem_and_the_counts(cli_runner, shoe_soles):
    label = sorted((shoe_soles / "train" / "labels").glob("*.txt"))[-1]
    label.write_text(label.read_text(encoding="utf-8") + "\n0 1 2\n", encoding="utf-8")
    result = cli_runner.invoke(main, ["validate", "--json", "--from", "yolo", str(shoe_soles)])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["format"] == "yolo" and document["errors"] == 1 and document["warnings"] == 0
    assert document["label_files"]["corrupt"] == 1
    [problem] = document["problems"]
    assert problem["path"] == str(label) and problem["where"].startswith("line ")
    assert problem["severity"] == "error" and problem["code"] == "yolo.invalid-line"


def test_a_label_file_without_its_image_is_listed(cli_runner, tmp_path):
    from PIL import Image

    root = tmp_path / "yolo"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    Image.new("RGB", (20, 10)).save(root / "images" / "train" / "a.jpg")
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    (root / "labels" / "train" / "ghost.txt").write_text("0 0.5 0.5 0.2 0.2\n", encoding="utf-8")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nnames: [cat]\n", encoding="utf-8")
    result = cli_runner.invoke(main, ["validate", "--from", "yolo", str(root)])
    assert result.exit_code == 1
    out = _lines(result.stdout)
    assert out[0].startswith(f"error: {root / 'labels' / 'train' / 'ghost.txt'}: label file has no image")
    assert out[1] == "label files: 1 found, 0 missing, 0 empty, 0 corrupt; 1 images not found"


# ==== what parsing does not check ====================================================================
def _dataloop_item(root: Path, annotations: list[dict], name: str = "a") -> Path:
    (root / "json").mkdir(parents=True, exist_ok=True)
    item = {"filename": f"/{name}.jpg", "metadata": {"system": {"width": 100, "height": 50, "mimetype": "image/jpeg"}},
            "annotations": annotations}
    path = root / "json" / f"{name}.json"
    path.write_text(json.dumps(item), encoding="utf-8")
    return path


def _box(left, top, right, bottom, label="car", **extra) -> dict:
    return {"type": "box", "label": label, "coordinates": [{"x": left, "y": top}, {"x": right, "y": bottom}], **extra}


def test_validate_warns_about_duplicates_and_shapes_outside_the_image(cli_runner, tmp_path):
    root = tmp_path / "export"
    path = _dataloop_item(root, [_box(1, 1, 10, 10), _box(1, 1, 10, 10), _box(90, 40, 130, 49, "truck"),
                                 _box(5, 5, 6, 6, "dog")])
    result = cli_runner.invoke(main, ["validate", str(root)])
    assert result.exit_code == 0, result.output  # warnings only
    assert _lines(result.stdout) == [
        f"warning: {path}:/annotations/1: the same box 'car' as annotation 1 of this item (a duplicate)",
        f"warning: {path}:/annotations/2/coordinates: box reaches outside the 100×50 image (x 90 to 130, y 40 to 49)",
        "1 items checked: 0 errors, 2 warnings",
    ]
    strict = cli_runner.invoke(main, ["validate", "--strict", str(root)])
    assert strict.exit_code == 1


def test_check_source_places_a_coco_problem_by_its_record(tmp_path):
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50}],
                "categories": [{"id": 1, "name": "car"}],
                "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [10, 10, 0, 5]},
                                {"id": 8, "image_id": 1, "category_id": 1, "bbox": "wide"},
                                {"id": 9, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}]}
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = check_source(path, "coco")
    assert result.summary.items == 1 and result.summary.annotations == 2
    errors = [str(p) for p in result.problems if p.severity == "error"]
    assert errors == [f"error: {path}:/annotations/1/bbox: bbox must be 4 finite numbers [x, y, width, height]"]
    [warning] = [p for p in result.problems if p.severity == "warning"]
    assert warning.path == str(path) and "7" in warning.where and "no area" in warning.message


def test_validate_lists_every_bad_vtt_cue_and_goes_on(cli_runner, tmp_path):
    good = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n"
    bad = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nfine\n\n00:00:0x.000 --> 00:00:02.000\nbroken\n\nnot a cue\n"
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.vtt").write_text(good, encoding="utf-8")
    (tmp_path / "subs" / "b.vtt").write_text(bad, encoding="utf-8")
    result = cli_runner.invoke(main, ["validate", "--from", "vtt", str(tmp_path / "subs")])
    assert result.exit_code == 1
    out = _lines(result.stdout)
    b = tmp_path / "subs" / "b.vtt"
    assert [line.split(": ")[1] for line in out[:2]] == [f"{b}:line 6", f"{b}:line 9"]
    assert out[-1] == "2 items checked: 2 errors, 0 warnings"


# ==== a path that holds nothing of the named format ===================================================
@pytest.mark.parametrize("command", ["info", "validate"])
@pytest.mark.parametrize(("fmt", "layout", "says"), [
    ("dataloop", {"Annotations/a.xml": "<annotation/>"}, None),
    ("voc", {"labels/a.txt": "0 0.5 0.5 0.1 0.1\n"}, None),
    ("vtt", {"a.json": "{}"}, None),
    ("coco", {}, "expected one COCO JSON file"),  # the readers that look for one thing say what themselves
    ("yolo", {}, "found no YOLO label files and no images"),
])
def test_a_path_without_anything_of_the_format_is_an_error(cli_runner, tmp_path, command, fmt, layout, says):
    from dlconvert.formats import get_format

    root = tmp_path / "src"
    root.mkdir()
    for relative, text in layout.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    result = cli_runner.invoke(main, [command, "--from", fmt, str(root)])
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    [line] = _lines(result.stderr)
    assert line.startswith(f"error: {root}: ")
    assert (says or get_format(fmt).looks_for) in line
    assert "Traceback" not in result.output


def test_a_folder_of_images_is_not_a_yolo_dataset(cli_runner, tmp_path):
    from PIL import Image

    root = tmp_path / "photos"
    root.mkdir()
    for name in ("a.jpg", "b.jpg"):
        Image.new("RGB", (8, 8)).save(root / name)
    result = cli_runner.invoke(main, ["validate", "--from", "yolo", str(root)])
    assert result.exit_code == 1
    [line] = _lines(result.stderr)
    assert line.startswith(f"error: {root}: found 2 images but no yolo label files and no class names")


def test_an_empty_dataloop_output_is_valid(cli_runner, tmp_path):
    from dlconvert.converter import Converter

    source = tmp_path / "empty"
    source.mkdir()
    (source / "labelmap.json").write_text(json.dumps({"labels": [{"name": "cat", "instance_id": 1}]}), "utf-8")
    Converter().run(source, "dataloop", tmp_path / "out", "dataloop")
    for command in ("validate", "info"):
        result = cli_runner.invoke(main, [command, str(tmp_path / "out")])
        assert result.exit_code == 0, result.output
    assert _lines(cli_runner.invoke(main, ["validate", str(tmp_path / "out")]).stdout) == [
        "0 items checked: 0 errors, 0 warnings"]


def test_info_lists_unreadable_files_and_still_counts_the_rest(cli_runner, tmp_path, sample_dir):
    root = tmp_path / "mixed"
    shutil.copytree(sample_dir / "json", root / "json")
    (root / "json" / "cut.json").write_bytes(b"{")
    result = cli_runner.invoke(main, ["info", str(root)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "items:        5 (4 annotated)"
    assert result.stderr.splitlines() == [
        f"error: {root / 'json' / 'cut.json'}:line 1 column 2: invalid JSON: unexpected end of data"]
    as_json = cli_runner.invoke(main, ["info", "--json", str(root)])
    assert as_json.exit_code == 1 and as_json.stderr == result.stderr
    [problem] = json.loads(as_json.stdout)["problems"]
    assert problem["path"] == str(root / "json" / "cut.json") and problem["where"] == "line 1 column 2"
