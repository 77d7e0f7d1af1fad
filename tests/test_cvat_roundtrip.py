"""Dataloop → CVAT → Dataloop keeps what CVAT holds, and the report names the rest (hypothesis); ``verify``
agrees with ``convert`` through CVAT both ways, on the bundled sample and on the real files of every format.

Oracle: :func:`dlconvert.verify.compare_round_trip` measures each annotation that came back (IoU for areas,
distance for points and lines, every frame of a track) and holds the forward report to it.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from realfiles import AVAILABLE, NO_REAL_FILES, real_file, requires_real_files
from strategies import (
    boxes,
    collections,
    ellipses,
    points,
    polygons,
    polylines,
    segmentations,
    video_collections,
)

from dlconvert.cli import main
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.formats import get_format
from dlconvert.report import ConversionReport
from dlconvert.verify import compare_round_trip, tag_annotations, verify

CVAT = get_format("cvat")
FORMATS = ["dataloop", "coco", "voc", "yolo", "vtt", "cvat", "labelme"]

# pycocotools' mask.decode warns about its own numpy-2 incompatibility on every call
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def _round_trip(items: list) -> tuple:
    """Write ``items`` as CVAT and read them back: (the items as they were, what came back, the write's report)."""
    for collection in items:
        tag_annotations(collection)
    original = copy.deepcopy(items)
    report = ConversionReport(on_error="skip")
    for collection in items:
        report.read_item(collection)  # as the converter counts what it read
    with tempfile.TemporaryDirectory(prefix="dlconvert-cvat-test-") as tmp:
        out = Path(tmp) / "out"
        CVAT.write(Dataset(iter(items)), out, ConvertOptions(), report)
        back_report = ConversionReport(on_error="skip")
        back = list(CVAT.read(out, ConvertOptions(), back_report).items)
    assert back_report.issues == []
    return original, back, report


def _agrees(original, back, report) -> None:
    result = compare_round_trip(original, back, report, source_format="dataloop")
    assert result.differences == [], result.summary(limit=10)
    assert result.found_changed == result.reported_approximated
    assert result.found_missing == result.reported_skipped
    assert not report.unbalanced(), report.unbalanced()


def _pairable(items: list) -> bool:
    """No two classifications or poses of one label in an item: verify pairs those by label alone, so it could
    not tell which of them came back; and no two annotations of an item with one id (the report names them by
    id: a Dataloop id is unique, random ones may meet)."""
    for collection in items:
        kinds = [(a.type, a.label) for a in collection if a.type in ("class", "pose")]
        ids = [a.id for a in collection if a.id is not None]
        if len(kinds) != len(set(kinds)) or len(ids) != len(set(ids)):
            return False
    return True


def _turned_sliver(collection) -> bool:
    """A box of (almost) no area whose angle is outside CVAT's 0–360°: it comes back at the same angle mod 360,
    which verify compares by IoU, and the IoU of slivers is noise (see the xfail below)."""
    shapes = [state.annotation_definition for a in collection for state in (a.frames or {}).values()]
    shapes += [a.annotation_definition for a in collection]
    return any(shape.type == "box" and shape.angle is not None and shape.angle % 360 != shape.angle
               and shape.width * shape.height < 1e-6 for shape in shapes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(collections(), min_size=1, max_size=3, unique_by=lambda c: c.filename).filter(_pairable))
def test_images_round_trip_keep_what_cvat_holds(items):
    assume(not any(_turned_sliver(collection) for collection in items))
    _agrees(*_round_trip(items))


def test_a_box_turned_by_a_negative_angle_comes_back_the_same():
    from dlconvert import AnnotationCollection, Box

    item = AnnotationCollection(filename="/dog.jpg", width=1, height=1, mimetype="image/jpeg")
    item.add(Box(left=0, top=0, right=1, bottom=2e-274, angle=-1, label="car"))
    original, back, report = _round_trip([item])
    assert back[0][0].annotation_definition.angle == 359  # CVAT keeps rotations in [0, 360)
    _agrees(original, back, report)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(video_collections(shapes=(boxes(rotated=None), points(), polygons(), polylines(), ellipses())))
def test_video_tracks_round_trip_keep_their_frames(video):
    assume(not _turned_sliver(video))
    _agrees(*_round_trip([video]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(segmentations())
def test_masks_round_trip_pixel_for_pixel(mask):
    from dlconvert import AnnotationCollection

    height, width = mask.geo.shape
    item = AnnotationCollection(filename="/m.png", width=width, height=height, mimetype="image/png")
    item.add(mask)
    original, back, report = _round_trip([item])
    _agrees(original, back, report)
    if mask.geo.any() and mask.label and report.skipped.total() == 0:
        assert (back[0][0].annotation_definition.geo == mask.geo).all()


# ==== verify holds convert's report to what happened, through CVAT both ways ========================================
#: Real CVAT files (the mask file aside: 273 masks on 36-megapixel photos make a slow comparison, see test_cvat).
CVAT_FILES = [
    "cvat/airo-mono/airo-dataset-tools/airo_dataset_tools/cvat_labeling/example/annotations.xml",
    "cvat/airo-mono/airo-dataset-tools/test/test_data/lego-battery-resized/original_annotations.xml",
    "cvat/cgras_settler_counter/annotations.xml",
    "cvat/comparing-data-markup/resourses/cvat/exported_annotations/annotations.xml",
    "cvat/darwin-py/e2e_tests/data/convert/cvat/to/output.xml",
    "cvat/docling-cvat-tools/tests/cvat_to_docling/fixtures/007_rotation_test/input.xml",
    "cvat/docling-cvat-tools/tests/cvat_to_docling/fixtures/009_rotation_on_table/input.xml",
    "cvat/docling-cvat-tools/tests/cvat_to_docling/fixtures/012_key_value_picture_glitch/input.xml",
]
def _from_cvat_cases() -> list:
    if not AVAILABLE:
        return NO_REAL_FILES
    cases = []
    for name in CVAT_FILES:
        for via in FORMATS:
            cases.append(pytest.param(name, via, id=f"{name.split('/')[1]}-{name.split('/')[-2]}->{via}"))
    return cases


def _to_cvat_cases() -> list:
    if not AVAILABLE:
        return NO_REAL_FILES
    import test_verify
    from test_labelme_verify import LABELME

    sources = [("dataloop", name) for name in test_verify._DATALOOP] + [
        ("coco", name) for name in test_verify._COCO] + [("yolo", name) for name in test_verify._YOLO] + [
        ("voc", name) for name in test_verify._VOC] + [("vtt", name) for name in test_verify._VTT] + [
        ("labelme", name) for name in LABELME]
    return [pytest.param(fmt, name, id=f"{fmt}:{name}") for fmt, name in sources]


def _agreement(result) -> None:
    assert result.differences == [], result.summary(limit=10)
    assert result.found_changed == result.reported_approximated
    assert result.found_missing == result.reported_skipped
    assert result.checked + result.not_representable == result.read


@requires_real_files
@pytest.mark.parametrize(("name", "via"), _from_cvat_cases())
def test_real_cvat_files_verify_through_every_format(name, via):
    _agreement(verify(real_file(name), "cvat", via))


@requires_real_files
@pytest.mark.parametrize(("fmt", "name"), _to_cvat_cases())
def test_real_files_of_every_format_verify_through_cvat(fmt, name):
    _agreement(verify(real_file(name), fmt, "cvat"))


@pytest.mark.parametrize("direction", ["from", "via"])
def test_cli_verify_the_sample_through_cvat(sample_dir, cli_runner, direction, tmp_path):
    if direction == "via":
        args = ["verify", str(sample_dir), "--from", "dataloop", "--via", "cvat"]
    else:  # the sample written as CVAT, then verified from there through Dataloop
        from dlconvert.converter import Converter

        Converter().run(sample_dir, "dataloop", tmp_path / "cvat", "cvat")
        args = ["verify", str(tmp_path / "cvat"), "--from", "cvat", "--via", "dataloop"]
    result = cli_runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "differences: 0" in result.stdout.splitlines()


@requires_real_files
def test_cli_convert_report_and_verify_agree_on_a_real_file(cli_runner, tmp_path):
    import json

    source = real_file(CVAT_FILES[0])
    result = cli_runner.invoke(main, ["convert", str(source), str(tmp_path / "voc"), "--from", "cvat", "--to", "voc",
                                      "--report", str(tmp_path / "report.json")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    checked = cli_runner.invoke(main, ["verify", str(source), "--from", "cvat", "--via", "voc", "--json"])
    assert checked.exit_code == 0, checked.output
    document = json.loads(checked.stdout)
    assert document["differences"] == []
    assert len(document["approximated"]) == sum(1 for i in report["issues"] if i["kind"] == "approximated")
    assert document["not_representable"] == sum(report["skipped"].values())
