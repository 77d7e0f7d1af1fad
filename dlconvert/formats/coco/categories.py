"""COCO ``categories`` ↔ the label map: both ways, with keypoint categories as pose templates.

Reading keeps the COCO ids and supercategories in the label map (instance ids follow the COCO
ids' order); a keypoint category becomes a pose template (skeleton edges 1-based). What the
template cannot say — empty keypoint names, 0-based or broken skeletons, a null supercategory,
any other field — is kept in the label's extras and written back as it was read.
"""

from __future__ import annotations

from typing import Any

from ...errors import FormatError
from ...labels import LabelInfo, LabelMap, PoseTemplate, stable_color
from .records import template_id

__all__ = ["read_categories", "write_categories"]

_MODELLED_KEYS = ("id", "name", "supercategory", "keypoints", "skeleton")


def read_categories(data: dict, path) -> tuple[dict[Any, str], LabelMap]:
    """``{category id: label}`` and the label map; a malformed category raises with its JSON pointer."""
    by_id: dict[Any, dict] = {}
    for index, category in enumerate(data["categories"]):
        problem = _category_problem(category, by_id)
        if problem is not None:
            message, at = problem
            raise FormatError(message, path=path, where=f"/categories/{index}{at}")
        by_id[category["id"]] = category
    labels: dict[Any, str] = {}
    seen: set[str] = set()
    infos, templates = [], []
    ordered = sorted(by_id, key=lambda v: (isinstance(v, str), v))
    for rank, cat_id in enumerate(ordered, start=1):
        category = by_id[cat_id]
        name = category["name"]
        if name in seen:  # two categories with one name: keep both apart
            name = f"{name} ({cat_id})"
        seen.add(name)
        labels[cat_id] = name
        supercategory = category.get("supercategory")
        extras = {k: v for k, v in category.items() if k not in _MODELLED_KEYS}
        if "supercategory" in category and supercategory is None:
            extras["supercategory"] = None
        template = _template(cat_id, name, category)
        if template is not None:
            templates.append(template)
        if not _template_is_faithful(template, category):
            # empty names, 0-based or broken skeletons: give back exactly what was read
            extras.update({k: category[k] for k in ("keypoints", "skeleton") if k in category})
        infos.append(LabelInfo(name, rank, stable_color(name), cat_id if isinstance(cat_id, int) else None,
                               supercategory, extras))
    label_map = LabelMap(infos, templates)
    extras = {key: data[key] for key in ("info", "licenses") if key in data}
    if extras:
        label_map.extras["coco"] = extras
    return labels, label_map


def _category_problem(category: Any, by_id: dict) -> tuple[str, str] | None:
    if not isinstance(category, dict):
        return "a category must be an object", ""
    cat_id = category.get("id")
    if type(cat_id) not in (int, str):
        return "category 'id' must be an integer", "/id"
    if not isinstance(category.get("name"), str):
        return "category 'name' must be a string", "/name"
    if cat_id in by_id:
        return f"category id {cat_id} appears twice", "/id"
    supercategory = category.get("supercategory")
    if supercategory is not None and not isinstance(supercategory, str):
        return "category 'supercategory' must be a string", "/supercategory"
    for key in ("keypoints", "skeleton"):
        if category.get(key) is not None and not isinstance(category[key], list):
            return f"category {key!r} must be a list", f"/{key}"
    return None


def _template(cat_id: Any, name: str, category: dict) -> PoseTemplate | None:
    """The pose template of a keypoint category (unnamed keypoints become ``keypoint_<n>``)."""
    keypoints = category.get("keypoints")
    if not keypoints:
        return None
    order = [k if isinstance(k, str) and k else f"keypoint_{i + 1}" for i, k in enumerate(keypoints)]
    arcs = []
    for edge in category.get("skeleton") or []:
        if (isinstance(edge, list) and len(edge) == 2 and all(type(v) is int for v in edge)
                and all(1 <= v <= len(order) for v in edge)):
            arcs.append((order[edge[0] - 1], order[edge[1] - 1]))
    return PoseTemplate(template_id(cat_id), name, order, arcs)


def _template_is_faithful(template: PoseTemplate | None, category: dict) -> bool:
    """Whether writing ``template`` back gives the category's own ``keypoints`` and ``skeleton``."""
    if template is None:
        return "keypoints" not in category and "skeleton" not in category
    skeleton = category.get("skeleton")
    return (template.order == category["keypoints"] and len(template.arcs) == len(skeleton or [])
            and (skeleton is not None or "skeleton" not in category))


def write_categories(labels: LabelMap, used_labels: set[str], pose_templates: dict[str, PoseTemplate | None]
                     ) -> tuple[list[dict], dict[str, int]]:
    """The ``categories`` list of the labels (keypoint names are not categories) and ``{label: COCO id}``.

    COCO ids: the source's, else the label's instance id when free, else the next free id.
    """
    keypoint_only = labels.keypoint_names() - used_labels
    taken = {info.coco_id for info in labels if info.coco_id is not None}
    next_id = max(taken | {info.instance_id for info in labels}, default=0) + 1
    rows = []
    for info in labels:
        if info.name in keypoint_only:
            continue
        coco_id = info.coco_id
        if coco_id is None:
            coco_id = info.instance_id if info.instance_id not in taken else next_id
            next_id = max(next_id, coco_id) + 1
            taken.add(coco_id)
        rows.append((coco_id, info))
    rows.sort(key=lambda row: row[0])
    categories, ids = [], {}
    for coco_id, info in rows:
        category: dict = {"id": coco_id, "name": info.name}
        if info.supercategory is not None:
            category["supercategory"] = info.supercategory
        elif info.coco_id is None:  # a Dataloop label: its dotted parent, else itself (COCO's habit)
            category["supercategory"] = info.name.rsplit(".", 1)[0] if "." in info.name else info.name
        template = pose_templates.get(info.name) or labels.template_for(None, info.name)
        if template is not None:
            index = {name: i + 1 for i, name in enumerate(template.order)}
            category["keypoints"] = list(template.order)
            category["skeleton"] = [[index[a], index[b]] for a, b in template.arcs if a in index and b in index]
        category.update(info.extras)
        categories.append(category)
        ids[info.name] = coco_id
    return categories, ids
