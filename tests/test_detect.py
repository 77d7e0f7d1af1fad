"""Format auto-detection: every real fixture is detected as the format it is, mixed folders are refused with
every format named, unknown input says what each format looked for, and hostile input (link loops,
devices, pipes, huge files, deep and wide trees) neither hangs nor crashes nor is read beyond the bounds.

The expectations are data: :data:`EXPECTED` for the datasets of the formats dlconvert started with,
and for every registered format with a ``detect`` the sweep of its fixture folder (the format's own
reader is the oracle: what it reads with at least one annotation must be detected as it), so a
format added to the registry is covered without a line here.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from realfiles import AVAILABLE, ROOT, real_file, requires_real_files

from dlconvert import detect
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.detection import Detection, detect_format, resolve_format
from dlconvert.errors import DlconvertError, FormatError
from dlconvert.formats import FormatSpec, list_formats
from dlconvert.formats import _sniff as sniff
from dlconvert.report import ConversionReport

DETECTING = [spec.name for spec in list_formats() if spec.detect is not None]


class Several(frozenset):
    """An expectation: a folder holding (at least) these formats, refused with each named."""


#: What detection says of each dataset of the first five formats' fixtures: the format, Several(...) or None.
EXPECTED: dict[str, str | Several | None] = {
    # COCO: files in every key order; results lists are no dataset (refused with what they are)
    "coco/dagshub/annotations.json": "coco",
    "coco/datumaro/coco_dataset/annotations/captions_train.json": "coco",
    "coco/datumaro/coco_dataset/annotations/image_info_train.json": "coco",
    "coco/datumaro/coco_dataset/annotations/instances_train.json": "coco",
    "coco/datumaro/coco_dataset/annotations/instances_val.json": "coco",
    "coco/datumaro/coco_dataset/annotations/labels_val.json": "coco",
    "coco/datumaro/coco_dataset/annotations/panoptic_val.json": "coco",
    "coco/datumaro/coco_dataset/annotations/person_keypoints_train.json": "coco",
    "coco/datumaro/coco_dataset/annotations/person_keypoints_val.json": "coco",
    "coco/datumaro/coco_dataset/annotations/stuff_val.json": "coco",
    "coco/datumaro/coco_roboflow/val/_annotations.coco.json": "coco",
    "coco/datumaro/roboflow_coco/train/_annotations.coco.json": "coco",
    "coco/icevision/annotations.json": "coco",
    "coco/icevision/keypoints_annotations.json": "coco",
    "coco/mmdetection/coco_dummy/annotations/instances_val2017.json": "coco",
    "coco/mmdetection/coco_sample.json": "coco",
    "coco/cocoapi/instances_val2014_fakebbox100_results.json": None,  # detections, refused as no dataset
    "coco/dtlpy-converters-old": "coco",
    "coco/mmdetection/coco_dummy": "coco",
    "coco/icevision": "coco",  # two COCO files, read as one dataset
    "coco/datumaro/coco_dataset": "coco",
    "coco/datumaro/segment_anything_dataset": None,  # SAM's per-image JSON is not COCO
    "coco/datumaro/segment_anything_dataset/a.json": None,
    "dataloop/dtlpy-converters-examples/coco": "coco",  # coco/annotations.json beside images/
    "dataloop/dtlpy-converters-examples/coco/coco/annotations.json": "coco",
    # Dataloop: export folders, json/ folders, item files of every vintage, bare annotation lists
    "dataloop/dtlpy-converters-examples/voc/dataloop": "dataloop",
    "dataloop/dtlpy-converters-examples/voc/dataloop/json": "dataloop",
    "dataloop/dtlpy-converters-examples/voc/dataloop/json/2007_000027.json": "dataloop",
    "dataloop/dtlpy-converters-examples/yolo/dataloop": "dataloop",
    "dataloop/dtlpy-converters-examples/tfrecord/dtlpy": "dataloop",
    "dataloop/dtlpy-converters-examples/vtt": "dataloop",
    "dataloop/dtlpy-converters-examples/vtt/conversation.json": "dataloop",
    "dataloop/dtlpy-documentation/FruitImage": "dataloop",
    "dataloop/dtlpy-documentation/FruitImage/json": "dataloop",
    "dataloop/dtlpy-documentation/SheepFace": "dataloop",
    "dataloop/dtlpy-documentation/hamster": "dataloop",
    "dataloop/dtlpy-tests-2019": "dataloop",
    "dataloop/dtlpy-tests-2019/0162_annotations.json": "dataloop",
    "dataloop/dtlpy-tests-2019/video_annotations.json": "dataloop",
    "dataloop/dtlpy-tests-2019/labels.json": None,  # an ontology's label list, not an item
    "dataloop/dtlpy-converters-examples/custom": None,
    # YOLO: data.yaml variants, darknet, images/ + labels/, loose label files, dataset YAMLs
    "yolo/cvat-datumaro/yolov8_detection": "yolo",
    "yolo/cvat-datumaro/yolov8_detection_with_list_of_imgs": "yolo",
    "yolo/cvat-datumaro/yolov8_detection_with_list_of_names": "yolo",
    "yolo/cvat-datumaro/yolov8_detection_with_subset_txt": "yolo",
    "yolo/cvat-datumaro/yolov8_oriented_boxes": "yolo",
    "yolo/cvat-datumaro/yolov8_pose": "yolo",
    "yolo/cvat-datumaro/yolov8_pose_two_values_per_point": "yolo",
    "yolo/cvat-datumaro/yolov8_segmentation": "yolo",
    "yolo/datumaro/roboflow_yolo": "yolo",
    "yolo/datumaro/roboflow_yolo/data.yaml": "yolo",
    "yolo/datumaro/yolo_dataset/labels": "yolo",
    "yolo/datumaro/yolo_dataset/strict": "yolo",
    "yolo/datumaro/yolo_dataset/strict/obj.data": "yolo",
    "yolo/roboflow-shoe-sole-seg": "yolo",
    "yolo/dagshub/res": None,  # three dataset YAMLs: refused, each named (point at one)
    "yolo/dagshub/res/pose_2dim.yaml": "yolo",
    "dataloop/dtlpy-converters-examples/yolo/yolo": "yolo",
    "yolo/datumaro/dota_dataset": None,  # DOTA's labelTxt lines are not YOLO lines
    "yolo/cvat-datumaro/yolov8_classification": None,  # folders of images: nothing to read
    # VOC: devkit trees, Annotations folders, single files, Roboflow flat folders, VOCdevkit
    "voc/datumaro/voc_dataset/voc_dataset1": "voc",
    "voc/datumaro/voc_dataset/voc_dataset2": "voc",
    "voc/datumaro/voc_dataset/voc_dataset3": "voc",
    "voc/datumaro/roboflow_voc": "voc",
    "voc/icevision/voc": "voc",
    "voc/icevision/voc/Annotations/2007_000063.xml": "voc",
    "voc/icevision/fridge": "voc",
    "voc/mmdetection/VOC2012": "voc",
    "voc/mmdetection/VOC2012/Annotations": "voc",
    "dataloop/dtlpy-converters-examples/voc/voc": "voc",
    # WebVTT: files (with or without a valid body) and folders of them
    "vtt/dtlpy-converters/conversation.vtt": "vtt",
    "vtt/webvtt-py/sample.vtt": "vtt",
    "vtt/webvtt-py/comments.vtt": "vtt",
    "vtt/webvtt-py/styles.vtt": "vtt",
    "vtt/webvtt-py/using_identifiers.vtt": "vtt",
    "vtt/webvtt-py/youtube_dl.vtt": "vtt",
    "vtt/webvtt-py/invalid.vtt": "vtt",
    "vtt/wpt/regions-scroll.vtt": "vtt",
    "vtt/wpt/settings-multiple.vtt": "vtt",
    "vtt/wpt/timings-omitted-hours.vtt": "vtt",
    "vtt/1c7-vtt-test-file/8. Chapters.vtt": "vtt",
    "vtt/swift-webvtt-parser/entities.vtt": "vtt",
    "vtt/vtt.js/integration/spec-example.vtt": "vtt",
    "vtt/vtt.js": "vtt",
    # folders holding two formats side by side: refused, both named
    "dataloop/dtlpy-converters-examples/voc": Several({"dataloop", "voc"}),
    "dataloop/dtlpy-converters-examples/yolo": Several({"dataloop", "yolo"}),
    "dataloop/dtlpy-converters-examples": Several({"coco", "yolo"}),  # VOC, Dataloop: two trees, two exports, refused
    "labelme/unet-pytorch": Several({"labelme", "voc"}),  # LabelMe JSON and the VOC masks made from it
    "labelme/unet-pytorch/datasets": Several({"labelme", "voc"}),
    # nothing dlconvert reads
    "masks/datumaro/cityscapes": None,
    "masks/datumaro/common_semantic_segmentation": None,
}


def _check(found: Detection, expected: str | Several | None, where: str) -> None:
    if isinstance(expected, Several):
        assert found.ambiguous and expected <= set(found.matches), (where, found.matches)
        with pytest.raises(FormatError) as error:
            found.require()
        message = str(error.value)
        assert "\n" not in message and all(f"--from {name}" in message for name in expected)
    elif expected is None:
        assert found.matches == {}, (where, found.matches)
    else:
        assert found.format == expected, (where, found.matches)
        assert found.matches[expected]  # a reason, for `dlconvert detect`


# ==== the real fixtures ===============================================================================
@requires_real_files
@pytest.mark.parametrize("relative", sorted(EXPECTED) if AVAILABLE else [None])
def test_every_fixture_dataset_is_detected_as_what_it_is(relative):
    _check(detect_format(real_file(relative)), EXPECTED[relative], relative)


_MEDIA = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".wav", ".mp3", ".mp4", ".webm", ".md")


def _annotations_read(spec: FormatSpec, path: Path) -> int:
    """How many annotations the format's own reader reads from ``path`` (0 when it refuses it)."""
    try:
        dataset = spec.read(path, ConvertOptions(), ConversionReport())
        return sum(len(collection) for collection in dataset.items)
    except (DlconvertError, OSError):
        return 0


