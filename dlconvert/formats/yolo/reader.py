"""Reading YOLO label lines into annotations, one item per image (the layout: :mod:`.layout`).

* Line kind from its column count: 5 → box; with ``kpt_shape`` [K, D] → pose (5 + K·D columns);
  9 → a rotated box when the 4 points form a rectangle in pixels (diagonals agreeing within
  1e-4 × (W + H)), unless the task is segment (given, or the one ``labelmap.json`` says dlconvert
  wrote the dataset with) or the same file has polygons of other sizes: then a polygon; any other
  odd count ≥ 7 → polygon. ``options.yolo_task`` forces the reading. The
  dataset's task (the richest kind read, or pose with ``kpt_shape``) is kept in the label map.
* Sharded reading (:func:`plan`, :func:`read_units`): one unit per image; the dataset's task is
  settled before any shard reads (:mod:`.task_scan`), or the plan is read in one process.
* Item: ``filename`` = ``/`` + the image path under its split's image folder (with ``/<split>``
  in front when the dataset has several splits, so ``train/1.jpg`` and ``val/1.jpg`` stay two
  items), ``width``/``height`` = the stored image size and the EXIF orientation from the header
  (or from ``image_sizes.json`` when the image is not there), so coordinates are scaled by the
  displayed size; ``mimetype`` from the extension; ``image_path`` = the image file paired with it.
* Pixels: a normalised value written with d decimals times a whole image side is a decimal of at
  most d decimals (d + 1 for a box edge, cx ± w/2), so each coordinate is rounded to that many
  decimals: the float noise of the product goes (0.1 × 264 = 26.400000000000002 → 26.4) and no
  value the source expressed changes. When d plus the digits of the side pass 15, beyond what a
  double holds exactly, the product is kept as it is.
* Pose lines → a Box and a Pose sharing an object id, one Point child per keypoint (``visibility``
  attribute ``visible`` / ``not-visible`` / ``unlabeled``; a ``0 0 0`` keypoint has no point).
  Rotated boxes remember their source corners, so an unchanged box is written back digit for digit.
* Names → a label map with instance ids 1…N in names order (``labelmap.json`` beside the YAML adds
  colours and templates when it lists the same names); duplicate names become ``name (index)``;
  without names, ``class_0`` … and a ``yolo.no-names`` warning. Pose classes get a template each:
  ``kpt_names`` from the YAML, else ``keypoint_1`` … .
* Class indices must be whole numbers (``2`` or ``2.0``); values must be plain decimals (no
  ``nan``, ``inf``, ``1_0``); values up to 1 % outside [0, 1] are read as they are.
* Errors name the file and ``line N``: wrong column counts, non-numbers, commas, class indices past
  the names, values outside [0, 1] by more than Ultralytics' own 1 % tolerance, visibilities other
  than 0/1/2, a folder where a label file should be.
"""

from __future__ import annotations

import math
import mimetypes
import os
import posixpath
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...annotation import Annotation
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError
from ...geometry import Box, Point, Polygon, Pose
from ...images import image_info
from ...labels import PoseTemplate
from ...report import ConversionReport, OnError
from .._keypoints import VISIBILITY_ATTRIBUTE, VISIBILITY_NAMES
from .common import CORNERS_KEY, FINGERPRINT_KEY, LOOKS_FOR, RANK, SPLIT_KEY, read_text
from .layout import Layout, Source, discover
from .names import pose_templates, read_label_map
from .plane import box_fingerprint, rectangle
from .task_scan import settled_task

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset, SourcePlan

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
#: Ultralytics accepts normalised values up to 1 % outside [0, 1] (``verify_image_label``).
_TOLERANCE = 0.01
#: Significant digits a double holds exactly: past them, rounding a pixel value would only add noise.
_EXACT_DIGITS = 15


