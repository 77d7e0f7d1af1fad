"""``dlconvert render``: pictures of every item in the Dataloop export layout, and a contact sheet."""

from __future__ import annotations

from pathlib import Path

import click

from .._console import progress_bar
from ._options import convert_options, executor_for, format_option, parallel_options


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dst", type=click.Path(file_okay=False, path_type=Path))
@format_option("--from", "from_format", "Format of SRC.")
@click.option("--view", "views", multiple=True, default=("mask",), show_default=True,
              type=click.Choice(["mask", "instance", "object_id", "overlay"]),
              help="Picture(s) to render (repeatable).")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the images (needed for overlays when they are not beside the annotations).")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--frame", "frame_num", type=click.IntRange(min=0), default=None, help="Frame of video items.")
@click.option("--alpha", type=click.FloatRange(0, 1), default=None, help="Fill opacity (overlay default 0.4).")
@click.option("--thickness", type=int, default=None, help="Outline width; -1 fills (the default for masks).")
@click.option("--with-text", is_flag=True, help="Write label names on the pictures (never on id pictures).")
@click.option("--sheet", is_flag=True, help="Also write sheet.png, a contact sheet of every item.")
@click.option("--overwrite", is_flag=True, help="Replace DST if it is not empty.")
@parallel_options
def render(src: Path, dst: Path, from_format: str, views: tuple[str, ...], images: Path | None, labels: Path | None,
           frame_num: int | None, alpha: float | None, thickness: int | None, with_text: bool, sheet: bool,
           overwrite: bool, workers: int | None, scheduler: str | None) -> None:
    """Render SRC as pictures in the Dataloop export layout (mask/, instance/, object_id/, img_mask/)."""
    from .._io import atomic_write, staged_output
    from ..formats import get_format
    from ..render import contact_sheet, encode_picture
    from ..render.batch import render_source
    from ..report import ConversionReport

    options = convert_options(images, labels)
    with staged_output(dst, overwrite=overwrite) as staging, executor_for(scheduler) as (executor, threads):
        counts, label_map = render_source(src, from_format, staging, views, options=options,
                                          workers=workers or threads, executor=executor,
                                          progress=progress_bar("rendering"), frame_num=frame_num, alpha=alpha,
                                          thickness=thickness, with_text=with_text)
        label_map.save(staging / "labelmap.json")
        if sheet:
            dataset = get_format(from_format).read(src, options, ConversionReport())
            picture = contact_sheet(dataset.items, images_root=options.images or dataset.images_root,
                                    label_map=label_map, frame_num=frame_num)
            atomic_write(staging / "sheet.png", encode_picture(picture)[0])
    click.echo(f"{counts['pictures']} pictures of {counts['items']} items written to {dst}", err=True)


