"""Dataloop → COCO and COCO → COCO on the columnar path (dlconvert.formats._dataloop_read_table,
dlconvert.formats.coco.write_columns) against the object path: the same files, byte for byte, and the same
report — for every real Dataloop export and COCO file of the corpus, the bundled sample, and hypothesis-made
Dataloop items full of what the COCO writer treats apart (kept COCO fields whose shape still matches or not,
multi-ring polygons that lie apart, nest or touch, degenerate shapes, masks, classifications, rotated boxes,
attributes, items without a size), on one worker and on two.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import orjson
import pytest
from columnar_support import assert_same, convert, real_coco_files, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realfiles import AVAILABLE, NO_REAL_FILES, real_file
from test_columnar_dataloop import coco_documents

from dlconvert import ConvertOptions, parallel
from dlconvert._json import dumps
from dlconvert.converter import _takes_table
from dlconvert.formats import _cache, get_format
from dlconvert.formats._fingerprint import geometry_fingerprint
from dlconvert.formats.coco.columns import read_table as read_coco_table
from dlconvert.geometry import definition_from_json
from dlconvert.geometry.masks import encode_png_mask

SAMPLE = Path(__file__).resolve().parent.parent / "dlconvert" / "samples"
#: Every Dataloop source of the corpus: export folders, folders of item files, single item files.
_DATALOOP = ["dataloop/dtlpy-converters-examples/voc/dataloop", "dataloop/dtlpy-converters-examples/yolo/dataloop",
             "dataloop/dtlpy-converters-examples/tfrecord/dtlpy", "dataloop/dtlpy-documentation/FruitImage",
             "dataloop/dtlpy-documentation/SheepFace", "dataloop/dtlpy-documentation/hamster/hamster.json",
             "dataloop/dtlpy-tests-2019/0162_annotations.json",
             "dataloop/dtlpy-tests-2019/downloaded_json_0000000162.json",
             "dataloop/dtlpy-tests-2019/downloaded_should_be_json_0000000162.json",
             "dataloop/dtlpy-converters-examples/yolo/dataloop/json/sub",
             "dataloop/dtlpy-converters-examples/yolo/dataloop/json/cat.json"]


@pytest.fixture
def tables(monkeypatch) -> list:
    """What each call of the COCO table writer returned (None: it left the job to the object path). It reads a
    Dataloop export itself, range by range, so this is where the table path is known to be taken or not."""
    written: list = []
    coco = get_format("coco")

    def write_table(*args, **kwargs):
        written.append(coco.write_table(*args, **kwargs))
        return written[-1]

    monkeypatch.setitem(_cache, "coco", dataclasses.replace(coco, write_table=write_table))
    return written


@pytest.mark.real_files
@pytest.mark.parametrize("name", _DATALOOP if AVAILABLE else NO_REAL_FILES)
def test_real_dataloop_exports_give_the_same_coco_both_ways(name, tmp_path):
    assert_same(real_file(name), "dataloop", "coco", tmp_path)


@pytest.mark.real_files
def test_the_real_exports_the_table_reads_take_the_columnar_path(tmp_path, tables):
    """Those without tracks, other types or labelless annotations are read as tables (else the test above would
    compare the object path with itself)."""
    for name in ("dataloop/dtlpy-converters-examples/voc/dataloop", "dataloop/dtlpy-documentation/FruitImage",
                 "dataloop/dtlpy-documentation/SheepFace", "dataloop/dtlpy-documentation/hamster/hamster.json",
                 "dataloop/dtlpy-converters-examples/yolo/dataloop/json/sub"):
        tables.clear()
        convert(real_file(name), "dataloop", tmp_path / name, "coco", columnar=True)
        assert tables and tables[0] is not None, name


@pytest.mark.real_files
@pytest.mark.parametrize("path", real_coco_files())
@pytest.mark.parametrize("indent", [True, False])
def test_real_coco_files_give_the_same_coco_both_ways(path, indent, tmp_path):
    """COCO → COCO now goes through the columnar writer too (the COCO reader has a table)."""
    assert_same(path, "coco", "coco", tmp_path, indent=indent)


def test_the_bundled_sample_gives_the_same_coco_both_ways(tmp_path):
    """Its videos, audio and types COCO has no record for leave it to the object path: the same either way."""
    facts = assert_same(SAMPLE, "dataloop", "coco", tmp_path)
    assert facts["skipped"] and facts["annotations_out"]


def test_a_coco_output_read_back_gives_the_same_coco_both_ways(tmp_path):
    """A COCO file dlconvert wrote from Dataloop (with coco_ids.json) → COCO again, through the table."""
    convert(_many_items(tmp_path / "src", 12), "dataloop", tmp_path / "first", "coco", columnar=False)
    assert read_coco_table(tmp_path / "first" / "coco.json", ConvertOptions()) is not None
    assert_same(tmp_path / "first" / "coco.json", "coco", "coco", tmp_path / "again")


def test_only_the_coco_writer_takes_a_dataloop_table():
    """The other table writers and the renderer assume COCO's conventions: Dataloop → them stays on objects."""
    dataloop = get_format("dataloop")
    assert _takes_table(dataloop, get_format("coco"))
    for target in ("yolo", "voc", "dataloop"):
        assert not _takes_table(dataloop, get_format(target)), target
    assert _takes_table(get_format("coco"), get_format("yolo"))


