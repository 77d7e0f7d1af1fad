"""Contact sheets: many items' overlays in one picture, each tile captioned with its file name.

Images are found and missing ones counted as by ``render_dataset``: a sheet whose images are not
all found raises :class:`~dlconvert.render.report.MissingImagesError` unless ``allow_missing_images``
(those tiles are then grey checkerboards, captioned ``(no image)``).
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..collection import AnnotationCollection
from ..images import ImageLookup
from ..labels import LabelMap
from .report import MissingImagesError, RenderReport
from .views import ViewAnnotationOptions, as_view, check_style, render

__all__ = ["contact_sheet", "view_strip"]

_CAPTION = 18
#: Bounds of the sheet's layout arguments (pixels, tiles).
MAX_TILE = 4096
MAX_COLUMNS = 256
MAX_GAP = 1000
#: Tiles one sheet holds at most (256-px tiles: ~200 MB): a sheet of a 100k-item dataset would need ~20 GB
#: and could not be looked at; the items past it are counted in the sheet's last line instead.
MAX_TILES = 1024


def _check_range(name: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number {low}…{high}, not {value!r}")


def _displayable(picture: np.ndarray) -> np.ndarray:
    """Any rendered picture as RGB to look at: id pictures spread over grey levels, masks over black."""
    if picture.ndim == 2:
        peak = max(int(picture.max()), 1)
        return np.repeat((picture.astype(np.float64) * (255.0 / peak)).astype(np.uint8)[:, :, None], 3, 2)
    if picture.shape[2] == 4:
        return (picture[:, :, :3].astype(np.float32) * (picture[:, :, 3:] / 255.0)).astype(np.uint8)
    return picture


def view_strip(collection: AnnotationCollection, *, image: np.ndarray | None = None,
               label_map: LabelMap | None = None, frame_num: int | None = None, gap: int = 6) -> np.ndarray:
    """One item in the four views side by side, each captioned (for READMEs and notebooks); without
    ``image`` the overlay is drawn on the grey checkerboard of a missing image."""
    import cv2

    _check_range("gap", gap, 0, MAX_GAP)
    panels = []
    for view, caption in ((ViewAnnotationOptions.MASK, "mask"), (ViewAnnotationOptions.INSTANCE, "instance"),
                          (ViewAnnotationOptions.OBJECT_ID, "object_id"),
                          (ViewAnnotationOptions.ANNOTATION_ON_IMAGE, "overlay")):
        overlay = view is ViewAnnotationOptions.ANNOTATION_ON_IMAGE
        picture = render(collection, view, image=image if overlay else None, label_map=label_map,
                         frame_num=frame_num, with_text=overlay).image
        panel = np.full((picture.shape[0] + _CAPTION, picture.shape[1], 3), 24, dtype=np.uint8)
        panel[:picture.shape[0]] = _displayable(picture)
        cv2.putText(panel, caption, (3, panel.shape[0] - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1,
                    cv2.LINE_AA)
        panels.append(panel)
    spacer = np.full((panels[0].shape[0], gap, 3), 255, dtype=np.uint8)
    strip = [panels[0]]
    for panel in panels[1:]:
        strip.extend([spacer, panel])
    return np.concatenate(strip, axis=1)


def contact_sheet(items: Iterable[AnnotationCollection], *, images_root: ImageLookup | str | Path | None = None,
                  label_map: LabelMap | None = None, columns: int = 4, tile: int = 256,
                  view=ViewAnnotationOptions.ANNOTATION_ON_IMAGE, frame_num: int | None = None,
                  color_by: str = "label", allow_missing_images: bool = False,
                  report: RenderReport | None = None, max_tiles: int = MAX_TILES) -> np.ndarray:
    """One RGB picture: a grid of ``tile``-pixel renders of ``items`` (audio items are left out); past
    ``max_tiles`` items the sheet's last line says how many more there are.

    ``images_root``: an :class:`~dlconvert.images.ImageLookup` or the folder tried first. Overlay
    tiles count their images into ``report`` (when given); missing ones raise
    :class:`~dlconvert.render.report.MissingImagesError` at the end unless ``allow_missing_images``.
    """
    import cv2

    from .files import item_picture

    _check_range("columns", columns, 1, MAX_COLUMNS)
    _check_range("tile", tile, 16, MAX_TILE)
    _check_range("max_tiles", max_tiles, 1, MAX_TILES)
    check_style(frame_num=frame_num, color_by=color_by)
    view = as_view(view)
    overlay = view is ViewAnnotationOptions.ANNOTATION_ON_IMAGE
    images = ImageLookup.of(images_root)
    counts = report if report is not None else RenderReport()
    counts.looked_in = counts.looked_in or images.describe()
    tiles = []
    left_out = 0
    for collection in items:
        if collection.is_audio:
            continue
        if len(tiles) == max_tiles:
            left_out += 1
            continue
        name = posixpath.basename(collection.filename or collection.name or "")
        if overlay and counts.images_missing and not allow_missing_images:  # failing: only count the rest
            counts.image(collection.filename or collection.name or name, images.has_image(collection))
            continue
        image = item_picture(collection, images, frame_num) if overlay else None
        if overlay:
            counts.image(collection.filename or collection.name or name, image is not None)
            if image is None:
                name = f"(no image) {name}"
        picture = _displayable(render(collection, view, image=image, label_map=label_map, frame_num=frame_num,
                                      color_by=color_by).image)
        scale = tile / max(picture.shape[:2])
        size = (max(1, round(picture.shape[1] * scale)), max(1, round(picture.shape[0] * scale)))
        tiles.append((cv2.resize(picture, size, interpolation=cv2.INTER_AREA), name))
    if counts.images_missing and not allow_missing_images:
        raise MissingImagesError(counts)
    if not tiles:
        return np.zeros((tile + _CAPTION, tile, 3), dtype=np.uint8)
    columns = max(1, min(columns, len(tiles)))
    rows = math.ceil(len(tiles) / columns)
    cell_h = max(small.shape[0] for small, _ in tiles) + _CAPTION  # landscape items leave no empty band
    footer = 2 * _CAPTION if left_out else 0
    sheet = np.full((rows * cell_h + footer, columns * tile, 3), 24, dtype=np.uint8)
    if left_out:
        cv2.putText(sheet, f"... and {left_out} more items not shown (the first {len(tiles)} are)",
                    (3, sheet.shape[0] - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (235, 235, 235), 1, cv2.LINE_AA)
    for index, (small, name) in enumerate(tiles):
        r, c = divmod(index, columns)
        y, x = r * cell_h, c * tile
        sheet[y:y + small.shape[0], x:x + small.shape[1]] = small
        cv2.putText(sheet, name[:40], (x + 3, y + cell_h - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (235, 235, 235), 1,
                    cv2.LINE_AA)
    return sheet
