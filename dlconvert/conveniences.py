"""The SDK's conveniences on the model that need the layers above it: pictures and files.

The Dataloop SDK lets a collection or an annotation draw and save itself (``show``,
``download``) and read captions (``from_vtt_file``). The model (``collection.py``,
``annotation.py``) keeps those methods, as two-line delegators gathered in one section of each
file ("SDK conveniences that reach up"), and the work is done here, where importing
``render/`` and ``formats/`` points down. Defaults are the SDK's documented ones: a line
thickness of 1 (outlines; -1 fills), alpha 1, ``download`` writing JSON unless asked otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .annotation import Annotation
    from .collection import AnnotationCollection

__all__ = ["DISPLAY_MAX_PIXELS", "DISPLAY_SIDE", "display_png", "download_annotation", "download_collection",
           "overlay_picture", "plot_collection", "read_vtt_into", "show_annotation", "show_collection", "to_dtlpy"]

#: The longest side of the picture a collection shows of itself in Jupyter; larger ones are scaled down.
DISPLAY_SIDE = 1024
#: An item larger than this (4096²) is not drawn by itself for display (its text repr is shown instead):
#: a picture Jupyter asks for on its own must stay cheap. ``plot()`` draws any size the renderer takes.
DISPLAY_MAX_PIXELS = 4096 * 4096


def show_collection(collection: AnnotationCollection, *, image: Any, thickness: int | None, with_text: bool,
                    height: int | None, width: int | None, annotation_format: Any, label_instance_dict: dict | None,
                    color: Any, alpha: float | None, frame_num: int | None, label_map: Any = None) -> np.ndarray:
    """The picture of :meth:`AnnotationCollection.show` (see ``dlconvert.render.views`` for the views)."""
    from .render.views import render

    return render(collection, annotation_format, image=image, label_map=label_map,
                  label_instance_dict=label_instance_dict, thickness=thickness, alpha=alpha, with_text=with_text,
                  frame_num=frame_num, height=height, width=width, color=color).image


def show_annotation(annotation: Annotation, **options: Any) -> np.ndarray:
    """One annotation drawn alone, on a canvas the size of its item (or ``height``/``width``, or ``image``)."""
    return show_collection(_alone(annotation, options.get("height"), options.get("width")), **options)


def overlay_picture(collection: AnnotationCollection, *, image: Any = None, images: Any = None,
                    view: Any = "overlay", frame_num: int | None = None, label_map: Any = None,
                    with_text: bool = True, max_pixels: int | None = None) -> np.ndarray | None:
    """The picture a collection shows of itself: ``view`` (the overlay by default) on its image.

    ``image``: an RGB array or an image file; else the image found as ``dlconvert render`` finds it
    (``images``: a folder or :class:`~dlconvert.images.ImageLookup` tried first, then the image the
    reader paired with the item) — none found is drawn on a grey checkerboard, never on a stand-in.
    None for an audio item, an item whose size is unknown, or (``max_pixels``) one larger than that,
    checked from the item's size or the image's header before any image is decoded.
    """
    from .images import ImageLookup, image_info
    from .render import item_picture, load_display_image, render

    if collection.is_audio:
        return None
    path = None
    if image is None or isinstance(image, (str, os.PathLike)):
        path = Path(image) if image is not None else ImageLookup.of(images).find(collection)
    width, height = collection.display_size
    if not (width and height) and path is not None and not collection.is_video:
        width, height = image_info(path).display_size
    if not (width and height) and not isinstance(image, np.ndarray):
        return None
    if max_pixels is not None and width and height and width * height > max_pixels:
        return None
    if image is None:  # found as the renderer finds it (an image file, or the one the annotation file carries)
        image = item_picture(collection, images, frame_num)
    elif path is not None:
        image = load_display_image(path)
    return render(collection, view, image=image, label_map=label_map, with_text=with_text,
                  frame_num=frame_num).image


def display_png(collection: AnnotationCollection) -> bytes | None:
    """PNG bytes of :func:`overlay_picture` at most :data:`DISPLAY_SIDE` wide or high, for Jupyter's
    ``_repr_png_``; None (Jupyter then shows the text repr) when there is no picture to show or it
    cannot be drawn (an unreadable image, a broken mask)."""
    from .errors import DlconvertError
    from .render import encode_picture

    try:
        picture = overlay_picture(collection, max_pixels=DISPLAY_MAX_PIXELS)
    except (DlconvertError, OSError, ValueError):
        return None
    return None if picture is None else encode_picture(_fit(picture, DISPLAY_SIDE))[0]


def plot_collection(collection: AnnotationCollection, *, size: tuple[float, float], ax: Any = None,
                    **picture: Any) -> Any:
    """Draw :func:`overlay_picture` on a Matplotlib axes (a new figure of ``size`` inches unless ``ax``)
    titled with the item's name; returns the axes."""
    import matplotlib.pyplot as plt

    shown = overlay_picture(collection, **picture)
    if shown is None:
        raise ValueError(f"{collection.filename or 'this item'} has no picture to plot (an audio item, or its "
                         f"size is unknown: give image=)")
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    ax.imshow(shown, cmap="gray" if shown.ndim == 2 else None, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(collection.filename or collection.name or "", fontsize=9)
    return ax


def download_collection(collection: AnnotationCollection, filepath: str | os.PathLike[str], *,
                        img_filepath: str | os.PathLike[str] | None, annotation_format: Any, height: int | None,
                        width: int | None, thickness: int | None, with_text: bool, orientation: int,
                        alpha: float | None, label_map: Any = None) -> Path:
    """Write :meth:`AnnotationCollection.download`'s file; returns its path.

    JSON is the item JSON (the export shape, read back identically); a picture is a PNG (a 32-bit
    TIFF for ids past 65,535, with a ``.json`` legend beside id pictures); VTT holds the subtitles.
    A ``filepath`` without an extension is a folder: the file is named after the item. With
    ``orientation`` 2–8 the picture is turned back into the stored pixels' orientation (the SDK
    leaves orientations 4, 5 and 7 mirrored, B9).
    """
    from .render.files import load_display_image, write_picture
    from .render.views import ViewAnnotationOptions, as_view, render

    view = as_view(annotation_format)
    path = _target(Path(filepath), collection, view.value)
    if view is ViewAnnotationOptions.JSON:
        from ._io import atomic_write
        from ._json import dumps

        atomic_write(path, dumps(collection.to_json()))
        return path
    if view is ViewAnnotationOptions.VTT:
        return _write_vtt(collection, path)
    image = load_display_image(img_filepath) if img_filepath is not None else None
    result = render(collection, view, image=image, label_map=label_map, thickness=thickness, alpha=alpha,
                    with_text=with_text, height=height, width=width)
    result.image = _to_stored(result.image, orientation)
    return write_picture(result, path, view)


def download_annotation(annotation: Annotation, filepath: str | os.PathLike[str], **options: Any) -> Path:
    """:meth:`Annotation.download`: the annotation alone, as :func:`download_collection` writes it."""
    return download_collection(_alone(annotation, options.get("height"), options.get("width")), filepath,
                               img_filepath=None, orientation=0, **options)


def read_vtt_into(collection: AnnotationCollection | None, filepath: str | os.PathLike[str], item: Any = None,
                  **options: Any) -> AnnotationCollection:
    """Subtitles of a WebVTT file: added to ``collection`` (a builder, as the SDK), or as a new collection."""
    from .formats.vtt import from_vtt_file

    if collection is None:
        return from_vtt_file(filepath, item=item, **options)
    read = from_vtt_file(filepath, item=item if item is not None else collection, **options)
    for annotation in read:
        annotation._item = collection
    collection.annotations.extend(read.annotations)
    return collection


def to_dtlpy(collection: AnnotationCollection, item: Any = None) -> Any:
    """The collection as the SDK's ``dtlpy.AnnotationCollection``, for ``item.annotations.upload(...)``.

    Each annotation is read by the SDK's own ``Annotation.from_json`` from dlconvert's JSON, in
    dlconvert's order; one the SDK cannot read raises :class:`PlatformError` (the SDK would drop it
    with a log line, B7). ``item`` is the SDK item the annotations are for.
    """
    from .errors import PlatformError
    from .platform._sdk import require_dtlpy

    dl = require_dtlpy()
    fps = collection.fps or (1000 if collection.is_audio else None)
    annotations = []
    for index, (annotation, data) in enumerate(zip(collection, collection.to_json()["annotations"], strict=True)):
        try:
            annotations.append(dl.Annotation.from_json(_json=data, item=item, is_video=annotation.is_video,
                                                       is_audio=collection.is_audio, fps=fps))
        except Exception as exc:  # the SDK raises anything from KeyError to its own exceptions
            raise PlatformError(f"the Dataloop SDK cannot read annotation {index} ({annotation.type}, "
                                f"{annotation.label!r}): {type(exc).__name__}: {exc}") from exc
    return dl.AnnotationCollection(item=item, annotations=annotations)


# -- helpers ----------------------------------------------------------------------------------------
def _fit(picture: np.ndarray, side: int) -> np.ndarray:
    """``picture`` scaled down (area-averaged) so that its longest side is at most ``side`` pixels."""
    import cv2

    height, width = picture.shape[:2]
    scale = side / max(height, width)
    if scale >= 1:
        return picture
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(picture, size, interpolation=cv2.INTER_AREA)


def _alone(annotation: Annotation, height: int | None, width: int | None) -> AnnotationCollection:
    """A collection holding only ``annotation``, describing the item it belongs to (when known)."""
    from .collection import AnnotationCollection

    item = annotation._item
    single = AnnotationCollection(annotations=[annotation], width=width, height=height)
    if item is not None:
        for key in ("filename", "name", "mimetype", "fps"):
            setattr(single, key, getattr(single, key) or getattr(item, key, None))
        single.orientation = getattr(item, "orientation", None)
        if single.width is None and single.height is None:
            single.width, single.height = getattr(item, "width", None), getattr(item, "height", None)
    return single


def _target(path: Path, collection: AnnotationCollection, view: str) -> Path:
    """``path``, or ``path/<item stem>.<ext>`` when it has no extension (the SDK's rule)."""
    if path.suffix:
        return path
    stem = Path(collection.name or Path(collection.filename or "annotations").name).stem
    extension = {"json": ".json", "vtt": ".vtt"}.get(view, ".png")
    return path / (stem + extension)


def _write_vtt(collection: AnnotationCollection, path: Path) -> Path:
    import tempfile

    from ._io import atomic_write
    from .dataset import ConvertOptions, Dataset
    from .formats.vtt import write
    from .report import ConversionReport

    with tempfile.TemporaryDirectory(prefix="dlconvert-") as tmp:
        written = write(Dataset([collection]), Path(tmp), ConvertOptions(), ConversionReport())
        if not written:
            raise ValueError("a VTT file needs a video or audio item")
        atomic_write(path, Path(written[0]).read_bytes())
    return path


def _to_stored(picture: np.ndarray, orientation: int) -> np.ndarray:
    """A picture drawn as displayed, turned back into the stored pixels' EXIF ``orientation`` (exactly)."""
    if orientation in (None, 0, 1):
        return picture
    if orientation not in range(2, 9):
        raise ValueError(f"orientation must be an EXIF orientation 1…8 (or 0), got {orientation!r}")
    axes = (1, 0, *range(2, picture.ndim))
    undo = {
        2: lambda p: p[:, ::-1],                      # mirrored
        3: lambda p: p[::-1, ::-1],                   # turned 180°
        4: lambda p: p[::-1],                         # flipped
        5: lambda p: p.transpose(axes),               # transposed
        6: lambda p: np.rot90(p, 1),                  # shown turned 90° clockwise: turn back
        7: lambda p: p[::-1, ::-1].transpose(axes),   # transversed
        8: lambda p: np.rot90(p, -1),                 # shown turned 90° counter-clockwise
    }[orientation]
    return np.ascontiguousarray(undo(picture))
