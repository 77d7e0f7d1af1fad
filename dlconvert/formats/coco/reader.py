"""Reading a COCO file: load and check it, cut it into one unit per image, build the items.

The plan (:func:`plan`) parses the file once, checks every image and record in file order and
groups the good records by image; :func:`read_units` builds the items of a run of units, in the
main process or in a worker.
"""

from __future__ import annotations

import gc
import mimetypes
import posixpath
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._json import read_json_file
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError
from ...images import find_image
from ...labels import LABELMAP_FILENAME, LabelMap
from .categories import read_categories
from .checks import check_image, check_record, record_type
from .records import record_to_annotations
from .source import IDS_FILENAME

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ...dataset import ConvertOptions, Dataset, SourcePlan
    from ...report import ConversionReport

__all__ = ["LOOKS_FOR", "coco_file", "image_roots", "plan", "read", "read_units", "shape_hints"]

LOOKS_FOR = "a COCO JSON file with 'images' and 'categories' lists (or a folder holding exactly one .json)"
#: COCO's annotation tasks, as in ``annotations/<task>_<subset>.json`` (Datumaro's names).
_TASKS = ("instances", "person_keypoints", "captions", "labels", "image_info", "panoptic", "stuff")


def coco_file(src: Path) -> Path:
    """The COCO file a source names: the file, or the only JSON in a folder (not dlconvert's side files)."""
    if not src.is_dir():
        return src
    candidates = sorted(p for p in src.rglob("*.json") if not p.name.startswith("."))
    candidates = [p for p in candidates if p.name not in (LABELMAP_FILENAME, IDS_FILENAME)]
    if len(candidates) != 1:
        raise FormatError(f"expected one COCO JSON file in the folder, found {len(candidates)}; name the file",
                          path=src)
    return candidates[0]


def _load(src: Path) -> tuple[dict, Path]:
    path = coco_file(src)
    enabled = gc.isenabled()
    gc.disable()  # COCO files are millions of acyclic objects: the cyclic GC only costs time here
    try:
        data = read_json_file(path)
    finally:
        if enabled:
            gc.enable()
    if isinstance(data, list):
        raise FormatError("this is a COCO results list (no images or categories); convert the ground-truth "
                          "file instead", path=path)
    if not isinstance(data, dict):
        raise FormatError("a COCO file must be a JSON object", path=path)
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise FormatError(f"COCO file needs an {key!r} list", path=path, where=f"/{key}")
    if not isinstance(data.get("annotations", []), list):
        raise FormatError("'annotations' must be a list", path=path, where="/annotations")
    return data, path


def image_roots(path: Path) -> tuple[Path, ...]:
    """The folders where COCO tools look for an image's ``file_name``, in order, those that exist.

    The JSON's own folder (Roboflow exports), ``images/`` beside it, and for a file named
    ``<task>_<subset>.json`` (``instances_val2017.json``) the subset's folder: ``images/<subset>/``
    beside it or beside its ``annotations/`` folder (Datumaro), ``<subset>/`` beside that folder (the
    COCO download, mmdetection, Detectron2); then ``../images/``.
    """
    folder = path.absolute().parent
    subset = _subset(path.name)
    candidates = [folder]
    candidates += [folder / "images" / subset] if subset else []
    candidates.append(folder / "images")
    candidates += [folder.parent / "images" / subset, folder.parent / subset] if subset else []
    candidates.append(folder.parent / "images")
    roots: list[Path] = []
    for candidate in candidates:
        if candidate not in roots and candidate.is_dir():
            roots.append(candidate)
    return tuple(roots)


def _subset(filename: str) -> str | None:
    """``val2017`` of ``instances_val2017.json``: the subset a COCO task file names, if any."""
    stem = filename[:-len(".json")] if filename.endswith(".json") else filename
    for task in _TASKS:
        if stem.startswith(task + "_") and len(stem) > len(task) + 1:
            return stem[len(task) + 1:]
    return None