def test_rendering_a_dataloop_source_stays_on_the_item_renderer(sample_dir, tmp_path, monkeypatch):
    from dlconvert.render import batch, render_source

    monkeypatch.setattr(batch, "render_table", lambda *args, **kwargs: pytest.fail("the table renderer was used"))
    report, _ = render_source(sample_dir, "dataloop", tmp_path / "out", ["mask"])
    assert report.items == 5


# -- hypothesis-made Dataloop exports ------------------------------------------------------------------------
_SIZES = [(7, 5), (16, 16), (33, 21), (1, 40)]
_coordinate = st.one_of(st.integers(-3, 40), st.floats(-3, 40, allow_nan=False).map(lambda v: round(v, 3)))


def _ring(draw, width: int, height: int) -> list[dict]:
    shape = draw(st.sampled_from(["square", "triangle", "random", "line", "short", "bowtie"]))
    x, y = draw(st.integers(-2, width)), draw(st.integers(-2, height))
    size = draw(st.integers(1, 6))
    points = {"square": [(x, y), (x + size, y), (x + size, y + size), (x, y + size)],
              "triangle": [(x, y), (x + size, y), (x, y + size)],
              "line": [(x, y), (x + 1, y + 1), (x + 2, y + 2)],
              "short": [(x, y), (x + 1, y)],
              "bowtie": [(x, y), (x + size, y + size), (x + size, y), (x, y + size)]}.get(shape)
    if points is None:
        points = [(draw(_coordinate), draw(_coordinate)) for _ in range(draw(st.integers(3, 7)))]
    return [{"x": float(px) if draw(st.booleans()) else px, "y": py} for px, py in points]


