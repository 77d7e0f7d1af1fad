"""Dataloop model → CVAT XML 1.1: ``annotations.xml`` (CVAT for images) and a CVAT for video file per video.

Layout::

    out/
    ├── annotations.xml                              every image item: <meta> (labels, colours), <image>s
    ├── videos/<video's path>/annotations.xml        one CVAT for video task per video item: <track>s
    └── labelmap.json                                dlconvert's label map (ids, colours)

Each annotation is written as :mod:`.capabilities` says; everything that does not come back as it
went is in the report, once per annotation, so ``convert`` and ``verify`` agree:

* skipped: types CVAT cannot hold (``cvat.unsupported-type``: subtitles, notes; tags and poses on a
  video), a polyline of several lines (``cvat.polyline-parts``), a cube whose edges are not upright
  (``cvat.cube-not-upright``), COCO crowd regions (``cvat.crowd-region``), degenerate shapes
  (``cvat.degenerate-shape``), annotations without a label (``cvat.no-label``), text XML cannot hold
  (``cvat.invalid-text``), labels a pinned label map lacks (``cvat.label-not-in-map``), masks not the
  image's size (``cvat.mask-size``), items that are neither images nor videos (``cvat.not-an-image``).
* approximated: a polygon of several rings written as a mask (``cvat.polygon-rings-as-mask``), a
  track on an image written as its first frame (``cvat.video-first-frame``), an attribute value CVAT
  gives back otherwise (``cvat.attribute-as-text``: the label's attribute type is set by the first
  value written; ``true``/``false``, numbers and text come back typed by it), and the track cases of
  :mod:`.tracks` (``cvat.held-state-repeated``, ``cvat.hidden-track-end``).

The values a reader kept in ``metadata.user.cvat`` (``source``, ``z_order``, an image's ``id`` and
``subset``) are written back; ``occluded`` is the attribute ``occluded: 1``; the object id is the
``group_id`` (a track's ``id`` on video). Item names must be unique (CVAT matches images by name).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import atomic_write, safe_join
from ...errors import OutputError
from ...labels import LABELMAP_FILENAME, LabelMap, PoseTemplate
from .._keypoints import VISIBILITY_ATTRIBUTE, visibility
from .._metadata import section
from .._policy import is_crowd, label_not_in_map
from ..voc.safe_xml import not_xml_text
from .capabilities import refusal
from .layout import IMAGES_FILENAME, VIDEOS
from .meta import attribute_text, input_type_of, template_id, typed
from .shapes import geometry_fields, upright
from .tracks import plan_track

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection
    from ...dataset import ConvertOptions, Dataset
    from ...report import ConversionReport

__all__ = ["write"]

_TAGS = {"box": "box", "segment": "polygon", "polyline": "polyline", "point": "points", "ellipse": "ellipse",
         "binary": "mask", "cube": "cuboid"}
_TRACKABLE = frozenset(_TAGS)
_AUTOMATED_SOURCE, _MANUAL_SOURCE = "auto", "manual"


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``annotations.xml``, a CVAT for video file per video item, and ``labelmap.json``."""
    label_map = options.labels or dataset.labels
    writer = _Writer(label_map.copy() if label_map is not None else LabelMap(), report)
    body = dst / f".{IMAGES_FILENAME}.body.tmp"
    written: list[Path] = []
    dst.mkdir(parents=True, exist_ok=True)
    try:
        with open(body, "wb") as handle:
            for collection in dataset.items:
                if collection.is_video:
                    written.extend(writer.video(collection, dst))
                elif collection.is_audio or not (collection.mimetype or "image/").startswith("image/"):
                    kind = "audio" if collection.is_audio else collection.mimetype
                    for annotation in collection:
                        report.skip(annotation, "cvat.not-an-image", f"CVAT holds images and videos; this item is "
                                    f"{kind}", collection.filename)
                else:
                    element = writer.image(collection)
                    if element is not None:
                        handle.write(_serialized(element))
        images = dst / IMAGES_FILENAME
        with open(images, "wb") as out, open(body, "rb") as handle:
            out.write(writer.head(size=writer.images_written, mode="annotation"))
            while chunk := handle.read(1 << 20):
                out.write(chunk)
            out.write(b"</annotations>\n")
    except OSError as exc:
        raise OutputError(f"cannot write the file: {exc.strerror or exc}", path=dst / IMAGES_FILENAME) from None
    finally:
        body.unlink(missing_ok=True)
    writer.label_map.save(dst / LABELMAP_FILENAME)
    return [images, *written, dst / LABELMAP_FILENAME]


