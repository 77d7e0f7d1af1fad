"""The Dataloop SDK documentation's examples, run as written against dlconvert (issue 16).

Each test is one documented example: the example's own code, with ``dl.`` swapped for
``dlconvert.`` where the SDK would need the platform (an item from ``dataset.items.get`` is an
``AnnotationCollection`` describing the same item). Where the real ``dtlpy`` can run the same call
offline, the test runs it too and compares: the annotation JSON (what each carries with meaning:
type, label, coordinates, description, metadata; not the SDK's null platform fields such as
``url`` or ``hash``), and pictures where the SDK is not wrong. Where dlconvert deliberately differs
(the README's "differences from the SDK" table), the test says so and checks dlconvert's side.

Sources: the SDK's docstrings (dtlpy 1.126.5: ``AnnotationCollection.show``/``download``,
``Annotation.download``/``add_frames``/``add_frame``), the SDK tutorials (image annotations,
segmentation, bounding box and cuboid, video, audio), and ``../shared/docs/dataloop-format.md``.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import orjson
import pytest
from PIL import Image

import dlconvert
from dlconvert import AnnotationCollection

W, H = 320, 240


@pytest.fixture(scope="session")
def dl(tmp_path_factory):
    """The dtlpy module, imported with its home folder in a temporary directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATALOOP_PATH", str(tmp_path_factory.mktemp("dataloop")))
        yield pytest.importorskip("dtlpy")


@pytest.fixture
def offline_frames(dl, monkeypatch):
    """Let the SDK serialise video annotations offline: it asks the platform for label colours (B25)."""
    monkeypatch.setattr(dl.entities.FrameAnnotation, "color", property(lambda self: (255, 255, 255)))


def sdk_item(dl, filename: str = "/a.jpg", mimetype: str = "image/jpeg", fps: float | None = None):
    """An SDK item entity made offline (what ``dataset.items.get`` returns), and dlconvert's same item."""
    system = {"mimetype": mimetype, "width": W, "height": H}
    metadata = {"system": system} if fps is None else {"fps": fps, "system": system}
    item_json = {"id": "64b0c0ffee0000000000a001", "datasetId": "64b0c0ffee0000000000d001", "dir": "/",
                 "filename": filename, "name": filename.rsplit("/", 1)[-1], "type": "file", "metadata": metadata}
    item = dl.Item.from_json(_json=item_json, client_api=dl.client_api, dataset=None, project=None,
                             is_fetched=True)
    ours = AnnotationCollection(filename=filename, mimetype=mimetype, width=W, height=H, fps=fps)
    return item, ours


def essentials(annotation: dict) -> dict:
    """What an annotation's JSON says (not the SDK's null platform fields, nor an empty ``user``)."""
    out = {key: annotation.get(key) for key in ("type", "label", "coordinates", "description")}
    metadata = copy.deepcopy(annotation.get("metadata") or {})
    if not metadata.get("user"):
        metadata.pop("user", None)
    out["metadata"] = metadata
    return json.loads(json.dumps(out))  # plain values: 10 == 10.0 either way


def same_annotations(sdk_collection, ours: AnnotationCollection) -> None:
    theirs = [essentials(a) for a in sdk_collection.to_json()["annotations"]]
    mine = [essentials(a) for a in ours.to_json()["annotations"]]
    assert mine == theirs


