"""The ``dlconvert`` command line: one module per command, registered on one group here.

Errors print one line, ``error: FILE:PLACE: what``, and exit 1 (2 for usage errors); ``--debug``
shows the traceback instead. Progress bars go to stderr and only when it is a terminal.
"""

from __future__ import annotations

import re
import traceback

import click

from ..errors import DlconvertError
from ._options import EXIT_DATA_ERROR, EXIT_INTERNAL_ERROR

__all__ = ["main"]

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


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


def _register_commands() -> None:
    from ..platform.commands import download, upload
    from .convert import convert
    from .demo import demo
    from .inspect import formats, info, validate
    from .render import render
    from .verify import verify

    for command in (info, validate, convert, verify, render, formats, demo, download, upload):
        main.add_command(command)


_register_commands()
