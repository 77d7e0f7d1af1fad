"""Checks over a dataset in any format, for ``dlconvert validate`` and ``info``.

A source is read through its format's own reader with ``on_error="skip"``, so every file or record
the reader refuses is listed with its place (file, JSON pointer or line) instead of stopping at the
first: an error. What the reader leaves out on purpose and reports (a Labelbox mask only at a URL, a
data row nobody labelled) is listed as skipped, with its reason, and counted by reason; it is no
error (:attr:`dlconvert.report.Issue.severity` is the one rule). Every item read is then checked for
what parsing does not enforce (:func:`check_collection`): degenerate shapes, duplicate ids, dangling
parent ids, masks that do not fit their item, the same annotation twice, shapes outside the image. A
YOLO source also gets Ultralytics' label-file counts: found, missing (an image without a label file:
no objects), empty, corrupt (a file with a line or more that could not be read), plus label files
without an image. A path that holds nothing of the named format is an error that says what was
looked for.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DlconvertError, FormatError, json_pointer
from .summary import DatasetSummary

if TYPE_CHECKING:
    from .annotation import Annotation
    from .collection import AnnotationCollection
    from .dataset import ConvertOptions
    from .report import Issue

__all__ = ["LabelFiles", "Problem", "SourceCheck", "check_collection", "check_source", "problem_from_error",
           "problem_from_issue"]

#: How far (pixels) a shape may reach past the image's edges before it is reported.
OUTSIDE_TOLERANCE = 1.0
#: YOLO reader codes of a label file with a line or more it could not read (Ultralytics: corrupt).
_CORRUPT_LABEL_CODES = frozenset({"yolo.invalid-line", "yolo.invalid-file"})
#: YOLO reader codes of a label file, or an entry of an image list, whose image is not there.
_IMAGE_NOT_FOUND_CODES = frozenset({"yolo.image-not-found"})


@dataclass(frozen=True)
class Problem:
    """One finding: ``severity`` is ``"error"`` (malformed, unreadable), ``"warning"`` (suspicious) or
    ``"skipped"`` (what the reader leaves out on purpose and says why: a mask only at a URL, a data row
    nobody labelled — not wrong, but not read either)."""

    severity: str
    path: str | None
    where: str | None
    message: str
    code: str | None = None  # the reader's report code, for problems a reader reported

    def __str__(self) -> str:
        location = ":".join(p for p in (self.path, self.where) if p)
        message = f"{self.message} [{self.code}]" if self.severity == "skipped" and self.code else self.message
        return f"{self.severity}: {location}: {message}" if location else f"{self.severity}: {message}"

    def to_json(self) -> dict:
        return asdict(self)


def problem_from_error(error: DlconvertError) -> Problem:
    return Problem("error", error.path, error.where, error.message)


def problem_from_issue(issue: Issue) -> Problem:
    """What a reader reported, as :attr:`Issue.severity` tells it: a file or record it could not read (an
    error), a warning about the source, or what it left out on purpose (skipped, with the reason)."""
    return Problem(issue.severity, issue.path or issue.item, issue.where, issue.message, issue.code)


# ==== one item ======================================================================================
def check_collection(collection: AnnotationCollection, path: str | None = None, *,
                     fmt: str = "dataloop") -> list[Problem]:
    """Problems of an item that was read: degenerate shapes, dangling parent ids, duplicate ids, the same
    annotation twice, masks that do not fit the item, shapes outside the image.

    Each is placed where the reader says the annotation came from (``Annotation.origin``), else by
    its JSON pointer in a Dataloop item file, else by its number in the item.
    """
    found: list[Problem] = []
    path = path if path is not None else collection.origin
    ids = Counter(a.id for a in collection if a.id)
    known = set(ids)
    twins: dict[Any, int] = {}
    width, height = collection.display_size
    for index, annotation in enumerate(collection):
        at, where = _place(collection, index, annotation, path, fmt)

        def report(severity: str, message: str, suffix: str = "", at=at, where=where) -> None:
            """``suffix``: the JSON pointer below the annotation, where its place is a JSON pointer."""
            found.append(Problem(severity, at, where + suffix if where.startswith("/") else where, message))

        try:
            messages = annotation.annotation_definition.problems()
        except DlconvertError as exc:  # a mask is decoded only now: a corrupt PNG shows up here
            if annotation.origin:  # where the mask itself is (the reader kept it)
                at, where = annotation.origin[0] or at, annotation.origin[1]
            elif where.startswith("/"):
                where += "/coordinates"
            found.append(Problem("error", at, where + (exc.where or "") if where.startswith("/") else where,
                                 exc.message))
            continue
        for message in messages:
            report("warning", message)
        if annotation.id and ids[annotation.id] > 1:
            report("warning", f"annotation id {annotation.id} appears {ids[annotation.id]} times")
        if annotation.parent_id and annotation.parent_id not in known:
            report("warning", f"parent annotation {annotation.parent_id} is not in this item",
                   "/metadata/system/parentId")
        twin = _twin_key(annotation)
        if twin is not None:
            if twin in twins:
                report("warning", f"the same {annotation.type} {annotation.label!r} as annotation {twins[twin] + 1} "
                                  "of this item (a duplicate)")
            else:
                twins[twin] = index
        if annotation.type == "binary" and collection.width and collection.height:
            mask_height, mask_width = annotation.annotation_definition.shape
            if (mask_width, mask_height) not in ((collection.width, collection.height), (width, height)):
                report("warning", f"mask is {mask_width}×{mask_height} but the item is "
                                  f"{collection.width}×{collection.height}", "/coordinates")
        elif width and height and not messages:
            outside = _outside(annotation, width, height)
            if outside:
                report("warning", outside, "/coordinates")
    return found


def _place(collection: AnnotationCollection, index: int, annotation: Annotation, path: str | None,
           fmt: str) -> tuple[str | None, str]:
    """``(file, where)`` of an annotation: the reader's own record of it, else the best we can say."""
    if annotation.origin and annotation.type != "binary":
        origin_path, origin_where = annotation.origin
        return origin_path or path, origin_where
    if fmt == "dataloop":
        return path, json_pointer("annotations", index)
    own_id = _section(annotation.metadata, "user", fmt).get("id")
    ident = f" (id {own_id})" if isinstance(own_id, (int, str)) and not isinstance(own_id, bool) else ""
    return path or collection.filename, f"annotation {index + 1}{ident} of {collection.filename}"


