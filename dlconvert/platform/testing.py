"""An offline Dataloop API server for tests: the real ``dtlpy`` client talks to it on 127.0.0.1.

:class:`FakeDataloop` speaks the subset of the Dataloop REST API that the platform connector and
the SDK calls behind it use, holds everything in memory, and can inject faults (error codes,
delays, stalls longer than the client's timeout, dropped connections) on a configurable fraction
of requests, drawn from a seeded random generator so a failing run can be replayed::

    from dlconvert.platform.testing import FakeDataloop, Fault

    with FakeDataloop(seed=7) as server:
        dataset = server.create_dataset("demo")
        server.seed_export(dataset["id"], "export/")          # json/ + items/ + ontology.json + recipe.json
        dl = server.connect()                                  # the real dtlpy, pointed here
        remote = dl.datasets.get(dataset_id=dataset["id"])
        server.faults = [Fault(rate=0.2, kinds=("error", "drop"))]
        ...
        server.disconnect()

Set ``DATALOOP_PATH`` to a temporary folder before the first ``import dtlpy`` so the SDK keeps its
cookie (environments, tokens) there and not in ``~/.dataloop``.

Endpoints (paths under ``<url>`` = ``http://127.0.0.1:<port>/api/v1``; ``POST /token`` at the root):

==========================================  =====================================================
``GET /users/me``                           the user of the bearer token (``login_token``/``login_api_key``)
``POST /token``                             M2M login (``login_m2m``): email + password → JWT
``GET /projects/{id}``                      project
``GET /datasets/{id}``, ``POST /datasets/query``  dataset; datasets list
``POST /datasets/{id}/query``               items or annotations (``resource``) by the SDK's ``Filters``:
                                            ``$and $or $nor $eq $ne $in $nin $gt $gte $lt $lte $exists
                                            $glob``, ``*`` globs, ``join`` on annotations, ``sort``,
                                            ``page``/``pageSize``, ``delete: true``
``POST /datasets/{id}/items``               multipart item upload (``mode=skip|overwrite``); images get
                                            ``metadata.system.width/height`` from their header
``POST /datasets/{id}/export``              JSON export (``itemsQuery``, ``annotationsQuery``) → a finished
                                            command whose ``outputItemId`` is a JSON file item
``GET /commands/{id}``                      command
``GET|DELETE /items/{id}``                  item
``GET /items/{id}/stream``                  binary (``Range: bytes=N-`` honoured)
``POST /items/{id}/annotations``            create annotations (a list); ids and audit fields assigned
``GET|PUT|DELETE /annotations/{id}``        annotation
``GET /recipes/{id}``                       recipe
``GET /ontologies``, ``GET|PUT /ontologies/{id}``  ontologies
``PATCH /ontologies/{id}/labels``           add/upsert labels (``labelsNode``; ``a.b`` tags nest)
==========================================  =====================================================

Anything else answers 404 with the route in the message, so a test notices an SDK call that is
not covered. Every request is recorded in :attr:`FakeDataloop.log`.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import email.parser
import email.policy
import fnmatch
import hashlib
import hmac
import io
import json
import math
import mimetypes
import os
import posixpath
import random
import re
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeDataloop", "Fault", "RequestRecord", "fast_sdk_waits", "make_token"]

API_PREFIX = "/api/v1"
DEFAULT_EMAIL = "tester@example.com"
_FAR_FUTURE = 4102444800  # 2100-01-01: the SDK refuses tokens that expire within a minute

_SERVER_ANNOTATION_FIELDS = ("id", "datasetId", "itemId", "url", "item", "dataset")
_AUDIT_FIELDS = ("creator", "createdAt", "updatedBy", "updatedAt")


def make_token(email: str = DEFAULT_EMAIL, *, exp: int = _FAR_FUTURE, secret: bytes = b"dlconvert-testing") -> str:
    """An HS256 JWT with ``email`` and ``exp`` claims, as the SDK expects (it never checks the signature)."""

    def part(value: dict) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = part({"alg": "HS256", "typ": "JWT"})
    body = part({"email": email, "sub": email, "exp": exp, "iat": int(time.time())})
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


# ==================================================================================================
# faults
# ==================================================================================================
FAULT_KINDS = ("error", "error-after", "drop", "drop-after", "delay", "timeout")


@dataclass
class Fault:
    """A fault injected on a fraction of the requests it matches.

    Kinds: ``error`` answers ``status`` without doing anything; ``error-after`` does the work and
    then answers ``status`` (the client cannot know it happened); ``drop`` closes the connection
    without an answer; ``drop-after`` does the work, then drops; ``delay`` waits ``delay`` seconds
    and answers normally; ``timeout`` stalls ``stall`` seconds (longer than the client's timeout)
    and closes the connection without doing the work. Every fault that changes state does so before
    the client hears anything, so the server's final state is deterministic once the client is done
    (a request carried out *after* the client gave up is a race no client can see; only a re-run,
    which finds the surplus copy, corrects it).

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


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Drop(Exception):
    """Close the connection without answering."""


# ==================================================================================================
# the query language of Filters.prepare()
# ==================================================================================================
def _values_at(doc: Any, path: str) -> list:
    """The values at a dotted path, Mongo style: lists on the way are searched element-wise."""
    current = [doc]
    for key in path.split("."):
        found = []
        for value in current:
            if isinstance(value, dict):
                if key in value:
                    found.append(value[key])
            elif isinstance(value, list):
                if key.isdigit() and int(key) < len(value):
                    found.append(value[int(key)])
                found.extend(element[key] for element in value if isinstance(element, dict) and key in element)
        current = found
    out = []
    for value in current:
        out.append(value)
        if isinstance(value, list):
            out.extend(value)
    return out


def _equal(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, str) and isinstance(value, str) and ("*" in wanted or "?" in wanted):
        return fnmatch.fnmatchcase(value, wanted)
    if isinstance(value, bool) or isinstance(wanted, bool):
        return type(value) is type(wanted) and value == wanted
    return value == wanted


def _ordered(value: Any, wanted: Any, op: str) -> bool:
    numbers = (int, float)
    if isinstance(value, bool) or isinstance(wanted, bool):
        return False
    if not ((isinstance(value, numbers) and isinstance(wanted, numbers)) or
            (isinstance(value, str) and isinstance(wanted, str))):
        return False
    return {"$gt": value > wanted, "$gte": value >= wanted, "$lt": value < wanted, "$lte": value <= wanted}[op]


def _operator(values: list, op: str, arg: Any) -> bool:
    if op == "$eq":
        return any(_equal(v, arg) for v in values) or (arg is None and not values)
    if op == "$ne":
        return not _operator(values, "$eq", arg)
    if op == "$in":
        return any(_equal(v, a) for v in values for a in _as_list(arg)) or (None in _as_list(arg) and not values)
    if op == "$nin":
        return not _operator(values, "$in", arg)
    if op in ("$gt", "$gte", "$lt", "$lte"):
        return any(_ordered(v, arg, op) for v in values)
    if op == "$exists":
        return bool(values) == bool(arg)
    if op == "$glob":
        return any(isinstance(v, str) and fnmatch.fnmatchcase(v, str(arg)) for v in values)
    raise _HttpError(400, f"unsupported filter operator {op!r}")


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _matches(doc: dict, query: Any) -> bool:
    if query is None:
        return True
    if not isinstance(query, dict):
        raise _HttpError(400, f"a filter must be an object, got {query!r}")
    for key, condition in query.items():
        if key == "$and":
            if not all(_matches(doc, part) for part in condition):
                return False
        elif key == "$or":
            if not any(_matches(doc, part) for part in condition):
                return False
        elif key == "$nor":
            if any(_matches(doc, part) for part in condition):
                return False
        elif key.startswith("$"):
            raise _HttpError(400, f"unsupported filter operator {key!r}")
        else:
            values = _values_at(doc, key)
            if isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition):
                if not all(_operator(values, op, arg) for op, arg in condition.items()):
                    return False
            elif not _operator(values, "$eq", condition):
                return False
    return True


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


