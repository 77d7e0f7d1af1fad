"""Dataloop model → LabelMe: one JSON file per image item, beside where its image is expected.

Layout written::

    out/
    ├── <remote dir>/<stem>.json     one per image item (with or without annotations), as LabelMe saves
    │                                it: version, flags, shapes, imagePath, imageData, imageHeight,
    │                                imageWidth (then the source's other keys)
    ├── <remote dir>/<image>         only with images_mode "copy" or "link" (a symlink)
    └── labelmap.json                the label map (colours, ids)

* The file: ``<stem>.json`` of the item's file name, or the path the LabelMe file it was read from
  had (``annotations/a.json`` of ``labelme --output``'s layout, ``a_backup.json``); two items on one
  file are an error (``labelme.unwritable-item``). Every path stays inside the output folder.
* ``imagePath``: the image's place from the JSON file's folder (its name, beside it, in LabelMe's own
  layout; ``../images/a.jpg`` from ``annotations/``); the ``imagePath`` the item was read with when it
  still names that image and stays inside the output folder (a path that would leave it — the image
  was outside the source folder — is written as the plain name, with a warning,
  ``labelme.image-path-rewritten``). With ``images_mode`` "copy"/"link" the image is put there
  (found as the renderer finds it: ``--images``, the image the reader paired, the source's image
  folders); one not found fails the item's image (``labelme.image-not-found``).
* ``imageData`` (``ConvertOptions.extras["labelme_image_data"]``): "drop" (default) writes null —
  LabelMe then loads the image from ``imagePath``, as it does for files saved with ``--nodata`` —
  but for a LabelMe file whose ``imagePath`` named no file, whose own ``imageData`` is all LabelMe
  could open (written back as it was; the reader keeps it only then). "embed" writes the image
  itself: the ``imageData`` the LabelMe source had, else the image file (as LabelMe embeds it, EXIF
  applied); not found: null and ``labelme.image-not-found``.
* The points of one ``points`` shape go back as that one shape (while their label, group and
  attributes still agree).
* ``imageWidth``/``imageHeight``: the image as displayed (EXIF orientation applied), from the
  item, else its image's header; unknown: null (masks then cannot be written:
  ``labelme.no-image-size``).
* ``flags``: the image flags the item was read with, in order (false unless a Classification still
  says them), then every Classification's label, true. A Classification with attributes loses
  them (``labelme.flag-attributes-dropped``); a second one of a label is that same flag
  (``labelme.duplicate-flag``).
* Shapes (:mod:`.shape_writer`). Skipped and reported: types LabelMe cannot hold
  (``labelme.unsupported-type``: cuboids, subtitles, notes, poses with their keypoints), COCO crowd
  regions (``labelme.crowd-region``: LabelMe has no ignore regions), degenerate shapes
  (``labelme.degenerate-shape``), annotations without a label (``labelme.no-label``: LabelMe
  requires one), labels a pinned label map lacks (``labelme.label-not-in-map``), polylines of
  several lines (``labelme.multi-part-line``), masks not of the image's size, items that are not
  images (``labelme.not-an-image``) or have no file name (``labelme.no-file-name``).
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import safe_join
from ..._json import dumps
from ...errors import FormatError, OutputError
from ...images import ImageLookup, image_info
from ...labels import LABELMAP_FILENAME, LabelMap
from ...report import Issue
from .._policy import degenerate_reason, is_crowd, label_not_in_map, skip_if_not_an_image
from .capabilities import UNSUPPORTED, refusal
from .embedded import file_image_data
from .shape_writer import NotWritten, shape_of
from .source import annotation_labelme, image_data_choice, item_labelme

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection
    from ...dataset import ConvertOptions, Dataset, ShardOutput
    from ...report import ConversionReport

__all__ = ["VERSION", "finish", "write", "write_shard"]

#: The LabelMe version written for files read from elsewhere: the first that reads every shape written here
#: (masks, descriptions).
VERSION = "5.3.1"
_DRIVE = re.compile(r"^[A-Za-z]:")


def _label_map(dataset: Dataset, options: ConvertOptions) -> LabelMap:
    label_map = options.labels or dataset.labels
    return label_map.copy() if label_map is not None else LabelMap()


class _Writer:
    """Writes item after item; collects the files written and the labels met."""

    def __init__(self, dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport,
                 label_map: LabelMap) -> None:
        self.dst = dst
        self.options = options
        self.report = report
        self.label_map = label_map
        self.lookup = ImageLookup.for_source(options.images, dataset)
        self.embed = image_data_choice(options) == "embed"
        self.written: dict[Path, str | None] = {}
        self.outputs: list[Path] = []
        self.labels: list[str] = []  # labels added to the map, in the order met

    def add_item(self, collection: AnnotationCollection) -> bool:
        """Write the item's file; False when it is not written (every annotation reported)."""
        if skip_if_not_an_image(collection, self.report, "labelme", "LabelMe"):
            return False
        name = (collection.filename or collection.name or "").strip("/")
        if not name:
            for annotation in collection:
                self.report.skip(annotation, "labelme.no-file-name", "the item has no file name, which a LabelMe "
                                 "file's imagePath needs", None)
            return False
        kept = item_labelme(collection)
        directory, image_name = posixpath.split(name)
        json_path = kept.get("json")
        if not (isinstance(json_path, str) and json_path.lower().endswith(".json") and "\\" not in json_path):
            json_path = posixpath.splitext(image_name)[0] + ".json"
        if "/" not in json_path:  # a name: beside the image
            json_path = posixpath.join(directory, json_path)
        try:
            target = safe_join(self.dst, json_path)
            if target in self.written:
                raise OutputError(f"items {self.written[target]!r} and {collection.filename!r} both map to "
                                  f"{json_path}")
        except OutputError as exc:
            self.report.bad_item(exc, collection, code="labelme.unwritable-item")
            return False
        self.written[target] = collection.filename
        width, height, orientation = self._size(collection)
        size = (height, width) if width and height else None
        document: dict[str, Any] = {"version": kept["version"] if isinstance(kept.get("version"), str) else VERSION}
        shapes, flags = self._annotations(collection, size)
        document["flags"] = flags
        document["shapes"] = shapes
        document["imagePath"] = self._image_path(collection, kept, name, posixpath.dirname(json_path), target)
        document["imageData"] = (self._image_data(collection, kept, orientation) if self.embed
                                 else self._needed_image_data(kept))
        document["imageHeight"], document["imageWidth"] = height, width
        other = kept.get("other")
        for key, value in (other.items() if isinstance(other, dict) else ()):
            document.setdefault(key, value)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(dumps(document))  # the output folder is staged: plain writes
        self.outputs.append(target)
        return True

    # -- annotations -----------------------------------------------------------------------------------
    def _annotations(self, collection: AnnotationCollection, size: tuple[int, int] | None) -> tuple[list, dict]:
        """The item's shapes and image flags, every annotation reported."""
        item = collection.filename
        annotations = list(collection)
        poses = {a.id for a in annotations if a.type == "pose" and a.id is not None}
        kept_flags = item_labelme(collection).get("flags")
        flags = {key: False for key in kept_flags if isinstance(key, str)} if isinstance(kept_flags, dict) else {}
        set_flags: set[str] = set()
        shapes = []
        points_shapes: dict[int, dict] = {}  # the "points" shapes written, by their place in the source file
        for annotation in annotations:
            if annotation.parent_id in poses:  # a keypoint (or anything else a pose holds)
                self.report.skip(annotation, UNSUPPORTED, "a part of a pose: LabelMe has no keypoint skeletons",
                                 item)
                continue
            why = self._refusal(annotation, collection)
            if why is not None:
                code, message, path, where = why
                self.report.skip(annotation, code, message, item, path=path, where=where)
                continue
            label = annotation.annotation_definition.label
            if annotation.type == "class":
                if label in set_flags:
                    self.report.skip(annotation, "labelme.duplicate-flag", f"the image flag {label!r} is already set "
                                     f"by another classification", item)
                    continue
                set_flags.add(label)
                flags[label] = True
                self._wrote(annotation, label, [("labelme.flag-attributes-dropped", "an image flag is true or false: "
                                                 "the classification's attributes are not written")]
                            if annotation.attributes else [], item)
                continue
            try:
                written = shape_of(annotation, size)
            except NotWritten as exc:
                self.report.skip(annotation, exc.code, exc.message, item)
                continue
            if not _joined(written.shape, annotation_labelme(annotation).get("points_shape"), points_shapes):
                shapes.append(written.shape)
            self._wrote(annotation, label, written.approximations, item)
        return shapes, flags

    def _refusal(self, annotation: Annotation, collection: AnnotationCollection) -> tuple | None:
        """Why an annotation is skipped — ``(code, message, path, where)``, the place only for a label the
        user's label map lacks — or None."""
        why = refusal(annotation.type)
        if why is not None:
            return UNSUPPORTED, why, None, None
        if is_crowd(annotation):
            return "labelme.crowd-region", "a COCO crowd region (iscrowd 1): LabelMe has no ignore regions", None, None
        why = degenerate_reason(annotation)
        if why is not None:
            return "labelme.degenerate-shape", why, None, None
        label = annotation.annotation_definition.label
        if label is None:
            return "labelme.no-label", "LabelMe shapes and image flags need a label", None, None
        not_in_map = label_not_in_map(label, self.label_map, self.report, "the label map", collection)
        return None if not_in_map is None else ("labelme.label-not-in-map", *not_in_map)

    def _wrote(self, annotation: Annotation, label: str, approximations: list, item: str | None) -> None:
        if not self.label_map.pinned and label not in self.label_map:
            self.label_map.add(label)
            self.labels.append(label)
        self.report.wrote(annotation)
        if approximations:
            code = approximations[0][0]
            self.report.approximate(annotation, code, "; ".join(message for _, message in approximations), item)

    # -- the image -------------------------------------------------------------------------------------
    def _size(self, collection: AnnotationCollection) -> tuple[int | None, int | None, int | None]:
        """``(width, height, orientation)`` of the image as displayed: the item's, else its image header's."""
        width, height = collection.display_size
        if width and height:
            return width, height, collection.orientation
        image = self.lookup.find(collection)
        if image is None:
            return None, None, None
        try:
            info = image_info(image)
        except FormatError:
            return None, None, None
        return (*info.display_size, info.orientation)

    def _image_path(self, collection: AnnotationCollection, kept: dict, name: str, json_dir: str,
                    target: Path) -> str:
        """``imagePath``: where LabelMe finds the image ``name`` from the JSON file's folder ``json_dir`` (see the
        module docstring)."""
        image_name = posixpath.basename(name)
        if self.options.images_mode in ("copy", "link"):
            return self._put_image(collection, image_name, target) or image_name
        default = posixpath.relpath(name, json_dir or ".")
        source = kept.get("imagePath")
        if not isinstance(source, str) or source == default:
            return default
        normal = source.replace("\\", "/")
        if posixpath.basename(normal) != image_name:
            return default  # the item was renamed since: its own place
        inside = posixpath.normpath(posixpath.join(json_dir or ".", normal))
        if normal.startswith("/") or _DRIVE.match(normal) or inside == ".." or inside.startswith("../"):
            self.report.issues.append(Issue(
                "warning", "labelme.image-path-rewritten", f"imagePath {source!r} would leave the output folder: "
                f"written as {default!r} (the image beside the JSON file)", item=collection.filename))
            return default
        return source

    def _put_image(self, collection: AnnotationCollection, image_name: str, target: Path) -> str | None:
        """Copy or link the item's image beside its JSON file; the name written (None: not found)."""
        image = self._find(collection)
        if image is None:
            return None
        name = posixpath.splitext(image_name)[0] + image.suffix
        placed = target.parent / name
        placed.parent.mkdir(parents=True, exist_ok=True)
        if self.options.images_mode == "link":
            try:
                os.symlink(image.resolve(), placed)
                return name  # not listed among the outputs: a link is the source's file, not one written here
            except OSError:  # no symlinks here (Windows without the privilege): copy
                pass
        shutil.copy2(image, placed)
        self.outputs.append(placed)
        return name

    def _image_data(self, collection: AnnotationCollection, kept: dict, orientation: int | None) -> str | None:
        """``imageData`` with "embed": the source's own, else the image file's (None: not found)."""
        if isinstance(kept.get("imageData"), str):
            return kept["imageData"]
        image = self._find(collection)
        if image is None:
            return None
        try:
            return file_image_data(image, image_info(image).orientation if orientation is None else orientation)
        except FormatError as exc:  # an unreadable image: the annotations are still written, without it
            self.report.failed(exc, code="labelme.image-not-embedded")
            return None

    def _needed_image_data(self, kept: dict) -> str | None:
        """``imageData`` with "drop": null, but the source's own when it was all LabelMe could open (the reader
        keeps it only then)."""
        image_data = kept.get("imageData")
        return image_data if isinstance(image_data, str) else None

    def _find(self, collection: AnnotationCollection) -> Path | None:
        image = self.lookup.find(collection)
        if image is None:
            self.report.failed(FormatError(f"the image of {collection.filename!r} was not found (looked in "
                                           f"{self.lookup.describe()}); pass the image folder with --images"),
                               code="labelme.image-not-found")
        return image


