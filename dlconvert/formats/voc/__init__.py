"""Pascal VOC: one XML file per image, optional segmentation PNGs.

Layout (read and written)::

    root/
    ├── Annotations/<remote dir>/<stem>.xml
    ├── ImageSets/Main/<split>.txt              image stems, one per line
    ├── SegmentationClass/<stem>.png            palette PNG: pixel = class value (0 background, 255 void)
    ├── SegmentationObject/<stem>.png           palette PNG: pixel = object number in the XML (1, 2, …)
    ├── JPEGImages/                             images (read for sizes when <size> is missing)
    ├── labelmap.json                           dlconvert's label map (ids, colours)
    └── labelmap.txt                            Datumaro/CVAT ``name:r,g,b::`` lines (class order)

Also read (:mod:`.layout`): a folder of XML files without this layout (Roboflow's ``train/*.xml``,
LabelImg), one XML file or an ``Annotations`` folder inside a devkit tree (the masks, label map and
``JPEGImages/`` around it are used), ``VOCdevkit/`` with one tree inside, and segmentation PNGs
without XML (CVAT's and Datumaro's "Segmentation mask" exports: ``SegmentationClass/`` +
``SegmentationObject/`` + ``labelmap.txt``), each PNG stem an item. Images are looked for (sizes,
``Dataset.image_roots``) in ``JPEGImages/``, else ``images/`` beside the XML folder, else beside
the XML files.

``<bndbox>`` (``voc_origin``, :mod:`.bndbox`): 1 (default) is the devkit's 1-based inclusive pixel
indices — reading subtracts 1 from xmin/ymin only, as detectron2 does; writing gives integers, the
first and last pixel whose centre the box covers (``xmin = ceil(left - ½) + 1``,
``xmax = ceil(right - ½)``), and a box that moves is reported (``voc.box-rounded``). 0 is for
tools that write continuous values (globox, Datumaro, the Dataloop SDK). Numbers carry no float
noise: the shortest decimal that reads back as the value, with COCO's ``x + w`` summed in decimal.

Reading (:mod:`.read`): per object, ``name`` → label; ``pose``, ``truncated``, ``difficult``,
``occluded`` and other simple tags, plus CVAT's ``<attributes><attribute><name/><value/>``, → v2
attributes (``0``/``1`` of the flags as integers); nested elements (``<part>``, ``<actions>``) and
unknown document-level elements are kept verbatim (``metadata.user.voc.extra_xml``) and written
back. An object is one annotation: its box, or its mask when ``SegmentationObject`` has pixels of
its number (the ``<bndbox>`` kept with the mask, and written back while the mask is unchanged).
Class pixels no object claims become one mask per class (``metadata.user.voc.segmentation:
"class"``), labelled through the label map (``--labels``, ``labelmap.json``, ``labelmap.txt``
colours for RGB PNGs, else the VOC classes and palette).

Writing (:mod:`.write`, :mod:`.capabilities`): boxes as objects; masks, polygons and ellipses as
objects with their pixels in both PNGs (later objects on top) — polygons and ellipses then read
back as masks, so they are listed as approximated; with ``voc_masks`` off (``--no-voc-masks``) no
PNGs, and those shapes are written as their boxes. A box and the mask sharing its object id and
label are one object (the box its ``<bndbox>``). A COCO object's own ``bbox`` is its ``<bndbox>``
while its shape is unchanged, and writing it is no approximation. Skipped and reported: types VOC
cannot hold, COCO crowd regions, degenerate shapes, text XML cannot hold, labels missing from a
pinned label map (an error unless ``on_error="skip"``), items that are not images. Everything that
does not come back as it went is reported, once per annotation and as ``verify`` measures change,
so the two agree (the codes are listed in :mod:`.write`). Each item goes to
``Annotations/<its XML's own name, else its filename's stem>.xml``; two items on one file are an
error. ``<size>`` is written when the size is known. ``labelmap.txt`` lists each class with the
palette colour its pixels have in the written PNGs.

Bulk jobs from a table (:mod:`dlconvert.table`: COCO → VOC) take the columnar path, the object
writer's fast form with the same bytes and report: :mod:`.fates` decides every row's fate and
``<bndbox>`` as arrays, :mod:`.columns` writes the XML; rows the arrays cannot settle exactly go
through the object writer's per-annotation code, and jobs it cannot do (``voc_origin`` 0,
segmentation PNGs to draw, a pinned label map) are left to the object writer.

Untrusted input (:mod:`.safe_xml`): XML (files, and fragments kept in item metadata) is parsed with
entities, DTDs and network access off; an ``<!ENTITY`` is refused before parsing, any DOCTYPE
after. XML is written with lxml (escaped); the columnar writer's fixed markup is lxml's own
pretty-printed layout, and every string in it is escaped by lxml (never by hand).
"""

from __future__ import annotations

from .. import FormatSpec
from .capabilities import CAPABILITIES, approximates, holds
from .columns import write_table
from .detect import detect
from .layout import LOOKS_FOR
from .masks import VOC_CLASSES, voc_colormap
from .options import VocOptions
from .read import plan, read, read_units
from .write import finish, write, write_shard

__all__ = ["CAPABILITIES", "FORMAT", "VOC_CLASSES", "read", "voc_colormap", "write"]

FORMAT = FormatSpec(
    name="voc",
    summary="Pascal VOC XML per image (boxes, attributes) with SegmentationClass/SegmentationObject PNGs",
    holds=holds(),
    approximates=approximates(),
    read=read,
    write=write,
    plan=plan,
    read_units=read_units,
    write_shard=write_shard,
    finish=finish,
    write_table=write_table,
    options=frozenset({"images", "labels", "split"}),  # split: YOLO's (ImageSets/Main/<split>.txt)
    own_options=VocOptions,
    looks_for=LOOKS_FOR,
    detect=detect,
)