# ==================================================================================================
# the server
# ==================================================================================================
class FakeDataloop:
    """An in-memory Dataloop platform on ``127.0.0.1`` for offline tests of ``dtlpy`` code.

    Args:
        seed: seed of the random generator that decides which requests get a fault.
        faults: the faults to inject (also settable later through :attr:`faults`).
        email: the user of the default token (:attr:`token`).
        compute_image_size: read an uploaded image's header for ``metadata.system.width/height``
            (the platform's preprocessing); off, uploaded images have no size in their metadata.
        max_requests: a bound on the number of requests served; past it every request answers 503
            (a guard against a client stuck in a loop).
    """

    def __init__(self, *, seed: int = 0, faults: Iterable[Fault] = (), email: str = DEFAULT_EMAIL,
                 compute_image_size: bool = True, max_requests: int = 100_000) -> None:
        self.rng = random.Random(seed)
        self.faults: list[Fault] = list(faults)
        self.compute_image_size = compute_image_size
        self.max_requests = max_requests
        self.log: list[RequestRecord] = []
        self.email = email
        self.token = make_token(email)
        self.users: dict[str, str] = {}  # email → password, for M2M logins
        self._tokens: dict[str, str] = {self.token: email}
        self._lock = threading.RLock()
        self._active = 0  # requests being served
        self._counter = 0
        self._clock = 1_700_000_000
        self.projects: dict[str, dict] = {}
        self.datasets: dict[str, dict] = {}
        self.recipes: dict[str, dict] = {}
        self.ontologies: dict[str, dict] = {}
        self.items: dict[str, dict] = {}  # id → item JSON (its "annotations" key, if any, is a placeholder)
        self.blobs: dict[str, bytes] = {}
        self.annotations: dict[str, dict] = {}  # id → annotation JSON
        self.item_annotations: dict[str, list[str]] = {}  # item id → annotation ids in stored order
        self.commands: dict[str, dict] = {}
        self._exports_dataset: str | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._previous_env: str | None = None
        self._previous_verbose: tuple[bool, str] | None = None

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> FakeDataloop:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        if self._httpd is not None:
            return self
        handler = _make_handler(self)
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="FakeDataloop", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeDataloop:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        """``http://127.0.0.1:<port>`` (the gate URL; M2M logins post to ``<root>/token``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The environment URL to give the SDK: ``<root>/api/v1``."""
        return self.root + API_PREFIX

    # -- pointing the real SDK here ----------------------------------------------------------------
    def connect(self, dl: Any = None, *, token: str | None = None, quiet: bool = True) -> Any:
        """Point ``dtlpy`` (imported here unless given) at this server and log in with :attr:`token`.

        The environment is added by URL (``dl.add_environment``), selected (``dl.setenv``), and the
        token set on the client; with ``quiet`` the SDK's progress bars and error logs are muted.
        Returns the ``dtlpy`` module.
        """
        if dl is None:
            import dtlpy as dl
        client = dl.client_api
        if self._previous_env is None:
            self._previous_env = client.environment
        dl.add_environment(environment=self.url, alias=f"dlconvert-fake-{self.port}", gate_url=self.root,
                           verify_ssl=True, token=token or self.token)
        dl.setenv(self.url)
        client.token = token or self.token
        if quiet:
            if self._previous_verbose is None:
                self._previous_verbose = (client.verbose.disable_progress_bar, client.verbose.logging_level)
            client.verbose.disable_progress_bar = True
            client.verbose.logging_level = "critical"
        return dl

    def disconnect(self, dl: Any = None) -> None:
        """Switch the SDK back to the environment it had before :meth:`connect` and forget this one."""
        if dl is None:
            import dtlpy as dl
        client = dl.client_api
        environments = dict(client.environments)
        environments.pop(self.url, None)
        client.environments = environments
        if self._previous_env is not None and self._previous_env in environments:
            with contextlib.suppress(Exception):
                client.setenv(self._previous_env)
        client.session = None
        self._previous_env = None
        if self._previous_verbose is not None:
            client.verbose.disable_progress_bar, client.verbose.logging_level = self._previous_verbose
            self._previous_verbose = None

    def issue_token(self, email: str | None = None) -> str:
        """A new token the server accepts (an "API key" for ``dl.login_api_key``)."""
        token = make_token(email or self.email, secret=os.urandom(8))
        with self._lock:
            self._tokens[token] = email or self.email
        return token

    # -- building state (no faults, no HTTP) --------------------------------------------------------
    def new_id(self) -> str:
        """A fresh 24-hex id, larger than every id handed out before (ObjectId-like)."""
        with self._lock:
            self._counter += 1
            return f"6a{self._counter:022x}"

    def _now(self) -> str:
        with self._lock:
            self._clock += 1
            return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self._clock))

    def create_project(self, name: str = "project") -> dict:
        project_id = self.new_id()
        project = {"id": project_id, "name": name, "url": f"{self.url}/projects/{project_id}",
                   "creator": self.email, "createdAt": self._now(), "role": "owner",
                   "contributors": [], "account": "account", "isBlocked": False, "feedbackDatasetId": None}
        self.projects[project_id] = project
        return project

    def create_dataset(self, name: str = "dataset", *, project_id: str | None = None, ontology: dict | None = None,
                       recipe: dict | None = None, dataset_id: str | None = None) -> dict:
        """A dataset with a recipe and its ontology (``ontology``/``recipe`` JSON as a start, ids kept).

        ``dataset_id`` picks the id (e.g. the one an export's items name), else a new one.
        """
        with self._lock:
            if project_id is None:
                project_id = next(iter(self.projects), None) or self.create_project()["id"]
            ontology = copy.deepcopy(ontology) if ontology else {}
            ontology_id = ontology.get("id") or self.new_id()
            ontology.update({"id": ontology_id})
            ontology.setdefault("title", f"{name}-ontology")
            ontology.setdefault("creator", self.email)
            ontology.setdefault("url", f"{self.url}/ontologies/{ontology_id}")
            ontology.setdefault("metadata", {"system": {"projectIds": [project_id]}, "attributes": []})
            ontology.setdefault("attributes", [])
            _set_roots(ontology, _roots_of(ontology))
            self.ontologies[ontology_id] = ontology
            recipe = copy.deepcopy(recipe) if recipe else {}
            recipe_id = recipe.get("id") or self.new_id()
            recipe.update({"id": recipe_id, "ontologyIds": [ontology_id]})
            recipe.setdefault("title", f"{name}-recipe")
            recipe.setdefault("creator", self.email)
            recipe.setdefault("url", f"{self.url}/recipes/{recipe_id}")
            recipe.setdefault("projectIds", [project_id])
            recipe.setdefault("metadata", {"system": {}})
            self.recipes[recipe_id] = recipe
            dataset_id = dataset_id or self.new_id()
            if dataset_id in self.datasets:
                raise ValueError(f"dataset {dataset_id} exists")
            self.datasets[dataset_id] = {
                "id": dataset_id, "name": name, "url": f"{self.url}/datasets/{dataset_id}",
                "creator": self.email, "projects": [project_id], "createdAt": self._now(),
                "metadata": {"system": {"recipes": [recipe_id]}}, "readableType": "dataset",
                "accessLevel": "owner", "driver": None, "readonly": False, "itemsCount": 0,
                "annotated": 0, "annotationsCount": 0, "items": f"{self.url}/datasets/{dataset_id}/items",
                "directoryTree": {}, "export": {},
            }
            return self.dataset_json(dataset_id)

    def add_item(self, dataset_id: str, filename: str, data: bytes = b"", *, metadata: dict | None = None,
                 item_json: dict | None = None, hidden: bool = False) -> dict:
        """Store an item: ``item_json`` as given (ids kept, e.g. from an export), else a new item for ``data``."""
        with self._lock:
            self._dataset(dataset_id)
            if item_json is not None:
                item = copy.deepcopy(item_json)
                item.setdefault("id", self.new_id())
                item["datasetId"] = dataset_id
            else:
                item = self._new_item(dataset_id, filename, data, metadata or {}, hidden)
            self.items[item["id"]] = item
            self.blobs[item["id"]] = data
            self.item_annotations.setdefault(item["id"], [])
            return self.item_json(item["id"])

    def add_annotations(self, item_id: str, annotations: Iterable[dict], *, keep_ids: bool = True) -> list[dict]:
        """Store annotation JSONs on an item as given (ids kept unless ``keep_ids`` is False)."""
        with self._lock:
            item = self._item(item_id)
            out = []
            for raw in annotations:
                annotation = copy.deepcopy(raw)
                if not keep_ids or not annotation.get("id"):
                    annotation["id"] = self.new_id()
                annotation["itemId"] = item_id  # kept in place when the JSON has them
                annotation["datasetId"] = item["datasetId"]
                now = self._now()
                for key, value in (("creator", self.email), ("createdAt", now), ("updatedBy", self.email),
                                   ("updatedAt", now)):
                    annotation.setdefault(key, value)  # the platform always has them (the SDK needs them)
                self.annotations[annotation["id"]] = annotation
                self.item_annotations[item_id].append(annotation["id"])
                out.append(copy.deepcopy(annotation))
            return out

    def seed_export(self, dataset_id: str, folder: str | os.PathLike[str]) -> list[dict]:
        """Load a Dataloop export folder (``json/``, ``items/``, ``ontology.json``, ``recipe.json``) as it is.

        Item and annotation JSONs are stored unchanged (ids, key order, numbers), so exporting the
        dataset gives the same JSON back; binaries come from ``items/`` when there.
        """
        root = Path(folder)
        with self._lock:
            dataset = self._dataset(dataset_id)
            recipe_id = dataset["metadata"]["system"]["recipes"][0]
            ontology_id = self.recipes[recipe_id]["ontologyIds"][0]
            if (root / "ontology.json").is_file():
                ontology = json.loads((root / "ontology.json").read_text(encoding="utf-8"))
                ontology["id"] = ontology_id
                ontology.setdefault("metadata", {}).setdefault("system", {})["projectIds"] = list(dataset["projects"])
                _set_roots(ontology, _roots_of(ontology))
                self.ontologies[ontology_id] = ontology
            if (root / "recipe.json").is_file():
                recipe = json.loads((root / "recipe.json").read_text(encoding="utf-8"))
                recipe.update({"id": recipe_id, "ontologyIds": [ontology_id], "projectIds": list(dataset["projects"])})
                self.recipes[recipe_id] = recipe
            seeded = []
            for path in sorted((root / "json").rglob("*.json")):
                data = json.loads(path.read_text(encoding="utf-8"))
                annotations = data.get("annotations", [])
                binary = root / "items" / str(data.get("filename", "")).lstrip("/")
                blob = binary.read_bytes() if data.get("filename") and binary.is_file() else b""
                item = self.add_item(dataset_id, data.get("filename", ""), blob, item_json=data)
                self.add_annotations(item["id"], annotations)
                seeded.append(item)
            return seeded

    # -- reading state -----------------------------------------------------------------------------
    def dataset_json(self, dataset_id: str) -> dict:
        with self._lock:
            dataset = copy.deepcopy(self._dataset(dataset_id))
            items = [i for i in self.items.values() if i.get("datasetId") == dataset_id]
            dataset["itemsCount"] = len(items)
            dataset["annotationsCount"] = sum(len(self.item_annotations.get(i["id"], [])) for i in items)
            dataset["annotated"] = sum(1 for i in items if self.item_annotations.get(i["id"]))
            return dataset

    def item_json(self, item_id: str, *, with_annotations: bool = False) -> dict:
        """The item as the API returns it; ``with_annotations`` inlines them as an export does."""
        with self._lock:
            item = self._item(item_id)
            ids = self.item_annotations.get(item_id, [])
            out: dict = {}
            for key, value in item.items():
                if key == "annotations":
                    out[key] = ([copy.deepcopy(self.annotations[a]) for a in ids] if with_annotations
                                else f"{self.url}/items/{item_id}/annotations")
                elif key == "annotationsCount":
                    out[key] = len(ids)
                elif key == "annotated":
                    out[key] = bool(ids)
                else:
                    out[key] = copy.deepcopy(value)
            if with_annotations and "annotations" not in out:
                out["annotations"] = [copy.deepcopy(self.annotations[a]) for a in ids]
            out.setdefault("annotationsCount", len(ids))
            out.setdefault("annotated", bool(ids))
            return out

    def dataset_items(self, dataset_id: str, *, with_annotations: bool = False, hidden: bool = False) -> list[dict]:
        """The dataset's items (sorted by filename)."""
        with self._lock:
            items = [self.item_json(i, with_annotations=with_annotations) for i, raw in self.items.items()
                     if raw.get("datasetId") == dataset_id and (hidden or not raw.get("hidden"))]
            return sorted(items, key=lambda i: (str(i.get("filename")), i["id"]))

    def item_annotations_json(self, item_id: str) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(self.annotations[a]) for a in self.item_annotations.get(item_id, [])]

    def item_by_path(self, dataset_id: str, filename: str) -> dict | None:
        with self._lock:
            for item_id, item in self.items.items():
                if item.get("datasetId") == dataset_id and item.get("filename") == filename:
                    return self.item_json(item_id)
            return None

    def ontology_json(self, dataset_id: str) -> dict:
        with self._lock:
            recipe = self.recipes[self._dataset(dataset_id)["metadata"]["system"]["recipes"][0]]
            return copy.deepcopy(self.ontologies[recipe["ontologyIds"][0]])

    def label_names(self, dataset_id: str) -> list[str]:
        """Every label of the dataset's ontology, flattened (``parent.child``), sorted."""
        names: list[str] = []

        def walk(node: dict, prefix: str) -> None:
            tag = node["value"]["tag"]
            name = f"{prefix}.{tag}" if prefix else tag
            names.append(name)
            for child in node.get("children") or []:
                walk(child, name)

        for root in self.ontology_json(dataset_id).get("roots", []):
            walk(root, "")
        return sorted(names)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no request is being served (a stalled one finishes); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self._active == 0:
                    return True
            time.sleep(0.01)
        return False

    def faulted(self) -> list[RequestRecord]:
        """The requests that got a fault."""
        return [r for r in self.log if r.fault]

    # -- internals -----------------------------------------------------------------------------------
    def _dataset(self, dataset_id: str) -> dict:
        if dataset_id not in self.datasets:
            raise _HttpError(404, f"dataset {dataset_id} not found")
        return self.datasets[dataset_id]

    def _item(self, item_id: str) -> dict:
        if item_id not in self.items:
            raise _HttpError(404, f"item {item_id} not found")
        return self.items[item_id]

    def _new_item(self, dataset_id: str, filename: str, data: bytes, metadata: dict, hidden: bool) -> dict:
        item_id = self.new_id()
        filename = "/" + filename.lstrip("/")
        name = posixpath.basename(filename)
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        system = {"originalname": name, "size": len(data), "encoding": "7bit", "mimetype": mimetype,
                  "isBinary": True, "refs": [], "taskStatusLog": []}
        if mimetype.startswith("image/") and self.compute_image_size:
            size = _image_size(data)
            if size is not None:
                system.update({"exif": {}, "width": size[0], "height": size[1]})
        user_metadata = copy.deepcopy(metadata)
        given_system = user_metadata.pop("system", None)
        if isinstance(given_system, dict):
            system.update(given_system)
        return {
            "id": item_id, "datasetId": dataset_id, "url": f"{self.url}/items/{item_id}",
            "dataset": f"{self.url}/datasets/{dataset_id}", "createdAt": self._now(),
            "dir": posixpath.dirname(filename) or "/", "filename": filename, "type": "file", "hidden": hidden,
            "metadata": {"system": system, **user_metadata}, "name": name, "creator": self.email,
            "stream": f"{self.url}/items/{item_id}/stream", "thumbnail": f"{self.url}/items/{item_id}/thumbnail",
            "annotations": None, "annotationsCount": 0, "annotated": False,
        }

    # -- request handling (called by the handler thread) -------------------------------------------
    def _choose_fault(self, method: str, path: str, body: bytes = b"") -> tuple[Fault, str] | None:
        with self._lock:
            for fault in self.faults:
                if fault.applies(method, path, body) and self.rng.random() < fault.rate:
                    fault.fired += 1
                    return fault, self.rng.choice(fault.kinds)
        return None

    def _handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> tuple[int, bytes, dict]:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/token" and method == "POST":
            return self._route_token(body)
        if not path.startswith(API_PREFIX):
            raise _HttpError(404, f"no route {method} {path}")
        path = path[len(API_PREFIX):] or "/"
        auth = headers.get("authorization") or headers.get("Authorization") or ""
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self._lock:
            user = self._tokens.get(token)
        if user is None:
            raise _HttpError(401, "Unauthorized: unknown or missing token")
        for route_method, pattern, name in _ROUTES:
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match:
                handler = getattr(self, name)
                with self._lock:
                    return handler(*match.groups(), query=query, body=body, headers=headers, user=user)
        raise _HttpError(404, f"no route {method} {path} on the fake Dataloop server")

    def _route_token(self, body: bytes) -> tuple[int, bytes, dict]:
        payload = _json_body(body) or {}
        email_ = payload.get("username")
        with self._lock:
            if email_ not in self.users or self.users[email_] != payload.get("password"):
                raise _HttpError(401, "wrong email or password")
            token = make_token(email_, secret=os.urandom(8))
            self._tokens[token] = email_
        return _ok({"id_token": token, "refresh_token": None})

    # routes: each returns (status, body, headers)
    def _get_me(self, *, user: str, **_: Any):
        return _ok({"id": user, "email": user, "username": user, "firstName": "Test", "lastName": "User"})

    def _get_project(self, project_id: str, **_: Any):
        if project_id not in self.projects:
            raise _HttpError(404, f"project {project_id} not found")
        return _ok(self.projects[project_id])

    def _get_dataset(self, dataset_id: str, **_: Any):
        return _ok(self.dataset_json(dataset_id))

    def _query_datasets(self, *, body: bytes, **_: Any):
        request = _json_body(body) or {}
        docs = [self.dataset_json(d) for d in self.datasets]
        return _ok(_page(docs, request))

    def _query_dataset(self, dataset_id: str, *, body: bytes, headers: Any, **_: Any):
        self._dataset(dataset_id)
        request = _json_body(body) or {}
        resource = request.get("resource", "items")
        if resource == "items":
            docs = [self.item_json(i) for i, raw in self.items.items() if raw.get("datasetId") == dataset_id]
            join = request.get("join")
            selected = [d for d in docs if _matches(d, request.get("filter")) and self._joined(d, join)]
        elif resource == "annotations":
            docs = [self._annotation_doc(a) for a in self.annotations.values() if a.get("datasetId") == dataset_id]
            selected = [d for d in docs if _matches(d, request.get("filter"))]
        else:
            raise _HttpError(400, f"unsupported resource {resource!r}")
        if request.get("delete") or (request.get("operation") or {}).get("type") == "delete":
            for doc in selected:
                if resource == "items":
                    self._delete_item(doc["id"])
                else:
                    self._delete_annotation(doc["id"])
            return _ok({"deleted": len(selected)})
        return _ok(_page(selected, request))

    def _joined(self, doc: dict, join: dict | None) -> bool:
        if not join:
            return True
        on = join.get("on") or {}
        if on.get("resource", "annotations") != "annotations":
            raise _HttpError(400, f"unsupported join {on!r}")
        return any(_matches(self._annotation_doc(self.annotations[a]), join.get("filter"))
                   for a in self.item_annotations.get(doc["id"], []))

    def _annotation_doc(self, annotation: dict) -> dict:
        doc = copy.deepcopy(annotation)
        doc.setdefault("annotationId", annotation["id"])
        return doc

    def _upload_item(self, dataset_id: str, *, query: dict, body: bytes, headers: Any, **_: Any):
        self._dataset(dataset_id)
        form = _parse_multipart(headers.get("content-type") or headers.get("Content-Type") or "", body)
        if "file" not in form:
            raise _HttpError(400, "multipart upload without a 'file' part")
        data, upload_name = form["file"]
        path = form.get("path", (None, None))[0]
        path = (path.decode() if isinstance(path, bytes) else path) or "/" + (upload_name or "file")
        path = "/" + path.lstrip("/")
        raw_metadata = form.get("metadata", (None, None))[0]
        metadata = json.loads(raw_metadata) if raw_metadata else {}
        mode = query.get("mode", "skip")
        existing = next((i for i, raw in self.items.items()
                         if raw.get("datasetId") == dataset_id and raw.get("filename") == path), None)
        if existing is not None and mode != "overwrite":
            return 200, _dump(self.item_json(existing)), {"Content-Type": "application/json", "x-item-op": "skip"}
        if existing is not None:
            self._delete_item(existing)
        item = self.add_item(dataset_id, path, data, metadata=metadata)
        return 200, _dump(item), {"Content-Type": "application/json",
                                  "x-item-op": "overwrite" if existing else "created"}

    def _get_item(self, item_id: str, **_: Any):
        return _ok(self.item_json(item_id))

    def _delete_item_route(self, item_id: str, **_: Any):
        self._item(item_id)
        self._delete_item(item_id)
        return _ok({})

    def _delete_item(self, item_id: str) -> None:
        for annotation_id in self.item_annotations.pop(item_id, []):
            self.annotations.pop(annotation_id, None)
        self.items.pop(item_id, None)
        self.blobs.pop(item_id, None)

    def _stream_item(self, item_id: str, *, headers: Any, **_: Any):
        self._item(item_id)
        data = self.blobs.get(item_id, b"")
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", (headers.get("range") or headers.get("Range") or "").strip())
        if match:
            start = min(int(match.group(1)), len(data))
        mimetype = ((self.items[item_id].get("metadata") or {}).get("system") or {}).get("mimetype")
        return (206 if start else 200), data[start:], {"Content-Type": mimetype or "application/octet-stream"}

    def _create_annotations(self, item_id: str, *, body: bytes, user: str, **_: Any):
        item = self._item(item_id)
        payload = _json_body(body)
        if isinstance(payload, dict):
            payload = [payload]
        if not isinstance(payload, list) or not all(isinstance(a, dict) for a in payload):
            raise _HttpError(400, "expected a list of annotations")
        created = []
        for raw in payload:
            if not isinstance(raw.get("type"), str):
                raise _HttpError(400, "an annotation needs a 'type'")
            annotation_id = self.new_id()
            now = self._now()
            annotation: dict = {"id": annotation_id, "datasetId": item["datasetId"], "itemId": item_id,
                                "url": f"{self.url}/annotations/{annotation_id}",
                                "item": f"{self.url}/items/{item_id}",
                                "dataset": f"{self.url}/datasets/{item['datasetId']}"}
            for key, value in raw.items():
                if key not in _SERVER_ANNOTATION_FIELDS and key not in _AUDIT_FIELDS:
                    annotation[key] = copy.deepcopy(value)
            metadata = annotation.setdefault("metadata", {})
            if not isinstance(metadata, dict):
                raise _HttpError(400, "'metadata' must be an object")
            system = metadata.setdefault("system", {})
            parent = system.get("parentId") if isinstance(system, dict) else None
            if parent is not None and parent not in self.item_annotations[item_id]:
                raise _HttpError(400, f"parentId {parent} is not an annotation of this item")
            annotation.update({"creator": user, "createdAt": now, "updatedBy": user, "updatedAt": now,
                               "source": "sdk"})
            self.annotations[annotation_id] = annotation
            self.item_annotations[item_id].append(annotation_id)
            created.append(copy.deepcopy(annotation))
        return _ok(created)

    def _get_annotation(self, annotation_id: str, **_: Any):
        if annotation_id not in self.annotations:
            raise _HttpError(404, f"annotation {annotation_id} not found")
        return _ok(self.annotations[annotation_id])

    def _put_annotation(self, annotation_id: str, *, body: bytes, user: str, **_: Any):
        if annotation_id not in self.annotations:
            raise _HttpError(404, f"annotation {annotation_id} not found")
        payload = _json_body(body) or {}
        annotation = self.annotations[annotation_id]
        for key, value in payload.items():
            if key not in _SERVER_ANNOTATION_FIELDS and key not in _AUDIT_FIELDS:
                annotation[key] = copy.deepcopy(value)
        annotation.update({"updatedBy": user, "updatedAt": self._now()})
        return _ok(annotation)

    def _delete_annotation_route(self, annotation_id: str, **_: Any):
        if annotation_id not in self.annotations:
            raise _HttpError(404, f"annotation {annotation_id} not found")
        self._delete_annotation(annotation_id)
        return _ok({})

    def _delete_annotation(self, annotation_id: str) -> None:
        annotation = self.annotations.pop(annotation_id, None)
        if annotation is None:
            return
        ids = self.item_annotations.get(annotation.get("itemId"), [])
        if annotation_id in ids:
            ids.remove(annotation_id)
        for child_id in [a for a in ids if ((self.annotations[a].get("metadata") or {}).get("system") or {})
                         .get("parentId") == annotation_id]:
            self._delete_annotation(child_id)

    def _export(self, dataset_id: str, *, body: bytes, **_: Any):
        self._dataset(dataset_id)
        request = _json_body(body) or {}
        if request.get("exportType", "json") != "json":
            raise _HttpError(400, "only JSON exports are served")
        items_query = request.get("itemsQuery") or {}
        annotations_query = (request.get("annotationsQuery") or {}).get("filter")
        include = (request.get("annotations") or {}).get("include", True)
        out = []
        for item_id, raw in sorted(self.items.items()):
            if raw.get("datasetId") != dataset_id:
                continue
            doc = self.item_json(item_id)
            if not (_matches(doc, items_query.get("filter")) and self._joined(doc, items_query.get("join"))):
                continue
            exported = self.item_json(item_id, with_annotations=True)
            if not include:
                exported["annotations"] = []
            elif annotations_query:
                exported["annotations"] = [a for a in exported["annotations"]
                                           if _matches(self._annotation_doc(a), annotations_query)]
            out.append(exported)
        exports = self._exports()
        blob = json.dumps(out).encode("utf-8")
        command_id = self.new_id()
        item = self.add_item(exports, f"/.dataloop/exports/{command_id}.json", blob, hidden=True)
        command = {"id": command_id, "url": f"{self.url}/commands/{command_id}", "status": "success",
                   "createdAt": self._now(), "updatedAt": self._now(), "type": "ExportDatasetAsJson",
                   "progress": 100, "spec": {"outputItemId": item["id"], "datasetId": dataset_id}, "error": None}
        self.commands[command_id] = command
        return _ok(command)

    def _exports(self) -> str:
        if self._exports_dataset is None:
            project_id = next(iter(self.projects), None) or self.create_project()["id"]
            self._exports_dataset = self.create_dataset("Binaries", project_id=project_id)["id"]
        return self._exports_dataset

    def _get_command(self, command_id: str, **_: Any):
        if command_id not in self.commands:
            raise _HttpError(404, f"command {command_id} not found")
        return _ok(self.commands[command_id])

    def _get_recipe(self, recipe_id: str, **_: Any):
        if recipe_id not in self.recipes:
            raise _HttpError(404, f"recipe {recipe_id} not found")
        return _ok(self.recipes[recipe_id])

    def _list_ontologies(self, *, query: dict, **_: Any):
        ids = [i for i in (query.get("ids") or "").split(",") if i]
        docs = [o for i, o in self.ontologies.items() if not ids or i in ids]
        offset = int(query.get("pageOffset", 0) or 0)
        size = int(query.get("pageSize", 1000) or 1000)
        return _ok(_page(docs, {"page": offset, "pageSize": size}))

    def _get_ontology(self, ontology_id: str, **_: Any):
        if ontology_id not in self.ontologies:
            raise _HttpError(404, f"ontology {ontology_id} not found")
        return _ok(self.ontologies[ontology_id])

    def _put_ontology(self, ontology_id: str, *, body: bytes, **_: Any):
        if ontology_id not in self.ontologies:
            raise _HttpError(404, f"ontology {ontology_id} not found")
        payload = _json_body(body) or {}
        ontology = self.ontologies[ontology_id]
        for key in ("roots", "labels", "metadata", "attributes", "title"):
            if key in payload:
                ontology[key] = copy.deepcopy(payload[key])
        _set_roots(ontology, _roots_of(ontology))
        return _ok(ontology)

    def _patch_labels(self, ontology_id: str, *, body: bytes, **_: Any):
        if ontology_id not in self.ontologies:
            raise _HttpError(404, f"ontology {ontology_id} not found")
        payload = _json_body(body) or {}
        ontology = self.ontologies[ontology_id]
        roots = _roots_of(ontology)
        upsert = bool(payload.get("upsert"))
        for node in payload.get("labelsNode") or []:
            tag = node.get("tag") if isinstance(node, dict) else None
            if not isinstance(tag, str) or not tag:
                raise _HttpError(400, "each label node needs a 'tag'")
            siblings = roots
            parts = tag.split(".")
            for depth, part in enumerate(parts):
                found = next((n for n in siblings if n["value"]["tag"] == part), None)
                last = depth == len(parts) - 1
                if found is None:
                    found = {"value": {"tag": part, "displayLabel": part, "color": None, "attributes": [],
                                       "displayData": {}}, "children": []}
                    siblings.append(found)
                    if last:
                        _apply_label_node(found["value"], node)
                elif last and upsert:
                    _apply_label_node(found["value"], node)
                siblings = found["children"]
        _set_roots(ontology, roots)
        return _ok(ontology)


