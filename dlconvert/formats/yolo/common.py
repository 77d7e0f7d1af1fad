"""Names and limits every part of the YOLO package shares, and the one way to read a text file."""

from __future__ import annotations

from pathlib import Path

from ..._io import read_input_bytes
from ...errors import FormatError
from .options import TASKS

__all__ = ["TASKS"]  # the tasks (declared with the options: YoloOptions checks ``yolo_task``)

DATA_YAML = "data.yaml"
MAX_KEYPOINTS = 10_000  # per pose: far above any skeleton, far below what would exhaust memory
MAX_CLASSES = 100_000  # nc without names: far above any label set, far below what would exhaust memory
#: Richness order for the default task: a dataset is written with the richest task its data needs.
RANK = {"detect": 0, "obb": 1, "segment": 2, "pose": 3}
SPLIT_KEYS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
NAMES_FILES = ("obj.names", "classes.txt", "labels.txt")
#: ``metadata.user.yolo`` keys.
CORNERS_KEY = "corners"
FINGERPRINT_KEY = "geometry_sha1"
SPLIT_KEY = "split"
#: What the reader looks for (FormatSpec.looks_for, and the errors that say what was not found).
LOOKS_FOR = ("data.yaml or obj.data with their image folders, images/ + labels/, or .txt label files beside their "
             "images (or under --images)")


def read_text(path: Path) -> str:
    """A UTF-8 text file (a BOM is dropped); undecodable bytes are an error naming the line."""
    data = read_input_bytes(path, "a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FormatError("not UTF-8 text", path=path, where=f"line {line}") from None

