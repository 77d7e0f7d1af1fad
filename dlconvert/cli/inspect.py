"""``dlconvert info``, ``validate`` and ``formats``: what a dataset holds, what is wrong in it, what a format holds.

``info`` and ``validate`` read SRC through the reader of ``--from`` (any format; by default the
one detected, :mod:`dlconvert.detection`), listing every file or record it cannot read with its
place instead of stopping at the first, and exit 1 when there is one (an error). What the reader
leaves out on purpose is listed as ``skipped:`` with its reason and counted by reason; warnings
and skips keep exit 0 (``validate --strict`` fails on them too). ``validate``'s findings are its
output: one line per problem and the totals on stdout (or one JSON document with ``--json``).
``info``'s output is the summary (stdout, or JSON); its problems go to stderr, one line each.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._console import progress_bar
from ._options import EXIT_DATA_ERROR, source_format_option

MAX_PROBLEMS_PER_FILE = 20

_from_option = source_format_option()
_images_option = click.option(
    "--images", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
    help="Folder of the item images, when they are not where the format keeps them (YOLO label files "
         "without images beside them; image sizes for VOC files without <size>).")


def _check(src: Path, from_format: str | None, images: Path | None, *, deep: bool):
    from ..dataset import ConvertOptions
    from ..detection import resolve_format
    from ..validate import check_source

    return check_source(src, resolve_format(src, from_format), ConvertOptions(images=images), deep=deep,
                        progress=progress_bar("reading"))


def _echo_problems(problems, *, err: bool = False) -> None:
    """One line per problem, at most :data:`MAX_PROBLEMS_PER_FILE` per file, then how many more."""
    shown: dict[str | None, int] = {}
    for problem in problems:
        shown[problem.path] = shown.get(problem.path, 0) + 1
        if shown[problem.path] <= MAX_PROBLEMS_PER_FILE:
            click.echo(str(problem), err=err)
    for path, count in shown.items():
        if count > MAX_PROBLEMS_PER_FILE:
            click.echo(f"note: {path}: {count - MAX_PROBLEMS_PER_FILE} more problems not shown (see --json)", err=err)


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@_from_option
@_images_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary and the problems as one JSON document.")
def info(src: Path, from_format: str | None, images: Path | None, as_json: bool) -> None:
    """Summarise SRC: items, annotations per type and label, frames (YOLO: label files found, missing,
    empty, corrupt), and what the reader skipped on purpose, by reason; exit 1 if a file or record could
    not be read (each problem is listed on stderr)."""
    from .._json import dumps

    result = _check(src, from_format, images, deep=False)
    if as_json:
        document = {"format": result.format, **result.summary.to_json(),
                    "label_files": None if result.label_files is None else result.label_files.to_json(),
                    "skipped": dict(sorted(result.skipped().items())),
                    "problems": [p.to_json() for p in result.problems]}
        click.echo(dumps(document).decode())
    else:
        click.echo(result.summary.to_text())
        if result.label_files is not None:
            click.echo(f"label files:  {result.label_files.to_text()}")
        if result.skipped():
            click.echo(f"not counted:  {result.skipped_text()}")
    _echo_problems(result.problems, err=True)
    if result.errors:
        sys.exit(EXIT_DATA_ERROR)


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@_from_option
@_images_option
@click.option("--strict", is_flag=True, help="Fail on warnings and on what the reader skipped too.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts and every problem as one JSON document.")
def validate(src: Path, from_format: str | None, images: Path | None, strict: bool, as_json: bool) -> None:
    """Check every file and item of SRC and list every problem with its file and place; exit 1 if any
    error (with --strict, any warning or skip: what the reader left out on purpose, with its reason)."""
    from .._json import dumps

    result = _check(src, from_format, images, deep=True)
    if as_json:
        click.echo(dumps(result.to_json()).decode())
    else:
        _echo_problems(result.problems)
        if result.label_files is not None:
            click.echo(f"label files: {result.label_files.to_text()}")
        click.echo(result.totals())
    if result.errors or (strict and result.problems):
        sys.exit(EXIT_DATA_ERROR)


@click.command()
def formats() -> None:
    """List the formats with what each can hold (``reads:`` for a format dlconvert only reads)."""
    from ..formats import list_formats

    specs = list_formats()
    width = max(len(spec.name) for spec in specs) + 1
    for spec in specs:
        holds = ", ".join(sorted(t for t in spec.holds if t != "*")) + (", any other type" if "*" in spec.holds
                                                                          else "")
        click.echo(f"{spec.name:<{width}} {spec.summary}")
        click.echo(f"{'':<{width}} {'holds' if spec.write is not None else 'reads'}: {holds}")
        for kind, how in spec.approximates.items():
            click.echo(f"{'':<{width}} approximates: {kind} → {how}")
