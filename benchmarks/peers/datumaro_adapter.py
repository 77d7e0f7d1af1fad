"""Datumaro doing a benchmark job: ``python datumaro_adapter.py det|voc DATA OUT``.

Datumaro's COCO importer wants the ``annotations/instances_<subset>.json`` layout next to an
``images/`` folder (it refuses the dataset without one, even with ``save_media=False``); a link and
an empty folder give it both. Datumaro 1.13 has no YOLO polygon (segment) export: seg is unsupported.
"""

import os
import sys
import tempfile
from pathlib import Path

UNSUPPORTED = 64  # exit code the runner reads as "this tool cannot do this job"
FORMATS = {"det": ("yolo", {}), "voc": ("voc_detection", {"label_map": "source"})}


def main() -> None:
    job, data, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if job not in FORMATS:
        raise SystemExit(UNSUPPORTED)
    from datumaro.components.dataset import Dataset

    exporter, options = FORMATS[job]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "annotations").mkdir()
        (root / "images").mkdir()
        os.symlink((data / "coco.json").resolve(), root / "annotations" / "instances_default.json")
        dataset = Dataset.import_from(tmp, "coco_instances")
        dataset.export(str(out), exporter, save_media=False, **options)


if __name__ == "__main__":
    main()
