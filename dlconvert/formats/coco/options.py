"""The COCO options: the form of written mask counts.

How options are declared: :mod:`dlconvert.formats._options`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._options import FormatOptions, option

__all__ = ["CocoOptions"]


@dataclass(frozen=True)
class CocoOptions(FormatOptions):
    """``ConvertOptions(rle=…)``; ``--rle``."""

    #: "auto" (the source's form, else compressed), "compressed", "uncompressed"
    rle: str = option("auto", flag="--rle", choices=("auto", "compressed", "uncompressed"),
                      help="COCO mask counts (default auto: the source's form, else compressed).")
