"""Hostile input for dlconvert: a seeded corpus of broken files and the properties they must meet.

* ``seeds``        valid datasets of every format (test fixtures, the bundled sample);
* ``mutations``    :func:`corpus` — the same cases for the same seed — and :func:`random_case`;
* ``check``        :func:`~hostile.check.run_case` — a case through the API and the CLI, its violations;
* ``pool``         :class:`WorkerPool` — cases in processes with memory and time limits;
* ``regressions``  the cases that found bugs; ``known``: the open ones (yolo.py).

Nothing here is committed output: every file is generated on the fly from the fixtures.
"""

from __future__ import annotations

import random

from .known import KNOWN_BUGS, known_bug
from .mutations import Case, corpus, random_case
from .pool import WorkerPool
from .regressions import REGRESSIONS

__all__ = ["KNOWN_BUGS", "REGRESSIONS", "Case", "WorkerPool", "corpus", "known_bug", "op_of", "random_case",
           "select_cases"]


def op_of(case: Case) -> str:
    """The mutation of a corpus case (``coco-mmdet-rle-3`` → ``rle``)."""
    return case.id.rsplit("-", 1)[0].split("-", 2)[-1]


def select_cases(cases: list[Case], size: int, master: int = 0) -> list[Case]:
    """The cases ``make test`` runs: every regression, one case of every (format, mutation), then a
    seeded sample up to ``size``. Of the cases a known yolo.py bug breaks only the first per bug is
    kept (its slow MemoryErrors stay in ``make fuzz``)."""
    by_id = {case.id: case for case in cases}
    wanted = [i for ids in REGRESSIONS.values() for i in ids if i in by_id]
    groups: dict[tuple[str, str], list[Case]] = {}
    for case in cases:
        groups.setdefault((case.fmt, op_of(case)), []).append(case)
    rng = random.Random(f"select:{master}")
    wanted += [rng.choice(group).id for _, group in sorted(groups.items())]
    rest = [case.id for case in cases]
    rng.shuffle(rest)
    chosen: dict[str, None] = {}
    seen_bugs: set[str] = set()
    for case_id in [*wanted, *rest]:
        if len(chosen) >= size and case_id not in wanted:
            break
        bug = known_bug(by_id[case_id])
        if bug is not None:
            if bug.key in seen_bugs:
                continue
            seen_bugs.add(bug.key)
        chosen[case_id] = None
    return [by_id[case_id] for case_id in chosen]
