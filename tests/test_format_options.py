"""A format owns its options: each declares them (``formats/<name>/options.py``), the registry points at them,
``ConvertOptions`` takes them as keywords and the CLI derives its flags from them (issue 14)."""

from __future__ import annotations

import dataclasses
import json
import pickle
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import click
import pytest

import dlconvert
from dlconvert import formats
from dlconvert.cli import main
from dlconvert.cli.convert import convert
from dlconvert.cli.verify import verify
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import OptionError
from dlconvert.formats import FormatSpec, format_option_sets, get_format
from dlconvert.formats._options import FormatOptions, option
from dlconvert.formats.yolo.options import YoloOptions

#: The documented keywords: (format, flag, default, a value away from the default, its command-line words).
DOCUMENTED = {
    "rle": ("coco", "--rle", "auto", "compressed", ["--rle", "compressed"]),
    "yolo_task": ("yolo", "--task", None, "detect", ["--task", "detect"]),
    "precision": ("yolo", "--precision", 6, 4, ["--precision", "4"]),
    "split": ("yolo", "--split", "train", "val", ["--split", "val"]),
    "images_mode": ("yolo", "--images-mode", "none", "copy", ["--images-mode", "copy"]),
    "voc_origin": ("voc", "--voc-origin", 1, 0, ["--voc-origin", "0"]),
    "voc_masks": ("voc", "--voc-masks/--no-voc-masks", True, False, ["--no-voc-masks"]),
}


def _format_params(command: click.Command) -> list[click.Parameter]:
    """The parameters a command shows that it does not declare itself: the formats'."""
    with click.Context(command) as ctx:
        return [param for param in command.get_params(ctx)
                if param not in command.params and param is not command.get_help_option(ctx)]


def _declared() -> dict[str, tuple[str, dataclasses.Field]]:
    return {field.name: (fmt, field) for fmt, declared in format_option_sets().items() for field in fields(declared)}


@pytest.fixture
def fake_format(monkeypatch):
    """A format ``fake`` with one option, ``fake_level`` (``--fake-level``), put in the registry for one test."""

    @dataclasses.dataclass(frozen=True)
    class FakeOptions(FormatOptions):
        fake_level: int = option(3, flag="--fake-level", between=(1, 5), help="How fake (default 3).")

    spec = FormatSpec("fake", "a test format", frozenset({"box"}), {}, read=lambda src, options, report: None,
                      write=lambda dataset, dst, options, report: [], own_options=FakeOptions)
    names = formats._names()
    monkeypatch.setattr(formats, "_names", lambda: sorted([*names, "fake"]))
    monkeypatch.setitem(formats._cache, "fake", spec)
    yield spec
    monkeypatch.undo()
    ConvertOptions.names()  # the model reads the registry again: no fake keyword survives the test


# ==== the registry declares, the CLI derives ==========================================================
def test_the_formats_declare_the_documented_options_with_todays_flags_and_defaults():
    declared = _declared()
    assert sorted(declared) == sorted(DOCUMENTED)
    for name, (fmt, field) in declared.items():
        owner, flag, default, _, _ = DOCUMENTED[name]
        assert (fmt, field.metadata["flag"], field.default) == (owner, flag, default), name
        assert get_format(fmt).own_options is format_option_sets()[fmt]
        assert name in get_format(fmt).options  # a format uses what it declares
        assert ConvertOptions.flag(name) == flag
    assert "split" in get_format("voc").options and "images_mode" in get_format("labelme").options  # YOLO's


