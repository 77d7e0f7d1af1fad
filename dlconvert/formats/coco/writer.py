"""Writing COCO: records item by item (in one process or one shard each), then ids and categories.

``write_shard`` builds the image and annotation records of a run of items, with image ids that
are positions in the shard; ``finish`` joins the shards in order, numbers everything and writes
``coco.json``, ``coco_ids.json`` and ``labelmap.json``. ``write`` is ``finish`` of one shard, so
both paths write the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..._io import atomic_write
from ..._json import dumps
from ...errors import FormatError
from ...images import ImageLookup, image_info
from ...labels import LABELMAP_FILENAME, LabelMap, PoseTemplate
from ...report import Issue, OnError
from .._keypoints import pose_partners, visibility
from .._policy import label_not_in_map, skip_if_not_an_image
from .categories import write_categories
from .checks import numbers
from .shapes import DEGENERATE, OVERFLOW, ShapeWriter, finite_geometry, keypoints_box_record
from .source import (
    BOOKKEEPING_KEYS,
    IDS_FILENAME,
    OUTPUT_FILENAME,
    annotation_coco,
    item_coco,
    keypoints_unchanged,
    shape_unchanged,
)

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection
    from ...dataset import ConvertOptions, Dataset, ShardOutput
    from ...report import ConversionReport

__all__ = ["finish", "write", "write_shard"]

NO_IMAGE_SIZE = ("the image's size is unknown: not in the source and the image was not found (pass --images); "
                 "a COCO image record needs integer width and height")
#: Dataloop types that can be the shape of a pose's record (sharing the pose's object id).
_POSE_SHAPES = ("box", "segment", "binary")


class _Writer:
    """Builds the COCO records item by item, then the categories and ids at the end."""

    def __init__(self, label_map: LabelMap, options: ConvertOptions, report: ConversionReport,
                 lookup: ImageLookup | None = None) -> None:
        self.labels = label_map
        self.options = options
        self.report = report
        self.lookup = lookup or ImageLookup()
        self.shapes = ShapeWriter(options.rle, report)
        self.images: list[dict] = []
        self.records: list[dict] = []
        self.image_refs: list[dict] = []
        self.record_refs: list[dict] = []
        self.used_labels: set[str] = set()
        self.pose_labels: dict[str, PoseTemplate | None] = {}
        self.claimed: set[int] = set()  # ids of the points of the current item written with a pose

    def add_item(self, collection: AnnotationCollection) -> bool:
        """Add one item's image and records; False (every annotation reported) for an item that is no image."""
        if skip_if_not_an_image(collection, self.report, "coco", "COCO"):
            return False
        if not (collection.filename or collection.name or "").strip("/"):  # e.g. a bare list of annotations
            for annotation in collection:
                self.report.skip(annotation, "coco.no-file-name", "the item has no file name, which a COCO image "
                                 "record needs", None)
            return False
        width, height = self._size(collection)
        if not (width and height):
            self._no_size(collection)
            return False
        self.claimed = set()
        image_index = self.add_image(collection, width, height)
        item = collection.filename
        annotations = list(collection)
        partners = pose_partners(annotations, _POSE_SHAPES)
        pose_ids = {a.id for a in annotations if a.type == "pose" and a.id is not None}
        for i, annotation in enumerate(annotations):
            if i in partners.values():
                continue  # written in its pose's record
            if annotation.type == "point" and annotation.parent_id in pose_ids:
                continue  # written as a keypoint of its pose
            if annotation.type == "pose":
                self._add_pose(collection, annotation, partners.get(i), image_index, width, height, item)
                continue
            self.add_annotation(collection, annotation, image_index, width, height)
        return True

    def add_image(self, collection: AnnotationCollection, width: int, height: int) -> int:
        """Add the item's image record (of the size given); its index among the images."""
        self.images.append(_image_record(collection, width, height))
        self.image_refs.append({"item_id": collection.item_id, "filename": collection.filename})
        return len(self.images) - 1

    def add_annotation(self, collection: AnnotationCollection, annotation: Annotation, image_index: int, width: int,
                       height: int) -> None:
        """Add the record of one annotation that is not part of a pose, or report why it is not written."""
        if self._not_in_pinned_map(collection, annotation):
            return
        item = collection.filename
        record = self.shapes.record(annotation, width, height, item)
        if record is None:
            return
        self._finish(record, annotation, image_index, collection.item_id)
        self._wrote(annotation, item)

    def _size(self, collection: AnnotationCollection) -> tuple[int | None, int | None]:
        """The image's size as displayed: the item's, else its image file's header (found as the renderer finds it)."""
        width, height = collection.display_size
        if width and height:
            return width, height
        image = self.lookup.find(collection)
        if image is None:
            return None, None
        try:
            return image_info(image).display_size
        except FormatError:
            return None, None

    def _no_size(self, collection: AnnotationCollection) -> None:
        """An item whose size is unknown has no valid image record (COCO needs integer width and height): it is
        not written, its annotations are skipped (``coco.no-image-size``); with ``on_error="fail"`` an error."""
        item = collection.filename
        path, where = collection.origin or self.report.source, f"item {item!r}"
        if self.report.on_error != OnError.SKIP:
            raise FormatError(NO_IMAGE_SIZE, path=path, where=where)
        for annotation in collection:
            self.report.skip(annotation, "coco.no-image-size", NO_IMAGE_SIZE, item, path=path, where=where)
        if not len(collection.annotations):  # nothing else names the item that is left out
            self.report.issues.append(Issue("skipped", "coco.no-image-size", NO_IMAGE_SIZE, item=item, path=path,
                                            where=where))

    def _not_in_pinned_map(self, collection: AnnotationCollection, annotation: Annotation,
                           *with_it: Annotation | None) -> bool:
        """Whether ``annotation`` (and ``with_it``, written in its record) is skipped because the user's label
        map (pinned) lacks its label."""
        refusal = label_not_in_map(annotation.annotation_definition.label or "unlabeled", self.labels, self.report,
                                   "COCO's categories", collection)
        if refusal is None:
            return False
        message, path, where = refusal
        for skipped in (annotation, *with_it):
            if skipped is not None:
                self.report.skip(skipped, "coco.label-not-in-map", message, collection.filename, path=path,
                                 where=where)
        return True

    def _wrote(self, annotation: Annotation, item: str | None) -> None:
        if annotation.is_video and len(annotation.frames) > 1:  # a track's later states are not written
            self.shapes.approximated(annotation, "track on an image", item)
        self.report.wrote(annotation)

    # -- poses ----------------------------------------------------------------------------------
    def _add_pose(self, collection: AnnotationCollection, pose_annotation: Annotation, partner: int | None,
                  image_index: int, width, height, item) -> None:
        pose = pose_annotation.annotation_definition
        # The points add_item left to their pose, each once (two poses may share an id in a broken file).
        children = [c for c in collection.children(pose_annotation) if c.type == "point" and id(c) not in self.claimed]
        self.claimed.update(id(c) for c in children)
        partner_annotation = collection.annotations[partner] if partner is not None else None
        if self._not_in_pinned_map(collection, pose_annotation, partner_annotation, *children):
            return
        template = self.labels.template_for(pose.template_id, pose.label)
        names = list(template.order) if template else [c.annotation_definition.label for c in children]
        by_name: dict[str, Annotation] = {}
        for child in children:
            label = child.annotation_definition.label
            if label not in names or label in by_name:
                self.report.skip(child, "coco.keypoint-not-in-template",
                                 f"keypoint {label!r} is not in the pose template (or repeated)", item)
                continue
            by_name[label] = child
        keypoints: list[float] = []
        for name in names:
            child = by_name.get(name)
            point = child.annotation_definition if child is not None else None
            keypoints.extend((point.x, point.y, visibility(child)) if point is not None else (0, 0, 0))
        record = None
        if partner_annotation is not None:
            record = self.shapes.record(partner_annotation, width, height, item)
            if record is None:  # the shape was skipped (and reported): the keypoints are still written
                partner_annotation = None
        kept = annotation_coco(pose_annotation)
        unchanged = keypoints_unchanged(kept, keypoints)
        if record is None:
            record = keypoints_box_record(_pose_bbox(keypoints, kept if unchanged else {}))
            if unchanged and numbers([kept.get("area")], 1):
                record["area"] = kept["area"]
            if not finite_geometry(record):  # keypoints so far apart that their box overflows a float
                for skipped in (pose_annotation, *by_name.values()):
                    self.report.skip(skipped, DEGENERATE, OVERFLOW, item)
                return
        record["keypoints"] = keypoints
        number = kept.get("num_keypoints")  # the source's count (CrowdPose does not count every point)
        record["num_keypoints"] = number if unchanged and type(number) is int else sum(
            1 for flag in keypoints[2::3] if flag > 0)
        self.pose_labels[pose.label] = template or PoseTemplate(pose.template_id or "", pose.label, names)
        owner = partner_annotation or pose_annotation
        self._finish(record, owner, image_index, collection.item_id, label=pose.label,
                     shape=partner_annotation.type if partner_annotation is not None else "pose")
        for written in (partner_annotation, pose_annotation, *by_name.values()):
            if written is not None:
                self._wrote(written, item)

    # -- common ---------------------------------------------------------------------------------
    def shard(self) -> ShardOutput:
        """What :func:`finish` needs of the records built so far (image ids still positions in them)."""
        from ...dataset import ShardOutput

        return ShardOutput(state=(self.images, self.records, self.image_refs, self.record_refs, self.used_labels,
                                  self.pose_labels))

    def _finish(self, record: dict, annotation: Annotation, image_index: int, item_id: str | None,
                label: str | None = None, shape: str | None = None) -> None:
        kept = annotation_coco(annotation)
        self.finish_record(record, label or annotation.annotation_definition.label or "unlabeled", kept,
                           shape_unchanged(annotation, kept), annotation.attributes, image_index,
                           {"annotation_id": annotation.id, "item_id": item_id, "type": shape or annotation.type})

    def finish_record(self, record: dict, label: str, kept: dict, unchanged: bool, attributes: dict,
                      image_index: int, ref: dict) -> None:
        """Add a shape's record: ``record`` (its geometry fields) with the ids, what the source kept (``kept``:
        ``metadata.user.coco``; its ``bbox`` and ``area`` while the shape is ``unchanged``) and the attributes;
        ``ref`` is its ``coco_ids.json`` entry."""
        self.used_labels.add(label)
        out: dict = {"id": kept.get("id"), "image_id": image_index, "category_id": label}
        if unchanged:
            # The shape is the one read from COCO: its own bbox and area still apply exactly.
            record.update({k: kept[k] for k in ("bbox", "area") if k in kept})
        out.update(record)
        if attributes:
            out["attributes"] = dict(attributes)
        for key, value in kept.items():
            if key not in out and key not in BOOKKEEPING_KEYS:
                out[key] = value
        if kept.get("iscrowd") in (0, 1):
            out["iscrowd"] = kept["iscrowd"]
        self.records.append(out)
        self.record_refs.append(ref)

    def finish(self, dst: Path) -> list[Path]:
        image_ids = _ids([img["id"] for img in self.images])
        for image, new_id in zip(self.images, image_ids, strict=True):
            image["id"] = new_id
        record_ids = _ids([r["id"] for r in self.records])
        for label in sorted(self.used_labels):  # a pinned map has them all: the others were skipped
            if label not in self.labels:
                self.labels.add(label)
        categories, category_ids = write_categories(self.labels, self.used_labels, self.pose_labels)
        for record, new_id in zip(self.records, record_ids, strict=True):
            record["id"] = new_id
            record["image_id"] = image_ids[record["image_id"]]
            record["category_id"] = category_ids[record["category_id"]]
        extras = self.labels.extras.get("coco")
        extras = extras if isinstance(extras, dict) else {}
        document = {
            "info": extras.get("info", {"description": "converted by dlconvert"}),
            "licenses": extras.get("licenses", []),
            "images": self.images,
            "annotations": self.records,
            "categories": categories,
        }
        dst.mkdir(parents=True, exist_ok=True)
        target = dst / OUTPUT_FILENAME
        atomic_write(target, dumps(document, indent=self.options.indent))
        refs = {
            "images": [{"id": i, **ref} for i, ref in zip(image_ids, self.image_refs, strict=True)],
            "annotations": [{"id": i, "image_id": r["image_id"], **ref}
                            for i, r, ref in zip(record_ids, self.records, self.record_refs, strict=True)],
            "categories": [{"id": c["id"], "label": c["name"]} for c in categories],
        }
        atomic_write(dst / IDS_FILENAME, dumps(refs))
        self.labels.save(dst / LABELMAP_FILENAME)
        return [target, dst / IDS_FILENAME, dst / LABELMAP_FILENAME]


