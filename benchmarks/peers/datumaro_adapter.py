"""Datumaro doing a benchmark job: ``python datumaro_adapter.py det|voc DATA OUT``.

Datumaro's COCO importer wants the ``annotations/instances_<subset>.json`` layout; a link gives it.
"""

import os
import sys
import tempfile
from pathlib import Path

UNSUPPORTED = 64  # exit code the runner reads as "this tool cannot do this job"


def main() -> None:
    job, data, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    formats = {"det": "yolo", "voc": "voc_detection"}
    if job not in formats:
        raise SystemExit(UNSUPPORTED)
    from datumaro.components.dataset import Dataset

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "annotations").mkdir()
        os.symlink((data / "coco.json").resolve(), Path(tmp) / "annotations" / "instances_default.json")
        dataset = Dataset.import_from(tmp, "coco_instances")
        dataset.export(str(out), formats[job], save_media=False)


if __name__ == "__main__":
    main()