# ==================================================================================================
# Image annotations (tutorial "Image annotations", the builder)
# ==================================================================================================
def _image_builder(lib):
    builder = lib.AnnotationCollection()
    builder.add(annotation_definition=lib.Box(top=10, left=10, bottom=100, right=100, label='my-label'))
    builder.add(annotation_definition=lib.Box(top=10, left=10, bottom=100, right=100, angle=80, label='my-label'))
    builder.add(annotation_definition=lib.Classification(label='sedan'))
    builder.add(annotation_definition=lib.Point(x=100, y=100, label='my-label', attributes={'color': 'red'}))
    builder.add(annotation_definition=lib.Cube.from_boxes_and_angle(
        label="label", front_top=100, front_left=100, front_right=300, front_bottom=300,
        back_top=200, back_left=200, back_right=400, back_bottom=400, angle=0))
    builder.add(annotation_definition=lib.Cube(
        label="label", front_tl=[200, 200], front_tr=[500, 250], front_br=[500, 550], front_bl=[200, 500],
        back_tl=[300, 300], back_tr=[600, 350], back_br=[600, 650], back_bl=[300, 600]))
    builder.add(annotation_definition=lib.Ellipse(x=50, y=40, rx=20, ry=10, angle=30, label='label'))
    builder.add(annotation_definition=lib.Polygon(geo=[[100, 50], [80, 120], [110, 130]], label='my-label'))
    builder.add(annotation_definition=lib.Polyline(geo=[[100, 50], [80, 120], [110, 130]], label='my-label'))
    builder.add(annotation_definition=lib.Box(top=10, left=10, bottom=100, right=100, label='my-child-label'),
                parent_id="65aa00000000000000000001")
    builder.add(annotation_definition=lib.Box(top=1, left=2, bottom=3, right=4, label='prediction'),
                model_info={'confidence': 0.87, 'name': 'yolov8'})
    return builder


def test_image_annotation_examples_write_the_sdks_json(dl):
    sdk = _image_builder(dl)
    for annotation in sdk.annotations:  # the SDK's Polygon needs an array (its tutorial passes a list)
        if annotation.type in ("segment", "polyline"):
            annotation.annotation_definition.geo = np.asarray(annotation.annotation_definition.geo)
    same_annotations(sdk, _image_builder(dlconvert))


def test_annotation_type_enums_and_constants(dl):
    builder = _image_builder(dlconvert)
    assert [a.type == dlconvert.AnnotationType.BOX for a in builder][:3] == [True, True, False]
    assert dlconvert.ANNOTATION_TYPE_POLYGON == dl.ANNOTATION_TYPE_POLYGON == "segment"
    for member in dl.AnnotationType:  # the same names and values as the SDK's enum
        assert dlconvert.AnnotationType[member.name].value == member.value
    # The SDK's own enum is taken wherever a type is.
    gis = dlconvert.UndefinedAnnotationType(dl.AnnotationType.GIS, {"geo_type": "point"})
    assert gis.type == "gis" and type(gis.type) is str
    assert dlconvert.geometry.annotation_type_name(dl.AnnotationType.SEGMENTATION) == "binary"
    # ... also in a JSON dict built in Python with the enum as its type.
    raw = {"type": dl.AnnotationType.BOX, "label": "a", "coordinates": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}
    annotation = dlconvert.Annotation.from_json(raw)
    assert isinstance(annotation.annotation_definition, dlconvert.Box) and annotation.type == "box"
    assert orjson.loads(orjson.dumps(annotation.to_json()))["type"] == "box"


def test_note_cube3d_and_description_write_the_sdks_json(dl, monkeypatch):
    monkeypatch.setattr(dl.client_api, "info", lambda: {"user_email": "a@b.c"}, raising=False)
    messages = [{"id": "m1", "creator": "a@b.c", "time": 1700000000000, "body": "check"}]
    made = {}
    for lib in (dl, dlconvert):
        builder = lib.AnnotationCollection()
        builder.add(annotation_definition=lib.Note(left=1, top=2, right=30, bottom=40, label="note",
                                                   messages=copy.deepcopy(messages) if lib is dlconvert else
                                                   [dl.entities.annotation_definitions.note.Message(
                                                       msg_id="m1", creator="a@b.c", msg_time=1700000000000,
                                                       body="check")],
                                                   status="issue", creator="a@b.c", create_time=0))
        builder.add(annotation_definition=lib.Cube3d(label="cube3d", position=[1, 2, 3], scale=[4, 5, 6],
                                                     rotation=[0, 0, 1.57]))
        builder.add(annotation_definition=lib.Description(text="this is item description"))
        made[lib.__name__] = builder
    same_annotations(made["dtlpy"], made["dlconvert"])
    note = made["dlconvert"][0]
    assert note.annotation_definition.bounds() == (1, 2, 30, 40) and note.status == "issue"
    # Read back, they are carried through as read (and still have their class).
    again = AnnotationCollection.from_json(made["dlconvert"].to_json())
    assert [type(a.annotation_definition).__name__ for a in again] == ["Note", "Cube3d", "Description"]
    assert orjson.dumps(again.to_json()) == orjson.dumps(made["dlconvert"].to_json())


