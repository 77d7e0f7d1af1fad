"""What every ``dlconvert`` command shows on the terminal: progress bars and the conversion report."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .report import ConversionReport

__all__ = ["print_report", "progress_bar"]


def progress_bar(desc: str):
    """A tqdm factory on stderr, shown only when stderr is a terminal."""
    from tqdm import tqdm

    return functools.partial(tqdm, desc=desc, unit="item", file=sys.stderr, disable=None, leave=False)


def print_report(report: ConversionReport, report_path: Path | None) -> None:
    """Save the report where ``--report`` asked and print its summary on stderr."""
    if report_path is not None:
        report.save(report_path)
    click.echo(report.summary(), err=True)
