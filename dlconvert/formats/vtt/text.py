"""The WebVTT text format: timestamps, cue text and its escaping, and what the Dataloop mapping keeps.

Pure functions on strings, shared by the reader and the writer (see :mod:`dlconvert.formats.vtt`
for the rules they implement).
"""

from __future__ import annotations

import decimal
import html
import math
import re

from .._fingerprint import fingerprint

__all__ = [
    "DEFAULT_MIMETYPE",
    "MAX_MILLISECONDS",
    "METADATA_KEY",
    "VTT_FPS",
    "cue_text",
    "cue_voices",
    "escape_text",
    "format_timestamp",
    "parse_timestamp",
    "payload_fingerprint",
    "payload_lines",
    "to_milliseconds",
]

#: Frames per second of items read from WebVTT: a frame is a millisecond.
VTT_FPS = 1000
#: Largest time read or written (ms, about 317 years): seconds as floats (the model's, webvtt-py 0.4's) are
#: exact to the millisecond well past this; a cue later than it is a bad record, a subtitle later than it
#: is skipped (``vtt.invalid-time``).
MAX_MILLISECONDS = 10**13
#: Mimetype of an item read from a ``.vtt`` file whose media type nothing tells.
DEFAULT_MIMETYPE = "audio/mpeg"
#: ``metadata.user`` key holding what WebVTT has and the Dataloop model does not.
METADATA_KEY = "vtt"

LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TIMESTAMP = r"(?:\d+:[0-5]\d:[0-5]\d|[0-5]\d:[0-5]\d)\.\d{3}(?!\d)"
_TIMESTAMP_PARTS = re.compile(r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})")
TIMING_LINE = re.compile(rf"[ \t\f]*({_TIMESTAMP})[ \t\f]*-->[ \t\f]*({_TIMESTAMP})(.*)", re.S)
SETTINGS_SEPARATOR = re.compile(r"[ \t\f]+")
NOTE = re.compile(r"NOTE(?:[ \t]|$)")
STYLE = re.compile(r"STYLE[ \t]*$")
REGION = re.compile(r"REGION[ \t]*$")
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


def is_blank(line: str) -> bool:
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


def cue_voices(payload: str) -> list[str]:
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


def payload_fingerprint(text: str, label: str | None) -> str:
    """The fingerprint of the text and label a stored payload was read with (it is written back only
    while they still hold: :mod:`dlconvert.formats._fingerprint`)."""
    return fingerprint(text, label)

