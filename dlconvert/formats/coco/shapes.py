"""One annotation's shape as the geometry fields of a COCO record: ``segmentation``, ``area``, ``bbox``, ``iscrowd``.

Every shape is checked against the capability table (:mod:`.capabilities`) and the cross-format
policy (:func:`~dlconvert.formats._policy.degenerate_reason`) first: a type COCO has no record for
is skipped as ``coco.unsupported-type``, a degenerate one (inverted or empty box, polygon without
3 distinct points or area, empty mask) as ``coco.degenerate-shape``. An approximation is reported
only once its record is built, so a shape is never both approximated and skipped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ...geometry import Segmentation
from ...geometry.polygon import signed_area
from ...geometry.segmentation import MAX_MASK_PIXELS
from .._policy import degenerate_reason
from .capabilities import APPROXIMATES, UNSUPPORTED, why_not
from .source import BOX_SEGMENTATION_KEY, RLE_FORM_KEY, annotation_coco

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...report import ConversionReport

__all__ = ["DEGENERATE", "OVERFLOW", "ShapeWriter", "finite_geometry", "keypoints_box_record", "uncompressed_counts"]

DEGENERATE = "coco.degenerate-shape"
#: Why a shape whose ``bbox`` or ``area`` is not a finite number is skipped (as ``coco.degenerate-shape``).
OVERFLOW = "its coordinates are too large: its bbox or area overflows a float (COCO needs finite numbers)"


class ShapeWriter:
    """Builds the geometry fields of records, reporting what it skips or approximates."""

    def __init__(self, rle: str, report: ConversionReport) -> None:
        self.rle = rle  # ConvertOptions.rle: "auto" (the source's form, else compressed) or one form for all
        self.report = report
        self._builders = {"box": self._box, "ellipse": self._ellipse, "segment": self._polygon, "binary": self._mask}

    def record(self, annotation: Annotation, width: int, height: int, item: str | None) -> dict | None:
        """The fields of ``annotation``'s shape, or None when it is skipped (and reported): also when its ``bbox``
        or ``area`` is not a finite number (coordinates so large that they overflow a float)."""
        kind = annotation.type
        reason = why_not(kind)
        if reason is not None:
            self.report.skip(annotation, UNSUPPORTED, reason, item)
            return None
        problem = degenerate_reason(annotation)
        if problem is not None:
            self.report.skip(annotation, DEGENERATE, problem, item)
            return None
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # huge coordinates: checked below, not warned about
                built = self._builders[kind](annotation, width, height, item)
        except OverflowError:  # Python's float arithmetic (an ellipse's bounds) raises where numpy gives inf
            self.report.skip(annotation, DEGENERATE, OVERFLOW, item)
            return None
        if built is None:
            return None
        record, case = built
        if not finite_geometry(record):
            self.report.skip(annotation, DEGENERATE, OVERFLOW, item)
            return None
        if case is not None:
            self.approximated(annotation, case, item)
        return record

    def approximated(self, annotation: Annotation, case: str, item: str | None) -> None:
        """Report ``annotation`` as written in another shape, as the capability table words ``case``."""
        approximation = APPROXIMATES[case]
        self.report.approximate(annotation, approximation.code, approximation.message, item)

    # -- one builder per type: (the record's fields, the approximation to report once it is kept) or None ----
    def _box(self, annotation: Annotation, width, height, item) -> tuple[dict, str | None]:
        turned = annotation.annotation_definition
        definition = turned.upright() or turned  # turned by a right angle: the same region, upright, exactly
        left, top, right, bottom = definition.bounds()
        record = {"segmentation": [definition.corners().reshape(-1).tolist()], "area": float(definition.area),
                  "bbox": [left, top, right - left, bottom - top], "iscrowd": 0}
        if definition.is_rotated:
            return record, "box (rotated)"
        kept = annotation_coco(annotation)
        if BOX_SEGMENTATION_KEY in kept:  # read from COCO without a polygon: give back what the source had
            if kept[BOX_SEGMENTATION_KEY] == "absent":
                del record["segmentation"]
            else:
                record["segmentation"] = kept[BOX_SEGMENTATION_KEY]
        return record, None

    def _ellipse(self, annotation: Annotation, width, height, item) -> tuple[dict, str | None]:
        definition = annotation.annotation_definition
        left, top, right, bottom = definition.bounds()
        return {"segmentation": [definition.to_polygon_points().reshape(-1).tolist()], "area": float(definition.area),
                "bbox": [left, top, right - left, bottom - top], "iscrowd": 0}, "ellipse"

    def _polygon(self, annotation: Annotation, width, height, item) -> tuple[dict, str | None] | None:
        definition = annotation.annotation_definition
        parts = definition.parts  # every ring has 3 points or more (degenerate_reason)
        shape = _simple_ring(parts) or definition.to_shapely()
        left, top, right, bottom = definition.bounds()
        record = {"segmentation": [p.reshape(-1).tolist() for p in parts], "area": float(shape.area),
                  "bbox": [left, top, right - left, bottom - top], "iscrowd": 0}
        if len(parts) > 1 and finite_geometry(record) and _rings_overlap(parts, shape):
            return self._polygon_with_holes(annotation, shape, width, height, item)
        return record, None

    def _polygon_with_holes(self, annotation: Annotation, shape, width, height, item) -> tuple[dict, str] | None:
        if width * height > MAX_MASK_PIXELS:
            self.report.skip(annotation, "coco.image-too-large", f"a polygon with holes is written as a mask, "
                             f"and a {width}×{height} mask is more than {MAX_MASK_PIXELS} pixels", item)
            return None
        mask = Segmentation.from_polygon(annotation.annotation_definition, shape=(height, width)).geo
        record = self._rle_record(annotation, mask)
        record["area"] = float(shape.area)
        return record, "segment (holes)"

    def _mask(self, annotation: Annotation, width, height, item) -> tuple[dict, None] | None:
        mask = annotation.annotation_definition.geo
        if mask.shape != (height, width):
            self.report.skip(annotation, "coco.mask-size-mismatch",
                             f"mask is {mask.shape[1]}×{mask.shape[0]} but the image is {width}×{height}", item)
            return None
        return self._rle_record(annotation, mask), None

    def _rle_record(self, annotation: Annotation, mask: np.ndarray) -> dict:
        from pycocotools import mask as mask_utils

        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        left, top, w, h = (float(v) for v in mask_utils.toBbox(rle))
        form = self.rle if self.rle != "auto" else (
            "uncompressed" if annotation_coco(annotation).get(RLE_FORM_KEY) == "list" else "compressed")
        counts = uncompressed_counts(mask) if form == "uncompressed" else rle["counts"].decode("ascii")
        return {"segmentation": {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts},
                "area": float(mask_utils.area(rle)), "bbox": [left, top, w, h], "iscrowd": 0}


def finite_geometry(record: dict) -> bool:
    """Whether a record's ``bbox`` and ``area`` are finite numbers: JSON has no infinity (orjson writes ``null``),
    so a shape whose size overflows a float is skipped rather than written invalid."""
    values = [*record.get("bbox", ()), record.get("area", 0.0)]
    return all(math.isfinite(v) for v in values)


def keypoints_box_record(bbox: list) -> dict:
    """The shape fields of a pose without a shape: ``bbox``, its area, and its rectangle as segmentation
    (pycocotools' ``annToMask`` needs a polygon; a zero-area triangle when the box has no area)."""
    x, y, w, h = bbox
    ring = [x, y, x + w, y, x + w, y + h, x, y + h] if w > 0 and h > 0 else [x, y, x + w, y, x + w, y + h]
    return {"segmentation": [ring], "area": float(w * h), "bbox": bbox, "iscrowd": 0}


def _simple_ring(parts: list[np.ndarray]):
    """The shapely polygon of a single valid ring (most COCO objects), else None.

    A valid ring is its own even-odd shape, so the general ``to_shapely`` (``make_valid`` and an
    XOR per ring, a third of a Dataloop → COCO run) is only needed for the others.
    """
    import shapely

    if len(parts) != 1:
        return None
    shape = shapely.polygons(parts[0])
    return shape if shapely.is_valid(shape) else None


def _rings_overlap(parts: list[np.ndarray], shape) -> bool:
    """True when rings touch or nest, so their even-odd shape is not their union (holes)."""
    total = sum(abs(signed_area(p)) for p in parts)
    return abs(total - shape.area) > 1e-6 * max(1.0, total)


def uncompressed_counts(mask: np.ndarray) -> list[int]:
    """COCO list counts: column-major runs, starting with a (possibly empty) run of zeros."""
    flat = np.asarray(mask, dtype=np.uint8).reshape(-1, order="F")
    if flat.size == 0:
        return []
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    return ([0, *runs] if flat[0] == 1 else runs)
