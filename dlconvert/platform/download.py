"""Download a platform dataset through the SDK and convert it with the local pipeline.

The dataset's items become a temporary Dataloop export folder (``json/`` with one server-export
item JSON per item, V1 names, plus ``labelmap.json`` from the ontology and recipe), which the
:class:`~dlconvert.converter.Converter` then reads like any local export: the outputs are the
bytes a conversion of the same export folder on disk gives.

* Item JSONs come from the SDK's dataset export (``dataset.download_annotations``), which is one
  request per 1,000 items. The export is checked against the item listing (``dataset.items.list``
  with the same ``Filters``): the SDK can drop items silently (a failed count query makes it
  export nothing; two items ``a.jpg``/``a.png`` overwrite one file under V1 names), and every item
  the export missed is fetched on its own.
* With an SDK annotation filter (a ``dtlpy.Filters`` on annotations) the annotations of each item
  are listed through the SDK with that filter instead (the server filters them). A Python
  predicate is applied locally, and what it leaves out is reported as skipped.
* Image sizes come from the item metadata; an image whose metadata lacks them is downloaded and
  its header read (and its size written into the item JSON, as the platform's preprocessing
  would). With ``ConvertOptions.images_mode`` "copy"/"link" every image is downloaded to
  ``items/`` so the writer can place it.
* Failures after retries are listed in the report, one ``failed`` issue per item
  (``platform.download-failed``, ``platform.image-download-failed``); the other items convert.
* With views (:func:`download_dataset`, ``dlconvert download --view``) the pictures of every item
  (``mask/``, ``instance/``, ``object_id/``, ``img_mask/``) are rendered beside the converted
  annotations, as ``dlp … download --annotation-options`` writes them; overlays need the images
  (and videos), which are then all downloaded.
* The destination follows the rule of every dlconvert output (:mod:`dlconvert._destination`):
  missing or empty, or — with ``overwrite`` — a previous dlconvert output; it is checked before
  anything is downloaded, and the output appears whole or not at all.
"""

from __future__ import annotations

import copy
import logging
import os
import posixpath
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._destination import check_destination
from .._io import atomic_write, safe_join, staged_output
from .._json import dumps, loads
from ..errors import DlconvertError, OptionError, OutputError, PlatformError
from ..formats import check_options, get_format
from ..labels import LABELMAP_FILENAME, LabelMap
from ..report import ConversionReport, Issue
from ._sdk import (
    RetryPolicy,
    Transient,
    check_dataset,
    client_of,
    client_settings,
    describe,
    fetch_ontology,
    is_retryable,
    is_sdk_filters,
    list_annotations,
    list_items,
    raw_json,
    require_dtlpy,
    with_retries,
)

__all__ = ["convert_dataset", "download_dataset", "fetch_label_map"]

logger = logging.getLogger(__name__)


def convert_dataset(converter: Any, dataset: Any, to_format: str, local_path: str | os.PathLike[str],
                    conversion_func: Any = None, filters: Any = None, annotation_filter: Any = None, *,
                    retry: RetryPolicy | None = None, overwrite: bool = False) -> ConversionReport:
    """Pull ``dataset`` (a dtlpy Dataset) through the SDK and convert it to ``to_format`` in ``local_path``
    (the SDK's ``Converter.convert_dataset``); see :func:`download_dataset`."""
    return download_dataset(converter, dataset, local_path, to_format=to_format, conversion_func=conversion_func,
                            filters=filters, annotation_filter=annotation_filter, retry=retry, overwrite=overwrite)


