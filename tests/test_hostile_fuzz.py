"""Hypothesis fuzzing of every reader on arbitrary bytes and arbitrary JSON/XML/text values.

Each example is written to a temporary folder and converted twice (``on_error="fail"`` and
``"skip"``) through :class:`~dlconvert.converter.Converter`: the only exception allowed is a
:class:`DlconvertError` that names its file, a failed run leaves no output folder, and a finished
one balances its report. The inputs are shaped like each format (an item JSON with annotation-like
objects, a COCO document, VOC XML, WebVTT cues, YOLO label lines) with hostile values in every
field, plus raw bytes. The example budget is the hypothesis profile's (``ci`` in ``make test``);
``make fuzz`` runs the corpus and random cases for much longer (``python -m hostile.fuzz``).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dlconvert.converter import Converter
from dlconvert.errors import DlconvertError

# -- values ----------------------------------------------------------------------------------------
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, -1, 1, 0.5, 1e300, -1e300, 10**9, 2**31, 2**32, 2**63, 5e-324]),
)
TEXT = st.one_of(st.text(max_size=8), st.sampled_from(["", "\x00", "../x", "/abs", "a\nb", "\x1b[31m", "x" * 300]))
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=12)
PNG_1X1 = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAW"
           "jR9awAAAABJRU5ErkJggg==")
MASK_URLS = st.sampled_from([PNG_1X1, PNG_1X1[:-8], "data:image/png;base64,!!", "data:image/jpeg;base64,/9j/",
                             "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAAAAAAA", ""])
TYPES = st.sampled_from(["box", "segment", "polyline", "point", "ellipse", "cube", "pose", "class", "binary",
                         "subtitle", "note", "", "made_up"])


def _maybe(strategy):
    """``strategy`` most of the time, any JSON value sometimes."""
    return st.one_of(strategy, strategy, strategy, VALUES)


POINT = st.fixed_dictionaries({"x": _maybe(NUMBERS), "y": _maybe(NUMBERS)}, optional={"z": NUMBERS})
RING = st.lists(_maybe(POINT), max_size=6)
COORDINATES = st.one_of(RING, st.lists(RING, max_size=3), MASK_URLS, st.fixed_dictionaries({"text": TEXT}), VALUES)
SYSTEM = st.fixed_dictionaries({}, optional={
    "frame": _maybe(NUMBERS), "endFrame": _maybe(NUMBERS), "startTime": _maybe(NUMBERS), "endTime": _maybe(NUMBERS),
    "objectId": _maybe(st.integers(0, 5)), "parentId": _maybe(st.sampled_from(["a", "b", "c"])),
    "snapshots_": _maybe(st.lists(st.fixed_dictionaries({"frame": _maybe(NUMBERS)},
                                                        optional={"data": COORDINATES, "type": _maybe(TYPES)}),
                                  max_size=3)),
    "attributes": VALUES,
})
ANNOTATION = st.fixed_dictionaries(
    {"type": _maybe(TYPES)},
    optional={"id": _maybe(st.sampled_from(["a", "b", "c"])), "label": _maybe(TEXT), "coordinates": COORDINATES,
              "metadata": _maybe(st.fixed_dictionaries({"system": _maybe(SYSTEM)}))},
)
ITEM = st.fixed_dictionaries(
    {"annotations": _maybe(st.lists(_maybe(ANNOTATION), max_size=5))},
    optional={"filename": _maybe(st.sampled_from(["/a.jpg", "/v.mp4", "/s.mp3", "../../x.jpg", "/d/b.png"])),
              "metadata": _maybe(st.fixed_dictionaries({"system": _maybe(st.fixed_dictionaries({}, optional={
                  "width": _maybe(NUMBERS), "height": _maybe(NUMBERS), "fps": _maybe(NUMBERS),
                  "mimetype": _maybe(st.sampled_from(["image/jpeg", "video/mp4", "audio/mpeg"]))}))}))},
)
IDS = _maybe(st.integers(0, 3))
COCO = st.fixed_dictionaries({
    "images": _maybe(st.lists(_maybe(st.fixed_dictionaries({"id": IDS, "file_name": _maybe(TEXT)},
                                                          optional={"width": _maybe(NUMBERS),
                                                                    "height": _maybe(NUMBERS)})), max_size=3)),
    "categories": _maybe(st.lists(_maybe(st.fixed_dictionaries(
        {"id": IDS, "name": _maybe(TEXT)}, optional={"keypoints": VALUES, "skeleton": VALUES})), max_size=3)),
    "annotations": _maybe(st.lists(_maybe(st.fixed_dictionaries(
        {"image_id": IDS, "category_id": IDS},
        optional={"id": IDS, "bbox": _maybe(st.lists(NUMBERS, min_size=4, max_size=4)),
                  "segmentation": st.one_of(st.lists(st.lists(NUMBERS, max_size=8), max_size=2),
                                            st.fixed_dictionaries({"size": _maybe(st.lists(st.integers(0, 6),
                                                                                           min_size=2, max_size=2)),
                                                                   "counts": _maybe(st.one_of(
                                                                       st.lists(st.integers(0, 40), max_size=5),
                                                                       st.text(max_size=6)))}),
                                            VALUES),
                  "keypoints": _maybe(st.lists(NUMBERS, max_size=9)), "iscrowd": VALUES})), max_size=4)),
})


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def voc_xml(draw) -> bytes:
    def element(tag, text_strategy):
        return f"<{tag}>{_xml_text(draw(text_strategy))}</{tag}>"

    number = st.one_of(st.integers(-5, 5000).map(str), st.sampled_from(["nan", "inf", "1e300", "", "x", "-0"]),
                       st.text(max_size=4))
    objects = []
    for _ in range(draw(st.integers(0, 3))):
        parts = [element("name", st.one_of(st.sampled_from(["cat", "dog", ""]), st.text(max_size=5)))]
        if draw(st.booleans()):
            parts.append("<bndbox>" + "".join(element(t, number) for t in ("xmin", "ymin", "xmax", "ymax")
                                              if draw(st.integers(0, 9))) + "</bndbox>")
        if draw(st.booleans()):
            parts.append(element(draw(st.sampled_from(["difficult", "truncated", "pose", "x"])), number))
        objects.append("<object>" + "".join(parts) + "</object>")
    size = "<size>" + "".join(element(t, number) for t in ("width", "height", "depth")) + "</size>"
    head = draw(st.sampled_from(["", '<?xml version="1.0"?>', "<!DOCTYPE annotation>",
                                 '<!DOCTYPE a [<!ENTITY e "x">]>']))
    body = (head + "<annotation>" + element("filename", st.one_of(st.just("a.jpg"), TEXT))
            + (size if draw(st.booleans()) else "") + "".join(objects) + "</annotation>")
    return body.encode("utf-8", "surrogatepass")


TIMESTAMPS = st.one_of(
    st.builds(lambda h, m, s, ms: f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}", st.integers(0, 120), st.integers(0, 70),
              st.integers(0, 70), st.integers(0, 1200)),
    st.sampled_from(["00:00.000", "0:00:00.000", "00:00:00,000", "-00:00:01.000", "99999999999999999999:00:00.000",
                     ""]),
)
VTT_LINE = st.one_of(
    st.builds(lambda a, b, s: f"{a} --> {b}{s}", TIMESTAMPS, TIMESTAMPS, st.sampled_from(["", " align:start", " x"])),
    st.sampled_from(["", "", "", "NOTE x", "STYLE", "REGION", "<v Bob>hi</v>", "<v", "a --> b", "&amp;", "&#0;",
                     "\x00", " ", "WEBVTT"]),
    st.text(max_size=10),
)


@st.composite
def vtt_text(draw) -> bytes:
    head = draw(st.sampled_from(["WEBVTT", "WEBVTT", "\ufeffWEBVTT", "WEBVTT x", "WEBVTTX", ""]))
    lines = draw(st.lists(VTT_LINE, max_size=12))
    return "\n".join([head, "", *lines]).encode("utf-8", "surrogatepass")


YOLO_TOKEN = st.one_of(st.floats(0, 1).map(lambda v: f"{v:.4f}"), st.integers(0, 3).map(str),
                       st.sampled_from(["nan", "inf", "-1", "1e300", ",", "abc", "", "0.5,0.5", "1.5"]))
YOLO_LINES = st.lists(st.lists(YOLO_TOKEN, min_size=0, max_size=12).map(" ".join), max_size=5).map(
    lambda lines: "\n".join(lines).encode())
YAML = st.sampled_from([
    "names: [a, b, c, d]\n", "names: {0: a, 1: b}\nkpt_shape: [2, 3]\n", "nc: 2\n", "names: [a\n", "names: 5\n",
    "kpt_shape: [2, 2]\nnames: [p]\n", "", "- x\n", "names: {0: a, 5: b}\n",
]).map(lambda text: ("path: .\ntrain: images/train\n" + text).encode())


# -- the property ------------------------------------------------------------------------------------
@contextmanager
def _time_limit(seconds: int):
    def alarm(signum, frame):
        raise AssertionError(f"the conversion took more than {seconds} s (a hang?)")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _converts_or_refuses(files: dict[str, bytes], fmt: str, src: str = "", to: str = "dataloop") -> None:
    with tempfile.TemporaryDirectory(prefix="dlconvert-fuzz-") as tmp:
        root = Path(tmp) / "in"
        for relative, content in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        for on_error in ("fail", "skip"):
            dst = Path(tmp) / f"out-{on_error}"
            try:
                with _time_limit(30):
                    report = Converter(on_error=on_error).run(root / src if src else root, fmt, dst, to)
            except DlconvertError as exc:
                assert exc.path, f"the error names no file: {exc}"
                assert "\n" not in exc.message, exc.message
                assert not dst.exists(), "a failed conversion left its output folder"
            else:
                assert report.unbalanced() == {}, report.unbalanced()
            leftovers = [p.name for p in Path(tmp).iterdir() if p.name.endswith(".tmp")]
            assert not leftovers, leftovers


#: The profile's budget (``ci``: 60 examples a test); ``hostile.fuzz`` sets HOSTILE_FUZZ_EXAMPLES for longer runs.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                **({"max_examples": int(os.environ["HOSTILE_FUZZ_EXAMPLES"])}
                   if os.environ.get("HOSTILE_FUZZ_EXAMPLES") else {}))
TARGETS = st.sampled_from(["dataloop", "coco", "voc", "vtt"])


def _json(value) -> bytes:
    return json.dumps(value, allow_nan=True).encode()


@FUZZ
@given(item=ITEM, to=TARGETS)
def test_dataloop_reader_on_item_shaped_json(item, to):
    _converts_or_refuses({"json/item.json": _json(item)}, "dataloop", to=to)


@FUZZ
@given(value=VALUES)
def test_dataloop_reader_on_any_json(value):
    _converts_or_refuses({"json/item.json": _json(value)}, "dataloop", to="coco")


@FUZZ
@given(document=COCO, to=TARGETS)
def test_coco_reader_on_coco_shaped_json(document, to):
    _converts_or_refuses({"coco.json": _json(document)}, "coco", src="coco.json", to=to)


@FUZZ
@given(xml=voc_xml(), to=st.sampled_from(["dataloop", "voc", "coco"]))
def test_voc_reader_on_voc_shaped_xml(xml, to):
    _converts_or_refuses({"Annotations/a.xml": xml}, "voc", to=to)


@FUZZ
@given(text=vtt_text(), to=st.sampled_from(["dataloop", "vtt"]))
def test_vtt_reader_on_cue_shaped_text(text, to):
    _converts_or_refuses({"subs/a.vtt": text}, "vtt", to=to)


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (255, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


_PNG = _png()


@FUZZ
@given(labels=YOLO_LINES, yaml=YAML, to=st.sampled_from(["dataloop", "coco"]))
def test_yolo_reader_on_label_lines(labels, yaml, to):
    _converts_or_refuses({"data.yaml": yaml, "images/train/1.png": _PNG, "labels/train/1.txt": labels}, "yolo",
                         to=to)


@FUZZ
@given(data=st.binary(max_size=300), fmt=st.sampled_from(["dataloop", "coco", "voc", "vtt", "yolo"]))
def test_every_reader_on_raw_bytes(data, fmt):
    name = {"dataloop": "json/a.json", "coco": "coco.json", "voc": "Annotations/a.xml", "vtt": "a.vtt",
            "yolo": "labels/train/1.txt"}[fmt]
    files = {name: data}
    if fmt == "yolo":
        files.update({"data.yaml": b"path: .\ntrain: images/train\nnames: [a, b]\n", "images/train/1.png": _PNG})
    _converts_or_refuses(files, fmt, src="coco.json" if fmt == "coco" else "")
