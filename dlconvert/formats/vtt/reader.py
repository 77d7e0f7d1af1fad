"""Reading WebVTT: a ``.vtt`` file (or every one under a folder) → one item of Subtitle annotations.

The rules (blocks, strict timestamps, bad records, text and labels, what is kept in
``metadata.user.vtt``) are in :mod:`dlconvert.formats.vtt`.
"""

from __future__ import annotations

import codecs
import difflib
import mimetypes
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import read_input_bytes
from ...collection import AnnotationCollection
from ...errors import DlconvertError, FormatError, OptionError
from ...geometry import Subtitle
from .compat import caption_ms, library_errors, new_caption
from .text import (
    DEFAULT_MIMETYPE,
    LINE_BREAK,
    MAX_MILLISECONDS,
    METADATA_KEY,
    NOTE,
    REGION,
    SETTINGS_SEPARATOR,
    STYLE,
    TIMING_LINE,
    VTT_FPS,
    cue_text,
    cue_voices,
    format_timestamp,
    is_blank,
    parse_timestamp,
    payload_fingerprint,
    payload_lines,
)

if TYPE_CHECKING:
    from ...dataset import ConvertOptions, Dataset, SourcePlan
    from ...report import ConversionReport

__all__ = ["BadRecord", "VttCue", "VttDocument", "from_vtt_file", "plan", "read", "read_units", "read_vtt_text"]

#: The WebVTT options a reader takes in ``ConvertOptions.extras``.
_EXTRAS = ("vtt_default_label", "vtt_mimetype")
_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")
_SIGNATURE = re.compile(r"WEBVTT(?:[ \t]|$)")


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
    lines = LINE_BREAK.split(text)
    if not text:
        raise FormatError("the file is empty; a WebVTT file starts with 'WEBVTT'", path=path, where="line 1")
    if not _SIGNATURE.match(lines[0]):
        raise FormatError(f"missing the WEBVTT header: the first line is {lines[0][:40]!r}", path=path,
                          where="line 1")
    document = VttDocument(header=lines[0][len("WEBVTT"):])
    index = 1
    while index < len(lines) and not is_blank(lines[index]) and "-->" not in lines[index]:
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
        if NOTE.match(block[0]):
            (pending_notes if seen_cue else document.blocks).append(verbatim)
        elif STYLE.match(block[0]) or REGION.match(block[0]):
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
        if is_blank(lines[index]):
            index += 1
            continue
        first = index + 1
        block: list[str] = []
        arrow = None
        while index < count and not is_blank(lines[index]):
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
    match = TIMING_LINE.fullmatch(timing)
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
        caption = new_caption(start_text, end_text, payload, identifier)
        start, end = caption_ms(caption)
        payload = list(caption.lines)
    except library_errors():
        pass
    if end < start:
        bad(FormatError(f"the cue ends ({end_text}) before it starts ({start_text})", path=path,
                        where=f"line {line_number}"), "vtt.invalid-cue")
        return None
    if end > MAX_MILLISECONDS:  # seconds as a float are exact to the millisecond up to here, not beyond
        bad(FormatError(f"the cue time {end_text[:40]} is past the largest time dlconvert holds exactly "
                        f"({format_timestamp(MAX_MILLISECONDS)})", path=path, where=f"line {line_number}"),
            "vtt.invalid-cue")
        return None
    settings = " ".join(s for s in SETTINGS_SEPARATOR.split(rest) if s)
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
        vtt["payload_sha1"] = payload_fingerprint(text, label)
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


def _reading_extras(options: ConvertOptions | None) -> tuple[str | None, str]:
    """``(default label, mimetype)`` from ``options.extras`` (``vtt_default_label``, ``vtt_mimetype``).

    A value of the wrong type, a mimetype that is not audio or video, or an unknown ``vtt_*`` key
    raises :class:`OptionError`: an option is never guessed.
    """
    extras = getattr(options, "extras", None) or {}
    unknown = sorted(k for k in extras if isinstance(k, str) and k.startswith("vtt_") and k not in _EXTRAS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], _EXTRAS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(_EXTRAS)}"
        raise OptionError(f"unknown WebVTT option ConvertOptions.extras[{unknown[0]!r}]{hint}")
    label = _default_label(extras.get("vtt_default_label"), "ConvertOptions.extras['vtt_default_label']")
    mimetype = extras.get("vtt_mimetype")
    if mimetype is None:
        return label, DEFAULT_MIMETYPE
    if not isinstance(mimetype, str) or not re.fullmatch(r"(audio|video)/[\w.+-]+", mimetype):
        raise OptionError(f"ConvertOptions.extras['vtt_mimetype'] must be an audio/… or video/… mimetype such as "
                          f"{DEFAULT_MIMETYPE!r}, not {mimetype!r}")
    return label, mimetype