def _sweep(name: str) -> list[tuple[str, str | Several | None]]:
    """Every file and folder (5 levels down, media aside) of ``fixtures/<name>/`` the format's reader reads,
    with what detection must say of it: the format, unless :data:`EXPECTED` says otherwise."""
    from dlconvert.formats import get_format

    spec, base = get_format(name), ROOT / name
    paths = [base, *(p for p in base.rglob("*") if len(p.relative_to(base).parts) <= 5
                     and p.suffix.lower() not in _MEDIA)]
    cases = []
    for path in sorted(paths):
        relative = path.relative_to(ROOT).as_posix()
        if relative in EXPECTED or _annotations_read(spec, path):
            cases.append((relative, EXPECTED.get(relative, name)))
    return cases


@requires_real_files
@pytest.mark.parametrize("name", DETECTING)
def test_what_each_format_reads_among_its_fixtures_is_detected_as_it(name):
    """The registry sweep: a format's fixtures that its reader reads are detected as that format."""
    if not (ROOT / name).is_dir():
        pytest.skip(f"no fixtures/{name}/ folder")
    cases = _sweep(name)
    assert cases, f"the {name} reader read none of fixtures/{name}/"
    wrong = []
    for relative, expected in cases:
        try:
            _check(detect_format(ROOT / relative), expected, relative)
        except AssertionError as exc:
            wrong.append(str(exc).splitlines()[0])
    assert wrong == []


