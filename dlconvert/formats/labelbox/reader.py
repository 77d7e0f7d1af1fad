"""Labelbox export rows → items: one item per data row, every label's features its annotations.

NDJSON is read a line at a time; a JSON export is read whole and its rows of one data row (the
legacy export has a row per label) are one item. A data row met again in another line or file is
refused (``labelbox.duplicate-data-row``): two exports of one project would double every object.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ...annotation import Annotation
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError, InvalidAnnotationError, OptionError
from ...images import find_image, image_info
from ...report import Issue
from .features import MAX_NAME_CHARS, Unread, classification, feature_meta, name_of, object_shape
from .files import Row, export_files, is_ndjson, rows_of
from .legacy import ORIGINS, class_shapes, measured_from_bottom

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset
    from ...report import ConversionReport

__all__ = ["EXTRAS", "read", "y_origin"]

#: The Labelbox options a reader takes in ``ConvertOptions.extras``.
EXTRAS = ("labelbox_y_origin",)
_LOCATION_KEYS = ("projects",)  # v2 row keys not kept in the item's metadata (their labels are read)


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a Labelbox export file (or every export file of a folder) lazily, one item per data row."""
    from ...dataset import Dataset

    src = Path(src)
    reader = _Reader(src, options, report)
    return Dataset(reader.items(), labels=None, images_root=options.images or next(iter(reader.roots), None),
                   image_roots=reader.roots)


def y_origin(options: ConvertOptions | None) -> str:
    """``extras["labelbox_y_origin"]``: "auto" (the default), "top" or "bottom"; anything else is refused."""
    extras = getattr(options, "extras", None) or {}
    unknown = sorted(k for k in extras if isinstance(k, str) and k.startswith("labelbox_") and k not in EXTRAS)
    if unknown:
        raise OptionError(f"unknown Labelbox option ConvertOptions.extras[{unknown[0]!r}]; known: "
                          f"{', '.join(EXTRAS)}")
    origin = extras.get("labelbox_y_origin", "auto")
    if origin not in ORIGINS:
        raise OptionError(f"ConvertOptions.extras['labelbox_y_origin'] must be one of "
                          f"{', '.join(map(repr, ORIGINS))}, not {origin!r}")
    return origin


class _Reader:
    def __init__(self, src: Path, options: ConvertOptions, report: ConversionReport) -> None:
        self.src = src
        self.report = report
        self.origin = y_origin(options)
        folder = src if src.is_dir() else src.parent
        self.roots = tuple(r for r in (folder, folder / "images") if r.is_dir())
        self.lookup = tuple(r for r in (options.images, *self.roots) if r is not None)
        self.seen: dict[str, str] = {}  # data row → where it was first read

    # -- rows ------------------------------------------------------------------------------------------
    def items(self) -> Iterator[AnnotationCollection]:
        for path in export_files(self.src):
            try:
                yield from self._file(path)
            except DlconvertError as exc:
                self.report.failed(exc.at(path=path), code="labelbox.invalid-file")

    def _file(self, path: Path) -> Iterator[AnnotationCollection]:
        rows = rows_of(path, lambda error: self.report.failed(error, code="labelbox.invalid-row"))
        if is_ndjson(path):
            groups: Any = ([row] for row in rows)
        else:  # read whole: the rows of one data row (a legacy row per label) are one item
            grouped: dict[str, list[Row]] = {}
            for row in rows:
                key = self._key(row)
                if key is not None:
                    grouped.setdefault(key, []).append(row)
            groups = grouped.values()
        for group in groups:
            if len(group) == 1 and self._key(group[0]) is None:
                continue
            try:
                item = self._item(group)
            except DlconvertError as exc:
                self.report.failed(exc, code="labelbox.invalid-row")
                continue
            if item is not None:
                yield item

    def _key(self, row: Row) -> str | None:
        """The data row a row is about, or None (reported) when it is not a row of an export."""
        data = row.data
        if isinstance(data, dict) and row.is_v2 and isinstance(data["data_row"], dict):
            fields = [data["data_row"].get(k) for k in ("id", "global_key", "external_id", "row_data")]
        elif isinstance(data, dict) and "Label" in data:
            fields = [data.get(k) for k in ("DataRow ID", "External ID", "Labeled Data", "ID")]
        else:
            self.report.failed(FormatError("a row is an object with 'data_row' (export v2) or 'Label' (the legacy "
                                           "export)", path=row.path, where=row.where()), code="labelbox.invalid-row")
            return None
        return next((f"{row.is_v2}:{f}" for f in fields if isinstance(f, str) and f), f"{row.path}{row.place}")

    # -- items -----------------------------------------------------------------------------------------
    def _item(self, group: list[Row]) -> AnnotationCollection | None:
        first = group[0]
        key, place = self._key(first), f"{first.path}:{first.where()}"
        if key in self.seen:
            self.report.failed(FormatError(f"this data row was read before, at {self.seen[key]} (two exports of "
                                           "one project?)", path=first.path, where=first.where()),
                               code="labelbox.duplicate-data-row")
            return None
        self.seen[key] = place
        item = _Item.of(first, self)
        for row in group:
            item.add_row(row)
        return item.collection()

    def image(self, filename: str) -> Path | None:
        for root in self.lookup:
            found = find_image(root, filename)
            if found is not None:
                return found
        return None


