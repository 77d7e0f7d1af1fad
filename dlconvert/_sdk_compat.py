"""What Dataloop SDK users hand the :class:`~dlconvert.converter.Converter`, made into what it works with.

* :class:`Hooks` — ``conversion_func`` with either signature (the SDK calls ``conversion_func(annotation,
  item)``; a one-argument hook gets the annotation only), and ``filters``/``annotation_filter`` given
  as Python predicates or as ``dtlpy.Filters`` (evaluated on the local JSON, :mod:`dlconvert.dql`).
  Hooks are plain data, so a conversion with picklable hooks still runs on worker processes.
* :func:`in_memory_source` — what ``Converter.convert`` takes: a collection, a list of annotations or
  one (dlconvert's or dtlpy's), a Dataloop item JSON, or a format's parsed content.
* :func:`load_result` — what ``convert``/``convert_file`` return: a collection for Dataloop, the COCO
  document, else ``{relative path: str for text, bytes for binary files}``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import dql
from .errors import OptionError

if TYPE_CHECKING:
    from .annotation import Annotation
    from .collection import AnnotationCollection

__all__ = ["Hooks", "in_memory_source", "load_result"]

#: Files of an output that ``convert`` returns as text; every other file is returned as bytes.
_TEXT_SUFFIXES = frozenset({".json", ".xml", ".txt", ".yaml", ".yml", ".vtt", ".names", ".csv"})
_NOT_CONTENT = frozenset({".dlconvert-output.json", "dlconvert_errors.json"})


@dataclass(frozen=True)
class Hooks:
    """The caller's per-item and per-annotation hooks, sent with every shard."""

    conversion_func: Callable | None = None
    item_filter: Callable | None = None
    annotation_filter: Callable | None = None
    passes_item: bool = False  # call conversion_func(annotation, item), as the SDK does

    @classmethod
    def of(cls, conversion_func: Callable | None = None, item_filter: Any = None,
           annotation_filter: Any = None) -> Hooks:
        """Hooks from what the caller gave: predicates or ``dtlpy.Filters``, a hook of one or two arguments."""
        if conversion_func is not None and not callable(conversion_func):
            raise TypeError(f"conversion_func must be callable, not {type(conversion_func).__name__}")
        items, annotations = _predicate(item_filter, "filters", "items"), None
        if dql.is_sdk_filters(item_filter) and dql.predicates(item_filter)[1] is not None:
            items, annotations = None, dql.predicates(item_filter)[1]  # filters on annotations: they select those
        given = _predicate(annotation_filter, "annotation_filter", "annotations")
        if given is not None:
            annotations = given if annotations is None else _Both(annotations, given)
        return cls(conversion_func, items, annotations, _passes_item(conversion_func))

    @property
    def empty(self) -> bool:
        """No hook at all: the conversion needs no annotation object (the columnar path may take it)."""
        return self.conversion_func is None and self.item_filter is None and self.annotation_filter is None

    @property
    def per_annotation(self) -> bool:
        return self.conversion_func is not None or self.annotation_filter is not None

    def convert(self, annotation: Annotation, collection: AnnotationCollection) -> Annotation | None:
        """The hook's result for one annotation: an Annotation (dtlpy's is read as JSON) or None (dropped)."""
        from .annotation import Annotation

        value = (self.conversion_func(annotation, collection) if self.passes_item
                 else self.conversion_func(annotation))
        if value is None or isinstance(value, Annotation):
            return value
        if callable(getattr(value, "to_json", None)):  # a dtlpy Annotation
            return Annotation.from_json(value.to_json())
        raise TypeError(f"conversion_func must return an Annotation or None, not {type(value).__name__}")


@dataclass(frozen=True)
class _Both:
    """Two annotation predicates, both required (annotation ``Filters`` in ``filters``, and ``annotation_filter``)."""

    first: Callable
    second: Callable

    def __call__(self, annotation: Annotation) -> bool:
        return self.first(annotation) and self.second(annotation)


