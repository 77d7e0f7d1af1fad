"""Time whole processes — dlconvert, the raw floors and the peers — on the same seeded data.

    python benchmarks/run.py --sizes 5000 25000 --runs 3

Each (tool, job, size) runs ``--runs`` times in a fresh process; wall time, CPU time (user+sys of
that process and its children) and peak RSS are taken from ``os.wait4``, and the table shows the
medians. Peers run from their own virtual environments under ``--venvs`` (made by ``make bench``);
a peer whose environment is missing, a run that fails and a size above a tool's cap each get a row
with a note, never a faked figure. A peer exiting 64 cannot do that job and gets no row.

Size caps (``MAX_N``, override with ``--max-n TOOL=N``): supervision rasterises and holds a
full-size mask for every instance (~4 GB RSS at 1,000 COCO images, 14.8 s for det in the issue),
so it runs only up to 5,000 images, and only where that fits in 75% of this machine's RAM
(``MB_PER_IMAGE``). Prints the machine and a table and writes both as JSON.

dlconvert's bytecode is compiled first (``compileall``), as ``pip install`` does for an installed
package and did for every peer: an editable checkout under ``PYTHONDONTWRITEBYTECODE`` would
otherwise compile its ~120 modules in every timed run (~0.4 s each time).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
UNSUPPORTED = 64  # a peer adapter's exit code for a job that tool cannot do
#: det/seg/voc: COCO → YOLO detect / segment, detection VOC; yolo: COCO → YOLO as users run it (no --task: the
#: richest task the data needs); render: the class-id picture (INSTANCE view); mask: the RGBA semantic mask.
JOBS = ("det", "seg", "yolo", "voc", "coco2dataloop", "dataloop2coco", "render", "mask")
PEERS = {"ultralytics": "ultralytics", "globox": "globox", "datumaro": "datumaro", "supervision": "supervision",
         "dtlpy-sdk": "dtlpy"}  # tool → its venv (and peers/<venv>_adapter.py)
PEER_JOBS = {"ultralytics": {"det", "seg"}, "globox": {"det", "voc"}, "datumaro": {"det", "voc"},
             "supervision": {"det", "seg", "voc", "render"}, "dtlpy-sdk": {"dataloop2coco"}}  # what each can do
TOOLS = ["floor", "naive-cv2", "pycocotools", "dlconvert", "dlconvert-1", *PEERS]
MAX_N = {"supervision": 5000}  # largest N a tool runs at by default
MB_PER_IMAGE = {"supervision": 4.3}  # peak RSS per image, for tools that hold every image's masks
NEEDS_IMAGES = {"supervision"}  # tools that open every image: DATA/images/ placeholders are made first
FLOORS = {"render": "naive-cv2", "mask": "naive-cv2"}  # the "× floor" reference per job (default: floor)


@dataclass
class Row:
    tool: str
    job: str
    n: int
    runs: int  # runs that succeeded
    wall: float | None  # median seconds of the successful runs
    cpu: float | None  # median user+sys seconds
    rss_mb: float | None  # max peak resident set
    note: str = ""


def _dlconvert(job: str, data: Path, out: Path, workers: int | None) -> list[str]:
    cli = [sys.executable, "-m", "dlconvert.cli"]
    extra = ["--workers", str(workers)] if workers else []
    coco = str(data / "coco.json")
    if job in ("render", "mask"):
        view = "instance" if job == "render" else "mask"
        return [*cli, "render", coco, str(out), "--from", "coco", "--view", view, *extra]
    if job == "dataloop2coco":
        return [*cli, "convert", str(data / "dataloop"), str(out), "--from", "dataloop", "--to", "coco", *extra]
    target = {"det": ["yolo", "--task", "detect"], "seg": ["yolo", "--task", "segment"], "yolo": ["yolo"],
              "voc": ["voc", "--no-voc-masks"], "coco2dataloop": ["dataloop"]}[job]
    return [*cli, "convert", coco, str(out), "--from", "coco", "--to", *target, *extra]


def commands(tool: str, job: str, data: Path, out: Path, venvs: Path, workers: int | None) -> list[str] | None:
    """The command line for ``tool`` doing ``job``, or None when that tool does not do it."""
    if tool in ("dlconvert", "dlconvert-1"):
        return _dlconvert(job, data, out, 1 if tool == "dlconvert-1" else workers)
    if tool == "floor":
        floor_job = "seg" if job == "yolo" else job  # the bench data's richest task is segment
        return [sys.executable, str(HERE / "floor.py"), floor_job, str(data / "coco.json"), str(out)] \
            if floor_job in ("det", "seg", "voc") else None
    if tool in ("naive-cv2", "pycocotools"):
        method = "cv2" if tool == "naive-cv2" else "pycocotools"
        return [sys.executable, str(HERE / "naive_render.py"), method, str(data / "coco.json"), str(out)] \
            if job in ("render", "mask") else None
    if job not in PEER_JOBS[tool]:
        return None
    venv = PEERS[tool]
    return [str(venvs / venv / "bin" / "python"), str(HERE / "peers" / f"{venv}_adapter.py"), job, str(data), str(out)]


def measure(argv: list[str], out: Path) -> tuple[float, float, float, int, str]:
    """(wall s, cpu s, peak RSS MB, exit code, last stderr line) of one run."""
    shutil.rmtree(out, ignore_errors=True)
    os.sync()  # the previous run's files reach the disk now, not while this one is timed
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: chatty tools must never block on stderr
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if code not in (0, UNSUPPORTED):
        sys.stderr.write(text[-2000:])
    last = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0, code, last


def skip_reason(tool: str, n: int, caps: dict[str, float], forced: set[str], ram_gb: float) -> str:
    """Why ``tool`` does not run at size ``n`` (empty when it does); ``forced``: caps given by hand."""
    if n > caps.get(tool, math.inf):
        return f"skipped: N > {caps[tool]} (cap for {tool}; --max-n {tool}=N to change)"
    need_gb = MB_PER_IMAGE.get(tool, 0) * n / 1024
    if tool not in forced and need_gb > 0.75 * ram_gb:
        return f"skipped: needs ~{need_gb:.0f} GB, over 75% of RAM (--max-n {tool}={n} to try)"
    return ""


def run_cell(tool: str, job: str, n: int, argv: list[str], out: Path, runs: int) -> Row | None:
    """Time one (tool, job, n) ``runs`` times; None when the tool cannot do the job."""
    results = []
    for _ in range(runs):
        results.append(measure(argv, out))
        if results[-1][3] == UNSUPPORTED:
            return None
    ok = [r for r in results if r[3] == 0]
    failed = [r for r in results if r[3] != 0]
    note = f"failed {len(failed)}/{len(results)} (rc={failed[0][3]}: {failed[0][4][:120]})" if failed else ""
    if not ok:
        return Row(tool, job, n, 0, None, None, max(r[2] for r in results), note)
    return Row(tool, job, n, len(ok), statistics.median(r[0] for r in ok), statistics.median(r[1] for r in ok),
               max(r[2] for r in ok), note)


def prepare(data: Path, n: int, tools: list[str], jobs: list[str]) -> None:
    """Generate the seeded data of size ``n`` the jobs read (the Dataloop export only for ``dataloop2coco``; placeholder
    images for the tools that open them) when missing."""
    generate = [sys.executable, str(HERE / "generate.py"), "--out", str(data)]
    wants_dataloop = "dataloop2coco" in jobs
    if not (data / "coco.json").exists() or (wants_dataloop and not (data / "dataloop" / "labelmap.json").exists()):
        subprocess.run([*generate, "--images", str(n), *([] if wants_dataloop else ["--no-dataloop"])], check=True,
                       cwd=ROOT)
    if NEEDS_IMAGES & set(tools) and not (data / "images").exists():
        subprocess.run([*generate, "--placeholders"], check=True, cwd=ROOT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", nargs="+", default=list(JOBS), choices=JOBS)
    parser.add_argument("--tools", nargs="+", default=TOOLS, choices=TOOLS)
    parser.add_argument("--workers", type=int, default=None, help="dlconvert --workers (default: all cores)")
    parser.add_argument("--max-n", nargs="*", default=[], metavar="TOOL=N",
                        help=f"size caps per tool (default {MAX_N}); TOOL=0 removes a cap")
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data")
    parser.add_argument("--out", type=Path, default=None,
                        help="where the tools write (default: DATA/out); a tmpfs such as /dev/shm takes the disk's "
                             "write-back out of the timings")
    parser.add_argument("--venvs", type=Path, default=ROOT / "bench" / ".venvs")
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    caps: dict[str, float] = dict(MAX_N)
    forced: set[str] = set()  # tools capped by hand: no RAM guess for them
    for item in args.max_n:
        tool, _, value = item.partition("=")
        caps[tool] = int(value) or math.inf
        forced.add(tool)
    info = machine()
    print(describe(info), flush=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "dlconvert")], check=True)
    rows: list[Row] = []
    for n in args.sizes:
        data = args.data / str(n)
        prepare(data, n, args.tools, args.jobs)
        for job in args.jobs:
            for tool in args.tools:
                out = (args.out or args.data / "out") / f"{tool}-{job}-{n}"
                argv = commands(tool, job, data, out, args.venvs, args.workers)
                if argv is None:
                    continue
                if tool in PEERS and not Path(argv[0]).exists():
                    row = Row(tool, job, n, 0, None, None, None, f"no venv {argv[0]} (make bench makes it)")
                elif reason := skip_reason(tool, n, caps, forced, info["ram_gb"]):
                    row = Row(tool, job, n, 0, None, None, None, reason)
                else:
                    row = run_cell(tool, job, n, argv, out, args.runs)
                    shutil.rmtree(out, ignore_errors=True)  # on a tmpfs, outputs left behind take the next cells' RAM
                    if row is None:
                        continue
                rows.append(row)
                print(f"{tool:<12} {job:<14} {n:>7} wall {_num(row.wall, 7)}s cpu {_num(row.cpu, 7)}s "
                      f"rss {_num(row.rss_mb, 7, 0)} MB {row.note}", flush=True)
    print()
    print(describe(info))
    print(table(rows))
    args.json.write_text(json.dumps({"machine": info, "rows": [asdict(r) for r in rows]}, indent=2))


def _num(value: float | None, width: int = 0, digits: int = 2) -> str:
    return "-".rjust(width) if value is None else f"{value:{width}.{digits}f}"


def table(rows: list[Row]) -> str:
    """Markdown: each row with its ratio to dlconvert and to the floor on the same job and size."""
    def wall(tool: str, row: Row) -> float | None:
        found = next((r for r in rows if r.tool == tool and r.job == row.job and r.n == row.n), None)
        return found.wall if found else None

    lines = ["| tool | job | N | wall s (median) | × dlconvert | × floor | CPU s | peak RSS MB | note |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        ours, floor = wall("dlconvert", row), wall(FLOORS.get(row.job, "floor"), row)
        vs_ours = f"{row.wall / ours:.2f}" if row.wall and ours else "-"
        vs_floor = f"{row.wall / floor:.2f}" if row.wall and floor else "-"
        lines.append(f"| {row.tool} | {row.job} | {row.n} | {_num(row.wall)} | {vs_ours} | {vs_floor} | "
                     f"{_num(row.cpu)} | {_num(row.rss_mb, 0, 0)} | {row.note.replace('|', '/')} |")
    return "\n".join(lines)


def machine() -> dict:
    """CPU count and model, RAM, Python and OS of this machine."""
    model = platform.processor() or platform.machine()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        model = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpus": os.cpu_count(), "model": model, "ram_gb": round(ram / 1024 ** 3, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def describe(info: dict) -> str:
    return (f"machine: {info['cpus']} CPUs ({info['model']}), {info['ram_gb']} GB RAM, "
            f"Python {info['python']}, {info['platform']}")


if __name__ == "__main__":
    main()
