"""A CVAT XML file read as a stream: the top-level elements of ``<annotations>`` one at a time.

A CVAT export is one file for a whole task or project (tens of thousands of ``<image>`` elements),
so it is not loaded as one tree: :func:`top_elements` feeds it in chunks to lxml's pull parser and
hands out ``<meta>``, each ``<image>``, each ``<track>`` and each ``<tag>`` when it ends, freeing it
afterwards, so memory holds one of them at a time.

Untrusted input goes through the project's one rule for XML, :mod:`dlconvert.formats.voc.safe_xml`:
a DTD can only stand in the prolog (before the root element), so the prolog is cut off and handed to
``safe_xml.parse_bytes`` before the stream starts — entity declarations are refused before libxml2
sees them, any DOCTYPE is refused (no billion laughs, no XXE, no DTD fetched). The stream's parser
has entities, DTD loading and the network off too, and libxml2's limits on (``huge_tree`` off: 10 MB
per text or attribute bounds a ``points`` string, 256 levels of nesting).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path

from ...errors import FormatError
from ..voc.safe_xml import parse_bytes

__all__ = ["ROOT", "top_elements"]

ROOT = "annotations"
_CHUNK = 65536
_MAX_PROLOG = 1 << 20  # a prolog longer than this is no CVAT file
#: What may stand before the root element: the declaration and other processing instructions, comments
#: (either possibly unfinished at the end of what was read so far), or the root's ``<``.
_PROLOG_MARKUP = re.compile(r"<\?.*?(?:\?>|\Z)|<!--.*?(?:-->|\Z)|<(?=[^?!])", re.S)
_NAME = re.compile(r"[^\s/>]*")
#: The elements :func:`top_elements` hands out (the parser reports no other, so the elements of a shape cost
#: Python nothing); a ``<tag>`` inside an ``<image>`` is reported too and passed over.
_TOP = ("meta", "image", "track", "tag")
#: Byte-order marks of UTF-16, in which ``<`` is not one byte (libxml2 reads no UTF-32); any other head is
#: scanned byte for byte (as latin-1, which gives every byte back as it was).
_WIDE = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _check_head(path: Path) -> None:
    """Hand the prolog to ``safe_xml.parse_bytes`` (with an empty root after it), which refuses a DTD and entity
    declarations and says where the prolog is broken; then check that the root element is ``<annotations>``."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(_CHUNK)
            codec = "utf-16" if head.startswith(_WIDE) else "latin-1"
            decoder = codecs.getincrementaldecoder(codec)()
            text, read = decoder.decode(head), len(head)
            while True:
                end = _root_start(text)
                chunk = b"" if end is not None or read >= _MAX_PROLOG else handle.read(_CHUNK)
                if not chunk:
                    break
                text += decoder.decode(chunk)
                read += len(chunk)
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    if end is None and read >= _MAX_PROLOG:
        raise FormatError(f"no root element in the first {_MAX_PROLOG} bytes", path=path, where="line 1")
    parse_bytes((text[:end] + f"<{ROOT}/>").encode(codec), path)
    if end is None:
        raise FormatError("holds no element (no CVAT XML)", path=path)
    name = _NAME.match(text, end + 1).group()
    if name != ROOT:
        line = text.count("\n", 0, end) + 1
        raise FormatError(f"the root element is <{name}>, not <{ROOT}> (no CVAT XML)", path=path, where=f"line {line}")


def _root_start(text: str) -> int | None:
    """Where the root element starts in ``text`` (the file's head), or None when it is not there yet."""
    for markup in _PROLOG_MARKUP.finditer(text):
        if markup.group() == "<":
            return markup.start()
    return None


def top_elements(path: Path) -> Iterator:
    """Each child element of the root ``<annotations>`` once it is complete (then freed)."""
    from lxml import etree

    _check_head(path)
    parser = etree.XMLPullParser(events=("end",), tag=_TOP, resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        with open(path, "rb") as handle:
            while True:
                chunk = handle.read(_CHUNK)
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()  # an unfinished document raises here
                for _, element in parser.read_events():
                    root = element.getparent()
                    if root.getparent() is not None:
                        continue  # a <tag> of an <image>
                    yield element
                    element.clear(keep_tail=False)
                    while element.getprevious() is not None:
                        del root[0]
                if not chunk:
                    return
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror or exc}", path=path) from None
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        message = " ".join(str(exc.msg).split())
        raise FormatError(f"invalid XML: {message}", path=path, where=f"line {line}" if line else None) from None

