"""Dataset: what a reader hands a writer — items (lazy), the label map, and where images live — and the
options readers and writers look at (:class:`ConvertOptions`: its own, and those each format declares)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .collection import AnnotationCollection
from .errors import OptionError
from .labels import LabelMap

__all__ = ["ConvertOptions", "Dataset", "ShardOutput", "SourcePlan"]


@dataclass
class Dataset:
    """Items of one source. ``items`` may be a generator: it is consumed once, in order."""

    items: Iterable[AnnotationCollection]
    labels: LabelMap | None = None
    images_root: Path | None = None
    total: int | None = None  # number of items when known up front (for progress bars)
    #: Folders where the format's own tools would look for an item's image (its filename under each), in
    #: order; an item whose reader paired it with its image file has ``collection.image_path`` instead.
    image_roots: tuple[Path, ...] = ()
    #: The source says it holds no item (a COCO file with ``"images": []``): reading none is not "nothing found".
    declared_empty: bool = False


@dataclass
class SourcePlan:
    """A source cut for sharded reading: ``units`` (one per item, in order; JSON values, as they travel
    to workers as JSON) and what every shard needs to read them (``context``, picklable), plus the
    dataset-wide facts a :class:`Dataset` carries."""

    units: list[Any]
    context: Any = None
    labels: LabelMap | None = None
    images_root: Path | None = None
    image_roots: tuple[Path, ...] = ()  # as Dataset.image_roots
    declared_empty: bool = False  # as Dataset.declared_empty
    #: Only one ordered pass can read this source (a dataset-wide fact that its items decide as they are read,
    #: which the plan could not settle cheaply: the format's ``plan`` says when); it is never cut into shards.
    one_pass: bool = False

    def dataset(self, items: Iterable[AnnotationCollection] = ()) -> Dataset:
        """The source as a :class:`Dataset` of ``items`` (its units read, or none yet): the plan's facts."""
        return Dataset(items, labels=self.labels, images_root=self.images_root, total=len(self.units),
                       image_roots=self.image_roots, declared_empty=self.declared_empty)


@dataclass
class ShardOutput:
    """What a writer's ``write_shard`` hands its ``finish``: the files it wrote and its picklable state."""

    outputs: list[Path] = field(default_factory=list)
    state: Any = None


def _flag(name: str) -> dict:
    """Field metadata: the command-line flag of an option, for messages that name it."""
    return {"flag": name}


@dataclass(frozen=True, init=False)
class ConvertOptions:
    """Options every reader and writer may look at; each format lists the ones it uses (``FormatSpec.options``).

    Its own fields apply to any format: ``images`` (folder of the item binaries), ``labels`` (a label map
    that overrides the reader's), ``indent`` (pretty-printed JSON outputs) and ``extras`` (named options of
    one format, checked by that format's reader). Every other keyword is an option a format declares
    (:mod:`dlconvert.formats._options`) and is looked up in the registry: ``rle`` (COCO), ``yolo_task``,
    ``precision``, ``split``, ``images_mode`` (YOLO), ``voc_origin``, ``voc_masks`` (VOC) — given as keywords,
    read as attributes (``options.precision``), kept in ``by_format`` (format name → its options dataclass,
    only those set away from their defaults). :meth:`names` lists them all.

    Values are checked when the options are made: a value out of range raises :class:`OptionError`
    (a ``ValueError``), an unknown keyword a ``TypeError``. ``images`` and ``labels`` apply to every
    format; any other option set away from its default is refused by a conversion whose two formats
    do not use it (``formats.check_options``).
    """

    images: Path | None = field(default=None, metadata=_flag("--images"))
    labels: LabelMap | None = field(default=None, metadata=_flag("--labels"))
    indent: bool = True  # pretty-print JSON outputs (the formats that write JSON list it in FORMAT.options)
    extras: dict = field(default_factory=dict)
    by_format: dict[str, Any] = field(default_factory=dict)

    #: Options that apply to every format.
    UNIVERSAL = ("images", "labels")

    def __init__(self, images: str | os.PathLike[str] | None = None, labels: LabelMap | None = None, *,
                 indent: bool = True, extras: dict | None = None, by_format: Mapping[str, Any] | None = None,
                 **format_options: Any) -> None:
        if images is not None:
            if not isinstance(images, (str, os.PathLike)):
                raise OptionError(f"ConvertOptions.images must be a folder path, not {type(images).__name__}")
            images = Path(images)
        if labels is not None and not isinstance(labels, LabelMap):
            raise OptionError(f"ConvertOptions.labels must be a LabelMap (LabelMap.load(path)), not "
                              f"{type(labels).__name__}")
        if labels is not None and not labels.pinned:  # the user's map: its classes are the classes
            labels = labels.copy().pin()
        if type(indent) is not bool:
            raise OptionError(f"ConvertOptions.indent must be one of True, False, not {indent!r}")
        extras = {} if extras is None else extras
        if not isinstance(extras, dict):
            raise OptionError(f"ConvertOptions.extras must be a dict, not {type(extras).__name__}")
        sets = _format_sets(dict(by_format or {}), format_options)
        for name, value in (("images", images), ("labels", labels), ("indent", indent), ("extras", extras),
                            ("by_format", sets)):
            object.__setattr__(self, name, value)
        for options in sets.values():  # plain attributes: readers look at them per annotation
            for declared in fields(options):
                object.__setattr__(self, declared.name, getattr(options, declared.name))

    def __getattr__(self, name: str) -> Any:
        """A format's option left at its default (``options.precision`` → 6); kept as an attribute from then on."""
        if name.startswith("_"):  # pickle and copy ask for __setstate__ & co. before __dict__ is filled
            raise AttributeError(name)
        fmt = _declaring(name)
        if fmt is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        own = self.__dict__.get("by_format", {}).get(fmt)
        value = getattr(own, name) if own is not None else _default(_declared_by(fmt), name)
        object.__setattr__(self, name, value)
        return value

    def changed(self) -> list[str]:
        """The options set away from their defaults, by name, sorted (``images`` and ``labels`` too)."""
        own = [option.name for option in fields(self)
               if option.name != "by_format" and getattr(self, option.name) != _default(type(self), option.name)]
        return sorted(own + [name for options in self.by_format.values() for name in options.changed()])

    @classmethod
    def flag(cls, name: str) -> str | None:
        """The command-line flag of option ``name`` (``yolo_task`` → ``--task``), if it has one."""
        own = {option.name: option for option in fields(cls)}
        if name in own:
            return own[name].metadata.get("flag")
        fmt = _declaring(name)
        if fmt is None:
            return None
        return next(option.metadata["flag"] for option in fields(_declared_by(fmt)) if option.name == name)

    @classmethod
    def names(cls) -> list[str]:
        """Every keyword ConvertOptions takes: its own fields, then each format's options (by format name)."""
        return [option.name for option in fields(cls)] + list(_registry(reload=True)[1])


