"""dlconvert never deletes or changes a file it did not write (issue 13 §1).

Every entry point refuses a non-empty destination by default; ``overwrite`` replaces only a previous
dlconvert output (the files its ``.dlconvert-output.json`` lists) and never the source, a folder
that holds or lies inside it, the working folder, a folder above it, the home folder or a root.
Every test snapshots the files around the destination and asserts that no byte of a user file
changed — and, where the run is refused, that nothing at all changed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from dlconvert import AnnotationCollection, Box
from dlconvert._destination import MANIFEST
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.errors import OutputError

USER_BYTES = b"the user's own file \x00\xff"


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every file (its bytes), link (its target) and folder under ``root``, by relative path."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[relative] = "-> " + os.readlink(path)
            elif path.is_dir():
                out[relative] = "<dir>"
            else:
                out[relative] = path.read_bytes()
    return out


def user_files(root: Path) -> dict[str, bytes | str]:
    """The snapshot without dlconvert's outputs (folders holding a manifest)."""
    ours = [p.parent.relative_to(root).as_posix() for p in root.rglob(MANIFEST)]
    return {k: v for k, v in snapshot(root).items() if not any(k == o or k.startswith(o + "/") for o in ours)}


@pytest.fixture
def export(sample_dir: Path, tmp_path: Path) -> Path:
    """A copy of the bundled sample export, beside a folder of the user's own files."""
    shutil.copytree(sample_dir, tmp_path / "export")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_bytes(USER_BYTES)
    return tmp_path / "export"


def busy_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "precious.txt").write_bytes(USER_BYTES)
    (path / "sub").mkdir(exist_ok=True)
    (path / "sub" / "more.bin").write_bytes(USER_BYTES * 3)
    return path


def one_item() -> AnnotationCollection:
    collection = AnnotationCollection(filename="/a.png", width=20, height=10, mimetype="image/png")
    collection.add(Box(left=1, top=1, right=5, bottom=5, label="x"))
    return collection


# ==== every entry point refuses a non-empty destination by default =================================
ENTRY_POINTS = {
    "convert_dataset": lambda src, dst: Converter().convert_dataset(str(src), "coco", dst),
    "convert_directory": lambda src, dst: Converter().convert_directory(src / "json", "coco", "dataloop",
                                                                         save_to=dst),
    "convert_file": lambda src, dst: Converter().convert_file("coco", "dataloop",
                                                              src / "json" / "street" / "scene_01.json", save_to=dst),
    "save_to_file": lambda src, dst: Converter().save_to_file(dst, "coco", one_item()),
    "run": lambda src, dst: Converter().run(src, "dataloop", dst, "coco"),
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_every_python_entry_point_refuses_a_non_empty_destination(entry, export, tmp_path):
    dst = busy_folder(tmp_path / "out")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="not empty and was not written by dlconvert") as caught:
        ENTRY_POINTS[entry](export, dst)
    assert "precious.txt" in str(caught.value)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_every_python_entry_point_writes_a_new_folder_with_its_manifest(entry, export, tmp_path):
    dst = tmp_path / "out"
    ENTRY_POINTS[entry](export, dst)
    manifest = json.loads((dst / MANIFEST).read_bytes())
    written = {p.relative_to(dst).as_posix(): p.stat().st_size for p in dst.rglob("*")
               if p.is_file() and p.name != MANIFEST}
    assert manifest["files"] == written and manifest["format"] == "coco"
    assert user_files(tmp_path)["mine/notes.txt"] == USER_BYTES


@pytest.mark.parametrize("command", [
    ["convert", "{src}", "{dst}", "--from", "dataloop", "--to", "coco"],
    ["demo", "{dst}"],
    ["render", "{src}", "{dst}", "--from", "dataloop"],
])
def test_every_command_refuses_a_non_empty_destination(command, export, tmp_path, cli_runner):
    dst = busy_folder(tmp_path / "out")
    before = snapshot(tmp_path)
    result = cli_runner.invoke(main, [a.format(src=export, dst=dst) for a in command])
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and "not written by dlconvert" in result.stderr
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", [
    ["convert", "{src}", "{dst}", "--from", "dataloop", "--to", "coco", "--overwrite"],
    ["demo", "{dst}", "--overwrite"],
    ["render", "{src}", "{dst}", "--from", "dataloop", "--overwrite"],
])
def test_overwrite_refuses_a_folder_dlconvert_did_not_write(command, export, tmp_path, cli_runner):
    dst = busy_folder(tmp_path / "out")
    before = snapshot(tmp_path)
    result = cli_runner.invoke(main, [a.format(src=export, dst=dst) for a in command])
    assert result.exit_code == 1, result.output
    assert "did not write" in result.stderr and MANIFEST in result.stderr
    assert snapshot(tmp_path) == before


