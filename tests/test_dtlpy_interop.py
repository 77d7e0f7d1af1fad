"""Interoperability with the real Dataloop SDK (``dtlpy``), offline.

Both directions, per annotation type: JSON written by dlconvert loads in ``dtlpy`` with the same
geometry, and JSON written by ``dtlpy`` loads in dlconvert with the same geometry (and is written
back byte for byte). What the SDK does differently on purpose or by bug is compared as the SDK
does it (dataloop-format.md section 8):

* B4: the SDK ignores a box's ``angle`` for its bounds, so its ``left … bottom`` are the
  un-rotated edges; dlconvert keeps those as ``Box.left … bottom`` and rotates in ``bounds()``.
* B13: ``dtlpy.Point.right`` is y and ``.bottom`` is x.
* B19: the SDK keeps ring 0 only, so polygons and polylines here have one ring.
* Binary bounds: the SDK's are inclusive pixel indices; dlconvert's are pixel edges (right + 1).
* B21: the SDK sorts an item's annotations by label (and fails on a null label), so annotations
  are matched by label and every label here is a string.

``DATALOOP_PATH`` points at a temporary folder before ``dtlpy`` is imported, so the SDK writes its
cookie and logs there and not in ``~/.dataloop``.
"""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import attributes, boxes, coords, labels, points, star_rings, video_collections

import dlconvert
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
    UndefinedAnnotationType,
)