def _joined(shape: dict, source_shape: Any, points_shapes: dict[int, dict]) -> bool:
    """Whether a point's shape joins the "points" shape written before from the same source shape (True: its
    point is added there); a point that now differs from it in anything but its position stays its own."""
    if shape["shape_type"] != "points" or type(source_shape) is not int:
        return False
    first = points_shapes.get(source_shape)
    if first is not None and {k: v for k, v in first.items() if k != "points"} == {
            k: v for k, v in shape.items() if k != "points"}:
        first["points"].extend(shape["points"])
        return True
    points_shapes.setdefault(source_shape, shape)
    return False


def write_shard(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> ShardOutput:
    """The JSON files (and images) of these items; the labels they added to the map, for :func:`finish`."""
    from ...dataset import ShardOutput

    writer = _Writer(dataset, Path(dst), options, report, _label_map(dataset, options))
    for collection in dataset.items:
        report.items_out += writer.add_item(collection)
    return ShardOutput(writer.outputs, state=writer.labels)


def finish(shards: list[ShardOutput], dataset: Dataset, dst: Path, options: ConvertOptions,
           report: ConversionReport) -> list[Path]:
    """``labelmap.json``: the source's label map with the labels the shards met, in the order met."""
    label_map = _label_map(dataset, options)
    for shard in shards:
        for label in shard.state:
            if not label_map.pinned and label not in label_map:
                label_map.add(label)
    label_map.save(Path(dst) / LABELMAP_FILENAME)
    return [Path(dst) / LABELMAP_FILENAME]


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write one LabelMe JSON file per image item, and ``labelmap.json``."""
    shard = write_shard(dataset, dst, options, report)
    return [*shard.outputs, *finish([shard], dataset, dst, options, report)]
