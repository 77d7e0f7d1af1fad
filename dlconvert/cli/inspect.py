"""``dlconvert info``, ``validate`` and ``formats``: what a dataset holds, what is wrong in it, what a format holds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._console import progress_bar
from ..errors import DlconvertError
from ._options import EXIT_DATA_ERROR

MAX_PROBLEMS_PER_FILE = 20


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def info(src: Path, as_json: bool) -> None:
    """Summarise SRC: items, annotations per type and label, frames."""
    from .._json import dumps
    from ..formats.dataloop import iter_json_files, read_dataloop
    from ..summary import summarize

    files = iter_json_files(src)
    summary = summarize(progress_bar("reading")(read_dataloop(src), total=len(files)))
    click.echo(dumps(summary.to_json()).decode() if as_json else summary.to_text())


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True, help="Fail on warnings too.")
def validate(src: Path, strict: bool) -> None:
    """Check every file of SRC and list every problem with its file and place; exit 1 if any."""
    from ..collection import AnnotationCollection
    from ..formats.dataloop import iter_json_files
    from ..validate import check_collection, problem_from_error

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


@click.command()
def formats() -> None:
    """List the formats with what each can hold."""
    from ..formats import list_formats

    for spec in list_formats():
        holds = ", ".join(sorted(t for t in spec.holds if t != "*")) + (", any other type" if "*" in spec.holds
                                                                          else "")
        click.echo(f"{spec.name:<9} {spec.summary}")
        click.echo(f"{'':<9} holds: {holds}")
        for kind, how in spec.approximates.items():
            click.echo(f"{'':<9} approximates: {kind} → {how}")


