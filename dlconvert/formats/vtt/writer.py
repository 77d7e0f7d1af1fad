"""Writing WebVTT: one ``.vtt`` file per video or audio item, checked with webvtt-py before it is saved.

The rules (what is skipped or approximated and why, cue order, times, identifiers, payloads) are
in :mod:`dlconvert.formats.vtt`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import atomic_write, safe_join
from ...annotation import Annotation
from ...collection import AnnotationCollection
from ...errors import OutputError
from ...geometry import Subtitle
from ...report import Issue
from .._metadata import section
from .compat import WEBVTT_VERSION, caption_ms, library_errors, library_hour_limit, library_parse
from .text import (
    LINE_BREAK,
    MAX_MILLISECONDS,
    METADATA_KEY,
    NOTE,
    REGION,
    SETTINGS_SEPARATOR,
    STYLE,
    format_timestamp,
    is_blank,
    payload_fingerprint,
    payload_lines,
    to_milliseconds,
)

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset
    from ...report import ConversionReport

__all__ = ["write"]


def _kept(vtt: dict, key: str, kind: type, changes: list[tuple[str, str]], code: str) -> Any:
    """``vtt[key]`` when it is a ``kind``; else nothing, and a wrong type is noted in ``changes`` (never guessed)."""
    value = vtt.get(key)
    if value is None or isinstance(value, kind):
        return value
    changes.append((code, f"metadata.user.vtt.{key} is a {type(value).__name__}, not a {kind.__name__}; left out"))
    return None


def _lone_surrogates_replaced(text: str) -> str:
    """``text`` with NUL and lone surrogates (which a UTF-8 WebVTT file cannot hold) as U+FFFD."""
    return "".join("\ufffd" if c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF else c for c in text)


def _valid_block(text: Any, first: re.Pattern | None = None) -> bool:
    """A block that reads back as written: lines that are not blank, no ``-->``, no CR, NUL or stray LF."""
    if not isinstance(text, str) or not text or "\r" in text or "\x00" in text:
        return False
    lines = text.split("\n")
    if any(is_blank(line) or "-->" in line for line in lines):
        return False
    return first is None or bool(first.match(lines[0]))


def _valid_line(text: Any) -> bool:
    return (isinstance(text, str) and not is_blank(text) and "-->" not in text and "\x00" not in text
            and not LINE_BREAK.search(text))


def _relpath(collection: AnnotationCollection) -> str:
    filename = collection.filename or (collection.item_id and f"/{collection.item_id}") or "/item"
    relative = filename.lstrip("/")
    stem, _ = posixpath.splitext(relative)
    return (stem or relative) + ".vtt"


def _kind(collection: AnnotationCollection) -> str:
    """What an item that WebVTT cannot hold is, for the report: "an image", its mimetype, or unknown."""
    mimetype = collection.mimetype
    if mimetype is None:
        return "of unknown type (no mimetype) without subtitles"
    return "an image" if mimetype.startswith("image/") else mimetype


def _is_timed(collection: AnnotationCollection) -> bool:
    if collection.is_video or collection.is_audio:
        return True
    return collection.mimetype is None and any(a.type == "subtitle" for a in collection)


def _times(annotation: Annotation, collection: AnnotationCollection) -> tuple[int, int] | str:
    """``(start, end)`` in milliseconds, or why there is no usable time.

    Times are ``startTime``/``endTime``, else frames over the fps the annotation or item gives.
    """
    system = section(annotation.metadata, "system")
    fps = annotation.fps or collection.fps
    start, end = system.get("startTime"), system.get("endTime")
    if start is None and system.get("frame") is not None and fps:
        start = annotation.start_frame / fps
    if end is None and system.get("endFrame") is not None and fps:
        end = annotation.end_frame / fps
    if start is None:
        return "the subtitle has no start time"
    if end is None:
        end = start
    try:
        start_ms, end_ms = to_milliseconds(start), to_milliseconds(end)
    except ValueError as exc:
        return str(exc)
    if start_ms < 0:
        return f"the start time {start} is negative"
    if end_ms > MAX_MILLISECONDS:
        return f"the time {end} s is past the largest WebVTT time written ({MAX_MILLISECONDS // 1000} s)"
    if end_ms < start_ms:
        return f"the subtitle ends ({end}) before it starts ({start})"
    return start_ms, end_ms


def _annotation_vtt(annotation: Annotation, changes: list[tuple[str, str]]) -> dict:
    """The annotation's ``metadata.user.vtt`` (``{}`` when absent; a non-object is noted in ``changes``)."""
    user = section(annotation.metadata, "user")
    if user.get(METADATA_KEY) is not None and not isinstance(user[METADATA_KEY], dict):
        changes.append(("vtt.metadata-ignored", f"metadata.user.vtt is a {type(user[METADATA_KEY]).__name__}, "
                                                "not an object; left out"))
    return section(user, METADATA_KEY)


