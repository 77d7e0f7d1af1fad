"""Pascal VOC: one XML file per image, optional segmentation PNGs.

Layout (read and written)::

    root/
    ├── Annotations/<remote dir>/<stem>.xml
    ├── ImageSets/Main/<split>.txt              image stems, one per line
    ├── SegmentationClass/<stem>.png            palette PNG: pixel = class index (0 background, 255 void)
    ├── SegmentationObject/<stem>.png           palette PNG: pixel = object number in the XML (1, 2, …)
    ├── JPEGImages/                             images (read for sizes when <size> is missing)
    └── labelmap.txt                            Datumaro-style ``name:r,g,b::`` lines (class order)

A folder of XML files without this layout is read too (e.g. Roboflow's ``train/*.xml``).

``<bndbox>`` convention (``voc_origin``): 1 (default) is the VOC devkit's — 1-based, inclusive
pixel indices, so a box over pixels 0…9 (continuous 0…10) is ``xmin=1 … xmax=10``; reading
subtracts 1 from xmin/ymin only, as detectron2 does. 0 is for tools that write 0-based
continuous values (globox, Datumaro). Integral values are written as integers, others as the
shortest exact decimal (never rounded away).

Per object: ``name`` → label; ``pose``, ``truncated``, ``difficult``, ``occluded`` and other
simple tags, plus CVAT's ``<attributes><attribute><name/><value/></attribute></attributes>``,
→ v2 attributes (``0``/``1`` of truncated/difficult/occluded as integers); nested elements
(``<part>``, ``<actions>``, ``<point>``) and unknown document-level elements are kept verbatim
(``metadata.user.voc``) and written back. With segmentation PNGs, each object's mask becomes a
Segmentation sharing the box's object id; a class PNG without object PNG gives one
Segmentation per class (pixel value = the label map's instance id, else the VOC class index).

Writing: boxes (axis-aligned; a rotated box as the box around its corners, approximated);
polygons, masks and ellipses as objects with their bounds plus their pixels in both PNGs
(``segmented`` 1); with ``voc_masks`` off (``--no-voc-masks``), no PNGs: those shapes are
written as their boxes and listed as approximated, and a box's own mask is reported. Not
representable, so skipped and reported: points, polylines, cubes, poses, classifications,
subtitles, labels or attributes with characters XML cannot hold. Each item goes to
``Annotations/<its XML's own name, else its filename's stem>.xml``; two items on one file are an
error. ``<size>`` is written when the size is known.

Untrusted input: XML (files, and fragments kept in item metadata) is parsed with entities, DTDs
and network access off; an ``<!ENTITY`` is refused before parsing, any DOCTYPE after (no XXE, no
billion laughs). XML is written with lxml (escaped), never string templates; nothing is ``eval``-ed.
"""

from __future__ import annotations

import functools
import math
import mimetypes
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._io import atomic_write, read_input_bytes, safe_join
from ..annotation import Annotation
from ..collection import AnnotationCollection
from ..errors import DlconvertError, FormatError, OutputError
from ..geometry import Box, Segmentation
from ..geometry.segmentation import MAX_MASK_PIXELS
from ..images import find_image, image_info
from ..labels import LABELMAP_FILENAME, LabelInfo, LabelMap, parse_color, stable_color
from . import FormatSpec
from ._metadata import section

if TYPE_CHECKING:
    from ..dataset import ConvertOptions, Dataset, ShardOutput
    from ..report import ConversionReport

__all__ = ["FORMAT", "VOC_CLASSES", "read", "voc_colormap", "write"]

VOC_CLASSES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
               "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
               "tvmonitor")
_FLAG_TAGS = ("truncated", "difficult", "occluded")
_OBJECT_TAGS = ("name", "pose", "truncated", "difficult", "occluded", "bndbox", "attributes")
_DOCUMENT_TAGS = ("folder", "filename", "path", "source", "size", "segmented", "object")
_VOID = 255


@functools.lru_cache(maxsize=4)
def voc_colormap(n: int = 256) -> np.ndarray:
    """The VOC devkit's palette: ``(n, 3)`` uint8, entry i the colour of class i (bit-interleaved)."""
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    cmap.setflags(write=False)
    return cmap


