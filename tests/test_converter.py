"""The Converter's SDK-named API (Dataloop ↔ COCO), its report, its hooks, and its atomic output;
plus the ``verify`` and ``formats`` commands.

Expected values come from the bundled sample's own JSON files (read here with ``json``), not from
dlconvert.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, OutputError, Polygon
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.report import ConversionReport

COCO_FIXTURES = real_file("coco")
REAL_COCO = COCO_FIXTURES / "icevision" / "annotations.json"

# pycocotools' mask.decode warns about its own numpy-2 incompatibility on every call
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def load(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def assert_balanced(report: ConversionReport) -> None:
    assert report.unbalanced() == {}
    assert sum(report.annotations_in.values()) == sum(report.annotations_out.values()) + sum(report.skipped.values())


def codes(report: ConversionReport) -> Counter:
    return Counter((i.kind, i.code) for i in report.issues)


def sample_items(sample_dir: Path) -> dict[str, dict]:
    """The sample's item JSON files, read with ``json``: ``{filename: item}``."""
    return {load(p)["filename"]: load(p) for p in sorted((sample_dir / "json").rglob("*.json"))}


def category_names(coco: dict) -> dict[int, str]:
    return {c["id"]: c["name"] for c in coco["categories"]}


def temp_leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


# ==== convert_dataset ==============================================================================
def test_convert_dataset_writes_coco_returns_the_document_and_keeps_a_balanced_report(sample_dir, tmp_path):
    converter = Converter()
    document = converter.convert_dataset(str(sample_dir), to_format="coco", local_path=tmp_path / "coco")
    report = converter.report
    assert isinstance(report, ConversionReport)
    assert_balanced(report)
    assert sorted(p.name for p in (tmp_path / "coco").iterdir()) == [
        ".dlconvert-output.json", "coco.json", "coco_ids.json", "labelmap.json"]
    coco = load(tmp_path / "coco" / "coco.json")
    assert document == coco  # the SDK returns the COCO document
    items = sample_items(sample_dir)
    images = {i["file_name"] for i in coco["images"]}
    stills = {f.lstrip("/") for f, i in items.items() if i["metadata"]["system"]["mimetype"].startswith("image")}
    assert images == stills  # the empty image too; COCO holds images only (the video is skipped and reported)
    annotations = [a for i in items.values() for a in i["annotations"]]
    assert report.items_in == len(items)
    assert sum(report.annotations_in.values()) == len(annotations)
    # per record: 5 shapes of scene_01 (2 boxes, polygon, ellipse, box), scene_02's mask, polygon and
    # pose (its 5 keypoints inside)
    assert len(coco["annotations"]) == 8
    assert codes(report) == Counter({
        ("skipped", "coco.not-an-image"): 5, ("skipped", "coco.unsupported-type"): 4,
        ("approximated", "coco.rotated-box-as-polygon"): 1, ("approximated", "coco.ellipse-as-polygon"): 1,
        ("approximated", "coco.polygon-holes-as-rle"): 1,
    })
    skipped_types = Counter(i.annotation_type for i in report.issues if i.kind == "skipped")
    assert skipped_types == Counter({"subtitle": 3, "box": 2, "polyline": 1, "point": 1, "cube": 1, "class": 1})