def test_convert_dataset_of_a_platform_dataset_refuses_before_downloading(tmp_path):
    dst = busy_folder(tmp_path / "out")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="not empty"):
        Converter().convert_dataset(object(), "coco", dst)  # refused before the dataset is even looked at
    assert snapshot(tmp_path) == before


# ==== the working folder, the source, home, roots ===================================================
def test_the_working_folder_holding_the_export_is_refused_with_and_without_overwrite(export, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    for local_path in (os.getcwd(), ".", ""):
        for overwrite in (False, True):
            with pytest.raises(OutputError):
                Converter().convert_dataset("export", "coco", local_path or ".", overwrite=overwrite)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("dst", [".", "..", "{cwd}", "{parent}"])
def test_overwrite_into_the_working_folder_or_above_is_refused_before_anything_is_touched(dst, export, tmp_path,
                                                                                           monkeypatch, cli_runner):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_bytes(USER_BYTES)
    monkeypatch.chdir(work)
    before = snapshot(tmp_path)
    target = dst.format(cwd=work, parent=tmp_path)
    result = cli_runner.invoke(main, ["convert", str(export), target, "--from", "dataloop", "--to", "coco",
                                      "--overwrite"])
    assert result.exit_code == 1
    assert ("working folder" in result.stderr or "holds the source" in result.stderr), result.stderr
    assert snapshot(tmp_path) == before


def test_overwrite_into_an_empty_working_folder_replaces_nothing_and_works(export, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    Converter().run(export, "dataloop", ".", "coco", overwrite=True)
    assert (work / "coco.json").is_file()
    with pytest.raises(OutputError, match="working folder"):  # now it holds something: never replaced
        Converter().run(export, "dataloop", ".", "coco", overwrite=True)


def test_writing_into_an_empty_working_folder_works_and_keeps_the_folder(export, tmp_path, monkeypatch, cli_runner):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    inode = os.stat(".").st_ino
    result = cli_runner.invoke(main, ["convert", str(export), ".", "--from", "dataloop", "--to", "coco"])
    assert result.exit_code == 0, result.output
    assert os.stat(".").st_ino == inode and os.path.samefile(os.getcwd(), work)  # the folder was not replaced
    assert sorted(p.name for p in work.iterdir()) == [MANIFEST, "coco.json", "coco_ids.json", "labelmap.json"]
    assert user_files(tmp_path)["mine/notes.txt"] == USER_BYTES


def test_the_source_itself_is_refused_even_with_overwrite(export, tmp_path):
    before = snapshot(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="is the source"):
            Converter().run(export, "dataloop", export, "dataloop", overwrite=overwrite)
    assert snapshot(tmp_path) == before


def test_a_destination_holding_the_source_is_refused_even_with_overwrite(export, tmp_path):
    before = snapshot(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="holds the source"):
            Converter().run(export, "dataloop", tmp_path, "coco", overwrite=overwrite)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("inside", ["json/out", "new-folder", "json"])
def test_a_destination_inside_the_source_is_refused_even_when_empty(inside, export, tmp_path):
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match=r"inside the source|is the source"):
        Converter().run(export / "json", "dataloop", export / "json" / inside, "coco")
    with pytest.raises(OutputError, match="inside the source"):
        Converter().convert_dataset(str(export), "coco", export / inside)
    assert snapshot(tmp_path) == before


def test_convert_directory_whose_default_output_is_its_own_source_is_refused(tmp_path, sample_dir):
    """``convert_directory("data/coco", to_format="coco", ...)`` writes to ``data/coco`` by default: the source."""
    src = tmp_path / "data" / "coco"
    src.mkdir(parents=True)
    Converter().save_to_file(tmp_path / "made", "coco", one_item())
    shutil.copy(tmp_path / "made" / "coco.json", src / "coco.json")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="is the source"):
        Converter().convert_directory(src, to_format="coco", from_format="coco", overwrite=True)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("where", ["into", "at"])
