"""Dataset: what a reader hands a writer — items (lazy), the label map, and where images live."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .collection import AnnotationCollection
from .labels import LabelMap

__all__ = ["ConvertOptions", "Dataset", "ShardOutput", "SourcePlan"]


@dataclass
class Dataset:
    """Items of one source. ``items`` may be a generator: it is consumed once, in order."""

    items: Iterable[AnnotationCollection]
    labels: LabelMap | None = None
    images_root: Path | None = None
    total: int | None = None  # number of items when known up front (for progress bars)
    #: Folders where the format's own tools would look for an item's image (its filename under each), in
    #: order; an item whose reader paired it with its image file has ``collection.image_path`` instead.
    image_roots: tuple[Path, ...] = ()


@dataclass
class SourcePlan:
    """A source cut for sharded reading: ``units`` (one per item, in order; JSON values, as they travel
    to workers as JSON) and what every shard needs to read them (``context``, picklable), plus the
    dataset-wide facts a :class:`Dataset` carries."""

    units: list[Any]
    context: Any = None
    labels: LabelMap | None = None
    images_root: Path | None = None
    image_roots: tuple[Path, ...] = ()  # as Dataset.image_roots


@dataclass
class ShardOutput:
    """What a writer's ``write_shard`` hands its ``finish``: the files it wrote and its picklable state."""

    outputs: list[Path] = field(default_factory=list)
    state: Any = None


@dataclass(frozen=True)
class ConvertOptions:
    """Options every reader and writer may look at; each format documents the ones it uses."""

    images: Path | None = None  # folder of the item binaries, when not beside the annotations
    labels: LabelMap | None = None  # overrides the label map the reader found or built
    rle: str = "auto"  # COCO masks: "auto" (the source's form, else compressed), "compressed", "uncompressed"
    indent: bool = True  # pretty-print JSON outputs
    yolo_task: str | None = None  # "detect", "segment", "pose", "obb"; None: the richest the data needs
    precision: int = 6  # decimals of normalised YOLO coordinates
    split: str = "train"  # YOLO split for items that name none
    voc_origin: int = 1  # VOC bndbox convention: 1 = 1-based inclusive integers (VOC devkit), 0 = 0-based floats
    voc_masks: bool = True  # VOC: also write SegmentationClass/Object PNGs for polygons and masks
    images_mode: str = "none"  # put item images beside written labels: "none", "copy" or "link"
    extras: dict = field(default_factory=dict)