def test_convert_dataset_writes_the_pose_with_the_recipe_template(sample_dir, tmp_path):
    Converter().convert_dataset(str(sample_dir), to_format="coco", local_path=tmp_path / "coco")
    coco = load(tmp_path / "coco" / "coco.json")
    (template,) = load(sample_dir / "recipe.json")["metadata"]["system"]["collectionTemplates"]
    names = category_names(coco)
    assert not set(template["order"]) & set(names.values()), "keypoint names are not categories"
    (pose,) = [a for a in coco["annotations"] if "keypoints" in a]
    person = next(c for c in coco["categories"] if c["id"] == pose["category_id"])
    assert person["keypoints"] == template["order"]
    index = {n: i + 1 for i, n in enumerate(template["order"])}
    assert person["skeleton"] == [[index[a], index[b]] for a, b in template["arcs"]]
    scene = sample_items(sample_dir)["/street/scene_02.jpg"]
    points = {a["label"]: a for a in scene["annotations"] if a["type"] == "point"}
    expected = []
    for name in template["order"]:
        point = points[name]
        visibility = point["metadata"]["system"]["attributes"]["visibility"]
        expected += [point["coordinates"]["x"], point["coordinates"]["y"], {"visible": 2, "not-visible": 1}[visibility]]
    assert expected[2::3] == [2, 2, 2, 2, 1]  # the sample's right foot is occluded
    assert pose["keypoints"] == expected
    assert pose["num_keypoints"] == 5


def test_convert_dataset_refuses_a_non_empty_destination_without_overwrite(sample_dir, tmp_path):
    destination = tmp_path / "coco"
    destination.mkdir()
    (destination / "keep.txt").write_text("mine")
    with pytest.raises(OutputError):
        Converter().convert_dataset(str(sample_dir), to_format="coco", local_path=destination, overwrite=False)
    assert sorted(p.name for p in destination.iterdir()) == ["keep.txt"]
    assert (destination / "keep.txt").read_text() == "mine"
    assert temp_leftovers(tmp_path, "coco") == []


@requires_real_files
def test_run_refuses_a_non_empty_destination_by_default(tmp_path):
    destination = tmp_path / "out"
    Converter().run(REAL_COCO, "coco", destination, "dataloop")
    before = {p: p.read_bytes() for p in destination.rglob("*") if p.is_file()}
    with pytest.raises(OutputError, match="pass --overwrite to replace it"):
        Converter().run(REAL_COCO, "coco", destination, "dataloop")
    assert {p: p.read_bytes() for p in destination.rglob("*") if p.is_file()} == before
    Converter().run(REAL_COCO, "coco", destination, "dataloop", overwrite=True)  # its own previous output
    assert (destination / "json").is_dir()


