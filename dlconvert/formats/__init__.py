"""File formats behind one registry.

Each format is one module of this package that defines ``FORMAT = FormatSpec(...)``; the module
name is the format's name, so adding a format means adding one file. ``get_format(name)``
imports only that module.

A format may also offer the sharded protocol the converter uses to spread per-item work over
worker processes (:mod:`dlconvert.parallel`): a reader's ``plan`` lists the items as JSON-valued
*units* and ``read_units`` reads a run of them in a worker; a writer's ``write_shard`` writes a
run of items in a worker and ``finish`` writes the dataset-wide files from every shard's
:class:`~dlconvert.dataset.ShardOutput`, in shard order. ``write`` is ``finish`` of one shard, so
both paths write the same bytes.

A format with options of its own declares them in ``<name>/options.py`` and points
``FORMAT.own_options`` at that dataclass (the rule: :mod:`dlconvert.formats._options`);
:func:`format_option_sets` is where ``ConvertOptions`` and the command line find them.
"""

from __future__ import annotations

import difflib
import enum
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FormatError, OptionError, UnknownFormatError

if TYPE_CHECKING:
    from ..collection import AnnotationCollection
    from ..dataset import ConvertOptions, Dataset, ShardOutput, SourcePlan
    from ..report import ConversionReport
    from ._options import FormatOptions

__all__ = ["AnnotationFormat", "FormatSpec", "check_options", "format_names", "format_option_sets", "get_format",
           "list_formats", "require_items"]


class AnnotationFormat(str, enum.Enum):
    """The formats dlconvert reads and writes: the SDK's names and values, then the formats people migrate
    from (LABELBOX is read only)."""

    DATALOOP = "dataloop"
    COCO = "coco"
    YOLO = "yolo"
    VOC = "voc"
    VTT = "vtt"
    CVAT = "cvat"
    LABELME = "labelme"
    LABEL_STUDIO = "labelstudio"
    LABELBOX = "labelbox"

    def __str__(self) -> str:
        return self.value


ReadFn = Callable[["Path", "ConvertOptions", "ConversionReport"], "Dataset"]
WriteFn = Callable[["Dataset", "Path", "ConvertOptions", "ConversionReport"], "list[Path]"]
PlanFn = Callable[["Path", "ConvertOptions", "ConversionReport"], "SourcePlan"]
ReadUnitsFn = Callable[[Any, list, "ConvertOptions", "ConversionReport"], "Iterator[AnnotationCollection]"]
WriteShardFn = Callable[["Dataset", "Path", "ConvertOptions", "ConversionReport"], "ShardOutput"]
FinishFn = Callable[["list[ShardOutput]", "Dataset", "Path", "ConvertOptions", "ConversionReport"], "list[Path]"]


@dataclass(frozen=True)
class FormatSpec:
    """What the registry, the converter and the CLI know about one format."""

    name: str
    summary: str
    holds: frozenset[str]  # Dataloop types written as they are
    approximates: dict[str, str]  # Dataloop type → how it is written instead
    read: ReadFn | None = None
    write: WriteFn | None = None
    plan: PlanFn | None = None  # sharded reading (see the module docstring)
    read_units: ReadUnitsFn | None = None
    write_shard: WriteShardFn | None = None  # sharded writing
    finish: FinishFn | None = None
    shardable: Callable[[Dataset, ConvertOptions], bool] | None = None  # None: always, when write_shard is given
    #: ``ConvertOptions`` keywords this format's reader or writer uses (its ``own_options`` always count); an
    #: option set away from its default that neither the source's nor the target's format uses is refused.
    options: frozenset[str] = frozenset()
    #: The options this format declares (a :class:`~dlconvert.formats._options.FormatOptions` dataclass in
    #: ``<name>/options.py``): ``ConvertOptions`` takes their keywords, ``convert`` and ``verify`` their flags.
    own_options: type[FormatOptions] | None = None
    #: What the reader looks for in a source, for the error when it finds no item ("Annotations/*.xml …").
    looks_for: str = ""
    #: Format auto-detection: ``detect(path)`` reads as little as it can (a file's head, a folder's names) and
    #: returns why ``path`` looks like this format ("data.yaml with names and an images/ folder"), or None.
    detect: Callable[[Path], str | None] | None = None
    #: The columnar path of bulk jobs (:mod:`dlconvert.table`): ``read_table(src, options, workers=N)`` gives the
    #: source as a table (or as files its table writers read range by range, in the workers that write them: a
    #: Dataloop export), or None when only the object reader reads it exactly; ``write_table(table, dst, options,
    #: report, workers=N, progress=None)`` writes what ``write`` would, byte for byte (on N forked processes:
    #: ``parallel.map_shared``, counting items through ``progress``), or returns None (before writing) when only
    #: ``write`` can.
    read_table: Callable[..., Any] | None = None
    #: The table writers (by format name, and "render" for the renderer) whose output from ``read_table``'s tables
    #: is held to the object path's by the differential tests; None: every one.
    table_writers: frozenset[str] | None = None
    write_table: Callable[..., list[Path] | None] | None = None

    def __post_init__(self) -> None:
        if self.own_options is not None:  # a format uses the options it declares
            object.__setattr__(self, "options", self.options | {f.name for f in fields(self.own_options)})

    @property
    def reads_in_shards(self) -> bool:
        return self.plan is not None and self.read_units is not None

    def tables_for(self, writer: str) -> bool:
        """Whether this format's tables may go to ``writer`` (a format's table writer, or "render"): it reads
        tables, and they are held to that writer (``table_writers``)."""
        return self.read_table is not None and (self.table_writers is None or writer in self.table_writers)

    def writes_in_shards(self, dataset: Dataset, options: ConvertOptions) -> bool:
        """Whether this dataset can be written shard by shard (e.g. YOLO needs its classes up front)."""
        if self.write_shard is None or self.finish is None:
            return False
        return self.shardable is None or self.shardable(dataset, options)


