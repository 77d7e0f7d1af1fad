"""Dataloop items → Label Studio: ``tasks.json`` (a list of tasks), ``config.xml`` and ``labelmap.json``.

Each item is one task; each annotation becomes the results :mod:`.capabilities` says, in percent of the
image (the item's size, else its image's; a mask's own size when neither is known). What does not come
back as it went is reported, one entry per annotation, so ``convert`` and ``verify`` agree:

* skipped: types Label Studio cannot hold and a pose's keypoints (``labelstudio.unsupported-type``),
  COCO crowd regions (``labelstudio.crowd-region``), degenerate shapes and polygons covering no pixel
  centre (``labelstudio.degenerate-shape``), a classification without a label (``labelstudio.no-label``),
  shapes of an item whose size is unknown (``labelstudio.no-image-size``) or that is not an image
  (``labelstudio.not-an-image``), a mask of another size than its image (``labelstudio.mask-size-mismatch``),
  labels a pinned label map lacks (``labelstudio.label-not-in-map``), labels, attribute names and choices
  the XML labelling config cannot hold (``labelstudio.invalid-text``: control characters), every
  annotation of an item without a file name (``labelstudio.no-file-name``);
* approximated: a polygon of several rings written as a mask (``labelstudio.polygon-as-mask``), a track
  on an image item written as its first frame (``labelstudio.video-first-frame``), attributes that come
  back otherwise (``labelstudio.attribute-changed``: a list of one text comes back as the text, other
  values as their JSON text).

An annotation read from Label Studio and unchanged (its fingerprint, :mod:`.kept`) is written back as the
results it was read from, in the annotation or prediction it came from, with the task's other fields.
New annotations go to the task's first annotation; those with a model's confidence
(``metadata.user.model``) to a prediction of that model, with the confidence as ``score``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import atomic_write
from ..._json import dumps
from ...errors import FormatError, InvalidAnnotationError
from ...geometry import Segmentation
from ...geometry.segmentation import MAX_MASK_PIXELS
from ...images import ImageLookup, image_info
from ...labels import LABELMAP_FILENAME, LabelMap
from .._metadata import section
from .._policy import degenerate_reason, is_crowd, is_image_item, label_not_in_map
from ..voc.safe_xml import not_xml_text
from .capabilities import CAPABILITIES, refusal
from .config import config_xml
from .kept import GROUP_KEYS, KEY, annotation_fingerprint
from .media import LOCAL_FILES, filename_of
from .results import CONTROL_VALUE_KEYS, attribute_read_back, attribute_result, region_labels, shape_value

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection
    from ...dataset import ConvertOptions, Dataset
    from ...report import ConversionReport

__all__ = ["TASKS_FILENAME", "write"]

TASKS_FILENAME = "tasks.json"
CONFIG_FILENAME = "config.xml"
#: The control (``from_name``) and object (``to_name``) names of written regions, as Label Studio's templates.
FROM_NAMES = {"rectangle": "label", "polygon": "polygon", "keypoint": "keypoint", "ellipse": "ellipse",
              "brush": "brush", "choices": "choice"}
TO_NAME = "image"
_REGION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_WITHOUT_IMAGE = frozenset({"class", "text"})  # what a task that is no image can still hold
CONTROLS = frozenset(CONTROL_VALUE_KEYS)


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``tasks.json``, ``config.xml`` and ``labelmap.json`` into ``dst``."""
    source = options.labels or dataset.labels
    label_map = source.copy() if source is not None else LabelMap()
    lookup = ImageLookup.for_source(options.images, dataset)
    tasks: list[dict] = []
    results: list[tuple[dict, bool]] = []
    objects: dict[str, str] = {}
    for number, collection in enumerate(dataset.items, start=1):
        writer = _TaskWriter(collection, number, label_map, lookup, report)
        task = writer.task()
        if task is None:
            continue
        tasks.append(task)
        report.items_out += 1
        results.extend(writer.written)
        for result, _ in writer.written:
            if isinstance(result.get("to_name"), str) and writer.media is not None:
                objects.setdefault(result["to_name"], writer.media)
    atomic_write(dst / TASKS_FILENAME, dumps(tasks, indent=options.indent))
    atomic_write(dst / CONFIG_FILENAME, config_xml(results, objects or {TO_NAME: "image"}, label_map))
    label_map.save(dst / LABELMAP_FILENAME)
    return [dst / TASKS_FILENAME, dst / CONFIG_FILENAME, dst / LABELMAP_FILENAME]


