"""Converter: any format to any format through the Dataloop model, with a report.

The API keeps the Dataloop SDK's names (``convert_dataset``, ``convert_directory``,
``convert_file``, ``convert``, ``save_to_file``) so its users feel at home, but every call
returns (or fills) a :class:`~dlconvert.report.ConversionReport` in which the annotations read
equal those written plus those skipped, each skip with its reason.

Output is atomic: a conversion writes into a temporary folder beside the destination and moves
it into place only when it finished, so a failure leaves no half-written output behind.

Per-item work runs on ``concurrency`` worker processes (default: all cores) or on a given
``executor`` (a Dask cluster's, say) when both formats support sharding (see
:mod:`dlconvert.formats`) and the hooks can be sent to other processes; the output is the same
bytes for any number of workers. Otherwise — or when a shard meets something only one ordered
pass can decide — the conversion runs in this process.
"""

from __future__ import annotations

import copy
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import parallel
from ._io import staged_output
from .annotation import Annotation
from .collection import AnnotationCollection
from .dataset import ConvertOptions, Dataset, ShardOutput, SourcePlan
from .errors import FormatError, InvalidAnnotationError
from .formats import AnnotationFormat, FormatSpec, get_format
from .geometry import Segmentation
from .report import ConversionReport, OnError

__all__ = ["Converter"]

ItemFilter = Callable[[AnnotationCollection], bool]
AnnotationFilter = Callable[[Annotation], bool]
ConversionFunc = Callable[[Annotation], "Annotation | None"]


