"""A folder of several COCO files is one dataset (Roboflow's train/valid/test, Datumaro's
annotations/<task>_<subset>.json); what is no COCO dataset file is said, not guessed; detection agrees.

Oracles: the files' own images and records (counted with the stdlib ``json``), pycocotools' ``COCO``
on the written file, and the written YOLO tree.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pycocotools.coco import COCO
from realfiles import real_file, requires_real_files

from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.detection import detect_format
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.report import ConversionReport


def coco(images, annotations, categories=({"id": 1, "name": "cat"},)) -> dict:
    return {"images": list(images), "annotations": list(annotations), "categories": list(categories)}


def image(image_id, name, width=20, height=10) -> dict:
    return {"id": image_id, "file_name": name, "width": width, "height": height}


def box(record_id, image_id, category_id=1) -> dict:
    return {"id": record_id, "image_id": image_id, "category_id": category_id, "bbox": [1, 1, 4, 4], "area": 16,
            "iscrowd": 0}


def put(path: Path, document) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def read(src: Path, on_error="fail"):
    report = ConversionReport(on_error=on_error)
    dataset = get_format("coco").read(src, ConvertOptions(), report)
    return list(dataset.items), dataset, report


def roboflow(root: Path) -> Path:
    """Roboflow's COCO export: one _annotations.coco.json per split folder, beside its images."""
    put(root / "train" / "_annotations.coco.json", coco([image(0, "a.jpg"), image(1, "b.jpg")], [box(0, 0), box(1, 1)]))
    put(root / "valid" / "_annotations.coco.json", coco([image(0, "a.jpg")], [box(0, 0)],
                                                         [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]))
    put(root / "test" / "_annotations.coco.json", coco([image(0, "c.jpg")], [box(0, 0, 2)],
                                                        [{"id": 2, "name": "dog"}]))
    put(root / "README.dataset.json", {"name": "not COCO"})
    return root


def test_a_roboflow_export_is_read_as_one_dataset_with_its_splits(tmp_path):
    items, dataset, report = read(roboflow(tmp_path / "export"))
    names = sorted(c.filename for c in items)
    assert names == ["/test/c.jpg", "/train/a.jpg", "/train/b.jpg", "/valid/a.jpg"]
    splits = {c.filename: c._item_json["metadata"]["user"]["coco"]["split"] for c in items}
    assert splits == {"/test/c.jpg": "test", "/train/a.jpg": "train", "/train/b.jpg": "train", "/valid/a.jpg": "valid"}
    assert sum(len(c.annotations) for c in items) == 4
    assert {c.filename: [a.label for a in c.annotations] for c in items}["/test/c.jpg"] == ["dog"]
    assert sorted(dataset.labels.names) == ["cat", "dog"]  # merged by name
    assert [(i.kind, i.code) for i in report.issues] == [("warning", "coco.files-not-read")]
    assert "README.dataset.json (not COCO)" in report.issues[0].message


def test_a_roboflow_export_converts_to_one_coco_file_pycocotools_reads(tmp_path):
    report = Converter(on_error="fail").run(roboflow(tmp_path / "export"), "coco", tmp_path / "out", "coco")
    written = COCO(str(tmp_path / "out" / "coco.json"))
    assert sorted(i["file_name"] for i in written.dataset["images"]) == ["test/c.jpg", "train/a.jpg", "train/b.jpg",
                                                                          "valid/a.jpg"]
    assert len(written.dataset["annotations"]) == 4 and not report.unbalanced()
    assert {c["name"]: c["id"] for c in written.dataset["categories"]} == {"cat": 1, "dog": 2}


def test_a_single_file_folder_reads_as_before(tmp_path):
    put(tmp_path / "one" / "annotations.json", coco([image(0, "a.jpg")], [box(0, 0)]))
    [item], _, report = read(tmp_path / "one")
    assert item.filename == "/a.jpg" and "split" not in item._item_json["metadata"]["user"]["coco"]
    assert report.issues == []


def test_files_of_one_subset_name_one_item_and_a_category_id_conflict_is_reported(tmp_path):
    root = tmp_path / "coco"
    put(root / "annotations" / "instances_val.json", coco([image(5, "a.jpg")], [box(1, 5)]))
    put(root / "annotations" / "labels_val.json", coco([image(5, "a.jpg")], [{"id": 1, "image_id": 5,
                                                                               "category_id": 7}],
                                                       [{"id": 7, "name": "cat"}]))
    [item], dataset, report = read(root)
    assert item.filename == "/val/a.jpg"
    assert sorted(a.type for a in item.annotations) == ["box", "class"]
    assert dataset.labels.names == ["cat"] and dataset.labels["cat"].coco_id == 1
    [conflict] = report.issues
    assert (conflict.kind, conflict.code) == ("warning", "coco.category-conflict")


def test_files_that_disagree_on_an_image_are_refused_naming_the_files(tmp_path):
    root = tmp_path / "coco"
    put(root / "annotations" / "instances_val.json", coco([image(5, "a.jpg", 20, 10)], []))
    put(root / "annotations" / "person_keypoints_val.json", coco([image(5, "a.jpg", 40, 30)], []))
    with pytest.raises(FormatError, match=r"disagree.*'/val/a\.jpg'.*annotations/instances_val\.json.*"
                                          r"annotations/person_keypoints_val\.json"):
        read(root)


def test_a_folder_of_results_lists_is_refused_listing_them(tmp_path):
    results = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]
    put(tmp_path / "r" / "a_results.json", results)
    put(tmp_path / "r" / "b_results.json", results)
    with pytest.raises(FormatError, match=r"no COCO dataset file among the 2 JSON files.*a_results\.json "
                                          r"\(results list\), b_results\.json \(results list\)"):
        read(tmp_path / "r")
    assert detect_format(tmp_path / "r").format is None


@requires_real_files
@pytest.mark.parametrize("name", ["coco/datumaro/coco_roboflow", "coco/datumaro/roboflow_coco"])
def test_real_roboflow_exports_read_every_split_and_detect_agrees(tmp_path, name):
    src = real_file(name)
    files = sorted(src.rglob("_annotations.coco.json"))
    expected = {f"/{f.parent.name}/{i['file_name']}" for f in files for i in json.loads(f.read_text())["images"]}
    records = sum(len(json.loads(f.read_text())["annotations"]) for f in files)
    items, _, report = read(src)
    assert {c.filename for c in items} == expected
    assert sum(c._count_read for c in items) == records
    assert all(c.image_path and Path(c.image_path).is_file() for c in items)  # paired with its split's image
    found = detect_format(src)
    assert found.format == "coco" and "read as one dataset" in found.matches["coco"]
    report = Converter(on_error="fail").run(src, "coco", tmp_path / "yolo", "yolo")
    assert report.items_out == len(expected) and not report.unbalanced()


@requires_real_files
def test_the_datumaro_coco_tree_reads_its_tasks_per_subset_and_leaves_out_panoptic_and_captions(tmp_path):
    src = real_file("coco/datumaro/coco_dataset")
    items, _, report = read(src)
    assert sorted(c.filename for c in items) == ["/train/a.jpg", "/val/b.jpg"]
    counted = 0
    for path in sorted((src / "annotations").glob("*.json")):
        if path.stem.split("_")[0] in ("instances", "person", "labels", "stuff"):
            records = json.loads(path.read_text())["annotations"]
            counted += len(records) + sum(1 + len(r["keypoints"]) // 3 for r in records if r.get("keypoints"))
    assert sum(c._count_read for c in items) == counted
    [left_out] = [i for i in report.issues if i.code == "coco.files-not-read"]
    for name in ("captions_train", "captions_val", "panoptic_train", "panoptic_val"):
        assert f"annotations/{name}.json" in left_out.message


@requires_real_files
def test_icevision_files_beside_each_other_merge_into_their_images(tmp_path):
    src = tmp_path / "icevision"
    shutil.copytree(real_file("coco/icevision"), src)
    items, _, _ = read(src)
    names = {i["file_name"] for f in ("annotations.json", "keypoints_annotations.json")
             for i in json.loads((src / f).read_text())["images"]}
    assert sorted(c.filename for c in items) == sorted(f"/{n}" for n in names)
    assert any(a.type == "pose" for c in items for a in c.annotations)
    result = Converter(on_error="skip").run(src, "coco", tmp_path / "out", "coco")
    assert not result.unbalanced()


def test_the_cli_converts_a_split_export_and_detect_names_the_files(cli_runner, tmp_path):
    src = roboflow(tmp_path / "export")
    detected = cli_runner.invoke(main, ["detect", str(src)])
    assert detected.exit_code == 0 and "3 COCO files read as one dataset" in detected.output
    converted = cli_runner.invoke(main, ["convert", str(src), str(tmp_path / "out"), "--to", "coco"])
    assert converted.exit_code == 0, converted.output
    assert "items: 4 read, 4 written" in converted.output
