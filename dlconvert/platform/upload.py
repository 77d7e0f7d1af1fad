"""Upload annotations (and their images) to a platform dataset: local COCO / YOLO / VOC / VTT / Dataloop
files, or collections made in Python.

Local files are read with the format's reader (the same one ``convert`` uses), so what reaches the
platform is exactly what a local conversion to Dataloop JSON would write; collections
(:func:`upload_collections`) go as they are. Per item, in order:

1. **Labels first.** Every label the annotations use, and every label of the source's label map
   (COCO categories, YOLO names …), that the dataset's ontology lacks is added to it (one request,
   ``dataset.add_labels``, with the label map's colour) before any annotation is uploaded.
2. **Items.** Local items are matched to remote ones by remote path (the item's ``filename``,
   e.g. ``/sub/a.jpg``). With ``local_items_path`` (and ``remote_items`` false, the default then),
   an item that is not on the platform yet is uploaded from that folder; an image the annotations
   name but the folder lacks is reported (``platform.image-missing``). Without it, annotations go
   to the items already there (``platform.no-remote-item`` when there is none).
3. **Annotations**, through the SDK (``item.annotations.upload``, which batches them), parents
   before children (a pose's keypoints get the parent's new id).

**Idempotency rule.** Annotations are matched by fingerprint (:mod:`dlconvert.platform.fingerprints`:
content, never ids or dates). After an upload, every local annotation is on its remote item
**exactly as many times as the local item holds it**: missing ones are uploaded, surplus copies
(duplicates, e.g. left by a request that the server carried out but whose answer was lost) are
deleted, and remote annotations that are not local are kept — or, with ``overwrite=True``,
deleted, so the item holds exactly the local annotations. So a re-run uploads nothing twice and
picks up where a failed run stopped (an item whose annotations are already there is reported
``skipped``). See :mod:`dlconvert.platform.sync`.

**Faults.** Each item's steps run under the :class:`RetryPolicy` (on top of the SDK's own request
retries); every try ends by listing the item's annotations again and checking the rule above, so
an upload the SDK reported as done but that did not all arrive is tried again. A request that
timed out or lost its connection may still be carried out by the server after the client gave up
(and after the retry uploaded the same annotations again): the request layer notes each such
annotation upload, and the item is checked once more ``RetryPolicy.settle`` seconds after the
client gave up, its surplus copies deleted — only copies of the local annotations, found by
fingerprint — so one run ends with exactly the local annotations. An item that still fails is
reported ``failed`` with the last error and the others carry on.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import posixpath
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..collection import AnnotationCollection
from ..errors import FormatError, PlatformError
from ..formats import get_format
from ..labels import LabelMap
from ..report import ConversionReport, Issue
from ._sdk import (
    LateWrites,
    RetryPolicy,
    Transient,
    check_dataset,
    client_of,
    client_settings,
    describe,
    fetch_ontology,
    flat_label_names,
    list_items,
    require_dtlpy,
    with_retries,
)
from .sync import ItemSync, wanted

__all__ = ["ItemOutcome", "UploadReport", "upload_collections", "upload_local_dataset"]

logger = logging.getLogger(__name__)

UPLOADED, SKIPPED, FAILED = "uploaded", "skipped", "failed"

#: Types that ``only_bbox`` turns into their bounding box; other non-box types are left out.
_BOXABLE = frozenset({"segment", "binary", "ellipse", "polyline", "cube"})


# ==================================================================================================
# the report
# ==================================================================================================
@dataclass
class ItemOutcome:
    """What happened to one local item."""

    item: str | None  # its remote path
    status: str  # "uploaded", "skipped" (already on the platform as it should be) or "failed"
    item_id: str | None = None
    item_uploaded: bool = False  # its binary was uploaded by this run
    annotations: int = 0  # annotations the local files give it
    uploaded: int = 0  # annotations uploaded by this run
    deleted: int = 0  # remote annotations deleted (surplus copies; with overwrite, the others too)
    code: str | None = None
    message: str | None = None

    def __str__(self) -> str:
        text = f"{self.status} {self.item}"
        if self.status == FAILED:
            return f"{text}: {self.code}: {self.message}"
        return f"{text} ({self.uploaded} annotations uploaded, {self.deleted} deleted)"


@dataclass
class UploadReport(ConversionReport):
    """A :class:`ConversionReport` of the read plus one :class:`ItemOutcome` per local item.

    ``annotations_out`` counts the annotations that are on the platform as they should be after
    the run (uploaded now or already there); those of failed items count as skipped, so the
    ledger still balances. Each failed item is also a ``failed`` issue, so ``failed_files`` (and
    the CLI's exit code) see it.
    """

    dataset_id: str | None = None
    items: list[ItemOutcome] = field(default_factory=list)
    labels_added: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.items if outcome.status == status)

    @property
    def failed_items(self) -> list[ItemOutcome]:
        return [outcome for outcome in self.items if outcome.status == FAILED]

    def to_json(self) -> dict[str, Any]:
        out = super().to_json()
        out.update({
            "dataset_id": self.dataset_id,
            "labels_added": list(self.labels_added),
            "outcomes": {status: self.count(status) for status in (UPLOADED, SKIPPED, FAILED)},
            "items": [dataclasses.asdict(outcome) for outcome in self.items],
        })
        return out

    def summary(self, max_issues: int = 20) -> str:
        lines = [f"platform items: {self.count(UPLOADED)} uploaded, {self.count(SKIPPED)} skipped "
                 f"(already there), {self.count(FAILED)} failed"]
        uploaded = sum(o.uploaded for o in self.items)
        deleted = sum(o.deleted for o in self.items)
        lines.append(f"platform annotations: {uploaded} uploaded, {deleted} deleted, "
                     f"{len(self.labels_added)} labels added")
        return "\n".join([*lines, super().summary(max_issues)])


# ==================================================================================================
# the calls
# ==================================================================================================
def upload_local_dataset(converter: Any, from_format: str, dataset: Any, local_items_path: Any = None,
                         local_labels_path: Any = None, local_annotations_path: Any = None,
                         only_bbox: bool = False, filters: Any = None, remote_items: Any = None, *,
                         overwrite: bool = False, retry: RetryPolicy | None = None) -> UploadReport:
    """Upload local annotations in ``from_format`` (and their items) to ``dataset`` (a dtlpy Dataset).

    Args:
        converter: the :class:`~dlconvert.converter.Converter` whose options (``images``,
            ``labels``), error policy (``on_error``), ``concurrency`` and ``progress`` apply.
        local_items_path: folder of the images (and videos, audio); items not on the platform yet
            are uploaded from it.
        local_labels_path: a label map for the reader (``labelmap.json``, an ontology JSON, or a
            names file such as YOLO's).
        local_annotations_path: the annotations (a COCO JSON, a VOC/YOLO/VTT/Dataloop folder);
            default ``local_items_path`` (YOLO labels beside the images).
        only_bbox: upload boxes only: shapes become their bounding box (reported approximated),
            other types are left out (reported skipped).
        filters: a ``dtlpy.Filters`` choosing the remote items to match against.
        remote_items: True: annotate items already on the platform (no binaries uploaded); a
            list of dtlpy Items: those; False: upload missing items from ``local_items_path``.
            Default (None): True when ``local_items_path`` is None, as in the SDK.
        overwrite: make each item hold exactly the local annotations (delete the others).
        retry: how hard to try (default :class:`RetryPolicy`).

    Returns:
        An :class:`UploadReport`: per item uploaded / skipped / failed, plus the read's counts.

    Raises:
        PlatformError: dtlpy is missing, or the dataset's ontology or items cannot be read, or
            labels cannot be added, after retries.
        FormatError: the local files cannot be read (with ``on_error="fail"``).
    """
    require_dtlpy()
    check_dataset(dataset)
    source = get_format(from_format)
    if source.read is None:
        raise FormatError(f"dlconvert cannot read {source.name}")
    src_path = local_annotations_path if local_annotations_path is not None else local_items_path
    if src_path is None:
        raise FormatError("give local_annotations_path (or local_items_path for annotations beside the images)")
    src = Path(src_path)
    if not src.exists():
        raise FormatError("no such file or folder", path=src)
    target = _Target.of(local_items_path, remote_items)
    options = dataclasses.replace(
        converter.options,
        images=target.items_root if target.items_root is not None else converter.options.images,
        labels=LabelMap.load(local_labels_path) if local_labels_path is not None else converter.options.labels)
    on_error = getattr(converter, "on_error", "fail")
    first = source.read(src, options, ConversionReport(on_error=on_error))  # the labels, before any upload
    labels = _labels_of(first.items, options.labels or first.labels, only_bbox)
    report = UploadReport(source_format=source.name, target_format="platform", on_error=on_error,
                          dataset_id=getattr(dataset, "id", None))
    read = source.read(src, options, report)
    return _upload(converter, dataset, read.items, read.total, report, labels, target, only_bbox, filters,
                   overwrite, retry or RetryPolicy())


def upload_collections(converter: Any, collections: AnnotationCollection | Iterable[AnnotationCollection],
                       dataset: Any, local_items_path: Any = None, *, label_map: LabelMap | None = None,
                       only_bbox: bool = False, filters: Any = None, remote_items: Any = None,
                       overwrite: bool = False, retry: RetryPolicy | None = None) -> UploadReport:
    """Upload collections made in Python (an :class:`AnnotationCollection` or several) to ``dataset``.

    What ``item.annotations.upload(builder)`` does in the SDK, with the rules of
    :func:`upload_local_dataset`: each collection goes to the remote item at its ``filename``
    (uploaded from ``local_items_path`` when the dataset lacks it), missing labels are added to
    the ontology first (with ``label_map``'s colours; its other labels too), and a re-run uploads
    nothing twice. The collections themselves are left as they are (``only_bbox`` works on copies).
    """
    require_dtlpy()
    check_dataset(dataset)
    if isinstance(collections, AnnotationCollection):
        collections = [collections]
    collections = list(collections)
    for index, collection in enumerate(collections):
        if not isinstance(collection, AnnotationCollection):
            raise TypeError(f"collections[{index}] is a {type(collection).__name__}, not an AnnotationCollection")
    if only_bbox:
        collections = [copy.deepcopy(c) for c in collections]
    labels = _labels_of(collections, label_map, only_bbox)
    report = UploadReport(source_format="dataloop", target_format="platform",
                          on_error=getattr(converter, "on_error", "fail"), dataset_id=getattr(dataset, "id", None))
    return _upload(converter, dataset, iter(collections), len(collections), report, labels,
                   _Target.of(local_items_path, remote_items), only_bbox, filters, overwrite, retry or RetryPolicy())


@dataclass(frozen=True)
class _Target:
    """Where the items of an upload come from: binaries to upload from ``items_root``, or remote items."""

    items_root: Path | None
    given_items: list | None  # the dtlpy Items to match against, when the caller named them
    upload_binaries: bool

    @classmethod
    def of(cls, local_items_path: Any, remote_items: Any) -> _Target:
        items_root = Path(local_items_path) if local_items_path is not None else None
        if remote_items is None:
            remote_items = items_root is None
        given = list(remote_items) if isinstance(remote_items, (list, tuple)) else None
        upload_binaries = given is None and not remote_items
        if upload_binaries and items_root is None:
            raise FormatError("local_items_path is needed to upload items (or pass remote_items=True)")
        return cls(items_root, given, upload_binaries)


def _upload(converter: Any, dataset: Any, items: Iterator[AnnotationCollection], total: int | None,
            report: UploadReport, labels: dict[str, tuple], target: _Target, only_bbox: bool, filters: Any,
            overwrite: bool, policy: RetryPolicy) -> UploadReport:
    """Add the labels, list the remote items, then upload item by item on a few threads."""
    dl = require_dtlpy()
    late_writes = LateWrites()
    with client_settings(client_of(dataset), policy, late_writes):
        try:
            report.labels_added = _ensure_labels(dataset, labels, policy)
            remote_list = target.given_items if target.given_items is not None else list_items(dataset, filters,
                                                                                                   policy)
        except PlatformError:
            raise
        except Exception as exc:
            raise PlatformError(f"cannot prepare dataset {getattr(dataset, 'id', '?')}: {describe(exc)}") from exc
        remote = {getattr(item, "filename", None): item for item in remote_list}
        if getattr(converter, "progress", None) is not None:
            items = converter.progress(items, total=total, desc=f"{report.source_format} → platform")
        workers = max(1, min(int(getattr(converter, "concurrency", 1) or 1), 8))
        seen: set[str] = set()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dlconvert-upload") as pool:
            pending: deque[tuple[AnnotationCollection, Future | ItemOutcome]] = deque()
            for collection in items:
                report.read_item(collection)
                if only_bbox:
                    _only_boxes(collection, report)
                key = collection.filename or ""
                if key in seen:
                    outcome = ItemOutcome(collection.filename, FAILED, code="platform.duplicate-item",
                                          message="the source names this item twice; only the first is uploaded")
                    pending.append((collection, outcome))
                else:
                    seen.add(key)
                    job = _ItemJob(dl, dataset, collection, remote.get(collection.filename), target, overwrite,
                                   policy, late_writes)
                    pending.append((collection, pool.submit(job)))
                while len(pending) > 2 * workers or (pending and _done(pending[0][1])):
                    _record(report, *pending.popleft())
            while pending:
                _record(report, *pending.popleft())
    return report


def _done(value: Future | ItemOutcome) -> bool:
    return not isinstance(value, Future) or value.done()


def _record(report: UploadReport, collection: AnnotationCollection, value: Future | ItemOutcome) -> None:
    outcome = value.result() if isinstance(value, Future) else value
    report.items.append(outcome)
    if outcome.status == FAILED:
        for annotation in collection:
            report.skipped[annotation.type] += 1
        report.issues.append(Issue("failed", outcome.code or "platform.upload-failed", outcome.message or "failed",
                                   item=collection.filename))
        return
    for annotation in collection:
        report.wrote(annotation)
    report.items_out += 1


# ==================================================================================================
# per item
# ==================================================================================================
class _ItemJob:
    """Upload one item if needed, then sync its annotations; never raises (the outcome says)."""

    def __init__(self, dl: Any, dataset: Any, collection: AnnotationCollection, remote_item: Any, target: _Target,
                 overwrite: bool, policy: RetryPolicy, late_writes: LateWrites) -> None:
        self.dl = dl
        self.dataset = dataset
        self.collection = collection
        self.remote_item = remote_item
        self.target = target
        self.overwrite = overwrite
        self.policy = policy
        self.late_writes = late_writes

    def __call__(self) -> ItemOutcome:
        filename = self.collection.filename
        outcome = ItemOutcome(filename, FAILED, annotations=len(self.collection))
        try:
            wants = wanted(self.collection)
        except Exception as exc:
            outcome.code, outcome.message = "platform.invalid-annotation", describe(exc)
            return outcome
        item = self.remote_item
        if item is None:
            item = self._upload_item(outcome)
            if item is None:
                return outcome
        outcome.item_id = getattr(item, "id", None)
        sync = ItemSync(self.dl, self.dataset, item, wants, self.overwrite)
        try:
            with_retries(self.policy, sync)
            self._settle(sync, outcome.item_id)
        except Exception as exc:
            outcome.uploaded, outcome.deleted = sync.uploaded, sync.deleted
            outcome.code, outcome.message = "platform.upload-failed", describe(exc)
            return outcome
        outcome.uploaded, outcome.deleted = sync.uploaded, sync.deleted
        changed = outcome.item_uploaded or sync.uploaded or sync.deleted
        outcome.status = UPLOADED if changed else SKIPPED
        return outcome

    def _upload_item(self, outcome: ItemOutcome) -> Any:
        """The item's binary uploaded from the local folder, or None (the outcome says why)."""
        filename = self.collection.filename
        if not self.target.upload_binaries:
            outcome.code = "platform.no-remote-item"
            outcome.message = "the dataset has no item at this path (give local_items_path to upload it)"
            return None
        local = _local_file(self.target.items_root, filename)
        if local is None:
            outcome.code = "platform.image-missing"
            outcome.message = f"the annotations name this item but {self.target.items_root} does not hold it"
            return None
        try:
            item = with_retries(self.policy, lambda: _upload_binary(self.dataset, local, filename))
        except Exception as exc:
            outcome.code, outcome.message = "platform.item-upload-failed", describe(exc)
            return None
        outcome.item_uploaded = True
        return item

    def _settle(self, sync: ItemSync, item_id: str | None) -> None:
        """After an annotation upload to this item went unanswered, wait until the server has had the
        time to carry it out, then sync again (deleting the surplus copies it made); repeat while the
        checks themselves leave unanswered uploads."""
        checked = float("-inf")
        for _ in range(self.policy.attempts):
            gave_up = self.late_writes.last(item_id) if item_id else None
            if gave_up is None or gave_up <= checked:
                return
            time.sleep(max(0.0, gave_up + self.policy.settle_time - time.monotonic()))
            checked = time.monotonic()
            with_retries(self.policy, sync)
        raise Transient("annotation uploads to this item kept going unanswered; it may hold surplus copies")


def _local_file(root: Path | None, filename: str | None) -> Path | None:
    if root is None or not filename:
        return None
    from ..images import find_image

    return find_image(root, filename)


def _upload_binary(dataset: Any, local: Path, filename: str) -> Any:
    """Upload one file to ``filename`` (mode skip: a retry after a lost answer finds it there)."""
    remote_dir = posixpath.dirname(filename) or "/"
    result = dataset.items.upload(local_path=os.fspath(local), remote_path=remote_dir,
                                  remote_name=posixpath.basename(filename))
    item = _first_item(result)
    if item is None:
        raise Transient("the SDK's item upload returned nothing (it failed after its own retries)")
    if getattr(item, "filename", filename) != filename:
        raise PlatformError(f"the upload landed at {item.filename}, not {filename}")
    return item


def _first_item(result: Any) -> Any:
    if result is None:
        return None
    if hasattr(result, "id") and hasattr(result, "annotations"):
        return result
    if isinstance(result, (str, bytes, dict)):
        return None
    try:
        for element in result:
            if hasattr(element, "id"):
                return element
    except TypeError:
        return None
    return None


def _only_boxes(collection: AnnotationCollection, report: ConversionReport) -> None:
    """Keep boxes: shapes become their bounding box, the other types are left out (both reported)."""
    from ..geometry import Box

    kept = []
    for annotation in collection:
        kind = annotation.type
        if kind == "box":
            kept.append(annotation)
            continue
        if kind not in _BOXABLE:
            report.skip(annotation, "platform.only-bbox", "only boxes are uploaded (only_bbox)", collection.filename)
            continue
        report.approximate(annotation, "platform.only-bbox", f"{kind} uploaded as its bounding box (only_bbox)",
                           collection.filename)
        states = [annotation, *(annotation.frames or {}).values()]
        for state in states:
            definition = state.annotation_definition
            left, top, right, bottom = definition.bounds()
            state.annotation_definition = Box(left=left, top=top, right=right, bottom=bottom, label=definition.label,
                                              attributes=definition.attributes, description=definition.description)
        annotation._json.pop("coordinates", None)
        annotation._json.pop("data", None)
        report.annotations_in[kind] -= 1  # counted under the type it now has, as for conversion_func
        report.annotations_in["box"] += 1
        kept.append(annotation)
    collection.annotations = kept


# ==================================================================================================
# labels
# ==================================================================================================
def _labels_of(collections: Iterable[AnnotationCollection], label_map: LabelMap | None,
               only_bbox: bool) -> dict[str, tuple]:
    """label → colour of every label the upload needs: the annotations' and the label map's."""
    colors: dict[str, tuple] = {}
    for collection in collections:
        for annotation in collection:
            if only_bbox and annotation.type not in _BOXABLE and annotation.type != "box":
                continue
            names = {annotation.label} | {f.annotation_definition.label for f in (annotation.frames or {}).values()}
            for name in names:
                if isinstance(name, str) and name:
                    colors.setdefault(name, label_map.color(name) if label_map is not None else None)
    if label_map is not None and not only_bbox:
        for info in label_map:
            colors.setdefault(info.name, info.color)
    return colors


def _ensure_labels(dataset: Any, wanted: dict[str, tuple], policy: RetryPolicy) -> list[str]:
    """Add the labels the dataset's ontology lacks (before any annotation); returns those added."""
    if not wanted:
        return []
    ontology, _, _ = fetch_ontology(dataset, policy)
    missing = sorted(name for name in wanted if name not in flat_label_names(ontology))
    if not missing:
        return []
    from ..labels import stable_color

    nodes = []
    for name in missing:
        red, green, blue = wanted[name] or stable_color(name)
        nodes.append({"tag": name, "color": f"#{red:02x}{green:02x}{blue:02x}"})
    with_retries(policy, lambda: dataset.add_labels(label_list=copy.deepcopy(nodes)))
    ontology, _, _ = fetch_ontology(dataset, policy)
    still = [name for name in missing if name not in flat_label_names(ontology)]
    if still:
        raise PlatformError(f"the dataset's ontology did not take the labels {still}")
    return missing
