"""LabelMe sources as users have them: X-AnyLabeling's files (4-corner rectangles, ``rotation`` with
``direction``), ``labelme --output``'s annotations/ + images/ layout, two files on one image, linked
folders, ``points`` shapes, embedded images LabelMe needs, and sizes the image file contradicts.

"CAT" is a copy of the real unet-pytorch LabelMe file (``before/1.json`` + ``1.jpg``, 950×634), changed in
``tmp_path``. X-AnyLabeling's conventions are written out here from its source: a rectangle saved as its 4
corners from the top-left, clockwise on screen; a rotation's 4 corners in order and ``direction``, the
angle of the first side p0→p1 in radians in [0, 2π) (``LabelConverter.calculate_rotation_theta``).
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import shapely
from labelme_support import image_file, reported, shape, write_labelme
from realfiles import real_file, requires_real_files

from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.errors import DlconvertError
from dlconvert.formats.labelme import FORMAT, detect
from dlconvert.report import ConversionReport, OnError
from dlconvert.verify import verify

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def _read(src: Path, report: ConversionReport | None = None) -> list:
    report = report if report is not None else ConversionReport(on_error=OnError.FAIL)
    return list(FORMAT.read(Path(src), ConvertOptions(), report).items)


def _cat(folder: Path, **changes) -> Path:
    """CAT: the real unet-pytorch file and its image copied into ``folder``, top-level keys changed."""
    source = real_file("labelme/unet-pytorch/datasets/before")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "1.jpg", folder / "1.jpg")
    document = json.loads((source / "1.json").read_text("utf-8"))
    document.update(changes)
    (folder / "1.json").write_text(json.dumps(document), encoding="utf-8")
    return folder / "1.json"


def _turned(cx: float, cy: float, w: float, h: float, angle: float) -> list[list[float]]:
    """A rectangle's corners turned by ``angle`` radians clockwise on screen (y down), from the turned top-left."""
    c, s = math.cos(angle), math.sin(angle)
    return [[cx + dx * c - dy * s, cy + dx * s + dy * c] for dx, dy in
            ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


# ==== 1. X-AnyLabeling ====================================================================================
def test_x_anylabelings_four_corner_rectangle_is_a_box_and_goes_back_with_four(tmp_path):
    corners = [[10, 5], [40, 5], [40, 30], [10, 30]]
    write_labelme(tmp_path / "src" / "a.json", [shape("car", "rectangle", corners, difficult=False)],
                  version="2.4.4")
    (item,) = _read(tmp_path / "src")
    box = item[0].annotation_definition
    assert (box.left, box.top, box.right, box.bottom, box.angle) == (10, 5, 40, 30, None)
    report = Converter().run(tmp_path / "src", "labelme", tmp_path / "out", "labelme")
    assert reported(report) == []
    written = json.loads((tmp_path / "out" / "a.json").read_text("utf-8"))["shapes"][0]
    assert written["points"] == corners and written["difficult"] is False
    # moved, it keeps the source's form: 4 corners, as X-AnyLabeling reads them
    box.left, box.right = 12, 42
    FORMAT.write(Dataset([item]), tmp_path / "moved", ConvertOptions(),
                 ConversionReport(on_error=OnError.SKIP))
    moved = json.loads((tmp_path / "moved" / "a.json").read_text("utf-8"))["shapes"][0]
    assert moved["points"] == [[12, 5], [42, 5], [42, 30], [12, 30]]


def test_four_points_that_are_no_upright_rectangle_are_refused(tmp_path):
    write_labelme(tmp_path / "a.json", [shape("car", "rectangle", [[10, 5], [40, 30], [40, 5], [10, 30]])])
    with pytest.raises(DlconvertError, match="upright rectangle in order") as caught:
        _read(tmp_path / "a.json")
    assert caught.value.where == "/shapes/0/points"


@pytest.mark.parametrize("angle", [0.0, 0.3, 2.0, 4.5])
def test_x_anylabelings_rotation_is_a_rotated_box_and_goes_back_as_one(tmp_path, angle):
    corners = _turned(60, 40, 30, 10, angle)
    raw = shape("ship", "rotation", corners, direction=angle)
    write_labelme(tmp_path / "src" / "a.json", [raw], width=120, height=90)
    (item,) = _read(tmp_path / "src")
    box = item[0].annotation_definition
    assert math.radians(box.angle) % math.tau == pytest.approx(angle % math.tau, abs=1e-9)
    assert shapely.Polygon(box.corners()).symmetric_difference(shapely.Polygon(corners)).area < 1e-9
    report = Converter().run(tmp_path / "src", "labelme", tmp_path / "out", "labelme")
    assert reported(report) == []
    written = json.loads((tmp_path / "out" / "a.json").read_text("utf-8"))["shapes"][0]
    assert (written["shape_type"], written["points"], written["direction"]) == ("rotation", raw["points"], angle)
    _agrees(verify(tmp_path / "src", "labelme", "labelme"))


def test_a_rotated_box_of_another_format_goes_to_x_anylabeling_as_its_direction(tmp_path):
    write_labelme(tmp_path / "src" / "a.json", [shape("ship", "rotation", _turned(60, 40, 30, 10, 1.0),
                                                      direction=1.0)], width=120, height=90)
    Converter().run(tmp_path / "src", "labelme", tmp_path / "dl", "dataloop")
    Converter().run(tmp_path / "dl", "dataloop", tmp_path / "back", "labelme")
    (written,) = json.loads(next((tmp_path / "back").rglob("a.json")).read_text("utf-8"))["shapes"]
    assert written["shape_type"] == "rotation" and written["direction"] == pytest.approx(1.0)


def test_a_direction_that_contradicts_the_points_is_a_bad_record_named_by_its_label(tmp_path):
    shapes = [shape("ship", "rotation", _turned(60, 40, 30, 10, 0.5), direction=2.0),
              shape("box", "cuboid", [[1, 2], [3, 4]]), shape("fine", "point", [[3, 3]])]
    write_labelme(tmp_path / "a.json", shapes)
    with pytest.raises(DlconvertError, match=r"direction 2\.0") as caught:
        _read(tmp_path / "a.json")
    assert caught.value.where == "/shapes/0/direction"
    report = ConversionReport(on_error=OnError.SKIP)
    (item,) = _read(tmp_path / "a.json", report)
    assert [a.label for a in item] == ["fine"]
    lines = [str(i) for i in report.issues]
    assert "/shapes/0/direction [box 'ship' id=None]" in lines[0]
    assert "/shapes/1/shape_type [unknown 'box' id=None]: unknown shape_type 'cuboid'" in lines[1]


# ==== 2. labelme --output: annotations/ and images/ under one root ====================================
@pytest.mark.parametrize("image_path", ["../images/1.jpg", "..\\images\\1.jpg"])
def test_an_image_in_a_sibling_folder_names_the_item_where_it_is(tmp_path, image_path):
    root = tmp_path / "project"
    image_file(root / "images" / "1.jpg", 64, 48)
    write_labelme(root / "annotations" / "1.json", [shape("cat", "rectangle", [[1, 2], [30, 40]])],
                  image_path=image_path)
    (item,) = _read(root)
    assert item.filename == "/images/1.jpg"
    Converter().run(root, "labelme", tmp_path / "coco", "coco")
    coco = json.loads((tmp_path / "coco" / "coco.json").read_text("utf-8"))
    assert [(root / i["file_name"]).is_file() for i in coco["images"]] == [True]
    # and back to LabelMe in the same layout
    report = Converter().run(root, "labelme", tmp_path / "out", "labelme")
    assert reported(report) == []
    written = json.loads((tmp_path / "out" / "annotations" / "1.json").read_text("utf-8"))
    assert written["imagePath"] == image_path


# ==== 3. two files on one image =========================================================================
def test_two_files_on_one_image_are_refused_naming_both(tmp_path, cli_runner):
    for name in ("1.json", "1_backup.json"):
        write_labelme(tmp_path / "src" / name, [shape("cat", "rectangle", [[1, 2], [5, 6]])], image_path="1.jpg")
    write_labelme(tmp_path / "src" / "2.json", [shape("dog", "rectangle", [[1, 2], [5, 6]])])
    result = cli_runner.invoke(main, ["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--from", "labelme",
                                      "--to", "coco"])
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    (line,) = result.stderr.strip().splitlines()
    assert "1_backup.json:/imagePath" in line and "'/1.jpg' that 1.json annotates already" in line
    report = Converter(on_error=OnError.SKIP).run(tmp_path / "src", "labelme", tmp_path / "out", "coco")
    coco = json.loads((tmp_path / "out" / "coco.json").read_text("utf-8"))
    assert sorted(i["file_name"] for i in coco["images"]) == ["1.jpg", "2.jpg"]
    assert [(i.kind, i.code) for i in report.issues] == [("failed", "labelme.invalid-file")]


# ==== 4. linked folders =================================================================================
def test_linked_folders_inside_are_read_once_and_outside_ones_are_reported(tmp_path):
    src = tmp_path / "src"
    write_labelme(src / "real" / "a.json", [shape("a", "point", [[1, 2]])])
    write_labelme(src / ".store" / "v2" / "b.json", [shape("b", "point", [[1, 2]])])
    write_labelme(tmp_path / "elsewhere" / "c.json", [shape("c", "point", [[1, 2]])])
    os.symlink(src / ".store" / "v2", src / "current")  # inside the source, reached only through the link
    os.symlink(src / "real", src / "again")  # inside, read already under its real name
    os.symlink(src, src / "real" / "loop")  # a loop
    os.symlink(tmp_path / "elsewhere", src / "outside")
    report = ConversionReport(on_error=OnError.FAIL)
    assert sorted(c.filename for c in _read(src, report)) == ["/current/b.jpg", "/real/a.jpg"]
    (issue,) = report.issues
    assert (issue.kind, issue.code) == ("warning", "labelme.linked-folder-outside")
    assert "'outside'" in issue.message


def test_detect_follows_linked_folders_as_the_reader_does(tmp_path):
    write_labelme(tmp_path / "elsewhere" / "c.json", [shape("c", "point", [[1, 2]])])
    (tmp_path / "outside_only").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "outside_only" / "link")
    assert detect(tmp_path / "outside_only") is None
    write_labelme(tmp_path / "inside" / ".store" / "c.json", [shape("c", "point", [[1, 2]])])
    os.symlink(tmp_path / "inside" / ".store", tmp_path / "inside" / "current")
    assert detect(tmp_path / "inside").startswith("current/c.json: ")


