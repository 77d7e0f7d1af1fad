"""Dataloop model → VOC: an XML file per image, the segmentation PNGs, ImageSets and the label maps.

Each annotation is written as :mod:`.capabilities` says, and everything that does not come back
as it went is in the report — one entry per annotation, so ``convert`` and ``verify`` agree:

* skipped: types VOC cannot hold (``voc.unsupported-type``), COCO crowd regions
  (``voc.crowd-region``), degenerate shapes (``voc.degenerate-shape``), labels or attributes XML
  cannot hold (``voc.invalid-text``), labels a pinned label map lacks (``voc.label-not-in-map``),
  items that are not images (``voc.not-an-image``); a box whose object's mask is written with it
  (``voc.box-of-mask``: it becomes that object's ``<bndbox>``, and the object reads back as one
  mask annotation); a mask or class region that cannot be drawn (``voc.masks-off``,
  ``voc.mask-not-written``).
* approximated, when the change is one ``verify`` sees (:mod:`dlconvert.compare`, default
  tolerance): a rotated box (``voc.rotated-box-as-bounds``), a box off the pixel grid with
  ``voc_origin`` 1 (``voc.box-rounded``), a polygon or ellipse drawn as its pixels
  (``voc.shape-as-mask``: it reads back as a mask), a shape written as its box because its pixels
  cannot be drawn (``voc.shape-as-box``: PNGs off, image size unknown, a mask not the image's
  size, more than 254 objects or classes, no pixel centre covered, or all its pixels under later
  objects) unless that box is the one its COCO file declared, a mask partly under later objects
  (``voc.mask-overlapped``: VOC has one object per pixel), a label or attribute VOC gives back
  otherwise (``voc.text-changed``: text is stripped, values come back as text).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import atomic_write, safe_join
from ...compare import Tolerance, geometry_change, is_declared_box
from ...errors import OutputError
from ...geometry import Box
from ...geometry.segmentation import MAX_MASK_PIXELS
from ...labels import LABELMAP_FILENAME, LabelMap
from .._metadata import section
from .._policy import degenerate_reason, is_crowd, label_not_in_map, skip_if_not_an_image
from . import bndbox
from .capabilities import refusal
from .masks import MAX_VALUE, Canvas, labelmap_txt
from .read import CLASS_REGION, OBJECT_TAGS, read_back_text
from .safe_xml import fragments, not_xml_text

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection
    from ...dataset import ConvertOptions, Dataset, ShardOutput
    from ...report import ConversionReport

__all__ = ["CROWD_REGION", "MASKS_OFF", "as_box", "box_rounded", "finish", "numbers_of", "object_element",
           "record", "refusal_of", "shape_as_box", "text_change", "with_changed_text", "with_text_change", "write",
           "write_shard"]

#: What counts as a change: ``verify``'s default tolerance, so that ``convert`` and ``verify`` agree.
_TOLERANCE = Tolerance()
#: Why no shape is drawn when ``voc_masks`` is off.
MASKS_OFF = "segmentation PNGs are off"
#: ``(code, message)`` of a skipped COCO crowd region.
CROWD_REGION = ("voc.crowd-region", "a COCO crowd region (iscrowd 1): VOC has no ignore regions")


def _label_map(dataset: Dataset, options: ConvertOptions) -> LabelMap:
    label_map = options.labels or dataset.labels
    return label_map.copy() if label_map is not None else LabelMap()


def _write_items(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport,
                 label_map: LabelMap, sharded: bool) -> ShardOutput:
    """Each item's XML (and segmentation PNGs); the state is the item stems in order."""
    from ...dataset import ShardOutput
    from ...parallel import NeedsSequential

    written: list[Path] = []
    stems: list[str] = []
    items_by_stem: dict[str, str | None] = {}
    known = len(label_map)
    for collection in dataset.items:
        if skip_if_not_an_image(collection, report, "voc", "VOC"):
            continue
        # the XML's own name when it differs from <filename>
        stem = section(collection.source_item, "metadata", "user", "voc").get("stem")
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
            voc_meta = section(collection.source_item, "metadata", "user", "voc")
            problem = not_xml_text(collection.filename, stem, voc_meta.get("folder"), voc_meta.get("path"),
                                   voc_meta.get("depth"))
            if problem:
                raise OutputError(problem)
        except OutputError as exc:
            report.bad_item(exc, collection, code="voc.unwritable-item")
            continue
        items_by_stem[stem] = collection.filename
        written.extend(_ItemWriter(collection, label_map, options, report).write(dst, stem, target))
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
    atomic_write(dst / "labelmap.txt", labelmap_txt(label_map))
    return [split, dst / LABELMAP_FILENAME, dst / "labelmap.txt"]


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``Annotations/``, ``ImageSets/Main/<split>.txt``, segmentation PNGs and the label maps."""
    label_map = _label_map(dataset, options)
    shard = _write_items(dataset, dst, options, report, label_map, sharded=False)
    return [*shard.outputs, *finish([shard], dataset, dst, options, report, label_map)]


# ==== one item ==========================================================================================
@dataclass
class _Region:
    """An ``<object>`` (``number`` set) or a class region, and what was drawn of it."""

    annotation: Annotation  # what reads back: the object's mask, or the annotation itself
    position: int  # of ``annotation`` in the item
    number: int | None = None
    box: Annotation | None = None  # the box whose mask this object is (``voc.box-of-mask``)
    box_position: int = 0
    numbers: bndbox.BoxNumbers | None = None
    declared: bndbox.Edges | None = None  # the box a COCO file declared for the shape
    painted: int | None = None  # index in the canvas
    no_pixels: str | None = None  # why nothing was drawn


class _ItemWriter:
    """Writes one item: decides each annotation's fate, draws the PNGs, then reports in item order."""

    def __init__(self, collection: AnnotationCollection, label_map: LabelMap, options: ConvertOptions,
                 report: ConversionReport) -> None:
        self.collection = collection
        self.label_map = label_map
        self.options = options
        self.report = report
        self.item = collection.filename
        self.width, self.height = collection.display_size
        self.events: list[tuple] = []  # (position, kind, annotation, code, why[, path, where])
        self.canvas: Canvas | None = None  # made when the first region is drawn
        self.no_canvas = None  # why no region can be drawn
        if not options.voc_masks:
            self.no_canvas = MASKS_OFF
        elif not (self.width and self.height):
            self.no_canvas = "the image size is unknown"
        elif self.width * self.height > MAX_MASK_PIXELS:
            self.no_canvas = f"the image is larger than {MAX_MASK_PIXELS} pixels"

    def write(self, dst: Path, stem: str, target: Path) -> list[Path]:
        from lxml import etree

        voc_meta = section(self.collection.source_item, "metadata", "user", "voc")
        origin = self.collection.origin or self.report.source or self.item  # the JSON file these pointers are in
        document, segmented, extra_xml = self._document(voc_meta, stem, origin)
        regions = self._regions()
        for region in regions:
            if region.number is not None:
                annotation = region.box or region.annotation
                object_element(document, annotation, region.numbers, origin,
                               f"/annotations/{region.position}/metadata/user/voc/extra_xml", self.report)
        self._draw(regions)
        self._report(regions)
        for fragment in extra_xml:
            document.append(fragment)
        segmented.text = "1" if any(r.painted is not None for r in regions) else "0"
        atomic_write(target, etree.tostring(document, pretty_print=True, xml_declaration=False, encoding="unicode")
                     .encode("utf-8"))
        outputs = [target]
        if self.canvas is not None:
            outputs.extend(self.canvas.write(dst, stem))
        return outputs

    # -- the document ------------------------------------------------------------------------------
    def _document(self, voc_meta: dict, stem: str, origin: Any):
        from lxml import etree

        item = self.item
        document = etree.Element("annotation")
        folder = voc_meta.get("folder")  # kept from a VOC file: a string (anything else is not VOC's)
        etree.SubElement(document, "folder").text = folder if isinstance(folder, str) else posixpath.basename(
            posixpath.dirname(item or ""))
        etree.SubElement(document, "filename").text = posixpath.basename(item or stem)
        if isinstance(voc_meta.get("path"), str):
            etree.SubElement(document, "path").text = voc_meta["path"]
        extra_xml = fragments(voc_meta.get("extra_xml"), origin, "/metadata/user/voc/extra_xml", self.report)
        source = next((x for x in extra_xml if x.tag == "source"), None)
        if source is not None:
            document.append(source)
            extra_xml.remove(source)
        else:
            etree.SubElement(etree.SubElement(document, "source"), "database").text = "Unknown"
        if self.width or self.height:  # unknown: no <size> rather than a made-up 0 × 0
            size = etree.SubElement(document, "size")
            etree.SubElement(size, "width").text = str(self.width or 0)
            etree.SubElement(size, "height").text = str(self.height or 0)
            depth = voc_meta.get("depth", 3)
            etree.SubElement(size, "depth").text = str(depth if isinstance(depth, (int, str)) else 3)
        return document, etree.SubElement(document, "segmented"), extra_xml

    # -- deciding ----------------------------------------------------------------------------------
    def _refusal(self, annotation: Annotation) -> tuple | None:
        """Why an annotation is skipped — ``(code, message)``, or ``(code, message, path, where)`` when the place
        is the item's — or None."""
        why = refusal_of(annotation)
        if why is not None:
            return why
        not_in_map = label_not_in_map(annotation.annotation_definition.label or "unlabeled", self.label_map,
                                      self.report, "VOC's class list", self.collection)
        return None if not_in_map is None else ("voc.label-not-in-map", *not_in_map)

    def _regions(self) -> list[_Region]:
        """Every annotation's fate: skipped (as an event), or an object / class region to draw."""
        annotations = list(self.collection)
        refused = {}
        for position, annotation in enumerate(annotations):
            verdict = self._refusal(annotation)  # (code, message[, path, where])
            if verdict is None:
                continue
            refused[id(annotation)] = verdict
            self.events.append((position, "skip", annotation, *verdict))
        masks_of = self._partners([a for a in annotations if id(a) not in refused])
        partnered = {id(mask) for mask in masks_of.values()}
        positions = {id(annotation): position for position, annotation in enumerate(annotations)}
        regions = []
        number = 0
        for position, annotation in enumerate(annotations):
            if id(annotation) in refused or id(annotation) in partnered:
                continue
            self.label_map.add(annotation.annotation_definition.label or "unlabeled")
            if annotation.type == "binary" and section(annotation.metadata, "user", "voc").get(
                    "segmentation") == CLASS_REGION:
                regions.append(_Region(annotation, position))
                continue
            mask = masks_of.get(id(annotation))
            if mask is None:
                region = _Region(annotation, position)
            else:
                region = _Region(mask, positions[id(mask)], box=annotation, box_position=position)
            number += 1
            region.number = number
            region.numbers, region.declared = numbers_of(annotation, self.options.voc_origin)
            regions.append(region)
        return regions

    @staticmethod
    def _partners(annotations: list[Annotation]) -> dict[int, Annotation]:
        """``{id(box): mask}``: a box and the first mask of the same object id and label are one object."""
        masks: dict[tuple, list[Annotation]] = {}
        for annotation in annotations:
            if annotation.type == "binary" and annotation.object_id is not None and section(
                    annotation.metadata, "user", "voc").get("segmentation") != CLASS_REGION:
                masks.setdefault((annotation.object_id, annotation.annotation_definition.label), []).append(annotation)
        out = {}
        for annotation in annotations:
            key = (annotation.object_id, annotation.annotation_definition.label)
            if annotation.type == "box" and annotation.object_id is not None and masks.get(key):
                out[id(annotation)] = masks[key].pop(0)
        return out

    # -- drawing -------------------------------------------------------------------------------------
    def _draw(self, regions: list[_Region]) -> None:
        """Class regions first, then objects in order (a later object covers an earlier one)."""
        from ...render.raster import coverage

        ordered = [r for r in regions if r.number is None] + [r for r in regions if r.number is not None]
        for region in ordered:
            annotation = region.annotation
            if annotation.type == "box":
                continue  # a box is its <bndbox>
            if self.no_canvas is not None:
                region.no_pixels = self.no_canvas
                continue
            definition = annotation.annotation_definition
            label = definition.label or "unlabeled"
            class_value = self.label_map[label].instance_id
            if region.number is not None and region.number > MAX_VALUE:
                region.no_pixels = f"VOC's 8-bit object PNG holds {MAX_VALUE} objects per image"
            elif not 0 < class_value <= MAX_VALUE:
                region.no_pixels = (f"class {class_value} of {label!r} does not fit VOC's 8-bit class PNG "
                                    f"(1…{MAX_VALUE})")
            elif annotation.type == "binary" and definition.geo.shape != (self.height, self.width):
                h, w = definition.geo.shape
                region.no_pixels = f"the mask is {w}×{h} pixels, the image {self.width}×{self.height}"
            else:
                covered = coverage(definition, (self.height, self.width))
                if covered is None or not covered.mask.any():
                    region.no_pixels = "it covers no pixel centre of the image"
                else:
                    self.canvas = self.canvas or Canvas((self.height, self.width))
                    region.painted = self.canvas.paint(covered, class_value, region.number)

    # -- reporting ---------------------------------------------------------------------------------------
    def _report(self, regions: list[_Region]) -> None:
        for region in regions:
            lost, total = self.canvas.lost(region.painted) if region.painted is not None else (0, 0)
            if region.painted is not None and lost == total:
                region.no_pixels = "all its pixels are under later objects"
            if region.number is None:
                self._class_region(region, lost, total)
            elif region.box is not None:
                self._box_with_mask(region, lost, total)
            else:
                self._object(region, lost, total)
        for _, kind, annotation, code, message, *place in sorted(self.events, key=lambda event: event[0]):
            record(self.report, kind, annotation, code, message, self.item, *place)

    def _event(self, position: int, kind: str, annotation: Annotation, code: str = "", message: str = ""):
        """Record an annotation's fate (see :func:`with_text_change`)."""
        kind, code, message = with_text_change(annotation, kind, code, message)
        self.events.append((position, kind, annotation, code, message))

    def _class_region(self, region: _Region, lost: int, total: int) -> None:
        if region.no_pixels is not None:
            code = "voc.masks-off" if not self.options.voc_masks else "voc.mask-not-written"
            self._event(region.position, "skip", region.annotation, code,
                        f"a class region (SegmentationClass only) that cannot be drawn: {region.no_pixels}")
        elif _pixels_changed(lost, total):
            self._event(region.position, "approximate", region.annotation, "voc.mask-overlapped",
                        f"{lost} of its {total} pixels are under objects (VOC has one value per pixel)")
        else:
            self._event(region.position, "wrote", region.annotation)

    def _box_with_mask(self, region: _Region, lost: int, total: int) -> None:
        mask, box = region.annotation, region.box
        if region.no_pixels is None:
            self._event(region.box_position, "skip", box, "voc.box-of-mask",
                        "the box of an object whose mask is written: it is that object's <bndbox>, and VOC reads "
                        "the object back as one mask annotation")
            self._mask_written(region.position, mask, lost, total)
            return
        code = "voc.masks-off" if not self.options.voc_masks else "voc.mask-not-written"
        self._event(region.position, "skip", mask, code, f"the mask of a box's object is not drawn: {region.no_pixels}")
        self._as_box(region.box_position, region, box)

    def _object(self, region: _Region, lost: int, total: int) -> None:
        if region.annotation.type == "box" or region.no_pixels is not None:
            self._as_box(region.position, region, region.annotation)
        else:
            self._mask_written(region.position, region.annotation, lost, total)

    def _mask_written(self, position: int, annotation: Annotation, lost: int, total: int) -> None:
        overlap = f"{lost} of its {total} pixels are under later objects (VOC has one object per pixel)"
        if annotation.type != "binary":
            message = f"a {annotation.type} written as its pixels in the segmentation PNGs (it reads back as a mask)"
            self._event(position, "approximate", annotation, "voc.shape-as-mask",
                        f"{message}; {overlap}" if lost else message)
        elif _pixels_changed(lost, total):
            self._event(position, "approximate", annotation, "voc.mask-overlapped", overlap)
        else:
            self._event(position, "wrote", annotation)

    def _as_box(self, position: int, region: _Region, annotation: Annotation) -> None:
        kind, code, message = as_box(annotation, region.numbers, region.declared, region.no_pixels)
        self._event(position, kind, annotation, code, message)