def test_convert_dataset_rejects_what_is_neither_a_path_nor_a_dtlpy_dataset(tmp_path):
    from dlconvert.errors import PlatformError

    with pytest.raises(PlatformError, match="expected a dtlpy Dataset"):
        Converter().convert_dataset(object(), to_format="coco", local_path=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_public_api_names_import_from_the_package():
    from dlconvert import AnnotationCollection, Box, Converter, Polygon, ViewAnnotationOptions

    assert Converter().convert_dataset.__name__ == "convert_dataset"
    assert ViewAnnotationOptions.ANNOTATION_ON_IMAGE.value == "img_mask"
    assert {Box.type, Polygon.type} == {"box", "segment"} and AnnotationCollection().annotations == []


# ==== convert_directory / convert_file / convert / save_to_file ====================================
def test_convert_directory_defaults_to_a_sibling_named_after_the_format(sample_dir, tmp_path):
    shutil.copytree(sample_dir / "json" / "street", tmp_path / "street")
    converter = Converter()
    assert converter.convert_directory(tmp_path / "street", to_format="coco", from_format="dataloop") is None
    assert_balanced(converter.report)
    coco = load(tmp_path / "coco" / "coco.json")
    assert sorted(i["file_name"] for i in coco["images"]) == ["street/scene_01.png", "street/scene_02.jpg"]


@requires_real_files
def test_convert_directory_to_save_to(tmp_path):
    folder = real_file("dataloop/dtlpy-converters-examples/coco/coco")  # a folder holding one COCO file
    converter = Converter()
    converter.convert_directory(folder, to_format="dataloop", from_format="coco", save_to=tmp_path / "dl")
    assert_balanced(converter.report)
    source = load(folder / "annotations.json")
    files = sorted((tmp_path / "dl" / "json").rglob("*.json"))
    assert len(files) == len(source["images"])
    assert sum(len(load(f)["annotations"]) for f in files) == len(source["annotations"])


def test_convert_file_returns_the_coco_document(sample_dir, tmp_path):
    path = sample_dir / "json" / "street" / "scene_01.json"
    document = Converter().convert_file(to_format="coco", from_format="dataloop", file_path=path)
    assert isinstance(document, dict)
    assert [i["file_name"] for i in document["images"]] == ["street/scene_01.png"]
    raw = load(path)
    boxes = [a for a in raw["annotations"] if a["type"] == "box" and len(a["coordinates"]) == 2]
    names = category_names(document)
    written = {(names[r["category_id"]], tuple(r["bbox"])) for r in document["annotations"]}
    for box in boxes:
        (x0, y0), (x1, y1) = ((p["x"], p["y"]) for p in box["coordinates"])
        assert (box["label"], (x0, y0, x1 - x0, y1 - y0)) in written
    assert len(document["annotations"]) == 5  # 2 boxes + 1 box (person), polygon, ellipse; 4 skipped


def test_convert_file_save_to_writes_the_same_document(sample_dir, tmp_path):
    path = sample_dir / "json" / "street" / "scene_02.json"
    document = Converter().convert_file(to_format="coco", from_format="dataloop", file_path=path,
                                        save_to=tmp_path / "saved")
    assert load(tmp_path / "saved" / "coco.json") == document


def test_convert_in_memory_collection_to_coco():
    collection = AnnotationCollection(filename="/dog.png", width=64, height=48, mimetype="image/png")
    collection.add(Box(left=1.5, top=2, right=11.5, bottom=22, label="dog"))
    collection.add(Polygon(geo=[[0, 0], [8, 0], [4, 6]], label="ear"))
    document = Converter().convert(collection, from_format="dataloop", to_format="coco")
    assert document["images"] == [{"id": 1, "file_name": "dog.png", "width": 64, "height": 48}]
    names = category_names(document)
    by_label = {names[r["category_id"]]: r for r in document["annotations"]}
    assert by_label["dog"]["bbox"] == [1.5, 2, 10, 20]
    assert by_label["ear"]["segmentation"] == [[0, 0, 8, 0, 4, 6]]
    assert by_label["ear"]["area"] == 24


@requires_real_files
def test_convert_in_memory_coco_to_dataloop():
    source = load(COCO_FIXTURES / "dagshub" / "annotations.json")
    result = Converter().convert(source, from_format="coco", to_format="dataloop")
    assert isinstance(result, list) and len(result) == 2
    by_name = {c.filename: c for c in result}
    assert sorted(by_name) == ["/images/a.jpg", "/images/b.jpg"]
    assert sorted(a.label for a in by_name["/images/a.jpg"]) == ["cat", "dog"]
    box = next(a for a in by_name["/images/a.jpg"] if a.label == "cat").annotation_definition
    assert (box.left, box.top, box.right, box.bottom) == (10, 20, 40, 60)


def test_save_to_file_writes_coco(tmp_path):
    collections = [AnnotationCollection(filename=f"/{n}.png", width=10, height=10, mimetype="image/png")
                   for n in ("a", "b")]
    collections[0].add(Box(left=1, top=1, right=4, bottom=5, label="x"))
    converter = Converter()
    paths = converter.save_to_file(tmp_path / "out", "coco", collections)
    assert tmp_path / "out" / "coco.json" in paths
    assert converter.report.items_in == 2 and converter.report.outputs == [str(p) for p in paths]
    assert_balanced(converter.report)
    assert all(Path(p).is_file() for p in paths)
    coco = load(tmp_path / "out" / "coco.json")
    assert sorted(i["file_name"] for i in coco["images"]) == ["a.png", "b.png"]
    assert [r["bbox"] for r in coco["annotations"]] == [[1, 1, 3, 4]]


# ==== hooks: conversion_func, filters ==============================================================
def test_conversion_func_can_change_a_label(sample_dir, tmp_path):
    def shout(annotation):
        annotation.label = annotation.label.upper() if annotation.label else annotation.label
        return annotation

    converter = Converter()
    converter.convert_dataset(str(sample_dir), to_format="coco", local_path=tmp_path / "c", conversion_func=shout)
    assert_balanced(converter.report)
    coco = load(tmp_path / "c" / "coco.json")
    names = category_names(coco)
    used = {names[r["category_id"]] for r in coco["annotations"]}
    assert used and all(n == n.upper() for n in used)
    assert "VEHICLE.CAR" in used


def test_conversion_func_returning_none_drops_and_reports(sample_dir, tmp_path):
    dropped = []

    def no_cars(annotation):
        if annotation.label == "vehicle.car":
            dropped.append(annotation.id)
            return None
        return annotation

    converter = Converter()
    converter.convert_dataset(str(sample_dir), to_format="coco", local_path=tmp_path / "c", conversion_func=no_cars)
    report = converter.report
    assert_balanced(report)
    issues = [i for i in report.issues if i.code == "conversion-func.dropped"]
    assert sorted(i.annotation_id for i in issues) == sorted(dropped)
    assert {i.kind for i in issues} == {"skipped"}
    all_cars = [a["id"] for i in sample_items(sample_dir).values() for a in i["annotations"]
                if a["label"] == "vehicle.car"]
    assert sorted(dropped) == sorted(all_cars) and len(dropped) == 3
    coco = load(tmp_path / "c" / "coco.json")
    assert "vehicle.car" not in {category_names(coco)[r["category_id"]] for r in coco["annotations"]}


def test_item_and_annotation_filters_are_reported(sample_dir, tmp_path):
    converter = Converter()
    converter.convert_dataset(
        str(sample_dir), to_format="coco", local_path=tmp_path / "c",
        filters=lambda item: not (item.filename or "").startswith("/video/"),
        annotation_filter=lambda annotation: annotation.type != "ellipse",
    )
    report = converter.report
    assert_balanced(report)
    items = sample_items(sample_dir)
    video = items["/video/traffic.mp4"]["annotations"]
    by_code = {code: [i for i in report.issues if i.code == code] for code in ("filter.item", "filter.annotation")}
    assert sorted(i.annotation_id for i in by_code["filter.item"]) == sorted(a["id"] for a in video)
    assert [i.annotation_type for i in by_code["filter.annotation"]] == ["ellipse"]
    coco = load(tmp_path / "c" / "coco.json")
    assert "video/traffic.mp4" not in {i["file_name"] for i in coco["images"]}
    assert not [i for i in report.issues if i.code == "coco.ellipse-as-polygon"]


def test_return_error_filepath_lists_the_issues(sample_dir, tmp_path):
    converter = Converter(return_error_filepath=True)
    coco, has_errors, path = converter.convert_dataset(str(sample_dir), to_format="coco", local_path=tmp_path / "c")
    assert coco == load(tmp_path / "c" / "coco.json")
    assert has_errors is True
    assert Path(path) == tmp_path / "c" / "dlconvert_errors.json"
    logged = load(path)
    assert Counter((i["kind"], i["code"]) for i in logged) == codes(converter.report)
    assert {i["annotation_id"] for i in logged} == {i.annotation_id for i in converter.report.issues}


@requires_real_files
def test_return_error_filepath_without_issues(tmp_path):
    has_errors, path = Converter(return_error_filepath=True).convert_directory(
        COCO_FIXTURES / "dagshub", to_format="dataloop", from_format="coco", save_to=tmp_path / "dl")
    assert has_errors is False
    assert load(path) == []


# ==== atomic output ================================================================================
def failing_coco_writes(monkeypatch):
    """Make the COCO writer fail after it wrote its first file."""
    from dlconvert.formats.coco import writer as coco

    real, calls = coco.atomic_write, []

    def write_then_fail(path, data):
        calls.append(Path(path))
        if len(calls) > 1:
            raise RuntimeError("disk full (simulated)")
        real(path, data)

    monkeypatch.setattr(coco, "atomic_write", write_then_fail)
    return calls


def test_a_writer_failing_midway_leaves_no_destination(sample_dir, tmp_path, monkeypatch):
    calls = failing_coco_writes(monkeypatch)
    destination = tmp_path / "coco"
    with pytest.raises(RuntimeError, match="simulated"):
        Converter().convert_dataset(str(sample_dir), to_format="coco", local_path=destination)
    assert len(calls) == 2 and calls[0].name == "coco.json"  # something was written before the failure
    assert not destination.exists()
    assert temp_leftovers(tmp_path, "coco") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_writer_failing_midway_keeps_the_old_destination(sample_dir, tmp_path, monkeypatch):
    destination = tmp_path / "coco"
    Converter().convert_dataset(str(sample_dir), to_format="dataloop", local_path=destination)  # a previous run
    before = {p: p.read_bytes() for p in destination.rglob("*") if p.is_file()}
    failing_coco_writes(monkeypatch)
    with pytest.raises(RuntimeError):
        Converter().convert_dataset(str(sample_dir), to_format="coco", local_path=destination, overwrite=True)
    assert {p: p.read_bytes() for p in destination.rglob("*") if p.is_file()} == before
    assert temp_leftovers(tmp_path, "coco") == []
    assert not [p for p in destination.iterdir() if p.name.endswith(".tmp")]


def test_cli_writer_failure_is_one_line_and_leaves_nothing(sample_dir, tmp_path, monkeypatch, cli_runner):
    failing_coco_writes(monkeypatch)
    out = tmp_path / "out"
    result = cli_runner.invoke(main, ["convert", str(sample_dir), str(out), "--from", "dataloop", "--to", "coco"])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: internal error: RuntimeError: disk full (simulated)")
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert temp_leftovers(tmp_path, "out") == []


@requires_real_files
def test_cli_convert_to_a_relative_destination(tmp_path, monkeypatch, cli_runner):
    monkeypatch.chdir(tmp_path)
    result = cli_runner.invoke(main, ["convert", str(COCO_FIXTURES / "dagshub" / "annotations.json"), "out",
                                      "--from", "coco", "--to", "dataloop", "--report", "r.json"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out" / "json" / "images" / "a.json").is_file()
    assert load(tmp_path / "r.json")["balanced"] is True


@requires_real_files
def test_cli_convert_to_a_relative_coco_destination(tmp_path, monkeypatch, cli_runner):
    monkeypatch.chdir(tmp_path)
    result = cli_runner.invoke(main, ["convert", str(COCO_FIXTURES / "dagshub" / "annotations.json"), "out",
                                      "--from", "coco", "--to", "coco"])
    assert result.exit_code == 0, result.stderr
    assert load(tmp_path / "out" / "coco.json")["annotations"]


# ==== verify and formats ===========================================================================
@requires_real_files
def test_cli_verify_a_real_coco_file_via_dataloop(cli_runner):
    result = cli_runner.invoke(main, ["verify", str(REAL_COCO), "--from", "coco", "--via", "dataloop"])
    assert result.exit_code == 0, result.output
    assert "differences: 0" in result.stdout.splitlines()
    assert f"annotations checked: {len(load(REAL_COCO)['annotations'])}," in result.stdout


def test_cli_verify_the_sample_via_coco(sample_dir, cli_runner):
    result = cli_runner.invoke(main, ["verify", str(sample_dir), "--from", "dataloop", "--via", "coco"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "differences: 0" in lines
    assert "not representable in the target: 9" in lines[0]  # 5 of audio and video items, 4 of other types
    approximated = [line for line in lines if line.strip().startswith("approximated:")]
    # rotated box, ellipse, polygon with holes: listed, not counted as lost
    assert len(approximated) == 3
    for annotation_id in ("65f0c0deb001000000000002", "65f0c0deb001000000000006", "65f0c0deb002000000000002"):
        assert sum(annotation_id in line for line in approximated) == 1


@requires_real_files
def test_verify_lists_only_what_the_conversion_approximated():
    from dlconvert.verify import verify

    result = verify(REAL_COCO, "coco", "dataloop")
    forward_approximations = [i for i in result.forward.issues if i.kind == "approximated"]
    assert forward_approximations == []
    assert result.approximated == []
    assert result.checked == len(load(REAL_COCO)["annotations"])


def test_cli_formats_lists_coco_and_dataloop(cli_runner):
    result = cli_runner.invoke(main, ["formats"])
    assert result.exit_code == 0
    blocks: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line and not line[0].isspace():
            blocks[line.split()[0]] = []
            current = blocks[line.split()[0]]
        elif line.strip():
            current.append(line.strip())
    assert {"coco", "dataloop"} <= set(blocks)
    assert "holds: binary, box, point, pose, segment" in blocks["coco"]
    assert "approximates: box (rotated) → polygon" in blocks["coco"]
    assert any(line.startswith("holds:") and "any other type" in line for line in blocks["dataloop"])
    assert any(line.startswith("reads:") for line in blocks["labelbox"])  # read only: it holds nothing written
    assert not any(line.startswith("holds:") for line in blocks["labelbox"])


# ==== options that do not apply, nothing found, nothing written (issue 13 §3, §5, §6) ================
def test_an_option_neither_format_uses_is_refused_naming_it_and_the_formats(sample_dir, tmp_path, cli_runner):
    from dlconvert import ConvertOptions
    from dlconvert.errors import OptionError

    with pytest.raises(OptionError, match=r"--task \(ConvertOptions.yolo_task\) does not apply to a dataloop → coco"):
        Converter(options=ConvertOptions(yolo_task="obb")).run(sample_dir, "dataloop", tmp_path / "out", "coco")
    assert not (tmp_path / "out").exists()
    result = cli_runner.invoke(main, ["convert", str(sample_dir), str(tmp_path / "cli"), "--from", "dataloop",
                                      "--to", "coco", "--voc-origin", "0"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--voc-origin" in result.stderr and "dataloop → coco" in result.stderr
    assert not (tmp_path / "cli").exists()


def test_the_options_check_uses_what_each_format_declares():
    from dlconvert import ConvertOptions
    from dlconvert.errors import OptionError
    from dlconvert.formats import FormatSpec, check_options

    coco = FormatSpec("coco", "", frozenset(), {}, options=frozenset({"rle"}))
    yolo = FormatSpec("yolo", "", frozenset(), {}, options=frozenset({"yolo_task", "split"}))
    silent = FormatSpec("new", "", frozenset(), {})  # uses no option
    check_options(ConvertOptions(yolo_task="pose", rle="compressed"), coco, yolo)  # each used by one side
    check_options(ConvertOptions(images="x", labels=None), coco, coco)  # images and labels apply everywhere
    with pytest.raises(OptionError, match="new → coco conversion"):
        check_options(ConvertOptions(voc_masks=False), silent, coco)
    with pytest.raises(OptionError, match="--split"):
        check_options(ConvertOptions(split="val"), coco, coco)
    with pytest.raises(OptionError, match=r"--voc-masks/--no-voc-masks .* coco → yolo conversion: neither coco nor "
                                          r"yolo uses it"):
        check_options(ConvertOptions(voc_masks=False), coco, yolo)


@pytest.mark.parametrize("field, value", [
    ("precision", 16), ("precision", -1), ("precision", True), ("precision", 2.0), ("voc_origin", 2),
    ("voc_origin", True), ("rle", "zip"), ("yolo_task", "classify"), ("images_mode", "move"), ("indent", 1),
    ("voc_masks", "no"), ("split", "../../../x"), ("split", "/abs"), ("split", "a/b"), ("split", ".."),
    ("split", ""), ("split", "a\\b"), ("split", "x" * 256), ("labels", "labels.txt"), ("images", 5),
    ("extras", []),
])
def test_convert_options_refuse_values_out_of_range(field, value):
    from dlconvert import ConvertOptions
    from dlconvert.errors import OptionError

    with pytest.raises(OptionError, match=field if field != "split" else "split"):
        ConvertOptions(**{field: value})


def test_convert_options_take_a_string_images_path():
    from dlconvert import ConvertOptions

    assert ConvertOptions(images="imgs").images == Path("imgs")
    assert ConvertOptions(precision=0, voc_origin=0, split="val-2024").changed() == ["precision", "split", "voc_origin"]


@pytest.mark.parametrize("args", [["--split", "../../../x"], ["--split", "/abs"], ["--precision", "99"],
                                  ["--workers", "0"], ["--workers", "100000"]])
def test_cli_numeric_and_name_options_are_range_checked(args, sample_dir, tmp_path, cli_runner):
    result = cli_runner.invoke(main, ["convert", str(sample_dir), str(tmp_path / "out"), "--from", "dataloop",
                                      "--to", "yolo", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
    assert not list(tmp_path.rglob("x"))


def test_a_source_with_no_item_is_an_error_naming_what_was_looked_for(tmp_path, cli_runner):
    from dlconvert.errors import FormatError

    empty = tmp_path / "nothing-here"
    empty.mkdir()
    (empty / "readme.txt").write_text("not a dataset")
    with pytest.raises(FormatError, match="no dataloop item found: looked for"):
        Converter().run(empty, "dataloop", tmp_path / "out", "coco")
    assert not (tmp_path / "out").exists()
    result = cli_runner.invoke(main, ["convert", str(empty), str(tmp_path / "out"), "--from", "dataloop",
                                      "--to", "coco"])
    assert result.exit_code == 1 and "looked for" in result.stderr and result.stderr.count("\n") == 1


def test_a_source_that_says_it_is_empty_converts_to_an_empty_output(tmp_path):
    converter = Converter()
    converter.save_to_file(tmp_path / "empty-dl", "dataloop", [])  # dlconvert's output of no item
    converter.run(tmp_path / "empty-dl", "dataloop", tmp_path / "coco", "coco")
    coco = load(tmp_path / "coco" / "coco.json")
    assert coco["images"] == [] and coco["annotations"] == []
    converter.run(tmp_path / "coco" / "coco.json", "coco", tmp_path / "back", "dataloop")  # "images": []
    assert converter.report.items_in == 0


def test_a_dlconvert_output_that_recorded_no_item_is_not_nothing_found(tmp_path):
    from dlconvert._io import write_manifest
    from dlconvert.errors import FormatError
    from dlconvert.formats import FormatSpec, require_items

    spec = FormatSpec("made-up", "", frozenset(), {}, looks_for="*.made")
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(FormatError, match=r"looked for \*\.made"):
        require_items(spec, folder, 0)
    write_manifest(folder, {"format": "made-up", "items": 0})
    require_items(spec, folder, 0)
    write_manifest(folder, {"format": "other", "items": 0})
    with pytest.raises(FormatError):
        require_items(spec, folder, 0)


@requires_real_files
def test_nothing_written_of_everything_read_fails_under_on_error_fail(tmp_path, cli_runner):
    from dlconvert.errors import NothingConvertedError

    source = COCO_FIXTURES / "dagshub" / "annotations.json"  # image boxes: WebVTT holds none of them
    with pytest.raises(NothingConvertedError, match=r"0 of \d+ annotations could be written as vtt") as caught:
        Converter().run(source, "coco", tmp_path / "out", "vtt")
    assert caught.value.report is not None and caught.value.report.unbalanced() == {}
    assert not (tmp_path / "out").exists()
    report = Converter(on_error="skip").run(source, "coco", tmp_path / "skip", "vtt")
    assert sum(report.annotations_out.values()) == 0 and (tmp_path / "skip").is_dir()
    result = cli_runner.invoke(main, ["convert", str(source), str(tmp_path / "cli"), "--from", "coco", "--to", "vtt"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "0 of" in result.stderr
    assert not (tmp_path / "cli").exists()


def test_filters_that_leave_everything_out_are_not_a_failure(sample_dir, tmp_path):
    converter = Converter()
    converter.run(sample_dir, "dataloop", tmp_path / "out", "coco", annotation_filter=lambda annotation: False)
    assert sum(converter.report.annotations_out.values()) == 0
    assert_balanced(converter.report)


def test_the_summary_counts_per_reason_add_up_to_the_totals():
    from dlconvert.report import Issue

    report = ConversionReport(source_format="dataloop", target_format="vtt")
    collection = AnnotationCollection(filename="/a.png", width=4, height=4, mimetype="image/png")
    boxes = [collection.add(Box(left=0, top=0, right=2, bottom=2, label="x")) for _ in range(12)]
    report.read_item(collection)
    for box in boxes:
        report.skip(box, "vtt.not-timed", "WebVTT holds video and audio", "/a.png")
    report.issues.append(Issue("skipped", "vtt.not-timed", "WebVTT holds video and audio", item="/empty.png"))
    lines = report.summary().splitlines()
    assert "annotations: 12 read, 0 written, 12 skipped, 0 approximated" in lines
    per_reason = [line.split() for line in lines if line.strip().endswith("skipped vtt.not-timed")]
    assert per_reason == [["12", "skipped", "vtt.not-timed"]]
    assert "       1 skipped vtt.not-timed (items)" in lines


@requires_real_files
def test_reading_a_coco_file_shows_a_spinner_on_a_terminal(tmp_path, monkeypatch):
    """Parsing a large COCO JSON cannot count items: the CLI's progress factory shows a spinner meanwhile."""
    import io
    import time

    from dlconvert import _console
    from dlconvert.formats import get_format

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(_console.sys, "stderr", terminal)
    monkeypatch.setattr(_console, "_TICK", 0.01)
    spec = get_format("coco")
    slow_plan = spec.plan

    def plan(*args):
        time.sleep(0.1)
        return slow_plan(*args)

    from dataclasses import replace

    from dlconvert import formats

    # the object path (the columnar one shows the spinner, then writes without a bar)
    monkeypatch.setitem(formats._cache, "coco", replace(spec, plan=plan, read_table=None))
    Converter(progress=_console.progress_bar("converting")).run(REAL_COCO, "coco", tmp_path / "out", "dataloop")
    shown = terminal.getvalue()
    spinner, _, bar = shown.partition("\r\x1b[K")  # the spinner clears its line before the bar counts items
    assert f"reading {REAL_COCO.name} |" in spinner and "coco → dataloop" in bar


@requires_real_files
def test_an_annotation_approximated_in_two_ways_counts_once(tmp_path):
    # VOC's cat: a mask traced into a polygon *and* its attributes dropped; the summary said "2 read, 3 approximated"
    report = Converter().run(real_file("voc/datumaro/voc_dataset/voc_dataset1"), "voc", tmp_path / "out", "yolo")
    codes = sorted(issue.code for issue in report.issues if issue.kind == "approximated")
    assert codes == ["yolo.attributes-dropped", "yolo.box-as-polygon", "yolo.mask-as-polygon"]
    assert report.approximated == {"binary": 1, "box": 1}
    assert "2 read, 2 written, 0 skipped, 2 approximated" in report.summary()
    assert report.to_json()["approximated"] == {"binary": 1, "box": 1}
