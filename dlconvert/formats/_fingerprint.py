"""Is this still the shape the source had? One answer for every format.

A format often says more about a shape than the shape itself: COCO's own ``bbox``, ``area`` and
``num_keypoints``, YOLO's normalised corners digit for digit, a cue's payload. A reader keeps those
values in the annotation's ``metadata.user.<format>`` together with a *fingerprint* of what they
were derived from (:func:`geometry_fingerprint` of the definition it built, or :func:`fingerprint`
of any other values). A writer gives the kept values back only while the fingerprint of the
annotation as it is now still matches (:func:`still_matches`); after any edit it recomputes them.

The fingerprint travels wherever the metadata goes — Dataloop JSON on disk, worker processes, a
user's script in between — unlike a definition's in-memory memory of its source JSON, which ends
with the process.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

__all__ = ["fingerprint", "geometry_fingerprint", "rings_fingerprint", "still_matches"]


def fingerprint(*values: Any) -> str:
    """A SHA-1 hex digest of ``values``: numbers, strings, None, nested tuples/lists and numpy arrays.

    Equal exactly when the values are: ``1`` and ``1.0`` differ, and so do arrays of another dtype.
    """
    digest = hashlib.sha1()

    def feed(value: Any) -> None:
        if isinstance(value, np.ndarray):
            digest.update(repr((value.shape, value.dtype.str)).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (tuple, list)):
            digest.update(b"(")
            for part in value:
                feed(part)
            digest.update(b")")
        else:
            digest.update(repr(value).encode())

    feed(values)
    return digest.hexdigest()


def geometry_fingerprint(definition) -> str:
    """The fingerprint of a definition's type and geometry (label and attributes left out)."""
    return fingerprint(definition.type, definition._geometry_key())


def still_matches(kept: dict, key: str, current: str) -> bool:
    """Whether ``kept[key]`` (a fingerprint a reader stored) equals ``current``."""
    stored = kept.get(key)
    return isinstance(stored, str) and stored == current


def rings_fingerprint(rings: list[np.ndarray]) -> str:
    """``fingerprint("segment", tuple(rings))`` (a polygon's geometry fingerprint), its bytes hashed at once."""
    stream = [b"('segment'("]
    for ring in rings:
        stream.append(repr((ring.shape, ring.dtype.str)).encode())
        stream.append(ring.tobytes())
    stream.append(b"))")
    return hashlib.sha1(b"".join(stream)).hexdigest()
