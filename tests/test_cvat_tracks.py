"""CVAT for video: tracks read as Dataloop video annotations (keyframes, interpolated frames, outside, the track's
end) and written back, as :mod:`dlconvert.formats.cvat.tracks` decides.

Oracles: the example of CVAT's own XML format documentation (keyframes only, with ``outside``), CVAT's rule of
linear interpolation between keyframes (computed here by hand), and lxml reading what dlconvert writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from dlconvert import AnnotationCollection, Box, Polygon
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.report import ConversionReport

CVAT = get_format("cvat")


def _video(tmp_path: Path, tracks: str, *, size: int = 20, frame_filter: str = "") -> Path:
    path = tmp_path / "annotations.xml"
    path.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version><meta><task><id>5</id><name>interpolation</name><size>{size}</size>
<mode>interpolation</mode><start_frame>0</start_frame><stop_frame>{size - 1}</stop_frame>
<frame_filter>{frame_filter}</frame_filter><labels><label><name>car</name><color>#ff0000</color><attributes>
<attribute><name>parked</name><input_type>checkbox</input_type></attribute></attributes></label></labels>
<original_size><width>640</width><height>480</height></original_size></task><source>clip.mp4</source></meta>
{tracks}</annotations>""", encoding="utf-8")
    return path


def _read(path: Path, on_error: str = "fail") -> tuple[list[AnnotationCollection], ConversionReport]:
    report = ConversionReport(on_error=on_error)
    return list(CVAT.read(path, ConvertOptions(), report).items), report


def _box(frame: int, x: float, *, outside: int = 0, keyframe: int = 1, rotation: float = 0, extra: str = "") -> str:
    return (f'<box frame="{frame}" keyframe="{keyframe}" outside="{outside}" occluded="0" xtl="{x}" ytl="10" '
            f'xbr="{x + 20}" ybr="30" rotation="{rotation}" z_order="0">{extra}</box>')


def test_the_documented_example_hides_and_ends_tracks_where_cvat_does(tmp_path):
    # CVAT's XML format documentation: keyframes only; outside="1" hides the object from that frame on
    points = "324.79,213.16;323.74,227.90;347.42,237.37;371.11,217.37"
    shapes = "".join(f'<polygon frame="{frame}" points="{points}" outside="{outside}" occluded="0" keyframe="1"/>'
                     for frame, outside in ((0, 0), (1, 1), (6, 0), (7, 1), (13, 0), (14, 1)))
    (video,), _ = _read(_video(tmp_path, f'<track id="0" label="car">{shapes}</track>'))
    assert video.filename == "/clip.mp4" and video.is_video and (video.width, video.height) == (640, 480)
    (track,) = video
    assert sorted(track.frames) == [0, 1, 6, 7, 13]  # the last outside shape is the end, not a state
    assert [track.frames[f].object_visible for f in sorted(track.frames)] == [True, False, True, False, True]
    assert track.start_frame == 0 and track.end_frame == 13 and track.object_id == "0"
    visible = [frame for frame in range(20) if track.visible_at(frame) is not None]
    assert visible == [0, 6, 13]


def test_keyframes_with_frames_between_are_interpolated_as_cvat_does(tmp_path):
    # two box keyframes 10 frames apart, the rotation turning through 0 (350° → 10°): CVAT moves it linearly,
    # the shorter way round
    shapes = _box(0, 100, rotation=350) + _box(10, 200, rotation=10) + _box(11, 200, outside=1)
    track = f'<track id="3" label="car">{shapes}</track>'
    (video,), _ = _read(_video(tmp_path, track))
    (annotation,) = video
    assert sorted(annotation.frames) == list(range(11))
    middle = annotation.frames[5]
    assert not middle.fixed and annotation.frames[0].fixed and annotation.frames[10].fixed
    box = middle.annotation_definition
    assert (box.left, box.right) == (150.0, 170.0) and (box.angle or 0) == 0
    assert annotation.frames[7].annotation_definition.angle == pytest.approx(4.0)
    assert annotation.end_frame == 10


def test_a_polygon_morph_between_keyframes_is_refused_with_its_place(tmp_path):
    shapes = ('<polygon frame="0" points="0,0;10,0;10,10" outside="0" keyframe="1"/>'
              '<polygon frame="5" points="0,0;20,0;20,20;0,20" outside="0" keyframe="1"/>')
    path = _video(tmp_path, f'<track id="1" label="car">{shapes}</track>')
    with pytest.raises(FormatError) as raised:
        _read(path)
    message = str(raised.value)
    assert message.startswith(f"{path}:line 7") and "<track> CVAT morphs a segment" in message
    (video,), report = _read(path, on_error="skip")
    assert list(video) == [] and [i.code for i in report.issues] == ["cvat.invalid-shape"]
    assert report.skipped["segment"] == 1


def test_frames_the_task_steps_over_are_no_gaps(tmp_path):
    track = f'<track id="1" label="car">{_box(0, 0)}{_box(5, 50)}{_box(10, 100)}</track>'
    (video,), _ = _read(_video(tmp_path, track, size=11, frame_filter="step=5"))
    assert sorted(video[0].frames) == [0, 5, 10] and video[0].end_frame == 10


def test_a_track_without_outside_runs_to_the_last_frame_of_the_task(tmp_path):
    (video,), _ = _read(_video(tmp_path, f'<track id="1" label="car">{_box(2, 0)}</track>', size=30))
    assert video[0].end_frame == 29 and video[0].visible_at(29) is not None