def _default_label(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise OptionError(f"{name} must be a label (a string) or None, not {type(value).__name__}")
    return value


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
    mimetype = _reading_extras(options)[1]
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
        collection = AnnotationCollection.for_item(item_json, None)
    for cue in document.cues:
        raw = "\n".join(cue.lines)
        voices = cue_voices(raw)
        text = cue_text(raw)
        label = voices[0] if voices else default_label
        collection.add(Subtitle(text=text, label=label), start_time=cue.start / 1000, end_time=cue.end / 1000,
                       automated=False, metadata=_annotation_metadata(cue, text, label, voices))
    collection.mark_read()
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
    default_label = _default_label(default_label, "default_label")
    path = Path(filepath)
    data = read_input_bytes(path, "a WebVTT file")

    def collect(error: FormatError, code: str) -> None:
        if errors is None:
            raise error
        errors.append(error)

    document = read_vtt_text(data, path, bad=collect)
    filename, mimetype = _media_for(path.name[: -len(path.suffix)] if path.suffix else path.name, None)
    return _collection(document, filename, mimetype, default_label, item=item)


def _vtt_files(src: Path) -> tuple[Path, list[Path]]:
    """``(root, files)``: every ``*.vtt`` under ``src`` that is not a folder or hidden — a link that leads
    nowhere or to a device is listed too, and reading it fails with a reported error, never silently."""
    if src.is_file():
        return src.parent, [src]
    if not src.is_dir():
        raise FormatError("no such file or folder", path=src)
    files = [p for p in src.rglob("*") if p.suffix.lower() == ".vtt" and not p.is_dir()
             and not any(part.startswith(".") for part in p.relative_to(src).parts)]
    return src, sorted(files, key=lambda p: p.relative_to(src).as_posix())


def plan(src: Path, options: ConvertOptions, report: ConversionReport) -> SourcePlan:
    """The ``.vtt`` files of a source, one unit each (its path under the source folder); the reading
    options (``extras``) are checked here, before any file is read."""
    from ...dataset import SourcePlan

    root, files = _vtt_files(Path(src))
    _reading_extras(options)
    return SourcePlan([path.relative_to(root).as_posix() for path in files], context=str(root),
                      images_root=options.images)


def read_units(context: str, units: list, options: ConvertOptions, report: ConversionReport
               ) -> Iterator[AnnotationCollection]:
    """The items of a run of ``.vtt`` files, read when asked for."""
    root = Path(context)
    default_label = _reading_extras(options)[0]
    listings: dict[Path, dict[str, str]] = {}  # the media under --images, per folder
    for relative in units:
        path = root / relative
        stem = relative[: -len(path.suffix)] if path.suffix else relative  # a file named without .vtt keeps its name
        filename, mimetype = _media_for(stem, options, listings)

        def bad(error: FormatError, code: str, filename=filename) -> None:
            report.bad_record(error, code=code, annotation_type="subtitle", item=filename)

        try:
            document = read_vtt_text(read_input_bytes(path, "a WebVTT file"), path, bad=bad)
        except FormatError as exc:  # the whole file (under "fail", also a bad cue: raised again)
            report.failed(exc, code="vtt.invalid-file")
            continue
        yield _collection(document, filename, mimetype, default_label)


def read(src: Path, options: ConvertOptions, report: ConversionReport) -> Dataset:
    """Read a ``.vtt`` file, or every ``.vtt`` under a folder, into one item per file, lazily."""
    source = plan(src, options, report)
    return source.dataset(read_units(source.context, source.units, options, report))