def test_a_linked_destination_pointing_into_or_at_the_source_is_refused(where, export, tmp_path):
    link = tmp_path / "out"
    os.symlink(export / "json" if where == "into" else export, link)
    before = snapshot(tmp_path)
    for overwrite in (False, True):
        with pytest.raises(OutputError, match="source"):
            Converter().run(export, "dataloop", link, "coco", overwrite=overwrite)
    assert snapshot(tmp_path) == before


def test_a_linked_destination_holding_the_source_is_refused(export, tmp_path):
    link = tmp_path / "parent-link"
    os.symlink(tmp_path, link)
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="holds the source"):
        Converter().run(export, "dataloop", link, "coco", overwrite=True)
    assert snapshot(tmp_path) == before


def test_the_home_folder_and_above_are_refused_with_overwrite(export, tmp_path, monkeypatch):
    home = busy_folder(tmp_path / "home" / "user")
    monkeypatch.setenv("HOME", str(home))
    before = snapshot(tmp_path)
    for dst in (home, home.parent):
        with pytest.raises(OutputError, match="home folder"):
            Converter().run(export, "dataloop", dst, "coco", overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_filesystem_root_is_refused_with_overwrite(export, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "nohome"))
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match=r"source|filesystem root"):
        Converter().run(export, "dataloop", "/", "coco", overwrite=True)
    from dlconvert._destination import check_destination

    with pytest.raises(OutputError, match="filesystem root"):
        check_destination("/", overwrite=True)
    assert snapshot(tmp_path) == before


def test_the_images_folder_is_a_source_too(export, tmp_path):
    from dlconvert import ConvertOptions

    converter = Converter(options=ConvertOptions(images=export / "items"))
    with pytest.raises(OutputError, match="inside the source"):
        converter.run(export / "json", "dataloop", export / "items" / "out", "dataloop")


