"""Writing COCO tells the truth: every annotation is written or reported, what is called approximated is
exactly what changes, items that are no image are skipped, and the source's own values come back.

Oracles: the written JSON itself and its ``coco_ids.json`` (which record came from which annotation),
pycocotools' RLE codec, and the Dataloop model read back from the written file.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils
from realfiles import real_file, requires_real_files

from dlconvert import (
    AnnotationCollection,
    Box,
    Classification,
    Cube,
    Ellipse,
    Point,
    Polygon,
    Polyline,
    Pose,
    Segmentation,
    Subtitle,
)
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.errors import DlconvertError
from dlconvert.formats import get_format
from dlconvert.formats.coco import capabilities
from dlconvert.formats.dataloop import read_dataloop
from dlconvert.labels import LabelInfo, LabelMap, PoseTemplate, stable_color
from dlconvert.report import ConversionReport

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")

KEYPOINTS = ("nose", "left_eye", "right_eye")
TEMPLATE = PoseTemplate("t-person", "person", list(KEYPOINTS), [("nose", "left_eye")])


def label_map(*names: str, pinned: bool = False) -> LabelMap:
    return LabelMap([LabelInfo(n, i, stable_color(n)) for i, n in enumerate(names, start=1)], [TEMPLATE],
                    pinned=pinned)


def image(filename="/a.png", width=40, height=30, mimetype="image/png") -> AnnotationCollection:
    return AnnotationCollection(filename=filename, width=width, height=height, mimetype=mimetype)


def write_coco(items, folder: Path, labels: LabelMap | None = None, on_error="skip", **options):
    """Items → the COCO writer itself; returns (coco.json, coco_ids.json, report)."""
    report = ConversionReport(source_format="dataloop", target_format="coco", on_error=on_error)
    for collection in items:
        report.read_item(collection)
    options = ConvertOptions(labels=labels, **options)
    get_format("coco").write(Dataset(list(items), labels=labels), folder, options, report)
    return (json.loads((folder / "coco.json").read_text()), json.loads((folder / "coco_ids.json").read_text()),
            report)


def issues_of(report) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for issue in report.issues:
        out.setdefault(issue.annotation_id, []).append((issue.kind, issue.code))
    return out


def add(collection: AnnotationCollection, definition, ident: str, **kwargs):
    annotation = collection.add(definition, **kwargs)
    annotation.id = ident
    return annotation


def add_pose(collection, ident: str, object_id=None, points=((3, 4), (5, 6), (7, 8))):
    pose = add(collection, Pose(label="person", template_id=TEMPLATE.id), ident, object_id=object_id)
    for n, (name, (x, y)) in enumerate(zip(KEYPOINTS, points, strict=False)):
        add(collection, Point(x=x, y=y, label=name, attributes={"visibility": "visible"}), f"{ident}-{n}",
            parent_id=pose.id)
    return pose


# ==== §4: a point and an inverted box do not vanish ================================================
DEGENERATE = {
    "inverted box": Box(left=20, top=5, right=10, bottom=15, label="car"),
    "flat box": Box(left=10, top=5, right=10, bottom=15, label="car"),
    "polygon of one point": Polygon(geo=[[4.0, 4.0], [4.0, 4.0], [4.0, 4.0]], label="car"),
    "polygon on a line": Polygon(geo=[[0.0, 0.0], [5.0, 5.0], [10.0, 10.0]], label="car"),
    "polygon of two points": Polygon(geo=[[1.0, 2.0], [8.0, 9.0]], label="car"),
    "empty mask": Segmentation(geo=np.zeros((30, 40), dtype=bool), label="car"),
    "ellipse without radius": Ellipse(x=5, y=5, rx=0, ry=3, label="car"),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_a_degenerate_shape_is_skipped_and_reported_not_fixed(tmp_path, name):
    collection = image()
    add(collection, DEGENERATE[name], "x1")
    coco, _, report = write_coco([collection], tmp_path)
    assert coco["annotations"] == []
    assert issues_of(report) == {"x1": [("skipped", "coco.degenerate-shape")]}
    assert not report.unbalanced()


def test_a_point_outside_a_pose_is_skipped_with_the_reason(tmp_path):
    collection = image()
    add(collection, Point(x=3, y=4, label="tip"), "p1")
    coco, _, report = write_coco([collection], tmp_path)
    assert coco["annotations"] == []
    (issue,) = report.issues
    assert (issue.kind, issue.code, issue.annotation_id) == ("skipped", "coco.unsupported-type", "p1")
    assert "keypoints of a pose" in issue.message
    assert not report.unbalanced()


def test_a_degenerate_pose_box_is_skipped_but_its_keypoints_are_written(tmp_path):
    collection = image()
    add(collection, Box(left=9, top=9, right=2, bottom=2, label="person"), "b1", object_id=1)
    add_pose(collection, "p1", object_id=1)
    coco, ids, report = write_coco([collection], tmp_path, labels=label_map("person"))
    (record,) = coco["annotations"]
    assert record["keypoints"] == [3, 4, 2, 5, 6, 2, 7, 8, 2]
    assert record["bbox"] == [3, 4, 4, 4]  # from the keypoints, not the inverted box
    assert [r["type"] for r in ids["annotations"]] == ["pose"]
    assert issues_of(report) == {"b1": [("skipped", "coco.degenerate-shape")]}
    assert not report.unbalanced()


# ==== §5: items that are no image ===================================================================
@pytest.mark.parametrize("mimetype", ["video/mp4", "audio/mpeg", "application/pdf"])
def test_an_item_that_is_no_image_is_skipped_with_every_annotation_and_no_image_record(tmp_path, mimetype):
    other = image("/clip.bin", mimetype=mimetype)
    add(other, Box(left=1, top=1, right=5, bottom=5, label="car"), "v1")
    add(other, Classification(label="day"), "v2")
    photo = image("/photo.png")
    add(photo, Box(left=1, top=1, right=5, bottom=5, label="car"), "i1")
    coco, ids, report = write_coco([other, photo], tmp_path)
    assert [i["file_name"] for i in coco["images"]] == ["photo.png"]
    assert [i["item_id"] for i in ids["images"]] == [None]
    assert len(coco["annotations"]) == 1
    assert issues_of(report) == {"v1": [("skipped", "coco.not-an-image")], "v2": [("skipped", "coco.not-an-image")]}
    assert (report.items_in, report.items_out) == (2, 1)
    assert not report.unbalanced()


def test_the_bundled_video_is_not_a_coco_image(sample_dir, tmp_path):
    report = Converter().run(sample_dir, "dataloop", tmp_path / "coco", "coco")
    coco = json.loads((tmp_path / "coco" / "coco.json").read_text())
    assert not any(i["file_name"].endswith((".mp4", ".mp3", ".wav")) for i in coco["images"])
    codes = Counter(i.code for i in report.issues)
    assert codes["coco.video-first-frame"] == 0
    assert codes["coco.not-an-image"] == sum(1 for i in report.issues if i.item and i.item.endswith(
        (".mp4", ".mp3", ".wav")))
    assert not report.unbalanced()


# ==== every annotation is written or reported, and approximated means changed ======================
KINDS = ["box", "rotated box", "polygon", "polygon with hole", "mask", "ellipse", "point", "polyline", "class",
         "cube", "subtitle", "pose", "pose with box", *sorted(DEGENERATE)]


def make(kind: str, draw) -> object:
    x, y = draw(st.integers(0, 20)), draw(st.integers(0, 15))
    w, h = draw(st.integers(2, 15)), draw(st.integers(2, 12))
    if kind == "box":
        return Box(left=x, top=y, right=x + w, bottom=y + h, label="car")
    if kind == "rotated box":
        return Box(left=x, top=y, right=x + w, bottom=y + h, angle=draw(st.integers(1, 89)), label="car")
    if kind == "polygon":
        return Polygon(geo=[[x, y], [x + w, y], [x, y + h]], label="car")
    if kind == "polygon with hole":
        return Polygon(geo=[[[x, y], [x + w, y], [x + w, y + h], [x, y + h]],
                            [[x + 0.5, y + 0.5], [x + 1.5, y + 0.5], [x + 1, y + 1.5]]], label="car")
    if kind == "mask":
        mask = np.zeros((30, 40), dtype=bool)
        mask[y:y + h, x:x + w] = True
        return Segmentation(geo=mask, label="car")
    if kind == "ellipse":
        return Ellipse(x=x + 5, y=y + 5, rx=w / 2, ry=h / 2, angle=draw(st.integers(0, 90)), label="car")
    if kind == "point":
        return Point(x=x, y=y, label="car")
    if kind == "polyline":
        return Polyline(geo=[[x, y], [x + w, y + h]], label="car")
    if kind == "class":
        return Classification(label="car")
    if kind == "cube":
        return Cube("car", *[(x + i, y + i) for i in range(8)])
    if kind == "subtitle":
        return Subtitle(text="hi", label="car")
    return DEGENERATE[kind]


@st.composite
def mixed_items(draw):
    items = []
    for n in range(draw(st.integers(1, 3))):
        mimetype = draw(st.sampled_from(["image/png", "image/png", "video/mp4"]))
        collection = image(f"/i{n}.{'mp4' if mimetype == 'video/mp4' else 'png'}", mimetype=mimetype)
        for k, kind in enumerate(draw(st.lists(st.sampled_from(KINDS), max_size=6))):
            ident = f"{n}-{k}"
            if kind.startswith("pose"):  # on a video, a box sharing the pose's object id would be its track
                object_id = k + 1 if kind == "pose with box" and mimetype != "video/mp4" else None
                if object_id is not None:
                    add(collection, make("box", draw), ident + "-box", object_id=object_id)
                add_pose(collection, ident, object_id=object_id)
            else:
                add(collection, make(kind, draw), ident, **({"frame_num": 0} if mimetype == "video/mp4" else {}))
        items.append(collection)
    return items


def written_ids(items, ids: dict, report) -> set:
    """Annotations that went into a record: record owners, and the pose, partner and points of a pose record."""
    owners = {r["annotation_id"] for r in ids["annotations"]}
    skipped = {i.annotation_id for i in report.issues if i.kind == "skipped"}
    written = set(owners)
    for collection in items:
        for annotation in collection:
            if annotation.type != "pose":
                continue
            partners = [a for a in collection if a.object_id is not None and a.object_id == annotation.object_id
                        and a is not annotation]
            if annotation.id in owners or any(p.id in owners for p in partners):
                written |= {annotation.id, *(p.id for p in partners)}
                written |= {c.id for c in collection.children(annotation) if c.id not in skipped}
    return written


@settings(max_examples=60, deadline=None)
@given(mixed_items())
def test_every_annotation_is_written_or_reported_and_only_real_changes_are_approximated(items):
    with tempfile.TemporaryDirectory() as tmp:
        _, ids, report = write_coco(items, Path(tmp), labels=label_map("car", "person"))
    every = {a.id for c in items for a in c}
    skipped = [i.annotation_id for i in report.issues if i.kind == "skipped"]
    written = written_ids(items, ids, report)
    assert len(skipped) == len(set(skipped)), "one skip per annotation"
    assert written.isdisjoint(skipped)
    assert written | set(skipped) == every, "an annotation vanished without a word"
    assert not report.unbalanced()
    approximated = {i.annotation_id: i.code for i in report.issues if i.kind == "approximated"}
    assert set(approximated) <= written
    annotations = {a.id: (c.is_video, a.annotation_definition) for c in items for a in c}
    for annotation_id in written:
        is_video, definition = annotations[annotation_id]
        assert not is_video
        assert approximated.get(annotation_id) == expected_approximation(definition), annotation_id


def expected_approximation(definition) -> str | None:
    """What changes when COCO writes ``definition`` (the generated shapes only: holes are the only multi-part)."""
    if definition.type == "box" and definition.is_rotated:
        return "coco.rotated-box-as-polygon"
    if definition.type == "ellipse":
        return "coco.ellipse-as-polygon"
    if definition.type == "segment" and len(definition.parts) > 1:
        return "coco.polygon-holes-as-rle"
    return None


def test_an_unrotated_shape_written_as_it_is_comes_back_equal(tmp_path):
    """The converse: what is not reported approximated reads back as the same geometry."""
    collection = image()
    definitions = {"b": Box(left=1, top=2, right=9, bottom=7, label="car"),
                   "p": Polygon(geo=[[[1, 1], [9, 1], [5, 8]], [[20, 20], [30, 22], [25, 29]]], label="car"),
                   "m": Segmentation(geo=np.eye(30, 40, dtype=bool), label="car")}
    for ident, definition in definitions.items():
        add(collection, definition, ident)
    _, _, report = write_coco([collection], tmp_path / "coco")
    assert report.issues == []
    back = list(get_format("coco").read(tmp_path / "coco" / "coco.json", ConvertOptions(), ConversionReport()).items)
    came_back = {a.type: a.annotation_definition for a in back[0]}
    assert came_back["box"]._geometry_key() == definitions["b"]._geometry_key()
    assert [p.tolist() for p in came_back["segment"].parts] == [p.tolist() for p in definitions["p"].parts]
    assert np.array_equal(came_back["binary"].geo, definitions["m"].geo)


@requires_real_files
@pytest.mark.parametrize("name", ["coco/icevision/annotations.json", "coco/icevision/keypoints_annotations.json",
                                  "coco/mmdetection/coco_dummy/annotations/instances_val2017.json"])
def test_coco_to_coco_approximates_and_skips_nothing(tmp_path, name):
    report = Converter().run(real_file(name), "coco", tmp_path / "out", "coco")
    assert report.issues == []
    back = Converter().run(tmp_path / "out", "coco", tmp_path / "dl", "dataloop")
    again = Converter().run(tmp_path / "dl", "dataloop", tmp_path / "again", "coco")
    assert back.issues == [] and again.issues == []
    out, again = (json.loads((tmp_path / f / "coco.json").read_text()) for f in ("out", "again"))
    for key in ("images", "annotations", "categories"):  # Dataloop lists items by path
        assert sorted(again[key], key=lambda r: r["id"]) == sorted(out[key], key=lambda r: r["id"])


# ==== crowd regions stay crowd regions ==============================================================
@pytest.mark.parametrize("form", ["list", "string"])
@pytest.mark.parametrize("route", ["direct", "via dataloop"])
def test_a_crowd_rle_stays_a_crowd_rle(tmp_path, form, route):
    mask = np.zeros((6, 5), dtype=np.uint8)
    mask[1:5, 1:4] = 1
    encoded = mask_utils.encode(np.asfortranarray(mask))
    flat = mask.reshape(-1, order="F")
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate(([0], flat, [1 - flat[-1]])))), prepend=0).tolist()
    counts = runs if form == "list" else encoded["counts"].decode("ascii")
    record = {"id": 4, "image_id": 1, "category_id": 1, "iscrowd": 1, "area": 12.0, "bbox": [1.0, 1.0, 3.0, 4.0],
              "segmentation": {"size": [6, 5], "counts": counts}}
    src = tmp_path / "src" / "crowd.json"
    src.parent.mkdir()
    src.write_text(json.dumps({"images": [{"id": 1, "file_name": "c.png", "width": 5, "height": 6}],
                               "categories": [{"id": 1, "name": "people"}], "annotations": [record]}))
    if route == "direct":
        report = Converter().run(src, "coco", tmp_path / "out", "coco")
    else:
        Converter().run(src, "coco", tmp_path / "dl", "dataloop")
        report = Converter().run(tmp_path / "dl", "dataloop", tmp_path / "out", "coco")
    assert report.issues == []
    (written,) = json.loads((tmp_path / "out" / "coco.json").read_text())["annotations"]
    assert written == record


# ==== num_keypoints is the source's while the keypoints are unchanged ===============================
def crowdpose_file(tmp_path: Path) -> Path:
    """A CrowdPose-style record: 7 labelled keypoints, num_keypoints 5 (it does not count the head points)."""
    names = [f"k{i}" for i in range(8)]
    keypoints = []
    for i in range(8):
        keypoints += [10 + i, 20 + i, 0 if i == 7 else (1 if i % 2 else 2)]
    data = {"images": [{"id": 1, "file_name": "p.jpg", "width": 100, "height": 100}],
            "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": names,
                            "skeleton": [[1, 2]]}],
            "annotations": [{"id": 9, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 300.0,
                             "bbox": [5.0, 15.0, 20.0, 15.0], "num_keypoints": 5, "keypoints": keypoints,
                             "segmentation": [[5, 15, 25, 15, 25, 30, 5, 30]]}]}
    path = tmp_path / "src" / "crowdpose.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("route", ["direct", "via dataloop"])
def test_num_keypoints_of_unchanged_keypoints_is_the_sources(tmp_path, route):
    src = crowdpose_file(tmp_path)
    if route == "direct":
        Converter().run(src, "coco", tmp_path / "out", "coco")
    else:
        Converter().run(src, "coco", tmp_path / "dl", "dataloop")
        Converter().run(tmp_path / "dl", "dataloop", tmp_path / "out", "coco")
    (record,) = json.loads((tmp_path / "out" / "coco.json").read_text())["annotations"]
    assert record["num_keypoints"] == 5
    assert record["keypoints"] == json.loads(src.read_text())["annotations"][0]["keypoints"]


def test_num_keypoints_is_counted_again_once_a_keypoint_moved(tmp_path):
    src = crowdpose_file(tmp_path)
    Converter().run(src, "coco", tmp_path / "dl", "dataloop")
    (item_path,) = (tmp_path / "dl" / "json").rglob("*.json")
    item = json.loads(item_path.read_text())
    point = next(a for a in item["annotations"] if a["type"] == "point" and a["label"] == "k0")
    point["coordinates"]["x"] += 1
    item_path.write_text(json.dumps(item))
    Converter().run(tmp_path / "dl", "dataloop", tmp_path / "out", "coco")
    (record,) = json.loads((tmp_path / "out" / "coco.json").read_text())["annotations"]
    assert record["num_keypoints"] == 7
    assert record["keypoints"][0] == 11


def test_a_lone_pose_keeps_its_source_box_while_its_keypoints_are_unchanged(tmp_path):
    data = {"images": [{"id": 1, "file_name": "p.jpg", "width": 50, "height": 50}],
            "categories": [{"id": 1, "name": "person", "keypoints": ["a", "b"], "skeleton": []}],
            "annotations": [{"id": 3, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 99.5, "num_keypoints": 2,
                             "keypoints": [10, 10, 2, 20, 30, 2]}]}
    src = tmp_path / "src" / "lone.json"
    src.parent.mkdir()
    src.write_text(json.dumps(data))
    Converter().run(src, "coco", tmp_path / "dl", "dataloop")
    (collection,) = read_dataloop(tmp_path / "dl")
    assert sorted(a.type for a in collection) == ["point", "point", "pose"]
    Converter().run(tmp_path / "dl", "dataloop", tmp_path / "out", "coco")
    (record,) = json.loads((tmp_path / "out" / "coco.json").read_text())["annotations"]
    assert record["area"] == 99.5  # the source's, though its keypoints' box has another area
    assert record["bbox"] == [10, 10, 10, 20]


# ==== a pinned label map ============================================================================
def test_a_label_missing_from_a_pinned_map_is_skipped_not_added(tmp_path):
    collection = image()
    add(collection, Box(left=1, top=1, right=5, bottom=5, label="car"), "b1")
    add(collection, Box(left=1, top=1, right=5, bottom=5, label="bus"), "b2")
    coco, _, report = write_coco([collection], tmp_path, labels=label_map("car", pinned=True))
    assert [c["name"] for c in coco["categories"]] == ["car"]
    assert len(coco["annotations"]) == 1
    assert issues_of(report) == {"b2": [("skipped", "coco.label-not-in-map")]}
    assert not report.unbalanced()


def test_a_label_missing_from_a_pinned_map_fails_with_on_error_fail(tmp_path):
    collection = image()
    add(collection, Box(left=1, top=1, right=5, bottom=5, label="bus"), "b1")
    with pytest.raises(DlconvertError, match="'bus' is not in the label map given"):
        write_coco([collection], tmp_path, labels=label_map("car", pinned=True), on_error="fail")


def test_a_pose_whose_label_is_missing_from_a_pinned_map_is_skipped_with_its_box_and_points(tmp_path):
    collection = image()
    add(collection, Box(left=1, top=1, right=9, bottom=9, label="person"), "b1", object_id=1)
    add_pose(collection, "p1", object_id=1)
    coco, _, report = write_coco([collection], tmp_path, labels=label_map("car", pinned=True))
    assert coco["annotations"] == []
    assert set(issues_of(report)) == {"b1", "p1", "p1-0", "p1-1", "p1-2"}
    assert {i.code for i in report.issues} == {"coco.label-not-in-map"}
    assert not report.unbalanced()


# ==== options and the capability table ==============================================================
def test_the_format_spec_is_derived_from_the_capability_table():
    spec = get_format("coco")
    assert spec.holds == frozenset(capabilities.HOLDS)
    assert spec.approximates == {case: a.written_as for case, a in capabilities.APPROXIMATES.items()}
    assert spec.options == {"rle", "indent"}
    assert "images" in spec.looks_for and "categories" in spec.looks_for
    for kind in ("polyline", "class", "subtitle", "cube", "point", "made_up"):
        assert capabilities.why_not(kind)
    for kind in ("box", "segment", "binary", "ellipse", "pose"):
        assert capabilities.why_not(kind) is None


def test_every_skip_reason_comes_from_the_table(tmp_path):
    collection = image()
    for ident, definition in {"l": Polyline(geo=[[0, 0], [5, 5]], label="car"), "c": Classification(label="car"),
                              "s": Subtitle(text="x", label="car"), "p": Point(x=1, y=1, label="car")}.items():
        add(collection, definition, ident)
    _, _, report = write_coco([collection], tmp_path)
    by_type = {i.annotation_type: i.message for i in report.issues}
    assert by_type == {kind: capabilities.CANNOT[kind] for kind in ("polyline", "class", "subtitle", "point")}


# ==== the sharded path writes the same bytes ========================================================
def test_shards_write_the_same_bytes_with_skips_and_videos(tmp_path, monkeypatch):
    from dlconvert import parallel

    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    items = []
    for n in range(6):
        collection = image(f"/s{n}.{'mp4' if n == 3 else 'png'}", mimetype="video/mp4" if n == 3 else "image/png")
        add(collection, Box(left=1 + n, top=1, right=9, bottom=9, label="car"), f"b{n}")
        add(collection, DEGENERATE["polygon on a line"], f"d{n}")
        add(collection, Ellipse(x=10, y=10, rx=4, ry=2, label="car"), f"e{n}")
        items.append(collection)
    Converter().save_to_file(tmp_path / "dl", "dataloop", items)
    reports = [Converter(concurrency=workers).run(tmp_path / "dl", "dataloop", tmp_path / f"w{workers}", "coco")
               for workers in (1, 2)]
    for name in ("coco.json", "coco_ids.json", "labelmap.json"):
        assert (tmp_path / "w1" / name).read_bytes() == (tmp_path / "w2" / name).read_bytes()
    assert [(i.kind, i.code, i.annotation_id) for i in reports[0].issues] == [
        (i.kind, i.code, i.annotation_id) for i in reports[1].issues]
    assert Counter(i.code for i in reports[0].issues) == Counter(
        {"coco.degenerate-shape": 5, "coco.ellipse-as-polygon": 5, "coco.not-an-image": 3})
    assert len(json.loads((tmp_path / "w1" / "coco.json").read_text())["images"]) == 5


def test_a_track_on_an_image_item_is_approximated_only_when_it_has_later_frames(tmp_path):
    collection = image()
    one = add(collection, Box(left=1, top=1, right=5, bottom=5, label="car"), "one", frame_num=0)
    two = add(collection, Box(left=1, top=1, right=5, bottom=5, label="car"), "two", object_id=7, frame_num=0)
    collection.add(Box(left=3, top=3, right=9, bottom=9, label="car"), object_id=7, frame_num=4)
    assert one.is_video and len(one.frames) == 1 and len(two.frames) == 2
    coco, _, report = write_coco([collection], tmp_path)
    assert [r["bbox"] for r in coco["annotations"]] == [[1, 1, 4, 4], [1, 1, 4, 4]]  # the first frame of each
    assert issues_of(report) == {"two": [("approximated", "coco.video-first-frame")]}


def test_a_pinned_map_error_names_the_source_and_the_item(tmp_path):
    from dlconvert.errors import FormatError

    collection = image()
    add(collection, Box(left=1, top=1, right=5, bottom=5, label="bus"), "b1")
    Converter().save_to_file(tmp_path / "dl", "dataloop", [collection])
    converter = Converter(options=ConvertOptions(labels=label_map("car", pinned=True)))
    with pytest.raises(FormatError) as caught:
        converter.run(tmp_path / "dl", "dataloop", tmp_path / "coco", "coco")
    # the item's own file and the item
    assert (caught.value.path, caught.value.where) == (str(tmp_path / "dl" / "json" / "a.json"), "item '/a.png'")
    assert not (tmp_path / "coco").exists()


@pytest.mark.parametrize("filename", [None, "/"])
def test_an_item_without_a_file_name_is_skipped_not_listed_with_an_empty_one(tmp_path, filename):
    nameless = AnnotationCollection(filename=filename, width=40, height=30)
    add(nameless, Box(left=1, top=1, right=5, bottom=5, label="car"), "n1")
    photo = image("/photo.png")
    add(photo, Box(left=1, top=1, right=5, bottom=5, label="car"), "i1")
    coco, _, report = write_coco([nameless, photo], tmp_path)
    assert [i["file_name"] for i in coco["images"]] == ["photo.png"]
    assert issues_of(report) == {"n1": [("skipped", "coco.no-file-name")]}
    assert not report.unbalanced()
    back = get_format("coco").read(tmp_path, ConvertOptions(), ConversionReport())  # its own reader takes it
    assert [c.filename for c in back.items] == ["/photo.png"]
