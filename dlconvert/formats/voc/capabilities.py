"""What VOC can hold, type by type: the one table the writer consults and ``FORMAT`` is derived from.

Each Dataloop type is written exactly (it reads back as it was), written another way (listed as
approximated, with how), or not at all (skipped as ``voc.unsupported-type``, with why). The
conditions under which an exact type still changes (a box off the pixel grid with
``voc_origin=1``, a mask partly under a later object) are the writer's to report; this table says
what happens in the normal case.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CAPABILITIES", "Capability", "approximates", "holds", "refusal"]


@dataclass(frozen=True)
class Capability:
    """``how`` VOC writes a type (or, with ``writes`` False, why it cannot); ``exact``: it reads back the same."""

    how: str
    exact: bool = False
    writes: bool = True


CAPABILITIES: dict[str, Capability] = {
    "box": Capability("an <object> and its <bndbox>", exact=True),
    "box (rotated)": Capability("the <bndbox> around its corners (VOC boxes are axis-aligned)"),
    "binary": Capability("an <object>: its pixels in SegmentationObject/ and SegmentationClass/, its <bndbox> "
                         "their extent", exact=True),
    "segment": Capability("an <object>: its <bndbox> and its pixels in the segmentation PNGs (it reads back as "
                          "a mask)"),
    "ellipse": Capability("an <object>: its <bndbox> and its pixels in the segmentation PNGs (it reads back as "
                          "a mask)"),
    "point": Capability("VOC objects are regions with a <bndbox>; a point has no extent", writes=False),
    "polyline": Capability("VOC objects are regions with a <bndbox>; a line has no inside", writes=False),
    "cube": Capability("VOC has no cuboids", writes=False),
    "pose": Capability("VOC has no keypoints (only the <part> boxes of a person object)", writes=False),
    "class": Capability("VOC has no image-level labels", writes=False),
    "subtitle": Capability("VOC holds images, not timed text", writes=False),
    "note": Capability("VOC has no notes", writes=False),
}


def refusal(kind: str | None) -> str | None:
    """Why VOC cannot hold an annotation of type ``kind`` at all, or None when it writes it somehow."""
    capability = CAPABILITIES.get(kind or "")
    if capability is None:
        return f"VOC cannot hold a {kind!r} annotation"
    return None if capability.writes else capability.how


def holds() -> frozenset[str]:
    """The Dataloop types VOC writes as they are (``FormatSpec.holds``)."""
    return frozenset(kind for kind, capability in CAPABILITIES.items() if capability.exact and " " not in kind)


def approximates() -> dict[str, str]:
    """Type → how it is written instead (``FormatSpec.approximates``)."""
    return {kind: capability.how for kind, capability in CAPABILITIES.items()
            if capability.writes and not capability.exact}
