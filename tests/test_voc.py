"""Pascal VOC, both ways: real folders round-trip, the Dataloop SDK's own VOC pair agrees, boxes,
labels and attributes survive, masks go to palette PNGs and back, COCO boxes land where a hand
calculation says, and hostile XML is refused with one line naming the file and the line.

Oracles are independent of dlconvert: every XML file (read or written) is parsed here with lxml,
PNGs are read with Pillow, the VOC class list and palette are written out here from the devkit's
definition, and expected numbers are computed by hand from the source files.

The ``<bndbox>`` convention (shared docs/conventions.md rows 3-4; ``voc.py`` docstring): with
``voc_origin=1`` (default) VOC's 1-based inclusive pixel indices become continuous edges by
subtracting 1 from xmin/ymin only (a full-image box ``1…W`` is ``[0, W]``); ``voc_origin=0``
takes the numbers as they are.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from lxml import etree
from PIL import Image
from pycocotools import mask as mask_utils
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, Polygon, Segmentation
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import FormatError, OutputError
from dlconvert.formats import get_format
from dlconvert.formats.dataloop import read_dataloop, write_dataloop
from dlconvert.labels import LabelInfo, LabelMap
from dlconvert.report import ConversionReport

FIXTURES = real_file("voc")
DTLPY = real_file("dataloop/dtlpy-converters-examples/voc")
DLCONVERT = Path(sys.executable).parent / "dlconvert"

#: The VOC2012 devkit's classes; the index is the SegmentationClass pixel value (255 is void).
VOC_NAMES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
             "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
             "tvmonitor"]
FLAGS = ("pose", "truncated", "difficult", "occluded")

#: (id, source folder, folder holding its XML files) for every real VOC sample.
DATUMARO = FIXTURES / "datumaro" / "voc_dataset"
REAL_FOLDERS = [
    ("dtlpy-converters", DTLPY / "voc" / "annotations", DTLPY / "voc" / "annotations"),
    ("datumaro-voc1", DATUMARO / "voc_dataset1", DATUMARO / "voc_dataset1" / "Annotations"),
    ("datumaro-voc2", DATUMARO / "voc_dataset2", DATUMARO / "voc_dataset2" / "Annotations"),
    ("datumaro-voc3", DATUMARO / "voc_dataset3", DATUMARO / "voc_dataset3" / "Annotations"),
    ("roboflow", FIXTURES / "datumaro/roboflow_voc", FIXTURES / "datumaro/roboflow_voc"),
    ("icevision-voc", FIXTURES / "icevision/voc", FIXTURES / "icevision/voc/Annotations"),
    ("icevision-fridge", FIXTURES / "icevision/fridge/annotations", FIXTURES / "icevision/fridge/annotations"),
    ("mmdetection", FIXTURES / "mmdetection/VOC2012", FIXTURES / "mmdetection/VOC2012/Annotations"),
]


# ==== oracles ========================================================================================
def voc_palette() -> list[tuple[int, int, int]]:
    """The devkit's ``labelcolormap``: bits 0/1/2 of the index go to the top bits of r/g/b, 3 at a time."""
    palette = []
    for index in range(256):
        red = green = blue = 0
        value = index
        for shift in range(7, -1, -1):
            red |= (value & 1) << shift
            green |= ((value >> 1) & 1) << shift
            blue |= ((value >> 2) & 1) << shift
            value >>= 3
        palette.append((red, green, blue))
    return palette


def parse(path: Path):
    """Parse a file with lxml, entities off: it must be well-formed XML."""
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def canon(element) -> tuple:
    """An element as (tag, stripped text, children…), in document order."""
    return (element.tag, (element.text or "").strip(), tuple(canon(c) for c in element if isinstance(c.tag, str)))