def download_dataset(converter: Any, dataset: Any, local_path: str | os.PathLike[str], *,
                     to_format: str = "dataloop", views: Iterable[Any] = (), conversion_func: Any = None,
                     filters: Any = None, annotation_filter: Any = None, retry: RetryPolicy | None = None,
                     overwrite: bool = False, allow_missing_images: bool = False,
                     **style: Any) -> ConversionReport:
    """Pull ``dataset`` (a dtlpy Dataset) through the SDK, convert it to ``to_format`` in ``local_path``
    and, with ``views``, render pictures of every item beside it (``dlp … download``'s annotation options).

    Args:
        converter: the :class:`~dlconvert.converter.Converter` whose options, error policy and
            progress apply.
        views: pictures to render into ``local_path/<view>/`` from the downloaded annotations:
            ``mask``, ``instance``, ``object_id``, ``overlay`` (``img_mask/``; every image is
            downloaded for it), as names or the SDK's ``ViewAnnotationOptions``.
        filters: a ``dtlpy.Filters`` selecting items on the server, or a Python predicate on each
            :class:`~dlconvert.collection.AnnotationCollection`.
        annotation_filter: a ``dtlpy.Filters`` on annotations (applied by the server, per item),
            or a Python predicate on each :class:`~dlconvert.annotation.Annotation`.
        retry: how hard to try (default :class:`RetryPolicy`).
        overwrite: replace ``local_path`` when it holds a previous dlconvert output (a folder
            holding anything else is always refused: see :mod:`dlconvert._destination`).
        allow_missing_images, style: the picture options of
            :func:`~dlconvert.render.files.render_dataset` (``thickness``, ``with_text``, ``alpha``,
            ``frame_num``, ``color_by``).

    Returns:
        The conversion's report, with one ``failed`` issue per item that could not be downloaded.

    Raises:
        OutputError: ``local_path`` may not be written (checked before anything is downloaded).
        PlatformError: dtlpy is not installed, or the dataset, its ontology or its item listing
            cannot be read after retries.
    """
    from ..render.files import checked_style, picture_views  # OpenCV, only when a download runs
    from ..render.views import ViewAnnotationOptions

    dl = require_dtlpy()
    check_dataset(dataset)
    views = picture_views(views)
    style = checked_style(**style) if views else _no_style(style)
    policy = retry or RetryPolicy()
    item_filters, item_predicate = _split_filter(filters, "filters")
    annotation_filters, annotation_predicate = _split_filter(annotation_filter, "annotation_filter")
    if views and (conversion_func or item_predicate or annotation_predicate):
        raise OptionError("views draw the annotations as downloaded: pass Python hooks (conversion_func, "
                          "predicates) without views, or SDK Filters")
    check_options(converter.options, get_format("dataloop"), get_format(to_format))  # before anything is downloaded
    check_destination(local_path, overwrite=overwrite)
    failures: list[Issue] = []
    with client_settings(client_of(dataset), policy), \
            tempfile.TemporaryDirectory(prefix="dlconvert-platform-") as tmp:
        export = Path(tmp) / "export"
        (export / "json").mkdir(parents=True)
        try:
            fetch_label_map(dataset, policy).save(export / LABELMAP_FILENAME)
            items = list_items(dataset, item_filters, policy)
        except DlconvertError:
            raise
        except Exception as exc:
            raise PlatformError(f"cannot read dataset {getattr(dataset, 'id', '?')} through the SDK: "
                                f"{describe(exc)}") from exc
        placed: dict[str, Path] = {}
        if annotation_filters is None:
            placed = _export(dataset, item_filters, export, items, policy)
        for item in _progress(converter, [i for i in items if i.id not in placed], "downloading annotations"):
            try:
                item_json = with_retries(policy, lambda item=item: _item_json(dl, dataset, item, annotation_filters))
            except Exception as exc:
                failures.append(_failure(item, "platform.download-failed",
                                         f"could not download the item's annotations: {describe(exc)}"))
                continue
            placed[item.id] = _place(export, item_json, placed)
        binaries = ViewAnnotationOptions.ANNOTATION_ON_IMAGE in views
        _fetch_images(converter, export, items, placed, policy, failures, binaries)
        if not views:
            report = converter.run(export, "dataloop", local_path, to_format, conversion_func=conversion_func,
                                   item_filter=item_predicate, annotation_filter=annotation_predicate,
                                   overwrite=overwrite)
        else:
            report = _convert_and_render(converter, export, Path(local_path), to_format, views, overwrite,
                                         allow_missing_images, style)
    _add_failures(report, failures)
    return report


def _no_style(style: dict) -> dict:
    """Picture options without a picture to draw are an error (options that do not apply are errors)."""
    given = sorted(name for name, value in style.items() if value not in (None, False))
    if given:
        raise OptionError(f"{', '.join(given)} apply to pictures: ask for a view (mask, instance, object_id, overlay)")
    return {}


