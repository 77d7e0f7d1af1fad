"""WebVTT subtitles, both ways: one ``.vtt`` file per video or audio item.

Layout: ``<root>/<remote dir>/<stem>.vtt``, mirroring the items' remote paths (the extension of
the media is replaced, as in Dataloop's V1 JSON naming). A file looks like::

    WEBVTT optional header text
    Kind: captions                            header lines (kept)

    STYLE / REGION / NOTE blocks              before the first cue (kept, in order)

    NOTE a comment                            kept with the cue that follows it
    65f0c0deb005000000000002                  cue identifier (optional)
    00:00:00.700 --> 00:00:01.250 align:start cue timings and cue settings
    <v speaker.bob>Hi Alice.
    How are you?</v>                          cue payload: text lines, one voice span

Reading (→ Dataloop model):
* The file must be UTF-8 (a BOM is accepted) and start with ``WEBVTT`` (alone, or followed by a
  space or tab). Blocks are collected as the WebVTT parser does (a ``-->`` line in the first two
  lines of a block makes it a cue; a second ``-->`` line starts a new block), with one leniency
  shared with webvtt-py 0.4/0.5: a line of only whitespace ends a block like an empty line.
* Timestamps are checked strictly against the spec (``[h…h:]mm:ss.ttt``, minutes and seconds
  00–59, exactly three fraction digits; hours may have any number of digits). A bad timing line,
  a cue ending before it starts, a NUL byte, or a block that is no cue, NOTE, STYLE or REGION (or
  a STYLE/REGION after the first cue) is a bad record: :class:`FormatError` naming the file and
  ``line N``, or with ``on_error="skip"`` a reported, skipped record while reading goes on. A file
  that is not UTF-8, has no ``WEBVTT`` header or a NUL in its header fails as a whole.
* Each cue → a Subtitle on an item whose fps is 1000 (a frame is a millisecond, as the SDK does
  for audio), with ``start_time``/``end_time`` in seconds, exact to the millisecond. The item's
  filename is the file's path without ``.vtt``; its mimetype comes from that name
  (``clip.mp4.vtt`` → ``/clip.mp4``, video/mp4), else from a media file with the same stem in
  ``ConvertOptions.images`` (``--images``), else audio: ``ConvertOptions.extras["vtt_mimetype"]``,
  default ``audio/mpeg``, and the file name gets that type's extension (``talk.vtt`` →
  ``/talk.mp3``), so the Dataloop JSON and the VTT written back keep the file's own name.
* Text: the cue payload without its tags (``<v>``, ``<i>``, ``<c.x>``, timestamps …), character
  references decoded (HTML's named references; numeric ones to the code point they name),
  line breaks kept. Label: the annotation of the first ``<v>`` voice span; a cue without one gets
  ``ConvertOptions.extras["vtt_default_label"]`` (default None — not the SDK's fixed "Text").
* Kept in the annotation's ``metadata.user.vtt``: ``identifier`` (cue identifiers are not
  Dataloop ids, so they are never used as annotation ids), ``settings`` (as written, separated by
  single spaces), ``notes_before`` (NOTE blocks right before the cue, verbatim), ``voices`` (when
  the cue has more than one voice span) and, when the payload is not what dlconvert writes for the
  text and label (other markup, several voices …), ``payload`` with ``payload_sha1`` (a hash of
  the text and label it was read with). The item's ``metadata.user.vtt`` keeps ``header`` (the
  first line after ``WEBVTT``), ``header_lines``, ``blocks`` (STYLE/REGION/NOTE blocks before the
  first cue, verbatim) and ``notes_after`` (NOTE blocks after the last cue).

Writing (Dataloop model →):
* Video and audio items (or items of unknown type holding subtitles) get one file; an item
  without subtitles gets a file with just the header (``WEBVTT``), as the SDK writes. Image items
  are skipped and reported (``vtt.not-timed``); annotations other than subtitles are skipped and
  reported (``vtt.unsupported-type``), as are subtitles without a usable time
  (``vtt.invalid-time``: none, not finite, negative, or ending before they start). A subtitle
  with a start and no end is written ending where it starts (``vtt.no-end-time``, approximated);
  NUL and lone surrogates, which a UTF-8 WebVTT file cannot hold, become U+FFFD
  (``vtt.text-replaced``).
* Cues are sorted by start time (stable: equal starts keep their order). Times are
  ``metadata.system.startTime``/``endTime`` (else frames / fps), rounded half-up to the
  millisecond from their decimal value (never truncated), written ``hh:mm:ss.ttt`` with at least
  two hour digits (more from 100 hours on), exactly three fraction digits.
* Identifier: ``metadata.user.vtt.identifier`` when the annotation has one, else the annotation
  id when it has one. Settings and NOTEs come back from ``metadata.user.vtt``.
* Payload: the stored ``payload`` when the text and label are still those it was read with;
  otherwise generated: ``&``, ``<``, ``>`` escaped (so ``-->`` can never appear), CR as
  ``&#13;``, whitespace at the start or end of a line as a numeric reference (webvtt-py 0.4/0.5
  strip it), and a line break that would leave an empty line (which would end the cue) as
  ``&#10;``. A label is one voice span around the whole text: ``<v label>`` at the start of the
  first line and ``</v>`` at the end of the last one, the label escaped the same way (whitespace
  other than single inner spaces as numeric references, since WebVTT collapses it). A label of
  None (or "") writes no voice span; no text and no label make a cue without payload lines
  (valid WebVTT, though webvtt-py 0.5 skips such cues). Numeric references are read as the code
  point they name, so these round trips are exact; HTML would map a few C1 controls (``&#133;``)
  to Windows-1252 characters instead.
* Every written file is parsed back with webvtt-py and compared cue by cue (times, text lines,
  identifiers) before it is saved; REGION blocks are left out of that check (webvtt-py 0.4.3
  rejects them), and where the installed webvtt-py cannot hold 100 hours (0.5.x reads two hour
  digits) such times are checked modulo 100 hours (dlconvert's own timestamp code writes them).

Works with webvtt-py 0.4.3 (the version dtlpy pins) and 0.5/0.6: dlconvert collects the blocks
itself (for line numbers, NOTEs, settings and identifiers, which 0.4.3 does not keep) and hands
each cue's timing and text to ``webvtt.Caption``.
"""

