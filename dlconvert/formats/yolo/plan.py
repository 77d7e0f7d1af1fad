"""What a YOLO writer decides before writing: the task, the classes, the keypoint order; data.yaml.

* Task: ``options.yolo_task``, or by default the richest the data needs (the kinds' ``needs`` in
  :mod:`.capabilities`: pose if any pose, else segment if any polygon, mask or ellipse, else obb if
  any rotated box, else detect) — and never less than the task of the YOLO dataset the data was
  read from (kept in the label map), so an obb dataset of upright boxes stays obb. The pose task
  needs keypoints: asked for on data without any, it is an error (``kpt_shape: [0, 3]`` is no
  dataset); chosen by default, it falls back to the richest other task.
* Classes: the label map's ``yolo_names()`` (``options.labels``, else the dataset's, else the data's
  labels sorted), leaving out labels used only as keypoint names. Labels met that the map lacks are
  appended sorted — unless the map is pinned (the user's, :attr:`LabelMap.pinned`): then the classes
  are exactly the map's and the writer reports such labels (``yolo.label-not-in-map``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import FormatError
from ...labels import LabelMap, PoseTemplate
from .._policy import is_crowd
from .capabilities import CAPABILITIES, kind_of
from .common import RANK

if TYPE_CHECKING:
    from ...annotation import Annotation
    from ...collection import AnnotationCollection
    from ...dataset import ConvertOptions


def label_of(annotation: Annotation) -> str:
    return annotation.annotation_definition.label or "unlabeled"


def is_pinned(label_map: LabelMap | None, options: ConvertOptions) -> bool:
    """Whether the classes are the user's: a pinned map, or any map passed as ``options.labels``."""
    return options.labels is not None or (label_map is not None and label_map.pinned)


class Scan:
    """What pass 1 learns: the task the data needs, labels used, keypoint names per pose label."""

    def __init__(self) -> None:
        self.tasks: set[str] = set()  # the tasks the kinds met need
        self.used: set[str] = set()
        self.pose_keypoints: dict[str, list[str]] = {}  # pose label → keypoint labels in order first met
        self.pose_templates: dict[str, str | None] = {}  # pose label → first template id met

    def add(self, collection: AnnotationCollection) -> None:
        for annotation in collection.annotations:
            capability = CAPABILITIES.get(kind_of(annotation))
            if capability is None or capability.needs is None or is_crowd(annotation):
                continue
            label = label_of(annotation)
            self.used.add(label)
            self.tasks.add(capability.needs)
            if annotation.type == "pose":
                self.pose_templates.setdefault(label, annotation.annotation_definition.template_id)
                order = self.pose_keypoints.setdefault(label, [])
                for child in collection.children(annotation):
                    name = child.annotation_definition.label
                    if child.type == "point" and name is not None and name not in order:
                        order.append(name)

    def needs(self, without: str | None = None) -> str:
        """The richest task the data needs (leaving ``without`` out); detect when nothing needs more."""
        return max((t for t in self.tasks if t != without), key=RANK.__getitem__, default="detect")


@dataclass
class Plan:
    task: str
    label_map: LabelMap
    names: list[str]
    index: dict[str, int]
    orders: dict[str, list[str]]  # pose label → keypoint order
    kpt_count: int
    kpt_dims: int
    flip_idx: list[int] | None
    pinned: bool  # the classes are the user's: a label they lack is reported, never appended


