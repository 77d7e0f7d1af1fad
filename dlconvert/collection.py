"""AnnotationCollection: one item's annotations and what the item is (file, size, fps, EXIF).

Reads both JSON shapes a Dataloop user meets: the server export (the item's full JSON with an
``annotations`` list) and the SDK's ``{"_id", "filename", "annotations"}``; a bare list of
annotations works too. Everything not modelled is kept and written back unchanged.
"""

from __future__ import annotations

import math
import mimetypes
import os
import posixpath
from collections.abc import Iterator
from typing import Any

from .annotation import Annotation, FrameAnnotation, _put
from .errors import DlconvertError, FormatError, InvalidAnnotationError, json_pointer
from .geometry import BaseAnnotationDefinition

__all__ = ["AnnotationCollection"]

#: Orientations whose displayed image is the stored one turned by 90°: width and height swap.
SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


class AnnotationCollection:
    """The annotations of one item (image, video or audio), in stored order (= draw order)."""

    #: The file the item was read from, when a reader knows it (errors about the item name it).
    origin: str | None = None
    #: The item's image file, when the reader paired the item with it (YOLO labels ↔ images); not written.
    image_path: str | None = None

    def __init__(
        self,
        item: Any = None,
        annotations: list[Annotation] | None = None,
        *,
        filename: str | None = None,
        name: str | None = None,
        item_id: str | None = None,
        width: int | None = None,
        height: int | None = None,
        mimetype: str | None = None,
        fps: float | None = None,
        orientation: int | None = None,
        _item_json: dict | None = None,
    ) -> None:
        self.annotations: list[Annotation] = list(annotations or [])
        self.filename = filename if filename is not None else getattr(item, "filename", None)
        self.name = name if name is not None else getattr(item, "name", None)
        self.item_id = item_id if item_id is not None else getattr(item, "id", None)
        self.width = width if width is not None else getattr(item, "width", None)
        self.height = height if height is not None else getattr(item, "height", None)
        self.mimetype = mimetype if mimetype is not None else getattr(item, "mimetype", None)
        self.fps = fps if fps is not None else getattr(item, "fps", None)
        self.orientation = orientation
        self._item_json = _item_json
        self._count_read = len(self.annotations)

    # -- what the item is ----------------------------------------------------------------------
    @property
    def is_video(self) -> bool:
        return "video" in (self.mimetype or "")

    @property
    def is_audio(self) -> bool:
        return "audio" in (self.mimetype or "")

    @property
    def display_size(self) -> tuple[int | None, int | None]:
        """``(width, height)`` as people see the image: EXIF orientations 5–8 swap them.

        Dataloop stores the file's own (stored) size in metadata while annotation coordinates
        are in the displayed frame (dataloop-format.md §5.8).
        """
        if self.orientation in SWAPPING_ORIENTATIONS:
            return self.height, self.width
        return self.width, self.height

    # -- the SDK's builder -----------------------------------------------------------------------
    def add(
        self,
        annotation_definition: BaseAnnotationDefinition,
        object_id: Any = None,
        frame_num: int | None = None,
        end_frame_num: int | None = None,
        start_time: float | None = None,
        end_time: float | None = None,
        automated: bool = True,
        fixed: bool = True,
        object_visible: bool = True,
        metadata: dict | None = None,
        parent_id: str | None = None,
        model_info: dict | None = None,
    ) -> Annotation:
        """Add a definition as the SDK's ``AnnotationCollection.add`` does.

        On video and audio, a definition with the ``object_id`` of an existing track becomes a
        new state of that track at ``frame_num``; otherwise a new annotation starts.
        """
        timed = frame_num is not None or start_time is not None or self.is_video or self.is_audio
        if timed and object_id is not None:
            for existing in self.annotations:
                if existing.object_id == str(object_id) and existing.is_video:
                    existing.add_frames(annotation_definition, frame_num, end_frame_num, start_time, end_time,
                                        fixed=fixed, object_visible=object_visible)
                    return existing
        annotation = Annotation.new(
            annotation_definition=annotation_definition, object_id=object_id, automated=automated,
            metadata=metadata, parent_id=parent_id, fps=self._timing_fps(),
        )
        if model_info is not None:
            annotation.model_info = model_info
        if timed:
            annotation.add_frames(annotation_definition, frame_num if frame_num is not None else (
                None if start_time is not None else 0), end_frame_num, start_time, end_time,
                fixed=fixed, object_visible=object_visible)
        self.annotations.append(annotation)
        return annotation

    def _timing_fps(self) -> float | None:
        if self.fps:
            return self.fps
        return 1000.0 if self.is_audio else None  # a frame is a millisecond on audio, as in the SDK

    # -- container protocol ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Annotation]:
        return iter(self.annotations)

    def __len__(self) -> int:
        return len(self.annotations)

    def __getitem__(self, index: int) -> Annotation:
        return self.annotations[index]

    def children(self, parent: Annotation | str) -> list[Annotation]:
        """Annotations whose ``parent_id`` is ``parent``'s id (a pose's keypoints)."""
        parent_id = parent if isinstance(parent, str) else parent.id
        if parent_id is None:
            return []
        return [a for a in self.annotations if a.parent_id == parent_id]

    def get_frame(self, frame_num: int) -> AnnotationCollection:
        """The item at one frame: every annotation there, as image annotations in stored order."""
        out = self._same_item()
        for annotation in self.annotations:
            state = annotation.get_frame(frame_num)
            if state is None:
                continue
            out.annotations.append(_frozen_at(annotation, state))
        return out

    def _same_item(self) -> AnnotationCollection:
        return AnnotationCollection(
            filename=self.filename, name=self.name, item_id=self.item_id, width=self.width, height=self.height,
            mimetype=self.mimetype, fps=self.fps, orientation=self.orientation,
        )

    @property
    def frame_range(self) -> tuple[int, int] | None:
        """``(first, last)`` frame over all tracks, or ``None`` when nothing is timed."""
        timed = [a for a in self.annotations if a.is_video]
        if not timed:
            return None
        return min(a.start_frame for a in timed), max(a.end_frame for a in timed)

    # -- pictures ------------------------------------------------------------------------------
    def show(self, image=None, thickness: int | None = None, with_text: bool = False, height: int | None = None,
             width: int | None = None, annotation_format: Any = "mask", label_instance_dict: dict | None = None,
             color=None, alpha: float | None = None, frame_num: int | None = None, label_map=None):
        """Draw the item as the SDK's ``show`` does (same arguments); returns the numpy picture.

        ``annotation_format`` is a :class:`~dlconvert.render.ViewAnnotationOptions` (``mask``,
        ``instance``, ``object_id``, ``img_mask``); id views are exact, filled, and as wide as
        their largest id needs (see ``dlconvert.render.views``).
        """
        from .render import render

        return render(self, annotation_format, image=image, label_map=label_map,
                      label_instance_dict=label_instance_dict, thickness=thickness, alpha=alpha,
                      with_text=with_text, frame_num=frame_num, height=height, width=width, color=color).image

    def download(self, filepath: str | os.PathLike[str], annotation_format: Any = "mask", **show_options: Any):
        """Write the picture of :meth:`show` (PNG; a 32-bit TIFF for ids past 65,535), or JSON/VTT."""
        from pathlib import Path

        from .render.files import write_picture
        from .render.views import ViewAnnotationOptions, as_view, render

        view = as_view(annotation_format)
        path = Path(filepath)
        if view is ViewAnnotationOptions.JSON:
            from ._io import atomic_write
            from ._json import dumps

            atomic_write(path, dumps(self.to_json()))
            return path
        if view is ViewAnnotationOptions.VTT:
            import tempfile

            from ._io import atomic_write
            from .dataset import ConvertOptions, Dataset
            from .formats.vtt import write
            from .report import ConversionReport

            with tempfile.TemporaryDirectory(prefix="dlconvert-") as tmp:
                written = write(Dataset([self]), Path(tmp), ConvertOptions(), ConversionReport())
                if not written:
                    raise ValueError("a VTT file needs a video or audio item")
                atomic_write(path, Path(written[0]).read_bytes())
            return path
        return write_picture(render(self, view, **show_options), path, view)

    @classmethod
    def from_vtt_file(cls, filepath: str | os.PathLike[str], item: Any = None, **kwargs: Any) -> AnnotationCollection:
        """Subtitles from a WebVTT file (labels from ``<v>`` voice spans), as the SDK's ``from_vtt_file``."""
        from .formats.vtt import from_vtt_file

        return from_vtt_file(filepath, item=item, **kwargs)

    @classmethod
    def from_instance_mask(cls, mask, instance_map: dict, *, filename: str | None = None,
                           colors: bool = False) -> AnnotationCollection:
        """Segmentations from a rendered picture: one per value of an INSTANCE/OBJECT_ID mask.

        ``instance_map`` maps label → pixel value (for an RGB semantic mask with ``colors=True``,
        label → ``(r, g, b)``); pixels of unknown values are left out. On an OBJECT_ID mask,
        pass ``{label: object id}``; each Segmentation then carries that object id.
        """
        import numpy as np

        from .geometry import Segmentation

        picture = np.asarray(mask)
        height, width = picture.shape[:2]
        collection = cls(filename=filename, width=width, height=height)
        for label, value in instance_map.items():
            if colors:
                selected = np.all(picture[:, :, :3] == np.asarray(value[:3], dtype=picture.dtype), axis=2)
            else:
                selected = picture == value
            if selected.any():
                definition = Segmentation(geo=selected, label=label,
                                          color=tuple(int(v) for v in value[:3]) if colors else None)
                collection.add(definition, object_id=None if colors else int(value))
        return collection

    # -- JSON ----------------------------------------------------------------------------------
    @classmethod
    def from_json(
        cls, _json: Any, item: Any = None, *, errors: list[DlconvertError] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> AnnotationCollection:
        """Parse an item's JSON (server export, SDK shape, or a bare list of annotations).

        A malformed annotation raises :class:`InvalidAnnotationError` naming its JSON pointer; when
        ``errors`` is a list, it is appended there instead and the rest is read.
        """
        if isinstance(_json, list):
            raw_annotations, item_json, prefix = _json, None, ""
        elif isinstance(_json, dict):
            if "images" in _json and "categories" in _json:
                raise FormatError("this is a COCO file, not a Dataloop item JSON (read it as COCO)", path=path)
            if "annotations" not in _json and not ({"filename", "id", "_id"} & _json.keys()):
                raise FormatError("not a Dataloop item JSON: no 'annotations' list and no item fields", path=path)
            raw_annotations = _json.get("annotations", [])
            item_json, prefix = _json, "/annotations"
            if not isinstance(raw_annotations, list):
                raise InvalidAnnotationError("'annotations' must be a list", path=path, where="/annotations")
        else:
            raise InvalidAnnotationError("expected an item object or a list of annotations", path=path, where="")
        collection = cls(item=item, _item_json=item_json)
        if path is not None:
            collection.origin = os.fspath(path)
        if item_json is not None:
            collection._read_item_fields(item_json, path)
        timed = collection.is_video or collection.is_audio
        known_still = collection.mimetype is not None and not timed
        fps = collection._timing_fps()
        for index, raw in enumerate(raw_annotations):
            where = f"{prefix}/{index}"  # json_pointer(index): an index needs no escaping
            try:
                annotation = Annotation.from_json(raw, is_video=True if timed else (False if known_still else None),
                                                  fps=fps, where=where)
            except DlconvertError as exc:
                exc.at(path=path)
                if errors is None:
                    raise
                errors.append(exc)
                continue
            if annotation.type == "binary" or annotation.frames is not None:  # masks are decoded when first used
                key = "/data" if "data" in raw and "coordinates" not in raw else "/coordinates"
                annotation.origin = (None if path is None else os.fspath(path),
                                     where + key if annotation.type == "binary" else where)
            collection.annotations.append(annotation)
        collection._count_read = len(raw_annotations)
        return collection

    def _read_item_fields(self, data: dict, path: Any) -> None:
        if path is not None:
            self.origin = os.fspath(path)
        metadata_key = "metadata" if "metadata" in data else "itemMetadata"
        metadata = data.get(metadata_key)
        metadata = metadata if isinstance(metadata, dict) else {}
        system = metadata.get("system") if isinstance(metadata.get("system"), dict) else {}
        self.item_id = self.item_id or data.get("id", data.get("_id"))
        self.filename = self.filename or _text(data.get("filename"))
        self.name = self.name or _text(data.get("name")) or (
            posixpath.basename(self.filename) if self.filename else None)
        self.mimetype = self.mimetype or _text(system.get("mimetype")) or (
            mimetypes.guess_type(self.filename)[0] if self.filename else None)
        ffmpeg = system.get("ffmpeg") if isinstance(system.get("ffmpeg"), dict) else {}
        for key in ("width", "height"):
            # The error names where the value was: metadata.system, else its ffprobe stream info.
            place = (metadata_key, "system") if key in system else (metadata_key, "system", "ffmpeg")
            value = system.get(key, ffmpeg.get(key))
            setattr(self, key, getattr(self, key) or _size(value, key, path, json_pointer(*place, key)))
        fps = metadata.get("fps", system.get("fps"))
        if (self.fps is None and isinstance(fps, (int, float)) and not isinstance(fps, bool) and fps > 0
                and math.isfinite(fps)):
            self.fps = float(fps)
        exif = system.get("exif") if isinstance(system.get("exif"), dict) else {}
        orientation = exif.get("Orientation")
        if isinstance(orientation, int) and 1 <= orientation <= 8:
            self.orientation = orientation

    def to_json(self) -> dict:
        """The item's JSON: the source with annotations (and changed item fields) written back."""
        annotations = [a.to_json() for a in self.annotations]
        if self._item_json is None:
            return self._fresh_item_json(annotations)
        out = dict(self._item_json)
        out["annotations"] = annotations
        if len(annotations) != self._count_read:
            if "annotationsCount" in out:
                out["annotationsCount"] = len(annotations)
            if "annotated" in out:
                out["annotated"] = bool(annotations)
        return out

    def _fresh_item_json(self, annotations: list) -> dict:
        system: dict = {}
        for key, value in (("mimetype", self.mimetype), ("width", self.width), ("height", self.height),
                           ("fps", self.fps)):
            if value is not None:
                system[key] = value
        if self.orientation is not None:
            system["exif"] = {"Orientation": self.orientation}
        out: dict = {"id": self.item_id, "filename": self.filename}
        if self.name is not None or self.filename:
            out["name"] = self.name or posixpath.basename(self.filename)
        if self.filename:
            out["dir"] = posixpath.dirname(self.filename) or "/"
        out["type"] = "file"
        out["metadata"] = {"system": system}
        if self.fps is not None:
            _put(out["metadata"], "fps", self.fps)
        out["annotations"] = annotations
        out["annotationsCount"] = len(annotations)
        out["annotated"] = bool(annotations)
        return out

    @classmethod
    def from_json_file(cls, filepath: str | os.PathLike[str], item: Any = None, *,
                       errors: list[DlconvertError] | None = None) -> AnnotationCollection:
        """Read one Dataloop item JSON file."""
        from ._json import read_json_file

        return cls.from_json(read_json_file(filepath), item=item, errors=errors, path=filepath)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AnnotationCollection):
            return NotImplemented
        return self.annotations == other.annotations and self.filename == other.filename

    __hash__ = None

    def __repr__(self) -> str:
        return f"<AnnotationCollection {self.filename!r} annotations={len(self.annotations)}>"


def _frozen_at(annotation: Annotation, state: FrameAnnotation) -> Annotation:
    """An image-like copy of ``annotation`` holding the geometry of one frame."""
    return Annotation(state.annotation_definition, metadata=annotation.metadata, _json=annotation._json,
                      fps=annotation.fps, v1_attributes=annotation.v1_attributes)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _size(value: Any, key: str, path: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidAnnotationError(f"item {key} must be a non-negative number, got {value!r}", path=path,
                                     where=where)
    return int(value)