def _section(data: Any, *keys: str) -> dict:
    from .formats._metadata import section

    return section(data, *keys)


def _twin_key(annotation: Annotation) -> Any:
    """What makes two annotations of one item the same object twice (None: not compared)."""
    if annotation.frames is not None or annotation.type in ("pose", "subtitle"):
        return None
    from ._json import dumps

    definition = annotation.annotation_definition
    try:
        coordinates = dumps(definition.to_coordinates())
    except (TypeError, ValueError):
        return None
    return annotation.type, definition.label, annotation.parent_id, coordinates


def _outside(annotation: Annotation, width: int, height: int) -> str | None:
    """Why a shape reaches past the image's edges (by more than :data:`OUTSIDE_TOLERANCE`), or None."""
    if annotation.type not in ("box", "segment", "polyline", "point", "ellipse", "cube"):
        return None
    left, top, right, bottom = annotation.annotation_definition.bounds()
    tolerance = OUTSIDE_TOLERANCE
    if left >= -tolerance and top >= -tolerance and right <= width + tolerance and bottom <= height + tolerance:
        return None
    return (f"{annotation.type} reaches outside the {width}×{height} image "
            f"(x {left:g} to {right:g}, y {top:g} to {bottom:g})")


# ==== a whole source =================================================================================
@dataclass
class LabelFiles:
    """Ultralytics' counts of a YOLO dataset's label files (``Scanning … N images, M backgrounds …``)."""

    found: int = 0
    missing: int = 0  # images without a label file: items without objects
    empty: int = 0
    corrupt: int = 0  # label files with a line or more the reader refused (listed as errors)
    images_not_found: int = 0  # label files (or image-list entries) whose image is not there (listed as errors)

    def to_text(self) -> str:
        return (f"{self.found} found, {self.missing} missing, {self.empty} empty, {self.corrupt} corrupt; "
                f"{self.images_not_found} images not found")

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SourceCheck:
    """What reading and checking a source found."""

    format: str
    source: str
    summary: DatasetSummary = field(default_factory=DatasetSummary)
    problems: list[Problem] = field(default_factory=list)
    label_files: LabelFiles | None = None  # YOLO only

    def count(self, severity: str) -> int:
        return sum(p.severity == severity for p in self.problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def skipped(self) -> Counter:
        """What the reader left out on purpose, by reason (its report code): not counted among the items and
        annotations, and no error."""
        return Counter(p.code for p in self.problems if p.severity == "skipped")

    def skipped_text(self) -> str:
        """``2 skipped by the reader (labelbox.mask-not-fetched 2)``, or "" when none."""
        skipped = self.skipped()
        if not skipped:
            return ""
        reasons = ", ".join(f"{code} {count}" for code, count in sorted(skipped.items()))
        return f"{sum(skipped.values())} skipped by the reader ({reasons})"

    def totals(self) -> str:
        """One line: ``5 items checked: 0 errors, 0 warnings`` (and what the reader skipped, by reason)."""
        line = f"{self.summary.items} items checked: {self.count('error')} errors, {self.count('warning')} warnings"
        return f"{line}, {self.skipped_text()}" if self.skipped() else line

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "source": self.source,
            "items": self.summary.items,
            "errors": self.count("error"),
            "warnings": self.count("warning"),
            "skipped": dict(sorted(self.skipped().items())),
            "label_files": None if self.label_files is None else self.label_files.to_json(),
            "problems": [p.to_json() for p in self.problems],
        }


