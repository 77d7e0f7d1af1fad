"""Per-item work on worker processes and on a Dask cluster: the output is the same bytes as one process.

Shards are made tiny here (``MIN_SHARD = 1``) so that the small real fixtures are cut into many
shards and every merge path (reports, COCO records, YOLO splits, VOC item lists) is exercised.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest
import yaml
from columnar_support import same_tree
from realfiles import requires_real_files

from dlconvert import Converter, ConvertOptions, LabelMap, parallel
from dlconvert.errors import DlconvertError
from dlconvert.render.batch import render_source

COCO_FILES = ["coco/icevision/annotations.json", "dataloop/dtlpy-converters-examples/coco/coco/annotations.json",
              "coco/icevision/keypoints_annotations.json",
              "coco/mmdetection/coco_dummy/annotations/instances_val2017.json"]
DATALOOP_FOLDERS = ["dataloop/dtlpy-documentation/FruitImage", "dataloop/dtlpy-documentation/SheepFace"]
TARGETS = [("coco", {}), ("dataloop", {}), ("voc", {}), ("yolo", {"yolo_task": "detect"}),
           ("yolo", {"yolo_task": "segment"})]


@pytest.fixture(autouse=True)
def tiny_shards(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)


def _report_facts(report) -> dict:
    facts = report.to_json()
    facts.pop("outputs")
    for key in ("annotations_in", "annotations_out", "skipped", "labels_in", "labels_out"):
        facts[key] = {k: v for k, v in facts[key].items() if v}  # a shard may leave a zero count behind
    return facts


def _convert(src: Path, source: str, dst: Path, target: str, workers: int, on_error: str = "skip", **options):
    converter = Converter(concurrency=workers, on_error=on_error, options=ConvertOptions(**options))
    return converter.run(src, source, dst, target, overwrite=True)


def _sources(fixtures_dir: Path, sample_dir: Path) -> list[tuple[Path, str]]:
    coco = [(fixtures_dir / f, "coco") for f in COCO_FILES]
    return [*coco, *((fixtures_dir / f, "dataloop") for f in DATALOOP_FOLDERS), (sample_dir, "dataloop")]


@requires_real_files
@pytest.mark.parametrize("target, options", TARGETS, ids=[f"{t}-{o.get('yolo_task', '')}" for t, o in TARGETS])
def test_two_workers_write_the_same_bytes_and_report_as_one(target, options, fixtures_dir, sample_dir, tmp_path):
    for n, (src, source) in enumerate(_sources(fixtures_dir, sample_dir)):
        one = _convert(src, source, tmp_path / f"one{n}", target, 1, **options)
        two = _convert(src, source, tmp_path / f"two{n}", target, 2, **options)
        same_tree(tmp_path / f"one{n}", tmp_path / f"two{n}")
        assert _report_facts(two) == _report_facts(one), src
        assert not two.unbalanced()


@requires_real_files
def test_the_shards_really_run_in_other_processes(fixtures_dir, tmp_path, monkeypatch):
    """The parallel path is taken (not silently the sequential one): a pool is made and each shard is a task."""
    made, calls = [], []
    real_pool, real_map = parallel.worker_pool, parallel.map_in_order

    def counting_pool(workers):
        made.append(workers)
        return real_pool(workers)

    def counting_map(executor, fn, tasks, window):
        tasks = list(tasks)
        calls.append(len(tasks))
        return real_map(executor, fn, tasks, window)

    monkeypatch.setattr(parallel, "worker_pool", counting_pool)
    monkeypatch.setattr(parallel, "map_in_order", counting_map)
    _convert(fixtures_dir / COCO_FILES[0], "coco", tmp_path / "out", "voc", 2)
    assert made == [2] and calls and calls[0] > 2


@requires_real_files
def test_a_label_missing_from_the_label_map_falls_back_to_one_pass(fixtures_dir, tmp_path):
    """YOLO class numbers follow the order labels are met: with a source's own label map that lacks some,
    a shard cannot decide them, one pass does (and appends them)."""
    src = tmp_path / "export"
    shutil.copytree(fixtures_dir / DATALOOP_FOLDERS[0], src)
    LabelMap.from_names(["apple"]).save(src / "labelmap.json")  # the export has more labels than this
    one = _convert(src, "dataloop", tmp_path / "one", "yolo", 1, yolo_task="detect")
    two = _convert(src, "dataloop", tmp_path / "two", "yolo", 2, yolo_task="detect")
    same_tree(tmp_path / "one", tmp_path / "two")
    assert _report_facts(two) == _report_facts(one)
    names = yaml.safe_load((tmp_path / "two" / "data.yaml").read_text())["names"]
    assert names[0] == "apple" and len(names) > 1


@requires_real_files
def test_a_label_missing_from_a_pinned_label_map_is_reported_alike_in_shards(fixtures_dir, tmp_path):
    """A map the user passes is pinned: the labels it lacks are reported, never appended, with any number of workers."""
    src = fixtures_dir / COCO_FILES[0]
    partial = LabelMap.from_names(["person"])  # the file has more categories than this
    one = _convert(src, "coco", tmp_path / "one", "yolo", 1, yolo_task="detect", labels=partial)
    two = _convert(src, "coco", tmp_path / "two", "yolo", 2, yolo_task="detect", labels=partial)
    same_tree(tmp_path / "one", tmp_path / "two")
    assert _report_facts(two) == _report_facts(one)
    assert any(i.code == "yolo.label-not-in-map" for i in two.issues)
    assert yaml.safe_load((tmp_path / "two" / "data.yaml").read_text())["names"] == {0: "person"}


def test_two_items_on_one_path_in_different_shards_are_reported_as_in_one_pass(sample_dir, tmp_path):
    """``a.jpg`` and ``a.png`` both map to ``a.json`` (V1 naming): the later one is a bad item either way."""
    src = tmp_path / "export"
    shutil.copytree(sample_dir, src)
    original = src / "json" / "street" / "scene_02.json"
    twin = original.read_bytes().replace(b'scene_02.jpg"', b'scene_02.png"')  # same stem, another extension
    assert twin != original.read_bytes()
    (src / "json" / "zz_twin.json").write_bytes(twin)  # read last, in another shard
    one = _convert(src, "dataloop", tmp_path / "one", "dataloop", 1)
    two = _convert(src, "dataloop", tmp_path / "two", "dataloop", 2)
    same_tree(tmp_path / "one", tmp_path / "two")
    assert _report_facts(two) == _report_facts(one)
    assert any(i.code == "dataloop.unwritable-item" for i in two.issues)


def test_a_bad_record_in_a_worker_stops_the_run_with_its_place_and_leaves_no_output(sample_dir, tmp_path):
    src = tmp_path / "export"
    shutil.copytree(sample_dir, src)
    last = sorted((src / "json").rglob("*.json"))[-1]
    last.write_text(last.read_text().replace('"coordinates"', '"coordinates": 5, "x"', 1))
    dst = tmp_path / "out"
    with pytest.raises(DlconvertError) as caught:
        _convert(src, "dataloop", dst, "coco", 2, on_error="fail")
    assert caught.value.path == str(last) and caught.value.where == "/annotations/0/coordinates"
    assert not dst.exists() and not list(tmp_path.glob(".out.*"))


@requires_real_files
def test_hooks_that_cannot_travel_run_in_this_process(fixtures_dir, tmp_path):
    """A lambda cannot be pickled for a process pool: the conversion still runs, in one process."""
    src = fixtures_dir / COCO_FILES[0]
    keep = lambda a: a.label != "person"  # noqa: E731 - the point is that it is a lambda
    one = Converter(concurrency=1).run(src, "coco", tmp_path / "one", "coco", annotation_filter=keep)
    two = Converter(concurrency=2).run(src, "coco", tmp_path / "two", "coco", annotation_filter=keep)
    same_tree(tmp_path / "one", tmp_path / "two")
    assert two.skipped and _report_facts(two) == _report_facts(one)


@requires_real_files
@pytest.mark.parametrize("view", ["mask", "instance", "object_id"])
def test_rendering_in_shards_writes_the_same_pictures(view, fixtures_dir, tmp_path):
    src = fixtures_dir / COCO_FILES[1]
    counts = []
    for workers in (1, 2):
        out = tmp_path / str(workers)
        out.mkdir()
        counts.append(render_source(src, "coco", out, [view], options=ConvertOptions(), workers=workers)[0])
    assert counts[0] == counts[1] and counts[0].pictures > 2
    assert not filecmp.dircmp(tmp_path / "1", tmp_path / "2").diff_files
    same_tree(tmp_path / "1", tmp_path / "2")


def test_the_progress_bar_counts_items_not_shards_when_workers_run(sample_dir, tmp_path, monkeypatch):
    """Each finished shard advances the bar by its items, so the bar's total and rate are in items."""
    bars = []

    def progress(iterable, total=None, desc=None):
        bar = {"total": total, "desc": desc, "ticks": 0}
        bars.append(bar)
        for value in iterable:
            bar["ticks"] += 1
            yield value

    monkeypatch.setattr(parallel, "MIN_SHARD", 2)  # the sample's 5 items: shards of 2, 2 and 1
    shards = []
    real_map = parallel.map_in_order

    def counting_map(executor, fn, tasks, window):
        tasks = list(tasks)
        shards.append(len(tasks))
        return real_map(executor, fn, tasks, window)

    monkeypatch.setattr(parallel, "map_in_order", counting_map)
    report = Converter(concurrency=2, progress=progress).run(sample_dir, "dataloop", tmp_path / "out", "dataloop")
    items = report.items_in
    assert shards and shards[0] > 1 and shards[0] < items  # really sharded, several items per shard
    assert [(b["total"], b["ticks"]) for b in bars] == [(items, items)]
    assert bars[0]["desc"] == "dataloop → dataloop"


