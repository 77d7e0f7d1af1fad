"""JSON in and out through orjson, with errors that name the file and the place.

orjson keeps ints and floats apart and key order as read, which the lossless Dataloop round trip
relies on. Output is deterministic: the same value always gives the same bytes.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from .errors import FormatError

__all__ = ["dumps", "loads", "read_json_bytes", "read_json_file"]


def loads(data: bytes | str, *, path: str | os.PathLike[str] | None = None) -> Any:
    """Parse JSON text; a syntax error becomes a :class:`FormatError` with line and column."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        where = f"line {line} column {col}" if line else None
        raise FormatError(f"invalid JSON: {exc.msg}", path=path, where=where) from None


def read_json_file(path: str | os.PathLike[str]) -> Any:
    """Read and parse one JSON file (UTF-8, a BOM is tolerated)."""
    return loads(read_json_bytes(path), path=path)


def read_json_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of one JSON file, a UTF-8 BOM dropped (for decoders other than :func:`loads`)."""
    from ._io import read_input_bytes

    data = read_input_bytes(path, "a JSON file")
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def dumps(value: Any, *, indent: bool = True) -> bytes:
    """Serialise to UTF-8 bytes; ``indent`` gives the 2-space layout of Dataloop exports."""
    option = orjson.OPT_SERIALIZE_NUMPY
    if indent:
        option |= orjson.OPT_INDENT_2
    try:
        return orjson.dumps(value, option=option)
    except TypeError:
        # orjson refuses ints beyond 64 bits and other rare values: fall back to the stdlib.
        import json

        return json.dumps(value, indent=2 if indent else None, ensure_ascii=False, default=_as_list).encode()


def _as_list(value: Any) -> Any:
    """A numpy array (a writer's column of numbers) as the list orjson writes it as, for the stdlib's encoder."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
