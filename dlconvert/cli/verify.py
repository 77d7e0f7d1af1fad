"""``dlconvert verify``: a round trip through another format, compared annotation by annotation."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import click

from ._options import EXIT_DATA_ERROR, FormatFlagsCommand, convert_options, format_option, source_format_option


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """Refuse NaN, which every range check lets through."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number", ctx=ctx, param=param)
    return value


@click.command(cls=FormatFlagsCommand)
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@source_format_option()
@format_option("--via", "via_format", "Format to write SRC in and read back from.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Folder of the item images, when they are not where the format keeps them (YOLO and VOC "
                   "need image sizes; --images-mode copy/link needs the files).")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Label map to use both ways: a names file (one label a line), labelmap.json or a Dataloop "
                   "ontology JSON.")
@click.option("--min-iou", type=click.FloatRange(0, 1), default=0.999, show_default=True, callback=_finite,
              help="Shapes (boxes, polygons, ellipses, masks) with at least this IoU with the original came back "
                   "unchanged; below it they changed.")
@click.option("--max-distance", type=click.FloatRange(0, 1e6), default=0.01, show_default=True, metavar="PIXELS",
              callback=_finite,
              help="Points, keypoints, polyline and cube vertices that moved at most this far came back unchanged "
                   "(a shape too, whatever its IoU).")
@click.option("--json", "as_json", is_flag=True, help="Print the counts, approximations and differences as JSON.")
def verify(src: Path, from_format: str | None, via_format: str, images: Path | None, labels: Path | None,
           min_iou: float, max_distance: float, as_json: bool, **format_options) -> None:
    """Write SRC in the --via format, read it back, and compare every annotation with the original: exit 1
    if anything came back changed or not at all without the conversion's report saying so (or the report
    says so of an annotation that came back unchanged)."""
    from .._json import dumps
    from ..compare import Tolerance
    from ..detection import resolve_format
    from ..verify import verify as run_verify

    options = convert_options(images, labels, **format_options)
    result = run_verify(src, resolve_format(src, from_format), via_format, options=options,
                        tolerance=Tolerance(min_iou=min_iou, max_distance=max_distance))
    click.echo(dumps(result.to_json()).decode() if as_json else result.summary())
    if result.lost:
        sys.exit(EXIT_DATA_ERROR)
