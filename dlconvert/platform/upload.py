"""Upload local COCO / YOLO / VOC / VTT / Dataloop annotations (and their images) to a platform dataset.

The local files are read with the format's reader (the same one ``convert`` uses), so what reaches
the platform is exactly what a local conversion to Dataloop JSON would write. Per item, in order:

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

**Idempotency rule.** Each annotation has a fingerprint: its type, label, coordinates, attributes
(v1 and v2), object id, frames and times, snapshots (normalised as the SDK normalises them on
upload), description, user metadata and its parent's fingerprint; never its id, creator or dates.
After an upload, every annotation of the local file is on the remote item **exactly as many times
as the file holds it**: missing ones are uploaded, surplus copies (duplicates, e.g. left by a
request that the server carried out but whose answer was lost) are deleted, and remote annotations
that are not in the file are kept — or, with ``overwrite=True``, deleted, so the item holds exactly
the file's annotations. So a re-run uploads nothing twice and picks up where a failed run stopped
(an item whose annotations are already there is reported ``skipped``).

**Faults.** Each item's steps run under the :class:`RetryPolicy` (on top of the SDK's own request
retries); every try ends by listing the item's annotations again and checking the rule above, so
an upload the SDK reported as done but that did not all arrive is tried again. An item that still
fails is reported ``failed`` with the last error and the others carry on.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import math
import os
import posixpath
from collections import Counter, defaultdict, deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..annotation import Annotation
from ..collection import AnnotationCollection
from ..errors import FormatError, PlatformError
from ..formats import get_format
from ..labels import LabelMap
from ..report import ConversionReport, Issue
from ._sdk import (
    RetryPolicy,
    Transient,
    check_dataset,
    client_of,
    client_settings,
    describe,
    fetch_ontology,
    flat_label_names,
    list_annotations,
    list_items,
    require_dtlpy,
    with_retries,
)

__all__ = ["ItemOutcome", "UploadReport", "annotation_fingerprint", "upload_local_dataset"]

logger = logging.getLogger(__name__)

UPLOADED, SKIPPED, FAILED = "uploaded", "skipped", "failed"

#: Fields the server owns: never uploaded, never part of a fingerprint.
SERVER_FIELDS = ("id", "datasetId", "itemId", "url", "item", "dataset", "creator", "createdAt", "updatedBy",
                 "updatedAt", "hash", "source")
#: ``metadata.system`` fields that say what an annotation is (the rest is bookkeeping).
_SYSTEM_CONTENT = ("attributes", "objectId", "frame", "endFrame", "startTime", "endTime", "objectVisible", "isOpen")
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
# fingerprints
# ==================================================================================================
def _norm(value: Any) -> Any:
    """Numbers as rounded floats (10 == 10.0), dicts without None values: a stable comparable form."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            return str(number)
        number = round(number, 6)
        return 0.0 if number == 0 else number
    if isinstance(value, dict):
        return {str(k): _norm(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_norm(v) for v in value]
    return str(value)


def sdk_encoded_snapshots(annotation: dict) -> Any:
    """The ``snapshots_`` the SDK sends: it drops a non-fixed snapshot equal to the one before it
    (``Annotations._annotation_encoding``), so both sides are compared after that step."""
    system = ((annotation.get("metadata") or {}).get("system")) or {}
    snapshots = system.get("snapshots_")
    if not isinstance(snapshots, list) or not snapshots or not all(isinstance(s, dict) for s in snapshots):
        return snapshots
    last = {"label": annotation.get("label"), "attributes": annotation.get("attributes"),
            "type": annotation.get("type"), "data": annotation.get("coordinates"),
            "fixed": snapshots[0].get("fixed"), "objectVisible": snapshots[0].get("objectVisible")}
    kept = []
    for snapshot in snapshots:
        state = {k: v for k, v in snapshot.items() if k != "frame"}
        if state == last and not state.get("fixed"):
            continue
        kept.append(snapshot)
        last = state
    return kept


def annotation_fingerprint(annotation: dict, parent: str | None = None) -> str:
    """A hash of what an annotation JSON says (see the module's idempotency rule)."""
    metadata = annotation.get("metadata") if isinstance(annotation.get("metadata"), dict) else {}
    system = metadata.get("system") if isinstance(metadata.get("system"), dict) else {}
    content = {
        "type": annotation.get("type"),
        "label": annotation.get("label"),
        "coordinates": annotation.get("coordinates", annotation.get("data")),
        "attributes": annotation.get("attributes") or None,
        "description": annotation.get("description") or None,
        "system": {key: system.get(key) for key in _SYSTEM_CONTENT if system.get(key) not in (None, {}, [])},
        "snapshots": sdk_encoded_snapshots(annotation) or None,
        "user": metadata.get("user") or None,
        "parent": parent,
    }
    if content["system"].get("objectId") is not None:
        content["system"]["objectId"] = str(content["system"]["objectId"])
    text = json.dumps(_norm(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _remote_fingerprints(remote: list[dict]) -> dict[str, str]:
    """id → fingerprint of remote annotation JSONs (a child's includes its parent's)."""
    by_id = {a.get("id"): a for a in remote}
    memo: dict[str, str] = {}

    def fingerprint(annotation_id: str, depth: int = 0) -> str:
        if annotation_id in memo:
            return memo[annotation_id]
        annotation = by_id[annotation_id]
        parent_id = (((annotation.get("metadata") or {}).get("system")) or {}).get("parentId")
        if parent_id is None:
            parent = None
        elif parent_id in by_id and depth < 32:
            parent = fingerprint(parent_id, depth + 1)
        else:
            parent = f"missing:{parent_id}"
        memo[annotation_id] = annotation_fingerprint(annotation, parent)
        return memo[annotation_id]

    return {annotation_id: fingerprint(annotation_id) for annotation_id in by_id}


@dataclass
class _Want:
    """One local annotation to have on the remote item."""

    key: int
    payload: dict
    parent: int | None
    depth: int
    fingerprint: str
    remote_id: str | None = None


def _wanted(collection: AnnotationCollection) -> list[_Want]:
    """The annotations to upload, with parents resolved and fingerprints computed."""
    annotations = list(collection)
    index = {a.id: i for i, a in enumerate(annotations) if a.id is not None}
    parents: list[int | None] = []
    for annotation in annotations:
        parent_id = annotation.parent_id
        parents.append(index.get(parent_id) if parent_id is not None else None)
    depths: list[int] = []
    for i in range(len(annotations)):
        depth, cursor, seen = 0, parents[i], {i}
        while cursor is not None and cursor not in seen and depth < 32:
            seen.add(cursor)
            depth += 1
            cursor = parents[cursor]
        depths.append(depth)
    wants: list[_Want] = []
    for i, annotation in enumerate(annotations):
        payload = _payload(annotation)
        wants.append(_Want(i, payload, parents[i], depths[i], ""))
    for want in sorted(wants, key=lambda w: w.depth):
        parent = wants[want.parent].fingerprint if want.parent is not None else None
        want.fingerprint = annotation_fingerprint(want.payload, parent)
    return wants


def _payload(annotation: Annotation) -> dict:
    """The annotation's JSON without what the server assigns (ids, audit fields, the parent link)."""
    raw = copy.deepcopy(annotation.to_json())
    for key in SERVER_FIELDS:
        raw.pop(key, None)
    system = ((raw.get("metadata") or {}).get("system"))
    if isinstance(system, dict):
        system.pop("parentId", None)
    return raw


# ==================================================================================================
# per item
# ==================================================================================================
class _ItemSync:
    """Bring one remote item's annotations in line with the local ones (one call = one try)."""

    def __init__(self, dl: Any, dataset: Any, item: Any, wants: list[_Want], overwrite: bool) -> None:
        self.dl = dl
        self.dataset = dataset
        self.item = item
        self.wants = wants
        self.overwrite = overwrite
        self.uploaded = 0
        self.deleted = 0

    def __call__(self) -> None:
        remote = self._list()
        depth = max((w.depth for w in self.wants), default=-1)
        for level in range(depth + 1):
            remote = self._level(level, remote)
        if self.overwrite:
            remote = self._drop_others(remote)
        self._verify(remote)

    def _list(self) -> list[dict]:
        return list_annotations(self.dl, self.dataset, self.item.id)

    def _without_surplus(self, counts: Counter, remote: list[dict], matched: dict[str, list[str]] | None = None
                         ) -> tuple[list[dict], dict[str, list[str]]]:
        """Delete remote copies beyond the wanted ``counts`` of a fingerprint; the listing and its
        fingerprint map after that (``matched``: that map of ``remote``, when already built)."""
        matched = _by_fingerprint(remote) if matched is None else matched
        surplus = [rid for fp, ids in matched.items() if fp in counts for rid in ids[counts[fp]:]]
        if surplus:
            self._delete(surplus, remote)
            remote = self._list()
            matched = _by_fingerprint(remote)
        return remote, matched

    def _level(self, level: int, remote: list[dict]) -> list[dict]:
        wants = [w for w in self.wants if w.depth == level]
        if not wants:
            return remote
        counts = Counter(w.fingerprint for w in wants)
        remote, matched = self._without_surplus(counts, remote)
        missing = self._assign(wants, matched)
        if not missing:
            return remote
        payloads = []
        for want in missing:
            payload = copy.deepcopy(want.payload)
            if want.parent is not None:
                parent_id = self.wants[want.parent].remote_id
                if parent_id is None:
                    raise Transient("a parent annotation is not on the item yet")
                payload.setdefault("metadata", {}).setdefault("system", {})["parentId"] = parent_id
            payloads.append(payload)
        try:
            self.item.annotations.upload(payloads)
        except Exception as exc:  # the SDK may have uploaded part of it: the listing below tells
            if not _maybe_partial(exc):
                raise
            logger.debug("annotation upload raised %s; checking what arrived", describe(exc))
        remote = self._list()
        listed = _by_fingerprint(remote)
        arrived = sum(min(len(listed.get(fp, [])), n) - min(len(matched.get(fp, [])), n) for fp, n in counts.items())
        self.uploaded += max(0, arrived)
        remote, after = self._without_surplus(counts, remote, listed)
        still = self._assign(wants, after)
        if still:
            raise Transient(f"{len(still)} of the item's annotations did not arrive")
        return remote

    def _assign(self, wants: list[_Want], matched: dict[str, list[str]]) -> list[_Want]:
        pools = {fp: deque(ids) for fp, ids in matched.items()}
        missing = []
        for want in wants:
            pool = pools.get(want.fingerprint)
            want.remote_id = pool.popleft() if pool else None
            if want.remote_id is None:
                missing.append(want)
        return missing

    def _drop_others(self, remote: list[dict]) -> list[dict]:
        wanted = {w.fingerprint for w in self.wants}
        others = [rid for rid, fp in _remote_fingerprints(remote).items() if fp not in wanted]
        if others:
            self._delete(others, remote)
            remote = self._list()
        return remote

    def _delete(self, ids: list[str], remote: list[dict]) -> None:
        """Delete annotations and their descendants, children first (a gone one is fine)."""
        children: dict[str, list[str]] = defaultdict(list)
        for annotation in remote:
            parent = (((annotation.get("metadata") or {}).get("system")) or {}).get("parentId")
            if parent is not None:
                children[parent].append(annotation["id"])
        order: list[str] = []

        def visit(annotation_id: str, depth: int = 0) -> None:
            if annotation_id in order or depth > 32:
                return
            for child in children.get(annotation_id, []):
                visit(child, depth + 1)
            order.append(annotation_id)

        for annotation_id in ids:
            visit(annotation_id)
        for annotation_id in order:
            try:
                self.dataset.annotations.delete(annotation_id=annotation_id)
            except Exception as exc:
                if str(getattr(exc, "status_code", "")) != "404":
                    raise
            self.deleted += 1

    def _verify(self, remote: list[dict]) -> None:
        have = Counter(_remote_fingerprints(remote).values())
        want = Counter(w.fingerprint for w in self.wants)
        wrong = sum(abs(have[fp] - n) for fp, n in want.items())
        if self.overwrite:
            wrong += sum(n for fp, n in have.items() if fp not in want)
        if wrong:
            raise Transient(f"the item's annotations differ from the local ones in {wrong} places after the upload")


def _by_fingerprint(remote: list[dict]) -> dict[str, list[str]]:
    """fingerprint → remote ids, in listing order."""
    out: dict[str, list[str]] = defaultdict(list)
    for annotation_id, fp in _remote_fingerprints(remote).items():
        out[fp].append(annotation_id)
    return out


def _maybe_partial(exc: Exception) -> bool:
    """Errors after which part of an upload may have landed (checked by listing): not 4xx."""
    status = str(getattr(exc, "status_code", "") or "")
    return not status.startswith("4")


# ==================================================================================================
# the call
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
    dl = require_dtlpy()
    check_dataset(dataset)
    policy = retry or RetryPolicy()
    source = get_format(from_format)
    if source.read is None:
        raise FormatError(f"dlconvert cannot read {source.name}")
    src_path = local_annotations_path if local_annotations_path is not None else local_items_path
    if src_path is None:
        raise FormatError("give local_annotations_path (or local_items_path for annotations beside the images)")
    src = Path(src_path)
    if not src.exists():
        raise FormatError("no such file or folder", path=src)
    items_root = Path(local_items_path) if local_items_path is not None else None
    if remote_items is None:
        remote_items = items_root is None
    given_items = list(remote_items) if isinstance(remote_items, (list, tuple)) else None
    upload_binaries = given_items is None and not remote_items
    if upload_binaries and items_root is None:
        raise FormatError("local_items_path is needed to upload items (or pass remote_items=True)")
    options = dataclasses.replace(
        converter.options,
        images=items_root if items_root is not None else converter.options.images,
        labels=LabelMap.load(local_labels_path) if local_labels_path is not None else converter.options.labels)
    on_error = getattr(converter, "on_error", "fail")
    report = UploadReport(source_format=source.name, target_format="platform", on_error=on_error,
                          dataset_id=getattr(dataset, "id", None))
    wanted_labels = _labels_to_have(source, src, options, on_error, only_bbox)

    with client_settings(client_of(dataset), policy):
        try:
            report.labels_added = _ensure_labels(dataset, wanted_labels, policy)
            remote_list = given_items if given_items is not None else list_items(dataset, filters, policy)
        except PlatformError:
            raise
        except Exception as exc:
            raise PlatformError(f"cannot prepare dataset {getattr(dataset, 'id', '?')}: {describe(exc)}") from exc
        remote = {getattr(item, "filename", None): item for item in remote_list}
        read = source.read(src, options, report)
        items = read.items
        if getattr(converter, "progress", None) is not None:
            items = converter.progress(items, total=read.total, desc=f"{source.name} → platform")
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
                    job = _ItemJob(dl, dataset, collection, remote.get(collection.filename), items_root,
                                   upload_binaries, overwrite, policy)
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


class _ItemJob:
    """Upload one item if needed, then sync its annotations; never raises (the outcome says)."""

    def __init__(self, dl: Any, dataset: Any, collection: AnnotationCollection, remote_item: Any,
                 items_root: Path | None, upload_binaries: bool, overwrite: bool, policy: RetryPolicy) -> None:
        self.dl = dl
        self.dataset = dataset
        self.collection = collection
        self.remote_item = remote_item
        self.items_root = items_root
        self.upload_binaries = upload_binaries
        self.overwrite = overwrite
        self.policy = policy

    def __call__(self) -> ItemOutcome:
        filename = self.collection.filename
        outcome = ItemOutcome(filename, FAILED, annotations=len(self.collection))
        try:
            wants = _wanted(self.collection)
        except Exception as exc:
            outcome.code, outcome.message = "platform.invalid-annotation", describe(exc)
            return outcome
        item = self.remote_item
        if item is None:
            if not self.upload_binaries:
                outcome.code = "platform.no-remote-item"
                outcome.message = "the dataset has no item at this path (give local_items_path to upload it)"
                return outcome
            local = _local_file(self.items_root, filename)
            if local is None:
                outcome.code = "platform.image-missing"
                outcome.message = f"the annotations name this item but {self.items_root} does not hold it"
                return outcome
            try:
                item = with_retries(self.policy, lambda: _upload_binary(self.dataset, local, filename))
            except Exception as exc:
                outcome.code, outcome.message = "platform.item-upload-failed", describe(exc)
                return outcome
            outcome.item_uploaded = True
        outcome.item_id = getattr(item, "id", None)
        sync = _ItemSync(self.dl, self.dataset, item, wants, self.overwrite)
        try:
            with_retries(self.policy, sync)
        except Exception as exc:
            outcome.uploaded, outcome.deleted = sync.uploaded, sync.deleted
            outcome.code, outcome.message = "platform.upload-failed", describe(exc)
            return outcome
        outcome.uploaded, outcome.deleted = sync.uploaded, sync.deleted
        changed = outcome.item_uploaded or sync.uploaded or sync.deleted
        outcome.status = UPLOADED if changed else SKIPPED
        return outcome


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


def _labels_to_have(source: Any, src: Path, options: Any, on_error: str, only_bbox: bool) -> dict[str, tuple]:
    """label → colour of every label the upload needs: the source's label map and the annotations'."""
    read = source.read(src, options, ConversionReport(on_error=on_error))
    label_map = options.labels or read.labels
    colors: dict[str, tuple] = {}
    for collection in read.items:
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