# ==== reading ======================================================================================
def _parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True)


_REFUSED_DTD = "XML with a DTD or entity declarations is refused (entities are never expanded)"


def parse_xml(path: Path):
    """Parse untrusted XML safely; a DOCTYPE with entities is refused outright."""
    return _parse_bytes(read_input_bytes(path, "an XML file"), path)


def _parse_bytes(data: bytes, path, where: str | None = None):
    from lxml import etree

    declaration = data.find(b"<!ENTITY")
    if declaration >= 0:  # refused before parsing: libxml2 never sees the entities (no billion laughs)
        line = data.count(b"\n", 0, declaration) + 1
        raise FormatError(_REFUSED_DTD, path=path, where=where or f"line {line}")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        message = " ".join(str(exc.msg).split())  # libxml2 messages may span lines
        raise FormatError(f"invalid XML: {message}", path=path,
                          where=where or (f"line {line}" if line else None)) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise FormatError(_REFUSED_DTD, path=path, where=where or "line 1")
    return root


def _fragment(text: Any, source: str | None, where: str):
    """An element kept verbatim in ``metadata.user.voc`` (untrusted: it comes from the item JSON)."""
    if not isinstance(text, str):
        raise FormatError(f"expected an XML fragment, got {type(text).__name__}", path=source, where=where)
    return _parse_bytes(text.encode("utf-8"), source, where)


def _text(element, tag: str) -> str | None:
    child = element.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def _number(element, tag: str, path: Path, where: str) -> float:
    text = _text(element, tag)
    if text is None:
        raise FormatError(f"<{tag}> is missing", path=path, where=where)
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"<{tag}> is not a number: {text!r}", path=path, where=where) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FormatError(f"<{tag}> is not finite", path=path, where=where)
    return value


def _where(element) -> str:
    return f"line {element.sourceline}" if element.sourceline else element.tag


def _folder(root: Path, name: str) -> Path:
    """``root/<name>`` as VOC spells it, or its snake_case spelling (``segmentation_class``) if that exists."""
    snake = "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))
    for candidate in (name, snake):
        if (root / candidate).is_dir():
            return root / candidate
    return root / name


def _find_layout(src: Path) -> tuple[Path, list[Path]]:
    """The dataset root and its XML files (sorted)."""
    if src.is_file():
        return src.parent, [src]
    annotations = _folder(src, "Annotations")
    folder = annotations if annotations.is_dir() else src
    files = sorted((p for p in folder.rglob("*.xml") if not p.name.startswith(".")),
                   key=lambda p: p.relative_to(folder).as_posix())
    return src, files