class _Item:
    """One data row being read: its item fields, then each label row's annotations."""

    def __init__(self, reader: _Reader, first: Row, filename: str, size: tuple, mimetype: str, meta: dict) -> None:
        self.reader = reader
        self.report = reader.report
        self.first = first
        self.filename = filename
        self.size = size  # (width, height) or (None, None)
        self.mimetype = mimetype
        self.meta = meta
        self.annotations: list[Annotation] = []
        self.labelled = False
        self._image_height: float | bool | None = False  # False: not looked up yet

    @classmethod
    def of(cls, row: Row, reader: _Reader) -> _Item:
        data = row.data
        if row.is_v2:
            data_row = data["data_row"]
            media = data.get("media_attributes") if isinstance(data.get("media_attributes"), dict) else {}
            names = (data_row.get("external_id"), data_row.get("row_data"), data_row.get("global_key"),
                     data_row.get("id"))
            size = (_size(media, "width", row), _size(media, "height", row))
            mimetype = media.get("mime_type") if isinstance(media.get("mime_type"), str) else None
            meta = {k: v for k, v in data.items() if k not in _LOCATION_KEYS}
        else:
            names = (data.get("External ID"), data.get("Labeled Data"), None, data.get("DataRow ID") or data.get("ID"))
            size, mimetype, meta = (None, None), None, {}
        filename = _filename(*names, row=row)
        mimetype = mimetype or mimetypes.guess_type(filename)[0] or "image/jpeg"
        if not mimetype.startswith("image/"):
            raise FormatError(f"the data row is {mimetype}: dlconvert reads Labelbox image labels only",
                              path=row.path, where=row.where())
        meta["labels"] = []
        return cls(reader, row, filename, size, mimetype, meta)

    def add_row(self, row: Row) -> None:
        if row.is_v2:
            projects = row.data.get("projects", {})
            if not isinstance(projects, dict):
                raise FormatError("'projects' must be an object", path=row.path, where=row.where("projects"))
            for project_id, project in projects.items():
                labels = project.get("labels", []) if isinstance(project, dict) else None
                if not isinstance(labels, list):
                    raise FormatError("a project's 'labels' must be a list", path=row.path,
                                      where=row.where("projects", project_id))
                for index, label in enumerate(labels):
                    self._v2_label(row, ("projects", project_id, "labels", index), label, project_id)
        else:
            self._legacy_label(row)

    # -- labels ----------------------------------------------------------------------------------------
    def _v2_label(self, row: Row, at: tuple, label: Any, project_id: str) -> None:
        if not isinstance(label, dict):
            raise FormatError("a label must be an object", path=row.path, where=row.where(*at))
        details = {k: v for k, v in label.items() if k != "annotations"}
        self.meta["labels"].append({"project_id": project_id, **details})
        performance = label.get("performance_details")
        if isinstance(performance, dict) and performance.get("skipped") is True:
            return
        self.labelled = True
        annotations = label.get("annotations", {})
        if not isinstance(annotations, dict):
            raise FormatError("a label's 'annotations' must be an object", path=row.path,
                              where=row.where(*at, "annotations"))
        ref = {"project_id": project_id, "label_id": label.get("id")}
        self._features(row, (*at, "annotations"), annotations, ref)

    def _legacy_label(self, row: Row) -> None:
        data = row.data
        self.meta["labels"].append({k: v for k, v in data.items() if k != "Label"})
        label = data["Label"]
        if label == "Skip" or data.get("Skipped") is True:
            return
        if not isinstance(label, dict):
            raise FormatError(f"'Label' is an object (or \"Skip\"), not {type(label).__name__}", path=row.path,
                              where=row.where("Label"))
        self.labelled = True
        ref = {"label_id": data.get("ID")}
        if "frames" in label:
            raise FormatError("a video label (its frames are at a URL): dlconvert reads Labelbox image labels only",
                              path=row.path, where=row.where("Label", "frames"))
        if {"objects", "classifications"} & set(label):
            self._features(row, ("Label",), label, ref)
            return
        bottom, why = measured_from_bottom(data, self.reader.origin)
        height = self._height() if bottom else None
        try:
            shapes = list(class_shapes(label, height))
        except InvalidAnnotationError as exc:
            self.report.bad_record(_placed(exc, row, ("Label",)), code="labelbox.invalid-object", item=self.filename)
            return
        for pointer, definition in shapes:
            if bottom and height is None and definition.type != "class":
                self.report.bad_record(FormatError(
                    f"this export measures y from the image's bottom ({why}): placing its shapes needs the "
                    f"image's height, and the image {self.filename.lstrip('/')!r} was not found: give --images "
                    "DIR (or ConvertOptions.extras['labelbox_y_origin'])", path=row.path,
                    where=row.where("Label", *pointer)), code="labelbox.image-height-unknown",
                    annotation_type=definition.type, item=self.filename)
                continue
            entry = label[pointer[0]][pointer[1]] if len(pointer) == 2 else None
            meta = {k: v for k, v in entry.items() if k != "geometry"} if isinstance(entry, dict) else {}
            self._add(definition, {**ref, **meta})

    def _features(self, row: Row, at: tuple, annotations: dict, ref: dict) -> None:
        """The objects and classifications of one label (v2, or the legacy ``objects`` layout)."""
        for key in ("objects", "classifications", "relationships"):
            if not isinstance(annotations.get(key, []), list):
                raise FormatError(f"'{key}' must be a list", path=row.path, where=row.where(*at, key))
        for index, obj in enumerate(annotations.get("objects", [])):
            where = (*at, "objects", index)
            try:
                if not isinstance(obj, dict):
                    raise InvalidAnnotationError("an object must be a JSON object", where="")
                shape = object_shape(obj, self.size)
            except InvalidAnnotationError as exc:
                self.report.bad_record(_placed(exc, row, where), code="labelbox.invalid-object",
                                       annotation_type=_kind_of(obj), item=self.filename)
                continue
            if isinstance(shape, Unread):
                self._not_read(shape, _label_or_none(obj), row, where)
                continue
            self._add(shape, {**ref, **feature_meta(obj)})
        for index, feature in enumerate(annotations.get("classifications", [])):
            try:
                if not isinstance(feature, dict):
                    raise InvalidAnnotationError("a classification must be a JSON object", where="")
                definition = classification(feature)
            except InvalidAnnotationError as exc:
                self.report.bad_record(_placed(exc, row, (*at, "classifications", index)),
                                       code="labelbox.invalid-classification", annotation_type="class",
                                       item=self.filename)
                continue
            self._add(definition, {**ref, **feature_meta(feature)})
        relationships = annotations.get("relationships", [])
        if relationships:
            self.meta.setdefault("relationships", []).extend(relationships)

    # -- parts -----------------------------------------------------------------------------------------
    def _add(self, definition, meta: dict) -> None:
        kept = {k: v for k, v in meta.items() if v is not None}
        self.annotations.append(Annotation.new(annotation_definition=definition, automated=False,
                                               metadata={"system": {}, "user": {"labelbox": kept}}))

    def _not_read(self, unread: Unread, label: str | None, row: Row, where: tuple) -> None:
        """An object that is not read, and not bad input either: counted as read and skipped, and listed."""
        self.report.annotations_in[unread.type] += 1
        self.report.skipped[unread.type] += 1
        self.report.issues.append(Issue("skipped", unread.code, unread.message, item=self.filename,
                                        annotation_type=unread.type, label=label, path=str(row.path),
                                        where=row.where(*where)))

    def _height(self) -> float | None:
        """The displayed height of the item's image, read from its file once (None when not found)."""
        if self._image_height is False:
            image = self.reader.image(self.filename)
            try:
                info = image_info(image) if image is not None else None
            except FormatError:
                info = None
            self._image_height = float(info.display_size[1]) if info is not None else None
            if info is not None and self.size == (None, None):
                self.size = info.display_size
        return self._image_height

    def collection(self) -> AnnotationCollection | None:
        """The item, or None (reported) when no label of it was submitted: it was not labelled."""
        if not self.labelled:
            why = "it has no label" if not self.meta["labels"] else "every label of it was skipped"
            self.report.issues.append(Issue("skipped", "labelbox.not-labelled", f"the data row is not an item: {why} "
                                            "(an image without annotations would say it shows nothing)",
                                            item=self.filename, path=str(self.first.path), where=self.first.where()))
            return None
        if self.size == (None, None):
            self._height()  # the size from the image file, when it is found
        width, height = self.size
        item_json = {"id": None, "filename": self.filename, "name": posixpath.basename(self.filename),
                     "dir": posixpath.dirname(self.filename) or "/", "type": "file",
                     "metadata": {"system": {"mimetype": self.mimetype, "width": width, "height": height},
                                  "user": {"labelbox": self.meta}},
                     "annotations": []}
        collection = AnnotationCollection.for_item(item_json, self.first.path)
        collection.annotations.extend(self.annotations)
        collection.mark_read()
        return collection


