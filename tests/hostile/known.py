"""Known bugs in ``dlconvert/formats/yolo.py`` (being finished elsewhere), found by the corpus.

Each is an ``xfail(strict=True)`` in ``test_hostile_corpus`` (so its fix shows up as an XPASS to
remove here) and is counted apart from new failures by ``tools/fuzz.py``. Every other module's
bugs were fixed; this list is for yolo.py only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .mutations import Case

__all__ = ["KNOWN_BUGS", "KnownBug", "known_bug"]


def _op(case: Case) -> str:
    """The mutation of a corpus case id ``<fmt>-<seed>-<op>-<n>`` (``fmt`` and ``seed`` have no '-')."""
    return (case.base or case.id).rsplit("-", 1)[0].split("-", 2)[-1]


#: Item file names the YOLO writer does not refuse as a bad item (see Y3).
_UNSAFE_NAMES = frozenset(repr(name) for name in ("a\x00b.jpg", "..\\..\\evil.jpg", "C:\\Windows\\evil.jpg",
                                                  "x" * 300 + ".jpg"))


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


KNOWN_BUGS: tuple[KnownBug, ...] = (
    KnownBug(
        "Y1", "yolo.py reads a label file that links to a device (/dev/zero) until memory runs out",
        "ln -s /dev/zero labels/train/1.txt; dlconvert convert . out --from yolo --to dataloop  → MemoryError, exit 3 "
        "(_read_text needs the regular-file check _json.read_json_file has)",
        lambda case: case.fmt == "yolo" and _op(case) == "symlink-dev-zero",
        lambda case, text: case.fmt == "yolo" and _op(case) == "symlink-dev-zero",
    ),
    KnownBug(
        "Y2", "yolo.py allocates per keypoint of data.yaml kpt_shape: [1000000000, 3] (MemoryError)",
        "echo 'kpt_shape: [1000000000, 3]' >> data.yaml; dlconvert convert . out --from yolo --to dataloop "
        "→ MemoryError, exit 3 (bound K before building names/flip tables)",
        lambda case: case.fmt == "yolo" and _op(case) == "data-yaml" and "1000000000, 3" in _note(case),
        lambda case, text: case.fmt == "yolo" and "MemoryError" in text,
    ),
    KnownBug(
        "Y3", "the YOLO writer stops the run on an item whose label path is unsafe or too long instead of "
              "reporting the item (ConversionReport.bad_item): no file named, --on-error skip aborts, a name over "
              "255 bytes is an OSError (exit 3)",
        "a Dataloop item with \"filename\": \"C:\\\\Windows\\\\evil.jpg\" (or 'a\\u0000b.jpg', "
        "'..\\\\..\\\\x.jpg', 300 x's) → dlconvert convert export out --from dataloop --to yolo --on-error skip",
        lambda case: case.to == "yolo" and _op(case) in ("item-filename", "file-name") and _note(case) in _UNSAFE_NAMES,
        lambda case, text: case.to == "yolo" and bool(re.search(
            r"would leave the output folder|File name too long|contains a NUL byte|longer than 255", text)),
    ),
    KnownBug(
        "Y4", "the YOLO writer counts the keypoints of two poses sharing an id twice (the report does not balance)",
        "COCO person_keypoints with one annotation record duplicated (same id) → --to yolo: report "
        "{'point': (9 in, 9 out, 6 skipped)}",
        lambda case: case.to == "yolo" and _op(case) == "duplicate-annotation-id" and case.seed == "keypoints",
        lambda case, text: case.to == "yolo" and "'point': (" in text and "does not balance" in text,
    ),
)

_YOLO_FRAME = re.compile(r"dlconvert/formats/yolo\.py")


def known_bug(case: Case, violations: list[str] | None = None) -> KnownBug | None:
    """The known bug ``case`` runs into, if any; with ``violations``, a crash inside yolo.py also counts."""
    text = "\n".join(violations or ())
    for bug in KNOWN_BUGS:
        if bug.matches(case) or (violations and bug.looks_like(case, text)):
            return bug
    crashes = [v for v in violations or () if not v.startswith("cli")]
    if crashes and all(_YOLO_FRAME.search(v) for v in crashes):
        return KnownBug("yolo", "a crash inside yolo.py", "", lambda case: False)
    return None
