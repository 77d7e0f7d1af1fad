"""COCO instances and person-keypoints JSON, both ways.

Layout: one JSON file (``coco.json`` when written) with ``images``, ``annotations``,
``categories`` (and ``info``, ``licenses``)::

    {"images": [{"id": 1, "file_name": "sub/a.jpg", "width": 640, "height": 480}],
     "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [x, y, w, h],
                      "segmentation": [[x1, y1, x2, y2, …]], "area": 1234.5, "iscrowd": 0}],
     "categories": [{"id": 3, "name": "car", "supercategory": "vehicle"}]}

Reading (→ Dataloop model):
* ``bbox`` only → Box. A segmentation that is exactly the bbox rectangle (how pycocotools and
  dlconvert write boxes) → Box.
* polygon list → one Polygon holding **every** part; RLE (list or string counts) → Segmentation.
* ``keypoints`` → a Pose with one Point child per labelled keypoint (visibility in the
  ``visibility`` attribute: 2 ``visible``, 1 ``not-visible``, 0 ``unlabeled``); the record's box
  or mask becomes a second annotation sharing the pose's object id.
* a record with only a category (Datumaro's "labels" task) → Classification.
* images without annotations stay items; categories → labels by name (the supercategory is kept
  in the label map, no ``person.person``); ``info``/``licenses`` → the label map's extras; the
  CVAT-style ``attributes`` dict → v2 attributes; ``iscrowd`` and unknown record fields → the
  annotation's ``metadata.user.coco``, the image record → the item's ``metadata.user.coco``.

Writing (Dataloop model →):
* ``bbox`` and ``area`` of a shape read from COCO and not changed since are the source's own
  (a hash of the geometry in ``metadata.user.coco`` tells); otherwise they are recomputed.
* integer ids: the source COCO ids when every item/annotation has a unique one, else 1…N in
  order; ``coco_ids.json`` beside the output maps each id back to the Dataloop item and
  annotation ids.
* categories from the label map: source COCO ids kept, else the Dataloop instance ids (1-based);
  labels used only as keypoint names are not categories.
* ``bbox`` = the shape's bounds ``[x, y, w, h]``; ``area`` = polygon area, mask pixel count or
  box area (never the box area of a polygon).
* Box → bbox and its rectangle as segmentation (as pycocotools' ``loadRes`` does, so ``annToMask``
  works; read back as a Box); rotated Box and
  Ellipse → polygon (approximated); Polygon → all parts, ``iscrowd`` 0, or RLE when its rings
  nest (holes, which COCO polygons cannot hold; approximated); Segmentation → RLE (``rle="auto"``,
  the default: the source's form when it was COCO, else compressed string counts; or force
  ``"compressed"``/``"uncompressed"``), ``iscrowd`` 0 unless the source said crowd; Pose → keypoints,
  ``num_keypoints`` and a 1-based ``skeleton``; every image is listed.
* Not representable, so skipped and reported: Polyline, Cube, Classification, Subtitle, a Point
  outside a pose, types dlconvert does not model. Video: the first frame of each track is written
  (reported as approximated).
"""

from __future__ import annotations

import gc
import hashlib
import math
import mimetypes
import posixpath
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._io import atomic_write
from .._json import dumps, read_json_file
from ..annotation import Annotation
from ..collection import AnnotationCollection
from ..errors import DlconvertError, FormatError
from ..geometry import Box, Classification, Point, Polygon, Pose, Segmentation
from ..geometry.segmentation import MAX_MASK_PIXELS
from ..labels import LABELMAP_FILENAME, LabelInfo, LabelMap, PoseTemplate, stable_color
from . import FormatSpec
from ._keypoints import VISIBILITY_ATTRIBUTE, VISIBILITY_NAMES, pose_partners, visibility
from ._metadata import section

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..dataset import ConvertOptions, Dataset, ShardOutput, SourcePlan
    from ..report import ConversionReport

__all__ = ["FORMAT", "IDS_FILENAME", "OUTPUT_FILENAME", "read", "write"]

OUTPUT_FILENAME = "coco.json"
IDS_FILENAME = "coco_ids.json"
#: ``metadata.user.coco`` key holding a hash of the geometry read, so the writer can tell whether
#: the shape changed since and whether the source's own ``bbox`` and ``area`` still apply.
FINGERPRINT_KEY = "geometry_sha1"
#: ``metadata.user.coco`` key remembering whether a source RLE had list or string counts.
RLE_FORM_KEY = "rle_counts"
#: ``metadata.user.coco`` key remembering a box record's own segmentation (``[]``, ``[[]]`` or absent).
BOX_SEGMENTATION_KEY = "box_segmentation"
_BOOKKEEPING_KEYS = frozenset({"iscrowd", "geometry_sha1", "rle_counts", "box_segmentation"})
_KNOWN_RECORD_KEYS = frozenset({"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd",
                                "keypoints", "num_keypoints", "attributes"})


