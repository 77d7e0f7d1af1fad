"""What the COCO object reader keeps of the source in Dataloop JSON, for the rows of a table.

The object reader (:mod:`.reader`, :mod:`.records`) puts more into an item's and an annotation's
Dataloop JSON than the table's columns model: the image record whole (``metadata.user.coco`` of
the item) and, per record, its ``id``, ``iscrowd``, unknown fields (in the record's key order),
``bbox`` and ``area`` as written (``2`` stays ``2``, not ``2.0``), the RLE form or a box's own
segmentation, and the fingerprint of the shape read (``metadata.user.coco`` of the annotation).
:class:`KeptJSON` gives exactly those, for a writer that writes them back from the table — the
Dataloop JSON writer (:mod:`dlconvert.formats._dataloop_table`) — without an annotation object.

The source is decoded a second time only when a writer asks (:meth:`KeptJSON.prepare`): images as
raw JSON, records as ``{key: raw JSON}`` (msgspec: no Python value for the polygons, key order
kept), each value parsed by orjson as the object reader parses the whole file (so every value is
one orjson writes back: even an integer beyond 64 bits, which orjson reads as a float).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import orjson

from ...parallel import without_cyclic_gc
from ...table import BOX, MASK
from .reader import Part, image_to_collection
from .records import KNOWN_RECORD_KEYS, decode_rle
from .source import BOX_SEGMENTATION_KEY, GEOMETRY_KEY, RLE_FORM_KEY

if TYPE_CHECKING:
    from ...labels import LabelMap

__all__ = ["KeptJSON"]


class _Layout(msgspec.Struct):
    """The document as raw JSON: an image record whole, a record key by key (in its order)."""

    images: list[msgspec.Raw]
    annotations: list[dict[str, msgspec.Raw]] = []


_LAYOUT = msgspec.json.Decoder(_Layout)
_KEPT_AS_THEY_ARE = ("id", "iscrowd")  # known fields the reader keeps among the unknown ones, in place


def _parse(raw: msgspec.Raw) -> Any:
    """A raw JSON value as the object reader parses it (orjson)."""
    return orjson.loads(memoryview(raw))


class KeptJSON:
    """The COCO source's own JSON per item and per row of its table (see the module docstring).

    ``data``: the COCO document's bytes; ``records``: the record index of every table row.
    """

    def __init__(self, data: bytes, records: np.ndarray, label_map: LabelMap, path: Path) -> None:
        self._data = data
        self._records = records
        self._label_map = label_map
        self._path = path
        self._layout: _Layout | None = None

    def prepare(self) -> None:
        """Decode the source's layout (once; before workers are forked, so that they share it)."""
        if self._layout is None:
            with without_cyclic_gc():  # a dict per record
                self._layout = _LAYOUT.decode(self._data)

    def _record(self, row: int) -> dict[str, msgspec.Raw]:
        self.prepare()
        return self._layout.annotations[int(self._records[row])]

    def item_json(self, item: int) -> dict:
        """Item ``item``'s Dataloop JSON as the object reader builds it (its ``annotations`` still empty)."""
        self.prepare()
        image = _parse(self._layout.images[item])
        part = Part(labels={}, label_map=self._label_map, path=str(self._path), hints={}, image_root=None)
        return image_to_collection(image, None, [(0, [])], (part,), None).to_json()

    def metadata(self, kind: int, row: int, shape_fingerprint: str, own_rings: bool) -> tuple[dict, dict]:
        """Row ``row``'s annotation ``metadata`` as the object reader builds it, and its attributes.

        ``kind``: the row's; ``shape_fingerprint``: :func:`~dlconvert.formats._fingerprint.geometry_fingerprint` of
        its shape; ``own_rings``: whether it has rings (a box without one keeps its record's own segmentation).
        The caller knows it from the rings of the range it writes: the table's rings are parsed range by range.
        """
        record = self._record(row)
        extras = {key: _parse(raw) for key, raw in record.items()
                  if key not in KNOWN_RECORD_KEYS or key in _KEPT_AS_THEY_ARE}
        for key in ("bbox", "area"):
            if key in record:
                extras[key] = _parse(record[key])
        if kind == MASK:
            extras[RLE_FORM_KEY] = "list" if isinstance(self._rle(record)["counts"], list) else "string"
        elif kind == BOX and not own_rings:
            extras[BOX_SEGMENTATION_KEY] = _parse(record["segmentation"]) if "segmentation" in record \
                else "absent"
        extras[GEOMETRY_KEY] = shape_fingerprint
        attributes = _parse(record["attributes"]) if "attributes" in record else None
        return {"system": {"automated": False}, "user": {"coco": extras}}, dict(attributes or {})

    def mask(self, row: int) -> np.ndarray:
        """The pixels of a MASK row's RLE (decoded by the object reader's code)."""
        return decode_rle(self._rle(self._record(row)))

    @staticmethod
    def _rle(record: dict[str, msgspec.Raw]) -> dict:
        return _parse(record["segmentation"])
