"""The Dataloop query language on local JSON: what a ``dtlpy.Filters`` selects on the platform, applied
to the items and annotations of a local export.

``Filters(field="dir", values="/street")`` prepares to ``{"filter": {"$and": [{"hidden": false},
{"type": "file"}, {"dir": "/street"}]}, "resource": "items"}``; :class:`ItemQuery` and
:class:`AnnotationQuery` evaluate such a query on an item's JSON (its ``dir``, ``filename``, ``name``,
``metadata`` …, with a ``join`` on its annotations) and on an annotation's JSON (``label``, ``type``,
``metadata`` …). Operators: ``$and $or $nor`` and, per field, ``$eq`` (a string value with ``*`` or
``?`` is a glob), ``$ne $in $nin $gt $gte $lt $lte $exists $glob``; a dotted field reaches into
objects and lists. An item's ``hidden`` defaults to false and its ``type`` to ``"file"``, as on the
platform. Queries are plain data, so the predicates travel to worker processes.
"""

from __future__ import annotations

import fnmatch
import posixpath
from typing import TYPE_CHECKING, Any

from .errors import OptionError

if TYPE_CHECKING:
    from .annotation import Annotation
    from .collection import AnnotationCollection

__all__ = ["OPERATORS", "AnnotationQuery", "ItemQuery", "is_sdk_filters", "matches", "operator_holds", "predicates",
           "prepared"]

_ORDERED = ("$gt", "$gte", "$lt", "$lte")


def is_sdk_filters(value: Any) -> bool:
    """Whether ``value`` is a ``dtlpy.Filters`` (duck-typed, without importing dtlpy: ``prepare`` and ``resource``)."""
    return value is not None and hasattr(value, "prepare") and hasattr(value, "resource")


def prepared(filters: Any) -> dict:
    """The query of a ``dtlpy.Filters`` (its ``prepare()``), or a query dict given as it is."""
    query = filters.prepare() if is_sdk_filters(filters) else filters
    if not isinstance(query, dict):
        raise OptionError(f"filters must be a dtlpy.Filters or a query dict, not {type(filters).__name__}")
    return query


def predicates(filters: Any) -> tuple[ItemQuery | None, AnnotationQuery | None]:
    """``(item predicate, annotation predicate)`` of a ``dtlpy.Filters``: one of them, by its resource."""
    query = prepared(filters)
    resource = query.get("resource", "items")
    if resource == "items":
        return ItemQuery(query), None
    if resource == "annotations":
        return None, AnnotationQuery(query)
    raise OptionError(f"filters on {resource!r} cannot select items or annotations of a local export")


class ItemQuery:
    """An item predicate: the query's ``filter`` on the item's JSON, its ``join`` on its annotations."""

    def __init__(self, query: dict) -> None:
        self.filter = query.get("filter")
        join = query.get("join") or {}
        self.join = join.get("filter") if isinstance(join, dict) else None
        _check(self.filter)
        _check(self.join)

    def __call__(self, collection: AnnotationCollection) -> bool:
        if not matches(item_document(collection), self.filter):
            return False
        return self.join is None or any(matches(a.to_json(), self.join) for a in collection)


class AnnotationQuery:
    """An annotation predicate: the query's ``filter`` on the annotation's JSON."""

    def __init__(self, query: dict) -> None:
        self.filter = query.get("filter")
        _check(self.filter)

    def __call__(self, annotation: Annotation) -> bool:
        return matches(annotation.to_json(), self.filter)


def item_document(collection: AnnotationCollection) -> dict:
    """The fields of an item the platform filters on, from what the local source holds."""
    source = collection.source_item if collection.source_item is not None else collection._fresh_item_json([])
    doc = {key: value for key, value in source.items() if key != "annotations"}
    filename = collection.filename or doc.get("filename")
    if filename:
        doc.setdefault("filename", filename)
        doc.setdefault("name", collection.name or posixpath.basename(filename))
        doc.setdefault("dir", posixpath.dirname(filename) or "/")
    doc.setdefault("hidden", False)
    doc.setdefault("type", "file")
    doc.setdefault("annotated", bool(collection.annotations))
    return doc


def matches(doc: Any, query: Any) -> bool:
    """Whether the JSON ``doc`` satisfies the query's filter (None: everything does)."""
    if query is None:
        return True
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
        else:
            values = _values_at(doc, key)
            if isinstance(condition, dict) and condition and all(str(k).startswith("$") for k in condition):
                if not all(operator_holds(values, op, arg) for op, arg in condition.items()):
                    return False
            elif not operator_holds(values, "$eq", condition):
                return False
    return True


def _check(query: Any) -> None:
    """Refuse, before any item is read, a query this module cannot evaluate."""
    if query is None:
        return
    if not isinstance(query, dict):
        raise OptionError(f"a filter must be an object, not {query!r}")
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(condition, list):
                raise OptionError(f"filter {key} must hold a list, not {condition!r}")
            for part in condition:
                _check(part)
        elif str(key).startswith("$"):
            raise OptionError(f"the filter operator {key!r} cannot be applied to a local export")
        elif isinstance(condition, dict) and condition and all(str(k).startswith("$") for k in condition):
            unknown = [op for op in condition if op not in OPERATORS]
            if unknown:
                raise OptionError(f"the filter operator {unknown[0]!r} (on {key!r}) cannot be applied to a local "
                                  f"export")


def _values_at(doc: Any, path: str) -> list:
    """The values at a dotted path; lists on the way are searched element by element (any may match)."""
    current = [doc]
    for key in path.split("."):
        found = []
        for value in current:
            if isinstance(value, dict):
                if key in value:
                    found.append(value[key])
            elif isinstance(value, list):
                found.extend(element[key] for element in value if isinstance(element, dict) and key in element)
        current = found
    out = []
    for value in current:
        out.extend(value) if isinstance(value, list) else out.append(value)
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


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def operator_holds(values: list, op: str, arg: Any) -> bool:
    """Whether the values at a path meet one Mongo-style condition (``$eq`` … ``$glob``, see :data:`OPERATORS`)."""
    if op == "$eq":
        return any(_equal(v, arg) for v in values) or (arg is None and not values)
    if op == "$ne":
        return not operator_holds(values, "$eq", arg)
    if op == "$in":
        return any(_equal(v, a) for v in values for a in _as_list(arg)) or (None in _as_list(arg) and not values)
    if op == "$nin":
        return not operator_holds(values, "$in", arg)
    if op in _ORDERED:
        return any(_ordered(v, arg, op) for v in values)
    if op == "$exists":
        return bool(values) == bool(arg)
    return any(isinstance(v, str) and fnmatch.fnmatchcase(v, str(arg)) for v in values)  # $glob


#: The condition operators the SDK's queries use.
OPERATORS = frozenset({"$eq", "$ne", "$in", "$nin", *_ORDERED, "$exists", "$glob"})
