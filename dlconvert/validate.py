"""Checks over items beyond what parsing enforces: geometry that cannot be drawn or converted,
broken links between annotations, masks that do not fit their item."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .collection import AnnotationCollection
from .errors import DlconvertError, json_pointer

__all__ = ["Problem", "check_collection", "problem_from_error"]


@dataclass(frozen=True)
class Problem:
    """One finding: ``severity`` is ``"error"`` (malformed) or ``"warning"`` (suspicious)."""

    severity: str
    path: str | None
    where: str | None
    message: str

    def __str__(self) -> str:
        location = ":".join(p for p in (self.path, self.where) if p)
        return f"{self.severity}: {location}: {self.message}" if location else f"{self.severity}: {self.message}"


def problem_from_error(error: DlconvertError) -> Problem:
    return Problem("error", error.path, error.where, error.message)


def check_collection(collection: AnnotationCollection, path: str | None = None) -> list[Problem]:
    """Warnings for an item that parsed: degenerate shapes, dangling parent ids, duplicate ids."""
    found: list[Problem] = []
    ids = Counter(a.id for a in collection if a.id)
    known = set(ids)
    for index, annotation in enumerate(collection):
        where = json_pointer("annotations", index)
        try:
            messages = annotation.annotation_definition.problems()
        except DlconvertError as exc:  # a mask is decoded only now: a corrupt PNG shows up here
            found.append(Problem("error", path, where + "/coordinates" + (exc.where or ""), exc.message))
            messages = []
        for message in messages:
            found.append(Problem("warning", path, where, message))
        if annotation.id and ids[annotation.id] > 1:
            count = ids[annotation.id]
            found.append(Problem("warning", path, where, f"annotation id {annotation.id} appears {count} times"))
        if annotation.parent_id and annotation.parent_id not in known:
            found.append(Problem("warning", path, where + "/metadata/system/parentId",
                                 f"parent annotation {annotation.parent_id} is not in this item"))
        if annotation.type == "binary" and collection.width and collection.height:
            height, width = annotation.annotation_definition.shape
            expected = collection.display_size
            if (width, height) not in ((collection.width, collection.height), expected):
                item_size = f"{collection.width}×{collection.height}"
                found.append(Problem("warning", path, where + "/coordinates",
                                     f"mask is {width}×{height} but the item is {item_size}"))
    return found
