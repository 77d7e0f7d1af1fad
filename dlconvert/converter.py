"""Converter: any format to any format through the Dataloop model, with a report.

The API keeps the Dataloop SDK's names, arguments and return values (``convert_dataset``,
``convert_directory``, ``convert_file``, ``convert``, ``save_to_file``) so its users feel at home;
every call also leaves its :class:`~dlconvert.report.ConversionReport` in :attr:`Converter.report`,
in which the annotations read equal those written plus those skipped, each skip with its reason.
:meth:`Converter.run` is dlconvert's own entry point: it returns the report.

Output is safe: dlconvert never deletes or changes a file it did not write. A destination that is
not empty is refused unless ``overwrite`` and it holds a previous dlconvert output; one that is,
holds or lies inside the source is always refused (see :mod:`dlconvert._destination`). A
conversion writes into a staging folder and moves it into place only when it finished, so a
failure leaves no half-written output behind.

Per-item work runs on ``concurrency`` worker processes (default: all cores) or on a given
``executor`` (a Dask cluster's, say) when both formats support sharding (see
:mod:`dlconvert.formats`) and the hooks can be sent to other processes; the output is the same
bytes for any number of workers. Otherwise — or when a shard meets something only one ordered
pass can decide — the conversion runs in this process.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import parallel
from ._destination import check_destination
from ._io import staged_output
from ._sdk_compat import Hooks, in_memory_source, load_result
from .annotation import Annotation
from .collection import AnnotationCollection
from .dataset import ConvertOptions, Dataset, ShardOutput, SourcePlan
from .errors import FormatError, InvalidAnnotationError, NothingConvertedError, OptionError
from .formats import FormatSpec, check_options, format_key, get_format, require_items
from .geometry import Segmentation
from .report import ConversionReport, OnError
from .table import NotExact

__all__ = ["Converter"]

ERROR_LOG = "dlconvert_errors.json"
#: The SDK's per-annotation functions (a record of the target format from one annotation, or back):
#: dlconvert's writers and readers do that work, with each format's whole rules (ids, categories, RLE).
_SDK_RECORD_HOOKS = frozenset({"to_coco", "to_voc", "to_yolo", "from_coco", "from_voc", "from_yolo", "custom_format"})
#: Skip codes that are the caller's choice, not the target's limits: all skipped for these is not "nothing converted".
_CHOSEN = frozenset({"filter.item", "filter.annotation", "conversion-func.dropped"})


class Converter:
    """Converts datasets, folders, files and in-memory annotations between formats.

    Args:
        concurrency: worker processes for per-item work (the SDK's argument name); default all cores.
        return_error_filepath: also write the issues to ``dlconvert_errors.json`` in the output and
            return ``(has_errors, path)`` (COCO: ``(coco_json, has_errors, path)``), as the SDK does.
        on_error: ``"fail"`` stops at the first bad file or record — and when annotations were read
            but the target could hold none of them — and leaves no output; ``"skip"`` carries on and
            lists every bad record and skipped annotation in the report.
        options: the readers' and writers' :class:`~dlconvert.dataset.ConvertOptions`; an option
            that neither format of a conversion uses is refused.
        progress: a tqdm-like factory, ``progress(iterable, total=, desc=)``, counting items; when it
            has a ``busy(desc)`` context manager, that is shown while a step that cannot count runs
            (parsing a large COCO file).
        executor: run the per-item work on this ``concurrent.futures.Executor`` instead of a process
            pool of our own — e.g. ``dask.distributed.Client(...).get_executor()``, whose workers
            must see the input and output paths; ``concurrency`` then sizes the shards.

    Attributes:
        report: the :class:`~dlconvert.report.ConversionReport` of the last conversion (every entry
            point sets it, whatever it returns), or None before the first.
    """

    def __init__(self, concurrency: int | None = None, return_error_filepath: bool = False,
                 on_error: str = OnError.FAIL, options: ConvertOptions | None = None, progress: Callable | None = None,
                 executor: Executor | None = None) -> None:
        if on_error not in OnError.ALL:
            raise ValueError(f"on_error must be one of {OnError.ALL}")
        if concurrency is not None and (type(concurrency) is not int or concurrency < 1):
            raise ValueError("concurrency must be a whole number of at least 1")
        if options is not None and not isinstance(options, ConvertOptions):
            raise TypeError(f"options must be a ConvertOptions, not {type(options).__name__}")
        self.concurrency = concurrency or parallel.default_workers()
        self.executor = executor
        self.return_error_filepath = return_error_filepath
        self.on_error = on_error
        self.options = options or ConvertOptions()
        self.progress = progress
        self.report: ConversionReport | None = None

    def __getattr__(self, name: str):
        if name in _SDK_RECORD_HOOKS:
            raise AttributeError(
                f"Converter.{name} (the SDK's per-annotation record function) is not in dlconvert: a "
                f"conversion_func maps an Annotation to an Annotation, and the writers build each format's "
                f"records; for one annotation's record use Converter().convert(annotation, from_format, "
                f"to_format, item=item)")
        raise AttributeError(f"'Converter' object has no attribute {name!r}")

    # -- the SDK's entry points ------------------------------------------------------------------
    def convert_dataset(self, dataset: Any, to_format: str, local_path: str | os.PathLike[str],
                        conversion_func: Callable | None = None, filters: Any = None, annotation_filter: Any = None,
                        *, overwrite: bool = False):
        """Convert a whole dataset — a local Dataloop export folder, or a ``dtlpy`` Dataset (pulled
        through the SDK, needs ``dlconvert[platform]``) — into ``local_path``.

        ``filters`` selects items and ``annotation_filter`` annotations: a ``dtlpy.Filters`` (on a
        local export it is applied to the fields the export holds: ``dir``, ``filename``,
        ``metadata`` …; annotation ``label``, ``type`` …) or a Python predicate. ``local_path`` must
        be missing or empty, or hold a previous dlconvert output and ``overwrite=True``.

        Returns what the SDK returns: the COCO document for ``to_format="coco"``, else None (with
        ``return_error_filepath``: ``(has_errors, log path)``, COCO ``(coco_json, has_errors, log
        path)``); the report is in :attr:`report`.
        """
        options = self._sdk_options(to_format)
        if not isinstance(dataset, (str, os.PathLike)):
            from .platform import convert_dataset as convert_platform_dataset

            check_destination(local_path, overwrite=overwrite)  # before anything is downloaded
            with self._using(options):
                self.report = convert_platform_dataset(self, dataset, to_format, local_path,
                                                       conversion_func=conversion_func, filters=filters,
                                                       annotation_filter=annotation_filter, overwrite=overwrite)
        else:
            self._convert(Path(dataset), "dataloop", Path(local_path), to_format, options,
                          Hooks.of(conversion_func, filters, annotation_filter), overwrite)
        return self._sdk_result(to_format, local_path)

    def upload_local_dataset(self, from_format: str, dataset: Any, local_items_path=None, local_labels_path=None,
                             local_annotations_path=None, only_bbox: bool = False, filters=None, remote_items=None):
        """Upload local COCO / YOLO / VOC / VTT / Dataloop annotations (and missing items) to a ``dtlpy``
        Dataset, as the SDK's converter does; re-running uploads nothing twice (``dlconvert[platform]``)."""
        from .platform import upload_local_dataset

        return upload_local_dataset(self, from_format, dataset, local_items_path, local_labels_path,
                                    local_annotations_path, only_bbox, filters, remote_items)

    def convert_directory(self, local_path: str | os.PathLike[str], to_format: str, from_format: str,
                          dataset: Any = None, conversion_func: Callable | None = None, *,
                          save_to: str | os.PathLike[str] | None = None, overwrite: bool = False):
        """Convert a folder (the SDK's signature) into ``save_to``, default ``<parent of local_path>/<to_format>``.

        ``dataset`` is the SDK's argument (the platform dataset the folder came from); dlconvert
        needs nothing from it. Returns None (with ``return_error_filepath``: ``(has_errors, log
        path)``), as the SDK does; the report is in :attr:`report`.
        """
        local_path = Path(local_path)
        save_to = Path(save_to) if save_to is not None else local_path.parent / format_key(to_format)
        self._convert(local_path, from_format, save_to, to_format, self._sdk_options(to_format),
                      Hooks.of(conversion_func), overwrite)
        return self._sdk_result(to_format, save_to, coco_document=False)

    def convert_file(self, to_format: str, from_format: str, file_path: str | os.PathLike[str],
                     save_locally: bool = False, save_to: str | os.PathLike[str] | None = None,
                     conversion_func: Callable | None = None, item: Any = None, pbar: Any = None,
                     upload: bool = False, *, overwrite: bool = False):
        """Convert one file and return the converted content (see :meth:`convert`).

        With ``save_to`` (or ``save_locally``: ``<file's folder>/<to_format>``) the output is also
        written there, a folder that must be missing or empty (or hold a previous dlconvert output,
        with ``overwrite``). ``pbar`` (a tqdm bar) is advanced by one; ``upload=True`` uploads the
        converted annotations to ``item`` (a ``dtlpy`` Item), for ``to_format="dataloop"``.
        """
        file_path = Path(file_path)
        if upload and format_key(to_format) != "dataloop":
            raise OptionError("convert_file(upload=True) uploads Dataloop annotations: to_format must be 'dataloop'")
        options = self._sdk_options(to_format)
        hooks = Hooks.of(conversion_func)
        if save_locally or save_to is not None:
            target = Path(save_to) if save_to is not None else file_path.parent / format_key(to_format)
            self._convert(file_path, from_format, target, to_format, options, hooks, overwrite)
            result = load_result(target, format_key(to_format))
        else:
            result = self._in_memory(file_path, from_format, to_format, options, hooks)
        if upload:
            _upload(result, item)
        if pbar is not None:
            pbar.update()
        return result

    def convert(self, annotations: Any, from_format: str, to_format: str,
                conversion_func: Callable | None = None, item: Any = None):
        """Convert in memory: an ``AnnotationCollection``, a list of annotations or one (Dataloop), or a
        format's parsed content (the COCO document, a VTT text …).

        ``item`` (a ``dtlpy`` Item or an ``AnnotationCollection``) gives the filename and size of
        annotations passed without their item. Returns an ``AnnotationCollection`` (a list of them
        for several items) for ``to_format="dataloop"``, the COCO document (dict) for ``coco``, else
        ``{relative path: content}`` of the files written: text as ``str``, binary files (VOC's
        PNG masks, copied images) as ``bytes``.
        """
        with tempfile.TemporaryDirectory(prefix="dlconvert-") as tmp:
            src = in_memory_source(annotations, format_key(from_format), item, Path(tmp) / "in")
            return self._in_memory(src, from_format, to_format, self._sdk_options(to_format), Hooks.of(conversion_func))

    def save_to_file(self, save_to: str | os.PathLike[str], to_format: str,
                     annotations: AnnotationCollection | list[AnnotationCollection], item: Any = None, *,
                     overwrite: bool = False) -> list[Path]:
        """Write collections in ``to_format`` to the folder ``save_to``; returns the files written.

        ``save_to`` must be missing or empty (or hold a previous dlconvert output, with
        ``overwrite``); the report is in :attr:`report`.
        """
        collections = [annotations] if isinstance(annotations, AnnotationCollection) else list(annotations)
        self._write_dataset(Dataset(collections, total=len(collections)), Path(save_to), to_format,
                            self._sdk_options(to_format), overwrite)
        return [Path(p) for p in self.report.outputs]

    def write_dataset(self, dataset: Dataset, dst: str | os.PathLike[str], to_format: str, *,
                      overwrite: bool = False) -> ConversionReport:
        """Write a dataset already in memory (:func:`dlconvert.read`'s, or a
        :class:`~dlconvert.dataset.Dataset` of collections) in ``to_format`` into ``dst``, by the rules of
        :meth:`run`; returns the report (also :attr:`report`)."""
        return self._write_dataset(dataset, Path(dst), to_format, self.options, overwrite)

    def _write_dataset(self, dataset: Dataset, dst: Path, to_format: str, options: ConvertOptions,
                       overwrite: bool) -> ConversionReport:
        target = get_format(to_format)
        if target.write is None:
            raise FormatError(f"dlconvert cannot write {target.name}")
        source_format = getattr(dataset, "format", None) or "dataloop"  # collections made in Python: the model's
        check_options(options, get_format(source_format), target)
        src = getattr(dataset, "source", None)
        report = self.report = ConversionReport(source_format=source_format, target_format=target.name,
                                                on_error=self.on_error, source=str(src) if src is not None else None)
        items = _pipeline(iter(dataset.items), report, Hooks(), decode_masks=_draws_masks(target))
        writing = _for_writing(dataset, options, items)
        return self._write(lambda staging: target.write(writing, staging, options, report), dst, overwrite,
                           (src, options.images), report, target, lambda: _check_written(report, target, src or dst),
                           self.return_error_filepath)

    # -- the engine --------------------------------------------------------------------------------
    def run(self, src: str | os.PathLike[str], from_format: str, dst: str | os.PathLike[str], to_format: str, *,
            conversion_func: Callable | None = None, item_filter: Any = None, annotation_filter: Any = None,
            overwrite: bool = False) -> ConversionReport:
        """Read ``src`` in ``from_format``, write ``dst`` in ``to_format``; returns the report (also :attr:`report`).

        ``item_filter`` and ``annotation_filter`` are Python predicates or ``dtlpy.Filters``.
        Raises :class:`~dlconvert.errors.OptionError` for an option neither format uses,
        :class:`~dlconvert.errors.FormatError` when the source holds no item of ``from_format``,
        :class:`~dlconvert.errors.OutputError` for a destination it may not write, and (with
        ``on_error="fail"``) :class:`~dlconvert.errors.NothingConvertedError` when annotations were
        read but none could be written.
        """
        return self._convert(Path(src), from_format, Path(dst), to_format, self.options,
                             Hooks.of(conversion_func, item_filter, annotation_filter), overwrite)

    def _convert(self, src: Path, from_format: str, dst: Path, to_format: str, options: ConvertOptions,
                 hooks: Hooks, overwrite: bool, *, in_memory: bool = False) -> ConversionReport:
        source, target = get_format(from_format), get_format(to_format)
        if source.read is None:
            raise FormatError(f"dlconvert cannot read {source.name}")
        if target.write is None:
            raise FormatError(f"dlconvert cannot write {target.name}")
        check_options(options, source, target)
        if not src.exists():
            raise FormatError("no such file or folder", path=src)
        sources = (src, options.images)
        check_destination(dst, overwrite=overwrite, sources=sources)  # refuse before a long read
        report = self.report = ConversionReport(source_format=source.name, target_format=target.name,
                                                on_error=self.on_error, source=str(src))
        job = _Job(src, source, target, options, hooks, dst, overwrite, sources, in_memory)
        if hooks.empty and _takes_table(source, target):
            done = self._run_columnar(job, report)
            if done is not None:
                return done
            report = self.report = ConversionReport(source_format=source.name, target_format=target.name,
                                                    on_error=self.on_error, source=str(src))
        if not source.reads_in_shards:
            with self._busy(f"reading {src.name}"):
                dataset = source.read(src, options, report)
            return self._run_in_one_pass(job, dataset, report)
        with self._busy(f"reading {src.name}"):
            plan = source.plan(src, options, report)
        with parallel.frozen_for_gc():
            dataset = plan.dataset()
            meta = _for_writing(dataset, options, ())  # what every shard's writer gets
            if self._in_shards(plan, target, meta, hooks, options):
                planned = copy.deepcopy(report)
                try:
                    return self._run_in_shards(job, plan, meta, report)
                except parallel.NeedsSequential:
                    report = self.report = planned  # as it was after reading the plan; write again in one pass
            dataset.items = source.read_units(plan.context, plan.units, options, report)
            return self._run_in_one_pass(job, dataset, report)

    def _run_columnar(self, job: _Job, report: ConversionReport) -> ConversionReport | None:
        """The job on the columnar path (:mod:`dlconvert.table`): the same output and report as the object
        path, without an object per annotation; None (nothing written) when the reader or the writer
        leaves this source to the object path."""
        workers = self.concurrency if self.executor is None else 1  # forked workers share the table
        with self._busy(f"reading {job.src.name}"):
            table = job.source.read_table(job.src, job.options, workers=workers)
        if table is None or not table.item_count:
            return None

        progress = self._counting(f"{job.source.name} → {job.target.name}")

        def write(staging: Path) -> list[Path]:
            try:
                written = job.target.write_table(table, staging, job.options, report, workers=workers,
                                                 progress=progress)
            except NotExact:  # a column decoded on demand met what only the object reader reads exactly
                written = None
            if written is None:
                raise _ObjectPath
            return written

        try:
            with parallel.frozen_for_gc():  # the table's objects: never scanned again, nor copied into the workers
                return self._write_job(job, write, report, False)
        except _ObjectPath:
            return None

    def _counting(self, desc: str) -> Callable | None:
        """The progress factory with its caption, ``progress(iterable, total=)``; None without one."""
        if self.progress is None:
            return None
        return lambda iterable, total=None: self.progress(iterable, total=total, desc=desc)

    def _run_in_one_pass(self, job: _Job, dataset: Dataset, report: ConversionReport) -> ConversionReport:
        items = _pipeline(dataset.items, report, job.hooks, decode_masks=_draws_masks(job.target))
        if self.progress is not None:
            items = self.progress(items, total=dataset.total, desc=f"{job.source.name} → {job.target.name}")
        converted = _for_writing(dataset, job.options, items)
        return self._write_job(job, lambda staging: job.target.write(converted, staging, job.options, report),
                               report, dataset.declared_empty)

    def _write_job(self, job: _Job, write: Callable[[Path], list[Path]], report: ConversionReport,
                   declared_empty: bool) -> ConversionReport:
        def check() -> None:
            if not job.in_memory and not report.failed_files:
                require_items(job.source, job.src, report.items_in, declared_empty=declared_empty)
            _check_written(report, job.target, job.src)

        error_log = self.return_error_filepath and not job.in_memory
        return self._write(write, job.dst, job.overwrite, job.sources, report, job.target, check, error_log)

    @staticmethod
    def _write(write: Callable[[Path], list[Path]], dst: Path, overwrite: bool, sources: tuple,
               report: ConversionReport, target: FormatSpec, check: Callable[[], None],
               error_log: bool) -> ConversionReport:
        """Run ``write`` into a staging folder, ``check`` the outcome, move it into place; fill the report's outputs.

        The manifest records the format and the number of items written (so an empty output is
        known to be empty, not "nothing found"); the error log is part of the output.
        """
        about: dict[str, Any] = {"format": target.name}
        with staged_output(dst, overwrite=overwrite, sources=sources, about=about) as staging:
            outputs = write(staging)
            check()
            about["items"] = report.items_out
            if error_log:
                from ._io import atomic_write
                from ._json import dumps

                atomic_write(staging / ERROR_LOG, dumps([dataclasses.asdict(i) for i in report.issues]))
                outputs = [*outputs, staging / ERROR_LOG]
            relative = _relative_to(staging, outputs)
        base = str(Path(dst))
        report.outputs = [base + os.sep + p for p in relative]
        report.error_log = str(Path(dst) / ERROR_LOG) if error_log else None
        return report

    # -- sharded runs ----------------------------------------------------------------------------
    def _in_shards(self, plan: SourcePlan, target: FormatSpec, meta: Dataset, hooks: Hooks,
                   options: ConvertOptions) -> bool:
        """Whether to spread this conversion over workers: worth it, possible, and the hooks can travel."""
        if plan.one_pass or not parallel.worth_sharding(len(plan.units), self.concurrency, self.executor):
            return False
        writable = target.writes_in_shards(meta, options)
        return writable and parallel.picklable(hooks, cloud=self.executor is not None)

    def _run_in_shards(self, job: _Job, plan: SourcePlan, meta: Dataset, report: ConversionReport) -> ConversionReport:
        source, target, options = job.source, job.target, job.options
        progress = self._counting(f"{source.name} → {target.name}")

        def write(staging: Path) -> list[Path]:
            def task(units: bytes, first: int) -> _Shard:
                return _Shard(source.name, target.name, plan.context, units, staging, options, meta.labels,
                              meta.images_root, job.hooks, report.blank(), _draws_masks(target))

            shards: list[ShardOutput] = []
            for shard_report, shard in parallel.map_shards(plan.units, _convert_shard, task, workers=self.concurrency,
                                                           executor=self.executor, progress=progress):
                report.merge(shard_report)
                shards.append(shard)
            written = [path for shard in shards for path in shard.outputs]
            if len(set(written)) != len(written):  # two items of different shards on one path
                raise parallel.NeedsSequential("two shards wrote the same file")
            return [*written, *target.finish(shards, meta, staging, options, report)]

        return self._write_job(job, write, report, plan.declared_empty)

    # -- helpers -----------------------------------------------------------------------------------
    def _busy(self, desc: str):
        """The progress factory's spinner for a step that cannot count, if it has one."""
        busy = getattr(self.progress, "busy", None)
        return busy(desc) if busy is not None else contextlib.nullcontext()

    def _sdk_options(self, to_format: Any) -> ConvertOptions:
        """The SDK's entry points write YOLO detection boxes, as the SDK does, unless a task is asked for."""
        if format_key(to_format) == "yolo" and self.options.yolo_task is None:
            return dataclasses.replace(self.options, yolo_task="detect")
        return self.options

    @contextlib.contextmanager
    def _using(self, options: ConvertOptions) -> Iterator[None]:
        """Run with ``options`` in place of this converter's (the platform connector reads ``self.options``)."""
        saved, self.options = self.options, options
        try:
            yield
        finally:
            self.options = saved

    def _sdk_result(self, to_format: Any, dst: str | os.PathLike[str], coco_document: bool = True):
        """What the SDK's ``convert_dataset``/``convert_directory`` return (the report stays in :attr:`report`)."""
        report = self.report
        has_errors = bool(report.issues)
        coco = load_result(Path(dst), "coco") if coco_document and format_key(to_format) == "coco" else None
        if self.return_error_filepath:
            return (coco, has_errors, report.error_log) if coco is not None else (has_errors, report.error_log)
        return coco

    def _in_memory(self, src: Path, from_format: str, to_format: str, options: ConvertOptions, hooks: Hooks):
        with tempfile.TemporaryDirectory(prefix="dlconvert-") as tmp:
            out = Path(tmp) / "out"
            self._convert(src, from_format, out, to_format, options, hooks, False, in_memory=True)
            return load_result(out, format_key(to_format))


class _ObjectPath(Exception):
    """A columnar writer left the job to the object path (raised before it wrote anything that stays)."""


@dataclass(frozen=True)
class _Job:
    """One conversion's fixed facts, shared by its one-pass and sharded paths."""

    src: Path
    source: FormatSpec
    target: FormatSpec
    options: ConvertOptions
    hooks: Hooks
    dst: Path
    overwrite: bool
    sources: tuple
    in_memory: bool  # in-memory content: an empty source is no error, no error log is written


def _relative_to(staging: Path, outputs: list) -> list[str]:
    """The outputs' paths under the staging folder, sorted (the same list whichever way — one pass, shards,
    the table — wrote them). Writers give paths under it (plain string work, no file system call per
    output); any other spelling is resolved — the folder only: a linked image must not be followed out
    of the staging folder."""
    prefix = os.fspath(staging) + os.sep
    staged = staging.resolve()
    relative = []
    for output in outputs:
        text = os.fspath(output)
        if text.startswith(prefix) and "/.." not in text and "/./" not in text:
            relative.append(text[len(prefix):])
        else:
            path = Path(output)
            relative.append(str((path.parent.resolve() / path.name).relative_to(staged)))
    return sorted(relative)


def _takes_table(source: FormatSpec, target: FormatSpec) -> bool:
    """Whether a job may take the columnar path: the target has a table writer the source's tables go to."""
    return target.write_table is not None and source.tables_for(target.name)


def _draws_masks(target) -> bool:
    """Whether the target needs mask pixels (Dataloop writes the PNG data URL it read, undecoded)."""
    return target.name != "dataloop" and ("binary" in target.holds or "binary" in target.approximates)


def _pipeline(items, report: ConversionReport, hooks: Hooks, *, decode_masks: bool = False
              ) -> Iterator[AnnotationCollection]:
    """Count what is read, apply the filters and the per-annotation hook; report what they drop."""
    for collection in items:
        report.read_item(collection)
        if hooks.item_filter is not None and not hooks.item_filter(collection):
            for annotation in collection:
                report.skip(annotation, "filter.item", "the item filter left this item out", collection.filename)
            continue
        if hooks.per_annotation or decode_masks:
            collection.annotations = list(_annotations(collection, report, hooks, decode_masks))
        yield collection


def _annotations(collection: AnnotationCollection, report: ConversionReport, hooks: Hooks,
                 decode_masks: bool) -> Iterator[Annotation]:
    """The annotations of an item that pass the annotation filter, after the conversion hook."""
    for annotation in collection:
        if hooks.annotation_filter is not None and not hooks.annotation_filter(annotation):
            report.skip(annotation, "filter.annotation", "the annotation filter left this out", collection.filename)
            continue
        if hooks.conversion_func is not None:
            converted = hooks.convert(annotation, collection)
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
        yield annotation


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


def _check_written(report: ConversionReport, target: FormatSpec, src: Any) -> None:
    """With ``on_error="fail"``: annotations were read but the target holds none of them — refuse the output.

    Filters and hooks that left everything out did what was asked: that is no failure.
    """
    read, written = sum(report.annotations_in.values()), sum(report.annotations_out.values())
    if report.on_error != OnError.FAIL or not read or written:
        return
    reasons = Counter(i.code for i in report.issues if i.kind == "skipped" and i.annotation_type is not None)
    if reasons and set(reasons) <= _CHOSEN:
        return
    shown = ", ".join(f"{n} {code}" for code, n in reasons.most_common(3))
    located = next((i for i in report.issues if i.kind == "skipped" and i.path), None)  # a bad record: name it
    raise NothingConvertedError(
        f"0 of {read} annotations could be written as {target.name} ({shown}); nothing was written "
        f"(on_error='skip' / --on-error skip writes the items without them)",
        path=located.path if located else src, where=located.where if located else None, report=report)


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
    hooks: Hooks
    report: ConversionReport
    decode_masks: bool


def _convert_shard(task: _Shard) -> tuple[ConversionReport, ShardOutput]:
    """Read, filter and write one shard, in a worker; returns its report and what ``finish`` needs."""
    source, target, report = get_format(task.source), get_format(task.target), task.report
    units = parallel.unpack_units(task.units)
    items = _pipeline(source.read_units(task.context, units, task.options, report), report, task.hooks,
                      decode_masks=task.decode_masks)
    dataset = Dataset(items, labels=task.labels, images_root=task.images_root, total=len(units))
    return report, target.write_shard(dataset, task.staging, task.options, report)


def _for_writing(dataset: Dataset, options: ConvertOptions, items) -> Dataset:
    """The dataset a writer gets: the given label map and images folder win over the source's."""
    return Dataset(items, labels=options.labels or dataset.labels, images_root=options.images or dataset.images_root,
                   total=dataset.total, image_roots=dataset.image_roots)


def _upload(result: Any, item: Any) -> None:
    """Upload converted Dataloop annotations to a ``dtlpy`` Item, as the SDK's ``convert_file(upload=True)``."""
    annotations = getattr(item, "annotations", None)
    if annotations is None or not callable(getattr(annotations, "upload", None)):
        raise OptionError("convert_file(upload=True) needs item=<a dtlpy Item> to upload to")
    collections = result if isinstance(result, list) else [result]
    payload = [a.to_json() for collection in collections for a in collection]
    if payload:
        annotations.upload(annotations=payload)
