"""What COCO can hold, in one table: how the writer writes each Dataloop type, or why it cannot.

The writer consults it for every annotation (the reason it skips a type, the code and message of
each approximation), and ``FORMAT.holds`` / ``FORMAT.approximates`` — so ``dlconvert formats`` —
are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["APPROXIMATES", "CANNOT", "HOLDS", "UNSUPPORTED", "Approximation", "why_not"]


@dataclass(frozen=True)
class Approximation:
    """A case COCO writes in another shape: what it becomes, and the report's code and message."""

    kind: str  # the Dataloop type it applies to ("*" for any type)
    written_as: str
    code: str
    message: str


#: Types written as they are, and how.
HOLDS: dict[str, str] = {
    "box": "bbox, with its rectangle as segmentation",
    "segment": "polygon with every part",
    "binary": "RLE",
    "pose": "keypoints and num_keypoints, the category's keypoints and skeleton",
    "point": "a keypoint of its pose",
}

#: Cases written in another shape (each reported as approximated), by the name ``dlconvert formats`` shows.
APPROXIMATES: dict[str, Approximation] = {
    "box (rotated)": Approximation("box", "polygon", "coco.rotated-box-as-polygon",
                                   "rotated box written as its 4-corner polygon"),
    "ellipse": Approximation("ellipse", "polygon", "coco.ellipse-as-polygon",
                             "ellipse written as a 72-point polygon"),
    "segment (holes)": Approximation("segment", "RLE", "coco.polygon-holes-as-rle",
                                     "rings nest or touch (holes), which COCO polygons cannot hold: written as RLE"),
    "track on an image": Approximation("*", "its first frame", "coco.video-first-frame",
                                       "COCO has no video: the first of the track's frames is written"),
}

#: Why types COCO has no record for are skipped (code :data:`UNSUPPORTED`).
CANNOT: dict[str, str] = {
    "point": "COCO holds points only as keypoints of a pose, and this point belongs to none",
    "polyline": "COCO has no open lines",
    "class": "COCO has no image-level classification",
    "subtitle": "COCO has no subtitles",
    "cube": "COCO has no cuboids",
}
UNSUPPORTED = "coco.unsupported-type"
_WRITTEN = frozenset(HOLDS) | {a.kind for a in APPROXIMATES.values()}


def why_not(kind: str) -> str | None:
    """Why COCO cannot write an annotation of type ``kind`` on its own; None when it can."""
    if kind in CANNOT:
        return CANNOT[kind]
    return None if kind in _WRITTEN else f"COCO cannot hold a {kind!r} annotation"
