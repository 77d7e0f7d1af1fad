"""``import dlconvert`` stays light: heavy optional libraries load only when a feature needs them.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ["cv2", "PIL", "click", "tqdm", "shapely", "dtlpy", "lxml", "matplotlib", "pycocotools"]


def _loaded_after(code: str) -> set[str]:
    """The top-level package names in ``sys.modules`` after running ``code`` in a new interpreter."""
    script = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parent.parent, timeout=120)
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_import_dlconvert_loads_no_heavy_library():
    loaded = _loaded_after("import dlconvert")
    assert "dlconvert" in loaded and "numpy" in loaded
    assert sorted(loaded & set(HEAVY)) == []


def test_the_checker_sees_what_is_imported():
    # The probe itself works: importing one of them shows up.
    assert "shapely" in _loaded_after("import dlconvert, shapely")


def test_reading_and_writing_dataloop_json_stays_light():
    # Masks decode lazily and shapes are not built, so a read/write of the sample (with a binary
    # mask) needs none of the image or geometry libraries.
    code = """
from dlconvert import AnnotationCollection
from dlconvert.demo import sample_dataset_path
for path in sorted((sample_dataset_path() / "json").rglob("*.json")):
    collection = AnnotationCollection.from_json_file(path)
    assert collection.to_json()
    for annotation in collection:
        if annotation.type != "binary":
            annotation.annotation_definition.bounds()
        annotation.get_frame(0)
"""
    loaded = _loaded_after(code)
    assert sorted(loaded & {"cv2", "PIL", "shapely", "click", "tqdm", "dtlpy", "matplotlib"}) == []


def test_the_package_ships_its_type_marker_and_a_spdx_license():
    import tomllib

    root = Path(__file__).parent.parent
    assert (root / "dlconvert" / "py.typed").is_file()
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["dlconvert"]
    assert project["project"]["license"] == "Apache-2.0"  # the SPDX form: no deprecation warning on install
    requirement = next(r for r in project["build-system"]["requires"] if r.startswith("setuptools"))
    assert requirement == "setuptools>=77"  # the first setuptools that reads a license expression


def test_the_console_needs_no_progress_library_until_a_bar_is_shown():
    loaded = _loaded_after("from dlconvert._console import progress_bar\nprogress_bar('x')")
    assert "tqdm" not in loaded
