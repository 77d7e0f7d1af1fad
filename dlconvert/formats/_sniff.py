"""Bounded looks at files and folders, for format auto-detection (``FormatSpec.detect``).

Detection runs on untrusted paths before anything is known about them, and must never be slow on
a large dataset, so every look here is bounded and never raises for what it finds:

* a file is read only when it is a regular file (a link to ``/dev/zero``, a pipe or a socket is
  not opened — the descriptor is checked after a non-blocking open), and only its head: at most
  :data:`HEAD_BYTES` (:data:`JSON_HEAD_BYTES` for a JSON outline) and :data:`TAIL_BYTES` of its end;
* a folder is listed at most :data:`MAX_ENTRIES` entries deep, a walk goes at most
  :data:`MAX_DEPTH` levels down and visits at most :data:`MAX_FOLDERS` folders, each real folder
  once (a symbolic-link loop ends there); unreadable entries are left out.

A JSON document is outlined (:func:`json_outline`) without parsing it: a scanner reads the head
and records the top-level keys in order, the kind of each value and the keys of a list's first
element, skipping every value by bracket depth. COCO's keys come in any order and may follow
megabytes of ``images``; when the head ends inside a value, the last :data:`TAIL_BYTES` are
searched for keys too (``tail_keys``: keys at any depth there, weaker evidence), which finds the
``categories`` COCO writes last. Within one :func:`session` (one detection: every format asking
about one path) each folder is listed and each JSON file outlined once.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import json
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

__all__ = ["HEAD_BYTES", "JSON_HEAD_BYTES", "MAX_DEPTH", "JsonOutline", "first_line", "json_outline", "listing",
           "read_head", "relative", "search_below", "session", "walk", "xml_root"]

T = TypeVar("T")

HEAD_BYTES = 64 * 1024
JSON_HEAD_BYTES = 1024 * 1024
TAIL_BYTES = 64 * 1024
MAX_DEPTH = 3  # levels below the folder asked about
MAX_ENTRIES = 1000  # entries read from one folder
MAX_FOLDERS = 64  # folders one walk visits
MAX_KEYS = 256  # keys recorded of one object

_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("dlconvert_sniff_memo", default=None)


@contextlib.contextmanager
def session():
    """Within the block, a folder's listing and a file's outline are computed once (what the formats
    asking about one path share); outside it nothing is kept, so a changed file is never seen stale."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def _remembered(kind: str, key: object, compute):
    memo = _memo.get()
    if memo is None:
        return compute()
    if (kind, key) not in memo:
        memo[(kind, key)] = compute()
    return memo[(kind, key)]


