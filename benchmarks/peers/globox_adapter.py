"""globox doing a benchmark job: ``python globox_adapter.py det|voc DATA OUT`` (boxes only)."""

import sys
from pathlib import Path

from globox import AnnotationSet

UNSUPPORTED = 64  # exit code the runner reads as "this tool cannot do this job"


def main() -> None:
    job, data, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if job not in ("det", "voc"):
        raise SystemExit(UNSUPPORTED)
    annotations = AnnotationSet.from_coco(data / "coco.json")
    if job == "det":
        labels = sorted(annotations._labels()) if hasattr(annotations, "_labels") else sorted(
            {box.label for ann in annotations for box in ann.boxes})
        annotations.save_yolo_v5(out, label_to_id={label: i for i, label in enumerate(labels)})
    else:
        annotations.save_pascal_voc(out)


if __name__ == "__main__":
    main()
