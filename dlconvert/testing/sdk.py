"""What the real ``dtlpy`` needs to talk to the fake server: tokens it accepts, and no fixed waits."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["DEFAULT_EMAIL", "fast_sdk_waits", "make_token"]

DEFAULT_EMAIL = "tester@example.com"
_FAR_FUTURE = 4102444800  # 2100-01-01: the SDK refuses tokens that expire within a minute



def make_token(email: str = DEFAULT_EMAIL, *, exp: int = _FAR_FUTURE, secret: bytes = b"dlconvert-testing") -> str:
    """An HS256 JWT with ``email`` and ``exp`` claims, as the SDK expects (it never checks the signature)."""

    def part(value: dict) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = part({"alg": "HS256", "typ": "JWT"})
    body = part({"email": email, "sub": email, "exp": exp, "iat": int(time.time())})
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


@contextlib.contextmanager
def fast_sdk_waits(dl: Any = None, *, cap: float = 0.01) -> Iterator[None]:
    """Cap the SDK's fixed sleeps (2 s before polling every export command) at ``cap`` seconds.

    The fake server finishes commands at once, so the wait buys nothing in tests.
    """
    if dl is None:
        import dtlpy as dl
    import importlib

    module = importlib.import_module("dtlpy.repositories.datasets")
    original = module.time

    class _Time:
        def __getattr__(self, name: str) -> Any:
            return getattr(original, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            original.sleep(min(seconds, cap))

    module.time = _Time()
    try:
        yield
    finally:
        module.time = original
