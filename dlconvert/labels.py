"""LabelMap: one artifact tying a label's name to its colour, Dataloop instance id, COCO id and
YOLO index, plus the pose templates (keypoint order and skeleton).

Every 0-/1-based bug in the peers comes from each tool deriving its own numbering; here every
writer and renderer takes the same map, and writers save it beside their output
(``labelmap.json``) so a result can always be traced back.

Defaults follow Dataloop: labels sorted by Python string order, instance ids 1…N (0 is
background); YOLO indices are 0…N−1 in the same order; COCO ids are the instance ids unless
the source was COCO, whose own ids are kept.

A map the user passes (``--labels``, ``ConvertOptions.labels``: a names file, a ``labelmap.json``
or an ontology) is *pinned* (:attr:`LabelMap.pinned`): its classes and their order are what the
output must use — a names file usually matches a trained model's class indices — so writers never
add a label to it; an annotation whose label it lacks is skipped and reported
``<format>.label-not-in-map``. A map a reader found or built is not pinned: writers add the labels
they meet (to a copy).
"""

from __future__ import annotations

import colorsys
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import FormatError

__all__ = ["LABELMAP_FILENAME", "LabelInfo", "LabelMap", "PoseTemplate", "flatten_label_tree", "read_labelmap_txt",
           "stable_color"]

LABELMAP_FILENAME = "labelmap.json"


def stable_color(name: str) -> tuple[int, int, int]:
    """A bright, distinct colour derived from the label's name alone: the same in every run."""
    digest = hashlib.md5(name.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536.0
    saturation = 0.55 + digest[2] / 255.0 * 0.4
    value = 0.75 + digest[3] / 255.0 * 0.25
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, value)
    return (round(r * 255), round(g * 255), round(b * 255))