def _cue_extras(annotation: Annotation, vtt: dict, changes: list[tuple[str, str]]
                ) -> tuple[str | None, str, list[str]]:
    """``(identifier, settings, NOTE blocks before)`` of a cue: from ``metadata.user.vtt``, the identifier
    else from the annotation id; what cannot be written is noted in ``changes``."""
    identifier = vtt["identifier"] if "identifier" in vtt else annotation.id
    if identifier is not None and not _valid_line(identifier):
        changes.append(("vtt.identifier-dropped", f"identifier {str(identifier)[:40]!r} cannot be a cue "
                                                  "identifier"))
        identifier = None
    settings = vtt.get("settings") or ""
    if settings and not (isinstance(settings, str) and _valid_line(settings)):
        changes.append(("vtt.settings-dropped", "the cue settings are not one line of text"))
        settings = ""
    settings = " ".join(s for s in SETTINGS_SEPARATOR.split(settings) if s)
    notes = []
    for note in _kept(vtt, "notes_before", list, changes, "vtt.note-dropped") or []:
        if _valid_block(note, NOTE):
            notes.append(note)
        else:
            changes.append(("vtt.note-dropped", "a NOTE in the metadata is not a NOTE block"))
    return identifier, settings, notes


@dataclass
class _OutCue:
    start: int
    end: int
    identifier: str | None
    settings: str
    lines: list[str]
    notes_before: list[str]


