"""Video and audio: frames, holding, visibility, and tracks built in code.

The rule (README, annotation.py): the top-level coordinates are the first frame, each snapshot a
later stored state; a frame with no stored state holds the nearest earlier one; outside
``[start_frame, end_frame]`` and where the held state has ``objectVisible: false`` the object is
not there. Expected values are read from the JSON files with plain dict access, not through
dlconvert.
"""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
from realfiles import real_file, requires_real_files

from dlconvert import Annotation, AnnotationCollection, Box, Point, Polygon, Subtitle

FIXTURES = real_file("dataloop")
VIDEO_2021 = FIXTURES / "dtlpy-converters-examples/yolo/dataloop/json/2021_04_23_10_39_21_Cache_Trim_Cropped.json"
VIDEO_2019 = FIXTURES / "dtlpy-tests-2019/video_annotations.json"
SAMPLE_VIDEO = Path(__file__).parent.parent / "dlconvert/samples/json/video/traffic.json"
SAMPLE_AUDIO = Path(__file__).parent.parent / "dlconvert/samples/json/audio/conversation.json"


def _load(path: Path):
    return orjson.loads(path.read_bytes())


def _states(annotation_json: dict) -> dict[int, dict]:
    """Stored states by frame, straight from the JSON: {frame: {"coordinates", "visible", "fixed"}}."""
    system = annotation_json["metadata"]["system"]
    states = {system.get("frame", 0): {"coordinates": annotation_json["coordinates"],
                                       "visible": system.get("objectVisible", True), "fixed": True}}
    for snap in system.get("snapshots_") or []:
        states[snap["frame"]] = {"coordinates": snap["data"], "visible": snap.get("objectVisible", True),
                                 "fixed": snap.get("fixed", True)}
    return states


def _expected(annotation_json: dict, frame: int, end: int) -> dict | None:
    """What should be there at ``frame``: the last stored state at or before it, if visible."""
    states = _states(annotation_json)
    start = min(states)
    if frame < start or frame > end:
        return None
    held = states[max(n for n in states if n <= frame)]
    return held if held["visible"] else None


def _check_track(annotation: Annotation, annotation_json: dict, end: int, frames) -> None:
    stored = _states(annotation_json)
    for n in frames:
        expected = _expected(annotation_json, n, end)
        state = annotation.visible_at(n)
        if expected is None:
            assert state is None, n
            held = annotation.get_frame(n)  # hidden: the SDK's get_frame still gives the state, marked so
            assert held is None or held.object_visible is False, n
            continue
        assert state is not None, n
        assert state.frame_num == n
        assert state.annotation_definition.to_coordinates() == expected["coordinates"], n
        assert state.object_visible
        # A stored frame keeps its own fixed flag; a held copy is not a keyframe.
        assert state.fixed == (stored[n]["fixed"] if n in stored else False), n


# -- the bundled sample's video ---------------------------------------------------------------------
def _sample_video(edit=None) -> tuple[AnnotationCollection, dict]:
    raw = _load(SAMPLE_VIDEO)
    if edit is not None:
        edit(raw)
    return AnnotationCollection.from_json(copy.deepcopy(raw)), raw


def test_sample_video_reads_as_two_tracks():
    collection, raw = _sample_video()
    assert collection.is_video and collection.fps == 5.0
    assert [a.object_id for a in collection] == ["1", "2"]
    assert [(a.start_frame, a.end_frame) for a in collection] == [(0, 9), (3, 8)]
    assert [sorted(a.frames) for a in collection] == [list(range(10)), list(range(3, 9))]
    assert collection.frame_range == (0, 9)
    hidden = raw["annotations"][1]["metadata"]["system"]["snapshots_"][2]
    assert (hidden["frame"], hidden["objectVisible"]) == (6, False)