def voc_objects(root) -> list[dict]:
    out = []
    for obj in root.findall("object"):
        bndbox = obj.find("bndbox")
        out.append({
            "name": obj.findtext("name"),
            "box": [float(bndbox.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")],
            "box_text": [bndbox.findtext(k).strip() for k in ("xmin", "ymin", "xmax", "ymax")],
            **{flag: obj.findtext(flag) for flag in FLAGS},
            "nested": [canon(c) for c in obj if isinstance(c.tag, str) and len(c) and c.tag != "bndbox"],
        })
    return out


def voc_size(root) -> dict | None:
    size = root.find("size")
    return None if size is None else {c.tag: c.text.strip() for c in size if isinstance(c.tag, str)}


def fmt(value: float) -> str:
    """How VOC numbers are written: integral values as integers, others as Python's shortest repr."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def every_xml_parses(folder: Path) -> list[Path]:
    files = sorted(folder.rglob("*.xml"))
    for path in files:
        parse(path)
    return files


def png_indices(path: Path) -> np.ndarray:
    """Pixel values of a VOC PNG: palette indices, or RGB decoded through the devkit palette."""
    with Image.open(path) as image:
        if image.mode == "P":
            return np.asarray(image).copy()
        rgb = np.asarray(image.convert("RGB"))
    lookup = {colour: index for index, colour in enumerate(voc_palette())}
    return np.array([[lookup[tuple(int(v) for v in px)] for px in row] for row in rgb], dtype=np.uint8)


# ==== helpers =========================================================================================
def voc_read(src: Path, **options) -> list[AnnotationCollection]:
    report = ConversionReport()
    return list(get_format("voc").read(src, ConvertOptions(**options), report).items)


def voc_to_dataloop_to_voc(src: Path, tmp: Path, **options) -> tuple[ConversionReport, ConversionReport, Path]:
    converter = Converter(options=ConvertOptions(**options))
    first = converter.run(src, "voc", tmp / "dl", "dataloop")
    second = Converter(options=ConvertOptions(**options)).run(tmp / "dl", "dataloop", tmp / "voc", "voc")
    return first, second, tmp / "voc"


def dataloop_to_voc_to_dataloop(collections: list[AnnotationCollection], tmp: Path, **options):
    write_dataloop(collections, tmp / "dl")
    to_voc = Converter(options=ConvertOptions(**options)).run(tmp / "dl", "dataloop", tmp / "voc", "voc")
    back = Converter(options=ConvertOptions(**options)).run(tmp / "voc", "voc", tmp / "dl2", "dataloop")
    return to_voc, back, list(read_dataloop(tmp / "dl2"))


def boxes_of(collection: AnnotationCollection) -> list[Box]:
    return [a.annotation_definition for a in collection if a.type == "box"]


# ==== 1. real VOC folders: VOC → Dataloop → VOC ============================================================
@requires_real_files
@pytest.mark.parametrize(("name", "src", "xml_root"), REAL_FOLDERS, ids=[f[0] for f in REAL_FOLDERS])
def test_real_voc_round_trips_through_dataloop(tmp_path, name, src, xml_root):
    inputs = sorted(p for p in xml_root.rglob("*.xml"))
    assert inputs, "fixture missing"
    first, second, out = voc_to_dataloop_to_voc(src, tmp_path)
    n_objects = sum(len(parse(p).findall("object")) for p in inputs)
    assert first.unbalanced() == {} and second.unbalanced() == {}
    assert first.issues == [] and second.issues == []
    assert first.items_in == second.items_out == len(inputs)
    assert first.annotations_in == second.annotations_out  # nothing changes type on the way
    # one annotation per <object>: its box, or its mask when SegmentationObject has its pixels
    objects = [a for item in voc_read(src) for a in item if a.object_id is not None]
    assert len(objects) == n_objects and {a.type for a in objects} <= {"box", "binary"}
    every_xml_parses(out)
    stems = []
    for source in inputs:
        relative = source.relative_to(xml_root)
        written = out / "Annotations" / relative  # the XML keeps its own name (even when <filename> differs)
        assert written.is_file(), f"{relative} was not written back"
        stems.append(relative.with_suffix("").as_posix())
        before, after = parse(source), parse(written)
        old, new = voc_objects(before), voc_objects(after)
        assert [o["name"] for o in new] == [o["name"] for o in old]
        assert [o["box"] for o in new] == [o["box"] for o in old]  # numbers equal (1.0 may come back as 1)
        for flag in FLAGS:
            assert [o[flag] for o in new] == [o[flag] for o in old], flag
        assert [o["nested"] for o in new] == [o["nested"] for o in old]  # <part>, <actions>, <point>
        assert voc_size(after) == voc_size(before)
        assert after.findtext("filename") == before.findtext("filename")
        for tag in ("source", "owner", "path", "folder"):  # kept when present (a missing <source> is added)
            kept = [canon(e) for e in before.findall(tag)]
            if kept:
                assert [canon(e) for e in after.findall(tag)] == kept, tag
    listed = (out / "ImageSets" / "Main" / "train.txt").read_text(encoding="utf-8").split("\n")
    assert sorted(s for s in listed if s) == sorted(stems)


@requires_real_files
@pytest.mark.parametrize("name", ["icevision-voc", "datumaro-voc1"])
def test_real_object_masks_survive_the_round_trip(tmp_path, name):
    _, src, _ = next(f for f in REAL_FOLDERS if f[0] == name)
    first, second, out = voc_to_dataloop_to_voc(src, tmp_path)
    assert first.unbalanced() == {} and second.unbalanced() == {}
    for png in sorted((src / "SegmentationObject").glob("*.png")):
        before = png_indices(png)
        after = png_indices(out / "SegmentationObject" / png.name)
        expected = np.where(before == 255, 0, before)  # void borders are not an object: background
        assert np.array_equal(after, expected)
        assert parse(out / "Annotations" / f"{png.stem}.xml").findtext("segmented") == "1"


@requires_real_files
def test_mmdetection_filename_that_names_another_image_is_kept(tmp_path):
    _, src, _ = next(f for f in REAL_FOLDERS if f[0] == "mmdetection")
    items = voc_read(src)
    assert [c.filename for c in items] == ["/000002.jpg"]  # what <filename> says
    voc_to_dataloop_to_voc(src, tmp_path)
    assert sorted(p.name for p in (tmp_path / "voc" / "Annotations").iterdir()) == ["000001.xml"]
    assert parse(tmp_path / "voc" / "Annotations" / "000001.xml").findtext("filename") == "000002.jpg"


# ==== 2. the dtlpy-converters pair: VOC XML ↔ the Dataloop JSON the SDK made from it ==========================
def _json_boxes(path: Path) -> list[tuple]:
    item = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for annotation in item["annotations"]:
        (p0, p1) = annotation["coordinates"][:2]
        out.append((annotation["label"], p0["x"], p0["y"], p1["x"], p1["y"]))
    return sorted(out)


@requires_real_files
def test_dtlpy_pair_json_boxes_are_the_raw_voc_numbers():
    """The SDK's VOC import copies xmin/ymin/xmax/ymax as they are (no -1): JSON left = xmin.

    So dlconvert's default (voc_origin=1, detectron2's xmin-1) reads left = JSON left - 1 and the
    same right/bottom, and voc_origin=0 reads exactly the JSON boxes.
    """
    xmls = sorted((DTLPY / "voc" / "annotations").glob("*.xml"))
    assert len(xmls) == 10
    origin1 = {c.filename: c for c in voc_read(DTLPY / "voc" / "annotations")}
    origin0 = {c.filename: c for c in voc_read(DTLPY / "voc" / "annotations", voc_origin=0)}
    for xml in xmls:
        json_path = DTLPY / "dataloop" / "json" / f"{xml.stem}.json"
        expected = _json_boxes(json_path)
        raw = sorted((o["name"], *o["box"]) for o in voc_objects(parse(xml)))
        assert raw == expected  # the pair itself: identical numbers
        item1, item0 = origin1[f"/{xml.stem}.jpg"], origin0[f"/{xml.stem}.jpg"]
        read1 = sorted((b.label, b.left + 1, b.top + 1, b.right, b.bottom) for b in boxes_of(item1))
        read0 = sorted((b.label, b.left, b.top, b.right, b.bottom) for b in boxes_of(item0))
        assert read1 == expected
        assert read0 == expected
        system = json.loads(json_path.read_text(encoding="utf-8"))["metadata"]["system"]
        assert (item1.width, item1.height) == (system["width"], system["height"])


def test_dtlpy_pair_attributes_match_the_sdk_v1_attributes():
    """The SDK wrote each object's pose, plus "truncated" when truncated=1, as v1 attributes."""
    for xml in sorted((DTLPY / "voc" / "annotations").glob("*.xml")):
        item = json.loads((DTLPY / "dataloop" / "json" / f"{xml.stem}.json").read_text(encoding="utf-8"))
        expected = sorted((a["label"], a["coordinates"][0]["x"], sorted(a["attributes"])) for a in item["annotations"])
        (collection,) = voc_read(xml, voc_origin=0)
        got = []
        for box in boxes_of(collection):
            attributes = box.attributes
            v1 = [attributes["pose"]] + (["truncated"] if attributes["truncated"] == 1 else [])
            assert attributes["difficult"] in (0, 1) and attributes["truncated"] in (0, 1)
            got.append((box.label, box.left, sorted(v1)))
        assert sorted(got) == expected


@requires_real_files
def test_dtlpy_dataloop_json_written_with_origin0_reproduces_the_xml_numbers(tmp_path):
    report = Converter(options=ConvertOptions(voc_origin=0)).run(DTLPY / "dataloop" / "json", "dataloop",
                                                                  tmp_path / "voc", "voc")
    assert report.unbalanced() == {}
    for xml in sorted((DTLPY / "voc" / "annotations").glob("*.xml")):
        original = sorted((o["name"], o["box_text"]) for o in voc_objects(parse(xml)))
        written = parse(tmp_path / "voc" / "Annotations" / xml.name)
        written = sorted((o["name"], o["box_text"]) for o in voc_objects(written))
        assert written == original  # same text: integers stay integers


def test_origin_test_vectors():
    """Full-image box, 1-px box and an edge box, both conventions (conventions.md row 3)."""
    xml = (b"<annotation><filename>v.jpg</filename><size><width>8</width><height>6</height><depth>3</depth></size>"
           b"<object><name>full</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>8</xmax><ymax>6</ymax></bndbox></object>"
           b"<object><name>pixel</name><bndbox><xmin>5</xmin><ymin>3</ymin><xmax>5</xmax><ymax>3</ymax></bndbox></object>"
           b"<object><name>edge</name><bndbox><xmin>8</xmin><ymin>1</ymin><xmax>8</xmax><ymax>6</ymax></bndbox></object>"
           b"</annotation>")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.xml"
        path.write_bytes(xml)
        (one,) = voc_read(path)
        (zero,) = voc_read(path, voc_origin=0)
    assert [(b.left, b.top, b.right, b.bottom) for b in boxes_of(one)] == [(0, 0, 8, 6), (4, 2, 5, 3), (7, 0, 8, 6)]
    assert [(b.left, b.top, b.right, b.bottom) for b in boxes_of(zero)] == [(1, 1, 8, 6), (5, 3, 5, 3), (8, 1, 8, 6)]


# ==== 3. properties: Dataloop → VOC → Dataloop ===============================================================
def _xml_text(min_size: int = 1, max_size: int = 16) -> st.SearchStrategy[str]:
    """Text XML can hold (no control characters, surrogates or non-characters), no padding at the ends
    (VOC readers strip element text), rich in XML-special characters."""
    chars = st.characters(blacklist_categories=("Cs", "Cc", "Cn")) | st.sampled_from(list("&<>\"';\t]]>&amp;"))
    return st.text(chars, min_size=min_size, max_size=max_size).filter(lambda s: s == s.strip())


LABELS = _xml_text() | st.sampled_from(["a&b", "<cat>", 'say "hi"', "it's", "]]>", "&amp;", "猫 & 犬", "Ünïcödé ✓"])
ATTRIBUTES = st.dictionaries(_xml_text().filter(lambda k: k not in FLAGS), _xml_text(0), max_size=4)


@st.composite
def int_boxes(draw):
    left, right = sorted(draw(st.lists(st.integers(0, 5000), min_size=2, max_size=2, unique=True)))
    top, bottom = sorted(draw(st.lists(st.integers(0, 5000), min_size=2, max_size=2, unique=True)))
    return left, top, right, bottom


@st.composite
def float_boxes(draw):
    coords = st.floats(0, 5000, allow_nan=False, allow_infinity=False)
    left, right = sorted(draw(st.lists(coords, min_size=2, max_size=2, unique=True)))
    top, bottom = sorted(draw(st.lists(coords, min_size=2, max_size=2, unique=True)))
    return left, top, right, bottom


def _collection(boxes, labels, attributes) -> AnnotationCollection:
    collection = AnnotationCollection(filename="/sub/img.jpg", width=6000, height=6000)
    for (left, top, right, bottom), label, attrs in zip(boxes, labels, attributes, strict=True):
        collection.add(Box(left=left, top=top, right=right, bottom=bottom, label=label, attributes=attrs))
    return collection


def _check_boxes_round_trip(boxes, labels, attributes, origin, xml_number):
    with tempfile.TemporaryDirectory() as tmp:
        to_voc, back, (collection,) = dataloop_to_voc_to_dataloop([_collection(boxes, labels, attributes)], Path(tmp),
                                                                   voc_origin=origin)
        assert to_voc.unbalanced() == {} and back.unbalanced() == {}
        (written,) = every_xml_parses(Path(tmp) / "voc")
        objects = voc_objects(parse(written))
    shift = 1 if origin == 1 else 0
    assert [o["name"] for o in objects] == list(labels)
    for obj, (left, top, right, bottom) in zip(objects, boxes, strict=True):
        assert obj["box_text"] == [xml_number(left + shift), xml_number(top + shift), xml_number(right),
                                   xml_number(bottom)]
    got = boxes_of(collection)
    assert [(b.left, b.top, b.right, b.bottom) for b in got] == [tuple(b) for b in boxes]
    assert [b.label for b in got] == list(labels)
    assert [b.attributes for b in got] == list(attributes)


@given(data=st.data(), origin=st.sampled_from([1, 0]))
def test_integer_boxes_labels_and_attributes_survive_voc(data, origin):
    n = data.draw(st.integers(1, 4))
    boxes = data.draw(st.lists(int_boxes(), min_size=n, max_size=n))
    labels = data.draw(st.lists(LABELS, min_size=n, max_size=n))
    attributes = data.draw(st.lists(ATTRIBUTES, min_size=n, max_size=n))
    _check_boxes_round_trip(boxes, labels, attributes, origin, str)  # integers, no ".0"


@given(boxes=st.lists(float_boxes(), min_size=1, max_size=4))
def test_float_boxes_survive_voc_exactly_with_origin0(boxes):
    labels = [f"obj{i}" for i in range(len(boxes))]
    _check_boxes_round_trip(boxes, labels, [{}] * len(boxes), 0, fmt)


def devkit_indices(low: float, high: float) -> tuple[int, int]:
    """1-based first and last pixel whose centre lies in [low, high) — counted pixel by pixel; a span
    that holds no pixel centre keeps the pixels it lies in (the voc/bndbox.py rule)."""
    candidates = range(math.floor(low) - 2, math.ceil(high) + 3)
    inside = [i for i in candidates if low <= i + 0.5 < high]
    if inside:
        return inside[0] + 1, inside[-1] + 1
    touched = [i for i in candidates if i < high and i + 1 > low] or [math.floor(low)]
    return touched[0] + 1, touched[-1] + 1


@pytest.mark.parametrize(("low", "high", "expected"), [
    (0, 10, (1, 10)), (0.4, 9.6, (1, 10)), (0.5, 9.5, (1, 9)), (0.6, 9.4, (2, 9)), (3.2, 3.4, (4, 4)),
    (3.2, 4.4, (4, 4)), (3.6, 4.4, (4, 5))])
def test_devkit_indices_oracle(low, high, expected):
    """The oracle itself, on hand-worked spans (a centre at i + ½ is in when low ≤ i + ½ < high)."""
    assert devkit_indices(low, high) == expected


@given(box=float_boxes())
def test_float_boxes_with_origin1_become_pixel_indices_and_are_listed(box):
    """Devkit numbers are whole pixel indices (VOC tools parse them with int()): a box off the pixel grid
    is rounded to the pixels whose centres it covers, and listed as approximated exactly when it moves."""
    (xmin, xmax), (ymin, ymax) = devkit_indices(box[0], box[2]), devkit_indices(box[1], box[3])
    with tempfile.TemporaryDirectory() as tmp:
        to_voc, _, (collection,) = dataloop_to_voc_to_dataloop([_collection([box], ["x"], [{}])], Path(tmp))
        (obj,) = voc_objects(parse(Path(tmp) / "voc" / "Annotations" / "sub" / "img.xml"))
    assert obj["box_text"] == [str(xmin), str(ymin), str(xmax), str(ymax)]
    (got,) = boxes_of(collection)
    back = (xmin - 1, ymin - 1, xmax, ymax)
    assert (got.left, got.top, got.right, got.bottom) == back
    # changed as verify measures it: an edge moved more than 0.01 px and IoU under 0.999
    inter = (min(back[2], box[2]) - max(back[0], box[0])) * (min(back[3], box[3]) - max(back[1], box[1]))
    union = (back[2] - back[0]) * (back[3] - back[1]) + (box[2] - box[0]) * (box[3] - box[1]) - max(inter, 0)
    moved = max(abs(a - b) for a, b in zip(back, box, strict=True)) > 0.01 and max(inter, 0) / union < 0.999
    assert [i.code for i in to_voc.issues] == (["voc.box-rounded"] if moved else [])


def test_voc_flags_come_back_as_tags_and_values(tmp_path):
    attributes = [{"pose": "Left", "truncated": 1, "difficult": 0, "occluded": 1, "colour": "red & blue"},
                  {"pose": "Frontal", "difficult": 1}]
    to_voc, back, (collection,) = dataloop_to_voc_to_dataloop(
        [_collection([(0, 0, 5, 5), (1, 1, 9, 9)], ["a", "b"], attributes)], tmp_path)
    assert to_voc.unbalanced() == {} and back.unbalanced() == {}
    objects = voc_objects(parse(tmp_path / "voc" / "Annotations" / "sub" / "img.xml"))
    assert [(o["pose"], o["truncated"], o["difficult"], o["occluded"]) for o in objects] == [
        ("Left", "1", "0", "1"), ("Frontal", None, "1", None)]
    attribute_block = parse(tmp_path / "voc" / "Annotations" / "sub" / "img.xml").find("object/attributes")
    assert [(a.findtext("name"), a.findtext("value")) for a in attribute_block] == [("colour", "red & blue")]
    assert [b.attributes for b in boxes_of(collection)] == attributes


@pytest.mark.parametrize("label", ["a\rb", "line\nbreak", "tab\there"])
def test_inner_line_breaks_and_tabs_survive(tmp_path, label):
    _, _, (collection,) = dataloop_to_voc_to_dataloop([_collection([(0, 0, 5, 5)], [label], [{}])], tmp_path)
    assert [b.label for b in boxes_of(collection)] == [label]


# ==== 4. segmentation: palette PNGs both ways ================================================================
def _l_shape() -> tuple[Polygon, np.ndarray]:
    polygon = Polygon(geo=[[[20, 5], [30, 5], [30, 10], [25, 10], [25, 20], [20, 20]]], label="a&b <poly>")
    mask = np.zeros((30, 40), dtype=bool)  # pixel (r, c) is inside when its centre is: integer edges, no ambiguity
    mask[5:10, 20:30] = True
    mask[10:20, 20:25] = True
    return polygon, mask


def _disc() -> np.ndarray:
    rows, cols = np.mgrid[0:30, 0:40]
    return (rows - 20) ** 2 + (cols - 8) ** 2 <= 36


def _read_labelmap_json(path: Path) -> dict[str, int]:
    return {info["name"]: info["instance_id"] for info in json.loads(path.read_text(encoding="utf-8"))["labels"]}


def test_polygon_and_mask_become_palette_pngs_and_come_back(tmp_path):
    polygon, polygon_mask = _l_shape()
    disc = _disc()
    item = AnnotationCollection(filename="/scene.png", width=40, height=30)
    item.add(Box(left=1, top=1, right=4, bottom=4, label="dog"))
    item.add(polygon)
    item.add(Segmentation(geo=disc, label="cat", attributes={"colour": "grey"}))
    to_voc, back, (collection,) = dataloop_to_voc_to_dataloop([item], tmp_path)
    assert to_voc.unbalanced() == {} and back.unbalanced() == {}
    assert to_voc.annotations_out == {"box": 1, "segment": 1, "binary": 1}

    root = parse(tmp_path / "voc" / "Annotations" / "scene.xml")
    assert root.findtext("segmented") == "1"
    objects = voc_objects(root)
    assert [o["name"] for o in objects] == ["dog", "a&b <poly>", "cat"]
    assert objects[1]["box_text"] == ["21", "6", "30", "20"]  # the polygon's bounds, 1-based xmin/ymin
    cols, rows = np.nonzero(disc.T)
    # 1-based inclusive pixel indices of the disc: first pixel + 1 … last pixel + 1
    assert objects[2]["box_text"] == [str(v + 1) for v in (cols.min(), rows.min(), cols.max(), rows.max())]

    ids = _read_labelmap_json(tmp_path / "voc" / "labelmap.json")
    expected_class = np.zeros((30, 40), dtype=np.uint8)
    expected_class[polygon_mask] = ids["a&b <poly>"]
    expected_class[disc] = ids["cat"]
    expected_object = np.zeros((30, 40), dtype=np.uint8)
    expected_object[polygon_mask] = 2  # object number in XML order
    expected_object[disc] = 3
    for folder, expected in (("SegmentationClass", expected_class), ("SegmentationObject", expected_object)):
        with Image.open(tmp_path / "voc" / folder / "scene.png") as image:
            assert image.mode == "P"
            assert image.size == (40, 30)
            palette = image.getpalette()
            assert [tuple(palette[i:i + 3]) for i in range(0, 768, 3)] == voc_palette()
            assert np.array_equal(np.asarray(image), expected), folder

    segmentations = {a.label: a for a in collection if a.type == "binary"}
    assert set(segmentations) == {"a&b <poly>", "cat"}
    assert np.array_equal(segmentations["a&b <poly>"].annotation_definition.geo, polygon_mask)
    assert np.array_equal(segmentations["cat"].annotation_definition.geo, disc)
    assert segmentations["cat"].attributes == {"colour": "grey"}
    # one annotation per object (no second box), its <bndbox> kept with it
    assert [(a.type, a.label, a.object_id) for a in collection] == [
        ("box", "dog", "1"), ("binary", "a&b <poly>", "2"), ("binary", "cat", "3")]
    for obj, segmentation in zip(objects[1:], segmentations.values(), strict=True):
        assert segmentation.metadata["user"]["voc"]["bndbox"] == obj["box"]
    # the polygon comes back as its pixels: approximated, and said so; box and mask are exact
    assert [(i.kind, i.code, i.annotation_type) for i in to_voc.issues] == [
        ("approximated", "voc.shape-as-mask", "segment")]


@given(labels=hnp.arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=st.integers(0, 4)),
       names=st.lists(st.sampled_from(["cat", "dog", "a<b>&c", "ü"]), min_size=4, max_size=4))
