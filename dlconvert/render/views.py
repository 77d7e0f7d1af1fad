"""The four pictures of an item: MASK, INSTANCE, OBJECT_ID and ANNOTATION_ON_IMAGE.

* MASK: RGBA, transparent background, each annotation filled in its label's colour (or its
  object's, ``color_by="object"``). Never any text.
* INSTANCE: one channel, pixel = the label's instance id from the label map, 0 = background.
* OBJECT_ID: one channel, pixel = the annotation's object id, 0 = background; annotations without
  a usable object id (COCO, YOLO; an object id 0) get a value by their position
  (:mod:`dlconvert.render.object_ids`), so every object of every source is drawn and none vanishes
  into the background; the legend JSON says which is which.
* ANNOTATION_ON_IMAGE (``overlay``): the image (EXIF-rotated as people see it) with translucent
  fills, solid outlines and, optionally, label text outlined so it reads on any background;
  colours by label, or by object (``color_by="object"``, as supervision's ``ColorLookup.INDEX``).
  Without an image it is drawn on a grey checkerboard captioned "image not found", which no one
  takes for a photo.

Id pictures are exact: no anti-aliasing, filled shapes, and a dtype wide enough for the largest
id (uint8, uint16, uint32) — the SDK's uint8 wraps and its anti-aliased edges invent ids (B1,
B20). Draw order is the stored order; a later annotation covers an earlier one, and the
overlapping pixels are counted. Video items render the state at ``frame_num`` (hidden states are
not drawn). What a picture leaves out is counted by code (:data:`~dlconvert.render.report.NOT_DRAWN`):
shapeless types, degenerate shapes (skipped as ``convert`` skips them), shapes covering no pixel,
keypoints marked not labelled (visibility 0, which COCO stores at 0,0; their skeleton edges too).
"""

from __future__ import annotations

import enum
import numbers
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..collection import AnnotationCollection
from ..errors import DlconvertError
from ..formats._keypoints import visibility
from ..formats._policy import degenerate_reason
from ..labels import LabelMap, stable_color
from .object_ids import MAX_ID, object_color, object_values, whole_id
from .raster import FILLED, Coverage, coverage, line_coverage

__all__ = ["COLOR_BY", "MAX_CANVAS_PIXELS", "MAX_ID", "MAX_THICKNESS", "RenderResult", "ViewAnnotationOptions",
           "as_view", "check_style", "no_image_canvas", "render"]

#: The largest canvas drawn (pixels); a hostile 10⁹ × 10⁹ item must not allocate.
MAX_CANVAS_PIXELS = 400_000_000
#: The widest outline (pixels); -1 fills.
MAX_THICKNESS = 1000
#: The last frame number a render takes (a frame count past any real video).
MAX_FRAME = 2**31 - 1
#: How colour pictures pick an annotation's colour: its label's, or its object's (one colour per object).
COLOR_BY = ("label", "object")
OVERLAY_ALPHA = 0.4
_CHECKER_GREYS = (72, 104)


class ViewAnnotationOptions(str, enum.Enum):
    """The SDK's view names and values; the value is also the export folder's name."""

    JSON = "json"
    MASK = "mask"
    INSTANCE = "instance"
    OBJECT_ID = "object_id"
    ANNOTATION_ON_IMAGE = "img_mask"
    VTT = "vtt"

    def __str__(self) -> str:
        return self.value


_ALIASES = {"overlay": ViewAnnotationOptions.ANNOTATION_ON_IMAGE}


def as_view(value: Any) -> ViewAnnotationOptions:
    """A view from dlconvert's enum, the SDK's (``dl.ViewAnnotationOptions.MASK``, the
    ``dl.VIEW_ANNOTATION_OPTIONS_*`` constants), a value (``"img_mask"``), a member name
    (``"ANNOTATION_ON_IMAGE"``, also as ``str()`` of the SDK's enum prints it) or the CLI's ``"overlay"``."""
    if isinstance(value, ViewAnnotationOptions):
        return value
    if isinstance(value, enum.Enum):  # the SDK's enum (a str subclass whose str() is "ViewAnnotationOptions.MASK")
        value = value.value
    if isinstance(value, str):
        text = value.strip().lower()
        text = text.removeprefix("viewannotationoptions.")
        if text in _ALIASES:
            return _ALIASES[text]
        try:
            return ViewAnnotationOptions(text)
        except ValueError:
            if text.upper() in ViewAnnotationOptions.__members__:
                return ViewAnnotationOptions[text.upper()]
    raise ValueError(f"unknown view {value!r}; use mask, instance, object_id or overlay (img_mask)")