def _serialized(element, level: int = 1) -> bytes:
    from lxml import etree

    etree.indent(element, space="  ", level=level)
    return ("  " * level + etree.tostring(element, encoding="unicode") + "\n").encode("utf-8")


class _Writer:
    """Writes items one at a time, remembering what ``<meta>`` must declare (labels, attribute types, skeletons)."""

    def __init__(self, label_map: LabelMap, report: ConversionReport) -> None:
        self.label_map = label_map
        self.report = report
        self.types: dict[tuple[str, str], str] = {}
        for info in label_map:
            for spec in section(info.extras, "cvat").get("attributes") or []:
                if isinstance(spec, dict) and isinstance(spec.get("name"), str):
                    self.types[(info.name, spec["name"])] = str(spec.get("input_type") or "text")
        self.skeletons: dict[str, list[str]] = {}
        self.names: dict[str, str | None] = {}  # image name → item (CVAT matches images by name)
        self.image_ids: set[str] = set()
        self.images_written = 0

    # -- items ---------------------------------------------------------------------------------------------
    def image(self, collection: AnnotationCollection):
        """The ``<image>`` element of an image item (None when the item cannot be written: reported)."""
        from lxml import etree

        name = (collection.filename or collection.name or "").lstrip("/")
        problem = not_xml_text(name) or (None if name else "the item has no file name, which a CVAT image needs")
        if problem is None and name in self.names:
            problem = f"items {self.names[name]!r} and {collection.filename!r} both have the CVAT image name {name!r}"
        if problem is not None:
            self.report.bad_item(OutputError(problem), collection, code="cvat.unwritable-item")
            return None
        self.names[name] = collection.filename
        kept = section(collection.source_item, "metadata", "user", "cvat")
        width, height = collection.display_size
        if not (width and height):  # the size a mask gives, else none (CVAT's reader then reads the image file)
            mask = next((a.annotation_definition for a in collection if a.type == "binary"), None)
            height, width = mask.shape if mask is not None else (None, None)
        element = etree.Element("image", id=self._image_id(kept.get("id")), name=name)
        for key in ("subset", "task_id"):
            if isinstance(kept.get(key), str):
                element.set(key, kept[key])
        if width and height:
            element.set("width", str(width))
            element.set("height", str(height))
        _ItemWriter(self, collection, (width, height)).image(element)
        self.images_written += 1
        self.report.items_out += 1
        return element

    def _image_id(self, kept: Any) -> str:
        if isinstance(kept, str) and kept.isdigit() and kept not in self.image_ids:
            chosen = kept
        else:
            number = self.images_written
            while str(number) in self.image_ids:
                number += 1
            chosen = str(number)
        self.image_ids.add(chosen)
        return chosen

    def video(self, collection: AnnotationCollection, dst: Path) -> list[Path]:
        """``videos/<path>/annotations.xml``: the item's tracks as CVAT for video."""
        name = (collection.filename or collection.name or "").lstrip("/")
        try:
            if not name:
                raise OutputError("the item has no file name, which a CVAT video task needs")
            if not_xml_text(name):
                raise OutputError(not_xml_text(name))
            target = safe_join(dst / VIDEOS, name) / IMAGES_FILENAME  # "..", "/" and links stay inside
            if target.exists():
                raise OutputError(f"two items map to {target.relative_to(dst).as_posix()}")
        except OutputError as exc:
            self.report.bad_item(exc, collection, code="cvat.unwritable-item")
            return []
        frames = section(collection.source_item, "metadata", "system").get("nb_frames")
        ends = [max(a.end_frame, max(a.frames)) for a in collection if a.frames]
        stop = frames - 1 if isinstance(frames, int) and frames > 0 and all(e < frames for e in ends) else max(
            ends, default=0)
        width, height = collection.display_size
        tracks = _ItemWriter(self, collection, (width, height)).tracks(stop)
        head = self.head(size=stop + 1, mode="interpolation", video=(name, width, height))
        body = b"".join(_serialized(track) for track in tracks)
        atomic_write(target, head + body + b"</annotations>\n")
        self.report.items_out += 1
        return [target]

    # -- the document head -------------------------------------------------------------------------------
    def head(self, *, size: int, mode: str, video: tuple[str, int | None, int | None] | None = None) -> bytes:
        """``<?xml?>``, ``<annotations>``, ``<version>`` and ``<meta>`` (the task, its labels)."""
        from lxml import etree

        meta = etree.Element("meta")
        task = etree.SubElement(meta, "task")
        for tag, text in (("name", video[0] if video else "dlconvert"), ("size", str(size)), ("mode", mode),
                          ("overlap", "0"), ("start_frame", "0"), ("stop_frame", str(max(size - 1, 0)))):
            etree.SubElement(task, tag).text = text
        labels = etree.SubElement(task, "labels")
        for info in self.label_map:
            self._label(labels, info.name, info.color, section(info.extras, "cvat"))
        if video is not None and video[1] and video[2]:
            original = etree.SubElement(task, "original_size")
            etree.SubElement(original, "width").text = str(video[1])
            etree.SubElement(original, "height").text = str(video[2])
        if video is not None:
            etree.SubElement(meta, "source").text = video[0]
        return (b'<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n  <version>1.1</version>\n'
                + _serialized(meta))

    def _label(self, labels, name: str, color: tuple[int, int, int], kept: dict) -> None:
        from lxml import etree

        label = etree.SubElement(labels, "label")
        etree.SubElement(label, "name").text = name
        etree.SubElement(label, "color").text = "#{:02x}{:02x}{:02x}".format(*color)
        skeleton = self.skeletons.get(name)
        kind = "skeleton" if skeleton is not None else kept.get("type")
        etree.SubElement(label, "type").text = kind if isinstance(kind, str) else "any"
        self._attribute_specs(label, name, kept)
        if skeleton is not None:
            etree.SubElement(label, "svg").text = self._svg(name, skeleton)
            for keypoint in skeleton:
                sub = etree.SubElement(labels, "label")
                etree.SubElement(sub, "name").text = keypoint
                etree.SubElement(sub, "color").text = "#{:02x}{:02x}{:02x}".format(*self.label_map.color(keypoint))
                etree.SubElement(sub, "type").text = "points"
                self._attribute_specs(sub, keypoint, {})
                etree.SubElement(sub, "parent").text = name

    def _attribute_specs(self, label, name: str, kept: dict) -> None:
        """A label's ``<attributes>``: the specs kept from a CVAT source, then the types of the values written."""
        from lxml import etree

        attributes = etree.SubElement(label, "attributes")
        specs = {spec["name"]: spec for spec in kept.get("attributes") or [] if isinstance(spec, dict)
                 and isinstance(spec.get("name"), str)}
        names = list(specs) + [key for (owner, key) in self.types if owner == name and key not in specs]
        for attribute_name in names:
            spec = specs.get(attribute_name, {})
            attribute = etree.SubElement(attributes, "attribute")
            etree.SubElement(attribute, "name").text = attribute_name
            fields = {"mutable": "False", "input_type": self.types.get((name, attribute_name), "text"),
                      "default_value": "", "values": "",
                      **{k: str(v) for k, v in spec.items() if k != "name" and isinstance(v, (str, int, float))}}
            for tag, text in fields.items():
                etree.SubElement(attribute, tag).text = text

    def _svg(self, name: str, keypoints: list[str]) -> str:
        """A skeleton's SVG as CVAT stores it: a circle per keypoint (node ids 1…N), a line per edge."""
        from lxml import etree

        template = self.label_map.template_for(template_id(name), name)
        nodes = {keypoint: str(i) for i, keypoint in enumerate(keypoints, start=1)}
        parts = []
        for a, b in template.arcs if template is not None else ():
            if a in nodes and b in nodes:
                line = etree.Element("line", {"data-type": "edge", "data-node-from": nodes[a],
                                              "data-node-to": nodes[b]})
                parts.append(etree.tostring(line, encoding="unicode"))
        for keypoint, node in nodes.items():
            circle = etree.Element("circle", {"data-type": "element node", "data-element-id": node,
                                              "data-node-id": node, "data-label-name": keypoint})
            parts.append(etree.tostring(circle, encoding="unicode"))
        return "".join(parts)

    # -- attribute values --------------------------------------------------------------------------------
    def value_text(self, label: str, name: str, value: Any) -> tuple[str, bool]:
        """An attribute value's text, and whether it reads back as something else (the label's attribute type
        is set by the first value written)."""
        kind = self.types.setdefault((label, name), input_type_of(value))
        text = attribute_text(value)
        back = typed(text, kind)
        return text, type(back) is not type(value) or back != value


