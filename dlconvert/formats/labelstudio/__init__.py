"""Label Studio JSON (the export of annotated tasks), both ways.

Layout: one JSON file, a list of tasks (Label Studio's "JSON" export; also one task object, as cloud
storage and the legacy ``completions/<id>.json`` files hold it; or the "JSON-MIN" export, read as the
tasks it stands for, :mod:`.json_min`), or a folder of such files (:mod:`.layout`); ``config.xml`` (or
``label_config.xml``) beside it is the labelling config. Written: ``tasks.json`` (the JSON export),
``config.xml`` (a config that imports them) and ``labelmap.json``::

    [{"id": 1, "data": {"image": "/data/upload/1/48c220e9-fox.jpg"},
      "annotations": [{"id": 7, "completed_by": 1, "result": [
          {"id": "C7oHaRDVVC", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
           "original_width": 2800, "original_height": 2800, "image_rotation": 0,
           "value": {"x": 37.2, "y": 70.7, "width": 4.2, "height": 4.7, "rotation": 0,
                     "rectanglelabels": ["parasites"]}}]}],
      "predictions": [{"model_version": "v1", "score": 0.8, "result": [...]}]}]

Coordinates (:mod:`.results`): percent of ``original_width``/``original_height`` (x of the width, y of the
height); written percentages read back as the same pixels wherever a float can; a rectangle turns about
its top-left corner (the Dataloop box about its centre: the same corners), an ellipse about its centre.
Brush masks are Label Studio's own RLE (:mod:`.rle`), decoded and written with bounds. ``image_rotation`` is
kept, not applied (as Label Studio's converter).

Reading (:mod:`.read`): one item per task, named from its image reference (:mod:`.media`:
``/data/upload/…``, ``/data/local-files/?d=…``, URLs), its image looked for under ``--images`` (also as
Label Studio's ``media`` folder keeps uploads), beside the export and in its ``images/``; a region (results
sharing an id) is one annotation with its label and its per-region controls as attributes; image-level
choices are classifications; every annotator's annotation and every prediction is read, none merged
(predictions automated, with their score), each marked in ``metadata.user.labelstudio`` (annotator,
annotation, region); what dlconvert does not model (text spans, relations, video tracks, taxonomies,
regions of an image of unknown size) and what annotators cancelled is carried through verbatim as type
``labelstudio.<type>``. Labels: ``--labels``, else dlconvert's ``labelmap.json``, else the config's labels
in its order with its colours, then the labels the tasks use.

Writing (:mod:`.write`, :mod:`.capabilities`): boxes (rotated too), one-ring polygons, one-line polylines
(``closed: false``), points, ellipses, masks, classifications and free text as Label Studio results;
polygons of several rings as masks (approximated); poses, cuboids, subtitles, notes skipped and reported.
A region read from Label Studio and unchanged is written back as it was read, in its own annotation.

Not held: poses (keypoints are not grouped), several rings in one polygon, image-level attributes, video
and audio tracks (Label Studio's video rectangles are read and kept verbatim, not converted).
"""

from __future__ import annotations

from .. import FormatSpec
from .capabilities import CAPABILITIES, approximates, holds
from .layout import LOOKS_FOR, detect
from .read import read
from .write import write

__all__ = ["CAPABILITIES", "FORMAT", "read", "write"]

FORMAT = FormatSpec(
    name="labelstudio",
    summary="Label Studio JSON tasks and JSON-MIN exports (rectangles with rotation, polygons, keypoints, ellipses, "
            "brush RLE masks, choices; every annotator and prediction)",
    holds=holds(),
    approximates=approximates(),
    read=read,
    write=write,
    options=frozenset({"indent"}),  # and images, labels: every format's
    looks_for=LOOKS_FOR,
    detect=detect,
)
