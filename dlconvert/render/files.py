"""Rendered pictures on disk: loading an item's image as people see it, writing PNGs and legends,
and rendering a whole dataset into the Dataloop export layout (``mask/``, ``instance/``,
``object_id/``, ``img_mask/`` mirroring the items' remote folders)."""

from __future__ import annotations

import io
import os
import posixpath
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .._io import atomic_write, safe_join
from .._json import dumps
from ..collection import AnnotationCollection
from ..errors import DlconvertError, FormatError
from ..labels import LabelMap
from .views import MAX_CANVAS_PIXELS, MAX_ID, RenderResult, ViewAnnotationOptions, as_view, render

__all__ = ["encode_picture", "item_picture", "load_display_image", "load_video_frame", "render_dataset",
           "write_picture"]


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


def item_picture(collection: AnnotationCollection, images_root: Path | None, frame_num: int | None = None
                 ) -> np.ndarray | None:
    """The item's image as people see it (a video's frame), when its file is under ``images_root``."""
    from ..images import find_image

    path = find_image(images_root, collection.filename or "") if images_root else None
    if path is None or collection.is_audio:
        return None
    if collection.is_video:
        return load_video_frame(path, frame_num or 0)
    return load_display_image(path)


def load_display_image(path: str | os.PathLike[str]) -> np.ndarray:
    """An image file as an RGB array in its displayed orientation (EXIF applied), size-guarded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_CANVAS_PIXELS:
                raise FormatError(f"image is {image.width}×{image.height}, more than {MAX_CANVAS_PIXELS} pixels",
                                  path=path)
            shown = ImageOps.exif_transpose(image)
            return np.asarray(shown.convert("RGB"))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise FormatError(f"cannot read the image: {exc}", path=path) from None


def encode_picture(array: np.ndarray) -> tuple[bytes, str]:
    """PNG bytes (8/16-bit grey, RGB, RGBA) — or a 32-bit TIFF for ids past 65,535 — and the extension."""
    import cv2

    if array.dtype == np.uint32:
        from PIL import Image

        if array.size and int(array.max()) > MAX_ID:  # PIL writes mode "I" signed: larger values would wrap
            raise DlconvertError(f"a pixel value of {int(array.max())} is more than a 32-bit TIFF holds ({MAX_ID})")

        buffer = io.BytesIO()
        Image.fromarray(array.astype(np.int32), mode="I").save(buffer, format="TIFF", compression="tiff_deflate")
        return buffer.getvalue(), ".tiff"
    if array.ndim == 3 and array.shape[2] == 4:
        array = cv2.cvtColor(array, cv2.COLOR_RGBA2BGRA)
    elif array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", array)
    if not ok:  # pragma: no cover - OpenCV only fails on empty arrays
        raise DlconvertError("cannot encode the picture as PNG")
    return buffer.tobytes(), ".png"


def write_picture(result: RenderResult, path: Path, view: ViewAnnotationOptions) -> Path:
    """Write the picture (and, for id views, ``<name>.json`` with pixel value → meaning)."""
    data, extension = encode_picture(result.image)
    target = path.with_suffix(extension)
    atomic_write(target, data)
    if view in (ViewAnnotationOptions.INSTANCE, ViewAnnotationOptions.OBJECT_ID):
        legend = {"background": 0, "values": {str(k): v for k, v in sorted(result.legend.items())},
                  "overlap_pixels": result.overlap_pixels, "not_drawn": dict(result.not_drawn)}
        atomic_write(path.with_suffix(".json"), dumps(legend))
    return target


def render_dataset(collections: Iterable[AnnotationCollection], dst: str | os.PathLike[str], views: Iterable,
                   *, images_root: Path | None = None, label_map: LabelMap | None = None, frame_num: int | None = None,
                   alpha: float | None = None, thickness: int | None = None, with_text: bool = False,
                   progress=None, first_index: int = 0) -> dict[str, int]:
    """Render every item in every view into ``dst/<view>/<remote dir>/<stem>.png``; returns counts.

    An item without a name is written as ``item_<n>``, ``n`` counting from ``first_index + 1``
    (a shard of a larger dataset passes the number of items before it).
    """
    views = [as_view(v) for v in views]
    counts = {"items": 0, "pictures": 0, "skipped": 0}
    items = progress(collections) if progress else collections
    for collection in items:
        counts["items"] += 1
        if collection.is_audio:
            counts["skipped"] += 1
            continue
        overlay = ViewAnnotationOptions.ANNOTATION_ON_IMAGE in views
        image = item_picture(collection, images_root, frame_num) if overlay else None
        name = collection.filename or collection.name or f"item_{first_index + counts['items']}"
        stem = posixpath.splitext(name.lstrip("/"))[0]
        for view in views:
            result = render(collection, view, image=image if view is ViewAnnotationOptions.ANNOTATION_ON_IMAGE
                            else None, label_map=label_map, frame_num=frame_num, alpha=alpha, thickness=thickness,
                            with_text=with_text)
            write_picture(result, safe_join(Path(dst) / view.value, stem + ".png"), view)
            counts["pictures"] += 1
    return counts
