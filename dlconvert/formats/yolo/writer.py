"""Writing a YOLO dataset from the Dataloop model (the lines themselves: :mod:`.lines`).

Layout written::

    out/
    ├── data.yaml                               path: ., <split>: images/<split>, nc, names: {0: …}
    │                                           (+ kpt_shape, flip_idx, kpt_names for pose)
    ├── labels/<split>/<remote dir>/<stem>.txt  one line per object; empty for an image without objects
    ├── images/<split>/<remote dir>/<file>      only with images_mode "copy" or "link" (a symlink)
    ├── image_sizes.json                        each image's size, so the labels read back without images
    └── labelmap.json                           the label map (colours, ids, pose templates)

* Task, classes, keypoint order: :mod:`.plan`; the class index of a label is its position in
  ``data.yaml``'s ``names``, and ``labelmap.json`` says the same.
* Splits: an item's split is ``metadata.user.yolo.split`` (set when read from YOLO), else
  ``options.split``; the ``/<split>/`` the reader puts in front of the items of a several-split
  dataset is not repeated under ``labels/<split>/`` (any other path is kept whole). A split is one
  folder name (no ``/``, ``\\``, ``..``): ``ConvertOptions`` refuses ``--split ../x``, and an item
  whose own split is no folder name (or no text) is reported (``yolo.unwritable-item``). Every
  path written stays inside the output folder. ``data.yaml`` lists the splits written (train,
  val, test, then others); Ultralytics also wants a ``val`` split, which is not invented here.
* Sizes: an item's size is its width and height, else its image's (found as the renderer finds
  it, :class:`~dlconvert.images.ImageLookup`: ``--images``, the image the reader paired with the
  item, the source's image folders). An item whose size is unknown gets no label file and each
  annotation is skipped (``yolo.no-image-size``); an image item without annotations gets an empty
  file. ``image_sizes.json`` (:mod:`.image_sizes`) records every size, so an output written without
  its images (the default) reads back.
* Images (``images_mode`` "copy" / "link"): found the same way; one that cannot be found fails
  the item (``yolo.image-not-found``, naming every place looked in).
* Items that are not images (video, audio) are skipped and reported (``yolo.not-an-image``).
* One pass when the task is given (not pose) and the classes are known up front; otherwise two:
  items are spooled to a temporary file as Dataloop JSON lines (with the image the reader paired
  and the file the item came from) while the task, the classes and the keypoint order are decided
  from all of them, then written; memory holds one item at a time. Dataloop JSON stores a box by
  two corners and reading orders them, so an inverted box is skipped (``yolo.degenerate-shape``)
  before it is spooled: it is never written swapped.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..._io import atomic_write, safe_join
from ..._json import dumps, loads
from ...collection import AnnotationCollection
from ...errors import FormatError, OutputError
from ...images import ImageLookup, image_info
from ...labels import LABELMAP_FILENAME
from .._metadata import item_split
from .._policy import degenerate_reason, skip_if_not_an_image
from . import image_sizes
from .common import DATA_YAML, SPLIT_KEYS
from .lines import LineWriter
from .plan import Plan, Scan, data_yaml, make_plan

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset, ShardOutput
    from ...report import ConversionReport

def is_folder_name(name: object) -> bool:
    """One folder name: text, not empty, ``.`` or ``..``, without ``/``, ``\\`` or NUL, at most 255 bytes."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name
            and "\x00" not in name and len(name.encode("utf-8", "surrogatepass")) <= 255)


def place(name: str, own_split: object, default_split: str) -> tuple[str, str]:
    """``(split, remote path under it)`` of an item named ``name``; a split of its own that is no folder name
    is an error.

    The YOLO reader names an item of a several-split dataset ``/<split>/…`` and records the split:
    that prefix is not repeated under ``labels/<split>/``. Any other path is kept whole (an item
    ``/train/a.jpg`` of a Dataloop dataset is ``labels/train/train/a.txt``), so it reads back as itself.
    """
    split = default_split if own_split is None else own_split
    if not is_folder_name(split):
        raise OutputError(f"an item's split (metadata.user.<format>.split) must be one folder name, not {split!r}")
    relative = name.lstrip("/")
    if own_split is not None and relative.startswith(split + "/"):
        relative = relative[len(split) + 1:]
    return split, relative