# ==== replacing a previous dlconvert output ==========================================================
def test_overwrite_replaces_a_previous_output_and_only_its_files(export, tmp_path, cli_runner):
    dst = tmp_path / "out"
    assert cli_runner.invoke(main, ["convert", str(export), str(dst), "--from", "dataloop", "--to", "dataloop"]
                             ).exit_code == 0
    assert (dst / "json" / "street" / "scene_01.json").is_file()
    users = user_files(tmp_path)
    result = cli_runner.invoke(main, ["convert", str(export), str(dst), "--from", "dataloop", "--to", "coco",
                                      "--overwrite"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in dst.iterdir()) == [MANIFEST, "coco.json", "coco_ids.json", "labelmap.json"]
    assert not [p for p in tmp_path.rglob("*.tmp")]
    assert user_files(tmp_path) == users
    manifest = json.loads((dst / MANIFEST).read_bytes())
    assert manifest["format"] == "coco" and sorted(manifest["files"]) == ["coco.json", "coco_ids.json",
                                                                         "labelmap.json"]


def test_a_previous_output_with_a_file_the_user_added_is_refused_and_kept(export, tmp_path, cli_runner):
    dst = tmp_path / "out"
    Converter().run(export, "dataloop", dst, "dataloop")
    (dst / "json" / "street" / "my_fix.json").write_bytes(USER_BYTES)
    before = snapshot(tmp_path)
    result = cli_runner.invoke(main, ["convert", str(export), str(dst), "--from", "dataloop", "--to", "coco",
                                      "--overwrite"])
    assert result.exit_code == 1
    assert "json/street/my_fix.json" in result.stderr and "did not write" in result.stderr
    assert snapshot(tmp_path) == before


def test_a_previous_output_with_a_file_the_user_changed_is_refused(export, tmp_path):
    dst = tmp_path / "out"
    Converter().run(export, "dataloop", dst, "coco")
    with open(dst / "coco.json", "ab") as handle:
        handle.write(b"\n")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match=r"'coco\.json' in the output folder changed"):
        Converter().run(export, "dataloop", dst, "coco", overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_previous_output_with_a_folder_the_user_added_is_refused(export, tmp_path):
    dst = tmp_path / "out"
    Converter().run(export, "dataloop", dst, "dataloop")
    (dst / "json" / "mine").mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="json/mine"):
        Converter().run(export, "dataloop", dst, "dataloop", overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_manifest_that_lists_more_than_the_folder_holds_deletes_only_what_it_wrote(export, tmp_path):
    """A hand-made manifest naming files outside the output (or through a link in it) deletes nothing there."""
    outside = busy_folder(tmp_path / "outside")
    dst = tmp_path / "out"
    dst.mkdir()
    os.symlink(outside, dst / "link")
    (dst / MANIFEST).write_text(json.dumps({
        "written_by": "dlconvert-output", "version": 1, "folders": [],
        "files": {"link": len(os.readlink(dst / "link")), "link/precious.txt": len(USER_BYTES),
                  "../outside/precious.txt": len(USER_BYTES)}}))
    before = snapshot(outside)
    Converter().run(export, "dataloop", dst, "coco", overwrite=True)
    assert snapshot(outside) == before
    assert not (dst / "link").is_symlink() and (dst / "coco.json").is_file()


def test_replacing_an_output_with_image_links_removes_the_links_not_the_images(export, tmp_path):
    from dlconvert import ConvertOptions

    dst = tmp_path / "yolo"
    images = snapshot(export / "items")
    Converter(options=ConvertOptions(images_mode="link", yolo_task="detect")).run(export, "dataloop", dst, "yolo")
    links = [p for p in dst.rglob("*") if p.is_symlink()]
    assert links and all((export / "items").resolve() in p.resolve().parents for p in links)
    Converter().run(export, "dataloop", dst, "coco", overwrite=True)
    assert not [p for p in dst.rglob("*") if p.is_symlink()]
    assert snapshot(export / "items") == images


def test_a_report_saved_inside_the_output_is_part_of_it(export, tmp_path, cli_runner):
    dst = tmp_path / "out"
    args = ["convert", str(export), str(dst), "--from", "dataloop", "--to", "coco", "--report", str(dst / "r.json")]
    assert cli_runner.invoke(main, args).exit_code == 0
    assert "r.json" in json.loads((dst / MANIFEST).read_bytes())["files"]
    result = cli_runner.invoke(main, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert json.loads((dst / "r.json").read_bytes())["balanced"] is True


def test_the_error_log_is_part_of_the_output(export, tmp_path):
    dst = tmp_path / "out"
    converter = Converter(return_error_filepath=True)
    converter.convert_dataset(str(export), "coco", dst)
    assert "dlconvert_errors.json" in json.loads((dst / MANIFEST).read_bytes())["files"]
    converter.convert_dataset(str(export), "coco", dst, overwrite=True)  # its own output: replaced


def test_a_failed_run_into_a_previous_output_leaves_it_byte_for_byte(export, tmp_path):
    dst = tmp_path / "out"
    Converter().run(export, "dataloop", dst, "dataloop")
    bad = tmp_path / "bad" / "json"
    bad.mkdir(parents=True)
    (bad / "a.json").write_text('{"annotations": [{"type": "box", "coordinates": "nope"}]}')
    before = snapshot(tmp_path)
    with pytest.raises(Exception, match="coordinates"):
        Converter().run(bad.parent, "dataloop", dst, "coco", overwrite=True)
    assert snapshot(tmp_path) == before


def test_a_failed_run_into_an_empty_folder_leaves_it_empty(tmp_path):
    dst = tmp_path / "out"
    dst.mkdir()
    bad = tmp_path / "bad" / "json"
    bad.mkdir(parents=True)
    (bad / "a.json").write_text('{"annotations": [{"type": "box", "coordinates": "nope"}]}')
    with pytest.raises(Exception, match="coordinates"):
        Converter().run(bad.parent, "dataloop", dst, "coco")
    assert list(dst.iterdir()) == []


def test_the_manifest_is_the_same_bytes_on_every_run(export, tmp_path):
    Converter().run(export, "dataloop", tmp_path / "a", "coco")
    Converter().run(export, "dataloop", tmp_path / "b", "coco")
    assert (tmp_path / "a" / MANIFEST).read_bytes() == (tmp_path / "b" / MANIFEST).read_bytes()


def test_a_manifest_that_is_not_one_is_not_trusted(tmp_path):
    from dlconvert._destination import check_destination

    for content in (b"{", b"[]", json.dumps({"written_by": "dlconvert-output", "files": {"a": "1"},
                                             "folders": []}).encode()):
        dst = tmp_path / f"out{len(content)}"
        dst.mkdir()
        (dst / MANIFEST).write_bytes(content)
        with pytest.raises(OutputError, match="did not write"):
            check_destination(dst, overwrite=True)
