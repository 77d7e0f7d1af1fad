"""Round-trip verification: SRC → another format → back, compared annotation by annotation, and the
conversion's report held to what really happened.

Every annotation of the source is looked for among those that came back (same item, same label;
the one most alike by :mod:`dlconvert.compare`, or the one with its id) and judged: unchanged,
changed (how), or not back. Then the forward conversion's report is checked against that:

* an annotation the report skipped must not come back, and one that did not come back must have
  been skipped ("not representable in the target");
* an annotation the report calls approximated must have changed, and one that changed must be
  called approximated — no more, no less;
* an annotation that came back from nowhere (an object returned twice) is a difference too.

Anything else is a difference, and ``verify`` fails. Values the source format keeps beside a
shape (``metadata.user.<format>``: a COCO ``num_keypoints``, ``iscrowd``, ``bbox``) are compared
too when the way back holds them, so a recomputed value does not pass unnoticed.

Annotations without an id get one for the round trip (``dlconvert-verify-<n>``, the same in the
forward conversion and the comparison), so that every issue of the report names its annotation.
"""

from __future__ import annotations

import posixpath
import tempfile
from collections import Counter, defaultdict, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compare import Tolerance, change, geometry_change, similarity
from .dataset import ConvertOptions
from .report import ConversionReport, OnError

if TYPE_CHECKING:
    from .annotation import Annotation
    from .collection import AnnotationCollection
    from .report import Issue

__all__ = ["Difference", "VerifyResult", "compare_round_trip", "tag_annotations", "verify"]

TAG_PREFIX = "dlconvert-verify-"
_MISSING = object()
Key = tuple  # (item filename, annotation id)


@dataclass(frozen=True)
class Difference:
    """One annotation that did not come back as the report says it would.

    ``kind``: ``lost`` (not back, not reported skipped), ``changed`` (changed, not reported
    approximated), ``over-reported`` (reported skipped or approximated, yet back unchanged),
    ``extra`` (came back, was not in the source), ``unreadable`` (the written output does not read back).
    """

    kind: str
    item: str | None
    annotation_id: str | None
    type: str | None
    label: str | None
    what: str

    def __str__(self) -> str:
        ident = f"{self.type} {self.label!r} (id {self.annotation_id})" if self.type else ""
        return f"{self.kind}: {self.item}: {ident}: {self.what}" if ident else f"{self.kind}: {self.item}: {self.what}"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class VerifyResult:
    """What one round trip found, and the forward conversion's report."""

    via: str = ""
    read: int = 0
    checked: int = 0
    not_representable: int = 0
    approximated: list[Difference] = field(default_factory=list)  # changed, and reported so
    differences: list[Difference] = field(default_factory=list)
    forward: ConversionReport | None = None
    #: What verify found and what the report said, by (item, annotation id): the agreement, checkable.
    found_changed: set = field(default_factory=set)
    found_missing: set = field(default_factory=set)
    reported_approximated: set = field(default_factory=set)
    reported_skipped: set = field(default_factory=set)
    #: What the source's own reader skipped (a Labelbox mask only at a URL, say): never read, so not
    #: the round trip's to judge; shown, and left out of the report held to it.
    not_read: list[Issue] = field(default_factory=list)

    @property
    def lost(self) -> bool:
        """Whether anything did not come back as the report says (verify fails)."""
        return bool(self.differences)

    def summary(self, limit: int = 50) -> str:
        lines = [
            f"annotations checked: {self.checked}, not representable in the target: {self.not_representable}, "
            f"approximated by the target: {len(self.approximated)}",
            f"differences: {len(self.differences)}",
        ]
        if self.not_read:
            lines.insert(1, f"not read from the source (its reader skipped them): {len(self.not_read)}")
        kinds = Counter(d.kind for d in self.differences)
        if kinds:
            lines.append("  " + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())))
        lines.extend(f"  {d}" for d in self.approximated[:limit])
        if len(self.approximated) > limit:
            lines.append(f"  … and {len(self.approximated) - limit} more approximated (see --json)")
        lines.extend(f"  {d}" for d in self.differences[:limit])
        if len(self.differences) > limit:
            lines.append(f"  … and {len(self.differences) - limit} more differences (see --json)")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "via": self.via,
            "annotations": self.read,
            "checked": self.checked,
            "not_representable": self.not_representable,
            "not_read": [asdict(issue) for issue in self.not_read],
            "approximated": [d.to_json() for d in self.approximated],
            "differences": [d.to_json() for d in self.differences],
        }


