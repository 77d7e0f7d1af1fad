"""The label lines of one image item, per the plan's task (what each kind becomes: :mod:`.capabilities`).

Lines (every coordinate divided by the image width or height **as displayed**: EXIF orientations
5–8 swap them)::

    detect   cls cx cy w h
    segment  cls x1 y1 x2 y2 x3 y3 …            one line per object
    pose     cls cx cy w h px1 py1 v1 …         K keypoints (v: 2 visible, 1 not visible, 0 missing)
    obb      cls x1 y1 x2 y2 x3 y3 x4 y4        the 4 corners, clockwise on screen

* Before the shape: a kind the task cannot hold is skipped (``yolo.unsupported-type``), and so are
  COCO crowd regions (``yolo.crowd-region``: YOLO has no ignore regions; Ultralytics' ``convert_coco``
  skips them too), degenerate shapes (``yolo.degenerate-shape``: nothing is swapped or padded) and,
  with a pinned label map, labels it lacks (``yolo.label-not-in-map``; with ``on_error="fail"`` an
  error): the classes must stay the user's.
* Values: fixed ``options.precision`` decimals (default 6) with trailing zeros kept
  (``f"{v:.6f}"``), so every run writes the same bytes.
* Clipping: everything is clipped into the image ([0, 1]; a box by its edges, polygons, corners
  and keypoints point by point), since Ultralytics drops an image with a value outside. Clipping
  that changes a written digit is reported (``yolo.clipped``); a shape left with no area is
  skipped (``yolo.outside-image``).
* detect: a shape's bounds — a COCO object's own ``bbox`` when it has one and its shape is
  unchanged (as Ultralytics' ``convert_coco`` writes it; the source's own box, so no approximation).
* segment: multi-part polygons and holes are one line per object, the rings joined into one by
  zero-width bridges between their closest vertices (:func:`.plane.merge_rings`), the way
  Ultralytics' ``merge_multi_segment`` joins parts; one line per part would make each part an
  instance. Masks are traced (``Polygon.from_segmentation``, every part and hole), boxes become
  their 4 corners, ellipses 72-point polygons.
* obb: boxes (upright too) → their corners exactly; polygons, masks, ellipses → their minimum
  rotated rectangle — a COCO object's own ``bbox`` when that rectangle is upright (what it reads
  back as). A box read from a YOLO line is written back with the corners it was read with while
  it is unchanged (digit-exact).
* pose: keypoints in the order of the pose's template (``LabelMap.template_for``; without one, the
  keypoint labels in the order first met), padded to the largest K with ``0 0 0``. ``v`` comes
  from the child point's ``visibility`` attribute; a keypoint with no point is ``0 0 0``; an
  ``unlabeled`` point keeps its x, y with v 0. The box is the pose's partner (the one box, polygon,
  mask or ellipse sharing its object id; a shape's bounds are approximated,
  ``yolo.pose-box-from-shape``, unless it is a COCO object with its own ``bbox``), else the bounds
  of its labelled keypoints (``yolo.pose-box-from-keypoints``). Shapes without keypoints → their
  bounds with every keypoint missing (``yolo.no-keypoints``).
* Attributes: a line holds a keypoint's visibility and nothing else; an annotation written with
  attributes that do not come back is reported (``yolo.attributes-dropped``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...compare import Tolerance, geometry_change
from ...geometry import Box, Polygon
from ...geometry.polygon import signed_area
from .._fingerprint import still_matches
from .._keypoints import VISIBILITY_ATTRIBUTE, VISIBILITY_NAMES, pose_partners, visibility
from .._metadata import section
from .._policy import degenerate_reason, is_crowd, label_not_in_map
from .capabilities import ATTRIBUTES_DROPPED, Way, kind_of, way_of
from .common import CORNERS_KEY, FINGERPRINT_KEY
from .plan import Plan, label_of
from .plane import box_fingerprint, merge_rings, min_rectangle

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection
    from ...report import ConversionReport

#: Kinds that are written as a shape (of their own, or as a pose's box).
SHAPES = ("box", "segment", "binary", "ellipse")
_EXACT = Way("exact")
_ROTATED_AS_BOUNDS = way_of("box (rotated)", "detect").code


class LineWriter:
    """Builds the lines of one item at a time; reports every annotation it writes, changes or skips."""

    def __init__(self, plan: Plan, precision: int, report: ConversionReport) -> None:
        self.plan = plan
        self.report = report
        self.spec = f".{precision}f"
        self.half_unit = 0.5 * 10.0 ** -precision
        self._claimed: set[int] = set()  # keypoints already written with a pose, in the current item
        self._collection: AnnotationCollection | None = None  # the item being written

    def lines(self, collection: AnnotationCollection, width: int, height: int) -> list[str]:
        """The item's lines, in annotation order (a pose's box and keypoints on the pose's line)."""
        task = self.plan.task
        annotations = collection.annotations
        partners = pose_partners(annotations, SHAPES) if task == "pose" else {}
        partnered = set(partners.values())
        pose_ids = {a.id for a in annotations if a.type == "pose" and a.id is not None}
        item = collection.filename
        self._claimed = set()
        self._collection = collection
        lines = []
        for i, annotation in enumerate(annotations):
            if i in partnered:
                continue  # written on its pose's line
            if annotation.type == "point" and annotation.parent_id in pose_ids:
                if task != "pose":
                    way = way_of("point (keypoint)", task)
                    self.report.skip(annotation, way.code, way.message, item)
                continue  # else written (or reported) with its pose
            if annotation.type == "pose" and task == "pose":
                partner = annotations[partners[i]] if i in partners else None
                line = self._pose_line(collection, annotation, partner, width, height)
            else:
                line = self._shape_line(annotation, width, height, item)
            if line is not None:
                lines.append(line)
        return lines

    # -- numbers --------------------------------------------------------------------------------------
    def _fmt(self, values) -> str:
        spec = self.spec  # + 0.0 writes -0.0 as 0.0
        return " ".join([format(v + 0.0, spec) for v in np.asarray(values, dtype=np.float64).tolist()])

    def _clamp(self, values):
        """``(values clipped into [0, 1], whether that changes a written digit)``."""
        if isinstance(values, np.ndarray):
            clipped = np.clip(values, 0.0, 1.0)
            return clipped, bool(np.any(np.abs(clipped - values) > self.half_unit))
        clipped = [0.0 if v < 0.0 else (1.0 if v > 1.0 else v) for v in values]
        return clipped, any(abs(c - v) > self.half_unit for c, v in zip(clipped, values, strict=True))

    def _clipped(self, annotation: Annotation, item) -> None:
        self.report.approximate(annotation, "yolo.clipped", "coordinates outside the image were clipped into it", item)

    def _attributes(self, annotation: Annotation, item, kept: dict | None = None) -> None:
        """Report attributes a line does not hold (``kept``: what reading the line gives back)."""
        attributes, kept = annotation.annotation_definition.attributes or {}, kept or {}
        if attributes != kept:
            self.report.approximate(annotation, ATTRIBUTES_DROPPED.code,
                                    f"{ATTRIBUTES_DROPPED.message}: {attributes} come back as {kept}", item)

    def _missing_keypoint(self) -> str:
        return self._fmt([0, 0]) + (" 0" if self.plan.kpt_dims == 3 else "")

    # -- classes --------------------------------------------------------------------------------------
    def _class_index(self, label: str) -> int:
        """The label's class; a label the plan did not foresee (one-pass writing) is appended (never to
        pinned classes: see :meth:`_not_in_map`)."""
        plan = self.plan
        if label not in plan.index:
            plan.label_map.add(label)
            plan.index[label] = len(plan.names)
            plan.names.append(label)
            plan.label_map.extras["yolo"]["names"] = plan.names
        return plan.index[label]

    def _not_in_map(self, annotations: list[Annotation], label: str) -> bool:
        """Whether the classes are pinned and lack ``label``: then an error, or (``on_error="skip"``) each
        annotation skipped."""
        refusal = label_not_in_map(label, self.plan.label_map if self.plan.pinned else None, self.report,
                                   "YOLO's class indices", self._collection)
        if refusal is None:
            return False
        message, path, where = refusal
        for annotation in annotations:
            self.report.skip(annotation, "yolo.label-not-in-map", message, self._collection.filename, path=path,
                             where=where)
        return True

    # -- shapes ---------------------------------------------------------------------------------------
    def _shape_line(self, annotation: Annotation, width: int, height: int, item) -> str | None:
        report = self.report
        task = self.plan.task
        way = way_of(kind_of(annotation), task)
        if not way.writes:
            report.skip(annotation, way.code, way.message, item)
            return None
        if is_crowd(annotation):
            report.skip(annotation, "yolo.crowd-region", "a COCO crowd region: YOLO has no ignore regions", item)
            return None
        reason = degenerate_reason(annotation)
        if reason is not None:
            report.skip(annotation, "yolo.degenerate-shape", reason, item)
            return None
        if self._not_in_map([annotation], label_of(annotation)):
            return None
        size = np.array([width, height], dtype=np.float64)
        if task == "segment":
            written = self._polygon_values(annotation, size, way, item)
        elif task == "obb":
            written = self._corner_values(annotation, size, way, item)
        else:
            written = self._box_values(annotation, size, way, item)
            if written is not None and task == "pose":
                written = (" ".join([written[0], *(self._missing_keypoint() for _ in range(self.plan.kpt_count))]),
                           *written[1:])
        if written is None:
            return None
        values, way, clipped = written
        if way.verdict == "approximated":
            report.approximate(annotation, way.code, way.message, item)
        if clipped:
            self._clipped(annotation, item)
        self._attributes(annotation, item)
        report.wrote(annotation)
        return f"{self._class_index(label_of(annotation))} {values}"

    @staticmethod
    def _declared_box(annotation: Annotation) -> tuple[float, float, float, float] | None:
        """The box a COCO dataset declares for a shape (its ``bbox``, while the shape is unchanged), or None.

        Written for the shape where a box stands for it (detect, a pose's box), as Ultralytics'
        ``convert_coco`` writes it: the source's own box, so no approximation.
        """
        if annotation.type == "box":
            return None
        from ..coco import source_bbox

        return source_bbox(annotation)

    def _box_values(self, annotation: Annotation, size: np.ndarray, way: Way, item):
        """``(cx cy w h, way, clipped)`` of a shape's bounds; a COCO object's own bbox is no approximation."""
        definition = annotation.annotation_definition
        bounds = None
        if way.verdict == "approximated" and self.plan.task == "detect":
            bounds = self._declared_box(annotation)
            if bounds is not None:
                way = _EXACT
        left, top, right, bottom = bounds or definition.bounds()
        if way.code == _ROTATED_AS_BOUNDS and geometry_change(
                definition, Box(left=left, top=top, right=right, bottom=bottom), Tolerance()) is None:
            way = _EXACT  # a box turned by a hair off a right angle: its bounds are the same region, as verify sees it
        width, height = float(size[0]), float(size[1])
        (x0, y0, x1, y1), clipped = self._clamp([left / width, top / height, right / width, bottom / height])
        if x1 <= x0 or y1 <= y0:
            self.report.skip(annotation, "yolo.outside-image", "the box lies outside the image", item)
            return None
        return self._fmt(((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)), way, clipped

    def _rings(self, annotation: Annotation) -> tuple[list[np.ndarray], str]:
        """The rings to write for a shape, in pixels, and the table's kind (several rings apart)."""
        definition = annotation.annotation_definition
        kind = definition.type
        if kind == "box":
            return [definition.corners()], kind_of(annotation)
        if kind == "ellipse":
            return [definition.to_polygon_points()], kind
        if kind == "binary":
            traced = Polygon.from_segmentation(definition.geo, max_instances=None)
            rings = [ring for polygon in traced for ring in polygon.parts if len(ring) >= 3]
        else:
            rings = [ring for ring in definition.parts if len(ring) >= 3]
        return rings, f"{kind} (several rings)" if len(rings) > 1 else kind

    def _polygon_values(self, annotation: Annotation, size: np.ndarray, way: Way, item):
        points = self._yolo_corners(annotation, size)  # a box read from a 4-point line: its own corners
        if points is None:
            rings, kind = self._rings(annotation)
            if not rings:
                self.report.skip(annotation, "yolo.degenerate-shape", "the shape has no ring of 3 or more points",
                                 item)
                return None
            way = way_of(kind, "segment")
            points = merge_rings(rings) / size
        else:
            way = _EXACT
        points, clipped = self._clamp(points)
        if signed_area(points) == 0:
            self.report.skip(annotation, "yolo.outside-image", "the polygon lies outside the image", item)
            return None
        return self._fmt(points.reshape(-1)), way, clipped

    def _yolo_corners(self, annotation: Annotation, size: np.ndarray) -> np.ndarray | None:
        """The normalised corners a box was read with, when it is unchanged since (digit-exact write-back)."""
        definition = annotation.annotation_definition
        if definition.type != "box":
            return None
        yolo = section(annotation.metadata, "user", "yolo")
        corners = yolo.get(CORNERS_KEY)
        if not (isinstance(corners, list) and len(corners) == 8
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in corners)):
            return None
        if not still_matches(yolo, FINGERPRINT_KEY, box_fingerprint(definition, size[0], size[1])):
            return None
        points = np.asarray(corners, dtype=np.float64)
        return points.reshape(4, 2) if np.isfinite(points).all() else None

    def _corner_values(self, annotation: Annotation, size: np.ndarray, way: Way, item):
        """``(x1 y1 … x4 y4, way, clipped)``: a box's corners, else the shape's smallest rotated rectangle —
        or, when that rectangle is upright and the shape a COCO object with its own bbox, that bbox
        (what the rectangle reads back as, and the source's box: no approximation)."""
        definition = annotation.annotation_definition
        corners = self._yolo_corners(annotation, size)
        if corners is None and definition.type == "box":
            corners = definition.corners() / size
        elif corners is None:
            corners = min_rectangle(definition)
            declared = self._declared_box(annotation) if way.verdict == "approximated" else None
            if declared is not None and _upright(corners):
                left, top, right, bottom = declared
                corners, way = np.array([[left, top], [right, top], [right, bottom], [left, bottom]]), _EXACT
            corners = corners / size
        corners, clipped = self._clamp(corners)
        if signed_area(corners) == 0:
            self.report.skip(annotation, "yolo.outside-image", "the box lies outside the image", item)
            return None
        return self._fmt(corners.reshape(-1)), way, clipped

    # -- poses ----------------------------------------------------------------------------------------
    def _pose_line(self, collection: AnnotationCollection, pose_annotation: Annotation, partner: Annotation | None,
                   width: int, height: int) -> str | None:
        item = collection.filename
        report = self.report
        plan = self.plan
        pose = pose_annotation.annotation_definition
        label = label_of(pose_annotation)
        order = plan.orders.get(label, [])
        template = plan.label_map.template_for(pose.template_id, label)
        if template is not None and len(template.order) <= plan.kpt_count:
            order = list(template.order)
        # a keypoint is counted with the first pose that claims it (two poses may share an id)
        children = [c for c in collection.children(pose_annotation) if id(c) not in self._claimed]
        self._claimed.update(id(c) for c in children)
        points = [c for c in children if c.type == "point"]  # a shape with a parent is written as a shape
        if self._not_in_map([a for a in (pose_annotation, partner, *points) if a is not None], label):
            return None
        by_name: dict[str, Annotation] = {}
        for child in points:
            name = child.annotation_definition.label
            if name not in order or name in by_name:
                report.skip(child, "yolo.keypoint-not-in-template",
                            f"keypoint {name!r} is not in the pose's keypoint order (or repeated)", item)
                continue
            by_name[name] = child
        size = np.array([width, height], dtype=np.float64)
        box = None
        if partner is not None:
            reason = degenerate_reason(partner)
            if reason is not None:
                report.skip(partner, "yolo.degenerate-shape", reason, item)
                partner = None
            else:
                declared = self._declared_box(partner)
                if declared is None and (partner.type != "box" or partner.annotation_definition.is_rotated):
                    report.approximate(partner, "yolo.pose-box-from-shape",
                                       f"the pose's {partner.type} written as its bounding box", item)
                box = np.array(declared or partner.annotation_definition.bounds(), dtype=np.float64)
        if box is None:
            labelled = [c.annotation_definition for c in by_name.values() if visibility(c) > 0]
            if not labelled:
                report.skip(pose_annotation, "yolo.degenerate-shape", "the pose has no box and no labelled keypoint",
                            item)
                for child in by_name.values():
                    report.skip(child, "yolo.degenerate-shape", "its pose has no box and no labelled keypoint", item)
                return None
            xs = [p.x for p in labelled]
            ys = [p.y for p in labelled]
            box = np.array([min(xs), min(ys), max(xs), max(ys)], dtype=np.float64)
            report.approximate(pose_annotation, "yolo.pose-box-from-keypoints",
                               "the pose's box is the bounds of its labelled keypoints", item)
        edges, clipped = self._clamp([float(v) for v in box / np.tile(size, 2)])
        if clipped:
            self._clipped(pose_annotation, item)
        head = [(edges[0] + edges[2]) / 2, (edges[1] + edges[3]) / 2, edges[2] - edges[0], edges[3] - edges[1]]
        parts = [str(self._class_index(label)), self._fmt(head)]
        for k in range(plan.kpt_count):
            child = by_name.get(order[k]) if k < len(order) else None
            if child is None:
                parts.append(self._missing_keypoint())
                continue
            point = child.annotation_definition
            xy, clipped = self._clamp([point.x / width, point.y / height])
            if clipped:
                self._clipped(child, item)
            flag = visibility(child)
            parts.append(self._fmt(xy) + (f" {flag}" if plan.kpt_dims == 3 else ""))
            self._attributes(child, item, {VISIBILITY_ATTRIBUTE: VISIBILITY_NAMES[flag]} if plan.kpt_dims == 3 else {})
        for annotation in (pose_annotation, partner):
            if annotation is not None:
                self._attributes(annotation, item)
        for annotation in (pose_annotation, partner, *by_name.values()):
            if annotation is not None:
                report.wrote(annotation)
        return " ".join(parts)


def _upright(corners: np.ndarray) -> bool:
    """Whether 4 corners (pixels) form an axis-aligned rectangle: each x and y at one of its two extremes."""
    low, high = corners.min(axis=0), corners.max(axis=0)
    slack = 1e-9 * max(1.0, float((high - low).max()))
    return bool(np.all(np.minimum(np.abs(corners - low), np.abs(corners - high)) <= slack))