@requires_real_files
@pytest.mark.parametrize("name", DETECTING)
def test_convert_to_coco_without_from_on_every_fixture_dataset(name, tmp_path):
    """``dlconvert convert SRC DST --to coco`` with no ``--from``: the detected format's reader reads SRC,
    pycocotools reads what was written. Sources: the datasets of :data:`EXPECTED` in ``fixtures/<name>/``
    (or detected as ``name``), else the outermost paths the sweep found."""
    from pycocotools.coco import COCO

    if not (ROOT / name).is_dir():
        pytest.skip(f"no fixtures/{name}/ folder")
    listed = [r for r, e in EXPECTED.items() if e == name]
    if not listed:  # a format added later: the outermost paths its reader reads
        swept = [r for r, e in _sweep(name) if e == name]
        listed = [r for r in swept if not any(r.startswith(other + "/") for other in swept)]
    runner = CliRunner()
    for number, relative in enumerate(listed):
        out = tmp_path / f"out{number}"
        report_path = tmp_path / f"report{number}.json"
        result = runner.invoke(main, ["convert", str(ROOT / relative), str(out), "--to", "coco", "--on-error", "skip",
                                      "--workers", "1", "--report", str(report_path)])
        assert "Traceback" not in result.output, (relative, result.output)
        assert "more than one format" not in result.stderr and "no known format" not in result.stderr, relative
        if not report_path.exists():  # refused by the reader it was detected for (a COCO folder of 12 files)
            assert result.exit_code == 1 and result.stderr.startswith("error: "), (relative, result.output)
            continue
        report = json.loads(report_path.read_text(encoding="utf-8"))
        assert report["source_format"] == name, relative
        assert result.exit_code == (1 if any(i["kind"] == "failed" for i in report["issues"]) else 0), relative
        if report["items_out"]:
            coco = COCO(str(out / "coco.json"))
            assert len(coco.getImgIds()) == report["items_out"], relative


