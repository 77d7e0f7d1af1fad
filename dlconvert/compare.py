"""How alike two annotations are, each kind of shape by a measure that fits it (for ``verify``).

* Boxes (with their angle), polygons, ellipses: IoU of the shapes (a polygon's rings combined
  even-odd; a polygon that comes back with another number of rings has changed even when it
  covers the same area, as a YOLO line bridging two parts does).
* Masks, and any shape against a mask: IoU of their pixels (pixel centres sampled, as drawn).
* Polylines, points and cube corners: distance in pixels (lines have no area); a polyline is
  compared by the Hausdorff distance of its vertices, part by part.
* Classifications: the label alone; subtitles: text and times (to the millisecond, what WebVTT
  holds); types dlconvert does not model: their coordinates, exactly.
* Video and audio tracks: every stored state, frame by frame, and whether it is visible.

A shape is unchanged when its IoU reaches ``min_iou`` *or* no point moved more than
``max_distance`` (so a 2-pixel box rounded to 6 decimals is not "changed"). A shape that comes
back as another type has changed — except a shape that comes back as the box its source format
declared for it (a COCO ``bbox``), which is what a detection format is asked to hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .annotation import Annotation
    from .geometry import BaseAnnotationDefinition

__all__ = ["AREA_TYPES", "Tolerance", "change", "geometry_change", "similarity"]

#: Types compared by area (IoU); any two of them can stand for each other (a box written as a polygon).
AREA_TYPES = frozenset({"box", "segment", "ellipse", "binary"})
_DISTANCE_TYPES = frozenset({"point", "polyline", "cube"})


@dataclass(frozen=True)
class Tolerance:
    """How close counts as the same: IoU for areas, pixels for positions, seconds for times."""

    min_iou: float = 0.999
    max_distance: float = 0.01
    max_time: float = 0.0005  # WebVTT holds milliseconds: times are rounded half-up to them


# ==== ranking: which returned annotation is this one's ==================================================
def similarity(original: Annotation, returned: Annotation) -> float:
    """How alike two annotations are, in [0, 1] (1: the same), for pairing them up: their shapes, and
    for subtitles their text and times (the same line is often said twice)."""
    a, b = original.annotation_definition, returned.annotation_definition
    if a.type == b.type == "subtitle":
        offset = abs(original.start_time - returned.start_time)
        offset += abs((original.end_time or 0) - (returned.end_time or 0))
        return (1.0 if a.text == b.text else 0.5) / (1.0 + offset)
    return _definition_similarity(a, b)


def _definition_similarity(a: BaseAnnotationDefinition, b: BaseAnnotationDefinition) -> float:
    if a.type in AREA_TYPES and b.type in AREA_TYPES:
        return iou(a, b) if _bounds_meet(a, b) else 0.0
    if a.type != b.type:
        return 0.0
    if a.type in _DISTANCE_TYPES:
        distance = _distance(a, b)
        return 1.0 / (1.0 + distance) if distance is not None else 0.0
    if a.type in ("class", "pose", "subtitle"):
        return 1.0
    return 1.0 if _coordinates(a) == _coordinates(b) else 0.0


def _bounds_meet(a, b) -> bool:
    al, at, ar, ab = a.bounds()
    bl, bt, br, bb = b.bounds()
    return al <= br and bl <= ar and at <= bb and bt <= ab


# ==== verdicts ==========================================================================================
def change(original: Annotation, returned: Annotation, tolerance: Tolerance,
           declared_box: tuple[float, float, float, float] | None = None) -> str | None:
    """What changed between an annotation and the one that came back for it (None: nothing the target
    holds): its geometry, every frame of a track, its label, its attributes. ``declared_box`` is the box the
    source format declared for the shape (its COCO ``bbox``): coming back as that box is no change."""
    a, b = original.annotation_definition, returned.annotation_definition
    if a.type == "subtitle" and b.type == "subtitle":
        what = _subtitle_change(original, returned, tolerance)
    else:
        what = geometry_change(a, b, tolerance, declared_box)
        if what is None and original.frames is not None:
            what = _frames_change(original, returned, tolerance)
    if what is None and (a.label or "") != (b.label or ""):  # no label is no label, however a format writes it
        what = f"the label {a.label!r} came back as {b.label!r}"
    if what is None and dict(a.attributes) != dict(b.attributes):
        what = f"attributes changed: {dict(a.attributes)!r} → {dict(b.attributes)!r}"
    return what


def geometry_change(a: BaseAnnotationDefinition, b: BaseAnnotationDefinition, tolerance: Tolerance,
                    declared_box: tuple[float, float, float, float] | None = None) -> str | None:
    """What changed between two geometries (None: the same, within ``tolerance``)."""
    if a.type != b.type:
        if b.type == "box" and declared_box is not None and a.type in AREA_TYPES and is_declared_box(b, declared_box,
                                                                                               tolerance):
            return None
        if a.type in AREA_TYPES and b.type in AREA_TYPES:
            return f"came back as a {b.type} (IoU {iou(a, b):.6f})"
        return f"came back as a {b.type}"
    if a.type in AREA_TYPES:
        return _area_change(a, b, tolerance)
    if a.type in _DISTANCE_TYPES:
        if a.type == "polyline" and len(_parts(a)) != len(_parts(b)):
            return f"came back with {len(_parts(b))} lines instead of {len(_parts(a))}"
        distance = _distance(a, b)
        if distance is None:
            return "its points changed in number"
        return None if distance <= tolerance.max_distance else f"moved by up to {distance:.6g} px"
    if a.type in ("class", "pose"):  # the label (a pose's keypoints are annotations of their own)
        return None
    if a.type == "subtitle":
        return None if a.text == b.text else f"text changed: {a.text!r} → {b.text!r}"
    return None if _coordinates(a) == _coordinates(b) else "coordinates changed"


def _area_change(a, b, tolerance: Tolerance) -> str | None:
    if a.type == "segment" and len(a.parts) != len(b.parts):
        return f"came back with {len(b.parts)} rings instead of {len(a.parts)} (IoU {iou(a, b):.6f})"
    if a.type != "binary":
        distance = _distance(a, b)
        if distance is not None and distance <= tolerance.max_distance:
            return None
    overlap = iou(a, b)
    return None if overlap >= tolerance.min_iou else f"geometry changed (IoU {overlap:.6f} < {tolerance.min_iou})"


def is_declared_box(box, declared: tuple[float, float, float, float], tolerance: Tolerance) -> bool:
    if box.upright() is None:  # oblique: no upright box
        return False
    left, top, right, bottom = box.bounds()
    corners = np.array([[left, top], [right, bottom]])
    target = np.array([[declared[0], declared[1]], [declared[2], declared[3]]])
    if float(np.abs(corners - target).max()) <= tolerance.max_distance:
        return True
    return _box_iou(box.bounds(), declared) >= tolerance.min_iou


def _subtitle_change(original: Annotation, returned: Annotation, tolerance: Tolerance) -> str | None:
    a, b = original.annotation_definition, returned.annotation_definition
    if a.text != b.text:
        return f"text changed: {a.text!r} → {b.text!r}"
    for name in ("start_time", "end_time"):
        first, second = getattr(original, name), getattr(returned, name)
        if (first is None) != (second is None) or (
                first is not None and abs(first - second) > tolerance.max_time + 1e-9):
            return f"{name.replace('_', ' ')} changed: {first} → {second}"
    return None


def _frames_change(original: Annotation, returned: Annotation, tolerance: Tolerance) -> str | None:
    if returned.frames is None:
        return "came back without its frames (one state instead of a track)"
    mine, theirs = original.frames, returned.frames
    if sorted(mine) != sorted(theirs):
        return f"frames changed: stored states at {sorted(mine)} → {sorted(theirs)}"
    for number in sorted(mine):
        a, b = mine[number], theirs[number]
        if a.object_visible != b.object_visible:
            return f"frame {number}: visible {a.object_visible} → {b.object_visible}"
        what = geometry_change(a.annotation_definition, b.annotation_definition, tolerance)
        if what is not None:
            return f"frame {number}: {what}"
    return None


# ==== measures ============================================================================================
def iou(a: BaseAnnotationDefinition, b: BaseAnnotationDefinition) -> float:
    """Intersection over union of two area shapes: pixels when either is a mask, else exact areas."""
    if a.type == "binary" or b.type == "binary":
        return _pixel_iou(a, b)
    if a.type == "box" and b.type == "box" and a.upright() is not None and b.upright() is not None:
        return _box_iou(a.bounds(), b.bounds())  # sides parallel to the axes: bounds() is the region
    with np.errstate(over="ignore", invalid="ignore"):  # coordinates near 1e308: NaN, which is no match
        shape_a, shape_b = a.to_shapely(), b.to_shapely()
        if shape_a.is_empty and shape_b.is_empty:
            return 1.0
        union = shape_a.union(shape_b).area
        return float(shape_a.intersection(shape_b).area / union) if union > 0 else 0.0


def _box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(width, 0.0) * max(height, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else float(a == b)


def _pixel_iou(a, b) -> float:
    shape = _canvas(a, b)
    first, second = _pixels(a, shape), _pixels(b, shape)
    union = np.count_nonzero(first | second)
    return float(np.count_nonzero(first & second) / union) if union else 1.0


def _canvas(a, b) -> tuple[int, int]:
    """The mask canvas (the larger, when two masks differ), else one that holds both shapes."""
    sizes = [d.geo.shape for d in (a, b) if d.type == "binary"]
    return (max(s[0] for s in sizes), max(s[1] for s in sizes))


def _pixels(definition, shape: tuple[int, int]) -> np.ndarray:
    from .geometry.masks import rasterize_rings

    if definition.type == "binary":
        mask = definition.geo
        if mask.shape == shape:
            return mask
        padded = np.zeros(shape, dtype=bool)
        padded[: mask.shape[0], : mask.shape[1]] = mask
        return padded
    if definition.type == "segment":
        rings = definition.parts
    elif definition.type == "box":
        rings = [definition.corners()]
    else:  # ellipse
        rings = [definition.to_polygon_points(256)]
    return rasterize_rings(rings, shape)


def _distance(a, b) -> float | None:
    """How far the points of ``b`` are from those of ``a`` (None when they cannot be paired up)."""
    if a.type == "point":
        return math.hypot(a.x - b.x, a.y - b.y)
    if a.type == "cube":
        return float(np.abs(a.points() - b.points()).max())
    if a.type == "box":
        if a.upright() is not None and b.upright() is not None:  # 0° and 90°, 180°, 360° …: their regions' edges
            return float(np.abs(np.array(a.bounds()) - np.array(b.bounds())).max())
        if not _same_turn(a.angle, b.angle, 180):
            return None
        return float(np.abs(np.array([a.left, a.top, a.right, a.bottom]) -
                            np.array([b.left, b.top, b.right, b.bottom])).max())
    if a.type in ("segment", "polyline"):
        first, second = _parts(a), _parts(b)
        if len(first) != len(second):
            return None
        return max((_hausdorff(p, q) for p, q in zip(first, second, strict=True)), default=0.0)
    if a.type == "ellipse":
        return max(abs(a.x - b.x), abs(a.y - b.y), abs(a.rx - b.rx), abs(a.ry - b.ry)) if (
            _same_turn(a.angle, b.angle, 180)) else None
    return None


def _same_turn(first: float | None, second: float | None, period: float) -> bool:
    """Whether two angles (degrees, None: 0) turn a shape that repeats every ``period`` degrees the same way:
    a box or an ellipse turned by 180° or 360° more is the same shape with the same edges and radii."""
    return ((first or 0.0) - (second or 0.0)) % period == 0


def _parts(definition) -> list[np.ndarray]:
    return [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in definition.parts if len(p)]


def _hausdorff(p: np.ndarray, q: np.ndarray) -> float:
    """The symmetric Hausdorff distance between two point sets."""
    import shapely

    if len(p) == 0 or len(q) == 0:
        return 0.0 if len(p) == len(q) else math.inf
    if p.shape == q.shape and np.array_equal(p, q):
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):  # coordinates near 1e308: inf, which is no match
        return float(shapely.hausdorff_distance(shapely.MultiPoint(p), shapely.MultiPoint(q)))


def _coordinates(definition) -> object:
    return definition.to_coordinates()
