"""Rendering from the table (dlconvert.render.columns) against rendering item by item: the same files, byte for
byte (pictures, legends, labelmap.json, the manifest), and the same report, for every real COCO file and for
hypothesis-made COCO documents full of what the renderer treats apart (sub-pixel polygons, pixel centres on an
edge, holes, multi-part polygons, rectangles that are boxes, degenerate rings, crowd RLE, shapes outside the
image, empty boxes, label-only records, overlaps, instance ids 0 and past 65,535).
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from columnar_support import real_coco_files, tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_utils
from realfiles import AVAILABLE, NO_REAL_FILES, real_file

from dlconvert import ConvertOptions, parallel
from dlconvert.formats import _cache, get_format
from dlconvert.formats.coco import columns as coco_columns
from dlconvert.formats.coco import reader as coco_reader
from dlconvert.formats.coco.categories import read_categories
from dlconvert.formats.coco.columns import read_table
from dlconvert.geometry.masks import rasterize_rings
from dlconvert.labels import LabelMap
from dlconvert.render import batch, columns, render_source
from dlconvert.render.raster import fill_rings
from dlconvert.render.spans import fill_spans, mask_spans, stack

VIEWS = [["mask"], ["instance"], ["object_id"], ["mask", "instance", "object_id"], ["object_id", "mask"]]


def _render(src: Path, dst: Path, views, columnar: bool, workers: int = 1, **style):
    """The render's report (or its error), and whether the table path drew it (one entry per attempt: True, False
    when it left the render to the item path, None when it raised)."""
    saved = get_format("coco")
    taken: list[bool | None] = []

    def spy(*args, **kwargs):
        taken.append(None)
        report = columns.render_table(*args, **kwargs)
        taken[-1] = report is not None
        return report

    if not columnar:
        _cache["coco"] = dataclasses.replace(saved, read_table=None)
    batch.render_table = spy
    try:
        report, _ = render_source(src, "coco", dst, views, workers=workers, **style)
    except Exception as exc:  # both ways must fail alike (their staging folders aside)
        return re.sub(rf"\.{dst.name}\.\w+\.tmp", "<staging>", f"{type(exc).__name__}: {exc}"), taken
    finally:
        _cache["coco"] = saved
        batch.render_table = columns.render_table
    return dataclasses.asdict(report), taken


def assert_same(src: Path, work: Path, views, workers: int = 1, **style) -> bool:
    """Both ways write the same tree and report; returns whether the table path drew it."""
    by_items, _ = _render(src, work / "items", views, False, **style)
    by_table, taken = _render(src, work / "table", views, True, workers, **style)
    assert by_table == by_items
    if isinstance(by_items, dict):
        assert tree(work / "table") == tree(work / "items")
    return taken == [True]


def _write(tmp_path: Path, document: dict) -> Path:
    src = tmp_path / "coco.json"
    src.write_text(json.dumps(document))
    return src


@pytest.mark.parametrize("views", VIEWS, ids="+".join)
@pytest.mark.parametrize("path", real_coco_files())
def test_real_coco_files_render_the_same_both_ways(path, views, tmp_path):
    assert_same(path, tmp_path, views)


#: Real files the table reads, several images each (so that ranges of items form on two workers).
_SHARDED = ["coco/icevision/annotations.json", "coco/mmdetection/coco_sample.json", "coco/dagshub/annotations.json",
            "dataloop/dtlpy-converters-examples/coco/coco/annotations.json"]


@pytest.mark.parametrize("name", _SHARDED if AVAILABLE else NO_REAL_FILES)
def test_the_table_render_on_two_workers_writes_what_one_process_does(name, tmp_path, monkeypatch):
    """Items cut into ranges of one item, drawn by forked workers sharing the table."""
    pools = []
    real_pool = parallel.worker_pool
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    monkeypatch.setattr(parallel, "worker_pool", lambda workers: pools.append(workers) or real_pool(workers))
    assert read_table(real_file(name), ConvertOptions()) is not None
    assert assert_same(real_file(name), tmp_path, ["mask", "instance", "object_id"], workers=2)
    assert pools == [2]  # the item path ran in this process (one worker); the table path on two


def test_real_files_with_crowd_masks_and_polygons_take_the_table_path(tmp_path):
    if not AVAILABLE:
        pytest.skip("needs the real-file corpus")
    for name in _SHARDED:
        assert assert_same(real_file(name), tmp_path / Path(name).parent.name, ["mask", "object_id"]), name


def test_chunks_of_items_write_what_one_chunk_does(tmp_path, monkeypatch):
    """A range is drawn in chunks of canvas rows (_CHUNK_ROWS): here one or two items a chunk."""
    document = _document_with_everything()
    monkeypatch.setattr(columns, "_CHUNK_ROWS", 40)
    assert assert_same(_write(tmp_path, document), tmp_path, ["mask", "instance", "object_id"])


@pytest.mark.parametrize("style", [{"thickness": 2}, {"frame_num": 0}])
def test_outlines_and_frames_stay_with_the_item_renderer(style, tmp_path):
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 5, 5]}],
                "categories": [{"id": 1, "name": "a"}]}
    src = _write(tmp_path, document)
    assert not assert_same(src, tmp_path, ["mask"], **style)
    assert assert_same(src, tmp_path / "plain", ["mask"])


@pytest.mark.parametrize("views", [["overlay"], ["mask", "overlay"]], ids="+".join)
def test_overlays_stay_with_the_item_renderer(views, tmp_path):
    """An overlay needs each item's image (and the missing-image rule): the table path is not even asked."""
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 5, 5]}],
                "categories": [{"id": 1, "name": "a"}]}
    src = _write(tmp_path, document)
    for allow in (False, True):
        _, taken = _render(src, tmp_path / f"out-{allow}", views, True, allow_missing_images=allow)
        assert taken == []
        assert assert_same(src, tmp_path / f"same-{allow}", views, allow_missing_images=allow) is False


