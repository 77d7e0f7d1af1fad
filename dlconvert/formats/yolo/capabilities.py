"""What YOLO can write: per kind of annotation and per task, written as it is, approximated (how, and
the report code), or not at all (why). The writer consults this table for every annotation, the
default task is the richest one the data's kinds need, and ``FORMAT.holds`` / ``FORMAT.approximates``
(what ``dlconvert formats`` prints) derive from it, so the three never disagree.

Kinds are Dataloop types, refined where YOLO treats them apart: ``box (rotated)``, a ``segment`` or
``binary`` of several rings (parts and holes, joined into one line by zero-width bridges) and a
``point`` that is a pose's keypoint. The policies every writer shares (video/audio items, COCO crowd
regions, degenerate shapes: :mod:`dlconvert.formats._policy`) and a pinned label map come first;
pose lines have rules of their own (the pose's box, keypoint order), described in :mod:`.lines`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .common import TASKS

if TYPE_CHECKING:
    from ...annotation import Annotation

__all__ = ["ATTRIBUTES_DROPPED", "CAPABILITIES", "Way", "approximates", "holds", "kind_of", "way_of"]


@dataclass(frozen=True)
class Way:
    """How one kind is written in one task: ``verdict`` "exact", "approximated" or "unsupported"."""

    verdict: str
    code: str | None = None  # the report's code (approximated, unsupported)
    message: str = ""  # what was done, or why not
    summary: str = ""  # what it becomes, in a few words (``dlconvert formats``)

    @property
    def writes(self) -> bool:
        return self.verdict != "unsupported"


@dataclass(frozen=True)
class Capability:
    """A kind's row: the task it needs (None: it makes no task richer) and its way in every task."""

    needs: str | None
    ways: dict[str, Way]


_EXACT = Way("exact")
_NO_KEYPOINTS = Way("approximated", "yolo.no-keypoints",
                    "a shape without keypoints in a pose dataset: its box with every keypoint missing",
                    "its box, keypoints missing")


def _approximated(code: str, message: str, summary: str) -> Way:
    return Way("approximated", code, message, summary)


def _never(reason: str) -> dict[str, Way]:
    return dict.fromkeys(TASKS, Way("unsupported", "yolo.unsupported-type", reason))


def _shape(detect: Way, segment: Way, obb: Way) -> dict[str, Way]:
    return {"detect": detect, "segment": segment, "obb": obb, "pose": _NO_KEYPOINTS}


_BOX_AS_POLYGON = _approximated("yolo.box-as-polygon", "a box written as its 4-corner polygon", "4-corner polygon")
_POLYGON_AS_BOX = _approximated("yolo.polygon-as-box", "a segment written as its bounding box", "its bounds")
_POLYGON_AS_OBB = _approximated("yolo.polygon-as-obb", "a segment written as its smallest rotated rectangle",
                                "smallest rotated rectangle")
_MASK_AS_BOX = _approximated("yolo.mask-as-box", "a binary written as its bounding box", "its bounds")
_MASK_AS_OBB = _approximated("yolo.mask-as-obb", "a binary written as its smallest rotated rectangle",
                             "smallest rotated rectangle")

#: kind → (task it needs, way per task).
CAPABILITIES: dict[str, Capability] = {
    "box": Capability("detect", _shape(_EXACT, _BOX_AS_POLYGON, _EXACT)),
    "box (rotated)": Capability("obb", _shape(
        _approximated("yolo.rotated-box-as-bounds", "a rotated box written as the upright box around it",
                      "its bounds"),
        _BOX_AS_POLYGON, _EXACT)),
    "segment": Capability("segment", _shape(_POLYGON_AS_BOX, _EXACT, _POLYGON_AS_OBB)),
    "segment (several rings)": Capability("segment", _shape(
        _POLYGON_AS_BOX, _approximated("yolo.multipart-merged", "its rings joined into one line by zero-width bridges",
                                       "one line, rings bridged"),
        _POLYGON_AS_OBB)),
    "binary": Capability("segment", _shape(
        _MASK_AS_BOX, _approximated("yolo.mask-as-polygon", "a mask traced into a polygon", "traced polygon"),
        _MASK_AS_OBB)),
    "binary (several rings)": Capability("segment", _shape(
        _MASK_AS_BOX, _approximated("yolo.mask-as-polygon",
                                    "a mask traced into a polygon (its parts and holes joined into one line)",
                                    "traced polygon, rings bridged"),
        _MASK_AS_OBB)),
    "ellipse": Capability("segment", _shape(
        _approximated("yolo.ellipse-as-box", "an ellipse written as its bounding box", "its bounds"),
        _approximated("yolo.ellipse-as-polygon", "an ellipse written as a 72-point polygon", "72-point polygon"),
        _approximated("yolo.ellipse-as-obb", "an ellipse written as its smallest rotated rectangle",
                      "smallest rotated rectangle"))),
    "pose": Capability("pose", {**_never("keypoints need the pose task"), "pose": _EXACT}),
    "point (keypoint)": Capability(None, {**_never("keypoints need the pose task"), "pose": _EXACT}),
    "point": Capability(None, _never("a point is written only as a keypoint of a pose")),
    "polyline": Capability(None, _never("YOLO has no open lines")),
    "class": Capability(None, _never("YOLO labels have no image-level classes")),
    "subtitle": Capability(None, _never("YOLO has no subtitles")),
    "cube": Capability(None, _never("YOLO has no cuboids")),
}


#: Besides its shape and label, a line holds a keypoint's visibility (``v``) and nothing else: other attributes are
#: not written, and the annotation is reported with this (it is written, and comes back without them).
ATTRIBUTES_DROPPED = Way("approximated", "yolo.attributes-dropped", "YOLO lines hold no attributes", "")


def kind_of(annotation: Annotation) -> str:
    """The table's kind of an annotation (a rotated box apart — one turned by a right angle is an upright box of
    the same region; several rings are told by :func:`way_of`)."""
    kind = annotation.type
    if kind == "box" and annotation.annotation_definition.upright() is None:
        return "box (rotated)"
    return kind


def way_of(kind: str, task: str) -> Way:
    """How ``kind`` is written in ``task``; a kind the table does not know is not written."""
    capability = CAPABILITIES.get(kind)
    if capability is None:
        return Way("unsupported", "yolo.unsupported-type", f"YOLO cannot hold a {kind!r} annotation")
    return capability.ways[task]


def holds() -> frozenset[str]:
    """Dataloop types written as they are in some task (``FORMAT.holds``)."""
    return frozenset(kind.split(" (")[0] for kind, capability in CAPABILITIES.items()
                     if any(way.verdict == "exact" for way in capability.ways.values()))


def approximates() -> dict[str, str]:
    """``{kind: how, per task}`` for every kind some task writes in another shape (``FORMAT.approximates``)."""
    out = {}
    for kind, capability in CAPABILITIES.items():
        ways = [f"{way.summary} ({task})" for task, way in capability.ways.items() if way.verdict == "approximated"]
        if ways:
            out[kind] = "; ".join(ways)
    return out
