"""Polygons parsed where they are written (``LazyRings``): a long polygon list the COCO table reader took for a
polygon without parsing it, which turns out to be something else, sends the job back to the object path — the
same files and report as if the table had never been tried, in one process and on two workers, for YOLO, VOC,
Dataloop and the renderer.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import columnar_support
import pytest
from test_columnar import assert_same

from dlconvert import ConvertOptions, parallel
from dlconvert.formats import _cache, get_format
from dlconvert.formats.coco import columns
from dlconvert.render import batch, render_source
from dlconvert.table import LazyRings, NotExact

#: Long lists (8 commas or more) that are not what they look like, with what the object reader makes of them.
SURPRISES = {
    "a lone rectangle among empty rings (a box)": [[10, 10, 30, 10, 30, 40, 10, 40], [], [], [], [], []],
    "only empty rings (no shape: the bbox)": [[], [], [], [], [], [], [], [], []],
    "an odd count of numbers": [[1, 2, 3, 4, 5, 6, 7, 8, 9]],
    "numbers at the wrong depth": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "a string among the numbers": [[1, 2, 3, 4, "5", 6, 7, 8, 9, 10]],
}


def _document(segmentation) -> dict:
    """Six images with ordinary polygons, the surprise on the fifth."""
    images = [{"id": i, "file_name": f"img{i}.jpg", "width": 64, "height": 48} for i in range(1, 7)]
    ordinary = [[5, 5, 40, 6, 38, 30, 20, 41, 4, 22]]
    records = [{"id": i, "image_id": i, "category_id": 1, "bbox": [4, 5, 36, 36], "area": 900,
                "segmentation": ordinary, "iscrowd": 0} for i in range(1, 7)]
    records[4] = {**records[4], "bbox": [10, 10, 20, 30], "segmentation": segmentation}
    return {"images": images, "annotations": records, "categories": [{"id": 1, "name": "thing"}]}


def _source(tmp_path: Path, segmentation) -> Path:
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(_document(segmentation)))
    return path


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("case", list(SURPRISES))
@pytest.mark.parametrize("task", ["detect", "segment"])
def test_a_surprise_in_a_long_polygon_list_gives_what_the_object_path_writes(case, task, workers, tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    assert_same(_source(tmp_path, SURPRISES[case]), tmp_path, workers=workers, yolo_task=task)
    assert_same(_source(tmp_path, SURPRISES[case]), tmp_path / "fail", on_error="fail", workers=workers,
                yolo_task=task)


@pytest.mark.parametrize("case", list(SURPRISES))
def test_the_surprise_is_found_only_when_the_rows_are_parsed(case, tmp_path):
    table = columns.read_table(_source(tmp_path, SURPRISES[case]), ConvertOptions())
    assert table is not None and isinstance(table.rings, LazyRings)
    table.slice(0, 4).rings.coords  # noqa: B018 - items before the surprise parse cleanly
    with pytest.raises(NotExact):
        table.slice(4, 5).rings.coords  # noqa: B018


def test_ordinary_polygons_are_parsed_in_the_slices_asked_for(tmp_path):
    table = columns.read_table(_source(tmp_path, [[5, 5, 40, 6, 38, 30, 20, 41, 4, 22]]), ConvertOptions())
    whole = table.rings
    part = table.slice(2, 5).rings
    assert part.row_rings.tolist() == [0, 1, 2, 3]
    assert part.coords.tolist() == whole.coords[whole.ring_offsets[2]:whole.ring_offsets[5]].tolist()


@pytest.mark.parametrize("case", list(SURPRISES))
def test_a_render_after_a_surprise_holds_only_the_object_renderers_files(case, tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    src = _source(tmp_path, SURPRISES[case])

    def rendered(name: str) -> dict:
        out = tmp_path / name
        try:
            report, _ = render_source(src, "coco", out, ["mask"], workers=2)
        except Exception as exc:  # both ways must fail alike
            return {"error": f"{type(exc).__name__}: {exc}"}
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
                 if p.is_file() and p.name != ".dlconvert-output.json"}
        return {"files": files, "report": report.items}

    by_columns = rendered("columns")
    monkeypatch.setitem(_cache, "coco", dataclasses.replace(get_format("coco"), read_table=None))
    by_objects = rendered("objects")
    assert by_columns == by_objects


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("case", list(SURPRISES))
@pytest.mark.parametrize("target", ["voc", "dataloop", "coco"])
def test_the_other_table_writers_meet_a_surprise_as_the_object_path_does(target, case, workers, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    options = {"voc_masks": False} if target == "voc" else {}
    columnar_support.assert_same(_source(tmp_path, SURPRISES[case]), "coco", target, tmp_path, workers=workers,
                                 **options)


def test_a_render_that_falls_back_empties_only_its_own_staging_folder(tmp_path, monkeypatch):
    """Rendering over a previous output (``overwrite``) of a source whose surprise sends the render back to the item
    renderer: the previous output stays until the new one is complete, and what is left is the new one only."""
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    out = tmp_path / "out"
    render_source(_source(tmp_path, [[5, 5, 40, 6, 38, 30, 20, 41, 4, 22]]), "coco", out, ["mask"], workers=2)
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    (tmp_path / "b").mkdir()
    src = _source(tmp_path / "b", SURPRISES["a lone rectangle among empty rings (a box)"])
    emptied = []
    real = batch.empty_staging
    monkeypatch.setattr(batch, "empty_staging", lambda staging: emptied.append(staging) or real(staging))
    render_source(src, "coco", out, ["instance"], workers=2, overwrite=True)
    assert len(emptied) == 1 and emptied[0] != out and out in emptied[0].parents  # its own staging folder
    after = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert before and after and all(name.startswith("mask/") for name in before)
    assert all(name.startswith("instance/") for name in after)  # the previous output replaced, nothing else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b", "coco.json", "out"]  # no staging folder left


@pytest.mark.parametrize("target", ["yolo", "voc", "dataloop", "coco", "render"])
def test_each_range_parses_only_its_own_polygons(target, tmp_path, monkeypatch):
    """A writer range that read the whole table's rings made every worker parse every polygon of the source
    (the Dataloop and COCO writers did, for their box rows and polygons: 2.8 s of each worker at 25k)."""
    monkeypatch.setattr(parallel, "MIN_SHARD", 1)
    parsed: list[tuple[int, int]] = []
    decode = columns._Polygons.decode

    def spy(self, start, end):
        parsed.append((start, end))
        return decode(self, start, end)

    monkeypatch.setattr(columns._Polygons, "decode", spy)
    document = _document([[5, 5, 40, 6, 38, 30, 20, 41, 4, 22]])
    document["annotations"].append({"id": 7, "image_id": 3, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25,
                                    "iscrowd": 0})  # a box row: whether it has rings was asked of the whole table
    src = tmp_path / "coco.json"
    src.write_text(json.dumps(document))
    if target == "render":
        render_source(src, "coco", tmp_path / "out", ["mask"], workers=1)
    else:
        options = {"voc_masks": False} if target == "voc" else {}  # (VOC's mask PNGs are the object writer's)
        columnar_support.convert(src, "coco", tmp_path / "out", target, columnar=True, workers=1, **options)
    assert len(parsed) > 1 and all(end - start < 7 for start, end in parsed), parsed  # seven rows, in ranges
