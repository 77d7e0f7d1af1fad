"""One value per object, for every source: the OBJECT_ID view's pixels and the colours by object.

The rule (the only place it is applied):

* An annotation whose object id is a whole number 1…2³¹−1 (``7``, ``"7"``, ``"7.0"``) is drawn
  with that value: pixel = object id, as the Dataloop SDK's OBJECT_ID view.
* A child (a pose's keypoint) without an object id takes its parent's value and legend entry.
* Every other annotation gets a value by its **position**: its 1-based place among the item's
  annotations that are not children, in stored order — the line number of a YOLO label file,
  the order of an image's records in a COCO file, the object's order in a VOC XML — or, when
  another object of the item already has that value, the next value nobody has. That covers no
  object id (COCO, YOLO), object id 0 (it would be the background and vanish), and ids that are
  negative, fractional, not numbers, or past 2³¹−1 (the largest a 32-bit TIFF holds); annotations
  sharing such an id (a track) share its value.
* The legend JSON written beside each id picture maps every value to ``{"object_id": the
  annotation's own object id or null, "label": …}``, plus ``"position"`` when the value was given
  by position, so the picture never claims an id the data does not have.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from typing import Any

__all__ = ["MAX_ID", "object_color", "object_values", "whole_id"]

#: The largest id an id picture holds: its 32-bit TIFF is written signed (PIL's mode "I").
MAX_ID = 2**31 - 1
_GOLDEN = 0.6180339887498949


def whole_id(given: Any) -> int | None:
    """The pixel value of an id (``7``, ``"7"``, ``"7.0"``), or None when it is not a whole number 0…MAX_ID."""
    if isinstance(given, bool):
        return None
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


def object_values(annotations: Sequence[Any]) -> list[tuple[int, dict]]:
    """``(pixel value, legend entry)`` of each annotation, by the rule of this module."""
    own = [whole_id(a.object_id) if a.object_id is not None else None for a in annotations]
    taken = {value for value in own if value}
    index_of = {a.id: i for i, a in enumerate(annotations) if a.id is not None}
    # a child takes its parent's value when the parent is not a child itself (no chains, no cycles)
    parents = [index_of.get(a.parent_id) if a.parent_id is not None and a.object_id is None else None
               for a in annotations]
    parents = [p if p is not None and p != i and parents[p] is None else None for i, p in enumerate(parents)]
    out: list[tuple[int, dict] | None] = [None] * len(annotations)
    shared: dict[str, int] = {}
    position = 0
    for i, annotation in enumerate(annotations):
        if parents[i] is not None:
            continue  # a child: its parent's value, below
        position += 1
        label = annotation.annotation_definition.label
        if own[i]:
            out[i] = (own[i], {"object_id": annotation.object_id, "label": label})
            continue
        key = None if annotation.object_id is None else str(annotation.object_id)
        value = shared.get(key) if key is not None else None
        if value is None:
            value = position
            while value in taken:
                value += 1
            taken.add(value)
            if key is not None:
                shared[key] = value
        out[i] = (value, {"object_id": annotation.object_id, "label": label, "position": position})
    for i, parent in enumerate(parents):
        if out[i] is None:
            out[i] = out[parent]  # a keypoint is part of its pose's object: same value, same legend entry
    return out  # type: ignore[return-value]


def object_color(value: int) -> tuple[int, int, int]:
    """A colour per object value, neighbours far apart on the hue circle (as supervision's
    ``ColorLookup.INDEX`` gives each detection its own colour); the same in every run."""
    hue = (value * _GOLDEN) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.8, 0.95)
    return round(r * 255), round(g * 255), round(b * 255)
