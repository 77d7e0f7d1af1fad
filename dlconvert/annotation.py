"""Annotation: a definition with identity, metadata and, for video and audio, its frames.

Dataloop JSON keeps an annotation's identity and timing in ``metadata.system`` (``objectId``,
``parentId``, ``frame``, ``endFrame``, ``startTime``, ``endTime``, ``snapshots_`` …). The
annotation keeps that ``metadata`` dict whole and reads those fields straight from it, so
nothing is copied and nothing is lost; only the geometry (the definition) and the per-frame
states (``frames``) are parsed into objects and written back into the JSON.

Frames follow the SDK's rule: the top-level coordinates are the first frame; each snapshot is a
later stored state; a frame with no stored state holds the nearest earlier one (no linear
interpolation). ``get_frame`` gives a hidden state with ``object_visible`` False, as the SDK; unlike
the SDK (B24), ``AnnotationCollection.get_frame`` and pictures leave hidden objects out. A snapshot
without ``fixed`` is not a fixed keyframe (the SDK's reading).
"""

from __future__ import annotations

import copy
from typing import Any

from .annotation_json import annotation_to_json, parse_annotation
from .errors import InvalidAnnotationError
from .frame_annotation import FrameAnnotation
from .geometry import BaseAnnotationDefinition

__all__ = ["Annotation", "FrameAnnotation"]

