"""Rendering a whole source (a COCO file, a Dataloop export …) on all cores or a given executor.

Items are cut into shards as conversions are (:mod:`dlconvert.parallel`); each picture depends
only on its item and the label map, which is settled before any shard starts, so the pictures
are the same bytes for any number of workers.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import parallel
from ..dataset import ConvertOptions
from ..formats import get_format
from ..labels import LabelMap
from ..report import ConversionReport
from .files import render_dataset

__all__ = ["render_source"]


@dataclass
class _RenderShard:
    source: str
    context: Any
    units: bytes  # packed (parallel.pack_units)
    first_index: int
    dst: Path
    views: list
    options: ConvertOptions
    images_root: Path | None
    label_map: LabelMap
    style: dict = field(default_factory=dict)


def _render_shard(task: _RenderShard) -> dict[str, int]:
    units = parallel.unpack_units(task.units)
    items = get_format(task.source).read_units(task.context, units, task.options, ConversionReport())
    return render_dataset(items, task.dst, task.views, images_root=task.images_root, label_map=task.label_map,
                          first_index=task.first_index, **task.style)


def render_source(src: Path, from_format: str, dst: Path, views, *, options: ConvertOptions,
                  workers: int | None = None, executor: Executor | None = None, progress=None,
                  **style) -> tuple[dict[str, int], LabelMap]:
    """Render every item of ``src`` into ``dst`` (see :func:`render_dataset`); returns the counts and the
    label map used (the source's, else one built from every label met, so all items share ids and colours).

    ``style``: ``frame_num``, ``alpha``, ``thickness``, ``with_text`` of :func:`render_dataset`.
    """
    source = get_format(from_format)
    workers = workers or parallel.default_workers()
    if not source.reads_in_shards:
        def read():
            return source.read(src, options, ConversionReport())
        dataset = read()
        label_map = options.labels or dataset.labels
        if label_map is None:
            label_map = LabelMap.from_names(a.annotation_definition.label for c in dataset.items for a in c)
            dataset = read()
        images_root = options.images or dataset.images_root
        counts = render_dataset(dataset.items, dst, views, images_root=images_root, label_map=label_map,
                                progress=progress, **style)
        return counts, label_map
    plan = source.plan(src, options, ConversionReport())
    with parallel.frozen_for_gc():
        label_map = options.labels or plan.labels
        if label_map is None:
            items = source.read_units(plan.context, plan.units, options, ConversionReport())
            label_map = LabelMap.from_names(a.annotation_definition.label for c in items for a in c)
        images_root = options.images or plan.images_root
        if not parallel.worth_sharding(len(plan.units), workers, executor):
            items = source.read_units(plan.context, plan.units, options, ConversionReport())
            counts = render_dataset(items, dst, views, images_root=images_root, label_map=label_map,
                                    progress=progress, **style)
            return counts, label_map

        def task(units: bytes, first: int) -> _RenderShard:
            return _RenderShard(source.name, plan.context, units, first, dst, list(views), options, images_root,
                                label_map, style)

        counts = {"items": 0, "pictures": 0, "skipped": 0}
        for shard in parallel.map_shards(plan.units, _render_shard, task, workers=workers, executor=executor,
                                         progress=progress):
            for key, value in shard.items():
                counts[key] += value
    return counts, label_map
