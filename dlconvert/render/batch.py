"""Rendering a whole source (a COCO file, a Dataloop export …) into a new folder, on all cores or a
given executor — what ``dlconvert render`` runs.

Items are cut into shards as conversions are (:mod:`dlconvert.parallel`); each picture depends
only on its item and the label map, which is settled before any shard starts, so the pictures
are the same bytes for any number of workers. The folder is built aside and appears whole, or
not at all (an error, images not found): :func:`~dlconvert._io.staged_output`.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import parallel
from .._io import atomic_write, empty_staging, staged_output
from ..dataset import ConvertOptions
from ..formats import get_format
from ..images import ImageLookup
from ..labels import LabelMap
from ..report import ConversionReport
from ..table import NotExact
from .columns import render_table, takes
from .files import checked_style, encode_picture, picture_views, render_items
from .report import MissingImagesError, RenderReport
from .sheet import contact_sheet
from .views import ViewAnnotationOptions

__all__ = ["SHEET_FILENAME", "render_source"]

SHEET_FILENAME = "sheet.png"


@dataclass
class _RenderShard:
    source: str
    context: Any
    units: bytes  # packed (parallel.pack_units)
    first_index: int
    dst: Path
    views: list
    options: ConvertOptions
    images: ImageLookup
    label_map: LabelMap
    allow_missing_images: bool
    style: dict = field(default_factory=dict)


def _render_shard(task: _RenderShard) -> RenderReport:
    units = parallel.unpack_units(task.units)
    items = get_format(task.source).read_units(task.context, units, task.options, ConversionReport())
    return render_items(items, task.dst, task.views, images=task.images, label_map=task.label_map,
                        style=task.style, allow_missing_images=task.allow_missing_images,
                        first_index=task.first_index)


def render_source(src: str | os.PathLike[str], from_format: str, dst: str | os.PathLike[str], views, *,
                  options: ConvertOptions | None = None, overwrite: bool = False, sheet: bool = False,
                  allow_missing_images: bool = False, workers: int | None = None, executor: Executor | None = None,
                  progress=None, frame_num: int | None = None, alpha: float | None = None,
                  thickness: int | None = None, with_text: bool = False, color_by: str = "label"
                  ) -> tuple[RenderReport, LabelMap]:
    """Render every item of ``src`` into the new folder ``dst`` (the layout of :func:`render_dataset`, plus
    ``labelmap.json`` and, with ``sheet``, ``sheet.png``); returns the counts and the label map used (the
    source's, else one built from every label met, so all items share ids and colours).

    Images are found by :meth:`ImageLookup.for_source <dlconvert.images.ImageLookup.for_source>`
    (``options.images`` first). When overlays or the sheet need images that are not found, nothing
    is written and :class:`~dlconvert.render.report.MissingImagesError` says how many, unless
    ``allow_missing_images``. A non-empty ``dst`` is refused unless ``overwrite``.
    """
    src, dst = Path(src), Path(dst)
    options = options or ConvertOptions()
    views = picture_views(views)
    style = checked_style(frame_num=frame_num, alpha=alpha, thickness=thickness, with_text=with_text,
                          color_by=color_by)
    source = get_format(from_format)
    workers = workers or parallel.default_workers()
    about: dict[str, Any] = {"format": "render", "views": [view.value for view in views]}  # the manifest's
    with staged_output(dst, overwrite=overwrite, sources=(src, options.images), about=about) as staging:
        drawn = None if sheet or executor is not None else _render_columnar(source, src, staging, views, options,
                                                                            style, workers, progress)
        if drawn is not None:
            report, label_map = drawn
        elif not source.reads_in_shards:
            report, label_map, images = _render_whole(source, src, staging, views, options, style,
                                                      allow_missing_images, progress)
        else:
            report, label_map, images = _render_sharded(source, src, staging, views, options, style,
                                                        allow_missing_images, workers, executor, progress)
        if report.images_missing and not allow_missing_images:
            raise MissingImagesError(report)
        about["items"] = report.items
        label_map.save(staging / "labelmap.json")
        if sheet:
            counted = report if ViewAnnotationOptions.ANNOTATION_ON_IMAGE not in views else RenderReport()
            picture = contact_sheet(source.read(src, options, ConversionReport()).items, images_root=images,
                                    label_map=label_map, frame_num=frame_num, color_by=color_by,
                                    allow_missing_images=allow_missing_images, report=counted)
            atomic_write(staging / SHEET_FILENAME, encode_picture(picture)[0])
    return report, label_map


def _render_columnar(source, src: Path, dst: Path, views, options: ConvertOptions, style: dict, workers: int,
                     progress) -> tuple[RenderReport, LabelMap] | None:
    """The render from the source's table (:mod:`.columns`) when its reader has one and the job is one the table
    path draws exactly; None (nothing written) otherwise. A contact sheet or a Dask cluster keeps the item path."""
    if not source.tables_for("render") or not takes(views, style):
        return None
    table = source.read_table(src, options, workers=workers)
    if table is None or not table.item_count:
        return None
    try:
        report = render_table(table, dst, views, style, workers=workers, progress=progress)
    except NotExact:  # a column decoded on demand met what only the object reader reads exactly
        empty_staging(dst)
        return None
    return None if report is None else (report, table.label_map)


def _render_whole(source, src: Path, dst: Path, views, options: ConvertOptions, style: dict,
                  allow_missing_images: bool, progress) -> tuple[RenderReport, LabelMap, ImageLookup]:
    def read():
        return source.read(src, options, ConversionReport())

    dataset = read()
    label_map = options.labels or dataset.labels
    if label_map is None:
        label_map = LabelMap.from_names(a.annotation_definition.label for c in dataset.items for a in c)
        dataset = read()
    images = ImageLookup.for_source(options.images, dataset)
    report = render_items(dataset.items, dst, views, images=images, label_map=label_map, style=style,
                          allow_missing_images=allow_missing_images, progress=progress)
    return report, label_map, images


def _render_sharded(source, src: Path, dst: Path, views, options: ConvertOptions, style: dict,
                    allow_missing_images: bool, workers: int, executor: Executor | None, progress
                    ) -> tuple[RenderReport, LabelMap, ImageLookup]:
    plan = source.plan(src, options, ConversionReport())
    images = ImageLookup.for_source(options.images, plan)
    with parallel.frozen_for_gc():
        label_map = options.labels or plan.labels
        if label_map is None:
            items = source.read_units(plan.context, plan.units, options, ConversionReport())
            label_map = LabelMap.from_names(a.annotation_definition.label for c in items for a in c)
        if plan.one_pass or not parallel.worth_sharding(len(plan.units), workers, executor):
            items = source.read_units(plan.context, plan.units, options, ConversionReport())
            report = render_items(items, dst, views, images=images, label_map=label_map, style=style,
                                  allow_missing_images=allow_missing_images, progress=progress)
            return report, label_map, images

        def task(units: bytes, first: int) -> _RenderShard:
            return _RenderShard(source.name, plan.context, units, first, dst, list(views), options, images,
                                label_map, allow_missing_images, style)

        report = RenderReport()
        for shard in parallel.map_shards(plan.units, _render_shard, task, workers=workers, executor=executor,
                                         progress=progress):
            report.merge(shard)
    return report, label_map, images
