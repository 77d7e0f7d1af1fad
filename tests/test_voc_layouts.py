"""VOC layouts other tools write (issue 13 §2, §5): segmentation exports without XML, devkit trees read
from inside, where the images are, and the label tables of class PNGs.

Real files are read in place (Datumaro's RGB VOC masks, a labelme2voc class PNG, the VOC2012 PNGs);
expected labels and pixels come from the PNGs themselves, decoded here with Pillow and the devkit's
palette written out in ``test_voc.voc_palette``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from realfiles import real_file, requires_real_files
from test_voc import VOC_NAMES, png_indices, voc_palette

from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.images import ImageLookup
from dlconvert.labels import LabelMap
from dlconvert.report import ConversionReport
from dlconvert.verify import verify

VOC = real_file("voc")
VOC1 = VOC / "datumaro/voc_dataset/voc_dataset1"


def read(src: Path, report: ConversionReport | None = None, **options):
    dataset = get_format("voc").read(src, ConvertOptions(**options), report or ConversionReport())
    return dataset, list(dataset.items)


def copy_tree(src: Path, dst: Path, *, without: tuple[str, ...] = ()) -> Path:
    shutil.copytree(src, dst, ignore=lambda folder, names: [n for n in names if n in without])
    return dst


def rgb_png(path: Path, colours: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(colours.astype(np.uint8), mode="RGB").save(path)


# ==== segmentation exports without XML (CVAT / Datumaro "Segmentation mask") ==============================
@requires_real_files
def test_datumaro_rgb_masks_without_xml_are_items(tmp_path):
    """Datumaro's VOC masks (RGB, coloured with the devkit palette) with the Annotations folder left out:
    each object number of SegmentationObject is a mask, labelled by the class under it."""
    src = copy_tree(VOC1, tmp_path / "export", without=("Annotations",))
    dataset, items = read(src)
    objects = png_indices(src / "SegmentationObject" / "2007_000001.png")
    classes = png_indices(src / "SegmentationClass" / "2007_000001.png")
    (item,) = items
    assert (item.filename, item.width, item.height) == ("/2007_000001.jpg", 20, 10)
    numbers = [int(v) for v in np.unique(objects) if v not in (0, 255)]
    assert [(a.type, a.object_id) for a in item] == [("binary", str(n)) for n in numbers]
    for annotation, number in zip(item, numbers, strict=True):
        mask = annotation.annotation_definition.geo
        assert np.array_equal(mask, objects == number)
        (value,) = set(np.unique(classes[mask]).tolist()) - {255}
        assert annotation.label == VOC_NAMES[value]
    assert dataset.image_roots[0] == src / "JPEGImages"
    assert ImageLookup.for_source(None, dataset).find(item) == src / "JPEGImages" / "2007_000001.jpg"


@requires_real_files
def test_cvat_style_export_with_labelmap_colours(tmp_path):
    """CVAT's "Segmentation mask" export: RGB class PNGs in labelmap.txt's colours (not VOC's), object PNGs in
    the palette's, no Annotations/. Labels come through labelmap.txt; class pixels no object claims are a
    class region; VOC → Dataloop → VOC gives back the same pixel classes and objects."""
    src = tmp_path / "cvat"
    (src / "ImageSets" / "Segmentation").mkdir(parents=True)
    (src / "ImageSets" / "Segmentation" / "default.txt").write_text("frame_000\n", encoding="utf-8")
    (src / "labelmap.txt").write_text("# label:color_rgb:parts:actions\nbackground:0,0,0::\ncar:250,50,83::\n"
                                      "road:51,221,255::\n", encoding="utf-8")
    classes = np.zeros((6, 8, 3), dtype=np.uint8)
    classes[0:2, 0:3] = (250, 50, 83)  # car, object 1
    classes[3:5, 4:8] = (250, 50, 83)  # car, object 2
    classes[5, :] = (51, 221, 255)     # road: a class region, no object
    objects = np.zeros((6, 8, 3), dtype=np.uint8)
    objects[0:2, 0:3] = voc_palette()[1]
    objects[3:5, 4:8] = voc_palette()[2]
    rgb_png(src / "SegmentationClass" / "frame_000.png", classes)
    rgb_png(src / "SegmentationObject" / "frame_000.png", objects)
    _, (item,) = read(src)
    assert [(a.type, a.label, a.object_id) for a in item] == [
        ("binary", "car", "1"), ("binary", "car", "2"), ("binary", "road", None)]
    assert item.annotations[2].metadata["user"]["voc"] == {"segmentation": "class"}
    assert np.array_equal(item.annotations[1].annotation_definition.geo, (objects == voc_palette()[2]).all(-1))

    agrees = verify(src, "voc", "dataloop")
    assert agrees.differences == [] and agrees.forward.issues == []
    Converter().run(src, "voc", tmp_path / "dl", "dataloop")
    report = Converter().run(tmp_path / "dl", "dataloop", tmp_path / "voc", "voc")
    assert report.issues == []
    written = tmp_path / "voc"
    ids = LabelMap.load(written / "labelmap.json").instance_map()
    expected_classes = np.zeros((6, 8), dtype=np.uint8)
    expected_classes[(classes == (250, 50, 83)).all(-1)] = ids["car"]
    expected_classes[(classes == (51, 221, 255)).all(-1)] = ids["road"]
    assert np.array_equal(png_indices(written / "SegmentationClass" / "frame_000.png"), expected_classes)
    assert np.array_equal(png_indices(written / "SegmentationObject" / "frame_000.png"),
                          np.where((objects == voc_palette()[1]).all(-1), 1, np.where(
                              (objects == voc_palette()[2]).all(-1), 2, 0)))
    # the written labelmap.txt names each class by the colour its pixels have in the written PNG
    lines = (written / "labelmap.txt").read_text(encoding="utf-8").splitlines()[2:]
    assert sorted(line.split(":")[0] for line in lines) == ["car", "road"]
    for line in lines:
        name, colour = line.split(":")[:2]
        assert tuple(int(c) for c in colour.split(",")) == voc_palette()[ids[name]]


@requires_real_files
def test_labelme2voc_class_png_reads_with_a_names_file(tmp_path):
    """A class-only export (labelme2voc, via unet-pytorch): P-mode class values, no XML; ``--labels`` names."""
    src = real_file("labelme/unet-pytorch/datasets")
    names = tmp_path / "names.txt"
    names.write_text("cat\n", encoding="utf-8")
    _, (item,) = read(src, labels=LabelMap.load(names))
    with Image.open(src / "SegmentationClass" / "1.png") as image:
        values = np.asarray(image).copy()
        width, height = image.size
    (region,) = item
    assert (item.filename, item.width, item.height) == ("/1.jpg", width, height)
    assert region.label == "cat" and np.array_equal(region.annotation_definition.geo, values == 1)
    _, (plain,) = read(src)
    assert [a.label for a in plain] == [VOC_NAMES[1]]  # without a label map: the VOC classes, documented


@requires_real_files
def test_class_only_masks_round_trip_without_inventing_objects(tmp_path):
    """Real VOC2012 class PNGs without object PNGs: each class is a class region, and writing them back
    gives the same class values and no <object> the XML did not have."""
    src = tmp_path / "voc2012"
    shutil.copytree(real_file("dataloop/dtlpy-converters-examples/voc/voc/annotations"), src / "Annotations")
    shutil.copytree(real_file("dataloop/dtlpy-converters-examples/voc/voc/segmentation_class"),
                    src / "SegmentationClass")
    Converter().run(src, "voc", tmp_path / "dl", "dataloop")
    Converter().run(tmp_path / "dl", "dataloop", tmp_path / "out", "voc")
    for png in sorted((src / "SegmentationClass").glob("*.png")):
        before = png_indices(png)
        after = png_indices(tmp_path / "out" / "SegmentationClass" / png.name)
        assert np.array_equal(after, np.where(before == 255, 0, before)), png.name  # void is not a class
        xml = (src / "Annotations" / f"{png.stem}.xml").read_text(encoding="utf-8")
        out = (tmp_path / "out" / "Annotations" / f"{png.stem}.xml").read_text(encoding="utf-8")
        assert out.count("<object>") == xml.count("<object>")
    assert not (tmp_path / "out" / "SegmentationObject").exists()


# ==== devkit trees read from inside, and where the images are ============================================
@requires_real_files
@pytest.mark.parametrize("inside", ["", "Annotations", "Annotations/2007_000063.xml"])
def test_a_devkit_tree_is_read_alike_from_its_root_a_folder_or_a_file(tmp_path, inside):
    """``VOC2012/Annotations`` (or one XML in it) reads the masks and finds the images of the tree around it."""
    src = copy_tree(VOC / "icevision/voc", tmp_path / "VOC2012")
    dataset, items = read(src / inside)
    item = next(c for c in items if c.filename == "/2007_000063.jpg")
    assert [a.type for a in item] == ["binary", "binary"]
    assert dataset.image_roots[0] == src / "JPEGImages"
    assert ImageLookup.for_source(None, dataset).find(item) == src / "JPEGImages" / "2007_000063.jpg"


@requires_real_files
def test_vocdevkit_download_layout_is_the_tree_inside(tmp_path):
    copy_tree(VOC / "icevision/voc", tmp_path / "VOCdevkit" / "VOC2012")
    _, inside = read(tmp_path / "VOCdevkit" / "VOC2012")
    _, outside = read(tmp_path / "VOCdevkit")
    assert [c.filename for c in outside] == [c.filename for c in inside] == ["/2007_000063.jpg", "/2011_003353.jpg"]
    assert [len(c) for c in outside] == [len(c) for c in inside]


@requires_real_files
@pytest.mark.parametrize(("source", "images"), [
    ("icevision/fridge/annotations", "icevision/fridge/images"),  # LabelImg / icevision: images/ beside
    ("datumaro/roboflow_voc", "datumaro/roboflow_voc"),             # Roboflow: beside the XML
])
def test_images_are_found_where_voc_tools_look(source, images):
    dataset, items = read(VOC / source)
    lookup = ImageLookup.for_source(None, dataset)
    for item in items:
        found = lookup.find(item)
        assert found is not None and found.is_file() and (VOC / images) in found.parents, item.filename


# ==== masks that do not fit are errors, never a plausible picture =========================================
def _tree(tmp_path: Path, size: tuple[int, int], objects: int = 1) -> Path:
    (tmp_path / "Annotations").mkdir(parents=True)
    boxes = "".join(f"<object><name>o{i}</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax>"
                    f"</bndbox></object>" for i in range(objects))
    (tmp_path / "Annotations" / "m.xml").write_text(
        f"<annotation><filename>m.jpg</filename><size><width>{size[0]}</width><height>{size[1]}</height>"
        f"<depth>3</depth></size>{boxes}</annotation>", encoding="utf-8")
    (tmp_path / "SegmentationObject").mkdir()
    return tmp_path


def test_a_mask_of_another_size_than_the_image_is_refused(tmp_path):
    src = _tree(tmp_path, (8, 6))
    Image.fromarray(np.ones((3, 7), dtype=np.uint8), mode="L").save(src / "SegmentationObject" / "m.png")
    with pytest.raises(FormatError) as caught:
        read(src)
    assert caught.value.path.endswith("SegmentationObject/m.png") and "7×3" in caught.value.message


def test_object_numbers_without_an_object_are_bad_records(tmp_path):
    src = _tree(tmp_path, (4, 2))
    Image.fromarray(np.array([[1, 1, 2, 2], [0, 0, 3, 255]], dtype=np.uint8), mode="L").save(
        src / "SegmentationObject" / "m.png")
    with pytest.raises(FormatError, match="object 2 has pixels, but the XML has 1 object"):
        read(src)
    report = ConversionReport(on_error="skip")
    _, (item,) = read(src, report)
    assert [(a.type, a.label) for a in item] == [("binary", "o0")]
    assert [(i.code, i.annotation_type) for i in report.issues] == [("voc.orphan-mask", "binary")] * 2


@requires_real_files
def test_a_datumaro_labelmap_txt_given_as_labels_names_its_classes_and_colours():
    """``--labels labelmap.txt`` in Datumaro's format (``name:r,g,b:parts:actions``) is a label map with
    colours, not a names file whose lines are the whole ``name:r,g,b::`` text."""
    from dlconvert.labels import read_labelmap_txt

    txt = next(p for p in sorted(real_file("voc").rglob("labelmap.txt")))
    entries = [(name, color) for name, color in read_labelmap_txt(txt) if name != "background"]
    labels = LabelMap.load(txt)
    assert labels.names == [name for name, _ in entries] and all(":" not in name for name in labels.names)
    assert [labels.color(name) for name, color in entries if color] == [color for _, color in entries if color]


def _types(src: Path) -> list[tuple[str, str]]:
    items = list(get_format("voc").read(src, ConvertOptions(), ConversionReport()).items)
    return [(c.filename, a.type) for c in items for a in c]


@requires_real_files
def test_the_folder_holding_vocdevkit_reads_its_one_tree(tmp_path):
    # read as a flat folder of XML files, the item was "/VOCdevkit/VOC2012/Annotations/2007_000001.jpg" and
    # the cat's mask (SegmentationObject) was lost: a box
    shutil.copytree(VOC1, tmp_path / "download" / "VOCdevkit" / "VOC2012")
    assert _types(tmp_path / "download") == _types(VOC1)
    assert ("/2007_000001.jpg", "binary") in _types(tmp_path / "download")


@requires_real_files
@pytest.mark.parametrize("given", ["download", "download/VOCdevkit"])
def test_two_devkit_trees_are_refused_naming_both(tmp_path, given):
    for year in ("VOC2007", "VOC2012"):
        shutil.copytree(VOC1, tmp_path / "download" / "VOCdevkit" / year)
    with pytest.raises(FormatError, match=r"2 VOC devkit trees in this folder \((VOCdevkit/)?VOC2007, "
                                          r"(VOCdevkit/)?VOC2012\): convert one at a time"):
        Converter().run(tmp_path / given, "voc", tmp_path / "out", "coco")
    assert not (tmp_path / "out").exists()