def _coordinates(draw, kind: str, width: int, height: int):
    if kind == "box":
        left, top = draw(_coordinate), draw(_coordinate)
        points = [{"x": left, "y": top, "z": 0},
                  {"x": left + draw(st.sampled_from([0, 1, 2.5, -1])), "y": top + draw(st.integers(0, 4)), "z": 0}]
        extra = draw(st.sampled_from([None, [], [30], [0], [None]]))
        return points + (extra or []) if extra is not None else points
    if kind == "segment":
        rings = [_ring(draw, width, height) for _ in range(draw(st.integers(0, 3)))]
        return rings[0] if len(rings) == 1 and draw(st.booleans()) else rings  # a flat ring now and then
    if kind == "binary":
        mask = draw(st.sampled_from(["empty", "dot", "block", "other size"]))
        pixels = np.zeros((height, width) if mask != "other size" else (height + 1, width), dtype=bool)
        if mask in ("dot", "other size"):
            pixels[0, 0] = True
        elif mask == "block":
            pixels[: height // 2 + 1, : width // 2 + 1] = True
        return encode_png_mask(pixels, (255, 0, 0))
    return None


@st.composite
def dataloop_exports(draw) -> dict[str, dict]:
    """``{relative path under json/: item JSON}``."""
    files = {}
    for index in range(draw(st.integers(1, 4))):
        width, height = draw(st.sampled_from(_SIZES))
        system = {"mimetype": "image/jpeg", "width": width, "height": height}
        if draw(st.integers(0, 5)) == 0:
            system = {"mimetype": "image/png"}  # no size, no image to find: the object path reports it
        elif draw(st.integers(0, 5)) == 0:
            system["exif"] = {"Orientation": 6}  # shown turned: width and height swap
        metadata: dict = {"system": system}
        if draw(st.booleans()):
            metadata["user"] = {"coco": {"id": draw(st.sampled_from([index + 7, 3, "x"])), "license": 1,
                                         "file_name": f"img_{index}.jpg"}}
        annotations = []
        for number in range(draw(st.integers(0, 5))):
            kind = draw(st.sampled_from(["box", "segment", "segment", "binary", "class"]))
            annotation = {"id": draw(st.sampled_from([f"a{index}{number}", None, number])), "type": kind,
                          "label": draw(st.sampled_from(["cat", "dög", "a.b"]))}
            coordinates = _coordinates(draw, kind, *((height, width) if system.get("exif") else (width, height)))
            if coordinates is not None or draw(st.booleans()):
                annotation["coordinates"] = coordinates
            system_meta: dict = {"automated": False}
            if draw(st.integers(0, 3)) == 0:
                system_meta["attributes"] = draw(st.dictionaries(st.sampled_from(["occluded", "n"]),
                                                                 st.sampled_from([True, 2, "x"]), max_size=2))
            kept = _kept(draw, kind, coordinates, annotation["label"])
            annotation["metadata"] = {"system": system_meta, **({"user": {"coco": kept}} if kept else {})}
            if draw(st.integers(0, 4)) == 0:
                annotation["attributes"] = ["v1"]
            annotations.append(annotation)
        name = draw(st.sampled_from([f"img_{index}.jpg", f"sub/img_{index}.png"]))
        files[Path(name).with_suffix(".json").as_posix()] = {
            "id": f"item{index}", "filename": "/" + name, "name": Path(name).name, "dir": "/",
            "type": "file", "metadata": metadata, "annotations": annotations}
    return files


def _kept(draw, kind: str, coordinates, label: str) -> dict:
    """What a COCO reader kept in ``metadata.user.coco``: its shape's fingerprint (still matching or not),
    bbox, area, id, iscrowd, an unknown field, a box record's own segmentation."""
    if draw(st.integers(0, 2)) == 0:
        return {}
    kept: dict = {"id": draw(st.integers(1, 5)), "iscrowd": draw(st.sampled_from([0, 1, 0.0]))}
    if draw(st.booleans()):
        kept["bbox"] = [1, 2, 3, 4.5]
    if draw(st.booleans()):
        kept["area"] = draw(st.sampled_from([12, 7.25]))
    if draw(st.booleans()):
        kept["score"] = 0.5
    if kind == "box" and draw(st.booleans()):
        kept["box_segmentation"] = draw(st.sampled_from(["absent", [], [[]]]))
    if kind in ("box", "segment") and coordinates is not None:
        try:
            shape = geometry_fingerprint(definition_from_json(kind, coordinates, label, None))
        except Exception:  # a malformed shape: the object path refuses it anyway
            shape = "0" * 40
        kept["geometry_sha1"] = shape if draw(st.integers(0, 3)) else "0" * 40
    return kept


def _write_export(root: Path, files: dict[str, dict]) -> Path:
    for relative, item in files.items():
        target = root / "json" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(orjson.dumps(item, option=orjson.OPT_INDENT_2))
    return root


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(files=dataloop_exports(), indent=st.booleans(), on_error=st.sampled_from(["skip", "fail"]),
       rle=st.sampled_from(["auto", "uncompressed"]))
def test_any_dataloop_export_gives_the_same_coco_both_ways(files, indent, on_error, rle, tmp_path_factory):
    work = tmp_path_factory.mktemp("dl2coco")
    assert_same(_write_export(work / "src", files), "dataloop", "coco", work, on_error=on_error, indent=indent,
                rle=rle)


def test_the_hypothesis_exports_take_the_columnar_path(tmp_path, tables):
    """Many exports above are written by the table path from end to end (else the test compares the object path with
    itself); the others hold what only the object path reports (an item without a size or image, a broken mask)."""
    taken = []

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(files=dataloop_exports())
    def check(files):
        tables.clear()
        work = tmp_path / str(len(taken))
        convert(_write_export(work / "src", files), "dataloop", work / "out", "coco", columnar=True)
        taken.append(bool(tables) and tables[0] is not None)

    check()
    assert sum(taken) >= 0.25 * len(taken)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=coco_documents(), indent=st.booleans(), on_error=st.sampled_from(["skip", "fail"]))