def _convert_and_render(converter: Any, export: Path, local_path: Path, to_format: str, views: list,
                        overwrite: bool, allow_missing_images: bool, style: dict) -> ConversionReport:
    """Convert the export and render its pictures into one staged output: it appears whole or not at all."""
    from ..images import ImageLookup
    from ..render.files import render_dataset

    about: dict[str, Any] = {"format": get_format(to_format).name, "views": [view.value for view in views]}
    with staged_output(local_path, overwrite=overwrite, sources=(export,), about=about) as staging:
        report = converter.run(export, "dataloop", staging, to_format)
        about["items"] = report.items_out
        source = get_format("dataloop").read(export, converter.options, ConversionReport())
        label_map = converter.options.labels or source.labels
        render_dataset(source.items, staging, views, images_root=ImageLookup.for_source(converter.options.images,
                                                                                         source),
                       label_map=label_map, allow_missing_images=allow_missing_images, **style)
    report.outputs = [str(local_path / Path(p).relative_to(staging)) for p in report.outputs]
    if report.error_log:
        report.error_log = str(local_path / Path(report.error_log).relative_to(staging))
    return report


def fetch_label_map(dataset: Any, policy: RetryPolicy | None = None) -> LabelMap:
    """The label map of a dataset's ontology and recipe: colours, instance ids, pose templates."""
    ontology, recipe, instance_map = fetch_ontology(dataset, policy or RetryPolicy())
    tree = {"roots": ontology.get("roots") or [], "labels": ontology.get("labels") or []}
    if not tree["labels"]:
        del tree["labels"]
    if instance_map:
        tree["instance_map"] = instance_map
    return LabelMap.from_ontology(tree, recipe)


def _split_filter(value: Any, name: str) -> tuple[Any, Any]:
    """``(SDK Filters, Python predicate)``: one of them (or both None)."""
    if value is None:
        return None, None
    if is_sdk_filters(value):
        return value, None
    if callable(value):
        return None, value
    raise TypeError(f"{name} must be a dtlpy.Filters or a callable, not {type(value).__name__}")


def _progress(converter: Any, items: list, desc: str):
    progress = getattr(converter, "progress", None)
    return progress(items, total=len(items), desc=desc) if progress is not None and items else items


def _item_json(dl: Any, dataset: Any, item: Any, annotation_filters: Any) -> dict:
    """The item's JSON as the export writes it: the item's fields with its annotations inlined."""
    item_json = raw_json(item)
    item_json["annotations"] = list_annotations(dl, dataset, item.id, annotation_filters)
    return item_json


def _export(dataset: Any, filters: Any, export: Path, items: list, policy: RetryPolicy) -> dict[str, Path]:
    """Run the SDK's dataset export; place the item JSONs of ``items`` it wrote. Returns id → path."""
    wanted = {item.id for item in items}
    if not wanted:
        return {}
    placed: dict[str, Path] = {}
    for attempt in range(policy.attempts):
        attempt_dir = Path(tempfile.mkdtemp(prefix="export-", dir=export.parent))
        try:
            dataset.download_annotations(local_path=str(attempt_dir),
                                         filters=copy.deepcopy(filters) if filters is not None else None,
                                         overwrite=True)
            found = _read_export(attempt_dir / "json", wanted)
            missing = wanted - found.keys() - placed.keys()
            for item_id, item_json in found.items():
                if item_id not in placed:
                    placed[item_id] = _place(export, item_json, placed)
            if missing and attempt + 1 < policy.attempts:
                raise Transient(f"the export holds {len(wanted) - len(missing)} of {len(wanted)} items")
            return placed
        except Exception as exc:
            if not is_retryable(exc) or attempt + 1 >= policy.attempts:
                logger.warning("the dataset export failed (%s); fetching items one by one", describe(exc))
                return placed
            time.sleep(policy.delay(attempt))
        finally:
            shutil.rmtree(attempt_dir, ignore_errors=True)
    return placed