# -- files -------------------------------------------------------------------------------------------
def _open_regular(path: str | os.PathLike[str]) -> int | None:
    """A descriptor of ``path`` when it is a regular file (links followed), else None; never blocks."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except (OSError, ValueError):  # missing, a link loop, no permission, a NUL in the name
        return None
    try:
        if stat.S_ISREG(os.fstat(descriptor).st_mode):
            return descriptor
    except OSError:
        pass
    os.close(descriptor)
    return None


def read_head(path: str | os.PathLike[str], limit: int = HEAD_BYTES, *, tail: bool = False) -> bytes | None:
    """The first (``tail``: last) ``limit`` bytes of a regular file, or None when it is not one or unreadable."""
    descriptor = _open_regular(path)
    if descriptor is None:
        return None
    try:
        if tail:
            size = os.fstat(descriptor).st_size
            os.lseek(descriptor, max(0, size - limit), os.SEEK_SET)
        chunks, left = [], limit
        while left > 0:
            chunk = os.read(descriptor, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(descriptor)


def _text(data: bytes) -> str:
    """Bytes as text for sniffing: UTF-8 (a BOM dropped), undecodable bytes replaced."""
    return data.decode("utf-8", "replace").lstrip("\ufeff")


def first_line(path: str | os.PathLike[str], limit: int = 4096) -> str | None:
    """The first line that is not blank (at most ``limit`` bytes read), stripped; None for none."""
    data = read_head(path, limit)
    if data is None:
        return None
    for line in _text(data).splitlines():
        if line.strip():
            return line.strip()
    return None


_XML_SKIP = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>", re.S)
_XML_TAG = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def xml_root(path: str | os.PathLike[str]) -> str | None:
    """The name of the root element of an XML file (without its namespace prefix), from its head; None
    when the head holds no element (not XML, or a prolog longer than :data:`HEAD_BYTES`)."""
    data = read_head(path)
    if data is None:
        return None
    text, position = _text(data), 0
    while True:
        skipped = _XML_SKIP.match(text, position)
        if skipped is None or skipped.end() == position:
            break
        position = skipped.end()
    tag = _XML_TAG.match(text, position)
    return tag.group(2) if tag else None


# -- JSON outlines --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JsonOutline:
    """What the head (and tail) of a JSON document show of its top level.

    ``kind``: ``"object"`` or ``"array"``. ``keys``: the object's top-level keys in the order seen,
    each with the first character of its value (``[``, ``{``, ``"``, a digit …). ``first_keys``: for
    each key whose value is a list of objects, the keys of its first object; for an array, under
    ``""``. ``complete``: the head held the whole top level. ``tail_keys``: keys at any depth in the
    last :data:`TAIL_BYTES`, when the head ended inside a value.
    """

    kind: str
    keys: dict[str, str] = field(default_factory=dict)
    first_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    complete: bool = False
    tail_keys: frozenset[str] = frozenset()

    def has(self, key: str) -> bool:
        """``key`` is a top-level key, or (when the head ended first) a key seen in the tail."""
        return key in self.keys or key in self.tail_keys

    def has_list(self, key: str) -> bool:
        """``key`` holds a list at the top level (or, beyond the head, is a key seen in the tail)."""
        return self.keys.get(key) == "[" or (key not in self.keys and key in self.tail_keys)

    def item_keys(self, key: str = "") -> tuple[str, ...]:
        """The keys of the first object of the list at ``key`` (``""``: of the top-level array)."""
        return self.first_keys.get(key, ())


_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_SCALAR = re.compile(r"-?[0-9][0-9.eE+\-]*|true|false|null")
_STRUCTURE = re.compile(r'["\[\]{}]')
_TAIL_KEY = re.compile(r'"([^"\\\n]{1,100})"\s*:')


class _Truncated(Exception):
    """The head ended (or the text stopped being JSON) before the scanner got where it was going."""


def _skip_ws(text: str, position: int) -> int:
    position = _WS.match(text, position).end()
    if position >= len(text):
        raise _Truncated
    return position


def _string_end(text: str, position: int) -> int:
    match = _STRING.match(text, position)
    if match is None:
        raise _Truncated
    return match.end()


def _string(text: str, position: int) -> tuple[str, int]:
    """A key: its decoded text and the position after it."""
    match = _STRING.match(text, position)
    if match is None:
        raise _Truncated
    try:
        value = json.loads(match.group())
    except ValueError:
        value = match.group()[1:-1]
    return value, match.end()


def _skip_value(text: str, position: int) -> int:
    """The position after the JSON value starting at ``position`` (containers skipped by bracket depth)."""
    char = text[position]
    if char == '"':
        return _string_end(text, position)
    if char not in "[{":
        match = _SCALAR.match(text, position)
        if match is None:
            raise _Truncated
        return match.end()
    depth = 0
    while True:
        match = _STRUCTURE.search(text, position)
        if match is None:
            raise _Truncated
        position = match.start()
        if match.group() == '"':
            position = _string_end(text, position)
            continue
        depth += 1 if match.group() in "[{" else -1
        position += 1
        if depth == 0:
            return position


def _object_keys(text: str, position: int, on_key=None) -> tuple[list[str], int]:
    """The keys of the object starting at ``position`` (``{``) and the position after it.

    ``on_key(key, position_of_value)`` may look into a value; it returns the position after it.
    Raises :class:`_Truncated` when the text ends first (``on_key`` has seen the keys found by then).
    """
    keys: list[str] = []
    position = _skip_ws(text, position + 1)
    if text[position] == "}":
        return keys, position + 1
    while True:
        if text[position] != '"':
            raise _Truncated
        key, position = _string(text, position)
        position = _skip_ws(text, position)
        if text[position] != ":":
            raise _Truncated
        position = _skip_ws(text, position + 1)
        if len(keys) < MAX_KEYS:
            keys.append(key)
        position = on_key(key, position) if on_key is not None else _skip_value(text, position)
        position = _skip_ws(text, position)
        if text[position] == "}":
            return keys, position + 1
        if text[position] != ",":
            raise _Truncated
        position = _skip_ws(text, position + 1)


def _first_item_keys(text: str, position: int) -> tuple[str, ...]:
    """The keys of the first element of the list at ``position`` when it is an object, as far as the text goes."""
    seen: list[str] = []

    def record(key: str, at: int) -> int:
        seen.append(key)
        return _skip_value(text, at)

    try:
        start = _skip_ws(text, position + 1)
        if text[start] == "{":
            _object_keys(text, start, record)
    except _Truncated:
        pass
    return tuple(seen[:MAX_KEYS])


def _outline(text: str) -> JsonOutline | None:
    try:
        position = _skip_ws(text, 0)
    except _Truncated:
        return None
    if text[position] == "[":
        return JsonOutline("array", first_keys={"": _first_item_keys(text, position)},
                           complete=_complete(text, position))
    if text[position] != "{":
        return None
    kinds: dict[str, str] = {}
    first: dict[str, tuple[str, ...]] = {}

    def look(key: str, at: int) -> int:
        kinds.setdefault(key, text[at])
        if text[at] == "[":
            first.setdefault(key, _first_item_keys(text, at))
        return _skip_value(text, at)

    try:
        _object_keys(text, position, look)
    except _Truncated:
        return JsonOutline("object", kinds, first, complete=False)
    return JsonOutline("object", kinds, first, complete=True)


def _complete(text: str, position: int) -> bool:
    try:
        _skip_value(text, position)
    except _Truncated:
        return False
    return True


def _outline_file(path: str) -> JsonOutline | None:
    head = read_head(path, JSON_HEAD_BYTES)
    if head is None:
        return None
    outline = _outline(_text(head))
    if outline is None or outline.complete or len(head) < JSON_HEAD_BYTES:
        return outline
    tail = read_head(path, TAIL_BYTES, tail=True)
    found = frozenset(_TAIL_KEY.findall(_text(tail))) if tail else frozenset()
    return JsonOutline(outline.kind, outline.keys, outline.first_keys, False, found)


def json_outline(path: str | os.PathLike[str]) -> JsonOutline | None:
    """The outline of a JSON file's top level (see :class:`JsonOutline`); None when it is not a regular
    file or does not start as a JSON object or array."""
    path = os.fspath(path)
    return _remembered("outline", path, lambda: _outline_file(path))


# -- folders --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One entry of a folder: its name and whether it is a folder or a regular file (links followed)."""

    name: str
    is_dir: bool
    is_file: bool


def _list(path: str) -> tuple[Entry, ...]:
    entries: list[Entry] = []
    try:
        with os.scandir(path) as scan:
            for entry in scan:
                if len(entries) >= MAX_ENTRIES:
                    break
                try:
                    entries.append(Entry(entry.name, entry.is_dir(), entry.is_file()))
                except OSError:  # a link loop, a vanished entry
                    continue
    except OSError:
        return ()
    return tuple(sorted(entries, key=lambda e: e.name))


def listing(folder: str | os.PathLike[str]) -> tuple[Entry, ...]:
    """The first :data:`MAX_ENTRIES` entries of a folder, by name; empty when it is not a readable folder."""
    folder = os.fspath(folder)
    return _remembered("listing", folder, lambda: _list(folder))


def walk(folder: str | os.PathLike[str], suffixes: Iterable[str], *, max_depth: int = MAX_DEPTH,
         limit: int = 64, skip: Iterable[str] = ()) -> list[Path]:
    """Files under ``folder`` whose name ends with one of ``suffixes`` (case-insensitive), shallowest
    first and by name within a folder; at most ``limit``, within the bounds of this module.

    Hidden entries (``.name``) and names in ``skip`` are left out. Linked folders are followed, each
    real folder visited once, so a link loop ends.
    """
    wanted = tuple(s.lower() for s in suffixes)
    skipped = set(skip)
    found: list[Path] = []
    queue: collections.deque[tuple[Path, int]] = collections.deque([(Path(folder), 0)])
    visited: set[tuple[int, int]] = set()
    while queue and len(visited) < MAX_FOLDERS and len(found) < limit:
        current, depth = queue.popleft()
        try:
            info = os.stat(current)
        except (OSError, ValueError):
            continue
        if (info.st_dev, info.st_ino) in visited:
            continue
        visited.add((info.st_dev, info.st_ino))
        for entry in listing(current):
            if entry.name.startswith(".") or entry.name in skipped:
                continue
            if entry.is_file and entry.name.lower().endswith(wanted):
                found.append(current / entry.name)
                if len(found) >= limit:
                    break
            elif entry.is_dir and depth < max_depth:
                queue.append((current / entry.name, depth + 1))
    return found


def search_below(folder: Path, found_in: Callable[[Path], list[T] | None]) -> list[T]:
    """What ``found_in`` finds in the folders below ``folder`` (datasets side by side, for a refusal that names
    them), breadth first, hidden ones aside, at most :data:`MAX_DEPTH` levels down and :data:`MAX_FOLDERS`
    folders visited: a list (even empty) is that folder's finding, and the search does not go below it; None
    goes on into its sub-folders."""
    found: list[T] = []
    queue = collections.deque((folder / entry.name, 1) for entry in listing(folder)
                              if entry.is_dir and not entry.name.startswith("."))
    visited = 0
    while queue and visited < MAX_FOLDERS:
        current, depth = queue.popleft()
        visited += 1
        here = found_in(current)
        if here is not None:
            found += here
        elif depth < MAX_DEPTH:
            queue.extend((current / entry.name, depth + 1) for entry in listing(current)
                         if entry.is_dir and not entry.name.startswith("."))
    return found


def relative(path: Path, folder: Path) -> str:
    """``path`` as shown in a reason: relative to the folder asked about, POSIX-style."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)
