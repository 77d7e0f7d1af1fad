"""What the WebVTT writer says about what it cannot write: items that are not video or audio,
annotations that are not subtitles, what a cue cannot carry (one approximation per annotation,
exactly the ones whose text, label or attributes come back changed), and metadata of the wrong
type — reported, never guessed. Also the reader's options and the package's public names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlconvert import AnnotationCollection, Box, Subtitle
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.errors import FormatError, OptionError
from dlconvert.formats import get_format, vtt
from dlconvert.formats.dataloop import write_dataloop
from dlconvert.report import ConversionReport
from dlconvert.verify import verify

VTT = get_format("vtt")


def _id(n: int) -> str:
    return f"65f0c0de{n:016x}"


def _subtitle(collection: AnnotationCollection, n: int, text: str, label: str | None, start: float, **extra):
    collection.add(Subtitle(text=text, label=label, attributes=extra.pop("attributes", None)), start_time=start,
                   end_time=start + 1, **extra)
    collection.annotations[-1].id = _id(n)
    return collection.annotations[-1]


def _write(*collections: AnnotationCollection, dst: Path) -> ConversionReport:
    report = ConversionReport()
    for collection in collections:
        report.read_item(collection)
    VTT.write(Dataset(list(collections)), dst, ConvertOptions(), report)
    assert not report.unbalanced()
    return report


# ==== items and types WebVTT cannot hold ===========================================================
def test_items_that_are_not_video_or_audio_are_skipped_with_their_kind(tmp_path: Path):
    image = AnnotationCollection(filename="/a.jpg", mimetype="image/jpeg", width=10, height=10)
    image.add(Box(left=1, top=1, right=4, bottom=4, label="car"))
    text = AnnotationCollection(filename="/notes.txt", mimetype="text/plain", fps=1)
    text.add(Subtitle(text="hello", label="bob"), start_time=1, end_time=2)
    empty_image = AnnotationCollection(filename="/b.png", mimetype="image/png")
    unknown = AnnotationCollection.from_json([{"type": "point", "label": "p", "coordinates": {"x": 1, "y": 2}}])
    report = _write(image, text, empty_image, unknown, dst=tmp_path)
    assert [(i.kind, i.code, i.item, i.message.rsplit("; ", 1)[-1]) for i in report.issues] == [
        ("skipped", "vtt.not-timed", "/a.jpg", "this item is an image"),
        ("skipped", "vtt.not-timed", "/notes.txt", "this item is text/plain"),
        ("skipped", "vtt.not-timed", "/b.png", "this item is an image"),
        ("skipped", "vtt.not-timed", None, "this item is of unknown type (no mimetype) without subtitles")]
    assert report.skipped == {"box": 1, "subtitle": 1, "point": 1} and not list(tmp_path.rglob("*.vtt"))


def test_annotations_other_than_subtitles_are_skipped_and_the_item_still_written(tmp_path: Path):
    video = AnnotationCollection(filename="/v/clip.mp4", mimetype="video/mp4", fps=25, width=64, height=48)
    video.add(Box(left=1, top=1, right=4, bottom=4, label="car"), frame_num=0)
    _subtitle(video, 1, "said", "bob", 1.0)
    report = _write(video, dst=tmp_path)
    assert [(i.kind, i.code, i.annotation_type) for i in report.issues] == [
        ("skipped", "vtt.unsupported-type", "box")]
    assert report.annotations_out == {"subtitle": 1}
    assert (tmp_path / "v" / "clip.vtt").read_text(encoding="utf-8").count("-->") == 1


# ==== approximations: exactly the annotations that come back changed ===============================
@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A Dataloop export with subtitles a cue holds exactly and ones it cannot."""
    audio = AnnotationCollection(filename="/talk.mp3", mimetype="audio/mpeg", fps=1000)
    _subtitle(audio, 1, "plain", "bob", 1.0)
    _subtitle(audio, 2, "with attributes", "bob", 2.0, attributes={"lang": "en"})
    _subtitle(audio, 3, "nul \x00 inside", "al", 3.0)
    _subtitle(audio, 4, "empty label", "", 4.0)
    _subtitle(audio, 5, "all three \x00", "", 5.0, attributes={"lang": "fr"})
    _subtitle(audio, 6, "  spaces and\r\nbreaks  ", " odd  voice ", 6.0)
    _subtitle(audio, 7, "", None, 7.0)
    write_dataloop([audio], tmp_path / "export")
    return tmp_path / "export"