def test_shard_sizes_cover_every_item_once():
    for total in (0, 1, 5, 63, 64, 1000, 123_457):
        for workers in (1, 2, 7, 64):
            sizes = parallel.shard_sizes(total, workers)
            assert sum(sizes) == total and all(s > 0 for s in sizes)
            assert not sizes or max(sizes) - min(sizes) <= 1


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        yield client


@requires_real_files
@pytest.mark.parametrize("target, options", [("coco", {}), ("yolo", {"yolo_task": "segment"}), ("voc", {})])
def test_a_dask_cluster_writes_the_same_bytes_as_one_process_and_as_a_pool(target, options, dask_client, fixtures_dir,
                                                                             tmp_path):
    src = fixtures_dir / COCO_FILES[1]
    one = _convert(src, "coco", tmp_path / "one", target, 1, **options)
    _convert(src, "coco", tmp_path / "pool", target, 2, **options)
    converter = Converter(concurrency=2, on_error="skip", executor=dask_client.get_executor(),
                          options=ConvertOptions(**options))
    on_dask = converter.run(src, "coco", tmp_path / "dask", target)
    same_tree(tmp_path / "one", tmp_path / "dask")
    same_tree(tmp_path / "one", tmp_path / "pool")
    assert _report_facts(on_dask) == _report_facts(one)
    ran_on = dask_client.run(lambda: __import__("os").getpid())
    assert len(set(ran_on.values())) == 2  # two worker processes, not threads of this one