@dataclass
class _ReadContext:
    path: Path
    filename: str
    width: int  # displayed
    height: int
    names: list[str]
    templates: dict[int, PoseTemplate]
    kpt_shape: list[int] | None
    task: str | None
    written_as: str | None = None  # the task labelmap.json says dlconvert wrote the dataset with
    seen: set = field(default_factory=set)  # line kinds read (for the dataset's task)
    polygons: bool = False  # the file has polygon lines other than 4-point ones: its 4-point lines are polygons

    def scale(self, line: str, tokens: list[str], extra: int = 0) -> float | None:
        """``10 ** decimals`` to round this line's pixel values with (the module docstring's rule), or None.

        The decimals: at least the most a value of the line is written with (more is as exact): a
        plain number has at most its length − 2 decimals (``0.25``), − 1 when it starts with the
        point (``.25``); exponents are counted number by number. A pixel value is then within float
        noise of a whole number of ``1 / scale`` units, which ``round(value * scale) / scale`` gives
        exactly (the nearest double to the exact decimal).
        """
        if "e" in line or "E" in line:
            places = max(map(_decimals, tokens))
        else:
            places = max(map(len, tokens)) - (1 if line.startswith(".") or " ." in line or "\t." in line else 2)
        places = max(places, 0) + extra
        return 10.0 ** places if places + len(str(max(self.width, self.height))) <= _EXACT_DIGITS else None


def _decimals(token: str) -> int:
    """The decimals a number is written with: ``0.25`` 2, ``1.5e-3`` 4, ``7`` 0."""
    mantissa, _, exponent = token.lower().partition("e")
    point = mantissa.find(".")
    digits = len(mantissa) - point - 1 if point >= 0 else 0
    if exponent.lstrip("+-").isdigit():
        digits -= int(exponent)
    return max(digits, 0)


def _rounded(value: float, scale: float | None) -> float:
    return value if scale is None else round(value * scale) / scale


def _number(token: str, column: int) -> float:
    if not _NUMBER.match(token):
        raise FormatError(f"column {column}: {token!r} is not a number")
    value = float(token)
    if not math.isfinite(value):
        raise FormatError(f"column {column}: {token!r} is not a finite number")
    return value


def _coordinate(token: str, column: int) -> float:
    value = _number(token, column)
    if not -_TOLERANCE <= value <= 1 + _TOLERANCE:
        raise FormatError(f"column {column}: {token} is outside [0, 1] (YOLO coordinates are divided by the "
                          "image width and height)")
    return value


def _line_kind(count: int, context: _ReadContext) -> str:
    """What a line with ``count`` values after the class is: box, polygon, quad (8 values) or pose."""
    task = context.task
    shape = context.kpt_shape
    if task == "pose" or (shape is not None and task is None):
        if shape is None:
            raise FormatError("pose lines need kpt_shape in data.yaml")
        expected = 4 + shape[0] * shape[1]
        if count != expected:
            raise FormatError(f"a pose line has {expected + 1} columns (class cx cy w h and kpt_shape "
                              f"{shape[0]}×{shape[1]} keypoint values); found {count + 1}")
        return "pose"
    if count == 4 and task in (None, "detect", "segment"):
        return "box"
    if task == "detect":
        raise FormatError(f"a detect line has 5 columns (class cx cy w h); found {count + 1}")
    if task == "obb" and count != 8:
        raise FormatError(f"an obb line has 9 columns (class x1 y1 x2 y2 x3 y3 x4 y4); found {count + 1}")
    if count >= 6 and count % 2 == 0:
        quad = count == 8 and "segment" not in (task, context.written_as) and not context.polygons
        return "quad" if quad else "polygon"
    raise FormatError(f"expected 5 columns (class cx cy w h), a polygon (class x1 y1 x2 y2 x3 y3 …, an even "
                      f"number of values) or a pose line with kpt_shape in data.yaml; found {count + 1} columns")


