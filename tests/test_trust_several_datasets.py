"""A folder of several datasets of one format is not one dataset: ``detect`` (and ``convert``, ``info``, ``read``
with the format detected) says so plainly, naming them, suggests pointing at one, and exits as a data error.
YOLO: folders with their own data.yaml / obj.data (CVAT's and Datumaro's folders of exports), dataset YAMLs
side by side; VOC: devkit trees side by side (the reader refuses them too); Dataloop: exports side by side; CVAT:
exports in sub-folders of a folder with no CVAT file of its own (one is named too). Kept as they were: a Roboflow YOLO
export's splits without data.yaml, loose image/label folders, and COCO folders of several files (one dataset
with splits).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from realfiles import real_file, requires_real_files

import dlconvert
from dlconvert import Converter
from dlconvert.cli import main
from dlconvert.detection import detect_format
from dlconvert.errors import FormatError, NotADatasetError

CVAT_YOLO = "yolo/cvat-datumaro"  # 8 YOLOv8 exports side by side, each with its data.yaml


def _datasets_with_a_config(folder: Path) -> list[str]:
    return sorted(p.parent.relative_to(folder).as_posix() for p in folder.rglob("data.yaml"))


@requires_real_files
def test_detect_names_the_yolo_datasets_of_a_folder_and_exits_1(cli_runner):
    folder = real_file(CVAT_YOLO)
    expected = _datasets_with_a_config(folder)
    assert len(expected) == 8
    found = detect_format(folder)
    assert found.format is None and found.matches == {}
    message = found.refusals["yolo"]
    assert f"a folder of {len(expected)} YOLO datasets" in message and "point at one of them" in message
    assert all(name in message for name in sorted(expected, key=lambda n: (n.count("/"), n))[:4])
    result = cli_runner.invoke(main, ["detect", str(folder)])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"{folder}: not one dataset dlconvert reads"
    assert "yolo: not a dataset: a folder of 8 YOLO datasets" in result.stdout


@requires_real_files
@pytest.mark.parametrize("command", [["convert", "{src}", "{dst}", "--to", "coco"], ["info", "{src}"],
                                     ["validate", "{src}"]])
def test_commands_detecting_the_format_refuse_it_in_one_line(cli_runner, tmp_path, command):
    folder = real_file(CVAT_YOLO)
    result = cli_runner.invoke(main, [a.format(src=folder, dst=tmp_path / "out") for a in command])
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {folder}: a folder of 8 YOLO datasets (") and "point at one" in line
    with pytest.raises(FormatError, match="a folder of 8 YOLO datasets"):
        dlconvert.read(folder)


@requires_real_files
def test_each_dataset_of_the_folder_is_still_detected_and_read(cli_runner, tmp_path):
    one = real_file(CVAT_YOLO) / "yolov8_detection"
    assert detect_format(one).format == "yolo"
    result = cli_runner.invoke(main, ["convert", str(one), str(tmp_path / "out"), "--to", "coco"])
    assert result.exit_code == 0, result.output


@requires_real_files
def test_dataset_yamls_side_by_side_are_several_datasets():
    folder = real_file("yolo/dagshub/res")
    yamls = sorted(p.name for p in folder.glob("*.yaml"))
    assert len(yamls) == 3
    message = detect_format(folder).refusals["yolo"]
    assert all(name in message for name in yamls) and "point at the one you mean" in message
    assert all(detect_format(folder / name).format == "yolo" for name in yamls)


def _yolo_split(folder: Path, name: str = "a") -> None:
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir(parents=True)
    from PIL import Image

    Image.new("RGB", (8, 6)).save(folder / "images" / f"{name}.jpg")
    (folder / "labels" / f"{name}.txt").write_text("0 0.5 0.5 0.25 0.25\n", encoding="utf-8")


def test_two_configured_yolo_datasets_in_a_folder_are_refused(tmp_path):
    for name in ("cats", "dogs"):
        _yolo_split(tmp_path / name)
        (tmp_path / name / "data.yaml").write_text(f"names: [{name}]\ntrain: images\nval: images\n", encoding="utf-8")
    found = detect_format(tmp_path)
    assert found.format is None and "a folder of 2 YOLO datasets (cats, dogs)" in found.refusals["yolo"]
    assert detect_format(tmp_path / "cats").format == "yolo"


def test_splits_and_loose_folders_without_a_configuration_stay_one_dataset(tmp_path):
    roboflow = tmp_path / "roboflow"  # train/ valid/ test/, each with images/ and labels/, data.yaml removed
    for split in ("train", "valid", "test"):
        _yolo_split(roboflow / split, split)
    loose = tmp_path / "loose"  # two image/label folders, no YAML: read as one folder of label files
    for part in ("day", "night"):
        _yolo_split(loose / part, part)
    for folder, items in ((roboflow, 3), (loose, 2)):
        assert detect_format(folder).format == "yolo", folder
        assert len(list(dlconvert.read(folder))) == items


@requires_real_files
def test_voc_trees_side_by_side_are_refused_by_detect_as_by_the_reader(tmp_path):
    folder = real_file("voc/icevision")
    trees = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert trees == ["fridge", "voc"]
    found = detect_format(folder)
    assert found.format is None
    assert found.refusals["voc"].startswith("a folder of 2 VOC devkit trees (fridge, voc)")
    with pytest.raises(FormatError, match="2 VOC devkit trees"):
        dlconvert.read(folder, format="voc")  # the reader's own refusal
    shutil.copytree(folder / "voc", tmp_path / "VOCdevkit" / "VOC2012")  # one tree: read as it
    assert detect_format(tmp_path).format == "voc"


def test_a_coco_folder_of_several_files_is_still_one_dataset_with_splits(tmp_path):
    for split in ("train", "val"):
        document = {"images": [{"id": 1, "file_name": f"{split}.jpg", "width": 4, "height": 4}], "annotations": [],
                    "categories": [{"id": 1, "name": "cat"}]}
        (tmp_path / f"instances_{split}.json").write_text(json.dumps(document), encoding="utf-8")
    assert detect_format(tmp_path).format == "coco"
    assert len(list(dlconvert.read(tmp_path))) == 2


@requires_real_files
def test_naming_yolo_on_a_folder_of_several_yolo_datasets_says_so_too(tmp_path):
    """``--from yolo`` (no detection) on a folder of YOLO exports: the same refusal, naming them, not a
    misleading "label file has no image"."""
    with pytest.raises(NotADatasetError, match=r"a folder of 8 YOLO datasets .*point at one of them"):
        Converter().run(real_file("yolo/cvat-datumaro"), "yolo", tmp_path / "out", "coco")


# -- Dataloop: exports side by side --------------------------------------------------------------------------
DATALOOP_DOCS = "dataloop/dtlpy-documentation"  # FruitImage/ and SheepFace/: two exports, each with its json/


@requires_real_files
@pytest.mark.parametrize("command", [["convert", "{src}", "{dst}", "--from", "dataloop", "--to", "coco"],
                                     ["convert", "{src}", "{dst}", "--to", "coco"], ["info", "{src}"]])
def test_a_folder_of_dataloop_exports_is_refused_naming_them(cli_runner, tmp_path, command):
    """Read as one, their items were merged (two label maps lost) and each export's ontology.json an item."""
    folder = real_file(DATALOOP_DOCS)
    assert "a folder of 2 Dataloop exports (FruitImage, SheepFace)" in detect_format(folder).refusals["dataloop"]
    result = cli_runner.invoke(main, [a.format(src=folder, dst=tmp_path / "out") for a in command])
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    [line] = result.stderr.splitlines()
    assert line == (f"error: {folder}: a folder of 2 Dataloop exports (FruitImage, SheepFace): dlconvert reads one "
                    "export at a time: point at one of them")
    for name in ("FruitImage", "SheepFace"):
        assert detect_format(folder / name).format == "dataloop"