@pytest.fixture(scope="session")
def dl(tmp_path_factory):
    """The dtlpy module, imported with its home folder in a temporary directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATALOOP_PATH", str(tmp_path_factory.mktemp("dataloop")))
        yield pytest.importorskip("dtlpy")


def as_file(value: dict) -> dict:
    """The JSON as another program reads it from disk (plain types, no shared objects)."""
    return orjson.loads(orjson.dumps(value))


# ==================================================================================================
# dlconvert → dtlpy
# ==================================================================================================
MASK_SHAPE = (48, 64)
POSE_ID = "65aa00000000000000000042"


def _mask() -> np.ndarray:
    mask = np.zeros(MASK_SHAPE, dtype=bool)
    mask[5:30, 7:41] = True
    mask[12:20, 15:25] = False  # a hole
    mask[40, 60] = True  # a lone pixel
    return mask


def dlconvert_definitions() -> dict[str, dlconvert.BaseAnnotationDefinition]:
    """One definition of every type the SDK also has, keyed by its (unique) label."""
    made = [
        Box(left=10.5, top=20, right=110, bottom=80.25, label="box", attributes={"1": "red", "2": True}),
        Box(left=10, top=20, right=50, bottom=40, label="box.rotated", angle=30, description="turned"),
        Polygon(geo=[[114.58, 173.81], [71.13, 99.40], [77.68, 72.62]], label="polygon", attributes={"3": 0.5}),
        Polyline(geo=[[1, 2], [30.5, 4], [60, 70.25]], label="polyline"),
        Point(x=12.25, y=7, label="point"),
        Ellipse(x=50, y=40, rx=20, ry=10, angle=30, label="ellipse"),
        Cube.from_boxes_and_angle(2, 1, 6, 5, 4, 2, 8, 6, label="cube"),
        Classification(label="whole-item", attributes={"4": ["a", "b"]}),
        Segmentation(geo=_mask(), label="ñandú", color=(3, 94, 88)),
        Subtitle(text="Hello — ¿qué tal? 字幕", label="speaker.1"),
        Pose(label="person", template_id="5f9c0000000000000000abcd", instance_id="a1b2c3d4"),
    ]
    return {d.label: d for d in made}


def dlconvert_item() -> AnnotationCollection:
    collection = AnnotationCollection(filename="/street/a.png", width=MASK_SHAPE[1], height=MASK_SHAPE[0])
    for definition in dlconvert_definitions().values():
        annotation = collection.add(definition, object_id=len(collection) + 1)
        if definition.type == "pose":
            annotation.id = POSE_ID
    collection.add(Point(x=5, y=6, label="person.nose"), parent_id=POSE_ID)
    return collection


def load_in_dtlpy(dl, collection: AnnotationCollection):
    data = as_file(collection.to_json())
    loaded = dl.AnnotationCollection.from_json(data)
    # The SDK drops an annotation it cannot parse with only a log line (B7): count them.
    assert len(loaded.annotations) == len(data["annotations"])
    return {a.label: a for a in loaded.annotations}


def test_every_dlconvert_annotation_loads_in_dtlpy(dl):
    collection = dlconvert_item()
    loaded = load_in_dtlpy(dl, collection)
    assert sorted(loaded) == sorted(a.label for a in collection)
    for annotation in collection:
        sdk = loaded[annotation.label]
        assert sdk.type == annotation.type
        assert sdk.attributes == annotation.attributes
        assert sdk.description == annotation.description
        assert sdk.object_id == annotation.object_id
        assert sdk.parent_id == annotation.parent_id
        assert sdk.id == annotation.id
    assert loaded["person.nose"].parent_id == loaded["person"].id == POSE_ID


def _compare_box(sdk, ours: Box):
    # The SDK's bounds ignore the angle (B4): they are the stored, un-rotated edges.
    assert (sdk.left, sdk.top, sdk.right, sdk.bottom) == (ours.left, ours.top, ours.right, ours.bottom)
    assert (sdk.annotation_definition.angle or 0) == (ours.angle or 0)


def _compare_rings(sdk, ours: Polygon | Polyline):
    assert len(ours.parts) == 1  # the SDK keeps ring 0 only (B19)
    assert np.array_equal(np.asarray(sdk.geo, dtype=float), ours.parts[0])
    assert (sdk.left, sdk.top, sdk.right, sdk.bottom) == ours.bounds()


def _compare_point(sdk, ours: Point):
    assert (sdk.x, sdk.y) == (ours.x, ours.y)
    assert (sdk.left, sdk.top) == (ours.x, ours.y)
    assert (sdk.right, sdk.bottom) == (ours.y, ours.x)  # the SDK's swap, B13; ours are x, y
    assert (ours.right, ours.bottom) == (ours.x, ours.y)


def _compare_ellipse(sdk, ours: Ellipse):
    definition = sdk.annotation_definition
    assert (definition.x, definition.y, definition.rx, definition.ry, definition.angle) == (
        ours.x, ours.y, ours.rx, ours.ry, ours.angle)
    assert np.allclose((sdk.left, sdk.top, sdk.right, sdk.bottom), ours.bounds(), rtol=0, atol=1e-9)


def _compare_cube(sdk, ours: Cube):
    assert np.array_equal(np.asarray(sdk.annotation_definition.geo, dtype=float), ours.points())
    assert sdk.annotation_definition.angle == ours.angle


def _compare_segmentation(sdk, ours: Segmentation):
    mask = np.asarray(sdk.annotation_definition.geo)
    assert mask.shape == MASK_SHAPE
    assert np.array_equal(mask > 0.5, ours.geo)
    # The SDK's bounds are inclusive pixel indices; ours are pixel edges.
    left, top, right, bottom = ours.bounds()
    assert (sdk.left, sdk.top, sdk.right, sdk.bottom) == (left, top, right - 1, bottom - 1)


def _compare_subtitle(sdk, ours: Subtitle):
    assert sdk.annotation_definition.text == ours.text


def _compare_pose(sdk, ours: Pose):
    assert (sdk.annotation_definition.template_id, sdk.annotation_definition.instance_id) == (
        ours.template_id, ours.instance_id)


def _compare_classification(sdk, ours: Classification):
    assert (sdk.left, sdk.top, sdk.right, sdk.bottom) == (0, 0, 0, 0) == ours.bounds()


COMPARE = {
    "box": _compare_box,
    "segment": _compare_rings,
    "polyline": _compare_rings,
    "point": _compare_point,
    "ellipse": _compare_ellipse,
    "cube": _compare_cube,
    "binary": _compare_segmentation,
    "subtitle": _compare_subtitle,
    "pose": _compare_pose,
    "class": _compare_classification,
}


@pytest.mark.parametrize("label", sorted(dlconvert_definitions()))
def test_dlconvert_geometry_reads_the_same_in_dtlpy(dl, label):
    ours = dlconvert_definitions()[label]
    sdk = load_in_dtlpy(dl, dlconvert_item())[label]
    assert sdk.type == ours.type
    COMPARE[ours.type](sdk, ours)


def test_rotated_box_bounds_differ_from_the_sdk_only_by_the_angle(dl):
    ours = dlconvert_definitions()["box.rotated"]
    sdk = load_in_dtlpy(dl, dlconvert_item())["box.rotated"]
    assert sdk.annotation_definition.angle == 30
    assert (sdk.left, sdk.top, sdk.right, sdk.bottom) == Box(left=10, top=20, right=50, bottom=40).bounds()
    assert ours.bounds() != (sdk.left, sdk.top, sdk.right, sdk.bottom)  # we apply the angle (B4)


# ==================================================================================================
# dtlpy → dlconvert
# ==================================================================================================
def dtlpy_definitions(dl) -> dict:
    """One SDK definition per type the SDK can write offline, keyed by its (unique) label."""
    mask = _mask().astype(float)
    made = [
        dl.Box(left=10.5, top=20, right=110, bottom=80.25, label="box", attributes={"1": "red"}),
        dl.Box(left=10, top=20, right=50, bottom=40, label="box.rotated", angle=15),
        dl.Polygon(geo=np.array([[114.58, 173.81], [71.13, 99.40], [77.68, 72.62]]), label="polygon"),
        dl.Polyline(geo=np.array([[1, 2], [30.5, 4], [60, 70.25]]), label="polyline"),
        dl.Point(x=12.25, y=7, label="point"),
        dl.Ellipse(x=50, y=40, rx=20, ry=10, angle=30, label="ellipse"),
        dl.Cube(label="cube", front_tl=[0, 0], front_tr=[5, 0], front_br=[5, 5], front_bl=[0, 5],
                back_tl=[1, 1], back_tr=[6, 1], back_br=[6, 6], back_bl=[1, 6]),
        dl.Classification(label="whole-item", attributes={"2": True}),
        dl.Segmentation(geo=mask, label="ñandú"),
        dl.Subtitle(text="Hello — 字幕", label="speaker.1"),
        dl.Pose(label="person", template_id="5f9c0000000000000000abcd", instance_id="a1b2c3d4"),
        # Types dlconvert carries through untouched.
        dl.Note(left=1, top=2, right=30, bottom=40, label="note", messages=[], status="issue",
                creator="a@b.c", assignee="a@b.c", create_time=0),
        dl.Cube3d(label="cube3d", position=[1, 2, 3], scale=[4, 5, 6], rotation=[0, 0, 1.57]),
        dl.Gis(annotation_type=dl.GisType.BOX, geo=[[[1.0, 2.0], [3.0, 4.0]]], label="gis"),
        dl.Text(text_type="block", start=0, end=5, label="text-mark"),
        dl.RefImage(ref="http://example.com/y.png", label="ref"),
    ]
    return {d.label: d for d in made}


def dtlpy_item(dl, definitions) -> dict:
    collection = dl.AnnotationCollection()
    for definition in definitions:
        collection.add(annotation_definition=definition)
    return as_file(collection.to_json())


def test_every_dtlpy_annotation_loads_in_dlconvert_and_writes_back_unchanged(dl):
    data = dtlpy_item(dl, dtlpy_definitions(dl).values())
    before = orjson.dumps(data)
    collection = AnnotationCollection.from_json(data)
    assert [a.label for a in collection] == [a["label"] for a in data["annotations"]]
    assert [a.type for a in collection] == [a["type"] for a in data["annotations"]]
    assert orjson.dumps(data) == before  # reading did not touch the input
    assert orjson.dumps(collection.to_json()["annotations"]) == orjson.dumps(data["annotations"])


def _read_in_dlconvert(dl, label):
    sdk = dtlpy_definitions(dl)[label]
    data = dtlpy_item(dl, [sdk])
    (annotation,) = AnnotationCollection.from_json(data).annotations
    return sdk, annotation.annotation_definition, data["annotations"][0]


@pytest.mark.parametrize("label", ["box", "box.rotated"])
def test_dtlpy_box_reads_the_same(dl, label):
    sdk, ours, _ = _read_in_dlconvert(dl, label)
    assert isinstance(ours, Box)
    assert (ours.left, ours.top, ours.right, ours.bottom) == (sdk.left, sdk.top, sdk.right, sdk.bottom)
    assert (ours.angle or 0) == (sdk.angle or 0)
    assert ours.attributes == sdk.attributes


@pytest.mark.parametrize("label, cls", [("polygon", Polygon), ("polyline", Polyline)])
def test_dtlpy_rings_read_the_same(dl, label, cls):
    sdk, ours, _ = _read_in_dlconvert(dl, label)
    assert isinstance(ours, cls)
    assert len(ours.parts) == 1
    assert np.array_equal(ours.parts[0], sdk.geo)
    assert ours.bounds() == (sdk.left, sdk.top, sdk.right, sdk.bottom)


def test_dtlpy_point_reads_the_same(dl):
    sdk, ours, _ = _read_in_dlconvert(dl, "point")
    assert isinstance(ours, Point)
    assert (ours.x, ours.y) == (sdk.x, sdk.y) == (ours.left, ours.top)


def test_dtlpy_ellipse_reads_the_same(dl):
    sdk, ours, _ = _read_in_dlconvert(dl, "ellipse")
    assert isinstance(ours, Ellipse)
    assert (ours.x, ours.y, ours.rx, ours.ry, ours.angle) == (sdk.x, sdk.y, sdk.rx, sdk.ry, sdk.angle)
    assert np.allclose(ours.bounds(), (sdk.left, sdk.top, sdk.right, sdk.bottom), rtol=0, atol=1e-9)


def test_dtlpy_cube_reads_the_same(dl):
    sdk, ours, _ = _read_in_dlconvert(dl, "cube")
    assert isinstance(ours, Cube)
    assert np.array_equal(ours.points(), np.asarray(sdk.geo, dtype=float))
    assert ours.angle == sdk.angle == 0


def test_dtlpy_segmentation_reads_the_same(dl):
    sdk, ours, _ = _read_in_dlconvert(dl, "ñandú")
    assert isinstance(ours, Segmentation)
    assert np.array_equal(ours.geo, _mask())
    assert ours.color == (255, 255, 255)  # the SDK's default colour
    left, top, right, bottom = ours.bounds()
    assert (sdk.left, sdk.top, sdk.right, sdk.bottom) == (left, top, right - 1, bottom - 1)


def test_dtlpy_classification_subtitle_and_pose_read_the_same(dl):
    sdk, ours, _ = _read_in_dlconvert(dl, "whole-item")
    assert isinstance(ours, Classification) and ours.attributes == sdk.attributes == {"2": True}
    sdk, ours, _ = _read_in_dlconvert(dl, "speaker.1")
    assert isinstance(ours, Subtitle) and ours.text == sdk.text
    sdk, ours, _ = _read_in_dlconvert(dl, "person")
    assert isinstance(ours, Pose)
    assert (ours.template_id, ours.instance_id) == (sdk.template_id, sdk.instance_id)


@pytest.mark.parametrize("label", ["note", "cube3d", "gis", "text-mark", "ref"])
def test_dtlpy_types_dlconvert_does_not_model_pass_through(dl, label):
    _, ours, raw = _read_in_dlconvert(dl, label)
    assert isinstance(ours, UndefinedAnnotationType)
    assert ours.type == raw["type"]
    assert orjson.dumps(ours.to_coordinates()) == orjson.dumps(raw["coordinates"])


# ==================================================================================================
# Hypothesis: random boxes, polygons and points, both ways
# ==================================================================================================
interop = settings(max_examples=25, deadline=None)


@st.composite
def sdk_safe_items(draw):
    """A dlconvert item with one box, one single-ring polygon and one point (string labels)."""
    collection = AnnotationCollection(filename="/a/b.jpg", width=1000, height=1000)
    box = draw(boxes())
    polygon = Polygon(geo=np.array(draw(star_rings())))
    point = draw(points())
    for definition in (box, polygon, point):
        definition.label = draw(labels())
        definition.attributes = draw(attributes())
        collection.add(definition)
    return collection


@interop
@given(collection=sdk_safe_items())
def test_random_dlconvert_shapes_read_the_same_in_dtlpy(dl, collection):
    data = as_file(collection.to_json())
    loaded = dl.AnnotationCollection.from_json(data).annotations
    assert len(loaded) == 3
    by_type = {a.type: a for a in loaded}
    for annotation in collection:
        sdk = by_type[annotation.type]
        assert sdk.label == annotation.label
        assert sdk.attributes == annotation.attributes
        COMPARE[annotation.type](sdk, annotation.annotation_definition)


@interop
@given(
    box=st.tuples(coords(), coords(), coords(), coords()),
    angle=st.one_of(st.none(), st.floats(-360, 360).filter(bool)),
    ring=star_rings(),
    point=st.tuples(coords(), coords()),
    names=st.lists(labels(), min_size=3, max_size=3),
    attrs=attributes(),
)
def test_random_dtlpy_shapes_read_the_same_in_dlconvert(dl, box, angle, ring, point, names, attrs):
    x1, y1, x2, y2 = box
    made = [
        dl.Box(left=min(x1, x2), top=min(y1, y2), right=max(x1, x2), bottom=max(y1, y2), label=names[0],
               angle=angle, attributes=attrs),
        dl.Polygon(geo=np.array(ring), label=names[1]),
        dl.Point(x=point[0], y=point[1], label=names[2]),
    ]
    data = dtlpy_item(dl, made)
    collection = AnnotationCollection.from_json(data)
    assert len(collection) == 3
    by_type = {a.type: a.annotation_definition for a in collection}
    sdk_box, sdk_polygon, sdk_point = made
    ours = by_type["box"]
    assert (ours.left, ours.top, ours.right, ours.bottom) == (sdk_box.left, sdk_box.top, sdk_box.right, sdk_box.bottom)
    assert (ours.angle or 0) == (angle or 0)
    assert ours.attributes == attrs
    if angle is None or angle % 360 == 0:
        assert ours.bounds() == (sdk_box.left, sdk_box.top, sdk_box.right, sdk_box.bottom)
    else:  # rotated about the centre: same centre, same area
        left, top, right, bottom = ours.bounds()
        assert math.isclose((left + right) / 2, (sdk_box.left + sdk_box.right) / 2, abs_tol=1e-6)
        assert math.isclose((top + bottom) / 2, (sdk_box.top + sdk_box.bottom) / 2, abs_tol=1e-6)
    assert np.array_equal(by_type["segment"].parts[0], np.asarray(sdk_polygon.geo, dtype=float))
    assert (by_type["point"].x, by_type["point"].y) == (sdk_point.x, sdk_point.y)
    assert [a.label for a in collection] == names
    # And written back byte for byte.
    assert orjson.dumps(collection.to_json()["annotations"]) == orjson.dumps(data["annotations"])


@interop
@given(collection=video_collections(shapes=(boxes(rotated=False), points())))
def test_random_dlconvert_video_reads_the_same_in_dtlpy(dl, collection):
    """Tracks written by dlconvert hold the same state on every frame in the SDK.

    Both hold the last stored state (no interpolation) and give a hidden state marked not visible
    (the SDK also draws it, B24; dlconvert's pictures leave it out, ``visible_at``).
    """
    data = as_file(collection.to_json())
    loaded = dl.AnnotationCollection.from_json(data).annotations
    assert len(loaded) == len(collection)
    by_object = {a.object_id: a for a in loaded}
    for track in collection:
        sdk = by_object[track.object_id]
        assert (sdk.start_frame, sdk.end_frame) == (track.start_frame, track.end_frame)
        for frame in range(track.start_frame, track.end_frame + 1):
            ours, theirs = track.get_frame(frame), sdk.frames[frame]
            assert ours.object_visible == theirs.object_visible
            assert (track.visible_at(frame) is None) == (not theirs.object_visible)
            assert theirs.fixed == (frame in track.frames and track.frames[frame].fixed)
            definition = ours.annotation_definition
            if definition.type == "box":
                assert (theirs.left, theirs.top, theirs.right, theirs.bottom) == definition.bounds()
            else:
                assert (theirs.annotation_definition.x, theirs.annotation_definition.y) == (definition.x, definition.y)
