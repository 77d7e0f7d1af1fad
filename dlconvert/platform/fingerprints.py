"""What makes two annotation JSONs the same annotation, for matching local annotations to remote ones.

An annotation's fingerprint covers its type, label, coordinates, attributes (v1 and v2), object
id, frames and times, snapshots (normalised as the SDK normalises them on upload), description,
user metadata and its parent's fingerprint; never its id, creator or dates, which the server
assigns. Numbers are compared rounded to 6 decimals (``10 == 10.0``), and keys whose value is None
are left out, so what the server echoes back matches what was sent.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from typing import Any

from ..formats._fingerprint import fingerprint

__all__ = ["annotation_fingerprint", "by_fingerprint", "remote_fingerprints", "sdk_encoded_snapshots"]

#: ``metadata.system`` fields that say what an annotation is (the rest is bookkeeping).
_SYSTEM_CONTENT = ("attributes", "objectId", "frame", "endFrame", "startTime", "endTime", "objectVisible", "isOpen")
#: How deep parent links are followed (a loop in the data must not hang the upload).
MAX_DEPTH = 32


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
    """The fingerprint of an annotation JSON (see the module docstring); ``parent``: its parent's."""
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
    return fingerprint(json.dumps(_norm(content), sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def remote_fingerprints(remote: list[dict]) -> dict[str, str]:
    """id → fingerprint of remote annotation JSONs (a child's includes its parent's)."""
    by_id = {a.get("id"): a for a in remote}
    memo: dict[str, str] = {}

    def of(annotation_id: str, depth: int = 0) -> str:
        if annotation_id in memo:
            return memo[annotation_id]
        annotation = by_id[annotation_id]
        parent_id = (((annotation.get("metadata") or {}).get("system")) or {}).get("parentId")
        if parent_id is None:
            parent = None
        elif parent_id in by_id and depth < MAX_DEPTH:
            parent = of(parent_id, depth + 1)
        else:
            parent = f"missing:{parent_id}"
        memo[annotation_id] = annotation_fingerprint(annotation, parent)
        return memo[annotation_id]

    return {annotation_id: of(annotation_id) for annotation_id in by_id}


def by_fingerprint(remote: list[dict]) -> dict[str, list[str]]:
    """fingerprint → remote ids, in listing order."""
    out: dict[str, list[str]] = defaultdict(list)
    for annotation_id, value in remote_fingerprints(remote).items():
        out[value].append(annotation_id)
    return out
