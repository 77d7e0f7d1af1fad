"""AnnotationCollection: one item's annotations and what the item is (file, size, fps, EXIF).

Reads both JSON shapes a Dataloop user meets: the server export (the item's full JSON with an
``annotations`` list) and the SDK's ``{"_id", "filename", "annotations"}``; a bare list of
annotations works too. Everything not modelled is kept and written back unchanged.

The builder follows the SDK's ``AnnotationCollection`` (same names, arguments and defaults):
``add`` (one definition or a list), ``from_instance_mask`` and ``from_vtt_file`` (called on a
builder they fill it; on the class they make a new collection), ``get_frame``, ``print``,
``show``/``download`` and ``to_dtlpy``. The methods that need the layers above the model (pictures,
VTT, the SDK itself) sit in one section at the end of the class, "SDK conveniences that reach up":
two-line delegators to ``dlconvert.conveniences``.
"""

from __future__ import annotations

import math
import mimetypes
import os
import posixpath
import types
from collections.abc import Callable, Iterator
from typing import Any

from .annotation import Annotation, FrameAnnotation
from .annotation_json import put
from .errors import DlconvertError, FormatError, InvalidAnnotationError, json_pointer
from .geometry import BaseAnnotationDefinition, Segmentation

__all__ = ["AnnotationCollection"]

#: Orientations whose displayed image is the stored one turned by 90°: width and height swap.
SWAPPING_ORIENTATIONS = frozenset({5, 6, 7, 8})


class _builder_or_new:
    """A method called on a builder gets the builder; called on the class, the class (the SDK's
    ``builder.from_vtt_file(...)`` fills the builder, ``AnnotationCollection.from_vtt_file(...)`` makes one)."""

    def __init__(self, function: Callable) -> None:
        self.__func__ = function
        self.__doc__ = function.__doc__
        self.__name__ = function.__name__
        self.__wrapped__ = function

    def __get__(self, instance: Any, owner: type | None = None) -> Callable:
        return types.MethodType(self.__func__, owner if instance is None else instance)