# ==== synthetic sources: key orders, bounds, manifests ================================================
def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _coco(**first: object) -> dict:
    return {**first, "images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}],
            "categories": [{"id": 1, "name": "cat"}]}


@pytest.mark.parametrize("order", [("images", "annotations", "categories"), ("categories", "images", "annotations"),
                                   ("annotations", "categories", "images"), ("info", "licenses", "images",
                                                                              "annotations", "categories")])
def test_coco_keys_in_any_order(tmp_path, order):
    document = _coco(info={"year": 2024}, licenses=[])
    path = _write(tmp_path / "c.json", json.dumps({key: document[key] for key in order}))
    assert detect_format(path).format == "coco"


def test_coco_keys_after_megabytes_of_images_are_found_near_the_end(tmp_path):
    """Official COCO order (images, annotations, then categories last) with a head that ends inside
    ``images``: the tail shows ``categories``; a file with only ``images`` is not COCO."""
    images = [{"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480} for i in range(40_000)]
    document = {"info": {}, "images": images, "annotations": [], "categories": [{"id": 1, "name": "cat"}]}
    path = _write(tmp_path / "instances.json", json.dumps(document))
    assert path.stat().st_size > 2 * sniff.JSON_HEAD_BYTES
    found = detect_format(path)
    assert found.format == "coco" and "'categories'" in found.matches["coco"]
    del document["annotations"], document["categories"]
    only_images = _write(tmp_path / "images.json", json.dumps(document))
    assert detect_format(only_images).matches == {}


def test_a_huge_info_before_every_key_leaves_the_tail_to_tell(tmp_path):
    document = {"info": {"description": "x" * (3 * sniff.JSON_HEAD_BYTES)}, **_coco()}
    path = _write(tmp_path / "c.json", json.dumps(document))
    assert detect_format(path).format == "coco"


def test_json_outline_reads_only_the_head_and_the_tail(tmp_path, monkeypatch):
    path = _write(tmp_path / "big.json", b'{"info": "' + b"x" * (50 * sniff.JSON_HEAD_BYTES) + b'", "images": []}')
    read = []
    real_read = os.read

    def counting(descriptor, size):
        data = real_read(descriptor, size)
        read.append(len(data))
        return data

    monkeypatch.setattr(sniff.os, "read", counting)
    outline = sniff.json_outline(path)
    assert outline.kind == "object" and not outline.complete and "images" in outline.tail_keys
    assert sum(read) == sniff.JSON_HEAD_BYTES + sniff.TAIL_BYTES


def test_json_outline_of_first_records_and_bad_json(tmp_path):
    outline = sniff.json_outline(_write(tmp_path / "a.json", '\ufeff [{"image_id": 1, "category_id": 2}]'))
    assert outline.kind == "array" and outline.item_keys() == ("image_id", "category_id") and outline.complete
    outline = sniff.json_outline(_write(tmp_path / "b.json", '{"a\\u00e9": [ {"x": {"y": [1, "]}"]}, "z": 2}], '))
    assert outline.keys == {"aé": "["} and outline.item_keys("aé") == ("x", "z") and not outline.complete
    for text in ("", "   ", "nope", "42", '"text"', "\x00\x00"):
        assert sniff.json_outline(_write(tmp_path / "c.json", text)) is None


@pytest.mark.parametrize(("text", "root"), [
    ("<annotation><filename>a.jpg</filename></annotation>", "annotation"),
    ('\ufeff<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE x [<!ENTITY e "v">]>\n<annotation/>', "annotation"),
    ('<ns:annotation xmlns:ns="urn:x"/>', "annotation"),
    ("<annotations><version>1.1</version></annotations>", "annotations"),  # CVAT, not VOC
    ("not xml", None),
])
def test_xml_root(tmp_path, text, root):
    assert sniff.xml_root(_write(tmp_path / "a.xml", text)) == root


def test_a_cvat_xml_is_not_voc(tmp_path):
    path = _write(tmp_path / "annotations.xml", "<annotations><version>1.1</version><image id='0'/></annotations>")
    assert "voc" not in detect_format(path).matches
    assert "voc" not in detect_format(tmp_path).matches


@pytest.mark.parametrize(("layout", "expected", "says"), [
    ({"data.yaml": "names: [cat]\ntrain: images/train\n"}, "yolo", "data.yaml with names, train"),
    ({"obj.data": "classes = 1\ntrain = train.txt\nnames = obj.names\n"}, "yolo", "darknet obj.data"),
    ({"images/a.jpg": b"", "labels/a.txt": ""}, "yolo", "images/ and labels/"),
    ({"labels/train/a.txt": "0 0.5 0.5 0.25 0.25\n"}, "yolo", "label file such as labels/train/a.txt"),
    ({"a.txt": "3 10 20 30 40\n"}, None, None),  # numbers, not normalised coordinates
    ({"classes.txt": "cat\n", "notes.txt": "hello\n"}, None, None),
    ({"Annotations/a.xml": "<annotation/>"}, "voc", "Annotations/a.xml has the root <annotation>"),
    ({"SegmentationClass/a.png": b"\x89PNG"}, "voc", "SegmentationClass/ holds PNG masks"),
    ({"VOC2012/SegmentationObject/a.png": b"\x89PNG"}, "voc", "VOC2012/SegmentationObject/"),
    ({"sub/a.vtt": "WEBVTT\n"}, "vtt", "a .vtt file: sub/a.vtt"),
    ({"json/a.json": json.dumps({"filename": "/a.jpg", "annotations": []})}, "dataloop", "json/a.json"),
    ({"json/.keep": ""}, "dataloop", "json/ (no item JSON file in it yet)"),
    ({"ontology.json": "{}"}, "dataloop", "no item yet"),
    ({"a.json": json.dumps([{"type": "box", "label": "cat", "coordinates": []}])}, "dataloop", "annotations"),
    ({"a.json": json.dumps(_coco())}, "coco", "a.json: a JSON object with 'images', 'annotations' and"),
    ({"a.json": json.dumps(_coco()), "b.json": json.dumps(_coco())}, "coco", "read as one dataset"),
    ({"a.json": json.dumps([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.9}])},
     None, None),  # a results list: refused as no dataset (test_a_results_list_is_refused_as_no_dataset)
    ({"labelmap.json": json.dumps({"labels": []}), "coco_ids.json": json.dumps({"images": [], "annotations": []})},
     None, None),  # dlconvert's side files are nobody's dataset
])
def test_layouts(tmp_path, layout, expected, says):
    for relative, text in layout.items():
        _write(tmp_path / "src" / relative, text)
    found = detect_format(tmp_path / "src")
    if expected is None:
        assert found.matches == {}, found.matches
    else:
        assert found.format == expected, found.matches
        assert says in found.matches[expected]


def test_a_webvtt_file_is_told_by_its_header_or_its_name(tmp_path):
    assert detect_format(_write(tmp_path / "subs.txt", "\ufeffWEBVTT - a title\n")).format == "vtt"
    assert "without the WEBVTT header" in detect_format(_write(tmp_path / "bad.vtt", "hello\n")).matches["vtt"]
    assert detect_format(_write(tmp_path / "other.txt", "WEBVTTX\n")).matches == {}


@pytest.mark.parametrize("fmt", ["coco", "dataloop", "voc", "vtt", "yolo"])
def test_a_dlconvert_output_says_its_format_even_empty(fmt, tmp_path):
    source = tmp_path / "empty"
    _write(source / "labelmap.json", json.dumps({"labels": [{"name": "cat", "instance_id": 1}]}))
    Converter().run(source, "dataloop", tmp_path / "out", fmt)
    found = detect_format(tmp_path / "out")
    assert found.format == fmt and ".dlconvert-output.json" in found.matches[fmt]


def test_the_sample_and_its_parts(sample_dir):
    assert detect(sample_dir).format == "dataloop"
    assert detect_format(sample_dir / "json").format == "dataloop"
    assert detect_format(sample_dir / "json" / "street" / "scene_01.json").format == "dataloop"


# ==== none, several, and how to choose ================================================================
def test_nothing_known_is_one_line_listing_what_each_format_looked_for(tmp_path):
    _write(tmp_path / "src" / "notes.txt", "hello")
    found = detect_format(tmp_path / "src")
    assert found.format is None and not found.ambiguous
    assert set(found.looked_for) == {spec.name for spec in list_formats()}
    with pytest.raises(FormatError) as error:
        found.require()
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{tmp_path / 'src'}: no known format found")
    assert all(f"{spec.name}: " in message for spec in list_formats()) and message.endswith("--from FORMAT")
    with pytest.raises(FormatError, match=r"format='FORMAT'"):
        found.require("format=")


def test_a_folder_holding_two_formats_is_refused_with_both_named(tmp_path):
    _write(tmp_path / "src" / "coco.json", json.dumps(_coco()))
    _write(tmp_path / "src" / "data.yaml", "names: [cat]\n")
    found = detect_format(tmp_path / "src")
    assert found.ambiguous and set(found.matches) == {"coco", "yolo"}
    with pytest.raises(FormatError) as error:
        resolve_format(tmp_path / "src", "auto")
    assert "coco (coco.json: a JSON object" in str(error.value) and "yolo (data.yaml with names)" in str(error.value)
    assert "choose one with --from coco or --from yolo" in str(error.value)
    assert resolve_format(tmp_path / "src", "yolo") == "yolo"  # --from chooses


def test_a_detector_that_fails_on_what_it_finds_says_no(tmp_path):
    def unreadable(path: Path) -> str | None:
        raise PermissionError(13, "denied")

    def yes(path: Path) -> str | None:
        return "it is"

    specs = [FormatSpec("a", "", frozenset(), {}, detect=unreadable, looks_for="a things"),
             FormatSpec("b", "", frozenset(), {}, detect=yes), FormatSpec("c", "", frozenset(), {})]
    found = detect_format(tmp_path, specs)
    assert found.matches == {"b": "it is"}
    assert found.looked_for == {"a": "a things", "c": "(not detected: name it)"}


def test_an_empty_file_says_so(tmp_path):
    with pytest.raises(FormatError, match=r"empty\.json: cannot tell the format: the file is empty$"):
        resolve_format(_write(tmp_path / "empty.json", ""), None)


def test_a_missing_path_is_an_error_and_a_device_is_no_format():
    with pytest.raises(FormatError, match="no such file or folder"):
        detect_format("/nonexistent/dlconvert")
    found = detect_format("/dev/null")
    assert found.matches == {} and "device" in found.note
    with pytest.raises(FormatError, match="cannot tell the format: not a file or folder"):
        found.require()


# ==== hostile input: every registered format's detect faces it =======================================
def _detect_in_time(path: Path, formats: list[FormatSpec] | None = None, seconds: float = 20) -> Detection:
    """Detection in a thread that must finish (a hang fails the test instead of stopping the suite)."""
    result: dict = {}

    def run() -> None:
        try:
            result["found"] = detect_format(path, formats)
        except BaseException as exc:  # reported below
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"detection of {path} did not finish in {seconds} s"
    if "error" in result:
        raise result["error"]
    return result["found"]


def _spec(name: str) -> list[FormatSpec]:
    from dlconvert.formats import get_format

    return [get_format(name)]


_HOSTILE_NAMES = ["data.json", "annotations.xml", "a.vtt", "data.yaml", "obj.data", "labels/a.txt", "json/a.json",
                  "Annotations/a.xml", "a.ndjson", "a.jsonl"]


@pytest.mark.parametrize("name", DETECTING)
def test_links_to_devices_loops_and_pipes_neither_hang_nor_crash(tmp_path, name):
    """Files a format looks for that are links to /dev/zero or named pipes (opening one blocks until a
    writer comes), a link to itself and a folder that holds itself: every format says no, at once."""
    folder = tmp_path / "src"
    for number, hostile in enumerate(_HOSTILE_NAMES):
        target = folder / hostile
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink("/dev/zero", target)
        os.mkfifo(target.with_name(f"pipe{number}{target.suffix}"))
    os.symlink("loop.json", folder / "loop.json")
    os.symlink(".", folder / "again")
    found = _detect_in_time(folder, _spec(name))
    assert found.matches == {} or (name == "dataloop" and "json/ (no item JSON file" in found.matches[name])
    for path in (folder / "data.json", folder / "pipe0.json"):
        assert _detect_in_time(path, _spec(name)).note  # a device or a pipe: nothing to ask
    with pytest.raises(FormatError, match="no such file or folder"):
        detect_format(folder / "loop.json")


@pytest.mark.parametrize("name", DETECTING)
def test_a_huge_file_is_looked_at_by_its_head(tmp_path, name):
    """64 GiB sparse files with every name a format looks for: a detector that read one whole would never
    finish (or run out of memory)."""
    folder = tmp_path / "src"
    for hostile in ["big.json", "big.xml", "big.vtt", "data.yaml", "labels/big.txt", "big.ndjson", "obj.data"]:
        path = folder / hostile
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(b'{"info": "')
            try:
                handle.truncate(64 * 1024 ** 3)
            except OSError:
                pytest.skip("this file system cannot hold a sparse 64 GiB file")
        _detect_in_time(path, _spec(name))
    _detect_in_time(folder, _spec(name))


@pytest.mark.parametrize("name", DETECTING)
def test_a_deep_tree_is_looked_at_a_few_levels_down(tmp_path, monkeypatch, name):
    deep = tmp_path / "src"
    folder = deep
    for level in range(200):
        folder = folder / f"d{level}"
    _write(folder / "data.yaml", "names: [cat]\n")
    _write(folder / "a.json", json.dumps(_coco()))
    _write(folder / "a.xml", "<annotation/>")
    _write(folder / "a.vtt", "WEBVTT\n")
    listed = []
    real_scandir, real_listdir = os.scandir, os.listdir

    def counting(real):
        def count(path="."):
            listed.append(Path(os.fsdecode(path)))
            return real(path)
        return count

    monkeypatch.setattr(os, "scandir", counting(real_scandir))
    monkeypatch.setattr(os, "listdir", counting(real_listdir))
    found = _detect_in_time(deep, _spec(name))
    assert found.matches == {}
    deepest = max((len(p.relative_to(deep).parts) for p in listed if deep in (p, *p.parents)), default=0)
    assert deepest <= 8, f"{name} listed a folder {deepest} levels down"


def test_a_wide_folder_is_listed_in_bounds(tmp_path, monkeypatch):
    wide = tmp_path / "src"
    wide.mkdir()
    for number in range(3 * sniff.MAX_ENTRIES):
        (wide / f"{number:05d}.bin").touch()
    assert len(sniff.listing(wide)) == sniff.MAX_ENTRIES
    assert _detect_in_time(wide).matches == {}


def test_a_walk_visits_a_bounded_number_of_folders_once_each(tmp_path):
    root = tmp_path / "src"
    for number in range(3 * sniff.MAX_FOLDERS):
        (root / f"f{number:03d}" / "g").mkdir(parents=True)
    os.symlink(root, root / "f000" / "back")  # a loop through a link
    _write(root / "f199" / "g" / "a.vtt", "WEBVTT\n")  # beyond the folders a walk visits
    assert sniff.walk(root, (".vtt",)) == []
    _write(root / "a.vtt", "WEBVTT\n")
    assert sniff.walk(root, (".vtt",)) == [root / "a.vtt"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_files_and_folders_are_no_format(tmp_path):
    folder = tmp_path / "src"
    _write(folder / "a.json", json.dumps(_coco()))
    _write(folder / "sub" / "data.yaml", "names: [cat]\n")
    (folder / "a.json").chmod(0)
    (folder / "sub").chmod(0)
    try:
        assert _detect_in_time(folder).matches == {}
    finally:
        (folder / "sub").chmod(0o755)


def test_a_file_that_refuses_to_open_is_no_evidence(tmp_path, monkeypatch):
    """The sniffing reads of a file that cannot be opened give None (no exception escapes)."""
    path = _write(tmp_path / "a.json", json.dumps(_coco()))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sniff.os, "open", refuse)
    assert sniff.read_head(path) is None and sniff.xml_root(path) is None and sniff.first_line(path) is None
    assert sniff.json_outline(_write(tmp_path / "b.json", "{}")) is None


# ==== the command line ===============================================================================
def test_cli_detect_says_what_and_why(cli_runner, sample_dir, tmp_path):
    result = cli_runner.invoke(main, ["detect", str(sample_dir)])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{sample_dir}: dataloop", "  " + detect_format(sample_dir).matches[
        "dataloop"]]
    as_json = json.loads(cli_runner.invoke(main, ["detect", "--json", str(sample_dir)]).stdout)
    assert as_json["format"] == "dataloop" and set(as_json["looked_for"]) == set(DETECTING) - {"dataloop"}
    _write(tmp_path / "mixed" / "coco.json", json.dumps(_coco()))
    _write(tmp_path / "mixed" / "a.vtt", "WEBVTT\n")
    result = cli_runner.invoke(main, ["detect", str(tmp_path / "mixed")])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"{tmp_path / 'mixed'}: more than one format (choose with --from)"
    assert json.loads(cli_runner.invoke(main, ["detect", "--json", str(tmp_path / "mixed")]).stdout)["format"] is None