class Converter:
    """Converts datasets, folders, files and in-memory annotations between formats.

    Args:
        concurrency: worker processes for per-item work (the SDK's argument name); default all cores.
        executor: run the per-item work on this ``concurrent.futures.Executor`` instead of a process
            pool of our own — e.g. ``dask.distributed.Client(...).get_executor()``, whose workers
            must see the input and output paths; ``concurrency`` then sizes the shards.
        return_error_filepath: also write the issues to ``dlconvert_errors.json`` in the output
            and return ``(has_errors, path)`` from the conversion calls, as the SDK does.
        on_error: ``"fail"`` stops at the first bad file or record and leaves no output;
            ``"skip"`` carries on and lists every bad record in the report.
    """

    def __init__(self, concurrency: int | None = None, return_error_filepath: bool = False,
                 on_error: str = OnError.FAIL, options: ConvertOptions | None = None, progress: Callable | None = None,
                 executor: Executor | None = None) -> None:
        if on_error not in OnError.ALL:
            raise ValueError(f"on_error must be one of {OnError.ALL}")
        if concurrency is not None and concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.concurrency = concurrency or parallel.default_workers()
        self.executor = executor
        self.return_error_filepath = return_error_filepath
        self.on_error = on_error
        self.options = options or ConvertOptions()
        self.progress = progress
        self.report: ConversionReport | None = None  # the last conversion's report

    # -- the SDK's entry points ------------------------------------------------------------------
    def convert_dataset(self, dataset: Any, to_format: str, local_path: str | os.PathLike[str],
                        conversion_func: ConversionFunc | None = None, filters: ItemFilter | None = None,
                        annotation_filter: AnnotationFilter | None = None, overwrite: bool = True):
        """Convert a whole dataset — a local Dataloop export folder, or a ``dtlpy`` Dataset (pulled
        through the SDK, needs ``dlconvert[platform]``) — into ``local_path``."""
        if not isinstance(dataset, (str, os.PathLike)):
            from .platform import convert_dataset as convert_platform_dataset

            return self._finish(convert_platform_dataset(
                self, dataset, to_format, local_path, conversion_func=conversion_func, filters=filters,
                annotation_filter=annotation_filter))
        return self._finish(self.run(dataset, AnnotationFormat.DATALOOP, local_path, to_format,
                                     conversion_func=conversion_func, item_filter=filters,
                                     annotation_filter=annotation_filter, overwrite=overwrite))

    def upload_local_dataset(self, from_format: str, dataset: Any, local_items_path=None, local_labels_path=None,
                             local_annotations_path=None, only_bbox: bool = False, filters=None, remote_items=None):
        """Upload local COCO / YOLO / VOC / VTT / Dataloop annotations (and missing items) to a ``dtlpy``
        Dataset, as the SDK's converter does; re-running uploads nothing twice (``dlconvert[platform]``)."""
        from .platform import upload_local_dataset

        return upload_local_dataset(self, from_format, dataset, local_items_path, local_labels_path,
                                    local_annotations_path, only_bbox, filters, remote_items)

    def convert_directory(self, local_path: str | os.PathLike[str], to_format: str, from_format: str,
                          save_to: str | os.PathLike[str] | None = None,
                          conversion_func: ConversionFunc | None = None, overwrite: bool = True):
        """Convert a folder; output goes to ``save_to`` (default: ``<parent of local_path>/<to_format>``)."""
        local_path = Path(local_path)
        save_to = Path(save_to) if save_to is not None else local_path.parent / str(_format_name(to_format))
        return self._finish(self.run(local_path, from_format, save_to, to_format,
                                     conversion_func=conversion_func, overwrite=overwrite))

    def convert_file(self, to_format: str, from_format: str, file_path: str | os.PathLike[str],
                     save_locally: bool = False, save_to: str | os.PathLike[str] | None = None,
                     conversion_func: ConversionFunc | None = None, item: Any = None):
        """Convert one file; returns the converted content, and writes it to ``save_to`` when asked."""
        if save_locally or save_to is not None:
            target = Path(save_to) if save_to is not None else Path(file_path).parent / str(_format_name(to_format))
            self.run(file_path, from_format, target, to_format, conversion_func=conversion_func, overwrite=True)
        return self._in_memory(Path(file_path), from_format, to_format, conversion_func)

    def convert(self, annotations: Any, from_format: str, to_format: str,
                conversion_func: ConversionFunc | None = None, item: Any = None):
        """Convert in memory: an ``AnnotationCollection`` or a format's parsed content.

        Returns an ``AnnotationCollection`` for ``to_format="dataloop"``, else the target's
        natural value: the COCO document (dict) for ``coco``.
        """
        with tempfile.TemporaryDirectory(prefix="dlconvert-") as tmp:
            src = Path(tmp) / "in"
            _save_source(annotations, from_format, src)
            return self._in_memory(src, from_format, to_format, conversion_func)

    def save_to_file(self, save_to: str | os.PathLike[str], to_format: str,
                     annotations: AnnotationCollection | list[AnnotationCollection], item: Any = None) -> list[Path]:
        """Write collections in ``to_format`` under ``save_to``."""
        collections = [annotations] if isinstance(annotations, AnnotationCollection) else list(annotations)
        report = ConversionReport(source_format="dataloop", target_format=str(_format_name(to_format)),
                                  on_error=self.on_error)
        dataset = Dataset(_counted(collections, report), labels=self.options.labels)
        write = get_format(to_format).write
        return _write_atomically(lambda staging: write(dataset, staging, self.options, report), Path(save_to), True)

    # -- the engine --------------------------------------------------------------------------------
    def run(self, src: str | os.PathLike[str], from_format: str, dst: str | os.PathLike[str], to_format: str, *,
            conversion_func: ConversionFunc | None = None, item_filter: ItemFilter | None = None,
            annotation_filter: AnnotationFilter | None = None, overwrite: bool = False) -> ConversionReport:
        """Read ``src`` in ``from_format``, write ``dst`` in ``to_format``; returns the report."""
        source, target = get_format(from_format), get_format(to_format)
        if source.read is None:
            raise FormatError(f"dlconvert cannot read {source.name}")
        if target.write is None:
            raise FormatError(f"dlconvert cannot write {target.name}")
        src = Path(src)
        if not src.exists():
            raise FormatError("no such file or folder", path=src)
        report = ConversionReport(source_format=source.name, target_format=target.name, on_error=self.on_error,
                                  source=str(src))
        self.report = report
        hooks = _Hooks(conversion_func, item_filter, annotation_filter)
        if not source.reads_in_shards:
            dataset = source.read(src, self.options, report)
            return self._run_in_one_pass(dataset, source, target, hooks, Path(dst), report, overwrite)
        plan = source.plan(src, self.options, report)
        with parallel.frozen_for_gc():
            dataset = Dataset((), labels=plan.labels, images_root=plan.images_root, total=len(plan.units))
            meta = _for_writing(dataset, self.options, ())  # what every shard's writer gets
            if self._in_shards(plan, target, meta, hooks):
                planned = copy.deepcopy(report)
                try:
                    outputs = self._run_in_shards(plan, source, target, meta, hooks, Path(dst), report, overwrite)
                except parallel.NeedsSequential:
                    report = self.report = planned  # as it was after reading the plan; write again in one pass
                else:
                    return self._done(report, outputs, dst)
            dataset.items = source.read_units(plan.context, plan.units, self.options, report)
            return self._run_in_one_pass(dataset, source, target, hooks, Path(dst), report, overwrite)

    def _run_in_one_pass(self, dataset: Dataset, source: FormatSpec, target: FormatSpec, hooks: _Hooks, dst: Path,
                         report: ConversionReport, overwrite: bool) -> ConversionReport:
        items = _pipeline(dataset.items, report, *hooks, decode_masks=_draws_masks(target))
        if self.progress is not None:
            items = self.progress(items, total=dataset.total, desc=f"{source.name} → {target.name}")
        converted = _for_writing(dataset, self.options, items)
        outputs = _write_atomically(lambda staging: target.write(converted, staging, self.options, report),
                                    dst, overwrite)
        return self._done(report, outputs, dst)

    def _done(self, report: ConversionReport, outputs: list[Path], dst) -> ConversionReport:
        report.outputs = [str(p) for p in outputs]
        if self.return_error_filepath:
            from ._io import atomic_write
            from ._json import dumps

            log = Path(dst) / "dlconvert_errors.json"
            atomic_write(log, dumps([issue.__dict__ for issue in report.issues]))
            report.error_log = str(log)
        return report

    # -- sharded runs ----------------------------------------------------------------------------
    def _in_shards(self, plan: SourcePlan, target: FormatSpec, meta: Dataset, hooks: _Hooks) -> bool:
        """Whether to spread this conversion over workers: worth it, possible, and the hooks can travel."""
        if not parallel.worth_sharding(len(plan.units), self.concurrency, self.executor):
            return False
        writable = target.writes_in_shards(meta, self.options)
        return writable and parallel.picklable(hooks, cloud=self.executor is not None)

    def _run_in_shards(self, plan: SourcePlan, source: FormatSpec, target: FormatSpec, meta: Dataset,
                       hooks: _Hooks, dst: Path, report: ConversionReport, overwrite: bool) -> list[Path]:
        progress = None if self.progress is None else functools.partial(
            self.progress, desc=f"{source.name} → {target.name} (shards)")

        def write(staging: Path) -> list[Path]:
            def task(units: bytes, first: int) -> _Shard:
                return _Shard(source.name, target.name, plan.context, units, staging, self.options, meta.labels,
                              meta.images_root, hooks, report.blank(), _draws_masks(target))

            shards: list[ShardOutput] = []
            for shard_report, shard in parallel.map_shards(plan.units, _convert_shard, task, workers=self.concurrency,
                                                           executor=self.executor, progress=progress):
                report.merge(shard_report)
                shards.append(shard)
            written = [path for shard in shards for path in shard.outputs]
            if len(set(written)) != len(written):  # two items of different shards on one path
                raise parallel.NeedsSequential("two shards wrote the same file")
            return [*written, *target.finish(shards, meta, staging, self.options, report)]

        return _write_atomically(write, dst, overwrite)

    def _finish(self, report: ConversionReport):
        if self.return_error_filepath:
            return bool(report.issues), report.error_log
        return report

    def _in_memory(self, src: Path, from_format: str, to_format: str, conversion_func):
        with tempfile.TemporaryDirectory(prefix="dlconvert-") as tmp:
            out = Path(tmp) / "out"
            self.run(src, from_format, out, to_format, conversion_func=conversion_func, overwrite=True)
            return _load_result(out, to_format)


