"""What Label Studio can hold, type by type: the one table the writer consults and ``FORMAT`` is derived from.

Each Dataloop type is written exactly (it reads back as it was), written another way (approximated, with
the report's code), or not at all (skipped as ``labelstudio.unsupported-type``, with why).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CAPABILITIES", "Capability", "approximates", "holds", "refusal"]


@dataclass(frozen=True)
class Capability:
    """``how`` Label Studio writes a case (or, with ``writes`` False, why it cannot); ``exact``: it reads back
    the same; ``code``: the report's code when it is written another way."""

    how: str
    exact: bool = False
    writes: bool = True
    code: str = ""


CAPABILITIES: dict[str, Capability] = {
    "box": Capability("rectanglelabels: x, y, width, height in percent, rotation about the top-left corner",
                      exact=True),
    "segment": Capability("polygonlabels: one ring, in percent", exact=True),
    "segment (several rings)": Capability("brushlabels: its pixels as a mask (a Label Studio polygon has one ring)",
                                          code="labelstudio.polygon-as-mask"),
    "polyline": Capability("polygonlabels with closed: false (one line)", exact=True),
    "polyline (several lines)": Capability("a Label Studio polygon holds one line", writes=False),
    "point": Capability("keypointlabels", exact=True),
    "ellipse": Capability("ellipselabels: centre and radii in percent, rotation about the centre", exact=True),
    "binary": Capability("brushlabels: Label Studio's RLE of the mask", exact=True),
    "class": Capability("choices", exact=True),
    "text": Capability("textarea", exact=True),
    "labelstudio.*": Capability("the Label Studio result it was read from, as it was", exact=True),
    "track on an image": Capability("its first frame (a Label Studio image region has none)",
                                    code="labelstudio.video-first-frame"),
    "attributes (other values)": Capability("text of a per-region textarea: true/false and objects as their JSON, "
                                            "a list of one text as the text (texts, numbers and other lists of "
                                            "texts come back as they are)", code="labelstudio.attribute-changed"),
    "pose": Capability("Label Studio keypoints are not grouped into poses", writes=False),
    "cube": Capability("Label Studio has no cuboids", writes=False),
    "subtitle": Capability("dlconvert writes Label Studio image tasks; subtitles are timed text", writes=False),
    "note": Capability("Label Studio has no notes", writes=False),
}


def refusal(kind: str | None) -> str | None:
    """Why Label Studio cannot hold an annotation of type ``kind``, or None when it writes it somehow."""
    if kind is not None and kind.startswith("labelstudio."):
        return None
    capability = CAPABILITIES.get(kind or "")
    if capability is None:
        return f"Label Studio cannot hold a {kind!r} annotation"
    return None if capability.writes else capability.how


def holds() -> frozenset[str]:
    """The Dataloop types Label Studio writes as they are (``FormatSpec.holds``)."""
    return frozenset(kind for kind, capability in CAPABILITIES.items() if capability.exact and " " not in kind)


def approximates() -> dict[str, str]:
    """Case → how it is written instead (``FormatSpec.approximates``)."""
    return {kind: capability.how for kind, capability in CAPABILITIES.items()
            if capability.writes and not capability.exact}