class Annotation:
    """One annotation of an item: ``annotation_definition`` plus identity, metadata and frames."""

    #: ``(file, JSON pointer)`` a mask read lazily came from, so an error decoding it later names them.
    origin: tuple[str | None, str] | None = None
    #: The item the annotation was made for (an SDK item or the AnnotationCollection that added it):
    #: ``show()`` takes its size from there when none is given, as the SDK does. Not written.
    _item: Any = None

    def __init__(
        self,
        annotation_definition: BaseAnnotationDefinition | None,
        *,
        id: str | None = None,
        metadata: dict | None = None,
        frames: dict[int, FrameAnnotation] | None = None,
        fps: float | None = None,
        v1_attributes: list | None = None,
        _json: dict | None = None,
    ) -> None:
        self.annotation_definition = annotation_definition
        # Every key of the annotation's JSON that is not modelled lives on here untouched.
        self._json: dict = _json if _json is not None else _fresh_json(
            None if annotation_definition is None else annotation_definition.type)
        if id is not None:
            self._json["id"] = id
        self.metadata: dict = metadata if metadata is not None else {"system": {}, "user": {}}
        # Read from a file: write metadata / v2 attributes back only where the file had them.
        self._attributes_present = _json is None
        self.frames = frames
        self.fps = fps
        self.v1_attributes = v1_attributes
        self.current_frame: int | None = None

    # -- SDK-style constructor ---------------------------------------------------------------
    @classmethod
    def new(
        cls, item: Any = None, annotation_definition: BaseAnnotationDefinition | None = None,
        object_id: Any = None, automated: bool = True, metadata: dict | None = None, frame_num: int | None = None,
        parent_id: str | None = None, start_time: float | None = None, end_time: float | None = None,
        fps: float | None = None,
    ) -> Annotation:
        """Build a new annotation as the SDK's ``Annotation.new`` does (object id stored as a string).

        Without ``annotation_definition`` the annotation is an empty track: its first
        :meth:`add_frame` gives it its type and first state (the SDK's video tutorial).
        """
        metadata = copy.deepcopy(metadata) if metadata is not None else {}
        metadata.setdefault("system", {})
        metadata.setdefault("user", {})
        if annotation_definition is not None and annotation_definition.type == "note":
            metadata["system"]["status"] = getattr(annotation_definition, "status", None)  # as the SDK
        if annotation_definition is not None and annotation_definition.type == "item_description":
            metadata["system"]["system"] = True  # the SDK marks the item description a system annotation
        annotation = cls(annotation_definition, metadata=metadata, fps=fps if fps is not None else _item_fps(item))
        annotation._item = item
        annotation.automated = automated
        if object_id is not None:
            annotation.object_id = object_id
        if parent_id is not None:
            annotation.parent_id = parent_id
        if frame_num is not None or start_time is not None:
            annotation._start_track(frame_num, start_time, end_time)
        return annotation

    # -- identity and metadata ---------------------------------------------------------------
    @property
    def system(self) -> dict:
        """``metadata['system']``, created when first needed."""
        return self.metadata.setdefault("system", {})

    @property
    def id(self) -> str | None:
        return self._json.get("id", self._json.get("_id"))

    @id.setter
    def id(self, value: str | None) -> None:
        self._json["_id" if "_id" in self._json and "id" not in self._json else "id"] = value

    @property
    def type(self) -> str | None:
        """The Dataloop type string (None for an empty track made by ``Annotation.new(item=...)``)."""
        return None if self.annotation_definition is None else self.annotation_definition.type

    @property
    def label(self) -> str | None:
        definition = self._definition_now()
        return None if definition is None else definition.label

    @label.setter
    def label(self, value: str | None) -> None:
        self.annotation_definition.label = value

    @property
    def attributes(self) -> dict:
        """The v2 attributes ``{key: value}`` (``metadata.system.attributes``)."""
        return self.annotation_definition.attributes

    @attributes.setter
    def attributes(self, value: dict) -> None:
        self.annotation_definition.attributes = value

    @property
    def description(self) -> str | None:
        return self.annotation_definition.description

    @property
    def object_id(self) -> str | None:
        """The track / object id (``metadata.system.objectId``), a string of digits as the SDK stores it."""
        value = self.metadata.get("system", {}).get("objectId")
        return None if value is None else str(value)

    @object_id.setter
    def object_id(self, value: Any) -> None:
        if value is not None and not str(value).isdigit():
            raise ValueError(f"object_id must be an int or a string of digits, not {value!r}")
        self.system["objectId"] = None if value is None else str(value)

    @property
    def parent_id(self) -> str | None:
        return self.metadata.get("system", {}).get("parentId")

    @parent_id.setter
    def parent_id(self, value: str | None) -> None:
        self.system["parentId"] = value

    @property
    def automated(self) -> bool | None:
        return self.metadata.get("system", {}).get("automated")

    @automated.setter
    def automated(self, value: bool | None) -> None:
        self.system["automated"] = value

    @property
    def model_info(self) -> dict | None:
        """``metadata.user.model`` (``{name, model_id, confidence}``) for predictions."""
        user = self.metadata.get("user")
        return user.get("model") if isinstance(user, dict) else None

    @model_info.setter
    def model_info(self, value: dict | None) -> None:
        if value is not None:
            confidence = value.get("confidence")
            if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
                raise ValueError("model_info needs a confidence between 0 and 1")
        self.metadata.setdefault("user", {})["model"] = value

    @property
    def status(self) -> str | None:
        return self.metadata.get("system", {}).get("status")

    creator = property(lambda self: self._json.get("creator"))
    created_at = property(lambda self: self._json.get("createdAt"))
    updated_by = property(lambda self: self._json.get("updatedBy"))
    updated_at = property(lambda self: self._json.get("updatedAt"))
    item_id = property(lambda self: self._json.get("itemId"))
    dataset_id = property(lambda self: self._json.get("datasetId"))
    source = property(lambda self: self._json.get("source"))

    # -- geometry shortcuts (follow the current frame after set_frame) --------------------------
    def _definition_now(self) -> BaseAnnotationDefinition:
        if self.current_frame is not None and self.frames is not None:
            state = self.get_frame(self.current_frame)
            if state is not None:
                return state.annotation_definition
        return self.annotation_definition

    @property
    def coordinates(self) -> Any:
        return self._definition_now().to_coordinates()

    @property
    def geo(self) -> Any:
        """The definition's ``geo`` (points, or a mask), as the SDK's ``annotation.geo``."""
        return self._definition_now().geo

    @geo.setter
    def geo(self, value: Any) -> None:
        self.annotation_definition.geo = value

    @property
    def x(self) -> Any:
        return self._definition_now().x

    @property
    def y(self) -> Any:
        return self._definition_now().y

    @property
    def left(self) -> float:
        return self._definition_now().bounds()[0]

    @property
    def top(self) -> float:
        return self._definition_now().bounds()[1]

    @property
    def right(self) -> float:
        return self._definition_now().bounds()[2]

    @property
    def bottom(self) -> float:
        return self._definition_now().bounds()[3]

    # -- time ---------------------------------------------------------------------------------
    @property
    def is_video(self) -> bool:
        """True when the annotation has frames (a video or audio track)."""
        return self.frames is not None

    @property
    def start_frame(self) -> int:
        return int(self.metadata.get("system", {}).get("frame", 0) or 0)

    @start_frame.setter
    def start_frame(self, value: int) -> None:
        self.system["frame"] = int(value)

    @property
    def end_frame(self) -> int:
        """The last frame the object exists in (``endFrame``; else from ``endTime`` and fps, else the last state)."""
        system = self.metadata.get("system", {})
        if system.get("endFrame") is not None:
            return int(system["endFrame"])
        last = max(self.frames) if self.frames else self.start_frame
        if system.get("endTime") is not None and self.fps:
            return max(last, round(float(system["endTime"]) * self.fps))
        return last

    @end_frame.setter
    def end_frame(self, value: int) -> None:
        self.system["endFrame"] = int(value)

    @property
    def start_time(self) -> float:
        return float(self.metadata.get("system", {}).get("startTime", 0) or 0)

    @start_time.setter
    def start_time(self, value: float) -> None:
        self.system["startTime"] = value

    @property
    def end_time(self) -> float | None:
        value = self.metadata.get("system", {}).get("endTime")
        return None if value is None else float(value)

    @end_time.setter
    def end_time(self, value: float | None) -> None:
        self.system["endTime"] = value

    # -- frames -------------------------------------------------------------------------------
    def get_frame(self, frame_num: int) -> FrameAnnotation | None:
        """The state at ``frame_num``: the nearest stored state at or before it, held (as the SDK).

        ``None`` outside ``[start_frame, end_frame]``; a state marked not visible is returned with
        ``object_visible`` False. An image annotation (no frames) is there on every frame.
        """
        if self.frames is None:
            return FrameAnnotation(self.annotation_definition, frame_num)
        if frame_num < self.start_frame or frame_num > self.end_frame:
            return None
        held = [n for n in self.frames if n <= frame_num]
        if not held:
            return None
        state = self.frames[max(held)]
        if state.frame_num == frame_num:
            return state
        return FrameAnnotation(state.annotation_definition, frame_num, fixed=False,
                               object_visible=state.object_visible)

    def set_frame(self, frame: int) -> bool:
        """Make geometry shortcuts (``coordinates``, ``left`` …) follow ``frame``; False if not there."""
        self.current_frame = frame
        return self.get_frame(frame) is not None

    def visible_at(self, frame_num: int) -> FrameAnnotation | None:
        """The state at ``frame_num`` when the object is visible there, else None (what pictures draw)."""
        state = self.get_frame(frame_num)
        return state if state is not None and state.object_visible else None

    def add_frame(
        self, annotation_definition: BaseAnnotationDefinition, frame_num: int | None = None,
        fixed: bool = True, object_visible: bool = True,
    ) -> bool:
        """Store a state at ``frame_num`` (after the last one when ``None``), extending the track."""
        if self.annotation_definition is None:  # an empty track (Annotation.new(item=...)): its first state
            fresh = _fresh_json(annotation_definition.type)
            fresh["id"] = self.id
            self._json = fresh
        if self.frames is None:
            self._start_track(0 if frame_num is None else frame_num, None, None)
            self.annotation_definition = annotation_definition
            self.frames[self.start_frame] = FrameAnnotation(annotation_definition, self.start_frame, fixed,
                                                            object_visible)
            return True
        if frame_num is None:
            frame_num = max(self.frames) + 1
        self.frames[frame_num] = FrameAnnotation(annotation_definition, frame_num, fixed, object_visible)
        if frame_num < self.start_frame:
            self.start_frame = frame_num
            self._set_time_from_frames()
        if frame_num == self.start_frame:
            self.annotation_definition = annotation_definition
        if frame_num > self.end_frame or "endFrame" not in self.system:
            self.end_frame = max(frame_num, self.end_frame)
            self._set_time_from_frames()
        return True

    def add_frames(
        self, annotation_definition: BaseAnnotationDefinition, frame_num: int | None = None,
        end_frame_num: int | None = None, start_time: float | None = None, end_time: float | None = None,
        fixed: bool = True, object_visible: bool = True,
    ) -> None:
        """Hold one state from ``frame_num`` to ``end_frame_num`` (or from ``start_time`` to ``end_time``)."""
        fps = self.fps
        if frame_num is None:
            if start_time is None or not fps:
                raise ValueError("add_frames needs frame_num, or start_time and an item fps")
            frame_num = round(start_time * fps)
        if end_frame_num is None and end_time is not None and fps:
            end_frame_num = round(end_time * fps)
        self.add_frame(annotation_definition, frame_num, fixed=fixed, object_visible=object_visible)
        if end_frame_num is not None and end_frame_num > self.end_frame:
            self.end_frame = end_frame_num
            self._set_time_from_frames()
        if start_time is not None:
            self.start_time = start_time
        if end_time is not None:
            self.end_time = end_time

    def _start_track(self, frame_num: int | None, start_time: float | None, end_time: float | None) -> None:
        fps = self.fps
        if frame_num is None:
            frame_num = round(start_time * fps) if (start_time is not None and fps) else 0
        self.frames = {}
        system = self.system
        system["frame"] = int(frame_num)
        system["endFrame"] = int(frame_num)
        system["startTime"] = start_time if start_time is not None else (frame_num / fps if fps else 0)
        system["endTime"] = end_time if end_time is not None else system["startTime"]
        self.frames[int(frame_num)] = FrameAnnotation(self.annotation_definition, int(frame_num))

    def _set_time_from_frames(self) -> None:
        if self.fps:
            self.system["startTime"] = self.start_frame / self.fps
            self.system["endTime"] = self.end_frame / self.fps

    # -- JSON ---------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, _json: Any, item: Any = None, *, is_video: bool | None = None, fps: float | None = None,
                  is_audio: bool | None = None, where: str = "") -> Annotation:
        """Parse one Dataloop annotation object (the SDK's arguments); errors name the JSON pointer under ``where``.

        ``item`` (an SDK item or an AnnotationCollection) tells whether it is a video/audio track and
        its fps, unless ``is_video``/``is_audio``/``fps`` say so; ``show()`` takes its size from it.
        """
        if not isinstance(_json, dict):
            raise InvalidAnnotationError("an annotation must be a JSON object", where=where)
        if item is not None:
            mimetype = getattr(item, "mimetype", None) or ""
            is_audio = ("audio" in mimetype) if is_audio is None else is_audio
            is_video = ("video" in mimetype or is_audio) if is_video is None else is_video
            fps = fps if fps is not None else (_item_fps(item) or (1000.0 if is_audio else None))
        elif is_audio:
            is_video, fps = True, fps if fps is not None else 1000.0  # a frame is a millisecond, as the SDK
        try:
            annotation = parse_annotation(cls, _json, is_video, fps)
        except InvalidAnnotationError as exc:
            exc.at(where=where or None)
            raise
        if item is not None:
            annotation._item = item
        return annotation

    def to_json(self) -> dict:
        """The Dataloop annotation object: the source JSON with what changed written back."""
        return annotation_to_json(self)

    # -- comparison -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotation):
            return NotImplemented
        return (self.annotation_definition == other.annotation_definition and self.id == other.id
                and self.object_id == other.object_id and self.parent_id == other.parent_id
                and (self.frames or {}) == (other.frames or {}))

    __hash__ = None

    def __repr__(self) -> str:
        frames = f" frames={len(self.frames)}" if self.frames is not None else ""
        return f"<Annotation id={self.id!r} type={self.type!r} label={self.label!r}{frames}>"

    # -- SDK conveniences that reach up ----------------------------------------------------------
    # The SDK's annotation draws and saves itself: two-line delegators to dlconvert.conveniences
    # (render/ is above the model), imported when called; nowhere else does the annotation call up.
    def show(self, image=None, thickness: int | None = 1, with_text: bool = False, height: int | None = None,
             width: int | None = None, annotation_format: Any = "mask", color=None,
             label_instance_dict: dict | None = None, alpha: float | None = 1.0, frame_num: int | None = None):
        """Draw this annotation alone (the SDK's arguments, in its order); the canvas is its item's size."""
        from .conveniences import show_annotation
        return show_annotation(self, image=image, thickness=thickness, with_text=with_text, height=height,
                               width=width, annotation_format=annotation_format, color=color,
                               label_instance_dict=label_instance_dict, alpha=alpha, frame_num=frame_num)

    def download(self, filepath, annotation_format: Any = "json", height: int | None = None,
                 width: int | None = None, thickness: int | None = 1, with_text: bool = False,
                 alpha: float | None = 1.0):
        """Save this annotation alone as JSON (its item's), a picture or VTT, as the SDK's ``download``."""
        from .conveniences import download_annotation
        return download_annotation(self, filepath, annotation_format=annotation_format, height=height, width=width,
                                   thickness=thickness, with_text=with_text, alpha=alpha)


def _fresh_json(type_: str) -> dict:
    """Key layout of a new annotation: what dtlpy's ``from_json`` requires, in its order."""
    out: dict = {"id": None, "type": type_, "label": None, "coordinates": None, "attributes": [],
                 "creator": None, "createdAt": None, "updatedBy": None, "updatedAt": None}
    if type_ == "class":
        del out["coordinates"]
    return out


def _item_fps(item: Any) -> float | None:
    """The item's fps; 1000 for audio without one (a frame is a millisecond), as the SDK's ``Annotation.new``."""
    if item is None:
        return None
    fps = getattr(item, "fps", None)
    if fps is None and "audio" in (getattr(item, "mimetype", None) or ""):
        return 1000.0
    return fps
