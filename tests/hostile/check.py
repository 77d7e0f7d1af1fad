"""The properties every hostile case must meet, through the Python API and the CLI.

:func:`run_case` builds a case on disk and returns the list of violated properties (empty when
the case passes):

* a :class:`DlconvertError` (never another exception, a hang or a memory blow-up) that names
  the file (``path``) and, for a broken record, the place (``where``);
* nothing written outside the output folder, nothing changed in the input or beside it, no
  ``.tmp`` staging folder left, the output folder absent (or as it was) after a failure;
* with ``on_error="skip"``: no abort on a bad record, the report balanced
  (``in == out + skipped``), the bad record listed at the place the failing run named, and every
  good record of the seed still read;
* the CLI: exit 1 and one line ``error: FILE:PLACE: …`` for bad data (exit 3, an internal error,
  is a violation), no traceback without ``--debug``, a balanced ``--report``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from dlconvert._destination import MANIFEST
from dlconvert._io import write_manifest
from dlconvert.converter import Converter
from dlconvert.dataset import ConvertOptions
from dlconvert.errors import DlconvertError, NothingConvertedError, OutputError
from dlconvert.formats import get_format
from dlconvert.labels import LabelMap
from dlconvert.report import ConversionReport

from .mutations import OUTSIDE_KEY, Case
from .seeds import SEEDS
from .tree import build_tree, snapshot

__all__ = ["CaseTimeout", "Layout", "prepare", "run_case"]


class CaseTimeout(BaseException):
    """Raised by the worker's alarm when a case runs too long (a hang is a violation)."""


@dataclass
class Layout:
    """Where a case lives on disk."""

    root: Path
    inp: Path
    outside: Path
    work: Path
    src: Path
    dst: Path

    def skips(self, dst: Path) -> tuple[Path, ...]:
        """What a run may change: the output folder and, when it is a link, the folder it points to."""
        return (dst, Path(os.path.realpath(dst))) if dst == self.dst and dst.is_symlink() else (dst,)


def prepare(case: Case, root: Path) -> Layout:
    """Build the case under ``root`` (emptied first): ``in/``, ``outside/``, ``work/`` and the output."""
    if root.exists() or root.is_symlink():
        shutil.rmtree(root)
    inp, outside, work = root / "in", root / "outside", root / "work"
    for folder in (inp, outside, work):
        folder.mkdir(parents=True)
    (outside / "keep.txt").write_bytes(b"outside: never touched")
    (work / "keep.txt").write_bytes(b"beside the output: never touched")
    inside = {k: v for k, v in case.tree.items() if not k.startswith(OUTSIDE_KEY)}
    beyond = {k[len(OUTSIDE_KEY):]: v for k, v in case.tree.items() if k.startswith(OUTSIDE_KEY)}
    build_tree(beyond, outside, outside)
    build_tree(inside, inp, outside)
    dst = work / "out"
    if case.dst == "full":  # a previous dlconvert output, which --overwrite may replace
        dst.mkdir()
        (dst / "old.txt").write_bytes(b"old output")
        write_manifest(dst)
    elif case.dst == "link":
        (outside / "target").mkdir()
        os.symlink(outside / "target", dst)
    src = inp.joinpath(*case.src.split("/")) if case.src else inp
    return Layout(root, inp, outside, work, src, dst)


#: Errors that are about the whole run, not one record: an unsafe output, a target that could write none of
#: the annotations read (under "fail"; the "skip" run writes the items and reports every annotation).
_NOT_A_RECORD = (OutputError, NothingConvertedError)


def _good_read(report: ConversionReport) -> int:
    """Annotations read well: all counted in, less the bad records (skipped issues with a file)."""
    bad = sum(1 for issue in report.issues if issue.kind == "skipped" and issue.path is not None)
    return sum(report.annotations_in.values()) - bad


@functools.cache
def seed_read(fmt: str, name: str) -> int:
    """Annotations a reader gets from the unmutated seed."""
    seed = next(s for s in SEEDS() if s.fmt == fmt and s.name == name)
    with tempfile.TemporaryDirectory(prefix="hostile-seed-") as tmp:
        case = Case("seed", fmt, name, dict(seed.tree), seed.src, "dataloop")
        layout = prepare(case, Path(tmp) / "case")
        report = Converter(on_error="fail").run(layout.src, fmt, layout.dst, "dataloop")
    return _good_read(report)


