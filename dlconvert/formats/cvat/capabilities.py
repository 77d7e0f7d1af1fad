"""What CVAT XML 1.1 can hold, type by type: the one table the writer consults and ``FORMAT`` is derived from.

Each Dataloop type is written exactly (it reads back as it was), written another way (listed as
approximated, with how), or not at all (skipped as ``cvat.unsupported-type``, with why). The cases
in which an exact type still changes (a polygon of several rings, an attribute value CVAT gives back
as text, a Dataloop hold that CVAT would interpolate) are the writer's to report; this table says
what happens in the normal case.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CAPABILITIES", "Capability", "approximates", "holds", "refusal"]


@dataclass(frozen=True)
class Capability:
    """``how`` CVAT writes a type (or, with ``writes`` False, why it cannot); ``exact``: it reads back the same."""

    how: str
    exact: bool = False
    writes: bool = True


CAPABILITIES: dict[str, Capability] = {
    "box": Capability("<box> (its angle as rotation)", exact=True),
    "segment": Capability("<polygon> (one ring)", exact=True),
    "segment (several rings)": Capability("<mask>: its pixels (a CVAT polygon has one ring)"),
    "polyline": Capability("<polyline> (one line; a polyline of several lines is skipped)", exact=True),
    "point": Capability("<points>, or a keypoint of its pose's <skeleton>", exact=True),
    "ellipse": Capability("<ellipse>", exact=True),
    "binary": Capability("<mask>: CVAT's RLE of the mask's bounding window", exact=True),
    "cube": Capability("<cuboid> (upright cubes: CVAT's cuboids keep their vertical edges upright)", exact=True),
    "pose": Capability("<skeleton> with a <points> element per keypoint (visibility as occluded/outside)",
                       exact=True),
    "class": Capability("<tag> (on images; CVAT for video has no tags)", exact=True),
    "track": Capability("<track> of CVAT for video: a shape per stored state (keyframe = fixed, outside = hidden)",
                        exact=True),
    "track on an image": Capability("its first frame (an image has one frame)"),
    "subtitle": Capability("CVAT holds images and videos, not timed text", writes=False),
    "note": Capability("CVAT has no notes", writes=False),
}


def refusal(kind: str | None) -> str | None:
    """Why CVAT cannot hold an annotation of type ``kind`` at all, or None when it writes it somehow."""
    capability = CAPABILITIES.get(kind or "")
    if capability is None:
        return f"CVAT cannot hold a {kind!r} annotation"
    return None if capability.writes else capability.how


def holds() -> frozenset[str]:
    """The Dataloop types CVAT writes as they are (``FormatSpec.holds``)."""
    return frozenset(kind for kind, capability in CAPABILITIES.items()
                     if capability.exact and " " not in kind and kind != "track")


def approximates() -> dict[str, str]:
    """Type → how it is written instead (``FormatSpec.approximates``)."""
    return {kind: capability.how for kind, capability in CAPABILITIES.items()
            if capability.writes and not capability.exact}
