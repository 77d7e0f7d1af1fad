"""CVAT XML → Dataloop model: an item per ``<image>``, and a video item per file with ``<track>`` elements.

Each shape is one annotation (a ``<points>`` of N points N point annotations, which the writer joins
again; a ``<skeleton>`` a pose and a point per keypoint): its ``label``, its ``<attribute>`` children
as attributes (typed by the label's spec, :mod:`.meta`), ``occluded="1"`` as the attribute
``occluded: 1`` (as VOC's reader gives ``<occluded>``; a keypoint's as its ``visibility``),
``group_id`` as the object id (the shapes of one object), ``source`` ``auto``/``semi-auto`` as
``automated``. ``source``, a ``z_order`` other than 0 and the image's ``id``/``subset`` are kept in
``metadata.user.cvat`` and written back; an image's annotations are in CVAT's drawing order (by
``z_order``, then file order). ``<tag>`` → Classification. Tracks: :mod:`.tracks`.

A shape that cannot be read, or an element of an ``<image>`` that is no CVAT shape, is a bad record
(``cvat.invalid-shape``: one line naming the file, line and element; skipped with ``on_error="skip"``),
a file that is not CVAT XML a failed file (``cvat.invalid-file``).

Speed: the file is parsed once, as a stream (:mod:`.document`); a ``points`` string is parsed by numpy in
one call; an annotation is built with the metadata made for it (no defensive copy), and no image file is
looked for unless its size is missing or it stands in a subset folder — the rest is the model's own cost.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...annotation import Annotation
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError
from ...geometry import Classification, Pose
from ...images import find_image, image_info
from .._keypoints import VISIBILITY_ATTRIBUTE, VISIBILITY_NAMES
from .document import top_elements
from .layout import Layout, find_layout
from .meta import Meta, label_map_of, template_id
from .shapes import SHAPE_TAGS, Where, attributes_of, flag, read_geometry, whole
from .tracks import Shape, states_of

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset
    from ...report import ConversionReport

__all__ = ["read"]

_AUTOMATED = frozenset({"auto", "semi-auto"})
_READ = frozenset((*SHAPE_TAGS, "tag"))  # what an <image> holds (comments and PIs are not kept by the parser)
_TYPES = {"box": "box", "polygon": "segment", "polyline": "polyline", "points": "point", "ellipse": "ellipse",
          "cuboid": "cube", "mask": "binary", "skeleton": "pose", "tag": "class"}


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a CVAT XML file, or a folder of them (an export: ``annotations.xml`` and ``images/``), lazily."""
    from ...dataset import Dataset
    from ...labels import LABELMAP_FILENAME, LabelMap

    layout = find_layout(src)
    labels = options.labels
    if labels is None and (layout.root / LABELMAP_FILENAME).is_file():
        labels = LabelMap.load(layout.root / LABELMAP_FILENAME)
    if labels is None:
        labels = label_map_of([(meta, path) for path, meta in layout.metas.items()])

    def items() -> Iterator[AnnotationCollection]:
        for path in layout.files:
            try:
                yield from _FileReader(path, layout, options, report).items()
            except DlconvertError as exc:
                report.failed(exc.at(path=path), code="cvat.invalid-file")

    images_root = options.images or (layout.image_roots[0] if layout.image_roots else None)
    return Dataset(items(), labels=labels, images_root=images_root, image_roots=layout.image_roots,
                   declared_empty=layout.declared_empty)


