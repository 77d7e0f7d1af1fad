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

import json
import mimetypes
import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import read_input_bytes
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

_DRIVE = re.compile(r"^[A-Za-z]:")


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """The JSON files of a LabelMe source, one unit each (their paths under the source folder)."""
    from ...dataset import SourcePlan

    root, files = label_files(src, report)
    labelmap = root / LABELMAP_FILENAME
    labels = LabelMap.load(labelmap) if src.is_dir() and labelmap.is_file() else None
    context = (str(root), str(options.images) if options.images is not None else None,
               image_data_choice(options) == "embed")
    return SourcePlan(files, context=context, labels=labels, images_root=options.images or root, image_roots=(root,),
                      one_pass=_may_share_an_image(root, files))


_IMAGE_PATH = re.compile(rb'"imagePath"\s*:\s*"((?:[^"\\]|\\.)*)"')
_IMAGE_DATA = re.compile(rb'"imageData"\s*:\s*"')


def _image_paths(data: bytes) -> list[bytes]:
    """Every ``"imagePath": "…"`` in a LabelMe file's text (its JSON-escaped value). The base64 ``imageData``,
    most of a file that carries its image, is skipped by a search for its closing quote instead of being scanned
    by the pattern (0.34 → 0.02 ms on a 1 MB file); what is cut out lies inside one string, so no key is lost."""
    found = _IMAGE_DATA.search(data)
    if found is not None:
        end = data.find(b'"', found.end())
        if end != -1:  # NUL at the seam: no match can span it ("imagePath" needs a quote on each side)
            data = data[:found.start()] + b"\x00" + data[end + 1:]
    return _IMAGE_PATH.findall(data)


def _may_share_an_image(root: Path, files: list[str]) -> bool:
    """Whether two files may annotate one image — the reader refuses the second one it meets, a decision only one
    ordered pass makes — so the source is read in one process: two files whose ``imagePath`` ends in the same file
    name (an item is named after its image), or a file this look cannot tell (read in full when sharded)."""
    names: set[str] = set()
    for relative in files:
        try:
            path = root / relative
            if path.stat().st_size > MAX_FILE_BYTES:  # the reader refuses it, in order
                return True
            found = _image_paths(read_input_bytes(path, "a LabelMe JSON file"))  # no pipe, no device
            text = json.loads(b'"' + found[0] + b'"') if len(found) == 1 else None
        except (OSError, ValueError, DlconvertError):  # the reader says what is wrong, in order
            return True
        name = posixpath.basename(text.replace("\\", "/")) if isinstance(text, str) else None
        if name is None or name in names:
            return True
        names.add(name)
    return False


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
    source = plan(src, options, report)
    return source.dataset(read_units(source.context, source.units, options, report))