def make_plan(scan: Scan, source: LabelMap | None, options: ConvertOptions) -> Plan:
    """The task, classes and keypoint order for what ``scan`` saw (see the module docstring)."""
    label_map = source.copy() if source is not None else LabelMap.from_names(scan.used)
    if not is_pinned(source, options):
        for name in sorted(scan.used):
            if name not in label_map:
                label_map.add(name)
    yolo_extras = label_map.extras.get("yolo") if isinstance(label_map.extras.get("yolo"), dict) else {}
    task = options.yolo_task
    if task is None:
        task = scan.needs()
        floor = yolo_extras.get("task")
        if floor in RANK and RANK[floor] > RANK[task]:
            task = floor
    keypoint_only = label_map.keypoint_names() - scan.used
    names = [n for n in label_map.yolo_names() if n not in keypoint_only]
    orders: dict[str, list[str]] = {}
    if task == "pose":
        for label, met in sorted(scan.pose_keypoints.items()):
            template = label_map.template_for(scan.pose_templates.get(label), label)
            if template is None:
                template = PoseTemplate(f"yolo-{label}", label, list(met))
                label_map.templates[template.id] = template
            orders[label] = list(template.order)
    count = max((len(o) for o in orders.values()), default=0)
    shape = yolo_extras.get("kpt_shape")
    dims = 2 if isinstance(shape, list) and len(shape) == 2 and shape[1] == 2 else 3
    if not orders and isinstance(shape, list) and len(shape) == 2 and isinstance(shape[0], int):
        count = shape[0]
    if task == "pose" and count <= 0:
        if options.yolo_task == "pose":
            raise FormatError("the pose task needs keypoints and the data has no pose with any (kpt_shape would be "
                              "[0, 3], which no YOLO tool reads): choose another --task")
        task = scan.needs(without="pose")
    flip = _flip_idx(orders, count, yolo_extras.get("flip_idx"))
    label_map.extras["yolo"] = {k: v for k, v in {
        "task": task, "names": names, "kpt_shape": [count, dims] if task == "pose" else None,
        "flip_idx": flip if task == "pose" else None}.items() if v is not None}
    return Plan(task, label_map, names, {n: i for i, n in enumerate(names)}, orders, count, dims, flip,
                is_pinned(source, options))


#: "left"/"right" as a word or word start (left_eye, eyeLeft, LEFT), or a lone l/r/L/R (l_eye, eye_r, RShoulder).
_SIDES = re.compile(r"(?<![a-z])(?:left|right|Left|Right|LEFT|RIGHT)(?![a-z])|(?<![A-Za-z])[lrLR](?![a-z])")


def _flip_idx(orders: dict[str, list[str]], count: int, given: Any) -> list[int] | None:
    """Keypoint index after a horizontal flip, from left/right name pairs; None without any pair."""
    if isinstance(given, list) and len(given) == count and sorted(given) == list(range(count)):
        return list(given)
    distinct = {tuple(o) for o in orders.values()}
    if len(distinct) != 1:
        return None
    order = list(distinct.pop())
    swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT",
            "l": "r", "r": "l", "L": "R", "R": "L"}
    position = {name: i for i, name in enumerate(order)}
    flip = list(range(count))
    paired = False
    for i, name in enumerate(order):
        other = _SIDES.sub(lambda m: swap[m.group(0)], name)
        j = position.get(other)
        if other != name and j is not None:
            flip[i] = j
            paired = True
    return flip if paired else None


def data_yaml(plan: Plan, splits: list[str]) -> str:
    """``data.yaml``: ``path: .``, each split's ``images/<split>``, pose keys, ``nc`` and ``names``."""
    import yaml

    def dump(value: dict, flow: bool | None = False) -> str:
        return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=flow, width=10 ** 6)

    parts = [dump({"path": "."})]
    parts.append(dump({s: f"images/{s}" for s in splits}))
    if plan.task == "pose":
        parts.append(dump({"kpt_shape": [plan.kpt_count, plan.kpt_dims]}, flow=None))
        if plan.flip_idx is not None:
            parts.append(dump({"flip_idx": plan.flip_idx}, flow=None))
    parts.append(dump({"nc": len(plan.names)}))
    parts.append(dump({"names": dict(enumerate(plan.names))}) if plan.names else "names: {}\n")
    if plan.task == "pose":
        kpt_names = {plan.index[label]: order for label, order in plan.orders.items()
                     if label in plan.index and len(order) == plan.kpt_count}  # a shorter order is padded, unnamed
        if kpt_names:
            parts.append(dump({"kpt_names": {k: kpt_names[k] for k in sorted(kpt_names)}}, flow=None))
    return "".join(parts)
