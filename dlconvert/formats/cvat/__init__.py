"""CVAT XML 1.1 — CVAT for images and CVAT for video — both ways.

Layout read: one XML file, or a folder of them (CVAT's export: ``annotations.xml`` with the images
in ``images/`` beside it, ``images/<subset>/`` for a project); written: :mod:`.write`.

Modules: :mod:`.document` (the file as a stream of top-level elements; untrusted XML), :mod:`.layout`
(the files, their ``<meta>``, ``detect``), :mod:`.meta` (tasks, labels, colours, attribute types,
skeleton templates), :mod:`.shapes` (an element ↔ a definition), :mod:`.rle` (CVAT's mask RLE),
:mod:`.tracks` (video tracks ↔ Dataloop frames: keyframes, interpolation, outside), :mod:`.read`,
:mod:`.write`, :mod:`.capabilities` (what CVAT holds, approximates or cannot hold).

Reading: an ``<image>`` is an item (``name`` its file name, ``width``/``height`` its size, else the
image file's); each shape one annotation (``<points>`` of N points: N points) with its label,
attributes (typed by the label's ``input_type``), ``occluded="1"`` as ``occluded: 1``,
``group_id`` as the object id; ``<skeleton>`` a pose and its keypoints (``occluded`` → visibility
``not-visible``, ``outside`` → ``unlabeled``); ``<tag>`` a classification; ``<mask>`` a mask of the
image's size. A file with ``<track>`` elements is a video item (its ``<source>``, ``original_size``
and ``size``); each track one video annotation whose stored states are its shapes (keyframes fixed,
``outside`` hidden, the track's id its object id; :mod:`.tracks`). The label map is ``<meta>``'s
labels in order with their colours (or ``labelmap.json`` beside the files, or ``--labels``); images
are found as CVAT's export lays them out: ``images/<name>`` beside the XML (``Dataset.image_roots``;
``<name>`` may hold sub-folders), ``images/<subset>/<name>`` for an image of a project export's subset
(the item's ``image_path``). An element of an ``<image>`` that is no CVAT shape is reported, not dropped.

Writing: :mod:`.write` — image items into ``annotations.xml``, each video item into
``videos/<its path>/annotations.xml``; what CVAT cannot hold is skipped, what it holds otherwise
approximated, each reported.
"""

from __future__ import annotations

from .. import FormatSpec
from .capabilities import CAPABILITIES, approximates, holds
from .layout import LOOKS_FOR, detect
from .read import read
from .write import write

__all__ = ["CAPABILITIES", "FORMAT", "detect", "read", "write"]

FORMAT = FormatSpec(
    name="cvat",
    summary="CVAT XML 1.1: CVAT for images (boxes, polygons, lines, points, ellipses, masks, skeletons, tags) "
            "and CVAT for video (tracks)",
    holds=holds(),
    approximates=approximates(),
    read=read,
    write=write,
    options=frozenset(),  # images and labels only: every format's
    looks_for=LOOKS_FOR,
    detect=detect,
)
