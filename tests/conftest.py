"""Shared fixtures and the hypothesis profiles.

Profiles: ``ci`` (the default: 60 examples, no deadline, derandomized so that one commit always gives
one result) and ``dev`` (500 random examples, to search for new failures before a commit); pick one
with ``HYPOTHESIS_PROFILE=dev``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

# The Dataloop SDK reads DATALOOP_PATH once, when first imported, and keeps its cookies and logs
# there: every test that imports it, in any order, writes into this session's temp folder,
# never into the user's ~/.dataloop.
os.environ.setdefault("DATALOOP_PATH", tempfile.mkdtemp(prefix="dlconvert-tests-dataloop-"))

import pytest
import realfiles
from hypothesis import HealthCheck, settings

from dlconvert.demo import sample_dataset_path

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=500, deadline=None, derandomize=False, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- the real-file corpus (../shared/fixtures, read in place; see realfiles.py) -----------------------
_opened_real_files: set[str] = set()


def _count_real_file_opens(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if path.startswith(_REAL_ROOT):
            _opened_real_files.add(path)


_REAL_ROOT = str(realfiles.ROOT) + os.sep


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_files: reads the real-file corpus in ../shared/fixtures")
    if realfiles.REQUIRED and not realfiles.AVAILABLE:
        raise pytest.UsageError(f"DLCONVERT_REQUIRE_REAL_FILES is set but the {realfiles.MISSING_REASON}")
    if realfiles.AVAILABLE:
        sys.addaudithook(_count_real_file_opens)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if realfiles.AVAILABLE:
        return
    skip = pytest.mark.skip(reason=realfiles.MISSING_REASON)
    for item in items:
        if item.get_closest_marker("real_files") is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if realfiles.AVAILABLE:
        total = sum(1 for p in realfiles.ROOT.rglob("*") if p.is_file())
        terminalreporter.write_line(f"real files exercised: {len(_opened_real_files)} of the {total} in "
                                    f"{realfiles.ROOT}")
    else:
        terminalreporter.write_line(f"real-file tests skipped: {realfiles.MISSING_REASON}")


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """The real-file corpus (``../shared/fixtures``): files written by other tools, read in place."""
    return realfiles.ROOT


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample dataset export (``items/``, ``json/``, ontology, recipe)."""
    return sample_dataset_path()


@pytest.fixture
def cli_runner():
    """A click runner that keeps stdout and stderr apart."""
    from click.testing import CliRunner

    return CliRunner()