def test_disjoint_masks_round_trip_pixel_for_pixel(labels, names):
    present = [k for k in range(1, 5) if (labels == k).any()]
    assume(present)
    height, width = labels.shape
    item = AnnotationCollection(filename="/m.png", width=width, height=height)
    for k in present:
        item.add(Segmentation(geo=labels == k, label=names[k - 1]))
    with tempfile.TemporaryDirectory() as tmp:
        to_voc, back, (collection,) = dataloop_to_voc_to_dataloop([item], Path(tmp))
        with Image.open(Path(tmp) / "voc" / "SegmentationObject" / "m.png") as image:
            objects = np.asarray(image).copy()
    assert to_voc.unbalanced() == {} and back.unbalanced() == {}
    expected_objects = np.zeros_like(labels)
    for number, k in enumerate(present, start=1):
        expected_objects[labels == k] = number
    assert np.array_equal(objects, expected_objects)
    got = [(a.label, a.annotation_definition.geo) for a in collection if a.type == "binary"]
    assert [label for label, _ in got] == [names[k - 1] for k in present]
    for (_, geo), k in zip(got, present, strict=True):
        assert np.array_equal(geo, labels == k)
    assert boxes_of(collection) == []  # each object is its mask alone
    for annotation, k in zip((a for a in collection if a.type == "binary"), present, strict=True):
        rows, cols = np.nonzero(labels == k)  # the <bndbox>: 1-based indices of the first and last pixel
        assert annotation.metadata["user"]["voc"]["bndbox"] == [cols.min() + 1, rows.min() + 1, cols.max() + 1,
                                                                rows.max() + 1]
    assert to_voc.issues == [] and back.issues == []