def _predicate(value: Any, name: str, resource: str) -> Callable | None:
    if value is None:
        return None
    if dql.is_sdk_filters(value) or isinstance(value, dict):
        items, annotations = dql.predicates(value)
        if resource == "items":
            return items
        if annotations is None:
            raise OptionError(f"{name} selects annotations: give it a dtlpy.Filters on annotations "
                              f"(resource=dl.FiltersResource.ANNOTATION) or a predicate")
        return annotations
    if callable(value):
        return value
    raise TypeError(f"{name} must be a dtlpy.Filters or a callable, not {type(value).__name__}")


def _passes_item(func: Callable | None) -> bool:
    """Whether a hook takes the item as its second positional argument (the SDK's ``(annotation, item)``)."""
    if func is None:
        return False
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: the documented one-argument form
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


# -- in-memory input and output --------------------------------------------------------------------
def in_memory_source(annotations: Any, fmt: str, item: Any, folder: Path) -> Path:
    """Write in-memory content where the format's reader expects a file; returns that path."""
    from ._io import atomic_write
    from ._json import dumps

    if fmt == "dataloop":
        document = _dataloop_json(annotations, item)
        if document is not None:
            atomic_write(folder / "item.json", dumps(document))
            return folder
    if isinstance(annotations, (dict, list)):
        atomic_write(folder / f"{fmt}.json", dumps(annotations))
    elif isinstance(annotations, (str, bytes)):
        data = annotations.encode("utf-8") if isinstance(annotations, str) else annotations
        atomic_write(folder / f"annotations.{fmt}", data)
    else:
        raise TypeError(f"cannot convert a {type(annotations).__name__} from {fmt} in memory")
    return folder


def _dataloop_json(annotations: Any, item: Any) -> dict | list | None:
    """An item JSON from a collection, annotations (dlconvert's or dtlpy's, one or a list), or JSON as given."""
    from .annotation import Annotation
    from .collection import AnnotationCollection

    if isinstance(annotations, AnnotationCollection):
        return annotations.to_json()
    if isinstance(annotations, Annotation) or _is_sdk_annotation(annotations):
        annotations = [annotations]
    if isinstance(annotations, list) and annotations and all(
            isinstance(a, Annotation) or _is_sdk_annotation(a) for a in annotations):
        raw = [a.to_json() for a in annotations]
        return _item_fields(item) | {"annotations": raw}
    if isinstance(annotations, list) and item is not None and all(isinstance(a, dict) for a in annotations):
        return _item_fields(item) | {"annotations": annotations}
    if callable(getattr(annotations, "to_json", None)) and hasattr(annotations, "annotations"):  # dtlpy collection
        document = annotations.to_json()
        return (_item_fields(item) | document) if item is not None else document
    return annotations if isinstance(annotations, (dict, list)) else None


def _is_sdk_annotation(value: Any) -> bool:
    return type(value).__name__ == "Annotation" and callable(getattr(value, "to_json", None))


def _item_fields(item: Any) -> dict:
    """The item fields of an item JSON, from a dtlpy Item or an AnnotationCollection (None: none)."""
    from .collection import AnnotationCollection

    if item is None:
        return {}
    if isinstance(item, AnnotationCollection):
        document = item.to_json()
        document.pop("annotations", None)
        return document
    if callable(getattr(item, "to_json", None)):  # a dtlpy Item
        document = item.to_json()
        if isinstance(document, dict):
            return {k: v for k, v in document.items() if k != "annotations"}
    fields: dict[str, Any] = {"id": getattr(item, "id", None), "filename": getattr(item, "filename", None)}
    system = {k: getattr(item, k, None) for k in ("width", "height", "mimetype")}
    fields["metadata"] = {"system": {k: v for k, v in system.items() if v is not None}}
    return fields


def load_result(out: Path, fmt: str) -> Any:
    """What an in-memory conversion returns from the output folder ``out`` (see the module docstring)."""
    from ._json import read_json_file

    if fmt == "dataloop":
        from .formats.dataloop import read_dataloop

        collections = list(read_dataloop(out))
        return collections[0] if len(collections) == 1 else collections
    if fmt == "coco":
        return read_json_file(out / "coco.json")
    result: dict[str, str | bytes] = {}
    for path in sorted(out.rglob("*")):
        if path.is_file() and path.name not in _NOT_CONTENT:
            data = path.read_bytes()
            result[path.relative_to(out).as_posix()] = (
                data.decode("utf-8") if path.suffix.lower() in _TEXT_SUFFIXES else data)
    return result

