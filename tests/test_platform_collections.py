"""Uploading collections made in Python (``item.annotations.upload(builder)`` in the SDK): the same
rules as uploading local files — labels first, items matched by remote path, nothing uploaded twice."""

from __future__ import annotations

import copy

import pytest
from platform_support import FAST, _content, _downloaded, _new_dataset, _no_faults_left, dl, server

from dlconvert import AnnotationCollection, Box, Point, Polygon
from dlconvert.converter import Converter
from dlconvert.formats.dataloop import read_dataloop
from dlconvert.labels import LabelMap
from dlconvert.platform import upload_collections

FIXTURES = (dl, server, _no_faults_left)  # pytest finds them by name


def test_collections_read_in_python_upload_as_their_files_do(server, dl, sample_dir, tmp_path):
    collections = list(read_dataloop(sample_dir / "json"))
    dataset = _new_dataset(server, dl, "collections")
    labels = LabelMap.load(sample_dir / "ontology.json")
    report = upload_collections(Converter(concurrency=2), collections, dataset, local_items_path=sample_dir / "items",
                                label_map=labels, retry=FAST)
    assert report.count("uploaded") == len(collections) and not report.failed_items and not report.unbalanced()
    assert _downloaded(dataset, tmp_path) == {c.filename: _content(c) for c in collections}
    assert "vehicle.truck" in server.label_names(dataset.id)  # a label of the map that no annotation uses
    again = upload_collections(Converter(), collections, dataset, retry=FAST)
    assert again.count("skipped") == len(collections) and sum(o.uploaded for o in again.items) == 0


def test_a_builder_goes_to_the_item_already_there(server, dl):
    dataset = _new_dataset(server, dl, "builder")
    item = server.add_item(dataset.id, "/shots/a.jpg", b"")
    builder = AnnotationCollection(filename="/shots/a.jpg", width=64, height=48)
    builder.add(Box(left=1, top=2, right=30, bottom=20, label="car"))
    builder.add(Polygon(geo=[[1, 1], [20, 1], [10, 15]], label="road"))
    report = upload_collections(Converter(), builder, dataset, retry=FAST)
    assert [(o.item, o.status, o.uploaded) for o in report.items] == [("/shots/a.jpg", "uploaded", 2)]
    stored = server.item_annotations_json(item["id"])
    assert sorted((a["type"], a["label"]) for a in stored) == [("box", "car"), ("segment", "road")]
    assert sorted(server.label_names(dataset.id)) == ["car", "road"]


def test_only_bbox_leaves_the_callers_collection_as_it_was(server, dl):
    dataset = _new_dataset(server, dl, "builder-boxes")
    item = server.add_item(dataset.id, "/b.jpg", b"")
    builder = AnnotationCollection(filename="/b.jpg", width=64, height=48)
    builder.add(Polygon(geo=[[1, 1], [20, 1], [10, 15]], label="road"))
    builder.add(Point(x=3, y=4, label="dot"))
    before = copy.deepcopy(builder.to_json())
    report = upload_collections(Converter(), [builder], dataset, only_bbox=True, retry=FAST)
    assert builder.to_json() == before and not report.unbalanced()
    assert [a["type"] for a in server.item_annotations_json(item["id"])] == ["box"]


def test_an_item_the_dataset_lacks_is_reported(server, dl):
    dataset = _new_dataset(server, dl, "builder-missing")
    builder = AnnotationCollection(filename="/nowhere.jpg", width=10, height=10)
    builder.add(Box(left=1, top=1, right=5, bottom=5, label="car"))
    report = upload_collections(Converter(), builder, dataset, retry=FAST)
    assert [(o.status, o.code) for o in report.items] == [("failed", "platform.no-remote-item")]
    assert report.failed_files and not report.unbalanced()


def test_what_is_not_a_collection_is_refused(server, dl):
    dataset = _new_dataset(server, dl, "builder-wrong")
    with pytest.raises(TypeError, match=r"collections\[1\] is a dict"):
        upload_collections(Converter(), [AnnotationCollection(filename="/a.jpg"), {"annotations": []}], dataset)
