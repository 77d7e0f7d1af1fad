"""``<bndbox>`` numbers both ways: VOC's two conventions, the rounding rule, and text without float noise.

``voc_origin`` 1 (default, the VOC devkit's): the numbers are 1-based, inclusive pixel indices, so
a box over pixels 0…9 (continuous edges 0…10) is ``xmin=1 … xmax=10``. Reading subtracts 1 from
xmin/ymin only, as detectron2 does. Writing gives integers, since VOC tools parse them with
``int()`` (the devkit, py-faster-rcnn's and Detectron's ``voc_eval``; mmdetection truncates with
``int(float())``). The rule: xmin/ymin is the 1-based index of the first pixel whose centre lies
in the box, xmax/ymax that of the last — ``xmin = ceil(left - ½) + 1``, ``xmax = ceil(right - ½)``,
each edge moved to its nearest pixel edge (an edge exactly halfway goes right/down). It is the
pixel-centre rule the segmentation PNGs are drawn with, so the ``<bndbox>`` of a box holds exactly
the pixels its mask would, and that of a mask is its pixel extent. A box that holds no pixel
centre along an axis keeps the pixels it lies in (``floor(left) + 1 … ceil(right)``). Integral
edges come back unchanged; a box that moves is reported by the writer (``voc.box-rounded``) when
``verify`` would see the change (its default tolerance: 0.01 px, or IoU 0.999).

``voc_origin`` 0 (globox, Datumaro, the Dataloop SDK): continuous edges, written as they are.

Text: integral values as integers (``12``, not ``12.0``), others as the shortest decimal that
reads back as the same double (Python's ``repr``), so a value read from JSON is written as its
source wrote it. The noise of dlconvert's own arithmetic is kept out: a COCO box's right edge
``x + w`` is summed in decimal from the numbers the COCO file holds (500.27 + 22.8 is written
523.07, not 523.0699999999999), and bounds computed by trigonometry (a rotated box's, an ellipse's;
both reported as approximations) are rounded to 12 significant digits. Rounding every value to a
fixed number of digits was rejected: it would change genuine values, so a float box would no
longer read back as written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np

from .._fingerprint import geometry_fingerprint, still_matches
from .._metadata import section

if TYPE_CHECKING:
    from ...annotation import Annotation

__all__ = ["FINGERPRINT_KEY", "BoxNumbers", "coco_declared", "computed", "edges_of", "kept", "numbers_for",
           "pixel_spans", "same_edges", "text"]

#: ``metadata.user.voc`` key of the fingerprint of the shape a kept ``bndbox`` belongs to.
FINGERPRINT_KEY = "geometry_sha1"

Edges = tuple[float, float, float, float]


@dataclass(frozen=True)
class BoxNumbers:
    """The four ``<bndbox>`` numbers to write, and the continuous box a reader gets back from them."""

    values: tuple
    edges: Edges


def edges_of(values: Any, origin: int) -> Edges:
    """The continuous box (left, top, right, bottom) that ``<bndbox>`` numbers stand for."""
    xmin, ymin, xmax, ymax = (float(v) for v in values)
    shift = 1 if origin == 1 else 0
    return (xmin - shift, ymin - shift, xmax, ymax)


def _pixels(low: float, high: float) -> tuple[int, int]:
    """1-based first and last pixel of the span [low, high] (see the module docstring)."""
    first, end = math.ceil(low - 0.5), math.ceil(high - 0.5)
    if end <= first:  # no pixel centre inside: the pixels it lies in
        first = math.floor(low)
        end = max(math.ceil(high), first + 1)
    return first + 1, end


def numbers_for(edges: Edges, origin: int) -> BoxNumbers:
    """The numbers VOC writes for a continuous box in convention ``origin``."""
    left, top, right, bottom = edges
    if origin != 1:
        values = (left, top, right, bottom)
    else:
        (xmin, xmax), (ymin, ymax) = _pixels(left, right), _pixels(top, bottom)
        values = (xmin, ymin, xmax, ymax)
    return BoxNumbers(values, edges_of(values, origin))


def text(value: float) -> str:
    """A ``<bndbox>`` number as text: integral values as integers, others as the shortest exact decimal."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def same_edges(a: Edges, b: Edges) -> bool:
    """Whether two boxes are the same up to float noise (a billionth of a pixel)."""
    return all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-9) for x, y in zip(a, b, strict=True))


def computed(value: float) -> float:
    """A value dlconvert computed with trigonometry, rounded to 12 significant digits (no noise)."""
    return float(f"{value:.12g}")


def _decimal_sum(a: Any, b: Any) -> float:
    """``a + b`` summed at the decimals the source wrote (the shortest repr of each), then as a float."""
    try:
        return float(Decimal(repr(float(a))) + Decimal(repr(float(b))))
    except (InvalidOperation, ValueError):
        return float(a) + float(b)


def coco_declared(annotation: Annotation) -> Edges | None:
    """The box a COCO file declares for the annotation (``bbox``), while its shape is the one read."""
    from ..coco import source_bbox

    if source_bbox(annotation) is None:
        return None
    x, y, w, h = section(annotation.metadata, "user", "coco")["bbox"]
    return (float(x), float(y), _decimal_sum(x, w), _decimal_sum(y, h))


def kept(annotation: Annotation, origin: int) -> BoxNumbers | None:
    """The ``<bndbox>`` a VOC reader kept with the annotation, while its shape is the one read: its own
    numbers when the origin is the same, else the same box in convention ``origin``."""
    voc = section(annotation.metadata, "user", "voc")
    raw, source_origin = voc.get("bndbox"), voc.get("origin")
    if (not isinstance(raw, list) or len(raw) != 4 or source_origin not in (0, 1)
            or not all(type(v) in (int, float) and math.isfinite(v) for v in raw)):
        return None
    if not still_matches(voc, FINGERPRINT_KEY, geometry_fingerprint(annotation.annotation_definition)):
        return None
    if source_origin == origin:
        return BoxNumbers(tuple(raw), edges_of(raw, origin))
    return numbers_for(edges_of(raw, source_origin), origin)


# ==== the same rule for whole columns (the columnar writer, :mod:`.columns`) =============================
def pixel_spans(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_pixels` of every span: the 1-based first and last pixel, as (integral) doubles. Exact for
    spans within ±2**50."""
    first, end = np.ceil(low - 0.5), np.ceil(high - 0.5)
    empty = end <= first
    first = np.where(empty, np.floor(low), first)
    end = np.where(empty, np.maximum(np.ceil(high), first + 1), end)
    return first + 1, end
