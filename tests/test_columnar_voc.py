"""The columnar VOC writer (dlconvert.formats.voc.columns) against the object writer: the same files, byte for byte,
and the same report, for every real COCO file and for hypothesis-made COCO documents full of what the writer treats
apart — float boxes (half-pixel edges, float noise), boxes outside the image, empty boxes, crowd regions, rectangles
that are boxes, degenerate and multi-part polygons, masks, label-only records, attributes, XML-special and unicode
labels and file names, unsafe and colliding file names, images without a size.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
from columnar_support import real_coco_files, tree
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from realfiles import AVAILABLE, NO_REAL_FILES, real_file

from dlconvert import Converter, ConvertOptions, parallel
from dlconvert._text import join_tokens, side_by_side, text_matrix
from dlconvert.formats import _cache, get_format
from dlconvert.formats.coco.columns import read_table
from dlconvert.formats.voc.columns import write_table
from dlconvert.report import ConversionReport


def _convert(src: Path, dst: Path, on_error: str, columnar: bool, workers: int = 1, **options):
    """The conversion's report (outputs relative to ``dst``) or its error, and whether the columnar writer wrote."""
    saved = get_format("voc")
    taken = []

    def recording(*args, **kwargs):
        written = saved.write_table(*args, **kwargs)
        taken.append(written is not None)
        return written

    _cache["voc"] = dataclasses.replace(saved, write_table=recording if columnar else None)
    try:
        report = Converter(on_error=on_error, concurrency=workers, options=ConvertOptions(**options)).run(
            src, "coco", dst, "voc")
    except Exception as exc:  # both paths must fail alike
        return f"{type(exc).__name__}: {exc}", taken == [True]
    finally:
        _cache["voc"] = saved
    facts = report.to_json()
    facts["outputs"] = [os.path.relpath(p, dst) for p in facts["outputs"]]
    return facts, taken == [True]


def assert_same(src: Path, work: Path, on_error: str = "skip", workers: int = 1, **options) -> bool:
    """The object path in one process and the columnar path on ``workers`` write the same; whether the columnar
    writer wrote."""
    by_objects, _ = _convert(src, work / "objects", on_error, False, **options)
    by_columns, taken = _convert(src, work / "columns", on_error, True, workers, **options)
    assert by_columns == by_objects
    if isinstance(by_objects, dict):
        assert tree(work / "columns") == tree(work / "objects")
    return taken


@pytest.mark.parametrize("masks", [False, True])
@pytest.mark.parametrize("path", real_coco_files())
def test_real_coco_files_give_the_same_voc_both_ways(path, masks, tmp_path):
    assert_same(path, tmp_path, voc_masks=masks)


#: Real files of several images the columnar path writes with the PNGs off.
_TAKEN = ["coco/icevision/annotations.json", "coco/mmdetection/coco_dummy/annotations/instances_val2017.json",
          "coco/dagshub/annotations.json", "dataloop/dtlpy-converters-examples/coco/coco/annotations.json"]


@pytest.mark.parametrize("name", _TAKEN if AVAILABLE else NO_REAL_FILES)
def test_the_columnar_path_writes_real_files_on_two_workers_as_one_process_does(name, tmp_path, monkeypatch):
    """Items cut into ranges of one item, written by forked workers sharing the table."""
    pools = []
    real_pool = parallel.worker_pool
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    monkeypatch.setattr(parallel, "worker_pool", lambda workers: pools.append(workers) or real_pool(workers))
    assert assert_same(real_file(name), tmp_path, workers=2, voc_masks=False)
    assert pools == [2]


def test_boxes_alone_take_the_columnar_path_with_the_pngs_on(tmp_path):
    if not AVAILABLE:
        pytest.skip("needs the real-file corpus")
    assert assert_same(real_file("coco/mmdetection/coco_sample.json"), tmp_path)  # boxes: nothing to draw


def test_rows_with_attributes_beside_a_crowd_mask_take_the_columnar_path(tmp_path):
    if not AVAILABLE:
        pytest.skip("needs the real-file corpus")
    assert assert_same(real_file("coco/datumaro/coco_roboflow/val/_annotations.coco.json"), tmp_path, voc_masks=False)


def _write(tmp_path: Path, document: dict) -> Path:
    src = tmp_path / "coco.json"
    src.write_text(json.dumps(document), encoding="utf-8")
    return src


def _document(boxes: list, name: str = "cat", file_name: str = "a.jpg") -> dict:
    return {"images": [{"id": 1, "file_name": file_name, "width": 64, "height": 48}],
            "categories": [{"id": 1, "name": name}],
            "annotations": [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": box} for i, box in enumerate(boxes)]}


def test_a_right_edge_whose_decimal_sum_is_not_the_float_sum_is_the_object_writers(tmp_path):
    """20.5 + 10.000000000000002 is 30.5 in floats but 30.500000000000004 summed in decimal, as the object writer
    sums it: its last pixel is 31, not the 30 of the table's float sum. Such a row goes to the object code."""
    src = _write(tmp_path, _document([[20.5, 2, 10.000000000000002, 5], [20.5, 2, 10, 5]]))
    assert 20.5 + 10.000000000000002 == 30.5
    assert assert_same(src, tmp_path / "out", voc_masks=False)
    xml = (tmp_path / "out" / "columns" / "Annotations" / "a.xml").read_text()
    assert xml.count("<xmax>31</xmax>") == 1 and xml.count("<xmax>30</xmax>") == 1


def test_labels_and_file_names_are_escaped_as_lxml_escapes_them(tmp_path):
    src = _write(tmp_path, _document([[1, 2, 3, 4]], name='a & <b> "c" é😀', file_name="dir/x&y <1>.jpg"))
    assert assert_same(src, tmp_path / "out", voc_masks=False)
    xml = (tmp_path / "out" / "columns" / "Annotations" / "dir" / "x&y <1>.xml").read_text(encoding="utf-8")
    assert '<name>a &amp; &lt;b&gt; "c" é😀</name>' in xml and "<filename>x&amp;y &lt;1&gt;.jpg</filename>" in xml


@pytest.mark.parametrize("options", [{"voc_origin": 0}, {"voc_masks": True}])
def test_jobs_only_the_object_writer_does_are_left_to_it(options, tmp_path):
    document = _document([[1, 2, 3, 4]])
    document["annotations"].append({"id": 9, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4],
                                    "segmentation": [[1, 1, 5, 1, 5, 5, 2, 4]]})
    src = _write(tmp_path, document)
    table = read_table(src, ConvertOptions())
    assert table is not None
    assert write_table(table, tmp_path / "out", ConvertOptions(**options), ConversionReport()) is None
    assert not (tmp_path / "out").exists()  # nothing written before saying so
    assert not assert_same(src, tmp_path / "both", **options)


def test_text_matrices_lay_out_constants_and_fields_side_by_side():
    names = text_matrix([b"a", b"", "é".encode()])
    text, ends = join_tokens(side_by_side([b"<", names, b">"], 3), np.full(3, ord("\n"), dtype=np.uint8))
    assert text == "<a>\n<>\n<é>\n".encode() and ends.tolist() == [4, 7, 12]


# ==== hypothesis: COCO documents with every case the writer treats apart ==================================
_LABELS = ["cat", "dog", " padded ", "a & <b>", "é😀", "tab\tx", "ctrl\x01", ""]
_FILE_NAMES = ["img_{}.jpg", "dir/sub/img_{}.png", "we&ird <{}>.jpg", "ünï {}.jpeg", "../up_{}.jpg", "same.jpg",
               "/rooted/{}.jpg"]
_NOISE = 2.0 ** -49  # 10 + this is 10.000000000000002: float sums and decimal sums part


def _number(draw, low: float, high: float) -> float:
    value = draw(st.one_of(st.integers(int(low), int(high)), st.floats(low, high).map(lambda v: round(v, 2)),
                           st.integers(int(low), int(high)).map(lambda v: v + 0.5)))
    return value + _NOISE * draw(st.sampled_from([0, 0, 0, 1, -1])) * max(abs(value), 1)


@st.composite
def _ring(draw, width: int, height: int) -> list:
    kind = draw(st.sampled_from(["free", "free", "rectangle", "collinear", "short", "empty", "point", "bowtie"]))
    if kind == "rectangle":
        x0, y0 = _number(draw, -5, width - 2), _number(draw, -5, height - 2)
        x1, y1 = x0 + _number(draw, 1, width), y0 + _number(draw, 1, height)
        return [x0, y0, x1, y0, x1, y1, x0, y1]
    fixed = {"collinear": [1, 1, 5, 5, 9, 9], "short": [3, 4, 8, 9], "empty": [], "point": [7, 7, 7, 7, 7, 7],
             "bowtie": [0, 0, 4, 4, 4, 0, 0, 4]}
    if kind in fixed:
        return fixed[kind]
    return [_number(draw, -20, width + 20) for _ in range(2 * draw(st.integers(3, 7)))]


@st.composite
def _record(draw, image_id: int, categories: list, width: int, height: int) -> dict:
    record = {"image_id": image_id, "category_id": draw(st.sampled_from(categories))["id"]}
    shape = draw(st.sampled_from(["box", "box", "polygon", "polygons", "crowd", "mask", "label", "empty-box"]))
    if shape in ("box", "empty-box"):
        x, y = _number(draw, -30, width + 10), _number(draw, -30, height + 10)
        w = 0 if shape == "empty-box" else _number(draw, 0, width)
        record["bbox"] = [x, y, w, _number(draw, 0, height)]
    elif shape in ("polygon", "polygons"):
        rings = draw(st.lists(_ring(width, height), min_size=1, max_size=1 if shape == "polygon" else 3))
        record["segmentation"] = rings
        points = [v for ring in rings for v in ring]
        if points and draw(st.booleans()):
            xs, ys = points[0::2], points[1::2]
            record["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    elif shape in ("crowd", "mask"):
        counts = [3, 5, width * height - 8]
        record.update(iscrowd=int(shape == "crowd"), bbox=[0, 3, 1, 5],
                      segmentation={"size": [height, width], "counts": counts})
    if draw(st.integers(0, 5)) == 0:
        record["attributes"] = draw(st.sampled_from([{"occluded": True}, {"pose": "Left"}, {"note": " spaced "},
                                                     {"bad": "\x02"}, {}]))
    return record


@st.composite
def coco_documents(draw) -> dict:
    ids = draw(st.lists(st.integers(1, 90), min_size=1, max_size=4, unique=True))
    names = draw(st.lists(st.sampled_from(_LABELS), min_size=len(ids), max_size=len(ids), unique=True))
    categories = [{"id": i, "name": name, "supercategory": "thing"} for i, name in zip(ids, names, strict=True)]
    images, annotations = [], []
    for index in range(draw(st.integers(1, 4))):
        width, height = draw(st.sampled_from([(64, 48), (33, 25), (640, 480)]))
        image = {"id": 100 + index, "file_name": draw(st.sampled_from(_FILE_NAMES)).format(index)}
        if draw(st.integers(0, 9)):
            image.update(width=width, height=height)
        images.append(image)
        for _ in range(draw(st.integers(0, 5))):
            annotations.append(draw(_record(100 + index, categories, width, height)))
    for number, record in enumerate(annotations):
        record["id"] = number + 1
    draw(st.randoms()).shuffle(annotations)  # COCO files need not group records by image
    return {"images": images, "annotations": annotations, "categories": categories}


_CLEAN = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
          "categories": [{"id": 1, "name": "cat"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [20.5, 2, 10.000000000000002, 5]},
                          {"id": 2, "image_id": 1, "category_id": 1, "bbox": [2.25, 3, 9.75, 4.5],
                           "segmentation": [[2.25, 3, 12, 3, 12, 7.5, 2.25, 7.5]]},
                          {"id": 3, "image_id": 1, "category_id": 1, "bbox": [1, 1, 9, 9],
                           "segmentation": [[1, 1, 10, 2, 4, 10]]}]}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(document=coco_documents(), masks=st.sampled_from([False, False, True]),
       on_error=st.sampled_from(["skip", "fail"]))
@example(document=_CLEAN, masks=False, on_error="skip")
def test_any_coco_document_gives_the_same_voc_both_ways(document, masks, on_error, tmp_path_factory):
    work = tmp_path_factory.mktemp("columnar")
    assert_same(_write(work, document), work, on_error, voc_masks=masks)
