"""Reading a Dataloop item JSON and writing it back gives the same JSON value: every key, in the same
order, and every number with the same type (``5`` stays ``5``, ``5.0`` stays ``5.0``).

The fixtures are real exports from public repositories (../shared/fixtures/PROVENANCE.md, read in place); the
comparison is on orjson's compact bytes, which differ whenever a key, its order, a value or a
number's type differs.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import orjson
import pytest
from realfiles import NO_REAL_FILES, real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, OutputError, Segmentation
from dlconvert.formats.dataloop import iter_json_files, json_relpath, read_dataloop, write_dataloop

FIXTURES = real_file(".")
DATALOOP_FIXTURES = FIXTURES / "dataloop"
#: JSON files under dataloop/ that are not Dataloop items: COCO, Labelbox, converter templates, label lists.
NOT_ITEMS = {"dtlpy-converters-examples/coco/coco/annotations.json", "dtlpy-converters-examples/labelbox/bird_gt.json",
             "dtlpy-converters-examples/custom/json_input_templates/csv_example.json",
             "dtlpy-converters-examples/custom/json_input_templates/json_example.json",
             "dtlpy-tests-2019/classes_new.json", "dtlpy-tests-2019/labels.json", "dtlpy-tests-2019/video_classes.json"}
ITEM_FILES = sorted(p for p in DATALOOP_FIXTURES.rglob("*.json")
                    if p.relative_to(DATALOOP_FIXTURES).as_posix() not in NOT_ITEMS)
ITEM_CASES = [pytest.param(p, id=p.relative_to(DATALOOP_FIXTURES).as_posix()) for p in ITEM_FILES] or NO_REAL_FILES

SAMPLE_JSON = Path(__file__).parent.parent / "dlconvert" / "samples" / "json"
SAMPLE_FILES = sorted(SAMPLE_JSON.rglob("*.json"))
SAMPLE_IDS = [p.relative_to(SAMPLE_JSON).as_posix() for p in SAMPLE_FILES]

YOLO_JSON = DATALOOP_FIXTURES / "dtlpy-converters-examples/yolo/dataloop/json"
CAT = YOLO_JSON / "cat.json"
VIDEO_2021 = YOLO_JSON / "2021_04_23_10_39_21_Cache_Trim_Cropped.json"
VIDEO_2019 = DATALOOP_FIXTURES / "dtlpy-tests-2019/video_annotations.json"
HAMSTER = DATALOOP_FIXTURES / "dtlpy-documentation/hamster/hamster.json"


def _load(path: Path):
    return orjson.loads(path.read_bytes())


def _written(collection: AnnotationCollection, original):
    """What dlconvert writes for a file: the item JSON, or the list of annotations for a bare list."""
    if isinstance(original, list):
        return [annotation.to_json() for annotation in collection]
    return collection.to_json()


def _same(a, b) -> bool:
    return orjson.dumps(a) == orjson.dumps(b)


@requires_real_files
def test_fixture_set_is_complete():
    # Every kind of item JSON the brief names is here: server export, SDK "_id" shape, 2021
    # itemMetadata root, {"annotations"} only, bare lists, and both video schemas.
    assert len(ITEM_FILES) == 48
    shapes = {"list": 0, "_id": 0, "id": 0, "annotations-only": 0, "itemMetadata": 0}
    for path in ITEM_FILES:
        data = _load(path)
        if isinstance(data, list):
            shapes["list"] += 1
            continue
        if "itemMetadata" in data:
            shapes["itemMetadata"] += 1
        if "_id" in data:
            shapes["_id"] += 1
        elif "id" in data:
            shapes["id"] += 1
        else:
            shapes["annotations-only"] += 1
    assert shapes == {"list": 3, "_id": 7, "id": 37, "annotations-only": 1, "itemMetadata": 4}


@requires_real_files
def test_the_real_files_match_their_provenance():
    # PROVENANCE.md records each source file's size; an edited file would no longer match.
    rows = {}
    for line in (FIXTURES / "PROVENANCE.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0].startswith("dataloop/"):
            rows[cells[0]] = int(cells[4])
    present = {p.relative_to(FIXTURES).as_posix(): p.stat().st_size
               for p in DATALOOP_FIXTURES.rglob("*") if p.is_file()}
    assert present == rows


@pytest.mark.parametrize("path", ITEM_CASES)
def test_fixture_round_trip_is_identical(path: Path):
    original = _load(path)
    collection = AnnotationCollection.from_json_file(path)
    assert len(collection) == len(original if isinstance(original, list) else original["annotations"])
    written = _written(collection, original)
    assert _same(written, original)
    # Twice in a row gives the same again, and reading did not change the parsed input.
    again = AnnotationCollection.from_json(copy.deepcopy(written))
    assert _same(_written(again, original), original)
    assert _same(_load(path), original)


@pytest.mark.parametrize("path", ITEM_CASES)
def test_fixture_round_trip_leaves_the_input_value_alone(path: Path):
    original = _load(path)
    given = copy.deepcopy(original)
    collection = AnnotationCollection.from_json(given)
    written = _written(collection, original)
    assert _same(given, original)
    assert _same(written, original)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=SAMPLE_IDS)
def test_sample_round_trip_is_identical(path: Path):
    original = _load(path)
    collection = AnnotationCollection.from_json_file(path)
    assert _same(collection.to_json(), original)


def test_sample_has_every_file(sample_dir: Path):
    assert [p.relative_to(sample_dir / "json").as_posix() for p in iter_json_files(sample_dir)] == SAMPLE_IDS
    assert SAMPLE_IDS == ["animals/empty_01.json", "audio/conversation.json", "street/scene_01.json",
                          "street/scene_02.json", "video/traffic.json"]


def test_write_dataloop_sample_reads_back_identical(sample_dir: Path, tmp_path: Path):
    written = write_dataloop(read_dataloop(sample_dir), tmp_path)
    assert sorted(p.relative_to(tmp_path / "json").as_posix() for p in written) == SAMPLE_IDS
    for relative in SAMPLE_IDS:
        out = tmp_path / "json" / relative
        assert _same(_load(out), _load(SAMPLE_JSON / relative))
        assert _same(AnnotationCollection.from_json_file(out).to_json(), _load(SAMPLE_JSON / relative))
    # The default layout is the Dataloop exports' own: 2-space indent.
    assert (tmp_path / "json/street/scene_01.json").read_text(encoding="utf-8").startswith('{\n  "id": ')


@requires_real_files
def test_write_dataloop_mirrors_a_real_export_tree(tmp_path: Path):
    # The yolo example export has a sub/ folder and a video; V1 names give back its own layout.
    src = YOLO_JSON
    sources = iter_json_files(src)
    written = write_dataloop(read_dataloop(src), tmp_path, indent=False)
    relatives = sorted(p.relative_to(tmp_path / "json").as_posix() for p in written)
    assert relatives == sorted(p.relative_to(src).as_posix() for p in sources)
    assert "sub/000000000049.json" in relatives
    for relative in relatives:
        assert _same(_load(tmp_path / "json" / relative), _load(src / relative))


@pytest.mark.parametrize("path", [c for c in ITEM_CASES
                                  if c.values[0] is None or not isinstance(_load(c.values[0]), list)])
def test_write_dataloop_each_fixture_reads_back_identical(path: Path, tmp_path: Path):
    collection = AnnotationCollection.from_json_file(path)
    (target,) = write_dataloop([collection], tmp_path)
    assert target == tmp_path / "json" / json_relpath(collection)
    assert _same(_load(target), _load(path))
    assert _same(AnnotationCollection.from_json_file(target).to_json(), _load(path))


def _item(filename: str) -> AnnotationCollection:
    collection = AnnotationCollection(filename=filename, width=10, height=10)
    collection.add(Box(1, 2, 3, 4, label="x"))
    return collection


@pytest.mark.parametrize(
    ("filename", "v1", "v2"),
    [
        ("/sub/a.jpg", "sub/a.json", "sub/a.jpg.json"),
        ("/a.jpg", "a.json", "a.jpg.json"),
        ("/x.tar.gz", "x.tar.json", "x.tar.gz.json"),  # V1 replaces the last suffix only, as Path.with_suffix
        ("/Merino/00.jpgMA8.jpg", "Merino/00.jpgMA8.json", "Merino/00.jpgMA8.jpg.json"),
        ("/deep/er/README", "deep/er/README.json", "deep/er/README.json"),
    ],
)
def test_json_naming_v1_and_v2(filename: str, v1: str, v2: str, tmp_path: Path):
    collection = _item(filename)
    assert json_relpath(collection) == v1
    assert json_relpath(collection, "v1") == v1
    assert json_relpath(collection, "v2") == v2
    assert write_dataloop([collection], tmp_path / "one") == [tmp_path / "one" / "json" / v1]
    assert write_dataloop([collection], tmp_path / "two", naming="v2") == [tmp_path / "two" / "json" / v2]
    assert _same(_load(tmp_path / "two" / "json" / v2), collection.to_json())


def test_unknown_naming_is_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="naming"):
        write_dataloop([_item("/a.jpg")], tmp_path, naming="v3")


def test_v1_collision_raises_output_error(tmp_path: Path):
    with pytest.raises(OutputError) as info:
        write_dataloop([_item("/a.jpg"), _item("/a.png")], tmp_path)
    assert "/a.jpg" in info.value.message and "/a.png" in info.value.message
    assert info.value.path == str(tmp_path / "json" / "a.json")
    assert isinstance(info.value, OSError)
    # The same two items have distinct V2 names.
    written = write_dataloop([_item("/a.jpg"), _item("/a.png")], tmp_path / "v2", naming="v2")
    assert sorted(p.name for p in written) == ["a.jpg.json", "a.png.json"]


@requires_real_files
def test_sdk_id_shape_reads(tmp_path: Path):
    collection = AnnotationCollection.from_json_file(HAMSTER)
    assert collection.item_id == "621dda9c69f3d61009b9c741"
    assert collection.filename == "/hamster.jpg"
    assert collection.name == "hamster.jpg"
    assert (collection.width, collection.height, collection.mimetype) == (612, 408, "image/jpeg")
    assert [(a.type, a.label) for a in collection] == [("binary", "fur"), ("binary", "eye")]
    assert all(a.annotation_definition.shape == (408, 612) for a in collection)
    # The 2021 variant keeps item metadata under "itemMetadata".
    fruit = AnnotationCollection.from_json_file(DATALOOP_FIXTURES / "dtlpy-documentation/FruitImage/json/train"
                                                / "apple_1.json")
    assert (fruit.item_id, fruit.width, fruit.height) == ("6110d1859a1c5445b7b7ac3b", 349, 349)
    assert [(a.type, a.label, a.annotation_definition.bounds()) for a in fruit] == [
        ("box", "apple", (8.0, 15.0, 331.0, 349.0))]
    # A hand-written minimal SDK file, as AnnotationCollection.to_json of the SDK writes it.
    minimal = {"_id": "5d1dd5a5fa4f328336cfba05", "filename": "/a.png",
               "annotations": [{"type": "point", "label": "p", "coordinates": {"x": 1, "y": 2, "z": 0}}]}
    path = tmp_path / "a.json"
    path.write_bytes(orjson.dumps(minimal))
    read = AnnotationCollection.from_json_file(path)
    assert (read.item_id, read.filename, read.mimetype) == ("5d1dd5a5fa4f328336cfba05", "/a.png", "image/png")
    assert read[0].annotation_definition.bounds() == (1.0, 2.0, 1.0, 2.0)
    assert _same(read.to_json(), minimal)


@requires_real_files
def test_bare_list_reads():
    path = DATALOOP_FIXTURES / "dtlpy-tests-2019/annotations_new.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    collection = AnnotationCollection.from_json_file(path)
    assert collection.filename is None and collection.item_id is None
    assert [(a.type, a.label) for a in collection] == [(a["type"], a["label"]) for a in raw]
    assert [a.v1_attributes for a in collection] == [a["attributes"] for a in raw]
    polyline = next(a for a in collection if a.type == "polyline")
    # The legacy flat list of points is one line of 4 points.
    assert [len(part) for part in polyline.annotation_definition.parts] == [4]
    ellipse = next(a for a in collection if a.type == "ellipse")
    assert ellipse.annotation_definition.rx == raw[0]["coordinates"]["rx"]
    # The {"annotations": [...]}-only shape of the same era reads too.
    only = AnnotationCollection.from_json_file(DATALOOP_FIXTURES / "dtlpy-tests-2019/0162_annotations.json")
    assert len(only) == 21 and {a.type for a in only} == {"box"}


@requires_real_files
def test_subtitle_bare_list_reads():
    raw = _load(DATALOOP_FIXTURES / "dtlpy-converters-examples/vtt/conversation.json")
    collection = AnnotationCollection.from_json(raw)
    assert [a.annotation_definition.text for a in collection] == [a["coordinates"]["text"] for a in raw]
    assert [a.start_time for a in collection] == [float(a["metadata"]["system"]["startTime"]) for a in raw]


@requires_real_files
def test_cat_binary_mask_decodes():
    collection = AnnotationCollection.from_json_file(CAT)
    assert (collection.width, collection.height) == (481, 480)
    (mask,) = [a for a in collection if a.type == "binary"]
    definition = mask.annotation_definition
    assert isinstance(definition, Segmentation)
    assert definition.shape == (480, 481)  # from the PNG header, before decoding
    geo = definition.geo
    assert geo.shape == (480, 481) and geo.dtype == bool
    assert definition.color == (3, 94, 88)
    assert geo.any() and not geo.all()
    assert definition.area == float(geo.sum())
    left, top, right, bottom = definition.bounds()
    rows = geo.any(axis=1).nonzero()[0]
    cols = geo.any(axis=0).nonzero()[0]
    assert (left, top, right, bottom) == (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)
    # Decoding the mask does not change what is written.
    assert _same(collection.to_json(), _load(CAT))


def _frame_states(annotation_json: dict) -> list[int]:
    system = annotation_json["metadata"]["system"]
    return [system.get("frame", 0)] + [s["frame"] for s in system.get("snapshots_") or []]


@requires_real_files
def test_video_2021_tracks_have_every_frame():
    raw = _load(VIDEO_2021)
    collection = AnnotationCollection.from_json_file(VIDEO_2021)
    assert collection.is_video and collection.fps == 25.0
    assert (collection.width, collection.height) == (1280, 720)
    assert collection.frame_range == (0, 50)
    assert [a.object_id for a in collection] == ["2", "1"]
    for annotation, annotation_json in zip(collection, raw["annotations"], strict=True):
        assert annotation.is_video
        assert sorted(annotation.frames) == _frame_states(annotation_json) == list(range(51))
        assert (annotation.start_frame, annotation.end_frame) == (0, 50)
        assert annotation.end_time == 2.0
        for snapshot in annotation_json["metadata"]["system"]["snapshots_"]:
            state = annotation.frames[snapshot["frame"]]
            assert state.annotation_definition.to_coordinates() == snapshot["data"]
            assert state.fixed is snapshot["fixed"] and state.object_visible is snapshot["objectVisible"]


@requires_real_files
def test_video_2019_legacy_tracks_have_their_frame_counts():
    raw = _load(VIDEO_2019)
    collection = AnnotationCollection.from_json_file(VIDEO_2019)
    assert len(collection) == 16
    counts = [len(a.frames) for a in collection]
    assert counts == [1 + len(a["metadata"]["system"]["snapshots_"]) for a in raw]
    assert sorted(counts) == [46] + [111] * 15
    for annotation, annotation_json in zip(collection, raw, strict=True):
        assert annotation.is_video
        assert sorted(annotation.frames) == sorted(_frame_states(annotation_json))
        assert annotation.start_frame == annotation_json["metadata"]["system"]["frame"]
        assert annotation.end_frame == max(_frame_states(annotation_json))
    late = collection[3]
    assert (late.label, late.start_frame, late.end_frame) == ("Visitor", 288, 504)
    assert collection.frame_range == (0, 528)


_BOX = [{"x": 1, "y": 2, "z": 0}, {"x": 3, "y": 4, "z": 0}]


EDGE_SHAPES = {
    "metadata-null": {"type": "box", "label": "a", "coordinates": _BOX, "metadata": None},
    "metadata-empty": {"type": "box", "label": "a", "coordinates": _BOX, "metadata": {}},
    "user-null": {"type": "box", "label": "a", "coordinates": _BOX, "metadata": {"system": {}, "user": None}},
    "nulls": {"type": "box", "label": None, "coordinates": _BOX, "attributes": None, "description": None},
    "data-key": {"type": "box", "label": "a", "data": _BOX},
    "box-reversed-angle-0": {"type": "box", "label": "a", "coordinates": [_BOX[1], _BOX[0], 0]},
    "box-float-extra-keys": {"type": "box", "label": "a",
                             "coordinates": [{"x": 1.0, "y": 2, "z": 7}, {"y": 4, "x": 3, "extra": "kept"}]},
    "unknown-no-coordinates": {"type": "note", "label": "a"},
    "unknown-null-coordinates": {"type": "note", "label": "a", "coordinates": None},
    "free-text": {"type": "text", "label": "free-text", "coordinates": "a reply"},
    "class": {"type": "class", "label": "c"},
    "class-null": {"type": "class", "label": "c", "coordinates": None},
    "class-list": {"type": "class", "label": "c", "coordinates": []},
    "point-in-list": {"type": "point", "label": "p", "coordinates": [{"x": 1, "y": 2}]},
    "polygon-hole": {"type": "segment", "label": "s",
                     "coordinates": [[{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 4}],
                                     [{"x": 1, "y": 1}, {"x": 2, "y": 1}, {"x": 2, "y": 2}]]},
    "ellipse-no-angle": {"type": "ellipse", "label": "e",
                         "coordinates": {"center": {"x": 5, "y": 5}, "rx": 2, "ry": 1}},
    "pose-no-instance": {"type": "pose", "label": "person", "coordinates": {"templateId": "t1"}},
}


@pytest.mark.parametrize("annotation", EDGE_SHAPES.values(), ids=EDGE_SHAPES.keys())
def test_edge_shapes_round_trip(annotation: dict):
    item = {"filename": "/a.jpg", "annotations": [annotation]}
    collection = AnnotationCollection.from_json(copy.deepcopy(item))
    assert _same(collection.to_json(), item)


def test_video_edge_shapes_round_trip():
    snapshots = [
        {"frame": 3, "data": _BOX},  # bare minimum: everything else defaulted
        {"frame": 5.0, "fixed": False, "objectVisible": False, "data": _BOX, "extra": [1]},
        {"frame": 6, "type": "note", "label": "other"},  # an unknown type without data
    ]
    item = {"filename": "/v.mp4", "metadata": {"fps": 10, "system": {"mimetype": "video/mp4"}},
            "annotations": [{"type": "box", "label": "a", "coordinates": _BOX,
                             "metadata": {"system": {"frame": 2, "endFrame": 8, "snapshots_": snapshots}}}]}
    collection = AnnotationCollection.from_json(copy.deepcopy(item))
    assert sorted(collection[0].frames) == [2, 3, 5, 6]
    assert _same(collection.to_json(), item)


@requires_real_files
def test_edit_changes_only_what_was_edited():
    original = _load(CAT)
    collection = AnnotationCollection.from_json(copy.deepcopy(original))
    polygon = next(a for a in collection if a.type == "segment")
    polygon.label = "kitten"
    written = collection.to_json()
    expected = copy.deepcopy(original)
    index = next(i for i, a in enumerate(expected["annotations"]) if a["type"] == "segment")
    expected["annotations"][index]["label"] = "kitten"
    assert _same(written, expected)


@requires_real_files
def test_moving_a_box_writes_canonical_coordinates():
    path = DATALOOP_FIXTURES / "dtlpy-converters-examples/voc/dataloop/json/2007_000027.json"
    original = _load(path)
    collection = AnnotationCollection.from_json(copy.deepcopy(original))
    box = collection[0].annotation_definition
    box.left = box.left - 1
    coords = collection.to_json()["annotations"][0]["coordinates"]
    first, second = original["annotations"][0]["coordinates"][:2]
    assert coords == [{"x": first["x"] - 1, "y": first["y"], "z": 0}, {"x": second["x"], "y": second["y"], "z": 0}]


def test_written_json_is_plain_json(tmp_path: Path, sample_dir: Path):
    # The stdlib reads what dlconvert writes, to the same value (no NaN, no orjson-only types).
    for target in write_dataloop(read_dataloop(sample_dir), tmp_path):
        text = target.read_text(encoding="utf-8")
        assert not re.search(r"\bNaN\b|\bInfinity\b", text)
        assert json.loads(text) == orjson.loads(text)
