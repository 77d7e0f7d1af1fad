"""Overlays show the photo, or say loudly that they cannot (issue 13 §2).

Images are found the way each format's own tools find them, on the folder layouts those tools
write (real exports from ``../shared/fixtures``, read in place or linked into ``tmp_path``):
Roboflow/Ultralytics YOLO (``test/images`` + data.yaml ``test: ../test/images``), COCO with the
images beside the JSON or in ``images/`` (and Datumaro's ``annotations/`` + ``images/<subset>/``),
VOC's ``JPEGImages/``, a Dataloop export's ``items/``, and dlconvert's own ``--images-mode link``
output (made of symlinks). The oracle for "shows the photo": away from every drawn pixel (the
MASK picture, grown by the outline's width) the overlay is the image file exactly as Pillow
decodes it. An image that is not found fails the render with ``N of M images not found`` and no
output, unless ``--allow-missing-images`` (a grey checkerboard, still counted).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps
from realfiles import real_file, requires_real_files

from dlconvert import AnnotationCollection, Box
from dlconvert.cli import main
from dlconvert.dataset import ConvertOptions, Dataset
from dlconvert.images import ImageLookup, find_image
from dlconvert.render import (
    MissingImagesError,
    RenderReport,
    check_images,
    contact_sheet,
    item_picture,
    render,
    render_dataset,
    render_source,
)

ROBOFLOW_YOLO = real_file("yolo/roboflow-shoe-sole-seg")
ICEVISION_COCO = real_file("coco/icevision")
CHECKER = {72, 104}  # the two greys of the missing-image canvas

# -- helpers ----------------------------------------------------------------------------------------
def _photo(path: Path) -> np.ndarray:
    """The image file as Pillow shows it (EXIF orientation applied): the oracle."""
    with Image.open(path) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _drawn_near(mask_png: Path, margin: int = 3) -> np.ndarray:
    """Pixels the annotations cover in the MASK picture, grown by ``margin``: the overlay's 2-pixel outlines
    are centred on the shape's edge, which can pass a pixel beyond the last filled pixel centre."""
    alpha = cv2.imread(str(mask_png), cv2.IMREAD_UNCHANGED)[:, :, 3]
    kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
    return cv2.dilate((alpha > 0).astype(np.uint8), kernel) > 0


def _overlays(out: Path) -> dict[str, Path]:
    return {p.relative_to(out / "img_mask").with_suffix("").as_posix(): p for p in (out / "img_mask").rglob("*.png")}