# ==== reading ======================================================================================
def _load(src: Path) -> tuple[dict, Path]:
    path = src
    if src.is_dir():
        candidates = sorted(p for p in src.rglob("*.json") if not p.name.startswith("."))
        candidates = [p for p in candidates if p.name not in (LABELMAP_FILENAME, IDS_FILENAME)]
        if len(candidates) != 1:
            raise FormatError(f"expected one COCO JSON file in the folder, found {len(candidates)}; "
                              "name the file", path=src)
        path = candidates[0]
    enabled = gc.isenabled()
    gc.disable()  # COCO files are millions of acyclic objects: the cyclic GC only costs time here
    try:
        data = read_json_file(path)
    finally:
        if enabled:
            gc.enable()
    if isinstance(data, list):
        raise FormatError("this is a COCO results list (no images or categories); convert the ground-truth "
                          "file instead", path=path)
    if not isinstance(data, dict):
        raise FormatError("a COCO file must be a JSON object", path=path)
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise FormatError(f"COCO file needs an {key!r} list", path=path, where=f"/{key}")
    if not isinstance(data.get("annotations", []), list):
        raise FormatError("'annotations' must be a list", path=path, where="/annotations")
    return data, path


def _read_categories(data: dict, path: Path) -> tuple[dict[Any, str], LabelMap]:
    """``{category id: label}`` and the label map (COCO ids kept, instance ids in id order)."""
    by_id: dict[Any, dict] = {}
    for index, category in enumerate(data["categories"]):
        where = f"/categories/{index}"
        if not isinstance(category, dict):
            raise FormatError("a category must be an object", path=path, where=where)
        cat_id = category.get("id")
        if isinstance(cat_id, bool) or not isinstance(cat_id, (int, str)):
            raise FormatError("category 'id' must be an integer", path=path, where=where + "/id")
        if not isinstance(category.get("name"), str):
            raise FormatError("category 'name' must be a string", path=path, where=where + "/name")
        if cat_id in by_id:
            raise FormatError(f"category id {cat_id} appears twice", path=path, where=where + "/id")
        by_id[cat_id] = category
    labels: dict[Any, str] = {}
    seen: set[str] = set()
    infos, templates = [], []
    ordered = sorted(by_id, key=lambda v: (isinstance(v, str), v))
    for rank, cat_id in enumerate(ordered, start=1):
        category = by_id[cat_id]
        name = category["name"]
        if name in seen:  # two categories with one name: keep both apart
            name = f"{name} ({cat_id})"
        seen.add(name)
        labels[cat_id] = name
        supercategory = category.get("supercategory")
        extras = {k: v for k, v in category.items() if k not in ("id", "name", "supercategory", "keypoints",
                                                                  "skeleton")}
        keypoints = category.get("keypoints")
        if isinstance(keypoints, list) and keypoints:
            order = [k if isinstance(k, str) and k else f"keypoint_{i + 1}" for i, k in enumerate(keypoints)]
            arcs = []
            given = category.get("skeleton")
            skeleton = given if isinstance(given, list) else []
            for edge in skeleton:
                if (isinstance(edge, list) and len(edge) == 2 and all(isinstance(v, int) for v in edge)
                        and all(1 <= v <= len(order) for v in edge)):
                    arcs.append((order[edge[0] - 1], order[edge[1] - 1]))
            templates.append(PoseTemplate(_template_id(cat_id), name, order, arcs))
            faithful = order == keypoints and len(arcs) == len(skeleton) and (given is None or given is skeleton)
        else:
            faithful = "keypoints" not in category and "skeleton" not in category
        if not faithful:  # empty names, 0-based or broken skeletons: give back exactly what was read
            extras.update({k: category[k] for k in ("keypoints", "skeleton") if k in category})
        infos.append(LabelInfo(name, rank, stable_color(name), cat_id if isinstance(cat_id, int) else None,
                               supercategory if isinstance(supercategory, str) else None, extras))
    label_map = LabelMap(infos, templates)
    extras = {key: data[key] for key in ("info", "licenses") if key in data}
    if extras:
        label_map.extras["coco"] = extras
    return labels, label_map


def _template_id(category_id: Any) -> str:
    return f"coco-category-{category_id}"


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """Parse and check a COCO file (or the only JSON in a folder); one unit per image with its records.

    Bad images and records are reported here, in file order; the units keep the parsed records
    (no copy), so a shard carries only its own images' records to a worker.
    """
    from ..dataset import SourcePlan

    data, path = _load(src)
    labels, label_map = _read_categories(data, path)
    images: dict[Any, dict] = {}
    for index, image in enumerate(data["images"]):
        problem = _check_image(image, images)
        if problem is not None:
            message, at = problem
            report.failed(FormatError(message, path=path, where=f"/images/{index}{at}"), code="coco.invalid-image")
            continue
        images[image["id"]] = image
    grouped: dict[Any, list[tuple[int, dict]]] = defaultdict(list)
    for index, record in enumerate(data.get("annotations", [])):
        where = f"/annotations/{index}"
        problem = _check_record(record, images, labels)
        if problem is not None:
            message, at = problem
            report.bad_record(FormatError(message, path=path, where=where + at), code="coco.invalid-record",
                              annotation_type=_record_type(record))
            continue
        grouped[record["image_id"]].append((index, record))
    units = [(image, grouped.get(image_id, [])) for image_id, image in images.items()]
    context = (labels, label_map, str(path), _shape_hints(path))
    return SourcePlan(units, context=context, labels=label_map, images_root=options.images or path.parent)


def read_units(context: tuple, units: list, options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """One item per image unit of :func:`plan`, built when asked for."""
    labels, label_map, path, hints = context
    for image, records in units:
        yield _image_to_collection(image, records, labels, label_map, Path(path), report, hints)


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a COCO file (or the only JSON in a folder) into one item per image, lazily per image."""
    from ..dataset import Dataset

    source = plan(src, options, report)
    return Dataset(read_units(source.context, source.units, options, report), labels=source.labels,
                   images_root=source.images_root, total=len(source.units))


def _check_image(image: Any, images: dict) -> tuple[str, str] | None:
    """Why an image record cannot be read, as ``(message, pointer suffix)``; None when it is fine."""
    if not isinstance(image, dict):
        return "an image must be an object", ""
    image_id = image.get("id")
    if isinstance(image_id, bool) or not isinstance(image_id, (int, str)):
        return "image 'id' must be an integer", "/id"
    if image_id in images:
        return f"image id {image_id} appears twice", "/id"
    if not isinstance(image.get("file_name"), str) or not image["file_name"]:
        return "image 'file_name' must be a non-empty string", "/file_name"
    for key in ("width", "height"):
        value = image.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            return f"image {key!r} must be a positive integer", f"/{key}"
    return None


def _record_type(record: Any) -> str:
    """The Dataloop type a record would have become (for counting records that failed)."""
    if not isinstance(record, dict):
        return "unknown"
    segmentation = record.get("segmentation")
    if isinstance(segmentation, dict):
        return "binary"
    if record.get("keypoints"):
        return "pose"
    if segmentation:
        return "segment"
    return "box" if record.get("bbox") is not None else "class"


def _check_record(record: Any, images: dict, labels: dict) -> tuple[str, str] | None:
    """Why a record cannot be read, as ``(message, pointer suffix)``; None when it is fine."""
    if not isinstance(record, dict):
        return "an annotation must be an object", ""
    if not _listed(record.get("image_id"), images):
        return f"image_id {record.get('image_id')!r} is not in 'images'", "/image_id"
    if not _listed(record.get("category_id"), labels):
        return f"category_id {record.get('category_id')!r} is not in 'categories'", "/category_id"
    bbox = record.get("bbox")
    if bbox is not None and not _numbers(bbox, 4):
        return "bbox must be 4 finite numbers [x, y, width, height]", "/bbox"
    if bbox is not None and (bbox[2] < 0 or bbox[3] < 0):
        return "bbox width and height must not be negative", "/bbox"
    segmentation = record.get("segmentation")
    if isinstance(segmentation, dict):
        size, counts = segmentation.get("size"), segmentation.get("counts")
        if not (isinstance(size, list) and len(size) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in size)):
            return "RLE 'size' must be [height, width]", "/segmentation/size"
        if size[0] * size[1] > MAX_MASK_PIXELS:  # refused before pycocotools allocates it
            return (f"RLE mask is {size[1]}×{size[0]} pixels, more than the limit of {MAX_MASK_PIXELS}",
                    "/segmentation/size")
        if isinstance(counts, list):
            if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**32 for v in counts):
                return "RLE 'counts' must be non-negative 32-bit integers", "/segmentation/counts"
            if sum(counts) != size[0] * size[1]:
                return (f"RLE counts add up to {sum(counts)}, not height×width = {size[0] * size[1]}",
                        "/segmentation/counts")
        elif not isinstance(counts, str) or not counts.isascii():
            return "RLE 'counts' must be a list or an ASCII string", "/segmentation/counts"
    elif isinstance(segmentation, list):
        for i, ring in enumerate(segmentation):
            if not (isinstance(ring, list) and len(ring) % 2 == 0 and _numbers(ring, len(ring))):
                return "a polygon must be a flat list of x, y numbers", f"/segmentation/{i}"
    elif segmentation is not None:
        return "segmentation must be a polygon list or an RLE object", "/segmentation"
    keypoints = record.get("keypoints")
    if keypoints is not None and (not isinstance(keypoints, list) or len(keypoints) % 3
                                  or not _numbers(keypoints, len(keypoints))):
        return "keypoints must be a flat list of x, y, v triplets", "/keypoints"
    return None


_NUMBER_TYPES = frozenset({int, float})


def _listed(key: Any, table: dict) -> bool:
    """``key in table`` for a value read from JSON, which may be a list or an object (never a key)."""
    return isinstance(key, (int, str)) and not isinstance(key, bool) and key in table


def _numbers(values: Any, count: int) -> bool:
    """``values`` is a list of ``count`` finite JSON numbers."""
    if not isinstance(values, list) or len(values) != count:
        return False
    if not values:
        return True
    if not _NUMBER_TYPES.issuperset(map(type, values)):  # bools, strings, None …
        return False
    # a finite sum means every value is finite; an overflowing sum of finite values is checked one by one
    return math.isfinite(sum(values)) or all(map(math.isfinite, values))


def _shape_hints(path: Path) -> dict[Any, str]:
    """``{COCO annotation id: Dataloop type}`` from a ``coco_ids.json`` dlconvert wrote beside the file.

    COCO cannot tell a box (written with its rectangle as segmentation, for pycocotools) from a
    rectangular polygon, nor a pose alone from a pose with a box; the sidecar can.
    """
    sidecar = path.with_name(IDS_FILENAME)
    if not sidecar.is_file():
        return {}
    try:
        refs = read_json_file(sidecar)
    except DlconvertError:
        return {}
    rows = refs.get("annotations") if isinstance(refs, dict) else None
    if not isinstance(rows, list):
        return {}
    return {row["id"]: row["type"] for row in rows
            if isinstance(row, dict) and row.get("type") and isinstance(row.get("id"), (int, str))}


def _image_to_collection(image: dict, records, labels: dict, label_map: LabelMap, path: Path,
                         report: ConversionReport, hints: dict[Any, str]) -> AnnotationCollection:
    filename = "/" + image["file_name"].lstrip("/")
    item_json = {
        "id": None, "filename": filename, "name": posixpath.basename(filename),
        "dir": posixpath.dirname(filename) or "/", "type": "file",
        "metadata": {"system": {"mimetype": mimetypes.guess_type(filename)[0] or "image/jpeg",
                                "width": image.get("width"), "height": image.get("height")},
                     "user": {"coco": image}},
        "annotations": [],
    }
    collection = AnnotationCollection(_item_json=item_json)
    collection._read_item_fields(item_json, path)
    object_ids = 0
    for index, record in records:
        try:
            record_id = record.get("id")
            annotations = _record_to_annotations(record, labels[record["category_id"]], label_map,
                                                 hints.get(record_id) if isinstance(record_id, (int, str)) else None)
        except DlconvertError as exc:
            report.bad_record(exc.at(path=path, where=f"/annotations/{index}"), code="coco.invalid-record",
                              annotation_type=_record_type(record), item=filename)
            continue
        if len(annotations) > 1 and annotations[0].object_id is None:
            object_ids += 1
            for annotation in annotations:
                if annotation.parent_id is None:
                    annotation.object_id = object_ids
        collection.annotations.extend(annotations)
    collection._count_read = len(collection.annotations)
    return collection


def _record_to_annotations(record: dict, label: str, label_map: LabelMap, hint: str | None) -> list[Annotation]:
    extras = {k: v for k, v in record.items() if k not in _KNOWN_RECORD_KEYS or k in ("id", "iscrowd")}
    attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else None
    metadata = {"system": {}, "user": {"coco": extras}}
    out: list[Annotation] = []
    definition = _record_geometry(record, label, hint)
    if definition is not None:
        definition.attributes = dict(attributes or {})
        for key in ("bbox", "area"):
            if key in record:
                extras[key] = record[key]
        segmentation = record.get("segmentation")
        if isinstance(segmentation, dict):
            extras[RLE_FORM_KEY] = "list" if isinstance(segmentation.get("counts"), list) else "string"
        elif definition.type == "box" and not any(segmentation or []):
            extras[BOX_SEGMENTATION_KEY] = segmentation if "segmentation" in record else "absent"
        extras[FINGERPRINT_KEY] = geometry_fingerprint(definition)
        out.append(_new(definition, metadata))
    keypoints = record.get("keypoints")
    if keypoints:
        template = label_map.template_for(_template_id(record["category_id"]))
        names = template.order if template else [f"keypoint_{i + 1}" for i in range(len(keypoints) // 3)]
        pose = Pose(label=label, template_id=template.id if template else None, instance_id=str(record.get("id")),
                    attributes=dict(attributes or {}) if definition is None else None)
        pose_annotation = _new(pose, metadata if definition is None else {"system": {}, "user": {"coco": {
            "id": record.get("id")}}})
        pose_annotation.id = f"coco-{record.get('id')}-pose"
        out.append(pose_annotation)
        for i in range(0, len(keypoints), 3):
            x, y, v = keypoints[i:i + 3]
            name = names[i // 3] if i // 3 < len(names) else f"keypoint_{i // 3 + 1}"
            point = Point(x=float(x), y=float(y), label=name,
                          attributes={VISIBILITY_ATTRIBUTE: VISIBILITY_NAMES.get(int(v), str(v))})
            child = _new(point, {"system": {}, "user": {}})
            child.parent_id = pose_annotation.id
            out.append(child)
    return out


def geometry_fingerprint(definition) -> str:
    """A hash of a definition's geometry: equal exactly when the shape is the same."""
    digest = hashlib.sha1()

    def feed(value: Any) -> None:
        if isinstance(value, np.ndarray):
            digest.update(repr((value.shape, value.dtype.str)).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (tuple, list)):
            digest.update(b"(")
            for part in value:
                feed(part)
            digest.update(b")")
        else:
            digest.update(repr(value).encode())

    feed((definition.type, definition._geometry_key()))
    return digest.hexdigest()


def _unchanged(source: dict, annotation: Annotation) -> bool:
    """Whether the annotation still has the shape it was read from COCO with (hashed only when it was)."""
    fingerprint = source.get(FINGERPRINT_KEY)
    return fingerprint is not None and fingerprint == geometry_fingerprint(annotation.annotation_definition)


def source_bbox(annotation: Annotation) -> tuple[float, float, float, float] | None:
    """``(left, top, right, bottom)`` of the COCO ``bbox`` the annotation was read with, while its shape
    is unchanged — the box a COCO dataset declares for the object, which other writers should
    use for it rather than the polygon's bounds (they differ in real COCO files)."""
    source = _annotation_coco(annotation)
    bbox = source.get("bbox")
    if not _numbers(bbox, 4) or not _unchanged(source, annotation):
        return None
    x, y, w, h = (float(v) for v in bbox)
    return (x, y, x + w, y + h)


def _new(definition, metadata: dict) -> Annotation:
    """A fresh annotation owning ``metadata`` (built here, so no defensive copy is needed)."""
    metadata.setdefault("system", {})["automated"] = False
    return Annotation(definition, metadata=metadata)


def _record_geometry(record: dict, label: str, hint: str | None):
    """The record's shape: ``hint`` (the Dataloop type dlconvert wrote it from) settles ambiguities."""
    segmentation = record.get("segmentation")
    bbox = record.get("bbox")
    keypoints = record.get("keypoints")
    if keypoints and hint == "pose":
        return None  # a pose alone: its bbox and rectangle were derived from the keypoints
    if isinstance(segmentation, dict):
        return Segmentation(geo=_decode_rle(segmentation), label=label)
    rings = [r for r in (segmentation or []) if r]
    if rings and keypoints and _flat_area(rings) == 0:
        rings = []  # the placeholder segmentation of a keypoints record without a shape
    if rings:
        rectangle = bbox is not None and len(rings) == 1 and _is_bbox_rectangle(rings[0], bbox)
        if rectangle and hint in (None, "box"):
            xs, ys = rings[0][0::2], rings[0][1::2]  # the corners are exact; x + w may not be
            return Box(left=float(min(xs)), top=float(min(ys)), right=float(max(xs)), bottom=float(max(ys)),
                       label=label)
        return Polygon(geo=[np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in rings], label=label)
    if bbox is not None and not keypoints:
        return Box.from_xywh(*(float(v) for v in bbox), label=label)
    if bbox is not None and keypoints and (bbox[2] > 0 or bbox[3] > 0):
        return Box.from_xywh(*(float(v) for v in bbox), label=label)
    if bbox is None and not keypoints:
        return Classification(label=label)  # a label-only record (Datumaro's COCO "labels" task)
    return None


def _flat_area(rings: list) -> float:
    """Shoelace area of flat ``[x1, y1, x2, y2, …]`` rings (0 for degenerate placeholders)."""
    total = 0.0
    for ring in rings:
        xs, ys = np.asarray(ring[0::2], dtype=float), np.asarray(ring[1::2], dtype=float)
        total += abs(float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1)))) / 2.0
    return total


