"""What a Label Studio source leaves in Dataloop metadata (``metadata.user.labelstudio``), and the test
of whether a region is still what was read.

On the item: ``task`` (every field of the task but its annotations and predictions: ``id``, ``data``,
``meta``, ``drafts`` …), ``groups`` (each annotation's and prediction's own fields, without ``result``) and
``media`` (the data key of the image). On each annotation: ``from`` and ``index`` (which annotation or
prediction of the task), ``region`` (the result id), ``completed_by`` / ``model_version``, ``results`` (the
results the annotation was made of) and ``result_sha1``, the fingerprint of the annotation as read
(:mod:`dlconvert.formats._fingerprint`). While the fingerprint still matches, the writer writes those
results back as they were, to the digit.
"""

from __future__ import annotations

from typing import Any

from .._fingerprint import fingerprint

__all__ = ["GROUP_KEYS", "KEY", "annotation_fingerprint"]

KEY = "labelstudio"
#: The lists of a task that hold results: annotations (``completions`` before Label Studio 1.0), predictions.
GROUP_KEYS = ("annotations", "completions", "predictions")


def annotation_fingerprint(definition: Any) -> str:
    """The fingerprint of what a region says: its geometry (as :func:`geometry_fingerprint` takes it), label,
    attributes (by name; ``1`` and ``1.0`` differ) and description."""
    attributes = tuple(sorted((str(key), repr(value)) for key, value in definition.attributes.items()))
    key = definition._geometry_key()
    if isinstance(key, tuple) and all(type(v) in (int, float) or v is None for v in key):
        # a box, point or ellipse: numbers only, so the repr of the whole is exact (and one hash update)
        return fingerprint(repr((definition.type, key, definition.label, attributes, definition.description)))
    return fingerprint(definition.type, key, definition.label, attributes, definition.description)