def verify(src: str | Path, from_format: str, via_format: str, *, options: ConvertOptions | None = None,
           min_iou: float | None = None, tolerance: Tolerance | None = None) -> VerifyResult:
    """Convert ``src`` to ``via_format`` and back, compare with the original and with the report."""
    from .converter import Converter
    from .formats import get_format, require_items

    tolerance = tolerance or Tolerance()
    if min_iou is not None:
        tolerance = Tolerance(min_iou, tolerance.max_distance, tolerance.max_time)
    options = options or ConvertOptions()
    source, via = get_format(from_format), get_format(via_format)
    src = Path(src)
    read_report = ConversionReport(on_error=OnError.FAIL, source=str(src))
    dataset = source.read(src, options, read_report)
    original = [c for c in dataset.items if tag_annotations(c)]
    require_items(source, src, len(original), declared_empty=dataset.declared_empty)
    result = VerifyResult(via=via.name, read=sum(len(c) for c in original),
                          not_read=[issue for issue in read_report.issues if issue.kind == "skipped"])
    with tempfile.TemporaryDirectory(prefix="dlconvert-verify-") as tmp:
        out = Path(tmp) / "via"
        # skip, not fail: what the target cannot write is reported and the round trip goes on
        converter = Converter(options=options, on_error=OnError.SKIP)
        result.forward = converter.run(src, source.name, out, via.name, item_filter=tag_annotations)
        back_report = ConversionReport(on_error=OnError.SKIP, source=str(out))
        back = list(via.read(out, options, back_report).items)
        for issue in back_report.issues:
            if issue.kind == "warning":  # said about the output (a size it does not state), not unreadable
                continue
            result.differences.append(Difference("unreadable", issue.item, issue.annotation_id,
                                                 issue.annotation_type, issue.label,
                                                 f"the {via.name} output does not read back: {issue}"))
        compare_round_trip(original, back, result.forward, source_format=source.name, tolerance=tolerance,
                           result=result)
    return result


def compare_round_trip(original: list[AnnotationCollection], back: list[AnnotationCollection],
                       forward: ConversionReport | None, *, source_format: str, tolerance: Tolerance | None = None,
                       result: VerifyResult | None = None) -> VerifyResult:
    """Compare the items read from the source (``original``, ids given by :func:`tag_annotations`) with
    those read back, and hold the ``forward`` conversion's report to what changed (fills ``result``)."""
    result = result if result is not None else VerifyResult(read=sum(len(c) for c in original))
    result.forward = forward
    _Comparison(source_format, tolerance or Tolerance(), result).run(original, back)
    return result


def tag_annotations(collection: AnnotationCollection) -> bool:
    """Give every annotation without an id one, by its place in the item (an ``item_filter``: keeps all)."""
    for index, annotation in enumerate(collection):
        if annotation.id is None:
            annotation.id = f"{TAG_PREFIX}{index}"
    return True


def item_key(collection: AnnotationCollection) -> str:
    """An item's path without its extension: a .vtt cannot say whether its media was .wav or .mp3."""
    return posixpath.splitext((collection.filename or collection.name or "").lstrip("/"))[0]


class _Returned:
    """The items that came back, each taken once by the item it came back for: same path, else the same
    path with another extension."""

    def __init__(self, back: list[AnnotationCollection]) -> None:
        self.back = back
        self.taken: set[int] = set()
        self.tables: tuple[dict, dict] = (defaultdict(deque), defaultdict(deque))
        for collection in back:
            self.tables[0][collection.filename].append(collection)
            self.tables[1][item_key(collection)].append(collection)

    def take(self, collection: AnnotationCollection) -> AnnotationCollection | None:
        for table, key in zip(self.tables, (collection.filename, item_key(collection)), strict=True):
            queue = table.get(key)
            while queue:
                candidate = queue.popleft()
                if id(candidate) not in self.taken:
                    self.taken.add(id(candidate))
                    return candidate
        return None

    def take_any(self) -> AnnotationCollection | None:
        """The first item not taken yet."""
        left = self.left()
        if left:
            self.taken.add(id(left[0]))
        return left[0] if left else None

    def left(self) -> list[AnnotationCollection]:
        return [c for c in self.back if id(c) not in self.taken]


