"""COCO → Dataloop on the columnar path (dlconvert.formats._dataloop_table) against the object path: the same
files, byte for byte, and the same report — for every real COCO file and for hypothesis-made COCO documents full of
what the object reader keeps as it was read (record key order, unknown fields, ``2`` vs ``2.0``, a box record's own
segmentation, RLE forms, ``-0.0``, image records with fields of their own, integers orjson cannot write).
"""

from __future__ import annotations

import json
from pathlib import Path

import columnar_support
import numpy as np
import orjson
import pytest
from columnar_support import real_coco_files, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from realfiles import AVAILABLE, NO_REAL_FILES, real_file

from dlconvert import Converter, ConvertOptions, parallel
from dlconvert.formats import _dataloop_table
from dlconvert.formats._fingerprint import fingerprint, rings_fingerprint
from dlconvert.formats.coco.columns import read_table


def _convert(src: Path, dst: Path, on_error: str, columnar: bool, workers: int = 1, **options):
    """The report's facts (or the error) of COCO → Dataloop on the object path (no table) or the columnar one."""
    return columnar_support.convert(src, "coco", dst, "dataloop", columnar=columnar, on_error=on_error,
                                    workers=workers, **options)


@pytest.fixture
def columnar_writes(monkeypatch) -> list:
    """What each call of the columnar Dataloop writer returned (None: it left the job to the object path)."""
    results = []
    real = _dataloop_table.write_table

    def spy(*args, **kwargs):
        results.append(real(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(_dataloop_table, "write_table", spy)
    return results


def assert_same(src: Path, work: Path, on_error: str = "skip", workers: int = 1, **options) -> None:
    """COCO → Dataloop: the object path in one process and the columnar path on ``workers`` write the same."""
    columnar_support.assert_same(src, "coco", "dataloop", work, on_error=on_error, workers=workers, **options)


@pytest.mark.parametrize("indent", [True, False])
@pytest.mark.parametrize("path", real_coco_files())
def test_real_coco_files_give_the_same_dataloop_json_both_ways(path, indent, tmp_path, columnar_writes):
    assert_same(path, tmp_path, indent=indent)
    if read_table(path, ConvertOptions()) is not None:  # the columnar path was taken, and it wrote
        assert len(columnar_writes) == 1 and columnar_writes[0] is not None


#: Real files the columnar path reads (several images each, so that ranges of items form).
_SHARDED = ["coco/icevision/annotations.json", "coco/mmdetection/coco_sample.json", "coco/dagshub/annotations.json",
            "coco/mmdetection/coco_dummy/annotations/instances_val2017.json",
            "dataloop/dtlpy-converters-examples/coco/coco/annotations.json"]


@pytest.mark.parametrize("name", _SHARDED if AVAILABLE else NO_REAL_FILES)
def test_two_forked_workers_write_what_one_process_does(name, tmp_path, monkeypatch, columnar_writes):
    """Items cut into ranges of one item, written by forked workers sharing the table."""
    pools = []
    real_pool = parallel.worker_pool
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    monkeypatch.setattr(parallel, "worker_pool", lambda workers: pools.append(workers) or real_pool(workers))
    assert_same(real_file(name), tmp_path, workers=2)
    assert pools == [2, 2] and columnar_writes[0] is not None  # one pool places the files, one writes them
    one = _convert(real_file(name), tmp_path / "one", "skip", True, 1)
    assert tree(tmp_path / "one") == tree(tmp_path / "columns") and one["outputs"]


#: Dataloop exports of the corpus: written to COCO by dlconvert (with its coco_ids.json), then read back.
_EXPORTS = ["dataloop/dtlpy-converters-examples/voc/dataloop", "dataloop/dtlpy-converters-examples/yolo/dataloop",
            "dataloop/dtlpy-documentation/FruitImage", "dataloop/dtlpy-documentation/SheepFace",
            "dataloop/dtlpy-tests-2019/downloaded_should_be_json_0000000162.json"]


@pytest.mark.parametrize("name", _EXPORTS if AVAILABLE else NO_REAL_FILES)
def test_a_coco_file_dlconvert_wrote_comes_back_the_same_both_ways(name, tmp_path, columnar_writes):
    """A COCO file written from Dataloop (with coco_ids.json: which rectangles are boxes) read back both ways."""
    Converter(on_error="skip").run(real_file(name), "dataloop", tmp_path / "coco", "coco")
    assert (tmp_path / "coco" / "coco_ids.json").is_file()
    columnar_writes.clear()
    assert_same(tmp_path / "coco" / "coco.json", tmp_path)
    table = read_table(tmp_path / "coco" / "coco.json", ConvertOptions())
    if table is not None and table.item_count:  # all but one (no image size: its item is not written to COCO)
        assert len(columnar_writes) == 1 and columnar_writes[0] is not None


def test_items_on_one_path_leave_the_job_to_the_object_writer(tmp_path, columnar_writes):
    """``a.jpg`` and ``a.png`` both map to ``json/a.json`` (V1 naming): the object writer reports it, both ways."""
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3},
                           {"id": 2, "file_name": "a.png", "width": 4, "height": 3}],
                "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 2, 2]}],
                "categories": [{"id": 1, "name": "cat"}]}
    src = tmp_path / "coco.json"
    src.write_text(json.dumps(document))
    for on_error in ("skip", "fail"):
        columnar_writes.clear()
        assert_same(src, tmp_path / on_error, on_error)
        assert columnar_writes == [None]
    facts = _convert(src, tmp_path / "again", "skip", True)
    assert [i["code"] for i in facts["issues"]] == ["dataloop.unwritable-item", "dataloop.unwritable-item"]