def test_builder_print_and_annotation_geo(capsys):
    builder = _image_builder(dlconvert)
    builder.print()
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["id", "type", "label", "object_id", "left", "top", "right", "bottom"]
    assert len(table) == 1 + len(builder) and table[1].split()[:2] == ["box", "my-label"]
    assert builder.print(to_return=True) == "\n".join(table)
    polygon = next(a for a in builder if a.type == "segment")
    assert np.array_equal(polygon.geo, [[100, 50], [80, 120], [110, 130]])
    polygon.geo = [[0, 0], [5, 0], [5, 5]]
    assert polygon.annotation_definition.bounds() == (0, 0, 5, 5)


def test_annotation_from_json_then_show_as_the_advanced_tutorial(tmp_path):
    """``dl.Annotation.from_json(annotation)`` then ``show(width=640, height=480, thickness=3, color=(255, 0, 0))``."""
    data = {"annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 10, "y": 20}, {"x": 60, "y": 70}]}]}
    for annotation in data['annotations']:
        annotations = dlconvert.Annotation.from_json(annotation)
        mask = annotations.show(width=640, height=480, thickness=3, color=(255, 0, 0))
        mask = Image.fromarray(mask.astype(np.uint8))
        assert mask.size == (640, 480) and mask.mode == "RGBA"
        red = np.asarray(mask)[:, :, 0] == 255
        assert red[20:71, 10:61].any() and not red[30:60, 20:50].any()  # a 3-pixel outline, not filled


# ==================================================================================================
# Segmentation (tutorials "Segmentation", "Bounding box and cuboid")
# ==================================================================================================
def _two_blobs() -> np.ndarray:
    mask = np.zeros((H, W), dtype=np.uint8)
    mask[50:100, 200:250] = 1
    mask[150:160, 20:45] = 1
    return mask


def test_segmentation_example_and_its_pictures(dl):
    item, builder = sdk_item(dl)
    mask = np.zeros(shape=(item.height, item.width), dtype=np.uint8)
    mask[50:100, 200:250] = 1
    builder.add(annotation_definition=dlconvert.Segmentation(geo=mask, label='my-label'))
    picture = builder.show()
    assert picture.shape == (H, W, 4) and np.array_equal(picture[:, :, 3] > 0, mask.astype(bool))
    for annotation in builder:
        assert np.array_equal(annotation.show()[:, :, 3] > 0, mask.astype(bool))  # the item's size
    # INSTANCE runs offline in the SDK: the same picture.
    sdk = dl.AnnotationCollection(item=item)
    sdk.add(annotation_definition=dl.Segmentation(geo=mask, label='my-label'))
    ids = {"my-label": 3}
    theirs = sdk.show(annotation_format=dl.ViewAnnotationOptions.INSTANCE, label_instance_dict=ids,
                      height=H, width=W)
    ours = builder.show(annotation_format=dlconvert.ViewAnnotationOptions.INSTANCE, label_instance_dict=ids)
    assert np.array_equal(ours, theirs)


def test_the_sdks_view_enum_and_constants_are_taken(dl):
    builder = AnnotationCollection(width=60, height=50)
    builder.add(dlconvert.Box(left=5, top=5, right=55, bottom=45, label="a"))
    expected = builder.show(annotation_format="mask")
    for view in (dl.ViewAnnotationOptions.MASK, dl.VIEW_ANNOTATION_OPTIONS_MASK, dlconvert.VIEW_ANNOTATION_OPTIONS_MASK,
                 dlconvert.ViewAnnotationOptions.MASK):
        assert np.array_equal(builder.show(annotation_format=view), expected)


def test_show_example_draws_outlines_of_thickness_1_by_default():
    """``builder.show(image=..., thickness=1, annotation_format=dl.VIEW_ANNOTATION_OPTIONS_MASK)``: 1 is the
    documented default, -1 fills (a 50×40 box: its outline, or its 2,000 pixels)."""
    builder = AnnotationCollection(width=100, height=80)
    builder.add(dlconvert.Box(left=10, top=10, right=60, bottom=50, label="a"))
    image = np.zeros((80, 100, 3), dtype=np.uint8)
    default = builder.show(image=image, annotation_format=dlconvert.VIEW_ANNOTATION_OPTIONS_MASK)
    given = builder.show(image=image, thickness=1, annotation_format=dlconvert.VIEW_ANNOTATION_OPTIONS_MASK)
    assert np.array_equal(default, given)
    drawn = np.count_nonzero(default[:, :, :3].any(axis=2))
    assert 170 <= drawn <= 190  # one pixel around a 50×40 box
    filled = builder.show(thickness=-1, annotation_format="instance")
    assert np.count_nonzero(filled) == 2000


def test_polygon_to_mask_and_back_as_the_tutorial(dl):
    item, builder = sdk_item(dl)
    square = np.array([[10, 10], [20, 10], [20, 20], [10, 20]])
    segmentation = dlconvert.Segmentation.from_polygon(geo=square, label="my-label", shape=(item.height, item.width))
    builder.add(segmentation)
    # dlconvert fills the pixels whose centre is inside (COCO's rule, pycocotools' area: 100); the SDK
    # also fills the boundary pixels of the truncated vertices (121) — a documented difference.
    sdk = dl.Segmentation.from_polygon(geo=square, label="my-label", shape=(H, W))
    assert segmentation.area == 100 and int(np.asarray(sdk.geo).sum()) == 121
    assert np.asarray(sdk.geo)[segmentation.geo].all()  # ours is the SDK's without its right/bottom edge
    assert np.argwhere(segmentation.geo).min(axis=0).tolist() == [10, 10]
    assert np.argwhere(segmentation.geo).max(axis=0).tolist() == [19, 19]
    builder.add(dlconvert.Polygon.from_segmentation(mask=builder[0].annotation_definition.geo,
                                                    label=builder[0].label, max_instances=None))
    assert [a.type for a in builder] == ["binary", "segment"]
    assert builder[1].annotation_definition.area == 100  # back to the same square


def test_mask_to_polygons_adds_one_per_part_from_a_list():
    builder = AnnotationCollection(width=W, height=H)
    builder.add(dlconvert.Segmentation(geo=_two_blobs(), label="blobs"))
    annotation = builder[0]
    builder.add(dlconvert.Polygon.from_segmentation(mask=annotation.annotation_definition.geo,
                                                    label=annotation.label, max_instances=None))
    assert [a.type for a in builder] == ["binary", "segment", "segment"]
    builder.add(dlconvert.Polygon.from_segmentation(annotation.geo, max_instances=2, label=annotation.label))
    assert len(builder) == 5


def test_segmentation_to_box_gives_one_box_per_part(dl):
    """``builder.add(annotation_definition=annotation.annotation_definition.to_box())``."""
    _, builder = sdk_item(dl)
    segmentation = dlconvert.Segmentation(geo=_two_blobs(), label="blobs")
    builder.add(annotation_definition=segmentation.to_box())
    sdk_boxes = dl.Segmentation(geo=_two_blobs(), label="blobs").to_box()
    assert [a.type for a in builder] == ["box", "box"] and len(sdk_boxes) == 2
    ours = sorted(a.annotation_definition.bounds() for a in builder)
    theirs = sorted((b.left, b.top, b.right, b.bottom) for b in sdk_boxes)
    # dlconvert's boxes lie on pixel edges (as pycocotools' toBbox); the SDK's on the last pixels' indices.
    assert ours == [(left, top, right + 1, bottom + 1) for left, top, right, bottom in theirs]
    assert [b.bounds() for b in dlconvert.Box.from_segmentation(_two_blobs(), label="x")] == [
        (200, 50, 250, 100), (20, 150, 45, 160)]  # largest first
    # A hole is not a part (the SDK adds a box per hole, B17).
    ring = np.zeros((20, 20), dtype=bool)
    ring[2:18, 2:18] = True
    ring[6:14, 6:14] = False
    assert [b.bounds() for b in dlconvert.Box.from_segmentation(ring)] == [(2, 2, 18, 18)]
    assert len(dl.Box.from_segmentation(ring.astype(float), label="x")) == 2
    assert dlconvert.Box.from_segmentation(np.zeros((4, 4))) == []


def test_from_instance_mask_fills_the_builder(dl):
    item, builder = sdk_item(dl)
    rng = np.random.default_rng(7)
    mask = rng.integers(low=0, high=2, size=(item.height, item.width))
    instance_map = {"background": 0, "foreground": 1}
    assert builder.from_instance_mask(mask=mask, instance_map=instance_map) is builder
    sdk = dl.AnnotationCollection(item=item)
    sdk.from_instance_mask(mask=mask, instance_map=instance_map)
    assert [a.label for a in builder] == [a.label for a in sdk.annotations] == ["background", "foreground"]
    for ours, theirs in zip(builder, sdk.annotations, strict=True):
        assert np.array_equal(ours.annotation_definition.geo, np.asarray(theirs.annotation_definition.geo) > 0)
        assert ours.object_id is None is theirs.object_id
    # The tutorial's list form (value = position) gives the same; on the class, a new collection.
    again = AnnotationCollection.from_instance_mask(mask=mask, instance_map=["background", "foreground"])
    assert again is not builder and [a.label for a in again] == ["background", "foreground"]
    assert (again.width, again.height) == (W, H)


# ==================================================================================================
# download (the SDK's docstrings)
# ==================================================================================================
def test_download_examples(tmp_path):
    builder = AnnotationCollection(filename="/street/a.jpg", width=60, height=50)
    builder.add(dlconvert.Box(left=5, top=5, right=55, bottom=45, label="a"))
    filepath = builder.download(filepath=tmp_path / "mask.png", annotation_format=dlconvert.ViewAnnotationOptions.MASK)
    assert np.asarray(Image.open(filepath)).shape == (50, 60, 4)
    assert np.array_equal(np.asarray(Image.open(filepath)), builder.show())  # thickness 1 both
    # JSON is the default, and a path without an extension is a folder named after the item.
    written = builder.download(filepath=tmp_path / "out")
    assert written == tmp_path / "out" / "a.json"
    assert AnnotationCollection.from_json_file(written) == builder
    filepath = builder[0].download(filepath=tmp_path / "one.png",
                                   annotation_format=dlconvert.ViewAnnotationOptions.MASK)
    assert np.array_equal(np.asarray(Image.open(filepath)), builder.show())


def test_download_turns_the_picture_back_to_the_stored_orientation(tmp_path):
    builder = AnnotationCollection(width=30, height=20, orientation=6)  # stored 30×20, shown 20×30
    builder.add(dlconvert.Box(left=0, top=0, right=5, bottom=3, label="a"))
    shown = builder.show(thickness=-1, annotation_format="instance")
    assert shown.shape == (30, 20)
    path = builder.download(tmp_path / "ids.png", annotation_format="instance", thickness=-1, orientation=6)
    stored = np.asarray(Image.open(path))
    assert stored.shape == (20, 30)
    # EXIF 6 shows the stored picture turned 90° clockwise: doing so gives back the picture as shown.
    assert np.array_equal(np.rot90(stored, -1), shown)


# ==================================================================================================
# JSON readers with the SDK's arguments
# ==================================================================================================
def test_from_json_takes_the_sdks_arguments(dl):
    track = {"type": "box", "label": "a", "coordinates": [{"x": 0, "y": 0}, {"x": 4, "y": 4}],
             "metadata": {"system": {"objectId": "1", "frame": 2, "endFrame": 4}}}
    collection = AnnotationCollection.from_json([copy.deepcopy(track)], is_video=True, fps=10, height=H, width=W)
    assert (collection.width, collection.height, collection.fps) == (W, H, 10)
    assert collection[0].is_video and (collection[0].start_frame, collection[0].end_frame) == (2, 4)
    item, _ = sdk_item(dl, "/v.mp4", "video/mp4", fps=25)
    collection = AnnotationCollection.from_json({"annotations": [copy.deepcopy(track)]}, item=item)
    assert collection.fps == 25 and collection.is_video and collection[0].is_video
    annotation = dlconvert.Annotation.from_json(copy.deepcopy(track), item=item)
    assert annotation.is_video and annotation.fps == 25
    assert annotation.show(thickness=-1, annotation_format="instance").shape == (H, W)  # the item's size
    still = dlconvert.Annotation.from_json(copy.deepcopy(track))  # no item: a stored state makes a track
    assert not still.is_video


def test_a_snapshot_without_fixed_is_not_a_keyframe_as_the_sdk_reads_it(dl):
    item_json = {"filename": "/v.mp4", "metadata": {"fps": 10, "system": {"mimetype": "video/mp4"}},
                 "annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 0, "y": 0}, {"x": 4, "y": 4}],
                                  "metadata": {"system": {"objectId": "1", "frame": 0, "endFrame": 3,
                                                          "snapshots_": [{"frame": 2, "label": "a", "data": [
                                                              {"x": 1, "y": 0}, {"x": 5, "y": 4}]}]}},
                                  "creator": None, "createdAt": None, "updatedBy": None, "updatedAt": None}]}
    ours = AnnotationCollection.from_json(copy.deepcopy(item_json))[0]
    theirs = dl.AnnotationCollection.from_json(copy.deepcopy(item_json)).annotations[0]
    assert ours.frames[2].fixed is theirs.frames[2].fixed is False
    assert orjson.dumps(AnnotationCollection.from_json(copy.deepcopy(item_json)).to_json()) == orjson.dumps(item_json)