def test_sample_video_frames():
    collection, raw = _sample_video()
    for annotation, annotation_json in zip(collection, raw["annotations"], strict=True):
        end = annotation_json["metadata"]["system"]["endFrame"]
        _check_track(annotation, annotation_json, end, range(-2, 13))
    car, person = collection
    assert person.get_frame(5) is not None
    assert person.visible_at(6) is None and person.get_frame(6).object_visible is False  # hidden keyframe
    assert person.get_frame(7) is not None  # visible again
    assert person.get_frame(2) is None and person.get_frame(9) is None  # outside 3..8
    assert car.get_frame(9) is not None and car.get_frame(10) is None and car.get_frame(-1) is None


def test_sample_video_holds_between_keyframes():
    def keep_every_third(raw):
        for annotation in raw["annotations"]:
            system = annotation["metadata"]["system"]
            system["snapshots_"] = [s for s in system["snapshots_"] if s["frame"] % 3 == 0]

    collection, raw = _sample_video(keep_every_third)
    car, person = collection
    assert sorted(car.frames) == [0, 3, 6, 9]
    assert sorted(person.frames) == [3, 6]
    for annotation, annotation_json in zip(collection, raw["annotations"], strict=True):
        _check_track(annotation, annotation_json, annotation_json["metadata"]["system"]["endFrame"], range(-1, 12))
    # Frames 1 and 2 hold frame 0's box; frame 4 and 5 hold frame 3's.
    assert car.get_frame(2).annotation_definition.bounds() == (10.0, 70.0, 40.0, 88.0)
    assert car.get_frame(5).annotation_definition.bounds() == (46.0, 70.0, 76.0, 88.0)
    # The person's hidden state at 6 is held to the end of the track: gone from 6 to 8.
    assert [person.visible_at(n) is not None for n in range(2, 10)] == [False, True, True, True,
                                                                        False, False, False, False]


def test_sample_collection_get_frame_lists_visible_annotations():
    collection, raw = _sample_video()
    for n in range(-1, 12):
        at = collection.get_frame(n)
        expected = []
        for annotation_json in raw["annotations"]:
            state = _expected(annotation_json, n, annotation_json["metadata"]["system"]["endFrame"])
            if state is not None:
                expected.append((annotation_json["metadata"]["system"]["objectId"], state["coordinates"]))
        assert [(a.object_id, a.coordinates) for a in at] == expected, n
        assert all(not a.is_video for a in at)
        assert (at.filename, at.width, at.height, at.fps) == ("/video/traffic.mp4", 160, 120, 5.0)
    assert [a.object_id for a in collection.get_frame(6)] == ["1"]
    assert [a.object_id for a in collection.get_frame(7)] == ["1", "2"]
    assert len(collection.get_frame(10)) == 0


def test_sample_video_labels_and_attributes_follow_snapshots():
    collection, raw = _sample_video()
    car = collection[0]
    snap = raw["annotations"][0]["metadata"]["system"]["snapshots_"][0]
    assert car.frames[1].label == snap["label"] == "vehicle.car"
    assert car.frames[1].annotation_definition.attributes == snap["namedAttributes"] == {"color": "red"}


# -- real exports -----------------------------------------------------------------------------------
@requires_real_files
def test_real_video_2021_every_frame_stored():
    raw = _load(VIDEO_2021)
    collection = AnnotationCollection.from_json_file(VIDEO_2021)
    for annotation, annotation_json in zip(collection, raw["annotations"], strict=True):
        _check_track(annotation, annotation_json, 50, range(-3, 55))
        assert annotation.get_frame(50) is not None and annotation.get_frame(51) is None
    for n in (0, 25, 50):
        assert len(collection.get_frame(n)) == 2
    assert len(collection.get_frame(51)) == 0 and len(collection.get_frame(-1)) == 0


