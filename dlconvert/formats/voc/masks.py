"""VOC's segmentation PNGs and class palette: reading index images, the label tables, painting masks.

``SegmentationClass/<stem>.png`` holds a class value per pixel, ``SegmentationObject/<stem>.png``
the number of the object in the XML (1, 2, …); 0 is background and 255 void (the unlabelled
border VOC draws around objects) in both. The devkit writes palette PNGs (a pixel is its palette
index); CVAT's and Datumaro's exports write RGB PNGs whose colours are the classes' colours of
``labelmap.txt`` (``name:r,g,b:parts:actions``, class value = line order, background first) and
the VOC palette's colours for object numbers. dlconvert writes palette PNGs with the VOC palette
and lists each class's palette colour in ``labelmap.txt``, so both kinds of tool read them alike.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..._io import atomic_write, safe_join
from ...errors import FormatError
from ...geometry.segmentation import MAX_MASK_PIXELS
from ...labels import LABELMAP_FILENAME, LabelInfo, LabelMap, read_labelmap_txt

__all__ = ["VOC_CLASSES", "VOID", "Canvas", "ClassTable", "dataset_labels", "labelmap_txt", "palette_color",
           "read_index_png", "voc_colormap"]

VOC_CLASSES = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
               "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
               "tvmonitor")
VOID = 255
#: The largest value a region can take in the 8-bit PNGs (255 is void).
MAX_VALUE = 254


def palette_color(index: int) -> tuple[int, int, int]:
    """The VOC devkit's colour of class/object ``index``: its bits dealt out to the top bits of r, g, b."""
    r = g = b = 0
    for j in range(8):
        r |= ((index >> 0) & 1) << (7 - j)
        g |= ((index >> 1) & 1) << (7 - j)
        b |= ((index >> 2) & 1) << (7 - j)
        index >>= 3
    return (r, g, b)


@functools.lru_cache(maxsize=4)
def voc_colormap(n: int = 256) -> np.ndarray:
    """The VOC devkit's palette: ``(n, 3)`` uint8, entry i the colour of class i (read only)."""
    cmap = np.array([palette_color(i) for i in range(n)], dtype=np.uint8).reshape(n, 3)
    cmap.setflags(write=False)
    return cmap


def _packed(r: int, g: int, b: int) -> int:
    return (int(r) << 16) | (int(g) << 8) | int(b)


# ==== label tables ===================================================================================
@dataclass(frozen=True)
class ClassTable:
    """How class PNG pixels name labels: ``names`` maps a class value to its label; ``colours`` maps an
    RGB colour (packed ``r<<16 | g<<8 | b``) to its class value, None for the VOC palette."""

    names: dict[int, str]
    colours: dict[int, int] | None = None


def dataset_labels(root: Path, given: LabelMap | None, class_pngs: bool) -> tuple[LabelMap | None, ClassTable]:
    """The dataset's label map and class table.

    Labels: ``given`` (``--labels``), else ``labelmap.json`` (dlconvert's), else ``labelmap.txt``
    (instance ids 1…N in line order, background left out; a label without a colour gets its palette
    colour, as Datumaro does), else, when class PNGs exist, the VOC classes; else None. Class values
    are the label map's instance ids. RGB class PNGs are decoded with ``labelmap.txt``'s colours when
    there is one and no ``labelmap.json`` (dlconvert writes palette PNGs), else with the VOC palette.
    """
    txt_path = root / "labelmap.txt"
    json_path = root / LABELMAP_FILENAME
    entries = read_labelmap_txt(txt_path) if txt_path.is_file() and not json_path.is_file() else None
    label_map = given
    if label_map is None and json_path.is_file():
        label_map = LabelMap.load(json_path)
    if label_map is None and entries is not None:
        named = [(name, color) for name, color in entries if name != "background"]
        label_map = LabelMap(LabelInfo(name, index, color or palette_color(index))
                             for index, (name, color) in enumerate(named, start=1))
    if label_map is None and class_pngs:  # class PNGs without a label map are VOC's own classes
        label_map = LabelMap(LabelInfo(name, index, palette_color(index))
                             for index, name in enumerate(VOC_CLASSES[1:], start=1))
    names = ({info.instance_id: info.name for info in label_map} if label_map is not None
             else dict(enumerate(VOC_CLASSES)))
    colours = None
    if entries is not None:
        ids = {name: value for value, name in names.items()}
        colours = {_packed(*palette_color(VOID)): VOID, _packed(0, 0, 0): 0}
        position = 0
        for name, color in entries:
            if name == "background":
                colours[_packed(*(color or (0, 0, 0)))] = 0
                continue
            position += 1
            if name in ids:
                colours[_packed(*(color or palette_color(position)))] = ids[name]
    return label_map, ClassTable(names, colours)