@requires_real_files
def test_real_segmentation_class_pngs_read_as_one_segmentation_per_class(tmp_path):
    # The dtlpy-converters layout names its folders annotations/ and segmentation_class/: lay the
    # copies out as VOC does (Annotations/, SegmentationClass/).
    shutil.copytree(DTLPY / "voc" / "annotations", tmp_path / "Annotations")
    shutil.copytree(DTLPY / "voc" / "segmentation_class", tmp_path / "SegmentationClass")
    items = {c.filename: c for c in voc_read(tmp_path)}
    assert len(items) == 10
    seen = set()
    for xml in sorted((tmp_path / "Annotations").glob("*.xml")):
        collection = items[f"/{xml.stem}.jpg"]
        segmentations = [a for a in collection if a.type == "binary"]
        png = tmp_path / "SegmentationClass" / f"{xml.stem}.png"
        if not png.exists():
            assert segmentations == []
            continue
        with Image.open(png) as image:
            assert image.mode == "P"
            values = np.asarray(image).copy()
        classes = [int(v) for v in np.unique(values) if v not in (0, 255)]
        assert [a.label for a in segmentations] == [VOC_NAMES[v] for v in classes]
        for annotation, value in zip(segmentations, classes, strict=True):
            assert np.array_equal(annotation.annotation_definition.geo, values == value)
            assert not (annotation.annotation_definition.geo & (values == 255)).any()  # void ignored
            assert annotation.object_id is None
        # the real data agree: every class painted is an object named in the XML
        assert {a.label for a in segmentations} <= {o["name"] for o in voc_objects(parse(xml))}
        seen.update(classes)
    assert {1, 15, 20} <= seen  # aeroplane, person, tvmonitor are among them


