"""What a render did: pictures written, images not found, annotations it could not draw.

Every annotation a picture leaves out is counted under a code, as ``convert`` reports what it
cannot write (``render.degenerate-shape`` carries the same reason as ``<fmt>.degenerate-shape``):
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import DlconvertError

__all__ = ["NOT_DRAWN", "MissingImagesError", "RenderReport"]

#: Why an annotation is not drawn: code → what it means.
NOT_DRAWN = {
    "render.degenerate-shape": "a degenerate shape, skipped as convert skips it (an inverted or empty box, a "
                               "polygon with fewer than 3 distinct points or no area, a polyline without 2 points, "
                               "an ellipse without a radius)",
    "render.no-shape": "a type without a shape (classification, subtitle, note …)",
    "render.no-pixels": "covers no pixel centre of the picture (outside the image, or thinner than a pixel)",
    "render.unreadable-geometry": "its geometry cannot be read",
    "render.pose-without-skeleton": "a pose with no edge to draw (no template, or no edge between two labelled "
                                    "keypoints); its keypoints are drawn",
    "render.unlabelled-keypoint": "a keypoint marked not labelled (visibility 0, stored at 0,0 by COCO)",
    "render.background-id": "its label's instance id is 0, the background of the INSTANCE picture",
}
__doc__ += "".join(f"\n* ``{code}``: {meaning}." for code, meaning in NOT_DRAWN.items()) + "\n"

#: How many missing images a report names (the rest are counted).
EXAMPLES = 5


class MissingImagesError(DlconvertError, LookupError):
    """Overlays were asked and some items' images are not found (``report`` has the counts)."""

    def __init__(self, report: RenderReport) -> None:
        super().__init__(f"{report.missing_images_line()} (looked in: {report.looked_in}); pass "
                         f"--allow-missing-images (allow_missing_images=True) to draw them on a checkerboard")
        self.report = report

    def __reduce__(self):
        return (type(self), (self.report,))


@dataclass
class RenderReport:
    """Counts of one render; ``render_dataset`` and ``render_source`` return it.

    ``not_drawn`` counts each annotation once (under the code of the first view that left it out)
    even when several views are written.
    """

    items: int = 0
    pictures: int = 0
    skipped: int = 0  # items without a picture (audio)
    images_wanted: int = 0  # items drawn on their image (overlay, contact sheet)
    images_missing: int = 0
    missing_examples: list[str] = field(default_factory=list)  # the first EXAMPLES items without an image
    not_drawn: Counter = field(default_factory=Counter)  # code → annotations
    not_drawn_examples: dict[str, str] = field(default_factory=dict)  # code → "item: code: reason", its first
    looked_in: str = ""  # where images were looked for (ImageLookup.describe)

    def image(self, name: str, found: bool) -> None:
        """Count one item drawn on its image: found or not."""
        self.images_wanted += 1
        if not found:
            self.images_missing += 1
            if len(self.missing_examples) < EXAMPLES:
                self.missing_examples.append(name)

    def left_out(self, item: str, problems: dict[int, tuple[str, str]]) -> None:
        """Count an item's annotations that a view left out: ``{index: (code, reason)}``."""
        for code, reason in problems.values():
            self.not_drawn[code] += 1
            self.not_drawn_examples.setdefault(code, f"{item}: {code}: {reason}")

    def merge(self, other: RenderReport) -> None:
        """Add the counts of a later shard of the same render."""
        self.items += other.items
        self.pictures += other.pictures
        self.skipped += other.skipped
        self.images_wanted += other.images_wanted
        self.images_missing += other.images_missing
        self.missing_examples = (self.missing_examples + other.missing_examples)[:EXAMPLES]
        self.not_drawn.update(other.not_drawn)
        for code, example in other.not_drawn_examples.items():
            self.not_drawn_examples.setdefault(code, example)
        self.looked_in = self.looked_in or other.looked_in

    def missing_images_line(self) -> str | None:
        """``N of M images not found: a.jpg, b.jpg, …``, or None when every image was found."""
        if not self.images_missing:
            return None
        names = ", ".join(self.missing_examples)
        more = ", …" if self.images_missing > len(self.missing_examples) else ""
        return f"{self.images_missing} of {self.images_wanted} images not found: {names}{more}"

    def summary(self) -> str:
        """A few lines for people: pictures, images not found, annotations not drawn by code."""
        lines = [f"{self.pictures} pictures of {self.items} items"
                 + (f" ({self.skipped} without a picture: audio)" if self.skipped else "")]
        missing = self.missing_images_line()
        if missing:
            lines.append(missing + " (drawn on a grey checkerboard)")
        if self.not_drawn:
            total = sum(self.not_drawn.values())
            lines.append(f"{total} annotation{'s' if total != 1 else ''} not drawn:")
            lines.extend(f"  {count:>6} {code}" for code, count in sorted(self.not_drawn.items()))
            lines.extend(f"  {example}" for _, example in sorted(self.not_drawn_examples.items()))
        return "\n".join(lines)