def _read_labelmap(root: Path) -> LabelMap | None:
    """``labelmap.json`` or Datumaro's ``labelmap.txt`` (``name:r,g,b:parts:actions``) in class order."""
    if (root / LABELMAP_FILENAME).is_file():
        return LabelMap.load(root / LABELMAP_FILENAME)
    path = root / "labelmap.txt"
    if not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"labelmap.txt must be UTF-8 text (byte 0x{exc.object[exc.start]:02x})", path=path) from None
    labels = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        try:
            color = parse_color([int(v) for v in rest.split(":")[0].split(",")]) if rest.split(":")[0] else None
        except ValueError:
            raise FormatError(f"bad colour {rest.split(':')[0]!r} (expected r,g,b)", path=path,
                              where=f"line {number}") from None
        if name == "background":
            continue
        labels.append(LabelInfo(name, len(labels) + 1, color or stable_color(name)))
    return LabelMap(labels)


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a VOC folder (or one XML file) lazily, one item per XML file."""
    from ..dataset import Dataset

    root, files = _find_layout(src)
    label_map = options.labels or _read_labelmap(root)
    if label_map is None and _folder(root, "SegmentationClass").is_dir():
        # class PNGs without a label map are VOC's own: keep its class numbers on the way out
        label_map = LabelMap(LabelInfo(name, i, stable_color(name)) for i, name in enumerate(VOC_CLASSES[1:], 1))
    # class PNG value → label: the label map's instance ids (what the writer puts), else the VOC classes
    class_names = ({info.instance_id: info.name for info in label_map} if label_map is not None
                   else dict(enumerate(VOC_CLASSES)))
    xml_root = _folder(root, "Annotations") if _folder(root, "Annotations").is_dir() else root
    images = options.images or (_folder(root, "JPEGImages") if _folder(root, "JPEGImages").is_dir() else root)

    def items() -> Iterator[AnnotationCollection]:
        for path in files:
            try:
                yield _read_file(path, xml_root, root, class_names, options.voc_origin, report, images)
            except DlconvertError as exc:
                report.failed(exc.at(path=path), code="voc.invalid-file")

    return Dataset(items(), labels=label_map, images_root=images, total=len(files))


def _read_file(path: Path, xml_root: Path, root: Path, class_names: dict[int, str], origin: int,
               report: ConversionReport, images: Path | None = None) -> AnnotationCollection:
    from lxml import etree

    document = parse_xml(path)
    if document.tag != "annotation":
        raise FormatError(f"the root element is <{document.tag}>, not <annotation>", path=path, where="line 1")
    relative = path.relative_to(xml_root).with_suffix("").as_posix()
    filename_text = _text(document, "filename")
    directory = posixpath.dirname(relative)
    name = filename_text or posixpath.basename(relative) + ".jpg"
    filename = "/" + posixpath.join(directory, name) if directory else "/" + name
    size = document.find("size")
    width = height = depth = None
    if size is not None:
        width = _size_value(size, "width", path)
        height = _size_value(size, "height", path)
        depth = _size_value(size, "depth", path)
    orientation = None
    if width is None and height is None:  # no <size>: the image's header tells
        image = find_image(images, filename)
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
            voc_meta[key] = _text(document, key) or ""
    if depth is not None:
        voc_meta["depth"] = depth
    extra = [etree.tostring(child, encoding="unicode").strip() for child in document
             if child.tag not in _DOCUMENT_TAGS and isinstance(child.tag, str)]
    if document.find("source") is not None:
        extra.insert(0, etree.tostring(document.find("source"), encoding="unicode").strip())
    if extra:
        voc_meta["extra_xml"] = extra
    item_json = {"id": None, "filename": filename, "name": posixpath.basename(filename),
                 "dir": posixpath.dirname(filename) or "/", "type": "file",
                 "metadata": {"system": {"mimetype": mimetypes.guess_type(filename)[0] or "image/jpeg",
                                         "width": width, "height": height,
                                         **({"exif": {"Orientation": orientation}} if orientation not in (None, 1)
                                            else {})},
                              "user": {"voc": voc_meta}},
                 "annotations": []}
    collection = AnnotationCollection(_item_json=item_json)
    collection._read_item_fields(item_json, path)
    boxes: list[Annotation] = []
    for index, element in enumerate(document.iter("object")):
        try:
            annotation = _read_object(element, path, origin)
        except FormatError as exc:
            report.bad_record(exc, code="voc.invalid-object", annotation_type="box", item=filename)
            continue
        annotation.object_id = index + 1
        boxes.append(annotation)
    collection.annotations.extend(boxes)
    stem = relative
    masks = _read_masks(root, stem, boxes, class_names, path)
    collection.annotations.extend(masks)
    collection._count_read = len(collection.annotations)
    return collection


def _size_value(size, tag: str, path: Path) -> int | None:
    text = _text(size, tag)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"<size><{tag}> is not a number: {text!r}", path=path, where=_where(size)) from None
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise FormatError(f"<size><{tag}> must be a non-negative integer", path=path, where=_where(size))
    return int(value) or None


def _read_object(element, path: Path, origin: int) -> Annotation:
    from lxml import etree

    where = _where(element)
    label = _text(element, "name")
    if not label:
        raise FormatError("<object> has no <name>", path=path, where=where)
    bndbox = element.find("bndbox")
    if bndbox is None:
        raise FormatError("<object> has no <bndbox>", path=path, where=where)
    bwhere = _where(bndbox)
    xmin, ymin, xmax, ymax = (_number(bndbox, tag, path, bwhere) for tag in ("xmin", "ymin", "xmax", "ymax"))
    attributes: dict[str, Any] = {}
    extra: list[str] = []
    for child in element:
        if not isinstance(child.tag, str) or child.tag in ("name", "bndbox"):
            continue
        if child.tag == "attributes":
            for attribute in child.iter("attribute"):
                key, value = _text(attribute, "name"), _text(attribute, "value")
                if key:
                    attributes[key] = value if value is not None else ""
        elif len(child) == 0:
            text = (child.text or "").strip()
            attributes[child.tag] = int(text) if child.tag in _FLAG_TAGS and text in ("0", "1") else text
        else:
            extra.append(etree.tostring(child, encoding="unicode").strip())
    metadata: dict = {"system": {}, "user": {"voc": {"extra_xml": extra}} if extra else {}}
    shift = 1 if origin == 1 else 0  # 1-based inclusive indices → continuous pixel edges
    box = Box(left=xmin - shift, top=ymin - shift, right=xmax, bottom=ymax, label=label, attributes=attributes)
    return Annotation.new(annotation_definition=box, automated=False, metadata=metadata)


def _read_masks(root: Path, stem: str, boxes: list[Annotation], class_names: dict[int, str],
                path: Path) -> list[Annotation]:

    out: list[Annotation] = []
    object_png = _folder(root, "SegmentationObject") / f"{stem}.png"
    class_png = _folder(root, "SegmentationClass") / f"{stem}.png"
    if object_png.is_file() and boxes:
        indices = _index_png(object_png)
        for box in boxes:
            mask = indices == int(box.object_id)  # the object's number in the XML, skipped ones counted
            if mask.any():
                segmentation = Segmentation(geo=mask, label=box.annotation_definition.label,
                                            attributes=dict(box.attributes))
                annotation = Annotation.new(annotation_definition=segmentation, automated=False)
                annotation.object_id = box.object_id
                out.append(annotation)
    elif class_png.is_file():
        indices = _index_png(class_png)
        for value in sorted(int(v) for v in np.unique(indices)):
            if value in (0, _VOID):
                continue
            if value not in class_names:
                raise FormatError(f"class index {value} is not a class of the label map",
                                  path=class_png)
            segmentation = Segmentation(geo=indices == value, label=class_names[value])
            out.append(Annotation.new(annotation_definition=segmentation, automated=False))
    return out


def _index_png(path: Path) -> np.ndarray:
    """Pixel indices of a VOC mask: palette/grey PNGs as stored, RGB PNGs through the VOC colour map."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_MASK_PIXELS:
                raise FormatError(f"mask is {image.width}×{image.height} pixels, more than the limit of "
                                  f"{MAX_MASK_PIXELS}", path=path)
            if image.mode in ("P", "L"):
                return np.asarray(image)
            rgb = np.asarray(image.convert("RGB")).astype(np.int32)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise FormatError(f"cannot read the mask PNG: {exc}", path=path) from None
    keys = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    cmap = voc_colormap().astype(np.int32)
    lookup = {int((r << 16) | (g << 8) | b): i for i, (r, g, b) in enumerate(cmap)}
    values, inverse = np.unique(keys, return_inverse=True)
    try:
        mapped = np.array([lookup[int(v)] for v in values], dtype=np.uint8)
    except KeyError as exc:
        colour = int(exc.args[0])
        raise FormatError(f"colour {(colour >> 16, (colour >> 8) & 255, colour & 255)} is not in the VOC colour map",
                          path=path) from None
    return mapped[inverse].reshape(keys.shape)


