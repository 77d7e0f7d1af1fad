"""Logging in as the SDK does, and finding a dataset.

Login order (``login``): ``DTLPY_API_KEY`` (``dl.login_api_key``); else ``DTLPY_EMAIL`` and
``DTLPY_PASSWORD`` (M2M, ``dl.login_m2m``, with ``DTLPY_CLIENT_ID``/``DTLPY_CLIENT_SECRET`` when
set); else the token the SDK already holds (``dlp login`` or an earlier login), if it has not
expired. The environment is ``env`` or ``DTLPY_ENV``: an alias the SDK knows (``prod``, ``rc`` …)
or a gate URL (``https://host/api/v1``), added to the SDK's environments when new; unset, the
SDK's current one.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import PlatformError
from ._sdk import RetryPolicy, describe, require_dtlpy, with_retries

__all__ = ["get_dataset", "login"]


def login(env: str | None = None) -> Any:
    """Log the SDK in (see the module doc) and return the ``dtlpy`` module."""
    dl = require_dtlpy()
    env = env or os.environ.get("DTLPY_ENV") or None
    if env:
        _use_environment(dl, env)
    api_key = os.environ.get("DTLPY_API_KEY")
    email = os.environ.get("DTLPY_EMAIL")
    password = os.environ.get("DTLPY_PASSWORD")
    client = dl.client_api
    where = f" ({client.environment})"
    saved = (client.token, client.refresh_token)
    try:
        if api_key:
            dl.login_api_key(api_key)
        elif email and password:
            done = dl.login_m2m(email=email, password=password, client_id=os.environ.get("DTLPY_CLIENT_ID"),
                                client_secret=os.environ.get("DTLPY_CLIENT_SECRET"))
            if done is False:
                raise PlatformError(f"the M2M login of {email} failed{where}: check DTLPY_EMAIL and DTLPY_PASSWORD")
        elif dl.token_expired():
            raise PlatformError(f"not logged in to Dataloop{where}: set DTLPY_API_KEY, or DTLPY_EMAIL and "
                                "DTLPY_PASSWORD, or log in with `dlp login`")
    except Exception as exc:
        if (api_key or (email and password)) and client.token != saved[0]:
            # The SDK can leave a rejected key as the saved token: put the previous one back.
            client.token = saved[0]
            client.refresh_token = saved[1]
        if isinstance(exc, PlatformError):
            raise
        raise PlatformError(f"the Dataloop login failed{where}: {describe(exc)}") from exc
    return dl


def _use_environment(dl: Any, env: str) -> None:
    client = dl.client_api
    if env.startswith(("http://", "https://")):
        if env not in client.environments:
            parts = urlsplit(env)
            dl.add_environment(environment=env, gate_url=urlunsplit((parts.scheme, parts.netloc, "", "", "")),
                               verify_ssl=True)
    try:
        dl.setenv(env)
    except Exception as exc:
        raise PlatformError(f"unknown Dataloop environment {env!r}: {describe(exc)}") from exc


def get_dataset(dataset_id: str, policy: RetryPolicy | None = None, dl: Any = None) -> Any:
    """The dataset with this id, through the SDK (retried); :class:`PlatformError` when there is none."""
    dl = dl or require_dtlpy()
    try:
        return with_retries(policy or RetryPolicy(), lambda: dl.datasets.get(dataset_id=dataset_id))
    except Exception as exc:
        raise PlatformError(f"cannot get dataset {dataset_id}: {describe(exc)}") from exc