def _is_bbox_rectangle(ring: list, bbox: list) -> bool:
    if len(ring) != 8:
        return False
    x, y, w, h = bbox
    xs, ys = ring[0::2], ring[1::2]
    return sorted(set(xs)) == sorted({x, x + w}) and sorted(set(ys)) == sorted({y, y + h}) and len(
        {(a, b) for a, b in zip(xs, ys, strict=True)}) == 4


def _decode_rle(rle: dict) -> np.ndarray:
    from pycocotools import mask as mask_utils

    height, width = rle["size"]
    if isinstance(rle["counts"], list):
        encoded = mask_utils.frPyObjects(rle, height, width)
    else:
        encoded = {"size": [height, width], "counts": rle["counts"].encode("ascii")}
    try:
        return mask_utils.decode(encoded).astype(bool)
    except Exception as exc:  # pycocotools raises plain errors on corrupt strings
        raise FormatError(f"RLE cannot be decoded: {exc}", where="/segmentation") from None


# ==== writing ======================================================================================
def _item_coco(collection: AnnotationCollection) -> dict:
    return section(collection._item_json, "metadata", "user", "coco")


def _annotation_coco(annotation: Annotation) -> dict:
    return section(annotation.metadata, "user", "coco")


class _Writer:
    """Builds the COCO records item by item, then the categories and ids at the end."""

    def __init__(self, label_map: LabelMap, options: ConvertOptions, report: ConversionReport) -> None:
        self.labels = label_map
        self.options = options
        self.report = report
        self.images: list[dict] = []
        self.records: list[dict] = []
        self.image_refs: list[dict] = []
        self.record_refs: list[dict] = []
        self.used_labels: set[str] = set()
        self.pose_labels: dict[str, PoseTemplate | None] = {}
        self.claimed: set[int] = set()  # ids of the points of the current item written with a pose

    def add_item(self, collection: AnnotationCollection) -> bool:
        """Add one item's image and records; False (and every annotation reported) for audio items."""
        if collection.is_audio:
            for annotation in collection:
                self.report.skip(annotation, "coco.not-an-image", "COCO holds images; this item is audio",
                                 collection.filename)
            return False
        width, height = collection.display_size
        self.claimed = set()
        source = _item_coco(collection)
        image = dict(source)
        image["id"] = source.get("id")
        image["file_name"] = (collection.filename or collection.name or "").lstrip("/")
        if isinstance(source.get("file_name"), str) and source["file_name"].lstrip("/") == image["file_name"]:
            image["file_name"] = source["file_name"]
        image["width"], image["height"] = width, height
        self.images.append(image)
        self.image_refs.append({"item_id": collection.item_id, "filename": collection.filename})
        image_index = len(self.images) - 1
        item = collection.filename
        annotations = list(collection)
        partners = pose_partners(annotations, ("box", "segment", "binary"))
        pose_ids = {a.id for a in annotations if a.type == "pose" and a.id is not None}
        for i, annotation in enumerate(annotations):
            if i in partners.values():
                continue  # written in its pose's record
            if annotation.type == "point" and annotation.parent_id in pose_ids:
                continue  # written as a keypoint of its pose
            if annotation.type == "pose":
                self._add_pose(collection, annotation, partners.get(i), image_index, width, height, item)
                continue
            record = self._geometry_record(annotation, width, height, item)
            if record is None:
                continue
            if annotation.is_video:
                self.report.approximate(annotation, "coco.video-first-frame",
                                        "COCO has no video: the first frame of the track is written", item)
            self._finish(record, annotation, image_index, collection.item_id)
            self.report.wrote(annotation)
        return True

    # -- geometry -----------------------------------------------------------------------------
    def _geometry_record(self, annotation: Annotation, width, height, item) -> dict | None:
        definition = annotation.annotation_definition
        kind = definition.type
        report = self.report
        if kind == "box":
            if definition.problems():
                report.skip(annotation, "coco.invalid-geometry", definition.problems()[0], item)
                return None
            corners = definition.corners()
            if definition.is_rotated:
                report.approximate(annotation, "coco.rotated-box-as-polygon",
                                   "rotated box written as its 4-corner polygon", item)
            left, top, right, bottom = definition.bounds()
            record = {"segmentation": [corners.reshape(-1).tolist()], "area": float(definition.area),
                      "bbox": [left, top, right - left, bottom - top], "iscrowd": 0}
            source = _annotation_coco(annotation)
            if BOX_SEGMENTATION_KEY in source and not definition.is_rotated:
                # Read from COCO without a polygon: give back what the source had.
                if source[BOX_SEGMENTATION_KEY] == "absent":
                    del record["segmentation"]
                else:
                    record["segmentation"] = source[BOX_SEGMENTATION_KEY]
            return record
        if kind == "ellipse":
            report.approximate(annotation, "coco.ellipse-as-polygon", "ellipse written as a 72-point polygon", item)
            points = definition.to_polygon_points()
            left, top, right, bottom = definition.bounds()
            return {"segmentation": [points.reshape(-1).tolist()], "area": float(definition.area),
                    "bbox": [left, top, right - left, bottom - top], "iscrowd": 0}
        if kind == "segment":
            return self._polygon_record(annotation, width, height, item)
        if kind == "binary":
            return self._mask_record(annotation, definition.geo, width, height, item)
        reason = {
            "point": "a point is written only as a keypoint of a pose",
            "polyline": "COCO has no open lines",
            "class": "COCO has no image-level classification",
            "subtitle": "COCO has no subtitles",
            "cube": "COCO has no cuboids",
        }.get(kind, f"COCO cannot hold a {kind!r} annotation")
        report.skip(annotation, "coco.unsupported-type", reason, item)
        return None

    def _polygon_record(self, annotation: Annotation, width, height, item) -> dict | None:
        definition = annotation.annotation_definition
        parts = [p for p in definition.parts if len(p) > 0]
        if not parts:
            self.report.skip(annotation, "coco.invalid-geometry", "polygon has no points", item)
            return None
        if any(len(p) < 3 for p in parts):
            # pycocotools reads a 4-number polygon as a box: pad short rings instead (pitfall 12).
            self.report.approximate(annotation, "coco.degenerate-polygon-padded",
                                    "a ring with fewer than 3 points was padded by repeating its last point", item)
            parts = [np.concatenate([p, np.repeat(p[-1:], 3 - len(p), axis=0)]) if len(p) < 3 else p
                     for p in parts]
        shape = _simple_ring(parts) or definition.to_shapely()
        if len(parts) > 1 and _rings_overlap(parts, shape):
            if not (width and height):
                self.report.skip(annotation, "coco.no-image-size", "a polygon with holes needs the image size", item)
                return None
            if width * height > MAX_MASK_PIXELS:
                self.report.skip(annotation, "coco.image-too-large", f"a polygon with holes is written as a mask, "
                                 f"and a {width}×{height} mask is more than {MAX_MASK_PIXELS} pixels", item)
                return None
            self.report.approximate(annotation, "coco.polygon-holes-as-rle",
                                    "rings nest (holes), which COCO polygons cannot hold: written as RLE", item)
            mask = Segmentation.from_polygon(definition, shape=(height, width)).geo
            record = self._mask_record(annotation, mask, width, height, item)
            if record is not None:
                record["area"] = float(shape.area)
            return record
        left, top, right, bottom = definition.bounds()
        return {"segmentation": [p.reshape(-1).tolist() for p in parts], "area": float(shape.area),
                "bbox": [left, top, right - left, bottom - top], "iscrowd": 0}

    def _mask_record(self, annotation: Annotation, mask: np.ndarray, width, height, item) -> dict | None:
        from pycocotools import mask as mask_utils

        if width and height and mask.shape != (height, width):
            self.report.skip(annotation, "coco.mask-size-mismatch",
                             f"mask is {mask.shape[1]}×{mask.shape[0]} but the image is {width}×{height}", item)
            return None
        fortran = np.asfortranarray(mask.astype(np.uint8))
        rle = mask_utils.encode(fortran)
        left, top, w, h = (float(v) for v in mask_utils.toBbox(rle))
        source = _annotation_coco(annotation)
        form = self.options.rle if self.options.rle != "auto" else (
            "uncompressed" if source.get(RLE_FORM_KEY) == "list" else "compressed")
        counts = _uncompressed_counts(mask) if form == "uncompressed" else rle["counts"].decode("ascii")
        return {"segmentation": {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts},
                "area": float(mask_utils.area(rle)), "bbox": [left, top, w, h], "iscrowd": 0}

    # -- poses ----------------------------------------------------------------------------------
    def _add_pose(self, collection, pose_annotation, partner, image_index, width, height, item) -> None:
        pose = pose_annotation.annotation_definition
        template = self.labels.template_for(pose.template_id, pose.label)
        # The points add_item left to their pose, each once (two poses may share an id in a broken file).
        children = [c for c in collection.children(pose_annotation) if c.type == "point" and id(c) not in self.claimed]
        self.claimed.update(id(c) for c in children)
        names = list(template.order) if template else [c.annotation_definition.label for c in children]
        by_name: dict[str, Annotation] = {}
        for child in children:
            label = child.annotation_definition.label
            if child.type != "point" or label not in names or label in by_name:
                self.report.skip(child, "coco.keypoint-not-in-template",
                                 f"keypoint {label!r} is not in the pose template (or repeated)", item)
                continue
            by_name[label] = child
        keypoints: list[float] = []
        for name in names:
            child = by_name.get(name)
            if child is None:
                keypoints.extend((0, 0, 0))
                continue
            point = child.annotation_definition
            keypoints.extend((point.x, point.y, visibility(child)))
        record: dict | None = None
        partner_annotation = collection.annotations[partner] if partner is not None else None
        if partner_annotation is not None:
            record = self._geometry_record(partner_annotation, width, height, item)
            if record is None:  # the shape was skipped (and reported): the keypoints are still written
                partner_annotation = None
        if record is None:
            visible = [(keypoints[i], keypoints[i + 1]) for i in range(0, len(keypoints), 3) if keypoints[i + 2] > 0]
            if visible:
                xs, ys = [p[0] for p in visible], [p[1] for p in visible]
                bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
            else:
                bbox = [0.0, 0.0, 0.0, 0.0]
            x, y, w, h = bbox
            # pycocotools' annToMask needs a polygon: the keypoints' box, or a zero-area triangle
            # when the keypoints span no area (an empty list would crash it).
            ring = [x, y, x + w, y, x + w, y + h, x, y + h] if w > 0 and h > 0 else [x, y, x + w, y, x + w, y + h]
            record = {"segmentation": [ring], "area": float(w * h), "bbox": bbox, "iscrowd": 0}
        record["keypoints"] = keypoints
        record["num_keypoints"] = sum(1 for i in range(2, len(keypoints), 3) if keypoints[i] > 0)
        self.pose_labels[pose.label] = template or PoseTemplate(pose.template_id or "", pose.label, names)
        owner = partner_annotation or pose_annotation
        self._finish(record, owner, image_index, collection.item_id, label=pose.label,
                     shape=partner_annotation.type if partner_annotation is not None else "pose")
        if partner_annotation is not None:
            self.report.wrote(partner_annotation)
        self.report.wrote(pose_annotation)
        for child in by_name.values():
            self.report.wrote(child)

    # -- common ---------------------------------------------------------------------------------
    def _finish(self, record: dict, annotation: Annotation, image_index: int, item_id: str | None,
                label: str | None = None, shape: str | None = None) -> None:
        label = label or annotation.annotation_definition.label or "unlabeled"
        self.used_labels.add(label)
        source = _annotation_coco(annotation)
        out: dict = {"id": source.get("id"), "image_id": image_index, "category_id": label}
        if _unchanged(source, annotation):
            # The shape is the one read from COCO: its own bbox and area still apply exactly.
            record.update({k: source[k] for k in ("bbox", "area") if k in source})
        out.update(record)
        if annotation.attributes:
            out["attributes"] = dict(annotation.attributes)
        for key, value in source.items():
            if key not in out and key not in _BOOKKEEPING_KEYS:
                out[key] = value
        if source.get("iscrowd") in (0, 1):
            out["iscrowd"] = source["iscrowd"]
        self.records.append(out)
        self.record_refs.append({"annotation_id": annotation.id, "item_id": item_id,
                                 "type": shape or annotation.type})

    def finish(self, dst: Path) -> list[Path]:
        image_ids = _ids([img["id"] for img in self.images])
        for image, new_id in zip(self.images, image_ids, strict=True):
            image["id"] = new_id
        record_ids = _ids([r["id"] for r in self.records])
        for label in sorted(self.used_labels):
            if label not in self.labels:
                self.labels.add(label)
        categories, category_ids = self._categories()
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

    def _categories(self) -> tuple[list[dict], dict[str, int]]:
        keypoint_only = self.labels.keypoint_names() - self.used_labels
        taken = {info.coco_id for info in self.labels if info.coco_id is not None}
        next_id = max(taken | {info.instance_id for info in self.labels}, default=0) + 1
        rows = []
        for info in self.labels:
            if info.name in keypoint_only:
                continue
            coco_id = info.coco_id
            if coco_id is None:
                coco_id = info.instance_id if info.instance_id not in taken else next_id
                next_id = max(next_id, coco_id) + 1
                taken.add(coco_id)
            rows.append((coco_id, info))
        rows.sort(key=lambda row: row[0])
        categories, ids = [], {}
        for coco_id, info in rows:
            category: dict = {"id": coco_id, "name": info.name}
            if info.supercategory is not None:
                category["supercategory"] = info.supercategory
            elif info.coco_id is None:  # a Dataloop label: its dotted parent, else itself (COCO's habit)
                category["supercategory"] = info.name.rsplit(".", 1)[0] if "." in info.name else info.name
            template = self.pose_labels.get(info.name) or self.labels.template_for(None, info.name)
            if template is not None:
                index = {name: i + 1 for i, name in enumerate(template.order)}
                category["keypoints"] = list(template.order)
                category["skeleton"] = [[index[a], index[b]] for a, b in template.arcs if a in index and b in index]
            category.update(info.extras)
            categories.append(category)
            ids[info.name] = coco_id
        return categories, ids