from __future__ import annotations

import codecs
import decimal
import functools
import hashlib
import html
import io
import json
import math
import mimetypes
import os
import posixpath
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import webvtt

from .._io import atomic_write, safe_join
from ..annotation import Annotation
from ..collection import AnnotationCollection
from ..errors import DlconvertError, FormatError, OutputError
from ..geometry import Subtitle
from ..report import Issue
from . import FormatSpec
from ._metadata import section

if TYPE_CHECKING:
    from ..dataset import ConvertOptions, Dataset
    from ..report import ConversionReport

__all__ = [
    "DEFAULT_MIMETYPE",
    "FORMAT",
    "VttCue",
    "VttDocument",
    "cue_text",
    "escape_text",
    "format_timestamp",
    "from_vtt_file",
    "parse_timestamp",
    "payload_lines",
    "read",
    "read_vtt_text",
    "to_milliseconds",
    "write",
]

#: Frames per second of items read from WebVTT: a frame is a millisecond.
VTT_FPS = 1000
#: Largest time written (ms, about 317 years): webvtt-py 0.4 reads times as float seconds, exact to the
#: millisecond well past this; a subtitle later than it is skipped (``vtt.invalid-time``).
MAX_MILLISECONDS = 10**13
#: Mimetype of an item read from a ``.vtt`` file whose media type nothing tells.
DEFAULT_MIMETYPE = "audio/mpeg"
#: ``metadata.user`` key holding what WebVTT has and the Dataloop model does not.
METADATA_KEY = "vtt"
_WEBVTT_VERSION = str(getattr(webvtt, "__version__", "unknown"))

# ==== the text format ==============================================================================
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
_SIGNATURE = re.compile(r"WEBVTT(?:[ \t]|$)")
_TIMESTAMP = r"(?:\d+:[0-5]\d:[0-5]\d|[0-5]\d:[0-5]\d)\.\d{3}(?!\d)"
_TIMESTAMP_PARTS = re.compile(r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})")
_TIMING_LINE = re.compile(rf"[ \t\f]*({_TIMESTAMP})[ \t\f]*-->[ \t\f]*({_TIMESTAMP})(.*)", re.S)
_SETTINGS_SEPARATOR = re.compile(r"[ \t\f]+")
_NOTE = re.compile(r"NOTE(?:[ \t]|$)")
_STYLE = re.compile(r"STYLE[ \t]*$")
_REGION = re.compile(r"REGION[ \t]*$")
_TAG = re.compile(r"<[^>]*>?")  # a tag runs to its '>' or, unclosed, to the end of the cue (WebVTT)
_ASCII_WHITESPACE = re.compile(r"[ \t\n\f\r]+")
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")