@pytest.mark.parametrize("command", [["convert", "{src}", "{dst}", "--to", "coco"], ["render", "{src}", "{dst}"],
                                     ["info", "{src}"], ["validate", "{src}"], ["verify", "{src}", "--via", "coco"]])
def test_every_command_detects_and_refuses_what_it_cannot_tell(cli_runner, sample_dir, tmp_path, command):
    args = [a.format(src=sample_dir, dst=tmp_path / "out") for a in command]
    assert cli_runner.invoke(main, args).exit_code == 0
    if command[0] in ("convert", "render"):
        assert json.loads((tmp_path / "out" / ".dlconvert-output.json").read_text())["format"] in ("coco", "render")
    mixed = tmp_path / "mixed"
    _write(mixed / "coco.json", json.dumps(_coco()))
    _write(mixed / "data.yaml", "names: [cat]\n")
    args = [a.format(src=mixed, dst=tmp_path / "out2") for a in command]
    result = cli_runner.invoke(main, args)
    assert result.exit_code == 1 and not (tmp_path / "out2").exists()
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {mixed}: holds more than one format") and "--from coco or --from yolo" in line
    assert cli_runner.invoke(main, [*args, "--from", "coco"]).exit_code in (0, 1)  # chosen: no detection error
    assert "more than one format" not in cli_runner.invoke(main, [*args, "--from", "coco"]).stderr


