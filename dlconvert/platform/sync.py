"""Bringing one remote item's annotations in line with the local ones, idempotently.

The rule (see :mod:`dlconvert.platform.upload`): after a sync, every local annotation is on the
remote item exactly as many times as the local item holds it — missing ones are uploaded, surplus
copies of them deleted — and remote annotations that are not local are kept, or with
``overwrite`` deleted. Parents are uploaded before their children (a pose's keypoints get the
parent's new id). Annotations are matched by fingerprint (:mod:`dlconvert.platform.fingerprints`).

A sync is one try: it lists the item's annotations, uploads and deletes what it must, lists again
and raises :class:`~dlconvert.platform._sdk.Transient` if the item is not as it should be, so the
retry policy tries again.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from typing import Any

from ..annotation import Annotation
from ..collection import AnnotationCollection
from ._sdk import Transient, describe, list_annotations
from .fingerprints import MAX_DEPTH, annotation_fingerprint, by_fingerprint, remote_fingerprints

__all__ = ["SERVER_FIELDS", "ItemSync", "Want", "maybe_partial", "wanted"]

logger = logging.getLogger(__name__)

#: Fields the server owns: never uploaded, never part of a fingerprint.
SERVER_FIELDS = ("id", "datasetId", "itemId", "url", "item", "dataset", "creator", "createdAt", "updatedBy",
                 "updatedAt", "hash", "source")


@dataclass
class Want:
    """One local annotation to have on the remote item."""

    key: int
    payload: dict
    parent: int | None
    depth: int
    fingerprint: str
    remote_id: str | None = None


def wanted(collection: AnnotationCollection) -> list[Want]:
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
        while cursor is not None and cursor not in seen and depth < MAX_DEPTH:
            seen.add(cursor)
            depth += 1
            cursor = parents[cursor]
        depths.append(depth)
    wants: list[Want] = []
    for i, annotation in enumerate(annotations):
        payload = _payload(annotation)
        wants.append(Want(i, payload, parents[i], depths[i], ""))
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


class ItemSync:
    """Bring one remote item's annotations in line with the local ones (one call = one try)."""

    def __init__(self, dl: Any, dataset: Any, item: Any, wants: list[Want], overwrite: bool) -> None:
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
        matched = by_fingerprint(remote) if matched is None else matched
        surplus = [rid for fp, ids in matched.items() if fp in counts for rid in ids[counts[fp]:]]
        if surplus:
            self._delete(surplus, remote)
            remote = self._list()
            matched = by_fingerprint(remote)
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
            if not maybe_partial(exc):
                raise
            logger.debug("annotation upload raised %s; checking what arrived", describe(exc))
        remote = self._list()
        listed = by_fingerprint(remote)
        arrived = sum(min(len(listed.get(fp, [])), n) - min(len(matched.get(fp, [])), n) for fp, n in counts.items())
        self.uploaded += max(0, arrived)
        remote, after = self._without_surplus(counts, remote, listed)
        still = self._assign(wants, after)
        if still:
            raise Transient(f"{len(still)} of the item's annotations did not arrive")
        return remote

    def _assign(self, wants: list[Want], matched: dict[str, list[str]]) -> list[Want]:
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
        others = [rid for rid, fp in remote_fingerprints(remote).items() if fp not in wanted]
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
            if annotation_id in order or depth > MAX_DEPTH:
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
        have = Counter(remote_fingerprints(remote).values())
        want = Counter(w.fingerprint for w in self.wants)
        wrong = sum(abs(have[fp] - n) for fp, n in want.items())
        if self.overwrite:
            wrong += sum(n for fp, n in have.items() if fp not in want)
        if wrong:
            raise Transient(f"the item's annotations differ from the local ones in {wrong} places after the upload")


def maybe_partial(exc: Exception) -> bool:
    """Errors after which part of an upload may have landed (checked by listing): not 4xx."""
    status = str(getattr(exc, "status_code", "") or "")
    return not status.startswith("4")