def test_any_coco_document_gives_the_same_coco_both_ways(document, indent, on_error, tmp_path_factory):
    work = tmp_path_factory.mktemp("coco2coco")
    src = work / "coco.json"
    src.write_bytes(orjson.dumps(document))
    assert_same(src, "coco", "coco", work, on_error=on_error, indent=indent)


# -- workers, and the cases the table leaves alone --------------------------------------------------------------
def _many_items(root: Path, count: int) -> Path:
    """``count`` items with boxes, polygons (one ring, rings apart, nested rings) and a mask each fifth."""
    files = {}
    for index in range(count):
        ring = [{"x": 1 + index % 5, "y": 1}, {"x": 9, "y": 2}, {"x": 5, "y": 8}]
        far = [{"x": 12, "y": 12}, {"x": 15, "y": 12}, {"x": 14, "y": 15}]
        inner = [{"x": 5, "y": 3}, {"x": 6, "y": 3}, {"x": 5.5, "y": 4}]
        annotations = [{"id": f"b{index}", "type": "box", "label": "car",
                        "coordinates": [{"x": 1, "y": 2, "z": 0}, {"x": 4.5, "y": 6, "z": 0}]},
                       {"id": f"p{index}", "type": "segment", "label": "cat", "coordinates": [ring]},
                       {"id": f"q{index}", "type": "segment", "label": "dog",
                        "coordinates": [ring, far if index % 2 else inner]}]
        if index % 5 == 0:
            pixels = np.zeros((16, 20), dtype=bool)
            pixels[2:6, 3:9] = True
            annotations.append({"id": f"m{index}", "type": "binary", "label": "cat",
                                "coordinates": encode_png_mask(pixels, (0, 255, 0))})
        files[f"dir{index % 3}/img_{index}.json"] = {
            "id": f"i{index}", "filename": f"/dir{index % 3}/img_{index}.jpg", "type": "file",
            "metadata": {"system": {"mimetype": "image/jpeg", "width": 20, "height": 16}}, "annotations": annotations}
    return _write_export(root, files)


def test_one_and_two_workers_write_the_same(tmp_path, monkeypatch, tables):
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    src = _many_items(tmp_path / "src", 40)
    facts = assert_same(src, "dataloop", "coco", tmp_path / "two", workers=2)
    assert tables and tables[-1] is not None and facts["approximated"] == {"segment": 20}
    one = convert(src, "dataloop", tmp_path / "one", "coco", columnar=True, workers=1)
    assert one == facts and tree(tmp_path / "one") == tree(tmp_path / "two" / "columns")


@pytest.mark.parametrize("indent", [True, False])
def test_rings_kept_as_arrays_are_written_as_their_lists(indent):
    """The table path's records hold polygon rings as float64 arrays: orjson writes them as the lists they were, and
    so does the stdlib's encoder, which writes a file orjson refuses (an int beyond 64 bits set from Python)."""
    rings = [np.array([1.5, 0.1, 1e16, -0.0, 5e-324]), np.zeros(0)]
    for extra in (1, 2 ** 70):
        as_arrays = dumps({"segmentation": rings, "note": extra}, indent=indent)
        assert as_arrays == dumps({"segmentation": [r.tolist() for r in rings], "note": extra}, indent=indent)
    assert b"%d" % 2 ** 70 in as_arrays and b"1e16" not in as_arrays  # (the stdlib writes 1e+16)