# -- helpers -----------------------------------------------------------------------------------------
def _filename(external_id: Any, row_data: Any, global_key: Any, data_row_id: Any, *, row: Row) -> str:
    """The item's file name: the external id, else the name in the row data's address, the global key, the id.

    An external id without an extension takes the one of the row data's file of the same stem
    (``2007_007698`` + ``…/2007_007698.jpg``); an address gives its last path segment.
    """
    from_url = _url_name(row_data) if isinstance(row_data, str) else None
    for value in (external_id, from_url, global_key, data_row_id):
        if not isinstance(value, str) or not value.strip():
            continue
        if len(value) > MAX_NAME_CHARS:
            raise FormatError(f"the data row's name is {len(value)} characters; at most {MAX_NAME_CHARS}",
                              path=row.path, where=row.where())
        name = _url_name(value) if "://" in value else value.replace("\\", "/").lstrip("/")
        if name and not posixpath.splitext(name)[1] and from_url and posixpath.splitext(from_url)[0] == \
                posixpath.basename(name):
            name += posixpath.splitext(from_url)[1]
        if name:
            return "/" + name
    raise FormatError("the data row has no external id, row data, global key or id to name its item",
                      path=row.path, where=row.where())


def _url_name(value: str) -> str:
    """The last segment of an address's path, decoded (``…/a%2Fb.jpg?sig`` → ``b.jpg``)."""
    path = urlsplit(value).path if "://" in value else value
    return posixpath.basename(unquote(path).replace("\\", "/"))


def _size(media: dict, key: str, row: Row) -> int | None:
    value = media.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 1:
        raise FormatError(f"the image {key} must be a whole number of pixels, not {value!r}", path=row.path,
                          where=row.where("media_attributes", key))
    return int(value)


def _placed(error: DlconvertError, row: Row, at: tuple) -> FormatError:
    """An error inside a value, placed in the file: its line (or index) and the JSON pointer."""
    return FormatError(error.message, path=row.path, where=row.where(*at) + (error.where or ""))


def _kind_of(obj: Any) -> str:
    """The Dataloop type an object would have had (for counting a bad one)."""
    if isinstance(obj, dict):
        for keys, kind in ((("bounding_box", "bbox"), "box"), (("polygon",), "segment"), (("line",), "polyline"),
                           (("point",), "point"), (("mask", "composite_mask", "instanceURI"), "binary")):
            if any(k in obj for k in keys):
                return kind
    return "unknown"


def _label_or_none(obj: dict) -> str | None:
    try:
        return name_of(obj)
    except InvalidAnnotationError:
        return None

