"""An offline Dataloop platform for tests: the real ``dtlpy`` client talks to it on 127.0.0.1.

Public and documented, for testing your own ``dtlpy`` pipelines offline (dlconvert's platform tests
use it the same way). It needs only the standard library (and Pillow, which reads the sizes of
uploaded images) besides the SDK you point at it.

:class:`FakeDataloop` speaks the subset of the Dataloop REST API that the platform connector and
the SDK calls behind it use, holds everything in memory, and can inject faults (error codes,
delays, stalls longer than the client's timeout, dropped connections) on a configurable fraction
of requests, drawn from a seeded random generator so a failing run can be replayed::

    from dlconvert.testing import FakeDataloop, Fault

    with FakeDataloop(seed=7) as server:
        dataset = server.create_dataset("demo")
        server.seed_export(dataset["id"], "export/")          # json/ + items/ + ontology.json + recipe.json
        dl = server.connect()                                  # the real dtlpy, pointed here
        remote = dl.datasets.get(dataset_id=dataset["id"])
        server.faults = [Fault(rate=0.2, kinds=("error", "drop"))]
        ...
        server.disconnect()

Set ``DATALOOP_PATH`` to a temporary folder before the first ``import dtlpy`` so the SDK keeps its
cookie (environments, tokens) there and not in ``~/.dataloop``.

Endpoints (paths under ``<url>`` = ``http://127.0.0.1:<port>/api/v1``; ``POST /token`` at the root):

==========================================  =====================================================
``GET /users/me``                           the user of the bearer token (``login_token``/``login_api_key``)
``POST /token``                             M2M login (``login_m2m``): email + password → JWT
``GET /projects/{id}``                      project
``GET /datasets/{id}``, ``POST /datasets/query``  dataset; datasets list
``POST /datasets/{id}/query``               items or annotations (``resource``) by the SDK's ``Filters``:
                                            ``$and $or $nor $eq $ne $in $nin $gt $gte $lt $lte $exists
                                            $glob``, ``*`` globs, ``join`` on annotations, ``sort``,
                                            ``page``/``pageSize``, ``delete: true``
``POST /datasets/{id}/items``               multipart item upload (``mode=skip|overwrite``); images get
                                            ``metadata.system.width/height`` from their header
``POST /datasets/{id}/export``              JSON export (``itemsQuery``, ``annotationsQuery``) → a finished
                                            command whose ``outputItemId`` is a JSON file item
``GET /commands/{id}``                      command
``GET|DELETE /items/{id}``                  item
``GET /items/{id}/stream``                  binary (``Range: bytes=N-`` honoured)
``POST /items/{id}/annotations``            create annotations (a list); ids and audit fields assigned
``GET|PUT|DELETE /annotations/{id}``        annotation
``GET /recipes/{id}``                       recipe
``GET /ontologies``, ``GET|PUT /ontologies/{id}``  ontologies
``PATCH /ontologies/{id}/labels``           add/upsert labels (``labelsNode``; ``a.b`` tags nest)
==========================================  =====================================================

Anything else answers 404 with the route in the message, so a test notices an SDK call that is
not covered. Every request is recorded in :attr:`FakeDataloop.log`.

Faults (:class:`Fault`): ``error``, ``error-after`` (the work is done, then an error status),
``drop``, ``drop-after``, ``delay``, ``timeout`` (a stall past the client's timeout, nothing done)
and ``timeout-after`` (a stall, then the work: a request the server carries out after the client
gave up on it).

Modules: :mod:`.server` (state, life cycle, building and reading state), :mod:`.routes` (the REST
routes), :mod:`.query` (the ``Filters`` query language), :mod:`.handler` (HTTP and fault
injection), :mod:`.faults`, :mod:`.sdk` (tokens, the SDK's fixed waits).
"""

from __future__ import annotations

from .faults import FAULT_KINDS, Fault, RequestRecord
from .sdk import fast_sdk_waits, make_token
from .server import FakeDataloop

__all__ = ["FAULT_KINDS", "FakeDataloop", "Fault", "RequestRecord", "fast_sdk_waits", "make_token"]