def parse_color(value: Any) -> tuple[int, int, int] | None:
    """``"#rrggbb"``, ``"rgb(r,g,b)"`` or ``[r, g, b]`` → an RGB tuple (None when absent or unreadable)."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("#") and len(text) == 7:
            try:
                return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
            except ValueError:
                return None
        if text.startswith("rgb(") and text.endswith(")"):
            parts = text[4:-1].split(",")
            if len(parts) >= 3 and all(p.strip().isdigit() for p in parts[:3]):
                return tuple(min(255, int(p)) for p in parts[:3])  # type: ignore[return-value]
        return None
    if isinstance(value, (list, tuple)) and len(value) >= 3 and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value[:3]):
        return (value[0], value[1], value[2])
    return None


@dataclass
class PoseTemplate:
    """A skeleton: keypoint names in order and the edges between them (by name)."""

    id: str
    name: str
    order: list[str]
    arcs: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "order": list(self.order), "arcs": [list(a) for a in self.arcs]}


@dataclass
class LabelInfo:
    """Everything known about one label."""

    name: str
    instance_id: int
    color: tuple[int, int, int]
    coco_id: int | None = None
    supercategory: str | None = None
    extras: dict = field(default_factory=dict)  # a source's other per-label fields, written back

    def to_json(self) -> dict:
        red, green, blue = self.color
        out: dict = {"name": self.name, "instance_id": self.instance_id, "color": f"#{red:02x}{green:02x}{blue:02x}"}
        if self.coco_id is not None:
            out["coco_id"] = self.coco_id
        if self.supercategory is not None:
            out["supercategory"] = self.supercategory
        if self.extras:
            out["extras"] = self.extras
        return out


class LabelMap:
    """Ordered labels with their ids and colours, and the pose templates."""

    def __init__(self, labels: Iterable[LabelInfo] = (), templates: Iterable[PoseTemplate] = (), *,
                 pinned: bool = False) -> None:
        self._labels: dict[str, LabelInfo] = {}
        for info in labels:
            self._labels[info.name] = info
        self.templates: dict[str, PoseTemplate] = {t.id: t for t in templates}
        #: Dataset-level extras a format wants back on a round trip (e.g. COCO info, licenses).
        self.extras: dict[str, Any] = {}
        #: The user's map: writers use exactly its labels, in its order, and add none (see the module docstring).
        self.pinned = pinned

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_names(cls, names: Iterable[str | None]) -> LabelMap:
        """The Dataloop default: unique names sorted, instance ids 1…N, stable colours."""
        unique = sorted({n for n in names if n is not None})
        return cls(LabelInfo(name, i, stable_color(name)) for i, name in enumerate(unique, start=1))

    def add(self, name: str, color: tuple[int, int, int] | None = None) -> LabelInfo:
        """Make sure ``name`` is in the map (appended with the next instance id). Writers do not call it on a
        pinned map (they report the label instead)."""
        if name not in self._labels:
            next_id = max((i.instance_id for i in self._labels.values()), default=0) + 1
            self._labels[name] = LabelInfo(name, next_id, color or stable_color(name))
        return self._labels[name]

    def copy(self) -> LabelMap:
        """An independent copy (writers add labels they meet without touching the caller's map); pinned if this is."""
        import copy

        return copy.deepcopy(self)

    def pin(self) -> LabelMap:
        """This map, pinned: the user's (see :attr:`pinned`). Returns ``self``."""
        self.pinned = True
        return self

    def keypoint_names(self) -> set[str]:
        """Labels used as keypoints by some template."""
        return {name for t in self.templates.values() for name in t.order}

    def template_for(self, template_id: str | None, label: str | None = None) -> PoseTemplate | None:
        if template_id is not None and template_id in self.templates:
            return self.templates[template_id]
        for template in self.templates.values():
            if label is not None and template.name == label:
                return template
        return None

    # -- lookups -------------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._labels

    def __iter__(self):
        return iter(self._labels.values())

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, name: str) -> LabelInfo:
        return self._labels[name]

    def get(self, name: str | None) -> LabelInfo | None:
        return self._labels.get(name) if name is not None else None

    @property
    def names(self) -> list[str]:
        return list(self._labels)

    def color(self, name: str | None) -> tuple[int, int, int]:
        info = self.get(name)
        return info.color if info else stable_color(name or "")

    def instance_map(self) -> dict[str, int]:
        """``{label: instance id}`` as the SDK's ``dataset.instance_map``."""
        return {name: info.instance_id for name, info in self._labels.items()}

    def yolo_names(self) -> list[str]:
        """Labels in YOLO class-index order (0-based, by instance id)."""
        return [info.name for info in sorted(self._labels.values(), key=lambda i: i.instance_id)]

    # -- files ---------------------------------------------------------------------------------
    def to_json(self) -> dict:
        out: dict = {"format": "dlconvert-labelmap", "version": 1,
                     "labels": [info.to_json() for info in self._labels.values()]}
        if self.templates:
            out["templates"] = [t.to_json() for t in self.templates.values()]
        if self.extras:
            out["extras"] = self.extras
        return out

    @classmethod
    def from_json(cls, data: Any, path: str | os.PathLike[str] | None = None) -> LabelMap:
        if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
            raise FormatError("not a label map: expected an object with a 'labels' list", path=path)
        if data.get("format") != "dlconvert-labelmap":
            return cls.from_ontology(data, path=path)
        labels = []
        for i, raw in enumerate(data["labels"]):
            if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                raise FormatError("each label needs a 'name'", path=path, where=f"/labels/{i}")
            instance_id = raw.get("instance_id", i + 1)
            if not _is_int(instance_id) or instance_id < 1:
                raise FormatError("instance_id must be a positive integer", path=path,
                                  where=f"/labels/{i}/instance_id")
            color = parse_color(raw["color"]) if raw.get("color") is not None else stable_color(raw["name"])
            coco_id, supercategory, extras = raw.get("coco_id"), raw.get("supercategory"), raw.get("extras")
            for key, fits, kind in (("color", color is not None, '"#rrggbb" or [r, g, b]'),
                                    ("coco_id", coco_id is None or _is_int(coco_id), "an integer"),
                                    ("supercategory", supercategory is None or isinstance(supercategory, str), "text"),
                                    ("extras", extras is None or isinstance(extras, dict), "an object")):
                if not fits:
                    raise FormatError(f"{key} must be {kind}, not {raw[key]!r}", path=path, where=f"/labels/{i}/{key}")
            labels.append(LabelInfo(raw["name"], instance_id, color, coco_id, supercategory, extras or {}))
        templates = data.get("templates", [])
        if not isinstance(templates, list):
            raise FormatError("templates must be a list", path=path, where="/templates")
        label_map = cls(labels, [_template_from_json(t, path, f"/templates/{i}") for i, t in enumerate(templates)])
        extras = data.get("extras")
        # each format keeps an object of its own under extras (extras["coco"] …): anything else is not kept
        label_map.extras = {k: v for k, v in extras.items() if isinstance(v, dict)} if isinstance(extras, dict) else {}
        return label_map

    @classmethod
    def from_ontology(cls, ontology: dict, recipe: dict | None = None,
                      path: str | os.PathLike[str] | None = None) -> LabelMap:
        """From a Dataloop ontology (``labels`` or ``roots`` tree) and optionally its recipe's pose templates.

        Nested labels flatten to ``parent.child``; instance ids follow the SDK's default
        (sorted flattened tags, 1…N) unless the ontology carries its own ``instance_map``.
        """
        tree = ontology.get("labels") or ontology.get("roots") or []
        if not isinstance(tree, list):
            raise FormatError("ontology 'labels' must be a list", path=path, where="/labels")
        colors: dict[str, tuple[int, int, int] | None] = {}
        for node in tree:
            flatten_label_tree(node, "", colors)
        key = "instance_map" if "instance_map" in ontology else "instanceMap"
        given = ontology.get(key)
        ordered = sorted(colors)
        labels = []
        for i, name in enumerate(ordered, start=1):
            instance_id = given.get(name, i) if isinstance(given, dict) else i
            if isinstance(instance_id, bool) or not isinstance(instance_id, int) or instance_id < 1:
                raise FormatError(f"the instance id of {name!r} must be a positive integer, got {instance_id!r}",
                                  path=path, where=f"/{key}/{name}")
            labels.append(LabelInfo(name, instance_id, colors[name] or stable_color(name)))
        templates = []
        metadata = recipe.get("metadata") if isinstance(recipe, dict) else None
        system = metadata.get("system") if isinstance(metadata, dict) else None
        raws = system.get("collectionTemplates") if isinstance(system, dict) else None
        for i, raw in enumerate(raws if isinstance(raws, list) else []):
            if isinstance(raw, dict):
                templates.append(_template_from_json(raw, path, f"/metadata/system/collectionTemplates/{i}"))
        return cls(labels, templates)

    def save(self, path: str | os.PathLike[str]) -> None:
        from ._io import atomic_write
        from ._json import dumps

        atomic_write(path, dumps(self.to_json()))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LabelMap:
        """Read ``labelmap.json``, a Dataloop ontology JSON, a Datumaro/CVAT ``labelmap.txt``
        (``name:r,g,b:parts:actions``; ``background`` left out) or a names file (one label per line)."""
        from ._json import read_json_file

        path = Path(path)
        if path.suffix.lower() in (".txt", ".names"):
            text = _text_file(path)
            if _is_labelmap_txt(text):
                entries = [(n, c) for n, c in read_labelmap_txt(path, text) if n != "background"]
                return cls(LabelInfo(name, i, color or stable_color(name))
                           for i, (name, color) in enumerate(entries, start=1))
            names = [line.strip() for line in text.splitlines() if line.strip()]
            return cls(LabelInfo(name, i, stable_color(name)) for i, name in enumerate(names, start=1))
        data = read_json_file(path)
        if isinstance(data, dict) and data.get("format") != "dlconvert-labelmap" and ("labels" in data or
                                                                                       "roots" in data):
            recipe_path = path.with_name("recipe.json")
            recipe = read_json_file(recipe_path) if recipe_path.is_file() else None
            return cls.from_ontology(data, recipe, path=path)
        return cls.from_json(data, path=path)