def test_one_export_inside_a_folder_reads_without_its_dataset_files_as_items(tmp_path, sample_dir):
    """Its ontology.json and recipe.json lie beside its json/ folder: they are the export's, not items."""
    shutil.copytree(sample_dir, tmp_path / "exports" / "street")
    assert {"ontology.json", "recipe.json"} <= {p.name for p in (tmp_path / "exports" / "street").iterdir()}
    inside = dlconvert.read(tmp_path / "exports", "dataloop")
    alone = dlconvert.read(tmp_path / "exports" / "street", "dataloop")
    assert sorted(c.filename for c in inside) == sorted(c.filename for c in alone) and len(alone) == 5


# -- CVAT: exports in sub-folders --------------------------------------------------------------------------------
@requires_real_files
@pytest.mark.parametrize("copies", [("a", "b"), ("task_1",)])
def test_a_folder_of_cvat_exports_is_refused_naming_them(cli_runner, tmp_path, copies):
    """It said "no known format" (and --from cvat: "no cvat item found"): now it names the exports to point at."""
    for name in copies:
        shutil.copytree(real_file("cvat/cgras_settler_counter"), tmp_path / "src" / name)
    expected = ("a folder of 2 CVAT exports (a, b), with no CVAT file of its own: point at one of them"
                if len(copies) > 1 else "a folder holding a CVAT export in task_1/, with no CVAT file of its own: "
                                        "point at it")
    assert detect_format(tmp_path / "src").refusals["cvat"] == expected
    for extra in ([], ["--from", "cvat"]):
        result = cli_runner.invoke(main, ["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--to", "coco",
                                          *extra])
        assert result.exit_code == 1 and not (tmp_path / "out").exists()
        assert result.stderr.splitlines() == [f"error: {tmp_path / 'src'}: {expected}"]
    assert detect_format(tmp_path / "src" / copies[0]).format == "cvat"