@requires_real_files
def test_real_object_png_gives_each_object_its_mask():
    """Real VOC2012 2007_000063: each <object> is one annotation, its mask (the pixels of its number in
    SegmentationObject, void left out) with its label and flags, its <bndbox> kept in its metadata."""
    items = {c.filename: c for c in voc_read(FIXTURES / "icevision" / "voc")}
    collection = items["/2007_000063.jpg"]
    xml = voc_objects(parse(FIXTURES / "icevision/voc/Annotations/2007_000063.xml"))
    objects = png_indices(FIXTURES / "icevision/voc/SegmentationObject/2007_000063.png")
    classes = png_indices(FIXTURES / "icevision/voc/SegmentationClass/2007_000063.png")
    assert [(a.type, a.label, a.object_id) for a in collection] == [("binary", "dog", "1"), ("binary", "chair", "2")]
    for number, (annotation, obj) in enumerate(zip(collection, xml, strict=True), start=1):
        mask = annotation.annotation_definition.geo
        assert np.array_equal(mask, objects == number)
        assert annotation.metadata["user"]["voc"]["bndbox"] == obj["box"]
        assert annotation.attributes["difficult"] == int(obj["difficult"])
        assert set(np.unique(classes[mask]).tolist()) == {VOC_NAMES.index(obj["name"])}


def test_class_png_values_follow_the_label_maps_instance_ids(tmp_path):
    """Non-contiguous instance ids: the class PNG holds them, and reading maps them back by id."""
    labels = LabelMap([LabelInfo("dog", 2, (10, 20, 30)), LabelInfo("cat", 5, (40, 50, 60))])
    item = AnnotationCollection(filename="/c.png", width=40, height=30)
    item.add(Segmentation(geo=_disc(), label="cat"))
    Converter(options=ConvertOptions(labels=labels)).save_to_file(tmp_path / "voc", "voc", item)
    with Image.open(tmp_path / "voc" / "SegmentationClass" / "c.png") as image:
        assert set(np.unique(np.asarray(image)).tolist()) == {0, 5}
    shutil.rmtree(tmp_path / "voc" / "SegmentationObject")  # class PNG only, as semantic datasets ship
    (collection,) = voc_read(tmp_path / "voc")
    (segmentation,) = [a for a in collection if a.type == "binary"]
    assert segmentation.label == "cat"
    assert np.array_equal(segmentation.annotation_definition.geo, _disc())


def test_object_png_numbers_count_skipped_objects(tmp_path):
    """Object n of the XML owns pixel value n even when an earlier object is skipped as invalid."""
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "o.xml").write_text(
        "<annotation><filename>o.jpg</filename><size><width>4</width><height>2</height><depth>3</depth></size>\n"
        "<object><name>first</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>1</xmax><ymax>1</ymax></bndbox></object>\n"
        "<object><name>broken</name></object>\n"
        "<object><name>third</name><bndbox><xmin>3</xmin><ymin>1</ymin><xmax>4</xmax><ymax>2</ymax></bndbox></object>\n"
        "</annotation>\n", encoding="utf-8")
    (tmp_path / "SegmentationObject").mkdir()
    Image.fromarray(np.array([[1, 2, 3, 3], [0, 2, 3, 3]], dtype=np.uint8), mode="L").save(
        tmp_path / "SegmentationObject" / "o.png")
    report = ConversionReport(on_error="skip")
    (collection,) = get_format("voc").read(tmp_path, ConvertOptions(), report).items
    masks = {a.label: a.annotation_definition.geo for a in collection if a.type == "binary"}
    assert np.array_equal(masks["third"], np.array([[0, 0, 1, 1], [0, 0, 1, 1]], dtype=bool))
    assert np.array_equal(masks["first"], np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool))
    assert [(i.kind, i.code, i.where) for i in report.issues] == [("skipped", "voc.invalid-object", "line 3")]


def test_mask_of_a_degenerate_box_is_written_as_its_own_object(tmp_path):
    """The box is skipped as degenerate (reported); the valid mask sharing its object id is not lost with it."""
    item = AnnotationCollection(filename="/z.png", width=10, height=10)
    item.add(Box(left=3, top=3, right=3, bottom=8, label="flat"), object_id=7)  # no area: skipped
    item.add(Segmentation(geo=np.ones((10, 10), dtype=bool), label="flat"), object_id=7)
    write_dataloop([item], tmp_path / "dl")
    report = Converter(on_error="skip").run(tmp_path / "dl", "dataloop", tmp_path / "voc", "voc")
    assert report.unbalanced() == {}
    assert [(i.kind, i.code, i.annotation_type) for i in report.issues] == [
        ("skipped", "voc.degenerate-shape", "box")]
    assert report.annotations_out == {"binary": 1}
    (obj,) = voc_objects(parse(tmp_path / "voc" / "Annotations" / "z.xml"))
    assert obj["box_text"] == ["1", "1", "10", "10"]  # the mask's pixels, not the skipped box


def test_box_and_its_mask_are_one_object(tmp_path):
    """A box and the mask of the same object id and label: one <object> (the box its <bndbox>, the mask its
    pixels), read back as one mask annotation — so the box is listed, not counted as coming back."""
    item = AnnotationCollection(filename="/p.png", width=40, height=30)
    item.add(Box(left=4, top=11, right=16, bottom=29, label="cat"), object_id=3)
    item.add(Segmentation(geo=_disc(), label="cat"), object_id=3)
    to_voc, back, (collection,) = dataloop_to_voc_to_dataloop([item], tmp_path)
    assert to_voc.unbalanced() == {} and back.unbalanced() == {}
    assert [(i.kind, i.code, i.annotation_type) for i in to_voc.issues] == [("skipped", "voc.box-of-mask", "box")]
    (obj,) = voc_objects(parse(tmp_path / "voc" / "Annotations" / "p.xml"))
    assert obj["box_text"] == ["5", "12", "16", "29"]
    (mask,) = collection
    assert mask.type == "binary" and np.array_equal(mask.annotation_definition.geo, _disc())
    assert mask.metadata["user"]["voc"]["bndbox"] == [5, 12, 16, 29]
    with Image.open(tmp_path / "voc" / "SegmentationObject" / "p.png") as image:
        assert np.array_equal(np.asarray(image) == 1, _disc())


