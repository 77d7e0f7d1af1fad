"""The visual-QA notebook (notebooks/visual_qa.ipynb) runs top to bottom, headless, and shows pictures,
using dlconvert's public API only.

It is executed with nbclient in the ``python3`` kernel (jupyter_client starts it with this
interpreter, so the project's venv) on a copy in a temporary folder: once as committed (the
bundled sample, its format detected), and with only its first code cell changed to read a COCO
file (images elsewhere, or not found) and a real COCO folder with its images.
"""

from __future__ import annotations

import ast
import base64
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image
from realfiles import real_file, requires_real_files

import dlconvert
from dlconvert.converter import Converter
from dlconvert.formats.dataloop import read_dataloop

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "visual_qa.ipynb"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _execute(folder: Path, first_cell: str | None = None) -> nbformat.NotebookNode:
    """Run a copy of the notebook in ``folder`` (optionally with another first code cell); returns it executed."""
    copy = folder / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    notebook = nbformat.read(copy, as_version=4)
    if first_cell is not None:
        next(cell for cell in notebook.cells if cell.cell_type == "code").source = first_cell
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    nbformat.write(notebook, copy)
    return notebook


def _outputs(notebook: nbformat.NotebookNode) -> list:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def _pictures(notebook: nbformat.NotebookNode) -> list[bytes]:
    return [base64.b64decode(output["data"]["image/png"]) for output in _outputs(notebook)
            if "image/png" in output.get("data", {})]


def _check_ran_and_showed_pictures(notebook: nbformat.NotebookNode, minimum: int = 3) -> None:
    outputs = _outputs(notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr" and "Traceback" in o.text]
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")  # every cell ran
    pictures = _pictures(notebook)
    assert len(pictures) >= minimum
    for data in pictures:
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            assert image.format == "PNG" and image.width >= 200 and image.height >= 100
            assert np.asarray(image.convert("L")).std() > 5  # not a blank figure


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> nbformat.NotebookNode:
    return _execute(tmp_path_factory.mktemp("notebook"))


def test_committed_notebook_is_clean_and_parameterised_in_its_first_cell():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)  # outputs cleared
    first = code[0].source
    for line in ("SOURCE = dlconvert.demo.sample_dataset_path()", 'FORMAT = "auto"', "IMAGES = None"):
        assert line in first
    assert not any(name in cell.source for cell in code[1:] for name in ("SOURCE =", "FORMAT =", "IMAGES ="))
    assert sum(cell.cell_type == "markdown" for cell in notebook.cells) >= 6  # each step explained


#: What the notebook may use of dlconvert: the package's public names and the renderer's.
PUBLIC = {*dlconvert.__all__, "demo", "render"}


