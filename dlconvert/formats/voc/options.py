"""The Pascal VOC options: the ``<bndbox>`` convention written and read, and the segmentation PNGs.

How options are declared: :mod:`dlconvert.formats._options`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._options import FormatOptions, option

__all__ = ["VocOptions"]


@dataclass(frozen=True)
class VocOptions(FormatOptions):
    """``ConvertOptions(voc_origin=…, voc_masks=…)``; ``--voc-origin``, ``--voc-masks/--no-voc-masks``."""

    #: 1 = 1-based inclusive integers (VOC devkit), 0 = 0-based floats
    voc_origin: int = option(1, flag="--voc-origin", choices=(0, 1),
                             help="VOC <bndbox> convention: 1 = 1-based inclusive (devkit, default), 0 = 0-based "
                                  "floats.")
    #: also write SegmentationClass/Object PNGs for polygons and masks
    voc_masks: bool = option(True, flag="--voc-masks/--no-voc-masks", choices=(True, False),
                             help="VOC: write SegmentationClass/Object PNGs for polygons and masks (default on).")