class _Reader:
    """Reads the JSON files of one source folder (``root``: where the items' names start)."""

    def __init__(self, root: Path, images: Path | None, keep_image_data: bool, report: ConversionReport) -> None:
        self.root = root
        self.lookup = ImageLookup.of(images, (root,))
        self.keep_image_data = keep_image_data
        self.report = report
        self.seen: dict[str, Path] = {}  # item filename → the JSON file that gave it

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
        first = self.seen.setdefault(collection.filename, path)
        if first != path:
            raise FormatError(f"annotates the image {collection.filename!r} that {_shown_path(first, self.root)} "
                              f"annotates already: one LabelMe file per image (move or delete the other)", path=path,
                              where="/imagePath")
        size = (collection.height, collection.width) if collection.width and collection.height else None
        for index, raw in enumerate(shapes):
            try:
                collection.annotations.extend(shape_annotations(raw, size, index))
            except DlconvertError as exc:
                label = raw.get("label") if isinstance(raw, dict) else None
                self.report.bad_record(exc.at(path=path, where=f"/shapes/{index}"), code="labelme.invalid-shape",
                                       annotation_type=shape_kind(raw), item=collection.filename,
                                       label=label if isinstance(label, str) else None)
        for name, value in flags.items():
            if value:
                collection.annotations.append(Annotation(Classification(label=name), metadata={
                    "system": {"automated": False}, "user": {}}))
        collection.mark_read()
        return collection

    def _collection(self, data: dict, path: Path, relative: str, image_path: str) -> AnnotationCollection:
        """The item: its name, image, size and the file's values kept for the way back."""
        written = image_path.replace("\\", "/")
        name = posixpath.basename(written)
        filename, declared, beside = self._place(path, relative, written, data.get("imageData") is not None)
        kept: dict[str, Any] = {key: data[key] for key in ("version", "flags") if data.get(key)}
        if image_path != name:
            kept["imagePath"] = image_path
        if relative != posixpath.splitext(filename[1:])[0] + ".json":
            kept["json"] = relative
        other = {key: value for key, value in data.items() if key not in TOP_KEYS}
        if other:
            kept["other"] = other
        if data.get("version") is not None and not isinstance(data["version"], str):
            raise FormatError(f"'version' is text, not {kind_of(data['version'])}", path=path, where="/version")
        width, height = _declared_size(data, path)
        image_data = data.get("imageData")
        actual = None
        if image_data is not None:
            if not isinstance(image_data, str):
                raise FormatError(f"'imageData' is a base64 image or null, not {kind_of(image_data)}", path=path,
                                  where="/imageData")
            try:
                actual = image_data_size(image_data)
                # kept to write back: asked for, or LabelMe needs it (imagePath names no file)
                if self.keep_image_data or declared is None:
                    validate_image_data(image_data)
                    kept["imageData"] = image_data
            except InvalidAnnotationError as exc:
                raise FormatError(exc.message, path=path, where=exc.where) from None
            what = "the embedded image"
        image = declared or beside
        if actual is None and image is not None:
            try:
                info = image_info(image)
            except FormatError:  # an unreadable image: the declared size stands (masks say if there is none)
                info = None
            actual, what = (info.display_size, f"the image {image.name}") if info is not None else (None, "")
        if actual is not None:
            if width is not None and height is not None and (width, height) != actual:
                self.report.issues.append(Issue(
                    "warning", "labelme.size-mismatch", f"imageWidth × imageHeight say {width}×{height}, {what} "
                    f"is {actual[0]}×{actual[1]}: the image's size is used, as LabelMe does", item=filename,
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
        collection = AnnotationCollection.for_item(item_json, path)
        if image is None and "imageData" in kept:  # no image file: LabelMe shows the one the file carries
            collection.embedded_image = kept["imageData"]
        paired = image or (Path(written) if Path(written).is_absolute() else path.parent / written)
        if paired.suffix.lower() in IMAGE_EXTENSIONS:
            collection.image_path = str(paired)
        if width is None or height is None:
            self._size_from_image(collection)
        return collection

    def _place(self, path: Path, relative: str, written: str, embedded: bool) -> tuple[str, Path | None, Path | None]:
        """``(filename, declared, beside)``: the item's name, the image file ``imagePath`` names (None: no such
        file) and, when it names none, the file of that name beside the JSON file (LabelMe users' other habit).

        The name is where the image is under the source folder (the JSON file's folder joined with
        ``imagePath``, normalised: ``../images/a.jpg`` from ``annotations/`` is ``/images/a.jpg``), also
        when that file is missing and the JSON file embeds no image (it is where LabelMe looks). An image
        outside the source folder, found only beside the JSON file, or embedded while ``imagePath`` names
        no file (LabelMe shows the embedded one) is named by the JSON file's folder and the image's name
        (``/annotations/a.jpg``)."""
        directory = posixpath.dirname(relative)
        name = posixpath.basename(written)
        fallback = "/" + (posixpath.join(directory, name) if directory else name)
        if _DRIVE.match(written) and not Path(written).is_absolute():
            return fallback, None, _file_or_none(path.parent / name)  # another system's drive: never this one's
        if Path(written).is_absolute():
            target = Path(written)
            inside = os.path.relpath(os.path.abspath(written), os.path.abspath(self.root)).replace(os.sep, "/")
        else:
            target = path.parent / written
            inside = posixpath.normpath(posixpath.join(directory or ".", written))
        declared = _file_or_none(target)
        leaves = inside == ".." or inside.startswith("../") or inside.startswith("/")
        if declared is not None:
            return (fallback if leaves else "/" + inside), declared, None
        beside = _file_or_none(path.parent / name)
        return (fallback if leaves or beside is not None or embedded else "/" + inside), None, beside

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
        system = collection.source_item["metadata"]["system"]
        system["width"], system["height"] = collection.width, collection.height


def _file_or_none(path: Path) -> Path | None:
    """``path`` when it is an existing regular file (links followed), else None."""
    try:
        return path if path.is_file() else None
    except OSError:
        return None


def _shown_path(path: Path, root: Path) -> str:
    """A JSON file as a message names it: relative to the source folder."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


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