@requires_real_files
def test_cli_scheduler_option_runs_on_the_cluster(dask_client, cli_runner, fixtures_dir, tmp_path):
    from dlconvert.cli import main

    src = fixtures_dir / COCO_FILES[1]
    local = cli_runner.invoke(main, ["convert", str(src), str(tmp_path / "local"), "--from", "coco", "--to", "voc",
                                     "--workers", "1"])
    assert local.exit_code == 0, local.stderr
    remote = cli_runner.invoke(main, ["convert", str(src), str(tmp_path / "remote"), "--from", "coco", "--to", "voc",
                                      "--scheduler", dask_client.scheduler.address])
    assert remote.exit_code == 0, remote.stderr
    same_tree(tmp_path / "local", tmp_path / "remote")


@requires_real_files
def test_cli_unreachable_scheduler_is_one_line(cli_runner, fixtures_dir, tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from dlconvert.cli import main

    monkeypatch.setattr(parallel, "CONNECT_SECONDS", 1)
    result = cli_runner.invoke(main, ["convert", str(fixtures_dir / COCO_FILES[0]), str(tmp_path / "o"), "--from",
                                      "coco", "--to", "voc", "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Dask scheduler" in result.stderr


def test_frozen_blocks_nest_and_only_the_outermost_thaws():
    """gc.unfreeze thaws everything: an inner block (a table writer inside the engine's) must not thaw the outer's."""
    import gc

    assert gc.get_freeze_count() == 0
    with parallel.frozen_for_gc():
        outer = gc.get_freeze_count()
        with parallel.frozen_for_gc():
            made_inside = [[] for _ in range(100)]  # noqa: F841 (objects the inner block freezes as well)
        assert gc.get_freeze_count() >= outer > 0
    assert gc.get_freeze_count() == 0