def _format_name(name: Any) -> str:
    return name.value if isinstance(name, AnnotationFormat) else str(name)


def _draws_masks(target) -> bool:
    """Whether the target needs mask pixels (Dataloop writes the PNG data URL it read, undecoded)."""
    return target.name != "dataloop" and ("binary" in target.holds or "binary" in target.approximates)


def _mask_decodes(annotation: Annotation, report: ConversionReport, item: str | None) -> bool:
    """Decode the masks of ``annotation`` now: a corrupt PNG is a bad record, reported where it was read."""
    states = [annotation.annotation_definition, *(f.annotation_definition for f in (annotation.frames or {}).values())]
    try:
        for definition in states:
            if isinstance(definition, Segmentation):
                definition._decode()
    except InvalidAnnotationError as exc:
        path, where = annotation.origin or (None, None)
        exc.at(path=path, where=where)
        if report.on_error != OnError.SKIP:
            raise
        report.skip(annotation, "mask.invalid", exc.message, item, path=exc.path, where=exc.where)
        return False
    return True


def _pipeline(items, report: ConversionReport, conversion_func, item_filter, annotation_filter, *,
              decode_masks: bool = False) -> Iterator[AnnotationCollection]:
    """Count what is read, apply the filters and the per-annotation hook; report what they drop."""
    for collection in items:
        report.read_item(collection)
        if item_filter is not None and not item_filter(collection):
            for annotation in collection:
                report.skip(annotation, "filter.item", "the item filter left this item out", collection.filename)
            continue
        kept = []
        for annotation in collection:
            if annotation_filter is not None and not annotation_filter(annotation):
                report.skip(annotation, "filter.annotation", "the annotation filter left this out", collection.filename)
                continue
            if conversion_func is not None:
                converted = conversion_func(annotation)
                if converted is None:
                    report.skip(annotation, "conversion-func.dropped", "conversion_func returned None",
                                collection.filename)
                    continue
                if converted.type != annotation.type:  # counted under the type it now has
                    report.annotations_in[annotation.type] -= 1
                    report.annotations_in[converted.type] += 1
                annotation = converted
            if decode_masks and not _mask_decodes(annotation, report, collection.filename):
                continue
            kept.append(annotation)
        collection.annotations = kept
        yield collection


