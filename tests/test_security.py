"""Security review items of issue #8, as tests.

* no ``eval``/``exec``/``pickle``/``marshal``/unsafe YAML or shell on input anywhere in the package
  (a grep over the package's syntax trees);
* XML parsed with entities, DTDs and the network off: XXE, billion laughs (UTF-8 and UTF-16),
  external DTDs, parameter entities and XInclude neither expand, read files nor connect;
* output paths resolved inside the output root, also through symlinks (in the output, as the
  output, and left by an earlier run), whatever file names the data holds;
* decompression bombs: PNG/JPEG headers claiming 10⁹ × 10⁹ (or 65535²) pixels are refused from the
  header, and absurd item sizes never allocate a canvas or a mask — checked with tracemalloc and,
  for what allocates outside Python (Pillow, libxml2, pycocotools), in a process whose address
  space is limited.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import resource
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile.tree import snapshot
from hostile.values import png_header

import dlconvert
from dlconvert import AnnotationCollection, DlconvertError, InvalidAnnotationError, OutputError
from dlconvert._io import safe_join
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.errors import FormatError
from dlconvert.geometry import Segmentation
from dlconvert.geometry.masks import rasterize_rings
from dlconvert.images import image_info

PACKAGE = Path(dlconvert.__file__).resolve().parent
SECRET = "TOP-SECRET-7f3a9c"
LIMIT = 1536 * 1024**2  # address space of the processes that must not allocate (the interpreter needs ~0.5 GiB)


# ==== no code execution on input ======================================================================
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint", "input", "execfile"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "jsonpickle",
                     "joblib", "xml.etree.ElementTree", "xml.etree.cElementTree", "xml.dom.minidom", "xml.dom.pulldom",
                     "xml.sax", "xml.parsers.expat", "xmlrpc", "code", "pty"}
FORBIDDEN_ATTRIBUTES = {("yaml", "load"), ("yaml", "unsafe_load"), ("yaml", "full_load"), ("yaml", "load_all"),
                        ("yaml", "Loader"), ("yaml", "UnsafeLoader"), ("yaml", "FullLoader"), ("os", "system"),
                        ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "spawnv"), ("np", "load"),
                        ("numpy", "load"), ("torch", "load"), ("pd", "read_pickle"), ("pandas", "read_pickle")}
#: import_module with a computed name: only the format registry, which checks the name first.
DYNAMIC_IMPORTS = {"formats/__init__.py"}
#: May import pickle / cloudpickle to *serialise* our own objects for worker processes (never to load).
PICKLE_DUMPS_ONLY = {"parallel.py"}
_PICKLERS = {"pickle", "cloudpickle"}


def _sources() -> list[tuple[str, ast.AST]]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    return [(p.relative_to(PACKAGE).as_posix(), ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in files]


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def test_no_eval_exec_pickle_marshal_or_shell_anywhere_in_the_package():
    found = []
    for name, tree in _sources():
        for node in ast.walk(tree):
            where = f"{name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import):
                found += [f"{where} import {a.name}" for a in node.names if (
                    a.name in FORBIDDEN_MODULES or a.name.split(".")[0] in {"pickle", "marshal", "shelve", "dill",
                                                                            "cloudpickle"})
                    and not (name in PICKLE_DUMPS_ONLY and a.name in _PICKLERS and a.asname is None)]
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module in FORBIDDEN_MODULES or node.module.split(".")[0] in {"pickle", "marshal", "shelve"}:
                    found.append(f"{where} from {node.module} import …")
            elif isinstance(node, ast.Call):
                called = _dotted(node.func)
                if called in FORBIDDEN_CALLS:
                    found.append(f"{where} {called}(…)")
                if called.split(".")[0] in _PICKLERS and called.rsplit(".", 1)[-1] != "dumps":
                    found.append(f"{where} {called}(…): only dumps, never load")
                parts = tuple(called.rsplit(".", 1)) if "." in called else ()
                if parts in FORBIDDEN_ATTRIBUTES:
                    found.append(f"{where} {called}(…)")
                if any(k.arg == "shell" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                       for k in node.keywords):
                    found.append(f"{where} {called}(shell=…)")
                if any(k.arg == "allow_pickle" for k in node.keywords):
                    found.append(f"{where} {called}(allow_pickle=…)")
                if called.endswith("import_module") and node.args and not isinstance(node.args[0], ast.Constant) \
                        and name not in DYNAMIC_IMPORTS:
                    found.append(f"{where} import_module with a computed name")
            elif isinstance(node, ast.Attribute) and (_dotted(node.value), node.attr) in FORBIDDEN_ATTRIBUTES:
                found.append(f"{where} {_dotted(node)}")
    assert not found, "code execution on input is possible here:\n" + "\n".join(found)


def test_the_grep_also_finds_nothing_in_the_raw_text():
    """The same review as plain text (comments and docstrings aside), as a reviewer would grep."""
    pattern = re.compile(r"(?<![\w.])(eval|exec)\s*\(|\bpickle\b|\bmarshal\b|yaml\.(?:unsafe_|full_)?load\b|"
                         r"shell\s*=\s*True|os\.system\s*\(")
    hits = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            code = line.split("#", 1)[0]
            if path.relative_to(PACKAGE).as_posix() in PICKLE_DUMPS_ONLY:  # checked node by node above
                code = re.sub(r"\b(?:cloud)?pickle(?:\.dumps\b)?", "", code)
            if pattern.search(code) and not code.strip().startswith(('"', "'")):
                hits.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_the_format_registry_imports_only_its_own_modules():
    from dlconvert.formats import get_format

    for name in ("os", "../cli", "dlconvert.cli", "formats.os", "__init__", "_private", "voc\x00"):
        with pytest.raises(DlconvertError):
            get_format(name)


def test_yaml_is_read_with_the_safe_loader(tmp_path: Path):
    """A data.yaml asking for a Python object is refused as invalid YAML, never constructed."""
    marker = tmp_path / "pwned"
    (tmp_path / "data.yaml").write_text(f"!!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(DlconvertError):
        Converter().run(tmp_path / "data.yaml", "yolo", tmp_path / "out", "dataloop")
    assert not marker.exists()


# ==== XML ===============================================================================================
def test_every_xml_parser_has_entities_dtds_and_the_network_off():
    parsers, parses = [], []
    for name, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                called = _dotted(node.func)
                if called.endswith("XMLParser") or called.endswith("HTMLParser"):
                    parsers.append((name, node))
                if called.split(".")[-1] in ("fromstring", "parse", "XML", "iterparse", "fromstringlist") and \
                        called.split(".")[0] in ("etree", "lxml", "ET", "ElementTree"):
                    parses.append((name, node))
    assert parsers, "expected the VOC reader's parser"
    for name, node in parsers:
        options = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
        assert options.get("resolve_entities") is False, name
        assert options.get("no_network") is True, name
        assert options.get("load_dtd") is False, name
        assert options.get("huge_tree") is False, name
    for name, node in parses:
        assert len(node.args) >= 2 or any(k.arg == "parser" for k in node.keywords), \
            f"{name}:{node.lineno} parses XML with lxml's default parser"


def _voc(tmp_path: Path, xml: str | bytes, *, name: str = "a.xml") -> Path:
    root = tmp_path / "voc"
    (root / "Annotations").mkdir(parents=True, exist_ok=True)
    (root / "Annotations" / name).write_bytes(xml.encode() if isinstance(xml, str) else xml)
    return root


BODY = "<annotation><filename>a.jpg</filename><size><width>10</width><height>10</height><depth>3</depth></size>" \
       "<object><name>{name}</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>" \
       "</annotation>"


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    return secret


def _no_secret_anywhere(*places: Path, text: str = "") -> None:
    assert SECRET not in text
    for place in places:
        for path in place.rglob("*") if place.is_dir() else []:
            if path.is_file():
                assert SECRET.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_xxe_never_reads_the_file(tmp_path: Path, encoding: str):
    secret = _secret(tmp_path)
    xml = (f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n'
           f'<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file://{secret}">]>\n' + BODY.format(name="&xxe;"))
    src = _voc(tmp_path, xml.encode(encoding))
    with pytest.raises(FormatError) as caught:
        Converter().run(src, "voc", tmp_path / "out", "dataloop")
    _no_secret_anywhere(tmp_path / "out", text=str(caught.value))
    result = CliRunner().invoke(main, ["convert", str(src), str(tmp_path / "cli"), "--from", "voc", "--to", "coco",
                                       "--on-error", "skip"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    _no_secret_anywhere(tmp_path / "cli", text=result.output + result.stderr)


def _laughs(levels: int = 10) -> str:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "&lol;") * 10}">' for i in range(1, levels))
    return f"<!DOCTYPE lolz [{entities}]>\n" + BODY.format(name=f"&lol{levels - 1};")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le"])
def test_billion_laughs_is_refused_at_once_without_memory(tmp_path: Path, encoding: str):
    header = f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n' if encoding != "utf-8" else ""
    src = _voc(tmp_path, (header + _laughs()).encode(encoding))
    code = f"""
        import time
        from dlconvert.converter import Converter
        from dlconvert.errors import FormatError
        started = time.perf_counter()
        try:
            Converter().run({str(src)!r}, "voc", {str(tmp_path / "out")!r}, "dataloop")
        except FormatError as exc:
            print("refused", round(time.perf_counter() - started, 3), exc)
    """
    done = _limited_python(code)
    assert done.stdout.startswith("refused"), done.stdout + done.stderr
    assert float(done.stdout.split()[1]) < 5


class _Listener:
    """A TCP port that records whether anything connects to it (a DTD or XInclude fetch)."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop:
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.server.close()