def _images_root(roots: tuple[Path, ...], images: dict, path: Path) -> Path:
    """The one folder older consumers (YOLO's ``images_mode``) take: the first root holding the first image."""
    first = next(iter(images.values()), None)
    if first is not None:
        for root in roots:
            if find_image(root, first["file_name"]) is not None:
                return root
    return path.parent


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """Parse and check a COCO file (or the only JSON in a folder); one unit per image with its records.

    Bad images and records are reported here, in file order; the units keep the parsed records
    (no copy), so a shard carries only its own images' records to a worker.
    """
    from ...dataset import SourcePlan

    data, path = _load(src)
    labels, label_map = read_categories(data, path)
    images: dict[Any, dict] = {}
    for index, image in enumerate(data["images"]):
        problem = check_image(image, images)
        if problem is not None:
            message, at = problem
            report.failed(FormatError(message, path=path, where=f"/images/{index}{at}"), code="coco.invalid-image")
            continue
        images[image["id"]] = image
    grouped: dict[Any, list[tuple[int, dict]]] = defaultdict(list)
    for index, record in enumerate(data.get("annotations", [])):
        problem = check_record(record, images, labels)
        if problem is not None:
            message, at = problem
            report.bad_record(FormatError(message, path=path, where=f"/annotations/{index}{at}"),
                              code="coco.invalid-record", annotation_type=record_type(record))
            continue
        grouped[record["image_id"]].append((index, record))
    units = [(image, grouped.get(image_id, [])) for image_id, image in images.items()]
    context = (labels, label_map, str(path), shape_hints(path))
    roots = image_roots(path)
    return SourcePlan(units, context=context, labels=label_map,
                      images_root=options.images or _images_root(roots, images, path), image_roots=roots,
                      declared_empty=not data["images"])


def read_units(context: tuple, units: list, options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """One item per image unit of :func:`plan`, built when asked for."""
    labels, label_map, path, hints = context
    for image, records in units:
        yield _image_to_collection(image, records, labels, label_map, Path(path), report, hints)


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a COCO file (or the only JSON in a folder) into one item per image, lazily per image."""
    from ...dataset import Dataset

    source = plan(src, options, report)
    return Dataset(read_units(source.context, source.units, options, report), labels=source.labels,
                   images_root=source.images_root, total=len(source.units), image_roots=source.image_roots,
                   declared_empty=source.declared_empty)


def shape_hints(path: Path) -> dict[Any, str]:
    """``{COCO annotation id: Dataloop type}`` from a ``coco_ids.json`` dlconvert wrote beside the file.

    COCO cannot tell a box (written with its rectangle as segmentation, for pycocotools) from a
    rectangular polygon, nor a pose alone from a pose with a box; the sidecar can.
    """
    sidecar = path.with_name(IDS_FILENAME)
    if not sidecar.is_file():
        return {}
    try:
        refs = read_json_file(sidecar)
    except DlconvertError:
        return {}
    rows = refs.get("annotations") if isinstance(refs, dict) else None
    if not isinstance(rows, list):
        return {}
    return {row["id"]: row["type"] for row in rows
            if isinstance(row, dict) and row.get("type") and isinstance(row.get("id"), (int, str))}


def _image_to_collection(image: dict, records, labels: dict, label_map: LabelMap, path: Path,
                         report: ConversionReport, hints: dict[Any, str]) -> AnnotationCollection:
    filename = "/" + image["file_name"].lstrip("/")
    guessed = mimetypes.guess_type(filename)[0] or ""
    item_json = {
        "id": None, "filename": filename, "name": posixpath.basename(filename),
        "dir": posixpath.dirname(filename) or "/", "type": "file",
        # every COCO entry is an image, whatever its extension says
        "metadata": {"system": {"mimetype": guessed if guessed.startswith("image/") else "image/jpeg",
                                "width": image.get("width"), "height": image.get("height")},
                     "user": {"coco": image}},
        "annotations": [],
    }
    collection = AnnotationCollection(_item_json=item_json)
    collection._read_item_fields(item_json, path)
    object_ids = 0
    for index, record in records:
        try:
            annotations = record_to_annotations(record, labels[record["category_id"]], label_map,
                                                hints.get(record.get("id")))
        except DlconvertError as exc:
            report.bad_record(exc.at(path=path, where=f"/annotations/{index}"), code="coco.invalid-record",
                              annotation_type=record_type(record), item=filename)
            continue
        if len(annotations) > 1 and annotations[0].object_id is None:
            object_ids += 1
            for annotation in annotations:
                if annotation.parent_id is None:
                    annotation.object_id = object_ids
        collection.annotations.extend(annotations)
    collection._count_read = len(collection.annotations)
    return collection