def test_polygon_and_mask_sharing_an_object_id_are_each_counted_once(tmp_path):
    polygon, polygon_mask = _l_shape()
    item = AnnotationCollection(filename="/shared.png", width=40, height=30)
    item.add(polygon, object_id=5)
    item.add(Segmentation(geo=_disc(), label="cat"), object_id=5)
    write_dataloop([item], tmp_path / "dl")
    report = Converter().run(tmp_path / "dl", "dataloop", tmp_path / "voc", "voc")
    assert report.unbalanced() == {}
    assert report.annotations_out == {"segment": 1, "binary": 1}
    assert [o["name"] for o in voc_objects(parse(tmp_path / "voc" / "Annotations" / "shared.xml"))] == [
        "a&b <poly>", "cat"]
    with Image.open(tmp_path / "voc" / "SegmentationObject" / "shared.png") as image:
        objects = np.asarray(image)
        assert np.array_equal(objects == 1, polygon_mask & ~_disc()) and np.array_equal(objects == 2, _disc())


# ==== 5. COCO → VOC, checked against the COCO numbers ==============================================================
COCO = real_file("coco")


@requires_real_files
@pytest.mark.parametrize("origin", [1, 0])
@pytest.mark.parametrize("source", ["mmdetection/coco_sample.json",
                                    "datumaro/roboflow_coco/train/_annotations.coco.json"])
def test_coco_boxes_land_where_the_bbox_says(tmp_path, source, origin):
    coco = json.loads((COCO / source).read_text(encoding="utf-8"))
    report = Converter(options=ConvertOptions(voc_origin=origin)).run(COCO / source, "coco", tmp_path, "voc",
                                                                       overwrite=True)
    assert report.unbalanced() == {}
    every_xml_parses(tmp_path)
    names = {c["id"]: c["name"] for c in coco["categories"]}
    shift = 1 if origin == 1 else 0
    for image in coco["images"]:
        root = parse(tmp_path / "Annotations" / (Path(image["file_name"]).stem + ".xml"))
        assert voc_size(root) == {"width": str(image["width"]), "height": str(image["height"]), "depth": "3"}
        records = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
        objects = voc_objects(root)
        assert len(objects) == len(records)  # an image without annotations still gets its (empty) XML
        for obj, record in zip(objects, records, strict=True):
            x, y, w, h = record["bbox"]
            assert obj["name"] == names[record["category_id"]]
            assert obj["box_text"] == [fmt(x + shift), fmt(y + shift), fmt(x + w), fmt(y + h)]


def decimal_text(a: float, b: float) -> str:
    """``a + b`` at the decimals the COCO file wrote them with: 500.27 + 22.8 → "523.07"."""
    total = Decimal(repr(a)) + Decimal(repr(b))
    return str(int(total)) if total == total.to_integral_value() else format(total.normalize(), "f")


COCO_DUMMY = COCO / "mmdetection/coco_dummy/annotations/instances_val2017.json"


@requires_real_files
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")  # pycocotools
@pytest.mark.parametrize("origin", [1, 0])
def test_coco_objects_keep_their_declared_bbox(tmp_path, origin):
    """Real COCO val2017 records (coco_dummy): an unchanged COCO object's VOC box is the COCO file's own
    bbox, not its polygon's extent or its mask's pixel extent — they differ (the RLE's bbox is 1 px short
    of its pixels), and the dataset's declared box is what its users trained on. With the devkit origin
    the numbers are whole pixel indices; with origin 0 they are COCO's own, without float noise."""
    coco = json.loads(COCO_DUMMY.read_text(encoding="utf-8"))
    crowd = [r for r in coco["annotations"] if r["iscrowd"]]
    assert len(crowd) == 1
    crowd[0]["iscrowd"] = 0  # a mask object (iscrowd 0) here; crowd regions are skipped, see below
    source = tmp_path / "instances.json"
    source.write_text(json.dumps(coco), encoding="utf-8")
    report = Converter(options=ConvertOptions(voc_origin=origin)).run(source, "coco", tmp_path / "voc", "voc")
    assert report.unbalanced() == {}
    every_xml_parses(tmp_path / "voc")
    names = {c["id"]: c["name"] for c in coco["categories"]}
    checked = {"polygon": 0, "rle": 0}
    noisy = 0
    for image in coco["images"]:
        root = parse(tmp_path / "voc" / "Annotations" / (Path(image["file_name"]).stem + ".xml"))
        records = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
        objects = voc_objects(root)
        assert [o["name"] for o in objects] == [names[r["category_id"]] for r in records]
        for obj, record in zip(objects, records, strict=True):
            x, y, w, h = record["bbox"]
            if origin == 1:
                (xmin, xmax), (ymin, ymax) = devkit_indices(x, x + w), devkit_indices(y, y + h)
                assert obj["box_text"] == [str(xmin), str(ymin), str(xmax), str(ymax)]
            else:
                assert obj["box_text"] == [fmt(x), fmt(y), decimal_text(x, w), decimal_text(y, h)]
                noisy += fmt(x + w) != decimal_text(x, w) or fmt(y + h) != decimal_text(y, h)
            if isinstance(record["segmentation"], list):
                xs = [v for part in record["segmentation"] for v in part[0::2]]
                ys = [v for part in record["segmentation"] for v in part[1::2]]
                assert [min(xs), min(ys), max(xs), max(ys)] == pytest.approx([x, y, x + w, y + h], abs=0.011)
                checked["polygon"] += 1
            else:
                rle = mask_utils.frPyObjects(record["segmentation"], image["height"], image["width"])
                _, _, pw, ph = (float(v) for v in mask_utils.toBbox(rle))
                assert (pw, ph) != (w, h)  # the declared box really differs from the pixels here
                checked["rle"] += 1
    assert checked == {"polygon": 36, "rle": 1}
    assert origin == 1 or noisy  # float x + w really is noisy in this file: the rule is exercised


@requires_real_files
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")  # pycocotools
def test_coco_crowd_regions_are_skipped_and_reported(tmp_path):
    """VOC has no ignore regions: a COCO crowd region is skipped and listed, as YOLO does, never an object."""
    coco = json.loads(COCO_DUMMY.read_text(encoding="utf-8"))
    (crowd,) = [r for r in coco["annotations"] if r["iscrowd"]]
    report = Converter().run(COCO_DUMMY, "coco", tmp_path, "voc")
    assert report.unbalanced() == {}
    skipped = [(i.code, i.annotation_type) for i in report.issues if i.kind == "skipped"]
    assert skipped == [("voc.crowd-region", "binary")]
    image = next(i for i in coco["images"] if i["id"] == crowd["image_id"])
    records = [a for a in coco["annotations"] if a["image_id"] == image["id"] and not a["iscrowd"]]
    objects = voc_objects(parse(tmp_path / "Annotations" / (Path(image["file_name"]).stem + ".xml")))
    assert len(objects) == len(records)


