"""What a picture draws for every object, and what it says it left out (issue 13 §2, §4, §5).

* OBJECT_ID for every source: COCO records and YOLO lines without object ids are drawn with their
  position (checked where pycocotools / shapely put each record or line); object id 0 is drawn
  and named in the legend, never the background.
* Colours by object (``--color-by object``): one colour per object, the same for a track.
* ``--with-text`` never touches MASK (the 517 RGBA values of the issue: text drawn into masks).
* COCO keypoints marked not labelled (visibility 0, stored at 0,0) and their skeleton edges are
  never drawn, and are counted.
* Degenerate shapes are left out and reported with the reason ``convert`` gives.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import shapely
from PIL import Image
from pycocotools import mask as coco_mask
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box, Polygon, Polyline
from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.formats._policy import degenerate_reason
from dlconvert.labels import LabelInfo, LabelMap
from dlconvert.render import RenderReport, render, render_dataset, render_source

ICEVISION = real_file("coco/icevision")
ROBOFLOW_YOLO = real_file("yolo/roboflow-shoe-sole-seg")


def _dataloop_export(root: Path, *items: dict) -> Path:
    (root / "json").mkdir(parents=True)
    for index, item in enumerate(items):
        (root / "json" / f"item_{index}.json").write_text(json.dumps(item), encoding="utf-8")
    return root


def _box(x0, y0, x1, y1, label="a", object_id=None) -> dict:
    annotation = {"type": "box", "label": label, "coordinates": [{"x": x0, "y": y0}, {"x": x1, "y": y1}],
                  "metadata": {"system": {}}}
    if object_id is not None:
        annotation["metadata"]["system"]["objectId"] = object_id
    return annotation


def _item(name: str, width: int, height: int, annotations: list) -> dict:
    return {"id": name, "filename": f"/{name}.png", "annotations": annotations,
            "metadata": {"system": {"mimetype": "image/png", "width": width, "height": height}}}


# -- 1. OBJECT_ID for every source -------------------------------------------------------------------
@requires_real_files
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # pycocotools under NumPy 2
def test_coco_records_without_object_ids_are_drawn_by_their_order(tmp_path):
    src = ICEVISION / "annotations.json"
    report, _ = render_source(src, "coco", tmp_path / "out", ["object_id"])
    data = json.loads(src.read_text(encoding="utf-8"))
    assert report.pictures == len(data["images"]) and not report.not_drawn
    checked = 0
    for image in data["images"]:
        records = [r for r in data["annotations"] if r["image_id"] == image["id"]]
        stem = Path(image["file_name"]).stem
        picture = cv2.imread(str(tmp_path / "out" / "object_id" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        legend = json.loads((tmp_path / "out" / "object_id" / f"{stem}.json").read_text(encoding="utf-8"))
        assert set(np.unique(picture).tolist()) == set(range(len(records) + 1))  # not all black: 1…N
        masks = []
        for record in records:  # pycocotools' own masks, the oracle
            segmentation = record["segmentation"]
            if isinstance(segmentation, list):
                segmentation = coco_mask.merge(coco_mask.frPyObjects(segmentation, image["height"], image["width"]))
            elif isinstance(segmentation["counts"], list):
                segmentation = coco_mask.frPyObjects(segmentation, image["height"], image["width"])
            masks.append(coco_mask.decode(segmentation).astype(bool))
        for position, mask in enumerate(masks, start=1):
            alone = mask & ~np.logical_or.reduce([m for m in masks[position:]] or [np.zeros_like(mask)])
            if alone.sum() >= 20:  # a later record covers this one where they overlap
                assert np.mean(picture[alone] == position) >= 0.9, (stem, position)
                checked += 1
            assert legend["values"][str(position)] == {"object_id": None, "label": legend["values"][str(
                position)]["label"], "position": position}
    assert checked >= 30


@requires_real_files
def test_yolo_lines_are_drawn_with_their_line_number(tmp_path):
    label_file = ROBOFLOW_YOLO / "train/labels/taban_65_png.rf.052c2111a2629b6a32cc129eb271cfcf.txt"
    report, _ = render_source(ROBOFLOW_YOLO, "yolo", tmp_path / "out", ["object_id"])
    assert report.items == 10 and not report.not_drawn
    picture = cv2.imread(str(next((tmp_path / "out" / "object_id").rglob(label_file.stem + ".png"))),
                         cv2.IMREAD_UNCHANGED)
    height, width = picture.shape
    lines = label_file.read_text(encoding="utf-8").split("\n")
    assert len(lines) == 7 and set(np.unique(picture).tolist()) == set(range(8))
    rows, columns = np.mgrid[0:height, 0:width]
    for number, line in enumerate(lines, start=1):
        values = np.array(line.split()[1:], dtype=float).reshape(-1, 2) * [width, height]
        inside = shapely.contains_xy(shapely.Polygon(values).buffer(-1), columns + 0.5, rows + 0.5)
        assert inside.sum() > 100 and (picture[inside] == number).all(), number


def test_object_id_zero_is_drawn_and_named_never_the_background(cli_runner, tmp_path):
    src = _dataloop_export(tmp_path / "src", _item("zero", 60, 20, [_box(2, 2, 18, 18, object_id=0),
                                                                    _box(22, 2, 38, 18, object_id=1),
                                                                    _box(42, 2, 58, 18)]))
    result = cli_runner.invoke(main, ["render", str(src), str(tmp_path / "out"), "--from", "dataloop",
                                      "--view", "object_id"])
    assert result.exit_code == 0, result.stderr
    picture = cv2.imread(str(tmp_path / "out/object_id/zero.png"), cv2.IMREAD_UNCHANGED)
    legend = json.loads((tmp_path / "out/object_id/zero.json").read_text(encoding="utf-8"))
    # id 0 takes its position (1), which object 1 holds: the next free value, 2; the box without an id: 3
    assert picture[10, 10] == 2 and picture[10, 30] == 1 and picture[10, 50] == 3 and picture[19, 10] == 0
    assert legend["values"] == {"1": {"object_id": "1", "label": "a"},
                                "2": {"object_id": "0", "label": "a", "position": 1},
                                "3": {"object_id": None, "label": "a", "position": 3}}
    assert legend["background"] == 0 and legend["not_drawn"] == {}


# -- 2. colours by object ---------------------------------------------------------------------------------
def test_color_by_object_gives_each_object_its_colour_and_a_track_one(cli_runner, tmp_path):
    labels = LabelMap([LabelInfo("a", 1, (200, 10, 10))])
    collection = AnnotationCollection(filename="/o.png", width=80, height=20)
    for x, object_id in ((2, 5), (22, 6), (42, 5), (62, None)):
        collection.add(Box(left=x, top=2, right=x + 16, bottom=18, label="a"), object_id=object_id)
    photo = np.full((20, 80, 3), 128, np.uint8)
    for view in ("mask", "overlay"):
        by_label = render(collection, view, label_map=labels, image=photo if view == "overlay" else None).image
        by_object = render(collection, view, label_map=labels, color_by="object",
                           image=photo if view == "overlay" else None).image
        centres = [tuple(by_object[10, x + 8][:3]) for x in (2, 22, 42, 62)]
        assert centres[0] == centres[2]  # one track, one colour
        assert len({centres[0], centres[1], centres[3]}) == 3  # three objects, three colours
        assert len({tuple(by_label[10, x + 8][:3]) for x in (2, 22, 42, 62)}) == 1  # by label: one
    src = _dataloop_export(tmp_path / "src", json.loads(json.dumps(collection.to_json())))
    result = cli_runner.invoke(main, ["render", str(src), str(tmp_path / "out"), "--from", "dataloop",
                                      "--view", "mask", "--color-by", "object"])
    assert result.exit_code == 0, result.stderr
    mask = cv2.imread(str(tmp_path / "out/mask/o.png"), cv2.IMREAD_UNCHANGED)
    assert len({tuple(mask[10, x + 8]) for x in (2, 22, 42, 62)}) == 3


# -- 3. text never in masks -----------------------------------------------------------------------------
def test_with_text_never_touches_the_mask(cli_runner, sample_dir, tmp_path):
    """The issue counted 517 RGBA values in a mask rendered --with-text: text drawn into it."""
    outputs = {}
    for flag in ((), ("--with-text",)):
        out = tmp_path / ("text" if flag else "plain")
        result = cli_runner.invoke(main, ["render", str(sample_dir), str(out), "--from", "dataloop", "--view", "mask",
                                          "--view", "overlay", *flag])
        assert result.exit_code == 0, result.stderr
        outputs[bool(flag)] = out
    labels = LabelMap.load(sample_dir / "ontology.json")
    for mask in sorted((outputs[True] / "mask").rglob("*.png")):
        relative = mask.relative_to(outputs[True])
        assert mask.read_bytes() == (outputs[False] / relative).read_bytes(), relative
        rgba = cv2.cvtColor(cv2.imread(str(mask), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)
        colours = {tuple(v) for v in np.unique(rgba.reshape(-1, 4), axis=0).tolist()}
        assert colours <= {(0, 0, 0, 0)} | {(*info.color, 255) for info in labels}, relative
    overlays = sorted((outputs[True] / "img_mask").rglob("*.png"))
    assert any(p.read_bytes() != (outputs[False] / p.relative_to(outputs[True])).read_bytes() for p in overlays)


# -- 4. keypoints not labelled -------------------------------------------------------------------------
@requires_real_files
def test_unlabelled_coco_keypoints_and_their_edges_are_never_drawn(tmp_path):
    src = ICEVISION / "keypoints_annotations.json"
    data = json.loads(src.read_text(encoding="utf-8"))
    unlabelled = sum(a["keypoints"][i] == 0 for a in data["annotations"] for i in range(2, len(a["keypoints"]), 3))
    at_origin = sum(a["keypoints"][i - 2:i + 1] == [0, 0, 0] for a in data["annotations"]
                    for i in range(2, len(a["keypoints"]), 3))
    assert unlabelled == at_origin > 100  # COCO stores them at 0,0
    report, _ = render_source(src, "coco", tmp_path / "out", ["mask", "overlay"],
                              options=ConvertOptions(images=ICEVISION / "images"))
    assert report.not_drawn["render.unlabelled-keypoint"] == unlabelled
    for mask in (tmp_path / "out" / "mask").rglob("*.png"):
        alpha = cv2.imread(str(mask), cv2.IMREAD_UNCHANGED)[:, :, 3]
        corner = alpha[:12, :12]
        assert not corner.any(), mask.name  # no point at 0,0, no edge leaving it
        image = next(i for i in data["images"] if Path(i["file_name"]).stem == mask.stem)
        for record in (r for r in data["annotations"] if r["image_id"] == image["id"]):
            x, y, w, h = record["bbox"]
            # every drawn keypoint and edge of a person lies in its box: nothing drawn towards the corner
            labelled = [(record["keypoints"][i], record["keypoints"][i + 1])
                        for i in range(0, len(record["keypoints"]), 3) if record["keypoints"][i + 2]]
            assert all(x - 1 <= px <= x + w + 1 and y - 1 <= py <= y + h + 1 for px, py in labelled)
        drawn_rows, drawn_columns = np.nonzero(alpha)
        boxes = [r["bbox"] for r in data["annotations"] if r["image_id"] == image["id"]]
        inside = np.zeros(alpha.shape, bool)
        for x, y, w, h in boxes:
            inside[max(int(y) - 4, 0):int(y + h) + 5, max(int(x) - 4, 0):int(x + w) + 5] = True
        assert inside[drawn_rows, drawn_columns].all(), mask.name


# -- 5. degenerate shapes: reported, as convert reports them ------------------------------------------------
def test_degenerate_shapes_are_left_out_and_reported_as_convert_reports_them(cli_runner, tmp_path):
    collection = AnnotationCollection(filename="/d.png", width=40, height=30, mimetype="image/png")
    shapes = [Polygon(geo=[[5, 5], [20, 20]], label="two points"),
              Box(left=30, top=5, right=10, bottom=20, label="inverted"),
              Polygon(geo=[[1, 1], [5, 5], [9, 9]], label="on a line"),
              Polyline(geo=[[[3, 3]]], label="one point"),
              Box(left=2, top=22, right=12, bottom=28, label="fine")]
    for shape in shapes:
        collection.add(shape)
    reasons = [degenerate_reason(a) for a in collection]
    assert all(reasons[:4]) and reasons[4] is None

    result = render(collection, "mask")
    assert result.drawn == 1 and result.not_drawn == {"render.degenerate-shape": 4}
    assert result.problems == {i: ("render.degenerate-shape", reasons[i]) for i in range(4)}
    report = render_dataset([collection], tmp_path / "api", ["mask", "instance", "object_id"])
    assert report.not_drawn == {"render.degenerate-shape": 4}  # each annotation once, whatever the views
    assert report.not_drawn_examples == {"render.degenerate-shape": f"/d.png: render.degenerate-shape: {reasons[0]}"}

    # Through a Dataloop export: its reader takes a box's two corners in any order (the inverted box is read
    # as the box it spans), the other three stay degenerate.
    src = _dataloop_export(tmp_path / "src", json.loads(json.dumps(collection.to_json())))
    cli = cli_runner.invoke(main, ["render", str(src), str(tmp_path / "out"), "--from", "dataloop",
                                   "--view", "mask", "--view", "object_id"])
    assert cli.exit_code == 0, cli.stderr
    assert "3 annotations not drawn:" in cli.stderr and "3 render.degenerate-shape" in cli.stderr
    legend = json.loads((tmp_path / "out/object_id/d.json").read_text(encoding="utf-8"))
    assert legend["not_drawn"] == {"render.degenerate-shape": 3}

    read = AnnotationCollection.from_json_file(src / "json" / "item_0.json")
    expected = {(a.label, degenerate_reason(a)) for a in read if degenerate_reason(a)}
    assert len(expected) == 3 and f"/d.png: render.degenerate-shape: {reasons[0]}" in cli.stderr
    converted = Converter().run(src, "dataloop", tmp_path / "coco", "coco")
    polygons = {(label, reason) for label, reason in expected if label != "one point"}  # COCO holds no polyline
    assert {(i.label, i.message) for i in converted.issues if i.code == "coco.degenerate-shape"} == polygons


def test_a_shape_between_pixel_centres_is_reported_not_counted_drawn():
    collection = AnnotationCollection(filename="/t.png", width=20, height=20)
    collection.add(Box(left=3.6, top=3.6, right=4.4, bottom=4.4, label="speck"))  # no pixel centre inside
    collection.add(Box(left=50, top=50, right=60, bottom=60, label="outside"))
    for view in ("mask", "instance", "object_id", "overlay"):
        result = render(collection, view)
        assert result.drawn == 0 and result.not_drawn == {"render.no-pixels": 2}, view


def test_summary_lists_codes_and_examples():
    report = RenderReport(items=2, pictures=2)
    report.left_out("/a.png", {0: ("render.no-shape", "class has no shape"),
                               3: ("render.degenerate-shape", "box is inverted")})
    text = report.summary()
    assert text.splitlines()[0] == "2 pictures of 2 items" and "2 annotations not drawn:" in text
    assert "/a.png: render.degenerate-shape: box is inverted" in text


@requires_real_files
def test_sharded_rendering_counts_what_one_process_counts(tmp_path):
    src = tmp_path / "coco"
    src.mkdir()
    shutil.copy(ICEVISION / "keypoints_annotations.json", src / "k.json")
    one, _ = render_source(src / "k.json", "coco", tmp_path / "one", ["mask"], workers=1)
    two, _ = render_source(src / "k.json", "coco", tmp_path / "two", ["mask"], workers=2)
    assert one == two and one.not_drawn["render.unlabelled-keypoint"] > 0
    for picture in (tmp_path / "one" / "mask").rglob("*.png"):
        with Image.open(picture) as a, Image.open(tmp_path / "two" / "mask" / picture.name) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b))