class _Writer:
    """One label file per image item (and its image, and its size), then the dataset-wide files."""

    def __init__(self, plan: Plan, dst: Path, options: ConvertOptions, report: ConversionReport,
                 lookup: ImageLookup) -> None:
        self.plan = plan
        self.dst = dst
        self.options = options
        self.report = report
        self.lookup = lookup
        self.line_writer = LineWriter(plan, options.precision, report)
        self.written: dict[Path, str | None] = {}
        self.folders: dict[tuple[str, str, str], Path] = {}
        self.splits: set[str] = set()
        self.sizes: list[tuple[str, image_sizes.Size]] = []  # (image path under dst, size), for image_sizes.json
        self.outputs: list[Path | str] = []  # text from the columnar writer (a Path per file costs)

    # -- per item -------------------------------------------------------------------------------
    def add_item(self, collection: AnnotationCollection) -> bool:
        """Write the item's label file (and image); False when it is not written (reported)."""
        item = collection.filename
        wants_image = self.options.images_mode in ("copy", "link")
        width, height = collection.display_size
        size = (collection.width, collection.height, collection.orientation or 1) if width and height else None
        image = self.lookup.find(collection) if wants_image or size is None else None
        if size is None and image is not None:
            try:
                info = image_info(image)
            except FormatError:
                pass
            else:
                size, (width, height) = (info.width, info.height, info.orientation), info.display_size
        if size is None and len(collection.annotations):
            for annotation in collection:
                self.report.skip(annotation, "yolo.no-image-size",
                                 f"the size of {item!r} is unknown (no width/height and no image file)", item)
            return False
        try:
            split, relative = self._place(collection)
            target = self._target("labels", split, posixpath.splitext(relative)[0] + ".txt")
            if target in self.written:
                raise OutputError(f"items {self.written[target]!r} and {item!r} both map to {target.name}")
        except OutputError as exc:
            self.report.bad_item(exc, collection, code="yolo.unwritable-item")
            return False
        self.written[target] = item
        lines = self.line_writer.lines(collection, width or 0, height or 0) if collection.annotations else []
        # The converter stages the whole output folder and moves it into place when done: plain writes.
        target.write_bytes("".join(line + "\n" for line in lines).encode("utf-8"))
        self.outputs.append(target)
        self.splits.add(split)
        if wants_image:
            relative = self._put_image(image, split, relative, item) or relative
        self.sizes.append((f"images/{split}/{relative}", size))
        return True

    def _target(self, kind: str, split: str, relative: str) -> Path:
        """``dst/kind/split/relative``, its folder made; a path from item data cannot leave ``dst``.

        Folders go through ``safe_join`` (once each); a file name is checked as text: the output
        folder is new and holds no links, so resolving every file's path would only cost time.
        """
        key = (kind, split, posixpath.dirname(relative))
        folder = self.folders.get(key)
        if folder is None:
            folder = safe_join(self.dst, posixpath.join(kind, split, posixpath.dirname(relative)))
            folder.mkdir(parents=True, exist_ok=True)
            self.folders[key] = folder
        name = posixpath.basename(relative)
        if not is_folder_name(name):
            raise OutputError(f"path {relative!r} would leave the output folder or is no file name")
        return folder / name

    def _place(self, collection: AnnotationCollection) -> tuple[str, str]:
        """``(split, remote path under it)`` of an item (see :func:`place`)."""
        own = item_split(collection.source_item)  # the YOLO dataset's, or the COCO folder file's
        name = collection.filename or collection.name or f"/{collection.item_id or 'item'}"
        return place(name, own, self.options.split)

    def _put_image(self, image: Path | None, split: str, relative: str, item: str | None) -> str | None:
        """Copy or link the item's image beside its labels; its path under ``images/<split>`` (None: not found)."""
        if image is None:
            self.report.failed(FormatError(f"the image of {item!r} was not found (looked in "
                                           f"{self.lookup.describe()}); pass the image folder with --images"),
                              code="yolo.image-not-found")
            return None
        relative = posixpath.splitext(relative)[0] + image.suffix
        target = self._target("images", split, relative)
        if self.options.images_mode == "link":
            try:
                os.symlink(image.resolve(), target)
                return relative  # not listed among the outputs: a link is the source's file, not one written here
            except OSError:  # no symlinks here (Windows without the privilege): copy
                pass
        shutil.copy2(image, target)
        self.outputs.append(target)
        return relative

    # -- dataset files ---------------------------------------------------------------------------
    def finish(self) -> list[Path]:
        """``data.yaml`` naming the splits written, ``labelmap.json`` and ``image_sizes.json``."""
        splits = sorted(self.splits, key=lambda s: (list(SPLIT_KEYS.values()).index(s)
                                                    if s in SPLIT_KEYS.values() else 9, s))
        atomic_write(self.dst / DATA_YAML, data_yaml(self.plan, splits or [self.options.split]).encode("utf-8"))
        self.plan.label_map.save(self.dst / LABELMAP_FILENAME)
        atomic_write(self.dst / image_sizes.IMAGE_SIZES, image_sizes.encode(self.sizes))
        return [self.dst / DATA_YAML, *self.outputs, self.dst / LABELMAP_FILENAME, self.dst / image_sizes.IMAGE_SIZES]


