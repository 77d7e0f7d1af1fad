"""``info`` and ``validate`` tell a reader's deliberate, reported skips (a Labelbox mask only at a URL, a data
row nobody labelled) from data errors: one rule, :attr:`dlconvert.report.Issue.severity`. A skip is listed
as ``skipped:`` with its reason and counted by reason; it keeps exit 0 (``validate --strict`` fails on it),
while a record that cannot be read is still an error that exits 1.

Oracles: the export files themselves, read with the standard library.
"""

from __future__ import annotations

import json
from pathlib import Path

from realfiles import real_file, requires_real_files

from dlconvert.cli import main
from dlconvert.errors import FormatError
from dlconvert.report import ConversionReport, Issue, OnError

BIRD = "dataloop/dtlpy-converters-examples/labelbox/bird_gt.json"  # two masks only at a URL
EMPTY_SKIPPED = "labelbox/labelbox/scripts/test-fixtures/empty_skipped.json"  # a skipped row and an empty one


def _url_masks(path: Path) -> int:
    return sum(1 for row in json.loads(path.read_text(encoding="utf-8")) for obj in row["Label"]["objects"]
               if "instanceURI" in obj and not any(k in obj for k in ("bbox", "polygon", "line", "point")))


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# ==== the one rule ======================================================================================
def test_the_severity_of_an_issue_is_one_rule():
    report = ConversionReport(on_error=OnError.SKIP)
    report.bad_record(FormatError("bad", path="a.json", where="/0"), code="x.invalid-record")
    report.failed(FormatError("unreadable", path="b.json"), code="x.invalid-file")
    report.issues.append(Issue("skipped", "x.not-fetched", "only at a URL", path="a.json", where="/1"))
    report.issues.append(Issue("warning", "x.size-unknown", "no size", path="a.json"))
    assert [i.severity for i in report.issues] == ["error", "error", "skipped", "warning"]


# ==== Labelbox: masks at a URL, rows not labelled ========================================================
@requires_real_files
def test_masks_only_at_a_url_are_skips_with_their_reason_not_errors(cli_runner):
    path = real_file(BIRD)
    masks = _url_masks(path)
    assert masks == 2
    result = cli_runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    skipped = [line for line in lines if line.startswith("skipped: ")]
    assert len(skipped) == masks and all("[labelbox.mask-not-fetched]" in line and "only at a URL" in line
                                         for line in skipped)
    assert not [line for line in lines if line.startswith("error: ")]
    assert lines[-1] == f"1 items checked: 0 errors, 0 warnings, {masks} skipped by the reader " \
                        f"(labelbox.mask-not-fetched {masks})"
    assert cli_runner.invoke(main, ["validate", "--strict", str(path)]).exit_code == 1


@requires_real_files
def test_validate_json_counts_the_skips_by_reason(cli_runner):
    result = cli_runner.invoke(main, ["validate", "--json", str(real_file(BIRD))])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["errors"], document["warnings"]) == (0, 0)
    assert document["skipped"] == {"labelbox.mask-not-fetched": 2}
    assert {p["severity"] for p in document["problems"]} == {"skipped"}


@requires_real_files
def test_info_counts_what_the_reader_skipped_apart_from_the_items_and_exits_0(cli_runner):
    path = real_file(EMPTY_SKIPPED)
    rows = json.loads(path.read_text(encoding="utf-8"))
    labelled = [row for row in rows if row["Label"] != "Skip"]
    result = cli_runner.invoke(main, ["info", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["items:", str(len(labelled))]
    assert "not counted:  1 skipped by the reader (labelbox.not-labelled 1)" in lines
    [line] = _lines(result.stderr)
    assert line.startswith(f"skipped: {path}:/0: the data row is not an item") and "[labelbox.not-labelled]" in line
    document = json.loads(cli_runner.invoke(main, ["info", "--json", str(path)]).stdout)
    assert document["items"] == len(labelled) and document["skipped"] == {"labelbox.not-labelled": 1}


def _v2_row(objects: list) -> dict:
    return {"data_row": {"id": "dr1", "external_id": "a.jpg", "row_data": "https://storage.example/a.jpg"},
            "media_attributes": {"height": 40, "width": 60, "mime_type": "image/jpeg"},
            "projects": {"p1": {"name": "p", "labels": [{"id": "l1", "annotations": {
                "objects": objects, "classifications": [], "relationships": []}}]}}}


def test_a_record_that_cannot_be_read_is_still_an_error_beside_the_skips(cli_runner, tmp_path):
    mask = {"name": "sky", "annotation_kind": "ImageSegmentationMask", "mask": {"url": "https://example.com/m"}}
    bad = {"name": "car", "polygon": [{"x": 1}]}
    box = {"name": "car", "bounding_box": {"top": 1, "left": 1, "height": 5, "width": 5}}
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps(_v2_row([mask, box])) + "\n", encoding="utf-8")
    for command in ("info", "validate"):
        assert cli_runner.invoke(main, [command, str(path)]).exit_code == 0
    path.write_text(json.dumps(_v2_row([mask, bad, box])) + "\n", encoding="utf-8")
    result = cli_runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == 1
    lines = _lines(result.stdout)
    assert [line.split(":")[0] for line in lines[:-1]] == ["skipped", "error"]
    assert lines[-1] == "1 items checked: 1 errors, 0 warnings, 1 skipped by the reader (labelbox.mask-not-fetched 1)"
    assert cli_runner.invoke(main, ["info", str(path)]).exit_code == 1


# ==== warnings are no errors either ======================================================================
def test_info_exits_0_on_a_readers_warning(cli_runner, tmp_path):
    coco = {"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}],
            "categories": [{"id": 1, "name": "cat"}]}
    (tmp_path / "instances.json").write_text(json.dumps(coco), encoding="utf-8")
    (tmp_path / "notes.json").write_text(json.dumps({"note": "not COCO"}), encoding="utf-8")
    result = cli_runner.invoke(main, ["info", "--from", "coco", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert _lines(result.stderr)[0].startswith("warning: ") and "notes.json" in result.stderr