def _read_export(json_root: Path, wanted: set[str]) -> dict[str, dict]:
    """Item JSONs under an export's ``json/`` by item id (unreadable or foreign files left out)."""
    found: dict[str, dict] = {}
    if not json_root.is_dir():
        return found
    for path in sorted(json_root.rglob("*.json")):
        try:
            data = loads(path.read_bytes(), path=path)
        except (DlconvertError, OSError):
            continue  # a file cut short by a failure: the item is fetched on its own
        if isinstance(data, dict) and data.get("id") in wanted and isinstance(data.get("annotations"), list):
            found[data["id"]] = data
    return found


def _place(export: Path, item_json: dict, placed: dict[str, Path]) -> Path:
    """Write an item JSON under ``json/`` by its remote path (V1 name; V2 when V1 is taken)."""
    filename = str(item_json.get("filename") or f"/{item_json.get('id')}").lstrip("/")
    stem = posixpath.splitext(filename)[0] or filename
    taken = set(placed.values())
    target = safe_join(export / "json", stem + ".json")
    if target in taken or target.exists():
        target = safe_join(export / "json", filename + ".json")
    if target in taken or target.exists():
        raise OutputError(f"two items map to {target.name}", path=target)
    atomic_write(target, dumps(item_json))
    return target


def _fetch_images(converter: Any, export: Path, items: list, placed: dict[str, Path], policy: RetryPolicy,
                  failures: list[Issue], pictures: bool = False) -> None:
    """Download images whose size the metadata lacks, every image when the writer places images, and
    (``pictures``: overlays are drawn on them) every image and video."""
    options = getattr(converter, "options", None)
    every_image = pictures or getattr(options, "images_mode", "none") in ("copy", "link")
    for item in items:
        path = placed.get(item.id)
        if path is None:
            continue
        item_json = loads(path.read_bytes(), path=path)
        system = ((item_json.get("metadata") or {}).get("system")) or {}
        mimetype = str(system.get("mimetype") or getattr(item, "mimetype", None) or "")
        if not (mimetype.startswith("image/") or (pictures and mimetype.startswith("video/"))):
            continue
        sizeless = mimetype.startswith("image/") and not (system.get("width") and system.get("height"))
        if not (sizeless or every_image):
            continue
        try:
            data = with_retries(policy, lambda item=item: _download_binary(item))
            target = safe_join(export / "items", str(item_json.get("filename") or item.filename))
            atomic_write(target, data)
        except Exception as exc:
            what = "image" if mimetype.startswith("image/") else "video"
            failures.append(_failure(item, "platform.image-download-failed",
                                     f"could not download the {what}{' for its size' if sizeless else ''}: "
                                     f"{describe(exc)}"))
            continue
        if sizeless:
            _write_size(path, item_json, target)


def _download_binary(item: Any) -> bytes:
    buffer = item.download(save_locally=False)
    if buffer is None or not hasattr(buffer, "read"):
        raise Transient("the SDK returned no data for the item")
    buffer.seek(0)
    data = buffer.read()
    expected = ((getattr(item, "metadata", None) or {}).get("system") or {}).get("size")
    if isinstance(expected, int) and expected != len(data):
        raise Transient(f"downloaded {len(data)} of {expected} bytes")
    return data


def _write_size(path: Path, item_json: dict, image: Path) -> None:
    from ..images import image_info

    try:
        info = image_info(image)
    except DlconvertError as exc:
        logger.warning("cannot read the size of %s: %s", image, exc)
        return
    metadata = item_json.setdefault("metadata", {})
    system = metadata.setdefault("system", {})
    system["width"], system["height"] = info.width, info.height
    if info.orientation != 1 and not (system.get("exif") or {}).get("Orientation"):
        exif = system.get("exif") if isinstance(system.get("exif"), dict) else {}
        system["exif"] = {**exif, "Orientation": info.orientation}
    atomic_write(path, dumps(item_json))


def _failure(item: Any, code: str, message: str) -> Issue:
    return Issue("failed", code, message, item=getattr(item, "filename", None) or getattr(item, "id", None))


def _add_failures(report: ConversionReport, failures: list[Issue]) -> None:
    if not failures:
        return
    report.issues.extend(failures)
    if report.error_log:
        atomic_write(report.error_log, dumps([issue.__dict__ for issue in report.issues]))
