"""What COCO detection says agrees with what the reader then does: a results list is no dataset (refused
up front with the reader's reason), a file cut short is COCO (so the parse error names the place), and a
UTF-16 file is named as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realfiles import real_file, requires_real_files

from dlconvert.cli import main
from dlconvert.detection import detect_format
from dlconvert.errors import FormatError
from dlconvert.formats.coco.detect import RESULTS_LIST, detect

RESULTS = "coco/cocoapi/instances_val2014_fakebbox100_results.json"
DOCUMENT = {"info": {"description": "x"}, "licenses": [],
            "images": [{"id": 1, "file_name": "a.jpg", "width": 20, "height": 10}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 4, 4], "area": 16,
                             "iscrowd": 0}],
            "categories": [{"id": 1, "name": "cat"}]}


@requires_real_files
def test_a_results_list_is_no_dataset_for_detect_with_the_readers_reason(cli_runner, tmp_path):
    path = real_file(RESULTS)
    with pytest.raises(FormatError) as refused:
        detect(path)
    assert refused.value.message == RESULTS_LIST
    assert detect_format(path).format is None  # auto-detection no longer names it COCO
    read = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "out"), "--from", "coco", "--to", "yolo"])
    assert read.exit_code != 0 and RESULTS_LIST in read.output


def test_a_file_cut_before_images_is_detected_and_gives_the_parse_error(cli_runner, tmp_path):
    text = json.dumps(DOCUMENT, indent=2)
    path = tmp_path / "cut.json"
    path.write_text(text[:text.index('"images"') - 1], encoding="utf-8")
    assert detect_format(path).format == "coco"
    result = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "out"), "--to", "yolo"])
    assert result.exit_code != 0
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith(f"error: {path}:line ") and "column" in line and "invalid JSON" in line


def test_a_cut_json_of_another_shape_is_not_coco(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{"filename": "/a.jpg", "annotations": [{"type": "box"', encoding="utf-8")
    assert detect(path) is None


@pytest.mark.parametrize(("encoding", "says"), [("utf-16", "UTF-16"), ("utf-16-le", "UTF-16"),
                                                ("utf-16-be", "UTF-16"), ("utf-32", "UTF-32")])
def test_a_utf16_coco_file_is_named_so(cli_runner, tmp_path, encoding, says):
    path = tmp_path / "wide.json"
    path.write_bytes(json.dumps(DOCUMENT).encode(encoding))
    result = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "out"), "--from", "coco", "--to", "yolo"])
    assert result.exit_code != 0
    [line] = [x for x in result.output.splitlines() if x.strip()]
    assert line == f"error: {path}: the file is {says}, not UTF-8 JSON (JSON exchanged between tools is UTF-8, " \
                   "RFC 8259): save it as UTF-8"
    assert not Path(tmp_path / "out").exists()
