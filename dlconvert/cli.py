"""The ``dlconvert`` command line.

Errors print one line, ``error: FILE:PLACE: what``, and exit 1 (2 for usage errors); ``--debug``
shows the traceback instead. Progress bars go to stderr and only when it is a terminal.
"""

from __future__ import annotations

import contextlib
import re
import sys
import traceback
from pathlib import Path

import click

from ._console import print_report, progress_bar
from .errors import DlconvertError
from .formats import AnnotationFormat

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
EXIT_DATA_ERROR = 1
EXIT_INTERNAL_ERROR = 3
MAX_PROBLEMS_PER_FILE = 20


class _Group(click.Group):
    """Turns every failure into one line on stderr and an exit code, unless ``--debug``."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except DlconvertError as exc:
            self._fail(ctx, f"error: {exc}", EXIT_DATA_ERROR)
        except KeyboardInterrupt:
            self._fail(ctx, "error: interrupted", 130)
        except Exception as exc:  # a bug, not bad input: say so, briefly
            self._fail(ctx, f"error: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                       EXIT_INTERNAL_ERROR)

    @staticmethod
    def _fail(ctx: click.Context, message: str, code: int) -> None:
        if ctx.obj and ctx.obj.get("debug"):
            traceback.print_exc()
        # one line, whole: line breaks and terminal escapes from file names or labels are shown escaped
        click.echo(_CONTROL.sub(lambda m: repr(m.group())[1:-1], message) or "error", err=True)
        ctx.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.version_option(package_name="dlconvert")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Convert, render, validate and summarise annotation datasets (Dataloop, COCO, YOLO, VOC, WebVTT)."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def info(src: Path, as_json: bool) -> None:
    """Summarise SRC: items, annotations per type and label, frames."""
    from ._json import dumps
    from .formats.dataloop import iter_json_files, read_dataloop
    from .summary import summarize

    files = iter_json_files(src)
    summary = summarize(progress_bar("reading")(read_dataloop(src), total=len(files)))
    click.echo(dumps(summary.to_json()).decode() if as_json else summary.to_text())


@main.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def validate(src: Path, strict: bool) -> None:
    """Check every file of SRC and list every problem with its file and place; exit 1 if any."""
    from .collection import AnnotationCollection
    from .formats.dataloop import iter_json_files
    from .validate import check_collection, problem_from_error

    problems = []
    files = iter_json_files(src)
    for path in progress_bar("validating")(files):
        errors: list[DlconvertError] = []
        try:
            collection = AnnotationCollection.from_json_file(path, errors=errors)
        except DlconvertError as exc:
            errors.append(exc.at(path=path))
            collection = None
        problems.extend(problem_from_error(e) for e in errors)
        if collection is not None:
            problems.extend(check_collection(collection, str(path)))
    shown: dict[str | None, int] = {}
    for problem in problems:
        shown[problem.path] = shown.get(problem.path, 0) + 1
        if shown[problem.path] <= MAX_PROBLEMS_PER_FILE:
            click.echo(str(problem))
    for path, count in shown.items():
        if count > MAX_PROBLEMS_PER_FILE:
            click.echo(f"note: {path}: {count - MAX_PROBLEMS_PER_FILE} more problems not shown")
    failing = [p for p in problems if p.severity == "error" or strict]
    counts = {s: sum(p.severity == s for p in problems) for s in ("error", "warning")}
    click.echo(f"{len(files)} files checked: {counts['error']} errors, {counts['warning']} warnings", err=True)
    if failing:
        sys.exit(EXIT_DATA_ERROR)


_FORMAT_NAMES = [f.value for f in AnnotationFormat]


def _parallel_options(command):
    """``--workers`` and ``--scheduler``: where the per-item work runs."""
    command = click.option("--scheduler", metavar="ADDRESS", default=None,
                           help="Run the per-item work on this Dask scheduler (tcp://host:8786; needs "
                                "dlconvert[dask]); its workers must see SRC and DST at the same paths.")(command)
    return click.option("--workers", type=click.IntRange(min=1), default=None,
                        help="Worker processes (default: all cores; with --scheduler: the cluster's threads).")(command)


@contextlib.contextmanager
def _executor(scheduler: str | None):
    """``(executor, threads)`` of the Dask scheduler when one is named, else ``(None, None)``: our own pool."""
    if scheduler is None:
        yield None, None
        return
    from .parallel import dask_executor

    with dask_executor(scheduler) as pair:
        yield pair


def _format_option(flag: str, dest: str, help_text: str):
    return click.option(flag, dest, required=True, metavar="FORMAT", help=help_text,
                        type=click.Choice(_FORMAT_NAMES, case_sensitive=False))


def _options(images: Path | None, labels: Path | None, **format_options):
    from .dataset import ConvertOptions
    from .labels import LabelMap

    given = {key: value for key, value in format_options.items() if value is not None}
    return ConvertOptions(images=images, labels=LabelMap.load(labels) if labels else None, **given)


def _format_options(command):
    """The per-format options shared by ``convert`` and ``verify``."""
    options = [
        click.option("--task", "yolo_task", type=click.Choice(["detect", "segment", "pose", "obb"]), default=None,
                     help="YOLO task (default: the richest the data needs)."),
        click.option("--precision", type=click.IntRange(0, 15), default=None,
                     help="Decimals of normalised YOLO coordinates (default 6)."),
        click.option("--split", default=None, help="YOLO split for items that name none (default train)."),
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


@main.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dst", type=click.Path(file_okay=False, path_type=Path))
@_format_option("--from", "from_format", "Format of SRC.")
@_format_option("--to", "to_format", "Format to write to DST.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the images, when they are not beside the annotations.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Label map: labelmap.json, a Dataloop ontology JSON, or a names file (one label per line).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the conversion report (JSON) here.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
              help="Stop at the first bad file or record, or skip it and list it in the report.")
@click.option("--overwrite", is_flag=True, help="Replace DST if it is not empty.")
@_parallel_options
@_format_options
def convert(src: Path, dst: Path, from_format: str, to_format: str, images: Path | None, labels: Path | None,
            report_path: Path | None, on_error: str, overwrite: bool, workers: int | None, scheduler: str | None,
            **format_options) -> None:
    """Convert SRC (in --from) to DST (in --to); every annotation arrives or is reported."""
    from .converter import Converter

    with _executor(scheduler) as (executor, threads):
        converter = Converter(concurrency=workers or threads, on_error=on_error, executor=executor,
                              options=_options(images, labels, **format_options), progress=progress_bar("converting"))
        report = converter.run(src, from_format, dst, to_format, overwrite=overwrite)
    print_report(report, report_path)
    if report.failed_files:
        sys.exit(EXIT_DATA_ERROR)


@main.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@_format_option("--from", "from_format", "Format of SRC.")
@_format_option("--via", "via_format", "Format to go through and back from.")
@click.option("--images", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--min-iou", type=click.FloatRange(0, 1), default=0.999, show_default=True)
@_format_options
def verify(src: Path, from_format: str, via_format: str, images: Path | None, labels: Path | None,
           min_iou: float, **format_options) -> None:
    """Round-trip SRC through --via and back; exit 1 if anything --via can hold was lost."""
    from .verify import verify as run_verify

    result = run_verify(src, from_format, via_format, options=_options(images, labels, **format_options),
                        min_iou=min_iou)
    click.echo(result.summary())
    if result.lost:
        sys.exit(EXIT_DATA_ERROR)


@main.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.argument("dst", type=click.Path(file_okay=False, path_type=Path))
@_format_option("--from", "from_format", "Format of SRC.")
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
@_parallel_options
def render(src: Path, dst: Path, from_format: str, views: tuple[str, ...], images: Path | None, labels: Path | None,
           frame_num: int | None, alpha: float | None, thickness: int | None, with_text: bool, sheet: bool,
           overwrite: bool, workers: int | None, scheduler: str | None) -> None:
    """Render SRC as pictures in the Dataloop export layout (mask/, instance/, object_id/, img_mask/)."""
    from ._io import atomic_write, staged_output
    from .formats import get_format
    from .render import contact_sheet, encode_picture
    from .render.batch import render_source
    from .report import ConversionReport

    options = _options(images, labels)
    with staged_output(dst, overwrite=overwrite) as staging, _executor(scheduler) as (executor, threads):
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


@main.command()
def formats() -> None:
    """List the formats with what each can hold."""
    from .formats import list_formats

    for spec in list_formats():
        holds = ", ".join(sorted(t for t in spec.holds if t != "*")) + (", any other type" if "*" in spec.holds
                                                                          else "")
        click.echo(f"{spec.name:<9} {spec.summary}")
        click.echo(f"{'':<9} holds: {holds}")
        for kind, how in spec.approximates.items():
            click.echo(f"{'':<9} approximates: {kind} → {how}")


@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path), default="dlconvert-demo")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it is not empty.")
def demo(out: Path, overwrite: bool) -> None:
    """Run dlconvert on its bundled sample dataset and write the results to OUT."""
    from ._io import staged_output
    from .demo import run_demo

    with staged_output(out, overwrite=overwrite) as staging:
        lines = list(run_demo(staging))
    for line in lines:
        click.echo(line.replace(str(staging), str(out)))


def _register_platform_commands() -> None:
    from .platform.commands import download, upload

    main.add_command(download)
    main.add_command(upload)


_register_platform_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
