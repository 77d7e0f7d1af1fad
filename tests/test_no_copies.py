"""Third-party data stays in ../shared/fixtures: no file of the project is a copy of one of them."""

from __future__ import annotations

import hashlib
import subprocess

from realfiles import PROJECT, ROOT, requires_real_files


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@requires_real_files
def test_no_project_file_is_a_copy_of_a_real_file():
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT, capture_output=True, check=True).stdout
    names = [name for name in tracked.decode().split("\0") if name and (PROJECT / name).is_file()]
    ours = {_digest(PROJECT / name): name for name in names}
    copies = sorted(f"{ours[d]} = {p.relative_to(ROOT)}" for p in ROOT.rglob("*")
                    if p.is_file() and p.stat().st_size > 0 and (d := _digest(p)) in ours)
    assert copies == []
