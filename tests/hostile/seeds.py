"""Valid datasets the corpus mutates: small copies of the test fixtures and the bundled sample.

Each :class:`Seed` is an input tree (see ``tree``), the path handed to the reader, the format
and the formats it is converted to. Only small fixtures are used so a case builds in a few
milliseconds; the files are read once per process.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import realfiles
from realfiles import real_file

from dlconvert.demo import sample_dataset_path

__all__ = ["FIXTURES", "SEEDS", "Seed", "seeds_of"]

FIXTURES = real_file(".")


@dataclass(frozen=True)
class Seed:
    """A valid dataset: ``tree`` read from ``src`` (relative to the input root) as ``fmt``."""

    name: str
    fmt: str
    tree: dict
    src: str = ""
    targets: tuple[str, ...] = ("dataloop",)

    @property
    def main_files(self) -> list[str]:
        """The annotation files of the seed (what record and file mutations aim at)."""
        suffix = {"dataloop": ".json", "coco": ".json", "voc": ".xml", "vtt": ".vtt", "yolo": ".txt"}[self.fmt]
        return sorted(p for p, c in self.tree.items() if p.endswith(suffix) and isinstance(c, bytes)
                      and not _side_file(p))


def _side_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in ("ontology.json", "recipe.json", "labelmap.json", "obj.names", "train.txt", "classes.txt",
                    "labels.txt", "README.txt", "README.md")


def _files(root: Path, *relative: str, under: str = "") -> dict:
    """``{under/relative: bytes}`` for the files (or every file of the folders) named."""
    out = {}
    for name in relative or (".",):
        base = root / name
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in paths:
            key = path.relative_to(root).as_posix()
            out[f"{under}/{key}" if under else key] = path.read_bytes()
    return out


def _trimmed_video(folder: Path) -> bytes:
    """The 2019 video export (a bare list of tracks), cut to 3 tracks of at most 6 states."""
    tracks = json.loads((folder / "video_annotations.json").read_bytes())[:3]
    for track in tracks:
        system = track["metadata"]["system"]
        system["snapshots_"] = system.get("snapshots_", [])[:6]
    return json.dumps(tracks, indent=1).encode()


def _rename(tree: dict, old: str, new: str) -> dict:
    return {(new + k[len(old):] if k.startswith(old) else k): v for k, v in tree.items()}


@functools.lru_cache(maxsize=1)
def _all_seeds() -> tuple[Seed, ...]:
    seeds: list[Seed] = []
    add = seeds.append
    fx = FIXTURES
    # -- Dataloop ------------------------------------------------------------------------------
    sample = sample_dataset_path()
    add(Seed("sample", "dataloop", _files(sample, "json", "items", "ontology.json", "recipe.json"),
             targets=("dataloop", "coco", "voc", "yolo", "vtt")))
    if not realfiles.AVAILABLE:  # a fresh clone without ../shared: the bundled sample only
        return tuple(seeds)
    add(Seed("hamster", "dataloop", _rename(_files(fx / "dataloop/dtlpy-documentation/hamster", "hamster.json"),
                                            "hamster.json", "json/hamster.json"),
             targets=("dataloop", "coco", "voc")))
    add(Seed("video2019", "dataloop", {"json/video.json": _trimmed_video(fx / "dataloop/dtlpy-tests-2019")},
             targets=("dataloop", "vtt", "coco")))
    add(Seed("fruit", "dataloop", _files(fx / "dataloop/dtlpy-documentation/FruitImage", "json"),
             targets=("dataloop", "coco", "yolo")))
    add(Seed("conversation", "dataloop",
             _rename(_files(fx / "dataloop/dtlpy-converters-examples/vtt", "conversation.json"),
                     "conversation.json", "json/conversation.json"), targets=("dataloop", "vtt")))
    # -- COCO --------------------------------------------------------------------------------------
    add(Seed("mmdet", "coco", _rename(_files(fx / "coco/mmdetection", "coco_sample.json"), "coco_sample.json",
                                      "coco.json"), src="coco.json", targets=("dataloop", "voc", "yolo")))
    coco_dataset = fx / "coco/datumaro/coco_dataset/annotations"
    add(Seed("instances", "coco", _files(coco_dataset, "instances_val.json"), src="instances_val.json",
             targets=("dataloop", "coco", "voc")))
    add(Seed("keypoints", "coco", _files(coco_dataset, "person_keypoints_val.json"),
             src="person_keypoints_val.json", targets=("dataloop", "coco", "yolo")))
    add(Seed("dagshub", "coco", _files(fx / "coco/dagshub", "annotations.json"), src="annotations.json",
             targets=("dataloop", "coco")))
    add(Seed("labels", "coco", _files(coco_dataset, "labels_val.json"), src="labels_val.json",
             targets=("dataloop", "coco")))
    # -- VOC -----------------------------------------------------------------------------------------
    add(Seed("voc1", "voc", _files(fx / "voc/datumaro/voc_dataset/voc_dataset1"),
             targets=("dataloop", "voc", "coco")))
    add(Seed("fridge", "voc", _files(fx / "voc/icevision/fridge/annotations"), targets=("dataloop", "voc", "yolo")))
    add(Seed("voc2012", "voc", _files(fx / "voc/mmdetection/VOC2012"), targets=("dataloop", "coco")))
    add(Seed("roboflow", "voc", _files(fx / "voc/datumaro/roboflow_voc"), targets=("dataloop", "voc")))
    # -- WebVTT --------------------------------------------------------------------------------------
    for name, path in (("sample", "webvtt-py/sample.vtt"), ("conversation", "dtlpy-converters/conversation.vtt"),
                       ("spec", "vtt.js/integration/spec-example.vtt"), ("styles", "webvtt-py/styles.vtt"),
                       ("identifiers", "webvtt-py/using_identifiers.vtt")):
        source = fx / "vtt" / path
        add(Seed(name, "vtt", {f"subs/{source.name}": source.read_bytes()}, targets=("dataloop", "vtt")))
    # -- YOLO ------------------------------------------------------------------------------------------
    cvat = fx / "yolo/cvat-datumaro"
    for name in ("detection", "segmentation", "pose", "oriented_boxes"):
        add(Seed(name, "yolo", _files(cvat / f"yolov8_{name}"), targets=("dataloop", "yolo", "coco")))
    add(Seed("darknet", "yolo", _files(fx / "yolo/datumaro/yolo_dataset/strict"), targets=("dataloop", "yolo")))
    add(Seed("roboflow", "yolo", _files(fx / "yolo/datumaro/roboflow_yolo"), targets=("dataloop", "voc")))
    return tuple(seeds)


SEEDS = _all_seeds


def seeds_of(fmt: str) -> list[Seed]:
    return [s for s in _all_seeds() if s.fmt == fmt]
