"""COCO instances and person-keypoints JSON, both ways.

Layout: one JSON file (``coco.json`` when written) with ``images``, ``annotations``,
``categories`` (and ``info``, ``licenses``)::

    {"images": [{"id": 1, "file_name": "sub/a.jpg", "width": 640, "height": 480}],
     "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [x, y, w, h],
                      "segmentation": [[x1, y1, x2, y2, …]], "area": 1234.5, "iscrowd": 0}],
     "categories": [{"id": 3, "name": "car", "supercategory": "vehicle"}]}

Modules: :mod:`.reader` (load, plan, items, image folders), :mod:`.folder` (a folder's several COCO
files as one dataset with splits), :mod:`.detect` (auto-detection), :mod:`.checks` (every field's type,
RLE decoding), :mod:`.records` (a record → annotations), :mod:`.categories` (categories ↔ label
map), :mod:`.capabilities` (what COCO holds, approximates or cannot hold), :mod:`.shapes` (a
shape → a record's geometry), :mod:`.writer` (items → records, ids, files), :mod:`.source` (what
the source said, and whether it still applies).

Reading (→ Dataloop model):
* ``bbox`` only → Box. A segmentation that is the bbox rectangle (how pycocotools and dlconvert
  write boxes; its far edges equal ``x + w``, ``y + h`` up to the rounding of that sum) → Box, with
  the ring's corners. ``coco_ids.json`` beside the file (dlconvert writes it) settles box or polygon.
* polygon list → one Polygon holding **every** part; RLE (list or string counts) → Segmentation.
* ``keypoints`` → a Pose with one Point child per keypoint (visibility in the ``visibility``
  attribute: 2 ``visible``, 1 ``not-visible``, 0 ``unlabeled``); the record's box or mask becomes a
  second annotation sharing the pose's object id.
* a record with only a category (Datumaro's "labels" task) → Classification.
* images without annotations stay items (mimetype from the extension, an image type whatever it
  says); categories → labels by name (the supercategory is kept in the label map, no
  ``person.person``); ``info``/``licenses`` → the label map's extras; the CVAT-style
  ``attributes`` dict → v2 attributes; ``iscrowd`` and unknown record fields → the annotation's
  ``metadata.user.coco``, the image record → the item's ``metadata.user.coco``.
* Checked, with the file and JSON pointer of the fault (``coco.invalid-record`` /
  ``coco.invalid-image``; a bad category fails the file): the type of every field COCO defines,
  optional ones too (``iscrowd`` 0 or 1, ``area`` a non-negative number, ``num_keypoints`` a
  non-negative integer, keypoint visibilities 0/1/2, ``attributes`` an object, ``supercategory`` a
  string …); an RLE's ``size`` must be the image's and its counts — list or compressed string,
  decoded here — must add up to height × width.
* A folder: its only JSON file is read as that file. Several (Roboflow's ``train/``, ``valid/``,
  ``test/``; ``annotations/<task>_<subset>.json``) are one dataset (:mod:`.folder`): each COCO dataset
  file's images are items ``/<split>/<file_name>`` with ``metadata.user.coco.split``, categories merged
  by name; results lists, panoptic and captions files and other JSON are listed as not read
  (``coco.files-not-read``). A results list is refused (also by detection), and so is a UTF-16 file.
* Images: ``Dataset.image_roots`` lists where COCO tools find ``file_name``: the JSON's folder
  (Roboflow), ``images/`` beside it, the subset's folder for ``<task>_<subset>.json``
  (``images/<subset>/`` beside the JSON or beside its ``annotations/`` folder, as Datumaro;
  ``<subset>/`` beside ``annotations/``, as the COCO download), then ``../images/``; those that
  exist. ``--images`` comes first (the renderer adds it).

Writing (Dataloop model →):
* What each type becomes is one table (:mod:`.capabilities`): Box → bbox and its rectangle as
  segmentation (as pycocotools' ``loadRes`` does, so ``annToMask`` works; read back as a Box);
  Polygon → all parts; Segmentation → RLE (``rle="auto"``, the default: the source's form when it
  was COCO, else compressed string counts; or force ``"compressed"``/``"uncompressed"``); Pose →
  keypoints, ``num_keypoints`` and a 1-based ``skeleton``. Approximated (and reported): rotated box
  and ellipse → polygon, a polygon whose rings nest or touch → RLE, a track on an image item →
  its first frame. Skipped (``coco.unsupported-type``): Polyline, Cube, Classification, Subtitle,
  a Point outside a pose, types dlconvert does not model.
* Skipped like every writer does (:mod:`dlconvert.formats._policy`): every annotation of a video
  or audio item, whose image record is not written either (``coco.not-an-image``); a degenerate
  shape — inverted or empty box, polygon without 3 distinct points or area, empty mask
  (``coco.degenerate-shape``); with a pinned label map (the user's), a label it lacks
  (``coco.label-not-in-map``; an error with ``on_error="fail"``). An item without a file name (a
  bare list of annotations) has no image record either (``coco.no-file-name``). An image record
  needs integer width and height: the item's, else its image file's header (``--images``, the image
  the reader paired, the dataset's image folders); an item whose size is still unknown is not
  written, its annotations skipped (``coco.no-image-size``; an error with ``on_error="fail"``). A
  shape whose ``bbox`` or ``area`` overflows a float is skipped as degenerate (JSON has no infinity). Crowd regions
  stay crowd regions (``iscrowd`` 1, RLE stays RLE).
* Given back from the source while it still applies (see below): ``bbox`` and ``area`` of an
  unchanged shape, ``num_keypoints`` of unchanged keypoints (CrowdPose does not count every
  labelled point), ``iscrowd``, the RLE form, a box record's own segmentation, unknown fields.
  Writing them back is not an approximation. Otherwise ``bbox`` = the shape's bounds; ``area`` =
  polygon area, mask pixel count or box area (never the box area of a polygon).
* integer ids: the source COCO ids when every item/annotation has a unique one, else 1…N in
  order; ``coco_ids.json`` beside the output maps each id back to the Dataloop item and
  annotation ids (and says which type each record was, which settles a box vs a rectangle on
  the way back). Categories: source COCO ids kept, else the Dataloop instance ids (1-based);
  labels used only as keypoint names are not categories; every image item is listed, with or without
  annotations.

"Is this still the shape the source had?" — one mechanism (:mod:`dlconvert.formats._fingerprint`),
which other formats can use too: the reader stores beside each kept value a fingerprint of what it
was derived from (``geometry_sha1`` = ``geometry_fingerprint(definition)`` of the shape built;
``keypoints_sha1`` = the pose's keypoint triplets as floats) in ``metadata.user.coco``; the
writer recomputes the fingerprint of the annotation as it is now and gives the kept value back
only when they are equal (``still_matches``). It survives Dataloop JSON, workers and edits
between, which a definition's in-memory memory of its source JSON does not.
"""

from __future__ import annotations

from .. import FormatSpec
from .capabilities import APPROXIMATES, HOLDS
from .columns import read_table
from .detect import detect
from .options import CocoOptions
from .reader import LOOKS_FOR, plan, read, read_units
from .source import IDS_FILENAME, OUTPUT_FILENAME, source_bbox
from .write_columns import write_table
from .writer import finish, write, write_shard

__all__ = ["FORMAT", "IDS_FILENAME", "OUTPUT_FILENAME", "read", "source_bbox", "write"]

FORMAT = FormatSpec(
    name="coco",
    summary="COCO instances / person-keypoints JSON (boxes, polygons with all parts, RLE masks, keypoints)",
    holds=frozenset(HOLDS),
    approximates={case: approximation.written_as for case, approximation in APPROXIMATES.items()},
    read=read,
    write=write,
    plan=plan,
    read_units=read_units,
    read_table=read_table,
    write_table=write_table,
    write_shard=write_shard,
    finish=finish,
    options=frozenset({"indent"}),  # and images, labels: every format's
    own_options=CocoOptions,
    looks_for=LOOKS_FOR,
    detect=detect,
)
