"""Label Studio's JSON_MIN export, read as the tasks of the JSON export it was made from.

Oracle: label-studio-converter's own ``convert_to_json_min`` (what Label Studio's "JSON-MIN" export runs), on
the real exports and their labelling configs. Where it is not installed, ``_json_min`` writes JSON_MIN by
its rules; the first test holds that to the converter's output, record for record.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree
from realfiles import AVAILABLE, NO_REAL_FILES, real_file, requires_real_files
from test_labelstudio import CONVERTER, EXPORT, FRONTEND, LS
from test_labelstudio_roundtrip import FORMATS, _agree

from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.formats.labelstudio.layout import detect
from dlconvert.report import ConversionReport
from dlconvert.verify import verify

#: Real exports with their labelling configs (none has per-region controls, which JSON_MIN cannot tie).
PAIRS = [(f"{CONVERTER}/test_export_yolo/data.json", f"{CONVERTER}/test_export_yolo/label_config.xml"),
         (f"{CONVERTER}/test_export_yolo/data_obb.json", f"{CONVERTER}/test_export_yolo/label_config_obb.xml"),
         (f"{CONVERTER}/test_export_yolo/data_polygons.json",
          f"{CONVERTER}/test_export_yolo/label_config_polygons.xml"),
         (f"{CONVERTER}/test_export_json_min/data.json", f"{CONVERTER}/test_export_json_min/label_config.xml"),
         (f"{FRONTEND}/image_magic_wand/annotations/1.json", f"{FRONTEND}/image_magic_wand/config.xml"),
         (f"{FRONTEND}/image_multilabel/annotations/1.json", f"{FRONTEND}/image_multilabel/config.xml"),
         (f"{FRONTEND}/image_ellipses/annotations/1.json", f"{FRONTEND}/image_ellipses/config.xml"),
         (f"{FRONTEND}/image_keypoints/annotations/0.json", f"{FRONTEND}/image_keypoints/config.xml")]


def _pairs() -> list:
    if not AVAILABLE:
        return NO_REAL_FILES
    return [pytest.param(data, config, id=data.split("/", 2)[2]) for data, config in PAIRS]


def _tasks(path: Path) -> list[dict]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, list) else [data]


def _controls(config: Path) -> dict[str, str]:
    """Control name → tag, read with lxml (the converter's schema)."""
    root = etree.fromstring(config.read_bytes(), etree.XMLParser(resolve_entities=False))
    return {e.get("name"): e.tag for e in root.iter() if isinstance(e.tag, str) and e.get("toName")}


def _json_min(tasks: list[dict], controls: dict[str, str]) -> list[dict]:
    """JSON_MIN by label-studio-converter's rules: a record per task and annotation not cancelled (newest
    first), the data keys, the id, each control's values (sizes folded in; one choice or text alone as a
    string), the annotation's fields; a task without annotations is one record with ``annotator: None``."""
    records = []
    for task in tasks:
        annotations = task.get("annotations", task.get("completions")) or []
        if not annotations:
            records.append({**task["data"], "id": task["id"], "annotator": None, "annotation_id": None,
                            "created_at": None, "updated_at": None, "lead_time": None})
        kept = [a for a in annotations if not (a.get("skipped") or a.get("was_cancelled"))]
        for annotation in sorted(kept, key=lambda a: a.get("created_at", 0), reverse=True):
            record = {**task["data"], "id": task["id"]}
            for result in annotation["result"]:
                if result.get("from_name") in controls:
                    sizes = {k: result[k] for k in ("original_width", "original_height") if k in result}
                    record.setdefault(result["from_name"], []).append({**result["value"], **sizes})
            for name in [k for k in record if k in controls]:
                key = {"Choices": "choices", "TextArea": "text"}.get(controls[name])
                values = [v[key][0] if key and len(v[key]) == 1 else v for v in record[name]]
                record[name] = values[0] if key and len(values) == 1 else values
            annotator = annotation.get("completed_by")
            record.update(annotator=annotator.get("email") if isinstance(annotator, dict) else annotator,
                          annotation_id=annotation.get("id"), created_at=annotation.get("created_at"),
                          updated_at=annotation.get("updated_at"), lead_time=annotation.get("lead_time"))
            records.append(record)
    return records


def _export(tmp_path: Path, data: str, config: str, *, beside: bool = True) -> Path:
    """The JSON_MIN export of a real file under its config, in a folder of its own (``beside``: with the config)."""
    folder = tmp_path / "json-min"
    folder.mkdir()
    records = _json_min(_tasks(real_file(data)), _controls(real_file(config)))
    (folder / "export.json").write_text(json.dumps(records), encoding="utf-8")
    if beside:
        shutil.copy(real_file(config), folder / "config.xml")
    return folder / "export.json"


def _read(path: Path):
    report = ConversionReport(source=str(path))
    return list(get_format(LS).read(path, ConvertOptions(), report).items), report


@requires_real_files
@pytest.mark.parametrize(("data", "config"), _pairs())
def test_json_min_written_here_is_label_studio_converters(data, config, tmp_path):
    converter = pytest.importorskip("label_studio_converter",
                                    reason="label-studio-converter (the JSON_MIN oracle of the dev extra) is not "
                                           "installed")
    source = tmp_path / "tasks.json"  # the converter reads a list of tasks
    source.write_text(json.dumps(_tasks(real_file(data))), encoding="utf-8")
    converter.Converter(str(real_file(config)), project_dir=str(tmp_path)).convert(
        str(source), str(tmp_path / "out"), "JSON_MIN", is_dir=False)
    theirs = json.loads((tmp_path / "out/result.json").read_text(encoding="utf-8"))
    assert theirs == _json_min(_tasks(real_file(data)), _controls(real_file(config)))


def _converted(items) -> list[tuple]:
    """What each annotation but a prediction (JSON_MIN has none) says: item, type, label, geometry, attributes,
    annotator (of a carried result: its value, its region id being made up in JSON_MIN)."""
    out = []
    for collection in items:
        for annotation in collection:
            kept = annotation.metadata["user"][LS]
            if kept["from"] == "predictions":
                continue
            definition = annotation.annotation_definition
            what = (definition.coordinates["value"] if annotation.type.startswith(LS + ".") else
                    repr(definition._geometry_key()))
            out.append((collection.filename, annotation.type, annotation.label, json.dumps(what, sort_keys=True),
                        json.dumps(definition.attributes, sort_keys=True), json.dumps(kept.get("completed_by"))))
    return sorted(out)


@requires_real_files
@pytest.mark.parametrize(("data", "config"), _pairs())
def test_json_min_reads_as_the_json_export_it_was_made_from(data, config, tmp_path):
    original, _ = _read(real_file(data))
    items, report = _read(_export(tmp_path, data, config))
    assert _converted(items) == _converted(original)
    assert report.failed_files == []
    assert [c.filename for c in items] == [c.filename for c in original]
    assert all(c.image_path is None and c.width == o.width for c, o in zip(items, original, strict=True))


@requires_real_files
def test_without_its_config_a_single_choice_stays_task_data(tmp_path):
    data, config = f"{FRONTEND}/image_multilabel/annotations/1.json", f"{FRONTEND}/image_multilabel/config.xml"
    path = _export(tmp_path, data, config, beside=False)
    (record,) = json.loads(path.read_text())
    assert record["choice"] == "Space"  # a bare string: a choice, or task data? Only the config tells
    items, _ = _read(path)
    assert [a.type for a in items[0]] == ["labelstudio.rectanglelabels"]
    assert items[0]._item_json["metadata"]["user"][LS]["task"]["data"]["choice"] == "Space"
    shutil.copy(real_file(config), path.parent / "config.xml")
    items, _ = _read(path)
    assert sorted((a.type, a.label) for a in items[0]) == [("class", "Space"), ("labelstudio.rectanglelabels",
                                                                                 "Planet")]


@requires_real_files
def test_the_annotators_of_a_task_are_one_item_each_kept_apart(tmp_path):
    items, _ = _read(_export(tmp_path, *PAIRS[0]))
    first = items[0]
    records = json.loads((tmp_path / "json-min/export.json").read_text())
    annotators = [r["annotator"] for r in records if r["id"] == records[0]["id"]]
    assert len(annotators) == 2 and len(set(annotators)) == 2
    assert [(a.metadata["user"][LS]["index"], a.metadata["user"][LS]["completed_by"]) for a in first] == [
        (0, annotators[0]), (0, annotators[0]), (1, annotators[1]), (1, annotators[1])]
    groups = first._item_json["metadata"]["user"][LS]["groups"]["annotations"]
    assert [g["id"] for g in groups] == [r["annotation_id"] for r in records if r["id"] == records[0]["id"]]


@pytest.mark.parametrize(("change", "where", "message"), [
    ({"x": "10"}, "/0/label/0/x", "expected a number, got a string"),
    ({"original_width": 0}, "/0/label/0/original_width", "positive whole numbers"),
    ({"points": [[1, 2], [3]]}, "/0/label/0/points/1", "a point must be [x, y]"),
])
def test_a_bad_json_min_value_is_one_line_naming_its_place_in_the_record(tmp_path, cli_runner, change, where,
                                                                          message):
    box = {"x": 10, "y": 10, "width": 20, "height": 20, "rotation": 0, "rectanglelabels": ["a"],
           "original_width": 100, "original_height": 50}
    if "points" in change:
        box = {"points": [[1, 2], [3, 4], [5, 1]], "polygonlabels": ["a"], "original_width": 100,
               "original_height": 50}
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"image": "/data/upload/1/a.png", "id": 1, "label": [{**box, **change}],
                                 "annotator": 1, "annotation_id": 2, "created_at": None, "updated_at": None,
                                 "lead_time": 1.0}]))
    result = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "out"), "--to", "coco"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}:{where}: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_json_min_record_that_is_no_object_is_refused_with_its_place(tmp_path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"image": "a.png", "id": 1, "annotator": 1, "annotation_id": 2}, 7]))
    with pytest.raises(FormatError, match="a JSON_MIN record must be an object") as caught:
        _read(path)
    assert (caught.value.path, caught.value.where) == (str(path), "/1")


