"""Known, still open bugs in ``dlconvert/formats/yolo.py`` (being finished elsewhere), found by the corpus.

Each is an ``xfail(strict=True)`` in ``test_hostile_corpus`` (so its fix shows up as an XPASS to
remove here) and is counted apart from new failures by ``hostile.fuzz``. Every other module's
bugs were fixed. Fixed in yolo.py since, and now plain regressions: Y1 a label file linked to
/dev/zero read until memory ran out; Y2 ``kpt_shape: [1000000000, 3]`` allocated per keypoint;
Y3 unsafe or over-long label file names stopped the run (exit 3) instead of a bad item; Y4 the
keypoints of two poses sharing an id counted twice; Y5 a non-point child of a pose counted twice;
Y6 a data.yaml split of ``/`` walked the whole file system; Y7 a ``metadata.user`` that is not an
object crashed the writer; Y8 ``nc: 1000000000`` without names built a billion class names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .mutations import Case

__all__ = ["KNOWN_BUGS", "KnownBug", "known_bug"]


def _op(case: Case) -> str:
    """The mutation of a corpus case id ``<fmt>-<seed>-<op>-<n>`` (``fmt`` and ``seed`` have no '-')."""
    return (case.base or case.id).rsplit("-", 1)[0].split("-", 2)[-1]


def _note(case: Case) -> str:
    """The corpus note of a case (a random fuzz case adds its damage after ' + random')."""
    return case.note.split(" + random ")[0]


@dataclass(frozen=True)
class KnownBug:
    key: str
    reason: str
    repro: str
    matches: Callable[[Case], bool]  # the corpus cases it breaks (xfail in make test)
    #: a random fuzz case that breaks the same way (what its violations say)
    looks_like: Callable[[Case, str], bool] = lambda case, violations: False
    in_corpus: bool = True  # False: too slow for make test, found by make fuzz only


KNOWN_BUGS: tuple[KnownBug, ...] = ()


def known_bug(case: Case, violations: list[str] | None = None) -> KnownBug | None:
    """The known bug ``case`` runs into, if any (with ``violations``: also one that breaks the same way)."""
    text = "\n".join(violations or ())
    for bug in KNOWN_BUGS:
        if bug.matches(case) or (violations and bug.looks_like(case, text)):
            return bug
    return None