def _pixels_changed(lost: int, total: int) -> bool:
    """Whether a mask that kept ``total - lost`` of its pixels has changed, as ``verify`` measures it (IoU)."""
    return bool(lost) and (total - lost) / total < _TOLERANCE.min_iou


# ==== one annotation, whatever the item (also the columnar writer's code for its rare rows) ==============
def refusal_of(annotation: Annotation) -> tuple[str, str] | None:
    """``(code, message)`` of why VOC skips the annotation in any item (its type, a crowd region, a degenerate
    shape, text XML cannot hold), or None. A pinned label map's refusal is the item writer's."""
    definition = annotation.annotation_definition
    why = refusal(annotation.type)
    if why is not None:
        return "voc.unsupported-type", why
    if is_crowd(annotation):
        return CROWD_REGION
    why = degenerate_reason(annotation)
    if why is not None:
        return "voc.degenerate-shape", why
    texts = [definition.label or ""]
    for key, value in definition.attributes.items():
        texts.extend((str(key), "" if value is None else str(value)))
    why = not_xml_text(*texts)
    return None if why is None else ("voc.invalid-text", why)


def numbers_of(annotation: Annotation, origin: int) -> tuple[bndbox.BoxNumbers, bndbox.Edges | None]:
    """The ``<bndbox>`` (the numbers read from VOC, else the box COCO declared, else the shape's bounds),
    and the box COCO declared (or None)."""
    kept = bndbox.kept(annotation, origin)
    if kept is not None:
        return kept, None
    declared = bndbox.coco_declared(annotation)
    edges = declared
    if edges is None:
        definition = annotation.annotation_definition
        edges = definition.bounds()
        if annotation.type == "ellipse" or (annotation.type == "box" and definition.is_rotated):
            edges = tuple(bndbox.computed(v) for v in edges)
    return bndbox.numbers_for(edges, origin), declared