# ==== writing ======================================================================================
def _format(value: float) -> str:
    """Integral values as integers, others as the shortest exact decimal."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _label_map(dataset: Dataset, options: ConvertOptions) -> LabelMap:
    label_map = options.labels or dataset.labels
    return label_map.copy() if label_map is not None else LabelMap()


def _write_items(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport,
                 label_map: LabelMap, sharded: bool) -> ShardOutput:
    """Each item's XML (and segmentation PNGs); the state is the item stems in order."""
    from ..dataset import ShardOutput
    from ..parallel import NeedsSequential

    written: list[Path] = []
    stems: list[str] = []
    items_by_stem: dict[str, str | None] = {}
    known = len(label_map)
    for collection in dataset.items:
        if collection.is_video or collection.is_audio:
            for annotation in collection:
                report.skip(annotation, "voc.not-an-image", "VOC holds images only", collection.filename)
            continue
        # the XML's own name when it differs from <filename>
        stem = section(collection._item_json, "metadata", "user", "voc").get("stem")
        if not isinstance(stem, str) or not stem:
            name = collection.filename or collection.name
            if not name and sharded:
                raise NeedsSequential("an item without a name is numbered by its place in the dataset")
            stem = posixpath.splitext((name or f"item_{len(stems)}").lstrip("/"))[0]
        try:  # an unsafe or taken path is a bad item, found before any of it is counted or written
            if stem in items_by_stem:
                raise OutputError(f"items {items_by_stem[stem]!r} and {collection.filename!r} both map to "
                                  f"Annotations/{stem}.xml")
            target = safe_join(dst / "Annotations", stem + ".xml")
            problem = _item_text_problem(collection, stem)
            if problem:
                raise OutputError(problem)
        except OutputError as exc:
            report.bad_item(exc, collection, code="voc.unwritable-item")
            continue
        items_by_stem[stem] = collection.filename
        written.extend(_write_item(collection, dst, stem, label_map, options, report, target))
        stems.append(stem)
        report.items_out += 1
        if sharded and len(label_map) != known:  # a new label's colour and id depend on the labels before it
            raise NeedsSequential("a label is not in the label map")
    return ShardOutput(written, state=stems)


