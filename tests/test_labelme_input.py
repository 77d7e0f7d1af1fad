"""Untrusted LabelMe input: every fault is one line naming the file and the JSON pointer, a bad shape is a bad
record (the rest of its file is read), absurd sizes are refused from their headers before anything is
decoded, and nothing read from a file takes a written path out of the output folder.

The hostile files are written here byte by byte (PNG and JPEG headers by hand, with ``struct``), so
what is refused does not depend on dlconvert's own encoders.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from labelme_support import labelme_mask, reported, shape, write_labelme

from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import DlconvertError, FormatError
from dlconvert.formats.labelme import FORMAT
from dlconvert.labels import LabelInfo, LabelMap
from dlconvert.report import ConversionReport, OnError


def _png(width: int, height: int, rows: bytes | None = None) -> bytes:
    """A grayscale PNG built from its chunks: a header declaring ``width`` × ``height``, and ``rows`` (raw
    scanlines with their filter bytes; none: a header without pixel data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if rows is not None:
        out += chunk(b"IDAT", zlib.compress(rows))
    return out + chunk(b"IEND", b"")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _error(tmp_path: Path, document: dict | str) -> DlconvertError:
    path = tmp_path / "bad.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    with pytest.raises(DlconvertError) as caught:
        list(FORMAT.read(path, ConvertOptions(), ConversionReport(on_error=OnError.FAIL)).items)
    return caught.value


def _doc(*shapes, **top) -> dict:
    return {"version": "5.3.1", "flags": {}, "shapes": list(shapes), "imagePath": "bad.jpg", "imageData": None,
            "imageHeight": 48, "imageWidth": 64, **top}


POINT = {"label": "a", "points": [[1, 2]], "shape_type": "point"}

CASES = [
    ("not json", '{"shapes": [', "line 1 column 13", "invalid JSON"),
    ("shapes not a list", _doc(shapes=None) | {"shapes": {"a": 1}}, "/shapes", "'shapes' is a list"),
    ("no imagePath", {"shapes": []}, "/imagePath", "'imagePath' names the image file"),
    ("imagePath a folder", _doc(imagePath="images/"), "/imagePath", "'imagePath' names the image file"),
    ("version a number", _doc(version=5), "/version", "'version' is text"),
    ("width negative", _doc(imageWidth=-3), "/imageWidth", "positive whole number"),
    ("height fractional", _doc(imageHeight=4.5), "/imageHeight", "positive whole number"),
    ("height text", _doc(imageHeight="48"), "/imageHeight", "positive whole number"),
    ("image flag a number", _doc(flags={"night": 1}), "/flags/night", "true or false"),
    ("image flags a list", _doc(flags=["night"]), "/flags", "'flags' is an object"),
    ("imageData a number", _doc(imageData=7), "/imageData", "a base64 image or null"),
    ("imageData not base64", _doc(imageData="%%%%"), "/imageData", "imageData is not valid base64"),
    ("imageData no image", _doc(imageData=_b64(b"hello, world")), "/imageData", "not a base64 image LabelMe saves"),
    ("imageData absurd", _doc(imageData=_b64(_png(100_000, 100_000)) + "A" * 4000), "/imageData",
     "too large to open"),
]


@pytest.mark.parametrize(("name", "document", "where", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_file_fails_naming_the_file_and_the_place(tmp_path, name, document, where, message):
    error = _error(tmp_path, document)
    assert error.path == str(tmp_path / "bad.json")
    assert error.where == where and message in error.message


WINDOW = np.ones((2, 3), dtype=bool)
SHAPES = [
    ("shape not an object", ["a"], "/shapes/0", "a shape is an object"),
    ("no label", [{"points": [[1, 2]], "shape_type": "point"}], "/shapes/0/label", "label is text, not null"),
    ("label a number", [{**POINT, "label": 3}], "/shapes/0/label", "label is text"),
    ("unknown type", [{**POINT, "shape_type": "cuboid"}], "/shapes/0/shape_type", "unknown shape_type 'cuboid'"),
    ("points missing", [{"label": "a", "shape_type": "point"}], "/shapes/0/points", "points is a list"),
    ("short point", [{**POINT, "points": [[1, 2], [3]]}], "/shapes/0/points/1", "two finite numbers"),
    ("text coordinate", [{**POINT, "points": [["1", 2]]}], "/shapes/0/points/0", "two finite numbers"),
    ("boolean coordinate", [{**POINT, "points": [[True, 2]]}], "/shapes/0/points/0", "two finite numbers"),
    ("rectangle of 3", [{**POINT, "shape_type": "rectangle", "points": [[1, 2], [3, 4], [5, 6]]}],
     "/shapes/0/points", "a rectangle has 2 points (4 in X-AnyLabeling's files), this one 3"),
    ("empty polygon", [{**POINT, "shape_type": "polygon", "points": []}], "/shapes/0/points",
     "a polygon has at least 1 point"),
    ("skewed oriented rectangle", [{**POINT, "shape_type": "oriented_rectangle",
                                    "points": [[0, 0], [10, 0], [12, 5], [2, 5]]}],
     "/shapes/0/points", "do not form a rectangle"),
    ("shape flag a number", [{**POINT, "flags": {"x": 1}}], "/shapes/0/flags/x", "a flag is true or false"),
    ("flag and attribute", [{**POINT, "flags": {"x": True}, "attributes": {"x": "y"}}], "/shapes/0/attributes/x",
     "both a flag and an attribute"),
    ("group_id fractional", [{**POINT, "group_id": 1.5}], "/shapes/0/group_id", "whole number or null"),
    ("group_id true", [{**POINT, "group_id": True}], "/shapes/0/group_id", "whole number or null"),
    ("description a number", [{**POINT, "description": 4}], "/shapes/0/description", "text or null"),
    ("mask missing", [{**POINT, "shape_type": "mask", "points": [[0, 0], [2, 1]]}], "/shapes/0/mask",
     "needs its mask"),
    ("mask not a png", [{**POINT, "shape_type": "mask", "points": [[0, 0], [2, 1]],
                         "mask": _b64(b"GIF89a" + bytes(40))}], "/shapes/0/mask", "not a base64 PNG"),
    ("mask larger than the image", [{**POINT, "shape_type": "mask", "points": [[0, 0], [2, 1]],
                                     "mask": _b64(_png(100_000, 100_000)) + "A" * 4000}],
     "/shapes/0/mask", "100000×100000 pixels, larger than the image"),
    ("mask far longer than its png", [{**POINT, "shape_type": "mask", "points": [[0, 0], [2, 1]],
                                       "mask": _b64(_png(3, 2, b"\x00\x01\x01\x01" * 2)) + "A" * 2_000_000}],
     "/shapes/0/mask", "far longer than a 3×2 PNG"),
    ("mask outside the image", [{**POINT, "shape_type": "mask", "points": [[63, 47], [65, 48]],
                                 "mask": labelme_mask(WINDOW)}], "/shapes/0/points", "has pixels outside"),
]


@pytest.mark.parametrize(("name", "shapes", "where", "message"), SHAPES, ids=[c[0] for c in SHAPES])
def test_a_bad_shape_is_a_bad_record_naming_its_pointer(tmp_path, name, shapes, where, message):
    error = _error(tmp_path, _doc(*shapes))
    assert error.path == str(tmp_path / "bad.json")
    assert error.where == where and message in error.message


def test_a_mask_without_the_image_size_says_so(tmp_path):
    mask = {**POINT, "shape_type": "mask", "points": [[0, 0], [2, 1]], "mask": labelme_mask(WINDOW)}
    error = _error(tmp_path, _doc(mask, imageHeight=None, imageWidth=None))
    assert error.where == "/shapes/0/points" and "needs the image's size" in error.message


def test_absurd_sizes_are_refused_from_the_header_alone(tmp_path):
    # 40 MB of base64 after a header declaring 10^10 pixels: refused after its first characters, at once
    document = _doc({**POINT, "shape_type": "mask", "points": [[0, 0], [2, 1]],
                     "mask": _b64(_png(100_000, 100_000)) + "A" * 40_000_000})
    start = time.perf_counter()
    error = _error(tmp_path, document)
    assert "larger than the image" in error.message and time.perf_counter() - start < 5


def test_a_file_over_the_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate((1 << 30) + 1)  # sparse: nothing is written, and nothing may be read
    with pytest.raises(FormatError, match="more than a LabelMe file dlconvert reads") as caught:
        list(FORMAT.read(path, ConvertOptions(), ConversionReport()).items)
    assert caught.value.path == str(path)


def test_with_on_error_skip_a_bad_shape_is_listed_and_the_rest_converts(tmp_path):
    src = tmp_path / "src"
    write_labelme(src / "a.json", [shape("ok", "point", [[1, 2]]), {**POINT, "points": [[1]]},
                                   shape("ok", "rectangle", [[1, 2], [9, 9]])])
    write_labelme(src / "b.json", [shape("ok", "point", [[3, 4]])])
    (src / "c.json").write_text('{"shapes": 3, "imagePath": "c.jpg"}', encoding="utf-8")
    report = Converter(on_error=OnError.SKIP).run(src, "labelme", tmp_path / "out", "dataloop")
    assert report.unbalanced() == {}
    assert (report.items_in, sum(report.annotations_in.values()), sum(report.annotations_out.values())) == (2, 4, 3)
    skipped = [(i.kind, i.code, Path(i.path).name, i.where) for i in report.issues if i.path]
    assert ("skipped", "labelme.invalid-shape", "a.json", "/shapes/1/points/0") in skipped
    assert ("failed", "labelme.invalid-file", "c.json", "/shapes") in skipped


def test_the_cli_prints_one_line_and_writes_nothing(tmp_path, cli_runner):
    src = tmp_path / "src"
    write_labelme(src / "a.json", [{**POINT, "points": [[1, "2"]]}])
    result = cli_runner.invoke(main, ["convert", str(src), str(tmp_path / "out"), "--from", "labelme", "--to",
                                      "dataloop"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: {src / 'a.json'}:/shapes/0/points/0: a point is [x, y], two finite numbers, not [1, '2']"]
    assert not (tmp_path / "out").exists()


def test_json_that_is_not_labelme_is_left_out_with_a_warning(tmp_path):
    src = tmp_path / "src"
    write_labelme(src / "a.json", [shape("ok", "point", [[1, 2]])])
    (src / "annotations.json").write_text(json.dumps({"images": [], "annotations": [], "categories": []}),
                                          encoding="utf-8")
    (src / "list.json").write_text("[1, 2]", encoding="utf-8")
    report = ConversionReport()
    items = list(FORMAT.read(src, ConvertOptions(), report).items)
    assert [c.filename for c in items] == ["/a.jpg"]
    assert sorted((i.kind, i.code, Path(i.path).name) for i in report.issues) == [
        ("warning", "labelme.not-labelme", "annotations.json"), ("warning", "labelme.not-labelme", "list.json")]


def test_hidden_folders_and_dlconvert_files_are_not_items(tmp_path):
    src = tmp_path / "src"
    write_labelme(src / "a.json", [shape("ok", "point", [[1, 2]])])
    write_labelme(src / ".ipynb_checkpoints" / "a-checkpoint.json", [shape("old", "point", [[1, 2]])])
    LabelMap([LabelInfo("ok", 7, (1, 2, 3))]).save(src / "labelmap.json")
    dataset = FORMAT.read(src, ConvertOptions(), ConversionReport())
    assert [c.filename for c in dataset.items] == ["/a.jpg"]
    assert dataset.labels["ok"].instance_id == 7


def test_a_device_named_like_a_labelme_file_is_refused(tmp_path):
    fifo = tmp_path / "src" / "a.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    report = ConversionReport(on_error=OnError.SKIP)
    assert list(FORMAT.read(tmp_path / "src", ConvertOptions(), report).items) == []
    (issue,) = report.issues
    assert issue.code == "labelme.invalid-file" and "pipe" in issue.message


def test_an_item_name_from_the_data_cannot_leave_the_output(tmp_path):
    # a Dataloop item named "/../../x.png" (hand-edited JSON): its path is taken from the output's root
    src = tmp_path / "src" / "json"
    src.mkdir(parents=True)
    (src / "x.json").write_text(json.dumps({
        "filename": "/../../x.png", "metadata": {"system": {"mimetype": "image/png", "width": 9, "height": 9}},
        "annotations": [{"type": "point", "label": "p", "coordinates": {"x": 1, "y": 2}}]}), encoding="utf-8")
    Converter(on_error=OnError.SKIP).run(tmp_path / "src", "dataloop", tmp_path / "out" / "o", "labelme")
    assert sorted(tmp_path.rglob("x.json")) == [tmp_path / "out" / "o" / "x.json", src / "x.json"]


def test_a_dangling_link_is_a_failed_file_not_a_crash(tmp_path):
    src = tmp_path / "src"
    write_labelme(src / "a.json", [shape("ok", "point", [[1, 2]])])
    (src / "gone.json").symlink_to(tmp_path / "nowhere.json")
    report = ConversionReport(on_error=OnError.SKIP)
    assert [c.filename for c in FORMAT.read(src, ConvertOptions(), report).items] == ["/a.jpg"]
    assert [(i.kind, i.code, Path(i.path).name) for i in report.issues] == [
        ("failed", "labelme.invalid-file", "gone.json")]


def test_a_rotated_box_too_thin_for_a_polygon_is_skipped_not_written_empty(tmp_path):
    # found by hypothesis: its 4 corners are fewer than 3 distinct points in floating point
    from dlconvert import AnnotationCollection, Box
    from dlconvert.dataset import Dataset

    item = AnnotationCollection(filename="/a.png", width=9, height=9, mimetype="image/png")
    thin = item.add(Box(left=0, top=0, right=2.5e-217, bottom=1, angle=1, label="x"))
    report = ConversionReport(on_error=OnError.SKIP)
    FORMAT.write(Dataset([item]), tmp_path, ConvertOptions(), report)
    assert [(i.code, i.annotation_id) for i in reported(report)] == [("labelme.degenerate-shape", thin.id)]
    assert json.loads((tmp_path / "a.json").read_text("utf-8"))["shapes"] == []


def test_an_unreadable_image_to_embed_is_a_listed_failure_not_a_crash(tmp_path):
    from dlconvert import AnnotationCollection, Box
    from dlconvert.dataset import Dataset

    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    item = AnnotationCollection(filename="/a.png", width=9, height=9, mimetype="image/png")
    item.add(Box(left=1, top=1, right=5, bottom=5, label="x"))
    options = ConvertOptions(images=tmp_path / "images", extras={"labelme_image_data": "embed"})
    with pytest.raises(FormatError, match="cannot read the image header") as caught:
        FORMAT.write(Dataset([item]), tmp_path / "fail", options, ConversionReport(on_error=OnError.FAIL))
    assert caught.value.path == str(tmp_path / "images" / "a.png")
    report = ConversionReport(on_error=OnError.SKIP)
    FORMAT.write(Dataset([item]), tmp_path / "skip", options, report)
    assert [(i.kind, i.code) for i in report.issues] == [("failed", "labelme.image-not-embedded")]
    written = json.loads((tmp_path / "skip" / "a.json").read_text("utf-8"))
    assert written["imageData"] is None and len(written["shapes"]) == 1