# ==== 5. points shapes ==================================================================================
def test_a_points_shape_goes_back_as_one_shape_and_verify_agrees(tmp_path, cli_runner):
    raw = shape("person", "points", [[5, 5], [9, 12], [20, 3]], group_id=2)
    write_labelme(tmp_path / "src" / "a.json", [raw, shape("lamp", "point", [[1, 1]])])
    report = Converter().run(tmp_path / "src", "labelme", tmp_path / "out", "labelme")
    assert reported(report) == [] and report.unbalanced() == {}
    written = json.loads((tmp_path / "out" / "a.json").read_text("utf-8"))["shapes"]
    assert written == [raw, shape("lamp", "point", [[1, 1]])]
    result = cli_runner.invoke(main, ["verify", str(tmp_path / "src"), "--from", "labelme", "--via", "labelme"])
    assert result.exit_code == 0 and "differences: 0" in result.stdout.splitlines(), result.output


# ==== 6. the embedded image LabelMe needs ===============================================================
@requires_real_files
def test_an_embedded_image_is_kept_when_image_path_names_no_file(tmp_path):
    # yolact: imagePath "before/0.jpg" from before/ names no file; LabelMe opens the file from its imageData
    src = real_file("labelme/yolact-pytorch/datasets/before")
    report = Converter().run(src, "labelme", tmp_path / "out", "labelme")
    for name in ("0.json", "1.json"):
        source = json.loads((src / name).read_text("utf-8"))
        written = json.loads((tmp_path / "out" / name).read_text("utf-8"))
        assert written["imagePath"] == source["imagePath"] and written["imageData"] == source["imageData"]
    assert reported(report) == report.issues == []


