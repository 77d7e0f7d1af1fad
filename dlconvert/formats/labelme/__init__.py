"""LabelMe JSON, both ways: one file per image, as LabelMe (3.x to 5.x) and the tools that share its format
(X-AnyLabeling) write it::

    {"version": "5.3.1",
     "flags": {"night": false},                                   image-level flags
     "shapes": [{"label": "car", "points": [[x1, y1], [x2, y2]], "group_id": 1, "description": "",
                 "shape_type": "rectangle", "flags": {"occluded": true}, "mask": null}],
     "imagePath": "a.jpg",                                        relative to the JSON file's folder
     "imageData": null,                                           or the image itself, base64
     "imageHeight": 480, "imageWidth": 640}

Mapping (reading :mod:`.reader` / :mod:`.shapes`, writing :mod:`.writer` / :mod:`.shape_writer`):

* ``rectangle`` ↔ Box (the two corners in any order; min/max), ``oriented_rectangle`` → rotated Box;
  ``polygon`` ↔ Polygon (one ring); ``circle`` (centre, a point on the circle) ↔ Ellipse with equal
  radii; ``line``/``linestrip`` ↔ Polyline; ``point`` ↔ Point (``points``: one Point each);
  ``mask`` (LabelMe ≥ 5.3: a base64 PNG of the mask's window, placed at its first point) ↔
  Segmentation on the image's canvas.
* Written another way, and reported: a rotated box → its 4-corner polygon (an ``oriented_rectangle``
  when it was read from one), a polygon of several rings (parts or holes) → a mask, an ellipse that
  is no circle → a 72-point polygon, a track on an image → its first frame
  (:mod:`.capabilities`, ``dlconvert formats``).
* ``group_id`` (the shapes of one object) ↔ the annotations' object id: each shape stays one
  annotation (labelme2coco merges such shapes into one instance; merging here would lose each
  shape's own flags and type). A negative ``group_id`` is kept in the metadata.
* Shape ``flags`` (true/false) and X-AnyLabeling's ``attributes`` ↔ v2 attributes (true/false ones
  go back to ``flags``, the others to ``attributes``); ``description`` ↔ description.
* Image ``flags``: a true flag ↔ a Classification with its name; every flag is kept, in order, for
  the way back (:mod:`.source`).
* ``imagePath`` → the item ``/<folder of the JSON file>/<image name>`` and the image LabelMe would
  open (``collection.image_path``); ``imageWidth``/``imageHeight`` → the item's size (the embedded
  image's, when it has another, as LabelMe does).
* ``imageData``: never needed to read (only its header is, for its size); when ``imagePath`` names no
  file it is the item's image (``collection.embedded_image``: LabelMe shows it, overlays draw on it);
  written null by default, as ``labelme --nodata`` saves (LabelMe opens the image from ``imagePath``),
  or the image itself with ``ConvertOptions.extras["labelme_image_data"] = "embed"`` (LabelMe's own
  default; reading with it keeps each file's ``imageData`` to write it back).
* Keys LabelMe does not define, in a file or a shape, are kept and written back, as LabelMe does.

Untrusted input: a file over 1 GiB is refused unread; every field is type-checked and a fault is
one line naming the file and its JSON pointer (``a.json:/shapes/3/points/1: a point is [x, y] …``;
a bad shape is a bad record, the rest of its file is read); base64 images and masks are checked
from their header before they are decoded, and refused when absurd (:mod:`.embedded`); paths
written stay inside the output folder (an ``imagePath`` that would leave it is written as the
image's name).
"""

from __future__ import annotations

from .. import FormatSpec
from .capabilities import CAPABILITIES, approximates, holds
from .files import LOOKS_FOR, detect
from .reader import plan, read, read_units
from .source import IMAGE_DATA_OPTION
from .writer import VERSION, finish, write, write_shard

__all__ = ["CAPABILITIES", "FORMAT", "IMAGE_DATA_OPTION", "VERSION", "detect", "read", "write"]

FORMAT = FormatSpec(
    name="labelme",
    summary="LabelMe JSON per image (rectangles, polygons, circles, lines, points, masks; flags; imageData "
            "dropped or embedded)",
    holds=holds(),
    approximates=approximates(),
    read=read,
    write=write,
    plan=plan,
    read_units=read_units,
    write_shard=write_shard,
    finish=finish,
    # images, labels (every format's); images_mode (images beside the files); extras: labelme_image_data
    options=frozenset({"images", "labels", "images_mode", "extras"}),
    looks_for=LOOKS_FOR,
    detect=detect,
)