class _TaskWriter:
    """The task of one item: its results, grouped into the annotations and predictions they belong to."""

    def __init__(self, collection: AnnotationCollection, number: int, label_map: LabelMap, lookup: ImageLookup,
                 report: ConversionReport) -> None:
        self.collection = collection
        self.number = number
        self.label_map = label_map
        self.lookup = lookup
        self.report = report
        self.item = collection.filename
        self.kept = section(collection.source_item, "metadata", "user", KEY)
        kind = "video" if collection.is_video else ("audio" if collection.is_audio else "image")
        # the data key of the image: the task's own (None: a task read without one), else by the item's kind
        self.media = self.kept.get("media") if "media" in self.kept else kind
        self.media = self.media if isinstance(self.media, str) else None
        kept_groups = self.kept.get("groups") if isinstance(self.kept.get("groups"), dict) else {}
        #: (group key, index) → [group fields, results]; the kept groups first, in their order
        self.groups: dict[tuple[str, int], list] = {}
        for key in GROUP_KEYS:
            for index, fields in enumerate(kept_groups.get(key) or []):
                self.groups[(key, index)] = [fields if isinstance(fields, dict) else {}, []]
        self.as_read: set[int] = set()  # the annotations (by id()) unchanged since they were read
        self.unchanged: Counter = Counter()  # region → its annotations still as read
        self.verbatim: set[tuple] = set()  # regions written back as read
        self.ids: dict[tuple[str, int], set[str]] = {}
        self.written: list[tuple[dict, bool]] = []  # every result, and whether it is a region's attribute
        self.size: tuple[int, int] | None = None
        self.poses = {a.id for a in collection if a.type == "pose" and a.id is not None}

    # -- the task ------------------------------------------------------------------------------------
    def task(self) -> dict | None:
        collection = self.collection
        if not collection.filename and not self.kept.get("task"):
            for annotation in collection:
                self.report.skip(annotation, "labelstudio.no-file-name",
                                 "the item has no file name, which a Label Studio task's data needs", self.item)
            return None
        self.size = self._image_size()
        for annotation in collection:  # how many annotations of each region are still as read
            kept = section(annotation.metadata, "user", KEY)
            if self._unchanged(annotation, kept):
                self.as_read.add(id(annotation))
                self.unchanged[_region_key(kept)] += 1
        for annotation in collection:
            self._annotation(annotation)
        task = dict(self.kept["task"]) if isinstance(self.kept.get("task"), dict) else {"id": self.number}
        data = dict(task["data"]) if isinstance(task.get("data"), dict) else {}
        reference = data.get(self.media)
        kept_reference = isinstance(reference, str) and filename_of(reference) == collection.filename
        if self.media is not None and collection.filename and not kept_reference:
            data[self.media] = LOCAL_FILES + collection.filename.lstrip("/")
        task["data"] = data
        for key in GROUP_KEYS:
            groups = [{**fields, "result": results} for (k, _), (fields, results) in self.groups.items() if k == key]
            if groups or key != "completions":
                task[key] = groups
        return task

    def _image_size(self) -> tuple[int, int] | None:
        width, height = self.collection.display_size
        if width and height:
            return int(width), int(height)
        image = self.lookup.find(self.collection)
        if image is not None:
            try:
                return image_info(image).display_size
            except FormatError:
                return None
        return None

    def _group(self, annotation: Annotation) -> tuple[tuple[str, int], list]:
        """The annotation or prediction of the task the annotation's results go to."""
        kept = section(annotation.metadata, "user", KEY)
        place = (kept.get("from"), kept.get("index"))
        if place in self.groups:
            return place, self.groups[place]
        model = section(annotation.metadata, "user", "model")
        if isinstance(model.get("confidence"), (int, float)):
            name = model.get("name") if isinstance(model.get("name"), str) else "dlconvert"
            for place, group in self.groups.items():
                if place[0] == "predictions" and group[0].get("model_version") == name:
                    return place, group
            place = ("predictions", sum(1 for k, _ in self.groups if k == "predictions"))
            self.groups[place] = [{"model_version": name}, []]
            return place, self.groups[place]
        place = next((p for p in self.groups if p[0] in ("annotations", "completions")), ("annotations", 0))
        return place, self.groups.setdefault(place, [{}, []])

    # -- one annotation ------------------------------------------------------------------------------
    def _annotation(self, annotation: Annotation) -> None:
        kind = annotation.type
        if kind is not None and kind.startswith(KEY + "."):
            result = annotation.annotation_definition.coordinates
            if _carried_back(result, kind, annotation.annotation_definition.label):
                place, group = self._group(annotation)
                self._take(place, result.get("id"))
                self._emit(group, [result], annotation, None)
            else:
                self.report.skip(annotation, "labelstudio.unsupported-type",
                                 f"its coordinates are not the Label Studio result a {kind} annotation carries",
                                 self.item)
            return
        kept = section(annotation.metadata, "user", KEY)
        region = _region_key(kept)
        # written back as read: unchanged, and so are the other annotations made of the same results
        verbatim = id(annotation) in self.as_read and self.unchanged[region] == kept.get("siblings", 1)
        why = self._why_not(annotation, verbatim)
        if why is not None:
            self.report.skip(annotation, *why, self.item)
            return
        place, group = self._group(annotation)
        if verbatim:
            if region not in self.verbatim:
                self.verbatim.add(region)
                self._take(place, kept.get("region"))
                self._emit(group, list(kept["results"]), annotation, None)
            else:
                self.report.wrote(annotation)
            return
        self._new_results(annotation, place, group, kept)

    def _why_not(self, annotation: Annotation, verbatim: bool) -> tuple[str, str] | None:
        """``(code, why)`` when the annotation cannot be written at all (``verbatim``: it is written back as
        the Label Studio results it was read from, which need neither an image nor its size)."""
        kind = annotation.type
        definition = annotation.annotation_definition
        if kind == "polyline" and len(definition.parts) > 1:
            return "labelstudio.unsupported-type", CAPABILITIES["polyline (several lines)"].how
        if annotation.parent_id is not None and annotation.parent_id in self.poses:
            return "labelstudio.unsupported-type", "a part of a pose (a keypoint): " + CAPABILITIES["pose"].how
        why = refusal(kind)
        if why is not None:
            return "labelstudio.unsupported-type", why
        if is_crowd(annotation):
            return "labelstudio.crowd-region", "a COCO crowd region: Label Studio has no ignore regions"
        reason = degenerate_reason(annotation)
        if reason is not None:
            return "labelstudio.degenerate-shape", reason
        if kind == "class" and definition.label is None:
            return "labelstudio.no-label", "a classification without a label: Label Studio choices need a value"
        if kind == "text" and not isinstance(definition.coordinates, str):
            return "labelstudio.unsupported-type", "a free-text annotation whose text is not a string"
        if kind == "text" and definition.label is None:
            return "labelstudio.no-label", "free text without a label: its label is the name of its textarea"
        if kind not in _WITHOUT_IMAGE and not verbatim and not is_image_item(self.collection):
            what = "audio" if self.collection.is_audio else ("video" if self.collection.is_video else
                                                             self.collection.mimetype)
            return "labelstudio.not-an-image", f"Label Studio image regions need an image; this item is {what}"
        if annotation.is_video and kind in _WITHOUT_IMAGE:
            return "labelstudio.not-an-image", "a classification of frames: Label Studio choices hold none"
        texts = [definition.label, *definition.attributes]
        texts += [v for value in definition.attributes.values() if isinstance(value, list) for v in value]
        problem = not_xml_text(*texts)
        if problem is not None:
            return "labelstudio.invalid-text", f"{problem}: the labelling config that names it is XML"
        if definition.label is not None:
            refused = label_not_in_map(definition.label, self.label_map, self.report, "Label Studio",
                                       self.collection)
            if refused is not None:
                return "labelstudio.label-not-in-map", refused[0]
            if not self.label_map.pinned:
                self.label_map.add(definition.label)
        if kind == "binary" and self.size is not None and definition.shape != (self.size[1], self.size[0]):
            height, width = definition.shape
            return ("labelstudio.mask-size-mismatch",
                    f"mask is {width}×{height} but the image is {self.size[0]}×{self.size[1]}")
        if kind not in _WITHOUT_IMAGE and kind != "binary" and self.size is None and not verbatim:
            return "labelstudio.no-image-size", f"the size of {self.item!r} is unknown (no width/height and no image)"
        return None

    def _unchanged(self, annotation: Annotation, kept: dict) -> bool:
        """Whether the annotation is the region read from this task, unchanged (its results are written back)."""
        return ((kept.get("from"), kept.get("index")) in self.groups and isinstance(kept.get("results"), list)
                and kept.get("result_sha1") == annotation_fingerprint(annotation.annotation_definition)
                and annotation.frames is None)

    def _new_results(self, annotation: Annotation, place: tuple, group: list, kept: dict) -> None:
        definition = annotation.annotation_definition
        kind = definition.type
        approximated: list[tuple[str, str]] = []
        if annotation.frames is not None:
            approximated.append((CAPABILITIES["track on an image"].code,
                                 "Label Studio image regions have no frames: the track's first frame is written"))
        region = self._region_id(annotation, kept, place)
        if kind == "class":
            results = [{"id": region, "type": "choices", "from_name": FROM_NAMES["choices"], "to_name": TO_NAME,
                        "value": {"choices": [definition.label]}}]
        elif kind == "text":
            results = [{"id": region, "type": "textarea", "from_name": definition.label, "to_name": TO_NAME,
                        "value": {"text": [definition.coordinates]}}]
        else:
            shape = self._shape(annotation, approximated)
            if shape is None:
                return
            results = [shape]
        results[0]["id"] = region
        if definition.description is not None and kind not in _WITHOUT_IMAGE:
            results[0]["meta"] = {"text": [definition.description]}
        model = section(annotation.metadata, "user", "model")
        if place[0] == "predictions" and isinstance(model.get("confidence"), (int, float)):
            results[0]["score"] = model["confidence"]
        code = CAPABILITIES["attributes (other values)"].code
        for key, value in definition.attributes.items():
            if kind in _WITHOUT_IMAGE:  # choices and texts of the whole image are no region: nothing to attach to
                approximated.append((code, f"attribute {key!r} is left out: a {kind} annotation holds none here"))
                continue
            control, written = attribute_result(value)
            if attribute_read_back(value) != value:
                approximated.append((code, f"attribute {key!r} comes back otherwise: {value!r} → "
                                           f"{attribute_read_back(value)!r}"))
            results.append({"id": region, "type": control, "from_name": str(key), "to_name": TO_NAME,
                            "value": written})
        self._emit(group, results, annotation, approximated[0] if approximated else None)

    def _shape(self, annotation: Annotation, approximated: list) -> dict | None:
        """The shape result of an annotation in percent, or None (skipped and reported)."""
        definition = annotation.annotation_definition
        width, height = self.size if self.size is not None else (definition.shape[1], definition.shape[0])
        if definition.type == "segment" and len(definition.parts) > 1:
            if width * height > MAX_MASK_PIXELS:
                self.report.skip(annotation, "labelstudio.image-too-large", f"a polygon of several rings is written "
                                 f"as a mask, and a {width}×{height} mask is more than {MAX_MASK_PIXELS} pixels",
                                 self.item)
                return None
            definition = Segmentation.from_polygon(definition, shape=(height, width), label=definition.label)
            if not definition.geo.any():
                self.report.skip(annotation, "labelstudio.degenerate-shape", "the polygon covers no pixel centre",
                                 self.item)
                return None
            approximated.append((CAPABILITIES["segment (several rings)"].code,
                                 "a polygon of several rings written as its pixels (a mask)"))
        kind, value = shape_value(definition, width, height)
        label = annotation.annotation_definition.label
        if label is not None:
            value[kind + "labels"] = [label]
        return {"id": None, "type": kind + "labels" if label is not None else kind, "from_name": FROM_NAMES[kind],
                "to_name": TO_NAME, "original_width": width, "original_height": height, "image_rotation": 0,
                "value": value}

    def _take(self, place: tuple, region: Any) -> None:
        if isinstance(region, str):
            self.ids.setdefault(place, set()).add(region)

    def _region_id(self, annotation: Annotation, kept: dict, place: tuple) -> str:
        """A result id unique in its annotation: the one read, else the annotation's id, else ``r<n>``."""
        taken = self.ids.setdefault(place, set())
        for wanted in (kept.get("region"), annotation.id):
            if isinstance(wanted, str) and _REGION_ID.match(wanted) and wanted not in taken:
                taken.add(wanted)
                return wanted
        number = len(taken) + 1
        while f"r{number}" in taken:
            number += 1
        taken.add(f"r{number}")
        return f"r{number}"

    def _emit(self, group: list, results: list[dict], annotation: Annotation,
              approximation: tuple[str, str] | None) -> None:
        group[1].extend(results)
        attached = len(results) > 1  # a region's controls are its attributes (perRegion in the config)
        self.written.extend((result, attached and result.get("type") in CONTROLS) for result in results)
        self.report.wrote(annotation)
        if approximation is not None:
            self.report.approximate(annotation, *approximation, self.item)


def _region_key(kept: dict) -> tuple:
    """The region (its annotation, id and results) an annotation read from Label Studio was made of."""
    return (kept.get("from"), kept.get("index"), kept.get("region"), dumps(kept.get("results"), indent=False))


def _carried_back(result: Any, kind: str, label: str | None) -> bool:
    """Whether a ``labelstudio.<type>`` annotation's coordinates are a result that reads back as it."""
    if not isinstance(result, dict) or result.get("type") != kind[len(KEY) + 1:]:
        return False
    try:
        labels = region_labels(result)
    except InvalidAnnotationError:
        return False
    return (labels or [None])[0] == label