# ==================================================================================================
# Video (tutorial "Video annotations", and create_video_annotations)
# ==================================================================================================
def test_video_builder_example_writes_the_sdks_json(dl, offline_frames):
    results = {}
    for lib in (dl, dlconvert):
        item, ours = sdk_item(dl, "/my_item.mp4", "video/mp4", fps=25)
        builder = dl.AnnotationCollection(item=item) if lib is dl else ours
        for i_frame in range(12):
            for i_detection in range(3):
                builder.add(annotation_definition=lib.Box(top=2 * i_frame, left=2 * i_detection,
                                                          bottom=2 * i_frame + 10, right=2 * i_detection + 100,
                                                          label="my-label"),
                            frame_num=i_frame, object_id=i_detection + 1)
                if i_frame > 5:
                    builder.add(annotation_definition=lib.Point(x=2 * i_frame, y=2 * i_detection, label="moving point"),
                                frame_num=i_frame, object_id=20 + (i_detection + 1))
        results[lib.__name__] = builder
    same_annotations(results["dtlpy"], results["dlconvert"])
    builder = results["dlconvert"]
    frame_annotations = builder.get_frame(frame_num=7)
    assert len(frame_annotations) == 6 and frame_annotations.show().shape == (H, W, 4)
    for annotation in frame_annotations:
        assert annotation.show().shape == (H, W, 4)
        assert annotation.label in ("my-label", "moving point")