def as_box(annotation: Annotation, numbers: bndbox.BoxNumbers, declared: bndbox.Edges | None,
           no_pixels: str | None) -> tuple[str, str, str]:
    """``(kind, code, message)`` of an annotation that reads back as the box of its ``<bndbox>``: "approximate"
    when that changes it, as ``verify`` measures change (:mod:`dlconvert.compare`: within 0.01 px or IoU
    0.999) — a box rounded to pixel indices, a rotated box's bounds, a shape's box (``no_pixels``: why it is
    not drawn), but not the box a COCO file declared for the shape (the box the shape stands for in a
    detection format) — else "wrote"."""
    definition = annotation.annotation_definition
    edges = numbers.edges
    if definition.type == "box" and not definition.is_rotated:
        reference = (definition.left, definition.top, definition.right, definition.bottom)
    else:
        reference = declared if definition.type != "box" else None
    if reference is not None and bndbox.same_edges(edges, reference):
        return "wrote", "", ""
    back = Box(left=edges[0], top=edges[1], right=edges[2], bottom=edges[3])
    if reference is not None:
        changed = not is_declared_box(back, reference, _TOLERANCE)
    else:
        changed = geometry_change(definition, back, _TOLERANCE) is not None
    if not changed:
        return "wrote", "", ""
    written = " ".join(bndbox.text(v) for v in numbers.values)
    if definition.type != "box":
        return "approximate", *shape_as_box(definition.type, written, no_pixels)
    if definition.is_rotated:
        return ("approximate", "voc.rotated-box-as-bounds",
                f"VOC boxes are axis-aligned: the box around the rotated corners is written ({written})")
    return "approximate", *box_rounded(definition.left, definition.top, definition.right, definition.bottom, written)


