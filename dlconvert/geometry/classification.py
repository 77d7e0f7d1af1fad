"""Classification (Dataloop type ``class``): a label for the whole item, no coordinates."""

from __future__ import annotations

from typing import Any

from .base import BaseAnnotationDefinition

__all__ = ["Classification"]


class Classification(BaseAnnotationDefinition):
    """A whole-item label."""

    type = "class"

    def __init__(self, label: str | None = None, attributes: dict | None = None,
                 description: str | None = None) -> None:
        super().__init__(label=label, attributes=attributes, description=description)

    def _coordinates(self) -> Any:
        return None

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Classification:
        return cls()