def _ids(source: list) -> list[int]:
    """The source ids when all are unique integers, else 1…N."""
    if source and all(isinstance(v, int) and not isinstance(v, bool) for v in source) and len(set(source)) == len(
            source):
        return list(source)
    return list(range(1, len(source) + 1))


def _simple_ring(parts: list[np.ndarray]):
    """The shapely polygon of a single valid ring (most COCO objects), else None.

    A valid ring is its own even-odd shape, so the general ``to_shapely`` (``make_valid`` and an
    XOR per ring, a third of a Dataloop → COCO run) is only needed for the others.
    """
    import shapely

    if len(parts) != 1 or len(parts[0]) < 3:
        return None
    shape = shapely.polygons(parts[0])
    return shape if shapely.is_valid(shape) else None


def _rings_overlap(parts: list[np.ndarray], shape) -> bool:
    """True when rings touch or nest, so their even-odd shape is not their union (holes)."""
    import shapely

    total = sum(shapely.Polygon(p).area for p in parts if len(p) >= 3)
    return abs(total - shape.area) > 1e-6 * max(1.0, total)


def _uncompressed_counts(mask: np.ndarray) -> list[int]:
    """COCO list counts: column-major runs, starting with a (possibly empty) run of zeros."""
    flat = np.asarray(mask, dtype=np.uint8).reshape(-1, order="F")
    if flat.size == 0:
        return []
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    return ([0, *runs] if flat[0] == 1 else runs)


def _label_map(dataset: Dataset, options: ConvertOptions) -> LabelMap:
    source = options.labels or dataset.labels
    return source.copy() if source is not None else LabelMap()


def write_shard(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> ShardOutput:
    """The COCO records of these items (image ids still shard positions; :func:`finish` numbers them)."""
    from ..dataset import ShardOutput

    writer = _Writer(_label_map(dataset, options), options, report)
    for collection in dataset.items:
        report.items_out += writer.add_item(collection)
    return ShardOutput(state=(writer.images, writer.records, writer.image_refs, writer.record_refs,
                              writer.used_labels, writer.pose_labels))


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


FORMAT = FormatSpec(
    name="coco",
    summary="COCO instances / person-keypoints JSON (boxes, polygons with all parts, RLE masks, keypoints)",
    holds=frozenset({"box", "segment", "binary", "pose", "point"}),
    approximates={"ellipse": "polygon", "box (rotated)": "polygon", "segment (holes)": "RLE"},
    read=read,
    write=write,
    plan=plan,
    read_units=read_units,
    write_shard=write_shard,
    finish=finish,
)