def test_video_single_annotation_example(dl, offline_frames):
    """``annotation = dl.Annotation.new(item=item)`` then ``add_frame`` per frame."""
    made = {}
    for lib in (dl, dlconvert):
        item, ours = sdk_item(dl, "/my_item.mp4", "video/mp4", fps=25)
        annotation = lib.Annotation.new(item=item if lib is dl else ours)
        for i_frame in range(10):
            annotation.add_frame(annotation_definition=lib.Box(top=2 * i_frame, left=2 * (i_frame + 10),
                                                               bottom=2 * (i_frame + 50), right=2 * (i_frame + 100),
                                                               label="my-label"),
                                 frame_num=i_frame)
        made[lib.__name__] = annotation
    assert essentials(made["dlconvert"].to_json()) == essentials(made["dtlpy"].to_json())
    # Reading the frames of an annotation (tutorial section 4).
    annotation = made["dlconvert"]
    for key in annotation.frames:
        frame = annotation.frames[key]
        theirs = made["dtlpy"].frames[key]
        assert (frame.left, frame.right, frame.top, frame.bottom) == (theirs.left, theirs.right, theirs.top,
                                                                      theirs.bottom)
    for frame_num, frame in annotation.frames.items():
        assert frame.frame_num == frame_num and frame.fixed


