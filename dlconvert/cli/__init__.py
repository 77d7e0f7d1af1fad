"""The ``dlconvert`` command line: one module per command, registered on one group here.

Errors print one line, ``error: FILE:PLACE: what``, and exit 1 (2 for usage errors and options that
do not apply, 3 for a bug); ``--debug`` (before or after the command's name) shows the traceback too.
Progress bars go to stderr and only when it is a terminal. A closed pipe (``dlconvert formats |
head -1``) ends the command quietly.
"""

from __future__ import annotations

import re
import traceback

import click

from ..errors import DlconvertError, OptionError
from ._options import EXIT_DATA_ERROR, EXIT_INTERNAL_ERROR, EXIT_USAGE_ERROR

__all__ = ["main"]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _Group(click.Group):
    """Turns every failure into one line on stderr and an exit code, unless ``--debug``."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, BrokenPipeError):
            raise  # click prints usage errors, and leaves quietly when the reader of stdout went away
        except OptionError as exc:
            self._fail(ctx, f"error: {exc}", EXIT_USAGE_ERROR)
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


_DEBUG_HELP = "Show the traceback of an error."


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help=_DEBUG_HELP)
@click.version_option(package_name="dlconvert")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Convert, render, validate and summarise annotation datasets: Dataloop, COCO, YOLO, VOC, WebVTT, CVAT, LabelMe,
    Label Studio (and Labelbox, read). `dlconvert formats` says what each holds."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _register_commands() -> None:
    from .convert import convert
    from .demo import demo
    from .detect import detect
    from .inspect import formats, info, validate
    from .platform import download, upload
    from .render import render
    from .verify import verify

    for command in (info, validate, convert, verify, render, formats, detect, demo, download, upload):
        command.params.append(click.Option(["--debug"], is_flag=True, expose_value=False, callback=_set_debug,
                                           help=_DEBUG_HELP))
        main.add_command(command)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``dlconvert convert --debug …``: the flag after the command's name, as before it."""
    if value:
        ctx.ensure_object(dict)["debug"] = True


_register_commands()
