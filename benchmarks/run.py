"""Time whole processes — dlconvert, the raw floor and the peers — on the same seeded data.

    python benchmarks/run.py --sizes 5000 25000 --runs 3

Each (tool, job, size) runs ``--runs`` times in a fresh process; wall time, CPU time (user+sys of
that process and its children) and peak RSS are taken from ``os.wait4``. Peers run from their
own virtual environments under ``--venvs`` (made by ``make bench``); a peer whose environment is
missing is left out of the table, not faked. Prints a table and writes it as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
UNSUPPORTED = 64  # a peer adapter's exit code for a job that tool cannot do
JOBS = ("det", "seg", "voc", "coco2dataloop", "dataloop2coco", "render")


@dataclass
class Row:
    tool: str
    job: str
    n: int
    runs: int
    wall: float  # median seconds
    cpu: float  # median user+sys seconds
    rss_mb: float  # max peak resident set
    note: str = ""


def _dlconvert(python: str, job: str, data: Path, out: Path, workers: int | None) -> list[str]:
    cli = [python, "-m", "dlconvert.cli", "convert"]
    extra = ["--workers", str(workers)] if workers else []
    if job == "det":
        return [*cli, str(data / "coco.json"), str(out), "--from", "coco", "--to", "yolo", "--task", "detect", *extra]
    if job == "seg":
        return [*cli, str(data / "coco.json"), str(out), "--from", "coco", "--to", "yolo", "--task", "segment",
                *extra]
    if job == "voc":
        return [*cli, str(data / "coco.json"), str(out), "--from", "coco", "--to", "voc", *extra]
    if job == "coco2dataloop":
        return [*cli, str(data / "coco.json"), str(out), "--from", "coco", "--to", "dataloop", *extra]
    if job == "dataloop2coco":
        return [*cli, str(data / "dataloop"), str(out), "--from", "dataloop", "--to", "coco", *extra]
    return [python, "-m", "dlconvert.cli", "render", str(data / "coco.json"), str(out), "--from", "coco",
            "--view", "mask"]


def commands(tool: str, job: str, data: Path, out: Path, venvs: Path, workers: int | None) -> list[str] | None:
    """The command line for ``tool`` doing ``job``, or None when that tool cannot do it here."""
    if tool in ("dlconvert", "dlconvert-1"):
        return _dlconvert(sys.executable, job, data, out, 1 if tool == "dlconvert-1" else workers)
    if tool == "floor":
        if job in ("det", "seg", "voc"):
            return [sys.executable, str(HERE / "floor.py"), job, str(data / "coco.json"), str(out)]
        return None
    python = venvs / tool / "bin" / "python"
    if not python.exists():
        return None
    adapter = HERE / "peers" / f"{tool}_adapter.py"
    return [str(python), str(adapter), job, str(data), str(out)]


def measure(argv: list[str], out: Path) -> tuple[float, float, float, int]:
    """(wall s, cpu s, peak RSS MB, exit code) of one run."""
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, UNSUPPORTED):
        sys.stderr.write(process.stderr.read().decode(errors="replace")[-2000:])
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", nargs="+", default=list(JOBS), choices=JOBS)
    parser.add_argument("--tools", nargs="+",
                        default=["floor", "dlconvert", "dlconvert-1", "ultralytics", "globox", "datumaro"])
    parser.add_argument("--workers", type=int, default=None, help="dlconvert --workers (default: all cores)")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--venvs", type=Path, default=ROOT / "bench" / ".venvs")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    args = parser.parse_args()

    rows: list[Row] = []
    for n in args.sizes:
        data = args.data / str(n)
        if not (data / "coco.json").exists():
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--images", str(n), "--out", str(data)],
                           check=True, cwd=ROOT)
        for job in args.jobs:
            for tool in args.tools:
                out = args.data / "out" / f"{tool}-{job}-{n}"
                argv = commands(tool, job, data, out, args.venvs, args.workers)
                if argv is None:
                    continue
                results = [measure(argv, out) for _ in range(args.runs)]
                if results[0][3] == UNSUPPORTED:
                    continue
                failed = [r for r in results if r[3] != 0]
                note = f"failed {len(failed)}/{len(results)}" if failed else ""
                ok = [r for r in results if r[3] == 0] or results
                rows.append(Row(tool, job, n, len(results), statistics.median(r[0] for r in ok),
                                statistics.median(r[1] for r in ok), max(r[2] for r in ok), note))
                print(f"{tool:<12} {job:<14} {n:>7} wall {rows[-1].wall:7.2f}s cpu {rows[-1].cpu:7.2f}s "
                      f"rss {rows[-1].rss_mb:7.0f} MB {note}", flush=True)
    print()
    print(table(rows))
    args.json.write_text(json.dumps({"machine": machine(), "rows": [asdict(r) for r in rows]}, indent=2))


def table(rows: list[Row]) -> str:
    """Markdown: each row with its ratio to dlconvert and to the floor on the same job and size."""
    def find(tool, row):
        return next((r for r in rows if r.tool == tool and r.job == row.job and r.n == row.n), None)

    lines = ["| tool | job | N | wall s (median) | × dlconvert | × floor | CPU s | peak RSS MB |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        ours, floor = find("dlconvert", row), find("floor", row)
        vs_ours = f"{row.wall / ours.wall:.2f}" if ours else "-"
        vs_floor = f"{row.wall / floor.wall:.2f}" if floor else "-"
        lines.append(f"| {row.tool} | {row.job} | {row.n} | {row.wall:.2f} | {vs_ours} | {vs_floor} | "
                     f"{row.cpu:.2f} | {row.rss_mb:.0f} |" + (f" {row.note}" if row.note else ""))
    return "\n".join(lines)


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine()}


if __name__ == "__main__":
    main()