def _apply_label_node(value: dict, node: dict) -> None:
    for key in ("color", "displayLabel", "attributes", "displayData"):
        if node.get(key) is not None:
            value[key] = copy.deepcopy(node[key])


def _roots_of(ontology: dict) -> list[dict]:
    """The ontology's label tree as ``roots`` nodes (from ``roots``, else ``labels``)."""
    if isinstance(ontology.get("roots"), list):
        return copy.deepcopy(ontology["roots"])

    def from_label(node: dict) -> dict:
        value = {k: copy.deepcopy(v) for k, v in node.items() if k != "children"}
        return {"value": value, "children": [from_label(c) for c in node.get("children") or []]}

    return [from_label(n) for n in ontology.get("labels") or [] if isinstance(n, dict)]


def _set_roots(ontology: dict, roots: list[dict]) -> None:
    """Store the tree as ``roots`` and the matching ``labels`` view (both as the platform returns them)."""

    def to_label(node: dict) -> dict:
        value = copy.deepcopy(node["value"])
        value["children"] = [to_label(c) for c in node.get("children") or []]
        return value

    ontology["roots"] = roots
    ontology["labels"] = [to_label(n) for n in roots]


_ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in [
    ("GET", r"/users/me", "_get_me"),
    ("GET", r"/projects/([0-9a-f]+)", "_get_project"),
    ("POST", r"/datasets/query", "_query_datasets"),
    ("GET", r"/datasets/([0-9a-f]+)", "_get_dataset"),
    ("POST", r"/datasets/([0-9a-f]+)/query", "_query_dataset"),
    ("POST", r"/datasets/([0-9a-f]+)/items", "_upload_item"),
    ("POST", r"/datasets/([0-9a-f]+)/export", "_export"),
    ("GET", r"/commands/([0-9a-f]+)", "_get_command"),
    ("GET", r"/items/([0-9a-f]+)", "_get_item"),
    ("DELETE", r"/items/([0-9a-f]+)", "_delete_item_route"),
    ("GET", r"/items/([0-9a-f]+)/stream", "_stream_item"),
    ("POST", r"/items/([0-9a-f]+)/annotations", "_create_annotations"),
    ("GET", r"/annotations/([0-9a-f]+)", "_get_annotation"),
    ("PUT", r"/annotations/([0-9a-f]+)", "_put_annotation"),
    ("DELETE", r"/annotations/([0-9a-f]+)", "_delete_annotation_route"),
    ("GET", r"/recipes/([0-9a-f]+)", "_get_recipe"),
    ("GET", r"/ontologies", "_list_ontologies"),
    ("GET", r"/ontologies/([0-9a-f]+)", "_get_ontology"),
    ("PUT", r"/ontologies/([0-9a-f]+)", "_put_ontology"),
    ("PATCH", r"/ontologies/([0-9a-f]+)/labels", "_patch_labels"),
]]


