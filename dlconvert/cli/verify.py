"""``dlconvert verify``: a round trip through another format, compared annotation by annotation."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._options import EXIT_DATA_ERROR, convert_options, format_option, format_options


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@format_option("--from", "from_format", "Format of SRC.")
@format_option("--via", "via_format", "Format to go through and back from.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--min-iou", type=click.FloatRange(0, 1), default=0.999, show_default=True)
@format_options
def verify(src: Path, from_format: str, via_format: str, images: Path | None, labels: Path | None,
           min_iou: float, **format_options) -> None:
    """Round-trip SRC through --via and back; exit 1 if anything --via can hold was lost."""
    from ..verify import verify as run_verify

    result = run_verify(src, from_format, via_format, options=convert_options(images, labels, **format_options),
                        min_iou=min_iou)
    click.echo(result.summary())
    if result.lost:
        sys.exit(EXIT_DATA_ERROR)