def _default(declared: type, name: str) -> Any:
    option = next(option for option in fields(declared) if option.name == name)
    return option.default_factory() if callable(option.default_factory) else option.default


#: (format → the options dataclass it declares, keyword → the format declaring it), as last read from the registry.
_REGISTERED: tuple[dict[str, type], dict[str, str]] = ({}, {})


def _registry(reload: bool = False) -> tuple[dict[str, type], dict[str, str]]:
    """The format options the registry declares (:func:`dlconvert.formats.format_option_sets`).

    This is the model's one lookup up to the formats (declared in ``tests/test_layers.py``): the
    registry is imported when an option is first looked up, not when the model is, so importing the
    model loads no format.
    """
    global _REGISTERED
    if reload:
        from .formats import format_option_sets  # the declared way up (tests/test_layers.py)

        sets = format_option_sets()
        _REGISTERED = sets, {option.name: fmt for fmt, declared in sets.items() for option in fields(declared)}
    return _REGISTERED


def _declaring(name: str) -> str | None:
    """The format that declares keyword ``name`` (the registry is read again when it is not known yet)."""
    declaring = _registry()[1]
    return declaring[name] if name in declaring else _registry(reload=True)[1].get(name)


def _declared_by(fmt: str) -> type | None:
    """The options dataclass format ``fmt`` declares (the registry is read again when it is not known yet)."""
    declared = _registry()[0].get(fmt)
    return declared if declared is not None else _registry(reload=True)[0].get(fmt)


def _format_sets(given: dict[str, Any], keywords: dict[str, Any]) -> dict[str, Any]:
    """Each format's options from ``by_format`` and the keywords (which win), checked, without those at defaults."""
    for fmt, options in given.items():
        if type(options) is not _declared_by(fmt):
            raise OptionError(f"ConvertOptions.by_format[{fmt!r}] must be the {fmt} format's options dataclass, "
                              f"not {type(options).__name__}")
    grouped: dict[str, dict[str, Any]] = {}
    for name, value in keywords.items():
        fmt = _declaring(name)
        if fmt is None:
            close = difflib.get_close_matches(name, ConvertOptions.names(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise TypeError(f"ConvertOptions() got an unexpected keyword argument {name!r}{hint}")
        grouped.setdefault(fmt, {})[name] = value
    for fmt, values in grouped.items():
        given[fmt] = replace(given[fmt], **values) if fmt in given else _declared_by(fmt)(**values)
    return {fmt: options for fmt, options in sorted(given.items()) if options.changed()}
