"""Keypoints as COCO and YOLO write them: a visibility per point and the shape a pose belongs with."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..annotation import Annotation

__all__ = ["VISIBILITY_ATTRIBUTE", "VISIBILITY_NAMES", "pose_partners", "visibility"]

#: The point attribute that holds a keypoint's visibility, by name (``visible`` …).
VISIBILITY_ATTRIBUTE = "visibility"
#: COCO / YOLO visibility flags and the names the readers give them.
VISIBILITY_NAMES = {2: "visible", 1: "not-visible", 0: "unlabeled"}
_FLAGS = {"visible": 2, "not-visible": 1, "not_visible": 1, "occluded": 1, "unlabeled": 0, "not-labeled": 0}


def visibility(point_annotation: Annotation) -> int:
    """The COCO/YOLO flag of a keypoint: its visibility attribute (name or 0/1/2), a V1 "not-visible"
    attribute, else 2 (visible)."""
    value = point_annotation.attributes.get(VISIBILITY_ATTRIBUTE)
    if isinstance(value, str) and value.lower() in _FLAGS:
        return _FLAGS[value.lower()]
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1, 2):
        return value
    v1 = [str(v).lower() for v in (point_annotation.v1_attributes or [])]
    if "not-visible" in v1 or "not_visible" in v1:
        return 1
    return 2


def pose_partners(annotations: list[Annotation], shape_types: Collection[str]) -> dict[int, int]:
    """``{pose index: shape index}`` for a pose sharing its object id with exactly one shape of
    ``shape_types``: the two are one record (keypoints plus the object's box or mask)."""
    by_object: dict[str, list[int]] = defaultdict(list)
    for i, annotation in enumerate(annotations):
        if annotation.object_id is not None:
            by_object[annotation.object_id].append(i)
    pairs = {}
    for indices in by_object.values():
        poses = [i for i in indices if annotations[i].type == "pose"]
        shapes = [i for i in indices if annotations[i].type in shape_types]
        if len(poses) == 1 and len(shapes) == 1:
            pairs[poses[0]] = shapes[0]
    return pairs