class _Comparison:
    """Pairs the annotations of each item with those that came back, judges each, and holds the report to it."""

    def __init__(self, source_format: str, tolerance: Tolerance, result: VerifyResult) -> None:
        self.source_format = source_format
        self.tolerance = tolerance
        self.result = result
        self.changed: dict[Key, list[tuple[Annotation, str]]] = defaultdict(list)
        self.missing: dict[Key, list[Annotation]] = defaultdict(list)
        self.unchanged: dict[Key, list[Annotation]] = defaultdict(list)

    def run(self, original: list[AnnotationCollection], back: list[AnnotationCollection]) -> None:
        returned = _Returned(back)
        named = [c for c in original if c.filename or c.name]
        pairs = [(c, returned.take(c)) for c in named]
        # items without a name (a bare list of annotations) come back under the name a writer gave them
        nameless = [c for c in original if not (c.filename or c.name)]
        pairs += [(c, returned.take_any()) for c in nameless]
        for collection, counterpart in pairs:
            self._item(collection, list(counterpart) if counterpart is not None else [])
        for collection in returned.left():
            for annotation in collection:
                self._extra(collection.filename, annotation, "came back on an item that is not in the source")
        self._hold_the_report_to_it()

    # -- one item -------------------------------------------------------------------------------------
    def _item(self, collection: AnnotationCollection, candidates: list[Annotation]) -> None:
        item = collection.filename
        mine, theirs = _Families(list(collection)), _Families(candidates)
        pairs = _pair(mine.standalone, theirs.standalone)
        pose_pairs = _pair(mine.poses, theirs.poses, score=lambda a, b: _keypoint_likeness(mine, a, theirs, b))
        paired = {id(o) for o, _ in pairs + pose_pairs}
        paired_back = {id(r) for _, r in pairs + pose_pairs}
        added = _added_partners(mine, theirs, pairs, pose_pairs, paired_back)
        for original, returned in pairs:
            self._judge(item, original, returned, added.get(id(original)))
        for original, returned in pose_pairs:
            self._pose(item, mine, original, theirs, returned, added.get(id(original)))
        for original in mine.standalone:
            if id(original) not in paired:
                self._missing(item, original)
        for original in mine.poses:
            if id(original) not in paired:
                for annotation in (original, *mine.children[original.id]):
                    self._missing(item, annotation)
        consumed = {id(a) for a in added.values()}
        for annotation in theirs.standalone + theirs.poses:
            if id(annotation) in paired_back or id(annotation) in consumed:
                continue
            self._extra(item, annotation, "came back, but nothing in the source is like it")
            if annotation.type == "pose":
                for child in theirs.children.get(annotation.id, []):
                    self._extra(item, child, "a keypoint of a pose that came back from nowhere")

    def _judge(self, item: str | None, original: Annotation, returned: Annotation, added: Annotation | None) -> None:
        from .formats.coco import source_bbox

        what = change(original, returned, self.tolerance, source_bbox(original))
        if what is None and added is not None:
            what = f"came back with a {added.type} it did not have (without keypoints)"
        if what is None:
            what = self._kept_values_change(original, returned)
        self._verdict(item, original, what)

    def _pose(self, item, mine: _Families, pose: Annotation, theirs: _Families, returned: Annotation,
              added: Annotation | None) -> None:
        """A pose by its keypoints: each keypoint (a child point) by its position, visibility and attributes."""
        children_changed = False
        back = list(theirs.children.get(returned.id, []))
        for child in mine.children[pose.id]:
            match = next((c for c in back if c.annotation_definition.label == child.annotation_definition.label), None)
            if match is None:
                if _unlabeled_at_origin(child):
                    self._verdict(item, child, None)  # "0 0 0": the same nothing in every format
                else:
                    self._missing(item, child)
                    children_changed = True
                continue
            back.remove(match)
            what = _keypoint_change(child, match, self.tolerance)
            children_changed |= what is not None
            self._verdict(item, child, what)
        for extra in back:
            self._extra(item, extra, f"a keypoint the pose {pose.id} did not have")
        what = change(pose, returned, self.tolerance)
        if what is None and added is not None:  # YOLO pose lines need a box
            what = f"came back with a {added.type} it did not have (around its keypoints)"
        if what is None and not children_changed:
            what = self._kept_values_change(pose, returned)
        self._verdict(item, pose, what)

    def _kept_values_change(self, original: Annotation, returned: Annotation) -> str | None:
        """What the source format kept beside the shape and the way back changed (when it holds them)."""
        from .formats._metadata import section

        kept = section(original.metadata, "user", self.source_format)
        back = section(returned.metadata, "user", self.source_format)
        if not kept or not back:
            return None
        for key, value in kept.items():
            if key == "id" or key.endswith("_sha1"):  # identity and fingerprints, not content
                continue
            now = back.get(key, _MISSING)
            if now != value:
                shown = "absent" if now is _MISSING else repr(now)
                return f"{self.source_format} {key} changed: {value!r} → {shown}"
        return None

    # -- verdicts ---------------------------------------------------------------------------------------
    def _verdict(self, item, annotation: Annotation, what: str | None) -> None:
        key = (item, annotation.id)
        if what is None:
            self.unchanged[key].append(annotation)
        else:
            self.changed[key].append((annotation, what))

    def _missing(self, item, annotation: Annotation) -> None:
        self.missing[(item, annotation.id)].append(annotation)

    def _extra(self, item, annotation: Annotation, what: str) -> None:
        self.result.differences.append(_difference("extra", item, annotation, what))

    def _hold_the_report_to_it(self) -> None:
        result = self.result
        issues = result.forward.issues if result.forward is not None else []
        # the forward conversion read the source again: its reader's own skips are not the conversion's
        not_read = Counter(str(issue) for issue in result.not_read)
        issues = [issue for issue in issues if not _taken(not_read, str(issue))]
        reported: dict[str, dict[Key, list[Issue]]] = {"skipped": defaultdict(list), "approximated": defaultdict(list)}
        for issue in issues:
            if issue.kind in reported and (issue.annotation_id is not None or issue.annotation_type is not None):
                reported[issue.kind][(issue.item, issue.annotation_id)].append(issue)
        skipped, approximated = reported["skipped"], reported["approximated"]
        result.reported_skipped, result.reported_approximated = set(skipped), set(approximated)
        result.found_missing, result.found_changed = set(self.missing), set(self.changed)
        for key, gone in self.missing.items():
            for annotation in gone:
                if key in skipped:
                    result.not_representable += 1
                else:
                    said = f" (reported {approximated[key][0].code})" if key in approximated else ""
                    result.differences.append(_difference("lost", key[0], annotation,
                                                          f"did not come back, and the report did not skip it{said}"))
        for key, changes in self.changed.items():
            for annotation, what in changes:
                if key in skipped:
                    result.differences.append(_difference("over-reported", key[0], annotation,
                                                          f"reported skipped ({skipped[key][0].code}) but came back"
                                                          f" ({what})"))
                elif key in approximated:
                    result.approximated.append(_difference("approximated", key[0], annotation,
                                                            f"{what} [{approximated[key][0].code}]"))
                else:
                    result.differences.append(_difference("changed", key[0], annotation,
                                                          f"{what}, and the report did not say so"))
        result.checked = result.read - result.not_representable
        for key, same in self.unchanged.items():
            for annotation in same:
                for kind, table in (("skipped", skipped), ("approximated", approximated)):
                    if key in table:
                        result.differences.append(_difference(
                            "over-reported", key[0], annotation,
                            f"reported {kind} ({table[key][0].code}: {table[key][0].message}) but came back unchanged"))
        known = set(self.missing) | set(self.changed) | set(self.unchanged)
        for key in (set(skipped) | set(approximated)) - known:
            issue = (skipped.get(key) or approximated.get(key))[0]
            result.differences.append(Difference("over-reported", key[0], key[1], issue.annotation_type, issue.label,
                                                 f"the report names an annotation the source does not have: {issue}"))


