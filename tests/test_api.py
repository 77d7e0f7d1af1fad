"""The public Python API: ``dlconvert.read`` (any format, detected or named) into a re-iterable Dataset with
its label map and report, ``dlconvert.write`` of a dataset or collections with the rules of every output,
and a collection that shows itself (Jupyter's ``_repr_png_``, ``plot()``)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from strategies import boxes, collections

import dlconvert
from dlconvert import AnnotationCollection, Box, Polygon
from dlconvert.dataset import ConvertOptions
from dlconvert.dataset import Dataset as BaseDataset
from dlconvert.errors import FormatError, OptionError, OutputError
from dlconvert.formats import get_format
from dlconvert.formats.dataloop import json_relpath
from dlconvert.report import ConversionReport

matplotlib.use("Agg")


def _json(collection: AnnotationCollection) -> dict:
    return collection.to_json()


def _coco_folder(root: Path, sample_dir: Path) -> Path:
    """The sample written as COCO, with its images copied beside the JSON (where Roboflow keeps them)."""
    dlconvert.write(dlconvert.read(sample_dir), root, "coco")
    for image in ("street/scene_01.png", "street/scene_02.jpg", "animals/empty_01.png"):
        (root / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_dir / "items" / image, root / image)
    return root


# ==== read ============================================================================================
def test_read_detects_iterates_again_and_counts(sample_dir):
    dataset = dlconvert.read(sample_dir)
    assert isinstance(dataset, BaseDataset) and isinstance(dataset, dlconvert.Dataset)
    assert dataset.format == "dataloop" and dataset.source == sample_dir and len(dataset) == 5
    assert dataset.items is dataset  # a writer given the dataset sees the same counted items
    first = [_json(c) for c in dataset]
    assert first == [_json(c) for c in dataset]  # a second loop reads the source again, the same items
    assert first == [_json(c) for c in dlconvert.read(sample_dir, format="dataloop")]
    assert dataset.report.items_in == 5 and sum(dataset.report.annotations_in.values()) == sum(
        len(c["annotations"]) for c in first)  # the second loop did not count twice
    assert dataset.labels is not None and "vehicle.car" in dataset.labels  # the ontology's labels
    assert repr(dataset).startswith("<dlconvert.Dataset dataloop")


def test_read_fills_each_items_image_as_render_finds_it(sample_dir):
    items = list(dlconvert.read(sample_dir))
    shown = {c.filename: c.image_path for c in items}
    assert shown["/street/scene_02.jpg"] == str(sample_dir / "items" / "street" / "scene_02.jpg")
    assert shown["/audio/conversation.wav"] is None  # audio has no picture


def test_read_a_coco_file_once_however_many_loops(tmp_path, sample_dir):
    """A COCO source is parsed once: its plan is kept, so a later loop works even when the file is gone."""
    folder = _coco_folder(tmp_path / "coco", sample_dir)
    dataset = dlconvert.read(folder)
    assert dataset.format == "coco" and len(dataset) == 3
    first = [_json(c) for c in dataset]
    (folder / "coco.json").unlink()
    assert [_json(c) for c in dataset] == first
    assert all(c.image_path and Path(c.image_path).is_file() for c in dataset)  # found beside the JSON


def test_a_loop_stopped_early_leaves_the_next_one_to_fill_the_report(sample_dir):
    dataset = dlconvert.read(sample_dir)
    for _ in dataset:
        break
    assert dataset.report.items_in == 1
    assert len(list(dataset)) == 5 and dataset.report.items_in == 5
    assert len(list(dataset)) == 5 and dataset.report.items_in == 5


def test_read_skip_lists_what_it_could_not_read_once(tmp_path, sample_dir):
    root = tmp_path / "export"
    shutil.copytree(sample_dir / "json", root / "json")
    (root / "json" / "cut.json").write_bytes(b"{")
    with pytest.raises(FormatError, match=r"cut\.json"):
        list(dlconvert.read(root))  # on_error="fail", as `dlconvert convert`
    dataset = dlconvert.read(root, on_error="skip")
    assert len(list(dataset)) == 5 and len(list(dataset)) == 5
    [issue] = dataset.report.issues
    assert issue.kind == "failed" and issue.path == str(root / "json" / "cut.json")


def test_read_with_labels_and_images(tmp_path, sample_dir):
    names = tmp_path / "names.txt"
    names.write_text("car\nperson\n", encoding="utf-8")
    coco = _coco_folder(tmp_path / "coco", sample_dir) / "coco.json"
    dataset = dlconvert.read(coco, "coco", images=sample_dir / "items", labels=names)
    assert dataset.labels.pinned and dataset.labels.names == ["car", "person"]
    assert dataset.image_lookup.images == sample_dir / "items"
    item = next(c for c in dataset if c.filename == "/street/scene_01.png")
    assert dataset.image_of(item) == sample_dir / "items" / "street" / "scene_01.png"


def test_read_refuses_what_it_cannot_tell_naming_format_to_choose(tmp_path):
    mixed = tmp_path / "mixed"
    (mixed / "Annotations").mkdir(parents=True)
    (mixed / "Annotations" / "a.xml").write_text("<annotation/>", encoding="utf-8")
    (mixed / "a.vtt").write_text("WEBVTT\n", encoding="utf-8")
    with pytest.raises(FormatError, match="choose one with format='voc' or format='vtt'"):
        dlconvert.read(mixed)
    (tmp_path / "none").mkdir()
    with pytest.raises(FormatError, match=r"no known format found .*name the format with format='FORMAT'"):
        dlconvert.read(tmp_path / "none")
    with pytest.raises(FormatError, match="no vtt item found"):
        dlconvert.read(tmp_path / "none", format="vtt")
    with pytest.raises(FormatError, match="no such file or folder"):
        dlconvert.read(tmp_path / "missing")
    with pytest.raises(OptionError, match="on_error"):
        dlconvert.read(mixed, "voc", on_error="ignore")


def test_detect_is_public(sample_dir):
    found = dlconvert.detect(sample_dir)
    assert isinstance(found, dlconvert.Detection) and found.format == "dataloop"


# ==== write ===========================================================================================
def test_write_coco_as_convert_does(tmp_path, sample_dir):
    from pycocotools.coco import COCO

    report = dlconvert.write(dlconvert.read(sample_dir), tmp_path / "coco", "coco")
    converted = dlconvert.Converter().run(sample_dir, "dataloop", tmp_path / "by_convert", "coco")
    assert report.to_json() | {"outputs": []} == converted.to_json() | {"outputs": []}
    assert (tmp_path / "coco" / "coco.json").read_bytes() == (tmp_path / "by_convert" / "coco.json").read_bytes()
    assert json.loads((tmp_path / "coco" / ".dlconvert-output.json").read_text())["format"] == "coco"
    assert len(COCO(str(tmp_path / "coco" / "coco.json")).getImgIds()) == report.items_out == 3


def test_write_collections_made_in_python(tmp_path):
    collection = AnnotationCollection(filename="/dog.jpg", width=64, height=48)
    collection.add(Box(left=1, top=2, right=30, bottom=40, label="dog"))
    collection.add(Polygon(geo=[[[0, 0], [20, 0], [20, 10]]], label="grass"))
    report = dlconvert.write(collection, tmp_path / "one", "yolo", yolo_task="detect")
    assert report.items_out == 1 and report.annotations_out == {"box": 1, "segment": 1}
    assert [(i.kind, i.code) for i in report.issues] == [("approximated", "yolo.polygon-as-box")]
    assert (tmp_path / "one" / "labels" / "train" / "dog.txt").read_text().count("\n") == 2
    report = dlconvert.write([collection], tmp_path / "dl", "dataloop")
    [back] = dlconvert.read(tmp_path / "dl")
    assert back == collection and back.to_json()["annotations"] == collection.to_json()["annotations"]
    report = dlconvert.write((c for c in [collection]), tmp_path / "gen", "coco")  # any iterable
    assert report.items_out == 1


def test_write_options_are_checked_by_name_and_by_use(tmp_path, sample_dir):
    dataset = dlconvert.read(sample_dir)
    with pytest.raises(OptionError, match=r"unknown option 'yolo_taks' \(did you mean 'yolo_task'"):
        dlconvert.write(dataset, tmp_path / "a", "yolo", yolo_taks="detect")
    with pytest.raises(OptionError, match=r"--voc-origin .* does not apply to a dataloop → coco conversion"):
        dlconvert.write(dataset, tmp_path / "b", "coco", voc_origin=0)
    with pytest.raises(OptionError):
        dlconvert.write(dataset, tmp_path / "c", "coco", rle="sometimes")
    with pytest.raises(TypeError, match="read it first"):
        dlconvert.write(str(sample_dir), tmp_path / "d", "coco")
    with pytest.raises(TypeError, match="item 0 to write is a dict"):
        dlconvert.write([{"filename": "/a.jpg"}], tmp_path / "e", "coco")
    assert not any((tmp_path / name).exists() for name in "abcde")


def test_write_with_a_pinned_label_map_reports_labels_it_lacks(tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("dog\n", encoding="utf-8")
    collection = AnnotationCollection(filename="/a.jpg", width=10, height=10)
    collection.add(Box(left=1, top=1, right=5, bottom=5, label="dog"))
    collection.add(Box(left=2, top=2, right=6, bottom=6, label="cat"))
    report = dlconvert.write(collection, tmp_path / "out", "coco", labels=names, on_error="skip")
    assert [(i.code, i.label) for i in report.issues] == [("coco.label-not-in-map", "cat")]


def test_write_follows_the_deletion_rule(tmp_path, sample_dir):
    dataset = dlconvert.read(sample_dir)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError):
        dlconvert.write(dataset, theirs, "coco", overwrite=True)
    assert [p.name for p in theirs.iterdir()] == ["notes.txt"]
    dlconvert.write(dataset, tmp_path / "out", "coco")
    with pytest.raises(OutputError):
        dlconvert.write(dataset, tmp_path / "out", "coco")
    dlconvert.write(dataset, tmp_path / "out", "voc", overwrite=True)  # a previous dlconvert output: replaced
    assert (tmp_path / "out" / "Annotations").is_dir() and not (tmp_path / "out" / "coco.json").exists()
    copy = tmp_path / "copy"
    shutil.copytree(sample_dir, copy)
    with pytest.raises(OutputError):
        dlconvert.write(dlconvert.read(copy), copy / "json" / "out", "coco")  # inside its source
    assert not (copy / "json" / "out").exists()


def test_a_format_writer_given_the_dataset_directly_writes_every_item(tmp_path, sample_dir):
    dataset = dlconvert.read(sample_dir)
    report = ConversionReport()
    get_format("dataloop").write(dataset, tmp_path, ConvertOptions(), report)
    assert report.items_out == 5 and dataset.report.items_in == 5


def test_len_of_a_stream_is_unknown():
    items = [AnnotationCollection(filename="/a.jpg")]
    listed = dlconvert.api._as_dataset(items)
    assert len(listed) == 1 and list(listed) == items and list(listed) == items
    dataset = dlconvert.api._as_dataset(iter(items))
    with pytest.raises(TypeError, match="does not know the number of items"):
        len(dataset)
    assert len(list(dataset)) == 1
    with pytest.raises(TypeError, match="pass a list"):
        list(dataset)


@settings(max_examples=25)
@given(st.lists(collections(), min_size=1, max_size=4, unique_by=lambda c: json_relpath(c)))
def test_write_then_read_dataloop_gives_every_collection_back(tmp_path_factory, items):
    out = tmp_path_factory.mktemp("dl") / "out"
    report = dlconvert.write(items, out, "dataloop")
    assert report.items_out == len(items) and not report.unbalanced()
    back = {c.filename: c for c in dlconvert.read(out)}
    assert {name: _json(c) for name, c in back.items()} == {c.filename: _json(c) for c in items}


@settings(max_examples=25)
@given(st.lists(boxes(rotated=False, min_size=1.0), min_size=1, max_size=5))
def test_boxes_written_as_coco_read_back_as_pycocotools_reads_them(tmp_path_factory, drawn):
    from pycocotools.coco import COCO

    collection = AnnotationCollection(filename="/a.jpg", width=2000, height=2000)
    for box in drawn:
        collection.add(box)
    out = tmp_path_factory.mktemp("coco") / "out"
    dlconvert.write(collection, out, "coco")
    oracle = COCO(str(out / "coco.json"))
    expected = [value for i in sorted(oracle.anns) for value in oracle.anns[i]["bbox"]]
    [back] = dlconvert.read(out)
    shapes = [annotation.annotation_definition for annotation in back]
    assert [v for b in shapes for v in (b.left, b.top, b.right - b.left, b.bottom - b.top)] == pytest.approx(expected)


# ==== a collection shows itself ========================================================================
def test_a_collection_shows_its_overlay_in_jupyter(sample_dir):
    item = next(c for c in dlconvert.read(sample_dir) if c.filename == "/street/scene_01.png")
    png = item._repr_png_()
    with Image.open(io.BytesIO(png)) as shown:
        picture = np.asarray(shown.convert("RGB"))
    image = np.asarray(Image.open(sample_dir / "items" / "street" / "scene_01.png").convert("RGB"))
    expected = item.show(image=image, annotation_format="overlay", thickness=None, alpha=None, with_text=True)
    assert np.array_equal(picture, expected[..., :3])


def test_a_large_item_is_shown_scaled_down_and_a_huge_one_not_at_all(tmp_path, monkeypatch):
    from dlconvert import conveniences

    big = AnnotationCollection(filename="/big.jpg", width=3000, height=1500)
    big.add(Box(left=100, top=100, right=2900, bottom=1400, label="thing"))
    with Image.open(io.BytesIO(big._repr_png_())) as shown:
        assert shown.size == (1024, 512)  # no image: a checkerboard, scaled to 1024 a side
    huge = tmp_path / "huge.png"
    Image.new("L", (5000, 5000)).save(huge)  # its header says 25 MP
    item = AnnotationCollection(filename="/huge.png")
    item.image_path = str(huge)

    def decoded(*args, **kwargs):
        raise AssertionError("an image was decoded for a picture too large to show")

    monkeypatch.setattr("dlconvert.render.load_display_image", decoded)
    monkeypatch.setattr("dlconvert.render.item_picture", decoded)
    assert item._repr_png_() is None and conveniences.DISPLAY_MAX_PIXELS < 5000 * 5000
    assert AnnotationCollection(filename="/unknown.jpg")._repr_png_() is None  # no size, no image
    assert AnnotationCollection(filename="/a.wav", mimetype="audio/wav", width=1, height=1)._repr_png_() is None


def test_a_broken_image_shows_the_text_repr_instead(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    item = AnnotationCollection(filename="/broken.jpg", width=10, height=10)
    item.image_path = str(broken)
    assert item._repr_png_() is None


def test_plot_draws_the_item_with_matplotlib(sample_dir):
    import matplotlib.pyplot as plt

    item = next(c for c in dlconvert.read(sample_dir) if c.filename == "/street/scene_02.jpg")
    ax = item.plot()
    assert ax.get_title() == "/street/scene_02.jpg" and ax.images[0].get_array().shape == (item.height, item.width, 3)
    _, given = plt.subplots()
    assert item.plot(view="instance", ax=given) is given
    assert given.images[0].get_array().ndim == 2
    plt.close("all")
    with pytest.raises(ValueError, match="no picture to plot"):
        AnnotationCollection(filename="/a.jpg").plot()
