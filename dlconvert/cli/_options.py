"""Options and exit codes every ``dlconvert`` command shares: formats, label maps, workers, and each format's
own flags (derived from the registry: a format declares them, see :mod:`dlconvert.formats._options`)."""

from __future__ import annotations

import contextlib
from dataclasses import Field, fields
from pathlib import Path
from typing import Any

import click

from ..formats import format_names

EXIT_DATA_ERROR = 1
EXIT_USAGE_ERROR = 2
EXIT_INTERNAL_ERROR = 3
MAX_WORKERS = 1024

_FORMAT_NAMES = format_names()  # the registry: every format dlconvert has, sorted


def parallel_options(command):
    """``--workers`` and ``--scheduler``: where the per-item work runs."""
    command = click.option("--scheduler", metavar="ADDRESS", default=None,
                           help="Run the per-item work on this Dask scheduler (tcp://host:8786; needs "
                                "dlconvert[dask]); its workers must see SRC and DST at the same paths.")(command)
    return click.option("--workers", type=click.IntRange(1, MAX_WORKERS), default=None,
                        help="Worker processes (default: all cores; with --scheduler: the cluster's threads).")(command)


@contextlib.contextmanager
def executor_for(scheduler: str | None):
    """``(executor, threads)`` of the Dask scheduler when one is named, else ``(None, None)``: our own pool."""
    if scheduler is None:
        yield None, None
        return
    from ..parallel import dask_executor

    with dask_executor(scheduler) as pair:
        yield pair


def format_option(flag: str, dest: str, help_text: str):
    """A required format to write; its help lists the formats (one dlconvert only reads is a usage error)."""
    return click.option(flag, dest, required=True, metavar="FORMAT", callback=writable_format,
                        help=f"{help_text} One of: {', '.join(_FORMAT_NAMES)} (those dlconvert writes).",
                        type=click.Choice(_FORMAT_NAMES, case_sensitive=False))


def writable_format(context: click.Context, parameter: click.Parameter, name: str | None) -> str | None:
    """Refuse (exit 2) a format that dlconvert reads but does not write, naming those it writes."""
    from ..formats import get_format, list_formats

    if name is not None and get_format(name).write is None:
        writable = ", ".join(spec.name for spec in list_formats() if spec.write is not None)
        raise click.BadParameter(f"dlconvert reads {name} but does not write it; it writes {writable}",
                                 ctx=context, param=parameter)
    return name


def source_format_option():
    """``--from``: the source's format, detected from SRC when not given (or given as ``auto``)."""
    return click.option("--from", "from_format", default=None, metavar="FORMAT",
                        type=click.Choice([*_FORMAT_NAMES, "auto"], case_sensitive=False),
                        help=f"Format of SRC (default: detected from SRC, see `dlconvert detect`). "
                             f"One of: {', '.join(_FORMAT_NAMES)}.")


def convert_options(images: Path | None, labels: Path | None, **format_options):
    from ..dataset import ConvertOptions
    from ..labels import LabelMap

    given = {key: value for key, value in format_options.items() if value is not None}
    return ConvertOptions(images=images, labels=LabelMap.load(labels) if labels else None, **given)


class FormatFlagsCommand(click.Command):
    """A command that also takes every format's own flags (``--rle``, ``--task`` …: :func:`format_flags`).

    They follow the options the command declares itself, and are derived from the registry when
    the command parses its arguments or shows its help, not when it is defined: defining it loads
    no format, and a format registered later has its flags there.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._format_flags_at = len(self.params)  # options added later (--debug) come after the formats'
        self._format_flags: tuple[tuple, list[click.Parameter]] = ((), [])

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        return [*params[:self._format_flags_at], *self._flags(), *params[self._format_flags_at:]]

    def _flags(self) -> list[click.Parameter]:
        """The same objects for as long as the registry declares the same options (click compares by identity)."""
        from ..formats import format_option_sets

        declared = tuple(format_option_sets().items())
        if declared != self._format_flags[0]:
            self._format_flags = declared, format_flags()
        return self._format_flags[1]


def format_flags() -> list[click.Option]:
    """The flags of the options every format declares (``FormatSpec.own_options``), format by format, each
    as declared: flag, help, choices or integer range; the default is None (not given), so that
    ``ConvertOptions`` applies the format's own."""
    return [click.Option(decls, **settings) for decls, settings in _declared_flags()]


def _declared_flags() -> list[tuple[list[str], dict[str, Any]]]:
    from ..formats import format_option_sets

    return [_flag(option) for declared in format_option_sets().values() for option in fields(declared)]


def _flag(option: Field) -> tuple[list[str], dict[str, Any]]:
    """The declarations and settings of the click option of one declared field."""
    flag, choices = option.metadata["flag"], [c for c in option.metadata["choices"] if c is not None]
    settings: dict[str, Any] = {"default": None, "help": option.metadata["help"]}
    if option.metadata["between"] is not None:
        settings["type"] = click.IntRange(*option.metadata["between"])
    elif choices and not isinstance(option.default, bool):  # a boolean is its --x/--no-x pair
        by_text = {str(choice): choice for choice in choices}
        settings["type"] = click.Choice(list(by_text))
        settings["callback"] = lambda ctx, param, value: None if value is None else by_text[value]
    return [flag, option.name], settings