def _image_record(collection: AnnotationCollection, width: int | None, height: int | None) -> dict:
    """The item's COCO image record: the one it was read with (its fields kept), size and file name updated."""
    source = item_coco(collection)
    image = dict(source)
    image["id"] = source.get("id")
    image["file_name"] = (collection.filename or collection.name or "").lstrip("/")
    if isinstance(source.get("file_name"), str) and source["file_name"].lstrip("/") == image["file_name"]:
        image["file_name"] = source["file_name"]
    image["width"], image["height"] = width, height
    return image


def _pose_bbox(keypoints: list[float], kept: dict) -> list:
    """A pose record's bbox without a shape: the source's (``kept``), else the box of its labelled keypoints."""
    if numbers(kept.get("bbox"), 4):
        return kept["bbox"]
    visible = [(keypoints[i], keypoints[i + 1]) for i in range(0, len(keypoints), 3) if keypoints[i + 2] > 0]
    if not visible:
        return [0.0, 0.0, 0.0, 0.0]
    xs, ys = [p[0] for p in visible], [p[1] for p in visible]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _ids(source: list) -> list[int]:
    """The source ids when all are unique integers, else 1…N."""
    if source and all(type(v) is int for v in source) and len(set(source)) == len(source):
        return list(source)
    return list(range(1, len(source) + 1))


