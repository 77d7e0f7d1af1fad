"""A folder holding several COCO files, read as one dataset with subsets (as Datumaro reads such a tree).

Real exports split a dataset into files: Roboflow's ``train/``, ``valid/``, ``test/`` each with an
``_annotations.coco.json`` beside its images; the COCO download, Datumaro and mmdetection's
``annotations/<task>_<subset>.json`` (``instances_train2017.json``, ``person_keypoints_val.json``).

* Which files count: every ``.json`` under the folder (dlconvert's ``labelmap.json`` and
  ``coco_ids.json`` aside) is parsed and classified (:func:`~.detect.document_kind`): a COCO document
  with ``images`` and ``categories`` counts (instances, person keypoints, labels, stuff, image info);
  a results list, a panoptic or captions file and any other JSON do not, and are listed in one
  warning (``coco.files-not-read``). No file that counts is an error listing what was found.
* Each file's split: the subset its name gives (``instances_val2017.json`` → ``val2017``), else its
  folder under the one named (``train/_annotations.coco.json`` → ``train``), else none. An image is
  the item ``/<split>/<file_name>`` (``/<file_name>`` without a split), its split recorded in
  ``metadata.user.coco.split`` (the YOLO and VOC readers record theirs in ``metadata.user.<format>.split``).
  The files of one split that name one image (``instances_train`` and ``person_keypoints_train``)
  give one item with the annotations of both; if they disagree on its size the folder is refused.
* Categories are merged by name: the first file's, then each new name with its COCO id (a fresh one
  when that id is taken); a name with another id in a later file is reported
  (``coco.category-conflict``, a warning: its records still get the label, by name).
* A file's images are looked for where COCO tools look (:func:`~.reader.image_roots`); each item is
  paired with its image there (``image_path``).
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import FormatError, listed
from ...labels import LabelInfo, LabelMap
from ...report import Issue
from .detect import document_kind
from .reader import check_document, image_roots, images_root, item_filename, load, read_part, subset_of

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, SourcePlan
    from ...report import ConversionReport

__all__ = ["plan_folder"]

_SHOWN = 8  # files named in a message


def plan_folder(src: Path, candidates: list[Path], options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """The plan of a folder's COCO files read as one dataset (see the module docstring)."""
    from ...dataset import SourcePlan

    if not candidates:
        raise FormatError("expected one COCO JSON file in the folder (or several, read as one dataset), found 0",
                          path=src)
    documents, left_out = [], []
    for path in candidates:
        data = load(path)
        kind = _kind(data)
        if kind == "dataset":
            documents.append((path, data))
        else:
            left_out.append(f"{_shown(path, src)} ({kind or 'not COCO'})")
    if not documents:
        raise FormatError(f"no COCO dataset file among the {len(candidates)} JSON files in the folder: "
                          f"{listed(left_out, _SHOWN)}", path=src)
    if left_out:
        report.issues.append(Issue("warning", "coco.files-not-read", f"JSON files that are no COCO dataset file, "
                                   f"not read: {listed(left_out, _SHOWN)}", path=str(src)))
    several = len(documents) > 1
    parts, units, by_name, roots = [], [], {}, []
    for index, (path, data) in enumerate(documents):
        data = check_document(data, path)
        split = _split(path, src) if several else None
        part, part_units = read_part(data, path, split, report, index)
        own_roots = image_roots(path)
        if several:  # each item is paired with its image in the folder its file's images are in
            found = images_root(own_roots, [image for image, _, _ in part_units], path)
            part = part._replace(image_root=str(found))
        parts.append(part)
        roots += [root for root in own_roots if root not in roots]
        for unit in part_units:
            _add_unit(unit, by_name, units, parts, src)
    label_map = _merged_labels(parts, report)
    return SourcePlan(units, context=(tuple(parts),), labels=label_map,
                      images_root=options.images or (parts[0].image_root and Path(parts[0].image_root)),
                      image_roots=tuple(roots), declared_empty=not units)


def _kind(data: Any) -> str | None:
    """What a parsed JSON document is to COCO (:func:`~.detect.document_kind`)."""
    if isinstance(data, list):
        first = data[0] if data and isinstance(data[0], dict) else {}
        return document_kind(True, set(), first)
    if not isinstance(data, dict):
        return None
    lists = {key for key, value in data.items() if isinstance(value, list)}
    records = data.get("annotations")
    first = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}
    return document_kind(False, lists, first)


def _split(path: Path, src: Path) -> str | None:
    """The subset a COCO file's name gives (``instances_val2017.json``), else its folder under ``src``."""
    subset = subset_of(path.name)
    if subset:
        return subset
    folder = path.parent.relative_to(src).as_posix()
    return None if folder == "." else folder


def _add_unit(unit: tuple, by_name: dict, units: list, parts: list, src: Path) -> None:
    """Add an image's unit, or its records to the unit of the same item from an earlier file (same split and
    name: the same image) — refused when the two disagree on its size."""
    image, split, records = unit
    name = item_filename(image, split)
    earlier = by_name.get(name)
    if earlier is None or any(index == records[0][0] for index, _ in units[earlier][2]):
        by_name[name] = len(units)
        units.append(unit)
        return
    first, _, merged = units[earlier]
    if (first.get("width"), first.get("height")) != (image.get("width"), image.get("height")):
        one, other = (_shown(Path(parts[i].path), src) for i in (merged[0][0], records[0][0]))
        raise FormatError(f"the COCO files disagree: image {name!r} is {first.get('width')}×{first.get('height')} "
                          f"in {one} but {image.get('width')}×{image.get('height')} in {other}; cannot read "
                          f"{listed([_shown(Path(p.path), src) for p in parts], _SHOWN)} as one dataset: name one file",
                          path=src)
    merged.extend(records)


def _merged_labels(parts: list, report: ConversionReport) -> LabelMap:
    """The files' categories merged by name (see the module docstring)."""
    first = parts[0].label_map
    infos = {info.name: info for info in first}
    templates = dict(first.templates)
    for part in parts[1:]:
        taken = {info.coco_id for info in infos.values() if info.coco_id is not None}
        for info in part.label_map:
            mine = infos.get(info.name)
            if mine is None:
                rank = max((i.instance_id for i in infos.values()), default=0) + 1
                infos[info.name] = LabelInfo(info.name, rank, info.color, info.coco_id if info.coco_id not in taken
                                             else None, info.supercategory, dict(info.extras))
            elif mine.coco_id != info.coco_id:
                report.issues.append(Issue("warning", "coco.category-conflict", f"category {info.name!r} has id "
                                           f"{info.coco_id} here but {mine.coco_id} in an earlier file: read as one "
                                           f"label, written with id {mine.coco_id}", path=part.path))
        for template_id, template in part.label_map.templates.items():
            templates.setdefault(template_id, template)
    merged = LabelMap(infos.values(), templates.values())
    merged.extras = dict(first.extras)
    return merged


def _shown(path: Path, src: Path) -> str:
    return posixpath.relpath(path.as_posix(), src.as_posix())