def _embedded_only(folder: Path) -> np.ndarray:
    """A LabelMe file whose image exists only as its imageData (imagePath names no file); the image's pixels."""
    import io

    from PIL import Image

    pixels = np.zeros((48, 64, 3), dtype=np.uint8)
    pixels[:, :, 0] = np.arange(64, dtype=np.uint8)[None, :] * 4  # a gradient: no stand-in looks like it
    pixels[:, :, 1] = np.arange(48, dtype=np.uint8)[:, None] * 5
    encoded = io.BytesIO()
    Image.fromarray(pixels).save(encoded, format="PNG")
    write_labelme(folder / "cat.json", [shape("cat", "rectangle", [[10, 10], [20, 20]])], image_path="gone.jpg",
                  image_data=base64.b64encode(encoded.getvalue()).decode())
    return pixels


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_image_that_exists_only_embedded_is_drawn_on(tmp_path, cli_runner, workers):
    """LabelMe shows the imageData when imagePath names no file: so does the overlay (never a checkerboard), and
    the image counts as found."""
    pixels = _embedded_only(tmp_path / "src")
    result = cli_runner.invoke(main, ["render", str(tmp_path / "src"), str(tmp_path / "out"), "--from", "labelme",
                                      "--view", "overlay", "--workers", workers])
    assert result.exit_code == 0, result.output
    from PIL import Image

    picture = np.asarray(Image.open(tmp_path / "out" / "img_mask" / "gone.png").convert("RGB"))  # (named by imagePath)
    assert picture.shape == pixels.shape
    assert np.array_equal(picture[30:, 30:], pixels[30:, 30:])  # away from the box: the embedded image itself
    assert not np.array_equal(picture[10:20, 10:20], pixels[10:20, 10:20])  # the box is drawn on it


