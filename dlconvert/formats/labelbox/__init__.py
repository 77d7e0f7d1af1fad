"""Labelbox exports, read only (Labelbox is a source: the format people migrate from).

What is read (:mod:`.files` finds the files and their rows):

* **Export v2, NDJSON** (``project.export()`` / ``export_v2``): one data row per line, ``{"data_row": {id,
  external_id, global_key, row_data}, "media_attributes": {width, height, mime_type}, "projects": {<id>:
  {"labels": [{"id", "label_details", "annotations": {"objects", "classifications",
  "relationships"}}]}}}``; also the same rows saved as a JSON list (``json.dump(export_task.result)``).
* **The legacy JSON export** (until 2023, what Dataloop's ``dtlpy-converters`` read): a list of label
  rows ``{"ID", "DataRow ID", "Labeled Data", "External ID", "Label": {"objects": […],
  "classifications": […]}}``, and its 2018–2019 forms where ``Label`` maps each class to WKT or
  ``{x, y}`` shapes (:mod:`.legacy`, which also says where their y is measured from).

Items: one per data row, named by its external id (else the file name in its ``row_data`` address,
its global key, its id); an external id without an extension takes the one of the ``row_data`` file
of the same stem. Width and height come from ``media_attributes``, else from the image file when it
is found (``--images`` first, then the export's folder and ``images/`` beside it). Every label of a
data row — several projects, several labellers, the legacy export's row per label — adds its
features to the one item; the label's project and id, and each feature's ids, schema value and
colour, are kept in ``metadata.user.labelbox`` (the item keeps ``data_row``, ``media_attributes``,
the labels' details and the relationships between features). A data row without a submitted label
(none, or every one skipped) is not an item — an image without annotations would say it shows
nothing — and is listed (``labelbox.not-labelled``).

Features (:mod:`.features`): ``bounding_box``/``bbox`` → Box, ``polygon`` → Polygon (its closing point
dropped; an upright four-corner rectangle, as the legacy rectangle tool drew it, → Box), ``line`` →
Polyline, ``point`` → Point, a base64 PNG ``mask`` → Segmentation; a global classification →
Classification labelled by its question, its answers as attributes; an object's nested
classifications → its attributes. Labels are the features' names (v2 ``name``, legacy ``title``).

Reported, never dropped: a mask that is only at a URL is not fetched (dlconvert never goes online:
``labelbox.mask-not-fetched``) and an object with no image shape is not read
(``labelbox.unsupported-object``) — both counted as read and skipped, no error. Bad input is a bad
record (an error unless ``on_error="skip"``) with the file, the line (NDJSON) and the JSON pointer:
``labelbox.invalid-object``, ``labelbox.invalid-classification``, ``labelbox.image-height-unknown``
(a shape of a bottom-measured export whose image is not found). A row that cannot be read at all —
bad JSON, no ``data_row``/``Label``, a video or text data row — fails (``labelbox.invalid-row``), as
does a file (``labelbox.invalid-file``) and a data row met again in another line or file
(``labelbox.duplicate-data-row``: two exports of one project would double every object). A folder
is read file by file (each export file directly in it, by its head; not its subfolders).

Untrusted input: lines are read one at a time and refused above 256 MiB, a JSON export above 1 GiB
(:mod:`.files`); names above 4,096 characters, classifications nested deeper than 32, masks above
the pixel limit and WKT above 64 MiB are refused; item names from the data never leave the folders
they are looked up in (:func:`~dlconvert.images.find_image`); no address is ever opened.

Options: ``ConvertOptions.extras["labelbox_y_origin"]`` = ``"auto"`` (default), ``"top"`` or
``"bottom"`` (see :mod:`.legacy`).
"""

from __future__ import annotations

from .. import FormatSpec
from .files import LOOKS_FOR, detect
from .reader import read

__all__ = ["FORMAT", "read"]

FORMAT = FormatSpec(
    name="labelbox",
    summary="Labelbox exports, read only: NDJSON (export v2) and the legacy JSON (boxes, polygons, lines, "
            "points, base64 masks, classifications)",
    holds=frozenset({"box", "segment", "polyline", "point", "binary", "class"}),  # what the reader makes
    approximates={},
    read=read,
    options=frozenset({"extras"}),  # labelbox_y_origin (and images, labels: every format's)
    looks_for=LOOKS_FOR,
    detect=detect,
)
