"""What the download and upload flows share: the lazy SDK import, retries, and raw JSON from the SDK.

Every SDK object is duck-typed (a Dataset is anything with ``id``, ``items``, ``recipes`` …), so the
connector keeps working across SDK versions and with test doubles. Raw JSON comes from the
entities' ``_platform_dict`` (the server's own JSON, which the SDK keeps) and falls back to their
``to_json()``: the SDK's annotation model drops polygon rings and other fields (dataloop-format.md
B19), and its ``to_json`` of video annotations needs the platform (B25), so the raw JSON is what
keeps a download lossless.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import PlatformError
from ..labels import flatten_label_tree

__all__ = ["LateWrites", "RetryPolicy", "require_dtlpy"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

INSTALL_HINT = "pip install 'dlconvert[platform]'"

#: Status codes the SDK's own request retry forces a retry on (``ApiClient.send_session``), plus 429.
SDK_RETRY_STATUSES = (429, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511)
#: The SDK's request settings (``ApiClient.send_session``): tries, backoff factor, timeout in seconds.
SDK_REQUEST_RETRIES, SDK_REQUEST_BACKOFF, SDK_REQUEST_TIMEOUT = 5, 1.0, 120.0

#: Status codes that no retry can fix (bad request, auth, missing, conflict, expired token).
_FINAL_STATUSES = frozenset({"400", "401", "403", "404", "409", "422", "600"})


def require_dtlpy() -> Any:
    """The ``dtlpy`` module, imported now; a clear :class:`PlatformError` when it is not installed."""
    try:
        import dtlpy
    except ImportError as exc:
        raise PlatformError(
            f"the Dataloop platform connector needs the Dataloop SDK (dtlpy), which is not installed: "
            f"{INSTALL_HINT}") from exc
    return dtlpy


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before an item is reported as failed.

    Two layers: the SDK retries each HTTP request itself (urllib3 ``Retry`` on its requests session:
    5 tries, backoff factor 1, on connection and read errors and on 501–511; its item uploader tries
    5 times and its downloader 3). On top, every per-item operation (list, upload, verify) is
    retried here ``attempts`` times with exponential backoff (``backoff``, doubling, at most
    ``max_backoff`` seconds), which also covers the 500s the SDK does not retry.

    ``request_retries``, ``request_backoff`` and ``request_timeout`` (seconds per request) tune the
    SDK's request layer for the duration of a call; None keeps the SDK's settings (its timeout is
    120 s).

    ``settle``: after a write request timed out or lost its connection, the server may still carry
    it out (a surplus copy of annotations the retry uploaded again); an upload waits this many
    seconds after the client gave up, then checks that item once more (None: as long as the
    request timeout).
    """

    attempts: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    request_retries: int | None = None
    request_backoff: float | None = None
    request_timeout: float | None = None
    settle: float | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoff must not be negative")
        if self.settle is not None and not 0 <= self.settle <= 3600:
            raise ValueError("settle must be between 0 and 3600 seconds")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (0-based)."""
        return min(self.max_backoff, self.backoff * (2 ** attempt))

    @property
    def tunes_requests(self) -> bool:
        return any(v is not None for v in (self.request_retries, self.request_backoff, self.request_timeout))

    @property
    def settle_time(self) -> float:
        """Seconds a write the client gave up on may still take at the server (see ``settle``)."""
        if self.settle is not None:
            return self.settle
        return self.request_timeout if self.request_timeout is not None else SDK_REQUEST_TIMEOUT


class LateWrites:
    """Items that a write request may still change after the client gave up on it.

    The request layer notes every annotation upload (``POST /items/{id}/annotations``) that timed
    out or lost its connection before an answer: the server may carry it out later, leaving a
    copy of annotations that the retry uploaded again. :meth:`last` tells when the client last gave
    up on a write to an item (``time.monotonic()``), so the upload can wait and check it again.
    """

    _ANNOTATIONS = re.compile(r"/items/([0-9A-Za-z]+)/annotations/?(?:\?|$)")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._given_up: dict[str, float] = {}

    def note(self, method: str | None, url: str | None) -> None:
        """A request the client gave up on without an answer."""
        match = self._ANNOTATIONS.search(url or "")
        if match is not None and (method or "").upper() == "POST":
            with self._lock:
                self._given_up[match.group(1)] = time.monotonic()

    def last(self, item_id: str) -> float | None:
        with self._lock:
            return self._given_up.get(item_id)


class Transient(Exception):
    """A result that looks incomplete (a listing shorter than its count, an unverified upload): try again."""


def is_retryable(exc: BaseException) -> bool:
    """Whether trying again may help: not for 4xx answers, bad input or programming errors."""
    if isinstance(exc, Transient):
        return True
    if isinstance(exc, (PlatformError, TypeError, AttributeError, KeyError, NotImplementedError)):
        return False
    status = getattr(exc, "status_code", None)
    return not (status is not None and str(status) in _FINAL_STATUSES)


def describe(exc: BaseException) -> str:
    """One line about an SDK or network error."""
    status = getattr(exc, "status_code", None)
    message = getattr(exc, "message", None)
    if status is not None and message is not None:
        text = f"HTTP {status}: {message}"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:297] + "…"


def with_retries(policy: RetryPolicy, operation: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``operation`` up to ``policy.attempts`` times; re-raises the last error when all fail."""
    for attempt in range(policy.attempts):
        try:
            return operation()
        except Exception as exc:
            if not is_retryable(exc) or attempt + 1 >= policy.attempts:
                raise
            logger.debug("try %d failed (%s); retrying", attempt + 1, describe(exc))
            sleep(policy.delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def client_settings(client_api: Any, policy: RetryPolicy, late_writes: LateWrites | None = None) -> Iterator[None]:
    """Tune the SDK client's request retries and timeout for the duration of a call (when asked), and
    note in ``late_writes`` the annotation uploads the client gives up on (when given).

    Either way the client gets a requests session of ours for the call (the SDK's settings where
    the policy keeps them) and its own back afterwards.
    """
    if client_api is None or not (policy.tunes_requests or late_writes is not None):
        yield
        return
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.exceptions import ProtocolError, ReadTimeoutError
    from urllib3.util import Retry

    class _TimeoutAdapter(HTTPAdapter):
        def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
            if policy.request_timeout is not None:
                timeout = policy.request_timeout
            return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)

    class _WatchedRetry(Retry):
        """urllib3's retry, noting each request sent but never answered (the server may still do it)."""

        def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
            if late_writes is not None and isinstance(error, (ReadTimeoutError, ProtocolError)):
                late_writes.note(method, url)
            return super().increment(method=method, url=url, response=response, error=error, _pool=_pool,
                                     _stacktrace=_stacktrace)

    retries = SDK_REQUEST_RETRIES if policy.request_retries is None else policy.request_retries
    backoff = SDK_REQUEST_BACKOFF if policy.request_backoff is None else policy.request_backoff
    retry = _WatchedRetry(total=retries, connect=retries, read=retries, status=retries, other=retries,
                          backoff_factor=backoff, allowed_methods=False, status_forcelist=SDK_RETRY_STATUSES,
                          raise_on_status=False)
    session = requests.Session()
    adapter = _TimeoutAdapter(max_retries=retry, pool_connections=32, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    saved_session = getattr(client_api, "session", None)
    saved_upload_timeout = getattr(client_api, "upload_session_timeout", None)
    client_api.session = session
    if policy.request_timeout is not None and saved_upload_timeout is not None:
        client_api.upload_session_timeout = policy.request_timeout
    try:
        yield
    finally:
        client_api.session = saved_session
        if saved_upload_timeout is not None:
            client_api.upload_session_timeout = saved_upload_timeout
        session.close()


def client_of(dataset: Any) -> Any:
    """The SDK client behind a dataset (its ``_client_api``), else the SDK's global one."""
    client = getattr(dataset, "_client_api", None)
    if client is not None:
        return client
    try:
        return require_dtlpy().client_api
    except PlatformError:
        return None


def check_dataset(dataset: Any) -> None:
    """Refuse what is not an SDK dataset before any request is made."""
    missing = [name for name in ("id", "items") if not hasattr(dataset, name)]
    if missing:
        raise PlatformError(f"expected a dtlpy Dataset (with {', '.join(missing)}), got {type(dataset).__name__}")


def raw_json(entity: Any) -> dict:
    """The server's JSON of an SDK entity (a copy)."""
    raw = getattr(entity, "_platform_dict", None)
    if isinstance(raw, dict) and raw:
        return copy.deepcopy(raw)
    return entity.to_json()


def is_sdk_filters(value: Any) -> bool:
    """A ``dtlpy.Filters`` (duck-typed: it has ``prepare`` and ``resource``), not a Python predicate."""
    return value is not None and hasattr(value, "prepare") and hasattr(value, "resource")


def list_items(dataset: Any, filters: Any, policy: RetryPolicy) -> list:
    """Every item the SDK's ``Filters`` select (default: files that are not hidden), complete or an error."""

    def listing() -> list:
        pages = dataset.items.list(filters=copy.deepcopy(filters) if filters is not None else None)
        expected = getattr(pages, "items_count", None)
        entities = collect_pages(pages)
        if expected is not None and len(entities) < expected:
            raise Transient(f"the item listing returned {len(entities)} of {expected} items")
        return [item for item in entities if getattr(item, "type", "file") != "dir"]

    return with_retries(policy, listing)


def collect_pages(pages: Any) -> list:
    """Every entity of an SDK ``PagedEntities``; one request when the first page holds them all."""
    first = list(getattr(pages, "items", None) or [])
    expected = getattr(pages, "items_count", None)
    if not getattr(pages, "has_next_page", True) and (expected is None or len(first) >= expected):
        return first
    return [entity for page in pages for entity in page]


def annotation_filters(dl: Any, base: Any, item_id: str) -> Any:
    """``base`` (an annotation ``Filters``) narrowed to one item; every type when ``base`` is None."""
    if base is None:
        filters = dl.Filters(resource=dl.FiltersResource.ANNOTATION)
        with contextlib.suppress(Exception):
            filters.pop(field="type")  # the SDK's default lists only the types it knows
    else:
        filters = copy.deepcopy(base)
    filters.add(field="itemId", values=item_id)
    return filters


def list_annotations(dl: Any, dataset: Any, item_id: str, base_filters: Any = None) -> list[dict]:
    """The raw JSON of an item's annotations (one try); :class:`Transient` when the listing is short.

    The SDK drops annotations it cannot parse while listing (it only logs a warning), so the
    count is checked against the server's total.
    """
    pages = dataset.annotations.list(filters=annotation_filters(dl, base_filters, item_id))
    expected = getattr(pages, "items_count", None)
    out = [raw_json(annotation) for annotation in collect_pages(pages)]
    if expected is not None and len(out) != expected:
        raise Transient(f"the SDK returned {len(out)} of the item's {expected} annotations "
                        "(it drops those it cannot parse)")
    return out


def fetch_ontology(dataset: Any, policy: RetryPolicy) -> tuple[dict, dict, dict | None]:
    """``(ontology JSON, recipe JSON, instance map)`` of the dataset's first recipe."""

    def fetch() -> tuple[dict, dict, dict | None]:
        recipe_ids = _recipe_ids(dataset)
        if not recipe_ids:
            raise PlatformError(f"dataset {getattr(dataset, 'id', '?')} has no recipe")
        recipe = dataset.recipes.get(recipe_id=recipe_ids[0])
        ontology_ids = getattr(recipe, "ontology_ids", None) or (raw_json(recipe).get("ontologyIds") or [])
        if not ontology_ids:
            raise PlatformError(f"the recipe {recipe_ids[0]} of dataset {dataset.id} has no ontology")
        ontology = recipe.ontologies.get(ontology_id=ontology_ids[0])
        ontology_json = _ontology_json(ontology)
        instance_map = getattr(ontology, "_instance_map", None)  # set by the user (dataset.instance_map = …)
        cached = getattr(dataset, "_ontology", None)
        if cached is not None and isinstance(getattr(cached, "_instance_map", None), dict):
            instance_map = cached._instance_map
        return ontology_json, raw_json(recipe), dict(instance_map) if isinstance(instance_map, dict) else None

    return with_retries(policy, fetch)


def _recipe_ids(dataset: Any) -> list[str]:
    getter = getattr(dataset, "get_recipe_ids", None)
    if callable(getter):
        with contextlib.suppress(KeyError, TypeError):
            return list(getter() or [])
    metadata = getattr(dataset, "metadata", None) or {}
    return list(((metadata.get("system") or {}).get("recipes")) or [])


def _ontology_json(ontology: Any) -> dict:
    """The label tree as ``roots`` (tags, colours, children) from an SDK ontology."""
    raw = getattr(ontology, "_platform_dict", None)
    if isinstance(raw, dict) and (raw.get("roots") or raw.get("labels")):
        return copy.deepcopy(raw)
    labels = getattr(ontology, "labels", None)
    if labels is not None:
        return {"id": getattr(ontology, "id", None), "roots": [label.to_root() for label in labels]}
    return ontology.to_json()


def flat_label_names(ontology_json: dict) -> set[str]:
    """Every label of an ontology JSON, flattened to ``parent.child``."""
    colors: dict = {}
    for root in ontology_json.get("roots") or ontology_json.get("labels") or []:
        flatten_label_tree(root, "", colors)
    return set(colors)