class _Writer:
    def __init__(self, dst: Path, report: ConversionReport) -> None:
        self.dst = dst
        self.report = report
        self.written: dict[Path, str | None] = {}

    def add_item(self, collection: AnnotationCollection) -> Path | None:
        item = collection.filename
        if not _is_timed(collection):
            message = f"WebVTT holds video and audio; this item is {_kind(collection)}"
            for annotation in collection:
                self.report.skip(annotation, "vtt.not-timed", message, item)
            if not len(collection):
                self.report.issues.append(Issue("skipped", "vtt.not-timed", message, item=item))
            return None
        try:  # an unsafe or taken path is a bad item, found before any of it is counted or written
            target = safe_join(self.dst, _relpath(collection))
            if target in self.written:
                raise OutputError(f"items {self.written[target]!r} and {item!r} both map to {target.name}",
                                  path=target)
        except OutputError as exc:
            self.report.bad_item(exc, collection, code="vtt.unwritable-item")
            return None
        cues, written = [], []
        for annotation in collection:
            cue = self._cue(annotation, collection)
            if cue is not None:
                cues.append(cue)
                written.append(annotation)
        cues.sort(key=lambda c: c.start)  # stable: equal starts keep their order
        head, tail = self._item_parts(collection)
        text = _compose(head, cues, tail)
        _check_with_library(head, cues, tail, item)
        self.written[target] = item
        atomic_write(target, text.encode("utf-8"))
        for annotation in written:
            self.report.wrote(annotation)
        return target

    def _cue(self, annotation: Annotation, collection: AnnotationCollection) -> _OutCue | None:
        """The cue of a subtitle, or None (skipped and reported). Whatever the cue cannot carry is
        reported as one approximation of the annotation, with every reason in its message."""
        item = collection.filename
        if annotation.type != "subtitle":
            self.report.skip(annotation, "vtt.unsupported-type",
                             f"WebVTT holds subtitles only, not {annotation.type!r}", item)
            return None
        times = _times(annotation, collection)
        if isinstance(times, str):
            self.report.skip(annotation, "vtt.invalid-time", times, item)
            return None
        changes: list[tuple[str, str]] = []
        system = section(annotation.metadata, "system")
        if system.get("endTime") is None and system.get("endFrame") is None:
            changes.append(("vtt.no-end-time", "the subtitle has no end time; written as a cue ending where it starts"))
        if annotation.frames and len({f.annotation_definition.text for f in annotation.frames.values()
                                      if isinstance(f.annotation_definition, Subtitle)}) > 1:
            changes.append(("vtt.subtitle-snapshots", "the text changes within the subtitle; its first text is "
                                                      "written"))
        text, label = self._text_and_label(annotation, changes)
        vtt = _annotation_vtt(annotation, changes)
        identifier, settings, notes = _cue_extras(annotation, vtt, changes)
        lines = payload_lines(text, label)
        payload = vtt.get("payload")
        if payload is not None and vtt.get("payload_sha1") == payload_fingerprint(text, label):
            if isinstance(payload, str) and (payload == "" or _valid_block(payload)):
                lines = payload.split("\n") if payload else []
            else:
                changes.append(("vtt.payload-dropped", "the stored cue payload is not valid cue text; the text is "
                                                       "written"))
        if changes:
            self.report.approximate(annotation, changes[0][0], "; ".join(message for _, message in changes), item)
        return _OutCue(times[0], times[1], identifier, settings, lines, notes)

    @staticmethod
    def _text_and_label(annotation: Annotation, changes: list[tuple[str, str]]) -> tuple[str, str | None]:
        """The text and voice a cue can hold, and what it cannot (noted in ``changes``)."""
        definition = annotation.annotation_definition
        text, label = definition.text, definition.label
        if _lone_surrogates_replaced(text) != text or (label and _lone_surrogates_replaced(label) != label):
            text, label = _lone_surrogates_replaced(text), label and _lone_surrogates_replaced(label)
            changes.append(("vtt.text-replaced", "NUL and lone surrogates cannot be written; replaced by U+FFFD"))
        if label == "":
            changes.append(("vtt.empty-label", "an empty label cannot be a voice; written without one"))
        if definition.attributes or annotation.v1_attributes:
            changes.append(("vtt.attributes-dropped", "WebVTT cues have no attributes; left out"))
        return text, label

    def _item_parts(self, collection: AnnotationCollection) -> tuple[list[str], list[str]]:
        """The header and blocks before the cues, and the NOTE blocks after them, as file lines.

        What cannot be written (a block that is no block, a value of the wrong type) is left out
        and reported, one item-level issue each."""
        item = collection.filename
        changes: list[tuple[str, str]] = []
        user = section(collection.source_item or {}, "metadata", "user")
        if user.get(METADATA_KEY) is not None and not isinstance(user[METADATA_KEY], dict):
            changes.append(("vtt.metadata-ignored", f"the item's metadata.user.vtt is a "
                                                    f"{type(user[METADATA_KEY]).__name__}, not an object; left out"))
        vtt = section(user, METADATA_KEY)
        header = vtt.get("header") or ""
        if header and not (isinstance(header, str) and not LINE_BREAK.search(header) and "\x00" not in header):
            changes.append(("vtt.header-dropped", "the WEBVTT header text is not one line of text"))
            header = ""
        if header and header[0] not in " \t":
            header = " " + header
        head = ["WEBVTT" + header]
        for line in _kept(vtt, "header_lines", list, changes, "vtt.header-dropped") or []:
            if _valid_line(line):
                head.append(line)
            else:
                changes.append(("vtt.header-dropped", f"header line {str(line)[:40]!r} cannot be written"))
        for block in _kept(vtt, "blocks", list, changes, "vtt.block-dropped") or []:
            if any(_valid_block(block, kind) for kind in (NOTE, STYLE, REGION)):
                head.extend(["", *block.split("\n")])
            else:
                changes.append(("vtt.block-dropped", "a STYLE/REGION/NOTE block in the metadata cannot be written"))
        tail = []
        for note in _kept(vtt, "notes_after", list, changes, "vtt.note-dropped") or []:
            if _valid_block(note, NOTE):
                tail.extend(["", *note.split("\n")])
            else:
                changes.append(("vtt.note-dropped", "a NOTE in the metadata is not a NOTE block"))
        for code, message in changes:
            self.report.issues.append(Issue("approximated", code, message, item=item))
        return head, tail


