"""``dlconvert convert``: any format to any other; every annotation arrives or is reported."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .._console import print_report, progress_bar
from ._options import (
    EXIT_DATA_ERROR,
    FormatFlagsCommand,
    convert_options,
    executor_for,
    format_option,
    parallel_options,
    source_format_option,
)


@click.command(cls=FormatFlagsCommand)
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dst", type=click.Path(file_okay=False, path_type=Path))
@source_format_option()
@format_option("--to", "to_format", "Format to write to DST.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the images, when they are not beside the annotations.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Label map: labelmap.json, a Dataloop ontology JSON, or a names file (one label per line).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the conversion report (JSON) here.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
              help="Stop at the first bad file or record (or when nothing could be written), or skip it and list "
                   "it in the report.")
@click.option("--overwrite", is_flag=True,
              help="Replace DST when it holds a previous dlconvert output (never a folder holding files dlconvert "
                   "did not write, the source, the working or home folder).")
@parallel_options
def convert(src: Path, dst: Path, from_format: str | None, to_format: str, images: Path | None, labels: Path | None,
            report_path: Path | None, on_error: str, overwrite: bool, workers: int | None, scheduler: str | None,
            **format_options) -> None:
    """Convert SRC (in --from, else the format detected) to DST (in --to); every annotation arrives or is reported.

    DST must be missing or empty, or hold a previous dlconvert output and --overwrite: dlconvert
    never deletes or changes a file it did not write.
    """
    from .._io import record_output
    from ..converter import Converter
    from ..detection import resolve_format

    options = convert_options(images, labels, **format_options)
    from_format = resolve_format(src, from_format)
    with executor_for(scheduler) as (executor, threads):
        converter = Converter(concurrency=workers or threads, on_error=on_error, executor=executor, options=options,
                              progress=progress_bar("converting"))
        report = converter.run(src, from_format, dst, to_format, overwrite=overwrite)
    print_report(report, report_path)
    if report_path is not None and _inside(report_path, dst):
        record_output(dst, report_path)  # part of the output: a later --overwrite may replace it
    if report.failed_files:
        sys.exit(EXIT_DATA_ERROR)


def _inside(path: Path, folder: Path) -> bool:
    real, root = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return root in real.parents
