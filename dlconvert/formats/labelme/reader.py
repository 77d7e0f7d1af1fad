"""Reading LabelMe: one item per JSON file, every field checked, each file on its own (sharded reading).

The item: ``filename`` is ``/<the file's folder under the source>/<imagePath's file name>`` (so an
item keeps its place in the tree, whatever folder ``imagePath`` points into); the image file is
paired as LabelMe finds it — ``imagePath`` relative to the JSON file's folder (``../images/a.jpg``
of ``labelme --output``; an absolute path as given), Windows ``\\`` separators read as ``/`` —
into ``collection.image_path``, and the source folder is the dataset's image root (the image
beside its JSON file). The size is ``imageWidth`` × ``imageHeight``; when the file embeds its
image, that image's header says the size (LabelMe's own rule when the two disagree, listed as a
warning, ``labelme.size-mismatch``); without either, the paired image's header. Sizes are those of
the image as LabelMe shows it (EXIF applied).

Image flags that are true become Classification annotations (after the shapes); every flag is
kept in the item's metadata, in order (:mod:`.source`). A file that is not JSON, not an object,
or has no ``shapes`` list or ``imagePath`` fails as a whole (``labelme.invalid-file``); a bad shape
is a bad record (``labelme.invalid-shape``), the other shapes of its file are read.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._json import read_json_file
from ...annotation import Annotation
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError, InvalidAnnotationError, json_pointer
from ...geometry import Classification
from ...images import IMAGE_EXTENSIONS, ImageLookup, image_info
from ...labels import LABELMAP_FILENAME, LabelMap
from ...report import Issue
from .embedded import image_data_size, validate_image_data
from .files import LOOKS_FOR, MAX_FILE_BYTES, label_files
from .shapes import kind_of, shape_annotations, shape_kind
from .source import TOP_KEYS, image_data_choice

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset, SourcePlan
    from ...report import ConversionReport

__all__ = ["LOOKS_FOR", "plan", "read", "read_units"]


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """The JSON files of a LabelMe source, one unit each (their paths under the source folder)."""
    from ...dataset import SourcePlan

    root, files = label_files(src)
    labelmap = root / LABELMAP_FILENAME
    labels = LabelMap.load(labelmap) if src.is_dir() and labelmap.is_file() else None
    context = (str(root), str(options.images) if options.images is not None else None,
               image_data_choice(options) == "embed")
    return SourcePlan(files, context=context, labels=labels, images_root=options.images or root, image_roots=(root,))


def read_units(context: tuple, units: list, options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """The items of a run of JSON files, read when asked for."""
    root, images, keep_image_data = context
    reader = _Reader(Path(root), Path(images) if images is not None else None, keep_image_data, report)
    for relative in units:
        path = Path(root) / relative
        try:
            collection = reader.item(path, relative)
        except DlconvertError as exc:
            report.failed(exc.at(path=path), code="labelme.invalid-file")
            continue
        if collection is not None:
            yield collection


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a LabelMe file or folder, one item per JSON file, lazily."""
    from ...dataset import Dataset

    source = plan(src, options, report)
    return Dataset(read_units(source.context, source.units, options, report), labels=source.labels,
                   images_root=source.images_root, total=len(source.units), image_roots=source.image_roots)


