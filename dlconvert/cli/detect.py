"""``dlconvert detect``: which format a path holds, and why (what ``--from`` would default to)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ._options import EXIT_DATA_ERROR


@click.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document: the format (null when none or several), each format that "
                   "recognised PATH with why, and what the others looked for.")
def detect(path: Path, as_json: bool) -> None:
    """Say which format PATH holds and why, by a bounded look (a file's head, a folder's names); exit 1
    when no format or more than one recognises it (the candidates are listed: choose with --from)."""
    from .._json import dumps
    from ..detection import detect_format

    found = detect_format(path)
    click.echo(dumps(found.to_json()).decode() if as_json else found.summary())
    if found.format is None:
        sys.exit(EXIT_DATA_ERROR)
