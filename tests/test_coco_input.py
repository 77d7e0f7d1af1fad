"""Reading COCO from untrusted files: every field's type is checked, both RLE forms must add up, and the
images are found where COCO tools look for them.

Oracles: pycocotools' own RLE codec (``encode``/``decode``, ``frPyObjects``), numpy run lengths of
random masks, and the folder layouts Datumaro, Roboflow and the COCO download use.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as mask_utils
from realfiles import real_file, requires_real_files

from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.formats.coco.checks import compressed_runs
from dlconvert.formats.coco.reader import image_roots
from dlconvert.images import find_image
from dlconvert.report import ConversionReport

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def one_record(**fields) -> dict:
    """A 6×5 image with one box record (plus ``fields``) and a keypoint category."""
    record = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2], "area": 4.0, "iscrowd": 0, **fields}
    return {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 5, "height": 6}],
        "categories": [{"id": 1, "name": "person", "supercategory": "person",
                        "keypoints": ["nose", "eye"], "skeleton": [[1, 2]]}],
        "annotations": [record],
    }


def read_error(tmp_path: Path, data: dict) -> FormatError:
    """The error of converting ``data`` (on_error fail); the output folder must not exist afterwards."""
    src = write_json(tmp_path / "src" / "bad.json", data)
    with pytest.raises(FormatError) as caught:
        Converter().run(src, "coco", tmp_path / "out", "dataloop")
    assert caught.value.path == str(src)
    assert not (tmp_path / "out").exists()
    return caught.value


def skipped_with(tmp_path: Path, data: dict) -> ConversionReport:
    src = write_json(tmp_path / "skip" / "bad.json", data)
    report = Converter(on_error="skip").run(src, "coco", tmp_path / "skip-out", "dataloop")
    assert not report.unbalanced()
    return report


# ==== wrong types in optional fields are reported, not guessed ======================================
WRONG_FIELDS = [
    ("iscrowd", "yes", "/annotations/0/iscrowd"),
    ("iscrowd", True, "/annotations/0/iscrowd"),
    ("iscrowd", 2, "/annotations/0/iscrowd"),
    ("area", "12", "/annotations/0/area"),
    ("area", -3.0, "/annotations/0/area"),
    ("area", None, "/annotations/0/area"),
    ("bbox", ["1", "1", "2", "2"], "/annotations/0/bbox"),
    ("num_keypoints", "5", "/annotations/0/num_keypoints"),
    ("num_keypoints", 1.5, "/annotations/0/num_keypoints"),
    ("num_keypoints", -1, "/annotations/0/num_keypoints"),
    ("attributes", ["occluded"], "/annotations/0/attributes"),
    ("id", [1], "/annotations/0/id"),
    ("id", None, "/annotations/0/id"),
    ("keypoints", [1, 2, 3, 4, 5, 2], "/annotations/0/keypoints/2"),  # visibility 3
    ("keypoints", [1, 2, 0.5, 4, 5, 2], "/annotations/0/keypoints/2"),
    ("keypoints", [1, 2, "2"], "/annotations/0/keypoints"),
]


@pytest.mark.parametrize("field, value, pointer", WRONG_FIELDS, ids=[f"{f}={v!r}" for f, v, _ in WRONG_FIELDS])
def test_a_wrong_type_in_an_optional_record_field_is_an_error_with_its_place(tmp_path, field, value, pointer):
    data = one_record(**{field: value})
    error = read_error(tmp_path, data)
    assert error.where == pointer
    report = skipped_with(tmp_path, data)
    assert [(i.kind, i.code, i.where) for i in report.issues] == [("skipped", "coco.invalid-record", pointer)]
    assert sum(report.annotations_out.values()) == 0


WRONG_CATEGORY_FIELDS = [
    ("supercategory", 5, "/categories/0/supercategory"),
    ("supercategory", ["person"], "/categories/0/supercategory"),
    ("keypoints", "nose", "/categories/0/keypoints"),
    ("skeleton", 5, "/categories/0/skeleton"),
]


@pytest.mark.parametrize("field, value, pointer", WRONG_CATEGORY_FIELDS,
                         ids=[f"{f}={v!r}" for f, v, _ in WRONG_CATEGORY_FIELDS])
def test_a_wrong_type_in_a_category_field_is_an_error_with_its_place(tmp_path, field, value, pointer):
    data = one_record()
    data["categories"][0][field] = value
    assert read_error(tmp_path, data).where == pointer


def test_a_null_supercategory_is_kept_as_it_was(tmp_path):
    data = one_record()
    data["categories"][0]["supercategory"] = None
    src = write_json(tmp_path / "src" / "null.json", data)
    Converter().run(src, "coco", tmp_path / "out", "coco")
    written = json.loads((tmp_path / "out" / "coco.json").read_text())
    assert written["categories"][0]["supercategory"] is None


def test_well_typed_optional_fields_still_read(tmp_path):
    data = one_record(iscrowd=1, area=0, num_keypoints=0, keypoints=[0, 0, 0, 3.5, 4, 2.0], attributes={"a": 1})
    src = write_json(tmp_path / "src" / "ok.json", data)
    report = Converter().run(src, "coco", tmp_path / "out", "coco")
    assert report.issues == []
    (record,) = json.loads((tmp_path / "out" / "coco.json").read_text())["annotations"]
    assert (record["iscrowd"], record["area"], record["num_keypoints"]) == (1, 0, 0)
    assert record["keypoints"] == [0, 0, 0, 3.5, 4, 2]


# ==== RLE: both forms must add up to the mask ======================================================
def mask_and_string(height: int = 6, width: int = 5) -> tuple[np.ndarray, str]:
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[1:4, 2:5] = 1
    mask[height - 1, 0] = 1
    return mask.astype(bool), mask_utils.encode(np.asfortranarray(mask))["counts"].decode("ascii")


def rle_record(counts, size=(6, 5), image_size=(6, 5), iscrowd=1) -> dict:
    height, width = image_size
    return {
        "images": [{"id": 1, "file_name": "m.png", "width": width, "height": height}],
        "categories": [{"id": 1, "name": "crowd"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": iscrowd, "area": 10.0,
                         "bbox": [0, 0, 5, 6], "segmentation": {"size": list(size), "counts": counts}}],
    }


_, GOOD = mask_and_string()
BAD_STRINGS = {  # name: (counts, what the error says)
    "outside the alphabet": (GOOD[:-1] + "~", "outside COCO's alphabet"),
    "garbage": ("hello world!", "outside COCO's alphabet"),
    "ends mid-number": (GOOD + "P", "ends in the middle of a number"),  # 'P': a continuation, nothing after it
    "adds up to less": (GOOD[:-2], "add up to 25, not height×width = 30"),
    "too long a number": ("oooooooo1", "longer than any run"),
    "negative run": ("3O", "negative run"),  # 'O' (31): the sign bit, the second count is -1
}


@pytest.mark.parametrize("name", sorted(BAD_STRINGS))
def test_a_compressed_rle_that_does_not_decode_to_the_mask_is_refused(tmp_path, name):
    counts, says = BAD_STRINGS[name]
    data = rle_record(counts)
    error = read_error(tmp_path, data)
    assert error.where == "/annotations/0/segmentation/counts"
    assert says in error.message
    report = skipped_with(tmp_path, data)
    assert [(i.code, i.where) for i in report.issues] == [("coco.invalid-record", "/annotations/0/segmentation/counts")]


def test_compressed_and_list_counts_with_a_wrong_sum_are_refused_alike(tmp_path):
    _, counts = mask_and_string(6, 5)
    as_list = mask_utils.decode({"size": [6, 5], "counts": counts.encode()}).reshape(-1, order="F")
    runs = compressed_runs(counts).tolist()
    assert sum(runs) == as_list.size == 30
    messages = []
    for form in (counts, runs):  # the same 30 pixels declared as a 6×6 image
        error = read_error(tmp_path / str(len(messages)), rle_record(form, size=(6, 6), image_size=(6, 6)))
        assert error.where == "/annotations/0/segmentation/counts"
        messages.append(error.message)
    assert messages[0] == messages[1] == "RLE counts add up to 30, not height×width = 36"


def test_an_rle_of_another_size_than_its_image_is_refused(tmp_path):
    _, counts = mask_and_string(6, 5)
    error = read_error(tmp_path, rle_record(counts, size=(6, 5), image_size=(7, 5)))
    assert error.where == "/annotations/0/segmentation/size"


def test_a_good_compressed_rle_still_reads_pixel_for_pixel(tmp_path):
    mask, counts = mask_and_string()
    src = write_json(tmp_path / "src" / "good.json", rle_record(counts))
    dataset = get_format("coco").read(src, ConvertOptions(), ConversionReport())
    (collection,) = list(dataset.items)
    (annotation,) = collection.annotations
    assert np.array_equal(annotation.annotation_definition.geo, mask)


@given(hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40)))
def test_compressed_runs_equal_the_masks_runs(mask):
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    runs = compressed_runs(encoded["counts"].decode("ascii"))
    flat = mask.reshape(-1, order="F").astype(np.int8)
    expected = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], flat, [1 - flat[-1]])))), prepend=0)
    assert runs.tolist() == expected.tolist()


@given(st.text(alphabet=[chr(c) for c in range(ord("0"), ord("o") + 1)], max_size=12),
       st.integers(1, 6), st.integers(1, 6))
def test_a_string_accepted_as_counts_decodes_in_pycocotools_to_those_runs(counts, height, width):
    runs = compressed_runs(counts)
    if isinstance(runs, str) or int(runs.sum()) != height * width:
        return  # refused: nothing is built from it
    decoded = mask_utils.decode({"size": [height, width], "counts": counts.encode("ascii")})
    values = np.repeat(np.arange(len(runs)) % 2, runs).astype(np.uint8)
    assert np.array_equal(decoded.reshape(-1, order="F"), values)


@requires_real_files
def test_the_dtlpy_converters_rle_that_does_not_add_up_is_refused(tmp_path):
    """The intentionally invalid crowd RLE of the early dtlpy-converters sample (714 of 272,640 pixels)."""
    data = json.loads(real_file("coco/dtlpy-converters-old/annotations.json").read_text())
    data["categories"] = [c for c in data["categories"] if "keypoints" not in c]  # its id 1 is listed twice
    index = next(i for i, a in enumerate(data["annotations"]) if isinstance(a.get("segmentation"), dict))
    image = next(i for i in data["images"] if i["id"] == data["annotations"][index]["image_id"])
    image["height"], image["width"] = data["annotations"][index]["segmentation"]["size"]  # sizes agree: only the sum
    error = read_error(tmp_path, data)
    assert (error.where, error.message) == (f"/annotations/{index}/segmentation/counts",
                                            "RLE counts add up to 714, not height×width = 272640")


# ==== where the images are ==========================================================================
@requires_real_files
@pytest.mark.parametrize("name, subset", [("instances_train.json", "train"), ("person_keypoints_val.json", "val")])
def test_datumaro_layout_finds_the_subset_folder(name, subset):
    root = real_file("coco/datumaro/coco_dataset")
    path = root / "annotations" / name
    roots = image_roots(path)
    assert roots == (path.parent, root / "images" / subset, root / "images")
    data = json.loads(path.read_text())
    for image in data["images"]:
        found = [r for r in roots if find_image(r, image["file_name"])]
        assert found and found[0] == root / "images" / subset


@requires_real_files
@pytest.mark.parametrize("split", ["train", "val"])
def test_roboflow_layout_finds_the_images_beside_the_json(split):
    path = real_file(f"coco/datumaro/roboflow_coco/{split}/_annotations.coco.json")
    assert image_roots(path) == (path.parent,)
    for image in json.loads(path.read_text())["images"]:
        assert find_image(path.parent, image["file_name"]) is not None


@requires_real_files
def test_the_dataset_says_where_the_images_are(tmp_path):
    path = real_file("coco/datumaro/coco_dataset/annotations/instances_train.json")
    dataset = get_format("coco").read(path, ConvertOptions(), ConversionReport())
    images = real_file("coco/datumaro/coco_dataset/images")
    assert dataset.image_roots == (path.parent, images / "train", images)
    assert dataset.images_root == images / "train"  # the first folder holding the first image
    plan = get_format("coco").plan(path, ConvertOptions(), ConversionReport())
    assert (plan.image_roots, plan.images_root) == (dataset.image_roots, dataset.images_root)
    given = get_format("coco").read(path, ConvertOptions(images=tmp_path), ConversionReport())
    assert given.images_root == tmp_path and given.image_roots == dataset.image_roots  # --images: the renderer's


@pytest.mark.parametrize("layout, expected", [
    ({"annotations/instances_val2017.json": "", "val2017/x.jpg": "", "train2017/y.jpg": ""},
     ["annotations", "val2017"]),
    ({"coco/instances_default.json": "", "coco/images/default/x.jpg": "", "coco/images/z.jpg": ""},
     ["coco", "coco/images/default", "coco/images"]),
    ({"labels/export.json": "", "images/x.jpg": ""}, ["labels", "images"]),
    ({"export.json": ""}, ["."]),
])
def test_image_folders_exist_and_come_in_order(tmp_path, layout, expected):
    for relative in layout:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("")
    json_path = tmp_path / next(p for p in layout if p.endswith(".json"))
    assert image_roots(json_path) == tuple((tmp_path / e).resolve() if e != "." else tmp_path for e in expected)


def test_a_relative_json_path_still_finds_the_folder_above(tmp_path, monkeypatch):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations" / "a.json").write_text("")
    monkeypatch.chdir(tmp_path / "annotations")
    assert image_roots(Path("a.json")) == (tmp_path / "annotations", tmp_path / "images")


def test_a_file_name_with_a_non_image_extension_is_still_an_image(tmp_path):
    data = one_record()
    data["images"][0]["file_name"] = "frames/clip.mp4"
    src = write_json(tmp_path / "src" / "clip.json", data)
    report = Converter().run(src, "coco", tmp_path / "out", "coco")
    assert report.items_out == 1 and report.issues == []


def test_copy_of_input_is_not_modified(tmp_path):
    """Reading checks but never rewrites what it was given (the units keep the parsed records)."""
    data = one_record(keypoints=[1, 1, 2, 3, 3, 1], num_keypoints=2)
    before = copy.deepcopy(data)
    src = write_json(tmp_path / "src" / "a.json", data)
    Converter().run(src, "coco", tmp_path / "out", "coco")
    assert json.loads(src.read_text()) == before


def test_a_file_that_lists_no_image_is_an_empty_dataset_not_nothing_found(tmp_path):
    src = write_json(tmp_path / "src" / "empty.json", {"images": [], "categories": [{"id": 1, "name": "a"}]})
    report = Converter().run(src, "coco", tmp_path / "out", "coco")
    assert (report.items_in, report.items_out) == (0, 0)
    assert json.loads((tmp_path / "out" / "coco.json").read_text())["categories"] == [{"id": 1, "name": "a"}]


def test_a_json_that_is_no_coco_says_what_was_looked_for(tmp_path):
    src = write_json(tmp_path / "src" / "other.json", {"items": []})
    with pytest.raises(FormatError, match="'images' list"):
        Converter().run(src, "coco", tmp_path / "out", "coco")
    assert "categories" in get_format("coco").looks_for


@pytest.mark.parametrize("bbox, ring", [
    ([-7.5e-06, 2.0, 4.000005, 2.0], [-7.5e-06, 2.0, 3.9999975, 2.0, 3.9999975, 4.0, -7.5e-06, 4.0]),
    ([0.1, 0.2, 0.3, 0.7], [0.1, 0.2, 0.4, 0.2, 0.4, 0.9, 0.1, 0.9]),
])
def test_a_box_rectangle_whose_right_edge_is_x_plus_w_up_to_rounding_is_a_box(tmp_path, bbox, ring):
    x, y, w, h = bbox
    assert max(ring[0::2]) != x + w or max(ring[1::2]) != y + h  # not equal to the last bit
    data = one_record(bbox=bbox, segmentation=[ring], area=w * h)
    src = write_json(tmp_path / "src" / "box.json", data)
    (collection,) = get_format("coco").read(src, ConvertOptions(), ConversionReport()).items
    (box,) = collection.annotations
    assert box.type == "box"
    assert box.annotation_definition.bounds() == (min(ring[0::2]), min(ring[1::2]), max(ring[0::2]), max(ring[1::2]))
    Converter().run(src, "coco", tmp_path / "out", "coco")
    (record,) = json.loads((tmp_path / "out" / "coco.json").read_text())["annotations"]
    assert (record["bbox"], record["segmentation"]) == (bbox, [ring])


def test_a_box_hint_from_coco_ids_settles_a_rectangle_that_is_not_the_bbox(tmp_path):
    data = one_record(bbox=[0, 0, 9, 9], segmentation=[[1, 1, 5, 1, 5, 4, 1, 4]])
    src = write_json(tmp_path / "src" / "hinted.json", data)
    write_json(src.with_name("coco_ids.json"), {"annotations": [{"id": 1, "type": "box"}]})
    (collection,) = get_format("coco").read(src, ConvertOptions(), ConversionReport()).items
    assert [a.type for a in collection] == ["box"]
    write_json(src.with_name("coco_ids.json"), {"annotations": [{"id": 1, "type": "segment"}]})
    (collection,) = get_format("coco").read(src, ConvertOptions(), ConversionReport()).items
    assert [a.type for a in collection] == ["segment"]
