"""``<meta>``: the task, job or project a CVAT file describes, and its labels — both ways.

Read: the frame range of a video task (``size``, ``start_frame``, ``stop_frame``, the ``step=N`` of
``frame_filter``, ``original_size``, the video's ``source``), and each label with its colour, type
and attribute specs. Labels become the label map in the file's order (instance ids 1…N) with their
``#rrggbb`` colours; the specs are kept in ``LabelInfo.extras["cvat"]`` and written back. A skeleton
label (``<type>skeleton</type>``) becomes a pose template: its keypoints are the labels whose
``<parent>`` it is, its edges the ``<line data-node-from data-node-to>`` of its ``<svg>`` (whose
``<circle data-node-id data-label-name>`` name the nodes); keypoint labels are not classes.

Attribute values are text in CVAT; a spec's ``input_type`` types them as CVAT does: ``checkbox``
``true``/``false`` → booleans, ``number`` → numbers (when the text is the number's own spelling, so
that it is written back the same), anything else text (:func:`typed`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import FormatError
from ...labels import LabelInfo, LabelMap, PoseTemplate, parse_color, stable_color

__all__ = ["AttributeSpec", "LabelSpec", "Meta", "attribute_text", "input_type_of", "label_map_of", "parse_meta",
           "template_id", "typed"]

_INT = re.compile(r"[+-]?\d+")
_STEP = re.compile(r"step\s*=\s*(\d+)")


@dataclass
class AttributeSpec:
    """One ``<attribute>`` of a label's spec (the text CVAT writes, kept as it is)."""

    name: str
    input_type: str = "text"
    fields: dict[str, str] = field(default_factory=dict)  # mutable, default_value, values …, in order

    def to_json(self) -> dict:
        return {"name": self.name, "input_type": self.input_type, **self.fields}


@dataclass
class LabelSpec:
    """One ``<label>`` of ``<labels>``."""

    name: str
    color: tuple[int, int, int] | None = None
    type: str | None = None
    attributes: list[AttributeSpec] = field(default_factory=list)
    svg: str | None = None
    parent: str | None = None


@dataclass
class Meta:
    """What ``<meta>`` says (every field optional: fragments have no ``<meta>``)."""

    mode: str | None = None
    size: int | None = None
    start_frame: int = 0
    stop_frame: int | None = None
    step: int = 1
    width: int | None = None  # original_size of a video task
    height: int | None = None
    source: str | None = None  # the video file of a video task
    name: str | None = None
    subset: str | None = None
    labels: list[LabelSpec] = field(default_factory=list)
    declared: bool = False  # a <meta> was there

    def spec(self, label: str | None) -> LabelSpec | None:
        return next((spec for spec in self.labels if spec.name == label), None)

    def input_types(self) -> dict[tuple[str | None, str], str]:
        """``{(label, attribute): input_type}``, and ``{(None, attribute): …}`` by name alone (CVAT's own lookup)."""
        out: dict[tuple[str | None, str], str] = {}
        for spec in self.labels:
            for attribute in spec.attributes:
                out[(spec.name, attribute.name)] = attribute.input_type
                out.setdefault((None, attribute.name), attribute.input_type)
        return out


def _text(element, tag: str, strip: bool = True) -> str | None:
    """A child's text (names exactly as written: a label may begin or end with a space)."""
    child = element.find(tag) if element is not None else None
    if child is None or child.text is None:
        return None
    return child.text.strip() if strip else child.text


def _count(element, tag: str, path: Path) -> int | None:
    text = _text(element, tag)
    if not text:
        return None
    if not _INT.fullmatch(text) or int(text) < 0:
        child = element.find(tag)
        raise FormatError(f"<{tag}> must be a whole number, not {text!r}", path=path,
                          where=f"line {child.sourceline}")
    return int(text)


