"""Shared fixtures and the hypothesis profiles.

Profiles: ``ci`` (the default: 60 examples, no deadline) and ``dev`` (more examples); pick one
with ``HYPOTHESIS_PROFILE=dev``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# The Dataloop SDK reads DATALOOP_PATH once, when first imported, and keeps its cookies and logs
# there: every test that imports it, in any order, writes into this session's temp folder,
# never into the user's ~/.dataloop.
os.environ.setdefault("DATALOOP_PATH", tempfile.mkdtemp(prefix="dlconvert-tests-dataloop-"))

import pytest
from hypothesis import HealthCheck, settings

from dlconvert.demo import sample_dataset_path

settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=False, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=500, deadline=None, derandomize=False, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FIXTURES_DIR = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/fixtures``: real annotation files copied from public repositories (see PROVENANCE.md)."""
    return FIXTURES_DIR


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The bundled sample dataset export (``items/``, ``json/``, ontology, recipe)."""
    return sample_dataset_path()


@pytest.fixture
def cli_runner():
    """A click runner that keeps stdout and stderr apart."""
    from click.testing import CliRunner

    return CliRunner()
