"""``verify`` through LabelMe, both ways: what ``convert`` calls approximated is exactly what ``verify`` finds
changed, and what it skips is what does not come back — for the real LabelMe files and a folder of every
shape type through every format, and for the bundled sample and every real file of the other formats
through LabelMe (the sources ``test_verify`` runs through every format).
"""

from __future__ import annotations

import pytest
from labelme_support import rich_folder
from realfiles import AVAILABLE, NO_REAL_FILES, real_file, requires_real_files
from test_verify import _COCO, _DATALOOP, _VOC, _VTT, _YOLO, FORMATS

from dlconvert.cli import main
from dlconvert.converter import Converter
from dlconvert.verify import verify

# pycocotools' mask functions warn about their own numpy-2 incompatibility
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept:DeprecationWarning")

VIAS = [*FORMATS, "labelme"]
LABELME = ["labelme", "labelme/unet-pytorch/datasets/before/1.json", "labelme/yolact-pytorch/datasets/before"]


def _agrees(result) -> None:
    assert result.differences == [], result.summary(limit=10)
    assert result.found_changed == result.reported_approximated
    assert result.found_missing == result.reported_skipped
    assert result.checked + result.not_representable == result.read


@requires_real_files
@pytest.mark.parametrize("via", VIAS)
@pytest.mark.parametrize("name", LABELME)
def test_real_labelme_files_through_every_format(name, via, cli_runner):
    _agrees(verify(real_file(name), "labelme", via))
    result = cli_runner.invoke(main, ["verify", str(real_file(name)), "--from", "labelme", "--via", via])
    assert result.exit_code == 0 and "differences: 0" in result.stdout.splitlines(), result.output


@pytest.mark.parametrize("via", VIAS)
def test_every_labelme_shape_through_every_format(tmp_path, via):
    result = verify(rich_folder(tmp_path / "src"), "labelme", via)
    _agrees(result)
    if via in ("dataloop", "labelme"):
        assert result.approximated == [] and result.not_representable == 0 and result.checked == 11


@pytest.mark.parametrize("via", VIAS)
def test_the_sample_written_as_labelme_through_every_format(sample_dir, tmp_path, via):
    Converter().run(sample_dir, "dataloop", tmp_path / "labelme", "labelme")
    _agrees(verify(tmp_path / "labelme", "labelme", via))


def _other_sources() -> list:
    if not AVAILABLE:
        return NO_REAL_FILES
    sources = [("dataloop", "sample")] + [(fmt, name) for fmt, names in (
        ("dataloop", _DATALOOP), ("coco", _COCO), ("yolo", _YOLO), ("voc", _VOC), ("vtt", _VTT)) for name in names]
    return [pytest.param(fmt, name, id=f"{fmt}:{name}") for fmt, name in sources]


@requires_real_files
@pytest.mark.parametrize(("fmt", "name"), _other_sources())
def test_every_format_through_labelme(fmt, name, sample_dir):
    _agrees(verify(sample_dir if name == "sample" else real_file(name), fmt, "labelme"))


def test_cli_verify_the_sample_via_labelme(sample_dir, cli_runner):
    result = cli_runner.invoke(main, ["verify", str(sample_dir), "--from", "dataloop", "--via", "labelme"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:2] == ["annotations checked: 10, not representable in the target: 12, approximated by the "
                         "target: 4", "differences: 0"]
