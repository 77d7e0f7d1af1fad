"""Untrusted CVAT input: one-line errors naming the file and the line of the element, a non-zero exit and no output,
no entity ever expanded, absurd sizes refused before anything is allocated, no path outside the output folder.

Oracles: the files are written here with the fault placed on a known line; ``tracemalloc`` measures what reading
allocated.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from dlconvert import AnnotationCollection, Box
from dlconvert.cli import main
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.errors import FormatError
from dlconvert.formats import get_format
from dlconvert.report import ConversionReport

CVAT = get_format("cvat")
_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n<version>1.1</version>\n'


def _file(tmp_path: Path, body: str, head: str = _HEAD) -> Path:
    path = tmp_path / "annotations.xml"
    path.write_text(head + body + "\n</annotations>\n", encoding="utf-8")
    return path


def _image(shape: str, size: str = 'width="100" height="80"') -> str:
    return f'<image id="0" name="a.jpg" {size}>\n{shape}\n</image>'


def _error(path: Path) -> str:
    with pytest.raises(FormatError) as raised:
        list(CVAT.read(path, ConvertOptions(), ConversionReport()).items)
    return str(raised.value)


@pytest.mark.parametrize(("shape", "message"), [
    ('<box label="car" xtl="1" ytl="x" xbr="5" ybr="6"/>', "<box> ytl is not a number: 'x'"),
    ('<box label="car" xtl="1" ytl="2" xbr="5"/>', "<box> has no ybr"),
    ('<box label="car" xtl="nan" ytl="2" xbr="5" ybr="6"/>', "<box> xtl is not finite: 'nan'"),
    ('<box xtl="1" ytl="2" xbr="5" ybr="6"/>', "<box> has no label"),
    ('<polygon label="a" points="1,2;3"/>', "<polygon> points must be x,y pairs (found 3 numbers)"),
    ('<polyline label="a" points="1,2;a,b"/>', "<polyline> points must be numbers as x,y;x,y;…"),
    ('<ellipse label="a" cx="1" cy="2" rx="3"/>', "<ellipse> has no ry"),
    ('<mask label="a" rle="1,2" left="-1" top="0" width="2" height="2"/>', "<mask> left must be a whole number ≥ 0"),
    ('<mask label="a" rle="1,9" left="0" top="0" width="2" height="2"/>',
     "<mask> rle has a run that is negative or longer than its window"),
    ('<mask label="a" rle="3,2" left="0" top="0" width="2" height="2"/>',
     "<mask> rle covers 5 pixels, more than its 2×2"),
    ('<mask label="a" rle="1,x" left="0" top="0" width="2" height="2"/>', "<mask> rle must be whole numbers"),
    ('<mask label="a" rle="0,4" left="99" top="0" width="2" height="2"/>',
     "<mask> window 2×2 at (99, 0) lies outside the 100×80 image"),
    ('<box label="car" xtl="1" ytl="2" xbr="5" ybr="6" z_order="1.5"/>', "<box> z_order must be a whole number"),
    ('<box label="car" xtl="1" ytl="2" xbr="5" ybr="6" group_id="²"/>', "<box> group_id is not a number: '²'"),
])
def test_a_bad_shape_is_one_line_naming_file_line_and_element(tmp_path, shape, message):
    path = _file(tmp_path, _image(shape))
    error = _error(path)
    assert error == f"{path}:line 5: {message}" or error.startswith(f"{path}:line 5: {message}")
    assert "\n" not in error
    report = ConversionReport(on_error="skip")
    items = list(CVAT.read(path, ConvertOptions(), report).items)
    assert len(items) == 1 and list(items[0]) == [] and sum(report.skipped.values()) == 1


def test_the_cli_refuses_bad_input_with_one_line_and_writes_nothing(tmp_path, cli_runner):
    path = _file(tmp_path, _image('<box label="car" xtl="1" ytl="oops" xbr="5" ybr="6"/>'))
    result = cli_runner.invoke(main, ["convert", str(path), str(tmp_path / "out"), "--from", "cvat", "--to", "coco"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [f"error: {path}:line 5: <box> ytl is not a number: 'oops'"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("prolog", [
    '<?xml version="1.0"?>\n<!DOCTYPE annotations [\n<!ENTITY lol "lol">\n]>\n',
    '<?xml version="1.0"?>\n<!-- a comment first -->\n<!DOCTYPE annotations SYSTEM "file:///etc/passwd">\n',
])
def test_entities_and_dtds_are_refused_before_parsing(tmp_path, prolog):
    box = '<box label="&lol;" xtl="1" ytl="2" xbr="5" ybr="6"/>'
    path = _file(tmp_path, _image(box), head=prolog + "<annotations>")
    error = _error(path)
    assert "XML with a DTD or entity declarations is refused" in error
    assert error.startswith(f"{path}:line ")


def test_a_billion_laughs_is_refused_without_expanding(tmp_path):
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    path = _file(tmp_path, _image('<tag label="&l9;"/>'), head=f'<?xml version="1.0"?>\n<!DOCTYPE a [{laughs}]>\n'
                 "<annotations>")
    tracemalloc.start()
    try:
        assert "entity declarations is refused" in _error(path)
        assert tracemalloc.get_traced_memory()[1] < 20_000_000
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("xml", "message"), [
    ("<annotation><object/></annotation>", "the root element is <annotation>, not <annotations> (no CVAT XML)"),
    (_HEAD + _image('<box label="car" xtl="1"'), "invalid XML:"),
])
def test_what_is_not_cvat_xml_says_so(tmp_path, xml, message):
    path = tmp_path / "a.xml"
    path.write_text(xml, encoding="utf-8")
    assert message in _error(path)


def test_an_absurd_mask_is_refused_before_anything_is_allocated(tmp_path):
    # a 40 000 × 40 000 window on a 50 000 × 50 000 image: a few bytes of XML asking for gigabytes
    huge = '<mask label="a" rle="0,1600000000" left="0" top="0" width="40000" height="40000"/>'
    path = _file(tmp_path, _image(huge, 'width="50000" height="50000"'))
    tracemalloc.start()
    try:
        assert "more than the limit of" in _error(path)
        assert tracemalloc.get_traced_memory()[1] < 20_000_000
    finally:
        tracemalloc.stop()


def test_a_mask_on_an_image_of_unknown_size_says_so(tmp_path):
    path = _file(tmp_path, _image('<mask label="a" rle="0,4" left="0" top="0" width="2" height="2"/>', size=""))
    assert "<mask> needs the image's size" in _error(path)


def test_a_long_points_string_is_bounded_by_the_parser(tmp_path):
    points = ";".join(f"{i},{i}" for i in range(2_000_000))  # 20 MB: more than libxml2 takes in one attribute
    path = _file(tmp_path, _image(f'<polyline label="a" points="{points}"/>'))
    assert "invalid XML" in _error(path)


def test_a_tag_outside_an_image_and_an_image_without_a_name(tmp_path):
    path = _file(tmp_path, '<tag label="x"/>\n<image id="1" width="5" height="5"/>')
    report = ConversionReport(on_error="skip")
    assert list(CVAT.read(path, ConvertOptions(), report).items) == []
    assert [(i.code, i.where) for i in report.issues] == [("cvat.invalid-shape", "line 4"),
                                                          ("cvat.invalid-image", "line 5")]


def test_a_broken_file_in_a_folder_is_named_and_the_rest_read(tmp_path):
    (tmp_path / "a.xml").write_text(_HEAD + _image('<box label="car" xtl="1" ytl="2" xbr="5" ybr="6"/>') +
                                    "</annotations>", encoding="utf-8")
    (tmp_path / "b.xml").write_text("<annotations><image", encoding="utf-8")
    report = ConversionReport(on_error="skip")
    items = list(CVAT.read(tmp_path, ConvertOptions(), report).items)
    assert [len(item) for item in items] == [1]
    assert [(i.code, Path(i.path).name) for i in report.issues] == [("cvat.invalid-file", "b.xml")]


@pytest.mark.parametrize("name", ["../escape.mp4", "/../../escape.mp4", "a/../../../escape.mp4"])
def test_a_video_name_never_leaves_the_output_folder(tmp_path, name):
    video = AnnotationCollection(filename=name, width=10, height=10, mimetype="video/mp4")
    video.add(Box(left=1, top=1, right=5, bottom=5, label="car"), object_id=1, frame_num=0)
    out = tmp_path / "deep" / "out"
    CVAT.write(Dataset(iter([video])), out, ConvertOptions(), ConversionReport())
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "deep/out/annotations.xml", "deep/out/labelmap.json", "deep/out/videos/escape.mp4/annotations.xml"]


def test_an_element_an_image_cannot_hold_is_reported_not_dropped(tmp_path):
    shapes = '<cuboid_3d label="car" points="1,2"/>\n<box label="car" xtl="1" ytl="2" xbr="5" ybr="6"/>'
    path = _file(tmp_path, _image(shapes))
    assert _error(path) == f"{path}:line 5: <cuboid_3d> is no CVAT shape dlconvert knows: not read"
    report = ConversionReport(on_error="skip")
    (item,) = CVAT.read(path, ConvertOptions(), report).items
    assert [a.type for a in item] == ["box"]
    assert [(i.code, i.where) for i in report.issues] == [("cvat.invalid-shape", "line 5")]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_read_and_its_dtd_refused(tmp_path, encoding):
    import codecs

    bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
    text = _HEAD.replace("utf-8", "UTF-16") + _image('<box label="café" xtl="1" ytl="2" xbr="5" ybr="6"/>') + \
        "\n</annotations>\n"
    path = tmp_path / "annotations.xml"
    path.write_bytes(bom + text.encode(encoding))
    (item,) = CVAT.read(path, ConvertOptions(), ConversionReport()).items
    assert [a.label for a in item] == ["café"]
    dtd = text.replace("<annotations>", '<!DOCTYPE annotations [<!ENTITY x "y">]>\n<annotations>', 1)
    path.write_bytes(bom + dtd.encode(encoding))
    assert "XML with a DTD or entity declarations is refused" in _error(path)


def test_comments_and_instructions_before_the_root_may_hold_angle_brackets(tmp_path):
    head = '<?xml version="1.0"?>\n<?tool <option>?>\n<!-- <not-the-root> -->\n<annotations>\n'
    path = _file(tmp_path, _image('<box label="car" xtl="1" ytl="2" xbr="5" ybr="6"/>'), head=head)
    (item,) = CVAT.read(path, ConvertOptions(), ConversionReport()).items
    assert [a.type for a in item] == ["box"]


def test_a_dtd_is_never_fetched(tmp_path):
    from test_security import _Listener

    listener = _Listener()
    try:
        head = f'<?xml version="1.0"?>\n<!DOCTYPE annotations SYSTEM "http://127.0.0.1:{listener.port}/x.dtd">\n' \
               "<annotations>"
        path = _file(tmp_path, _image('<box label="car" xtl="1" ytl="2" xbr="5" ybr="6"/>'), head=head)
        assert "XML with a DTD or entity declarations is refused" in _error(path)
        assert CVAT.detect(path) is not None  # detection reads the head only, and fetches nothing either
        time.sleep(0.3)  # a fetch would have connected by now
    finally:
        listener.close()
    assert listener.connections == 0
