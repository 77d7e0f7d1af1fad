"""Pose (Dataloop type ``pose``): a reference to a skeleton template.

JSON: ``{"templateId": "<recipe template id>", "instanceId": "<uuid>"}``. The keypoints are
separate ``point`` annotations whose ``metadata.system.parentId`` is the pose's id and whose
label is the keypoint's name; the template (recipe ``collectionTemplates``) gives their order
and skeleton. ``AnnotationCollection.children(pose)`` finds them.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..errors import InvalidAnnotationError
from .base import BaseAnnotationDefinition

__all__ = ["Pose"]


class Pose(BaseAnnotationDefinition):
    """A pose instance of the template ``template_id``."""

    type = "pose"
    _geometry_fields = frozenset({"template_id", "instance_id"})

    def __init__(
        self, label: str | None = None, template_id: str | None = None, instance_id: str | None = None,
        attributes: dict | None = None, description: str | None = None,
    ) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        self.template_id = template_id
        self.instance_id = instance_id if instance_id is not None else str(uuid.uuid1())

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._geometry_fields and value is not None and not isinstance(value, str):
            raise InvalidAnnotationError(f"Pose {name} must be a string or None, got {type(value).__name__}",
                                         where="")
        super().__setattr__(name, value)

    def _geometry_key(self) -> Any:
        return (self.template_id, self.instance_id)

    def _coordinates(self) -> dict:
        return {"templateId": self.template_id, "instanceId": self.instance_id}

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Pose:
        if not isinstance(coordinates, dict):
            raise InvalidAnnotationError("pose coordinates must be an object {templateId, instanceId}", where="")
        template_id = coordinates.get("templateId")
        instance_id = coordinates.get("instanceId")
        for key, value in (("templateId", template_id), ("instanceId", instance_id)):
            if value is not None and not isinstance(value, str):
                raise InvalidAnnotationError(f"pose {key} must be a string", where=f"/{key}")
        return cls(template_id=template_id, instance_id=instance_id if instance_id is not None else "")
