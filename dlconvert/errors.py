"""Errors raised by dlconvert.

Every error knows the file it came from (``path``) and the place inside it (``where``: a JSON
pointer such as ``/annotations/3/coordinates``, ``line 7``, or an XML element), so that a user
is told exactly what to fix::

    DlconvertError                      .message, .path, .where
    ├── InvalidAnnotationError (ValueError)   one annotation or item is malformed
    ├── FormatError (ValueError)              a file is not valid in its format (truncated JSON, bad XML …)
    ├── UnknownFormatError (LookupError)      a format name that is not registered
    ├── OptionError (ValueError)              an option out of range, or one the chosen formats do not use
    ├── NothingConvertedError (ValueError)    every annotation read was skipped (``on_error="fail"``)
    ├── OutputError (OSError)                 the output folder cannot be written as asked
    └── PlatformError (RuntimeError)          the Dataloop SDK failed or is not installed

Each subclass also inherits the builtin that fits, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import os

__all__ = [
    "DlconvertError",
    "FormatError",
    "InvalidAnnotationError",
    "NothingConvertedError",
    "OptionError",
    "OutputError",
    "PlatformError",
    "UnknownFormatError",
    "json_pointer",
    "listed",
]


def json_pointer(*parts: object) -> str:
    """Join keys and indices into an RFC 6901 JSON pointer (``/annotations/3/coordinates``)."""
    out = []
    for part in parts:
        text = str(part).replace("~", "~0").replace("/", "~1")
        out.append(text)
    return "/" + "/".join(out) if out else ""


def listed(names: list[str], shown: int) -> str:
    """The first ``shown`` of ``names`` for a message: ``a, b, c and 4 more``."""
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


class DlconvertError(Exception):
    """Base of every error dlconvert raises on purpose.

    ``str(error)`` reads ``path:where: message`` with the parts that are known.
    """

    def __init__(
        self, message: str, *, path: str | os.PathLike[str] | None = None, where: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = os.fspath(path) if path is not None else None
        self.where = where

    def at(self, path: str | os.PathLike[str] | None = None, where: str | None = None) -> DlconvertError:
        """Fill in the location where it is not known yet; returns ``self`` for ``raise err.at(...)``."""
        if self.path is None and path is not None:
            self.path = os.fspath(path)
        if where:
            if not self.where:
                self.where = where
            elif self.where.startswith("/") and where.startswith("/"):
                # The caller knows the outer part of the JSON pointer: /annotations/3 + /coordinates.
                self.where = where + self.where
        return self

    def __str__(self) -> str:
        location = ":".join(part for part in (self.path, self.where) if part)
        return f"{location}: {self.message}" if location else self.message

    def __reduce__(self):  # keep path/where across process pools
        return (_rebuild, (type(self), self.message, self.path, self.where))


def _rebuild(cls: type[DlconvertError], message: str, path: str | None, where: str | None) -> DlconvertError:
    return cls(message, path=path, where=where)


class InvalidAnnotationError(DlconvertError, ValueError):
    """An annotation (or an item's metadata) is malformed: missing keys, wrong types, NaN …"""


class FormatError(DlconvertError, ValueError):
    """A file is not valid in its format: truncated JSON, broken XML, a bad YOLO line …"""


class NotADatasetError(FormatError):
    """The path is a known kind of file that is no dataset (a COCO results list): format detection says so
    instead of "no known format"."""


class UnknownFormatError(DlconvertError, LookupError):
    """A format name that no registered format answers to."""


class OptionError(DlconvertError, ValueError):
    """An option out of range, or one that neither the source's nor the target's format uses."""


class NothingConvertedError(DlconvertError, ValueError):
    """Annotations were read but none could be written (the target holds none of them); nothing was written.

    ``report`` is the conversion's report, listing why each annotation was skipped.
    """

    def __init__(self, message: str, *, path=None, where=None, report=None) -> None:
        super().__init__(message, path=path, where=where)
        self.report = report


class OutputError(DlconvertError, OSError):
    """The output cannot be written as asked (non-empty folder, path escaping the root …)."""


class PlatformError(DlconvertError, RuntimeError):
    """The Dataloop SDK is missing or one of its calls failed."""