class _Reader:
    """Reads the JSON files of one source folder (``root``: where the items' names start)."""

    def __init__(self, root: Path, images: Path | None, keep_image_data: bool, report: ConversionReport) -> None:
        self.lookup = ImageLookup.of(images, (root,))
        self.keep_image_data = keep_image_data
        self.report = report

    def item(self, path: Path, relative: str) -> AnnotationCollection | None:
        """The item of one JSON file (None, with a warning, for a JSON file that is no LabelMe file)."""
        try:
            size = path.stat().st_size
        except OSError as exc:  # a dangling link, a file removed meanwhile
            raise FormatError(f"cannot read the file: {exc.strerror}", path=path) from None
        if size > MAX_FILE_BYTES:
            raise FormatError(f"the file is {size} bytes, more than a LabelMe file dlconvert reads ({MAX_FILE_BYTES})",
                              path=path)
        data = read_json_file(path)
        if not isinstance(data, dict) or ("shapes" not in data and "imagePath" not in data):
            self.report.issues.append(Issue("warning", "labelme.not-labelme", "a JSON file with no 'shapes' and no "
                                            "'imagePath': not a LabelMe file, left out", path=str(path)))
            return None
        shapes = data.get("shapes")
        if not isinstance(shapes, list):
            raise FormatError(f"'shapes' is a list of shapes, not {kind_of(shapes)}", path=path, where="/shapes")
        image_path = data.get("imagePath")
        if not isinstance(image_path, str) or not posixpath.basename(image_path.replace("\\", "/")):
            raise FormatError(f"'imagePath' names the image file (text), not {image_path!r}", path=path,
                              where="/imagePath")
        flags = _flags(data, path)
        collection = self._collection(data, path, relative, image_path)
        size = (collection.height, collection.width) if collection.width and collection.height else None
        for index, raw in enumerate(shapes):
            try:
                collection.annotations.extend(shape_annotations(raw, size))
            except DlconvertError as exc:
                self.report.bad_record(exc.at(path=path, where=f"/shapes/{index}"), code="labelme.invalid-shape",
                                       annotation_type=shape_kind(raw), item=collection.filename)
        for name, value in flags.items():
            if value:
                collection.annotations.append(Annotation(Classification(label=name), metadata={
                    "system": {"automated": False}, "user": {}}))
        collection._count_read = len(collection.annotations)
        return collection

    def _collection(self, data: dict, path: Path, relative: str, image_path: str) -> AnnotationCollection:
        """The item: its name, image, size and the file's values kept for the way back."""
        written = image_path.replace("\\", "/")
        name = posixpath.basename(written)
        directory = posixpath.dirname(relative)
        filename = "/" + (posixpath.join(directory, name) if directory else name)
        kept: dict[str, Any] = {key: data[key] for key in ("version", "flags") if data.get(key)}
        if image_path != name:
            kept["imagePath"] = image_path
        if posixpath.splitext(posixpath.basename(relative))[0] != posixpath.splitext(name)[0]:
            kept["json"] = posixpath.basename(relative)
        other = {key: value for key, value in data.items() if key not in TOP_KEYS}
        if other:
            kept["other"] = other
        if data.get("version") is not None and not isinstance(data["version"], str):
            raise FormatError(f"'version' is text, not {kind_of(data['version'])}", path=path, where="/version")
        width, height = _declared_size(data, path)
        image_data = data.get("imageData")
        if image_data is not None:
            if not isinstance(image_data, str):
                raise FormatError(f"'imageData' is a base64 image or null, not {kind_of(image_data)}", path=path,
                                  where="/imageData")
            try:
                actual = image_data_size(image_data)
                if self.keep_image_data:
                    validate_image_data(image_data)
                    kept["imageData"] = image_data
            except InvalidAnnotationError as exc:
                raise FormatError(exc.message, path=path, where=exc.where) from None
            if width is not None and height is not None and (width, height) != actual:
                self.report.issues.append(Issue(
                    "warning", "labelme.size-mismatch", f"imageWidth × imageHeight say {width}×{height}, the embedded "
                    f"image is {actual[0]}×{actual[1]}: the image's size is used, as LabelMe does", item=filename,
                    path=str(path)))
            width, height = actual
        guessed = mimetypes.guess_type(name)[0] or ""
        item_json = {
            "id": None, "filename": filename, "name": name, "dir": posixpath.dirname(filename), "type": "file",
            # every LabelMe file annotates an image, whatever its extension says
            "metadata": {"system": {"mimetype": guessed if guessed.startswith("image/") else "image/jpeg",
                                    "width": width, "height": height}},
            "annotations": [],
        }
        if kept:
            item_json["metadata"]["user"] = {"labelme": kept}
        collection = AnnotationCollection(_item_json=item_json)
        collection._read_item_fields(item_json, path)
        paired = Path(written) if Path(written).is_absolute() else path.parent / written
        if paired.suffix.lower() in IMAGE_EXTENSIONS:
            collection.image_path = str(paired)
        if width is None or height is None:
            self._size_from_image(collection)
        return collection

    def _size_from_image(self, collection: AnnotationCollection) -> None:
        """The size of an item whose file states none, from its image's header (as LabelMe shows it)."""
        image = self.lookup.find(collection)
        if image is None:
            return
        try:
            info = image_info(image)
        except FormatError:  # an unreadable image: the shapes still hold without a size (masks say so)
            return
        collection.width, collection.height = info.display_size
        system = collection._item_json["metadata"]["system"]
        system["width"], system["height"] = collection.width, collection.height


def _declared_size(data: dict, path: Path) -> tuple[int | None, int | None]:
    """``imageWidth``, ``imageHeight``: positive whole numbers, or null/absent."""
    out = []
    for key in ("imageWidth", "imageHeight"):
        value = data.get(key)
        whole = type(value) is int or (type(value) is float and value.is_integer())
        if value is not None and (not whole or value < 1):
            raise FormatError(f"{key!r} is a positive whole number of pixels or null, not {value!r}", path=path,
                              where=json_pointer(key))
        out.append(None if value is None else int(value))
    return out[0], out[1]


def _flags(data: dict, path: Path) -> dict:
    """The image flags: name → true/false (LabelMe's image-level flags)."""
    flags = data.get("flags")
    if flags is None:
        return {}
    if not isinstance(flags, dict):
        raise FormatError(f"'flags' is an object of true/false values, not {kind_of(flags)}", path=path, where="/flags")
    for key, value in flags.items():
        if type(value) is not bool:
            raise FormatError(f"an image flag is true or false, not {value!r}", path=path,
                              where=json_pointer("flags", key))
    return flags
