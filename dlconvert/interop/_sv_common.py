"""What both directions of the supervision bridge share: the ``data`` keys, the class numbering, the
import of supervision itself, and the report that is warned about when the caller passed none."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..labels import LabelMap
from ..report import ConversionReport

if TYPE_CHECKING:
    from types import ModuleType

__all__ = ["ANNOTATION_ID", "ATTRIBUTES", "CLASS_NAME", "DATALOOP_TYPE", "INSTALL", "ISCROWD", "NO_TRACKER",
           "OBB_CORNERS", "ClassIndex", "import_supervision", "json_value", "report_or_warn", "warn_about"]

#: ``Detections.data`` keys. ``class_name``, ``xyxyxyxy`` and ``iscrowd`` are supervision's own
#: (``supervision.config``: CLASS_NAME_DATA_FIELD, ORIENTED_BOX_COORDINATES, ISCROWD_DATA_FIELD).
CLASS_NAME = "class_name"
OBB_CORNERS = "xyxyxyxy"
ISCROWD = "iscrowd"
ATTRIBUTES = "attributes"  # the Dataloop v2 attributes of each row, a dict
ANNOTATION_ID = "annotation_id"  # the Dataloop annotation id, or None
DATALOOP_TYPE = "dataloop_type"  # the Dataloop type the row was made from ("box", "binary", "segment", "ellipse")

#: ``tracker_id`` of a row without an object id, when other rows of the item have one.
NO_TRACKER = -1

#: The install hint of the optional extra.
INSTALL = 'pip install "dlconvert[supervision]"'


def import_supervision() -> ModuleType:
    """The ``supervision`` package, or an ImportError that says how to install it."""
    try:
        import supervision
    except ImportError as exc:
        raise ImportError(f"the supervision bridge needs the supervision package: {INSTALL}") from exc
    return supervision


class ClassIndex:
    """Label → ``class_id``: a label map's YOLO order, the user's class list or ``{name: id}`` mapping.

    The user's classes are pinned (no label is added, as a pinned :class:`LabelMap`); a map found in
    the data grows: a label it lacks gets the next index the first time it is met, so every index
    stays what it was.
    """

    def __init__(self, index: dict[str, int], pinned: bool) -> None:
        self.index = index
        self.pinned = pinned

    @classmethod
    def given(cls, labels: LabelMap | Iterable[str] | Mapping[str, int]) -> ClassIndex:
        """The user's classes: a LabelMap (its YOLO order), class names in index order, or ``{name: class_id}``."""
        if isinstance(labels, LabelMap):
            return cls({name: i for i, name in enumerate(labels.yolo_names())}, pinned=True)
        if isinstance(labels, Mapping):
            index = {}
            for name, value in labels.items():
                if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise ValueError(f"labels must map class names to class ids (whole numbers ≥ 0), not "
                                     f"{name!r}: {value!r}")
                index[name] = value
            return cls(index, pinned=True)
        if isinstance(labels, str):
            raise ValueError("labels must be a LabelMap, a list of class names or {name: class_id}, not a string")
        names = list(labels)
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise ValueError("labels must be distinct class names (strings), in class-id order")
        return cls({name: i for i, name in enumerate(names)}, pinned=True)

    @classmethod
    def found(cls, label_map: LabelMap | None) -> ClassIndex:
        """A map found in the data (a reader's), or none yet: grows as labels are met."""
        names = label_map.yolo_names() if label_map is not None else []
        return cls({name: i for i, name in enumerate(names)}, pinned=False)

    def class_id(self, label: str) -> int | None:
        """The label's class id (added when the index is not pinned); None when a pinned index lacks it."""
        if label not in self.index:
            if self.pinned:
                return None
            self.index[label] = len(self.index)
        return self.index[label]

    def names(self) -> list[str]:
        """Class names by id, for ``DetectionDataset.classes``: the ids must be 0…K−1."""
        by_id = sorted(self.index.items(), key=lambda kv: kv[1])
        if [i for _, i in by_id] != list(range(len(by_id))):
            raise ValueError("a DetectionDataset numbers its classes 0…K−1; the class ids given are "
                             f"{sorted(self.index.values())}")
        return [name for name, _ in by_id]


def report_or_warn(report: ConversionReport | None, source: str, target: str) -> tuple[ConversionReport, bool]:
    """The caller's report, or a fresh one to warn about at the end (``True`` when it is ours)."""
    if report is not None:
        return report, False
    return ConversionReport(source_format=source, target_format=target), True


def warn_about(report: ConversionReport, what: str) -> None:
    """One warning naming every reason something was skipped or approximated (nothing is lost silently)."""
    reasons = Counter((issue.kind, issue.code) for issue in report.issues)
    if not reasons:
        return
    listed = ", ".join(f"{count} {kind} {code}" for (kind, code), count in sorted(reasons.items()))
    warnings.warn(f"{what}: {listed} (pass report=ConversionReport() to see each one)", stacklevel=3)


def json_value(value: Any) -> tuple[bool, Any]:
    """``(True, value as JSON)`` for numbers, strings, booleans, None and nested lists/dicts of them
    (numpy scalars and arrays included); ``(False, None)`` for anything else."""
    import math

    import numpy as np

    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return True, value
    if isinstance(value, (int, float)):
        return (not isinstance(value, float) or math.isfinite(value)), value
    if isinstance(value, (list, tuple)):
        parts = [json_value(v) for v in value]
        return all(ok for ok, _ in parts), [v for _, v in parts]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        parts = {k: json_value(v) for k, v in value.items()}
        return all(ok for ok, _ in parts.values()), {k: v for k, (_, v) in parts.items()}
    return False, None