def _cue_lines(cue: _OutCue, timestamp: Callable[[int], str] = format_timestamp) -> list[str]:
    timing = f"{timestamp(cue.start)} --> {timestamp(cue.end)}"
    out = []
    for note in cue.notes_before:
        out.extend(["", *note.split("\n")])
    out.append("")
    if cue.identifier is not None:
        out.append(cue.identifier)
    out.append(f"{timing} {cue.settings}" if cue.settings else timing)
    out.extend(cue.lines)
    return out


def _compose(head: list[str], cues: list[_OutCue], tail: list[str]) -> str:
    lines = list(head)
    for cue in cues:
        lines.extend(_cue_lines(cue))
    lines.extend(tail)
    return "\n".join(lines) + "\n"


def _check_with_library(head: list[str], cues: list[_OutCue], tail: list[str], item: str | None) -> None:
    """Parse the document back with webvtt-py and compare it cue by cue with what was meant.

    REGION blocks are left out (webvtt-py 0.4.3 rejects them) and times from the hour the library
    cannot hold are taken modulo that many hours; webvtt-py 0.4/0.5 strip line ends and 0.5 drops
    cues without text, which the comparison allows.
    """
    limit = library_hour_limit()

    def wrap(ms: int) -> int:
        return ms % limit if limit is not None and ms >= limit else ms

    def library_timestamp(ms: int) -> str:
        return format_timestamp(wrap(ms))

    kept, skipping = [], False
    for line in head:
        if line == "":
            skipping = False
        elif REGION.match(line) and kept and kept[-1] == "":
            skipping = True
        if not skipping:
            kept.append(line)
    lines = kept
    for cue in cues:
        lines.extend(_cue_lines(cue, library_timestamp))
    lines.extend(tail)
    document = "\n".join(lines) + "\n"
    try:
        captions = library_parse(document)
    except library_errors() as exc:
        raise OutputError(f"the WebVTT written for this item does not read back with webvtt-py {WEBVTT_VERSION}: "
                          f"{exc}", path=item) from None
    position = 0
    for number, cue in enumerate(cues, start=1):
        if position < len(captions) and _same_cue(captions[position], cue, wrap):
            position += 1
        elif cue.lines:  # webvtt-py 0.5 drops cues without text; anything else is a bug here
            raise OutputError(f"cue {number} ({format_timestamp(cue.start)}) does not read back the same with "
                              f"webvtt-py {WEBVTT_VERSION}", path=item)
    if position != len(captions):
        raise OutputError(f"webvtt-py {WEBVTT_VERSION} reads {len(captions)} cues back, not {len(cues)}", path=item)


def _same_cue(caption: Any, cue: _OutCue, wrap: Callable[[int], int]) -> bool:
    identifier = (getattr(caption, "identifier", None) or "").strip()
    return (caption_ms(caption) == (wrap(cue.start), wrap(cue.end))
            and [line.strip() for line in caption.lines] == [line.strip() for line in cue.lines]
            and identifier == (cue.identifier or "").strip())


def write(dataset: Dataset, dst: Path, options: ConvertOptions, report: ConversionReport) -> list[Path]:
    """Write ``dst/<remote dir>/<stem>.vtt`` for each video or audio item."""
    writer = _Writer(Path(dst), report)
    outputs = []
    for collection in dataset.items:
        target = writer.add_item(collection)
        if target is not None:
            report.items_out += 1
            outputs.append(target)
    return outputs
