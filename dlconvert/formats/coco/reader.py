"""Reading a COCO file: load and check it, cut it into one unit per image, build the items.

The plan (:func:`plan`) parses the file once, checks every image and record in file order and
groups the good records by image; :func:`read_units` builds the items of a run of units, in the
main process or in a worker. A folder holding several JSON files is read by :mod:`.folder` into
the same units, one :class:`Part` per COCO file.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..._json import read_json_file
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError
from ...images import find_image
from ...labels import LABELMAP_FILENAME, LabelMap
from ...parallel import without_cyclic_gc
from .._sniff import read_head
from .categories import read_categories
from .checks import check_image, check_record, record_type
from .detect import RESULTS_LIST
from .records import record_to_annotations
from .source import IDS_FILENAME, SPLIT_KEY

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ...dataset import ConvertOptions, Dataset, SourcePlan
    from ...report import ConversionReport

__all__ = ["LOOKS_FOR", "Part", "check_document", "coco_file", "image_roots", "image_to_collection", "images_root",
           "item_filename", "json_files", "load", "plan", "read", "read_part", "read_units", "shape_hints", "subset_of"]

LOOKS_FOR = ("a COCO JSON file with 'images' and 'categories' lists (or a folder holding such files: several are "
             "read as one dataset, each file's images under its split)")
#: COCO's annotation tasks, as in ``annotations/<task>_<subset>.json`` (Datumaro's names).
_TASKS = ("instances", "person_keypoints", "captions", "labels", "image_info", "panoptic", "stuff")


def json_files(folder: Path) -> list[Path]:
    """The JSON files under ``folder`` that may be COCO: not hidden, not dlconvert's side files, by path."""
    candidates = sorted(p for p in folder.rglob("*.json") if not p.name.startswith("."))
    return [p for p in candidates if p.name not in (LABELMAP_FILENAME, IDS_FILENAME)]


def coco_file(src: Path) -> Path:
    """The one COCO file a source names: the file, or the only JSON in a folder (the table path reads no more)."""
    if not src.is_dir():
        return src
    candidates = json_files(src)
    if len(candidates) != 1:
        raise FormatError(f"expected one COCO JSON file in the folder, found {len(candidates)}", path=src)
    return candidates[0]


def load(path: Path) -> dict | list:
    """Parse one JSON file (no checks: a folder's reader classifies what it holds first)."""
    try:
        with without_cyclic_gc():  # COCO files are millions of acyclic objects
            return read_json_file(path)
    except FormatError:
        wide = _wide_encoding(path)
        if wide is not None:
            raise FormatError(f"the file is {wide}, not UTF-8 JSON (JSON exchanged between tools is UTF-8, RFC 8259): "
                              f"save it as UTF-8", path=path) from None
        raise


def _wide_encoding(path: Path) -> str | None:
    """``"UTF-16"`` or ``"UTF-32"`` when the file starts as JSON in that encoding (a BOM, or the NUL bytes
    around its first ASCII character), else None."""
    head = read_head(path, 4) or b""
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) or (len(head) == 4 and head.count(0) == 3):
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) >= 2 and head[:2].count(0) == 1):
        return "UTF-16"
    return None


def check_document(data: dict | list, path: Path) -> dict:
    """``data`` as a COCO document: an object with ``images`` and ``categories`` lists (a results list is refused)."""
    if isinstance(data, list):
        raise FormatError(RESULTS_LIST, path=path)
    if not isinstance(data, dict):
        raise FormatError("a COCO file must be a JSON object", path=path)
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise FormatError(f"COCO file needs an {key!r} list", path=path, where=f"/{key}")
    if not isinstance(data.get("annotations", []), list):
        raise FormatError("'annotations' must be a list", path=path, where="/annotations")
    return data


def image_roots(path: Path) -> tuple[Path, ...]:
    """The folders where COCO tools look for an image's ``file_name``, in order, those that exist.

    The JSON's own folder (Roboflow exports), ``images/`` beside it, and for a file named
    ``<task>_<subset>.json`` (``instances_val2017.json``) the subset's folder: ``images/<subset>/``
    beside it or beside its ``annotations/`` folder (Datumaro), ``<subset>/`` beside that folder (the
    COCO download, mmdetection, Detectron2); then ``../images/``.
    """
    folder = path.absolute().parent
    subset = subset_of(path.name)
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


def subset_of(filename: str) -> str | None:
    """``val2017`` of ``instances_val2017.json``: the subset a COCO task file names, if any."""
    stem = filename[:-len(".json")] if filename.endswith(".json") else filename
    for task in _TASKS:
        if stem.startswith(task + "_") and len(stem) > len(task) + 1:
            return stem[len(task) + 1:]
    return None


