"""Labelbox features → Dataloop definitions: objects (export v2 and the legacy ``objects`` layout) and
classifications, whose answers become attributes.

An object is read by the geometry it carries — v2 ``bounding_box``, ``polygon``, ``line``, ``point``,
``mask``; legacy ``bbox``, ``polygon``, ``line``, ``point`` — whatever its ``annotation_kind`` says. A
mask given as a base64 PNG (``mask.png``, with ``color_rgb`` when several objects share the picture)
is read; a mask that is only at a URL (v2 ``mask.url`` / ``composite_mask.url``, legacy
``instanceURI`` on an object without other geometry) is not fetched — dlconvert never goes online —
and is returned as :class:`Unread`, as is an object of a kind that has no image shape.

Classifications: a question's answer is its attribute — radio → the answer's name, checklist → the
list of names, free text → the text — and the questions nested under an answer add theirs (a name
already taken is prefixed by its parent question's, ``parent/child``). A global classification is a
Classification labelled by its question, with those attributes; an object's are its attributes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import InvalidAnnotationError, json_pointer
from ...geometry import Classification, Segmentation
from ...geometry.base import BaseAnnotationDefinition
from ...geometry.masks import MAX_MASK_PIXELS, png_size, split_data_url
from .shapes import box_of, line_of, point_of, polygon_of

__all__ = ["MAX_DEPTH", "MAX_NAME_CHARS", "Unread", "answers", "classification", "feature_meta", "name_of",
           "object_shape"]

#: Nested classifications deeper than this are refused (a hostile file could nest them thousands deep).
MAX_DEPTH = 32
#: A name, id or external id longer than this is refused.
MAX_NAME_CHARS = 4096
#: Geometry keys of an object, v2 and legacy, and how each is read.
_GEOMETRY = (("bounding_box", box_of), ("bbox", box_of), ("polygon", polygon_of), ("line", line_of),
             ("point", point_of))
#: The keys of a feature kept in ``metadata.user.labelbox`` (v2 and legacy spellings).
_KEPT = ("feature_id", "feature_schema_id", "featureId", "schemaId", "value", "color", "annotation_kind")


@dataclass(frozen=True)
class Unread:
    """An object of the export that is not read: the Dataloop type it would have had, and why."""

    type: str
    code: str
    message: str


def name_of(feature: dict, what: str = "object") -> str:
    """A feature's name: v2 ``name``, legacy ``title`` (else ``value``)."""
    for key in ("name", "title", "value"):
        value = feature.get(key)
        if isinstance(value, str):
            if len(value) > MAX_NAME_CHARS:
                raise InvalidAnnotationError(f"the {what}'s {key} is {len(value)} characters; at most "
                                             f"{MAX_NAME_CHARS}", where=json_pointer(key))
            return value
    raise InvalidAnnotationError(f"the {what} has no name (no 'name', 'title' or 'value' string)", where="")


def feature_meta(feature: dict) -> dict:
    """What ``metadata.user.labelbox`` keeps of a feature: its ids, schema value and colour."""
    return {key: feature[key] for key in _KEPT if key in feature}


def object_shape(obj: dict, size: tuple[int | None, int | None]) -> BaseAnnotationDefinition | Unread:
    """The shape of an object (its attributes filled), or why it is not read; ``size`` is the item's (w, h).

    These layouts measure y from the image's top (only the oldest exports do not, see :mod:`.legacy`).
    """
    label = name_of(obj)
    for key, build in _GEOMETRY:
        if key in obj:
            definition = _at(key, build, obj[key], label, None)
            break
    else:
        definition = _mask(obj, label, size)
    if isinstance(definition, Unread):
        return definition
    if "classifications" in obj:
        definition.attributes = _at("classifications", answers, obj["classifications"])
    return definition


def classification(feature: dict) -> Classification:
    """A global classification: labelled by its question, its answers (and nested ones) as attributes."""
    return Classification(label=name_of(feature, "classification"), attributes=answers([feature]))


def answers(classifications: Any, depth: int = 0) -> dict:
    """The attributes of a list of answered questions (see the module docstring)."""
    if not isinstance(classifications, list):
        raise InvalidAnnotationError("classifications must be a list", where="")
    if depth > MAX_DEPTH:
        raise InvalidAnnotationError(f"classifications are nested more than {MAX_DEPTH} deep", where="")
    out: dict = {}
    for index, question in enumerate(classifications):
        if not isinstance(question, dict):
            raise InvalidAnnotationError("a classification must be an object", where=json_pointer(index))
        try:
            name = name_of(question, "classification")
            value, nested = _answer(question, depth)
        except InvalidAnnotationError as exc:
            raise exc.at(where=json_pointer(index)) from None
        out[name] = value
        for key, nested_value in nested.items():
            out[key if key not in out else f"{name}/{key}"] = nested_value
    return out