def _label_key(label: Any) -> Any:
    """The label an annotation pairs by: formats that keep text strip it (VOC's ``<name>car </name>``) and
    some have no "no label" but the empty one, so a label that came back so still finds its original —
    whose change :func:`~dlconvert.compare.change` then names."""
    return (label or "").strip() if label is None or isinstance(label, str) else label


def _taken(counts: Counter, key: str) -> bool:
    """Whether ``key`` is still in the multiset ``counts`` (and take it out)."""
    if counts[key] <= 0:
        return False
    counts[key] -= 1
    return True


def _difference(kind: str, item, annotation: Annotation, what: str) -> Difference:
    return Difference(kind, item, annotation.id, annotation.type, annotation.annotation_definition.label, what)


# ==== pairing ==============================================================================================
class _Families:
    """An item's annotations: poses with their keypoints (children), and everything else."""

    def __init__(self, annotations: list[Annotation]) -> None:
        self.annotations = annotations
        self.poses = [a for a in annotations if a.type == "pose" and a.id is not None]
        pose_ids = {p.id for p in self.poses}
        self.children: dict[str, list[Annotation]] = defaultdict(list)
        self.standalone = []
        for annotation in annotations:
            if annotation.parent_id is not None and annotation.parent_id in pose_ids:
                self.children[annotation.parent_id].append(annotation)
            elif not (annotation.type == "pose" and annotation.id is not None):
                self.standalone.append(annotation)

    def partner(self, pose: Annotation) -> Annotation | None:
        """The one shape sharing the pose's object id (its box or mask), if any."""
        return _the_one(self.standalone, pose.object_id)

    def pose_of(self, shape: Annotation) -> Annotation | None:
        """The one pose sharing the shape's object id, if any."""
        return _the_one(self.poses, shape.object_id)


