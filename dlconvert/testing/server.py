"""The fake Dataloop server: its state, how it is started and pointed at, and how it is filled and read."""

from __future__ import annotations

import contextlib
import copy
import json
import mimetypes
import os
import posixpath
import random
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .faults import Fault, HttpError, RequestRecord
from .handler import API_PREFIX, Server, image_size, make_handler
from .routes import ROUTES, Routes, roots_of, set_roots
from .sdk import DEFAULT_EMAIL, make_token

__all__ = ["FakeDataloop"]


class FakeDataloop(Routes):
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
        self._httpd: Server | None = None
        self._thread: threading.Thread | None = None
        self._previous_env: str | None = None
        self._previous_verbose: tuple[bool, str] | None = None

    # -- life cycle ------------------------------------------------------------------------------
    def start(self) -> FakeDataloop:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        if self._httpd is not None:
            return self
        handler = make_handler(self)
        self._httpd = Server(("127.0.0.1", 0), handler)
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
            set_roots(ontology, roots_of(ontology))
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
                set_roots(ontology, roots_of(ontology))
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
            raise HttpError(404, f"dataset {dataset_id} not found")
        return self.datasets[dataset_id]

    def _item(self, item_id: str) -> dict:
        if item_id not in self.items:
            raise HttpError(404, f"item {item_id} not found")
        return self.items[item_id]

    def _new_item(self, dataset_id: str, filename: str, data: bytes, metadata: dict, hidden: bool) -> dict:
        item_id = self.new_id()
        filename = "/" + filename.lstrip("/")
        name = posixpath.basename(filename)
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        system = {"originalname": name, "size": len(data), "encoding": "7bit", "mimetype": mimetype,
                  "isBinary": True, "refs": [], "taskStatusLog": []}
        if mimetype.startswith("image/") and self.compute_image_size:
            size = image_size(data)
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
            raise HttpError(404, f"no route {method} {path}")
        path = path[len(API_PREFIX):] or "/"
        auth = headers.get("authorization") or headers.get("Authorization") or ""
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        with self._lock:
            user = self._tokens.get(token)
        if user is None:
            raise HttpError(401, "Unauthorized: unknown or missing token")
        for route_method, pattern, name in ROUTES:
            if route_method != method:
                continue
            match = pattern.fullmatch(path)
            if match:
                handler = getattr(self, name)
                with self._lock:
                    return handler(*match.groups(), query=query, body=body, headers=headers, user=user)
        raise HttpError(404, f"no route {method} {path} on the fake Dataloop server")