@requires_real_files
def test_real_video_2021_without_some_snapshots_holds():
    raw = _load(VIDEO_2021)
    for annotation in raw["annotations"]:
        system = annotation["metadata"]["system"]
        system["snapshots_"] = [s for s in system["snapshots_"] if s["frame"] % 10 == 0]
    collection = AnnotationCollection.from_json(copy.deepcopy(raw))
    for annotation, annotation_json in zip(collection, raw["annotations"], strict=True):
        assert sorted(annotation.frames) == [0, 10, 20, 30, 40, 50]
        _check_track(annotation, annotation_json, 50, range(-1, 53))
        held = annotation.get_frame(17)
        ten = annotation_json["metadata"]["system"]["snapshots_"][0]
        assert ten["frame"] == 10 and held.annotation_definition.to_coordinates() == ten["data"]
        assert not held.fixed


@requires_real_files
def test_real_video_2019_legacy_holds_between_keyframes():
    raw = _load(VIDEO_2019)
    collection = AnnotationCollection.from_json_file(VIDEO_2019)
    for annotation, annotation_json in zip(collection, raw, strict=True):
        end = max(_states(annotation_json))
        _check_track(annotation, annotation_json, end, [*range(-1, 40), *range(280, 300), *range(500, 535)])
    home = collection[0]
    snapshots = raw[0]["metadata"]["system"]["snapshots_"]
    assert snapshots[0]["frame"] == 5 and snapshots[1]["frame"] == 10
    # Frames 5..9 hold the snapshot at 5 (stored with fixed: false), frame 4 holds the first frame.
    for n in range(5, 10):
        assert home.get_frame(n).annotation_definition.to_coordinates() == snapshots[0]["data"]
    assert home.get_frame(4).annotation_definition.to_coordinates() == raw[0]["coordinates"]
    assert home.get_frame(5).fixed is False and home.get_frame(528).fixed is True
    late = collection[3]
    assert late.get_frame(287) is None and late.get_frame(288) is not None
    assert late.get_frame(504) is not None and late.get_frame(505) is None
    assert len(collection.get_frame(287)) == 15 and len(collection.get_frame(288)) == 16


@requires_real_files
def test_hidden_state_is_not_there():
    raw = _load(VIDEO_2021)
    system = raw["annotations"][0]["metadata"]["system"]
    for snap in system["snapshots_"]:
        if 20 <= snap["frame"] <= 24:
            snap["objectVisible"] = False
    collection = AnnotationCollection.from_json(copy.deepcopy(raw))
    track = collection[0]
    assert [track.visible_at(n) is not None for n in range(18, 27)] == [True, True, False, False, False, False,
                                                                         False, True, True]
    assert [track.get_frame(n).object_visible for n in range(18, 27)] == [True, True, False, False, False, False,
                                                                          False, True, True]
    assert [a.object_id for a in collection.get_frame(22)] == ["1"]
    assert track.frames[22].object_visible is False  # the state is stored, only not there
    assert orjson.dumps(collection.to_json()) == orjson.dumps(raw)


def test_hidden_first_frame():
    raw = _load(SAMPLE_VIDEO)
    raw["annotations"][0]["metadata"]["system"]["objectVisible"] = False
    collection = AnnotationCollection.from_json(copy.deepcopy(raw))
    assert collection[0].visible_at(0) is None and collection[0].visible_at(1) is not None
    assert collection[0].get_frame(0).object_visible is False  # as the SDK: the state, marked hidden
    assert orjson.dumps(collection.to_json()) == orjson.dumps(raw)


def test_image_annotation_is_on_every_frame():
    collection = AnnotationCollection.from_json_file(Path(__file__).parent.parent
                                                     / "dlconvert/samples/json/street/scene_01.json")
    box = collection[0]
    assert not box.is_video and box.frames is None
    for n in (0, 7, 10_000):
        state = box.get_frame(n)
        assert state.frame_num == n and state.annotation_definition is box.annotation_definition
    assert len(collection.get_frame(3)) == len(collection)
    assert collection.frame_range is None


# -- tracks built in code ---------------------------------------------------------------------------
def _video(fps: float = 10) -> AnnotationCollection:
    return AnnotationCollection(filename="/v.mp4", width=100, height=80, mimetype="video/mp4", fps=fps)


