"""Fixtures and helpers of the platform tests: the real ``dtlpy`` pointed at a :class:`FakeDataloop`,
the bundled sample on it, the sample in every uploadable format, and comparisons that a user would
make (annotation content, not ids). Test modules import what they use (fixtures included).

``DATALOOP_PATH`` points at a temporary folder before ``dtlpy`` is first imported (conftest.py), so
the SDK keeps its cookie there. The SDK's fixed 2-second wait before polling an export is capped
(the fake server finishes exports at once), and retries use millisecond backoffs.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest

from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.formats import get_format, list_formats
from dlconvert.formats.dataloop import read_dataloop
from dlconvert.platform import RetryPolicy, convert_dataset
from dlconvert.report import ConversionReport
from dlconvert.testing import FAULT_KINDS, FakeDataloop, fast_sdk_waits

SAMPLE_DATASET_ID = "65f0c0ded000000000000000"  # the datasetId the sample's item JSONs name
FAST = RetryPolicy(attempts=8, backoff=0.005, max_backoff=0.02, request_retries=2, request_backoff=0.005,
                   request_timeout=0.5)
ALL_FAULTS = FAULT_KINDS  # every kind, "timeout-after" (done after the client gave up) included
WRITABLE = [spec.name for spec in list_formats() if spec.write is not None]
UPLOADABLE = [name for name in ("coco", "yolo", "voc", "vtt", "dataloop") if name in WRITABLE]


# ==================================================================================================
# fixtures
# ==================================================================================================
@pytest.fixture(scope="module")
def dl(tmp_path_factory):
    """dtlpy, imported with its home folder in a temporary directory."""
    with pytest.MonkeyPatch.context() as patch:
        if "dtlpy" not in sys.modules:
            patch.setenv("DATALOOP_PATH", str(tmp_path_factory.mktemp("dataloop")))
        return pytest.importorskip("dtlpy")


@pytest.fixture(scope="module")
def server(dl):
    with FakeDataloop(seed=5) as running:
        running.connect(dl)
        with fast_sdk_waits(dl):
            yield running
        running.disconnect(dl)


@pytest.fixture(autouse=True)
def _no_faults_left(server):
    server.faults = []
    yield
    server.faults = []
    assert server.wait_idle(), "a request of the test is still being served"


@pytest.fixture(scope="module")
def sample_remote(server, dl, sample_dir):
    """The bundled sample on the server, exactly as exported (same ids, same JSON)."""
    dataset = server.create_dataset("sample", dataset_id=SAMPLE_DATASET_ID)
    server.seed_export(dataset["id"], sample_dir)
    return dl.datasets.get(dataset_id=dataset["id"])


@pytest.fixture(scope="module")
def local_outputs(sample_dir, tmp_path_factory):
    """Each format as converting the sample's export folder locally writes it, with its report."""
    out = {}
    root = tmp_path_factory.mktemp("local")
    for name in WRITABLE:
        report = Converter().run(sample_dir, "dataloop", root / name, name)
        out[name] = (root / name, report)
    return out


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _report_json(report: ConversionReport) -> dict:
    data = report.to_json()
    data.pop("outputs")
    return data


def _new_dataset(server, dl, name: str):
    return dl.datasets.get(dataset_id=server.create_dataset(name)["id"])


def _calls(server, start: int, method: str, pattern: str) -> int:
    return sum(1 for r in server.log[start:] if r.method == method and re.search(pattern, r.path))


# -- comparing annotations the way a user would: content, not ids ---------------------------------
def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return round(float(value), 6)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return _number(value)


def _content(collection) -> list[str]:
    """Each annotation as geometry, label, attributes, object id, frames and parent: sorted."""
    by_id = {a.id: a for a in collection if a.id is not None}
    out = []
    for annotation in collection:
        definition = annotation.annotation_definition
        frames = annotation.frames or {}
        states = None
        if len(frames) > 1:  # a one-frame track is the same as an image-like annotation
            states = {str(n): [s.annotation_definition.type, s.annotation_definition.label,
                               _plain(s.annotation_definition.to_coordinates()),
                               _plain(s.annotation_definition.attributes), s.object_visible]
                      for n, s in sorted(frames.items())}
        parent = by_id.get(annotation.parent_id)
        out.append(json.dumps({
            "type": annotation.type, "label": definition.label, "attributes": _plain(definition.attributes),
            "v1": _plain(annotation.to_json().get("attributes") or []), "object": annotation.object_id,
            "coordinates": _plain(definition.to_coordinates()), "frames": states,
            "description": definition.description,
            "parent": [parent.type, parent.annotation_definition.label] if parent else None,
            "times": [_number(annotation.start_time), _number(annotation.end_time)] if len(frames) > 1 else None,
        }, sort_keys=True))
    return sorted(out)


def _downloaded(dataset, tmp_path: Path, name: str = "back") -> dict[str, list[str]]:
    out = tmp_path / name
    report = convert_dataset(Converter(), dataset, "dataloop", out, retry=FAST)
    assert not report.failed_files, report.summary()
    return {c.filename: _content(c) for c in read_dataloop(out)}


def _read_local(fmt: str, src: Path, items: Path | None) -> dict[str, list[str]]:
    dataset = get_format(fmt).read(src, ConvertOptions(images=items), ConversionReport())
    return {c.filename: _content(c) for c in dataset.items}


def _server_state(server, dataset_id: str) -> dict:
    """What a dataset holds, without ids and audit fields: items → sorted annotation contents."""
    state = {}
    for item in server.dataset_items(dataset_id, with_annotations=True):
        by_id = {a["id"]: a for a in item["annotations"]}
        contents = []
        for annotation in item["annotations"]:
            clean = {k: v for k, v in annotation.items() if k not in (
                "id", "itemId", "datasetId", "url", "item", "dataset", "creator", "createdAt", "updatedBy",
                "updatedAt", "source", "hash")}
            clean = copy.deepcopy(clean)
            parent = ((clean.get("metadata") or {}).get("system") or {}).pop("parentId", None)
            clean["parent"] = by_id[parent]["label"] if parent in by_id else parent
            contents.append(json.dumps(clean, sort_keys=True))
        state[item["filename"]] = (server.blobs[item["id"]], sorted(contents))
    return {"items": state, "labels": server.label_names(dataset_id)}


@pytest.fixture(scope="module")
def sources(sample_dir, tmp_path_factory):
    """The sample written in each uploadable format: ``{format: (annotations path, items folder)}``."""
    root = tmp_path_factory.mktemp("sources")
    out = {}
    for name in UPLOADABLE:
        if name == "dataloop":
            out[name] = (sample_dir / "json", sample_dir / "items")
            continue
        options = ConvertOptions(images_mode="copy") if name == "yolo" else ConvertOptions()
        Converter(options=options).run(sample_dir, "dataloop", root / name, name)
        items = root / name / "images" / "train" if name == "yolo" else sample_dir / "items"
        out[name] = (root / name, items)
    return out