@pytest.mark.parametrize("names", [("a.jpg", "a.png"), ("x", "x.png/y.jpg"), ("d/x.jpg", "d/./x.bmp"),
                                   ("x.json/q.jpg", "x.jpg")], ids=["one-file", "file-is-a-folder", "dot-folder",
                                                                    "legend-is-a-folder"])
def test_items_whose_files_clash_stay_with_the_item_renderer(names, tmp_path):
    """Two items drawn to one file, or one's file where another's folder goes: written in item order."""
    images = [{"id": i, "file_name": name, "width": 20, "height": 10} for i, name in enumerate(names, 1)]
    document = {"images": images, "categories": [{"id": 1, "name": "a"}],
                "annotations": [{"id": i, "image_id": i, "category_id": 1, "bbox": [i, 2, 5, 5]} for i in (1, 2)]}
    assert not assert_same(_write(tmp_path, document), tmp_path, ["mask", "object_id"])


def _use_coco_ids_as_instance_ids(patch: pytest.MonkeyPatch) -> None:
    """Both COCO readers give a label map whose instance ids are the category ids (0 and past 65,535 among them),
    as a source whose map keeps its own ids does (the COCO reader numbers them 1, 2, …)."""
    def read(data, path):
        names, label_map = read_categories(data, path)
        infos = [dataclasses.replace(label_map[name], instance_id=label_map[name].coco_id) for name in names.values()]
        return names, LabelMap(infos)

    patch.setattr(coco_reader, "read_categories", read)
    patch.setattr(coco_columns, "read_categories", read)


@pytest.fixture
def coco_ids_as_instance_ids(monkeypatch):
    _use_coco_ids_as_instance_ids(monkeypatch)


def test_a_file_the_system_refuses_fails_the_render_alike(tmp_path):
    """A 255-byte picture name whose legend (``.json``, one byte longer) the file system refuses: both renderers
    stop at that item with the same one-line error, and nothing is left behind."""
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10},
                           {"id": 2, "file_name": "b" * 251 + ".jpg", "width": 20, "height": 10}],
                "annotations": [{"id": 1, "image_id": 2, "category_id": 1, "bbox": [2, 2, 5, 5]}],
                "categories": [{"id": 1, "name": "a"}]}
    src = _write(tmp_path, document)
    assert assert_same(src, tmp_path, ["mask"])
    error, taken = _render(src, tmp_path / "ids", ["object_id"], True)
    assert taken == [None] and error.endswith(".json: cannot write the file: File name too long")
    assert not (tmp_path / "ids").exists()
    assert_same(src, tmp_path / "same", ["object_id"])


