"""VOC → Dataloop model: one item per XML file (and per segmentation PNG without one).

An ``<object>`` is one annotation: a box, or, when ``SegmentationObject/<stem>.png`` has pixels of
its number (objects are numbered 1, 2, … in XML order, invalid ones counted), a mask
(``Segmentation``) with the object's label and attributes; the ``<bndbox>`` then stays with the
mask in ``metadata.user.voc`` (``bndbox``, ``origin``, and the fingerprint of the mask it belongs
to), so the same numbers are written back while the mask is unchanged. Pixels of a number the XML
has no object for are a bad record (``voc.orphan-mask``). Class pixels that no object claims
(a ``SegmentationClass`` PNG without object PNG, as semantic datasets ship) become one mask per
class value, marked ``metadata.user.voc.segmentation = "class"`` (written back to the class PNG
only, not as objects). Without an XML, each object number of the object PNG is a mask whose label
is the one class value under its pixels (void aside). Masks must have the image's size.
"""

from __future__ import annotations

import dataclasses
import mimetypes
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...annotation import Annotation
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError
from ...geometry import Box, Segmentation
from ...images import find_image, image_info
from .._fingerprint import geometry_fingerprint
from .bndbox import FINGERPRINT_KEY, edges_of
from .layout import Layout, find_layout
from .masks import VOID, ClassTable, dataset_labels, read_index_png
from .safe_xml import element_text, number, parse_xml, place

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset, SourcePlan
    from ...report import ConversionReport

__all__ = ["CLASS_REGION", "OBJECT_TAGS", "plan", "read", "read_back_text", "read_units"]

#: ``metadata.user.voc.segmentation`` of a class region (SegmentationClass pixels no object claims).
CLASS_REGION = "class"
_FLAG_TAGS = ("truncated", "difficult", "occluded")
#: Attributes written as tags of the ``<object>`` (the others go to CVAT's ``<attributes>`` block).
OBJECT_TAGS = ("pose", *_FLAG_TAGS)
_DOCUMENT_TAGS = ("folder", "filename", "path", "source", "size", "segmented", "object")


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """A VOC source cut for sharded reading: one unit per item — ``["xml", path under the XML folder]`` or
    ``["png", stem]`` (segmentation PNGs without an XML) — and the label map and class table.

    The label map is the one the source states (``--labels``, ``labelmap.json``, ``labelmap.txt``,
    the VOC classes beside class PNGs), else None: labels are then met as the XML files are read,
    and a writer that numbers labels in the order met leaves the job to one ordered pass
    (``NeedsSequential``), so the order is the one pass's.
    """
    from ...dataset import SourcePlan

    layout = find_layout(src)
    label_map, classes = dataset_labels(layout.root, options.labels, layout.class_dir is not None)
    units = [["xml", path.relative_to(layout.xml_root).as_posix()] for path in layout.xml_files]
    units += [["png", stem] for stem in layout.mask_stems]
    context = (dataclasses.replace(layout, xml_files=[], mask_stems=[]), classes)  # the lists travel as units
    images_root = options.images or (layout.image_roots[0] if layout.image_roots else None)
    return SourcePlan(units, context=context, labels=label_map, images_root=images_root,
                      image_roots=layout.image_roots)


