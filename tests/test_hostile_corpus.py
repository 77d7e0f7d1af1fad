"""Broken and hostile files of every format, through the Python API and the CLI (issue #8).

The corpus (``tests/hostile``) mutates valid fixtures of every format — truncated files, wrong
types in every field, missing keys, NaN/1e300/negative coordinates, absurd image sizes, polygons
of 0–2 points, bad RLE, bad mask data URLs, unknown types, duplicate ids, parent cycles, frames
out of order, control characters in labels and file names, ``../`` and absolute paths, symlinks
out of the input and output, XML entities and billion laughs, bad WebVTT timings/BOMs/NULs, YOLO
lines with commas or extra columns, empty files, folders where files belong, broken label maps.

Each case runs in a worker process under an address-space limit and a time limit, and must give
a ``DlconvertError`` naming the file (and the place, for a broken record) or convert; the CLI must
answer with exit 1 and one ``error:`` line (exit 3, an internal error, fails the case); nothing
may be written outside the output folder or left half-written; with ``--on-error skip`` the good
records still convert and every bad one is in a balanced report. ``make test`` runs every case
that ever found a bug plus a seeded sample; ``make fuzz`` (``python -m hostile.fuzz``) runs all of them
and random ones for as long as asked. A failing case replays with
``PYTHONPATH=tests python -m hostile.fuzz --replay CASE_ID``.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hostile import KNOWN_BUGS, REGRESSIONS, WorkerPool, corpus, known_bug, op_of, select_cases
from hostile.check import Layout, _Checker, _shown, check_cli_output, prepare
from hostile.tree import snapshot
from realfiles import requires_real_files

MASTER = 0
SIZE = int(os.environ.get("HOSTILE_CASES", "1000"))
ALL_CASES = corpus(MASTER)
CASES = select_cases(ALL_CASES, SIZE, MASTER)
WORKERS = max(2, min(4, os.cpu_count() or 2))


def _param(case):
    bug = known_bug(case)
    marks = [pytest.mark.xfail(strict=True, reason=f"{bug.key}: {bug.reason}")] if bug else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    """Every selected case, run once in worker processes (in parallel, each with its own limits)."""
    return WorkerPool(workers=WORKERS).run(CASES)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case(case, results):
    result = results[case.id]
    assert not result["violations"], (
        f"{case.id} ({case.fmt} → {case.to}; {case.note or 'no note'}) broke:\n  "
        + "\n  ".join(result["violations"])
        + f"\nreplay: PYTHONPATH=tests .venv/bin/python -m hostile.fuzz --replay {case.id}")


@requires_real_files
def test_the_corpus_covers_every_format_with_enough_cases():
    counts = Counter(case.fmt for case in CASES)
    assert len(CASES) >= 300
    assert set(counts) == {"dataloop", "coco", "voc", "vtt", "yolo"}
    assert min(counts.values()) >= 50, counts


def test_the_corpus_is_the_same_for_the_same_seed():
    again = corpus(MASTER)
    assert [c.id for c in again] == [c.id for c in ALL_CASES]
    assert all(a.tree == b.tree and a.to == b.to for a, b in zip(again[:200], ALL_CASES[:200], strict=True))


@requires_real_files
def test_every_regression_is_still_generated_and_selected():
    notes = {case.id: case.note for case in ALL_CASES}
    selected = {case.id for case in CASES}
    changed = [(i, note) for group in REGRESSIONS.values() for i, note in group.items() if notes.get(i) != note]
    assert not changed, f"the generator no longer makes these regression cases as they were: {changed[:5]}"
    by_id = {case.id: case for case in ALL_CASES}
    dropped = [i for group in REGRESSIONS.values() for i in group if i not in selected and not known_bug(by_id[i])]
    assert not dropped


@requires_real_files
def test_every_mutation_the_issue_lists_is_in_the_selection():
    ops = {op_of(case) for case in CASES}
    wanted = {
        "truncated", "wrong-type", "missing-key", "item-size", "geometry", "rle", "polygon", "duplicate-id",
        "parent-cycle", "frames", "label", "item-filename", "file-name", "symlink-outside", "symlink-folder",
        "xxe-file", "billion-laughs", "timing", "bom", "nul", "commas", "extra-column", "empty", "directory",
        "dst-link", "image-bomb", "png-bomb", "labelmap-given", "pose-child-type", "user-metadata",
    }
    assert wanted <= ops, wanted - ops


def test_known_bugs_are_all_selected_once():
    keys = [bug.key for case in CASES if (bug := known_bug(case))]
    assert sorted(keys) == sorted(bug.key for bug in KNOWN_BUGS if bug.in_corpus)


# -- the real command line, in its own process ------------------------------------------------------
SUBPROCESS_OPS = ("truncated", "wrong-type", "geometry", "rle", "xxe-file", "billion-laughs", "timing", "payload",
                  "commas", "image-bomb", "item-filename", "dst-link", "dst-full", "symlink-outside", "labelmap-given")


def _subprocess_cases(count: int = 24):
    """A few cases of each mutation in SUBPROCESS_OPS, one format after another."""
    by_op: dict[str, list] = {op: [] for op in SUBPROCESS_OPS}
    seen = set()
    for case in CASES:
        op = op_of(case)
        if op in by_op and (case.fmt, op) not in seen and known_bug(case) is None:
            seen.add((case.fmt, op))
            by_op[op].append(case)
    picked = []
    while len(picked) < count and any(by_op.values()):
        for op in SUBPROCESS_OPS:
            if by_op[op] and len(picked) < count:
                picked.append(by_op[op].pop(0))
    return picked


def _dlconvert() -> list[str]:
    script = Path(sys.executable).with_name("dlconvert")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dlconvert.cli"]


def _limit_memory():  # runs in the child before exec
    limit = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in _subprocess_cases()])
def test_case_through_the_real_command_line(case, results, tmp_path):
    """The installed ``dlconvert`` script, as a user runs it: same answer as the API, one line, no traceback."""
    layout: Layout = prepare(case, tmp_path / "case")
    dst = layout.dst
    args = [*_dlconvert(), "convert", str(layout.src), str(dst), "--from", case.fmt, "--to", case.to]
    if case.dst == "full":
        args.append("--overwrite")
    if case.labels:
        args += ["--labels", str(layout.inp / case.labels)]
    skips = layout.skips(dst)
    before = snapshot(layout.root, skip=skips)
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, preexec_fn=_limit_memory,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    check = _Checker(case, layout)
    api = results[case.id]
    check_cli_output(check, "subprocess", done.returncode, done.stdout, done.stderr, api["outcome"], None)
    check.check_disk(before, dst, done.returncode == 0, "subprocess")
    if done.returncode == 1 and api["error"] and "/case/" in api["error"]:
        # the API's error names the same file and place, under the worker's temporary folder
        said = _shown(api["error"].split("/case/", 1)[1])
        assert said[:80] in done.stderr, (done.stderr, api["error"])
    assert not check.violations, "\n".join(check.violations)
    shutil.rmtree(layout.root, ignore_errors=True)
