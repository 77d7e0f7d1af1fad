"""One checked COCO annotation record → Dataloop annotations (see the package docstring for the rules).

Records reach here after :func:`~.checks.check_record`, so every field has its COCO type.
"""

from __future__ import annotations

import math

import numpy as np

from ...annotation import Annotation
from ...geometry import Box, Classification, Point, Polygon, Pose, Segmentation
from ...geometry.polygon import signed_area
from ...labels import LabelMap
from .._fingerprint import geometry_fingerprint
from .._keypoints import VISIBILITY_ATTRIBUTE, VISIBILITY_NAMES
from .source import BOX_SEGMENTATION_KEY, GEOMETRY_KEY, KEYPOINTS_KEY, RLE_FORM_KEY, keypoints_fingerprint

__all__ = ["KNOWN_RECORD_KEYS", "decode_rle", "is_bbox", "record_to_annotations", "template_id", "upright_rectangle"]

#: Record fields the Dataloop model holds itself; the others are kept in ``metadata.user.coco``.
KNOWN_RECORD_KEYS = frozenset({"id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd",
                               "keypoints", "num_keypoints", "attributes"})


def template_id(category_id) -> str:
    """The pose template id of a COCO keypoint category."""
    return f"coco-category-{category_id}"


def record_to_annotations(record: dict, label: str, label_map: LabelMap, hint: str | None) -> list[Annotation]:
    """The annotations of one record: its shape, and a pose with one point per keypoint."""
    extras = {k: v for k, v in record.items() if k not in KNOWN_RECORD_KEYS or k in ("id", "iscrowd")}
    attributes = record.get("attributes")
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
            extras[RLE_FORM_KEY] = "list" if isinstance(segmentation["counts"], list) else "string"
        elif definition.type == "box" and not any(segmentation or []):
            extras[BOX_SEGMENTATION_KEY] = segmentation if "segmentation" in record else "absent"
        extras[GEOMETRY_KEY] = geometry_fingerprint(definition)
        out.append(_new(definition, metadata))
    keypoints = record.get("keypoints")
    if keypoints:
        out.extend(_pose(record, label, label_map, keypoints, extras if definition is None else None, attributes))
    return out


def _pose(record: dict, label: str, label_map: LabelMap, keypoints: list, extras: dict | None,
          attributes: dict | None) -> list[Annotation]:
    """A pose and its points; ``extras`` (the record's kept fields) when the record has no shape of its own."""
    template = label_map.template_for(template_id(record["category_id"]))
    names = template.order if template else [f"keypoint_{i + 1}" for i in range(len(keypoints) // 3)]
    pose = Pose(label=label, template_id=template.id if template else None, instance_id=str(record.get("id")),
                attributes=dict(attributes or {}) if extras is not None else None)
    kept = extras if extras is not None else {"id": record.get("id")}
    if extras is not None:  # a lone pose: its bbox and area apply while its keypoints are unchanged
        kept.update({key: record[key] for key in ("bbox", "area") if key in record})
    if "num_keypoints" in record:
        kept["num_keypoints"] = record["num_keypoints"]
    kept[KEYPOINTS_KEY] = keypoints_fingerprint(keypoints)
    pose_annotation = _new(pose, {"system": {}, "user": {"coco": kept}})
    pose_annotation.id = f"coco-{record.get('id')}-pose"
    out = [pose_annotation]
    for i in range(0, len(keypoints), 3):
        x, y, v = keypoints[i:i + 3]
        name = names[i // 3] if i // 3 < len(names) else f"keypoint_{i // 3 + 1}"
        point = Point(x=float(x), y=float(y), label=name, attributes={VISIBILITY_ATTRIBUTE: VISIBILITY_NAMES[int(v)]})
        child = _new(point, {"system": {}, "user": {}})
        child.parent_id = pose_annotation.id
        out.append(child)
    return out


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
        return Segmentation(geo=decode_rle(segmentation), label=label)
    rings = [r for r in (segmentation or []) if r]
    if rings and keypoints and not any(signed_area(_xy(r)) for r in rings):
        rings = []  # the placeholder segmentation of a keypoints record without a shape
    if rings:
        upright = len(rings) == 1 and upright_rectangle(rings[0])
        if upright and (hint == "box" or (hint is None and bbox is not None and is_bbox(rings[0], bbox))):
            xs, ys = rings[0][0::2], rings[0][1::2]  # the corners are exact; x + w may not be
            return Box(left=float(min(xs)), top=float(min(ys)), right=float(max(xs)), bottom=float(max(ys)),
                       label=label)
        return Polygon(geo=[_xy(r) for r in rings], label=label)
    if bbox is not None and not keypoints:
        return Box.from_xywh(*(float(v) for v in bbox), label=label)
    if bbox is not None and keypoints and (bbox[2] > 0 or bbox[3] > 0):
        return Box.from_xywh(*(float(v) for v in bbox), label=label)
    if bbox is None and not keypoints:
        return Classification(label=label)  # a label-only record (Datumaro's COCO "labels" task)
    return None


def _xy(ring: list) -> np.ndarray:
    """A flat ``[x1, y1, x2, y2, …]`` ring as an (n, 2) float array."""
    return np.asarray(ring, dtype=np.float64).reshape(-1, 2)


def upright_rectangle(ring: list) -> bool:
    """Four distinct corners on two x and two y values: an axis-aligned rectangle, as boxes are written."""
    if len(ring) != 8:
        return False
    xs, ys = ring[0::2], ring[1::2]
    return len(set(xs)) == 2 and len(set(ys)) == 2 and len(set(zip(xs, ys, strict=True))) == 4


def is_bbox(ring: list, bbox: list) -> bool:
    """Whether an upright rectangle's edges are the bbox's: x and y exactly, x + w and y + h up to the
    rounding of that sum (``-7.5e-06 + 4.000005`` is not ``3.9999975``)."""
    x, y, w, h = bbox
    xs, ys = ring[0::2], ring[1::2]
    return (min(xs) == x and min(ys) == y and math.isclose(max(xs), x + w, rel_tol=1e-12, abs_tol=1e-12)
            and math.isclose(max(ys), y + h, rel_tol=1e-12, abs_tol=1e-12))


def decode_rle(rle: dict) -> np.ndarray:
    """The mask of a checked RLE (its counts add up to its size)."""
    from pycocotools import mask as mask_utils

    height, width = rle["size"]
    if isinstance(rle["counts"], list):
        encoded = mask_utils.frPyObjects(rle, height, width)
    else:
        encoded = {"size": [height, width], "counts": rle["counts"].encode("ascii")}
    return mask_utils.decode(encoded).astype(bool)