def read_units(context: tuple[Layout, ClassTable], units: list, options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """The items of a run of units, read when asked for."""
    layout, classes = context
    reader = _Reader(layout, classes, options, report)
    for kind, name in units:
        if kind == "xml":
            path = layout.xml_root / name
            try:
                yield reader.xml_item(path)
            except DlconvertError as exc:
                report.failed(exc.at(path=path), code="voc.invalid-file")
            continue
        try:
            yield reader.mask_item(name)
        except DlconvertError as exc:
            report.failed(exc.at(path=reader.pngs(name)[0] or reader.pngs(name)[1]), code="voc.invalid-file")


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a VOC folder (or one XML file) lazily, one item per XML file or PNG-only stem."""
    source = plan(src, options, report)
    return source.dataset(read_units(source.context, source.units, options, report))


class _Reader:
    def __init__(self, layout: Layout, classes: ClassTable, options: ConvertOptions,
                 report: ConversionReport) -> None:
        self.layout = layout
        self.classes = classes
        self.origin = options.voc_origin
        self.report = report
        self.image_roots = tuple(r for r in (options.images, *layout.image_roots) if r is not None)

    # -- items -------------------------------------------------------------------------------------
    def xml_item(self, path: Path) -> AnnotationCollection:
        from lxml import etree

        document = parse_xml(path)
        if document.tag != "annotation":
            raise FormatError(f"the root element is <{document.tag}>, not <annotation>", path=path, where="line 1")
        relative = path.relative_to(self.layout.xml_root).with_suffix("").as_posix()
        directory = posixpath.dirname(relative)
        name = element_text(document, "filename") or posixpath.basename(relative) + ".jpg"
        filename = "/" + posixpath.join(directory, name) if directory else "/" + name
        width = height = depth = None
        size = document.find("size")
        if size is not None:
            width, height, depth = (_size_value(size, tag, path) for tag in ("width", "height", "depth"))
        orientation = None
        if width is None and height is None:  # no <size>: the image's header tells
            image = self._image(filename)
            try:
                width, height, orientation = image_info(image) if image is not None else (None, None, None)
            except FormatError:  # an unreadable image: the annotations still hold without a size
                pass
        folder = document.find("folder")  # an empty <folder></folder> stays empty (not the item's directory)
        voc_meta: dict[str, Any] = {"folder": (folder.text or "").strip() if folder is not None else None}
        if relative != posixpath.splitext(filename.lstrip("/"))[0]:
            voc_meta["stem"] = relative  # <filename> names another image: written back under the XML's own name
        for key in ("path", "segmented"):
            if document.find(key) is not None:
                voc_meta[key] = element_text(document, key) or ""
        if depth is not None:
            voc_meta["depth"] = depth
        extra = [etree.tostring(child, encoding="unicode").strip() for child in document
                 if child.tag not in _DOCUMENT_TAGS and isinstance(child.tag, str)]
        if document.find("source") is not None:
            extra.insert(0, etree.tostring(document.find("source"), encoding="unicode").strip())
        if extra:
            voc_meta["extra_xml"] = extra
        objects: list[tuple[int, Annotation, list[float]] | None] = []
        for index, element in enumerate(document.findall("object"), start=1):
            try:
                objects.append((index, *self._object(element, path)))
            except FormatError as exc:
                self.report.bad_record(exc, code="voc.invalid-object", annotation_type="box", item=filename)
                objects.append(None)
        object_values, class_values = self._regions(relative, width, height)
        if width is None and height is None:
            for values in (object_values, class_values):
                if values is not None:
                    height, width = values.shape
        collection = _collection(filename, width, height, orientation, voc_meta, path)
        annotations = []
        for index, annotation, raw in filter(None, objects):
            if object_values is not None and index < VOID:
                mask = object_values == index
                if mask.any():
                    annotation = self._object_mask(mask, annotation, raw)
            annotation.object_id = index
            annotations.append(annotation)
        if object_values is not None:
            self._orphans(object_values, len(objects), filename, relative)
        annotations.extend(self._class_regions(class_values, object_values, relative))
        return _filled(collection, annotations)

    def mask_item(self, stem: str) -> AnnotationCollection:
        """An item of segmentation PNGs without an XML: each object number a mask, labelled by its class."""
        object_values, class_values = self._regions(stem, None, None)
        height, width = (object_values if object_values is not None else class_values).shape
        image = self._image("/" + stem)
        extension = image.suffix if image is not None else ".jpg"
        collection = _collection("/" + stem + extension, width, height, None, {}, self.pngs(stem)[0] or
                                 self.pngs(stem)[1])
        annotations = []
        if object_values is not None:
            object_png, class_png = self.pngs(stem)
            if class_values is None:
                raise FormatError("the objects' classes are unknown: no SegmentationClass PNG beside it",
                                  path=object_png)
            for value in _present(object_values):
                if value in (0, VOID):
                    continue
                mask = object_values == value
                found = [v for v in _present(class_values[mask]) if v != VOID]
                if len(found) != 1 or found[0] == 0:
                    self.report.bad_record(FormatError(
                        f"object {value} covers class values {found} (one class expected)", path=class_png),
                        code="voc.invalid-object", annotation_type="binary", item=collection.filename)
                    continue
                annotation = Annotation.new(annotation_definition=Segmentation(
                    geo=mask, label=self._class_name(found[0], class_png)), automated=False)
                annotation.object_id = value
                annotations.append(annotation)
        annotations.extend(self._class_regions(class_values, object_values, stem))
        return _filled(collection, annotations)

    # -- parts -------------------------------------------------------------------------------------
    def pngs(self, stem: str) -> tuple[Path | None, Path | None]:
        """The object and class PNGs of an item, where they exist."""
        paths = []
        for directory in (self.layout.object_dir, self.layout.class_dir):
            path = directory / f"{stem}.png" if directory is not None else None
            paths.append(path if path is not None and path.is_file() else None)
        return paths[0], paths[1]

    def _image(self, filename: str) -> Path | None:
        for root in self.image_roots:
            found = find_image(root, filename)
            if found is not None:
                return found
        return None

    def _regions(self, stem: str, width: int | None, height: int | None):
        """The object and class PNGs' values (or None), checked against the image size and each other."""
        out = []
        for png, colours in zip(self.pngs(stem), (None, self.classes.colours), strict=True):
            values = read_index_png(png, colours) if png is not None else None
            if values is not None:
                expected = (height, width) if width and height else (out[0].shape if out and out[0] is not None
                                                                     else None)
                if expected is not None and values.shape != expected:
                    raise FormatError(f"the mask is {values.shape[1]}×{values.shape[0]} pixels, the image "
                                      f"{expected[1]}×{expected[0]}", path=png)
            out.append(values)
        return out[0], out[1]

    def _object(self, element, path: Path) -> tuple[Annotation, list[float]]:
        """An ``<object>`` as a box annotation (its flags and simple tags as attributes), and its numbers."""
        from lxml import etree

        where = place(element)
        label = element_text(element, "name")
        if not label:
            raise FormatError("<object> has no <name>", path=path, where=where)
        bndbox = element.find("bndbox")
        if bndbox is None:
            raise FormatError("<object> has no <bndbox>", path=path, where=where)
        raw = [number(bndbox, tag, path, place(bndbox)) for tag in ("xmin", "ymin", "xmax", "ymax")]
        attributes: dict[str, Any] = {}
        extra: list[str] = []
        for child in element:
            if not isinstance(child.tag, str) or child.tag in ("name", "bndbox"):
                continue
            if child.tag == "attributes":
                for attribute in child.iter("attribute"):
                    key, value = element_text(attribute, "name"), element_text(attribute, "value")
                    if key:
                        attributes[key] = value if value is not None else ""
            elif len(child) == 0:
                attributes[child.tag] = _tag_value(child.tag, (child.text or "").strip())
            else:
                extra.append(etree.tostring(child, encoding="unicode").strip())
        left, top, right, bottom = edges_of(raw, self.origin)
        box = Box(left=left, top=top, right=right, bottom=bottom, label=label, attributes=attributes)
        voc: dict[str, Any] = {"extra_xml": extra} if extra else {}
        if self.origin == 1 and not all(v.is_integer() for v in raw):
            voc.update(self._kept(raw, box))  # pixel indices that are not integers: written back as they are
        annotation = Annotation.new(annotation_definition=box, automated=False,
                                    metadata={"system": {}, "user": {"voc": voc} if voc else {}})
        return annotation, raw

    def _kept(self, raw: list[float], definition) -> dict:
        """The ``<bndbox>`` numbers as read, kept with the shape they belong to."""
        return {"bndbox": raw, "origin": self.origin, FINGERPRINT_KEY: geometry_fingerprint(definition)}

    def _object_mask(self, mask: np.ndarray, box: Annotation, raw: list[float]) -> Annotation:
        """The object as its mask, with the box's label and attributes and its ``<bndbox>`` kept."""
        definition = box.annotation_definition
        segmentation = Segmentation(geo=mask, label=definition.label, attributes=dict(definition.attributes))
        voc = {key: value for key, value in box.metadata.get("user", {}).get("voc", {}).items()
               if key == "extra_xml"}
        voc.update(self._kept(raw, segmentation))
        return Annotation.new(annotation_definition=segmentation, automated=False,
                              metadata={"system": {}, "user": {"voc": voc}})

    def _orphans(self, object_values: np.ndarray, count: int, item: str, stem: str) -> None:
        """Object numbers with pixels but no ``<object>``: bad records."""
        for value in _present(object_values):
            if count < value < VOID:
                self.report.bad_record(FormatError(
                    f"object {value} has pixels, but the XML has {count} object{'s' if count != 1 else ''}",
                    path=self.pngs(stem)[0]), code="voc.orphan-mask", annotation_type="binary", item=item)

    def _class_regions(self, class_values: np.ndarray | None, object_values: np.ndarray | None,
                       stem: str) -> list[Annotation]:
        """One mask per class value over the class pixels no object claims."""
        if class_values is None:
            return []
        free = None if object_values is None else (object_values == 0) | (object_values == VOID)
        out = []
        for value in _present(class_values):
            if value in (0, VOID):
                continue
            mask = class_values == value if free is None else (class_values == value) & free
            if not mask.any():
                continue
            segmentation = Segmentation(geo=mask, label=self._class_name(value, self.pngs(stem)[1]))
            out.append(Annotation.new(annotation_definition=segmentation, automated=False,
                                      metadata={"system": {}, "user": {"voc": {"segmentation": CLASS_REGION}}}))
        return out

    def _class_name(self, value: int, png: Path | None) -> str:
        if value not in self.classes.names:
            raise FormatError(f"class index {value} is not a class of the label map", path=png)
        return self.classes.names[value]


def _tag_value(tag: str, text: str) -> Any:
    """A simple tag's value: ``0``/``1`` of the VOC flags as integers, anything else as text."""
    return int(text) if tag in _FLAG_TAGS and text in ("0", "1") else text


def read_back_text(label: str | None, attributes: dict) -> tuple[str, dict]:
    """The label and attributes a reader gets back from an ``<object>`` written with these (XML text is
    stripped, values are text, an attribute without a name is no attribute)."""
    back: dict[str, Any] = {}
    for key, value in attributes.items():
        text = "" if value is None else str(value).strip()
        if key in OBJECT_TAGS:
            back[key] = _tag_value(key, text)
        elif str(key).strip():
            back[str(key).strip()] = text
    return (label or "unlabeled").strip(), back


def _collection(filename: str, width: int | None, height: int | None, orientation: int | None,
                voc_meta: dict, origin: Path | None) -> AnnotationCollection:
    item_json = {"id": None, "filename": filename, "name": posixpath.basename(filename),
                 "dir": posixpath.dirname(filename) or "/", "type": "file",
                 "metadata": {"system": {"mimetype": mimetypes.guess_type(filename)[0] or "image/jpeg",
                                         "width": width, "height": height,
                                         **({"exif": {"Orientation": orientation}} if orientation not in (None, 1)
                                            else {})},
                              "user": {"voc": voc_meta}},
                 "annotations": []}
    collection = AnnotationCollection.for_item(item_json, origin)
    return collection


def _filled(collection: AnnotationCollection, annotations: list[Annotation]) -> AnnotationCollection:
    collection.annotations.extend(annotations)
    collection.mark_read()
    return collection


def _size_value(size, tag: str, path: Path) -> int | None:
    import math

    text = element_text(size, tag)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"<size><{tag}> is not a number: {text!r}", path=path, where=place(size)) from None
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise FormatError(f"<size><{tag}> must be a non-negative integer", path=path, where=place(size))
    return int(value) or None


def _present(values: np.ndarray) -> list[int]:
    """The distinct values of an index picture, ascending: OpenCV's histogram for 8-bit ones, 5× ``np.unique`` (which
    hashes every pixel: 0.16 s for a 36-megapixel mask)."""
    if values.dtype == np.uint8 and values.size:
        import cv2

        counts = cv2.calcHist([np.ascontiguousarray(values).reshape(-1, 1)], [0], None, [256], [0, 256])
        return np.flatnonzero(counts.reshape(-1)).tolist()
    return [int(v) for v in np.unique(values)]