def _assert_overlays_show_the_photos(out: Path, photos: dict[str, Path]) -> None:
    """Every overlay (``img_mask/<stem>.png``) is its photo wherever nothing is drawn; the drawn part differs."""
    overlays = _overlays(out)
    assert set(overlays) == set(photos)
    for stem, overlay_png in overlays.items():
        photo = _photo(photos[stem])
        overlay = _rgb(overlay_png)
        assert overlay.shape == photo.shape, stem
        near = _drawn_near(out / "mask" / f"{stem}.png")
        assert np.count_nonzero(~near), stem  # some of the photo to compare
        assert np.array_equal(overlay[~near], photo[~near]), stem
        drawn = cv2.imread(str(out / "mask" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)[:, :, 3] > 0
        if drawn.any():
            assert not np.array_equal(overlay[drawn], photo[drawn]), stem  # and the annotations are on it


def _render(cli_runner, src: Path, out: Path, fmt: str, *extra: str, views=("overlay", "mask")):
    args = ["render", str(src), str(out), "--from", fmt, *extra]
    for view in views:
        args += ["--view", view]
    return cli_runner.invoke(main, args)


def _is_checkerboard(picture: np.ndarray, where: np.ndarray) -> bool:
    """Grey, two levels, at ``where``: the missing-image canvas and nothing from a photo."""
    shown = picture[where]
    return set(np.unique(shown).tolist()) <= CHECKER and np.array_equal(shown[:, 0], shown[:, 1])


# -- 1. find_image and the one lookup ------------------------------------------------------------------
def test_find_image_follows_links_to_image_files_and_keeps_names_inside(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    Image.new("RGB", (4, 3), (9, 9, 9)).save(outside / "real.jpg")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    os.symlink(outside / "real.jpg", root / "sub" / "a.jpg")  # what --images-mode link writes
    os.symlink(outside, root / "linked")  # a linked folder
    os.symlink(outside, root / "folder.jpg")  # a link to a folder is no image
    os.symlink("/dev/null", root / "device.jpg")  # nor a device
    Image.new("RGB", (4, 3)).save(tmp_path / "up.jpg")

    assert find_image(root, "/sub/a.jpg") == root / "sub" / "a.jpg"
    assert find_image(root, "sub/a.png") == root / "sub" / "a.jpg"  # same stem, another extension
    assert find_image(root, "/linked/real.jpg") == root / "linked" / "real.jpg"
    assert find_image(root, "folder.jpg") is None and find_image(root, "device.jpg") is None
    for hostile in ("../up.jpg", "sub/../../up.jpg", "C:/up.jpg", "sub/a.jpg\x00"):
        assert find_image(root, hostile) is None, hostile
    assert find_image(root, str(tmp_path / "up.jpg")) is None  # an absolute name is under the root, not "/"
    assert find_image(root, "") is None and find_image(None, "a.jpg") is None


def test_the_lookup_tries_images_then_the_paired_file_then_the_roots(tmp_path):
    for folder in ("given", "paired", "first", "second"):
        (tmp_path / folder).mkdir()
    Image.new("RGB", (2, 2)).save(tmp_path / "second" / "a.jpg")
    Image.new("RGB", (2, 2)).save(tmp_path / "first" / "b.png")
    Image.new("RGB", (2, 2)).save(tmp_path / "paired" / "x.jpg")
    item = AnnotationCollection(filename="/a.jpg", width=2, height=2)
    dataset = Dataset([], images_root=tmp_path / "second", image_roots=(tmp_path / "first", tmp_path / "second"))
    lookup = ImageLookup.for_source(tmp_path / "given", dataset)
    assert lookup.roots == (tmp_path / "first", tmp_path / "second")  # images_root not listed twice
    assert lookup.find(item) == tmp_path / "second" / "a.jpg"
    item.image_path = str(tmp_path / "paired" / "x.jpg")
    assert lookup.find(item) == tmp_path / "paired" / "x.jpg"  # the reader's pairing before the roots
    Image.new("RGB", (2, 2)).save(tmp_path / "given" / "a.jpg")
    assert lookup.find(item) == tmp_path / "given" / "a.jpg"  # --images before everything
    assert lookup.find(AnnotationCollection(filename="/b.jpg")) == tmp_path / "first" / "b.png"
    assert lookup.find(AnnotationCollection(filename="/nowhere.jpg")) is None
    assert ImageLookup.of(lookup) is lookup and ImageLookup.of(None) == ImageLookup()
    assert str(tmp_path / "given") in lookup.describe() and str(tmp_path / "first") in lookup.describe()


# -- 2. real layouts show their photos --------------------------------------------------------------------
@requires_real_files
@pytest.mark.parametrize("images", [None, ".", "test/images"], ids=["no-images", "images-root", "images-split"])
def test_roboflow_yolo_export_overlays_show_the_photos(cli_runner, tmp_path, images):
    """train/images, valid/images, test/images; data.yaml ``test: ../test/images`` (the issue's repro)."""
    extra = ["--images", str(ROBOFLOW_YOLO / images)] if images else []
    result = _render(cli_runner, ROBOFLOW_YOLO, tmp_path / "out", "yolo", *extra)
    assert result.exit_code == 0, result.stderr
    assert "images not found" not in result.stderr
    # the items are named by data.yaml's split (train, val, test), the photos sit in train/, valid/, test/
    photos = {stem: next(ROBOFLOW_YOLO.glob(f"*/images/{Path(stem).name}.jpg")) for stem in _overlays(tmp_path / "out")}
    assert len(photos) == 10 == len(list(ROBOFLOW_YOLO.glob("*/images/*.jpg")))
    _assert_overlays_show_the_photos(tmp_path / "out", photos)


@requires_real_files
def test_coco_with_the_images_beside_the_json_shows_the_photos(cli_runner, tmp_path):
    """Roboflow's COCO export: ``_annotations.coco.json`` and the images in one folder."""
    src = real_file("coco/datumaro/roboflow_coco/train")
    result = _render(cli_runner, src / "_annotations.coco.json", tmp_path / "out", "coco")
    assert result.exit_code == 0, result.stderr
    _assert_overlays_show_the_photos(tmp_path / "out", {p.stem: p for p in src.glob("*.jpg")})


@requires_real_files
def test_coco_with_the_images_in_images_beside_the_json_shows_the_photos(cli_runner, tmp_path):
    """``annotations.json`` + ``images/`` (icevision's sample), no --images: the issue's COCO repro."""
    result = _render(cli_runner, ICEVISION_COCO / "annotations.json", tmp_path / "out", "coco")
    assert result.exit_code == 0, result.stderr
    _assert_overlays_show_the_photos(tmp_path / "out", {p.stem: p for p in (ICEVISION_COCO / "images").glob("*.jpg")})


@requires_real_files
def test_coco_datumaro_layout_finds_images_of_its_subset(cli_runner, tmp_path):
    """``annotations/instances_train.json`` + ``images/train/a.jpg`` (Datumaro's COCO export)."""
    root = real_file("coco/datumaro/coco_dataset")
    result = _render(cli_runner, root / "annotations" / "instances_train.json", tmp_path / "out", "coco")
    assert result.exit_code == 0, result.stderr
    _assert_overlays_show_the_photos(tmp_path / "out", {"a": root / "images" / "train" / "a.jpg"})


@requires_real_files
def test_voc_finds_its_images_in_jpegimages(cli_runner, tmp_path):
    src = real_file("voc/icevision/voc")
    result = _render(cli_runner, src, tmp_path / "out", "voc")
    assert result.exit_code == 0, result.stderr
    _assert_overlays_show_the_photos(tmp_path / "out", {p.stem: p for p in (src / "JPEGImages").glob("*.jpg")})


def test_dataloop_export_finds_its_images_in_items(cli_runner, sample_dir, tmp_path):
    result = _render(cli_runner, sample_dir, tmp_path / "out", "dataloop")
    assert result.exit_code == 0, result.stderr
    photos = {p.relative_to(sample_dir / "items").with_suffix("").as_posix(): p
              for p in (sample_dir / "items").rglob("*") if p.suffix in (".png", ".jpg")}
    assert sorted(photos) == ["animals/empty_01", "street/scene_01", "street/scene_02"]
    overlays = _overlays(tmp_path / "out")
    assert set(overlays) == {*photos, "video/traffic"}  # the video is drawn on its frame 0
    for stem, photo in photos.items():
        near = _drawn_near(tmp_path / "out" / "mask" / f"{stem}.png")
        assert np.array_equal(_rgb(overlays[stem])[~near], _photo(photo)[~near]), stem


@requires_real_files
def test_images_linked_into_a_coco_folder_are_followed(cli_runner, tmp_path):
    """Links that point out of the folder are read (the path-safety check refused them: issue 13 §2)."""
    src = tmp_path / "coco"
    src.mkdir()
    shutil.copy(ICEVISION_COCO / "annotations.json", src / "annotations.json")
    for image in (ICEVISION_COCO / "images").glob("*.jpg"):
        os.symlink(image, src / image.name)  # beside the JSON, each a link to the real file
    result = _render(cli_runner, src / "annotations.json", tmp_path / "out", "coco")
    assert result.exit_code == 0, result.stderr
    _assert_overlays_show_the_photos(tmp_path / "out", {p.stem: p for p in (ICEVISION_COCO / "images").glob("*.jpg")})


@requires_real_files
def test_dlconverts_own_linked_yolo_output_renders_its_photos(cli_runner, tmp_path):
    """``convert --to yolo --images-mode link`` writes images/<split>/ as symlinks; render reads them back."""
    yolo = tmp_path / "yolo"
    converted = cli_runner.invoke(main, ["convert", str(ICEVISION_COCO / "annotations.json"), str(yolo),
                                         "--from", "coco", "--to", "yolo", "--images-mode", "link",
                                         "--images", str(ICEVISION_COCO / "images"), "--task", "segment"])
    assert converted.exit_code == 0, converted.stderr
    links = [p for p in (yolo / "images").rglob("*.jpg")]
    assert links and all(p.is_symlink() for p in links)
    result = _render(cli_runner, yolo, tmp_path / "out", "yolo")
    assert result.exit_code == 0, result.stderr
    overlays = _overlays(tmp_path / "out")
    photos = {stem: ICEVISION_COCO / "images" / (Path(stem).name + ".jpg") for stem in overlays}
    assert len(photos) == len(links)
    _assert_overlays_show_the_photos(tmp_path / "out", photos)


# -- 3. images not found: counted, named, and no output --------------------------------------------------
@pytest.fixture
def coco_without_images(tmp_path) -> Path:
    """icevision's COCO file alone in a folder: none of its 6 images can be found."""
    if not ICEVISION_COCO.is_dir():
        pytest.skip("real-file corpus not found")
    src = tmp_path / "alone"
    src.mkdir()
    shutil.copy(ICEVISION_COCO / "annotations.json", src / "annotations.json")
    return src / "annotations.json"


@requires_real_files
@pytest.mark.parametrize("views", [("overlay",), ("mask", "overlay"), ("mask",)], ids=["overlay", "both", "sheet"])
def test_images_not_found_fail_the_render_with_the_count_and_write_nothing(cli_runner, tmp_path,
                                                                           coco_without_images, views):
    out = tmp_path / "out"
    extra = ("--sheet",) if views == ("mask",) else ()
    result = _render(cli_runner, coco_without_images, out, "coco", *extra, views=views)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: 6 of 6 images not found: /000000")
    assert lines[0].count(".jpg") == 5 and ", …" in lines[0]  # the first five named, the rest counted
    assert "--allow-missing-images" in lines[0] and "Traceback" not in result.output
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["alone"]  # nothing written


@requires_real_files
def test_one_missing_image_is_named_among_the_found_ones(cli_runner, tmp_path):
    src = tmp_path / "coco"
    (src / "images").mkdir(parents=True)
    shutil.copy(ICEVISION_COCO / "annotations.json", src / "annotations.json")
    images = sorted((ICEVISION_COCO / "images").glob("*.jpg"))
    for image in images[1:]:
        os.symlink(image, src / "images" / image.name)
    result = _render(cli_runner, src / "annotations.json", tmp_path / "out", "coco")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: 1 of 6 images not found: /{images[0].name} (looked in: ")


@requires_real_files
def test_allow_missing_images_draws_a_checkerboard_and_still_counts(cli_runner, tmp_path, coco_without_images):
    out = tmp_path / "out"
    result = _render(cli_runner, coco_without_images, out, "coco", "--allow-missing-images", "--sheet")
    assert result.exit_code == 0, result.stderr
    assert "6 of 6 images not found: /000000" in result.stderr and "checkerboard" in result.stderr
    overlays = _overlays(out)
    assert len(overlays) == 6
    for stem, path in overlays.items():
        picture = _rgb(path)
        away = ~_drawn_near(out / "mask" / f"{stem}.png")
        away[:40, :200] = False  # the "image not found" caption
        assert _is_checkerboard(picture, away), stem
        assert not _is_checkerboard(picture, ~away)  # the annotations are drawn on it
    assert (out / "sheet.png").is_file()


# -- 4. the Python API says the same ---------------------------------------------------------------------
@requires_real_files
def test_render_source_raises_the_count_and_writes_nothing(tmp_path, coco_without_images):
    out = tmp_path / "out"
    with pytest.raises(MissingImagesError, match="6 of 6 images not found") as caught:
        render_source(coco_without_images, "coco", out, ["overlay"], options=ConvertOptions())
    assert caught.value.report.images_missing == 6 and caught.value.report.images_wanted == 6
    assert len(caught.value.report.missing_examples) == 5 and not out.exists()

    report, _ = render_source(coco_without_images, "coco", out, ["overlay"], options=ConvertOptions(),
                            allow_missing_images=True, workers=2)
    assert (report.items, report.pictures, report.images_missing) == (6, 6, 6)
    assert report.missing_images_line().startswith("6 of 6 images not found: /000000")
    assert (out / "labelmap.json").is_file() and len(_overlays(out)) == 6

    found, _ = render_source(coco_without_images, "coco", tmp_path / "found", ["overlay"],
                             options=ConvertOptions(images=ICEVISION_COCO / "images"))
    assert (found.images_wanted, found.images_missing, found.missing_images_line()) == (6, 0, None)


def test_render_dataset_contact_sheet_and_check_images_count_alike(tmp_path, sample_dir):
    items = [AnnotationCollection(filename=f"/missing_{i}.png", width=40, height=30, mimetype="image/png")
             for i in range(7)]
    for item in items:
        item.add(Box(left=5, top=5, right=20, bottom=20, label="a"))
    with pytest.raises(MissingImagesError, match=r"7 of 7 images not found: /missing_0\.png, .*, …"):
        render_dataset(items, tmp_path / "a", ["overlay"], images_root=sample_dir / "items")
    assert not list((tmp_path / "a").rglob("*.png"))  # nothing drawn once an image is missing
    report = render_dataset(items, tmp_path / "b", ["overlay", "mask"], images_root=sample_dir / "items",
                            allow_missing_images=True)
    assert (report.images_wanted, report.images_missing, report.pictures) == (7, 7, 14)
    assert report.pictures == 14

    with pytest.raises(MissingImagesError, match="7 of 7"):
        contact_sheet(items, images_root=sample_dir / "items")
    counted = RenderReport()
    sheet = contact_sheet(items, images_root=sample_dir / "items", allow_missing_images=True, report=counted)
    assert sheet.ndim == 3 and counted.images_missing == 7
    assert check_images(items, sample_dir / "items").missing_images_line() == counted.missing_images_line()
    assert item_picture(items[0], sample_dir / "items") is None


def test_an_overlay_without_its_image_is_never_a_plain_canvas():
    """A flat grey overlay passed for a dark photo (issue 13 §2); the missing-image canvas is a checkerboard."""
    item = AnnotationCollection(filename="/a.png", width=200, height=120)
    picture = render(item, "overlay").image
    assert _is_checkerboard(picture, np.s_[40:, :]) and len(np.unique(picture[40:])) == 2
    caption = picture[:16, :80]
    assert caption.min() == 0 and caption.max() > 200  # captioned "image not found", white on black


@requires_real_files
def test_a_wrong_declared_size_never_squeezes_the_photo(cli_runner, tmp_path):
    """An image record that says 320×240 for a 640×427 photo: the overlay is the whole photo at its own size
    (it was the photo shrunk to 320×240, with shapes cut away as "outside")."""
    import json

    document = json.loads((ICEVISION_COCO / "annotations.json").read_text(encoding="utf-8"))
    image = document["images"][0]
    photo = _photo(ICEVISION_COCO / "images" / image["file_name"])
    assert photo.shape[:2] != (240, 320)
    image["width"], image["height"] = 320, 240
    document["images"] = [image]
    document["annotations"] = [a for a in document["annotations"] if a["image_id"] == image["id"]]
    src = tmp_path / "coco"
    (src / "images").mkdir(parents=True)
    shutil.copy(ICEVISION_COCO / "images" / image["file_name"], src / "images" / image["file_name"])
    (src / "annotations.json").write_text(json.dumps(document), encoding="utf-8")
    result = _render(cli_runner, src / "annotations.json", tmp_path / "out", "coco", views=("overlay",))
    assert result.exit_code == 0, result.stderr
    overlay = _rgb(_overlays(tmp_path / "out")[Path(image["file_name"]).stem])
    assert overlay.shape == photo.shape
    assert np.count_nonzero((overlay != photo).any(axis=2))  # the shapes are drawn on it


def test_the_missing_image_caption_is_drawn_over_the_labels():
    """A label tag at the corner covered the caption ("image not founccat"): the caption is drawn last."""
    item = AnnotationCollection(filename="/a.png", width=400, height=120)
    item.add(Box(left=0, top=0, right=300, bottom=100, label="a_very_long_label_name_here"))
    captioned = render(item, "overlay", with_text=True).image
    alone = render(AnnotationCollection(filename="/b.png", width=400, height=120), "overlay").image
    corner = np.s_[:16, :79]  # the caption's tag (75×9 text, 3 below the line, 2 of padding)
    assert np.array_equal(captioned[corner], alone[corner])
