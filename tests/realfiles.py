"""The real-file corpus: annotation files written by other tools, read in place from ``../shared/fixtures``.

They are third-party data and are never copied into this project; this module is the one place
that knows where they live (``DLCONVERT_REAL_FILES`` overrides it). When the corpus is absent —
a user's fresh clone — the tests that need it are skipped for that one reason (see ``conftest``);
CI sets ``DLCONVERT_REQUIRE_REAL_FILES=1`` so that they fail instead of skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["AVAILABLE", "MISSING_REASON", "NO_REAL_FILES", "ROOT", "real_file", "real_files", "requires_real_files"]

PROJECT = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("DLCONVERT_REAL_FILES") or PROJECT.parent / "shared" / "fixtures").resolve()
AVAILABLE = ROOT.is_dir()
REQUIRED = os.environ.get("DLCONVERT_REQUIRE_REAL_FILES", "") not in ("", "0")
MISSING_REASON = f"real-file corpus not found at {ROOT} (expected ../shared/fixtures beside the project)"

#: Mark a test (or a module, as ``pytestmark``) that reads the corpus: skipped when it is absent.
requires_real_files = pytest.mark.real_files


def real_file(relative: str | os.PathLike[str]) -> Path:
    """``ROOT / relative``: a file or folder of the corpus (the path may not exist when it is absent)."""
    return ROOT / relative


#: A ``parametrize`` list's stand-in when the corpus is absent: one case that skips with the reason.
NO_REAL_FILES = [pytest.param(None, marks=pytest.mark.skip(reason=MISSING_REASON), id="no-real-files")]


def real_files(folder: str | os.PathLike[str], pattern: str = "*", *, recursive: bool = True) -> list:
    """The files under ``folder`` matching ``pattern``, sorted, for ``parametrize``.

    Without the corpus: one parameter that skips with :data:`MISSING_REASON`, so the test reports
    why instead of pytest's "empty parameter set".
    """
    if not AVAILABLE:
        return NO_REAL_FILES
    base = ROOT / folder
    found = base.rglob(pattern) if recursive else base.glob(pattern)
    return sorted(p for p in found if p.is_file())