_cache: dict[str, FormatSpec] = {}
#: Other names a format is given by: the SDK's ``ViewAnnotationOptions.JSON`` means Dataloop JSON.
_ALIASES = {"json": "dataloop"}


def _names() -> list[str]:
    package = importlib.import_module(__name__)
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))


def format_names() -> list[str]:
    """The names of every registered format, sorted."""
    return _names()


def format_key(name: Any) -> str:
    """The registry key of a format given as a name, :class:`AnnotationFormat`, or the SDK's enums and constants.

    ``dl.AnnotationFormat.COCO`` is the string ``"coco"``; ``dl.ViewAnnotationOptions.VTT`` is a
    ``str`` enum whose ``str()`` is its qualified name, so enums are read by value.
    """
    if isinstance(name, enum.Enum):
        name = name.value
    if not isinstance(name, str):
        raise UnknownFormatError(f"a format is a name such as 'coco', not {type(name).__name__}")
    key = str.__str__(name).strip().lower()
    return _ALIASES.get(key, key)


def get_format(name: str | AnnotationFormat) -> FormatSpec:
    """The spec of format ``name`` (a name, an enum, the SDK's constants); unknown names raise with a suggestion."""
    key = format_key(name)
    if key not in _cache:
        if key not in _names():
            close = difflib.get_close_matches(key, _names(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UnknownFormatError(f"unknown format {key!r}.{hint} Known formats: {', '.join(_names())}")
        module = importlib.import_module(f"{__name__}.{key}")
        _cache[key] = module.FORMAT
    return _cache[key]


def list_formats() -> list[FormatSpec]:
    """Every registered format, by name."""
    return [get_format(name) for name in _names()]


def format_option_sets() -> dict[str, type[FormatOptions]]:
    """Format name → the options dataclass it declares, for every format that declares some, by name.

    Refuses (TypeError, a bug of a format) a field not made with ``option()``, and a keyword or flag that
    two formats declare or that is one of ``ConvertOptions``' own: keywords and flags are one namespace.
    """
    from ..dataset import ConvertOptions

    sets = {spec.name: spec.own_options for spec in list_formats() if spec.own_options is not None}
    taken = {key: "ConvertOptions" for own in fields(ConvertOptions)
             for key in (own.name, *own.metadata.get("flag", "").split("/")) if key}
    for name, declared in sets.items():
        for option in fields(declared):
            if "flag" not in option.metadata:
                raise TypeError(f"the {name} format declares the option {option.name!r} without option(…, flag=…)")
            for key in (option.name, *option.metadata["flag"].split("/")):
                if key in taken:
                    raise TypeError(f"the {name} format declares the option {key!r}, which {taken[key]} declares")
                taken[key] = name
    return sets


def check_options(options: ConvertOptions, source: FormatSpec, target: FormatSpec) -> None:
    """Refuse an option set away from its default that neither format uses (options that do not apply are errors)."""
    used = source.options | target.options | set(options.UNIVERSAL)
    for name in options.changed():
        if name not in used:
            flag = options.flag(name)
            shown = f"{flag} (ConvertOptions.{name})" if flag else f"ConvertOptions.{name}"
            who = (f"{source.name} does not use it" if source.name == target.name
                   else f"neither {source.name} nor {target.name} uses it")
            raise OptionError(f"{shown} does not apply to a {source.name} → {target.name} conversion: {who}")


def require_items(spec: FormatSpec, src: Path, count: int, *, declared_empty: bool = False) -> None:
    """Refuse a source in which the reader found no item, naming what it looked for.

    A source that says it is empty is not "nothing found": the reader sets ``declared_empty`` (a
    COCO file with ``"images": []``), or the source is a dlconvert output of this format that
    recorded no item.
    """
    from .._destination import manifest_of

    if count or declared_empty:
        return
    folder = src if src.is_dir() else src.parent
    manifest = manifest_of(folder)
    if manifest is not None and manifest.get("format") == spec.name and manifest.get("items") == 0:
        return
    raise FormatError(f"no {spec.name} item found: looked for {spec.looks_for} (is {spec.name} the source's format?)",
                      path=src)