def test_hidden_frame_is_returned_with_its_visibility_as_the_sdk(dl, offline_frames):
    item, builder = sdk_item(dl, "/v.mp4", "video/mp4", fps=25)
    sdk = dl.AnnotationCollection(item=item)
    for lib, target in ((dl, sdk), (dlconvert, builder)):
        target.add(annotation_definition=lib.Box(top=0, left=0, bottom=10, right=10, label="a"), frame_num=0,
                   object_id=1)
        target.add(annotation_definition=lib.Box(top=0, left=5, bottom=10, right=15, label="a"), frame_num=3,
                   object_id=1, object_visible=False)
        target.add(annotation_definition=lib.Box(top=0, left=9, bottom=10, right=19, label="a"), frame_num=6,
                   object_id=1)
    same_annotations(sdk, builder)
    ours, theirs = builder[0], sdk.annotations[0]
    for n in range(7):
        state = ours.get_frame(n)
        assert state.object_visible == theirs.frames[n].object_visible
        assert (state.left, state.right) == (theirs.frames[n].left, theirs.frames[n].right)
    # Pictures leave the hidden object out (the SDK draws it, B24).
    assert len(builder.get_frame(4)) == 0 and len(builder.get_frame(6)) == 1


# ==================================================================================================
# Audio (tutorial "Audio annotations")
# ==================================================================================================
def test_audio_subtitle_example_writes_the_sdks_frames(dl):
    item, builder = sdk_item(dl, "/my_item.wav", "audio/wav")
    sdk = dl.AnnotationCollection(item=item)
    for lib, target in ((dl, sdk), (dlconvert, builder)):
        target.add(annotation_definition=lib.Subtitle(label='Speaker1', text="hello"), start_time=1.5, end_time=3.0)
    same_annotations(sdk, builder)
    system = builder.to_json()["annotations"][0]["metadata"]["system"]
    assert (system["frame"], system["endFrame"], system["startTime"], system["endTime"]) == (0, 0, 1.5, 3.0)