# ==== 6. hostile input through the CLI ===============================================================
BILLION_LAUGHS = "\n".join(
    ['<?xml version="1.0"?>', "<!DOCTYPE annotation [", ' <!ENTITY lol "lol">']
    + [f' <!ENTITY lol{i} "' + ("&lol;" if i == 1 else f"&lol{i - 1};") * 10 + '">' for i in range(1, 10)]
    + ["]>", "<annotation><filename>a.jpg</filename><object><name>&lol9;</name>"
       "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>", ""])
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE annotation [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n'
       "<annotation><filename>a.jpg</filename><object><name>&xxe;</name>"
       "<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>\n")
NO_BNDBOX = "<annotation>\n  <filename>a.jpg</filename>\n  <object>\n    <name>cat</name>\n  </object>\n</annotation>\n"
NOT_A_NUMBER = ("<annotation>\n  <filename>a.jpg</filename>\n  <object>\n    <name>cat</name>\n    <bndbox>\n"
                "      <xmin>abc</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax>\n    </bndbox>\n  </object>\n"
                "</annotation>\n")
TRUNCATED = "<annotation>\n  <filename>a.jpg</filename>\n  <object>\n    <name>cat</na"
GOOD = ("<annotation>\n  <filename>{stem}.jpg</filename>\n  <size><width>50</width><height>40</height></size>\n"
        "  <object>\n    <name>cat</name>\n"
        "    <bndbox><xmin>1</xmin><ymin>2</ymin><xmax>10</xmax><ymax>20</ymax></bndbox>\n"
        "  </object>\n  <object>\n    <name>dog</name>\n"
        "    <bndbox><xmin>5</xmin><ymin>6</ymin><xmax>30</xmax><ymax>35</ymax></bndbox>\n  </object>\n</annotation>\n")


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


HOSTILE = [  # (id, file name, content or None for a directory, message part, line or None)
    ("xxe", "a.xml", XXE, "entity declarations is refused", _line_of(XXE, "<!ENTITY")),
    ("billion-laughs", "a.xml", BILLION_LAUGHS, "entity declarations is refused", _line_of(BILLION_LAUGHS, "<!ENTITY")),
    ("missing-bndbox", "a.xml", NO_BNDBOX, "<object> has no <bndbox>", _line_of(NO_BNDBOX, "<object>")),
    ("not-a-number", "a.xml", NOT_A_NUMBER, "<xmin> is not a number: 'abc'", _line_of(NOT_A_NUMBER, "<bndbox>")),
    ("truncated", "a.xml", TRUNCATED, "invalid XML", TRUNCATED.count("\n") + 1),
    ("directory", "x.xml", None, "expected an XML file, found a directory", None),
]


def _limit_memory() -> None:  # an expanded billion laughs needs ~3 GB
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))


