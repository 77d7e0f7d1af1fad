"""The YOLO options: the task, the decimals, the split of items that name none, images beside labels.

VOC also writes ``split`` (``ImageSets/Main/<split>.txt``) and LabelMe ``images_mode``: they list
them in their ``FORMAT.options``. How options are declared: :mod:`dlconvert.formats._options`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import OptionError
from .._options import FormatOptions, option

__all__ = ["TASKS", "YoloOptions", "check_split"]

TASKS = ("detect", "segment", "pose", "obb")  # the YOLO tasks, as Ultralytics names them


def check_split(split: Any) -> None:
    """A split names one folder: no separators, no ``.``/``..``, no NUL, at most 255 bytes."""
    if not isinstance(split, str) or not split.strip():
        raise OptionError(f"ConvertOptions.split must be a folder name, not {split!r}")
    if any(c in split for c in "/\\\x00") or split in (".", "..") or len(split.encode("utf-8", "replace")) > 255:
        raise OptionError(f"the split {split!r} is not a plain folder name (no '/', '\\', '..' or NUL; at most 255 "
                          f"bytes)")


@dataclass(frozen=True)
class YoloOptions(FormatOptions):
    """``ConvertOptions(yolo_task=…, precision=…, split=…, images_mode=…)``; ``--task``, ``--precision`` …"""

    #: "detect", "segment", "pose", "obb"; None: the richest the data needs
    yolo_task: str | None = option(None, flag="--task", choices=(None, *TASKS),
                                   help="YOLO task (default: the richest the data needs).")
    precision: int = option(6, flag="--precision", between=(0, 15),
                            help="Decimals of normalised YOLO coordinates (default 6).")
    split: str = option("train", flag="--split", check=check_split,
                        help="YOLO split for items that name none: a folder name (default train).")
    #: put item images beside written labels: "none", "copy" or "link"
    images_mode: str = option("none", flag="--images-mode", choices=("none", "copy", "link"),
                              help="Put the images beside written YOLO labels (default none).")
