"""What every ``dlconvert`` command shows on the terminal: progress bars, a spinner, the conversion report."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .report import ConversionReport

__all__ = ["print_report", "progress_bar"]

_SPIN = "|/-\\"
_TICK = 0.2  # seconds between spinner frames


class _Progress:
    """A tqdm factory on stderr (``progress(iterable, total=, desc=)``), shown only when stderr is a terminal;
    ``busy(desc)`` shows a spinner with the elapsed time while a step that cannot count runs."""

    def __init__(self, desc: str) -> None:
        self.desc = desc

    def __call__(self, iterable: Any = None, **kwargs: Any):
        from tqdm import tqdm

        options = {"desc": self.desc, "unit": "item", "file": sys.stderr, "disable": None, "leave": False, **kwargs}
        return tqdm(iterable, **options)

    @contextlib.contextmanager
    def busy(self, desc: str) -> Iterator[None]:
        stream = sys.stderr
        if not stream.isatty():
            yield
            return
        done = threading.Event()
        started = time.monotonic()

        def spin() -> None:
            frame = 0
            while not done.wait(_TICK):
                stream.write(f"\r{desc} {_SPIN[frame % len(_SPIN)]} {time.monotonic() - started:.0f}s")
                stream.flush()
                frame += 1

        thread = threading.Thread(target=spin, name="dlconvert-spinner", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()
            stream.write("\r\x1b[K")
            stream.flush()


def progress_bar(desc: str) -> _Progress:
    """A progress factory for a command: tqdm bars counting items, and a spinner (``busy``)."""
    return _Progress(desc)


def print_report(report: ConversionReport, report_path: Path | None) -> None:
    """Save the report where ``--report`` asked and print its summary on stderr."""
    if report_path is not None:
        report.save(report_path)
    click.echo(report.summary(), err=True)