def test_background_instance_ids_overlaps_and_alpha_are_drawn_as_item_by_item(tmp_path, coco_ids_as_instance_ids):
    """A label whose instance id is 0 is left out of INSTANCE only (render.background-id); overlaps count."""
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 30, "height": 20}],
                "categories": [{"id": 0, "name": "zero"}, {"id": 1, "name": "one"}],
                "annotations": [
                    {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 20, 1, 20, 15, 1, 15]]},
                    {"id": 2, "image_id": 1, "category_id": 0, "bbox": [5.5, 5.5, 10, 10]},
                    {"id": 3, "image_id": 1, "category_id": 1, "segmentation": [[10, 0, 29, 3, 12, 19]]}]}
    src = _write(tmp_path, document)
    assert assert_same(src, tmp_path, ["instance", "mask", "object_id"], alpha=0.5, color_by="object")
    legend = json.loads((tmp_path / "table" / "object_id" / "a.json").read_text())
    assert legend["overlap_pixels"] > 0
    assert json.loads((tmp_path / "table" / "instance" / "a.json").read_text())["not_drawn"] == {
        "render.background-id": 1}


def test_an_instance_id_the_renderer_refuses_anywhere_in_the_map_stays_with_the_item_renderer(tmp_path, monkeypatch):
    """The item renderer refuses a map with an instance id that is not a whole number 0…2³¹−1, even for a label
    no annotation uses: so does the table path (it leaves the render to it, which fails in one line)."""
    def read(data, path):
        names, label_map = read_categories(data, path)
        infos = [label_map[name] for name in names.values()]
        infos = [dataclasses.replace(info, instance_id=-1) if info.name == "unused" else info for info in infos]
        return names, LabelMap(infos)

    monkeypatch.setattr(coco_reader, "read_categories", read)
    monkeypatch.setattr(coco_columns, "read_categories", read)
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 2, 5, 5]}],
                "categories": [{"id": 1, "name": "used"}, {"id": 2, "name": "unused"}]}
    src = _write(tmp_path, document)
    assert not assert_same(src, tmp_path, ["instance"])
    assert "instance id of label 'unused'" in _render(src, tmp_path / "again", ["instance"], True)[0]
    assert assert_same(src, tmp_path / "mask", ["mask"])