def test_from_vtt_file_fills_the_builder(dl, tmp_path, offline_frames):
    vtt = tmp_path / "subtitles.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.500 --> 00:00:03.000\nhello\n\n00:00:04.000 --> 00:00:05.250\nworld\n",
                   encoding="utf-8")
    item, builder = sdk_item(dl, "/my_item.mp3", "audio/mpeg")
    assert builder.from_vtt_file(filepath=vtt) is builder
    assert [a.annotation_definition.text for a in builder] == ["hello", "world"]
    sdk = dl.AnnotationCollection(item=item)
    sdk.from_vtt_file(filepath=str(vtt))
    ours = [(a.start_time, a.end_time, a.coordinates["text"]) for a in builder]
    theirs = [(a.start_time, a.end_time, a.coordinates["text"]) for a in sdk.annotations]
    assert ours == theirs
    # Called on the class, it makes a new collection.
    assert len(AnnotationCollection.from_vtt_file(vtt)) == 2


# ==================================================================================================
# The bridge: a dlconvert builder handed to the SDK (``item.annotations.upload(builder)``)
# ==================================================================================================
def test_to_dtlpy_gives_the_sdk_the_same_annotations(dl, monkeypatch):
    # The SDK asks the platform for a binary's label colour when it writes JSON: white, offline.
    monkeypatch.setattr(dl.entities.Annotation, "color", property(lambda self: (255, 255, 255)))
    item, builder = sdk_item(dl)
    for annotation in _image_builder(dlconvert):
        builder.annotations.append(annotation)
    builder.add(dlconvert.Segmentation(geo=_two_blobs(), label="blobs", color=(3, 94, 88)))
    sdk = builder.to_dtlpy(item=item)
    assert isinstance(sdk, dl.AnnotationCollection) and sdk.item is item
    assert [a.label for a in sdk.annotations] == [a.label for a in builder]  # dlconvert's order, none dropped
    theirs = sdk.to_json()["annotations"]
    for ours, their in zip(builder.to_json()["annotations"], theirs, strict=True):
        assert essentials(ours) == essentials(their)  # the mask's PNG included: the SDK keeps it as given
    mask = next(a for a in sdk.annotations if a.type == "binary").annotation_definition.geo
    assert np.array_equal(np.asarray(mask) > 0, _two_blobs().astype(bool))


