"""``dlconvert render``: pictures of every item in the Dataloop export layout, and a contact sheet."""

from __future__ import annotations

import math
from pathlib import Path

import click

from .._console import progress_bar
from ._options import convert_options, executor_for, parallel_options, source_format_option


class _Thickness(click.ParamType):
    """-1 (filled) or an outline width in pixels, 1…MAX_THICKNESS."""

    name = "PIXELS"

    def convert(self, value, param, ctx):
        from ..render.views import FILLED, MAX_THICKNESS

        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a whole number", param, ctx)
        if number != FILLED and not 1 <= number <= MAX_THICKNESS:
            self.fail(f"{number} is not -1 (filled) or a width of 1…{MAX_THICKNESS} pixels", param, ctx)
        return number


class _Opacity(click.FloatRange):
    """A number 0…1; NaN is no opacity (click's FloatRange lets it through)."""

    def __init__(self) -> None:
        super().__init__(0, 1)

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number from 0 to 1", param, ctx)
        return number


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dst", type=click.Path(file_okay=False, path_type=Path))
@source_format_option()
@click.option("--view", "views", multiple=True, default=("mask",), show_default=True,
              type=click.Choice(["mask", "instance", "object_id", "overlay"]),
              help="Picture(s) to render (repeatable): mask = label colours on transparent (mask/); instance = "
                   "label instance ids (instance/); object_id = one id per object (object_id/); overlay = the "
                   "annotations on the item's image, written to img_mask/ (the Dataloop export's name for it).")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder tried first for each item's image (its file name under it); then the image the "
                   "reader paired with the item and the format's own image folders (see README).")
@click.option("--allow-missing-images", is_flag=True,
              help="Draw items whose image is not found on a grey checkerboard (still counted and named) "
                   "instead of failing with nothing written.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Label map giving each label's colour and instance id: labelmap.json, a Dataloop ontology "
                   "JSON or a names file (one label per line; ids 1, 2, … in order). Default: the source's.")
@click.option("--frame", "frame_num", type=click.IntRange(0, 2**31 - 1), default=None,
              help="Frame of video items to draw (default 0).")
@click.option("--alpha", type=_Opacity(), default=None,
              help="Fill opacity, 0–1 (default: 0.4 on overlays, 1 on masks).")
@click.option("--thickness", type=_Thickness(), default=None,
              help="Outline width in pixels, 1–1000, or -1 to fill (default: masks and id pictures filled, "
                   "overlays filled with a 2-pixel outline).")
@click.option("--color-by", type=click.Choice(["label", "object"]), default="label", show_default=True,
              help="Colour masks and overlays by label, or one colour per object (object ids, else each "
                   "annotation's position), as supervision's ColorLookup.INDEX.")
@click.option("--with-text", is_flag=True, help="Write label names on overlays (never on mask or id pictures).")
@click.option("--sheet", is_flag=True, help="Also write sheet.png, a contact sheet of every item's overlay.")
@click.option("--overwrite", is_flag=True, help="Replace DST if it holds a previous dlconvert output.")
@parallel_options
def render(src: Path, dst: Path, from_format: str | None, views: tuple[str, ...], images: Path | None,
           allow_missing_images: bool, labels: Path | None, frame_num: int | None, alpha: float | None,
           thickness: int | None, color_by: str, with_text: bool, sheet: bool, overwrite: bool, workers: int | None,
           scheduler: str | None) -> None:
    """Render SRC as pictures in the Dataloop export layout (mask/, instance/, object_id/, img_mask/).

    Fails with "N of M images not found" and writes nothing when overlays or the sheet cannot find
    an item's image, unless --allow-missing-images. Annotations that cannot be drawn are counted by
    reason (render.degenerate-shape, render.no-shape, …).
    """
    from ..detection import resolve_format
    from ..render.batch import render_source

    options = convert_options(images, labels)
    from_format = resolve_format(src, from_format)
    with executor_for(scheduler) as (executor, threads):
        report, _ = render_source(src, from_format, dst, views, options=options, overwrite=overwrite, sheet=sheet,
                                  allow_missing_images=allow_missing_images, workers=workers or threads,
                                  executor=executor, progress=progress_bar("rendering"), frame_num=frame_num,
                                  alpha=alpha, thickness=thickness, with_text=with_text, color_by=color_by)
    lines = report.summary().splitlines()
    lines[0] += f" written to {dst}"
    click.echo("\n".join(lines), err=True)