def _tmp_leftovers(*folders: Path) -> list[str]:
    found = []
    for folder in folders:
        if folder.is_dir():
            found.extend(str(p) for p in folder.rglob("*.tmp"))
    return found


def _inside(path: Path, root: Path) -> bool:
    real = Path(os.path.realpath(path))
    return real == root or root in real.parents


class _Checker:
    def __init__(self, case: Case, layout: Layout) -> None:
        self.case = case
        self.layout = layout
        self.violations: list[str] = []

    def fail(self, message: str) -> None:
        self.violations.append(message)

    # -- the error itself --------------------------------------------------------------------
    def check_error(self, error: DlconvertError, how: str) -> None:
        if not error.path:
            self.fail(f"{how}: the error names no file: {error}")
        if self.case.scope == "record" and not error.where and not isinstance(error, _NOT_A_RECORD):
            self.fail(f"{how}: a broken record but the error names no place in the file: {error}")
        if "\n" in error.message or "\r" in error.message:
            self.fail(f"{how}: the error message is more than one line: {error.message!r}")

    # -- what is on disk after a run ------------------------------------------------------------
    def check_disk(self, before: dict, dst: Path, succeeded: bool, how: str) -> None:
        layout, case = self.layout, self.case
        after = snapshot(layout.root, skip=layout.skips(dst))
        changed = sorted(set(before.items()) ^ set(after.items()))
        if changed:
            self.fail(f"{how}: files outside the output folder changed: {sorted({k for k, _ in changed})[:5]}")
        leftovers = _tmp_leftovers(layout.work, layout.outside)
        if leftovers:
            self.fail(f"{how}: staging files left behind: {leftovers[:3]}")
        if not succeeded:
            if case.dst is None and (dst.exists() or dst.is_symlink()):
                self.fail(f"{how}: the run failed but left the output folder {dst}")
            elif case.dst == "full" and sorted(p.name for p in dst.iterdir()) != [MANIFEST, "old.txt"]:
                self.fail(f"{how}: the run failed but changed the existing output folder")
            elif case.dst == "link" and (not dst.is_symlink() or any((layout.outside / "target").iterdir())):
                self.fail(f"{how}: the run failed but changed the linked output folder")
            return
        if case.dst == "link" and dst == layout.dst and not dst.is_symlink():
            self.fail(f"{how}: the linked output folder was replaced instead of written through")
        root = Path(os.path.realpath(dst))
        if not root.is_dir():
            self.fail(f"{how}: the run succeeded but wrote no output folder")
            return
        for path in root.rglob("*"):
            if not _inside(path, root):
                self.fail(f"{how}: {path} in the output resolves outside it (to {os.path.realpath(path)})")
                break

    def check_report(self, report: ConversionReport, dst: Path, how: str) -> None:
        unbalanced = report.unbalanced()
        if unbalanced:
            self.fail(f"{how}: the report does not balance (type: in, out, skipped): {unbalanced}")
        root = Path(os.path.realpath(dst))
        for output in report.outputs:
            if not _inside(Path(output), root):
                self.fail(f"{how}: output {output} is outside the output folder")
        case = self.case
        if case.lost is not None and case.scope in ("record", "output"):
            expected = seed_read(case.fmt, case.seed) - case.lost
            good = _good_read(report)
            if good < expected:
                self.fail(f"{how}: good records were lost: {good} annotations read, the seed has "
                          f"{expected + case.lost} and the mutation may cost {case.lost}")


def _options(layout: Layout, case: Case) -> ConvertOptions:
    labels = LabelMap.load(layout.inp / case.labels) if case.labels else None
    return ConvertOptions(labels=labels, **case.options)


def _convert(layout: Layout, case: Case, dst: Path, on_error: str):
    return Converter(on_error=on_error, options=_options(layout, case)).run(layout.src, case.fmt, dst, case.to,
                                                                          overwrite=case.dst == "full")


def _crash(how: str, exc: BaseException) -> str:
    if isinstance(exc, CaseTimeout):
        return f"{how}: timed out (a hang or a runaway loop)"
    if isinstance(exc, MemoryError):
        return f"{how}: MemoryError (memory is not bounded)"
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return f"{how}: crashed with {type(exc).__name__}: {exc}\n" + "".join(lines[-12:])