def test_a_changed_folder_is_seen_as_it_is_now(tmp_path):
    """Looks are shared within one detection only: a file added right after a detection is seen by the next."""
    folder = tmp_path / "src"
    folder.mkdir()
    assert detect_format(folder).matches == {}
    _write(folder / "data.yaml", "names: [cat]\n")
    assert detect_format(folder).format == "yolo"
    _write(folder / "data.yaml", "names: [cat]\n".replace("names", "other"))
    assert detect_format(folder).matches == {"yolo": "data.yaml (no names or nc)"}


def test_from_auto_is_the_default_spelled_out(cli_runner, sample_dir):
    spelled = cli_runner.invoke(main, ["info", "--json", "--from", "auto", str(sample_dir)])
    default = cli_runner.invoke(main, ["info", "--json", str(sample_dir)])
    assert spelled.exit_code == 0 and spelled.stdout == default.stdout
    assert json.loads(spelled.stdout)["format"] == "dataloop"


@requires_real_files
def test_leading_whitespace_does_not_hide_the_format(tmp_path):
    # a pattern with two \s* side by side backtracked quadratically over a run of spaces (28 s for 3 files)
    padded = tmp_path / "padded.json"
    padded.write_bytes(b" " * 200_000 + real_file("coco/mmdetection/coco_sample.json").read_bytes())
    assert detect_format(padded).format == "coco"
    (tmp_path / "folder").mkdir()
    for i in range(3):
        (tmp_path / "folder" / f"{i}.json").write_bytes(b" " * 70_000 + b'{"a": 1}')
    assert detect_format(tmp_path / "folder").format is None


@requires_real_files
def test_an_export_still_in_its_zip_says_extract_it(tmp_path):
    import zipfile

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(real_file("coco/mmdetection/coco_sample.json"), "annotations/instances_default.json")
    with pytest.raises(FormatError, match=r"export.zip: cannot tell the format: an archive: .* extract it first"):
        detect_format(archive).require()


def test_a_results_list_is_refused_as_no_dataset(tmp_path):
    path = _write(tmp_path / "results.json", json.dumps([{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                                                          "score": 0.9}]))
    found = detect_format(path)
    assert found.format is None and "results list" in found.refusals["coco"]
    assert "not a dataset: this is a COCO results list" in found.summary()
    with pytest.raises(FormatError, match=r"results.json: this is a COCO results list .* not a dataset"):
        found.require()
