"""The label map of a YOLO dataset read: class names in index order, pose templates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import FormatError
from ...labels import LabelInfo, LabelMap, PoseTemplate, stable_color
from ...report import Issue
from .common import MAX_CLASSES, read_text
from .layout import Layout

if TYPE_CHECKING:
    from ...dataset import ConvertOptions
    from ...report import ConversionReport


def read_label_map(layout: Layout, options: ConvertOptions, report: ConversionReport) -> tuple[LabelMap, list[str]]:
    """The label map the items use and the class names in index order.

    ``options.labels`` wins (and stays pinned). A dataset that names no class (no ``names``, no names
    file) is read with ``class_0`` … up to the largest index used (or ``nc``), and the report says so
    (``yolo.no-names``): the labels are numbers, not the dataset's words.
    """
    if options.labels is not None:
        label_map = options.labels.copy()
        return label_map, class_names(label_map)
    names = layout.names
    if names is None or layout.numbered:
        if names is None:
            names = [f"class_{i}" for i in range(_largest_index(layout) + 1)]
        report.issues.append(Issue("warning", "yolo.no-names",
                                   f"the dataset names no class: its {len(names)} classes are read as class_0 … "
                                   "(pass the names with --labels)", path=layout.names_where))
    saved = LabelMap.load(layout.labelmap_path) if layout.labelmap_path is not None else None
    if saved is not None and class_names(saved) == names:
        label_map = saved
    else:
        infos = []
        for i, name in enumerate(names, start=1):
            old = saved.get(name) if saved is not None else None
            infos.append(LabelInfo(name, i, old.color if old else stable_color(name)))
        label_map = LabelMap(infos, saved.templates.values() if saved is not None else ())
    return label_map, names


def class_names(label_map: LabelMap) -> list[str]:
    """YOLO class names in index order: the map's ``yolo_names()`` without keypoint-only labels.

    A map written by this module records its list (``extras["yolo"]["names"]``), which wins.
    """
    recorded = (label_map.extras.get("yolo") or {}).get("names")
    if isinstance(recorded, list) and all(isinstance(n, str) and n in label_map for n in recorded):
        return list(recorded)
    keypoints = label_map.keypoint_names()
    return [n for n in label_map.yolo_names() if n not in keypoints]


def _largest_index(layout: Layout) -> int:
    """The largest class index used below :data:`MAX_CLASSES` (names-less datasets are named from it;
    a line with a larger index is reported as past the names); -1 when none."""
    largest = -1
    for source in layout.sources:
        if source.label is None or source.label.is_dir():
            continue
        try:
            text = read_text(source.label)
        except FormatError:
            continue
        for line in text.splitlines():
            token = line.split(maxsplit=1)[0] if line.strip() else ""
            if token.isdigit() and int(token) < MAX_CLASSES:
                largest = max(largest, int(token))
    return largest


def pose_templates(label_map: LabelMap, names: list[str], config: dict) -> dict[int, PoseTemplate]:
    """``{class index: template}`` for a pose dataset (``kpt_shape``), reusing the map's templates."""
    shape = config.get("kpt_shape")
    if not shape:
        return {}
    count = shape[0]
    kpt_names = config.get("kpt_names") or {}
    out: dict[int, PoseTemplate] = {}
    for index, name in enumerate(names):
        order = kpt_names.get(index, kpt_names.get(None))
        template = label_map.template_for(None, name)
        if template is not None and (order is None or list(template.order) == order) and len(template.order) == count:
            out[index] = template
            continue
        if order is None:
            order = [f"keypoint_{i + 1}" for i in range(count)]
        match = next((t for _, t in sorted(label_map.templates.items()) if list(t.order) == order), None)
        if match is None:
            match = PoseTemplate(f"yolo-class-{index}", name, order)
            label_map.templates[match.id] = match
        out[index] = match
    return out