def test_a_file_the_system_refuses_leaves_the_job_to_the_object_writer(tmp_path, columnar_writes):
    """``a.json/b.jpg`` needs a folder where ``a.jpg``'s file goes: the object writer reports the later item."""
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3},
                           {"id": 2, "file_name": "a.json/b.jpg", "width": 4, "height": 3}],
                "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [0, 0, 2, 2]}],
                "categories": [{"id": 1, "name": "cat"}]}
    src = tmp_path / "coco.json"
    for images in (document["images"], document["images"][::-1]):  # the file first, or the folder first
        src.write_text(json.dumps({**document, "images": images}))
        columnar_writes.clear()
        work = tmp_path / str(images[0]["id"])
        assert_same(src, work)
        assert columnar_writes == [None]
        assert [i["code"] for i in _convert(src, work / "again", "skip", True)["issues"]][-1] == \
            "dataloop.unwritable-item"


def test_integers_beyond_64_bits_come_back_as_the_object_reader_reads_them(tmp_path, columnar_writes):
    """orjson reads them as floats: kept fields of an image and a record are written that way, both ways."""
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3, "serial": 2 ** 70},
                           {"id": 2, "file_name": "b.jpg", "width": 4, "height": 3}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2.5]},
                                {"id": 2, "image_id": 2, "category_id": 1, "bbox": [1, 0, 2, 2], "big": -2 ** 65}],
                "categories": [{"id": 1, "name": "cat"}]}
    src = tmp_path / "coco.json"
    src.write_text(json.dumps(document))
    assert_same(src, tmp_path)
    assert columnar_writes[0] is not None
    assert b'"serial": 1.1805916207174113e+21' in (tmp_path / "columns" / "json" / "a.json").read_bytes()


# ==== the pieces, against what they stand for =========================================================
_finite = st.floats(allow_nan=False, allow_infinity=False)
_rings = st.lists(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.just(2)), elements=_finite),
                  min_size=1, max_size=3)


@given(rings=_rings, indent=st.booleans())
def test_ring_text_is_what_orjson_writes_for_the_points(rings, indent):
    """The polygon text spliced into an item is orjson's text of the ``{"x", "y"}`` points, in place."""
    points = [[{"x": x, "y": y} for x, y in ring.tolist()] for ring in rings]
    option = orjson.OPT_INDENT_2 if indent else 0
    expected = orjson.dumps({"annotations": [{"coordinates": points}]}, option=option)
    spliced = orjson.dumps({"annotations": [{"coordinates": orjson.Fragment(
        _dataloop_table._RingLayout(indent).text(rings))}]}, option=option)
    assert spliced == expected


@given(rings=_rings)
def test_the_rings_fingerprint_is_the_polygons(rings):
    assert rings_fingerprint(rings) == fingerprint("segment", tuple(rings))


# ==== hypothesis: COCO documents with what the object reader keeps as it was ===========================
_SIZES = [(6, 5), (4, 7)]
_value = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1)
                      | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                  max_size=3), max_leaves=6)
_coordinate = st.one_of(st.integers(-3, 8), st.sampled_from([-0.0, 0.0, 0.5, 1.25, 2.0, 1e-7, 3.0000000000000004]))


@st.composite
def _ring(draw, width: int, height: int) -> list:
    kind = draw(st.sampled_from(["free", "rectangle", "empty"]))
    if kind == "rectangle":
        x0, y0 = draw(st.sampled_from([0, 1])), draw(st.sampled_from([0, 1, 0.5]))
        x1, y1 = draw(st.integers(2, width)), draw(st.integers(2, height))

        def signed(value):  # a zero may be written -0.0, corner by corner: still the same rectangle
            return draw(st.sampled_from([value, -0.0])) if value == 0 else value

        corners = [[signed(x0), signed(y0)], [x1, signed(y0)], [x1, y1], [signed(x0), y1]]
        start = draw(st.integers(0, 3))
        return [v for corner in corners[start:] + corners[:start] for v in corner]
    if kind == "empty":
        return []
    return [draw(_coordinate) for _ in range(2 * draw(st.integers(1, 6)))]