def one_pass(dataset: Dataset, options: ConvertOptions) -> bool:
    """Whether the task and the classes are known up front (not pose), so items can be written as they come."""
    return options.yolo_task not in (None, "pose") and (options.labels or dataset.labels) is not None


def _writer(plan: Plan, dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> _Writer:
    return _Writer(plan, dst, options, report, ImageLookup.for_source(options.images, dataset))


def _one_pass_writer(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> _Writer:
    return _writer(make_plan(Scan(), options.labels or dataset.labels, options), dataset, dst, options, report)


def _write_items(writer: _Writer, items, report: ConversionReport) -> None:
    for collection in items:
        if skip_if_not_an_image(collection, report, "yolo", "YOLO"):
            continue
        if writer.add_item(collection):
            report.items_out += 1


def write_shard(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> ShardOutput:
    """The label files of these items, one pass (see :func:`one_pass`). A label an unpinned label map
    lacks would shift the class numbers of later shards, so it sends the job back to a single pass;
    a pinned map's classes never change (such labels are reported)."""
    from ...dataset import ShardOutput
    from ...parallel import NeedsSequential

    writer = _one_pass_writer(dataset, Path(dst), options, report)
    known = len(writer.plan.names)
    _write_items(writer, dataset.items, report)
    if len(writer.plan.names) != known:
        raise NeedsSequential(f"label {writer.plan.names[known]!r} is not in the label map")
    return ShardOutput(writer.outputs, state=(writer.splits, writer.sizes))


def finish(shards: list[ShardOutput], dataset: Dataset, dst: Path, options: ConvertOptions,
           report: ConversionReport) -> list[Path]:
    """``data.yaml`` naming every split the shards wrote, ``labelmap.json`` and ``image_sizes.json``
    (the shards' sizes in shard order: the bytes one process writes)."""
    writer = _one_pass_writer(dataset, Path(dst), options, report)
    for shard in shards:
        splits, sizes = shard.state
        writer.splits |= splits
        writer.sizes.extend(sizes)
    return writer.finish()


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``labels/``, ``data.yaml``, ``labelmap.json``, ``image_sizes.json`` (and ``images/``) under ``dst``.

    With ``yolo_task`` given (not pose) and a label map known up front (from the source or
    ``options.labels``), one pass. Otherwise two: the items are spooled to a temporary file (so the
    task, the class list and the keypoint order can be decided from all of them), then written.
    """
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    if one_pass(dataset, options):
        writer = _one_pass_writer(dataset, dst, options, report)
        _write_items(writer, dataset.items, report)
        return writer.finish()
    scan = Scan()
    with tempfile.TemporaryDirectory(prefix="dlconvert-yolo-") as spool_dir:
        spool = Path(spool_dir) / "items.jsonl"
        with open(spool, "wb") as handle:
            for collection in dataset.items:
                if skip_if_not_an_image(collection, report, "yolo", "YOLO"):
                    continue
                _skip_inverted_boxes(collection, report)
                scan.add(collection)
                handle.write(dumps({"origin": collection.origin, "image_path": collection.image_path,
                                    "item": collection.to_json()}, indent=False) + b"\n")
        writer = _writer(make_plan(scan, options.labels or dataset.labels, options), dataset, dst, options, report)
        with open(spool, "rb") as handle:
            for line in handle:
                spooled = loads(line)
                collection = AnnotationCollection.from_json(spooled["item"])
                collection.origin, collection.image_path = spooled["origin"], spooled["image_path"]
                if writer.add_item(collection):
                    report.items_out += 1
    return writer.finish()


def _skip_inverted_boxes(collection: AnnotationCollection, report: ConversionReport) -> None:
    """Report and leave out the degenerate boxes before the spool, whose JSON would put their corners in order."""
    kept = []
    for annotation in collection.annotations:
        reason = degenerate_reason(annotation) if annotation.type == "box" else None
        if reason is None:
            kept.append(annotation)
        else:
            report.skip(annotation, "yolo.degenerate-shape", reason, collection.filename)
    if len(kept) != len(collection.annotations):
        collection.annotations = kept