def labelmap_txt(label_map: LabelMap) -> bytes:
    """Datumaro/CVAT ``labelmap.txt``: background, then each label with the palette colour its class
    value has in the written PNGs (so tools that read the PNGs' colours find the labels). A name the
    format cannot hold (with ``:`` or a line break) is left out; ``labelmap.json`` has every label."""
    lines = ["# label:color_rgb:parts:actions", "background:0,0,0::"]
    for info in sorted(label_map, key=lambda i: i.instance_id):
        if info.name != "background" and not any(c in info.name for c in ":\r\n"):
            lines.append(f"{info.name}:{','.join(str(c) for c in palette_color(info.instance_id))}::")
    return ("\n".join(lines) + "\n").encode("utf-8")


# ==== reading =========================================================================================
def read_index_png(path: Path, colours: dict[int, int] | None = None) -> np.ndarray:
    """Pixel values of a VOC mask: palette and grey PNGs as stored; RGB ones through ``colours`` (packed
    RGB → value), else the VOC palette. A colour neither knows is an error naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_MASK_PIXELS:
                raise FormatError(f"mask is {image.width}×{image.height} pixels, more than the limit of "
                                  f"{MAX_MASK_PIXELS}", path=path)
            if image.mode in ("P", "L"):
                return np.asarray(image)
            rgb = np.asarray(image.convert("RGB")).astype(np.int32)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise FormatError(f"cannot read the mask PNG: {exc}", path=path) from None
    keys = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    lookup = colours if colours is not None else {_packed(*c): i for i, c in enumerate(voc_colormap().tolist())}
    values, inverse = np.unique(keys, return_inverse=True)
    try:
        mapped = np.array([lookup[int(v)] for v in values], dtype=np.uint8)
    except KeyError as exc:
        colour = int(exc.args[0])
        table = "labelmap.txt" if colours is not None else "the VOC colour map"
        raise FormatError(f"colour {(colour >> 16, (colour >> 8) & 255, colour & 255)} is not in {table}",
                          path=path) from None
    return mapped[inverse].reshape(keys.shape)


# ==== writing =========================================================================================
_PALETTE = voc_colormap().reshape(-1).tolist()


class Canvas:
    """The class and object PNGs of one item, painted region by region (a later region covers an
    earlier one: VOC has one value per pixel), then asked what each region kept."""

    def __init__(self, shape: tuple[int, int]) -> None:
        self.classes = np.zeros(shape, dtype=np.uint8)
        self.objects = np.zeros(shape, dtype=np.uint8)
        self._regions: list[tuple] = []
        self._has_objects = False

    def paint(self, covered, class_value: int, number: int | None) -> int:
        """Paint a region (a windowed ``Coverage``) with its class value and, for an object, its number
        (None: a class region, SegmentationClass only). Returns the region's index."""
        covered.paste(self.classes, class_value)
        if number is not None:
            covered.paste(self.objects, number)
            self._has_objects = True
        self._regions.append((covered, class_value, number))
        return len(self._regions) - 1

    def lost(self, index: int) -> tuple[int, int]:
        """``(pixels covered by later regions, pixels)`` of region ``index``, as a reader will see it."""
        covered, class_value, number = self._regions[index]
        h, w = covered.mask.shape
        window = (slice(covered.y0, covered.y0 + h), slice(covered.x0, covered.x0 + w))
        if number is not None:
            kept = self.objects[window] == number
        else:  # a class region is the class's pixels no object claims
            kept = (self.classes[window] == class_value) & (self.objects[window] == 0)
        total = int(np.count_nonzero(covered.mask))
        return total - int(np.count_nonzero(kept & covered.mask)), total

    def write(self, dst: Path, stem: str) -> list[Path]:
        """``SegmentationClass/<stem>.png`` and (when an object was painted) ``SegmentationObject/<stem>.png``."""
        from PIL import Image

        layers = [("SegmentationClass", self.classes)]
        if self._has_objects:
            layers.append(("SegmentationObject", self.objects))
        outputs = []
        for folder, array in layers:
            image = Image.fromarray(array, mode="P")
            image.putpalette(_PALETTE)
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", compress_level=1)  # index masks are runs: level 1 is small and fast
            target = safe_join(dst / folder, stem + ".png")
            atomic_write(target, buffer.getvalue())
            outputs.append(target)
        return outputs
