"""The four pictures of an item: MASK, INSTANCE, OBJECT_ID and ANNOTATION_ON_IMAGE.

* MASK: RGBA, transparent background, each annotation filled in its label's colour.
* INSTANCE: one channel, pixel = the label's instance id from the label map, 0 = background.
* OBJECT_ID: one channel, pixel = the annotation's object id, 0 = background.
* ANNOTATION_ON_IMAGE: the image (EXIF-rotated as people see it) with translucent fills,
  solid outlines and, optionally, label text outlined so it reads on any background.

Id pictures are exact: no anti-aliasing, filled shapes, and a dtype wide enough for the largest
id (uint8, uint16, uint32) — the SDK's uint8 wraps and its anti-aliased edges invent ids (B1,
B20). An object id that is not a whole number 0…2³¹−1 (the largest a 32-bit TIFF holds) is not
drawn and is counted. Draw order is the stored order; a later annotation covers an earlier one,
and the overlapping pixels are counted. Video items render the state at ``frame_num`` (hidden states
are not drawn). Classifications, subtitles and other shapeless types draw nothing and are
counted as such.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..collection import AnnotationCollection
from ..errors import DlconvertError
from ..labels import LabelMap, stable_color
from .raster import FILLED, Coverage, coverage, line_coverage

__all__ = ["MAX_CANVAS_PIXELS", "RenderResult", "ViewAnnotationOptions", "render"]

#: The largest canvas drawn (pixels); a hostile 10⁹ × 10⁹ item must not allocate.
MAX_CANVAS_PIXELS = 400_000_000
#: The largest id an id picture holds: its 32-bit TIFF is written signed (PIL's mode "I").
MAX_ID = 2**31 - 1
OVERLAY_ALPHA = 0.4
_BACKGROUND_GREY = 96


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


_ALIASES = {"overlay": ViewAnnotationOptions.ANNOTATION_ON_IMAGE, "annotation_on_image":
            ViewAnnotationOptions.ANNOTATION_ON_IMAGE}


def as_view(value: Any) -> ViewAnnotationOptions:
    """A view from its enum, value (``"img_mask"``) or CLI name (``"overlay"``)."""
    if isinstance(value, ViewAnnotationOptions):
        return value
    text = str(value).lower()
    if text in _ALIASES:
        return _ALIASES[text]
    try:
        return ViewAnnotationOptions(text)
    except ValueError:
        raise ValueError(f"unknown view {value!r}; use mask, instance, object_id or overlay") from None


@dataclass
class RenderResult:
    """The picture and what went into it."""

    image: np.ndarray
    drawn: int = 0
    not_drawn: Counter = field(default_factory=Counter)  # reason → count
    overlap_pixels: int = 0
    legend: dict[int, dict] = field(default_factory=dict)  # pixel value → what it stands for (id views)


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
) -> RenderResult:
    """Draw one item in ``view``; ``image`` is an RGB(A) array in the displayed orientation."""
    view = as_view(view)
    if view in (ViewAnnotationOptions.JSON, ViewAnnotationOptions.VTT):
        raise ValueError(f"{view.value} is not a picture")
    shape = _canvas_shape(collection, image, height, width)
    if collection.frame_range is not None or frame_num is not None:
        collection = collection.get_frame(frame_num or 0)
    labels = label_map if label_map is not None else LabelMap.from_names(a.annotation_definition.label
                                                                         for a in collection)
    if view in (ViewAnnotationOptions.INSTANCE, ViewAnnotationOptions.OBJECT_ID):
        return _render_ids(collection, view, shape, labels, label_instance_dict, thickness)
    return _render_colour(collection, view, shape, image, labels, thickness, alpha, with_text, color)


def _canvas_shape(collection, image, height, width) -> tuple[int, int]:
    if height is None or width is None:
        display_w, display_h = collection.display_size
        if display_w and display_h:
            width, height = width or display_w, height or display_h
        elif image is not None:
            height, width = image.shape[:2]
    if not height or not width:
        raise DlconvertError(f"{collection.filename}: the item's size is unknown; give the image or height/width")
    if height * width > MAX_CANVAS_PIXELS:
        raise DlconvertError(f"{collection.filename}: a {width}×{height} canvas is larger than the limit of "
                             f"{MAX_CANVAS_PIXELS} pixels")
    return int(height), int(width)


def _shapes(collection: AnnotationCollection, shape, thickness: int, labels: LabelMap):
    """Yield ``(annotation, coverage or None, reason)`` in draw order, poses as their skeletons."""
    for annotation in collection:
        definition = annotation.annotation_definition
        if definition.type == "pose":
            yield annotation, _skeleton(collection, annotation, shape, labels, thickness), "pose without skeleton"
            continue
        try:
            covered = coverage(definition, shape, thickness)
        except DlconvertError as exc:
            yield annotation, None, f"unreadable geometry: {exc.message}"
            continue
        reason = "outside the image" if definition.type in _DRAWN_TYPES else f"{definition.type} has no shape"
        yield annotation, covered, reason


_DRAWN_TYPES = frozenset({"box", "segment", "ellipse", "binary", "polyline", "point", "cube"})


def _skeleton(collection, pose_annotation, shape, labels: LabelMap, thickness: int) -> Coverage | None:
    pose = pose_annotation.annotation_definition
    template = labels.template_for(pose.template_id, pose.label)
    if template is None:
        return None
    points = {c.annotation_definition.label: c.annotation_definition for c in collection.children(pose_annotation)
              if c.type == "point"}
    lines = [np.array([[points[a].x, points[a].y], [points[b].x, points[b].y]])
             for a, b in template.arcs if a in points and b in points]
    return line_coverage(lines, shape, thickness if thickness > 0 else 2, False) if lines else None


def _render_ids(collection, view, shape, labels: LabelMap, label_instance_dict, thickness) -> RenderResult:
    thickness = FILLED if thickness is None else thickness
    ids = dict(label_instance_dict) if label_instance_dict is not None else labels.instance_map()
    for label, given in ids.items():
        ids[label] = None if isinstance(given, bool) else _whole_id(given)
        if ids[label] is None:
            raise DlconvertError(f"the instance id of label {label!r} must be a whole number 0…{MAX_ID}, "
                                 f"got {given!r}")
    values: list[tuple[Any, Coverage, int, dict]] = []
    result = RenderResult(np.zeros(0))
    for annotation, covered, reason in _shapes(collection, shape, thickness, labels):
        label = annotation.annotation_definition.label
        if view is ViewAnnotationOptions.INSTANCE:
            if label not in ids:
                ids[label] = max(ids.values(), default=0) + 1
            value, meaning = ids[label], {"label": label}
        else:
            if annotation.object_id is None:
                result.not_drawn["no object id"] += 1
                continue
            value = _whole_id(annotation.object_id)
            if value is None:
                result.not_drawn[f"object id not a whole number 0…{MAX_ID}"] += 1
                continue
            meaning = {"object_id": annotation.object_id, "label": label}
        if covered is None:
            result.not_drawn[reason] += 1
            continue
        values.append((annotation, covered, value, meaning))
    peak = max((v for _, _, v, _ in values), default=0)
    dtype = np.uint8 if peak <= 0xFF else np.uint16 if peak <= 0xFFFF else np.uint32
    canvas = np.zeros(shape, dtype=dtype)
    for _annotation, covered, value, meaning in values:
        result.overlap_pixels += covered.paste(canvas, value)
        result.drawn += 1
        entry = result.legend.setdefault(value, dict(meaning))
        if view is ViewAnnotationOptions.OBJECT_ID and entry.get("label") != meaning["label"]:
            known = entry["label"] if isinstance(entry["label"], list) else [entry["label"] or ""]
            entry["label"] = sorted({*known, meaning["label"] or ""})  # one track, several labels
    result.image = canvas
    return result


def _whole_id(given: Any) -> int | None:
    """The pixel value of an id (``7``, ``"7"``, ``"7.0"``), or None when it is not a whole number 0…MAX_ID."""
    try:
        value = int(str(given))
    except ValueError:
        try:
            number = float(str(given))
        except ValueError:
            return None
        if not number.is_integer():
            return None
        value = int(number)
    return value if 0 <= value <= MAX_ID else None


def _render_colour(collection, view, shape, image, labels: LabelMap, thickness, alpha, with_text,
                   color) -> RenderResult:
    overlay = view is ViewAnnotationOptions.ANNOTATION_ON_IMAGE
    if overlay:
        alpha = OVERLAY_ALPHA if alpha is None else alpha
        base = _as_rgb(image, shape) if image is not None else np.full((*shape, 3), _BACKGROUND_GREY, np.uint8)
        canvas = base.astype(np.float32)
    else:
        alpha = 1.0 if alpha is None else alpha
        canvas = _as_rgba(image, shape) if image is not None else np.zeros((*shape, 4), dtype=np.uint8)
    fill_thickness = FILLED if thickness is None else thickness  # MASK: outlines when asked; overlay: filled
    result = RenderResult(np.zeros(0))
    texts = []
    for annotation, covered, reason in _shapes(collection, shape, fill_thickness if not overlay else FILLED, labels):
        if covered is None:
            result.not_drawn[reason] += 1
            continue
        definition = annotation.annotation_definition
        rgb = tuple(color) if color is not None else _label_color(definition, labels)
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
    for definition, rgb in texts:
        _put_text(canvas, definition, rgb)
    if with_text and not overlay:
        for annotation in collection:
            if annotation.annotation_definition.label:
                _put_text(canvas, annotation.annotation_definition,
                          _label_color(annotation.annotation_definition, labels))
    result.image = canvas
    return result


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


def _put_text(canvas: np.ndarray, definition, rgb) -> None:
    """The label on a tag of its own colour at the shape's top-left, ink chosen for contrast."""
    import cv2

    text = str(definition.label)
    left, top, _, _ = definition.bounds()
    height, width = canvas.shape[:2]
    scale = max(0.35, min(0.8, height / 700))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    pad = 2
    x = int(min(max(left, 0), max(width - tw - 2 * pad, 0)))
    y = int(min(max(top - th - base - 2 * pad, 0), max(height - th - base - 2 * pad, 0)))
    light = (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]) > 150
    extra = (255,) if canvas.ndim == 3 and canvas.shape[2] == 4 else ()
    cv2.rectangle(canvas, (x, y), (x + tw + 2 * pad, y + th + base + 2 * pad), (*rgb, *extra), -1)
    ink = (0, 0, 0) if light else (255, 255, 255)
    cv2.putText(canvas, text, (x + pad, y + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale, (*ink, *extra), 1,
                cv2.LINE_AA)


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
