"""The query language of the SDK's ``Filters.prepare()``, as the fake server answers it: Mongo-style
filters (``$and $or $nor $eq $ne $in $nin $gt $gte $lt $lte $exists $glob``, ``*`` globs) on
dotted paths, sorting and paging."""

from __future__ import annotations

import math
from typing import Any

from ..dql import OPERATORS, operator_holds
from .faults import HttpError

__all__ = ["matches", "page", "values_at"]


def values_at(doc: Any, path: str) -> list:
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


def _operator(values: list, op: str, arg: Any) -> bool:
    """One condition, as dlconvert's own filters evaluate it; an operator the SDK does not send is a 400."""
    if op not in OPERATORS:
        raise HttpError(400, f"unsupported filter operator {op!r}")
    return operator_holds(values, op, arg)


def matches(doc: dict, query: Any) -> bool:
    if query is None:
        return True
    if not isinstance(query, dict):
        raise HttpError(400, f"a filter must be an object, got {query!r}")
    for key, condition in query.items():
        if key == "$and":
            if not all(matches(doc, part) for part in condition):
                return False
        elif key == "$or":
            if not any(matches(doc, part) for part in condition):
                return False
        elif key == "$nor":
            if any(matches(doc, part) for part in condition):
                return False
        elif key.startswith("$"):
            raise HttpError(400, f"unsupported filter operator {key!r}")
        else:
            values = values_at(doc, key)
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



def page(docs: list[dict], request: dict) -> dict:
    sort = request.get("sort") or {}
    for key, direction in reversed(list(sort.items())):
        docs = sorted(docs, key=lambda d, k=key: _sort_key(next(iter(values_at(d, k)), None)),
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

