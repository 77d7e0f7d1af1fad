"""The labelling config (``config.xml``): label names and colours, and which ``data`` key each object shows.

Read (untrusted XML: no entities, DTDs or network, as every XML dlconvert reads): every ``<Label>`` and
``<Choice>`` ``value`` in document order with its ``background`` colour (any CSS colour: ``#f61e33``,
``rgba(218, 1, 238, 1)``, ``red``) becomes the label map, in that order; object tags (``<Image
name="img" value="$image">``) tie a result's ``to_name`` to its data key; control tags (``<Choices
name="scene" toName="img">``) name the results they make, which the JSON_MIN export needs (:mod:`.json_min`).
Labels the tasks use that the config lacks are added after them.

Written (:func:`config_xml`): one ``<Image>`` per object written to, one control per ``from_name`` with the
tag its results need (``RectangleLabels``, ``Choices``, per-region ``TextArea`` …) and its labels with
their colours, so Label Studio can import the tasks with it as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ...labels import LabelInfo, LabelMap, stable_color
from ..voc.safe_xml import not_xml_text, parse_xml

__all__ = ["CONTROL_TAGS", "LabelConfig", "config_xml", "read_config"]

#: Result type → the control tag that makes it.
CONTROL_TAGS = {
    "rectanglelabels": "RectangleLabels", "rectangle": "Rectangle", "polygonlabels": "PolygonLabels",
    "polygon": "Polygon", "keypointlabels": "KeyPointLabels", "keypoint": "KeyPoint",
    "ellipselabels": "EllipseLabels", "ellipse": "Ellipse", "brushlabels": "BrushLabels", "brush": "Brush",
    "choices": "Choices", "textarea": "TextArea", "number": "Number", "labels": "Labels",
}
#: Control tag → the type of the results it makes (the tags dlconvert reads, and Label Studio's other controls).
_RESULT_TYPES = {tag: kind for kind, tag in CONTROL_TAGS.items()} | {
    "Taxonomy": "taxonomy", "Rating": "rating", "DateTime": "datetime", "MagicWand": "magicwand"}
_LABEL_TAGS = ("Label", "Choice")
_OBJECT_TAGS = ("Image", "Video", "Audio", "AudioPlus", "Text", "HyperText", "Paragraphs", "TimeSeries", "Table")


@dataclass
class LabelConfig:
    """What a labelling config says: labels in order with colours, object name → data key, and control name →
    ``(result type, object name)``."""

    labels: dict[str, tuple[int, int, int] | None] = field(default_factory=dict)
    object_keys: dict[str, str] = field(default_factory=dict)
    controls: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def label_map(self, used: Iterable[str]) -> LabelMap:
        """The config's labels in its order (its colours), then the ``used`` labels it lacks."""
        label_map = LabelMap(LabelInfo(name, index, color or stable_color(name))
                             for index, (name, color) in enumerate(self.labels.items(), start=1))
        for name in used:
            label_map.add(name)
        return label_map


def read_config(path: Path | None) -> LabelConfig:
    """The labelling config at ``path`` (an empty one for None); bad XML raises naming the file and line."""
    config = LabelConfig()
    if path is None:
        return config
    root = parse_xml(path)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        value = element.get("value")
        if element.tag in _LABEL_TAGS and value:
            config.labels.setdefault(value, _colour(element.get("background")))
        elif element.tag in _OBJECT_TAGS and element.get("name") and value and value.startswith("$"):
            config.object_keys[element.get("name")] = value[1:]
        elif element.tag in _RESULT_TYPES and element.get("name"):
            config.controls[element.get("name")] = (_RESULT_TYPES[element.tag], element.get("toName"))
    return config


def _colour(text: str | None) -> tuple[int, int, int] | None:
    """Any CSS colour Label Studio takes (Pillow reads them), or None."""
    if not text:
        return None
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(text.strip())
    except ValueError:
        return None
    return (rgb[0], rgb[1], rgb[2])


@dataclass
class _Control:
    tag: str
    to_name: str
    per_region: bool
    labels: list[str] = field(default_factory=list)


def config_xml(results: Iterable[tuple[dict, bool]], object_keys: dict[str, str], label_map: LabelMap) -> bytes:
    """A labelling config for the written results (``(result, attached to a region)``); objects by to_name."""
    from lxml import etree

    controls: dict[str, _Control] = {}
    for result, per_region in results:
        kind = result.get("type")
        tag = CONTROL_TAGS.get(kind)
        if tag is None or not isinstance(result.get("from_name"), str) or not_xml_text(result["from_name"],
                                                                                          result.get("to_name")):
            continue  # carried results of tags it does not know, and names XML cannot hold, are not described
        control = controls.setdefault(result["from_name"], _Control(tag, str(result.get("to_name")), per_region))
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        names = value.get(kind) if kind.endswith("labels") or kind == "choices" else None
        for name in names if isinstance(names, list) else []:
            if isinstance(name, str) and name not in control.labels and not not_xml_text(name):
                control.labels.append(name)
    view = etree.Element("View")
    for name, key in object_keys.items():
        if not not_xml_text(name, key):
            etree.SubElement(view, "Image", name=name, value=f"${key}")
    for name, control in controls.items():
        element = etree.SubElement(view, control.tag, name=name, toName=control.to_name)
        if control.per_region and control.tag in ("Choices", "TextArea", "Number"):
            element.set("perRegion", "true")
        if control.tag == "Choices":
            element.set("choice", "multiple")
        for label in control.labels:
            child = etree.SubElement(element, "Choice" if control.tag == "Choices" else "Label", value=label)
            info = label_map.get(label)
            if info is not None and control.tag != "Choices":
                child.set("background", "#{:02x}{:02x}{:02x}".format(*info.color))
    return etree.tostring(view, pretty_print=True, encoding="unicode").encode("utf-8")