def _changed_on_the_way_back(src: Path, tmp_path: Path) -> set[str]:
    """Ids of the subtitles whose text, label or attributes differ after Dataloop → VTT → Dataloop."""
    Converter().run(src, "dataloop", tmp_path / "vtt", "vtt")
    Converter().run(tmp_path / "vtt", "vtt", tmp_path / "back", "dataloop")
    [original] = get_format("dataloop").read(src, ConvertOptions(), ConversionReport()).items
    [back] = get_format("dataloop").read(tmp_path / "back", ConvertOptions(), ConversionReport()).items
    returned = {a.metadata["user"]["vtt"]["identifier"]: a for a in back}  # cue identifiers are the ids

    def seen(annotation):
        definition = annotation.annotation_definition
        return definition.text, definition.label, dict(definition.attributes or {})

    return {a.id for a in original if seen(a) != seen(returned[a.id])}


def test_convert_approximates_exactly_what_comes_back_changed(mixed: Path, tmp_path: Path):
    report = Converter().run(mixed, "dataloop", tmp_path / "out", "vtt")
    approximated = [i for i in report.issues if i.kind == "approximated"]
    assert len({i.annotation_id for i in approximated}) == len(approximated)  # one issue per annotation
    assert {i.annotation_id for i in approximated} == _changed_on_the_way_back(mixed, tmp_path) == {
        _id(2), _id(3), _id(4), _id(5)}
    codes = {i.annotation_id: (i.code, i.message) for i in approximated}
    assert codes[_id(2)][0] == "vtt.attributes-dropped" and codes[_id(4)][0] == "vtt.empty-label"
    code, message = codes[_id(5)]  # every reason in one message, the first one's code
    assert code == "vtt.text-replaced" and "empty label" in message and "attributes" in message
    assert f"{len(approximated)} approximated" in report.summary()


def test_verify_finds_changes_only_where_convert_approximated(mixed: Path):
    result = verify(mixed, "dataloop", "vtt")
    approximated = {i.annotation_id for i in result.forward.issues if i.kind == "approximated"}
    # An empty label comes back as no label: verify pairs those as one lost and one extra annotation.
    found = {d.annotation_id for d in (*result.differences, *result.approximated) if d.annotation_id is not None}
    assert found == approximated


# ==== optional fields of the wrong type: reported, never guessed ===================================
def _with_metadata(annotation_vtt=None, item_vtt=None) -> AnnotationCollection:
    item = {"filename": "/a.wav", "metadata": {"system": {"mimetype": "audio/wav", "fps": 1000}}, "annotations": [
        {"id": _id(1), "type": "subtitle", "label": "bob", "coordinates": {"text": "hi"},
         "metadata": {"system": {"startTime": 1.0, "endTime": 2.0}, "user": {"vtt": annotation_vtt}}}]}
    if item_vtt is not None:
        item["metadata"]["user"] = {"vtt": item_vtt}
    return AnnotationCollection.from_json(json.loads(json.dumps(item)))


@pytest.mark.parametrize(("annotation_vtt", "code", "absent"), [
    ("a string, not an object", "vtt.metadata-ignored", "a string"),
    ({"identifier": 5}, "vtt.identifier-dropped", "\n5\n"),
    ({"settings": ["align:start"]}, "vtt.settings-dropped", "align"),
    ({"notes_before": "NOTE not in a list"}, "vtt.note-dropped", "NOTE"),
    ({"notes_before": [7]}, "vtt.note-dropped", "7"),
])
def test_annotation_metadata_of_the_wrong_type_is_reported(annotation_vtt, code, absent, tmp_path: Path):
    report = _write(_with_metadata(annotation_vtt), dst=tmp_path)
    assert [(i.kind, i.code, i.annotation_id) for i in report.issues] == [("approximated", code, _id(1))]
    written = (tmp_path / "a.vtt").read_text(encoding="utf-8")
    assert absent not in written and "<v bob>hi</v>" in written


@pytest.mark.parametrize(("item_vtt", "codes"), [
    ("not an object", ["vtt.metadata-ignored"]),
    ({"header": 5}, ["vtt.header-dropped"]),
    ({"header_lines": 5}, ["vtt.header-dropped"]),
    ({"header_lines": ["Kind: captions", 5]}, ["vtt.header-dropped"]),
    ({"blocks": "STYLE\n::cue {}"}, ["vtt.block-dropped"]),
    ({"notes_after": {"NOTE": 1}}, ["vtt.note-dropped"]),
    ({"header_lines": 5, "blocks": [5, "STYLE\n\n"], "notes_after": 1},
     ["vtt.header-dropped", "vtt.block-dropped", "vtt.block-dropped", "vtt.note-dropped"]),
])
def test_item_metadata_of_the_wrong_type_is_reported(item_vtt, codes, tmp_path: Path):
    report = _write(_with_metadata(item_vtt=item_vtt), dst=tmp_path)
    assert [(i.kind, i.code, i.item) for i in report.issues] == [("approximated", c, "/a.wav") for c in codes]
    assert (tmp_path / "a.vtt").read_text(encoding="utf-8").startswith("WEBVTT\n")