def _class_index(token: str, context: _ReadContext) -> int:
    value = _number(token, 1)
    if value < 0 or value != int(value):
        raise FormatError(f"column 1: the class index must be a whole number ≥ 0, not {token}")
    index = int(value)
    if index >= len(context.names):
        raise FormatError(f"class {index} is past the {len(context.names)} class names "
                          f"(0–{len(context.names) - 1})")
    return index


def _parse_lines(text: str, context: _ReadContext, report: ConversionReport) -> list[Annotation]:
    annotations: list[Annotation] = []
    counts = {len(line.split()) for line in text.splitlines()}
    context.polygons = context.task != "obb" and any(c >= 7 and c % 2 and c != 9 for c in counts)
    object_ids = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            if "," in line:
                raise FormatError("values must be separated by spaces, not commas")
            tokens = line.split()
            kind = _line_kind(len(tokens) - 1, context)
            index = _class_index(tokens[0], context)
            label = context.names[index]
            if kind == "pose":
                object_ids += 1
                made = _pose_annotations(tokens, label, index, number, object_ids, context, line)
            else:
                made = [_shape_annotation(tokens, kind, label, context, line)]
        except FormatError as exc:
            report.bad_record(exc.at(path=context.path, where=f"line {number}"), code="yolo.invalid-line",
                              annotation_type=_guess_type(raw), item=context.filename)
            continue
        annotations.extend(made)
    return annotations


def _guess_type(line: str) -> str:
    count = len(line.replace(",", " ").split())
    return "box" if count in (5, 9) else ("segment" if count >= 7 and count % 2 else "unknown")


def _new(definition, metadata: dict | None = None) -> Annotation:
    return Annotation.new(annotation_definition=definition, automated=False,
                          metadata=metadata or {"system": {}, "user": {}})


def _box_from_centre(cx: float, cy: float, w: float, h: float, label: str, context: _ReadContext,
                     scale: float | None) -> Box:
    """The box of ``cx cy w h`` in pixels, edges rounded by ``scale`` (a box edge has one decimal more)."""
    if w < 0 or h < 0:
        raise FormatError("box width and height must not be negative")
    width, height = context.width, context.height
    return Box(left=_rounded((cx - w / 2) * width, scale), top=_rounded((cy - h / 2) * height, scale),
               right=_rounded((cx + w / 2) * width, scale), bottom=_rounded((cy + h / 2) * height, scale),
               label=label)


def _shape_annotation(tokens: list[str], kind: str, label: str, context: _ReadContext, line: str) -> Annotation:
    values = [_coordinate(t, i) for i, t in enumerate(tokens[1:], start=2)]
    if kind == "box":
        context.seen.add("detect")
        return _new(_box_from_centre(*values, label=label, context=context, scale=context.scale(line, tokens, 1)))
    points = np.asarray(values, dtype=np.float64).reshape(-1, 2) * (context.width, context.height)
    scale = context.scale(line, tokens)
    if scale is not None:
        points = np.rint(points * scale) / scale
    if kind == "quad":
        box = rectangle(points, context.width, context.height)
        if box is not None:
            box.label = label
            context.seen.add("obb")
            meta = {CORNERS_KEY: values, FINGERPRINT_KEY: box_fingerprint(box, context.width, context.height)}
            return _new(box, {"system": {}, "user": {"yolo": meta}})
    context.seen.add("segment")
    return _new(Polygon(geo=points, label=label))