def test_the_notebook_overlay_draws_on_an_embedded_image(tmp_path):
    from dlconvert.conveniences import overlay_picture

    pixels = _embedded_only(tmp_path / "src")
    [item] = FORMAT.read(tmp_path / "src", ConvertOptions(), ConversionReport()).items
    picture = overlay_picture(item)
    assert picture is not None and np.array_equal(picture[30:, 30:, :3], pixels[30:, 30:])


def test_without_imagedata_an_image_found_nowhere_still_fails_the_overlay(tmp_path, cli_runner):
    write_labelme(tmp_path / "src" / "cat.json", [shape("cat", "rectangle", [[10, 10], [20, 20]])],
                  image_path="gone.jpg")
    result = cli_runner.invoke(main, ["render", str(tmp_path / "src"), str(tmp_path / "out"), "--from", "labelme",
                                      "--view", "overlay"])
    assert result.exit_code != 0 and "1 of 1 images not found" in result.output, result.output


# ==== 7. imageData that is no image =====================================================================
@requires_real_files
def test_image_data_that_is_no_image_is_one_clean_line(tmp_path, cli_runner):
    path = _cat(tmp_path / "src", imageData=base64.b64encode(b"this is not a picture").decode())
    result = cli_runner.invoke(main, ["convert", str(path.parent), str(tmp_path / "out"), "--from", "labelme",
                                      "--to", "coco"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert f"{path}:/imageData" in line and "not a base64 image LabelMe saves" in line
    assert "BytesIO" not in line and "0x" not in line


# ==== 8. a declared size the image file contradicts =====================================================
@requires_real_files
def test_the_image_files_size_wins_over_a_wrong_declared_one(tmp_path):
    path = _cat(tmp_path / "src", imageData=None, imageWidth=100, imageHeight=100)
    report = ConversionReport()
    (item,) = _read(path.parent, report)
    assert (item.width, item.height) == (950, 634)
    (issue,) = report.issues
    assert (issue.kind, issue.code) == ("warning", "labelme.size-mismatch")
    assert "100×100, the image 1.jpg is 950×634: the image's size is used" in issue.message


def _agrees(result) -> None:
    assert result.differences == [], result.summary(limit=10)
    assert result.found_changed == result.reported_approximated
    assert result.found_missing == result.reported_skipped