def run_case(case: Case, workdir: Path, *, cli: bool = True) -> dict:
    """Run every check of ``case`` under ``workdir``; returns ``{"id", "outcome", "error", "violations", …}``."""
    started = time.perf_counter()
    layout = prepare(case, workdir / "case")
    check = _Checker(case, layout)
    result = {"id": case.id, "outcome": None, "error": None, "violations": check.violations}
    # 1. the Python API, stopping at the first problem
    before = snapshot(layout.root, skip=layout.skips(layout.dst))
    error: DlconvertError | None = None
    try:
        report = _convert(layout, case, layout.dst, "fail")
    except DlconvertError as exc:
        error = exc
        result.update(outcome="error", error=str(exc))
        check.check_error(exc, "api")
        check.check_disk(before, layout.dst, False, "api")
    except BaseException as exc:  # every other exception is the finding
        result.update(outcome="crash")
        check.fail(_crash("api", exc))
        if isinstance(exc, CaseTimeout):
            return _finish(result, started, workdir)
    else:
        result.update(outcome="ok")
        check.check_report(report, layout.dst, "api")
        check.check_disk(before, layout.dst, True, "api")
    # 2. the Python API, skipping bad records
    if case.dst is None:
        dst = layout.work / "out-skip"
        before = snapshot(layout.root, skip=dst)
        try:
            report = _convert(layout, case, dst, "skip")
        except DlconvertError as exc:
            check.check_error(exc, "api skip")
            check.check_disk(before, dst, False, "api skip")
            if not _source_refused(layout, case):
                check.fail(f"api skip: stopped on a bad record instead of skipping it: {exc}")
        except BaseException as exc:
            check.fail(_crash("api skip", exc))
            if isinstance(exc, CaseTimeout):
                return _finish(result, started, workdir)
        else:
            check.check_report(report, dst, "api skip")
            check.check_disk(before, dst, True, "api skip")
            if error is not None and not isinstance(error, NothingConvertedError) and not _listed(report, error):
                check.fail(f"api skip: the bad record of the failing run is not in the report: {error}")
    # 3. the CLI, both policies
    if cli:
        _check_cli(case, layout, check, error, result)
    return _finish(result, started, workdir)


def _finish(result: dict, started: float, workdir: Path) -> dict:
    result["seconds"] = round(time.perf_counter() - started, 3)
    shutil.rmtree(workdir / "case", ignore_errors=True)
    return result


def _source_refused(layout: Layout, case: Case) -> bool:
    """Whether the reader refuses the source as a whole (before any item), even when skipping."""
    if not layout.src.exists():
        return True
    try:
        get_format(case.fmt).read(layout.src, _options(layout, case), ConversionReport(on_error="skip"))
    except DlconvertError:
        return True
    except Exception:  # reported by the runs themselves
        return True
    return False


def _listed(report: ConversionReport, error: DlconvertError) -> bool:
    return any(issue.path == error.path and issue.where == error.where for issue in report.issues)