def _pose_annotations(tokens: list[str], label: str, index: int, number: int, object_id: int,
                      context: _ReadContext, line: str) -> list[Annotation]:
    count, dims = context.kpt_shape  # type: ignore[misc]
    head = [_coordinate(t, i) for i, t in enumerate(tokens[1:5], start=2)]
    box = _box_from_centre(*head, label=label, context=context, scale=context.scale(line, tokens, 1))
    scale = context.scale(line, tokens)
    template = context.templates.get(index)
    names = list(template.order) if template else [f"keypoint_{i + 1}" for i in range(count)]
    pose = Pose(label=label, template_id=template.id if template else None,
                instance_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"yolo:{context.filename}#{number}")))
    pose_annotation = _new(pose)
    pose_annotation.id = f"yolo-line-{number}-pose"
    box_annotation = _new(box)
    for annotation in (box_annotation, pose_annotation):
        annotation.object_id = object_id
    out = [box_annotation, pose_annotation]
    for k in range(count):
        column = 6 + k * dims
        x = _coordinate(tokens[column - 1], column)
        y = _coordinate(tokens[column], column + 1)
        attributes: dict = {}
        if dims == 3:
            v = _number(tokens[column + 1], column + 2)
            if v not in (0, 1, 2):
                raise FormatError(f"column {column + 2}: keypoint visibility must be 0, 1 or 2, not "
                                  f"{tokens[column + 1]}")
            if v == 0 and x == 0 and y == 0:
                continue  # not labelled
            attributes = {VISIBILITY_ATTRIBUTE: VISIBILITY_NAMES[int(v)]}
        point = Point(x=_rounded(x * context.width, scale), y=_rounded(y * context.height, scale), label=names[k],
                      attributes=attributes)
        child = _new(point)
        child.parent_id = pose_annotation.id
        out.append(child)
    context.seen.add("pose")
    return out


# ==== reading: items ===============================================================================
def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """A YOLO dataset cut for sharded reading: one unit per image (its image and label file, item name,
    split and recorded size), the label map with the dataset's task settled (:mod:`.task_scan`).

    The plan is ``one_pass`` — read in one process, the task raised as lines are met — when the task
    cannot be settled cheaply: the obb task asked for, or no task and no ``kpt_shape``, on data whose
    first 16 files with 9-column lines hold no polygon and more such files remain.
    """
    from ...dataset import SourcePlan

    task = options.yolo_task
    layout = discover(Path(src), options, report)
    if all(s.label is None for s in layout.sources) and next(layout.root.rglob("labelTxt"), None) is not None:
        raise FormatError("this looks like DOTA (labelTxt/ with pixel corners and class names), not YOLO",
                          path=layout.root)
    if layout.sources and layout.names is None and all(s.label is None for s in layout.sources):
        # Ultralytics: "No labels found" — images alone are no YOLO dataset (is --from right?)
        raise FormatError(f"found {len(layout.sources)} images but no yolo label files and no class names: "
                          f"looked for {LOOKS_FOR} (is --from right?)", path=layout.root)
    label_map, names = read_label_map(layout, options, report)
    config = dict(layout.config)
    if task == "pose" and "kpt_shape" not in config:
        raise FormatError("reading with the pose task needs kpt_shape in data.yaml", path=layout.names_where)
    templates = pose_templates(label_map, names, config)
    config["written_as"] = (label_map.extras.get("yolo") or {}).get("task")  # dlconvert's own output says
    yolo_extras: dict[str, Any] = {"names": list(names)}
    for key in ("kpt_shape", "flip_idx"):
        if key in config:
            yolo_extras[key] = config[key]
    start = "pose" if "kpt_shape" in config else (task or "detect")

    def kinds_of(source: Source) -> set[str] | None:
        try:
            return _read_item(source, names, templates, config, task, ConversionReport(on_error=OnError.SKIP))[1]
        except DlconvertError:
            return None

    settled = settled_task(layout.sources, start, task, config.get("kpt_shape"), kinds_of)
    yolo_extras["task"] = settled or start
    label_map.extras["yolo"] = yolo_extras
    # yolo_extras is the label map's: in this process, a one-pass read raises the task in the map itself
    context = _Context(names, templates, config, task, yolo_extras)
    images_root = _images_root(layout)
    return SourcePlan([_unit(source) for source in layout.sources], context=context, labels=label_map,
                      images_root=images_root or layout.root,
                      image_roots=(images_root,) if images_root is not None else (),
                      declared_empty=layout.declared_empty, one_pass=settled is None)


