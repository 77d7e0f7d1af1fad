"""How a request to the fake server ends: the faults it injects, the record it keeps, and the
exceptions its routes raise to answer an error or to drop the connection."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FAULT_KINDS", "Drop", "Fault", "HttpError", "RequestRecord"]

FAULT_KINDS = ("error", "error-after", "drop", "drop-after", "delay", "timeout", "timeout-after")


@dataclass
class Fault:
    """A fault injected on a fraction of the requests it matches.

    Kinds: ``error`` answers ``status`` without doing anything; ``error-after`` does the work and
    then answers ``status`` (the client cannot know it happened); ``drop`` closes the connection
    without an answer; ``drop-after`` does the work, then drops; ``delay`` waits ``delay`` seconds
    and answers normally; ``timeout`` stalls ``stall`` seconds (longer than the client's timeout)
    and closes the connection without doing the work; ``timeout-after`` stalls ``stall`` seconds,
    *then* does the work and closes the connection: a request carried out after the client gave up
    on it (and perhaps sent it again), as a busy server does. Every other fault that changes state
    does so before the client hears anything.

    ``method``, ``path`` (a regular expression searched in the path after ``/api/v1``) and
    ``body`` (one searched in the request body, e.g. an item id in a query) narrow the requests it
    applies to; ``limit`` caps how many times it fires (None: no cap).
    """

    rate: float = 0.1
    kinds: tuple[str, ...] = ("error",)
    status: int | tuple[int, ...] = 500
    delay: float = 0.05
    stall: float = 1.5
    method: str | None = None
    path: str | None = None
    body: str | None = None
    limit: int | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")

    def applies(self, method: str, path: str, body: bytes = b"") -> bool:
        if self.limit is not None and self.fired >= self.limit:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is not None and re.search(self.path, path) is None:
            return False
        return self.body is None or re.search(self.body, body.decode("utf-8", "replace")) is not None


@dataclass(frozen=True)
class RequestRecord:
    """One request the server received: what, how it ended, and the fault injected (if any)."""

    method: str
    path: str
    status: int | None
    fault: str | None = None


class HttpError(Exception):
    """Answer the request with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Drop(Exception):
    """Close the connection without answering."""

