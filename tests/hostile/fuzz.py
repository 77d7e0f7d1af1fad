"""Fuzz dlconvert with hostile input for a given time: ``make fuzz`` (issue #8).

First the whole seeded corpus of ``tests/hostile`` (every mutation of every seed, a few thousand
cases), then random cases — corpus cases with random structure-aware damage stacked on — until the
time is up. Every case runs in a worker process under an address-space limit and a time limit and
is checked through the Python API and the CLI (see ``tests/hostile/check.py`` for the properties).
A share of the time (``--hypothesis-share``, 20 %) goes to ``tests/test_hostile_fuzz.py``: the
hypothesis fuzzers of every reader, in rounds of a few hundred examples a test, each round seeded
anew.

    make fuzz FUZZ_SECONDS=600                                         # what make fuzz runs:
    PYTHONPATH=tests .venv/bin/python -m hostile.fuzz --seconds 600
    PYTHONPATH=tests .venv/bin/python -m hostile.fuzz --seconds 60 --no-corpus   # random cases only
    PYTHONPATH=tests .venv/bin/python -m hostile.fuzz --replay coco-mmdet-rle-3  # one case, its violations
    PYTHONPATH=tests .venv/bin/python -m hostile.fuzz --replay fuzz-1234-57 --keep /tmp/case   # and its files

It prints how many inputs it tried and how many failures it found; the exit code is 1 when it found
a failure that is not a known yolo.py bug (``tests/hostile/known.py``; with ``--strict``, any).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

from . import WorkerPool, corpus, known_bug, random_case
from .pool import DEFAULT_MEMORY

TESTS = Path(__file__).resolve().parent.parent


def _fuzz_case(pool: list, seed: int, number: int):
    case_id = f"fuzz-{seed}-{number}"
    return random_case(random.Random(f"{seed}:{number}"), pool, case_id=case_id)


def _find(case_id: str, pool: list):
    if case_id.startswith("fuzz-"):
        _, seed, number = case_id.split("-")
        return _fuzz_case(pool, int(seed), int(number))
    for case in pool:
        if case.id == case_id:
            return case
    raise SystemExit(f"no case {case_id!r} in the corpus (ids look like coco-mmdet-rle-3 or fuzz-1234-57)")


def _replay(case_id: str, pool: list, keep: Path | None, workers: WorkerPool) -> int:
    case = _find(case_id, pool)
    print(f"{case.id}: {case.fmt} → {case.to}, scope {case.scope}, note: {case.note or '-'}")
    print("files: " + ", ".join(sorted(case.tree))[:2000])
    if keep is not None:
        from .check import prepare

        layout = prepare(case, keep)
        print(f"written to {keep}: dlconvert convert {layout.src} {layout.dst} --from {case.fmt} --to {case.to}")
    result = workers.run([case])[case.id]
    print(f"outcome: {result['outcome']}" + (f": {result['error']}" if result["error"] else ""))
    for violation in result["violations"]:
        print("VIOLATION " + violation)
    bug = known_bug(case, result["violations"])
    if result["violations"] and bug is not None:
        print(f"known bug {bug.key}: {bug.reason}")
    return 1 if result["violations"] else 0


_ROUND_EXAMPLES = 300
_FUZZ_TESTS = TESTS / "test_hostile_fuzz.py"


def _hypothesis_rounds(seed: int, until: float) -> tuple[int, list[dict]]:
    """Rounds of the hypothesis fuzzers, each with a new seed, while a round still fits before ``until``."""
    import re
    import subprocess

    tried, failures, number, last = 0, [], 0, 0.0
    tests = len(re.findall(r"^def test_", _FUZZ_TESTS.read_text(), re.M))
    while time.monotonic() + max(last, 5.0) < until:
        round_seed = seed * 1000 + number
        began = time.monotonic()
        command = [sys.executable, "-m", "pytest", str(_FUZZ_TESTS), "-q", "-p", "no:cacheprovider", "-x",
                   f"--hypothesis-seed={round_seed}"]
        done = subprocess.run(command, capture_output=True, text=True, cwd=TESTS.parent,
                              env={**os.environ, "HOSTILE_FUZZ_EXAMPLES": str(_ROUND_EXAMPLES)})
        last = time.monotonic() - began
        tried += tests * _ROUND_EXAMPLES
        number += 1
        if done.returncode != 0:
            tail = [line for line in done.stdout.splitlines() if line.startswith(("E ", "FAILED"))]
            failures.append({"id": f"hypothesis-seed-{round_seed}", "violations": ["\n".join(tail[-12:]) or
                                                                                   done.stdout[-2000:]],
                             "replay": f"HOSTILE_FUZZ_EXAMPLES={_ROUND_EXAMPLES} .venv/bin/python -m pytest "
                                       f"tests/test_hostile_fuzz.py -x --hypothesis-seed={round_seed}"})
            print("  " + "\n  ".join(tail[-12:]), flush=True)
        print(f"  round {number} (seed {round_seed}): {'FAILED' if done.returncode else 'passed'} in {last:.0f} s",
              flush=True)
    return tried, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="how long to fuzz (default 600)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="worker processes")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random cases (default: the time)")
    parser.add_argument("--no-corpus", action="store_true", help="skip the seeded corpus, random cases only")
    parser.add_argument("--memory", type=int, default=DEFAULT_MEMORY // 1024**2, help="MiB of address space per case")
    parser.add_argument("--strict", action="store_true", help="known yolo.py bugs count as failures too")
    parser.add_argument("--replay", metavar="CASE_ID", help="run one case and show its violations in full")
    parser.add_argument("--keep", type=Path, help="with --replay: build the case's files here")
    parser.add_argument("--show", type=int, default=30, help="failures to list (default 30)")
    parser.add_argument("--hypothesis-share", type=float, default=0.2,
                        help="share of the time for the hypothesis fuzzers (default 0.2; 0 to skip)")
    args = parser.parse_args(argv)

    workers = WorkerPool(workers=args.workers, memory=args.memory * 1024**2)
    pool = corpus(0)
    if args.replay:
        return _replay(args.replay, pool, args.keep, workers)

    seed = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    started = time.monotonic()
    deadline = started + args.seconds * (1 - min(max(args.hypothesis_share, 0.0), 1.0))
    tried, failures, last = [0], [], [started]
    known: dict[str, int] = {}
    cases_by_id = {}

    def cases():
        if not args.no_corpus:
            for case in pool:
                cases_by_id[case.id] = case
                yield case
        number = 0
        while True:
            case = _fuzz_case(pool, seed, number)
            cases_by_id[case.id] = case
            yield case
            number += 1

    def on_result(result: dict) -> None:
        tried[0] += 1
        if result["violations"]:
            bug = known_bug(cases_by_id[result["id"]], result["violations"])
            if bug is not None and not args.strict:
                known[bug.key] = known.get(bug.key, 0) + 1
            else:
                failures.append(result)
        now = time.monotonic()
        if now - last[0] >= 15:
            last[0] = now
            print(f"  {now - started:6.0f} s: {tried[0]} inputs, {len(failures)} failures, "
                  f"{sum(known.values())} known", flush=True)

    print(f"fuzzing for {args.seconds:g} s with {args.workers} workers (random seed {seed}; corpus of "
          f"{0 if args.no_corpus else len(pool)} cases first)", flush=True)
    workers.run(cases(), on_result, deadline=deadline)
    if args.hypothesis_share > 0:
        print(f"hypothesis fuzzers until {args.seconds:g} s:", flush=True)
        examples, failed = _hypothesis_rounds(seed, started + args.seconds)
        tried[0] += examples
        failures.extend(failed)
    elapsed = time.monotonic() - started
    print(f"\n{tried[0]} inputs tried in {elapsed:.0f} s; {len(failures)} failures found"
          + (f"; {sum(known.values())} more are known yolo.py bugs ({', '.join(sorted(known))}, "
             "tests/hostile/known.py)" if known else ""))
    for result in failures[:args.show]:
        first = result["violations"][0].splitlines()[0]
        print(f"  FAIL {result['id']}: {first[:300]}")
        print(f"       replay: {result.get('replay') or '.venv/bin/python tools/fuzz.py --replay ' + result['id']}")
    if len(failures) > args.show:
        print(f"  … and {len(failures) - args.show} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