@pytest.mark.parametrize("head", [
    '<!DOCTYPE annotation SYSTEM "http://127.0.0.1:{port}/x.dtd">',
    '<!DOCTYPE annotation PUBLIC "-//A//B" "http://127.0.0.1:{port}/x.dtd">',
    '<!DOCTYPE annotation [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;]>',
    '<!DOCTYPE annotation [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/e">]>',
    "",
])
def test_no_network_access_for_dtds_entities_or_xinclude(tmp_path: Path, head: str):
    listener = _Listener()
    try:
        body = BODY.format(name="cat").replace(
            "<annotation>", '<annotation xmlns:xi="http://www.w3.org/2001/XInclude">'
                            f'<xi:include href="http://127.0.0.1:{listener.port}/i.xml" parse="text"/>', 1)
        src = _voc(tmp_path, head.format(port=listener.port) + body)
        for on_error in ("fail", "skip"):
            try:
                Converter(on_error=on_error).run(src, "voc", tmp_path / f"out-{on_error}", "voc")
            except FormatError:
                pass
        time.sleep(0.3)
        assert listener.connections == 0
    finally:
        listener.close()


def test_xml_kept_in_item_metadata_is_parsed_as_safely(tmp_path: Path):
    """``metadata.user.voc.extra_xml`` comes from a JSON file: the VOC writer parses it like a file."""
    secret = _secret(tmp_path)
    item = {"filename": "/a.jpg", "metadata": {"system": {"width": 10, "height": 10}, "user": {"voc": {"extra_xml": [
        f'<!DOCTYPE a [<!ENTITY xxe SYSTEM "file://{secret}">]><note>&xxe;</note>', _laughs(),
        "<fine>kept</fine>"]}}},
        "annotations": [{"type": "box", "label": "cat", "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]}]}
    (tmp_path / "dl" / "json").mkdir(parents=True)
    (tmp_path / "dl" / "json" / "a.json").write_text(json.dumps(item))
    with pytest.raises(FormatError):
        Converter().run(tmp_path / "dl", "dataloop", tmp_path / "out", "voc")
    report = Converter(on_error="skip").run(tmp_path / "dl", "dataloop", tmp_path / "out", "voc")
    assert [i.code for i in report.failed_files] == ["voc.invalid-extra-xml"] * 2
    written = (tmp_path / "out" / "Annotations" / "a.xml").read_text()
    assert "<fine>kept</fine>" in written and SECRET not in written and "lol" not in written


# ==== output paths ========================================================================================
@pytest.mark.parametrize("name", ["C:\\x", "c:x", "a\x00b", "x" * 256, "d/" + "y" * 300 + "/z"])
def test_safe_join_refuses_names_that_cannot_be_written_inside(tmp_path: Path, name: str):
    with pytest.raises(OutputError):
        safe_join(tmp_path, name)


@pytest.mark.parametrize("name", ["/a.jpg", "a/b/c.json", "./a", "/sub/./b", "a//b", "..a", "a..", "ü/名前.json",
                                  "x" * 255, "../x", "../../etc/passwd", "a/../../x", "/../..", "..\\..\\x"])
def test_safe_join_keeps_other_names_inside(tmp_path: Path, name: str):
    """A leading ``/`` is the dataset root and ``..`` cannot climb above it: the path stays inside."""
    target = safe_join(tmp_path, name)
    assert target.resolve() == tmp_path.resolve() or tmp_path.resolve() in target.resolve().parents


def test_safe_join_refuses_a_link_in_the_output_that_points_outside(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "json")
    with pytest.raises(OutputError):
        safe_join(root, "json/a.json")


ESCAPES = ["../../escape.jpg", "/../../../escape.jpg", "sub/../../escape.jpg", "{outside}/pwned.jpg",
           "/{outside}/pwned.jpg", "..\\..\\escape.jpg", "C:\\Windows\\escape.jpg", "x" * 300 + ".jpg",
           "a\x00b.jpg"]


def _export(root: Path, names: list[str], outside: Path, *, mimetype: str = "image/jpeg") -> Path:
    (root / "json").mkdir(parents=True)
    good = {"filename": "/good.jpg", "metadata": {"system": {"width": 20, "height": 20, "mimetype": mimetype}},
            "annotations": [{"type": "box", "label": "ok", "coordinates": [{"x": 1, "y": 1}, {"x": 9, "y": 9}]}]}
    (root / "json" / "good.json").write_text(json.dumps(good))
    for number, name in enumerate(names):
        bad = json.loads(json.dumps(good))
        bad["filename"] = name.replace("{outside}", str(outside))
        bad["annotations"][0]["label"] = f"bad{number}"
        (root / "json" / f"bad{number}.json").write_text(json.dumps(bad))
    return root


@pytest.mark.parametrize("to", ["dataloop", "voc", "coco"])
def test_file_names_from_the_data_never_leave_the_output(tmp_path: Path, to: str):
    outside = tmp_path / "outside"
    outside.mkdir()
    src = _export(tmp_path / "in", ESCAPES, outside)
    before = snapshot(tmp_path, skip=(tmp_path / "out", tmp_path / "out-skip"))
    try:
        Converter().run(src, "dataloop", tmp_path / "out", to)
    except OutputError as exc:
        assert exc.path and exc.where and exc.where.startswith("item "), exc
        assert not (tmp_path / "out").exists()
    report = Converter(on_error="skip").run(src, "dataloop", tmp_path / "out-skip", to)
    assert report.unbalanced() == {}
    assert report.annotations_out["box"] >= 1  # the good item, at least
    assert snapshot(tmp_path, skip=(tmp_path / "out", tmp_path / "out-skip")) == before
    real = (tmp_path / "out-skip").resolve()
    for path in real.rglob("*"):
        assert real in path.resolve().parents
    assert list(outside.iterdir()) == []


def test_video_names_never_leave_the_vtt_output(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    src = _export(tmp_path / "in", ESCAPES, outside, mimetype="video/mp4")
    report = Converter(on_error="skip").run(src, "dataloop", tmp_path / "out", "vtt")
    assert report.unbalanced() == {}
    assert list(outside.iterdir()) == []
    assert all((tmp_path / "out").resolve() in p.resolve().parents for p in (tmp_path / "out").rglob("*"))


def test_a_linked_output_folder_is_written_through_and_kept(tmp_path: Path):
    target = tmp_path / "elsewhere" / "real-out"
    target.mkdir(parents=True)
    link = tmp_path / "out"
    os.symlink(target, link)
    src = _export(tmp_path / "in", [], tmp_path)
    result = CliRunner().invoke(main, ["convert", str(src), str(link), "--from", "dataloop", "--to", "dataloop"])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and (target / "json" / "good.json").is_file()
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_overwrite_removes_links_left_in_the_old_output_not_what_they_point_to(tmp_path: Path):
    """A previous output holding links (as ``--images-mode link`` writes): replacing it unlinks them, never
    deletes through them."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    dst = tmp_path / "out"
    dst.mkdir()
    os.symlink(outside, dst / "json")
    os.symlink(outside / "precious.txt", dst / "labelmap.json")
    listed = {name: len(os.readlink(dst / name)) for name in ("json", "labelmap.json")}
    (dst / ".dlconvert-output.json").write_text(json.dumps({"written_by": "dlconvert-output", "version": 1,
                                                            "folders": [], "files": listed}))
    src = _export(tmp_path / "in", [], outside)
    Converter().run(src, "dataloop", dst, "dataloop", overwrite=True)
    assert (outside / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
    assert not (dst / "json").is_symlink() and (dst / "json" / "good.json").is_file()


def test_a_failed_run_leaves_the_output_as_it_was_and_no_staging(tmp_path: Path):
    dst = tmp_path / "out"
    good = _export(tmp_path / "good", [], tmp_path)
    Converter().run(good, "dataloop", dst, "dataloop")  # a previous output, which --overwrite may replace
    before = {p: p.read_bytes() for p in dst.rglob("*") if p.is_file()}
    src = tmp_path / "in" / "json"
    src.mkdir(parents=True)
    (src / "a.json").write_text('{"annotations": [{"type": "box", "coordinates": "nope"}]}')
    result = CliRunner().invoke(main, ["convert", str(src.parent), str(dst), "--from", "dataloop", "--to", "coco",
                                       "--overwrite"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "a.json:/annotations/0/coordinates" in result.stderr
    assert {p: p.read_bytes() for p in dst.rglob("*") if p.is_file()} == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_control_characters_in_names_do_not_reach_the_terminal(tmp_path: Path):
    """The one error line shows line breaks and terminal escapes from the data escaped, and whole."""
    src = tmp_path / "in" / "json"
    src.mkdir(parents=True)
    (src / "a\x1b[2Jb\nc.json").write_text("{")
    result = CliRunner().invoke(main, ["convert", str(src.parent), str(tmp_path / "out"), "--from", "dataloop",
                                       "--to", "coco"])
    assert result.exit_code == 1
    assert "\x1b" not in result.stderr and result.stderr.count("\n") == 1
    assert "a\\x1b[2Jb\\nc.json" in result.stderr and "invalid JSON" in result.stderr


# ==== decompression bombs and absurd sizes ===================================================================
def _jpeg_header(width: int, height: int) -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


BOMBS = {"png-1e9": png_header(10**9, 10**9), "png-2^31": png_header(2**31 - 1, 2**31 - 1),
         "png-30000": png_header(30000, 30000), "jpeg-65535": _jpeg_header(65535, 65535)}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_an_image_header_claiming_too_many_pixels_is_refused_without_allocating(tmp_path: Path, name: str):
    path = tmp_path / (name + (".jpg" if name.startswith("jpeg") else ".png"))
    path.write_bytes(BOMBS[name])
    tracemalloc.start()
    try:
        with pytest.raises(FormatError) as caught:
            image_info(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024**2
    assert caught.value.path == str(path)


def test_an_image_bomb_is_refused_in_a_limited_process(tmp_path: Path):
    """Pillow's own allocations are not traced: in a process with a small address space, nothing breaks."""
    for name, data in BOMBS.items():
        (tmp_path / f"{name}.png").write_bytes(data)
    code = f"""
        from pathlib import Path
        from dlconvert.images import image_info
        from dlconvert.errors import FormatError
        for path in sorted(Path({str(tmp_path)!r}).glob("*.png")):
            try:
                image_info(path)
                print("read", path.name)
            except FormatError:
                print("refused", path.name)
    """
    done = _limited_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split().count("refused") == len(BOMBS)


def _mask_item(url: str, width=10, height=10) -> dict:
    return {"filename": "/a.png", "metadata": {"system": {"width": width, "height": height}},
            "annotations": [{"type": "binary", "label": "m", "coordinates": url}]}


@pytest.mark.parametrize("size", [(10**9, 10**9), (2**31 - 1, 2**31 - 1), (20001, 20000), (0, 5)])
def test_a_mask_claiming_absurd_pixels_is_refused_when_read(size):
    url = "data:image/png;base64," + base64.b64encode(png_header(*size)).decode()
    tracemalloc.start()
    try:
        with pytest.raises(InvalidAnnotationError) as caught:
            AnnotationCollection.from_json(_mask_item(url), path="item.json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024**2
    assert caught.value.path == "item.json" and caught.value.where == "/annotations/0/coordinates"


def test_a_corrupt_mask_is_a_bad_record_with_its_place(tmp_path: Path):
    broken = png_header(64, 64, idat=b"definitely not zlib")
    src = tmp_path / "in" / "json"
    src.mkdir(parents=True)
    item = _mask_item("data:image/png;base64," + base64.b64encode(broken).decode(), 64, 64)
    item["annotations"].append({"type": "box", "label": "ok", "coordinates": [{"x": 1, "y": 1}, {"x": 9, "y": 9}]})
    (src / "a.json").write_text(json.dumps(item))
    with pytest.raises(InvalidAnnotationError) as caught:
        Converter().run(src.parent, "dataloop", tmp_path / "out", "coco")
    assert caught.value.path.endswith("a.json") and caught.value.where == "/annotations/0/coordinates"
    report = Converter(on_error="skip").run(src.parent, "dataloop", tmp_path / "out", "coco")
    assert report.annotations_out["box"] == 1 and report.skipped["binary"] == 1 and report.unbalanced() == {}
    # Dataloop to Dataloop never decodes: the mask goes through as it was read
    report = Converter().run(src.parent, "dataloop", tmp_path / "same", "dataloop")
    assert report.annotations_out["binary"] == 1


@pytest.mark.parametrize("rle", [
    {"size": [10**9, 10**9], "counts": [10**18]}, {"size": [10**9, 10**9], "counts": "PPYo0"},
    {"size": [100000, 100000], "counts": "0"}, {"size": [2**31, 2**31], "counts": [2**62]},
])
def test_an_rle_of_absurd_size_is_refused_before_pycocotools_allocates(tmp_path: Path, rle):
    document = {"images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
                "categories": [{"id": 1, "name": "c"}],
                "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": rle},
                                {"id": 2, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}]}
    (tmp_path / "coco.json").write_text(json.dumps(document))
    code = f"""
        from dlconvert.converter import Converter
        from dlconvert.errors import FormatError
        try:
            Converter().run({str(tmp_path / "coco.json")!r}, "coco", {str(tmp_path / "out")!r}, "dataloop")
        except FormatError as exc:
            print("refused", exc.where)
        report = Converter(on_error="skip").run({str(tmp_path / "coco.json")!r}, "coco",
                                                {str(tmp_path / "skip")!r}, "dataloop")
        print("skipped", sum(report.skipped.values()), "written", sum(report.annotations_out.values()))
    """
    done = _limited_python(code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "refused /annotations/0/segmentation" in done.stdout
    assert "skipped 1 written 1" in done.stdout


def test_drawing_on_an_absurd_canvas_is_refused_before_allocating():
    ring = [[0.0, 0.0], [100.0, 0.0], [100.0, 100.0]]
    import numpy as np

    tracemalloc.start()
    try:
        with pytest.raises(InvalidAnnotationError):
            rasterize_rings([np.array(ring)], (10**9, 10**9))
        with pytest.raises(InvalidAnnotationError):
            Segmentation.from_polygon(ring, shape=(10**5, 10**5))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 1024**2


HUGE_ITEM = {
    "filename": "/huge.jpg", "metadata": {"system": {"width": 10**9, "height": 10**9, "mimetype": "image/jpeg"}},
    "annotations": [
        {"type": "box", "label": "b", "coordinates": [{"x": 10, "y": 10}, {"x": 5e8, "y": 5e8}]},
        {"type": "segment", "label": "p", "coordinates": [
            [{"x": 0, "y": 0}, {"x": 9e8, "y": 0}, {"x": 9e8, "y": 9e8}, {"x": 0, "y": 9e8}],
            [{"x": 1e8, "y": 1e8}, {"x": 2e8, "y": 1e8}, {"x": 2e8, "y": 2e8}]]},  # a hole: COCO writes it as RLE
        {"type": "ellipse", "label": "e", "coordinates": {"center": {"x": 5e8, "y": 5e8}, "rx": 1e8, "ry": 2e8,
                                                          "angle": 0}},
        {"type": "binary", "label": "m", "coordinates": _mask_item(
            "data:image/png;base64," + base64.b64encode(png_header(4, 4)).decode())["annotations"][0]["coordinates"]},
    ]}


@pytest.mark.parametrize("command", [
    ["convert", "{src}", "{out}", "--from", "dataloop", "--to", "coco"],
    ["convert", "{src}", "{out}", "--from", "dataloop", "--to", "voc"],
    ["convert", "{src}", "{out}", "--from", "dataloop", "--to", "yolo"],
    ["convert", "{src}", "{out}", "--from", "dataloop", "--to", "coco", "--on-error", "skip"],
    ["render", "{src}", "{out}", "--from", "dataloop", "--view", "mask", "--view", "instance"],
])
def test_an_absurd_item_size_never_allocates_in_conversion_or_rendering(tmp_path: Path, command):
    src = tmp_path / "in" / "json"
    src.mkdir(parents=True)
    (src / "huge.json").write_text(json.dumps(HUGE_ITEM))
    args = [a.format(src=src.parent, out=tmp_path / "out") for a in command]
    done = subprocess.run([sys.executable, "-m", "dlconvert.cli", *args], capture_output=True, text=True,
                          timeout=120, preexec_fn=_limit)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    if done.returncode == 1:
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr


# -- a Python process with a small address space --------------------------------------------------------------
def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _limited_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                          preexec_fn=_limit, env={**os.environ, "PYTHONWARNINGS": "ignore"})