class AnnotationCollection:
    """The annotations of one item (image, video or audio), in stored order (= draw order)."""

    #: The file the item was read from, when a reader knows it (errors about the item name it).
    origin: str | None = None
    #: The item's image file, when the reader paired the item with it (YOLO labels ↔ images); not written.
    image_path: str | None = None
    #: The item's image carried in its annotation file as base64 text (LabelMe's ``imageData``), set by the reader
    #: when it found no image file: what the format's own tool shows, and what the renderer draws on when no file
    #: is found either; not written.
    embedded_image: str | None = None

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
        annotation_definition: BaseAnnotationDefinition | list[BaseAnnotationDefinition],
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
        prompt_id: str | None = None,
        model_info: dict | None = None,
    ) -> Annotation | list[Annotation]:
        """Add a definition (or a list of them, each with the same arguments) as the SDK's ``add``.

        On video, a definition with the ``object_id`` of an existing track becomes a new state of
        that track at ``frame_num``; otherwise a new annotation starts. On audio, ``start_time`` and
        ``end_time`` are the annotation's times and its frame stays 0, as the SDK and the platform
        write audio annotations. Returns the annotation (a list of them for a list).
        """
        if isinstance(annotation_definition, list):
            return [self.add(d, object_id, frame_num, end_frame_num, start_time, end_time, automated, fixed,
                             object_visible, metadata, parent_id, prompt_id, model_info)
                    for d in annotation_definition]
        if model_info is not None:  # validated and stored as the SDK does
            if not isinstance(model_info, dict) or "confidence" not in model_info:
                raise ValueError('"model_info" must be a dict with key: "confidence"')
            confidence = float(model_info["confidence"])
            if not 0 <= confidence <= 1:
                raise ValueError('"confidence" must be a float between 0 and 1')
            model_info = {"confidence": confidence, "name": model_info.get("name"),
                          "model_id": model_info.get("model_id")}
        if prompt_id is not None:
            metadata = dict(metadata or {})
            metadata["system"] = {**(metadata.get("system") or {}), "promptId": prompt_id}
        if self.is_audio and frame_num is None and start_time is not None:
            annotation = self._new(annotation_definition, object_id, automated, metadata, parent_id, model_info)
            annotation._start_track(0, start_time, end_time)  # frame 0, as the SDK (and the platform) write
            annotation.frames[0].fixed, annotation.frames[0].object_visible = fixed, object_visible
            self.annotations.append(annotation)
            return annotation
        timed = frame_num is not None or start_time is not None or self.is_video or self.is_audio
        if timed and object_id is not None:
            for existing in self.annotations:
                if existing.object_id == str(object_id) and existing.is_video:
                    existing.add_frames(annotation_definition, frame_num, end_frame_num, start_time, end_time,
                                        fixed=fixed, object_visible=object_visible)
                    return existing
        annotation = self._new(annotation_definition, object_id, automated, metadata, parent_id, model_info)
        if timed:
            annotation.add_frames(annotation_definition, frame_num if frame_num is not None else (
                None if start_time is not None else 0), end_frame_num, start_time, end_time,
                fixed=fixed, object_visible=object_visible)
        self.annotations.append(annotation)
        return annotation

    def _new(self, definition: BaseAnnotationDefinition, object_id: Any, automated: bool, metadata: dict | None,
             parent_id: str | None, model_info: dict | None) -> Annotation:
        annotation = Annotation.new(item=self, annotation_definition=definition, object_id=object_id,
                                    automated=automated, metadata=metadata, parent_id=parent_id,
                                    fps=self._timing_fps())
        if model_info is not None:
            annotation.model_info = model_info
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
        """The item at one frame: every annotation visible there, as image annotations in stored order.

        An object hidden at that frame (``objectVisible`` false) is left out: the SDK keeps it, and
        its pictures draw it (B24). ``Annotation.get_frame`` gives the hidden state itself.
        """
        out = self._same_item()
        for annotation in self.annotations:
            state = annotation.visible_at(frame_num)
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

    def print(self, to_return: bool = False, columns: list[str] | None = None) -> str | None:
        """A table of the annotations (the SDK's ``builder.print()``); returned instead when ``to_return``."""
        columns = list(columns or ("id", "type", "label", "object_id", "left", "top", "right", "bottom"))
        rows = [[_cell(getattr(annotation, name, None)) for name in columns] for annotation in self.annotations]
        widths = [max(len(name), *(len(row[i]) for row in rows)) for i, name in enumerate(columns)]
        lines = ["  ".join(name.ljust(w) for name, w in zip(columns, widths, strict=True))]
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
        table = "\n".join(line.rstrip() for line in lines)
        if to_return:
            return table
        print(table)
        return None

    @_builder_or_new
    def from_instance_mask(target, mask, instance_map: dict | list | None = None, *, filename: str | None = None,
                           colors: bool = False, object_ids: bool = False) -> AnnotationCollection:
        """Segmentations from an instance mask: one per value of ``instance_map`` found in ``mask``.

        ``instance_map`` maps label → pixel value (a list means value = position, as the SDK's
        tutorial passes it); pixels of other values are left out. For an RGB semantic mask with
        ``colors=True``, label → ``(r, g, b)``. With ``object_ids=True`` (an OBJECT_ID mask) each
        Segmentation also carries its value as object id. Called on a builder, it adds to it (as the
        SDK); called on the class, it returns a new collection of the mask's size.
        """
        import numpy as np

        if instance_map is None:
            raise ValueError("from_instance_mask needs instance_map {label: value} (the SDK reads the "
                             "dataset's from the platform)")
        if isinstance(instance_map, (list, tuple)):
            instance_map = {label: value for value, label in enumerate(instance_map)}
        picture = np.asarray(mask)
        height, width = picture.shape[:2]
        collection = target(filename=filename, width=width, height=height) if isinstance(target, type) else target
        for label, value in instance_map.items():
            if colors:
                selected = np.all(picture[:, :, :3] == np.asarray(value[:3], dtype=picture.dtype), axis=2)
            else:
                selected = picture == value
            if selected.any():
                definition = Segmentation(geo=selected, label=label,
                                          color=tuple(int(v) for v in value[:3]) if colors else None)
                collection.add(definition, object_id=int(value) if object_ids and not colors else None)
        return collection

    # -- JSON ----------------------------------------------------------------------------------
    @classmethod
    def from_json(
        cls, _json: Any, item: Any = None, is_video: bool | None = None, fps: float | None = None,
        height: int | None = None, width: int | None = None, is_audio: bool | None = None, *,
        errors: list[DlconvertError] | None = None, path: str | os.PathLike[str] | None = None,
    ) -> AnnotationCollection:
        """Parse an item's JSON (server export, SDK shape, or a bare list of annotations).

        The SDK's arguments: ``item`` (an SDK item) describes the media; ``is_video``/``is_audio``,
        ``fps``, ``height`` and ``width`` say what the JSON (or the item) does not, and win over it.
        No fps is invented: the SDK assumes 25 for a video without one. A malformed annotation raises
        :class:`InvalidAnnotationError` naming its JSON pointer; when ``errors`` is a list, it is
        appended there instead and the rest is read.
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
        collection = cls(item=item, _item_json=item_json, width=width, height=height, fps=fps)
        if path is not None:
            collection.origin = os.fspath(path)
        if item_json is not None:
            collection._read_item_fields(item_json, path)
        said = is_video is not None or is_audio is not None
        timed = bool(is_video or is_audio) if said else (collection.is_video or collection.is_audio)
        known_still = (said or collection.mimetype is not None) and not timed
        fps = collection._timing_fps() or (1000.0 if is_audio else None)
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

    @classmethod
    def for_item(cls, item_json: dict, origin: str | os.PathLike[str] | None = None) -> AnnotationCollection:
        """The collection of one item described by its Dataloop item JSON — ``filename``, ``metadata.system``
        (size, mimetype, EXIF orientation) and a format's own fields under ``metadata.user.<format>`` — read
        as :meth:`from_json` reads an item (``origin``: the file it came from, for messages). How every reader
        makes an item; add its annotations, then :meth:`mark_read`."""
        collection = cls(_item_json=item_json)
        collection._read_item_fields(item_json, origin)
        return collection

    def mark_read(self) -> None:
        """Take the annotations now held as the ones read (a reader calls it once it has added them): what
        :meth:`to_json` compares with to tell whether the item's annotation counts changed."""
        self._count_read = len(self.annotations)

    @property
    def source_item(self) -> dict | None:
        """The item's JSON as its reader made it (a format's own fields under ``metadata.user``), not to be
        changed; None for an item made in Python."""
        return self._item_json

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
            put(out["metadata"], "fps", self.fps)
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

    # -- SDK conveniences that reach up ----------------------------------------------------------
    # The SDK's collection draws, saves and reads captions itself. These need render/, formats/
    # and dtlpy, above the model: each is a two-line delegator to dlconvert.conveniences, imported
    # when called, and nowhere else does the model call up.
    def show(self, image=None, thickness: int | None = 1, with_text: bool = False, height: int | None = None,
             width: int | None = None, annotation_format: Any = "mask", label_instance_dict: dict | None = None,
             color=None, alpha: float | None = 1.0, frame_num: int | None = None, label_map=None):
        """Draw the item as the SDK's ``show`` (its arguments and defaults: 1-pixel outlines, -1 fills).

        ``annotation_format`` is a view (``ViewAnnotationOptions``, ours or the SDK's, or its
        value); id views are exact and as wide as their largest id (``dlconvert.render.views``).
        """
        from .conveniences import show_collection
        return show_collection(self, image=image, thickness=thickness, with_text=with_text, height=height,
                               width=width, annotation_format=annotation_format,
                               label_instance_dict=label_instance_dict, color=color, alpha=alpha,
                               frame_num=frame_num, label_map=label_map)

    def download(self, filepath: str | os.PathLike[str], img_filepath: str | os.PathLike[str] | None = None,
                 annotation_format: Any = "json", height: int | None = None, width: int | None = None,
                 thickness: int | None = 1, with_text: bool = False, orientation: int = 0,
                 alpha: float | None = 1.0, label_map=None):
        """Save the item's JSON, picture or VTT as the SDK's ``download`` (its arguments and defaults)."""
        from .conveniences import download_collection
        return download_collection(self, filepath, img_filepath=img_filepath, annotation_format=annotation_format,
                                   height=height, width=width, thickness=thickness, with_text=with_text,
                                   orientation=orientation, alpha=alpha, label_map=label_map)

    @_builder_or_new
    def from_vtt_file(target, filepath: str | os.PathLike[str], item: Any = None,
                      **kwargs: Any) -> AnnotationCollection:
        """Subtitles from a WebVTT file (labels from ``<v>`` voice spans), as the SDK's ``from_vtt_file``.

        Called on a builder, they are added to it (as the SDK); on the class, a new collection.
        """
        from .conveniences import read_vtt_into
        return read_vtt_into(None if isinstance(target, type) else target, filepath, item=item, **kwargs)

    def plot(self, image=None, *, images=None, view: Any = "overlay", size: tuple[float, float] = (10, 10), ax=None,
             with_text: bool = True, label_map=None, frame_num: int | None = None):
        """Draw the item with Matplotlib (as supervision's ``sv.plot_image``): ``view`` on its image (``image``:
        an array or file; else found as ``dlconvert render`` finds it, ``images`` first); returns the axes."""
        from .conveniences import plot_collection
        return plot_collection(self, size=size, ax=ax, image=image, images=images, view=view, with_text=with_text,
                               label_map=label_map, frame_num=frame_num)

    def _repr_png_(self) -> bytes | None:
        """Jupyter shows a collection as its overlay (at most 1024 pixels a side); None: the text repr."""
        from .conveniences import display_png
        return display_png(self)

    def to_dtlpy(self, item: Any = None) -> Any:
        """The SDK's ``AnnotationCollection`` of these annotations: ``item.annotations.upload(c.to_dtlpy(item))``."""
        from .conveniences import to_dtlpy
        return to_dtlpy(self, item=item)


def _frozen_at(annotation: Annotation, state: FrameAnnotation) -> Annotation:
    """An image-like copy of ``annotation`` holding the geometry of one frame."""
    frozen = Annotation(state.annotation_definition, metadata=annotation.metadata, _json=annotation._json,
                        fps=annotation.fps, v1_attributes=annotation.v1_attributes)
    frozen._item = annotation._item  # it still draws at its item's size
    return frozen


def _cell(value: Any) -> str:
    """A table cell of ``print()``: numbers to 2 decimals, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _size(value: Any, key: str, path: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidAnnotationError(f"item {key} must be a non-negative number, got {value!r}", path=path,
                                     where=where)
    return int(value)