def _round_trip(collection: AnnotationCollection) -> AnnotationCollection:
    written = collection.to_json()
    again = AnnotationCollection.from_json(orjson.loads(orjson.dumps(written)))
    assert orjson.dumps(again.to_json()) == orjson.dumps(written)
    return again


def _same_frames(a: Annotation, b: Annotation) -> None:
    assert sorted(a.frames) == sorted(b.frames)
    for n in a.frames:
        x, y = a.frames[n], b.frames[n]
        assert x.annotation_definition.to_coordinates() == y.annotation_definition.to_coordinates(), n
        assert (x.label, x.fixed, x.object_visible) == (y.label, y.fixed, y.object_visible), n
    assert (a.start_frame, a.end_frame) == (b.start_frame, b.end_frame)


def test_collection_add_builds_a_track_by_object_id():
    collection = _video()
    first = collection.add(Box(0, 0, 10, 10, label="car"), object_id=1, frame_num=2)
    again = collection.add(Box(5, 0, 15, 10, label="car"), object_id="1", frame_num=5)
    other = collection.add(Box(50, 50, 60, 60, label="person"), object_id=2, frame_num=0)
    collection.add(Box(20, 0, 30, 10, label="car"), object_id=1, frame_num=8, end_frame_num=12)
    assert again is first and other is not first and len(collection) == 2
    assert first.object_id == "1" and other.object_id == "2"
    assert sorted(first.frames) == [2, 5, 8]
    assert (first.start_frame, first.end_frame) == (2, 12)
    assert first.start_time == pytest.approx(0.2) and first.end_time == pytest.approx(1.2)
    expected = {1: None, 2: 0, 4: 0, 5: 5, 7: 5, 8: 20, 12: 20, 13: None}
    for n, left in expected.items():
        state = first.get_frame(n)
        assert (state.annotation_definition.left if state else None) == left, n
    back = _round_trip(collection)
    assert len(back) == 2
    for built, read in zip(collection, back, strict=True):
        _same_frames(built, read)
        assert read.object_id == built.object_id


def test_built_snapshots_have_the_sdk_layout():
    collection = _video()
    collection.add(Box(0, 0, 10, 10, label="car"), object_id=1, frame_num=0)
    collection.add(Box(5, 0, 15, 10, label="car"), object_id=1, frame_num=3)
    system = collection.to_json()["annotations"][0]["metadata"]["system"]
    assert system["objectId"] == "1"
    assert (system["frame"], system["endFrame"]) == (0, 3)
    (snap,) = system["snapshots_"]
    # dataloop-format.md 2.5: {frame, fixed, label, type, objectVisible, data, ...}; the SDK's reader
    # needs "label" and reads a missing "fixed" as false.
    assert {"frame", "fixed", "label", "type", "objectVisible", "data"} <= snap.keys()
    assert (snap["frame"], snap["fixed"], snap["label"], snap["type"], snap["objectVisible"]) == (
        3, True, "car", "box", True)
    assert snap["data"] == [{"x": 5, "y": 0, "z": 0}, {"x": 15, "y": 10, "z": 0}]