@dataclass(frozen=True)
class _Hooks:
    """The caller's per-item and per-annotation hooks, sent with every shard."""

    conversion_func: ConversionFunc | None
    item_filter: ItemFilter | None
    annotation_filter: AnnotationFilter | None

    def __iter__(self):
        return iter((self.conversion_func, self.item_filter, self.annotation_filter))


@dataclass
class _Shard:
    """One task of a sharded conversion: a run of source units and what is needed to write them."""

    source: str
    target: str
    context: Any
    units: bytes  # packed (parallel.pack_units)
    staging: Path
    options: ConvertOptions
    labels: Any
    images_root: Path | None
    hooks: _Hooks
    report: ConversionReport
    decode_masks: bool


def _convert_shard(task: _Shard) -> tuple[ConversionReport, ShardOutput]:
    """Read, filter and write one shard, in a worker; returns its report and what ``finish`` needs."""
    source, target, report = get_format(task.source), get_format(task.target), task.report
    units = parallel.unpack_units(task.units)
    items = _pipeline(source.read_units(task.context, units, task.options, report), report, *task.hooks,
                      decode_masks=task.decode_masks)
    dataset = Dataset(items, labels=task.labels, images_root=task.images_root, total=len(units))
    return report, target.write_shard(dataset, task.staging, task.options, report)


def _for_writing(dataset: Dataset, options: ConvertOptions, items) -> Dataset:
    """The dataset a writer gets: the given label map and images folder win over the source's."""
    return Dataset(items, labels=options.labels or dataset.labels, images_root=options.images or dataset.images_root,
                   total=dataset.total)


def _counted(collections, report: ConversionReport):
    for collection in collections:
        report.read_item(collection)
        yield collection


def _write_atomically(write: Callable[[Path], list[Path]], dst: Path, overwrite: bool) -> list[Path]:
    """Run ``write`` into a staging folder that becomes ``dst`` only when it finished; its outputs under ``dst``."""
    with staged_output(dst, overwrite=overwrite) as staging:
        outputs = write(staging)
        staged = staging.resolve()
        # resolve the folder only: a linked image must not be followed out of the staging folder
        relative = [(Path(p).parent.resolve() / Path(p).name).relative_to(staged) for p in outputs]
    return [dst / p for p in relative]


def _save_source(annotations: Any, from_format: str, src: Path) -> None:
    """Put in-memory source content where the format's reader expects a file."""
    from ._io import atomic_write
    from ._json import dumps

    name = _format_name(from_format)
    if isinstance(annotations, AnnotationCollection):
        annotations = annotations.to_json()
        name = "dataloop" if name == "dataloop" else name
    if isinstance(annotations, (dict, list)):
        atomic_write(src / ("item.json" if name == "dataloop" else f"{name}.json"), dumps(annotations))
        return
    if isinstance(annotations, str):
        atomic_write(src / f"annotations.{name}", annotations.encode("utf-8"))
        return
    raise TypeError(f"cannot convert a {type(annotations).__name__} in memory")


def _load_result(out: Path, to_format: str):
    from ._json import read_json_file
    from .formats.dataloop import read_dataloop

    name = _format_name(to_format)
    if name == "dataloop":
        collections = list(read_dataloop(out))
        return collections[0] if len(collections) == 1 else collections
    if name == "coco":
        return read_json_file(out / "coco.json")
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*")) if p.is_file()}