def _label_map(dataset: Dataset, options: ConvertOptions) -> LabelMap:
    source = options.labels or dataset.labels
    return source.copy() if source is not None else LabelMap()


def write_shard(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> ShardOutput:
    """The COCO records of these items (image ids still shard positions; :func:`finish` numbers them)."""
    writer = _Writer(_label_map(dataset, options), options, report, ImageLookup.for_source(options.images, dataset))
    for collection in dataset.items:
        report.items_out += writer.add_item(collection)
    return writer.shard()


def finish(shards: list[ShardOutput], dataset: Dataset, dst: Path, options: ConvertOptions,
           report: ConversionReport) -> list[Path]:
    """Join the shards' records in order, number them and write ``coco.json``, ``coco_ids.json``, ``labelmap.json``."""
    writer = _Writer(_label_map(dataset, options), options, report)
    for shard in shards:
        images, records, image_refs, record_refs, used_labels, pose_labels = shard.state
        offset = len(writer.images)
        for record in records:
            record["image_id"] += offset
        writer.images.extend(images)
        writer.records.extend(records)
        writer.image_refs.extend(image_refs)
        writer.record_refs.extend(record_refs)
        writer.used_labels |= used_labels
        writer.pose_labels.update(pose_labels)
    return writer.finish(Path(dst))


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``dst/coco.json`` (plus ``coco_ids.json`` and ``labelmap.json``)."""
    return finish([write_shard(dataset, dst, options, report)], dataset, dst, options, report)