@dataclass
class _Context:
    """What every shard needs to read its units: the class names, pose templates, data.yaml's pose keys
    (and the task dlconvert wrote the dataset with), the task asked for, and the label map's YOLO extras."""

    names: list[str]
    templates: dict[int, PoseTemplate]
    config: dict
    task: str | None
    yolo_extras: dict


def _unit(source: Source) -> list:
    """A source as a unit (JSON values): image, label file, item name, split, image present, recorded size."""
    return [os.fspath(source.image), os.fspath(source.label) if source.label is not None else None, source.filename,
            source.split, source.present, list(source.size) if source.size is not None else None]


def _source(unit: list) -> Source:
    image, label, filename, split, present, size = unit
    return Source(Path(image), Path(label) if label is not None else None, filename, split, present,
                  tuple(size) if size is not None else None)


def read_units(context: _Context, units: list, options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """The items of a run of units, read when asked for; the task in ``context.yolo_extras`` is raised to
    the richest line kind read (settled by the plan unless it is ``one_pass``)."""
    extras = context.yolo_extras
    for unit in units:
        source = _source(unit)
        try:
            collection, seen = _read_item(source, context.names, context.templates, context.config, context.task,
                                          report)
        except DlconvertError as exc:
            report.failed(exc.at(path=source.label or source.image), code="yolo.invalid-file")
            continue
        for kind in seen:  # the dataset's task: the richest line kind read
            if RANK[kind] > RANK[extras["task"]]:
                extras["task"] = kind
        yield collection


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a YOLO dataset (folder, ``data.yaml`` or ``obj.data``) lazily, one item per image."""
    source = plan(src, options, report)
    return source.dataset(read_units(source.context, source.units, options, report))


def _images_root(layout: Layout) -> Path | None:
    """The folder under which every item's remote path names its image, if there is one."""
    roots = set()
    for source in layout.sources:
        image = source.image.as_posix()
        relative = source.filename.lstrip("/")
        if not image.endswith("/" + relative):
            return None
        roots.add(image[: -len(relative) - 1])
    return Path(roots.pop()) if len(roots) == 1 else None


def _read_item(source: Source, names: list[str], templates: dict[int, PoseTemplate], config: dict,
               task: str | None, report: ConversionReport) -> tuple[AnnotationCollection, set]:
    if source.present:
        info = image_info(source.image)
        stored, orientation = (info.width, info.height), info.orientation
    else:  # the image is not there: the size image_sizes.json records (None: an image without objects)
        stored, orientation = (source.size[:2], source.size[2]) if source.size else ((None, None), 1)
    filename = source.filename
    system: dict[str, Any] = {"mimetype": mimetypes.guess_type(filename)[0] or "image/jpeg"}
    if stored[0] is not None:
        system.update(width=stored[0], height=stored[1])
    if orientation != 1:
        system["exif"] = {"Orientation": orientation}
    metadata: dict[str, Any] = {"system": system}
    if source.split is not None:
        metadata["user"] = {"yolo": {SPLIT_KEY: source.split}}
    item_json = {"id": None, "filename": filename, "name": posixpath.basename(filename),
                 "dir": posixpath.dirname(filename) or "/", "type": "file", "metadata": metadata,
                 "annotations": []}
    collection = AnnotationCollection.for_item(item_json, source.label or source.image)
    collection.orientation = orientation
    if source.present:
        collection.image_path = os.fspath(source.image)
    width, height = collection.display_size
    context = _ReadContext(source.label or source.image, filename, width or 0, height or 0, names, templates,
                           config.get("kpt_shape"), task, config.get("written_as"))
    if source.label is not None:
        if source.label.is_dir():
            raise FormatError("expected a label file, found a directory", path=source.label)
        collection.annotations.extend(_parse_lines(read_text(source.label), context, report))
    collection.mark_read()
    return collection, context.seen
