"""What LabelMe can hold, type by type: the one table the writer consults and ``FORMAT`` is derived from.

Each Dataloop type is written exactly (it reads back as it was), written another way (listed as
approximated, with the report code the writer uses), or not at all (skipped as
``labelme.unsupported-type``, with why). The conditions under which an exact type is still
refused or changed (a polyline of several lines, a mask without the image size) are the writer's
to report; this table says what happens in the normal case.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CAPABILITIES", "UNSUPPORTED", "Capability", "approximates", "approximation", "holds", "refusal"]

UNSUPPORTED = "labelme.unsupported-type"


@dataclass(frozen=True)
class Capability:
    """``how`` LabelMe writes a type (or, with ``writes`` False, why it cannot); ``exact``: it reads back the
    same; ``code``: the report code of an approximation."""

    how: str
    exact: bool = False
    writes: bool = True
    code: str = ""


CAPABILITIES: dict[str, Capability] = {
    "box": Capability('a "rectangle" shape (its two corners; X-AnyLabeling\'s 4 when read from one)', exact=True),
    "box (rotated)": Capability('a "polygon" of its 4 corners ("oriented_rectangle", or X-AnyLabeling\'s '
                                '"rotation", when read from one)',
                                code="labelme.rotated-box-as-polygon"),
    "segment": Capability('a "polygon" shape', exact=True),
    "segment (several rings)": Capability('a "mask" shape (LabelMe polygons have one ring: parts and holes become '
                                          'pixels)', code="labelme.polygon-as-mask"),
    "binary": Capability('a "mask" shape (a PNG of the mask\'s bounding window)', exact=True),
    "ellipse": Capability('a "circle" shape (centre and a point on the circle)', exact=True),
    "ellipse (not a circle)": Capability('a 72-point "polygon"', code="labelme.ellipse-as-polygon"),
    "polyline": Capability('a "linestrip" shape ("line" when read from one)', exact=True),
    "point": Capability('a "point" shape (the points of a "points" shape it was read from: that shape)',
                        exact=True),
    "class": Capability("an image flag set to true", exact=True),
    "track on an image": Capability("its first frame", code="labelme.video-first-frame"),
    "pose": Capability("LabelMe has no keypoint skeletons (its keypoints are skipped with it)", writes=False),
    "cube": Capability("LabelMe has no cuboids", writes=False),
    "subtitle": Capability("LabelMe holds images, not timed text", writes=False),
    "note": Capability("LabelMe has no notes", writes=False),
}


def refusal(kind: str | None) -> str | None:
    """Why LabelMe cannot hold an annotation of type ``kind`` at all, or None when it writes it somehow."""
    capability = CAPABILITIES.get(kind or "")
    if capability is None:
        return f"LabelMe cannot hold a {kind!r} annotation"
    return None if capability.writes else capability.how


def approximation(case: str) -> tuple[str, str]:
    """``(code, message)`` the report gives an approximated case of the table (``"box (rotated)"`` …)."""
    capability = CAPABILITIES[case]
    return capability.code, f"{case}: written as {capability.how}"


def holds() -> frozenset[str]:
    """The Dataloop types LabelMe writes as they are (``FormatSpec.holds``)."""
    return frozenset(kind for kind, capability in CAPABILITIES.items() if capability.exact and " " not in kind)


def approximates() -> dict[str, str]:
    """Case → how it is written instead (``FormatSpec.approximates``)."""
    return {kind: capability.how for kind, capability in CAPABILITIES.items()
            if capability.writes and not capability.exact}
