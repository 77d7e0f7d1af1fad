"""YOLO text labels (Ultralytics and darknet): detect, segment, pose and obb, both ways.

One module per job:

* :mod:`.layout` — where the images and label files are and which belongs to which (data.yaml
  splits, Roboflow, darknet, ``images/``↔``labels/``, labels-only outputs), with :mod:`.config`
  (data.yaml read with bounds, obj.data, names files, their optional fields checked for type) and
  :mod:`.image_sizes` (the sizes an output records, so its labels read back without images);
* :mod:`.names` — the label map of a dataset read (``class_0`` … and a warning without names);
* :mod:`.reader` — label lines into annotations, one item per image;
* :mod:`.capabilities` — what each kind of annotation becomes in each task, or why it cannot be
  written: the one table the writer consults and ``FORMAT.holds`` / ``FORMAT.approximates`` derive from;
* :mod:`.plan` — the task, the classes (never added to a pinned label map), the keypoint order,
  ``data.yaml``; :mod:`.lines` — the lines of one item; :mod:`.writer` — files, splits, images;
* :mod:`.plane` — rectangles from 4 corners, minimum rotated rectangles, rings bridged into one.

Each module's docstring states its rules.
"""

from __future__ import annotations

from .. import FormatSpec
from .capabilities import approximates, holds
from .columns import write_table
from .common import DATA_YAML, LOOKS_FOR, TASKS
from .detect import detect
from .names import class_names
from .options import YoloOptions
from .plane import merge_rings
from .reader import plan, read, read_units
from .writer import finish, one_pass, write, write_shard

__all__ = ["DATA_YAML", "FORMAT", "TASKS", "class_names", "merge_rings", "read", "write"]

FORMAT = FormatSpec(
    name="yolo",
    summary="YOLO txt labels + data.yaml (Ultralytics detect / segment / pose / obb; darknet obj.data read)",
    holds=holds(),
    approximates=approximates(),
    read=read,
    write=write,
    plan=plan,
    read_units=read_units,
    write_shard=write_shard,
    finish=finish,
    write_table=write_table,
    shardable=one_pass,
    options=frozenset({"images", "labels"}),  # every format's, and its own:
    own_options=YoloOptions,
    looks_for=LOOKS_FOR,
    detect=detect,
)
