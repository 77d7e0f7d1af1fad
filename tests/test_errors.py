"""Malformed input raises dlconvert's own errors, naming the file and the exact JSON place.

Every case checks the error class and ``.where`` (an RFC 6901 JSON pointer into the file, or
``line L column C`` for JSON syntax), so a user is told exactly what to fix. The CLI turns those
errors into one line on stderr and exit code 1.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
import shutil
from pathlib import Path

import orjson
import pytest

from dlconvert import (
    AnnotationCollection,
    DlconvertError,
    FormatError,
    InvalidAnnotationError,
)
from dlconvert.cli import main
from dlconvert.errors import json_pointer

NAN = float("nan")
INF = float("inf")
P = {"x": 1, "y": 2, "z": 0}
Q = {"x": 3, "y": 4, "z": 0}
CORNERS = ("front_tl", "front_tr", "front_br", "front_bl", "back_tl", "back_tr", "back_br", "back_bl")
PNG_1X1 = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAW"
           "jR9awAAAABJRU5ErkJggg==")


def _cube(**override):
    coordinates = {name: {"x": i, "y": i, "z": 0} for i, name in enumerate(CORNERS)}
    coordinates["angle"] = 0
    coordinates.update(override)
    return coordinates


def _ann(type_: str, coordinates, **extra) -> dict:
    return {"type": type_, "label": "thing", "coordinates": coordinates, **extra}


# (case id, annotation JSON, error class, JSON pointer inside the annotation)
ANNOTATION_CASES = [
    ("missing-type", {"label": "a", "coordinates": [P, Q]}, InvalidAnnotationError, ""),
    ("type-not-string", {"type": 3, "label": "a"}, InvalidAnnotationError, "/type"),
    ("not-an-object", "box", InvalidAnnotationError, ""),
    ("label-int", _ann("box", [P, Q], label=5), InvalidAnnotationError, "/label"),
    ("label-list", _ann("box", [P, Q], label=["a"]), InvalidAnnotationError, "/label"),
    ("metadata-list", _ann("box", [P, Q], metadata=[]), InvalidAnnotationError, "/metadata"),
    ("system-list", _ann("box", [P, Q], metadata={"system": []}), InvalidAnnotationError, "/metadata/system"),
    ("system-null", _ann("box", [P, Q], metadata={"system": None}), InvalidAnnotationError, "/metadata/system"),
    ("system-string", _ann("box", [P, Q], metadata={"system": ""}), InvalidAnnotationError, "/metadata/system"),
    # box
    ("box-missing", {"type": "box", "label": "a"}, InvalidAnnotationError, "/coordinates"),
    ("box-string", _ann("box", "0,0,1,1"), InvalidAnnotationError, "/coordinates"),
    ("box-object", _ann("box", {"x": 1, "y": 2}), InvalidAnnotationError, "/coordinates"),
    ("box-null", _ann("box", None), InvalidAnnotationError, "/coordinates"),
    ("box-one-point", _ann("box", [P]), InvalidAnnotationError, "/coordinates"),
    ("box-pairs", _ann("box", [[1, 2], [3, 4]]), InvalidAnnotationError, "/coordinates"),
    ("box-y-string", _ann("box", [P, {"x": 3, "y": "4"}]), InvalidAnnotationError, "/coordinates/1/y"),
    ("box-x-bool", _ann("box", [{"x": True, "y": 2}, Q]), InvalidAnnotationError, "/coordinates/0/x"),
    ("box-x-null", _ann("box", [{"x": None, "y": 2}, Q]), InvalidAnnotationError, "/coordinates/0/x"),
    ("box-missing-y", _ann("box", [{"x": 1}, Q]), InvalidAnnotationError, "/coordinates/0"),
    ("box-angle-string", _ann("box", [P, Q, "15"]), InvalidAnnotationError, "/coordinates/2"),
    ("box-nan", _ann("box", [P, {"x": NAN, "y": 4}]), InvalidAnnotationError, "/coordinates/1/x"),
    ("box-inf", _ann("box", [P, {"x": 3, "y": INF}]), InvalidAnnotationError, "/coordinates/1/y"),
    ("box-minus-inf", _ann("box", [{"x": -INF, "y": 2}, Q]), InvalidAnnotationError, "/coordinates/0/x"),
    ("box-angle-nan", _ann("box", [P, Q, NAN]), InvalidAnnotationError, "/coordinates/2"),
    ("box-data-key", {"type": "box", "label": "a", "data": [P, {"x": "3", "y": 4}]}, InvalidAnnotationError,
     "/data/1/x"),
    # segment (polygon) and polyline
    ("segment-object", _ann("segment", {"x": 1}), InvalidAnnotationError, "/coordinates"),
    ("segment-string", _ann("segment", "ring"), InvalidAnnotationError, "/coordinates"),
    ("segment-ring-string", _ann("segment", ["ring"]), InvalidAnnotationError, "/coordinates/0"),
    ("segment-point-list", _ann("segment", [[P, [3, 4]]]), InvalidAnnotationError, "/coordinates/0/1"),
    ("segment-x-string", _ann("segment", [[P, {"x": "3", "y": 4}, Q]]), InvalidAnnotationError,
     "/coordinates/0/1/x"),
    ("segment-second-ring-nan", _ann("segment", [[P, Q, P], [P, {"x": 1, "y": NAN}]]), InvalidAnnotationError,
     "/coordinates/1/1/y"),
    ("segment-flat-inf", _ann("segment", [P, {"x": INF, "y": 0}]), InvalidAnnotationError, "/coordinates/1/x"),
    ("polyline-string", _ann("polyline", "line"), InvalidAnnotationError, "/coordinates"),
    ("polyline-y-null", _ann("polyline", [[P, {"x": 3, "y": None}]]), InvalidAnnotationError,
     "/coordinates/0/1/y"),
    ("polyline-ring-object", _ann("polyline", [P, Q, 5]), InvalidAnnotationError, "/coordinates/2"),
    # point
    ("point-list-of-numbers", _ann("point", [1, 2]), InvalidAnnotationError, "/coordinates"),
    ("point-string", _ann("point", "1,2"), InvalidAnnotationError, "/coordinates"),
    ("point-x-string", _ann("point", {"x": "1", "y": 2}), InvalidAnnotationError, "/coordinates/x"),
    ("point-y-inf", _ann("point", {"x": 1, "y": -INF}), InvalidAnnotationError, "/coordinates/y"),
    ("point-wrapped-y-string", _ann("point", [{"x": 1, "y": "2"}]), InvalidAnnotationError, "/coordinates/0/y"),
    # ellipse
    ("ellipse-list", _ann("ellipse", []), InvalidAnnotationError, "/coordinates"),
    ("ellipse-missing-ry", _ann("ellipse", {"center": P, "rx": 3}), InvalidAnnotationError, "/coordinates"),
    ("ellipse-rx-string", _ann("ellipse", {"center": P, "rx": "3", "ry": 4}), InvalidAnnotationError,
     "/coordinates/rx"),
    ("ellipse-center-list", _ann("ellipse", {"center": [1, 2], "rx": 3, "ry": 4}), InvalidAnnotationError,
     "/coordinates/center"),
    ("ellipse-center-nan", _ann("ellipse", {"center": {"x": NAN, "y": 2}, "rx": 3, "ry": 4}),
     InvalidAnnotationError, "/coordinates/center/x"),
    ("ellipse-angle-string", _ann("ellipse", {"center": P, "rx": 3, "ry": 4, "angle": "30"}),
     InvalidAnnotationError, "/coordinates/angle"),
    ("ellipse-ry-inf", _ann("ellipse", {"center": P, "rx": 3, "ry": INF}), InvalidAnnotationError,
     "/coordinates/ry"),
    # cube
    ("cube-list", _ann("cube", []), InvalidAnnotationError, "/coordinates"),
    ("cube-missing-corner", _ann("cube", {"front_tl": P}), InvalidAnnotationError, "/coordinates"),
    ("cube-corner-string", _ann("cube", _cube(back_bl={"x": "1", "y": 2})), InvalidAnnotationError,
     "/coordinates/back_bl/x"),
    ("cube-corner-nan", _ann("cube", _cube(front_br={"x": 1, "y": NAN})), InvalidAnnotationError,
     "/coordinates/front_br/y"),
    ("cube-angle-string", _ann("cube", _cube(angle="0")), InvalidAnnotationError, "/coordinates/angle"),
    # binary
    ("binary-number", _ann("binary", 5), InvalidAnnotationError, "/coordinates"),
    ("binary-dict-number", _ann("binary", {"data": 3}), InvalidAnnotationError, "/coordinates"),
    ("binary-bad-base64", _ann("binary", "data:image/png;base64,@@@@"), InvalidAnnotationError, "/coordinates"),
    ("binary-jpeg-url", _ann("binary", "data:image/jpeg;base64,/9j/4AAQSkZJRg=="), InvalidAnnotationError,
     "/coordinates"),
    ("binary-not-png-bytes", _ann("binary", "data:image/png;base64,R0lGODlhAQABAAAAACw="), InvalidAnnotationError,
     "/coordinates"),
    ("binary-cut-base64", _ann("binary", PNG_1X1[:40]), InvalidAnnotationError, "/coordinates"),
    ("binary-png-without-header", _ann("binary", "data:image/png;base64," + base64.b64encode(
        base64.b64decode(PNG_1X1.split(",")[1])[:16]).decode()), InvalidAnnotationError, "/coordinates"),
    # subtitle
    ("subtitle-string", _ann("subtitle", "hello"), InvalidAnnotationError, "/coordinates"),
    ("subtitle-text-number", _ann("subtitle", {"text": 3}), InvalidAnnotationError, "/coordinates"),
    ("subtitle-missing", {"type": "subtitle", "label": "a"}, InvalidAnnotationError, "/coordinates"),
    # pose
    ("pose-list", _ann("pose", []), InvalidAnnotationError, "/coordinates"),
    ("pose-template-number", _ann("pose", {"templateId": 3, "instanceId": "x"}), InvalidAnnotationError,
     "/coordinates/templateId"),
    ("pose-instance-number", _ann("pose", {"templateId": "t", "instanceId": 4}), InvalidAnnotationError,
     "/coordinates/instanceId"),
]


def _item(annotation, index: int = 0) -> dict:
    good = _ann("box", [P, Q])
    annotations = [copy.deepcopy(good) for _ in range(index)] + [annotation, copy.deepcopy(good)]
    return {"filename": "/a.jpg", "annotations": annotations}


@pytest.mark.parametrize(("annotation", "error", "pointer"), [c[1:] for c in ANNOTATION_CASES],
                         ids=[c[0] for c in ANNOTATION_CASES])
def test_malformed_annotation(annotation, error, pointer):
    with pytest.raises(error) as info:
        AnnotationCollection.from_json(_item(annotation, index=2), path="export/json/a.json")
    err = info.value
    assert isinstance(err, DlconvertError) and isinstance(err, ValueError)
    assert err.where == "/annotations/2" + pointer
    assert err.path == "export/json/a.json"
    assert str(err) == f"export/json/a.json:/annotations/2{pointer}: {err.message}"
    assert err.message and "\n" not in err.message


@pytest.mark.parametrize(("annotation", "error", "pointer"), [c[1:] for c in ANNOTATION_CASES],
                         ids=[c[0] for c in ANNOTATION_CASES])
def test_malformed_annotation_in_a_bare_list(annotation, error, pointer):
    with pytest.raises(error) as info:
        AnnotationCollection.from_json([_ann("box", [P, Q]), annotation])
    assert info.value.where == "/1" + pointer
    assert info.value.path is None


@pytest.mark.parametrize(("annotation", "error", "pointer"), [c[1:] for c in ANNOTATION_CASES],
                         ids=[c[0] for c in ANNOTATION_CASES])
def test_errors_list_collects_and_keeps_the_good(annotation, error, pointer):
    errors: list[DlconvertError] = []
    item = _item(annotation, index=1)
    collection = AnnotationCollection.from_json(item, errors=errors, path="a.json")
    assert len(errors) == 1
    assert type(errors[0]) is error and errors[0].where == "/annotations/1" + pointer
    assert errors[0].path == "a.json"
    assert [a.type for a in collection] == ["box", "box"]
    # The good ones are read whole.
    assert all(a.annotation_definition.bounds() == (1.0, 2.0, 3.0, 4.0) for a in collection)


def test_errors_list_collects_every_bad_annotation():
    annotations = [
        _ann("box", [P, Q]),
        _ann("box", [P, {"x": "3", "y": 4}]),
        _ann("point", {"x": 1, "y": 2}),
        {"label": "no type"},
        _ann("segment", [[P, Q, {"x": 5, "y": NAN}]]),
        _ann("ellipse", {"center": P, "rx": 1, "ry": 2}),
    ]
    errors: list[DlconvertError] = []
    collection = AnnotationCollection.from_json({"filename": "/a.jpg", "annotations": annotations}, errors=errors)
    assert [e.where for e in errors] == ["/annotations/1/coordinates/1/x", "/annotations/3",
                                         "/annotations/4/coordinates/0/2/y"]
    assert [a.type for a in collection] == ["box", "point", "ellipse"]
    # Written back, the item has the good annotations only, and says so.
    written = collection.to_json()
    assert [a["type"] for a in written["annotations"]] == ["box", "point", "ellipse"]


# -- video-only fields ---------------------------------------------------------------------------------
def _video(annotation) -> dict:
    return {"filename": "/v.mp4", "metadata": {"fps": 25, "system": {"mimetype": "video/mp4"}},
            "annotations": [_ann("box", [P, Q]), annotation]}


def _track(system: dict) -> dict:
    return _ann("box", [P, Q], metadata={"system": system})


VIDEO_CASES = [
    ("frame-string", _track({"frame": "3"}), "/metadata/system/frame"),
    ("frame-nan", _track({"frame": NAN}), "/metadata/system/frame"),
    ("frame-inf", _track({"frame": INF}), "/metadata/system/frame"),
    ("frame-fraction", _track({"frame": 2.5}), "/metadata/system/frame"),
    ("end-frame-string", _track({"frame": 0, "endFrame": "x"}), "/metadata/system/endFrame"),
    ("end-frame-inf", _track({"frame": 0, "endFrame": INF}), "/metadata/system/endFrame"),
    ("end-time-string", _track({"frame": 0, "endTime": "2s"}), "/metadata/system/endTime"),
    ("start-time-nan", _track({"frame": 0, "startTime": NAN}), "/metadata/system/startTime"),
    ("snapshots-object", _track({"snapshots_": {}}), "/metadata/system/snapshots_"),
    ("snapshot-string", _track({"snapshots_": ["x"]}), "/metadata/system/snapshots_/0"),
    ("snapshot-frame-string", _track({"snapshots_": [{"frame": "1", "data": [P, Q]}]}),
     "/metadata/system/snapshots_/0/frame"),
    ("snapshot-frame-missing", _track({"snapshots_": [{"data": [P, Q]}]}), "/metadata/system/snapshots_/0/frame"),
    ("snapshot-frame-nan", _track({"snapshots_": [{"frame": 1, "data": [P, Q]}, {"frame": NAN, "data": [P, Q]}]}),
     "/metadata/system/snapshots_/1/frame"),
    ("snapshot-data-y-string", _track({"snapshots_": [{"frame": 1, "data": [P, {"x": 3, "y": "4"}]}]}),
     "/metadata/system/snapshots_/0/data/1/y"),
    ("snapshot-data-missing", _track({"snapshots_": [{"frame": 1}]}), "/metadata/system/snapshots_/0/data"),
    ("snapshot-label-number", _track({"snapshots_": [{"frame": 1, "data": [P, Q], "label": 3}]}),
     "/metadata/system/snapshots_/0/label"),
    ("snapshot-type-number", _track({"snapshots_": [{"frame": 1, "data": [P, Q], "type": 3}]}),
     "/metadata/system/snapshots_/0/type"),
]


@pytest.mark.parametrize(("annotation", "pointer"), [c[1:] for c in VIDEO_CASES], ids=[c[0] for c in VIDEO_CASES])
def test_malformed_video_annotation(annotation, pointer):
    with pytest.raises(InvalidAnnotationError) as info:
        AnnotationCollection.from_json(_video(annotation), path="v.json")
    assert info.value.where == "/annotations/1" + pointer
    assert str(info.value).startswith(f"v.json:/annotations/1{pointer}: ")
    errors: list[DlconvertError] = []
    collection = AnnotationCollection.from_json(_video(annotation), errors=errors)
    assert len(collection) == 1 and [e.where for e in errors] == ["/annotations/1" + pointer]


@pytest.mark.parametrize(
    ("item", "pointer"),
    [
        ({"filename": "/a.jpg", "metadata": {"system": {"width": "640"}}, "annotations": []},
         "/metadata/system/width"),
        ({"filename": "/a.jpg", "metadata": {"system": {"height": -1}}, "annotations": []},
         "/metadata/system/height"),
        ({"filename": "/a.jpg", "metadata": {"system": {"width": INF}}, "annotations": []},
         "/metadata/system/width"),
        ({"filename": "/a.jpg", "metadata": {"system": {"height": NAN}}, "annotations": []},
         "/metadata/system/height"),
        ({"filename": "/a.jpg", "metadata": {"system": {"width": True}}, "annotations": []},
         "/metadata/system/width"),
        ({"_id": "x", "filename": "/a.jpg", "itemMetadata": {"system": {"width": "640"}}, "annotations": []},
         "/itemMetadata/system/width"),
        ({"filename": "/v.mp4", "metadata": {"system": {"mimetype": "video/mp4", "ffmpeg": {"height": "720"}}},
          "annotations": []}, "/metadata/system/ffmpeg/height"),
        ({"filename": "/a.jpg", "annotations": {"0": {}}}, "/annotations"),
    ],
    ids=["width-string", "height-negative", "width-inf", "height-nan", "width-bool", "item-metadata-width",
         "ffmpeg-height", "annotations-object"],
)
def test_malformed_item_fields(item, pointer):
    with pytest.raises(InvalidAnnotationError) as info:
        AnnotationCollection.from_json(item, path="i.json")
    assert info.value.where == pointer and info.value.path == "i.json"


def test_infinite_fps_is_ignored():
    item = _video(_track({"frame": 0, "endFrame": 5}))
    item["metadata"]["fps"] = INF
    collection = AnnotationCollection.from_json(item)
    assert collection.fps is None and collection[1].end_frame == 5


def test_nan_from_python_floats_is_refused_where_json_cannot_have_it():
    # JSON has no NaN, but Python callers build dicts with float("nan"): those are refused too.
    assert math.isnan(NAN)
    with pytest.raises(InvalidAnnotationError, match="finite"):
        AnnotationCollection.from_json([_ann("point", {"x": NAN, "y": 0})])
    with pytest.raises(InvalidAnnotationError, match="finite"):
        AnnotationCollection.from_json([_ann("box", [P, Q, INF])])


def test_pointer_escapes_odd_keys():
    assert json_pointer("metadata", "a/b", "c~d", 3) == "/metadata/a~1b/c~0d/3"
    assert json_pointer() == ""


# -- files -------------------------------------------------------------------------------------------
def test_truncated_json_file_names_line_and_column(tmp_path: Path):
    path = tmp_path / "cut.json"
    text = '{\n  "filename": "/a.jpg",\n  "annotations": [\n    {"type": "box", "label": "a"'
    path.write_text(text, encoding="utf-8")
    with pytest.raises(FormatError) as info:
        AnnotationCollection.from_json_file(path)
    err = info.value
    assert err.path == str(path)
    match = re.fullmatch(r"line (\d+) column (\d+)", err.where)
    assert match, err.where
    assert int(match.group(1)) == 4  # the cut is on line 4
    assert err.message.startswith("invalid JSON")
    assert str(err).startswith(f"{path}:line 4 column ")
    with pytest.raises(json.JSONDecodeError):  # the oracle agrees the file is broken
        json.loads(text)


def test_syntax_error_position(tmp_path: Path):
    path = tmp_path / "comma.json"
    path.write_text('{"annotations": [\n\n  {"type": "box",,}\n]}', encoding="utf-8")
    with pytest.raises(FormatError) as info:
        AnnotationCollection.from_json_file(path)
    assert info.value.where.startswith("line 3 column ")


def test_directory_where_a_file_is_expected(tmp_path: Path):
    folder = tmp_path / "item.json"
    folder.mkdir()
    with pytest.raises(FormatError) as info:
        AnnotationCollection.from_json_file(folder)
    assert info.value.path == str(folder) and "directory" in info.value.message


def test_missing_file(tmp_path: Path):
    with pytest.raises(FormatError) as info:
        AnnotationCollection.from_json_file(tmp_path / "nope.json")
    assert info.value.path == str(tmp_path / "nope.json")


@pytest.mark.parametrize("content", [b"", b"   \n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom-only"])
def test_empty_file(tmp_path: Path, content: bytes):
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    with pytest.raises(FormatError) as info:
        AnnotationCollection.from_json_file(path)
    assert info.value.path == str(path)


def test_bom_is_tolerated(tmp_path: Path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(_item(_ann("point", P))))
    assert len(AnnotationCollection.from_json_file(path)) == 2


@pytest.mark.parametrize("value", ["text", 42, None, True], ids=["string", "number", "null", "bool"])
def test_root_of_the_wrong_kind(tmp_path: Path, value):
    path = tmp_path / "odd.json"
    path.write_bytes(orjson.dumps(value))
    with pytest.raises(DlconvertError) as info:
        AnnotationCollection.from_json_file(path)
    assert info.value.path == str(path) and info.value.where == ""


def test_object_without_item_fields_is_not_a_dataloop_item():
    with pytest.raises(FormatError):
        AnnotationCollection.from_json({"name": "x", "stuff": []})


def test_coco_file_given_as_dataloop(tmp_path: Path):
    # A minimal COCO dataset file (images/annotations/categories) – the annotations list is there,
    # but it is COCO's.
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2], "area": 4,
                             "iscrowd": 0}],
            "categories": [{"id": 1, "name": "thing"}]}
    path = tmp_path / "instances.json"
    path.write_bytes(orjson.dumps(coco))
    with pytest.raises(FormatError) as info:
        AnnotationCollection.from_json_file(path)
    assert info.value.path == str(path) and "COCO" in info.value.message


# -- the command line ----------------------------------------------------------------------------------
BAD_ITEM = {"filename": "/a.jpg", "annotations": [_ann("box", [P, Q]), _ann("box", [P, {"x": 3, "y": "4"}])]}
BAD_POINTER = "/annotations/1/coordinates/1/y"


@pytest.fixture
def bad_export(tmp_path: Path) -> Path:
    root = tmp_path / "export"
    (root / "json" / "sub").mkdir(parents=True)
    (root / "json" / "sub" / "a.json").write_bytes(orjson.dumps(BAD_ITEM, option=orjson.OPT_INDENT_2))
    return root


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_cli_info_bad_file(cli_runner, bad_export: Path):
    """``info`` summarises what it could read (stdout) and names the bad record (stderr), exit 1."""
    path = bad_export / "json" / "sub" / "a.json"
    for target in (path, bad_export):
        result = cli_runner.invoke(main, ["info", str(target)])
        assert result.exit_code == 1
        assert _lines(result.stdout)[:2] == ["items:        1 (1 annotated)", "annotations:  1"]
        lines = _lines(result.stderr)
        assert len(lines) == 1
        assert lines[0] == f"error: {path}:{BAD_POINTER}: expected a number, got a string"
        assert "Traceback" not in result.output


def test_cli_validate_bad_file(cli_runner, bad_export: Path):
    path = bad_export / "json" / "sub" / "a.json"
    result = cli_runner.invoke(main, ["validate", str(bad_export)])
    assert result.exit_code == 1
    assert _lines(result.stdout) == [f"error: {path}:{BAD_POINTER}: expected a number, got a string",
                                     "1 items checked: 1 errors, 0 warnings"]  # the summary goes to stdout
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", ["info", "validate"])
@pytest.mark.parametrize(
    ("name", "content", "where"),
    [
        ("cut.json", b'{"annotations": [{"type": "box"', "line 1 column "),
        ("empty.json", b"", "line 1 column 1"),
        ("coco.json", orjson.dumps({"images": [], "annotations": [], "categories": []}), None),
    ],
    ids=["truncated", "empty", "coco"],
)
def test_cli_bad_files_one_line(cli_runner, tmp_path: Path, command: str, name: str, content: bytes, where):
    """Bad Dataloop item files (read as Dataloop: detection would call some of them other formats)."""
    path = tmp_path / name
    path.write_bytes(content)
    result = cli_runner.invoke(main, [command, str(path), "--from", "dataloop"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in _lines(result.output) if line.startswith("error:")]
    assert len(errors) == 1
    expected = f"error: {path}:{where}" if where else f"error: {path}: "
    assert errors[0].startswith(expected)
    if command == "info":
        assert _lines(result.stderr) == errors


def test_cli_debug_shows_the_traceback(cli_runner, bad_export: Path, tmp_path: Path):
    result = cli_runner.invoke(main, ["--debug", "convert", str(bad_export), str(tmp_path / "out"), "--from",
                                      "dataloop", "--to", "coco"])
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "InvalidAnnotationError" in result.stderr
    assert _lines(result.stderr)[-1] == f"error: {bad_export / 'json/sub/a.json'}:{BAD_POINTER}: " \
                                        "expected a number, got a string"


def test_cli_validate_sample_is_clean(cli_runner, sample_dir: Path):
    result = cli_runner.invoke(main, ["validate", str(sample_dir)])
    assert result.exit_code == 0, result.output
    assert _lines(result.stdout) == ["5 items checked: 0 errors, 0 warnings"]
    assert result.stderr == ""


def test_cli_validate_collects_per_file(cli_runner, tmp_path: Path, sample_dir: Path):
    # Good files next to bad ones: each problem once, the good files still checked.
    root = tmp_path / "mixed"
    shutil.copytree(sample_dir / "json", root / "json")
    (root / "json" / "bad.json").write_bytes(orjson.dumps(BAD_ITEM))
    (root / "json" / "cut.json").write_bytes(b"{")
    result = cli_runner.invoke(main, ["validate", str(root)])
    assert result.exit_code == 1
    errors = _lines(result.stdout)
    assert errors == [f"error: {root / 'json/bad.json'}:{BAD_POINTER}: expected a number, got a string",
                      f"error: {root / 'json/cut.json'}:line 1 column 2: invalid JSON: unexpected end of data",
                      "6 items checked: 2 errors, 0 warnings"]  # the truncated file holds no item


def test_cli_validate_reports_a_corrupt_mask_and_goes_on(cli_runner, tmp_path: Path):
    # The PNG header is fine (so reading succeeds: masks decode lazily), the pixel data is not.
    png = base64.b64decode(PNG_1X1.split(",")[1])
    corrupt = "data:image/png;base64," + base64.b64encode(png[:33] + b"garbage" * 3).decode()
    root = tmp_path / "masks"
    (root / "json").mkdir(parents=True)
    item = {"filename": "/a.png", "metadata": {"system": {"width": 1, "height": 1}},
            "annotations": [_ann("box", [P, Q]), _ann("binary", corrupt)]}
    (root / "json" / "a.json").write_bytes(orjson.dumps(item))
    thin = {"filename": "/b.png", "annotations": [_ann("box", [P, {"x": 1, "y": 5}])]}
    (root / "json" / "b.json").write_bytes(orjson.dumps(thin))
    result = cli_runner.invoke(main, ["validate", str(root)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = _lines(result.stdout)
    assert any(line.startswith(f"error: {root / 'json/a.json'}:/annotations/1/coordinates: mask PNG cannot be "
                               "decoded") for line in lines)
    assert f"warning: {root / 'json/b.json'}:/annotations/0: box has no area (width 0, height 3)" in lines
    assert lines[-1].startswith("2 items checked: 1 errors")


# -- command-line ergonomics (issue 13 §7) --------------------------------------------------------------
def test_cli_debug_is_accepted_after_the_command_name_too(cli_runner, tmp_path: Path):
    missing = tmp_path / "nothing"
    missing.mkdir()
    for args in (["--debug", "convert"], ["convert", "--debug"]):
        result = cli_runner.invoke(main, [*args, str(missing), str(tmp_path / "out"), "--from", "dataloop",
                                          "--to", "coco"])
        assert result.exit_code == 1
        assert "Traceback (most recent call last)" in result.stderr
        assert _lines(result.stderr)[-1].startswith(f"error: {missing}: no dataloop item found")
    result = cli_runner.invoke(main, ["convert", str(missing), str(tmp_path / "out"), "--from", "dataloop",
                                      "--to", "coco"])
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["convert", "demo", "verify", "render"])
def test_cli_every_option_has_help_and_format_options_list_the_formats(cli_runner, command):
    from dlconvert.cli import main as group
    from dlconvert.formats import format_names

    cmd = group.commands[command]
    missing = [p.name for p in cmd.params if isinstance(p, __import__("click").Option) and not p.help]
    if command in ("convert", "demo"):
        assert missing == []
    text = cli_runner.invoke(main, [command, "--help"]).stdout
    assert "--debug" in text
    for option in ("--from", "--to", "--via"):
        if f"{option} FORMAT" in text:
            described = " ".join(text.split(f"{option} FORMAT", 1)[1].split())
            assert f"One of: {', '.join(format_names())}" in described


def test_cli_a_closed_pipe_is_not_an_internal_error(tmp_path: Path):
    """``dlconvert formats | head -1``: the reader goes away; the command ends quietly, without a traceback."""
    import subprocess
    import sys

    reader, writer = __import__("os").pipe()
    __import__("os").close(reader)  # nobody reads: the first write fails with EPIPE
    done = subprocess.run([sys.executable, "-m", "dlconvert.cli", "formats"], stdout=writer, stderr=subprocess.PIPE,
                          text=True, timeout=120)
    __import__("os").close(writer)
    assert done.returncode != 3
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_cli_an_empty_file_cannot_be_told_apart_and_says_so(cli_runner, tmp_path: Path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    result = cli_runner.invoke(main, ["info", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert _lines(result.stderr) == [f"error: {path}: cannot tell the format: the file is empty"]
