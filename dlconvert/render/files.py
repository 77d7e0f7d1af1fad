"""Rendered pictures on disk: loading an item's image as people see it, writing PNGs and legends,
and rendering a whole dataset into the Dataloop export layout (``mask/``, ``instance/``,
``object_id/``, ``img_mask/`` — the overlay, under the export's own name — mirroring the items'
remote folders).

Images are found by :class:`~dlconvert.images.ImageLookup`. An overlay whose image is not found is
never drawn on something that passes for a photo: the render counts it and fails at the end with
``N of M images not found`` (:class:`~dlconvert.render.report.MissingImagesError`), unless
``allow_missing_images``, which draws it on a grey checkerboard and still counts it.
"""

from __future__ import annotations

import io
import os
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .._io import OutputFolder, atomic_write, safe_join
from .._json import dumps
from ..collection import AnnotationCollection
from ..errors import DlconvertError, FormatError
from ..images import ImageLookup, embedded_image_bytes
from ..labels import LabelMap
from . import png
from .report import MissingImagesError, RenderReport
from .views import (
    MAX_CANVAS_PIXELS,
    MAX_ID,
    RenderResult,
    ViewAnnotationOptions,
    as_view,
    check_style,
    render,
)

__all__ = ["check_images", "encode_picture", "item_picture", "load_display_image", "load_video_frame", "picture_path",
           "picture_views", "render_dataset", "render_items", "save_view", "write_picture"]


def load_video_frame(path: str | os.PathLike[str], frame_num: int = 0) -> np.ndarray | None:
    """Frame ``frame_num`` of a video file as RGB, or None when it cannot be read."""
    import cv2

    capture = cv2.VideoCapture(os.fspath(path))
    try:
        if frame_num:
            capture.set(cv2.CAP_PROP_POS_FRAMES, frame_num)
        ok, frame = capture.read()
    finally:
        capture.release()
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) if ok else None


def item_picture(collection: AnnotationCollection, images_root: ImageLookup | str | os.PathLike[str] | None = None,
                 frame_num: int | None = None) -> np.ndarray | None:
    """The item's image as people see it (a video's frame), or None when it is not found.

    ``images_root``: an :class:`~dlconvert.images.ImageLookup`, or a folder tried before the image
    the reader paired with the item (``collection.image_path``). With no file found, the image the item's
    annotation file carries (``collection.embedded_image``: LabelMe's ``imageData``, which LabelMe shows).
    """
    if collection.is_audio:
        return None
    path = ImageLookup.of(images_root).find(collection)
    if path is None:
        embedded = None if collection.is_video else embedded_image_bytes(collection)
        return None if embedded is None else _display_image(io.BytesIO(embedded), collection.origin)
    if collection.is_video:
        return load_video_frame(path, frame_num or 0)
    return load_display_image(path)


def load_display_image(path: str | os.PathLike[str]) -> np.ndarray:
    """An image file as an RGB array in its displayed orientation (EXIF applied), size-guarded."""
    return _display_image(path, path)


def _display_image(source, origin: str | os.PathLike[str] | None) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(source) as image:
            if image.width * image.height > MAX_CANVAS_PIXELS:
                raise FormatError(f"image is {image.width}×{image.height}, more than {MAX_CANVAS_PIXELS} pixels",
                                  path=origin)
            shown = ImageOps.exif_transpose(image)
            return np.asarray(shown.convert("RGB"))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise FormatError(f"cannot read the image: {exc}", path=origin) from None


def encode_picture(array: np.ndarray) -> tuple[bytes, str]:
    """PNG bytes (8/16-bit grey, RGB, RGBA) — or a 32-bit TIFF for ids past 65,535 — and the extension.

    A picture of flat areas (every MASK and id picture) is written from its runs of equal pixels
    (:mod:`.png`, whose docstring gives the compression); any other (a photo drawn on) by OpenCV with its
    defaults (Sub filter, zlib level 1, ``Z_RLE``). Both decode to the array's pixels.
    """
    import cv2

    if array.dtype == np.uint32:
        from PIL import Image

        if array.size and int(array.max()) > MAX_ID:  # PIL writes mode "I" signed: larger values would wrap
            raise DlconvertError(f"a pixel value of {int(array.max())} is more than a 32-bit TIFF holds ({MAX_ID})")

        buffer = io.BytesIO()
        Image.fromarray(array.astype(np.int32), mode="I").save(buffer, format="TIFF", compression="tiff_deflate")
        return buffer.getvalue(), ".tiff"
    if array.dtype in (np.uint8, np.uint16) and array.size:
        runs = png.runs_of(array)
        if png.fits(runs)[0]:
            return png.encode(runs)[0], ".png"
    if array.ndim == 3 and array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA)
    elif array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", array)
    if not ok:  # pragma: no cover - OpenCV only fails on empty arrays
        raise DlconvertError("cannot encode the picture as PNG")
    return buffer.tobytes(), ".png"


def write_picture(result: RenderResult, path: Path, view: ViewAnnotationOptions,
                  encoded: tuple[bytes, str] | None = None,
                  write: Callable[[Path, bytes], None] = atomic_write) -> Path:
    """Write the picture (and, for id views, ``<name>.json`` with pixel value → meaning); ``encoded``: the
    picture's file and extension when already made (:func:`encode_picture` of ``result.image`` otherwise);
    ``write``: how a file is written (atomically, unless the whole folder is staged)."""
    data, extension = encoded if encoded is not None else encode_picture(result.image)
    target = path.with_suffix(extension)
    write(target, data)
    if view in (ViewAnnotationOptions.INSTANCE, ViewAnnotationOptions.OBJECT_ID):
        legend = {"background": 0, "values": {str(k): v for k, v in sorted(result.legend.items())},
                  "overlap_pixels": result.overlap_pixels, "not_drawn": dict(sorted(result.not_drawn.items()))}
        write(path.with_suffix(".json"), dumps(legend))
    return target


