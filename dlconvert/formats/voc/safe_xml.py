"""Untrusted XML in, escaped XML out: the VOC files, and the fragments of them kept in item metadata.

Parsing: entities, DTDs and network access are off; an ``<!ENTITY`` is refused before libxml2 sees
it (no billion laughs), any DOCTYPE after parsing (no XXE). Writing goes through lxml (escaped);
text XML cannot hold (control characters, non-characters) is found before anything is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..._io import read_input_bytes
from ...errors import FormatError

if TYPE_CHECKING:
    from ...report import ConversionReport

__all__ = ["element_text", "fragments", "not_xml_text", "number", "parse_bytes", "parse_xml", "place"]

_REFUSED_DTD = "XML with a DTD or entity declarations is refused (entities are never expanded)"
_NOT_XML_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _parser():
    from lxml import etree

    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True)


def parse_xml(path: Path):
    """The root element of an untrusted XML file."""
    return parse_bytes(read_input_bytes(path, "an XML file"), path)


def parse_bytes(data: bytes, path: Any, where: str | None = None):
    """The root element of untrusted XML bytes; errors name ``path`` and the line (or ``where``)."""
    from lxml import etree

    declaration = data.find(b"<!ENTITY")
    if declaration >= 0:  # refused before parsing: libxml2 never sees the entities
        line = data.count(b"\n", 0, declaration) + 1
        raise FormatError(_REFUSED_DTD, path=path, where=where or f"line {line}")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        message = " ".join(str(exc.msg).split())  # libxml2 messages may span lines
        raise FormatError(f"invalid XML: {message}", path=path,
                          where=where or (f"line {line}" if line else None)) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise FormatError(_REFUSED_DTD, path=path, where=where or "line 1")
    return root


def fragments(texts: Any, source: str | None, where: str, report: ConversionReport) -> list:
    """Elements kept verbatim in ``metadata.user.voc.extra_xml`` (they come from item JSON, so are
    untrusted); a broken or entity-bearing one is reported (``voc.invalid-extra-xml``) and left out."""
    out = []
    for index, text in enumerate(texts if isinstance(texts, list) else []):
        try:
            if not isinstance(text, str):
                raise FormatError(f"expected an XML fragment, got {type(text).__name__}", path=source,
                                  where=f"{where}/{index}")
            out.append(parse_bytes(text.encode("utf-8"), source, f"{where}/{index}"))
        except FormatError as exc:
            report.failed(exc, code="voc.invalid-extra-xml")
    return out


def element_text(element, tag: str) -> str | None:
    """The stripped text of ``element``'s child ``tag``, None when absent or empty."""
    child = element.find(tag)
    if child is None or child.text is None:
        return None
    return child.text.strip()


def place(element) -> str:
    """Where an element is, for errors: its line when known."""
    return f"line {element.sourceline}" if element.sourceline else element.tag


def number(element, tag: str, path: Path, where: str) -> float:
    """The finite number in child ``tag``; a missing or bad one raises naming the tag."""
    text = element_text(element, tag)
    if text is None:
        raise FormatError(f"<{tag}> is missing", path=path, where=where)
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"<{tag}> is not a number: {text!r}", path=path, where=where) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise FormatError(f"<{tag}> is not finite", path=path, where=where)
    return value


def not_xml_text(*texts: Any) -> str | None:
    """Why one of ``texts`` (strings; others are skipped) cannot be XML text, else None."""
    for text in texts:
        if isinstance(text, str) and _NOT_XML_TEXT.search(text):
            return f"{text!r} holds characters XML cannot hold (control characters)"
    return None
