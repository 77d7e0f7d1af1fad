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
  a cue ending before it starts or later than dlconvert holds exactly (about 317 years), a NUL
  byte, or a block that is no cue, NOTE, STYLE or REGION (or a STYLE/REGION after the first cue)
  is a bad record: :class:`FormatError` naming the file and
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
  ``extras`` of the wrong type (a label that is not a string, a ``vtt_mimetype`` that is not an
  audio or video type) or an unknown ``vtt_*`` key raise :class:`~dlconvert.errors.OptionError`.
* Kept in the annotation's ``metadata.user.vtt``: ``identifier`` (cue identifiers are not
  Dataloop ids, so they are never used as annotation ids), ``settings`` (as written, separated by
  single spaces), ``notes_before`` (NOTE blocks right before the cue, verbatim), ``voices`` (when
  the cue has more than one voice span) and, when the payload is not what dlconvert writes for the
  text and label (other markup, several voices …), ``payload`` with ``payload_sha1`` (the
  fingerprint of the text and label it was read with, :mod:`dlconvert.formats._fingerprint`).
  The item's ``metadata.user.vtt`` keeps ``header`` (the first line after ``WEBVTT``),
  ``header_lines``, ``blocks`` (STYLE/REGION/NOTE blocks before the first cue, verbatim) and
  ``notes_after`` (NOTE blocks after the last cue).

Writing (Dataloop model →):
* Video and audio items (or items of unknown type holding subtitles) get one file; an item
  without subtitles gets a file with just the header (``WEBVTT``), as the SDK writes. Other items
  (images, text …) are skipped and reported with their kind (``vtt.not-timed``); annotations other
  than subtitles are skipped and reported (``vtt.unsupported-type``), as are subtitles without a
  usable time (``vtt.invalid-time``: none, not finite, negative, or ending before they start).
* What a cue cannot carry is reported as one approximation of the annotation (the first reason's
  code, every reason in the message), so that ``convert`` lists exactly the annotations ``verify``
  finds changed: a start and no end is written ending where it starts (``vtt.no-end-time``); NUL
  and lone surrogates, which a UTF-8 WebVTT file cannot hold, become U+FFFD (``vtt.text-replaced``);
  an empty label cannot be a voice (``vtt.empty-label``; it reads back as no label); cues have no
  attributes (``vtt.attributes-dropped``); a text that changes within the subtitle keeps its first
  text (``vtt.subtitle-snapshots``). Kept cue metadata that cannot be written, or that has the wrong
  type (``metadata.user.vtt`` that is not an object, an identifier that is not one line of text, a
  ``notes_before`` that is not a list …), is left out and reported (``vtt.metadata-ignored``,
  ``vtt.identifier-dropped``, ``vtt.settings-dropped``, ``vtt.note-dropped``,
  ``vtt.payload-dropped``), never guessed; the item's kept header and blocks likewise, as
  item-level issues (``vtt.header-dropped``, ``vtt.block-dropped``, ``vtt.note-dropped``).
* Cues are sorted by start time (stable: equal starts keep their order). Times are
  ``metadata.system.startTime``/``endTime`` (else frames over the fps of the annotation or item;
  on audio a frame is a millisecond, as the SDK reads it), rounded half-up to the millisecond
  from their decimal value (never truncated), written ``hh:mm:ss.ttt`` with at least two hour
  digits (more from 100 hours on), exactly three fraction digits.
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

Modules: :mod:`.text` (timestamps, cue text and escaping), :mod:`.compat` (webvtt-py 0.4/0.5/0.6),
:mod:`.reader`, :mod:`.writer`.
"""

from __future__ import annotations

from .. import FormatSpec
from .detect import detect
from .reader import VttCue, VttDocument, from_vtt_file, plan, read, read_units, read_vtt_text
from .text import (
    DEFAULT_MIMETYPE,
    cue_text,
    escape_text,
    format_timestamp,
    parse_timestamp,
    payload_lines,
    to_milliseconds,
)
from .writer import write

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

FORMAT = FormatSpec(
    name="vtt",
    summary="WebVTT subtitles, one .vtt per video/audio item (labels as voice spans; NOTEs, settings kept)",
    holds=frozenset({"subtitle"}),
    approximates={},
    read=read,
    write=write,
    plan=plan,
    read_units=read_units,
    options=frozenset({"extras"}),  # vtt_default_label, vtt_mimetype (reading)
    looks_for="*.vtt files (in the folder and its subfolders)",
    detect=detect,
)