def test_add_frame_and_add_frames_on_an_annotation():
    annotation = Annotation.new(annotation_definition=Box(0, 0, 4, 4, label="a"), object_id=3, fps=10)
    assert annotation.frames is None
    annotation.add_frame(Box(0, 0, 4, 4, label="a"), frame_num=4)
    annotation.add_frame(Box(1, 0, 5, 4, label="a"))  # after the last one: 5
    annotation.add_frame(Box(2, 0, 6, 4, label="a"), frame_num=9, object_visible=False)
    annotation.add_frames(Box(3, 0, 7, 4, label="a"), frame_num=12, end_frame_num=15)
    assert sorted(annotation.frames) == [4, 5, 9, 12]
    assert (annotation.start_frame, annotation.end_frame) == (4, 15)
    present = {n: annotation.visible_at(n) is not None for n in range(2, 18)}
    assert [n for n, there in present.items() if there] == [4, 5, 6, 7, 8, 12, 13, 14, 15]
    # A frame before the start moves the start; the old first frame becomes a snapshot.
    annotation.add_frame(Box(9, 9, 10, 10, label="b"), frame_num=1)
    assert annotation.start_frame == 1 and annotation.annotation_definition.left == 9
    assert annotation.get_frame(3).label == "b" and annotation.get_frame(4).label == "a"
    collection = _video()
    collection.annotations.append(annotation)
    (read,) = _round_trip(collection)
    _same_frames(annotation, read)
    assert read.frames[9].object_visible is False
    assert read.visible_at(10) is None and read.visible_at(12) is not None


def test_add_frames_by_time_uses_fps():
    collection = _video(fps=4)
    annotation = collection.add(Point(1, 2, label="p"), object_id=7, start_time=0.5, end_time=1.5)
    assert (annotation.start_frame, annotation.end_frame) == (2, 6)
    assert (annotation.start_time, annotation.end_time) == (0.5, 1.5)
    assert annotation.get_frame(1) is None and annotation.get_frame(6) is not None and annotation.get_frame(7) is None
    (read,) = _round_trip(collection)
    _same_frames(annotation, read)


def test_set_frame_moves_the_geometry_shortcuts():
    collection = _video()
    track = collection.add(Box(0, 0, 10, 10, label="car"), object_id=1, frame_num=0)
    collection.add(Box(30, 20, 40, 30, label="car"), object_id=1, frame_num=4, end_frame_num=6)
    collection.add(Box(50, 20, 60, 30, label="car"), object_id=1, frame_num=5, object_visible=False)
    assert track.set_frame(2) is True
    assert (track.left, track.top, track.right, track.bottom) == (0, 0, 10, 10)
    assert track.set_frame(4) is True
    assert (track.left, track.top, track.right, track.bottom) == (30, 20, 40, 30)
    assert track.coordinates == [{"x": 30, "y": 20, "z": 0}, {"x": 40, "y": 30, "z": 0}]
    assert track.set_frame(5) is True and track.get_frame(5).object_visible is False  # hidden, as the SDK
    assert track.set_frame(7) is False  # after the end
    # The JSON still starts from the first frame.
    assert collection.to_json()["annotations"][0]["coordinates"] == [{"x": 0, "y": 0, "z": 0},
                                                                     {"x": 10, "y": 10, "z": 0}]
    (read,) = _round_trip(collection)
    _same_frames(track, read)


def test_a_polygon_track_round_trips():
    collection = _video()
    rings = [[[0, 0], [10, 0], [10, 10]], [[20, 20], [30, 20], [30, 30]]]
    collection.add(Polygon(geo=rings, label="blob"), object_id=4, frame_num=1)
    collection.add(Polygon(geo=[[[1, 1], [11, 1], [11, 11]]], label="blob"), object_id=4, frame_num=3)
    (read,) = _round_trip(collection)
    assert [len(p) for p in read.frames[1].annotation_definition.parts] == [3, 3]
    assert [len(p) for p in read.get_frame(2).annotation_definition.parts] == [3, 3]
    assert [len(p) for p in read.get_frame(3).annotation_definition.parts] == [3]
    assert read.get_frame(4) is None  # the track ends at its last state


@requires_real_files
def test_edited_real_track_round_trips():
    raw = _load(VIDEO_2021)
    collection = AnnotationCollection.from_json(copy.deepcopy(raw))
    track = collection[1]
    track.add_frame(Box(1, 2, 3, 4, label="person"), frame_num=60)
    assert track.end_frame == 60
    assert track.get_frame(55).annotation_definition.left == track.frames[50].annotation_definition.left
    written = collection.to_json()
    assert written["annotations"][0] == raw["annotations"][0]
    system = written["annotations"][1]["metadata"]["system"]
    assert system["endFrame"] == 60 and system["endTime"] == pytest.approx(60 / 25)
    assert system["snapshots_"][:-1] == raw["annotations"][1]["metadata"]["system"]["snapshots_"]
    (_, read) = _round_trip(collection)
    _same_frames(track, read)