@pytest.mark.parametrize("command", [convert, verify], ids=["convert", "verify"])
def test_the_cli_flags_are_the_registry_declarations(command):
    declared = _declared()
    params = _format_params(command)
    assert [param.name for param in params] == list(declared)  # each once, format by format, nothing by hand
    for param in params:
        _, field = declared[param.name]
        flag, *negative = field.metadata["flag"].split("/")
        assert (param.opts, param.secondary_opts) == ([flag], negative)
        assert param.help == field.metadata["help"] and param.default is None  # ConvertOptions applies the default
        choices = [choice for choice in field.metadata["choices"] if choice is not None]
        if isinstance(param.type, click.Choice):
            assert list(param.type.choices) == [str(choice) for choice in choices]
        elif isinstance(param.type, click.IntRange):
            assert (param.type.min, param.type.max) == field.metadata["between"]
        else:
            assert param.is_flag if isinstance(field.default, bool) else param.type is click.STRING


def test_convert_help_reads_as_before_with_every_flag_and_its_help(cli_runner):
    result = cli_runner.invoke(main, ["convert", "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name, (_, field) in _declared().items():  # the flag, its metavar or choices, its help
        flag = re.escape(field.metadata["flag"].replace("/", " / "))
        assert re.search(rf"{flag}(?: \S+){{0,2}} {re.escape(field.metadata['help'])}", text), name
    order = [line.split()[0] for line in result.output.splitlines() if line.startswith("  --")]
    assert order.index("--workers") < order.index("--rle") < order.index("--voc-origin") < order.index("--task") \
        < order.index("--debug")  # the command's own, then each format's (by name), then --debug


def test_a_format_registered_later_gets_its_flag_and_keyword_without_touching_the_cli(fake_format, cli_runner,
                                                                                      sample_dir, tmp_path):
    result = cli_runner.invoke(main, ["convert", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "--fake-level INTEGER RANGE" in result.output
    assert "How fake (default 3)." in result.output
    assert "--fake-level" in cli_runner.invoke(main, ["verify", "--help"], terminal_width=200).output
    assert ConvertOptions(fake_level=4).fake_level == 4 and ConvertOptions().fake_level == 3
    assert ConvertOptions.flag("fake_level") == "--fake-level" and "fake_level" in ConvertOptions.names()
    with pytest.raises(OptionError, match=r"ConvertOptions.fake_level must be an integer from 1 to 5, not 9"):
        ConvertOptions(fake_level=9)
    result = cli_runner.invoke(main, ["convert", str(sample_dir), str(tmp_path / "out"), "--from", "dataloop",
                                      "--to", "coco", "--fake-level", "4"])
    assert result.exit_code == 2 and "--fake-level (ConvertOptions.fake_level) does not apply to a dataloop → coco" \
        in result.stderr
    assert cli_runner.invoke(main, ["convert", str(sample_dir), str(tmp_path / "out"), "--from", "dataloop",
                                    "--to", "coco", "--fake-level", "9"]).exit_code == 2  # out of its range
    assert not (tmp_path / "out").exists()


def test_the_cli_forgets_a_format_that_left_the_registry(fake_format, monkeypatch, cli_runner):
    assert "--fake-level" in cli_runner.invoke(main, ["convert", "--help"]).output
    monkeypatch.undo()  # the registry without the fake format
    assert "--fake-level" not in cli_runner.invoke(main, ["convert", "--help"]).output


def test_two_formats_cannot_declare_one_keyword_or_flag(monkeypatch):
    @dataclasses.dataclass(frozen=True)
    class Clash(FormatOptions):
        precision: int = option(2, flag="--digits", between=(0, 9), help="Digits.")

    @dataclasses.dataclass(frozen=True)
    class FlagClash(FormatOptions):
        depth: int = option(2, flag="--task", between=(0, 9), help="Depth.")

    @dataclasses.dataclass(frozen=True)
    class OwnClash(FormatOptions):
        extras: str = option("x", flag="--extras", help="Extras.")

    @dataclasses.dataclass(frozen=True)
    class Undeclared(FormatOptions):
        depth: int = 2  # not made with option(): no flag, no help

    names = formats._names()
    monkeypatch.setattr(formats, "_names", lambda: sorted([*names, "zz"]))
    for declared, message in ((Clash, "'precision', which yolo declares"), (FlagClash, "'--task', which yolo"),
                              (OwnClash, "'extras', which ConvertOptions"), (Undeclared, "'depth' without option")):
        monkeypatch.setitem(formats._cache, "zz", FormatSpec("zz", "", frozenset(), {}, own_options=declared))
        with pytest.raises(TypeError, match=f"the zz format declares the option {message}"):
            format_option_sets()


def test_an_option_is_declared_with_a_flag_of_its_kind():
    with pytest.raises(TypeError, match="--name/--no-name"):
        option(True, flag="--masks", help="")
    with pytest.raises(TypeError, match="starts with '--'"):
        option(1, flag="-m", help="")


# ==== the Python API keeps every documented keyword =====================================================
def test_every_documented_keyword_works_as_before():
    given = {name: away for name, (_, _, _, away, _) in DOCUMENTED.items()}
    options = ConvertOptions(**given)
    assert {name: getattr(options, name) for name in DOCUMENTED} == given
    assert options.changed() == sorted(DOCUMENTED)
    assert ConvertOptions(yolo_task="detect", precision=4, voc_masks=False, rle="compressed", split="val",
                          images_mode="copy", voc_origin=0) == options
    defaults = ConvertOptions()
    assert {name: getattr(defaults, name) for name in DOCUMENTED} == {n: d[2] for n, d in DOCUMENTED.items()}
    assert defaults.changed() == [] and defaults.indent is True and defaults.extras == {}
    assert ConvertOptions(precision=6, rle="auto") == defaults  # a default given is a default
    assert pickle.loads(pickle.dumps(options)) == options  # options travel to worker processes
    assert pickle.loads(pickle.dumps(defaults)).precision == 6


def test_replace_keeps_every_format_option_it_does_not_change():
    options = ConvertOptions(precision=3, voc_origin=0, rle="uncompressed", indent=False)
    changed = dataclasses.replace(options, yolo_task="detect", images=Path("imgs"))
    assert (changed.yolo_task, changed.precision, changed.voc_origin, changed.rle, changed.indent, changed.images) \
        == ("detect", 3, 0, "uncompressed", False, Path("imgs"))
    assert dataclasses.replace(changed, yolo_task=None, images=None) == options


def test_a_format_options_dataclass_may_be_given_whole():
    options = ConvertOptions(by_format={"yolo": YoloOptions(precision=3)}, split="val")
    assert (options.precision, options.split) == (3, "val")
    assert options.by_format == {"yolo": YoloOptions(precision=3, split="val")}
    with pytest.raises(OptionError, match=r"by_format\['voc'\] must be the voc format's options"):
        ConvertOptions(by_format={"voc": YoloOptions()})


def test_an_unknown_keyword_is_a_type_error_with_the_closest_name():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'presicion' \(did you mean 'precision'"):
        ConvertOptions(presicion=3)
    with pytest.raises(AttributeError, match="no attribute 'presicion'"):
        ConvertOptions().presicion  # noqa: B018


@pytest.mark.parametrize("name, value, message", [
    ("precision", 16, "ConvertOptions.precision must be an integer from 0 to 15, not 16"),
    ("precision", 3.0, "ConvertOptions.precision must be an integer from 0 to 15, not 3.0"),
    ("yolo_task", "classify", "ConvertOptions.yolo_task must be one of None, 'detect', 'segment', 'pose', 'obb', "
                              "not 'classify'"),
    ("images_mode", "move", "ConvertOptions.images_mode must be one of 'none', 'copy', 'link', not 'move'"),
    ("rle", "zip", "ConvertOptions.rle must be one of 'auto', 'compressed', 'uncompressed', not 'zip'"),
    ("voc_origin", True, "ConvertOptions.voc_origin must be one of 0, 1, not True"),
    ("voc_origin", 1.0, "ConvertOptions.voc_origin must be one of 0, 1, not 1.0"),
    ("voc_masks", 0, "ConvertOptions.voc_masks must be one of True, False, not 0"),
    ("split", 5, "ConvertOptions.split must be a folder name, not 5"),
    ("split", "a/b", "the split 'a/b' is not a plain folder name"),
    ("indent", "yes", "ConvertOptions.indent must be one of True, False, not 'yes'"),
])
def test_a_wrong_value_raises_option_error_naming_the_option(name, value, message):
    with pytest.raises(OptionError) as caught:
        ConvertOptions(**{name: value})
    assert str(caught.value) == message or str(caught.value).startswith(message)
    with pytest.raises(OptionError, match=name if name != "split" else "split"):
        dataclasses.replace(ConvertOptions(), **{name: value})


@pytest.mark.parametrize("words", [["--task", "classify"], ["--voc-origin", "2"], ["--rle", "zip"],
                                   ["--images-mode", "move"], ["--precision", "x"], ["--split", "a/b"]])
def test_a_wrong_flag_value_exits_2_naming_the_flag(words, cli_runner, sample_dir, tmp_path):
    result = cli_runner.invoke(main, ["convert", str(sample_dir), str(tmp_path / "out"), "--from", "dataloop",
                                      "--to", "yolo", *words])
    assert result.exit_code == 2, result.output
    assert (words[0] if words[0] != "--split" else "split") in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


# ==== an option of a format not in the conversion is refused, naming its flag ================================
def _a_target_not_using(name: str) -> str:
    return next(spec.name for spec in formats.list_formats()
                if spec.write is not None and spec.name != "dataloop" and name not in spec.options)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_an_option_no_format_of_the_conversion_uses_is_refused_naming_its_flag(name, cli_runner, sample_dir,
                                                                              tmp_path):
    _, flag, _, away, words = DOCUMENTED[name]
    target = _a_target_not_using(name)
    expected = f"{flag} (ConvertOptions.{name}) does not apply to a dataloop → {target} conversion"
    with pytest.raises(OptionError) as caught:
        Converter(options=ConvertOptions(**{name: away})).run(sample_dir, "dataloop", tmp_path / "py", target)
    assert str(caught.value).startswith(expected)
    with pytest.raises(OptionError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        dlconvert.write(dlconvert.read(sample_dir), tmp_path / "api", target, **{name: away})
    result = cli_runner.invoke(main, ["convert", str(sample_dir), str(tmp_path / "cli"), "--from", "dataloop",
                                      "--to", target, *words])
    assert result.exit_code == 2 and expected in result.stderr and result.stderr.count("\n") == 1
    result = cli_runner.invoke(main, ["verify", str(sample_dir), "--from", "dataloop", "--via", target, *words])
    assert result.exit_code == 2 and expected in result.stderr
    assert not any((tmp_path / name).exists() for name in ("py", "api", "cli"))


def test_a_flag_of_a_format_in_the_conversion_reaches_its_writer(cli_runner, sample_dir, tmp_path):
    result = cli_runner.invoke(main, ["convert", str(sample_dir), str(tmp_path / "out"), "--from", "dataloop",
                                      "--to", "yolo", "--task", "detect", "--precision", "2", "--split", "val"])
    assert result.exit_code == 0, result.output
    lines = [line for path in sorted((tmp_path / "out" / "labels" / "val").rglob("*.txt"))
             for line in path.read_text().splitlines()]
    assert lines and all(len(line.split()) == 5 and all(len(v.split(".")[1]) == 2 for v in line.split()[1:])
                         for line in lines)


# ==== the layering: the model finds format options in the registry on first need ===========================
def test_the_model_loads_the_formats_only_when_a_format_option_is_used():
    code = ("import sys, json\nfrom dlconvert.dataset import ConvertOptions\n"
            "loaded = lambda: any(m.startswith('dlconvert.formats') for m in sys.modules)\n"
            "steps = [loaded()]\nConvertOptions(images='x', indent=False)\nsteps.append(loaded())\n"
            "ConvertOptions(precision=3)\nsteps.append(loaded())\nprint(json.dumps(steps))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parent.parent, timeout=120)
    assert json.loads(result.stdout) == [False, False, True]
