"""Run cases in worker processes with an address-space limit and a per-case time limit.

Each worker (``python -m hostile.pool``) reads pickled cases, one per line (base64), runs
:func:`~hostile.check.run_case` under ``RLIMIT_AS`` and an alarm, and writes one JSON result
per line. A worker that dies (segfault, kill) or stops answering is replaced and its case is
reported as a violation, so one runaway input cannot take the suite down with it.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

__all__ = ["DEFAULT_MEMORY", "WorkerPool"]

#: Address space of a worker: the interpreter with numpy, OpenCV, shapely and lxml loaded uses
#: about 0.5 GiB of it; a case that tries to allocate a 10⁹ × 10⁹ canvas hits the limit.
DEFAULT_MEMORY = 2 * 1024**3
CASE_SECONDS = 30
TESTS_DIR = Path(__file__).resolve().parent.parent


class WorkerPool:
    """``workers`` processes; :meth:`run` maps cases to results, in any order, calling ``on_result``."""

    def __init__(self, workers: int = 2, memory: int = DEFAULT_MEMORY, case_seconds: int = CASE_SECONDS,
                 cli: bool = True) -> None:
        self.workers = max(1, workers)
        self.memory = memory
        self.case_seconds = case_seconds
        self.cli = cli

    def _start(self, log) -> subprocess.Popen:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p)
        env.setdefault("OPENBLAS_NUM_THREADS", "1")
        env.setdefault("OMP_NUM_THREADS", "1")
        command = [sys.executable, "-m", "hostile.pool", str(self.memory), str(self.case_seconds),
                   "1" if self.cli else "0"]
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                cwd=TESTS_DIR)

    def run(self, cases: Iterable, on_result: Callable[[dict], None] | None = None,
            deadline: float | None = None) -> dict[str, dict]:
        """Run ``cases`` (any iterable, read lazily) until they run out or ``time.monotonic()`` passes ``deadline``."""
        todo: Iterator = iter(cases)
        results: dict[str, dict] = {}
        lock = threading.Lock()

        def next_case():
            with lock:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                return next(todo, None)

        def drive() -> None:
            with tempfile.TemporaryFile() as log:
                process = self._start(log)
                try:
                    while True:
                        case = next_case()
                        if case is None:
                            return
                        result = self._one(process, case, log)
                        if result.get("restart"):
                            _stop(process)
                            process = self._start(log)
                        with lock:
                            results[case.id] = result
                        if on_result is not None:
                            on_result(result)
                finally:
                    _stop(process)

        threads = [threading.Thread(target=drive, daemon=True) for _ in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def _one(self, process: subprocess.Popen, case, log) -> dict:
        line = base64.b64encode(pickle.dumps(case)) + b"\n"
        try:
            process.stdin.write(line)
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            return _died(case, process, log, "the worker was gone before the case")
        ready, _, _ = select.select([process.stdout], [], [], self.case_seconds * 6 + 60)
        if not ready:
            return _died(case, process, log, "no answer in time (the worker hung)")
        answer = process.stdout.readline()
        if not answer:
            return _died(case, process, log, "the worker died")
        return json.loads(answer)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            process.stdin.close()
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait()


def _died(case, process: subprocess.Popen, log, why: str) -> dict:
    if process.poll() is None:
        process.kill()
    code = process.wait()
    log.flush()
    log.seek(max(0, log.seek(0, os.SEEK_END) - 1500))
    tail = log.read().decode("utf-8", "replace")
    return {"id": case.id, "outcome": "crash", "error": None, "restart": True,
            "violations": [f"worker: {why} (exit {code}; a signal {-code} if negative): …{tail}"]}


# ==== the worker side ===============================================================================
def _worker(memory: int, case_seconds: int, cli: bool) -> None:
    import resource

    from .check import CaseTimeout, run_case

    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    limit = memory if hard == resource.RLIM_INFINITY else min(memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    def alarm(signum, frame):
        raise CaseTimeout()

    signal.signal(signal.SIGALRM, alarm)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything printed by the code under test goes to the log, not the results
    sys.stdout = sys.stderr
    workdir = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        for line in sys.stdin.buffer:
            case = pickle.loads(base64.b64decode(line))
            signal.alarm(case_seconds)
            try:
                result = run_case(case, workdir, cli=cli)
            except CaseTimeout:  # the alarm went off between the runs (in a reader called to classify an error)
                result = {"id": case.id, "outcome": "crash", "error": None,
                          "violations": [f"timed out after {case_seconds} s (a hang or a runaway loop)"]}
            except BaseException as exc:  # the checker itself must not take the worker down
                result = {"id": case.id, "outcome": "crash", "error": None,
                          "violations": [f"checker: {type(exc).__name__}: {exc}"]}
            finally:
                signal.alarm(0)
            out.write(json.dumps(result) + "\n")
            out.flush()
    finally:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1")
