"""Types dlconvert carries through as read (note, text_mark, gis, cube_3d, ref_image, unknown …).

Their JSON is kept verbatim, so a round trip keeps them, and every writer that cannot hold them
lists them in the conversion report. Three have the SDK's names and constructors for building
them (``Note``, ``Cube3d``, ``Description``): they write the SDK's layout, and when read their
JSON is still carried through untouched (nothing is checked or rewritten: a note the SDK cannot
parse is dropped by it, B7, and kept here).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ..errors import InvalidAnnotationError
from .base import BaseAnnotationDefinition, finite_number
from .types import annotation_type_name

__all__ = ["PASS_THROUGH_TYPES", "Cube3d", "Description", "Note", "UndefinedAnnotationType"]


class UndefinedAnnotationType(BaseAnnotationDefinition):
    """An annotation of another ``type``; ``coordinates`` is kept verbatim."""

    _geometry_fields = frozenset({"coordinates"})

    def __init__(self, type: str, coordinates: Any = None, label: str | None = None,
                 attributes: dict | None = None, description: str | None = None) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        object.__setattr__(self, "type", annotation_type_name(type))
        self.coordinates = coordinates

    @classmethod
    def carried(cls, type_: str, coordinates: Any, label: str | None, attributes: dict | None,
                description: str | None) -> UndefinedAnnotationType:
        """The definition read from JSON: ``coordinates`` kept as they are, nothing checked."""
        definition = cls.__new__(cls)
        BaseAnnotationDefinition.__init__(definition, label=label, attributes=attributes, description=description)
        if cls is UndefinedAnnotationType:
            object.__setattr__(definition, "type", type_)
        object.__setattr__(definition, "coordinates", coordinates)
        object.__setattr__(definition, "_source", coordinates)
        return definition

    def _geometry_key(self) -> Any:
        return self.coordinates

    def _coordinates(self) -> Any:
        return self.coordinates

    def _field(self, *keys: str) -> Any:
        """``coordinates[k1][k2]…``, or None where the JSON does not hold it."""
        value = self.coordinates
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} type={self.type!r} label={self.label!r}>"


class Note(UndefinedAnnotationType):
    """A box with a discussion thread (type ``note``), built as the SDK's ``Note``.

    ``messages`` are strings (each becomes a message by ``creator``) or message objects
    ``{id, creator, time, body}`` (time in epoch milliseconds). ``creator`` and ``assignee`` are
    whatever you give: the SDK asks the platform for the logged-in user's e-mail instead.
    """

    type: ClassVar[str] = "note"

    def __init__(self, left: float, top: float, right: float, bottom: float, label: str | None = None,
                 attributes: dict | None = None, messages: list | None = None, status: str = "issue",
                 assignee: str | None = None, create_time: int | None = None, creator: str | None = None,
                 description: str | None = None) -> None:
        from .box import Box

        box = Box(left=left, top=top, right=right, bottom=bottom)  # checks the numbers
        if messages is None:
            messages = []
        elif not isinstance(messages, list):
            messages = [messages]
        thread = {
            "messages": [m if isinstance(m, dict) else
                         {"id": None, "creator": creator, "time": int(time.time() * 1000), "body": m}
                         for m in messages],
            "status": status, "createTime": create_time, "creator": creator,
            "assignee": assignee if assignee is not None else creator,
        }
        coordinates = {"box": [{"x": float(v[0]), "y": float(v[1]), "z": 0}
                               for v in ((box.left, box.top), (box.right, box.bottom))], "note": thread}
        super().__init__(self.type, coordinates, label=label, attributes=attributes, description=description)

    def bounds(self) -> tuple[float, float, float, float]:
        """The note's box; zeros when the JSON read does not hold a readable one."""
        from .box import Box

        try:
            return Box.from_coordinates(self._field("box")).bounds()
        except InvalidAnnotationError:
            return super().bounds()

    @property
    def messages(self) -> list:
        return self._field("note", "messages") or []

    @property
    def status(self) -> str | None:
        return self._field("note", "status")

    @property
    def creator(self) -> str | None:
        return self._field("note", "creator")

    @property
    def assignee(self) -> str | None:
        return self._field("note", "assignee")

    @property
    def create_time(self) -> int | None:
        return self._field("note", "createTime")


class Cube3d(UndefinedAnnotationType):
    """A 3-D cuboid (type ``cube_3d``): centre ``position``, ``scale`` and Euler ``rotation`` (radians, XYZ)."""

    type: ClassVar[str] = "cube_3d"

    def __init__(self, label: str | None, position, scale, rotation, attributes: dict | None = None,
                 description: str | None = None) -> None:
        coordinates = {name: _xyz(value, f"Cube3d {name}")
                       for name, value in (("position", position), ("scale", scale), ("rotation", rotation))}
        super().__init__(self.type, coordinates, label=label, attributes=attributes, description=description)

    @property
    def position(self) -> list | None:
        return _values(self._field("position"))

    @property
    def scale(self) -> list | None:
        return _values(self._field("scale"))

    @property
    def rotation(self) -> list | None:
        return _values(self._field("rotation"))


class Description(UndefinedAnnotationType):
    """The item's description text (type ``item_description``, label ``item.description``), as the SDK's."""

    type: ClassVar[str] = "item_description"

    def __init__(self, text: str, description: str | None = None) -> None:
        if not isinstance(text, str):
            raise InvalidAnnotationError(f"Description text must be a string, got {type(text).__name__}", where="")
        super().__init__(self.type, {"text": text}, label="item.description", description=description)

    @property
    def text(self) -> str | None:
        return self._field("text")


#: Pass-through types that have a class of their own (the SDK's names); any other type is Undefined.
PASS_THROUGH_TYPES: dict[str, type[UndefinedAnnotationType]] = {cls.type: cls for cls in (Note, Cube3d, Description)}


def _xyz(value: Any, name: str) -> dict:
    if isinstance(value, dict):
        value = [value.get(k) for k in ("x", "y", "z")]
    values = list(value) if isinstance(value, (list, tuple)) or hasattr(value, "tolist") else []
    if len(values) != 3:
        raise InvalidAnnotationError(f"{name} must be three numbers (x, y, z), got {value!r}", where="")
    return {k: float(finite_number(v, f"{name} {k}")) for k, v in zip("xyz", values, strict=True)}


def _values(point: Any) -> list | None:
    """``[x, y, z]`` of a JSON point read by key (the SDK reads them in key order, B14)."""
    return [point.get(k) for k in ("x", "y", "z")] if isinstance(point, dict) else None