def parse_meta(element, path: Path) -> Meta:
    """The ``<meta>`` element (of a task, job or project export)."""
    meta = Meta(declared=True)
    holder = next((element.find(tag) for tag in ("task", "job", "project") if element.find(tag) is not None), None)
    if holder is None:
        return meta
    meta.mode = _text(holder, "mode")
    meta.name = _text(holder, "name")
    meta.subset = _text(holder, "subset")
    meta.size = _count(holder, "size", path)
    meta.start_frame = _count(holder, "start_frame", path) or 0
    meta.stop_frame = _count(holder, "stop_frame", path)
    step = _STEP.search(_text(holder, "frame_filter") or "")
    meta.step = max(1, int(step.group(1))) if step else 1
    size = holder.find("original_size")
    if size is not None:
        meta.width, meta.height = _count(size, "width", path), _count(size, "height", path)
    meta.source = _text(element, "source") or _text(holder, "source")
    labels = holder.find("labels")
    for label in labels.findall("label") if labels is not None else ():
        name = _text(label, "name", strip=False)
        if not name:
            raise FormatError("<label> has no <name>", path=path, where=f"line {label.sourceline}")
        spec = LabelSpec(name, parse_color(_text(label, "color")), _text(label, "type"), svg=_text(label, "svg"),
                         parent=_text(label, "parent", strip=False))
        holder_of_attributes = label.find("attributes")
        for attribute in holder_of_attributes.findall("attribute") if holder_of_attributes is not None else ():
            attribute_name = _text(attribute, "name", strip=False)
            if attribute_name is None:
                continue
            fields = {child.tag: child.text or "" for child in attribute
                      if isinstance(child.tag, str) and child.tag not in ("name", "input_type")}
            spec.attributes.append(AttributeSpec(attribute_name, _text(attribute, "input_type") or "text", fields))
        meta.labels.append(spec)
    return meta


def template_id(label: str) -> str:
    """The pose template id of a skeleton label."""
    return f"cvat-skeleton:{label}"


def label_map_of(metas: list[tuple[Meta, Path]]) -> LabelMap:
    """The label map of one or more files' ``<meta>``: classes in order (the first file's first), their colours,
    specs kept in ``extras["cvat"]``, skeletons as pose templates."""
    infos: dict[str, LabelInfo] = {}
    templates: dict[str, PoseTemplate] = {}
    for meta, path in metas:
        children: dict[str, list[str]] = {}
        for spec in meta.labels:
            if spec.parent:
                children.setdefault(spec.parent, []).append(spec.name)
        for spec in meta.labels:
            if spec.parent or spec.name in infos:
                continue
            extras = {"cvat": _spec_json(spec)} if (spec.type not in (None, "any") or spec.attributes) else {}
            infos[spec.name] = LabelInfo(spec.name, len(infos) + 1, spec.color or stable_color(spec.name),
                                         extras=extras)
            if spec.type == "skeleton" and template_id(spec.name) not in templates:
                templates[template_id(spec.name)] = _template(spec, children.get(spec.name, []), path)
    return LabelMap(infos.values(), templates.values())


def _spec_json(spec: LabelSpec) -> dict:
    out: dict[str, Any] = {}
    if spec.type is not None:
        out["type"] = spec.type
    if spec.attributes:
        out["attributes"] = [attribute.to_json() for attribute in spec.attributes]
    return out


def _template(spec: LabelSpec, keypoints: list[str], path: Path) -> PoseTemplate:
    """A skeleton label as a pose template: its keypoint labels, and the SVG's edges by keypoint name."""
    from ..voc.safe_xml import parse_bytes

    arcs: list[tuple[str, str]] = []
    if spec.svg:
        svg = parse_bytes(f"<svg>{spec.svg}</svg>".encode(), path, where=f"the <svg> of label {spec.name!r}")
        nodes = {circle.get("data-node-id"): circle.get("data-label-name") for circle in svg.iter("circle")}
        for line in svg.iter("line"):
            ends = (nodes.get(line.get("data-node-from")), nodes.get(line.get("data-node-to")))
            if ends[0] and ends[1]:
                arcs.append((ends[0], ends[1]))
    return PoseTemplate(template_id(spec.name), spec.name, list(keypoints), arcs)


# ==== attribute values ==================================================================================
def typed(text: str, input_type: str | None) -> Any:
    """An attribute's text as CVAT types it: checkbox → bool, number → int or float when the text is its
    own spelling (so that it is written back the same), anything else the text itself."""
    if input_type == "checkbox" and text in ("true", "false"):
        return text == "true"
    if input_type == "number":
        if _INT.fullmatch(text) and str(int(text)) == text:
            return int(text)
        try:
            value = float(text)
        except ValueError:
            return text
        if math.isfinite(value) and repr(value) == text:
            return value
    return text


def attribute_text(value: Any) -> str:
    """How a value is written as an attribute's text (booleans as CVAT spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def input_type_of(value: Any) -> str:
    """The ``input_type`` that gives ``value`` back: checkbox for booleans, number for numbers, else text."""
    if isinstance(value, bool):
        return "checkbox"
    if isinstance(value, (int, float)):
        return "number"
    return "text"