def shape_as_box(kind: str, written: str, no_pixels: str | None) -> tuple[str, str]:
    """``(code, message)`` of a shape written as its ``<bndbox>`` (the numbers ``written``) only."""
    return "voc.shape-as-box", f"a {kind} written as its <bndbox> {written} only: {no_pixels}"


def box_rounded(left: float, top: float, right: float, bottom: float, written: str) -> tuple[str, str]:
    """``(code, message)`` of a box moved to the pixel indices ``written``."""
    return ("voc.box-rounded", f"VOC <bndbox> values are whole 1-based pixel indices (voc_origin 1): the box "
                               f"{left:g} {top:g} {right:g} {bottom:g} is written as {written}")


def with_text_change(annotation: Annotation, kind: str, code: str, message: str) -> tuple[str, str, str]:
    """An annotation's fate, given that one written with text VOC gives back otherwise is approximated."""
    if kind == "skip":
        return kind, code, message
    definition = annotation.annotation_definition
    return with_changed_text(kind, code, message, text_change(definition.label, definition.attributes))


def with_changed_text(kind: str, code: str, message: str, changed: str | None) -> tuple[str, str, str]:
    """The fate of a written annotation whose text reads back ``changed`` (None: the same)."""
    if changed and kind == "wrote":
        return "approximate", "voc.text-changed", changed
    if changed:
        return kind, code, f"{message}; {changed}"
    return kind, code, message