def write_shard(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> ShardOutput:
    """The ``Annotations/`` XML and segmentation PNGs of these items (labels must all be known)."""
    return _write_items(dataset, dst, options, report, _label_map(dataset, options), sharded=True)


def finish(shards: list[ShardOutput], dataset: Dataset, dst: Path, options: ConvertOptions,
           report: ConversionReport, label_map: LabelMap | None = None) -> list[Path]:
    """``ImageSets/Main/<split>.txt`` listing every item in order, and the label maps."""
    label_map = _label_map(dataset, options) if label_map is None else label_map
    split = dst / "ImageSets" / "Main" / f"{options.split}.txt"
    atomic_write(split, "".join(f"{s}\n" for shard in shards for s in shard.state).encode("utf-8"))
    label_map.save(dst / LABELMAP_FILENAME)
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    lines.extend(f"{info.name}:{','.join(str(c) for c in info.color)}::" for info in
                 sorted(label_map, key=lambda i: i.instance_id))
    atomic_write(dst / "labelmap.txt", ("\n".join(lines) + "\n").encode("utf-8"))
    return [split, dst / LABELMAP_FILENAME, dst / "labelmap.txt"]


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``Annotations/``, ``ImageSets/Main/<split>.txt``, segmentation PNGs and the label maps."""
    label_map = _label_map(dataset, options)
    shard = _write_items(dataset, dst, options, report, label_map, sharded=False)
    return [*shard.outputs, *finish([shard], dataset, dst, options, report, label_map)]


def _fragments(texts: Any, source: str | None, where: str, report: ConversionReport) -> list:
    """The kept XML elements; a broken or entity-bearing one is reported (``failed``) and left out."""
    out = []
    for index, text in enumerate(texts if isinstance(texts, list) else []):
        try:
            out.append(_fragment(text, source, f"{where}/{index}"))
        except FormatError as exc:
            report.failed(exc, code="voc.invalid-extra-xml")
    return out


_NOT_XML_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _item_text_problem(collection: AnnotationCollection, stem: str) -> str | None:
    """Why the item's own texts (file name, folder, path) cannot be XML text, else None."""
    voc_meta = section(collection._item_json, "metadata", "user", "voc")
    for text in (collection.filename, stem, voc_meta.get("folder"), voc_meta.get("path"), voc_meta.get("depth")):
        if isinstance(text, str) and _NOT_XML_TEXT.search(text):
            return f"{text!r} holds characters XML cannot hold (control characters)"
    return None


def _text_problem(definition) -> str | None:
    """Why the label or an attribute cannot be XML text (control characters), else None."""
    texts = [definition.label or ""]
    for key, value in definition.attributes.items():
        texts.extend((str(key), "" if value is None else str(value)))
    for text in texts:
        if _NOT_XML_TEXT.search(text):
            return f"{text!r} holds characters XML cannot hold (control characters)"
    return None


def _write_item(collection: AnnotationCollection, dst: Path, stem: str, label_map: LabelMap,
                options: ConvertOptions, report: ConversionReport, target: Path) -> list[Path]:
    from lxml import etree

    item = collection.filename
    width, height = collection.display_size
    voc_meta = section(collection._item_json, "metadata", "user", "voc")
    document = etree.Element("annotation")
    folder = voc_meta.get("folder")  # kept from a VOC file: a string (anything else is not VOC's)
    etree.SubElement(document, "folder").text = folder if isinstance(folder, str) else posixpath.basename(
        posixpath.dirname(item or ""))
    etree.SubElement(document, "filename").text = posixpath.basename(item or stem)
    if isinstance(voc_meta.get("path"), str):
        etree.SubElement(document, "path").text = voc_meta["path"]
    origin = collection.origin or report.source or item  # the item's JSON file, whose pointers these are
    extra_xml = _fragments(voc_meta.get("extra_xml"), origin, "/metadata/user/voc/extra_xml", report)
    source = next((x for x in extra_xml if x.tag == "source"), None)
    if source is not None:
        document.append(source)
        extra_xml.remove(source)
    else:
        etree.SubElement(etree.SubElement(document, "source"), "database").text = "Unknown"
    if width or height:  # unknown: no <size> rather than a made-up 0 × 0
        size = etree.SubElement(document, "size")
        etree.SubElement(size, "width").text = str(width or 0)
        etree.SubElement(size, "height").text = str(height or 0)
        depth = voc_meta.get("depth", 3)
        etree.SubElement(size, "depth").text = str(depth if isinstance(depth, (int, str)) else 3)
    segmented = etree.SubElement(document, "segmented")
    instance_masks: list[tuple[int, Any, str]] = []
    boxes_by_object = {a.object_id: a for a in collection if a.type == "box" and a.object_id is not None}
    deferred: list[Annotation] = []  # masks of a box's object, drawn with that box
    drawn: list[Annotation] = []
    number = 0
    for position, annotation in enumerate(collection):
        definition = annotation.annotation_definition
        kind = definition.type
        if kind == "binary" and annotation.object_id in boxes_by_object:
            deferred.append(annotation)
            continue  # the mask of a box's object: drawn with that object below
        if kind not in ("box", "segment", "binary", "ellipse"):
            report.skip(annotation, "voc.unsupported-type", f"VOC cannot hold a {kind!r} annotation", item)
            continue
        problems = definition.problems()
        if problems:
            report.skip(annotation, "voc.invalid-geometry", problems[0], item)
            continue
        problem = _text_problem(definition)
        if problem:
            report.skip(annotation, "voc.invalid-text", problem, item)
            continue
        label = definition.label or "unlabeled"
        label_map.add(label)
        number += 1
        _write_object(document, annotation, options.voc_origin)
        if kind == "box" and definition.is_rotated:
            report.approximate(annotation, "voc.rotated-box-as-bounds",
                               "VOC boxes are axis-aligned: the box around the rotated corners is written", item)
        report.wrote(annotation)
        if not options.voc_masks:
            if kind != "box":
                report.approximate(annotation, "voc.shape-as-box",
                                   f"a {kind} written as its box (segmentation PNGs are off)", item)
            mask = None
        else:
            mask = _object_mask(annotation, collection, width, height)
        if mask is not None:
            instance_masks.append((number, mask, label))
            partner = None
            if kind == "box":  # the mask drawn is its object's binary (see _object_mask); others draw their own
                partner = next((a for a in collection if a.type == "binary" and a.object_id is not None
                                and a.object_id == annotation.object_id), None)
            if partner is not None:
                report.wrote(partner)
                drawn.append(partner)
        kept = _fragments(section(annotation.metadata, "user", "voc").get("extra_xml"), origin,
                          f"/annotations/{position}/metadata/user/voc/extra_xml", report)
        for fragment in kept:
            document.findall("object")[-1].append(fragment)
    for annotation in deferred:
        if not options.voc_masks:
            report.skip(annotation, "voc.masks-off", "the mask of a box: segmentation PNGs are off", item)
        elif not any(annotation is d for d in drawn):
            report.skip(annotation, "voc.mask-not-written", "the mask of a box that was not written, or not "
                        "the image's size", item)
    for fragment in extra_xml:
        document.append(fragment)
    segmented.text = "1" if instance_masks else "0"
    outputs = []
    atomic_write(target, etree.tostring(document, pretty_print=True, xml_declaration=False, encoding="unicode")
                 .encode("utf-8"))
    outputs.append(target)
    if instance_masks and width and height:
        outputs.extend(_write_masks(dst, stem, instance_masks, label_map, (height, width)))
    return outputs


def _write_object(document, annotation: Annotation, origin: int) -> None:
    from lxml import etree

    definition = annotation.annotation_definition
    element = etree.SubElement(document, "object")
    etree.SubElement(element, "name").text = definition.label or "unlabeled"
    attributes = dict(definition.attributes)
    for tag in ("pose", "truncated", "difficult", "occluded"):
        if tag in attributes:
            etree.SubElement(element, tag).text = str(attributes.pop(tag))
    from .coco import source_bbox

    # a COCO object's own bbox while its shape is unchanged (it can differ from the polygon's bounds)
    left, top, right, bottom = source_bbox(annotation) or definition.bounds()
    bndbox = etree.SubElement(element, "bndbox")
    shift = 1 if origin == 1 else 0
    for tag, value in (("xmin", left + shift), ("ymin", top + shift), ("xmax", right), ("ymax", bottom)):
        etree.SubElement(bndbox, tag).text = _format(value)
    if attributes:
        holder = etree.SubElement(element, "attributes")
        for key, value in attributes.items():
            attribute = etree.SubElement(holder, "attribute")
            etree.SubElement(attribute, "name").text = str(key)
            etree.SubElement(attribute, "value").text = "" if value is None else str(value)


def _object_mask(annotation: Annotation, collection: AnnotationCollection, width, height):
    """The object's pixels as a windowed ``Coverage`` (the cost follows the shape, not the image)."""
    from ..render.raster import coverage, fill_rings

    definition = annotation.annotation_definition
    if not (width and height) or width * height > MAX_MASK_PIXELS:  # unknown or absurd size: bounds only
        return None
    shape = (height, width)
    if definition.type == "binary":
        return coverage(definition, shape) if definition.geo.shape == shape else None
    if definition.type == "segment":
        return fill_rings(definition.parts, shape)
    if definition.type == "ellipse":
        return fill_rings([definition.to_polygon_points()], shape)
    if definition.type == "box" and annotation.object_id is not None:
        partner = next((a for a in collection if a.type == "binary" and a.object_id == annotation.object_id), None)
        if partner is not None and partner.annotation_definition.geo.shape == shape:
            return coverage(partner.annotation_definition, shape)
    return None


_PALETTE_LIST = voc_colormap().reshape(-1).tolist()


def _write_masks(dst: Path, stem: str, masks, label_map: LabelMap, shape) -> list[Path]:
    """SegmentationClass (class index = instance id) and SegmentationObject (object number) PNGs."""
    import io

    from PIL import Image

    palette = _PALETTE_LIST
    classes = np.zeros(shape, dtype=np.uint8)
    objects = np.zeros(shape, dtype=np.uint8)
    for number, covered, label in masks:  # later objects on top, as drawn
        covered.paste(classes, min(label_map[label].instance_id, 254))
        covered.paste(objects, min(number, 254))
    outputs = []
    for folder, array in (("SegmentationClass", classes), ("SegmentationObject", objects)):
        image = Image.fromarray(array, mode="P")
        image.putpalette(palette)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)  # index masks are runs: level 1 is small and fast
        target = safe_join(dst / folder, stem + ".png")
        atomic_write(target, buffer.getvalue())
        outputs.append(target)
    return outputs


FORMAT = FormatSpec(
    name="voc",
    summary="Pascal VOC XML per image (boxes, attributes) with SegmentationClass/SegmentationObject PNGs",
    holds=frozenset({"box", "segment", "binary"}),
    approximates={"box (rotated)": "its bounds", "ellipse": "bounds + mask", "segment": "bounds + mask"},
    read=read,
    write=write,
    write_shard=write_shard,
    finish=finish,
)
