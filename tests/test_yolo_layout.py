"""YOLO layouts as real tools leave them: every label file is paired with its image the way Ultralytics
pairs them (data.yaml splits, ``images/``↔``labels/``, Roboflow's ``train/images`` + ``train/labels``,
darknet's ``obj_train_data/``), ``collection.image_path`` names that image, links to images are
followed, and dlconvert's own outputs — with linked images or with no images at all — read back.

Oracles: the fixtures' own file listings (walked here with ``os.walk``, not with dlconvert's
layout code), image sizes written by PIL, and the source items' own sizes and coordinates.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, FormatError, Polygon
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.formats import get_format
from dlconvert.formats.dataloop import write_dataloop
from dlconvert.report import ConversionReport
from dlconvert.verify import verify

SHOES = real_file("yolo/roboflow-shoe-sole-seg")
DARKNET = real_file("yolo/datumaro/yolo_dataset/strict")
SPLITS = {"train": "train", "valid": "val", "test": "test"}  # Roboflow's folders → Ultralytics' split names

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def read_yolo(src: Path, on_error: str = "fail", **options) -> tuple[list[AnnotationCollection], ConversionReport]:
    report = ConversionReport(on_error=on_error, source=str(src))
    dataset = get_format("yolo").read(src, ConvertOptions(**options), report)
    return list(dataset.items), report


def images_in(folder: Path) -> list[Path]:
    """Every file under ``folder`` (os.walk, following nothing), sorted."""
    return sorted(Path(d) / f for d, _, files in os.walk(folder) for f in files)


def write_items(collections, folder: Path, images: dict | None = None) -> Path:
    write_dataloop(collections, folder)
    for filename, (width, height) in (images or {}).items():
        target = folder / "items" / filename.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.new("L", (width, height)).save(target)
    return folder


def item(filename: str, width: int, height: int, *definitions, orientation: int | None = None):
    collection = AnnotationCollection(filename=filename, width=width, height=height, mimetype="image/png",
                                      orientation=orientation)
    for definition in definitions:
        collection.add(definition, automated=False)
    return collection


# ==== pairing, as Ultralytics does ===================================================================
@requires_real_files
def test_roboflow_export_pairs_every_label_file_with_its_image():
    # data.yaml says train: ../train/images, val: ../valid/images, test: ../test/images (Roboflow's
    # paths, relative to a parent folder that is not there: Ultralytics reads them under the YAML's folder)
    collections, report = read_yolo(SHOES)
    expected = {}
    for folder, split in SPLITS.items():
        for image in images_in(SHOES / folder / "images"):
            expected[f"/{split}/{image.name}"] = image
    assert {c.filename: Path(c.image_path) for c in collections} == expected
    for collection in collections:
        with Image.open(collection.image_path) as image:
            assert (collection.width, collection.height) == image.size
        label = SHOES / {v: k for k, v in SPLITS.items()}[collection.filename.split("/")[1]] / "labels" / (
            Path(collection.image_path).stem + ".txt")
        assert len(collection) == sum(1 for line in label.read_text().splitlines() if line.strip())
    assert not report.issues


@requires_real_files
@pytest.mark.parametrize("images", ["root", "test/images"])
def test_roboflow_labels_with_images_given_elsewhere(tmp_path, images):
    # Only the labels and data.yaml here; --images names the export's root or its test/images folder.
    root = tmp_path / "labels-only"
    root.mkdir()
    shutil.copy(SHOES / "data.yaml", root / "data.yaml")
    for folder in SPLITS:
        shutil.copytree(SHOES / folder / "labels", root / folder / "labels")
    given = SHOES if images == "root" else SHOES / "test" / "images"
    collections, report = read_yolo(root, on_error="skip", images=given)
    found = {c.filename: Path(c.image_path) for c in collections}
    expected_splits = SPLITS if images == "root" else {"test": "test"}
    expected = {f"/{split}/{p.name}": p for folder, split in expected_splits.items()
                for p in images_in(SHOES / folder / "images")}
    assert found == expected
    # the other splits' label files have no image anywhere: each is named, none is dropped silently
    missing = {Path(i.path).name for i in report.issues if i.code == "yolo.image-not-found"}
    assert missing == {p.name for folder in set(SPLITS) - set(expected_splits)
                       for p in images_in(SHOES / folder / "labels")}


def test_ultralytics_images_and_labels_folders_by_folder_list_and_list_file(tmp_path):
    root = tmp_path / "ds"
    for split, names in {"train": ["a", "sub/b"], "val": ["c"], "extra": ["d"]}.items():
        for name in names:
            image = root / "images" / split / f"{name}.png"
            image.parent.mkdir(parents=True, exist_ok=True)
            Image.new("L", (40, 20)).save(image)
            label = root / "labels" / split / f"{name}.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "val.txt").write_text("./images/val/c.png\n")
    config = {"path": ".", "train": ["images/train", "images/extra"], "val": "val.txt", "names": ["x"]}
    (root / "data.yaml").write_text(yaml.safe_dump(config))
    collections, report = read_yolo(root)
    paired = {Path(c.image_path).relative_to(root).as_posix() for c in collections}
    assert paired == {"images/train/a.png", "images/train/sub/b.png", "images/extra/d.png", "images/val/c.png"}
    assert all(len(c) == 1 for c in collections)
    assert not report.issues


@requires_real_files
def test_darknet_obj_train_data_pairs_images_beside_their_labels():
    collections, _ = read_yolo(DARKNET)
    assert [Path(c.image_path) for c in collections] == [DARKNET / "obj_train_data" / "1.jpg"]
    assert len(collections[0]) == len((DARKNET / "obj_train_data" / "1.txt").read_text().splitlines())


def test_symlinked_images_are_followed(tmp_path):
    # Images kept elsewhere and linked into images/ (as --images-mode link writes them).
    store = tmp_path / "store"
    store.mkdir()
    Image.new("L", (30, 10)).save(store / "a.png")
    root = tmp_path / "ds"
    (root / "images" / "train").mkdir(parents=True)
    (root / "labels" / "train").mkdir(parents=True)
    os.symlink(store / "a.png", root / "images" / "train" / "a.png")
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nnames: [x]\n")
    (collection,), _ = read_yolo(root)
    assert collection.filename == "/a.png" and (collection.width, collection.height) == (30, 10)
    assert Path(collection.image_path) == root / "images" / "train" / "a.png"
    # a loose folder (no YAML) with a linked image: named under the folder, not where the link points
    loose = tmp_path / "loose"
    loose.mkdir()
    os.symlink(store / "a.png", loose / "a.png")
    (loose / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (collection,), _ = read_yolo(loose)
    assert collection.filename == "/a.png" and Path(collection.image_path) == loose / "a.png"


# ==== dlconvert's own outputs read back ==============================================================
def test_link_output_reads_back_and_links_again(tmp_path):
    items = [item("/street/a.png", 64, 32, Box(left=1, top=2, right=30, bottom=20, label="car")),
             item("/b.png", 16, 16)]
    src = write_items(items, tmp_path / "dl", {"/street/a.png": (64, 32), "/b.png": (16, 16)})
    options = ConvertOptions(images_mode="link", images=src / "items")
    Converter(options=options).run(src, "dataloop", tmp_path / "linked", "yolo")
    linked = tmp_path / "linked" / "images" / "train" / "street" / "a.png"
    assert linked.is_symlink() and linked.resolve() == (src / "items" / "street" / "a.png").resolve()
    collections, _ = read_yolo(tmp_path / "linked")
    assert {c.filename: Path(c.image_path) for c in collections} == {
        "/street/a.png": linked, "/b.png": tmp_path / "linked" / "images" / "train" / "b.png"}
    # its own output, linked again: the links are followed to the images (no "not under" refusal)
    report = Converter(options=ConvertOptions(images_mode="link")).run(tmp_path / "linked", "yolo",
                                                                      tmp_path / "again", "yolo")
    again = tmp_path / "again" / "images" / "train" / "street" / "a.png"
    assert again.resolve() == (src / "items" / "street" / "a.png").resolve()
    assert not report.failed_files


def test_link_without_images_says_where_it_looked(tmp_path):
    src = write_items([item("/a.png", 10, 10)], tmp_path / "dl")  # no items/ folder: no image anywhere
    with pytest.raises(FormatError) as error:
        Converter(options=ConvertOptions(images_mode="link")).run(src, "dataloop", tmp_path / "out", "yolo")
    message = str(error.value)
    assert "'/a.png' was not found (looked in" in message and "--images" in message and "\n" not in message
    assert "is not under" not in message


def test_output_without_images_reads_back_with_the_sizes_it_recorded(tmp_path):
    turned = item("/photos/turned.jpg", 400, 300, Box(left=10, top=20, right=110, bottom=220, label="car"),
                  orientation=6)  # stored 400×300, shown 300×400
    plain = item("/plain.png", 264, 100, Polygon(geo=[[26.4, 10], [79.2, 10], [52.8, 70]], label="road"))
    empty = AnnotationCollection(filename="/nosize.png", mimetype="image/png")  # no size, no objects
    src = write_items([turned, plain, empty], tmp_path / "dl")
    Converter().run(src, "dataloop", tmp_path / "yolo", "yolo")
    assert not (tmp_path / "yolo" / "images").exists()
    sizes = json.loads((tmp_path / "yolo" / "image_sizes.json").read_text())["images"]
    assert sizes == {"images/train/photos/turned.jpg": [400, 300, 6], "images/train/plain.png": [264, 100],
                     "images/train/nosize.png": None}
    back, report = read_yolo(tmp_path / "yolo")
    by_name = {c.filename: c for c in back}
    assert sorted(by_name) == ["/nosize.png", "/photos/turned.jpg", "/plain.png"]
    assert (by_name["/photos/turned.jpg"].width, by_name["/photos/turned.jpg"].height) == (400, 300)
    assert by_name["/photos/turned.jpg"].orientation == 6 and by_name["/photos/turned.jpg"].image_path is None
    assert by_name["/photos/turned.jpg"].mimetype == "image/jpeg"
    (box,) = by_name["/photos/turned.jpg"]
    assert np.allclose(box.annotation_definition.bounds(), (10, 20, 110, 220), atol=1e-6 * 400)
    (polygon,) = by_name["/plain.png"]
    assert polygon.annotation_definition.parts[0].tolist() == [[26.4, 10], [79.2, 10], [52.8, 70]]
    assert len(by_name["/nosize.png"]) == 0
    assert not report.issues


def test_real_images_win_over_the_recorded_sizes(tmp_path):
    src = write_items([item("/a.png", 100, 50, Box(left=0, top=0, right=50, bottom=25, label="x"))], tmp_path / "dl")
    Converter().run(src, "dataloop", tmp_path / "yolo", "yolo")
    (tmp_path / "yolo" / "images" / "train").mkdir(parents=True)
    Image.new("L", (200, 100)).save(tmp_path / "yolo" / "images" / "train" / "a.png")  # the same picture, larger
    (collection,), _ = read_yolo(tmp_path / "yolo")
    assert (collection.width, collection.height) == (200, 100)
    assert collection[0].annotation_definition.bounds() == (0, 0, 100, 50)


@pytest.mark.parametrize("value", ['"big"', "[0, 10]", "[10, 10, 9]", "[10.5, 10]", "{}"])
def test_a_broken_size_record_is_an_error_naming_the_file_and_the_image(tmp_path, value):
    src = write_items([item("/a.png", 100, 50, Box(left=0, top=0, right=50, bottom=25, label="x"))], tmp_path / "dl")
    Converter().run(src, "dataloop", tmp_path / "yolo", "yolo")
    sizes = tmp_path / "yolo" / "image_sizes.json"
    sizes.write_text(sizes.read_text().replace("[100,50]", value))
    with pytest.raises(FormatError) as error:
        read_yolo(tmp_path / "yolo")
    assert error.value.path == str(sizes) and error.value.where == "/images/images~1train~1a.png"


def test_labels_only_output_without_size_records_names_every_label_file(tmp_path):
    # Another tool's labels without their images and without dlconvert's size list: nothing to scale by.
    root = tmp_path / "ds"
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text("path: .\ntrain: images/train\nnames: [x]\n")
    collections, report = read_yolo(root, on_error="skip")
    assert collections == []
    (issue,) = report.issues
    assert issue.code == "yolo.image-not-found" and issue.path == str(root / "labels" / "train" / "a.txt")


def test_bundled_sample_verifies_via_yolo(sample_dir):
    result = verify(sample_dir, "dataloop", "yolo")
    assert not result.lost, result.differences
    assert result.checked + result.not_representable == result.read > 0


@requires_real_files
def test_images_without_a_label_file_or_class_name_are_no_yolo_dataset(tmp_path):
    # a LabelMe folder read with --from yolo: it "converted" 2 items and 0 annotations, silently
    source = tmp_path / "labelme"
    source.mkdir()
    for name in ("1.json", "1.jpg"):
        shutil.copy(real_file(f"labelme/unet-pytorch/datasets/before/{name}"), source / name)
    with pytest.raises(FormatError, match=r"found 1 images but no yolo label files and no class names.*is --from"):
        Converter().run(source, "yolo", tmp_path / "out", "coco")
    assert not (tmp_path / "out").exists()


@requires_real_files
def test_a_coco_folder_s_splits_are_the_yolo_splits(tmp_path):
    # Roboflow's COCO export (train/ and val/, each with _annotations.coco.json): it was labels/train/val/…
    Converter().run(real_file("coco/datumaro/roboflow_coco"), "coco", tmp_path / "out", "yolo")
    labels = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out" / "labels").rglob("*.txt"))
    assert labels == ["labels/train/train_001.txt", "labels/train/train_002.txt", "labels/val/val_001.txt"]
    data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text(encoding="utf-8"))
    assert (data["train"], data["val"]) == ("images/train", "images/val")
