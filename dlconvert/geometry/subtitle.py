"""Subtitle (Dataloop type ``subtitle``): text shown over a time range of a video or audio item.

JSON: ``{"text": "..."}``; the times live on the annotation (``metadata.system.startTime`` and
``endTime``, seconds).
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidAnnotationError
from .base import BaseAnnotationDefinition

__all__ = ["Subtitle"]


class Subtitle(BaseAnnotationDefinition):
    """Caption text; its label is usually the speaker."""

    type = "subtitle"
    _geometry_fields = frozenset({"text"})

    def __init__(self, text: str = "", label: str | None = None, attributes: dict | None = None,
                 description: str | None = None) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        self.text = text

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "text" and not isinstance(value, str):
            raise InvalidAnnotationError(f"Subtitle text must be a string, got {type(value).__name__}", where="")
        super().__setattr__(name, value)

    def _geometry_key(self) -> Any:
        return self.text

    def _coordinates(self) -> dict:
        return {"text": self.text}

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Subtitle:
        if not isinstance(coordinates, dict) or not isinstance(coordinates.get("text"), str):
            raise InvalidAnnotationError('subtitle coordinates must be {"text": "..."}', where="")
        return cls(text=coordinates["text"])