def _rle(draw, width: int, height: int) -> dict:
    from pycocotools import mask as mask_utils

    pixels = draw(hnp.arrays(np.uint8, (height, width), elements=st.integers(0, 1)))
    encoded = mask_utils.encode(np.asfortranarray(pixels))
    if draw(st.booleans()):
        return {"size": [height, width], "counts": encoded["counts"].decode("ascii")}
    flat = pixels.reshape(-1, order="F")
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate(([2], flat, [2])))))
    return {"size": [height, width], "counts": ([0] if flat[0] else []) + runs.tolist()}


def _number(draw, value: float):
    """``value`` as an int when it is one and the draw says so (COCO files write both)."""
    return int(value) if float(value).is_integer() and draw(st.booleans()) else float(value)


@st.composite
def coco_documents(draw) -> dict:
    names = draw(st.lists(st.sampled_from(["cat", "dög", "a b", "人"]), min_size=1, max_size=3, unique=True))
    categories = [{"id": 10 + i, "name": name} for i, name in enumerate(names)]
    images, annotations = [], []
    for index in range(draw(st.integers(1, 3))):
        width, height = draw(st.sampled_from(_SIZES))
        image = {"id": index + 1, "file_name": draw(st.sampled_from([f"img_{index}.jpg", f"sub/dir/img_{index}.png",
                                                                    f"/abs_{index}.jpeg"])),
                 "width": width, "height": height}
        image.update(draw(st.dictionaries(st.sampled_from(["license", "coco_url", "extra", "ü"]), _value,
                                          max_size=2)))
        images.append(_shuffled(draw, image))
        for _ in range(draw(st.integers(0, 4))):
            record = {"id": len(annotations) + 1, "image_id": image["id"],
                      "category_id": draw(st.sampled_from(categories))["id"]}
            shape = draw(st.sampled_from(["box", "polygon", "polygons", "rle", "label"]))
            if shape == "box":
                record["bbox"] = [_number(draw, v) for v in (draw(_coordinate), draw(_coordinate),
                                                              draw(st.integers(0, 5)), draw(st.integers(0, 5)))]
                kept = draw(st.sampled_from(["absent", [], [[]], None]))
                if kept != "absent":
                    record["segmentation"] = kept
            elif shape in ("polygon", "polygons"):
                rings = draw(st.lists(_ring(width, height), min_size=1, max_size=1 if shape == "polygon" else 3))
                record["segmentation"] = rings
                points = [v for ring in rings for v in ring]
                if points and draw(st.booleans()):
                    xs, ys = points[0::2], points[1::2]
                    record["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            elif shape == "rle":
                record["segmentation"] = _rle(draw, width, height)
                record["iscrowd"] = draw(st.sampled_from([0, 1]))
                record["bbox"] = [0, 0, 1, 1]
            elif draw(st.booleans()):
                record["bbox"] = None
            if draw(st.booleans()):
                record["area"] = _number(draw, draw(st.sampled_from([0.0, 2.0, 12.5, 1e-7])))
            if "iscrowd" not in record and draw(st.booleans()):
                record["iscrowd"] = 0
            if draw(st.integers(0, 3)) == 0:
                record["attributes"] = draw(st.dictionaries(st.sampled_from(["occluded", "n"]), _value, max_size=2))
            record.update(draw(st.dictionaries(st.sampled_from(["ignore", "score", "note"]), _value, max_size=2)))
            if draw(st.integers(0, 4)) == 0:
                del record["id"]
            annotations.append(_shuffled(draw, record))
    draw(st.randoms()).shuffle(annotations)  # COCO files need not group records by image
    return {"images": images, "annotations": annotations, "categories": categories}


def _shuffled(draw, record: dict) -> dict:
    """The record with its keys in another order (the object reader keeps the order it reads)."""
    keys = draw(st.permutations(list(record)))
    return {key: record[key] for key in keys}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=coco_documents(), indent=st.booleans(), on_error=st.sampled_from(["skip", "fail"]))
def test_any_coco_document_gives_the_same_dataloop_json_both_ways(document, indent, on_error, tmp_path_factory):
    work = tmp_path_factory.mktemp("columnar")
    src = work / "coco.json"
    src.write_bytes(orjson.dumps(document))
    assert_same(src, work, on_error, indent=indent)


def test_the_hypothesis_documents_take_the_columnar_path(tmp_path, columnar_writes):
    """The documents above are ones the table reads (else the test above compares the object path with itself)."""
    taken = []

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(document=coco_documents())
    def check(document):
        src = tmp_path / "coco.json"
        src.write_bytes(orjson.dumps(document))
        taken.append(read_table(src, ConvertOptions()) is not None)

    check()
    assert sum(taken) >= 0.8 * len(taken)