def test_to_dtlpy_video_track(dl, offline_frames):
    item, builder = sdk_item(dl, "/v.mp4", "video/mp4", fps=25)
    builder.add(dlconvert.Box(left=0, top=0, right=10, bottom=10, label="a"), frame_num=0, object_id=1)
    builder.add(dlconvert.Box(left=5, top=0, right=15, bottom=10, label="a"), frame_num=4, object_id=1)
    sdk = builder.to_dtlpy(item=item)
    (annotation,) = sdk.annotations
    assert (annotation.start_frame, annotation.end_frame) == (0, 4)
    assert annotation.frames[2].left == 0 and annotation.frames[4].left == 5
    assert essentials(annotation.to_json()) == essentials(builder.to_json()["annotations"][0])


# ==================================================================================================
# Definitions refuse what cannot be drawn or written (issue 13)
# ==================================================================================================
@pytest.mark.parametrize("make", [
    lambda: dlconvert.Box(left=math.nan, top=0, right=1, bottom=1),
    lambda: dlconvert.Box(left=0, top=0, right=math.inf, bottom=1),
    lambda: dlconvert.Box(left=0, top=0, right=1, bottom=1, angle="ninety"),
    lambda: dlconvert.Box(left=0, top=0, right=1, bottom=1, angle=math.nan),
    lambda: dlconvert.Box(left=True, top=0, right=1, bottom=1),
    lambda: dlconvert.Point(x=math.nan, y=0),
    lambda: dlconvert.Point(x="1", y=0),
    lambda: dlconvert.Ellipse(x=0, y=0, rx=math.inf, ry=1),
    lambda: dlconvert.Ellipse(x=0, y=0, rx=1, ry=1, angle="ninety"),
    lambda: dlconvert.Cube.from_boxes_and_angle(0, 0, 1, 1, 0, 0, 1, math.nan),
    lambda: dlconvert.Cube(label="c", front_tl=[0, 0]),
    lambda: dlconvert.Cube3d(label="c", position=[0, 0, math.nan], scale=[1, 1, 1], rotation=[0, 0, 0]),
    lambda: dlconvert.Polygon(geo=[[0, 0], [math.nan, 1], [1, 1]]),
    lambda: dlconvert.Subtitle(text=5),
    lambda: dlconvert.Pose(label="p", template_id=7),
    lambda: dlconvert.Segmentation(geo=np.ones((2, 2)), color="red"),
    lambda: dlconvert.Box(left=0, top=0, right=1, bottom=1, label=3),
    lambda: dlconvert.Box(left=0, top=0, right=1, bottom=1, description=["x"]),
], ids=["box-nan", "box-inf", "angle-text", "angle-nan", "box-bool", "point-nan", "point-text", "ellipse-inf",
        "ellipse-angle-text", "cube-nan", "cube-missing-corner", "cube3d-nan", "polygon-nan", "subtitle-number",
        "pose-template-number", "segmentation-color-text", "label-number", "description-list"])
def test_definitions_refuse_wrong_numbers_and_types_at_construction(make):
    with pytest.raises(ValueError):
        make()


def test_a_box_set_to_nan_later_is_refused_too():
    box = dlconvert.Box(left=0, top=0, right=1, bottom=1)
    with pytest.raises(dlconvert.InvalidAnnotationError, match="Box right must be a finite number"):
        box.right = math.nan
    assert box.right == 1
    assert dlconvert.Box(left=np.float32(1.5), top=np.int64(2), right=3, bottom=4).to_coordinates() == [
        {"x": 1.5, "y": 2, "z": 0}, {"x": 3, "y": 4, "z": 0}]


@pytest.mark.parametrize("snapshot_field, value", [("fixed", "yes"), ("objectVisible", 0), ("fixed", [])])
def test_wrong_types_in_snapshot_flags_are_reported(snapshot_field, value):
    item = {"filename": "/v.mp4", "metadata": {"fps": 10, "system": {"mimetype": "video/mp4"}},
            "annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 0, "y": 0}, {"x": 4, "y": 4}],
                             "metadata": {"system": {"frame": 0, "endFrame": 3, "snapshots_": [
                                 {"frame": 2, "data": [{"x": 1, "y": 0}, {"x": 5, "y": 4}], snapshot_field: value}]}}}]}
    with pytest.raises(dlconvert.InvalidAnnotationError) as caught:
        AnnotationCollection.from_json(item, path=Path("v.json"))
    assert caught.value.where == f"/annotations/0/metadata/system/snapshots_/0/{snapshot_field}"