def _the_one(annotations: list[Annotation], object_id: str | None) -> Annotation | None:
    if object_id is None:
        return None
    found = [a for a in annotations if a.object_id == object_id]
    return found[0] if len(found) == 1 else None


def _added_partners(mine: _Families, theirs: _Families, pairs, pose_pairs, paired_back: set[int]) -> dict:
    """``{id(original): returned}`` for a partner the way back added: a box for a pose that had none (YOLO
    pose lines need one), an empty pose for a shape written in a pose dataset."""
    added = {}
    for original, returned in pose_pairs:
        shape = theirs.partner(returned) if mine.partner(original) is None else None
        if shape is not None and id(shape) not in paired_back:
            added[id(original)] = shape
    for original, returned in pairs:
        pose = theirs.pose_of(returned) if mine.pose_of(original) is None else None
        if pose is not None and id(pose) not in paired_back and not theirs.children.get(pose.id):
            added[id(original)] = pose
    return added


def _pair(originals: list[Annotation], returned: list[Annotation], score=None) -> list[tuple[Annotation, Annotation]]:
    """Pair annotations of one item: same id first, then the most alike with the same label (greedy,
    best pairs first; a same-type pair with nothing in common still pairs, to show what changed)."""
    score = score or similarity
    pairs: list[tuple[Annotation, Annotation]] = []
    free = {id(r): r for r in returned}
    by_id = {r.id: r for r in returned if r.id is not None}
    left = []
    for original in originals:
        twin = by_id.get(original.id) if original.id is not None else None
        if twin is not None and id(twin) in free and _label_key(twin.annotation_definition.label) == _label_key(
                original.label):
            pairs.append((original, free.pop(id(twin))))
        else:
            left.append(original)
    by_label: dict[Any, list[Annotation]] = defaultdict(list)
    for candidate in free.values():
        by_label[_label_key(candidate.annotation_definition.label)].append(candidate)
    ranked = []
    for i, original in enumerate(left):
        for j, candidate in enumerate(by_label.get(_label_key(original.annotation_definition.label), [])):
            same_type = original.type == candidate.type
            value = score(original, candidate)
            if value > 0 or same_type:
                ranked.append((-value, not same_type, i, j, original, candidate))
    ranked.sort(key=lambda row: row[:4])
    done: set[int] = set()
    for _, _, _, _, original, candidate in ranked:
        if id(original) in done or id(candidate) not in free:
            continue
        done.add(id(original))
        pairs.append((original, free.pop(id(candidate))))
    return pairs


def _keypoint_likeness(mine: _Families, pose: Annotation, theirs: _Families, other: Annotation) -> float:
    """How alike two poses' keypoints are (same names, nearby), in [0, 1]."""
    ours = {c.annotation_definition.label: c.annotation_definition for c in mine.children[pose.id]}
    back = {c.annotation_definition.label: c.annotation_definition for c in theirs.children.get(other.id, [])}
    shared = [name for name in ours if name in back and ours[name].type == back[name].type == "point"]
    if not shared:
        return 0.5 if not ours and not back else 0.0
    distance = sum(((ours[n].x - back[n].x) ** 2 + (ours[n].y - back[n].y) ** 2) ** 0.5 for n in shared) / len(shared)
    return len(shared) / max(len(ours), len(back)) / (1.0 + distance)


def _unlabeled_at_origin(point: Annotation) -> bool:
    """A keypoint "0 0 0": not labelled, stored at the origin — what COCO and YOLO write for no keypoint."""
    from .formats._keypoints import visibility

    definition = point.annotation_definition
    return visibility(point) == 0 and definition.type == "point" and definition.x == 0 and definition.y == 0


def _keypoint_change(point: Annotation, returned: Annotation, tolerance: Tolerance) -> str | None:
    """What changed in a keypoint: its position, its visibility (however each format spells it), the rest."""
    from .formats._keypoints import VISIBILITY_ATTRIBUTE, visibility

    what = geometry_change(point.annotation_definition, returned.annotation_definition, tolerance)
    if what is None and visibility(point) != visibility(returned):
        what = f"visibility changed: {visibility(point)} → {visibility(returned)}"
    if what is None:
        mine, theirs = ({k: v for k, v in a.attributes.items() if k != VISIBILITY_ATTRIBUTE} for a in (point, returned))
        if mine != theirs:
            what = f"attributes changed: {mine!r} → {theirs!r}"
    return what