def test_wide_ids_give_16_bit_pictures_and_32_bit_tiffs_as_item_by_item(tmp_path, coco_ids_as_instance_ids):
    """300 objects in one image: a 16-bit OBJECT_ID picture; a category id past 65,535: a 32-bit INSTANCE TIFF
    (written the item renderer's way, from the picture); other items stay 8-bit."""
    boxes = [{"id": i + 1, "image_id": 1, "category_id": 1, "bbox": [i % 40, i // 40, 1.5, 1.5]} for i in range(300)]
    document = {"images": [{"id": 1, "file_name": "many.jpg", "width": 48, "height": 12},
                           {"id": 2, "file_name": "wide.jpg", "width": 8, "height": 8},
                           {"id": 3, "file_name": "plain.jpg", "width": 8, "height": 8}],
                "categories": [{"id": 1, "name": "one"}, {"id": 70000, "name": "far"}],
                "annotations": [*boxes, {"id": 400, "image_id": 2, "category_id": 70000, "bbox": [1, 1, 4, 4]},
                                {"id": 401, "image_id": 3, "category_id": 1, "bbox": [1, 1, 4, 4]}]}
    assert assert_same(_write(tmp_path, document), tmp_path, ["object_id", "instance"])
    table = tmp_path / "table"
    assert cv2.imread(str(table / "object_id" / "many.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint16
    assert (table / "instance" / "wide.tiff").exists()
    assert cv2.imread(str(table / "instance" / "plain.png"), cv2.IMREAD_UNCHANGED).dtype == np.uint8


def _document_with_everything() -> dict:
    """One image with a shape of every kind the renderer treats apart, and a second, plain one."""
    crowd = np.zeros((24, 30), dtype=np.uint8)
    crowd[3:20, 5:9] = 1
    crowd[10, 12:29] = 1
    string_rle = mask_utils.encode(np.asfortranarray(crowd))
    annotations = [
        {"segmentation": [[0.5, 0.5, 10.5, 0.5, 10.5, 10.5, 0.5, 10.5], [3.5, 3.5, 7.5, 3.5, 7.5, 7.5, 3.5, 7.5]]},
        {"segmentation": [[12.3, 1.7, 18.9, 2.2, 15.01, 9.99], [20, 2, 28, 2, 24, 8]]},  # two parts
        {"segmentation": [[1, 1, 5, 5, 9, 9]]},  # collinear: no area
        {"segmentation": [[0.1, 0.1, 0.4, 0.1, 0.1, 0.4]]},  # covers no pixel centre
        {"segmentation": [[-9, -9, -2, -9, -5, -1]]},  # outside the image
        {"segmentation": [[3, 4, 8, 9], [2, 12, 9, 12, 5, 20]]},  # a short ring and a triangle
        {"segmentation": [[2, 14, 9, 14, 9, 22, 2, 22]], "bbox": [2, 14, 7, 8]},  # a box written as a rectangle
        {"bbox": [20.25, 12.75, 6.5, 8.5]},
        {"bbox": [4, 4, 0, 6]},  # no area
        {"bbox": [25, 20, 40, 40]},  # past the right and bottom edges
        {"iscrowd": 1, "bbox": [5, 3, 24, 17], "segmentation": {"size": [24, 30], "counts": _counts(crowd)}},
        {"iscrowd": 1, "bbox": [5, 3, 24, 17],
         "segmentation": {"size": [24, 30], "counts": string_rle["counts"].decode("ascii")}},
        {"iscrowd": 1, "bbox": [0, 0, 1, 1], "segmentation": {"size": [24, 30], "counts": [720]}},  # empty
        {},  # a label alone
    ]
    records = [{"id": i + 1, "image_id": 1, "category_id": (1, 2, 0)[i % 3], **a} for i, a in enumerate(annotations)]
    records.append({"id": 99, "image_id": 2, "category_id": 2, "segmentation": [[1, 1, 6, 1, 3, 5]]})
    return {"images": [{"id": 1, "file_name": "dir/a.jpg", "width": 30, "height": 24},
                       {"id": 2, "file_name": "dir/b.jpg", "width": 7, "height": 6}],
            "categories": [{"id": 0, "name": "zero"}, {"id": 1, "name": "one"}, {"id": 2, "name": "two"}],
            "annotations": records}


def _counts(mask: np.ndarray) -> list[int]:
    """The uncompressed COCO RLE counts of a mask (column by column, starting with background)."""
    flat = np.asfortranarray(mask).ravel(order="F")
    edges = np.flatnonzero(np.diff(np.concatenate(([0], flat, [2 if flat[-1] == 0 else 0]))) != 0)
    counts = np.diff(np.concatenate(([0], edges))).tolist()
    return counts if flat[0] == 0 else [0, *counts]


def test_a_document_with_every_case_takes_the_table_path_and_matches(tmp_path):
    """The shapes the renderer treats apart, on one image: the table path takes it (it is not left to the object
    path), draws what the object path draws and leaves out what it leaves out, for the same reasons."""
    src = _write(tmp_path, _document_with_everything())
    for views in VIEWS:
        assert assert_same(src, tmp_path / "+".join(views), views), views
    report, _ = render_source(src, "coco", tmp_path / "counted", ["mask", "instance"])
    assert report.not_drawn == {"render.degenerate-shape": 4, "render.no-pixels": 2, "render.no-shape": 1}
    assert report.pictures == 4


# ==== the pixel rule, shape by shape =========================================================================
_ring_points = st.lists(st.tuples(st.floats(-8, 40, allow_nan=False), st.floats(-8, 40, allow_nan=False)),
                        min_size=3, max_size=9)


@settings(max_examples=300, deadline=None)
@given(shapes=st.lists(st.lists(_ring_points, min_size=1, max_size=3), min_size=1, max_size=4),
       size=st.tuples(st.integers(1, 33), st.integers(1, 33)))
def test_spans_are_the_pixels_of_the_per_shape_rasteriser(shapes, size):
    """fill_spans + stack give, shape by shape, rasterize_rings' pixels in fill_rings' window, drawn in order."""
    height, width = size
    rings = [np.array(ring, dtype=np.float64) for shape in shapes for ring in shape]
    owner = np.repeat(np.arange(len(shapes)), [len(shape) for shape in shapes])
    offsets = np.concatenate(([0], np.cumsum([len(r) for r in rings])))
    count = len(shapes)
    spans = fill_spans(np.concatenate(rings), offsets, owner, np.full(count, height), np.full(count, width))
    expected = np.zeros((height, width), dtype=np.int64)
    overlaps = 0
    for index, shape in enumerate(shapes):
        covered = np.zeros((height, width), dtype=bool)
        coverage = fill_rings([np.array(r, dtype=np.float64) for r in shape], (height, width))
        if coverage is not None:
            h, w = coverage.mask.shape
            covered[coverage.y0:coverage.y0 + h, coverage.x0:coverage.x0 + w] = coverage.mask
        mine = np.zeros((height, width), dtype=bool)
        for row, start, stop in zip(*(a[spans.owner == index] for a in (spans.row, spans.start, spans.stop)),
                                    strict=True):
            assert not mine[row, start:stop].any()
            mine[row, start:stop] = True
        assert (mine == covered).all()
        overlaps += int(np.count_nonzero(covered & (expected > 0)))
        expected[covered] = index + 1
    layers = stack(spans, np.zeros(count, dtype=np.int64), np.array([height]), np.array([width]))
    picture = np.repeat(layers.top + 1, np.diff(layers.bounds)).reshape(height, width)
    assert (picture == expected).all()
    assert layers.overlap_pixels().tolist() == [overlaps]
    assert set(np.arange(height) * width) <= set(layers.bounds.tolist())  # every row starts a run


@settings(max_examples=200, deadline=None)
@given(mask=hnp.arrays(bool, hnp.array_shapes(min_dims=2, max_dims=2, max_side=24)))
def test_mask_spans_are_the_mask(mask):
    spans = mask_spans(mask, 7)
    drawn = np.zeros_like(mask)
    for row, start, stop in zip(spans.row, spans.start, spans.stop, strict=True):
        assert stop > start and not drawn[row, start:stop].any()
        drawn[row, start:stop] = True
    assert (drawn == mask).all() and (spans.owner == 7).all()


def test_the_rasteriser_oracle_is_the_renderers():
    """The oracle above is the renderer's own rule (a 3×3 square covers 9 pixel centres, not 16)."""
    assert rasterize_rings([np.array([[1, 1], [4, 1], [4, 4], [1, 4]], dtype=float)], (6, 6)).sum() == 9


def test_opencv_fill_poly_with_a_subpixel_shift_is_not_the_pixel_centre_rule():
    """Why the table path fills spans by the renderer's rule instead of calling cv2.fillPoly once per value:
    fillPoly also paints the outline (and rounds vertices to rows), so even with 8 bits of sub-pixel shift the
    3×3 square covers 16 pixels and a sub-pixel triangle loses or gains some — a plausible wrong picture."""
    square = np.array([[1, 1], [4, 1], [4, 4], [1, 4]], dtype=float)
    triangle = np.array([[2.3, 1.7], [17.6, 4.2], [6.1, 13.9]])
    for ring, size in ((square, (6, 6)), (triangle, (16, 20))):
        filled = np.zeros(size, dtype=np.uint8)
        cv2.fillPoly(filled, [np.round((ring - 0.5) * 256).astype(np.int32)], 1, cv2.LINE_8, 8)
        assert (filled.astype(bool) != rasterize_rings([ring], size)).any()


# ==== hypothesis: COCO documents made for the renderer =======================================================
_half = st.integers(-24, 96).map(lambda v: v / 2)  # pixel centres and edges exactly
_coordinate = st.one_of(_half, st.floats(-12, 48, allow_nan=False).map(lambda v: round(v, 4)),
                        st.floats(-12, 48, allow_nan=False))


@st.composite
def _rings(draw, width: int, height: int) -> list:
    kind = draw(st.sampled_from(["free", "parts", "holed", "rectangle", "collinear", "tiny", "outside", "short"]))
    if kind in ("free", "parts"):
        return [[draw(_coordinate) for _ in range(2 * draw(st.integers(3, 7)))]
                for _ in range(1 if kind == "free" else draw(st.integers(2, 3)))]
    if kind == "holed":
        x, y, size = draw(_half), draw(_half), draw(st.integers(4, 30))
        inset = draw(st.sampled_from([1, 1.5, 0.25]))
        outer = [x, y, x + size, y, x + size, y + size, x, y + size]
        return [outer, [x + inset, y + inset, x + size - inset, y + inset, x + size / 2, y + size - inset]]
    if kind == "rectangle":
        x, y = draw(_half), draw(_half)
        return [[x, y, x + draw(st.integers(1, 20)), y, x + draw(st.integers(1, 20)), y + 9, x, y + 9]]
    if kind == "collinear":
        return [[1, 1, 5, 5, 9, 9]]
    if kind == "tiny":
        return [[0.1, 0.1, 0.4, 0.1, 0.1, 0.4]]
    if kind == "outside":
        return [[width + 2, 1, width + 9, 1, width + 5, 8]]
    return [[3, 4, 8, 9], [draw(_coordinate) for _ in range(6)]]


@st.composite
def _crowd(draw, width: int, height: int) -> dict:
    mask = draw(hnp.arrays(np.uint8, (height, width), elements=st.integers(0, 1)) | st.just(
        np.zeros((height, width), np.uint8)) | st.just(np.ones((height, width), np.uint8)))
    if draw(st.booleans()):
        return {"size": [height, width], "counts": _counts(mask)}
    return {"size": [height, width], "counts": mask_utils.encode(np.asfortranarray(mask))["counts"].decode("ascii")}


@st.composite
def render_documents(draw) -> dict:
    ids = draw(st.lists(st.sampled_from([0, 1, 2, 7, 300, 70000]), min_size=1, max_size=4, unique=True))
    categories = [{"id": cid, "name": f"c{cid}"} for cid in ids]
    images, annotations = [], []
    for index in range(draw(st.integers(1, 3))):
        width, height = draw(st.integers(1, 40)), draw(st.integers(1, 40))
        images.append({"id": 10 + index, "file_name": f"dir/img_{index}.jpg", "width": width, "height": height})
        for _ in range(draw(st.integers(0, 6))):
            record = {"id": len(annotations) + 1, "image_id": 10 + index,
                      "category_id": draw(st.sampled_from(ids))}
            shape = draw(st.sampled_from(["polygon", "polygon", "box", "crowd", "label"]))
            if shape == "polygon":
                record["segmentation"] = draw(_rings(width, height))
                xs = [v for ring in record["segmentation"] for v in ring[0::2]]
                ys = [v for ring in record["segmentation"] for v in ring[1::2]]
                if draw(st.booleans()):
                    record["bbox"] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            elif shape == "box":
                record["bbox"] = [draw(_coordinate), draw(_coordinate), draw(_half.map(abs)), draw(_half.map(abs))]
            elif shape == "crowd":
                record.update(iscrowd=1, bbox=[0, 0, 1, 1], segmentation=draw(_crowd(width, height)))
            annotations.append(record)
    draw(st.randoms()).shuffle(annotations)  # COCO files need not group records by image
    return {"images": images, "annotations": annotations, "categories": categories}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=render_documents(), views=st.sampled_from(VIEWS),
       style=st.sampled_from([{}, {"alpha": 0.3}, {"color_by": "object"}]), coco_ids=st.booleans())
def test_any_coco_document_renders_the_same_both_ways(document, views, style, coco_ids, tmp_path_factory):
    work = tmp_path_factory.mktemp("render-columnar")
    with pytest.MonkeyPatch.context() as patch:
        if coco_ids:
            _use_coco_ids_as_instance_ids(patch)
        assert_same(_write(work, document), work, views, **style)
