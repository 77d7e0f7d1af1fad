"""The oldest Labelbox exports (2018–2019): ``Label`` maps each class to its shapes, and where y is measured from.

Layouts of a ``Label`` object without ``objects``/``classifications`` (the later legacy layout, read
by :mod:`.features`), each class name a key:

* ``"Car": "MULTIPOLYGON (((x y, …)), …)"`` — WKT (v2): one shape per polygon, point or line;
* ``"Car": [[{x, y}, …], …]`` — XY lists (the first exports): one polygon per list;
* ``"Car": [{"geometry": "POLYGON (…)" | [{x, y}, …]}, …]`` — v3 (WKT or XY);
* ``"Weather": "sunny"`` or ``["a", "b"]`` (text that is not WKT) — a classification answer.

**Where y is measured from.** The editors of 2018 measured y upwards from the image's bottom edge;
Labelbox's own converters of the time turned it (``height - y``), and their shapes are upside down
otherwise (the fixtures' cars stand on their roofs, their trees grow from the ground). The v4 editor
of 2019 measures from the top, as everything since. Which editor wrote a row is in its ``View Label``
address (``image-segmentation-v3.labelbox.com``); a row without one is from the first exports
(bottom), one from an editor not named here is placed by its ``Created At`` year (2018 or before:
bottom). ``ConvertOptions.extras["labelbox_y_origin"]`` (``"top"``/``"bottom"``) overrides the rule.
Turning y needs the image's height, which these exports do not carry: it is read from the image file
(``--images``, or beside the export).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ...errors import InvalidAnnotationError, json_pointer
from ...geometry import Classification
from ...geometry.base import BaseAnnotationDefinition
from .shapes import polygon_of, wkt_shapes

__all__ = ["ORIGINS", "class_shapes", "measured_from_bottom"]

ORIGINS = ("auto", "top", "bottom")
#: Editors (the host of ``View Label``) and whether they measured y from the image's bottom.
_EDITORS = {"image-segmentation": True, "image-segmentation-hybrid": True, "image-segmentation-v3": True,
            "image-segmentation-v4": False}
_WKT = re.compile(r"^\s*(MULTI)?(POLYGON|POINT|LINESTRING)\b|^\s*GEOMETRYCOLLECTION\b", re.IGNORECASE)


def measured_from_bottom(row: dict, origin: str) -> tuple[bool, str]:
    """Whether a class→shapes row measures y from the bottom, and why (for messages)."""
    if origin != "auto":
        return origin == "bottom", f"labelbox_y_origin={origin!r}"
    view = row.get("View Label")
    host = urlsplit(view).hostname or "" if isinstance(view, str) else ""
    editor = host.split(".")[0]
    if editor in _EDITORS:
        return _EDITORS[editor], f"its {editor} editor"
    created = row.get("Created At")
    year = int(created[:4]) if isinstance(created, str) and created[:4].isdigit() else None
    if year is not None:
        return year <= 2018, f"made in {year}"
    return True, "an export of the first Labelbox editor, without 'View Label'"


def class_shapes(label: dict, flip: float | None) -> Iterator[tuple[tuple, BaseAnnotationDefinition]]:
    """``(pointer inside Label, definition)`` for each shape and classification of a class→shapes ``Label``.

    Errors are raised with their pointer inside ``Label``.
    """
    for name, value in label.items():
        try:
            yield from _of_class(name, value, flip)
        except InvalidAnnotationError as exc:
            raise exc.at(where=json_pointer(name)) from None


def _of_class(name: str, value: Any, flip: float | None) -> Iterator[tuple[tuple, BaseAnnotationDefinition]]:
    if isinstance(value, str) and _WKT.match(value):
        for definition in wkt_shapes(value, name, flip):
            yield (name,), definition
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield (name,), Classification(label=name, attributes={name: value})
    elif isinstance(value, list):
        answers = [v for v in value if isinstance(v, str)]
        if answers:
            if len(answers) != len(value):
                raise InvalidAnnotationError("a list mixes answers (text) and shapes", where="")
            yield (name,), Classification(label=name, attributes={name: answers})
            return
        for index, entry in enumerate(value):
            try:
                for definition in _entry(entry, name, flip):
                    yield (name, index), definition
            except InvalidAnnotationError as exc:
                raise exc.at(where=json_pointer(index)) from None
    else:
        raise InvalidAnnotationError(f"a class's value is WKT text, a list of shapes or an answer, not "
                                     f"{type(value).__name__}", where="")


def _entry(entry: Any, name: str, flip: float | None) -> list[BaseAnnotationDefinition]:
    """One entry of a class's list: ``[{x, y}, …]`` (XY) or ``{"geometry": WKT | [{x, y}, …]}`` (v3)."""
    if isinstance(entry, list):
        return [polygon_of(entry, name, flip)]
    if not isinstance(entry, dict) or "geometry" not in entry:
        raise InvalidAnnotationError("a shape is a list of {x, y} points or an object with 'geometry'", where="")
    geometry = entry["geometry"]
    try:
        if isinstance(geometry, str):
            return wkt_shapes(geometry, name, flip)
        return [polygon_of(geometry, name, flip)]
    except InvalidAnnotationError as exc:
        raise exc.at(where="/geometry") from None