def test_cvat_exports_every_frame_and_keyframes_come_back(tmp_path):
    # what CVAT's export writes: every frame, keyframe="0" on interpolated ones, attributes on each
    extra = '<attribute name="parked">true</attribute>'
    shapes = _box(0, 0, extra=extra) + _box(1, 5, keyframe=0, extra=extra) + _box(2, 10, extra=extra) + _box(
        3, 10, outside=1, extra=extra)
    source = _video(tmp_path, f'<track id="7" label="car" source="manual">{shapes}</track>', size=10)
    (video,), _ = _read(source)
    annotation = video[0]
    assert [annotation.frames[f].fixed for f in (0, 1, 2)] == [True, False, True]
    assert annotation.frames[1].annotation_definition.attributes == {"parked": True}
    Converter().run(source, "cvat", tmp_path / "out", "cvat")
    written = etree.parse(str(tmp_path / "out" / "videos" / "clip.mp4" / "annotations.xml")).getroot()
    boxes = written.findall("track/box")
    assert [(b.get("frame"), b.get("keyframe"), b.get("outside")) for b in boxes] == [
        ("0", "1", "0"), ("1", "0", "0"), ("2", "1", "0"), ("3", "1", "1")]
    assert written.find("track").get("id") == "7" and written.findtext("meta/source") == "clip.mp4"
    assert written.findtext("meta/task/original_size/width") == "640"


def _dataloop_video() -> AnnotationCollection:
    video = AnnotationCollection(filename="/v/clip.mp4", width=320, height=240, mimetype="video/mp4", fps=10)
    video._item_json = {"metadata": {"system": {"nb_frames": 20}}}
    return video


def test_a_dataloop_hold_is_written_so_that_cvat_holds_it_too(tmp_path):
    video = _dataloop_video()
    track = video.add(Box(left=0, top=0, right=10, bottom=10, label="car"), object_id=1, frame_num=2)
    video.add(Box(left=50, top=0, right=60, bottom=10, label="car"), object_id=1, frame_num=8)
    track.end_frame = 12
    report = ConversionReport()
    CVAT.write(Dataset(iter([video])), tmp_path / "out", ConvertOptions(), report)
    written = etree.parse(str(tmp_path / "out" / "videos" / "v" / "clip.mp4" / "annotations.xml")).getroot()
    boxes = [(b.get("frame"), b.get("keyframe"), b.get("outside"), b.get("xtl")) for b in written.iter("box")]
    # the state of frame 2 again at frame 7 (else CVAT would slide it), the end after frame 12
    assert boxes == [("2", "1", "0", "0"), ("7", "1", "0", "0"), ("8", "1", "0", "50"), ("13", "1", "1", "50")]
    assert [(i.code, i.annotation_id) for i in report.issues] == [("cvat.held-state-repeated", track.id)]
    (back,), _ = _read(tmp_path / "out")
    assert sorted(back[0].frames) == [2, 7, 8] and back[0].end_frame == 12 and back.filename == "/v/clip.mp4"
    assert back[0].get_frame(5).annotation_definition.left == 0  # held, as Dataloop held it


def test_a_hidden_last_state_ends_the_track_and_is_reported(tmp_path):
    video = _dataloop_video()
    track = video.add(Box(left=0, top=0, right=10, bottom=10, label="car"), object_id=4, frame_num=0)
    video.add(Box(left=1, top=0, right=11, bottom=10, label="car"), object_id=4, frame_num=1)
    video.add(Box(left=2, top=0, right=12, bottom=10, label="car"), object_id=4, frame_num=2, object_visible=False)
    report = ConversionReport()
    CVAT.write(Dataset(iter([video])), tmp_path / "out", ConvertOptions(), report)
    assert [i.code for i in report.issues] == ["cvat.hidden-track-end"]
    (back,), _ = _read(tmp_path / "out")
    assert sorted(back[0].frames) == [0, 1] and back[0].end_frame == 1
    assert [frame for frame in range(20) if back[0].visible_at(frame)] == [0, 1]
    assert [frame for frame in range(20) if track.visible_at(frame)] == [0, 1]  # the same frames show it


def test_shapes_a_video_cannot_hold_are_reported(tmp_path):
    from dlconvert import Classification

    video = _dataloop_video()
    tag = video.add(Classification(label="night"), object_id=9, frame_num=0)
    rings = video.add(Polygon(geo=[[[0, 0], [9, 0], [9, 9]], [[20, 20], [29, 20], [29, 29]]], label="lake"),
                      object_id=2, frame_num=0)
    report = ConversionReport(on_error="skip")
    report.read_item(video)
    CVAT.write(Dataset(iter([video])), tmp_path / "out", ConvertOptions(), report)
    assert {(i.annotation_id, i.code) for i in report.issues} == {(tag.id, "cvat.unsupported-type"),
                                                                   (rings.id, "cvat.polygon-rings")}
    assert not report.unbalanced()


def test_skeleton_tracks_are_reported_not_dropped(tmp_path):
    skeleton = ('<skeleton frame="0" keyframe="1" z_order="0"><points label="1" outside="0" occluded="0" '
                'keyframe="1" points="1,2"/></skeleton>')
    path = _video(tmp_path, f'<track id="1" label="s1">{skeleton}</track>{_track_of_one_box()}')
    (video,), report = _read(path, on_error="skip")
    assert [a.type for a in video] == ["box"]
    assert [(i.code, i.where) for i in report.issues] == [("cvat.invalid-shape", "line 7")]
    assert "skeleton track" in report.issues[0].message and report.skipped["pose"] == 1


def _track_of_one_box() -> str:
    return f'<track id="2" label="car">{_box(0, 0)}</track>'
