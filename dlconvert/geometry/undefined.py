"""Types dlconvert does not model (note, text_mark, gis, cube_3d, ref_image, unknown …).

Their JSON is carried through untouched, so a round trip keeps them, and every writer that
cannot hold them lists them in the conversion report.
"""

from __future__ import annotations

from typing import Any

from .base import BaseAnnotationDefinition

__all__ = ["UndefinedAnnotationType"]


class UndefinedAnnotationType(BaseAnnotationDefinition):
    """An annotation of another ``type``; ``coordinates`` is kept verbatim."""

    _geometry_fields = frozenset({"coordinates"})

    def __init__(self, type: str, coordinates: Any = None, label: str | None = None,
                 attributes: dict | None = None, description: str | None = None) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        object.__setattr__(self, "type", type)
        self.coordinates = coordinates

    def _geometry_key(self) -> Any:
        return self.coordinates

    def _coordinates(self) -> Any:
        return self.coordinates

    def __repr__(self) -> str:
        return f"<UndefinedAnnotationType type={self.type!r} label={self.label!r}>"
