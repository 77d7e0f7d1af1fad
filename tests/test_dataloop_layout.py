"""Where the Dataloop reader looks: item files, the label map, the export's ``items/`` folder, and an
export that holds no item (an empty dataset) versus a folder that holds nothing Dataloop-like."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dlconvert import AnnotationCollection, Box
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.formats import get_format
from dlconvert.formats.dataloop import export_root, iter_json_files, write_dataloop
from dlconvert.labels import LabelMap
from dlconvert.report import ConversionReport
from dlconvert.verify import verify

DATALOOP = get_format("dataloop")


def _plan(src: Path):
    return DATALOOP.plan(src, ConvertOptions(), ConversionReport())


def _read(src: Path):
    dataset = DATALOOP.read(src, ConvertOptions(), ConversionReport())
    return dataset, list(dataset.items)


@pytest.fixture
def empty_output(tmp_path: Path) -> Path:
    """What dlconvert writes for a dataset without items: labelmap.json (and its manifest) only."""
    source = tmp_path / "source"
    (source / "json").mkdir(parents=True)
    LabelMap.from_names(["car", "person"]).save(source / "labelmap.json")
    Converter().run(source, "dataloop", tmp_path / "empty", "dataloop")
    return tmp_path / "empty"


def test_an_empty_output_holds_only_its_label_map(empty_output: Path):
    assert sorted(p.name for p in empty_output.iterdir() if not p.name.startswith(".")) == ["labelmap.json"]


def test_an_empty_output_reads_back_as_an_empty_dataset(empty_output: Path):
    dataset, items = _read(empty_output)
    assert items == [] and dataset.declared_empty
    assert [info.name for info in dataset.labels] == ["car", "person"]


def test_an_empty_output_converts_and_verifies(empty_output: Path, tmp_path: Path):
    report = Converter().run(empty_output, "dataloop", tmp_path / "again", "dataloop")
    assert (report.items_in, report.items_out) == (0, 0) and not report.issues
    assert json.loads((tmp_path / "again" / "labelmap.json").read_text()) == json.loads(
        (empty_output / "labelmap.json").read_text())
    result = verify(empty_output, "dataloop", "dataloop")
    assert (result.checked, result.differences) == (0, [])


def test_the_label_map_is_never_read_as_an_item(tmp_path: Path):
    collection = AnnotationCollection(filename="/a.jpg", width=10, height=10)
    collection.add(Box(left=1, top=1, right=5, bottom=5, label="car"))
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.json").write_text(json.dumps(collection.to_json()))
    LabelMap.from_names(["car"]).save(tmp_path / "flat" / "labelmap.json")
    assert [p.name for p in iter_json_files(tmp_path / "flat")] == ["a.json"]
    dataset, items = _read(tmp_path / "flat")
    assert [c.filename for c in items] == ["/a.jpg"] and dataset.labels is not None


def test_an_item_file_that_is_no_readable_file_is_reported_not_ignored(sample_dir: Path, tmp_path: Path):
    export = tmp_path / "export"
    shutil.copytree(sample_dir / "json", export / "json")
    (export / "json" / "dangling.json").symlink_to(export / "json" / "nowhere.json")
    (export / "json" / "device.json").symlink_to("/dev/zero")
    report = Converter(on_error="skip").run(export, "dataloop", tmp_path / "out", "dataloop")
    assert {Path(i.path).name for i in report.failed_files} == {"dangling.json", "device.json"}
    assert report.items_out == len(list((sample_dir / "json").rglob("*.json")))


def test_inside_json_the_dataset_file_names_are_items(tmp_path: Path):
    # V1 naming puts the item /ontology.png at json/ontology.json: it is an item, not the ontology.
    collection = AnnotationCollection(filename="/ontology.png", width=4, height=4)
    write_dataloop([collection], tmp_path / "export")
    assert [p.name for p in iter_json_files(tmp_path / "export")] == ["ontology.json"]
    assert [p.name for p in iter_json_files(tmp_path / "export" / "json")] == ["ontology.json"]


@pytest.mark.parametrize("made", ["json folder", "ontology.json", "labelmap.json"])
def test_a_recognisable_export_without_items_is_declared_empty(made: str, tmp_path: Path, sample_dir: Path):
    export = tmp_path / "export"
    export.mkdir()
    if made == "json folder":  # what dataset.download_annotations() leaves for an empty dataset
        (export / "json").mkdir()
    else:
        shutil.copy(sample_dir / "ontology.json", export / "ontology.json")
        if made == "labelmap.json":
            LabelMap.load(export / "ontology.json").save(export / "labelmap.json")
            (export / "ontology.json").unlink()
    plan = _plan(export)
    assert plan.units == [] and plan.declared_empty


def test_a_folder_with_nothing_dataloop_like_is_not_declared_empty(tmp_path: Path):
    (tmp_path / "voc" / "Annotations").mkdir(parents=True)
    (tmp_path / "voc" / "Annotations" / "a.xml").write_text("<annotation/>")
    plan = _plan(tmp_path / "voc")
    assert plan.units == [] and not plan.declared_empty and plan.labels is None
    dataset, items = _read(tmp_path / "voc")
    assert items == [] and not dataset.declared_empty
    assert "json" in DATALOOP.looks_for


def test_images_are_looked_for_in_the_exports_items_folder(sample_dir: Path):
    items = sample_dir / "items"
    for src in (sample_dir, sample_dir / "json", sample_dir / "json" / "street" / "scene_01.json"):
        plan = _plan(src)
        assert plan.image_roots == (items,) and plan.images_root == items, src
        assert plan.labels is not None and "vehicle.car" in {info.name for info in plan.labels}, src
        dataset, _ = _read(src)
        assert dataset.image_roots == (items,)


def test_an_export_without_items_folder_names_no_image_root(tmp_path: Path, sample_dir: Path):
    shutil.copytree(sample_dir / "json", tmp_path / "export" / "json")
    assert _plan(tmp_path / "export").image_roots == ()


def test_export_root_of_each_source_path(sample_dir: Path, tmp_path: Path):
    assert export_root(sample_dir) == sample_dir
    assert export_root(sample_dir / "json") == sample_dir
    assert export_root(sample_dir / "json" / "street" / "scene_01.json") == sample_dir
    loose = tmp_path / "a.json"
    loose.write_text("{}")
    assert export_root(loose) == tmp_path


def test_the_format_declares_its_options():
    assert DATALOOP.options == frozenset({"indent"})