def check_images(collections: Iterable[AnnotationCollection],
                 images_root: ImageLookup | str | os.PathLike[str] | None = None) -> RenderReport:
    """Look for every item's image without drawing anything: the counts an overlay render would report
    (``missing_images_line()``: ``N of M images not found: …``). Audio items have no image to find."""
    images = ImageLookup.of(images_root)
    report = RenderReport(looked_in=images.describe())
    for collection in collections:
        report.items += 1
        if collection.is_audio:
            report.skipped += 1
        else:
            report.image(collection.filename or collection.name or f"item_{report.items}",
                         images.has_image(collection))
    return report


def picture_views(views: Iterable) -> list[ViewAnnotationOptions]:
    """The views asked (any form :func:`~dlconvert.render.views.as_view` takes), refusing JSON and VTT."""
    chosen = [as_view(v) for v in views]
    for view in chosen:
        if view in (ViewAnnotationOptions.JSON, ViewAnnotationOptions.VTT):
            raise ValueError(f"{view.value} is not a picture; render takes mask, instance, object_id or overlay")
    return chosen


def render_dataset(collections: Iterable[AnnotationCollection], dst: str | os.PathLike[str], views: Iterable,
                   *, images_root: ImageLookup | str | os.PathLike[str] | None = None,
                   label_map: LabelMap | None = None, frame_num: int | None = None, alpha: float | None = None,
                   thickness: int | None = None, with_text: bool = False, color_by: str = "label",
                   allow_missing_images: bool = False, progress=None, first_index: int = 0) -> RenderReport:
    """Render every item in every view into ``dst/<view>/<remote dir>/<stem>.png``; returns the counts.

    Pictures are written as they are drawn (``render_source`` builds a whole folder atomically).
    With an overlay view, an item whose image is not found (``images_root``: an
    :class:`~dlconvert.images.ImageLookup` or the folder tried first) raises
    :class:`~dlconvert.render.report.MissingImagesError` once every item has been looked at (nothing
    more is drawn after the first one), unless ``allow_missing_images``.
    An item without a name is written as ``item_<n>``, ``n`` counting from ``first_index + 1``
    (a shard of a larger dataset passes the number of items before it).
    """
    style = checked_style(frame_num=frame_num, alpha=alpha, thickness=thickness, with_text=with_text,
                          color_by=color_by)
    report = render_items(collections, dst, views, images=ImageLookup.of(images_root), label_map=label_map,
                          style=style, allow_missing_images=allow_missing_images, progress=progress,
                          first_index=first_index)
    if report.images_missing and not allow_missing_images:
        raise MissingImagesError(report)
    return report


def checked_style(**style) -> dict:
    """The drawing arguments, checked (:func:`~dlconvert.render.views.check_style`)."""
    check_style(**{k: v for k, v in style.items() if k != "with_text"})
    return style


def render_items(collections: Iterable[AnnotationCollection], dst: str | os.PathLike[str], views: Iterable, *,
                 images: ImageLookup, label_map: LabelMap | None, style: dict, allow_missing_images: bool,
                 progress=None, first_index: int = 0) -> RenderReport:
    """:func:`render_dataset` without the final check: a shard's counts, for the caller to add up."""
    views = picture_views(views)
    overlay = ViewAnnotationOptions.ANNOTATION_ON_IMAGE in views
    report = RenderReport(looked_in=images.describe() if overlay else "")
    frame_num = style.get("frame_num")
    for collection in progress(collections) if progress else collections:
        report.items += 1
        if collection.is_audio:
            report.skipped += 1
            continue
        name = collection.filename or collection.name or f"item_{first_index + report.items}"
        failing = report.images_missing and not allow_missing_images
        if failing:  # the render will fail: only count the rest, reading no more pixels
            if overlay:
                report.image(name, images.has_image(collection))
            continue
        image = item_picture(collection, images, frame_num) if overlay else None
        if overlay:
            report.image(name, image is not None)
            if image is None and not allow_missing_images:
                continue
        problems: dict[int, tuple[str, str]] = {}
        for view in views:
            result = render(collection, view, image=image if view is ViewAnnotationOptions.ANNOTATION_ON_IMAGE
                            else None, label_map=label_map, **style)
            save_view(result, picture_path(dst, view, name), view, report, problems)
        report.left_out(name, problems)
    return report


def picture_path(dst: str | os.PathLike[str], view: ViewAnnotationOptions, name: str,
                 folder: OutputFolder | None = None) -> Path:
    """Where the export layout puts the item ``name``'s picture in ``view``: ``dst/<view>/<remote dir>/<stem>.png``
    (refused with :class:`~dlconvert.errors.OutputError` when it would leave ``dst``); ``folder``: the
    :class:`~dlconvert._io.OutputFolder` of ``dst/<view>`` when many pictures go there."""
    relative = posixpath.splitext(name.lstrip("/"))[0] + ".png"
    return safe_join(Path(dst) / view.value, relative) if folder is None else folder.join(relative)


def save_view(result: RenderResult, path: Path, view: ViewAnnotationOptions, report: RenderReport,
              problems: dict[int, tuple[str, str]], encoded: tuple[bytes, str] | None = None,
              write: Callable[[Path, bytes], None] = atomic_write) -> None:
    """Write one picture of an item (:func:`write_picture`) and count it; what it left out joins the item's
    ``problems`` (an annotation counts under the first view that left it out)."""
    write_picture(result, path, view, encoded, write)
    report.pictures += 1
    for index, problem in result.problems.items():
        problems.setdefault(index, problem)
