"""Counts over a dataset: items, annotations per type and label, frames — for ``dlconvert info``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from .collection import AnnotationCollection

__all__ = ["DatasetSummary", "summarize"]


@dataclass
class DatasetSummary:
    """What a dataset holds; every count is exact."""

    items: int = 0
    annotated_items: int = 0
    annotations: int = 0
    by_type: Counter = field(default_factory=Counter)
    by_label: Counter = field(default_factory=Counter)
    by_mimetype: Counter = field(default_factory=Counter)
    tracks: int = 0
    frames: int = 0  # stored frame states over all tracks
    max_frame: int | None = None

    def add(self, collection: AnnotationCollection) -> None:
        self.items += 1
        self.annotated_items += bool(len(collection))
        self.by_mimetype[collection.mimetype or "unknown"] += 1
        for annotation in collection:
            self.annotations += 1
            self.by_type[annotation.type] += 1
            self.by_label[annotation.annotation_definition.label or "(no label)"] += 1
            if annotation.is_video:
                self.tracks += 1
                self.frames += len(annotation.frames)
                end = annotation.end_frame
                self.max_frame = end if self.max_frame is None else max(self.max_frame, end)

    def to_json(self) -> dict:
        return {
            "items": self.items,
            "annotated_items": self.annotated_items,
            "annotations": self.annotations,
            "by_type": dict(sorted(self.by_type.items())),
            "by_label": dict(sorted(self.by_label.items())),
            "by_mimetype": dict(sorted(self.by_mimetype.items())),
            "tracks": self.tracks,
            "frame_states": self.frames,
            "max_frame": self.max_frame,
        }

    def to_text(self) -> str:
        lines = [
            f"items:        {self.items} ({self.annotated_items} annotated)",
            f"annotations:  {self.annotations}",
        ]
        if self.tracks:
            lines.append(f"tracks:       {self.tracks} ({self.frames} stored frame states, "
                         f"last frame {self.max_frame})")
        for title, counter in (("by type", self.by_type), ("by label", self.by_label),
                               ("by mimetype", self.by_mimetype)):
            if counter:
                lines.append(f"{title}:")
                width = max(len(k) for k in counter)
                lines.extend(f"  {k:<{width}}  {v}" for k, v in sorted(counter.items()))
        return "\n".join(lines)


def summarize(collections: Iterable[AnnotationCollection]) -> DatasetSummary:
    """Count everything in ``collections`` (consumed once, in one pass)."""
    summary = DatasetSummary()
    for collection in collections:
        summary.add(collection)
    return summary