# ==== files that are not files ====================================================================
@pytest.mark.parametrize("target", ["missing.vtt", "/dev/zero", "loop.vtt"])
def test_a_vtt_entry_that_is_no_readable_file_is_reported_not_ignored(target, tmp_path: Path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n", encoding="utf-8")
    (src / "bad.vtt").symlink_to(target if target.startswith("/") else src / target)
    if target == "loop.vtt":
        (src / "loop.vtt").symlink_to(src / "bad.vtt")
    report = Converter(on_error="skip").run(src, "vtt", tmp_path / "out", "dataloop")
    failed = {Path(i.path).name for i in report.failed_files}
    assert "bad.vtt" in failed and report.items_out == 1
    with pytest.raises(FormatError, match=r"bad\.vtt"):
        Converter().run(src, "vtt", tmp_path / "out2", "dataloop")


def test_a_cue_later_than_dlconvert_holds_exactly_is_a_bad_record_with_its_line(tmp_path: Path):
    # hours may have any number of digits; seconds as floats would no longer be exact to the millisecond
    src = tmp_path / "in.vtt"
    src.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nkept\n\n"
                   "99999999999999999999:00:00.000 --> 99999999999999999999:00:01.000\nfar\n", encoding="utf-8")
    with pytest.raises(FormatError, match="past the largest time") as raised:
        VTT.read(src, ConvertOptions(), ConversionReport()).items.__next__()
    assert raised.value.where == "line 6"
    report = ConversionReport(on_error="skip")
    [item] = VTT.read(src, ConvertOptions(), report).items
    assert [a.annotation_definition.text for a in item] == ["kept"]
    assert [(i.kind, i.code, i.where) for i in report.issues] == [("skipped", "vtt.invalid-cue", "line 6")]


# ==== the reader's options ========================================================================
@pytest.mark.parametrize(("extras", "message"), [
    ({"vtt_mimetype": 5}, "vtt_mimetype"),
    ({"vtt_mimetype": "text/plain"}, "audio/"),
    ({"vtt_mimetpye": "audio/wav"}, "did you mean 'vtt_mimetype'"),
    ({"vtt_default_label": 3}, "vtt_default_label"),
])
def test_reader_options_of_the_wrong_type_are_refused(extras, message, tmp_path: Path):
    (tmp_path / "a.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n", encoding="utf-8")
    with pytest.raises(OptionError, match=message):
        VTT.read(tmp_path, ConvertOptions(extras=extras), ConversionReport())


def test_reader_options_apply(tmp_path: Path):
    (tmp_path / "a.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n", encoding="utf-8")
    options = ConvertOptions(extras={"vtt_mimetype": "video/mp4", "vtt_default_label": "narrator"})
    [item] = VTT.read(tmp_path, options, ConversionReport()).items
    assert (item.filename, item.mimetype, [a.label for a in item]) == ("/a.mp4", "video/mp4", ["narrator"])
    with pytest.raises(OptionError, match="default_label"):
        vtt.from_vtt_file(tmp_path / "a.vtt", default_label=3)


def test_the_format_declares_its_options_and_what_it_looks_for():
    assert VTT.options == frozenset({"extras"}) and ".vtt" in VTT.looks_for


# ==== the package ==================================================================================
def test_the_names_others_import_stay_importable(tmp_path: Path):
    from dlconvert.formats.vtt import (  # noqa: F401
        DEFAULT_MIMETYPE,
        FORMAT,
        VttCue,
        VttDocument,
        cue_text,
        escape_text,
        format_timestamp,
        from_vtt_file,
        parse_timestamp,
        payload_lines,
        read,
        read_vtt_text,
        to_milliseconds,
        write,
    )

    (tmp_path / "a.vtt").write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v bob>hi\n", encoding="utf-8")
    collection = AnnotationCollection.from_vtt_file(tmp_path / "a.vtt")
    assert [(a.label, a.annotation_definition.text) for a in collection] == [("bob", "hi")]
    assert FORMAT is VTT


def test_each_module_of_the_package_stays_small():
    package = Path(vtt.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in package.glob("*.py")}
    assert set(sizes) == {"__init__.py", "compat.py", "detect.py", "reader.py", "text.py", "writer.py"}
    assert max(sizes.values()) <= 600, sizes
