"""The Converter as the Dataloop SDK documents it (issue 16): each test runs a documented call as written,
with the real ``dtlpy`` 1.126.5 beside dlconvert, and compares with what dtlpy computes offline where
it can (its per-annotation ``to_coco``/``to_yolo``/``to_voc`` on the same annotation).
"""

from __future__ import annotations

import io
import json
import pickle
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dlconvert import AnnotationCollection, Box, ConvertOptions, Polygon, parallel
from dlconvert.converter import Converter
from dlconvert.formats import get_format

dl = pytest.importorskip("dtlpy")

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")


def load(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def sdk_item(sample_dir: Path, relative: str = "street/scene_01.json"):
    """A dtlpy Item and its dtlpy Annotations, built offline from a sample item JSON."""
    item_json = load(sample_dir / "json" / relative)
    raw = item_json.pop("annotations")
    item = dl.Item.from_json(_json=item_json, client_api=dl.client_api, dataset=None)
    return item, [dl.Annotation.from_json(_json=a, item=item) for a in raw]


def street_box(sample_dir: Path):
    item, annotations = sdk_item(sample_dir)
    box = next(a for a in annotations if a.type == "box" and not a.annotation_definition.angle)
    return item, box


# ==== 1. the SDK's enums and constants name formats ==================================================
@pytest.mark.parametrize("value, name", [
    (dl.AnnotationFormat.COCO, "coco"), (dl.AnnotationFormat.YOLO, "yolo"), (dl.AnnotationFormat.VOC, "voc"),
    (dl.AnnotationFormat.DATALOOP, "dataloop"), (dl.ViewAnnotationOptions.VTT, "vtt"),
    (dl.ViewAnnotationOptions.JSON, "dataloop"), (dl.VIEW_ANNOTATION_OPTIONS_VTT, "vtt"), (" COCO ", "coco"),
])
def test_the_sdks_format_enums_and_constants_are_accepted(value, name):
    assert get_format(value).name == name


def test_convert_dataset_takes_the_sdks_format_constant(sample_dir, tmp_path):
    document = Converter().convert_dataset(str(sample_dir), to_format=dl.AnnotationFormat.COCO,
                                           local_path=str(tmp_path / "coco"))
    assert document == load(tmp_path / "coco" / "coco.json")


# ==== 2. in-memory conversion to VOC =================================================================
def test_convert_a_collection_to_voc_in_memory_returns_text_and_png_bytes():
    collection = AnnotationCollection(filename="/dog.png", width=64, height=48, mimetype="image/png")
    collection.add(Box(left=1.5, top=2, right=11.5, bottom=22, label="dog"))
    collection.add(Polygon(geo=[[0, 0], [8, 0], [4, 6]], label="ear"))
    result = Converter().convert(collection, from_format="dataloop", to_format="voc")
    assert isinstance(result["Annotations/dog.xml"], str) and "<name>dog</name>" in result["Annotations/dog.xml"]
    mask = np.asarray(Image.open(io.BytesIO(result["SegmentationClass/dog.png"])))
    assert mask.shape == (48, 64) and mask.any()
    assert ".dlconvert-output.json" not in result


def test_convert_file_to_voc_in_memory(sample_dir):
    result = Converter().convert_file(to_format="voc", from_format="dataloop",
                                      file_path=sample_dir / "json" / "street" / "scene_02.json")
    assert "Annotations/street/scene_02.xml" in result
    assert all(isinstance(v, bytes) for k, v in result.items() if k.endswith(".png"))


# ==== 4. conversion_func(annotation, item), as the SDK calls it ======================================
def sdk_style_hook(annotation, item):
    """The SDK's signature: the item is the second argument (module level: it can travel to workers)."""
    annotation.label = f"{item.filename.split('/')[1]}:{annotation.label}"
    return annotation


def test_conversion_func_with_the_sdks_two_arguments(sample_dir, tmp_path):
    converter = Converter()
    converter.convert_dataset(str(sample_dir), "coco", tmp_path / "coco", conversion_func=sdk_style_hook)
    names = {c["name"] for c in load(tmp_path / "coco" / "coco.json")["categories"]}
    assert {"street:vehicle.car", "street:person"} <= names
    assert converter.report.unbalanced() == {}


def test_a_two_argument_hook_still_runs_on_workers(sample_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    one = Converter(concurrency=1).run(sample_dir, "dataloop", tmp_path / "one", "dataloop",
                                       conversion_func=sdk_style_hook)
    two = Converter(concurrency=2).run(sample_dir, "dataloop", tmp_path / "two", "dataloop",
                                       conversion_func=sdk_style_hook)
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.json"))
    assert all((tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes() for f in files)
    assert one.labels_out == two.labels_out and "street:person" in two.labels_out
    from dlconvert._sdk_compat import Hooks

    hooks = Hooks.of(sdk_style_hook)
    assert hooks.passes_item and pickle.loads(pickle.dumps(hooks)) == hooks


def test_a_one_argument_hook_gets_the_annotation_only(sample_dir, tmp_path):
    seen = []
    Converter().run(sample_dir, "dataloop", tmp_path / "out", "dataloop",
                    conversion_func=lambda annotation: seen.append(annotation.type) or annotation)
    assert seen and set(seen) >= {"box", "segment"}


def test_a_hook_may_return_a_dtlpy_annotation(sample_dir, tmp_path):
    def to_sdk_box(annotation, item):
        if annotation.type != "box":
            return annotation
        d = annotation.annotation_definition
        return dl.Annotation.new(annotation_definition=dl.Box(left=d.left, top=d.top, right=d.right,
                                                               bottom=d.bottom, label="sdk-box"))

    converter = Converter()
    converter.run(sample_dir, "dataloop", tmp_path / "out", "coco", conversion_func=to_sdk_box)
    assert converter.report.labels_out["sdk-box"] >= 2


def test_a_hook_returning_something_else_is_a_clear_error(sample_dir, tmp_path):
    with pytest.raises(TypeError, match="conversion_func must return an Annotation or None, not dict"):
        Converter().run(sample_dir, "dataloop", tmp_path / "out", "coco", conversion_func=lambda a, item: {})
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["to_coco", "to_voc", "to_yolo", "from_coco", "from_voc", "from_yolo"])
def test_the_sdks_ready_made_hooks_say_what_to_use_instead(name):
    with pytest.raises(AttributeError, match=rf"{name}.*Converter\(\)\.convert"):
        getattr(Converter(), name)


# ==== 5. convert_directory(local_path, to_format, from_format, dataset, conversion_func) ==============
def test_convert_directory_with_the_sdks_positional_arguments(sample_dir, tmp_path):
    shutil.copytree(sample_dir / "json" / "street", tmp_path / "street")
    converter = Converter()
    result = converter.convert_directory(str(tmp_path / "street"), dl.AnnotationFormat.COCO,
                                         dl.AnnotationFormat.DATALOOP, None, sdk_style_hook)
    assert result is None  # the SDK returns nothing without return_error_filepath
    coco = load(tmp_path / "coco" / "coco.json")  # <parent of local_path>/<to_format>, as the SDK writes
    assert {c["name"] for c in coco["categories"]} >= {"street:vehicle.car"}
    has_errors, log = Converter(return_error_filepath=True).convert_directory(
        tmp_path / "street", "dataloop", "dataloop", object(), save_to=tmp_path / "dl")
    assert has_errors is False and Path(log).is_file()


# ==== 10. filters, convert(list/one annotation), convert_file(pbar, upload), return values, YOLO =====
def test_sdk_filters_on_a_local_export_select_by_dir(sample_dir, tmp_path):
    converter = Converter()
    converter.convert_dataset(str(sample_dir), "coco", tmp_path / "coco",
                              filters=dl.Filters(field="dir", values="/street"))
    coco = load(tmp_path / "coco" / "coco.json")
    assert sorted(i["file_name"] for i in coco["images"]) == ["street/scene_01.png", "street/scene_02.jpg"]
    left_out = {i.item for i in converter.report.issues if i.code == "filter.item"}
    assert left_out == {"/video/traffic.mp4", "/audio/conversation.wav"}  # the empty image has no annotation
    assert converter.report.unbalanced() == {}


def test_sdk_filters_by_filename_metadata_and_join(sample_dir, tmp_path):
    by_name = dl.Filters(field="filename", values="/street")  # the SDK makes it the glob /street/**
    Converter().convert_dataset(str(sample_dir), "coco", tmp_path / "a", filters=by_name)
    assert len(load(tmp_path / "a" / "coco.json")["images"]) == 2
    large = dl.Filters(field="metadata.system.size", values=2000, operator=dl.FiltersOperations.GREATER_THAN)
    large.add(field="metadata.system.mimetype", values="image/*")
    Converter().convert_dataset(str(sample_dir), "coco", tmp_path / "b", filters=large)
    assert [i["file_name"] for i in load(tmp_path / "b" / "coco.json")["images"]] == ["street/scene_01.png",
                                                                                      "street/scene_02.jpg"]
    with_person = dl.Filters()
    with_person.add_join(field="label", values="person")
    converter = Converter()
    converter.convert_dataset(str(sample_dir), "dataloop", tmp_path / "c", filters=with_person)
    kept = {p.relative_to(tmp_path / "c" / "json").as_posix() for p in (tmp_path / "c" / "json").rglob("*.json")}
    assert kept == {"street/scene_01.json", "street/scene_02.json", "video/traffic.json"}


def test_sdk_annotation_filter_on_a_local_export(sample_dir, tmp_path):
    only_cars = dl.Filters(resource=dl.FiltersResource.ANNOTATION, field="label", values="vehicle.car")
    converter = Converter()
    converter.convert_dataset(str(sample_dir), "dataloop", tmp_path / "out", annotation_filter=only_cars)
    written = [a["label"] for p in (tmp_path / "out" / "json").rglob("*.json") for a in load(p)["annotations"]]
    assert written and set(written) == {"vehicle.car"}
    assert converter.report.unbalanced() == {}
    assert Counter(i.code for i in converter.report.issues)["filter.annotation"] == \
        sum(converter.report.annotations_in.values()) - len(written)


def test_sdk_filters_a_local_export_cannot_evaluate_are_refused_up_front(sample_dir, tmp_path):
    from dlconvert.errors import OptionError

    odd = dl.Filters(custom_filter={"$and": [{"dir": {"$regex": "street"}}]})
    with pytest.raises(OptionError, match=r"\$regex"):
        Converter().convert_dataset(str(sample_dir), "coco", tmp_path / "out", filters=odd)
    assert not (tmp_path / "out").exists()


def test_convert_a_list_of_annotations_and_a_single_one(sample_dir):
    item, annotations = sdk_item(sample_dir)
    boxes = [a for a in annotations if a.type == "box" and not a.annotation_definition.angle]
    document = Converter().convert(boxes, from_format="dataloop", to_format="coco", item=item)
    assert [i["file_name"] for i in document["images"]] == ["street/scene_01.png"]
    assert [r["bbox"] for r in document["annotations"]] == [dl.Converter.to_coco(annotation=a, item=item)["bbox"]
                                                            for a in boxes]
    one = Converter().convert(boxes[0], from_format="dataloop", to_format="coco", item=item)
    assert one["annotations"][0]["bbox"] == document["annotations"][0]["bbox"]
    ours = AnnotationCollection(filename="/x.png", width=10, height=10, mimetype="image/png")
    annotation = ours.add(Box(left=1, top=1, right=4, bottom=5, label="x"))
    single = Converter().convert(annotation, from_format="dataloop", to_format="coco", item=ours)
    assert single["annotations"][0]["bbox"] == [1, 1, 3, 4]


def test_convert_file_advances_the_pbar_and_uploads_to_the_item(sample_dir):
    class Bar:
        n = 0

        def update(self, n=1):
            self.n += n

    class Annotations:
        uploaded = None

        def upload(self, annotations):
            self.uploaded = annotations

    class Item:
        annotations = Annotations()

    bar, item = Bar(), Item()
    path = sample_dir / "json" / "street" / "scene_02.json"
    result = Converter().convert_file(to_format="dataloop", from_format="dataloop", file_path=path, item=item,
                                      pbar=bar, upload=True)
    assert bar.n == 1
    assert [a["id"] for a in item.annotations.uploaded] == [a.id for a in result]
    from dlconvert.errors import OptionError

    with pytest.raises(OptionError, match="to_format must be 'dataloop'"):
        Converter().convert_file(to_format="coco", from_format="dataloop", file_path=path, item=item, upload=True)


def test_convert_dataset_returns_the_sdks_values_and_keeps_the_report(sample_dir, tmp_path):
    converter = Converter()
    assert converter.convert_dataset(str(sample_dir), "voc", tmp_path / "voc") is None
    assert converter.report.target_format == "voc" and converter.report.unbalanced() == {}
    converter = Converter(return_error_filepath=True)
    has_errors, log = converter.convert_dataset(str(sample_dir), "voc", tmp_path / "voc2")
    assert has_errors is True and load(log) and log == converter.report.error_log


def test_to_format_yolo_from_python_writes_the_sdks_detection_boxes(sample_dir, tmp_path):
    item, box = street_box(sample_dir)
    sdk = dl.Converter()
    Converter().convert_dataset(str(sample_dir), "yolo", tmp_path / "yolo")
    lines = [line.split() for p in (tmp_path / "yolo").rglob("*.txt") if "labels" in p.parts
             for line in p.read_text().splitlines()]
    assert lines and {len(line) for line in lines} == {5}  # class x y w h: boxes only
    import yaml

    names = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())["names"]
    sdk.labels = {name: index for index, name in names.items()}
    expected = sdk.to_yolo(annotation=box, item=item)
    scene = (tmp_path / "yolo" / "labels" / "train" / "street" / "scene_01.txt").read_text().splitlines()
    ours = [tuple(float(v) for v in line.split()) for line in scene]
    assert any(int(o[0]) == expected[0] and np.allclose(o[1:], expected[1:], atol=1e-6) for o in ours)
    Converter(options=ConvertOptions(yolo_task="segment")).convert_dataset(str(sample_dir), "yolo", tmp_path / "seg")
    segments = [line.split() for p in (tmp_path / "seg").rglob("*.txt") if "labels" in p.parts
                for line in p.read_text().splitlines()]
    assert any(len(line) > 5 for line in segments)  # a task asked for is written


def test_voc_boxes_match_the_sdks_to_voc_with_the_0_based_origin(sample_dir, tmp_path):
    item, box = street_box(sample_dir)
    expected = dl.Converter.to_voc(annotation=box, item=item)
    Converter(options=ConvertOptions(voc_origin=0)).convert_dataset(str(sample_dir), "voc", tmp_path / "voc")
    xml = (tmp_path / "voc" / "Annotations" / "street" / "scene_01.xml").read_text()
    for key in ("xmin", "ymin", "xmax", "ymax"):
        assert f"<{key}>{int(expected[key])}</{key}>" in xml
