"""What every annotation definition shares: label, attributes, bounds, and the lossless JSON rule.

Coordinates are continuous pixels: origin at the image's top-left corner, x to the right, y down,
pixel (row r, column c) covering the square [c, c+1] × [r, r+1] (COCO's convention). Formats with
other conventions (YOLO's normalised centres, VOC's 1-based integers) convert at their boundary.

Lossless JSON: a definition read with :meth:`from_coordinates` remembers the exact JSON value it
came from and gives it back from :meth:`to_coordinates` while its geometry is unchanged, so ints
stay ints, extra keys survive and key order is kept. Assigning any geometric field drops that
memory and the canonical Dataloop layout is written instead.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidAnnotationError, json_pointer

__all__ = ["BaseAnnotationDefinition", "finite_number", "read_number", "read_xy"]


class BaseAnnotationDefinition:
    """Base of all annotation definitions (Box, Polygon, Point …).

    Subclasses set ``type`` (the Dataloop type string) and ``_geometry_fields`` (the attributes
    whose change invalidates the remembered source JSON), and implement ``_coordinates()``,
    ``_from_coordinates()`` and ``_geometry_key()``.
    """

    type: ClassVar[str] = ""
    _geometry_fields: ClassVar[frozenset[str]] = frozenset()
    #: Fields that must hold a finite number, checked whenever set: name → whether ``None`` is allowed.
    _number_fields: ClassVar[dict[str, bool]] = {}

    def __init__(
        self, label: str | None = None, attributes: dict | None = None, description: str | None = None
    ) -> None:
        self._source: Any = None
        self.label = label
        self.attributes = attributes
        self.description = description

    # -- attribute bookkeeping ---------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        optional = self._number_fields.get(name)
        if optional is not None:
            value = finite_number(value, f"{type(self).__name__} {name}", optional=optional)
        elif name == "attributes":
            if value is None:
                value = {}
            elif not isinstance(value, dict):
                raise TypeError(
                    f"attributes must be a dict of {{key: value}} (Dataloop v2 attributes), not {type(value).__name__}"
                )
        elif name in ("label", "description") and value is not None and not isinstance(value, str):
            raise InvalidAnnotationError(f"{type(self).__name__} {name} must be a string or None, got "
                                         f"{_kind(value)}", where="")
        if name in self._geometry_fields:
            object.__setattr__(self, "_source", None)
        object.__setattr__(self, name, value)

    # -- JSON ----------------------------------------------------------------------------------
    def to_coordinates(self, color: Any = None) -> Any:
        """The Dataloop ``coordinates`` value: the source JSON when unchanged, else canonical."""
        if self._source is not None:
            return self._source
        return self._coordinates()

    @classmethod
    def from_coordinates(
        cls,
        coordinates: Any,
        label: str | None = None,
        attributes: dict | None = None,
        description: str | None = None,
    ) -> BaseAnnotationDefinition:
        """Build from a Dataloop ``coordinates`` value; raises :class:`InvalidAnnotationError`."""
        definition = cls._from_coordinates(coordinates)
        definition.label = label
        definition.attributes = attributes
        definition.description = description
        object.__setattr__(definition, "_source", coordinates)
        return definition

    def _coordinates(self) -> Any:
        raise NotImplementedError

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> BaseAnnotationDefinition:
        raise NotImplementedError

    # -- geometry --------------------------------------------------------------------------------
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, top, right, bottom)`` of the shape; zeros for shapeless types."""
        return (0.0, 0.0, 0.0, 0.0)

    @property
    def left(self) -> float:
        return self.bounds()[0]

    @property
    def top(self) -> float:
        return self.bounds()[1]

    @property
    def right(self) -> float:
        return self.bounds()[2]

    @property
    def bottom(self) -> float:
        return self.bounds()[3]

    @property
    def area(self) -> float:
        """Area in square pixels (0 for shapes without an inside)."""
        return 0.0

    def to_shapely(self):
        """The shape as a shapely geometry; shapeless types raise ``TypeError``."""
        raise TypeError(f"a {self.type!r} annotation has no shape")

    def problems(self) -> list[str]:
        """Reasons the geometry is unusable for drawing or conversion (empty when fine)."""
        return []

    # -- comparison ------------------------------------------------------------------------------
    def _geometry_key(self) -> Any:
        return ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (
            self.type == other.type
            and self.label == other.label
            and self.attributes == other.attributes
            and self.description == other.description
            and _same(self._geometry_key(), other._geometry_key())
        )

    __hash__ = None  # mutable, like the SDK's definitions

    def __repr__(self) -> str:
        return f"<{type(self).__name__} label={self.label!r} bounds={tuple(round(v, 2) for v in self.bounds())}>"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


#: The exact types of a JSON number (a bool is an int to ``isinstance``, but not a number here).
_NUMBER_TYPES = frozenset({int, float})


def finite_number(value: Any, name: str, *, optional: bool = False) -> Any:
    """``value`` when it is a finite number (a numpy scalar becomes its Python number), else raise.

    Every definition checks its numbers when they are set, so ``Box(left=nan)`` or
    ``Box(angle="ninety")`` is refused at once, not later by a picture or a writer. ``None`` passes
    only where the field is ``optional``. Ints stay ints (the JSON keeps them).
    """
    if type(value) in _NUMBER_TYPES:
        if math.isfinite(value):
            return value
        raise InvalidAnnotationError(f"{name} must be a finite number, got {value}", where="")
    if value is None and optional:
        return None
    if isinstance(value, (np.integer, np.floating)):
        return finite_number(value.item(), name)
    raise InvalidAnnotationError(f"{name} must be a number, got {_kind(value)}", where="")


def read_number(value: Any, where: str) -> float:
    """A finite JSON number as float; anything else raises with the JSON pointer ``where``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidAnnotationError(f"expected a number, got {_kind(value)}", where=where)
    if not math.isfinite(value):
        raise InvalidAnnotationError(f"expected a finite number, got {value}", where=where)
    return float(value)


def read_xy(point: Any, where: str) -> tuple[float, float]:
    """``{"x": .., "y": ..}`` (z and extra keys ignored) as an ``(x, y)`` float pair."""
    if not isinstance(point, dict):
        raise InvalidAnnotationError(f"expected a point object {{x, y}}, got {_kind(point)}", where=where)
    for key in ("x", "y"):
        if key not in point:
            raise InvalidAnnotationError(f"point is missing {key!r}", where=where)
    x, y = point["x"], point["y"]
    if type(x) in _NUMBER_TYPES and type(y) in _NUMBER_TYPES and math.isfinite(x) and math.isfinite(y):
        return (float(x), float(y))  # the usual case, without building the pointers an error would need
    return (
        read_number(x, where + json_pointer("x")),
        read_number(y, where + json_pointer("y")),
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )
