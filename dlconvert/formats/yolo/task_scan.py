"""The task of a YOLO dataset read, settled before its items are read in shards.

The reader records the dataset's task in the label map (``extras["yolo"]["task"]``): the richest
line kind read (:data:`~.common.RANK`), starting from ``pose`` with ``kpt_shape``, else the task
asked for, else ``detect``. One ordered pass can raise it as it meets a polygon (``segment``) or a
rotated box (``obb``); shards cannot — each would raise its own copy — so the task is settled
first, by :func:`settled_task`:

* With ``kpt_shape``, or a task of ``detect``, ``segment`` or ``pose`` asked for, no line can
  raise it (nothing outranks pose; under detect or segment every line read is a box or of that
  task): no pre-pass.
* Otherwise only a line of 7, 9, 11 … columns can (a polygon, or with 9 a rotated box). The label
  files are read as text and their lines counted (at 25k files 0.3 s of CPU, a twentieth of what
  reading the items costs). Without such a line the task stays where it starts.
* With such lines, ``segment`` — the richest a dataset without ``kpt_shape`` can reach — is settled
  by one witness: the first of those files whose item reads and has a polygon (read with the real
  reader, so a bad line or image counts as it would). A 9-column line is a rotated box or a
  polygon only by its corners in pixels (the image's size), so when the first
  :data:`WITNESS_TRIES` such files hold no polygon and more remain (an obb dataset), the task is
  left unsettled: the dataset is read in one process (``SourcePlan.one_pass``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import FormatError
from .common import RANK, read_text

if TYPE_CHECKING:
    from .layout import Source

__all__ = ["WITNESS_TRIES", "settled_task"]

#: Files with polygon-sized lines read whole in search of a polygon before the task is left to one pass.
WITNESS_TRIES = 16


def settled_task(sources: Iterable[Source], start: str, asked: str | None, kpt_shape: object,
                 kinds_of: Callable[[Source], set[str] | None]) -> str | None:
    """The task the items of ``sources`` leave in the label map, read from ``start`` (see the module
    docstring), or None when only reading every item tells. ``kinds_of(source)`` reads one item as the
    reader does and gives its line kinds (None: the item fails as a whole)."""
    if kpt_shape is not None or asked not in (None, "obb"):
        return start
    candidates = [source for source in sources if _may_raise(source, asked)]
    if not candidates:
        return start
    met = {start}
    for source in candidates[:WITNESS_TRIES]:
        kinds = kinds_of(source) or set()
        if "segment" in kinds:
            return "segment"
        met |= kinds
    if len(candidates) > WITNESS_TRIES:
        return None
    return max(met, key=RANK.__getitem__)  # every candidate was read: the richest kind met


def _may_raise(source: Source, asked: str | None) -> bool:
    """Whether the label file of ``source`` has a line that may be more than a box: 7, 9, 11 … columns
    (with the obb task asked for, only 9 columns read at all). Lines and columns are split as the reader
    splits them."""
    text = _label_text(source.label) if source.label is not None else None
    if text is None:  # no label file, or one the reader fails on as a whole: it raises nothing
        return False
    for line in text.splitlines():
        count = len(line.split())
        if count == 9 or (asked is None and count >= 7 and count % 2):
            return True
    return False


def _label_text(path: Path) -> str | None:
    """The text of a label file as the reader reads it, or None where the reader fails on it as a whole (a
    folder, a device, a pipe, bytes that are not UTF-8)."""
    try:
        return read_text(path)
    except FormatError:
        return None
