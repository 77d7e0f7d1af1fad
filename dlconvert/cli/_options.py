"""Options and exit codes every ``dlconvert`` command shares: formats, label maps, workers, per-format flags."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from ..formats import format_names

EXIT_DATA_ERROR = 1
EXIT_USAGE_ERROR = 2
EXIT_INTERNAL_ERROR = 3
MAX_WORKERS = 1024

_FORMAT_NAMES = format_names()  # the registry: every format dlconvert has, sorted


def parallel_options(command):
    """``--workers`` and ``--scheduler``: where the per-item work runs."""
    command = click.option("--scheduler", metavar="ADDRESS", default=None,
                           help="Run the per-item work on this Dask scheduler (tcp://host:8786; needs "
                                "dlconvert[dask]); its workers must see SRC and DST at the same paths.")(command)
    return click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=None,
                        help="Worker processes (default: all cores; with --scheduler: the cluster's threads).")(command)


@contextlib.contextmanager
def executor_for(scheduler: str | None):
    """``(executor, threads)`` of the Dask scheduler when one is named, else ``(None, None)``: our own pool."""
    if scheduler is None:
        yield None, None
        return
    from ..parallel import dask_executor

    with dask_executor(scheduler) as pair:
        yield pair


def format_option(flag: str, dest: str, help_text: str):
    """A required format to write; its help lists the formats (one dlconvert only reads is a usage error)."""
    return click.option(flag, dest, required=True, metavar="FORMAT", callback=writable_format,
                        help=f"{help_text} One of: {', '.join(_FORMAT_NAMES)} (those dlconvert writes).",
                        type=click.Choice(_FORMAT_NAMES, case_sensitive=False))


def writable_format(context: click.Context, parameter: click.Parameter, name: str | None) -> str | None:
    """Refuse (exit 2) a format that dlconvert reads but does not write, naming those it writes."""
    from ..formats import get_format, list_formats

    if name is not None and get_format(name).write is None:
        writable = ", ".join(spec.name for spec in list_formats() if spec.write is not None)
        raise click.BadParameter(f"dlconvert reads {name} but does not write it; it writes {writable}",
                                 ctx=context, param=parameter)
    return name


def source_format_option():
    """``--from``: the source's format, detected from SRC when not given (or given as ``auto``)."""
    return click.option("--from", "from_format", default=None, metavar="FORMAT",
                        type=click.Choice([*_FORMAT_NAMES, "auto"], case_sensitive=False),
                        help=f"Format of SRC (default: detected from SRC, see `dlconvert detect`). "
                             f"One of: {', '.join(_FORMAT_NAMES)}.")


def convert_options(images: Path | None, labels: Path | None, **format_options):
    from ..dataset import ConvertOptions
    from ..labels import LabelMap

    given = {key: value for key, value in format_options.items() if value is not None}
    return ConvertOptions(images=images, labels=LabelMap.load(labels) if labels else None, **given)


def format_options(command):
    """The per-format options shared by ``convert`` and ``verify``."""
    options = [
        click.option("--task", "yolo_task", type=click.Choice(["detect", "segment", "pose", "obb"]), default=None,
                     help="YOLO task (default: the richest the data needs)."),
        click.option("--precision", type=click.IntRange(0, 15), default=None,
                     help="Decimals of normalised YOLO coordinates (default 6)."),
        click.option("--split", default=None,
                     help="YOLO split for items that name none: a folder name (default train)."),
        click.option("--images-mode", type=click.Choice(["none", "copy", "link"]), default=None,
                     help="Put the images beside written YOLO labels (default none)."),
        click.option("--voc-origin", type=click.Choice(["0", "1"]), default=None,
                     callback=lambda ctx, param, value: None if value is None else int(value),
                     help="VOC <bndbox> convention: 1 = 1-based inclusive (devkit, default), 0 = 0-based floats."),
        click.option("--voc-masks/--no-voc-masks", default=None,
                     help="VOC: write SegmentationClass/Object PNGs for polygons and masks (default on)."),
        click.option("--rle", type=click.Choice(["auto", "compressed", "uncompressed"]), default=None,
                     help="COCO mask counts (default auto: the source's form, else compressed)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


