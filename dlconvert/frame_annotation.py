"""FrameAnnotation: one stored state of a video or audio annotation (the SDK's class of that name)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .geometry import BaseAnnotationDefinition

__all__ = ["FrameAnnotation"]


class FrameAnnotation:
    """One stored state of a video/audio annotation: geometry and label at ``frame_num``."""

    __slots__ = ("_raw", "annotation_definition", "fixed", "frame_num", "object_visible")

    def __init__(
        self, annotation_definition: BaseAnnotationDefinition, frame_num: int, fixed: bool = True,
        object_visible: bool = True, _raw: dict | None = None,
    ) -> None:
        self.annotation_definition = annotation_definition
        self.frame_num = frame_num
        self.fixed = fixed
        self.object_visible = object_visible
        self._raw = _raw

    @property
    def label(self) -> str | None:
        return self.annotation_definition.label

    # The SDK's shortcuts to the state's geometry (``frame.left`` … in its video tutorial).
    type = property(lambda self: self.annotation_definition.type)
    attributes = property(lambda self: self.annotation_definition.attributes)
    geo = property(lambda self: self.annotation_definition.geo)
    coordinates = property(lambda self: self.annotation_definition.to_coordinates())
    left = property(lambda self: self.annotation_definition.left)
    top = property(lambda self: self.annotation_definition.top)
    right = property(lambda self: self.annotation_definition.right)
    bottom = property(lambda self: self.annotation_definition.bottom)
    x = property(lambda self: self.annotation_definition.x)
    y = property(lambda self: self.annotation_definition.y)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrameAnnotation):
            return NotImplemented
        return (self.annotation_definition == other.annotation_definition and self.frame_num == other.frame_num
                and self.fixed == other.fixed and self.object_visible == other.object_visible)

    __hash__ = None

    def __repr__(self) -> str:
        return (f"<FrameAnnotation frame={self.frame_num} fixed={self.fixed} visible={self.object_visible} "
                f"{self.annotation_definition!r}>")
