"""Finding and reading Labelbox export files: which files a source holds, and their rows, within bounds.

An export is NDJSON (export v2: one data row per line), or a JSON document: the legacy export (a
list of label rows) or an export v2 result saved with ``json.dump`` (a list of data rows, or one).
Each row comes with its place — ``line 12`` of an NDJSON file, ``/3`` of a JSON list — so that every
error names the file, the line and the JSON pointer.

Input is untrusted: a line longer than :data:`MAX_LINE_BYTES` or a JSON file larger than
:data:`MAX_JSON_BYTES` is refused before it is parsed; lines are read one at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._json import loads
from ...errors import FormatError, json_pointer

__all__ = ["EXTENSIONS", "LOOKS_FOR", "MAX_JSON_BYTES", "MAX_LINE_BYTES", "Row", "detect", "export_files",
           "is_ndjson", "rows_of"]

LOOKS_FOR = ("a Labelbox export: an .ndjson file of data rows (export v2: data_row, projects) or a .json "
             "list of label rows (the legacy export: 'Labeled Data', 'Label'), or a folder holding them")
EXTENSIONS = (".ndjson", ".jsonl", ".json")
#: One NDJSON line: a data row with every label and its polygons; far above real rows, far below memory.
MAX_LINE_BYTES = 256 * 2**20
#: A legacy JSON export is parsed whole: refused above this size (export NDJSON instead).
MAX_JSON_BYTES = 1024 * 2**20
_HEAD_BYTES = 64 * 1024  # what detection reads of a file
_HEAD_FILES = 20  # detection reads the heads of at most this many files of a folder
_V2_HEAD = re.compile(rb'^\s*(?:\[\s*)?\{\s*"data_row"\s*:\s*\{')  # no two \s* side by side: linear
_LEGACY_KEYS = (b'"Labeled Data"', b'"DataRow ID"')


@dataclass
class Row:
    """One row of an export: a v2 data row (``"data_row"`` in it) or a legacy label row."""

    data: Any
    path: Path
    place: str  # "line 12" (NDJSON) or "/3" (a JSON list) or "" (a JSON document that is one row)

    def where(self, *pointer: Any) -> str:
        """The place of a value inside the row: ``line 12 /projects/p/labels/0`` or ``/3/Label/objects/0``."""
        inner = json_pointer(*pointer)
        if self.place.startswith("line"):
            return f"{self.place} {inner}" if inner else self.place
        return self.place + inner or "/"

    @property
    def is_v2(self) -> bool:
        return isinstance(self.data, dict) and "data_row" in self.data


def detect(path: Path) -> str | None:
    """Why ``path`` looks like a Labelbox export (a file's head, a folder's names and its files' heads), or None."""
    path = Path(path)
    if path.is_file():
        return _why(path)
    if not path.is_dir():
        return None
    checked = 0
    for candidate in _candidates(path):
        why = _why(candidate)
        if why is not None:
            return f"{candidate.name}: {why}"
        checked += 1
        if checked >= _HEAD_FILES:
            break
    return None


def export_files(src: Path) -> list[Path]:
    """The export files of a source: the file itself, or each file of a folder whose head is a Labelbox
    export's, sorted (not its subfolders: the images are often there)."""
    if not src.is_dir():
        return [src]
    return [path for path in _candidates(src) if _why(path) is not None]


def rows_of(path: Path, failed: Callable[[FormatError], None]) -> Iterator[Row]:
    """The rows of one export file, in file order. A line that cannot be read is handed to ``failed``
    (which raises, or reports and goes on); a JSON document that cannot be read raises."""
    if is_ndjson(path):
        yield from _ndjson_rows(path, failed)
        return
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise FormatError(f"the file is {size} bytes; a Labelbox JSON export is read whole, up to "
                          f"{MAX_JSON_BYTES} bytes (export NDJSON instead: it is read line by line)", path=path)
    from ..._json import read_json_file

    document = read_json_file(path)
    if isinstance(document, dict):
        yield Row(document, path, "")
    elif isinstance(document, list):
        for index, data in enumerate(document):
            yield Row(data, path, f"/{index}")
    else:
        raise FormatError(f"a Labelbox JSON export is a list of rows, not {type(document).__name__}", path=path)


# -- internals ---------------------------------------------------------------------------------------
def _candidates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in EXTENSIONS and not p.name.startswith(".") and p.is_file())


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError:
        return b""
    return head[3:] if head.startswith(b"\xef\xbb\xbf") else head


def _why(path: Path) -> str | None:
    """Why one file looks like a Labelbox export, from its head."""
    head = _head(path)
    if _V2_HEAD.match(head):
        layout = "NDJSON" if head.lstrip()[:1] == b"{" else "a JSON list"
        return f"{layout} of data rows with 'data_row' (Labelbox export v2)"
    stripped = head.lstrip()
    if stripped[:1] == b"[" and stripped[1:].lstrip()[:1] == b"{" and any(k in head for k in _LEGACY_KEYS) \
            and b'"Label"' in head:
        return "a JSON list of label rows with 'Labeled Data' and 'Label' (Labelbox legacy JSON export)"
    return None


def is_ndjson(path: Path) -> bool:
    """NDJSON by its name, or by its head: a first line that is one object and a second that starts another."""
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        return True
    head = _head(path).lstrip()
    return head[:1] == b"{" and re.search(rb"\}\s*\n\s*\{", head) is not None


def _ndjson_rows(path: Path, failed: Callable[[FormatError], None]) -> Iterator[Row]:
    with open(path, "rb") as handle:
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # the rest of the line, in bounded pieces
                    raw = handle.readline(2**20)
                failed(FormatError(f"the line is longer than {MAX_LINE_BYTES} bytes", path=path,
                                   where=f"line {number}"))
                continue
            if not raw.strip():
                continue
            try:
                data = loads(raw, path=path)
            except FormatError as exc:  # its line is 1: the line of the file is ours
                column = re.search(r"column (\d+)", exc.where or "")
                where = f"line {number}" + (f" column {column.group(1)}" if column else "")
                failed(FormatError(exc.message, path=path, where=where))
                continue
            yield Row(data, path, f"line {number}")

