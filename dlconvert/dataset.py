"""Dataset: what a reader hands a writer — items (lazy), the label map, and where images live."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .collection import AnnotationCollection
from .errors import OptionError
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
    #: The source says it holds no item (a COCO file with ``"images": []``): reading none is not "nothing found".
    declared_empty: bool = False


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
    declared_empty: bool = False  # as Dataset.declared_empty


@dataclass
class ShardOutput:
    """What a writer's ``write_shard`` hands its ``finish``: the files it wrote and its picklable state."""

    outputs: list[Path] = field(default_factory=list)
    state: Any = None


YOLO_TASKS = ("detect", "segment", "pose", "obb")


def _flag(name: str) -> dict:
    """Field metadata: the command-line flag of an option, for messages that name it."""
    return {"flag": name}


@dataclass(frozen=True)
class ConvertOptions:
    """Options every reader and writer may look at; each format lists the ones it uses (``FormatSpec.options``).

    Values are checked when the options are made: a value out of range raises :class:`OptionError`
    (a ``ValueError``). ``images`` and ``labels`` apply to every format; any other option set away
    from its default is refused by a conversion whose two formats do not use it.
    """

    images: Path | None = field(default=None, metadata=_flag("--images"))  # folder of the item binaries
    labels: LabelMap | None = field(default=None, metadata=_flag("--labels"))  # overrides the reader's label map
    #: COCO masks: "auto" (the source's form, else compressed), "compressed", "uncompressed"
    rle: str = field(default="auto", metadata=_flag("--rle"))
    indent: bool = True  # pretty-print JSON outputs
    #: "detect", "segment", "pose", "obb"; None: the richest the data needs
    yolo_task: str | None = field(default=None, metadata=_flag("--task"))
    precision: int = field(default=6, metadata=_flag("--precision"))  # decimals of normalised YOLO coordinates
    split: str = field(default="train", metadata=_flag("--split"))  # YOLO split for items that name none
    #: VOC bndbox convention: 1 = 1-based inclusive integers (VOC devkit), 0 = 0-based floats
    voc_origin: int = field(default=1, metadata=_flag("--voc-origin"))
    #: VOC: also write SegmentationClass/Object PNGs for polygons and masks
    voc_masks: bool = field(default=True, metadata=_flag("--voc-masks/--no-voc-masks"))
    #: put item images beside written labels: "none", "copy" or "link"
    images_mode: str = field(default="none", metadata=_flag("--images-mode"))
    extras: dict = field(default_factory=dict)

    #: Options that apply to every format.
    UNIVERSAL = ("images", "labels")

    def __post_init__(self) -> None:
        if self.images is not None:
            if not isinstance(self.images, (str, os.PathLike)):
                raise OptionError(f"ConvertOptions.images must be a folder path, not {type(self.images).__name__}")
            object.__setattr__(self, "images", Path(self.images))
        if self.labels is not None and not isinstance(self.labels, LabelMap):
            raise OptionError(f"ConvertOptions.labels must be a LabelMap (LabelMap.load(path)), not "
                              f"{type(self.labels).__name__}")
        if self.labels is not None and not self.labels.pinned:  # the user's map: its classes are the classes
            object.__setattr__(self, "labels", self.labels.copy().pin())
        _choice("rle", self.rle, ("auto", "compressed", "uncompressed"))
        _choice("yolo_task", self.yolo_task, (None, *YOLO_TASKS))
        _choice("images_mode", self.images_mode, ("none", "copy", "link"))
        _choice("voc_origin", self.voc_origin, (0, 1), exact=int)
        _choice("indent", self.indent, (True, False), exact=bool)
        _choice("voc_masks", self.voc_masks, (True, False), exact=bool)
        if type(self.precision) is not int or not 0 <= self.precision <= 15:
            raise OptionError(f"ConvertOptions.precision must be an integer from 0 to 15, not {self.precision!r}")
        _check_split(self.split)
        if not isinstance(self.extras, dict):
            raise OptionError(f"ConvertOptions.extras must be a dict, not {type(self.extras).__name__}")

    def changed(self) -> list[str]:
        """The options set away from their defaults, by field name (``images`` and ``labels`` too)."""
        out = []
        for option in fields(self):
            default = option.default_factory() if callable(option.default_factory) else option.default
            if getattr(self, option.name) != default:
                out.append(option.name)
        return out

    @classmethod
    def flag(cls, name: str) -> str | None:
        """The command-line flag of option ``name`` (``yolo_task`` → ``--task``), if it has one."""
        return next((f.metadata.get("flag") for f in fields(cls) if f.name == name), None)


def _choice(name: str, value: Any, allowed: tuple, exact: type | None = None) -> None:
    if value not in allowed or (exact is not None and type(value) is not exact):
        shown = ", ".join(repr(a) for a in allowed)
        raise OptionError(f"ConvertOptions.{name} must be one of {shown}, not {value!r}")


def _check_split(split: Any) -> None:
    """A split names one folder: no separators, no ``.``/``..``, no NUL, at most 255 bytes."""
    if not isinstance(split, str) or not split.strip():
        raise OptionError(f"ConvertOptions.split must be a folder name, not {split!r}")
    if any(c in split for c in "/\\\x00") or split in (".", "..") or len(split.encode("utf-8", "replace")) > 255:
        raise OptionError(f"the split {split!r} is not a plain folder name (no '/', '\\', '..' or NUL; at most 255 "
                          f"bytes)")
