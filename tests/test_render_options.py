"""Every ``render`` option and argument is range-checked, documented, and takes the SDK's own names.

* ``render --thickness 1000000000`` ended in an OpenCV assertion shown as an internal error
  (issue 13 §6): every numeric option of the command and every argument of the Python API is
  checked before anything is drawn or written.
* Every option of ``render`` has help text (issue 13 §7).
* Views given as the real dtlpy's enum (``dl.ViewAnnotationOptions.MASK``, whose ``str()`` is
  ``"ViewAnnotationOptions.MASK"``) and ``dl.VIEW_ANNOTATION_OPTIONS_*`` constants are accepted
  wherever a view is taken (issue 16 item 1).
"""

from __future__ import annotations

import click
import numpy as np
import pytest

from dlconvert import AnnotationCollection, Box
from dlconvert.cli import main
from dlconvert.cli.render import render as render_command
from dlconvert.render import ViewAnnotationOptions, contact_sheet, render, render_dataset, render_source, view_strip
from dlconvert.render.views import as_view


def _item() -> AnnotationCollection:
    collection = AnnotationCollection(filename="/a.png", width=60, height=40, mimetype="image/png")
    collection.add(Box(left=5, top=5, right=30, bottom=30, label="a"), object_id=3)
    return collection


# -- 1. range checks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("option, value", [
    ("--thickness", "1000000000"), ("--thickness", "0"), ("--thickness", "-2"), ("--thickness", "1001"),
    ("--thickness", "two"), ("--alpha", "1.5"), ("--alpha", "-0.1"), ("--alpha", "nan"), ("--frame", "-1"),
    ("--frame", str(2**31)), ("--color-by", "instance"),
])
def test_cli_refuses_out_of_range_options_before_writing(cli_runner, sample_dir, tmp_path, option, value):
    out = tmp_path / "out"
    result = cli_runner.invoke(main, ["render", str(sample_dir), str(out), "--from", "dataloop",
                                      "--view", "overlay", option, value])
    assert result.exit_code == 2, result.output + result.stderr  # a usage error, not an internal error (3)
    assert f"Invalid value for '{option}'" in result.stderr and "Traceback" not in result.output + result.stderr
    assert not out.exists()


@pytest.mark.parametrize("thickness", [-1, 1, 1000])
def test_cli_takes_every_thickness_in_range(cli_runner, sample_dir, tmp_path, thickness):
    result = cli_runner.invoke(main, ["render", str(sample_dir), str(tmp_path / "out"), "--from", "dataloop",
                                      "--view", "mask", "--view", "overlay", "--thickness", str(thickness)])
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("arguments", [
    {"thickness": 10**9}, {"thickness": 0}, {"thickness": -2}, {"thickness": 2.5}, {"thickness": True},
    {"alpha": float("nan")}, {"alpha": 1.01}, {"alpha": "0.5"}, {"frame_num": -1}, {"frame_num": 2**31},
    {"color_by": "instance"}, {"color": (0, 0, 256)}, {"color": (1, 2)}, {"height": 0}, {"width": -5},
    {"height": 2.5},
])
def test_the_python_api_refuses_out_of_range_arguments(arguments):
    with pytest.raises(ValueError):
        render(_item(), "mask", **arguments)


@pytest.mark.parametrize("arguments", [{"thickness": 10**9}, {"alpha": 2.0}, {"frame_num": -3},
                                       {"color_by": "track"}])
def test_render_source_and_render_dataset_check_before_writing(sample_dir, tmp_path, arguments):
    with pytest.raises(ValueError):
        render_source(sample_dir, "dataloop", tmp_path / "out", ["mask"], **arguments)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError):
        render_dataset([_item()], tmp_path / "direct", ["mask"], **arguments)
    assert not (tmp_path / "direct").exists()


def test_sheet_and_strip_layout_arguments_are_checked():
    for arguments in ({"tile": 0}, {"tile": 10**6}, {"columns": 0}, {"columns": 10**9}, {"tile": 64.5}):
        with pytest.raises(ValueError):
            contact_sheet([_item()], allow_missing_images=True, **arguments)
    with pytest.raises(ValueError):
        view_strip(_item(), gap=-1)
    with pytest.raises(ValueError, match="not a picture"):
        render_dataset([_item()], "unused", ["json"])


def test_the_largest_thickness_draws_without_an_opencv_assertion():
    picture = render(_item(), "mask", thickness=1000).image
    assert picture[:, :, 3].any()


# -- 2. help text ---------------------------------------------------------------------------------------
def test_every_render_option_has_help_text():
    options = [p for p in render_command.params if isinstance(p, click.Option)]
    assert {o.name for o in options} >= {"labels", "images", "thickness", "alpha", "frame_num", "with_text",
                                          "color_by", "allow_missing_images", "sheet", "overwrite", "views"}
    for option in options:
        assert option.help and len(option.help) > 15, option.name
    views = next(o for o in options if o.name == "views")
    assert "img_mask/" in views.help  # where the overlay is written, by the Dataloop export's name