def check_style(*, thickness: Any = None, alpha: Any = None, frame_num: Any = None, color_by: Any = "label",
                color: Any = None) -> None:
    """Refuse a drawing argument out of range (:class:`ValueError`), before anything is drawn or written."""
    if thickness is not None and not (_is_int(thickness) and (thickness == FILLED or 1 <= thickness <= MAX_THICKNESS)):
        raise ValueError(f"thickness must be -1 (filled) or a whole number of pixels 1…{MAX_THICKNESS}, "
                         f"not {thickness!r}")
    if alpha is not None and (not isinstance(alpha, numbers.Real) or isinstance(alpha, bool)
                              or not 0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha must be a number from 0 to 1, not {alpha!r}")
    if frame_num is not None and (not _is_int(frame_num) or not 0 <= frame_num <= MAX_FRAME):
        raise ValueError(f"frame_num must be a whole number 0…{MAX_FRAME}, not {frame_num!r}")
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {', '.join(COLOR_BY)}, not {color_by!r}")
    if color is not None and (not isinstance(color, (tuple, list, np.ndarray)) or len(color) != 3
                              or not all(_is_int(c) and 0 <= c <= 255 for c in color)):
        raise ValueError(f"color must be three whole numbers 0…255 (r, g, b), not {color!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


@dataclass
class RenderResult:
    """The picture and what went into it."""

    image: np.ndarray
    drawn: int = 0
    not_drawn: Counter = field(default_factory=Counter)  # code (NOT_DRAWN) → annotations
    overlap_pixels: int = 0
    legend: dict[int, dict] = field(default_factory=dict)  # pixel value → what it stands for (id views)
    #: ``{index in the drawn item: (code, reason)}`` of every annotation left out
    problems: dict[int, tuple[str, str]] = field(default_factory=dict)

    def leave_out(self, index: int, code: str, reason: str) -> None:
        self.not_drawn[code] += 1
        self.problems[index] = (code, reason)


def render(
    collection: AnnotationCollection,
    view: Any = ViewAnnotationOptions.MASK,
    *,
    image: np.ndarray | None = None,
    label_map: LabelMap | None = None,
    label_instance_dict: dict[str, int] | None = None,
    thickness: int | None = None,
    alpha: float | None = None,
    with_text: bool = False,
    frame_num: int | None = None,
    height: int | None = None,
    width: int | None = None,
    color: tuple[int, int, int] | None = None,
    color_by: str = "label",
) -> RenderResult:
    """Draw one item in ``view``; ``image`` is an RGB(A) array in the displayed orientation.

    ``with_text`` writes label names on the overlay only. ``color_by="object"`` colours MASK and
    overlay pictures by object (:func:`~dlconvert.render.object_ids.object_color`) instead of by label.
    """
    view = as_view(view)
    if view in (ViewAnnotationOptions.JSON, ViewAnnotationOptions.VTT):
        raise ValueError(f"{view.value} is not a picture")
    check_style(thickness=thickness, alpha=alpha, frame_num=frame_num, color_by=color_by, color=color)
    shape = _canvas_shape(collection, image, height, width)
    if collection.frame_range is not None or frame_num is not None:
        collection = collection.get_frame(frame_num or 0)
    labels = label_map if label_map is not None else LabelMap.from_names(a.annotation_definition.label
                                                                         for a in collection)
    if view in (ViewAnnotationOptions.INSTANCE, ViewAnnotationOptions.OBJECT_ID):
        return _render_ids(collection, view, shape, labels, label_instance_dict, thickness)
    return _render_colour(collection, view, shape, image, labels, thickness, alpha, with_text, color, color_by)


def _canvas_shape(collection, image, height, width) -> tuple[int, int]:
    for name, value in (("height", height), ("width", width)):
        if value is not None and (not _is_int(value) or value < 1):
            raise ValueError(f"{name} must be a whole number of pixels ≥ 1, not {value!r}")
    if (height is None or width is None) and image is not None:
        # the photo's own size, as the SDK draws on the image it is given: an item whose JSON declares
        # another size still shows its whole photo, never a squeezed one (its shapes are in its pixels)
        height, width = height or image.shape[0], width or image.shape[1]
    elif height is None or width is None:
        display_w, display_h = collection.display_size
        if display_w and display_h:
            width, height = width or display_w, height or display_h
    size = _pixels(height), _pixels(width)
    if None in size:  # the item's own size may be missing, or anything its JSON said
        raise DlconvertError(f"{collection.filename}: the item's size is unknown or not a size ({width!r}×"
                             f"{height!r}); give the image or height/width")
    if size[0] * size[1] > MAX_CANVAS_PIXELS:
        raise DlconvertError(f"{collection.filename}: a {width}×{height} canvas is larger than the limit of "
                             f"{MAX_CANVAS_PIXELS} pixels")
    return size


def _pixels(value: Any) -> int | None:
    """A size in pixels (``640`` or ``640.0``), or None when it is not a whole number ≥ 1."""
    if _is_int(value):
        return int(value) if value >= 1 else None
    if isinstance(value, float) and value.is_integer() and value >= 1:
        return int(value)
    return None


_SHAPELESS = "render.no-shape"
NO_IMAGE_CAPTION = "image not found"
_DRAWN_TYPES = frozenset({"box", "segment", "ellipse", "binary", "polyline", "point", "cube"})


def _shapes(collection: AnnotationCollection, shape, thickness: int, labels: LabelMap):
    """Yield ``(index, annotation, coverage, None, None)`` for each annotation drawn, in draw order, and
    ``(index, annotation, None, code, reason)`` for each one left out; poses as their skeletons."""
    annotations = collection.annotations
    children: dict[str, list] = {}
    for annotation in annotations:
        if annotation.parent_id is not None:
            children.setdefault(annotation.parent_id, []).append(annotation)
    for index, annotation in enumerate(annotations):
        definition = annotation.annotation_definition
        kind = definition.type
        if kind == "point" and visibility(annotation) == 0:
            yield index, annotation, None, "render.unlabelled-keypoint", "keypoint marked not labelled (visibility 0)"
            continue
        if kind == "pose":
            covered = _skeleton(annotation, children.get(annotation.id, ()), shape, labels, thickness)
            if covered is None:
                yield index, annotation, None, "render.pose-without-skeleton", "no edge between labelled keypoints"
            else:
                yield index, annotation, covered, None, None
            continue
        if kind not in _DRAWN_TYPES:
            yield index, annotation, None, _SHAPELESS, f"{kind} has no shape"
            continue
        # A polygon's check costs a sixth of drawing it: asked only when its fill left something out.
        reason = degenerate_reason(annotation) if kind != "segment" else None
        if reason is None:
            try:
                covered = coverage(definition, shape, thickness)
            except DlconvertError as exc:
                yield index, annotation, None, "render.unreadable-geometry", exc.message
                continue
            empty = covered is None or not covered.mask.any()
            if kind == "segment" and (empty or any(len(ring) < 3 for ring in definition.parts)):
                reason = degenerate_reason(annotation)
        if reason is not None:
            yield index, annotation, None, "render.degenerate-shape", reason
        elif empty:
            yield index, annotation, None, "render.no-pixels", "covers no pixel centre of the picture"
        else:
            yield index, annotation, covered, None, None


def _skeleton(pose_annotation, children, shape, labels: LabelMap, thickness: int) -> Coverage | None:
    """The pose's template edges between keypoints that are labelled (visibility 1 or 2)."""
    pose = pose_annotation.annotation_definition
    template = labels.template_for(pose.template_id, pose.label)
    if template is None:
        return None
    points = {c.annotation_definition.label: c.annotation_definition for c in children
              if c.type == "point" and visibility(c) != 0}
    lines = [np.array([[points[a].x, points[a].y], [points[b].x, points[b].y]])
             for a, b in template.arcs if a in points and b in points]
    covered = line_coverage(lines, shape, thickness if thickness > 0 else 2, False) if lines else None
    return covered if covered is not None and covered.mask.any() else None


def _render_ids(collection, view, shape, labels: LabelMap, label_instance_dict, thickness) -> RenderResult:
    thickness = FILLED if thickness is None else thickness
    instance = view is ViewAnnotationOptions.INSTANCE
    if instance:
        ids = dict(label_instance_dict) if label_instance_dict is not None else labels.instance_map()
        for label, given in ids.items():
            ids[label] = whole_id(given)
            if ids[label] is None:
                raise DlconvertError(f"the instance id of label {label!r} must be a whole number 0…{MAX_ID}, "
                                     f"got {given!r}")
    else:
        objects = object_values(collection.annotations)
    values: list[tuple[Coverage, int, dict]] = []
    result = RenderResult(np.zeros(0))
    for index, annotation, covered, code, reason in _shapes(collection, shape, thickness, labels):
        if covered is None:
            result.leave_out(index, code, reason)
            continue
        if instance:
            label = annotation.annotation_definition.label
            if label not in ids:
                ids[label] = max(ids.values(), default=0) + 1
            value, meaning = ids[label], {"label": label}
            if value == 0:
                result.leave_out(index, "render.background-id", f"label {label!r} has instance id 0, the background")
                continue
        else:
            value, meaning = objects[index]
        values.append((covered, value, meaning))
    peak = max((v for _, v, _ in values), default=0)
    dtype = np.uint8 if peak <= 0xFF else np.uint16 if peak <= 0xFFFF else np.uint32
    canvas = np.zeros(shape, dtype=dtype)
    for covered, value, meaning in values:
        result.overlap_pixels += covered.paste(canvas, value)
        result.drawn += 1
        entry = result.legend.setdefault(value, dict(meaning))
        if not instance and entry.get("label") != meaning["label"]:
            known = entry["label"] if isinstance(entry["label"], list) else [entry["label"] or ""]
            entry["label"] = sorted({*known, meaning["label"] or ""})  # one track, several labels
    result.image = canvas
    return result


def _render_colour(collection, view, shape, image, labels: LabelMap, thickness, alpha, with_text,
                   color, color_by) -> RenderResult:
    overlay = view is ViewAnnotationOptions.ANNOTATION_ON_IMAGE
    if overlay:
        alpha = OVERLAY_ALPHA if alpha is None else alpha
        base = _as_rgb(image, shape) if image is not None else no_image_canvas(shape)
        canvas = base.astype(np.float32)
    else:
        alpha = 1.0 if alpha is None else alpha
        canvas = _as_rgba(image, shape) if image is not None else np.zeros((*shape, 4), dtype=np.uint8)
    objects = object_values(collection.annotations) if color_by == "object" and color is None else None
    fill_thickness = FILLED if thickness is None else thickness  # MASK: outlines when asked; overlay: filled
    result = RenderResult(np.zeros(0))
    texts = []
    for index, annotation, covered, code, reason in _shapes(collection, shape,
                                                              fill_thickness if not overlay else FILLED, labels):
        if covered is None:
            result.leave_out(index, code, reason)
            continue
        definition = annotation.annotation_definition
        if color is not None:
            rgb = tuple(color)
        elif objects is not None:
            rgb = object_color(objects[index][0])
        else:
            rgb = _label_color(definition, labels)
        result.drawn += 1
        if overlay:
            _blend(canvas, covered, rgb, alpha if definition.type not in ("polyline", "point", "cube", "pose")
                   else 1.0)
            edge_width = thickness if thickness and thickness > 0 else 2
            if definition.type in ("box", "segment", "ellipse", "binary"):
                outline = _outline(definition, shape, edge_width)
                if outline is not None:
                    _blend(canvas, outline, rgb, 1.0)
            if with_text and definition.label:
                texts.append((definition, rgb))
        else:
            result.overlap_pixels += covered.paste(canvas, (*rgb, round(255 * alpha)))
    if overlay:
        canvas = np.clip(np.round(canvas), 0, 255).astype(np.uint8)
    for definition, rgb in texts:  # on the overlay only: MASK and id pictures hold their colours and ids alone
        left, top, _, _ = definition.bounds()
        _tag(canvas, str(definition.label), left, top, rgb)
    if overlay and image is None:
        _tag(canvas, NO_IMAGE_CAPTION, 0, 0, (0, 0, 0))  # last: no label tag or shape hides it
    result.image = canvas
    return result


def no_image_canvas(shape: tuple[int, int]) -> np.ndarray:
    """What an overlay is drawn on when there is no image: a grey checkerboard (captioned "image not
    found" once everything is drawn on it) — a picture no one takes for a photo."""
    height, width = shape
    square = max(8, min(height, width) // 16)
    rows = (np.arange(height) // square) % 2
    columns = (np.arange(width) // square) % 2
    checker = (rows[:, None] ^ columns[None, :]).astype(bool)
    canvas = np.where(checker[:, :, None], np.uint8(_CHECKER_GREYS[1]), np.uint8(_CHECKER_GREYS[0]))
    return np.ascontiguousarray(np.broadcast_to(canvas, (height, width, 3)))


def _label_color(definition, labels: LabelMap) -> tuple[int, int, int]:
    info = labels.get(definition.label)
    if info is not None:
        return info.color
    if definition.type == "binary" and definition.color is not None:
        return tuple(definition.color)
    return stable_color(definition.label or "")


def _outline(definition, shape, width: int) -> Coverage | None:
    if definition.type == "binary":
        import cv2

        mask = definition.geo[: shape[0], : shape[1]].astype(np.uint8)
        kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
        edge = mask & ~cv2.erode(mask, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
        return Coverage(edge.astype(bool), 0, 0) if edge.any() else None
    return coverage(definition, shape, width)


def _blend(canvas: np.ndarray, covered: Coverage, rgb, alpha: float) -> None:
    h, w = covered.mask.shape
    window = canvas[covered.y0:covered.y0 + h, covered.x0:covered.x0 + w, :3]
    window[covered.mask] = (1.0 - alpha) * window[covered.mask] + alpha * np.asarray(rgb, dtype=np.float32)


def _tag(canvas: np.ndarray, text: str, left: float, top: float, rgb) -> None:
    """``text`` on a tag of colour ``rgb`` just above ``(left, top)`` (kept inside), ink chosen for contrast."""
    import cv2

    height, width = canvas.shape[:2]
    scale = max(0.35, min(0.8, height / 700))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    pad = 2
    x = int(min(max(left, 0), max(width - tw - 2 * pad, 0)))
    y = int(min(max(top - th - base - 2 * pad, 0), max(height - th - base - 2 * pad, 0)))
    light = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) > 150
    cv2.rectangle(canvas, (x, y), (x + tw + 2 * pad, y + th + base + 2 * pad), tuple(rgb), -1)
    ink = (0, 0, 0) if light else (255, 255, 255)
    cv2.putText(canvas, text, (x + pad, y + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, 1, cv2.LINE_AA)


def _as_rgb(image: np.ndarray, shape) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = image[:, :, :3]
    if image.shape[:2] != shape:
        import cv2

        image = cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image, dtype=np.uint8)


def _as_rgba(image: np.ndarray, shape) -> np.ndarray:
    rgb = _as_rgb(image, shape)
    alpha = np.asarray(image)[:, :, 3] if np.asarray(image).ndim == 3 and np.asarray(image).shape[2] == 4 else None
    out = np.empty((*shape, 4), dtype=np.uint8)
    out[:, :, :3] = rgb
    out[:, :, 3] = 255 if alpha is None or alpha.shape != shape else alpha
    return out