class _ItemWriter:
    """Decides each annotation's fate in one item and builds its elements, reporting as it goes."""

    def __init__(self, writer: _Writer, collection: AnnotationCollection, size: tuple) -> None:
        self.writer = writer
        self.report = writer.report
        self.collection = collection
        self.item = collection.filename
        self.width, self.height = size
        self.annotations = list(collection)
        self.pose_ids = {a.id for a in self.annotations if a.type == "pose" and a.id is not None}

    # -- what cannot be written ------------------------------------------------------------------------------
    def refused(self, annotation: Annotation, video: bool = False) -> bool:
        """Skip and report an annotation CVAT cannot hold here; True when skipped."""
        verdict = self._refusal(annotation, video)
        if verdict is None:
            return False
        code, message, *place = verdict
        path, where = place or (None, None)
        self.report.skip(annotation, code, message, self.item, path=path, where=where)
        return True

    def _refusal(self, annotation: Annotation, video: bool) -> tuple | None:
        definition = annotation.annotation_definition
        kind = annotation.type
        why = refusal(kind)
        if why is not None:
            return "cvat.unsupported-type", why
        if video and kind not in _TRACKABLE:
            return "cvat.unsupported-type", f"CVAT for video holds tracks of shapes; a {kind} has no track there"
        if is_crowd(annotation):
            return "cvat.crowd-region", "a COCO crowd region (iscrowd 1): CVAT has no ignore regions"
        if not definition.label:
            return "cvat.no-label", "a CVAT shape needs a label"
        states = [s.annotation_definition for _, s in sorted(annotation.frames.items())] if (
            video and annotation.frames) else [definition]
        for state in states:
            why = self._shape_problem(state, kind, video)
            if why is not None:
                return why
        texts = [definition.label]
        for state in states:
            for key, value in state.attributes.items():
                texts.extend((str(key), attribute_text(value)))
        why = not_xml_text(*texts)
        if why is not None:
            return "cvat.invalid-text", why
        not_in_map = label_not_in_map(definition.label, self.writer.label_map, self.report, "CVAT's labels",
                                      self.collection)
        if not_in_map is not None:
            return ("cvat.label-not-in-map", *not_in_map)
        if not (annotation.type == "point" and annotation.parent_id in self.pose_ids):  # a keypoint's is no class
            self.writer.label_map.add(definition.label)
        return None

    def _shape_problem(self, definition, kind: str, video: bool) -> tuple[str, str] | None:
        if definition.type != kind:
            return "cvat.unsupported-type", (f"a CVAT track holds one kind of shape; this one changes to "
                                             f"{definition.type}")
        problems = definition.problems()  # the policy's degenerate_reason, for each state of a track
        if problems and kind not in ("pose", "class"):
            return "cvat.degenerate-shape", problems[0]
        if kind == "polyline" and len(definition.parts) > 1:
            return "cvat.polyline-parts", f"a CVAT polyline is one line; this one has {len(definition.parts)}"
        if video and kind == "segment" and len(definition.parts) > 1:
            return "cvat.polygon-rings", (f"a CVAT polygon track holds one ring per frame; this one has "
                                          f"{len(definition.parts)}")
        if kind == "cube" and not upright(definition):
            return "cvat.cube-not-upright", "CVAT's cuboids keep their vertical edges upright; this cube's are not"
        if kind in ("binary", "segment") and (kind == "binary" or len(definition.parts) > 1):
            shape = (self.height, self.width)
            if kind == "binary" and definition.shape != shape:
                h, w = definition.shape
                return "cvat.mask-size", f"the mask is {w}×{h} pixels, the image {self.width}×{self.height}"
            if kind == "segment" and not (self.width and self.height):
                return "cvat.polygon-rings", (f"a polygon of {len(definition.parts)} rings is written as a mask, which "
                                              f"needs the image's size")
        return None

    # -- images ------------------------------------------------------------------------------------------
    def image(self, element) -> None:
        from lxml import etree

        claimed: set[int] = set()
        for index, annotation in enumerate(self.annotations):
            if id(annotation) in claimed or (annotation.type == "point" and annotation.parent_id in self.pose_ids):
                continue
            if self.refused(annotation):
                if annotation.type == "pose":  # its keypoints go with it
                    for child in self.collection.children(annotation):
                        if child.type == "point":
                            self.report.skip(child, "cvat.pose-skipped", "a keypoint of a pose that is skipped",
                                             self.item)
                continue
            kind = annotation.type
            notes: list[tuple[str, str]] = []
            if annotation.frames is not None and len(annotation.frames) > 1:
                notes.append(("cvat.video-first-frame",
                              "CVAT images have one frame: the track's first state is written"))
            definition = annotation.annotation_definition
            if kind == "class":
                child = etree.SubElement(element, "tag", label=definition.label, source=self._source(annotation))
                self._group(child, annotation)
                notes.extend(self._attributes(child, definition))
                self._done(annotation, notes)
                continue
            if kind == "pose":
                self._skeleton(element, annotation, notes)
                continue
            members = [annotation]
            if kind == "point":
                members += self._joined_points(annotation, index, claimed)
            tag = _TAGS[kind]
            rings = len(definition.parts) if kind == "segment" else 1
            if rings > 1:
                from ...geometry import Segmentation

                tag, definition = "mask", Segmentation.from_polygon(definition, shape=(self.height, self.width),
                                                                    label=definition.label,
                                                                    attributes=dict(definition.attributes))
                notes.append(("cvat.polygon-rings-as-mask",
                              f"a CVAT polygon is one ring: the {rings} rings are written as a mask (their pixels)"))
                if not definition.geo.any():
                    self.report.skip(annotation, "cvat.degenerate-shape", "its rings cover no pixel centre", self.item)
                    continue
            child = etree.SubElement(element, tag, label=definition.label, source=self._source(annotation))
            child.set("occluded", self._occluded(annotation, definition))
            if len(members) > 1:
                child.set("points", ";".join(geometry_fields(m.annotation_definition)[0][1] for m in members))
            else:
                for key, text in geometry_fields(definition):
                    child.set(key, text)
            child.set("z_order", str(self._z_order(annotation)))
            self._group(child, annotation)
            notes.extend(self._attributes(child, definition))
            for member in members:
                self._done(member, notes)

    def _joined_points(self, first: Annotation, index: int, claimed: set[int]) -> list[Annotation]:
        """The other points read from the same ``<points>`` element (same label, attributes and flags), in order."""
        key = section(first.metadata, "user", "cvat").get("points_shape")
        if key is None:
            return []
        out = []
        for other in self.annotations[index + 1:]:
            if (other.type == "point" and id(other) not in claimed and other.parent_id is None
                    and section(other.metadata, "user", "cvat") == section(first.metadata, "user", "cvat")
                    and other.annotation_definition.label == first.annotation_definition.label
                    and other.attributes == first.attributes and other.object_id == first.object_id
                    and (other.frames is None or len(other.frames) <= 1) and not self._refusal(other, False)):
                claimed.add(id(other))
                out.append(other)
        return out

    def _skeleton(self, element, pose: Annotation, notes: list) -> None:
        from lxml import etree

        definition = pose.annotation_definition
        template = self.writer.label_map.template_for(definition.template_id, definition.label)
        children, names = [], set()
        for child in self.collection.children(pose):
            if child.type != "point":
                continue
            label = child.annotation_definition.label
            if label in names:  # the first point of a label is its keypoint
                self.report.skip(child, "cvat.keypoint-repeated", f"a CVAT skeleton has one point per keypoint; "
                                 f"{label!r} is there already", self.item)
                continue
            names.add(label)
            if not self.refused(child):
                children.append(child)
        order = list(template.order) if template is not None else []
        order += [c.annotation_definition.label for c in children if c.annotation_definition.label not in order]
        known = self.writer.skeletons.setdefault(definition.label, [])
        known.extend(name for name in order if name not in known)
        if template is None:  # the skeleton's keypoints, for labelmap.json as for <meta>
            self.writer.label_map.templates[template_id(definition.label)] = PoseTemplate(
                template_id(definition.label), definition.label, known)
        skeleton = etree.SubElement(element, "skeleton", label=definition.label, source=self._source(pose),
                                    z_order=str(self._z_order(pose)))
        self._group(skeleton, pose)
        written = []
        for child in sorted(children, key=lambda c: order.index(c.annotation_definition.label)):
            point = child.annotation_definition
            flag = visibility(child)
            element_of = etree.SubElement(skeleton, "points", label=point.label, source=self._source(child),
                                          outside="1" if flag == 0 else "0", occluded="1" if flag == 1 else "0")
            element_of.set("points", geometry_fields(point)[0][1])
            changes = self._attributes(element_of, point, skip=(VISIBILITY_ATTRIBUTE,))
            written.append((child, changes))
        notes.extend(self._attributes(skeleton, definition))
        self._done(pose, notes)
        for child, changes in written:
            self._done(child, changes)

    # -- video ---------------------------------------------------------------------------------------------
    def tracks(self, stop: int) -> list:
        from lxml import etree

        out = []
        used: set[str] = set()
        for annotation in self.annotations:
            if self.refused(annotation, video=True):
                continue
            definition = annotation.annotation_definition
            cvat = section(annotation.metadata, "user", "cvat")
            object_id = annotation.object_id
            track_id = object_id if object_id is not None and object_id not in used else None
            number = len(out)
            while track_id is None:
                track_id = str(number) if str(number) not in used else None
                number += 1
            used.add(track_id)
            track = etree.Element("track", id=track_id, label=definition.label, source=self._source(annotation))
            if isinstance(cvat.get("group_id"), int) and cvat["group_id"] > 0:
                track.set("group_id", str(cvat["group_id"]))
            notes: list[tuple[str, str]] = []
            if annotation.frames:
                plan = plan_track(annotation, stop)
                shapes, notes = plan.shapes, list(plan.approximations)
            else:  # no frames: on every frame of the video, as Dataloop shows it
                from .tracks import Shape

                shapes = [Shape(0, definition)]
            frame_z = cvat.get("frame_z_order") if isinstance(cvat.get("frame_z_order"), dict) else {}
            for shape in shapes:
                state = shape.definition
                child = etree.SubElement(track, _TAGS[annotation.type], frame=str(shape.frame),
                                         keyframe="1" if shape.keyframe else "0", outside="1" if shape.outside else "0",
                                         occluded=self._occluded(annotation, state))
                for key, text in geometry_fields(state):
                    child.set(key, text)
                z_order = frame_z.get(str(shape.frame), self._z_order(annotation))
                child.set("z_order", str(z_order if isinstance(z_order, int) else 0))
                for change in self._attributes(child, state):
                    if change not in notes:
                        notes.append(change)
            out.append(track)
            self._done(annotation, notes)
        return out

    # -- common ----------------------------------------------------------------------------------------------
    def _done(self, annotation: Annotation, notes: list[tuple[str, str]]) -> None:
        self.report.wrote(annotation)
        if notes:
            code = notes[0][0]
            self.report.approximate(annotation, code, "; ".join(message for _, message in notes), self.item)

    @staticmethod
    def _source(annotation: Annotation) -> str:
        kept = section(annotation.metadata, "user", "cvat").get("source")
        if isinstance(kept, str):
            return kept
        return _AUTOMATED_SOURCE if annotation.automated else _MANUAL_SOURCE

    @staticmethod
    def _z_order(annotation: Annotation) -> int:
        kept = section(annotation.metadata, "user", "cvat").get("z_order")
        return kept if isinstance(kept, int) and not isinstance(kept, bool) else 0

    @staticmethod
    def _occluded(annotation: Annotation, definition) -> str:
        value = definition.attributes.get("occluded")
        flagged = (type(value) is int and value == 1) or section(annotation.metadata, "user", "cvat").get("occluded")
        return "1" if flagged else "0"

    @staticmethod
    def _group(element, annotation: Annotation) -> None:
        object_id = annotation.object_id
        if object_id is not None and object_id.isdigit() and int(object_id) > 0:
            element.set("group_id", str(int(object_id)))

    def _attributes(self, element, definition, skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """``<attribute>`` children (``occluded: 1`` is the flag instead), and how any reads back otherwise."""
        from lxml import etree

        changed = []
        for key, value in definition.attributes.items():
            name = str(key)
            if name in skip or (name == "occluded" and type(value) is int and value == 1):
                continue
            text, differs = self.writer.value_text(definition.label, name, value)
            etree.SubElement(element, "attribute", name=name).text = text
            if differs or name != key:
                changed.append(name)
        if not changed:
            return []
        return [("cvat.attribute-as-text", f"CVAT attributes are text, typed by the label's attribute type: "
                 f"{', '.join(changed)} read{'s' if len(changed) == 1 else ''} back otherwise")]
