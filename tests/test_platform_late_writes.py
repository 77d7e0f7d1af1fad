"""A request the server carries out after the client gave up on it: one upload run still ends with
exactly the local annotations.

The fake server's ``timeout-after`` fault stalls an annotation upload past the client's timeout
and only then stores it; meanwhile the SDK's request retry has posted the same annotations again.
The request layer notes the unanswered upload, and the connector checks the item again once the
server has had ``RetryPolicy.settle`` seconds to finish it, deleting the surplus copies (copies of
the local annotations only, found by fingerprint).
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from platform_support import FAST, _new_dataset, _no_faults_left, _server_state, dl, server, sources

from dlconvert.converter import Converter
from dlconvert.platform import RetryPolicy, upload_local_dataset
from dlconvert.platform._sdk import LateWrites
from dlconvert.testing import Fault

FIXTURES = (dl, server, _no_faults_left, sources)  # pytest finds them by name
ANNOTATION_POSTS = r"/items/[0-9a-f]+/annotations$"
ANNOTATIONS = 22  # the bundled sample's


def _count(server, report) -> int:
    return sum(len(server.item_annotations_json(o.item_id)) for o in report.items)


def _late_fault(stall: float) -> Fault:
    """The first annotation upload is stored ``stall`` seconds later, after the client (0.5 s) gave up."""
    return Fault(rate=1.0, kinds=("timeout-after",), method="POST", path=ANNOTATION_POSTS, limit=1, stall=stall)


def _reference(server, dl, sources, name: str):
    src, items = sources["dataloop"]
    reference = _new_dataset(server, dl, name)
    upload_local_dataset(Converter(), "dataloop", reference, local_items_path=items, local_annotations_path=src,
                         retry=FAST)
    return _server_state(server, reference.id)


def test_a_late_write_is_waited_for_and_its_copies_deleted_in_the_same_run(server, dl, sources):
    src, items = sources["dataloop"]
    expected = _reference(server, dl, sources, "late-reference")
    dataset = _new_dataset(server, dl, "late")
    server.faults = [_late_fault(stall=1.0)]
    report = upload_local_dataset(Converter(concurrency=1), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, retry=dataclasses.replace(FAST, settle=2.0))
    # when the run returns, the late request has been carried out and its copies are gone
    assert [r.fault for r in server.faulted()][-1:] == ["timeout-after"]
    assert _count(server, report) == ANNOTATIONS and not report.failed_items
    assert sum(o.deleted for o in report.items) >= 1 and not report.unbalanced()
    assert _server_state(server, dataset.id) == expected


def test_without_waiting_the_late_copy_stays_until_the_next_run(server, dl, sources):
    # The same fault with no wait: the copy the server makes after the run is only found by a re-run.
    # (This is what the test above guards against; it also shows that the fault really makes one.)
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "late-unwaited")
    server.faults = [_late_fault(stall=2.0)]
    report = upload_local_dataset(Converter(concurrency=1), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, retry=dataclasses.replace(FAST, settle=0))
    assert server.wait_idle(timeout=10)
    assert _count(server, report) > ANNOTATIONS
    again = upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items,
                                 local_annotations_path=src, retry=FAST)
    assert _count(server, again) == ANNOTATIONS and sum(o.deleted for o in again.items) >= 1


def test_other_annotations_on_the_item_are_kept_when_copies_are_deleted(server, dl, sources):
    src, items = sources["dataloop"]
    dataset = _new_dataset(server, dl, "late-foreign")
    upload_local_dataset(Converter(), "dataloop", dataset, local_items_path=items, local_annotations_path=src,
                         remote_items=False, retry=FAST)
    item = server.item_by_path(dataset.id, "/street/scene_01.png")
    for annotation in server.item_annotations_json(item["id"]):
        server._delete_annotation(annotation["id"])
    foreign = {"type": "point", "label": "not-local", "coordinates": {"x": 1, "y": 2, "z": 0}, "metadata": {}}
    server.add_annotations(item["id"], [foreign], keep_ids=False)
    server.faults = [_late_fault(stall=1.0)]
    report = upload_local_dataset(Converter(concurrency=1), "dataloop", dataset, local_items_path=items,
                                  local_annotations_path=src, retry=dataclasses.replace(FAST, settle=2.0))
    assert [r.fault for r in server.faulted()][-1:] == ["timeout-after"]
    kept = server.item_annotations_json(item["id"])
    assert len(kept) == 9 + 1 and [a["label"] for a in kept].count("not-local") == 1  # the 9 local ones + foreign
    assert next(o for o in report.items if o.item == "/street/scene_01.png").deleted >= 1


def test_late_writes_are_noted_per_item_for_annotation_uploads_only():
    late = LateWrites()
    before = time.monotonic()
    late.note("POST", "/api/v1/items/6a00000000000000000000ab/annotations")
    late.note("GET", "/api/v1/items/6a00000000000000000000cd/annotations")
    late.note("POST", "/api/v1/items/6a00000000000000000000ef")
    late.note("POST", None)
    assert late.last("6a00000000000000000000ab") >= before
    assert late.last("6a00000000000000000000cd") is None and late.last("6a00000000000000000000ef") is None


def test_the_settle_time_defaults_to_the_request_timeout():
    assert RetryPolicy().settle_time == 120.0  # the SDK's timeout
    assert RetryPolicy(request_timeout=3.0).settle_time == 3.0
    assert RetryPolicy(request_timeout=3.0, settle=0).settle_time == 0
    with pytest.raises(ValueError, match="settle"):
        RetryPolicy(settle=-1)