def record(report: ConversionReport, kind: str, annotation: Annotation, code: str, message: str, item: str | None,
           path: str | None = None, where: str | None = None) -> None:
    """Put an annotation's fate (skip, wrote or approximate) in the report."""
    if kind == "skip":
        report.skip(annotation, code, message, item, path=path, where=where)
        return
    report.wrote(annotation)
    if kind == "approximate":
        report.approximate(annotation, code, message, item)


def text_change(label: str | None, attributes: dict) -> str | None:
    """How the label and attributes read back differently from VOC (stripped text, values as text), or None."""
    back_label, back = read_back_text(label, attributes)
    if back_label != label:
        return f"the label {label!r} reads back as {back_label!r}"
    if back != attributes:
        changed = sorted(str(k) for k in set(back) | set(attributes) if back.get(k, ...) != attributes.get(k, ...))
        return f"attributes {', '.join(changed)} read back as text ({back!r})"
    return None


def object_element(document, annotation: Annotation, numbers: bndbox.BoxNumbers, origin: Any, where: str,
                   report: ConversionReport) -> None:
    """Append the annotation's ``<object>`` to ``document``: its label, flags, ``<bndbox>``, other attributes
    (CVAT's block) and the elements a VOC reader kept (``where``: their JSON path, for errors)."""
    from lxml import etree

    definition = annotation.annotation_definition
    element = etree.SubElement(document, "object")
    etree.SubElement(element, "name").text = definition.label or "unlabeled"
    attributes = dict(definition.attributes)
    for tag in OBJECT_TAGS:
        if tag in attributes:
            etree.SubElement(element, tag).text = str(attributes.pop(tag))
    box = etree.SubElement(element, "bndbox")
    for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), numbers.values, strict=True):
        etree.SubElement(box, tag).text = bndbox.text(value)
    if attributes:
        holder = etree.SubElement(element, "attributes")
        for key, value in attributes.items():
            attribute = etree.SubElement(holder, "attribute")
            etree.SubElement(attribute, "name").text = str(key)
            etree.SubElement(attribute, "value").text = "" if value is None else str(value)
    kept = section(annotation.metadata, "user", "voc").get("extra_xml")
    for fragment in fragments(kept, origin, where, report):
        element.append(fragment)