def test_render_help_shows_every_option(cli_runner):
    result = cli_runner.invoke(main, ["render", "--help"])
    assert result.exit_code == 0
    for flag in ("--labels", "--images", "--allow-missing-images", "--color-by", "--thickness", "--frame"):
        assert flag in result.output


# -- 3. the SDK's own view names ------------------------------------------------------------------------
def test_the_real_sdk_enum_and_constants_are_views_everywhere(tmp_path):
    import dtlpy as dl

    for member in dl.ViewAnnotationOptions:
        assert as_view(member) is ViewAnnotationOptions(member.value)
        assert as_view(str(member)) is ViewAnnotationOptions(member.value)  # "ViewAnnotationOptions.MASK"
        assert as_view(member.name) is ViewAnnotationOptions(member.value)
    constants = [name for name in dir(dl) if name.startswith("VIEW_ANNOTATION_OPTIONS_")]
    assert len(constants) == 6
    for name in constants:
        assert as_view(getattr(dl, name)).name == name.removeprefix("VIEW_ANNOTATION_OPTIONS_")
    for ours in ViewAnnotationOptions:
        assert as_view(ours) is ours and as_view(ours.value) is ours
    assert as_view("overlay") is ViewAnnotationOptions.ANNOTATION_ON_IMAGE
    with pytest.raises(ValueError, match="unknown view"):
        as_view("viewannotationoptions.nothing")
    with pytest.raises(ValueError, match="unknown view"):
        as_view(3)

    collection = _item()
    assert np.array_equal(collection.show(annotation_format=dl.ViewAnnotationOptions.MASK),
                          collection.show(annotation_format="mask"))
    assert np.array_equal(collection.show(annotation_format=dl.VIEW_ANNOTATION_OPTIONS_INSTANCE),
                          collection.show(annotation_format="instance"))
    path = collection.download(tmp_path / "ids.png", annotation_format=dl.ViewAnnotationOptions.OBJECT_ID)
    assert path.is_file() and (tmp_path / "ids.json").is_file()
    report = render_dataset([collection], tmp_path / "views", [dl.ViewAnnotationOptions.ANNOTATION_ON_IMAGE,
                                                               dl.VIEW_ANNOTATION_OPTIONS_MASK],
                            allow_missing_images=True)
    assert report.pictures == 2
    assert (tmp_path / "views/img_mask/a.png").is_file() and (tmp_path / "views/mask/a.png").is_file()


def test_an_item_size_that_is_no_size_is_one_error_and_a_whole_float_is_a_size():
    from dlconvert import DlconvertError

    for width in (-64, 0, 2.5, "wide"):
        collection = AnnotationCollection(filename="/bad.png", width=width, height=48)
        with pytest.raises(DlconvertError, match="not a size"):
            render(collection, "mask")
    assert render(AnnotationCollection(filename="/f.png", width=64.0, height=48.0), "mask").image.shape == (48, 64, 4)


def test_the_output_may_not_lie_in_the_source_or_the_images(cli_runner, sample_dir, tmp_path):
    import shutil

    src, images = tmp_path / "export", tmp_path / "images"
    shutil.copytree(sample_dir, src)
    images.mkdir()
    for dst, extra in ((src / "pictures", ()), (images / "pictures", ("--images", str(images)))):
        result = cli_runner.invoke(main, ["render", str(src), str(dst), "--from", "dataloop", *extra])
        assert result.exit_code == 1 and result.stderr.startswith("error: "), result.stderr
        assert not dst.exists()


def test_a_contact_sheet_holds_a_bounded_number_of_tiles_and_says_how_many_more(tmp_path):
    """A sheet of a huge dataset would need gigabytes: past ``max_tiles`` the items are counted, not drawn."""
    from dlconvert import AnnotationCollection, Box
    from dlconvert.render.sheet import MAX_TILES, contact_sheet

    def items(n):
        for i in range(n):
            collection = AnnotationCollection(filename=f"/{i}.png", width=32, height=32, mimetype="image/png")
            collection.add(Box(left=2, top=2, right=20, bottom=20, label="a"))
            yield collection

    few = contact_sheet(items(3), view="mask", columns=3, tile=32, max_tiles=3)
    more = contact_sheet(items(10), view="mask", columns=3, tile=32, max_tiles=3)
    assert more.shape[1] == few.shape[1] and more.shape[0] > few.shape[0]  # the same grid, plus the last line
    assert (more[:few.shape[0]] == few).all()
    with pytest.raises(ValueError, match="max_tiles"):
        contact_sheet(items(1), view="mask", max_tiles=MAX_TILES + 1)