def check_source(src: str | os.PathLike[str], fmt: str = "dataloop", options: ConvertOptions | None = None, *,
                 deep: bool = True, progress: Callable | None = None) -> SourceCheck:
    """Read ``src`` as ``fmt`` with every bad file and record reported, summarise it and (``deep``) check
    every item; raises :class:`FormatError` when ``src`` holds nothing of ``fmt``.

    ``progress`` is a tqdm-like callable wrapped around the items (``progress(items, total=n)``).
    """
    from .dataset import ConvertOptions
    from .formats import get_format
    from .report import ConversionReport, OnError

    spec = get_format(fmt)
    if spec.read is None:
        raise FormatError(f"dlconvert cannot read {spec.name}")
    src = Path(src)
    report = ConversionReport(source_format=spec.name, on_error=OnError.SKIP, source=str(src))
    dataset = spec.read(src, options or ConvertOptions(), report)
    result = SourceCheck(spec.name, str(src))
    items: Iterable[AnnotationCollection] = dataset.items
    if progress is not None:
        items = progress(items, total=dataset.total)
    yolo = _YoloLabels() if spec.name == "yolo" else None
    problems: list[Problem] = []
    for collection in _counted(items, report):
        result.summary.add(collection)
        if yolo is not None:
            yolo.add(collection)
        if deep:
            problems.extend(check_collection(collection, fmt=spec.name))
    reader_problems = [problem_from_issue(i) for i in report.issues]
    result.problems = _in_file_order(reader_problems + problems)
    if yolo is not None:
        result.label_files = yolo.counts(report.issues)
    # unreadable files of the format are listed, and so is what the reader left out on purpose (no item of it)
    if not any(p.severity in ("error", "skipped") for p in reader_problems):
        _require_something(spec, src, result, dataset.declared_empty)
    return result


def _counted(items: Iterable[AnnotationCollection], report) -> Iterator[AnnotationCollection]:
    for collection in items:
        report.read_item(collection)
        yield collection


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Problems grouped by file, files in the order first met, each file's problems in the order found."""
    by_path: dict[str | None, list[Problem]] = defaultdict(list)
    for problem in problems:
        by_path[problem.path].append(problem)
    return [p for group in by_path.values() for p in group]


def _require_something(spec, src: Path, result: SourceCheck, declared_empty: bool) -> None:
    """Refuse a path that holds nothing of the format (see :func:`formats.require_items`; the YOLO reader
    itself refuses images without one label file or class name, as Ultralytics' "No labels found")."""
    from .formats import require_items

    require_items(spec, src, result.summary.items, declared_empty=declared_empty)


class _YoloLabels:
    """Counts label files from the items a YOLO reader gave and the problems it reported.

    An item has a label file when the reader names it (the item's ``origin``), when objects were read
    for it, or when a line of it could not be read (the report names the item); else it is missing.
    """

    def __init__(self) -> None:
        self.items: list[tuple[str | None, str | None, int]] = []  # (filename, label file, annotations)

    def add(self, collection: AnnotationCollection) -> None:
        self.items.append((collection.filename, _label_file(collection), len(collection)))

    def counts(self, issues: list[Issue]) -> LabelFiles:
        bad = [i for i in issues if i.code in _CORRUPT_LABEL_CODES]
        bad_items = {i.item for i in bad if i.item is not None}
        unread_files = {os.fspath(i.path) for i in bad if i.item is None and i.path}  # no item came of them
        counts = LabelFiles(corrupt=len({os.fspath(i.path) for i in bad if i.path}),
                            images_not_found=sum(1 for i in issues if i.code in _IMAGE_NOT_FOUND_CODES))
        counts.found = len(unread_files)
        for filename, label, objects in self.items:
            if label is None and not objects and filename not in bad_items:
                counts.missing += 1
                continue
            counts.found += 1
            if not objects and filename not in bad_items:
                counts.empty += 1
        return counts


def _label_file(collection: AnnotationCollection) -> str | None:
    """The label file a YOLO item was read from: its ``origin`` when that is not its image."""
    origin = collection.origin
    if not origin or origin == collection.image_path or Path(origin).suffix.lower() != ".txt":
        return None
    return os.fspath(origin)