@pytest.mark.parametrize("change", ["video item", "point", "no label", "pinned labels", "bad mask", "bad ring"])
def test_what_the_table_leaves_to_the_object_path_is_the_same_both_ways(change, tmp_path, tables):
    """A track, a type the columns do not model, an annotation without a label, the user's label map, a mask
    whose PNG does not decode, a ring with a point that is no number: the object path decides and reports."""
    src = _many_items(tmp_path / "src", 3)
    item_file = src / "json" / "dir0" / "img_0.json"
    item = orjson.loads(item_file.read_bytes())
    options = {}
    if change == "video item":
        item["metadata"]["system"]["mimetype"] = "video/mp4"
    elif change == "point":
        item["annotations"].append({"type": "point", "label": "car", "coordinates": {"x": 1, "y": 2}})
    elif change == "no label":
        del item["annotations"][0]["label"]
    elif change == "pinned labels":
        (tmp_path / "labels.txt").write_text("car\ncat\n")
        options["labels"] = _labels(tmp_path / "labels.txt")
    elif change == "bad mask":
        item["annotations"][-1]["coordinates"] = item["annotations"][-1]["coordinates"][:60] + "AAAA"
    else:
        item["annotations"][1]["coordinates"][0][0]["x"] = "one"
    item_file.write_bytes(orjson.dumps(item))
    assert_same(src, "dataloop", "coco", tmp_path, **options)
    assert tables == ([] if change == "pinned labels" else [None])  # a pinned map: not even read as a table


def _labels(path: Path):
    from dlconvert.labels import LabelMap

    return LabelMap.load(path)


def test_an_item_without_a_size_takes_its_image_header(tmp_path, tables):
    """The object writer reads the size of an item that has none from its image under items/: so does the table."""
    from PIL import Image

    src = _many_items(tmp_path / "src", 2)
    item_file = src / "json" / "dir1" / "img_1.json"
    item = orjson.loads(item_file.read_bytes())
    del item["metadata"]["system"]["width"], item["metadata"]["system"]["height"]
    item_file.write_bytes(orjson.dumps(item))
    (src / "items" / "dir1").mkdir(parents=True)
    Image.new("RGB", (20, 16)).save(src / "items" / "dir1" / "img_1.jpg")
    facts = assert_same(src, "dataloop", "coco", tmp_path)
    assert tables[-1] is not None and facts["items_out"] == 2


def test_polygon_areas_follow_the_object_code_bit_for_bit(tmp_path):
    """No kept area: every written area is GEOS's even-odd area, as Polygon.to_shapely computes it."""
    src = _many_items(tmp_path / "src", 6)
    facts = assert_same(src, "dataloop", "coco", tmp_path)
    document = orjson.loads((tmp_path / "columns" / "coco.json").read_bytes())
    areas = [record["area"] for record in document["annotations"]]
    assert all(isinstance(area, float) and math.isfinite(area) for area in areas) and facts["annotations_out"]


def test_a_table_from_another_reader_is_left_to_the_object_writer(tmp_path):
    from dlconvert.formats.coco import write_columns
    from dlconvert.report import ConversionReport

    table = dataclasses.replace(read_coco_table(_coco_file(tmp_path), ConvertOptions()), extras={})
    assert write_columns.write_table(table, tmp_path / "out", ConvertOptions(), ConversionReport()) is None
    assert not (tmp_path / "out").exists()


def _coco_file(tmp_path: Path) -> Path:
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 3}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]}],
                "categories": [{"id": 1, "name": "cat"}]}
    path = tmp_path / "coco.json"
    path.write_bytes(orjson.dumps(document))
    return path