def images_root(roots: tuple[Path, ...], images: list[dict], path: Path) -> Path:
    """The one folder older consumers (YOLO's ``images_mode``) take: the first root holding the first image."""
    first = images[0] if images else None
    if first is not None:
        for root in roots:
            if find_image(root, first["file_name"]) is not None:
                return root
    return path.parent


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """Parse and check a COCO file — or every COCO file of a folder, as one dataset (:mod:`.folder`); one unit
    per image with its records.

    Bad images and records are reported here, in file order; the units keep the parsed records
    (no copy), so a shard carries only its own images' records to a worker.
    """
    from ...dataset import SourcePlan

    candidates = json_files(src) if src.is_dir() else [src]
    if len(candidates) != 1:
        from .folder import plan_folder

        return plan_folder(src, candidates, options, report)
    path = candidates[0]
    data = check_document(load(path), path)
    part, units = read_part(data, path, None, report)
    roots = image_roots(path)
    images = [image for image, _, _ in units]
    return SourcePlan(units, context=((part,),), labels=part.label_map,
                      images_root=options.images or images_root(roots, images, path), image_roots=roots,
                      declared_empty=not data["images"])


class Part(NamedTuple):
    """What reading the records of one COCO file needs: its categories, side file, and where its images are."""

    labels: dict  # {category id: label}
    label_map: LabelMap  # the file's own (its pose templates)
    path: str
    hints: dict
    image_root: str | None  # a folder's file: the folder its images are in (the item's image_path), else None


def read_part(data: dict, path: Path, split: str | None, report: ConversionReport, index: int = 0
              ) -> tuple[Part, list]:
    """One checked COCO document's :class:`Part` and its units ``(image, split, [(part index, records)])``."""
    labels, label_map = read_categories(data, path)
    images: dict[Any, dict] = {}
    for position, image in enumerate(data["images"]):
        problem = check_image(image, images)
        if problem is not None:
            message, at = problem
            report.failed(FormatError(message, path=path, where=f"/images/{position}{at}"), code="coco.invalid-image")
            continue
        images[image["id"]] = image
    grouped: dict[Any, list[tuple[int, dict]]] = defaultdict(list)
    for position, record in enumerate(data.get("annotations", [])):
        problem = check_record(record, images, labels)
        if problem is not None:
            message, at = problem
            report.bad_record(FormatError(message, path=path, where=f"/annotations/{position}{at}"),
                              code="coco.invalid-record", annotation_type=record_type(record))
            continue
        grouped[record["image_id"]].append((position, record))
    units = [(image, split, [(index, grouped.get(image_id, []))]) for image_id, image in images.items()]
    return Part(labels, label_map, str(path), shape_hints(path), None), units


def read_units(context: tuple, units: list, options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """One item per image unit of :func:`plan`, built when asked for."""
    (parts,) = context
    for image, split, records in units:
        yield image_to_collection(image, split, records, parts, report)


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a COCO file (or a folder's COCO files) into one item per image, lazily per image."""
    source = plan(src, options, report)
    return source.dataset(read_units(source.context, source.units, options, report))


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


def item_filename(image: dict, split: str | None) -> str:
    """The item's remote path: ``/<file_name>``, under ``/<split>/`` for a file of a folder's several."""
    name = image["file_name"].lstrip("/")
    return f"/{split}/{name}" if split else "/" + name


def image_to_collection(image: dict, split: str | None, parts_records: list, parts: tuple[Part, ...],
                         report: ConversionReport) -> AnnotationCollection:
    filename = item_filename(image, split)
    guessed = mimetypes.guess_type(filename)[0] or ""
    item_json = {
        "id": None, "filename": filename, "name": posixpath.basename(filename),
        "dir": posixpath.dirname(filename) or "/", "type": "file",
        # every COCO entry is an image, whatever its extension says
        "metadata": {"system": {"mimetype": guessed if guessed.startswith("image/") else "image/jpeg",
                                "width": image.get("width"), "height": image.get("height")},
                     "user": {"coco": image if split is None else {**image, SPLIT_KEY: split}}},
        "annotations": [],
    }
    first = parts[parts_records[0][0]]
    collection = AnnotationCollection.for_item(item_json, Path(first.path))
    if first.image_root is not None:
        collection.image_path = str(Path(first.image_root, image["file_name"].lstrip("/")))
    object_ids = 0
    for index, records in parts_records:
        part = parts[index]
        path = Path(part.path)
        for position, record in records:
            try:
                annotations = record_to_annotations(record, part.labels[record["category_id"]], part.label_map,
                                                    part.hints.get(record.get("id")))
            except DlconvertError as exc:
                report.bad_record(exc.at(path=path, where=f"/annotations/{position}"), code="coco.invalid-record",
                                  annotation_type=record_type(record), item=filename)
                continue
            if len(annotations) > 1 and annotations[0].object_id is None:
                object_ids += 1
                for annotation in annotations:
                    if annotation.parent_id is None:
                        annotation.object_id = object_ids
            collection.annotations.extend(annotations)
    collection.mark_read()
    return collection
