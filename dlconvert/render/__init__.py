"""Rendering annotations as pictures for visual QA: semantic masks, instance and object-id maps,
overlays on the image, and contact sheets of many items."""

from __future__ import annotations

from .files import encode_picture, item_picture, load_display_image, render_dataset, write_picture
from .sheet import contact_sheet, view_strip
from .views import RenderResult, ViewAnnotationOptions, render

__all__ = [
    "RenderResult",
    "ViewAnnotationOptions",
    "contact_sheet",
    "encode_picture",
    "item_picture",
    "load_display_image",
    "render",
    "render_dataset",
    "view_strip",
    "write_picture",
]