def _text_file(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path.name} must be UTF-8 text (byte 0x{exc.object[exc.start]:02x})", path=path) from None
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror or exc}", path=path) from None


def _is_labelmap_txt(text: str) -> bool:
    """Datumaro's ``labelmap.txt``: its header comment, or every line ``name:colour:parts:actions``."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].replace(" ", "").startswith("#label:color_rgb"):
        return True
    return bool(lines) and all(line.count(":") == 3 for line in lines)


def read_labelmap_txt(path: str | os.PathLike[str], text: str | None = None,
                      ) -> list[tuple[str, tuple[int, int, int] | None]]:
    """``(name, colour or None)`` per line of a Datumaro/CVAT ``labelmap.txt`` (``name:r,g,b:parts:actions``),
    in order, ``background`` included; comment lines skipped."""
    path = Path(path)
    text = _text_file(path) if text is None else text
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        field = rest.split(":")[0]
        color = None
        if field:
            try:
                color = parse_color([int(v) for v in field.split(",")])
            except ValueError:
                color = None
            if color is None:
                raise FormatError(f"bad colour {field!r} (expected r,g,b)", path=path, where=f"line {number}")
        entries.append((name, color))
    return entries


def flatten_label_tree(node: Any, prefix: str, out: dict) -> None:
    """Collect ``{flattened tag: colour}`` from a ``labels`` node (``{tag, color, children}``)
    or a ``roots`` node (``{value: {tag, color}, children}``)."""
    if not isinstance(node, dict):
        return
    value = node["value"] if isinstance(node.get("value"), dict) else node
    tag = value.get("tag")
    if not isinstance(tag, str):
        return
    name = f"{prefix}.{tag}" if prefix else tag
    out[name] = parse_color(value.get("color"))
    children = node.get("children")
    for child in children if isinstance(children, list) else []:
        flatten_label_tree(child, name, out)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _template_from_json(raw: Any, path: str | os.PathLike[str] | None, where: str) -> PoseTemplate:
    """A pose template ``{id, name, order: [names], arcs: [[name, name] …]}``; wrong types are errors."""
    if not isinstance(raw, dict):
        raise FormatError("a template must be an object", path=path, where=where)
    order, arcs = raw.get("order", []), raw.get("arcs", [])
    if not isinstance(order, list) or not all(isinstance(n, (str, int)) and not isinstance(n, bool) for n in order):
        raise FormatError("order must be a list of keypoint names", path=path, where=f"{where}/order")
    if not isinstance(arcs, list) or not all(isinstance(a, (list, tuple)) and len(a) == 2 for a in arcs):
        raise FormatError("arcs must be a list of [keypoint, keypoint] pairs", path=path, where=f"{where}/arcs")
    return PoseTemplate(str(raw.get("id")), str(raw.get("name") or raw.get("id")), [str(n) for n in order],
                        [(str(a[0]), str(a[1])) for a in arcs])
