"""Ultralytics' convert_coco doing a benchmark job: ``python ultralytics_adapter.py det|seg DATA OUT``."""

import sys
from pathlib import Path

UNSUPPORTED = 64  # exit code the runner reads as "this tool cannot do this job"


def main() -> None:
    job, data, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if job not in ("det", "seg"):
        raise SystemExit(UNSUPPORTED)
    from ultralytics.data.converter import convert_coco

    convert_coco(labels_dir=str(data), save_dir=str(out), use_segments=job == "seg", cls91to80=False)


if __name__ == "__main__":
    main()
