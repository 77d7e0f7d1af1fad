"""Segmentation: a binary mask over the whole item (Dataloop type ``binary``).

JSON: a PNG data URL ``"data:image/png;base64,…"`` (or ``{"data": <url>}``) as large as the item.
The SDK stores the label colour in RGB and the mask in alpha; we decode any PNG mode and any
data-URL parameters (the SDK cuts exactly 22 characters, B16) and encode the SDK's way.

The PNG is checked (base64, signature, size) when read, but pixels are decoded only when the
mask is first used, so reading and re-writing a large export does not pay for every mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InvalidAnnotationError
from .base import BaseAnnotationDefinition
from .masks import (
    MAX_MASK_PIXELS,
    decode_png_mask,
    encode_png_mask,
    mask_bounds,
    png_size,
    rasterize_rings,
    split_data_url,
)

__all__ = ["MAX_MASK_PIXELS", "Segmentation"]


class Segmentation(BaseAnnotationDefinition):
    """A bool ``(height, width)`` mask; ``color`` is the RGB the PNG carries."""

    type = "binary"
    _geometry_fields = frozenset({"_mask"})

    def __init__(
        self,
        geo: np.ndarray | None = None,
        label: str | None = None,
        attributes: dict | None = None,
        description: str | None = None,
        color: tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__(label=label, attributes=attributes, description=description)
        object.__setattr__(self, "_png", None)
        object.__setattr__(self, "color", _rgb(color))
        self._mask = None if geo is None else _as_mask(geo)

    # -- the mask, decoded on first use ----------------------------------------------------------
    @property
    def geo(self) -> np.ndarray:
        """The mask as a read-only bool ``(height, width)`` array."""
        self._decode()
        return self._mask if self._mask is not None else np.zeros((0, 0), dtype=bool)

    def _decode(self) -> None:
        """Decode the PNG once: the mask, and ``color`` (unless given) from its first foreground pixel."""
        if self._mask is None and self._png is not None:
            mask, color = decode_png_mask(self._png, max_pixels=MAX_MASK_PIXELS)
            mask.setflags(write=False)
            object.__setattr__(self, "_mask", mask)
            if self.color is None:
                object.__setattr__(self, "color", color)

    @geo.setter
    def geo(self, value: np.ndarray) -> None:
        self._mask = _as_mask(value)

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``, read from the PNG header when the mask is not decoded yet."""
        if self._mask is None and self._png is not None:
            return png_size(self._png)
        return self.geo.shape

    def bounds(self) -> tuple[float, float, float, float]:
        return mask_bounds(self.geo)

    @property
    def area(self) -> float:
        return float(np.count_nonzero(self.geo))

    def to_shapely(self):
        """The mask traced into polygons on pixel edges (holes kept): exactly its pixels' union."""
        import shapely

        from .masks import mask_to_shapes

        shapes = mask_to_shapes(self.geo)
        return shapely.union_all(shapes).simplify(0) if shapes else shapely.MultiPolygon()

    def to_box(self) -> list:
        """One box per separate part of the mask, as the SDK (see :meth:`Box.from_segmentation`)."""
        from .box import Box

        return Box.from_segmentation(self.geo, label=self.label, attributes=self.attributes)

    def problems(self) -> list[str]:
        return [] if self.geo.any() else ["mask is empty"]

    @classmethod
    def from_polygon(
        cls, geo: Any, label: str | None = None, shape: tuple[int, int] | None = None,
        attributes: dict | None = None, description: str | None = None,
    ) -> Segmentation:
        """Rasterise a polygon (an (n, 2) array, a list of rings, or a Polygon) on an ``(h, w)`` canvas."""
        from .polygon import Polygon, _as_rings

        if shape is None:
            raise ValueError("from_polygon needs the canvas shape=(height, width)")
        rings = geo.parts if isinstance(geo, Polygon) else _as_rings(geo)
        return cls(geo=rasterize_rings(rings, shape), label=label, attributes=attributes, description=description)

    def _geometry_key(self) -> Any:
        return self.geo

    # -- JSON ----------------------------------------------------------------------------------
    def to_coordinates(self, color: Any = None) -> Any:
        """The PNG data URL; the source string is returned unchanged unless a new colour is asked."""
        if self._source is not None and color is not None:
            self._decode()  # the colour the source carries is known only once decoded
        if self._source is not None and (color is None or tuple(int(c) for c in color[:3]) == self.color):
            return self._source
        rgb = tuple(int(c) for c in color[:3]) if color is not None else self.color
        return encode_png_mask(self.geo, rgb)

    @classmethod
    def _from_coordinates(cls, coordinates: Any) -> Segmentation:
        value = coordinates.get("data") if isinstance(coordinates, dict) else coordinates
        if not isinstance(value, str):
            raise InvalidAnnotationError("binary coordinates must be a PNG data URL string", where="")
        png = split_data_url(value)
        height, width = png_size(png)
        if height * width > MAX_MASK_PIXELS:  # refused when read, so it is never decoded
            raise InvalidAnnotationError(f"mask is {width}×{height} pixels, more than the limit of {MAX_MASK_PIXELS}",
                                         where="")
        definition = cls()
        object.__setattr__(definition, "_png", png)
        return definition

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "color":
            value = _rgb(value)
        if name == "_mask":
            object.__setattr__(self, "_png", None)
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        h, w = self.shape
        return f"<Segmentation label={self.label!r} {w}×{h}>"


def _as_mask(geo: Any) -> np.ndarray:
    array = np.asarray(geo)
    if array.ndim == 3:  # an RGBA/RGB picture: alpha or any channel
        array = array[:, :, 3] if array.shape[2] == 4 else array.any(axis=2)
    if array.ndim != 2:
        raise ValueError(f"a mask must be 2-D (height, width); got shape {array.shape}")
    if array.dtype != bool:
        peak = array.max() if array.size else 0
        array = array > (peak / 2.0 if peak > 1 else 0.5) if peak else np.zeros(array.shape, dtype=bool)
    mask = np.array(array, dtype=bool)
    mask.setflags(write=False)
    return mask


def _rgb(color: Any) -> tuple[int, int, int] | None:
    """``None`` or an RGB triple of whole numbers 0…255 (an RGBA colour's alpha is dropped)."""
    if color is None:
        return None
    values = list(np.asarray(color).reshape(-1)) if isinstance(color, (list, tuple, np.ndarray)) else []
    if len(values) not in (3, 4) or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v <= 255 for v in values):
        raise InvalidAnnotationError(f"Segmentation color must be (r, g, b) whole numbers 0…255, got {color!r}",
                                     where="")
    return tuple(int(v) for v in values[:3])