class _FileReader:
    """The items of one CVAT XML file, as its elements stream by."""

    def __init__(self, path: Path, layout: Layout, options: ConvertOptions, report: ConversionReport) -> None:
        self.path = path
        self.report = report
        self.meta = layout.metas.get(path) or Meta()
        self.input_types = self.meta.input_types()
        self.folder = path.parent
        self.image_folders = tuple(f for f in (options.images, self.folder / "images", self.folder) if f is not None)
        self.tracks: list[Annotation] = []
        self.video_size: tuple[int | None, int | None] = (self.meta.width, self.meta.height)
        self.video_filename = "/" + (self.meta.source or self.meta.name or path.stem).lstrip("/")
        self.meta_error = layout.errors.get(path)

    def items(self) -> Iterator[AnnotationCollection]:
        if self.meta_error is not None:
            raise self.meta_error
        for element in top_elements(self.path):
            if element.tag == "meta":
                continue  # read up front by the layout
            if element.tag == "image":
                try:
                    yield self._image(element)
                except FormatError as exc:
                    self.report.failed(exc, code="cvat.invalid-image")
            elif element.tag == "track":
                self._track(element)
            elif element.tag == "tag":  # a tag outside an image has no frame to stand on
                where = Where(self.path, element)
                self.report.bad_record(where.error("stands outside an <image>"), code="cvat.invalid-shape",
                                       annotation_type="class", item=None)
        if self.tracks or (self.meta.mode == "interpolation" and self.meta.declared):
            yield self._video()

    # -- images ----------------------------------------------------------------------------------------
    def _image(self, element) -> AnnotationCollection:
        where = Where(self.path, element)
        name = element.get("name")
        if not name:
            raise where.error("has no name")
        filename = "/" + name.lstrip("/")
        width = whole(element, "width", where) or None
        height = whole(element, "height", where) or None
        subset = element.get("subset")
        # A project export keeps each subset's images in images/<subset>/ (the same name may stand in two
        # subsets): that file is the item's own. Other images are found under the dataset's image roots when
        # wanted (rendering), and looked for here only when the size must come from the file.
        image = find_image(self.folder / "images", f"{subset}/{name}") if subset else None
        orientation = None
        if width is None or height is None:
            image = image or self._find(filename)
            if image is not None:
                try:
                    width, height, orientation = image_info(image)
                except FormatError:  # an unreadable image: the annotations still hold without a size
                    pass
        kept = {key: element.get(key) for key in ("id", "subset", "task_id") if element.get(key) is not None}
        guessed = mimetypes.guess_type(filename)[0] or ""
        collection = _collection(filename, width, height, orientation, kept, self.path,
                                 guessed if guessed.startswith("image/") else "image/jpeg")
        if image is not None:
            collection.image_path = str(image)
        groups: list[tuple[int, int, list[Annotation]]] = []
        for position, child in enumerate(element):
            try:
                if child.tag not in _READ:
                    raise Where(self.path, child).error("is no CVAT shape dlconvert knows: not read")
                annotations, z_order = self._shape(child, (width, height), len(groups))
            except FormatError as exc:
                self.report.bad_record(exc, code="cvat.invalid-shape", annotation_type=_TYPES.get(child.tag, "unknown"),
                                       item=filename)
                continue
            groups.append((z_order, position, annotations))
        groups.sort(key=lambda group: group[:2])  # CVAT draws by z_order, then in file order
        collection.annotations.extend(a for _, _, annotations in groups for a in annotations)
        collection.mark_read()
        return collection

    def _find(self, filename: str) -> Path | None:
        for folder in self.image_folders:
            found = find_image(folder, filename)
            if found is not None:
                return found
        return None

    def _shape(self, element, size, serial: int) -> tuple[list[Annotation], int]:
        """The annotations of one shape or tag of an image, and its z_order."""
        where = Where(self.path, element)
        label = element.get("label")
        if not label:
            raise where.error("has no label")
        z_order = whole(element, "z_order", where)
        cvat: dict[str, Any] = {}
        source = element.get("source")
        if source is not None:
            cvat["source"] = source
        if z_order:
            cvat["z_order"] = z_order
        attributes = attributes_of(element, label, self.input_types)
        if flag(element, "occluded"):
            if "occluded" in attributes:
                cvat["occluded"] = True  # the flag and an attribute of that name: the flag is kept here
            else:
                attributes["occluded"] = 1
        group = whole(element, "group_id", where)
        if element.tag == "tag":
            definitions = [Classification(label=label, attributes=attributes)]
        elif element.tag == "skeleton":
            return self._skeleton(element, label, attributes, cvat, group, serial), z_order
        else:
            definitions = read_geometry(element, where, size, label, attributes)
            if len(definitions) > 1:
                cvat["points_shape"] = serial  # the writer joins the points of one <points> again
        return [_annotation(definition, cvat, group) for definition in definitions], z_order

    def _skeleton(self, element, label: str, attributes: dict, cvat: dict, group: int,
                  serial: int) -> list[Annotation]:
        """A pose and a point per keypoint (``occluded`` → visibility not-visible, ``outside`` → unlabeled)."""
        pose = _annotation(Pose(label=label, template_id=template_id(label), instance_id=f"cvat-skeleton-{serial}",
                                attributes=attributes), cvat, group)
        pose.id = f"cvat-skeleton-{serial}"
        out = [pose]
        for child in element.iterchildren("points"):
            place = Where(self.path, child)
            name = child.get("label")
            if not name:
                raise place.error("(a keypoint of a <skeleton>) has no label")
            state = 0 if flag(child, "outside") else (1 if flag(child, "occluded") else 2)
            keypoint_attributes = attributes_of(child, name, self.input_types)
            keypoint_attributes[VISIBILITY_ATTRIBUTE] = VISIBILITY_NAMES[state]
            points = read_geometry(child, place, (None, None), name, keypoint_attributes)
            if len(points) != 1:
                raise place.error(f"(a keypoint of a <skeleton>) holds {len(points)} points, not 1")
            keypoint = _annotation(points[0], {}, group)
            keypoint.parent_id = pose.id
            out.append(keypoint)
        return out

    # -- video -------------------------------------------------------------------------------------------
    def _track(self, element) -> None:
        where = Where(self.path, element)
        label = element.get("label")
        kinds = {child.tag for child in element if isinstance(child.tag, str) and child.tag in SHAPE_TAGS}
        try:
            if not label:
                raise where.error("has no label")
            if len(kinds) != 1:
                raise where.error(f"holds {' and '.join(sorted(kinds)) or 'no'} shapes (a track holds one kind)")
            if "skeleton" in kinds:
                raise where.error("is a skeleton track, which dlconvert does not read yet")
            shapes = [self._track_shape(child, label) for child in element if child.tag in kinds]
            try:
                states, end = states_of(shapes, self.meta.step, self.meta.stop_frame)
            except ValueError as exc:
                raise where.error(str(exc)) from None
            group = whole(element, "group_id", where)
        except FormatError as exc:
            kind = _TYPES.get(next(iter(kinds)), "unknown") if len(kinds) == 1 else "unknown"
            self.report.bad_record(exc, code="cvat.invalid-shape", annotation_type=kind, item=self.video_filename)
            return
        cvat: dict[str, Any] = {key: element.get(key) for key in ("source",) if element.get(key) is not None}
        if group:
            cvat["group_id"] = group
        z_orders = {state.frame: state.z_order for state in states}
        if any(z_orders.values()):
            cvat["z_order"] = states[0].z_order
            cvat["frame_z_order"] = {str(frame): z for frame, z in z_orders.items() if z != states[0].z_order}
        track_id = element.get("id")
        first = states[0]
        annotation = Annotation.new(annotation_definition=first.definition, automated=cvat.get("source") in _AUTOMATED,
                                    metadata={"system": {}, "user": {"cvat": cvat} if cvat else {}},
                                    object_id=track_id if track_id and track_id.isdigit() else None,
                                    frame_num=first.frame)
        annotation.frames[first.frame].fixed = first.keyframe
        annotation.frames[first.frame].object_visible = not first.outside
        for state in states[1:]:
            annotation.add_frame(state.definition, state.frame, fixed=state.keyframe, object_visible=not state.outside)
        annotation.end_frame = end
        self.tracks.append(annotation)

    def _track_shape(self, element, label: str) -> Shape:
        where = Where(self.path, element)
        attributes = attributes_of(element, label, self.input_types)
        if flag(element, "occluded") and "occluded" not in attributes:
            attributes["occluded"] = 1
        geometry = read_geometry(element, where, self.video_size, label, attributes)
        if len(geometry) != 1:
            raise where.error(f"holds {len(geometry)} points: a Dataloop point track follows one point")
        return Shape(where.count("frame"), geometry[0], keyframe=flag(element, "keyframe") or element.get("keyframe")
                     is None, outside=flag(element, "outside"), z_order=whole(element, "z_order", where),
                     line=element.sourceline)

    def _video(self) -> AnnotationCollection:
        meta = self.meta
        filename = self.video_filename
        guessed = mimetypes.guess_type(filename)[0] or ""
        width, height = self.video_size
        collection = _collection(filename, width, height, None, {}, self.path,
                                 guessed if guessed.startswith("video/") else "video/x-unknown",
                                 frames=meta.size)
        collection.annotations.extend(self.tracks)
        collection.mark_read()
        return collection


def _annotation(definition, cvat: dict, group: int) -> Annotation:
    """A new annotation of a shape (built directly: its metadata is made here, so nothing needs copying)."""
    system: dict[str, Any] = {"automated": cvat.get("source") in _AUTOMATED}
    if group > 0:
        system["objectId"] = str(group)
    return Annotation(definition, metadata={"system": system, "user": {"cvat": dict(cvat)} if cvat else {}})


def _collection(filename: str, width: int | None, height: int | None, orientation: int | None, kept: dict,
                origin: Path, mimetype: str, frames: int | None = None) -> AnnotationCollection:
    system: dict[str, Any] = {"mimetype": mimetype, "width": width, "height": height}
    if frames is not None:
        system["nb_frames"] = frames
    if orientation not in (None, 1):
        system["exif"] = {"Orientation": orientation}
    item_json = {"id": None, "filename": filename, "name": posixpath.basename(filename),
                 "dir": posixpath.dirname(filename) or "/", "type": "file",
                 "metadata": {"system": system, "user": {"cvat": kept} if kept else {}}, "annotations": []}
    collection = AnnotationCollection.for_item(item_json, origin)
    return collection