def _cli(*args: str, cwd: Path, limit_memory: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([str(DLCONVERT), *args], cwd=cwd, capture_output=True, text=True, timeout=60,
                          preexec_fn=_limit_memory if limit_memory else None)


@pytest.mark.parametrize(("name", "filename", "content", "message", "line"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_voc_fails_with_one_line_naming_file_and_line(tmp_path, name, filename, content, message, line):
    (tmp_path / "src").mkdir()
    if content is None:
        (tmp_path / "src" / filename).mkdir()
    else:
        (tmp_path / "src" / filename).write_text(content, encoding="utf-8")
    started = time.monotonic()
    result = _cli("convert", "src", "out", "--from", "voc", "--to", "dataloop", cwd=tmp_path, limit_memory=True)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    place = f"src/{filename}:line {line}: " if line is not None else f"src/{filename}: "
    assert lines[0].startswith(f"error: {place}"), lines[0]
    assert message in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no output, no staging folder left
    assert elapsed < 20


def test_hostile_files_are_skipped_and_listed_with_on_error_skip(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.xml").write_text(GOOD.format(stem="good"), encoding="utf-8")
    mixed = ("<annotation>\n  <filename>mixed.jpg</filename>\n  <object>\n    <name>ok</name>\n"
             "    <bndbox><xmin>2</xmin><ymin>3</ymin><xmax>4.5</xmax><ymax>6</ymax></bndbox>\n  </object>\n"
             + NO_BNDBOX.split("<annotation>\n  <filename>a.jpg</filename>\n")[1].replace("</annotation>\n", "")
             + NOT_A_NUMBER.split("<annotation>\n  <filename>a.jpg</filename>\n")[1])
    (src / "mixed.xml").write_text(mixed, encoding="utf-8")
    (src / "xxe.xml").write_text(XXE, encoding="utf-8")
    (src / "laughs.xml").write_text(BILLION_LAUGHS, encoding="utf-8")
    (src / "truncated.xml").write_text(TRUNCATED, encoding="utf-8")
    (src / "folder.xml").mkdir()
    result = _cli("convert", "src", "out", "--from", "voc", "--to", "dataloop", "--on-error", "skip",
                  "--report", "report.json", cwd=tmp_path)
    assert result.returncode == 1  # some files failed
    assert "Traceback" not in result.stderr
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["balanced"] is True
    assert report["annotations_in"] == {"box": 5} and report["annotations_out"] == {"box": 3}
    assert report["skipped"] == {"box": 2}
    failed = sorted((i["path"], i["code"]) for i in report["issues"] if i["kind"] == "failed")
    bad_files = ("folder.xml", "laughs.xml", "truncated.xml", "xxe.xml")
    assert failed == [(f"src/{n}", "voc.invalid-file") for n in bad_files]
    skipped = sorted((i["path"], i["where"], i["code"]) for i in report["issues"] if i["kind"] == "skipped")
    object_lines = [i + 1 for i, text in enumerate(mixed.splitlines()) if text.strip() == "<object>"]
    bndbox_lines = [i + 1 for i, text in enumerate(mixed.splitlines()) if text.strip() == "<bndbox>"]
    assert skipped == sorted([("src/mixed.xml", f"line {object_lines[1]}", "voc.invalid-object"),
                              ("src/mixed.xml", f"line {bndbox_lines[0]}", "voc.invalid-object")])
    good = json.loads((tmp_path / "out" / "json" / "good.json").read_text(encoding="utf-8"))
    assert [(a["label"], [[p["x"], p["y"]] for p in a["coordinates"][:2]]) for a in good["annotations"]] == [
        ("cat", [[0, 1], [10, 20]]), ("dog", [[4, 5], [30, 35]])]
    kept = json.loads((tmp_path / "out" / "json" / "mixed.json").read_text(encoding="utf-8"))
    assert [(a["label"], [[p["x"], p["y"]] for p in a["coordinates"][:2]]) for a in kept["annotations"]] == [
        ("ok", [[1, 2], [4.5, 6]])]
    assert sorted(p.name for p in (tmp_path / "out" / "json").iterdir()) == ["good.json", "mixed.json"]


def test_bad_labelmap_txt_colour_names_the_line(tmp_path):
    (tmp_path / "Annotations").mkdir()
    (tmp_path / "Annotations" / "g.xml").write_text(GOOD.format(stem="g"), encoding="utf-8")
    (tmp_path / "labelmap.txt").write_text("# label:color_rgb:parts:actions\nbackground:0,0,0::\ncat:12,x,3::\n",
                                           encoding="utf-8")
    with pytest.raises(FormatError) as caught:
        voc_read(tmp_path)
    assert caught.value.where == "line 3" and caught.value.path.endswith("labelmap.txt")


# ==== 7. written XML is well-formed, escaped, and nothing is eval-ed =============================================
def test_written_xml_escapes_and_parses(tmp_path):
    hostile = ['</name><name>x', "a & b", "<![CDATA[x]]>", '"quoted" \'single\'', "<!-- c -->", "&lol9;"]
    item = AnnotationCollection(filename="/esc.jpg", width=20, height=20)
    for label in hostile:
        item.add(Box(left=1, top=1, right=5, bottom=5, label=label, attributes={"k<": "v&>"}))
    Converter().save_to_file(tmp_path, "voc", item)
    (written,) = every_xml_parses(tmp_path)
    raw = written.read_text(encoding="utf-8")
    assert "<!DOCTYPE" not in raw and "<![CDATA[" not in raw and "&lol9;" not in raw
    objects = voc_objects(parse(written))
    assert [o["name"] for o in objects] == hostile
    assert all(len(o["nested"]) == 1 for o in objects)  # one <attributes> block each, nothing injected


@pytest.mark.parametrize("label", ["bell\x07", "nul\x00byte", "esc\x1b[0m", "non\ufffecharacter"])
def test_text_xml_cannot_hold_is_skipped_and_reported(tmp_path, label):
    item = AnnotationCollection(filename="/ctl.jpg", width=20, height=20)
    item.add(Box(left=1, top=1, right=5, bottom=5, label="fine"))
    item.add(Box(left=2, top=2, right=6, bottom=6, label=label))
    item.add(Box(left=3, top=3, right=7, bottom=7, label="attr", attributes={"note": label}))
    write_dataloop([item], tmp_path / "dl")
    report = Converter(on_error="skip").run(tmp_path / "dl", "dataloop", tmp_path / "voc", "voc")
    assert report.unbalanced() == {}
    assert [i.code for i in report.issues] == ["voc.invalid-text", "voc.invalid-text"]
    (written,) = every_xml_parses(tmp_path / "voc")
    assert [o["name"] for o in voc_objects(parse(written))] == ["fine"]


@pytest.mark.parametrize("fragment", ["<broken", '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "<x>&undefined;</x>",
                                      "not xml", 42])
def test_hostile_extra_xml_in_dataloop_metadata_is_refused(tmp_path, fragment):
    """``metadata.user.voc.extra_xml`` comes from the item JSON: it is parsed like any untrusted XML."""
    item = AnnotationCollection(filename="/x.jpg", width=20, height=20, _item_json={
        "filename": "/x.jpg", "metadata": {"system": {"width": 20, "height": 20},
                                           "user": {"voc": {"extra_xml": ["<owner>me</owner>", fragment]}}}})
    item.add(Box(left=1, top=1, right=5, bottom=5, label="x"))
    write_dataloop([item], tmp_path / "dl")
    with pytest.raises(FormatError) as caught:
        Converter().run(tmp_path / "dl", "dataloop", tmp_path / "out", "voc")
    assert caught.value.where == "/metadata/user/voc/extra_xml/1"
    assert not (tmp_path / "out").exists()
    report = Converter(on_error="skip").run(tmp_path / "dl", "dataloop", tmp_path / "skip", "voc")
    assert [(i.kind, i.code) for i in report.issues] == [("failed", "voc.invalid-extra-xml")]
    (written,) = every_xml_parses(tmp_path / "skip")
    root = parse(written)
    assert [canon(e) for e in root.findall("owner")] == [("owner", "me", ())]
    assert "&a;" not in written.read_text(encoding="utf-8")


def test_two_items_on_one_xml_are_refused_not_overwritten(tmp_path):
    items = []
    for filename in ("/a.jpg", "/a.png"):
        item = AnnotationCollection(filename=filename, width=10, height=10)
        item.add(Box(left=1, top=1, right=3, bottom=3, label=filename))
        items.append(item)
    write_dataloop(items, tmp_path / "dl", naming="v2")
    with pytest.raises(OutputError, match=r"both map to Annotations/a\.xml"):
        Converter().run(tmp_path / "dl", "dataloop", tmp_path / "voc", "voc")
    assert not (tmp_path / "voc").exists()


@requires_real_files
def test_size_comes_from_the_image_when_the_xml_has_none(tmp_path):
    src = tmp_path / "src"
    (src / "Annotations").mkdir(parents=True)
    (src / "JPEGImages").mkdir()
    shutil.copy(FIXTURES / "datumaro/voc_dataset/voc_dataset2/Annotations/a.xml", src / "Annotations" / "a.xml")
    image = FIXTURES / "datumaro/voc_dataset/voc_dataset1/JPEGImages/2007_000001.jpg"
    shutil.copy(image, src / "JPEGImages" / "a.jpg")
    assert parse(src / "Annotations" / "a.xml").find("size") is None
    with Image.open(image) as opened:
        width, height = opened.size
    for place in (src, src / "Annotations", src / "Annotations" / "a.xml"):  # JPEGImages/ of the tree around it
        (collection,) = voc_read(place)
        assert (collection.width, collection.height) == (width, height), place
    Converter().run(src, "voc", tmp_path / "out", "voc")
    assert voc_size(parse(tmp_path / "out" / "Annotations" / "a.xml")) == {
        "width": str(width), "height": str(height), "depth": "3"}


@requires_real_files
def test_without_masks_shapes_are_written_as_their_boxes_and_listed(fixtures_dir, tmp_path):
    """``voc_masks=False``: the same XML objects as with masks, no PNGs, every shape listed as approximated."""
    src = fixtures_dir / "dataloop/dtlpy-converters-examples/coco/coco/annotations.json"
    with_masks = Converter().run(src, "coco", tmp_path / "with", "voc")
    without = Converter(options=ConvertOptions(voc_masks=False)).run(src, "coco", tmp_path / "without", "voc")
    assert not list((tmp_path / "without").glob("Segmentation*"))
    assert list((tmp_path / "with").glob("SegmentationClass/*.png"))
    for xml in sorted((tmp_path / "with" / "Annotations").rglob("*.xml")):
        other = tmp_path / "without" / xml.relative_to(tmp_path / "with")
        assert xml.read_text().replace("<segmented>1</segmented>", "<segmented>0</segmented>") == other.read_text()
    shapes = sum(n for t, n in with_masks.annotations_out.items() if t != "box")
    assert shapes and sum(i.code == "voc.shape-as-box" for i in without.issues) == shapes
    assert without.annotations_out == with_masks.annotations_out and not without.unbalanced()


@pytest.mark.parametrize("shape", [(7, 5), (1,), (600, 400), (0,), (5, 1)])
def test_the_values_of_an_index_picture_are_np_uniques(shape):
    from dlconvert.formats.voc.read import _present

    values = np.random.default_rng(len(shape)).integers(0, 256, shape).astype(np.uint8)
    assert _present(values) == [int(v) for v in np.unique(values)]
    assert _present(values[values > 100]) == [int(v) for v in np.unique(values[values > 100])]
    assert _present(values.astype(np.uint16) * 3) == [int(v) for v in np.unique(values.astype(np.uint16) * 3)]