def to_milliseconds(seconds: float) -> int:
    """Seconds → whole milliseconds, rounded half-up from the decimal value (``1.0005`` → 1001)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ValueError(f"not a finite number of seconds: {seconds!r}")
    value = decimal.Decimal(repr(float(seconds))) if isinstance(seconds, float) else decimal.Decimal(seconds)
    return int(value.scaleb(3).to_integral_value(rounding=decimal.ROUND_HALF_UP))


def format_timestamp(milliseconds: int) -> str:
    """``hh:mm:ss.ttt``: at least two hour digits, exactly three fraction digits."""
    if milliseconds < 0:
        raise ValueError("a WebVTT time cannot be negative")
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def parse_timestamp(text: str) -> int:
    """A spec-valid WebVTT timestamp (``[h…h:]mm:ss.ttt``) → milliseconds; ValueError otherwise."""
    match = _TIMESTAMP_PARTS.fullmatch(text)
    if match is None or not re.fullmatch(_TIMESTAMP, text):
        raise ValueError(f"not a WebVTT timestamp: {text!r}")
    hours, minutes, seconds, millis = (int(v) if v else 0 for v in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


def _blank(line: str) -> bool:
    """An empty line ends a block; so does a line of only whitespace (as webvtt-py 0.4/0.5 read it)."""
    return not line.strip()


def _decode_references(text: str) -> str:
    """Character references → characters: HTML's named ones, numeric ones to their code point."""
    if "&" not in text:
        return text

    def replace(match: re.Match) -> str:
        ref = match.group(1)
        if ref[0] != "#":
            return html.unescape(match.group(0))
        number = int(ref[2:].rstrip(";"), 16) if ref[1] in "xX" else int(ref[1:].rstrip(";"))
        if number == 0 or 0xD800 <= number <= 0xDFFF or number > 0x10FFFF:
            return "\ufffd"
        return chr(number)

    return _CHARREF.sub(replace, text)


def _voices(payload: str) -> list[str]:
    """The annotations of the ``<v …>`` voice spans of a cue payload, in order (empty ones left out)."""
    voices = []
    for tag in _TAG.finditer(payload):
        content = tag.group(0)[1:]
        if content.endswith(">"):
            content = content[:-1]
        name = re.match(r"[^.\t\n\f ]*", content).group(0)
        if name != "v":
            continue
        split = re.search(r"[\t\n\f ]", content)
        if split is None:
            continue
        annotation = _ASCII_WHITESPACE.sub(" ", content[split.start():]).strip(" ")
        annotation = _decode_references(annotation)
        if annotation:
            voices.append(annotation)
    return voices


def cue_text(payload: str) -> str:
    """The text of a cue payload: tags removed, character references decoded, line breaks kept."""
    return _decode_references(_TAG.sub("", payload))