def test_the_notebook_uses_the_public_api_only():
    """``dlconvert.read``/``write``/``detect``, ``dlconvert.render``'s functions, the objects they return: no
    internal module (``dlconvert.converter``, ``dlconvert.formats`` …) is imported or reached through."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    tree = ast.parse(re.sub(r"^%.*$", "", code, flags=re.M))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    ours = {name for name in imported if name.split(".")[0] == "dlconvert"}
    assert ours == {"dlconvert", "dlconvert.demo", "dlconvert.render"}
    from_render = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                   and node.module == "dlconvert.render" for alias in node.names}
    assert from_render <= set(dlconvert.render.__all__)
    reached = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
               and isinstance(node.value, ast.Name) and node.value.id == "dlconvert"}
    assert reached <= PUBLIC and {"read", "write", "detect"} <= reached


def test_notebook_runs_on_the_bundled_sample(sample_run, sample_dir, tmp_path):
    _check_ran_and_showed_pictures(sample_run, minimum=5)  # statistics, sheet, the item itself, four views, flagged
    items = list(read_dataloop(sample_dir))
    text = "".join(o.get("text", "") for o in _outputs(sample_run) if o.output_type == "stream")
    assert (f"{len(items)} items ({sum(not c.is_audio for c in items)} with pictures), "
            f"{sum(len(c) for c in items)} annotations") in text
    assert f"all 4 images found (looked in: the image each reader paired with its item; {sample_dir / 'items'})" in text
    assert "json/animals/empty_01.json: a Dataloop item JSON" in text  # what detection found, and why
    assert "read as dataloop: " in text
    report = Converter().run(sample_dir, "dataloop", tmp_path / "coco", "coco")
    assert report.issues  # the sample has things COCO cannot hold
    tables = [o["data"]["text/html"] for o in _outputs(sample_run) if "text/html" in o.get("data", {})]
    assert len(tables) == 1 and tables[0].count("<tr>") == 1 + len(report.issues)  # header + one row per issue
    for issue in report.issues:
        assert issue.code in tables[0] and f"{issue.item}: " in text  # listed, and its item named


def test_the_item_shows_itself_as_its_overlay(sample_run, sample_dir):
    """The cell whose value is a collection displays its ``_repr_png_``: the overlay on its image."""
    cell = next(cell for cell in sample_run.cells if cell.cell_type == "code" and cell.source.endswith("\nitem"))
    [output] = [o for o in cell.outputs if o.output_type == "execute_result"]
    with Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"]))) as shown:
        picture = np.asarray(shown.convert("RGB"))
    item = next(c for c in dlconvert.read(sample_dir) if len(c) and not c.is_audio)
    assert picture.shape == (item.height, item.width, 3)  # the sample's images are small: shown whole
    expected = item.show(image=np.asarray(Image.open(sample_dir / "items" / item.filename.lstrip("/")).convert("RGB")),
                         annotation_format="overlay", thickness=None, alpha=None, with_text=True)
    assert np.array_equal(picture, expected[..., :3])


def test_notebook_reads_another_format_by_changing_its_first_cell(sample_dir, tmp_path):
    Converter().run(sample_dir, "dataloop", tmp_path / "coco", "coco")
    first = (f"SOURCE = {str(tmp_path / 'coco' / 'coco.json')!r}\nFORMAT = \"coco\"\n"
             f"IMAGES = {str(sample_dir / 'items')!r}\n")
    notebook = _execute(tmp_path, first)
    _check_ran_and_showed_pictures(notebook, minimum=3)
    text = "".join(o.get("text", "") for o in _outputs(notebook) if o.output_type == "stream")
    listed = len(json.loads((tmp_path / "coco" / "coco.json").read_text(encoding="utf-8"))["images"])
    assert listed == 3  # the sample's images (the video item is not an image: COCO skips it)
    assert f"{listed} items ({listed} with pictures)" in text and str(sample_dir / "items") in text
    assert f"all {listed} images found" in text


def test_notebook_counts_the_images_it_cannot_find(sample_dir, tmp_path):
    """The same count as ``dlconvert render`` (issue 13 §2); the pictures are still shown, on checkerboards."""
    Converter().run(sample_dir, "dataloop", tmp_path / "coco", "coco")
    first = f"SOURCE = {str(tmp_path / 'coco' / 'coco.json')!r}\nFORMAT = \"auto\"\nIMAGES = None\n"
    notebook = _execute(tmp_path, first)
    _check_ran_and_showed_pictures(notebook, minimum=3)
    text = "".join(o.get("text", "") for o in _outputs(notebook) if o.output_type == "stream")
    names = sorted(image["file_name"] for image in
                   json.loads((tmp_path / "coco" / "coco.json").read_text(encoding="utf-8"))["images"])
    assert names == ["animals/empty_01.png", "street/scene_01.png", "street/scene_02.jpg"]
    assert "3 of 3 images not found: /animals/empty_01.png, /street/scene_01.png, /street/scene_02.jpg (looked in: " \
        in text


@requires_real_files
def test_notebook_on_a_real_coco_folder_with_its_images(tmp_path):
    """A COCO folder as dtlpy-converters ships it (``coco/annotations.json`` beside ``images/``): detected as
    COCO, every image found where COCO tools look (``../images/``), drawn on the photos."""
    source = real_file("dataloop/dtlpy-converters-examples/coco")
    notebook = _execute(tmp_path, f"SOURCE = {str(source)!r}\nFORMAT = \"auto\"\nIMAGES = None\n")
    _check_ran_and_showed_pictures(notebook, minimum=4)  # COCO to COCO flags nothing: no sheet of flagged items
    text = "".join(o.get("text", "") for o in _outputs(notebook) if o.output_type == "stream")
    images = json.loads((source / "coco" / "annotations.json").read_text(encoding="utf-8"))["images"]
    assert f"read as coco: {len(images)} items ({len(images)} with pictures)" in text
    assert f"all {len(images)} images found" in text and str(source / "images") in text
