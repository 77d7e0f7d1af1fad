"""Round-trip verification: SRC → another format → back, compared annotation by annotation.

For each annotation the other format can hold (those the forward conversion did not skip), the
way back must give one with the same label and attributes and the same geometry: box IoU and
mask/shape IoU are reported, and anything below ``min_iou`` or missing counts as lost.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .annotation import Annotation
from .collection import AnnotationCollection
from .dataset import ConvertOptions
from .report import ConversionReport, OnError

__all__ = ["Difference", "VerifyResult", "verify"]


@dataclass(frozen=True)
class Difference:
    """One annotation that did not come back as it went."""

    item: str | None
    annotation_id: str | None
    type: str
    label: str | None
    what: str

    def __str__(self) -> str:
        return f"{self.item}: {self.type} {self.label!r} (id {self.annotation_id}): {self.what}"


@dataclass
class VerifyResult:
    """Counts and differences of one round trip."""

    checked: int = 0
    not_representable: int = 0
    approximated: list[Difference] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    min_box_iou: float = 1.0
    min_shape_iou: float = 1.0
    forward: ConversionReport | None = None

    @property
    def lost(self) -> bool:
        return bool(self.differences)

    def summary(self) -> str:
        lines = [
            f"annotations checked: {self.checked}, not representable in the target: {self.not_representable}, "
            f"approximated by the target: {len(self.approximated)}",
            f"lowest box IoU: {self.min_box_iou:.6f}, lowest shape IoU: {self.min_shape_iou:.6f}",
            f"differences: {len(self.differences)}",
        ]
        lines.extend(f"  approximated: {d}" for d in self.approximated[:50])
        lines.extend(f"  {d}" for d in self.differences[:50])
        if len(self.differences) > 50:
            lines.append(f"  … and {len(self.differences) - 50} more")
        return "\n".join(lines)


def verify(src: str | Path, from_format: str, via_format: str, *, options: ConvertOptions | None = None,
           min_iou: float = 0.999) -> VerifyResult:
    """Convert ``src`` to ``via_format`` and back, and compare with the original."""
    from .converter import Converter
    from .formats import get_format

    options = options or ConvertOptions()
    source = get_format(from_format)
    original_report = ConversionReport(on_error=OnError.FAIL)
    original = list(source.read(Path(src), options, original_report).items)
    result = VerifyResult()
    with tempfile.TemporaryDirectory(prefix="dlconvert-verify-") as tmp:
        converter = Converter(options=options)
        result.forward = converter.run(src, from_format, Path(tmp) / "via", via_format, overwrite=True)
        back_format = get_format(via_format)
        back = list(back_format.read(Path(tmp) / "via", options, ConversionReport()).items)
    issues = result.forward.issues
    skipped = Counter(_issue_key(i) for i in issues if i.kind == "skipped")
    approximated = Counter(_issue_key(i) for i in issues if i.kind == "approximated")
    returned = {_key(c): c for c in back}
    for collection in original:
        counterpart = returned.get(_key(collection))
        candidates = list(counterpart) if counterpart is not None else []
        for annotation in collection:
            signature = (collection.filename, annotation.id or annotation.type, annotation.annotation_definition.label)
            if skipped[signature] > 0:
                skipped[signature] -= 1
                result.not_representable += 1
                continue
            expected_exact = approximated[signature] <= 0
            if not expected_exact:
                approximated[signature] -= 1
            result.checked += 1
            _match(annotation, candidates, collection.filename, result, min_iou if expected_exact else None)
    return result


def _issue_key(issue) -> tuple:
    """Issues and annotations meet on (item, id) — or (item, type) for annotations without ids — and label."""
    return (issue.item, issue.annotation_id or issue.annotation_type, issue.label)


def _key(collection: AnnotationCollection) -> str:
    """Items meet on their path without extension: a .vtt cannot say whether its media was .wav or .mp3."""
    import posixpath

    return posixpath.splitext((collection.filename or collection.name or "").lstrip("/"))[0]


def _match(annotation: Annotation, candidates: list[Annotation], item, result: VerifyResult,
           min_iou: float | None) -> None:
    """Find the returned annotation most like ``annotation``; ``min_iou=None`` marks an approximation."""
    definition = annotation.annotation_definition
    best, best_score = None, -1.0
    for index, candidate in enumerate(candidates):
        other = candidate.annotation_definition
        if other.label != definition.label:
            continue
        score = _similarity(definition, other)
        if score > best_score:
            best, best_score = index, score
    def differ(what: str) -> None:
        result.differences.append(Difference(item, annotation.id, annotation.type, definition.label, what))

    if best is None:
        differ("no annotation with this label came back")
        return
    match = candidates.pop(best).annotation_definition
    if min_iou is not None:
        if definition.type == "box" and match.type == "box":
            result.min_box_iou = min(result.min_box_iou, best_score)
        else:
            result.min_shape_iou = min(result.min_shape_iou, best_score)
    if min_iou is None:
        result.approximated.append(Difference(item, annotation.id, annotation.type, definition.label,
                                              f"written as {match.type}, IoU {best_score:.6f}"))
    elif best_score < min_iou:
        differ(f"geometry changed (IoU {best_score:.6f} < {min_iou})")
    if dict(match.attributes) != dict(definition.attributes):
        differ(f"attributes changed: {definition.attributes!r} → {match.attributes!r}")


def _similarity(a, b) -> float:
    """1.0 for the same geometry; IoU for shapes, closeness for points, equality otherwise."""
    if a.type in ("point",) and b.type == "point":
        return 1.0 if abs(a.x - b.x) <= 1e-6 and abs(a.y - b.y) <= 1e-6 else 0.0
    try:
        shape_a, shape_b = a.to_shapely(), b.to_shapely()
    except TypeError:
        return 1.0 if a._geometry_key() == b._geometry_key() or a.type == "pose" else 0.0
    if shape_a.is_empty and shape_b.is_empty:
        return 1.0
    union = shape_a.union(shape_b).area
    return float(shape_a.intersection(shape_b).area / union) if union > 0 else 0.0