# -- internals ---------------------------------------------------------------------------------------
def _at(key: str, build, value: Any, *args):
    """``build(value, *args)``, its errors placed under ``/key``."""
    try:
        return build(value, *args)
    except InvalidAnnotationError as exc:
        raise exc.at(where=json_pointer(key)) from None


def _answer(question: dict, depth: int) -> tuple[Any, dict]:
    """``(value, nested attributes)`` of one answered question, v2 or legacy."""
    if "radio_answer" in question or isinstance(question.get("answer"), dict):
        key = "radio_answer" if "radio_answer" in question else "answer"
        choice = question[key]
        if not isinstance(choice, dict):
            raise InvalidAnnotationError("a radio answer must be an object", where=json_pointer(key))
        return _at(key, name_of, choice, "answer"), _nested(choice, key, depth)
    if "checklist_answers" in question or "answers" in question:
        key = "checklist_answers" if "checklist_answers" in question else "answers"
        choices = question[key]
        if not isinstance(choices, list) or not all(isinstance(c, dict) for c in choices):
            raise InvalidAnnotationError("checklist answers must be a list of objects", where=json_pointer(key))
        names, nested = [], {}
        for index, choice in enumerate(choices):
            names.append(_at(key, name_of, choice, "answer"))
            for name, value in _nested(choice, f"{key}/{index}", depth).items():
                nested.setdefault(name, value)
        return names, nested
    if "text_answer" in question:
        content = question["text_answer"].get("content") if isinstance(question["text_answer"], dict) else None
        if not isinstance(content, str):
            raise InvalidAnnotationError("a text answer has a 'content' string", where="/text_answer")
        return content, {}
    if isinstance(question.get("answer"), str):  # legacy free text
        return question["answer"], {}
    raise InvalidAnnotationError("the classification has no answer (radio_answer, checklist_answers, text_answer, "
                                 "answer or answers)", where="")


def _nested(choice: dict, at: str, depth: int) -> dict:
    if "classifications" not in choice:
        return {}
    try:
        return answers(choice["classifications"], depth + 1)
    except InvalidAnnotationError as exc:
        raise exc.at(where=f"/{at}/classifications") from None


def _mask(obj: dict, label: str, size: tuple[int | None, int | None]) -> BaseAnnotationDefinition | Unread:
    """An object's mask: a base64 PNG is read; a URL is not fetched; no geometry at all is not a shape."""
    for key in ("mask", "composite_mask"):
        mask = obj.get(key)
        if isinstance(mask, dict) and isinstance(mask.get("png"), str):
            color = mask.get("color_rgb", mask.get("colorRGB"))
            return _at(key, _png_mask, mask["png"], color, label, size)
    url = next((m.get("url") for m in (obj.get("mask"), obj.get("composite_mask")) if isinstance(m, dict)
                and isinstance(m.get("url"), str)), obj.get("instanceURI"))
    if isinstance(url, str):
        return Unread("binary", "labelbox.mask-not-fetched",
                      f"the mask is only at a URL ({url.split('?')[0][:80]}…), which dlconvert does not fetch (it "
                      "never goes online): download the masks from Labelbox to keep them")
    kind = obj.get("annotation_kind")
    shown = (f"a {kind} object" if isinstance(kind, str)
             else "an object without bounding_box, polygon, line, point or mask")
    return Unread("unknown", "labelbox.unsupported-object", f"{shown} has no image shape dlconvert reads")


def _png_mask(data: str, color: Any, label: str, size: tuple[int | None, int | None]) -> Segmentation:
    """A base64 PNG mask: the pixels of ``color`` when given (a composite of several objects), else foreground."""
    png = split_data_url(data)
    height, width = png_size(png)
    if height * width > MAX_MASK_PIXELS:
        raise InvalidAnnotationError(f"mask is {width}×{height} pixels, more than the limit of {MAX_MASK_PIXELS}",
                                     where="/png")
    if size[0] and size[1] and (width, height) != size:
        raise InvalidAnnotationError(f"the mask is {width}×{height} pixels, the image {size[0]}×{size[1]}",
                                     where="/png")
    if color is None:
        return Segmentation.from_coordinates(data, label=label)
    if not (isinstance(color, list) and len(color) == 3 and all(type(c) is int and 0 <= c <= 255 for c in color)):
        raise InvalidAnnotationError(f"color_rgb must be [r, g, b] whole numbers 0…255, not {color!r}",
                                     where="/color_rgb")
    from PIL import Image

    try:
        with Image.open(io.BytesIO(png)) as image:
            rgb = np.asarray(image.convert("RGB"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidAnnotationError(f"mask PNG cannot be decoded: {exc}", where="/png") from None
    return Segmentation(geo=(rgb == np.asarray(color, dtype=np.uint8)).all(axis=2), label=label,
                        color=tuple(color))