@pytest.mark.parametrize("object_id", [7, "7", "0007"])
def test_annotation_new_stores_object_id_as_a_string(object_id):
    annotation = Annotation.new(annotation_definition=Box(0, 0, 1, 1, label="a"), object_id=object_id)
    assert annotation.object_id == str(object_id)
    assert annotation.metadata["system"]["objectId"] == str(object_id)
    assert annotation.to_json()["metadata"]["system"]["objectId"] == str(object_id)
    assert annotation.automated is True


@pytest.mark.parametrize("object_id", ["car", "-1", "1.5", ""])
def test_annotation_new_refuses_non_digit_object_ids(object_id):
    with pytest.raises(ValueError, match="object_id"):
        Annotation.new(annotation_definition=Box(0, 0, 1, 1, label="a"), object_id=object_id)


def test_object_id_read_as_int_is_given_as_string():
    item = {"filename": "/v.mp4", "metadata": {"fps": 5, "system": {"mimetype": "video/mp4"}},
            "annotations": [{"type": "box", "label": "a", "coordinates": [{"x": 0, "y": 0}, {"x": 1, "y": 1}],
                             "metadata": {"system": {"objectId": 12, "frame": 0, "endFrame": 2}}}]}
    collection = AnnotationCollection.from_json(copy.deepcopy(item))
    assert collection[0].object_id == "12"
    assert orjson.dumps(collection.to_json()) == orjson.dumps(item)  # but the file keeps its int


# -- audio ------------------------------------------------------------------------------------------
def test_audio_subtitles_keep_their_times_at_frame_0():
    """As the SDK's builder and the platform write them (a real export: dtlpy-converters' conversation.json)."""
    collection = AnnotationCollection(filename="/talk.wav", mimetype="audio/wav")
    hi = collection.add(Subtitle(text="Hi", label="speaker.a"), start_time=0.25, end_time=1.5)
    yo = collection.add(Subtitle(text="Yo", label="speaker.b"), start_time=2.0, end_time=2.75)
    assert hi.fps == yo.fps == 1000.0
    assert (hi.start_frame, hi.end_frame, hi.start_time, hi.end_time) == (0, 0, 0.25, 1.5)
    assert (yo.start_frame, yo.end_frame, yo.start_time, yo.end_time) == (0, 0, 2.0, 2.75)
    system = collection.to_json()["annotations"][0]["metadata"]["system"]
    assert (system["frame"], system["endFrame"], system["startTime"], system["endTime"]) == (0, 0, 0.25, 1.5)
    back = _round_trip(collection)
    for built, read in zip(collection, back, strict=True):
        _same_frames(built, read)
        assert read.fps == 1000.0 and read.annotation_definition.text == built.annotation_definition.text


def test_sample_audio_reads_at_1000_fps():
    raw = _load(SAMPLE_AUDIO)
    collection = AnnotationCollection.from_json_file(SAMPLE_AUDIO)
    assert collection.is_audio and collection.fps is None
    for annotation, annotation_json in zip(collection, raw["annotations"], strict=True):
        system = annotation_json["metadata"]["system"]
        assert annotation.fps == 1000.0
        assert (annotation.start_frame, annotation.end_frame) == (system["frame"], system["endFrame"])
        assert annotation.start_frame == round(system["startTime"] * 1000)
        assert annotation.end_frame == round(system["endTime"] * 1000)
    assert [a.annotation_definition.text for a in collection.get_frame(700)] == ["Hi Alice.\nHow are you?"]
    assert [a.label for a in collection.get_frame(100)] == ["speaker.alice"]
    assert len(collection.get_frame(650)) == 0
