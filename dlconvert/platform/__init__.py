"""The Dataloop platform connector: download and convert a dataset, upload local annotations.

Optional: ``pip install 'dlconvert[platform]'`` installs the Dataloop SDK (``dtlpy``). Importing
this package never imports ``dtlpy``; each call imports it and, when it is missing, raises
:class:`~dlconvert.errors.PlatformError` saying how to install it. SDK objects (``Dataset``,
``Item``, ``Filters``) are duck-typed, so the connector follows the SDK across versions.

* :func:`convert_dataset` — the SDK's ``Converter.convert_dataset`` done right: pulls the
  dataset's item JSONs (its export, checked against the item listing; per item with an annotation
  filter), keeps the ontology's colours and instance ids and the recipe's pose templates in the
  label map, and runs the same pipeline as a local export folder, so the outputs are byte-identical.
  See :mod:`dlconvert.platform.download`.
  :func:`download_dataset` does the same and renders pictures of every item beside the output
  (``dlp … download``'s annotation options).
* :func:`upload_local_dataset` — reads local COCO / YOLO / VOC / VTT / Dataloop files, adds the
  missing labels to the recipe first, uploads the items that are not there yet and the
  annotations, idempotently: see :mod:`dlconvert.platform.upload` for the rule.
  :func:`upload_collections` uploads collections made in Python the same way.
* :class:`RetryPolicy` — the SDK retries every request itself; per-item steps are retried on top
  with exponential backoff, and an item that still fails is reported, never silently dropped.
* ``dlconvert download`` and ``dlconvert upload`` are in :mod:`dlconvert.cli.platform`.

:mod:`dlconvert.testing` holds :class:`~dlconvert.testing.FakeDataloop`, an in-memory Dataloop API
on 127.0.0.1 with fault injection, for offline tests with the real SDK.
"""

from __future__ import annotations

from ._sdk import RetryPolicy, require_dtlpy
from .connector import get_dataset, login
from .download import convert_dataset, download_dataset, fetch_label_map
from .fingerprints import annotation_fingerprint
from .upload import ItemOutcome, UploadReport, upload_collections, upload_local_dataset

__all__ = [
    "ItemOutcome",
    "RetryPolicy",
    "UploadReport",
    "annotation_fingerprint",
    "convert_dataset",
    "download_dataset",
    "fetch_label_map",
    "get_dataset",
    "login",
    "require_dtlpy",
    "upload_collections",
    "upload_local_dataset",
]