def _page(docs: list[dict], request: dict) -> dict:
    sort = request.get("sort") or {}
    for key, direction in reversed(list(sort.items())):
        docs = sorted(docs, key=lambda d, k=key: _sort_key(next(iter(_values_at(d, k)), None)),
                      reverse=str(direction).lower().startswith("desc"))
    if not sort:
        docs = sorted(docs, key=lambda d: str(d.get("id")))
    size = int(request.get("pageSize", 1000) if request.get("pageSize") is not None else 1000)
    page = int(request.get("page", 0) or 0)
    total = len(docs)
    if size <= 0:
        return {"totalItemsCount": total, "items": [], "totalPagesCount": 0, "hasNextPage": False}
    chunk = docs[page * size:(page + 1) * size]
    return {"totalItemsCount": total, "items": chunk, "totalPagesCount": math.ceil(total / size),
            "hasNextPage": (page + 1) * size < total}


def _dump(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def _ok(value: Any) -> tuple[int, bytes, dict]:
    return 200, _dump(value), {"Content-Type": "application/json"}


def _json_body(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise _HttpError(400, f"invalid JSON body: {exc}") from None


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[bytes | str, str | None]]:
    """``{field: (value, filename)}`` of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise _HttpError(400, f"expected multipart/form-data, got {content_type!r}")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    out: dict[str, tuple[bytes | str, str | None]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        out[name] = (payload, filename) if filename is not None else (payload.decode("utf-8"), None)
    return out


def _image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # not an image the header reader knows: no size, as the platform would do
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


def _make_handler(server: FakeDataloop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # an idle keep-alive connection is closed after this

        def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
            return

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                chunks = []
                while True:
                    line = self.rfile.readline(65537).strip()
                    size = int(line.split(b";")[0] or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(65537).strip():
                            pass
                        break
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline(3)
                return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self) -> None:
            with server._lock:
                server._active += 1
            try:
                self._serve_one()
            finally:
                with server._lock:
                    server._active -= 1

        def _serve_one(self) -> None:
            method = self.command
            body = self._body()
            short = urlsplit(self.path).path
            short = short[len(API_PREFIX):] if short.startswith(API_PREFIX) else short
            with server._lock:
                over = len(server.log) >= server.max_requests
            chosen = None if over else server._choose_fault(method, short, body)
            kind = chosen[1] if chosen else None
            fault = chosen[0] if chosen else None
            status: int | None = None
            try:
                if over:
                    raise _HttpError(503, "request budget of the fake server exhausted")
                if kind == "drop":
                    raise _Drop()
                if kind == "error":
                    raise _HttpError(_pick_status(server, fault), "injected fault")
                if kind == "delay":
                    time.sleep(fault.delay)
                if kind == "timeout":
                    time.sleep(fault.stall)
                    raise _Drop()
                try:
                    status, payload, headers = server._handle(method, self.path, self.headers, body)
                except _HttpError:
                    if kind in ("error-after", "drop-after"):
                        kind = None  # the work failed on its own: answer that
                    raise
                if kind == "drop-after":
                    raise _Drop()
                if kind == "error-after":
                    raise _HttpError(_pick_status(server, fault), "injected fault (after the work was done)")
            except _Drop:
                with server._lock:
                    server.log.append(RequestRecord(method, short, None, kind))
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            except _HttpError as exc:
                status, payload, headers = exc.status, _dump({"status": exc.status, "message": exc.message}), {
                    "Content-Type": "application/json"}
            except Exception as exc:  # a bug in the fake server: answer 500 and say so
                status, payload, headers = 500, _dump({"status": 500, "message": f"fake server error: {exc!r}"}), {
                    "Content-Type": "application/json"}
            with server._lock:
                server.log.append(RequestRecord(method, short, status, kind))
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if method != "HEAD":
                    self.wfile.write(payload)
            except OSError:  # the client gave up (timeout) or the connection broke
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


def _pick_status(server: FakeDataloop, fault: Fault | None) -> int:
    if fault is None:
        return 500
    if isinstance(fault.status, int):
        return fault.status
    with server._lock:
        return server.rng.choice(fault.status)


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
