"""A format's own options: one small frozen dataclass per format, declared in the format's package.

The rule — adding a format with options is adding one module, ``formats/<name>/options.py``:

* declare a frozen dataclass subclassing :class:`FormatOptions`, one field per option made with
  :func:`option` (its default, its command-line flag, its help, the values it allows — ``choices``,
  an integer range ``between``, or a ``check`` — which are checked when the dataclass is made);
* point the format's ``FORMAT`` at it: ``FormatSpec(..., own_options=YoloOptions)``.

Nothing else changes: ``ConvertOptions`` takes the fields as keywords and attributes
(``ConvertOptions(precision=4).precision``), ``dlconvert convert`` and ``dlconvert verify`` take
the flags (derived from :func:`dlconvert.formats.format_option_sets`; no edit to ``cli/``), and a
conversion whose two formats do not use an option set away from its default refuses it, naming
its flag (``check_options``). No edit to ``dataset.py`` or ``cli/``.

Keyword names and flags are one namespace: two formats cannot declare the same name or flag, nor a
name of ``ConvertOptions``' own (``images``, ``labels``, ``indent``, ``extras``). A format that uses
an option another format declares (VOC writes ``ImageSets/Main/<split>.txt`` with YOLO's
``split``; LabelMe copies images with YOLO's ``images_mode``) lists its name in
``FormatSpec.options``. A value out of range raises :class:`~dlconvert.errors.OptionError`
naming it as the Python API spells it (``ConvertOptions.precision must be …``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from ..errors import OptionError

__all__ = ["FormatOptions", "option"]


def option(default: Any, *, flag: str, help: str, choices: tuple = (), between: tuple[int, int] | None = None,
           check: Callable[[Any], None] | None = None) -> Any:
    """A field of a :class:`FormatOptions` dataclass: its default, its flag (``--voc-masks/--no-voc-masks`` for
    a boolean), the help of that flag, and what it allows: one of ``choices`` (of the default's kind), an
    integer in the inclusive range ``between``, or what ``check(value)`` accepts (it raises OptionError)."""
    if isinstance(default, bool) and "/" not in flag:
        raise TypeError(f"the flag of a boolean option is --name/--no-name, not {flag!r}")
    if not flag.startswith("--"):
        raise TypeError(f"an option's flag starts with '--', not {flag!r}")
    return field(default=default, metadata={"flag": flag, "help": help, "choices": tuple(choices),
                                            "between": between, "check": check})


@dataclass(frozen=True)
class FormatOptions:
    """The options one format declares (subclass it in ``formats/<name>/options.py``; see the module docstring)."""

    def __post_init__(self) -> None:
        for declared in fields(self):
            value, meta = getattr(self, declared.name), declared.metadata
            if meta.get("choices"):
                _check_choice(declared.name, value, meta["choices"])
            if meta.get("between") is not None:
                low, high = meta["between"]
                if type(value) is not int or not low <= value <= high:
                    raise OptionError(f"ConvertOptions.{declared.name} must be an integer from {low} to {high}, "
                                      f"not {value!r}")
            if meta.get("check") is not None:
                meta["check"](value)

    def changed(self) -> list[str]:
        """The names of the options set away from their defaults, in declaration order."""
        return [declared.name for declared in fields(self) if getattr(self, declared.name) != declared.default]


def _check_choice(name: str, value: Any, allowed: tuple) -> None:
    """Refuse a value that is not one of ``allowed``, of the same kind (:func:`_same_kind`)."""
    if not any(value == choice and _same_kind(value, choice) for choice in allowed):
        shown = ", ".join(repr(choice) for choice in allowed)
        raise OptionError(f"ConvertOptions.{name} must be one of {shown}, not {value!r}")


def _same_kind(value: Any, choice: Any) -> bool:
    """``True`` is not the choice ``1``, nor ``1`` the choice ``True``; any ``str`` is a string choice."""
    if isinstance(choice, str):
        return isinstance(value, str)
    return type(value) is type(choice)
