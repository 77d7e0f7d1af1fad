"""The REST routes the fake server answers (see :mod:`dlconvert.testing`): a mixin of
:class:`~dlconvert.testing.server.FakeDataloop`, whose state and lock they use. Each route returns
``(status, body, headers)`` or raises :class:`~dlconvert.testing.faults.HttpError`."""

from __future__ import annotations

import copy
import json
import os
import re
from typing import Any

from .faults import HttpError
from .handler import dump, json_body, ok, parse_multipart
from .query import matches, page
from .sdk import make_token

__all__ = ["ROUTES", "Routes", "roots_of", "set_roots"]

_SERVER_ANNOTATION_FIELDS = ("id", "datasetId", "itemId", "url", "item", "dataset")
_AUDIT_FIELDS = ("creator", "createdAt", "updatedBy", "updatedAt")


class Routes:
    """The route handlers (``_get_dataset``, ``_create_annotations`` …), by the names :data:`ROUTES` gives."""


    def _route_token(self, body: bytes) -> tuple[int, bytes, dict]:
        payload = json_body(body) or {}
        email_ = payload.get("username")
        with self._lock:
            if email_ not in self.users or self.users[email_] != payload.get("password"):
                raise HttpError(401, "wrong email or password")
            token = make_token(email_, secret=os.urandom(8))
            self._tokens[token] = email_
        return ok({"id_token": token, "refresh_token": None})

    # routes: each returns (status, body, headers)
    def _get_me(self, *, user: str, **_: Any):
        return ok({"id": user, "email": user, "username": user, "firstName": "Test", "lastName": "User"})

    def _get_project(self, project_id: str, **_: Any):
        if project_id not in self.projects:
            raise HttpError(404, f"project {project_id} not found")
        return ok(self.projects[project_id])

    def _get_dataset(self, dataset_id: str, **_: Any):
        return ok(self.dataset_json(dataset_id))

    def _query_datasets(self, *, body: bytes, **_: Any):
        request = json_body(body) or {}
        docs = [self.dataset_json(d) for d in self.datasets]
        return ok(page(docs, request))

    def _query_dataset(self, dataset_id: str, *, body: bytes, headers: Any, **_: Any):
        self._dataset(dataset_id)
        request = json_body(body) or {}
        resource = request.get("resource", "items")
        if resource == "items":
            docs = [self.item_json(i) for i, raw in self.items.items() if raw.get("datasetId") == dataset_id]
            join = request.get("join")
            selected = [d for d in docs if matches(d, request.get("filter")) and self._joined(d, join)]
        elif resource == "annotations":
            docs = [self._annotation_doc(a) for a in self.annotations.values() if a.get("datasetId") == dataset_id]
            selected = [d for d in docs if matches(d, request.get("filter"))]
        else:
            raise HttpError(400, f"unsupported resource {resource!r}")
        if request.get("delete") or (request.get("operation") or {}).get("type") == "delete":
            for doc in selected:
                if resource == "items":
                    self._delete_item(doc["id"])
                else:
                    self._delete_annotation(doc["id"])
            return ok({"deleted": len(selected)})
        return ok(page(selected, request))

    def _joined(self, doc: dict, join: dict | None) -> bool:
        if not join:
            return True
        on = join.get("on") or {}
        if on.get("resource", "annotations") != "annotations":
            raise HttpError(400, f"unsupported join {on!r}")
        return any(matches(self._annotation_doc(self.annotations[a]), join.get("filter"))
                   for a in self.item_annotations.get(doc["id"], []))

    def _annotation_doc(self, annotation: dict) -> dict:
        doc = copy.deepcopy(annotation)
        doc.setdefault("annotationId", annotation["id"])
        return doc

    def _upload_item(self, dataset_id: str, *, query: dict, body: bytes, headers: Any, **_: Any):
        self._dataset(dataset_id)
        form = parse_multipart(headers.get("content-type") or headers.get("Content-Type") or "", body)
        if "file" not in form:
            raise HttpError(400, "multipart upload without a 'file' part")
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
            return 200, dump(self.item_json(existing)), {"Content-Type": "application/json", "x-item-op": "skip"}
        if existing is not None:
            self._delete_item(existing)
        item = self.add_item(dataset_id, path, data, metadata=metadata)
        return 200, dump(item), {"Content-Type": "application/json",
                                  "x-item-op": "overwrite" if existing else "created"}

    def _get_item(self, item_id: str, **_: Any):
        return ok(self.item_json(item_id))

    def _delete_item_route(self, item_id: str, **_: Any):
        self._item(item_id)
        self._delete_item(item_id)
        return ok({})

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
        payload = json_body(body)
        if isinstance(payload, dict):
            payload = [payload]
        if not isinstance(payload, list) or not all(isinstance(a, dict) for a in payload):
            raise HttpError(400, "expected a list of annotations")
        created = []
        for raw in payload:
            if not isinstance(raw.get("type"), str):
                raise HttpError(400, "an annotation needs a 'type'")
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
                raise HttpError(400, "'metadata' must be an object")
            system = metadata.setdefault("system", {})
            parent = system.get("parentId") if isinstance(system, dict) else None
            if parent is not None and parent not in self.item_annotations[item_id]:
                raise HttpError(400, f"parentId {parent} is not an annotation of this item")
            annotation.update({"creator": user, "createdAt": now, "updatedBy": user, "updatedAt": now,
                               "source": "sdk"})
            self.annotations[annotation_id] = annotation
            self.item_annotations[item_id].append(annotation_id)
            created.append(copy.deepcopy(annotation))
        return ok(created)

    def _get_annotation(self, annotation_id: str, **_: Any):
        if annotation_id not in self.annotations:
            raise HttpError(404, f"annotation {annotation_id} not found")
        return ok(self.annotations[annotation_id])

    def _put_annotation(self, annotation_id: str, *, body: bytes, user: str, **_: Any):
        if annotation_id not in self.annotations:
            raise HttpError(404, f"annotation {annotation_id} not found")
        payload = json_body(body) or {}
        annotation = self.annotations[annotation_id]
        for key, value in payload.items():
            if key not in _SERVER_ANNOTATION_FIELDS and key not in _AUDIT_FIELDS:
                annotation[key] = copy.deepcopy(value)
        annotation.update({"updatedBy": user, "updatedAt": self._now()})
        return ok(annotation)

    def _delete_annotation_route(self, annotation_id: str, **_: Any):
        if annotation_id not in self.annotations:
            raise HttpError(404, f"annotation {annotation_id} not found")
        self._delete_annotation(annotation_id)
        return ok({})

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
        request = json_body(body) or {}
        if request.get("exportType", "json") != "json":
            raise HttpError(400, "only JSON exports are served")
        items_query = request.get("itemsQuery") or {}
        annotations_query = (request.get("annotationsQuery") or {}).get("filter")
        include = (request.get("annotations") or {}).get("include", True)
        out = []
        for item_id, raw in sorted(self.items.items()):
            if raw.get("datasetId") != dataset_id:
                continue
            doc = self.item_json(item_id)
            if not (matches(doc, items_query.get("filter")) and self._joined(doc, items_query.get("join"))):
                continue
            exported = self.item_json(item_id, with_annotations=True)
            if not include:
                exported["annotations"] = []
            elif annotations_query:
                exported["annotations"] = [a for a in exported["annotations"]
                                           if matches(self._annotation_doc(a), annotations_query)]
            out.append(exported)
        exports = self._exports()
        blob = json.dumps(out).encode("utf-8")
        command_id = self.new_id()
        item = self.add_item(exports, f"/.dataloop/exports/{command_id}.json", blob, hidden=True)
        command = {"id": command_id, "url": f"{self.url}/commands/{command_id}", "status": "success",
                   "createdAt": self._now(), "updatedAt": self._now(), "type": "ExportDatasetAsJson",
                   "progress": 100, "spec": {"outputItemId": item["id"], "datasetId": dataset_id}, "error": None}
        self.commands[command_id] = command
        return ok(command)

    def _exports(self) -> str:
        if self._exports_dataset is None:
            project_id = next(iter(self.projects), None) or self.create_project()["id"]
            self._exports_dataset = self.create_dataset("Binaries", project_id=project_id)["id"]
        return self._exports_dataset

    def _get_command(self, command_id: str, **_: Any):
        if command_id not in self.commands:
            raise HttpError(404, f"command {command_id} not found")
        return ok(self.commands[command_id])

    def _get_recipe(self, recipe_id: str, **_: Any):
        if recipe_id not in self.recipes:
            raise HttpError(404, f"recipe {recipe_id} not found")
        return ok(self.recipes[recipe_id])

    def _list_ontologies(self, *, query: dict, **_: Any):
        ids = [i for i in (query.get("ids") or "").split(",") if i]
        docs = [o for i, o in self.ontologies.items() if not ids or i in ids]
        offset = int(query.get("pageOffset", 0) or 0)
        size = int(query.get("pageSize", 1000) or 1000)
        return ok(page(docs, {"page": offset, "pageSize": size}))

    def _get_ontology(self, ontology_id: str, **_: Any):
        if ontology_id not in self.ontologies:
            raise HttpError(404, f"ontology {ontology_id} not found")
        return ok(self.ontologies[ontology_id])

    def _put_ontology(self, ontology_id: str, *, body: bytes, **_: Any):
        if ontology_id not in self.ontologies:
            raise HttpError(404, f"ontology {ontology_id} not found")
        payload = json_body(body) or {}
        ontology = self.ontologies[ontology_id]
        for key in ("roots", "labels", "metadata", "attributes", "title"):
            if key in payload:
                ontology[key] = copy.deepcopy(payload[key])
        set_roots(ontology, roots_of(ontology))
        return ok(ontology)

    def _patch_labels(self, ontology_id: str, *, body: bytes, **_: Any):
        if ontology_id not in self.ontologies:
            raise HttpError(404, f"ontology {ontology_id} not found")
        payload = json_body(body) or {}
        ontology = self.ontologies[ontology_id]
        roots = roots_of(ontology)
        upsert = bool(payload.get("upsert"))
        for node in payload.get("labelsNode") or []:
            tag = node.get("tag") if isinstance(node, dict) else None
            if not isinstance(tag, str) or not tag:
                raise HttpError(400, "each label node needs a 'tag'")
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
        set_roots(ontology, roots)
        return ok(ontology)



def _apply_label_node(value: dict, node: dict) -> None:
    for key in ("color", "displayLabel", "attributes", "displayData"):
        if node.get(key) is not None:
            value[key] = copy.deepcopy(node[key])


def roots_of(ontology: dict) -> list[dict]:
    """The ontology's label tree as ``roots`` nodes (from ``roots``, else ``labels``)."""
    if isinstance(ontology.get("roots"), list):
        return copy.deepcopy(ontology["roots"])

    def from_label(node: dict) -> dict:
        value = {k: copy.deepcopy(v) for k, v in node.items() if k != "children"}
        return {"value": value, "children": [from_label(c) for c in node.get("children") or []]}

    return [from_label(n) for n in ontology.get("labels") or [] if isinstance(n, dict)]


def set_roots(ontology: dict, roots: list[dict]) -> None:
    """Store the tree as ``roots`` and the matching ``labels`` view (both as the platform returns them)."""

    def to_label(node: dict) -> dict:
        value = copy.deepcopy(node["value"])
        value["children"] = [to_label(c) for c in node.get("children") or []]
        return value

    ontology["roots"] = roots
    ontology["labels"] = [to_label(n) for n in roots]


ROUTES = [(method, re.compile(pattern), name) for method, pattern, name in [
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

