"""The platform connector with the real Dataloop SDK against the offline server (``FakeDataloop``).

* Download: the bundled sample, seeded into the server as it is, converts to every format with
  the bytes (and report) of converting the sample's export folder locally — also through SDK
  filters, per-item listing, a failing or silently short export, and injected faults.
* Upload: COCO, YOLO, VOC, VTT and Dataloop sources (made from the sample, plus real fixtures)
  upload and download back with the same annotations as reading the local files; re-runs upload
  nothing twice; duplicates are cleaned; faults end in the expected server state; persistent
  failures are reported per item and make the CLI exit 1.

The fixtures and helpers are in ``platform_support.py``.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest
from platform_support import (
    ALL_FAULTS,
    FAST,
    UPLOADABLE,
    WRITABLE,
    _calls,
    _downloaded,
    _new_dataset,
    _no_faults_left,
    _read_local,
    _report_json,
    _server_state,
    _tree,
    dl,
    local_outputs,
    sample_remote,
    server,
    sources,
)

from dlconvert import PlatformError
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.formats import get_format
from dlconvert.formats.dataloop import read_dataloop
from dlconvert.labels import LabelMap
from dlconvert.platform import convert_dataset, fetch_label_map, upload_local_dataset
from dlconvert.report import ConversionReport
from dlconvert.testing import Fault, make_token

FIXTURES = (dl, server, _no_faults_left, sample_remote, local_outputs, sources)  # pytest finds them by name


# ==================================================================================================
# download
# ==================================================================================================
@pytest.mark.parametrize("fmt", WRITABLE)
def test_sample_downloads_to_the_bytes_of_a_local_conversion(fmt, sample_remote, local_outputs, tmp_path):
    report = convert_dataset(Converter(), sample_remote, fmt, tmp_path / fmt, retry=FAST)
    local_dir, local_report = local_outputs[fmt]
    assert _tree(tmp_path / fmt) == _tree(local_dir)
    assert _report_json(report) == _report_json(local_report)


def test_label_map_keeps_the_ontology_colours_instance_ids_and_templates(sample_remote, sample_dir):
    remote = fetch_label_map(sample_remote, FAST)
    local = LabelMap.load(sample_dir / "ontology.json")
    assert remote.to_json() == local.to_json()
    assert remote["vehicle.car"].color == (0xE6, 0x19, 0x4B) and "person_skeleton" in {
        t.name for t in remote.templates.values()}


def test_export_is_used_when_there_is_no_annotation_filter(server, sample_remote, tmp_path):
    start = len(server.log)
    convert_dataset(Converter(), sample_remote, "coco", tmp_path / "coco", retry=FAST)
    assert _calls(server, start, "POST", r"/export$") == 1
    assert _calls(server, start, "GET", r"/stream$") == 1  # the export file only, no image


def test_sdk_filters_select_on_the_server(dl, server, sample_remote, sample_dir, tmp_path):
    items = dl.Filters(field="dir", values="/street")
    annotations = dl.Filters(resource=dl.FiltersResource.ANNOTATION, field="label", values="vehicle.car")
    start = len(server.log)
    remote = convert_dataset(Converter(), sample_remote, "coco", tmp_path / "remote", filters=items,
                             annotation_filter=annotations, retry=FAST)
    assert _calls(server, start, "POST", r"/export$") == 0  # per item, as the annotation filter asks
    local = Converter().run(sample_dir, "dataloop", tmp_path / "local", "coco",
                            item_filter=lambda c: c.filename.startswith("/street/"),
                            annotation_filter=lambda a: a.label == "vehicle.car")
    assert _tree(tmp_path / "remote") == _tree(tmp_path / "local")
    assert remote.items_in == 2 and sum(remote.annotations_out.values()) == sum(local.annotations_out.values())


def test_listings_that_span_pages_are_complete(dl, sample_remote, local_outputs, tmp_path):
    filters = dl.Filters()
    filters.page_size = 2  # five items: three pages, walked by id as the SDK does
    convert_dataset(Converter(), sample_remote, "coco", tmp_path / "coco", filters=filters, retry=FAST)
    assert _tree(tmp_path / "coco") == _tree(local_outputs["coco"][0])


def test_python_predicates_are_applied_locally_and_reported(sample_remote, tmp_path):
    report = convert_dataset(Converter(), sample_remote, "dataloop", tmp_path / "out",
                             annotation_filter=lambda a: a.type != "box", retry=FAST)
    skipped = [i for i in report.issues if i.code == "filter.annotation"]
    assert skipped and all(i.annotation_type == "box" for i in skipped)
    assert not report.unbalanced()


def test_images_without_a_size_in_their_metadata_are_downloaded_for_it(dl, server, sample_dir, tmp_path):
    dataset = server.create_dataset("sizeless")
    server.compute_image_size = False
    try:
        for name in ("street/scene_01.png", "street/scene_02.jpg"):
            data = (sample_dir / "items" / name).read_bytes()
            item = server.add_item(dataset["id"], "/" + name, data)
            annotations = json.loads((sample_dir / "json" / name).with_suffix(".json").read_text())["annotations"]
            server.add_annotations(item["id"], annotations, keep_ids=False)
    finally:
        server.compute_image_size = True
    start = len(server.log)
    report = convert_dataset(Converter(), dl.datasets.get(dataset_id=dataset["id"]), "yolo", tmp_path / "yolo",
                             retry=FAST)
    assert _calls(server, start, "GET", r"/stream$") == 3  # the export file and the two images
    assert not [i for i in report.issues if i.code == "yolo.no-image-size"]
    assert sorted(p.name for p in (tmp_path / "yolo" / "labels").rglob("*.txt")) == ["scene_01.txt", "scene_02.txt"]
    convert_dataset(Converter(), dl.datasets.get(dataset_id=dataset["id"]), "dataloop", tmp_path / "json",
                    retry=FAST)
    sizes = {c.filename: (c.width, c.height) for c in read_dataloop(tmp_path / "json")}
    assert sizes == {"/street/scene_01.png": (320, 240), "/street/scene_02.jpg": (320, 240)}


def test_an_export_that_silently_misses_items_is_completed(server, sample_remote, local_outputs, tmp_path):
    # The SDK swallows a failed count query and exports nothing (Filters._get_first_last_item).
    server.faults = [Fault(rate=1.0, kinds=("error",), method="POST", path=r"/query$", body=r'"pageSize": 1\b',
                           limit=2)]
    start = len(server.log)
    report = convert_dataset(Converter(), sample_remote, "coco", tmp_path / "coco", retry=FAST)
    assert [r.fault for r in server.log[start:] if r.fault] == ["error", "error"]
    # The first try exported nothing (its count queries failed); the check against the listing ran it again.
    assert _calls(server, start, "POST", r"/export$") == 1
    assert _tree(tmp_path / "coco") == _tree(local_outputs["coco"][0]) and not report.failed_files


def test_a_failing_export_falls_back_to_listing_each_item(server, sample_remote, local_outputs, tmp_path):
    server.faults = [Fault(rate=1.0, kinds=("error",), path=r"/export$")]
    start = len(server.log)
    report = convert_dataset(Converter(), sample_remote, "voc", tmp_path / "voc", retry=FAST)
    assert _calls(server, start, "POST", r"/export$") == FAST.attempts
    assert _tree(tmp_path / "voc") == _tree(local_outputs["voc"][0]) and not report.failed_files


@pytest.mark.parametrize("seed", [21, 22])
def test_download_with_faults_loses_nothing(seed, server, sample_remote, local_outputs, tmp_path):
    server.rng.seed(seed)
    server.faults = [Fault(rate=0.35, kinds=ALL_FAULTS, status=(500, 502, 503), stall=0.8)]
    start = len(server.log)
    report = convert_dataset(Converter(), sample_remote, "coco", tmp_path / "coco", retry=FAST)
    assert any(r.fault for r in server.log[start:])
    assert _tree(tmp_path / "coco") == _tree(local_outputs["coco"][0])
    assert _report_json(report) == _report_json(local_outputs["coco"][1])


def test_download_reports_an_item_that_keeps_failing(server, sample_remote, tmp_path):
    broken = "65f0c0dea000000000000002"  # /street/scene_02.jpg
    server.faults = [Fault(rate=1.0, kinds=("error",), path=r"/export$"),
                     Fault(rate=1.0, kinds=("error",), path=r"/query$", body=broken)]
    report = convert_dataset(Converter(), sample_remote, "dataloop", tmp_path / "out", retry=FAST)
    assert [(i.code, i.item) for i in report.failed_files] == [("platform.download-failed", "/street/scene_02.jpg")]
    assert report.items_in == 4 and not (tmp_path / "out" / "json" / "street" / "scene_02.json").exists()


def test_convert_dataset_refuses_what_is_not_a_dataset(dl, tmp_path):
    with pytest.raises(PlatformError, match="dtlpy Dataset"):
        convert_dataset(Converter(), "not-a-dataset", "coco", tmp_path / "out")


# ==================================================================================================
# upload
# ==================================================================================================


@pytest.mark.parametrize("fmt", UPLOADABLE)
def test_upload_then_download_gives_the_local_annotations(fmt, server, dl, sources, tmp_path):
    src, items = sources[fmt]
    dataset = _new_dataset(server, dl, f"up-{fmt}")
    report = upload_local_dataset(Converter(concurrency=2), fmt, dataset, local_items_path=items,
                                  local_annotations_path=src, retry=FAST)
    local = _read_local(fmt, src, items)
    assert report.count("uploaded") == len(local) and not report.failed_items and not report.unbalanced()
    assert all(o.item_uploaded for o in report.items)
    assert _downloaded(dataset, tmp_path) == local
    used = {json.loads(a)["label"] for contents in local.values() for a in contents} - {None}
    assert used <= set(server.label_names(dataset.id))


def _fixture_items(fmt: str, src: Path, root: Path) -> Path:
    """Files for every item a real fixture names: images of the size it gives, bytes for media."""
    from PIL import Image

    items = root / "items"
    for collection in get_format(fmt).read(src, ConvertOptions(), ConversionReport()).items:
        target = items / collection.filename.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if (collection.mimetype or "").startswith("image/"):
            size = (collection.width or 64, collection.height or 48)
            kind = "JPEG" if target.suffix.lower() in (".jpg", ".jpeg") else "PNG"
            Image.new("RGB", size, (40, 90, 160)).save(target, kind)
        else:
            target.write_bytes(b"not really media, but the platform stores any bytes")
    return items


@pytest.mark.parametrize(("fmt", "path"), [
    ("coco", "coco/mmdetection/coco_sample.json"),
    ("voc", "voc/icevision/fridge/annotations"),
    ("vtt", "vtt/dtlpy-converters/conversation.vtt"),
    ("yolo", "yolo"),
])
def test_real_fixtures_upload_and_come_back_the_same(fmt, path, server, dl, fixtures_dir, tmp_path):
    src = fixtures_dir / path
    if not src.exists() or fmt not in UPLOADABLE:
        pytest.skip(f"no {fmt} fixture yet")
    if fmt == "yolo":
        candidates = sorted(src.rglob("data.yaml"))
        if not candidates:
            pytest.skip("no YOLO fixture with a data.yaml yet")
        src = candidates[0].parent
        items = get_format("yolo").read(src, ConvertOptions(), ConversionReport()).images_root
    else:
        items = _fixture_items(fmt, src, tmp_path)
    dataset = _new_dataset(server, dl, f"fixture-{fmt}")
    report = upload_local_dataset(Converter(concurrency=2), fmt, dataset, local_items_path=items,
                                  local_annotations_path=src, remote_items=False if items else None, retry=FAST)
    assert not report.failed_items, [str(o) for o in report.failed_items]
    assert _downloaded(dataset, tmp_path) == _read_local(fmt, src, items)


def test_rerunning_an_upload_uploads_nothing_twice(server, dl, sources):
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "rerun")
    first = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                 local_annotations_path=src, retry=FAST)
    state = _server_state(server, dataset.id)
    start = len(server.log)
    again = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                 local_annotations_path=src, retry=FAST)
    assert first.count("uploaded") == 5 and again.count("skipped") == 5
    assert sum(o.uploaded for o in again.items) == 0 and not again.labels_added
    assert _calls(server, start, "POST", r"/annotations$|/items$") == 0
    assert _server_state(server, dataset.id) == state
    assert not again.unbalanced() and sum(again.annotations_out.values()) == 22


def test_duplicates_are_deleted_other_annotations_kept_unless_overwrite(server, dl, sources):
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "dupes")
    upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items, local_annotations_path=src,
                         retry=FAST)
    expected = _server_state(server, dataset.id)
    item = server.item_by_path(dataset.id, "/street/scene_01.png")
    box = next(a for a in server.item_annotations_json(item["id"]) if a["type"] == "box")
    server.add_annotations(item["id"], [box], keep_ids=False)  # a duplicate
    foreign = {"type": "point", "label": "lane", "coordinates": {"x": 1, "y": 2, "z": 0}, "metadata": {}}
    server.add_annotations(item["id"], [foreign], keep_ids=False)

    report = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, retry=FAST)
    outcome = next(o for o in report.items if o.item == "/street/scene_01.png")
    assert (outcome.status, outcome.deleted, outcome.uploaded) == ("uploaded", 1, 0)
    kept = server.item_annotations_json(item["id"])
    assert len(kept) == 10 and any(a["type"] == "point" and a["label"] == "lane" for a in kept)

    report = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, overwrite=True, retry=FAST)
    assert next(o for o in report.items if o.item == "/street/scene_01.png").deleted == 1
    assert _server_state(server, dataset.id) == expected


def test_labels_are_added_first_with_the_label_map_colours(server, dl, sources):
    src, items = sources["coco"]
    dataset = _new_dataset(server, dl, "labels")
    start = len(server.log)
    report = upload_local_dataset(Converter(), "coco", dataset, local_items_path=items,
                                  local_labels_path=src / "labelmap.json", local_annotations_path=src, retry=FAST)
    requests = [(r.method, r.path) for r in server.log[start:]]
    patch = next(i for i, (m, p) in enumerate(requests) if m == "PATCH" and p.endswith("/labels"))
    first_annotation = next(i for i, (m, p) in enumerate(requests) if m == "POST" and p.endswith("/annotations"))
    assert patch < first_annotation
    assert sorted(report.labels_added) == server.label_names(dataset.id)
    ontology = server.ontology_json(dataset.id)
    colors = {node["value"]["tag"]: node["value"]["color"] for node in ontology["roots"]}
    assert colors["person"] == "#ffe119"  # the sample's colour, from the label map given


def test_missing_images_and_items_are_reported_per_item(server, dl, sources, tmp_path):
    src, items = sources["coco"]
    partial = tmp_path / "items"
    for name in ("street/scene_01.png", "animals/empty_01.png"):
        (partial / name).parent.mkdir(parents=True, exist_ok=True)
        (partial / name).write_bytes((items / name).read_bytes())
    dataset = _new_dataset(server, dl, "missing")
    report = upload_local_dataset(Converter(), "coco", dataset, local_items_path=partial,
                                  local_annotations_path=src, retry=FAST)
    failed = {o.item: o.code for o in report.failed_items}
    named = {c.filename for c in get_format("coco").read(src, ConvertOptions(), ConversionReport()).items}
    present = {"/street/scene_01.png", "/animals/empty_01.png"}
    assert failed == {name: "platform.image-missing" for name in named - present}
    assert "/street/scene_02.jpg" in failed and report.count("uploaded") == 2 and not report.unbalanced()
    assert {i.item for i in report.failed_files} == set(failed)

    fresh = _new_dataset(server, dl, "no-remote")
    report = upload_local_dataset(Converter(), "coco", fresh, local_annotations_path=src, retry=FAST)
    assert {o.code for o in report.items} == {"platform.no-remote-item"}


def test_annotations_go_to_existing_items_without_local_images(server, dl, sources, sample_dir, tmp_path):
    src, _ = sources["voc"]
    dataset = _new_dataset(server, dl, "remote-items")
    for name in ("street/scene_01.png", "street/scene_02.jpg", "animals/empty_01.png"):
        server.add_item(dataset.id, "/" + name, (sample_dir / "items" / name).read_bytes())
    start = len(server.log)
    report = upload_local_dataset(Converter(), "voc", dataset, local_annotations_path=src, retry=FAST)
    assert report.count("uploaded") == 2 and report.count("skipped") == 1 and not report.failed_items
    assert _calls(server, start, "POST", r"/items$") == 0
    assert _downloaded(dataset, tmp_path) == _read_local("voc", src, None)


def test_only_bbox_uploads_boxes(server, dl, sources, tmp_path):
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "boxes")
    report = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, only_bbox=True, retry=FAST)
    assert not report.unbalanced() and not report.failed_items
    codes = Counter((i.kind, i.annotation_type) for i in report.issues if i.code == "platform.only-bbox")
    assert codes[("approximated", "segment")] and codes[("skipped", "point")]
    types = {a["type"] for i in server.dataset_items(dataset.id, with_annotations=True) for a in i["annotations"]}
    assert types == {"box"}


def test_snapshot_encoding_equals_the_sdks(dl, sample_dir):
    from dtlpy.repositories.annotations import Annotations

    from dlconvert.platform.fingerprints import sdk_encoded_snapshots

    video = json.loads((sample_dir / "json" / "video" / "traffic.json").read_text())
    for annotation in video["annotations"]:
        ours = sdk_encoded_snapshots(annotation)
        theirs = Annotations._annotation_encoding(copy.deepcopy(annotation))["metadata"]["system"]["snapshots_"]
        assert ours == theirs


# -- faults ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [31, 32])
def test_upload_with_faults_ends_in_the_expected_state(seed, server, dl, sources):
    src, items = sources["dataloop"]
    reference = _new_dataset(server, dl, f"reference-{seed}")
    upload_local_dataset(Converter(), "dataloop", reference, local_items_path=items, local_annotations_path=src,
                         retry=FAST)
    dataset = _new_dataset(server, dl, f"faulty-{seed}")
    server.rng.seed(seed)
    server.faults = [Fault(rate=0.3, kinds=ALL_FAULTS, status=(500, 502, 503), stall=0.8)]
    start = len(server.log)
    report = upload_local_dataset(Converter(concurrency=1), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, retry=FAST)
    server.faults = []
    assert any(r.fault for r in server.log[start:]) and not report.failed_items, [str(o) for o in report.failed_items]
    assert _server_state(server, dataset.id) == _server_state(server, reference.id)


def test_a_lost_answer_does_not_leave_duplicates(server, dl, sources):
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "lost-answer")
    # The server stores the annotations, then the connection drops: the SDK's request retry posts again.
    server.faults = [Fault(rate=1.0, kinds=("drop-after",), method="POST", path=r"/annotations$", limit=2)]
    start = len(server.log)
    report = upload_local_dataset(Converter(concurrency=1), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, retry=FAST)
    assert len([r for r in server.log[start:] if r.fault == "drop-after"]) == 2 and not report.failed_items
    assert sum(o.deleted for o in report.items) >= 1  # the second copies were found and removed
    assert sum(len(server.item_annotations_json(o.item_id)) for o in report.items) == 22


def test_a_persistent_failure_is_reported_and_a_rerun_picks_up(server, dl, sources):
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "persistent")
    upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items, local_annotations_path=src,
                         remote_items=False, retry=FAST)
    for item in server.dataset_items(dataset.id):
        for annotation in server.item_annotations_json(item["id"]):
            server._delete_annotation(annotation["id"])
    broken = server.item_by_path(dataset.id, "/street/scene_02.jpg")["id"]
    server.faults = [Fault(rate=1.0, kinds=("error",), method="POST", path=rf"/items/{broken}/annotations$")]
    report = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, retry=FAST)
    assert [(o.item, o.status, o.code) for o in report.failed_items] == [
        ("/street/scene_02.jpg", "failed", "platform.upload-failed")]
    assert report.count("uploaded") == 3 and report.skipped and not report.unbalanced()
    server.faults = []
    again = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                 local_annotations_path=src, retry=FAST)
    assert {o.item: o.status for o in again.items} == {
        "/animals/empty_01.png": "skipped", "/audio/conversation.wav": "skipped", "/street/scene_01.png": "skipped",
        "/street/scene_02.jpg": "uploaded", "/video/traffic.mp4": "skipped"}
    assert len(server.item_annotations_json(broken)) == 8


# ==================================================================================================
# the command line
# ==================================================================================================
@pytest.fixture
def cli(cli_runner):
    from dlconvert.cli import _Group
    from dlconvert.cli.platform import download, upload

    group = _Group(commands=[download, upload])

    def invoke(args: list[str], env: dict[str, str]):
        return cli_runner.invoke(group, args, env=env)

    return invoke


def test_cli_download_with_an_api_key(cli, server, sample_remote, local_outputs, tmp_path):
    env = {"DTLPY_API_KEY": server.issue_token(), "DTLPY_ENV": server.url}
    result = cli(["download", "--dataset-id", sample_remote.id, "--to", "coco", str(tmp_path / "out"),
                  "--report", str(tmp_path / "report.json"), "--attempts", "3", "--backoff", "0.01"], env)
    assert result.exit_code == 0, result.output
    assert _tree(tmp_path / "out") == _tree(local_outputs["coco"][0])
    assert json.loads((tmp_path / "report.json").read_text())["balanced"] is True
    result = cli(["download", "--dataset-id", sample_remote.id, "--to", "coco", str(tmp_path / "out")], env)
    assert result.exit_code == 1 and "not empty" in result.stderr


def test_cli_upload_with_an_m2m_login_then_a_safe_rerun(cli, server, dl, sources, tmp_path):
    server.users["bot@example.com"] = "s3cret"
    env = {"DTLPY_EMAIL": "bot@example.com", "DTLPY_PASSWORD": "s3cret", "DTLPY_ENV": server.url}
    src, items = sources["coco"]
    dataset = _new_dataset(server, dl, "cli-upload")
    args = ["upload", str(src), "--from", "coco", "--dataset-id", dataset.id, "--items", str(items),
            "--report", str(tmp_path / "report.json"), "--backoff", "0.01", "--timeout", "2"]
    result = cli(args, env)
    assert result.exit_code == 0, result.output
    assert dl.client_api.info()["user_email"] == "bot@example.com"
    saved = json.loads((tmp_path / "report.json").read_text())
    items = len(_read_local("coco", src, items))  # the items COCO holds (images only)
    assert saved["outcomes"] == {"uploaded": items, "skipped": 0, "failed": 0}
    result = cli(args, env)
    assert result.exit_code == 0 and f"0 uploaded, {items} skipped" in result.stderr


def test_cli_exits_1_on_a_persistent_failure(cli, server, dl, sources, sample_remote, tmp_path):
    env = {"DTLPY_API_KEY": server.issue_token(), "DTLPY_ENV": server.url}
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "cli-failure")
    server.faults = [Fault(rate=1.0, kinds=("error",), method="POST", path=r"/datasets/[0-9a-f]+/items$",
                           body="scene_01")]
    result = cli(["upload", str(src), "--from", "dataloop", "--dataset-id", dataset.id, "--items", str(items),
                  "--attempts", "2", "--backoff", "0.01", "--timeout", "1"], env)
    assert result.exit_code == 1
    assert "failed: /street/scene_01.png: platform.item-upload-failed" in result.stderr
    assert "4 uploaded, 0 skipped (already there), 1 failed" in result.stderr

    server.faults = [Fault(rate=1.0, kinds=("error",), path=r"/export$"),
                     Fault(rate=1.0, kinds=("error",), path=r"/query$", body="65f0c0dea000000000000003")]
    result = cli(["download", "--dataset-id", sample_remote.id, "--to", "dataloop", str(tmp_path / "down"),
                  "--attempts", "2", "--backoff", "0.01"], env)
    assert result.exit_code == 1 and "platform.download-failed" in result.stderr


@pytest.mark.parametrize(("env", "args", "message"), [
    ({"DTLPY_API_KEY": make_token("intruder@example.com", secret=b"other")}, [], "Invalid API key"),
    ({}, ["--dataset-id", "6affffffffffffffffffffff"], "cannot get dataset 6affffffffffffffffffffff"),
    ({"DTLPY_ENV": "no-such-environment"}, [], "unknown Dataloop environment"),
])
def test_cli_login_and_lookup_errors_are_one_line(env, args, message, cli, server, sample_remote, dl, tmp_path):
    token = dl.client_api.token
    env = {"DTLPY_ENV": server.url, **env}
    result = cli(["download", *(args or ["--dataset-id", sample_remote.id]), "--to", "coco", str(tmp_path / "o"),
                  "--attempts", "1"], env)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr
    assert dl.client_api.token == token  # a rejected key does not replace the saved login
    dl.setenv(server.url)


def test_the_commands_have_help(cli):
    for name in ("download", "upload"):
        result = cli([name, "--help"], {})
        assert result.exit_code == 0 and "--dataset-id" in result.output and "--attempts" in result.output


def test_the_sdk_home_is_isolated(dl):
    from dtlpy.services import service_defaults

    home = Path(service_defaults.DATALOOP_PATH).resolve()
    assert home != (Path.home() / ".dataloop").resolve()
