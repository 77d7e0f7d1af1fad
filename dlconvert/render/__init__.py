"""Rendering annotations as pictures for visual QA: semantic masks, instance and object-id maps,
overlays on the image, and contact sheets of many items."""

from __future__ import annotations

from ..images import ImageLookup
from .batch import render_source
from .files import check_images, encode_picture, item_picture, load_display_image, render_dataset, write_picture
from .report import NOT_DRAWN, MissingImagesError, RenderReport
from .sheet import contact_sheet, view_strip
from .views import RenderResult, ViewAnnotationOptions, render

__all__ = [
    "NOT_DRAWN",
    "ImageLookup",
    "MissingImagesError",
    "RenderReport",
    "RenderResult",
    "ViewAnnotationOptions",
    "check_images",
    "contact_sheet",
    "encode_picture",
    "item_picture",
    "load_display_image",
    "render",
    "render_dataset",
    "render_source",
    "view_strip",
    "write_picture",
]
