"""ConversionReport: what a conversion read, wrote, approximated, skipped and failed on.

The ledger balances per annotation type: every annotation read is either written or skipped
with a reason (``annotations_in == annotations_out + skipped``). Approximations (a rotated box
written as a polygon, an ellipse as a polygon) are written *and* listed, so nothing changes
shape silently.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import DlconvertError, OutputError

if TYPE_CHECKING:
    from .annotation import Annotation
    from .collection import AnnotationCollection

__all__ = ["ConversionReport", "Issue", "OnError"]


class OnError:
    """Error policies: stop at the first bad file or record, or skip it and report it."""

    FAIL = "fail"
    SKIP = "skip"
    ALL = (FAIL, SKIP)


@dataclass(frozen=True)
class Issue:
    """One reported event. ``code`` is a stable dotted id (``coco.unsupported-type``) to filter on."""

    kind: str  # "skipped", "approximated", "failed" or "warning"
    code: str
    message: str
    item: str | None = None
    annotation_id: str | None = None
    annotation_type: str | None = None
    label: str | None = None
    path: str | None = None
    where: str | None = None
    #: A record that could not be read (:meth:`ConversionReport.bad_record`), skipped under ``on_error="skip"``;
    #: a "skipped" issue without it is a deliberate skip: what the format holds and the reader or writer leaves out.
    bad_input: bool = False

    @property
    def severity(self) -> str:
        """The one rule telling bad data from the rest: ``"error"`` for a file, item or record that could not be
        read (failed, or a bad record), ``"warning"`` for what a reader says about the data, else the kind
        (``"skipped"``: left out on purpose and reported with its reason; ``"approximated"``)."""
        if self.kind == "failed" or self.bad_input:
            return "error"
        return self.kind

    def __str__(self) -> str:
        place = ":".join(p for p in (self.path or self.item, self.where) if p)
        ident = f" [{self.annotation_type} {self.label!r} id={self.annotation_id}]" if self.annotation_type else ""
        return f"{self.kind} {self.code}: {place}{ident}: {self.message}"


@dataclass
class ConversionReport:
    """Counts and issues of one conversion; returned by the API, saved by ``--report``."""

    source_format: str | None = None
    target_format: str | None = None
    on_error: str = OnError.FAIL
    items_in: int = 0
    items_out: int = 0
    annotations_in: Counter = field(default_factory=Counter)  # by type
    annotations_out: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    approximated: Counter = field(default_factory=Counter)  # by type: annotations written in another shape
    labels_in: Counter = field(default_factory=Counter)
    labels_out: Counter = field(default_factory=Counter)
    issues: list[Issue] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    error_log: str | None = None
    source: str | None = None  # what was read (named by errors about an item that has no file of its own)
    #: The annotation the last approximation was about: one annotation approximated in two ways (its
    #: shape, its attributes) is one approximated annotation. Not pickled.
    _last_approximated: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {key: value for key, value in self.__dict__.items() if key != "_last_approximated"}

    # -- reading ----------------------------------------------------------------------------
    def read_item(self, collection: AnnotationCollection) -> None:
        """Count an item and its annotations as read."""
        self.items_in += 1
        for annotation in collection:
            self.annotations_in[annotation.type] += 1
            self.labels_in[annotation.annotation_definition.label] += 1

    def bad_record(self, error: DlconvertError, *, code: str, annotation_type: str = "unknown",
                   item: str | None = None, label: str | None = None) -> None:
        """A record that could not be read: raise it, or (``skip``) count it as read and skipped (named by
        its ``label`` when the record gives one)."""
        if self.on_error != OnError.SKIP:
            raise error
        self.annotations_in[annotation_type] += 1
        self.skipped[annotation_type] += 1
        self.issues.append(Issue("skipped", code, error.message, item=item, annotation_type=annotation_type,
                                 label=label, path=error.path, where=error.where, bad_input=True))

    def failed(self, error: DlconvertError, *, code: str = "file.invalid") -> None:
        """A file or item record that could not be read: raise it, or (``skip``) list it and go on."""
        if self.on_error != OnError.SKIP:
            raise error
        self.issues.append(Issue("failed", code, error.message, path=error.path, where=error.where))

    def bad_item(self, error: DlconvertError, collection: AnnotationCollection, *, code: str) -> None:
        """An item the target cannot write (its output path is unsafe or taken): raise, or skip all of it.

        The error names the file the item was read from and the item, not the output path.
        """
        error = OutputError(error.message, path=collection.origin or self.source,
                            where=f"item {collection.filename!r}")
        if self.on_error != OnError.SKIP:
            raise error
        for annotation in collection:
            self.skip(annotation, code, error.message, collection.filename, path=error.path, where=error.where)
        self.issues.append(Issue("failed", code, error.message, item=collection.filename, path=error.path,
                                 where=error.where))

    # -- writing ----------------------------------------------------------------------------
    def wrote(self, annotation: Annotation) -> None:
        self.annotations_out[annotation.type] += 1
        self.labels_out[annotation.annotation_definition.label] += 1

    def skip(self, annotation: Annotation, code: str, message: str, item: str | None = None, *,
             path: str | None = None, where: str | None = None) -> None:
        """An annotation the target cannot hold (or, with ``path``, a bad one): counted and listed, never dropped."""
        self.skipped[annotation.type] += 1
        self.issues.append(_issue("skipped", code, message, annotation, item, path, where))

    def skip_row(self, annotation_type: str, label: str | None, code: str, message: str, item: str | None) -> None:
        """:meth:`skip` for a table row (:mod:`dlconvert.table`) that has no annotation object (and no id)."""
        self.skipped[annotation_type] += 1
        self.issues.append(Issue("skipped", code, message, item=item, annotation_type=annotation_type, label=label))

    def approximate(self, annotation: Annotation, code: str, message: str, item: str | None = None) -> None:
        """An annotation written in another shape (also count it with :meth:`wrote`)."""
        self.issues.append(_issue("approximated", code, message, annotation, item))
        if annotation is not self._last_approximated:
            self.approximated[annotation.type] += 1
            self._last_approximated = annotation

    def approximate_row(self, annotation_type: str, label: str | None, code: str, message: str,
                        item: str | None, *, again: bool = False) -> None:
        """:meth:`approximate` for a table row that has no annotation object (and no id); ``again`` for the
        second approximation of the same row."""
        self.issues.append(Issue("approximated", code, message, item=item, annotation_type=annotation_type,
                                 label=label))
        if not again:
            self.approximated[annotation_type] += 1

    def merge(self, shard: ConversionReport) -> None:
        """Add the counts and issues of a shard of this conversion, listed after the ones already here."""
        self.items_in += shard.items_in
        self.items_out += shard.items_out
        for mine, theirs in ((self.annotations_in, shard.annotations_in), (self.annotations_out, shard.annotations_out),
                             (self.skipped, shard.skipped), (self.approximated, shard.approximated),
                             (self.labels_in, shard.labels_in),
                             (self.labels_out, shard.labels_out)):
            mine.update(theirs)
        self.issues.extend(shard.issues)

    def blank(self) -> ConversionReport:
        """An empty report of the same conversion, for a shard to fill."""
        return ConversionReport(source_format=self.source_format, target_format=self.target_format,
                                on_error=self.on_error, source=self.source)

    # -- results ----------------------------------------------------------------------------
    @property
    def failed_files(self) -> list[Issue]:
        return [i for i in self.issues if i.kind == "failed"]

    def unbalanced(self) -> dict[str, tuple[int, int, int]]:
        """Types whose in ≠ out + skipped, as ``{type: (in, out, skipped)}``; empty when all add up."""
        types = set(self.annotations_in) | set(self.annotations_out) | set(self.skipped)
        return {
            t: (self.annotations_in[t], self.annotations_out[t], self.skipped[t])
            for t in sorted(types)
            if self.annotations_in[t] != self.annotations_out[t] + self.skipped[t]
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "source_format": self.source_format,
            "target_format": self.target_format,
            "on_error": self.on_error,
            "items_in": self.items_in,
            "items_out": self.items_out,
            "annotations_in": dict(sorted(self.annotations_in.items())),
            "annotations_out": dict(sorted(self.annotations_out.items())),
            "skipped": dict(sorted(self.skipped.items())),
            "approximated": dict(sorted(self.approximated.items())),
            "labels_in": {str(k): v for k, v in sorted(self.labels_in.items(), key=lambda kv: str(kv[0]))},
            "labels_out": {str(k): v for k, v in sorted(self.labels_out.items(), key=lambda kv: str(kv[0]))},
            "balanced": not self.unbalanced(),
            "issues": [asdict(i) for i in self.issues],
            "outputs": self.outputs,
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        from ._io import atomic_write
        from ._json import dumps

        atomic_write(path, dumps(self.to_json()))

    def summary(self, max_issues: int = 20) -> str:
        """A few lines for people: totals, the count per reason, then the first issues and a count of the rest.

        Per-reason counts add up to the totals: annotation issues are counted per annotation, and
        issues about a whole item or file (no annotation) are counted apart, as items. An annotation
        approximated in two ways (its shape and its attributes) is one approximated annotation, under
        both reasons.
        """
        total_in = sum(self.annotations_in.values())
        total_out = sum(self.annotations_out.values())
        total_skipped = sum(self.skipped.values())
        of_annotations = Counter((i.kind, i.code) for i in self.issues if i.annotation_type is not None)
        of_items = Counter((i.kind, i.code) for i in self.issues if i.annotation_type is None)
        approximated = sum(self.approximated.values())
        lines = [
            f"items: {self.items_in} read, {self.items_out} written",
            f"annotations: {total_in} read, {total_out} written, {total_skipped} skipped, {approximated} approximated",
        ]
        failed = sum(n for (kind, _), n in of_items.items() if kind == "failed")
        if failed:
            lines.append(f"files failed: {failed}")
        for (kind, code), count in sorted(of_annotations.items()):
            lines.append(f"  {count:>6} {kind} {code}")
        listed = sum(n for (kind, _), n in of_annotations.items() if kind == "skipped")
        if total_skipped > listed:  # counted by a step that listed only their item (a failed upload)
            lines.append(f"  {total_skipped - listed:>6} skipped with their item (see the failed items)")
        for (kind, code), count in sorted(of_items.items()):
            lines.append(f"  {count:>6} {kind} {code} ({'file or item' if kind == 'failed' else 'items'})")
        for issue in self.issues[:max_issues]:
            lines.append(f"  {issue}")
        if max_issues and len(self.issues) > max_issues:
            lines.append(f"  … and {len(self.issues) - max_issues} more (see --report)")
        return "\n".join(lines)


def _issue(kind: str, code: str, message: str, annotation: Annotation, item: str | None, path: str | None = None,
           where: str | None = None) -> Issue:
    return Issue(kind, code, message, item=item, annotation_id=annotation.id, annotation_type=annotation.type,
                 label=annotation.annotation_definition.label, path=path, where=where)
