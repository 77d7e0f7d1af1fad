"""``dlconvert download`` takes what ``dlp items download`` takes: views (``--view``/``--annotation-options``),
item filters (``--remote-path``, ``--filters``) and annotation filters (``--annotation-filter-type``,
``--annotation-filter-label``); its destination follows the rule of every dlconvert output.

Each download is compared with what dlconvert does to the sample's export folder locally: the same
conversion with the same items and annotations, and the pictures ``dlconvert render`` draws.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from platform_support import FAST, _calls, _new_dataset, _no_faults_left, _tree, dl, sample_remote, server

from dlconvert.converter import Converter
from dlconvert.errors import OptionError, OutputError
from dlconvert.formats.dataloop import read_dataloop
from dlconvert.platform import convert_dataset, download_dataset
from dlconvert.render.batch import render_source

FIXTURES = (dl, server, _no_faults_left, sample_remote)  # pytest finds them by name


@pytest.fixture
def cli(cli_runner, server):
    from dlconvert.cli import _Group
    from dlconvert.cli.platform import download

    group = _Group(commands=[download])
    env = {"DTLPY_API_KEY": server.issue_token(), "DTLPY_ENV": server.url}

    def invoke(*args: str):
        return cli_runner.invoke(group, ["download", *args, "--attempts", "3", "--backoff", "0.01"], env=env)

    return invoke


def _local(sample_dir: Path, dst: Path, fmt: str = "dataloop", **hooks) -> Path:
    Converter().run(sample_dir, "dataloop", dst, fmt, **hooks)
    return dst


def _items(folder: Path) -> dict[str, list[tuple[str, str]]]:
    return {c.filename: sorted((a.type, a.label) for a in c) for c in read_dataloop(folder)}


def _pictures(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in _tree(root).items() if k.split("/")[0] in ("mask", "instance", "object_id", "img_mask")}


# ==== views ========================================================================================
def test_views_are_rendered_beside_the_json_as_render_draws_them(cli, sample_remote, sample_dir, tmp_path):
    out = tmp_path / "out"
    result = cli("--dataset-id", sample_remote.id, str(out), "--annotation-options", "json,mask,instance",
                 "--view", "overlay", "--thickness", "2")
    assert result.exit_code == 0, result.output
    local = _local(sample_dir, tmp_path / "local")
    assert {k: v for k, v in _tree(out).items() if k.startswith("json/")} == {
        k: v for k, v in _tree(local).items() if k.startswith("json/")}
    render_source(sample_dir, "dataloop", tmp_path / "rendered", ["mask", "instance", "overlay"], thickness=2)
    pictures = _pictures(out)
    assert pictures and pictures == _pictures(tmp_path / "rendered")
    assert {p.split("/")[0] for p in pictures} == {"mask", "instance", "img_mask"}
    manifest = json.loads((out / ".dlconvert-output.json").read_text())
    assert set(manifest["files"]) == {k for k in _tree(out) if k != ".dlconvert-output.json"}


def test_views_go_beside_any_format(cli, sample_remote, sample_dir, tmp_path):
    result = cli("--dataset-id", sample_remote.id, "--to", "coco", str(tmp_path / "out"), "--view", "object_id")
    assert result.exit_code == 0, result.output
    local = _local(sample_dir, tmp_path / "local", "coco")
    assert {k: v for k, v in _tree(tmp_path / "out").items() if not k.startswith(("object_id/", "."))} == {
        k: v for k, v in _tree(local).items() if not k.startswith(".")}
    assert any(k.startswith("object_id/") for k in _tree(tmp_path / "out"))


@pytest.mark.parametrize(("args", "message"), [
    (["--with-text"], "apply to pictures"),
    (["--view", "mask", "--thickness", "0"], "thickness"),
    (["--view", "json", "--to", "coco"], "--view json"),
    (["--view", "mask", "--allow-missing-images"], "overlay"),
    (["--view", "picture"], "'picture' is not one of"),
    (["--filters", "[1, 2]"], "JSON object"),
    (["--filters", "{not json"], "not JSON"),
    (["--to", "coco", "--task", "obb"], "--task"),
])
def test_options_that_do_not_apply_are_refused_before_anything_is_downloaded(args, message, cli, server,
                                                                             sample_remote, tmp_path):
    start = len(server.log)
    result = cli("--dataset-id", sample_remote.id, str(tmp_path / "out"), *args)
    assert result.exit_code == 2 and message in result.output
    assert _calls(server, start, "POST", r"/export$|/query$") == 0 and not (tmp_path / "out").exists()


# ==== filters ======================================================================================
def test_annotation_filters_select_types_and_labels_on_the_server(cli, sample_remote, sample_dir, tmp_path):
    result = cli("--dataset-id", sample_remote.id, str(tmp_path / "out"), "--annotation-filter-type", "box,segment",
                 "--annotation-filter-label", "vehicle.car", "--annotation-filter-label", "person")
    assert result.exit_code == 0, result.output
    local = _local(sample_dir, tmp_path / "local",
                   annotation_filter=lambda a: a.type in ("box", "segment") and a.label in ("vehicle.car", "person"))
    assert _items(tmp_path / "out") == _items(local) and any(_items(local).values())


@pytest.mark.parametrize(("args", "selected"), [
    (["--remote-path", "/street"], {"/street/scene_01.png", "/street/scene_02.jpg"}),
    (["--remote-path", "/street/scene_01.png,/animals"], {"/street/scene_01.png", "/animals/empty_01.png"}),
    (["--remote-path", "/street/*.jpg"], {"/street/scene_02.jpg"}),
    (["--filters", '{"dir": "/street"}'], {"/street/scene_01.png", "/street/scene_02.jpg"}),
    (["--filters", '{"filter": {"dir": {"$in": ["/video", "/audio"]}}}'],
     {"/video/traffic.mp4", "/audio/conversation.wav"}),
    (["--filters", '{"dir": "/street"}', "--remote-path", "/street/scene_02.jpg,/animals"],
     {"/street/scene_02.jpg"}),
])
def test_item_filters_select_on_the_server(args, selected, cli, sample_remote, sample_dir, tmp_path):
    result = cli("--dataset-id", sample_remote.id, str(tmp_path / "out"), *args)
    assert result.exit_code == 0, result.output
    local = _local(sample_dir, tmp_path / "local", item_filter=lambda c: c.filename in selected)
    assert _items(tmp_path / "out") == {k: v for k, v in _items(local).items() if k in selected}
    assert set(_items(tmp_path / "out")) == selected


# ==== the destination ==============================================================================
def test_a_folder_holding_other_files_is_refused_before_anything_is_downloaded(cli, server, sample_remote,
                                                                               tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    start = len(server.log)
    for overwrite in ([], ["--overwrite"]):
        result = cli("--dataset-id", sample_remote.id, str(out), *overwrite)
        assert result.exit_code == 1 and "did not write" in result.stderr
    assert _calls(server, start, "POST", r"/export$|/query$") == 0
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_previous_download_is_replaced_only_with_overwrite(sample_remote, tmp_path):
    out = tmp_path / "out"
    convert_dataset(Converter(), sample_remote, "coco", out, retry=FAST)
    first = _tree(out)
    with pytest.raises(OutputError, match="not empty"):
        convert_dataset(Converter(), sample_remote, "coco", out, retry=FAST)
    download_dataset(Converter(), sample_remote, out, to_format="coco", views=["mask"], retry=FAST, overwrite=True)
    again = _tree(out)
    assert {k: v for k, v in again.items() if not k.startswith(("mask/", "."))} == {
        k: v for k, v in first.items() if not k.startswith(".")}
    assert any(k.startswith("mask/") for k in again)


def test_an_empty_dataset_downloads_to_an_output_that_reads_back(cli, server, dl, tmp_path):
    dataset = _new_dataset(server, dl, "nothing")
    result = cli("--dataset-id", dataset.id, str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert list(read_dataloop(tmp_path / "out")) == []
    again = Converter().run(tmp_path / "out", "dataloop", tmp_path / "again", "dataloop")
    assert (again.items_in, again.items_out) == (0, 0)


def test_python_hooks_and_views_are_not_mixed(sample_remote, tmp_path):
    with pytest.raises(OptionError, match="views"):
        download_dataset(Converter(), sample_remote, tmp_path / "out", views=["mask"],
                         annotation_filter=lambda a: a.type == "box", retry=FAST)
    assert not (tmp_path / "out").exists()