def escape_text(text: str) -> str:
    """Escape ``&``, ``<``, ``>`` (so ``-->`` cannot appear) and CR; line feeds stay line feeds."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_label(label: str) -> str:
    """A voice annotation that reads back as ``label``: WebVTT collapses and trims its whitespace."""
    out = []
    last = len(label) - 1
    for i, char in enumerate(label):
        if not char.isspace():
            out.append(escape_text(char))
        elif char == " " and 0 < i < last and not label[i - 1].isspace() and not label[i + 1].isspace():
            out.append(" ")  # a single inner space survives WebVTT's whitespace collapsing
        else:
            out.append(f"&#{ord(char)};")
    return "".join(out)


def _physical_lines(payload: str) -> list[str]:
    """Split an escaped payload into file lines: no line ends up empty or with whitespace at its ends.

    A line feed that would leave an empty line (which ends the cue) is written as ``&#10;``;
    whitespace at the start or end of a line as numeric references.
    """
    lines: list[list[str]] = [[]]
    for i, char in enumerate(payload):
        if char == "\n" and lines[-1] and i + 1 < len(payload) and payload[i + 1] != "\n":
            lines.append([])
        elif char == "\n":
            lines[-1].append("&#10;")
        else:
            lines[-1].append(char)
    if lines == [[]]:
        return []
    return [_escape_edges("".join(line)) for line in lines]


def _escape_edges(line: str) -> str:
    start = len(line) - len(line.lstrip())
    end = len(line.rstrip())
    if start == 0 and end == len(line):
        return line
    if start >= end:
        return "".join(f"&#{ord(c)};" for c in line)
    return ("".join(f"&#{ord(c)};" for c in line[:start]) + line[start:end]
            + "".join(f"&#{ord(c)};" for c in line[end:]))


def payload_lines(text: str, label: str | None) -> list[str]:
    """The cue payload dlconvert writes for ``text`` said by ``label`` (one voice span), as file lines."""
    body = escape_text(text)
    if label:
        body = f"<v {_escape_label(label)}>{body}</v>"
    return _physical_lines(body)


def _fingerprint(text: str, label: str | None) -> str:
    return hashlib.sha1(json.dumps([text, label], ensure_ascii=False).encode("utf-8")).hexdigest()


# ==== webvtt-py, whichever version ===================================================================
def _caption(start: str, end: str, lines: list[str], identifier: str | None) -> Any:
    """A ``webvtt.Caption`` (0.4.x: ``Caption(start, end, text)``; 0.5+: also ``identifier``)."""
    caption = webvtt.Caption(start, end, list(lines))
    caption.identifier = identifier
    return caption


def _caption_ms(caption: Any) -> tuple[int, int]:
    """``(start, end)`` in milliseconds: 0.5+ has ``Timestamp`` objects, 0.4.x float seconds."""
    out = []
    for which in ("start", "end"):
        stamp = getattr(caption, f"{which}_time", None)
        if stamp is not None and hasattr(stamp, "to_tuple"):
            hours, minutes, seconds, millis = stamp.to_tuple()
            out.append(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis)
        else:
            out.append(round(getattr(caption, f"{which}_in_seconds") * 1000))
    return out[0], out[1]


def _library_errors() -> tuple[type[BaseException], ...]:
    errors = getattr(webvtt, "errors", None)
    found = tuple(getattr(errors, name) for name in ("MalformedCaptionError", "MalformedFileError")
                  if errors is not None and hasattr(errors, name))
    return (*found, ValueError)


def _library_parse(text: str) -> list[Any]:
    """Parse a whole document with webvtt-py (``from_buffer`` in 0.5+, ``read_buffer`` in 0.4.x)."""
    reader = getattr(webvtt.WebVTT, "from_buffer", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if reader is not None:
            return list(reader(io.StringIO(text)).captions)
        return list(webvtt.WebVTT.read_buffer(io.StringIO(text)).captions)


@functools.lru_cache(maxsize=1)
def _library_hour_limit() -> int | None:
    """Milliseconds from which the installed webvtt-py cannot read a time (0.5.x: 100 hours), or None."""
    try:
        if _caption_ms(_caption("100:00:00.000", "100:00:00.001", ["x"], None)) == (360_000_000, 360_000_001):
            return None
    except _library_errors():
        pass
    return 100 * 3_600_000


# ==== reading ======================================================================================
@dataclass
class VttCue:
    """One cue as read: times in milliseconds, payload lines as written, the NOTE blocks before it."""

    line: int  # line number of the timing line
    identifier: str | None
    start: int  # milliseconds
    end: int
    settings: str
    lines: list[str]
    notes_before: list[str] = field(default_factory=list)


@dataclass
class VttDocument:
    """A WebVTT file as read: the header, the blocks before the first cue, the cues, the NOTEs after."""

    header: str = ""  # the first line after "WEBVTT" (with its leading space or tab)
    header_lines: list[str] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)  # STYLE / REGION / NOTE before the first cue
    cues: list[VttCue] = field(default_factory=list)
    notes_after: list[str] = field(default_factory=list)


BadRecord = Callable[[FormatError, str], None]


def _decode(data: bytes, path: Any) -> str:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK_BYTES.findall(data[:exc.start])) + 1
        raise FormatError(f"not UTF-8 text (byte 0x{data[exc.start]:02x}); a WebVTT file is UTF-8", path=path,
                          where=f"line {line}") from None


def _parse_document(text: str, path: Any, bad: BadRecord) -> VttDocument:
    """Collect the blocks of a WebVTT document; bad cues and blocks go to ``bad`` (which may raise)."""
    lines = _LINE_BREAK.split(text)
    if not text:
        raise FormatError("the file is empty; a WebVTT file starts with 'WEBVTT'", path=path, where="line 1")
    if not _SIGNATURE.match(lines[0]):
        raise FormatError(f"missing the WEBVTT header: the first line is {lines[0][:40]!r}", path=path,
                          where="line 1")
    document = VttDocument(header=lines[0][len("WEBVTT"):])
    index = 1
    while index < len(lines) and not _blank(lines[index]) and "-->" not in lines[index]:
        document.header_lines.append(lines[index])
        index += 1
    for number, line in enumerate(lines[:index], start=1):
        if "\x00" in line:
            raise FormatError("NUL byte in the header", path=path, where=f"line {number}")

    seen_cue = False
    pending_notes: list[str] = []
    for first, block, arrow in _blocks(lines, index):
        nul = next((i for i, line in enumerate(block) if "\x00" in line), None)
        if nul is not None:
            kind = "cue" if arrow is not None else "block"
            bad(FormatError(f"NUL byte in a {kind}", path=path, where=f"line {first + nul}"), f"vtt.invalid-{kind}")
            continue
        if arrow is not None:
            cue = _read_cue(block, arrow, first, path, bad)
            if cue is not None:
                cue.notes_before, pending_notes = pending_notes, []
                document.cues.append(cue)
                seen_cue = True
            continue
        verbatim = "\n".join(block)
        if _NOTE.match(block[0]):
            (pending_notes if seen_cue else document.blocks).append(verbatim)
        elif _STYLE.match(block[0]) or _REGION.match(block[0]):
            if seen_cue:
                kind = block[0].split()[0]
                bad(FormatError(f"{kind} block after the first cue (WebVTT allows them only before the cues)",
                                path=path, where=f"line {first}"), "vtt.invalid-block")
            else:
                document.blocks.append(verbatim)
        else:
            bad(FormatError(f"not a cue, NOTE, STYLE or REGION block: {block[0][:40]!r} (a cue needs "
                            "'start --> end' on its first or second line)", path=path, where=f"line {first}"),
                "vtt.invalid-block")
    document.notes_after = pending_notes
    return document


def _blocks(lines: list[str], index: int):
    """``(first line number, lines, index of the timing line or None)`` for each block, as WebVTT collects them."""
    count = len(lines)
    while index < count:
        if _blank(lines[index]):
            index += 1
            continue
        first = index + 1
        block: list[str] = []
        arrow = None
        while index < count and not _blank(lines[index]):
            line = lines[index]
            if "-->" in line:
                if arrow is not None or len(block) >= 2:
                    break  # this line starts the next block
                arrow = len(block)
            block.append(line)
            index += 1
        yield first, block, arrow


def _read_cue(block: list[str], arrow: int, first: int, path: Any, bad: BadRecord) -> VttCue | None:
    line_number = first + arrow
    timing = block[arrow]
    match = _TIMING_LINE.fullmatch(timing)
    if match is None:
        bad(FormatError(f"invalid cue timing {timing.strip()[:60]!r} (expected 'hh:mm:ss.ttt --> hh:mm:ss.ttt': "
                        "minutes and seconds 00-59, three fraction digits)", path=path, where=f"line {line_number}"),
            "vtt.invalid-cue")
        return None
    start_text, end_text, rest = match.groups()
    identifier = block[0] if arrow == 1 else None
    payload = block[arrow + 1:]
    start, end = parse_timestamp(start_text), parse_timestamp(end_text)
    try:  # webvtt-py holds the cue; 0.5.x cannot hold 100 hours or more, then the spec parse above stands
        caption = _caption(start_text, end_text, payload, identifier)
        start, end = _caption_ms(caption)
        payload = list(caption.lines)
    except _library_errors():
        pass
    if end < start:
        bad(FormatError(f"the cue ends ({end_text}) before it starts ({start_text})", path=path,
                        where=f"line {line_number}"), "vtt.invalid-cue")
        return None
    settings = " ".join(s for s in _SETTINGS_SEPARATOR.split(rest) if s)
    return VttCue(line_number, identifier, start, end, settings, payload)


def read_vtt_text(data: bytes | str, path: Any = None, *, bad: BadRecord | None = None) -> VttDocument:
    """Parse WebVTT content; without ``bad`` the first bad cue or block raises :class:`FormatError`."""
    def raise_it(error: FormatError, code: str) -> None:
        raise error

    text = _decode(data, path) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    return _parse_document(text, path, bad or raise_it)


def _annotation_metadata(cue: VttCue, text: str, label: str | None, voices: list[str]) -> dict:
    vtt: dict[str, Any] = {}
    if cue.identifier is not None:
        vtt["identifier"] = cue.identifier
    if cue.settings:
        vtt["settings"] = cue.settings
    if cue.notes_before:
        vtt["notes_before"] = list(cue.notes_before)
    if len(voices) > 1:
        vtt["voices"] = voices
    raw = "\n".join(cue.lines)
    if payload_lines(text, label) != cue.lines:
        vtt["payload"] = raw
        vtt["payload_sha1"] = _fingerprint(text, label)
    return {"system": {}, "user": {METADATA_KEY: vtt} if vtt else {}}


def _item_metadata(document: VttDocument) -> dict:
    vtt: dict[str, Any] = {}
    if document.header:
        vtt["header"] = document.header
    for key in ("header_lines", "blocks", "notes_after"):
        if getattr(document, key):
            vtt[key] = list(getattr(document, key))
    return vtt


def _media_type(name: str) -> str | None:
    kind = mimetypes.guess_type(name)[0] or ""
    return kind if kind.startswith(("audio/", "video/")) else None


def _media_for(relative: str, options: ConvertOptions | None,
               listings: dict[Path, dict[str, str]] | None = None) -> tuple[str, str]:
    """``(remote filename, mimetype)`` of the item a ``.vtt`` file (relative path, no ``.vtt``) belongs to.

    ``listings`` caches the media found per folder of ``options.images`` (``{folder: {stem: name}}``).
    """
    filename = "/" + relative.lstrip("/")
    guessed = _media_type(filename)
    if guessed is not None:
        return filename, guessed
    images = getattr(options, "images", None) if options is not None else None
    if images is not None:
        folder = Path(images) / posixpath.dirname(relative)
        listings = {} if listings is None else listings
        if folder not in listings:
            found: dict[str, str] = {}
            if folder.is_dir():
                for candidate in sorted(folder.iterdir(), key=lambda p: p.name):
                    stem = posixpath.splitext(candidate.name)[0]
                    if stem not in found and _media_type(candidate.name) and candidate.is_file():
                        found[stem] = candidate.name
            listings[folder] = found
        name = listings[folder].get(posixpath.basename(relative))
        if name is not None:
            return posixpath.join(posixpath.dirname(filename), name), _media_type(name) or ""
    extras = getattr(options, "extras", None) or {}
    mimetype = str(extras.get("vtt_mimetype") or DEFAULT_MIMETYPE)
    # The media's own name is unknown: give it an extension of that type, so that "6. Region" does
    # not read as a file with the extension ". Region" (and comes back as 6.vtt).
    return filename + (mimetypes.guess_extension(mimetype) or ""), mimetype


def _collection(document: VttDocument, filename: str, mimetype: str, default_label: str | None,
                item: Any = None) -> AnnotationCollection:
    if item is not None:
        collection = AnnotationCollection(item=item)
        collection.fps = collection.fps or VTT_FPS
    else:
        item_json = {
            "id": None, "filename": filename, "name": posixpath.basename(filename),
            "dir": posixpath.dirname(filename) or "/", "type": "file",
            "metadata": {"system": {"mimetype": mimetype, "fps": VTT_FPS}, "fps": VTT_FPS},
            "annotations": [],
        }
        vtt = _item_metadata(document)
        if vtt:
            item_json["metadata"]["user"] = {METADATA_KEY: vtt}
        collection = AnnotationCollection(_item_json=item_json)
        collection._read_item_fields(item_json, None)
    for cue in document.cues:
        raw = "\n".join(cue.lines)
        voices = _voices(raw)
        text = cue_text(raw)
        label = voices[0] if voices else default_label
        collection.add(Subtitle(text=text, label=label), start_time=cue.start / 1000, end_time=cue.end / 1000,
                       automated=False, metadata=_annotation_metadata(cue, text, label, voices))
    collection._count_read = len(collection.annotations)
    return collection


def from_vtt_file(filepath: str | os.PathLike[str], item: Any = None, *, default_label: str | None = None,
                  errors: list[DlconvertError] | None = None) -> AnnotationCollection:
    """Read one ``.vtt`` file into a collection of Subtitle annotations (the SDK's ``from_vtt_file``).

    ``item`` (an SDK item or anything with ``filename``/``mimetype``/``fps``) describes the media
    and its fps sets the frames (1000 when it has none); without it the item is named after the file
    and the file's header and STYLE/REGION/NOTE blocks before the cues go to the item's
    ``metadata.user.vtt`` (with an item they are not kept: its metadata is the platform's). A bad cue
    raises :class:`FormatError` with its ``line N``; when ``errors`` is a list it is appended there
    instead and the rest is read.
    """
    path = Path(filepath)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror or exc}", path=path) from None

    def collect(error: FormatError, code: str) -> None:
        if errors is None:
            raise error
        errors.append(error)

    document = read_vtt_text(data, path, bad=collect)
    filename, mimetype = _media_for(path.name[: -len(path.suffix)] if path.suffix else path.name, None)
    return _collection(document, filename, mimetype, default_label, item=item)


def _vtt_files(src: Path) -> tuple[Path, list[Path]]:
    if src.is_file():
        return src.parent, [src]
    if not src.is_dir():
        raise FormatError("no such file or folder", path=src)
    files = [p for p in src.rglob("*") if p.suffix.lower() == ".vtt" and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(src).parts)]
    return src, sorted(files, key=lambda p: p.relative_to(src).as_posix())


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a ``.vtt`` file, or every ``.vtt`` under a folder, into one item per file, lazily."""
    from ..dataset import Dataset

    src = Path(src)
    root, files = _vtt_files(src)
    default_label = (options.extras or {}).get("vtt_default_label")
    listings: dict[Path, dict[str, str]] = {}

    def items():
        for path in files:
            relative = path.relative_to(root).as_posix()
            filename, mimetype = _media_for(relative[: -len(path.suffix)], options, listings)

            def bad(error: FormatError, code: str, filename=filename) -> None:
                report.bad_record(error, code=code, annotation_type="subtitle", item=filename)

            try:
                document = read_vtt_text(path.read_bytes(), path, bad=bad)
            except FormatError as exc:  # the whole file (under "fail", also a bad cue: raised again)
                report.failed(exc, code="vtt.invalid-file")
                continue
            except OSError as exc:
                report.failed(FormatError(f"cannot read the file: {exc.strerror or exc}", path=path),
                              code="vtt.invalid-file")
                continue
            yield _collection(document, filename, mimetype, default_label)

    return Dataset(items(), labels=None, images_root=options.images, total=len(files))


# ==== writing ======================================================================================
def _list(value: Any) -> list:
    """A list kept in ``metadata.user.vtt``, or ``[]`` when the metadata holds something else there."""
    return value if isinstance(value, list) else []


def _item_vtt(collection: AnnotationCollection) -> dict:
    item_json = collection._item_json or {}
    return section(item_json, "metadata", "user", METADATA_KEY)


def _valid_block(text: Any, first: re.Pattern | None = None) -> bool:
    """A block that reads back as written: lines that are not blank, no ``-->``, no CR, NUL or stray LF."""
    if not isinstance(text, str) or not text or "\r" in text or "\x00" in text:
        return False
    lines = text.split("\n")
    if any(_blank(line) or "-->" in line for line in lines):
        return False
    return first is None or bool(first.match(lines[0]))


def _valid_line(text: Any) -> bool:
    return (isinstance(text, str) and not _blank(text) and "-->" not in text and "\x00" not in text
            and not _LINE_BREAK.search(text))


def _relpath(collection: AnnotationCollection) -> str:
    filename = collection.filename or (collection.item_id and f"/{collection.item_id}") or "/item"
    relative = filename.lstrip("/")
    stem, _ = posixpath.splitext(relative)
    return (stem or relative) + ".vtt"


def _is_timed(collection: AnnotationCollection) -> bool:
    if collection.is_video or collection.is_audio:
        return True
    return collection.mimetype is None and any(a.type == "subtitle" for a in collection)


def _times(annotation: Annotation, collection: AnnotationCollection) -> tuple[int, int] | str:
    """``(start, end)`` in milliseconds, or why there is no usable time."""
    system = annotation.metadata.get("system") if isinstance(annotation.metadata.get("system"), dict) else {}
    fps = annotation.fps or collection.fps or (VTT_FPS if collection.is_audio else None)
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

    def issue(self, code: str, message: str, item: str | None) -> None:
        self.report.issues.append(Issue("approximated", code, message, item=item))

    def add_item(self, collection: AnnotationCollection) -> Path | None:
        item = collection.filename
        if not _is_timed(collection):
            for annotation in collection:
                self.report.skip(annotation, "vtt.not-timed", "WebVTT holds video and audio; this item is an image",
                                 item)
            if not len(collection):
                self.report.issues.append(Issue("skipped", "vtt.not-timed",
                                                "WebVTT holds video and audio; this item is an image", item=item))
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
        item = collection.filename
        if annotation.type != "subtitle":
            self.report.skip(annotation, "vtt.unsupported-type",
                             f"WebVTT holds subtitles only, not {annotation.type!r}", item)
            return None
        times = _times(annotation, collection)
        if isinstance(times, str):
            self.report.skip(annotation, "vtt.invalid-time", times, item)
            return None
        system = annotation.metadata.get("system") or {}
        if system.get("endTime") is None and system.get("endFrame") is None:
            self.report.approximate(annotation, "vtt.no-end-time",
                                    "the subtitle has no end time; written as a cue ending where it starts", item)
        definition = annotation.annotation_definition
        if annotation.frames and len({f.annotation_definition.text for f in annotation.frames.values()
                                      if isinstance(f.annotation_definition, Subtitle)}) > 1:
            self.report.approximate(annotation, "vtt.subtitle-snapshots",
                                    "the text changes within the subtitle; its first text is written", item)
        text, label = definition.text, definition.label
        if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            text = "".join("\ufffd" if c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
            self.report.approximate(annotation, "vtt.text-replaced",
                                    "NUL and lone surrogates cannot be written; replaced by U+FFFD", item)
        if label is not None and ("\x00" in label or any(0xD800 <= ord(c) <= 0xDFFF for c in label)):
            label = "".join("\ufffd" if c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF else c for c in label)
            self.report.approximate(annotation, "vtt.text-replaced",
                                    "NUL and lone surrogates cannot be written; replaced by U+FFFD", item)
        vtt = section(annotation.metadata, "user", METADATA_KEY)
        identifier = vtt["identifier"] if "identifier" in vtt else annotation.id
        if identifier is not None and not _valid_line(identifier):
            self.report.approximate(annotation, "vtt.identifier-dropped",
                                    f"identifier {str(identifier)[:40]!r} cannot be a cue identifier", item)
            identifier = None
        settings = vtt.get("settings") or ""
        if settings and not (isinstance(settings, str) and _valid_line(settings)):
            self.report.approximate(annotation, "vtt.settings-dropped", "the cue settings are not one line", item)
            settings = ""
        settings = " ".join(s for s in _SETTINGS_SEPARATOR.split(settings) if s)
        notes = []
        for note in _list(vtt.get("notes_before")):
            if _valid_block(note, _NOTE):
                notes.append(note)
            else:
                self.report.approximate(annotation, "vtt.note-dropped", "a NOTE in the metadata is not a NOTE block",
                                        item)
        lines = payload_lines(text, label)
        payload = vtt.get("payload")
        if payload is not None and vtt.get("payload_sha1") == _fingerprint(text, label):
            if isinstance(payload, str) and (payload == "" or _valid_block(payload)):
                lines = payload.split("\n") if payload else []
            else:
                self.report.approximate(annotation, "vtt.payload-dropped",
                                        "the stored cue payload is not valid cue text; the text is written", item)
        return _OutCue(times[0], times[1], identifier, settings, lines, notes)

    def _item_parts(self, collection: AnnotationCollection) -> tuple[list[str], list[str]]:
        """The header and blocks before the cues, and the NOTE blocks after them, as file lines."""
        item = collection.filename
        vtt = _item_vtt(collection)
        header = vtt.get("header") or ""
        if header and not (isinstance(header, str) and not _LINE_BREAK.search(header) and "\x00" not in header):
            self.issue("vtt.header-dropped", "the WEBVTT header text is not one line", item)
            header = ""
        if header and header[0] not in " \t":
            header = " " + header
        head = ["WEBVTT" + header]
        for line in _list(vtt.get("header_lines")):
            if _valid_line(line):
                head.append(line)
            else:
                self.issue("vtt.header-dropped", f"header line {str(line)[:40]!r} cannot be written", item)
        for block in _list(vtt.get("blocks")):
            if any(_valid_block(block, kind) for kind in (_NOTE, _STYLE, _REGION)):
                head.extend(["", *block.split("\n")])
            else:
                self.issue("vtt.block-dropped", "a STYLE/REGION/NOTE block in the metadata cannot be written", item)
        tail = []
        for note in _list(vtt.get("notes_after")):
            if _valid_block(note, _NOTE):
                tail.extend(["", *note.split("\n")])
            else:
                self.issue("vtt.note-dropped", "a NOTE in the metadata is not a NOTE block", item)
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
    limit = _library_hour_limit()

    def wrap(ms: int) -> int:
        return ms % limit if limit is not None and ms >= limit else ms

    def library_timestamp(ms: int) -> str:
        return format_timestamp(wrap(ms))

    kept, skipping = [], False
    for line in head:
        if line == "":
            skipping = False
        elif _REGION.match(line) and kept and kept[-1] == "":
            skipping = True
        if not skipping:
            kept.append(line)
    lines = kept
    for cue in cues:
        lines.extend(_cue_lines(cue, library_timestamp))
    lines.extend(tail)
    document = "\n".join(lines) + "\n"
    try:
        captions = _library_parse(document)
    except _library_errors() as exc:
        raise OutputError(f"the WebVTT written for this item does not read back with webvtt-py {_WEBVTT_VERSION}: "
                          f"{exc}", path=item) from None
    position = 0
    for number, cue in enumerate(cues, start=1):
        if position < len(captions) and _same_cue(captions[position], cue, wrap):
            position += 1
        elif cue.lines:  # webvtt-py 0.5 drops cues without text; anything else is a bug here
            raise OutputError(f"cue {number} ({format_timestamp(cue.start)}) does not read back the same with "
                              f"webvtt-py {_WEBVTT_VERSION}", path=item)
    if position != len(captions):
        raise OutputError(f"webvtt-py {_WEBVTT_VERSION} reads {len(captions)} cues back, not {len(cues)}", path=item)


def _same_cue(caption: Any, cue: _OutCue, wrap: Callable[[int], int]) -> bool:
    identifier = (getattr(caption, "identifier", None) or "").strip()
    return (_caption_ms(caption) == (wrap(cue.start), wrap(cue.end))
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


FORMAT = FormatSpec(
    name="vtt",
    summary="WebVTT subtitles, one .vtt per video/audio item (labels as voice spans; NOTEs, settings kept)",
    holds=frozenset({"subtitle"}),
    approximates={},
    read=read,
    write=write,
)