def _check_cli(case: Case, layout: Layout, check: _Checker, error: DlconvertError | None, result: dict) -> None:
    from click.testing import CliRunner

    from dlconvert.cli import main

    runner = CliRunner()
    dst = layout.work / "out-cli"
    args = ["convert", str(layout.src), str(layout.dst if case.dst else dst), "--from", case.fmt, "--to", case.to]
    if case.dst == "full":
        args.append("--overwrite")
    if case.labels:
        args.extend(["--labels", str(layout.inp / case.labels)])
    if case.dst:  # the API run already replaced it: build the case again for the CLI
        layout = prepare(case, layout.root)
        check.layout = layout
        dst = layout.dst
    before = snapshot(layout.root, skip=layout.skips(dst))
    outcome = runner.invoke(main, args)
    if not layout.src.exists():  # click refuses a missing SRC (or a dangling link): a usage error
        if outcome.exit_code != 2 or "does not exist" not in outcome.stderr:
            check.fail(f"cli: a missing SRC gave exit {outcome.exit_code}: {outcome.stderr[-300:]!r}")
        return
    check_cli_output(check, "cli", outcome.exit_code, outcome.stdout, outcome.stderr, result["outcome"], error,
                     outcome.exception)
    check.check_disk(before, dst, outcome.exit_code == 0, "cli")
    if case.dst is None:
        dst = layout.work / "out-cli-skip"
        report_path = layout.work / "report.json"
        before = snapshot(layout.root, skip=dst)
        before.pop("work/report.json", None)
        outcome = runner.invoke(main, [*args[:2], str(dst), *args[3:], "--on-error", "skip", "--report",
                                       str(report_path)])
        if outcome.exit_code not in (0, 1):
            check.fail(f"cli skip: exit code {outcome.exit_code}: {outcome.stderr.strip()[-300:]}")
        if "Traceback" in outcome.stderr + outcome.stdout:
            check.fail("cli skip: a traceback without --debug")
        if report_path.exists():
            saved = json.loads(report_path.read_bytes())
            if not saved.get("balanced"):
                check.fail(f"cli skip: the saved report does not balance: {saved.get('annotations_in')} in, "
                           f"{saved.get('annotations_out')} out, {saved.get('skipped')} skipped")
            report_path.unlink()
        elif outcome.exit_code == 0:
            check.fail("cli skip: succeeded but saved no report")
        after = snapshot(layout.root, skip=dst)
        after.pop("work/report.json", None)
        if set(before.items()) ^ set(after.items()):
            check.fail("cli skip: files outside the output folder changed")
    if case.fmt == "dataloop" and case.dst is None and layout.src.exists():
        _check_other_commands(case, layout, check)


def _check_other_commands(case: Case, layout: Layout, check: _Checker) -> None:
    """``info``, ``validate`` and ``render`` read Dataloop exports too: bad data is exit 1, never a crash."""
    from click.testing import CliRunner

    from dlconvert.cli import main

    runner = CliRunner()
    out = layout.work / "rendered"
    before = snapshot(layout.root, skip=out)
    for args in (["info", str(layout.src)], ["validate", str(layout.src)],
                 ["render", str(layout.src), str(out), "--from", "dataloop", "--view", "mask", "--view", "instance"]):
        outcome = runner.invoke(main, args)
        if outcome.exit_code not in (0, 1, 2) or "Traceback" in outcome.stderr + outcome.stdout:
            check.fail(f"cli {args[0]}: exit {outcome.exit_code}: {outcome.stderr.strip()[-400:]}")
        elif outcome.exit_code == 1 and args[0] != "validate" and not outcome.stderr.startswith("error: "):
            check.fail(f"cli {args[0]}: exit 1 without an 'error:' line: {outcome.stderr.strip()[-300:]}")
    if set(before.items()) ^ set(snapshot(layout.root, skip=out).items()):
        check.fail("cli render: files outside its output folder changed")
    if _tmp_leftovers(layout.work):
        check.fail("cli render: staging files left behind")
    shutil.rmtree(out, ignore_errors=True)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _shown(text: str) -> str:
    """``text`` as the CLI prints it: control characters escaped, on one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def check_cli_output(check: _Checker, how: str, code: int, stdout: str, stderr: str, api_outcome: str | None,
                     api_error: DlconvertError | None, exception: BaseException | None = None) -> None:
    """Exit code and stderr of a ``dlconvert convert`` run against what the API did."""
    if code == 3:
        check.fail(f"{how}: exit 3 (internal error): {stderr.strip()[-400:]}")
        return
    if exception is not None and not isinstance(exception, SystemExit):
        check.fail(f"{how}: an exception escaped the CLI: {type(exception).__name__}: {exception}")
    if "Traceback" in stderr + stdout:
        check.fail(f"{how}: a traceback without --debug")
    if api_outcome == "ok" and code != 0:
        check.fail(f"{how}: exit {code} where the API succeeded: {stderr.strip()[-300:]}")
    if api_outcome == "error":
        lines = [line for line in stderr.splitlines() if line.strip()]
        if code != 1:
            check.fail(f"{how}: exit {code} for bad data (expected 1): {stderr.strip()[-300:]}")
        if len(lines) != 1 or not lines[0].startswith("error: "):
            check.fail(f"{how}: expected one line 'error: …' on stderr, got {stderr[-300:]!r}")
        elif api_error is not None and _shown(api_error.message)[:40] not in lines[0]:
            check.fail(f"{how}: the CLI says {lines[0][:200]!r}, the API said {str(api_error)[:200]!r}")