def test_a_json_min_export_is_detected_even_past_a_first_record_longer_than_the_head(tmp_path):
    ring = [[50 + 40 * (i % 2), 50 + 40 * ((i // 2) % 2)] for i in range(4)]
    points = [[p[0] + k * 1e-9, p[1]] for k in range(30000) for p in ring][:60000]
    record = {"image": "/data/upload/1/a.png", "id": 1, "label": [{"points": points, "polygonlabels": ["a"]}],
              "annotator": 1, "annotation_id": 2, "created_at": None, "updated_at": None, "lead_time": 1.0}
    path = tmp_path / "export.json"
    path.write_text(json.dumps([record, {**record, "id": 2}]))
    assert path.stat().st_size > 2 * 1024 * 1024  # beyond the head the outline reads
    assert detect(path) == "a Label Studio JSON_MIN export (records with 'annotator' and 'annotation_id')"
    assert detect(tmp_path).startswith("export.json: a Label Studio JSON_MIN export")


@requires_real_files
def test_a_real_export_as_json_min_converts_to_coco_without_from_as_its_json_does(tmp_path, cli_runner):
    from pycocotools.coco import COCO

    path = _export(tmp_path, EXPORT, PAIRS[0][1], beside=False)  # its control is also "label"
    result = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "coco"), "--to", "coco"])
    assert result.exit_code == 0, result.output
    Converter().run(real_file(EXPORT), LS, tmp_path / "from-json", "coco")
    ours = COCO(str(tmp_path / "coco/coco.json"))
    theirs = COCO(str(tmp_path / "from-json/coco.json"))
    assert len(ours.getAnnIds()) == len(theirs.getAnnIds()) == 24
    assert [a["bbox"] for a in ours.loadAnns(ours.getAnnIds())] == [
        a["bbox"] for a in theirs.loadAnns(theirs.getAnnIds())]
    assert [i["file_name"] for i in ours.loadImgs(ours.getImgIds())] == [
        i["file_name"] for i in theirs.loadImgs(theirs.getImgIds())]


def _via() -> list:
    if not AVAILABLE:
        return NO_REAL_FILES
    return [pytest.param(via, id=via) for via in FORMATS]


@requires_real_files
@pytest.mark.parametrize("via", _via())
def test_verify_agrees_from_json_min_via_every_format(via, tmp_path):
    _agree(verify(_export(tmp_path, *PAIRS[1]), LS, via))
