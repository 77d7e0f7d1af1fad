"""supervision doing a benchmark job: ``python supervision_adapter.py det|seg|voc|render DATA OUT``.

``sv.DetectionDataset.from_coco`` rasterises a full-size mask for every instance with a segmentation
and keeps them all (~4 MB of RSS per COCO image), so the runner caps its size (run.py ``MAX_N``), and
this adapter sets an address-space limit (``SV_MEM_FRACTION`` of RAM, default 0.75) so a too-large
run fails with MemoryError instead of waking the OOM killer. It also opens every image while
exporting, so it reads ``DATA/images/`` (placeholder JPEGs of the right sizes, ``generate.py
--placeholders``).

* det / voc: the masks are dropped before ``as_yolo`` / ``as_pascal_voc`` (with masks, both write one
  polygon per connected component, not boxes).
* seg: ``as_yolo`` with the masks: polygons re-traced from the rasters.
* render: one PNG per image, pixel = class index + 1 (0 = background), painted from the dataset's
  masks in annotation order (single channel, unlike dlconvert's coloured ``mask/`` view).
"""

import os
import resource
import sys
from pathlib import Path

UNSUPPORTED = 64  # exit code the runner reads as "this tool cannot do this job"


def limit_memory() -> None:
    """Cap the address space at a fraction of physical RAM."""
    fraction = float(os.environ.get("SV_MEM_FRACTION", "0.75"))
    limit = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * fraction)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    job, data, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if job not in ("det", "seg", "voc", "render"):
        raise SystemExit(UNSUPPORTED)
    limit_memory()
    import cv2
    import numpy as np
    import supervision as sv

    dataset = sv.DetectionDataset.from_coco(images_directory_path=str(data / "images"),
                                            annotations_path=str(data / "coco.json"))
    if job in ("det", "voc"):
        for detections in dataset.annotations.values():
            detections.mask = None
    if job in ("det", "seg"):
        dataset.as_yolo(annotations_directory_path=str(out))
    elif job == "voc":
        dataset.as_pascal_voc(annotations_directory_path=str(out))
    else:
        out.mkdir(parents=True, exist_ok=True)
        for path, image, detections in dataset:
            canvas = np.zeros(image.shape[:2], np.uint8)
            if detections.mask is not None:
                for mask, class_id in zip(detections.mask, detections.class_id, strict=True):
                    canvas[mask] = class_id + 1
            cv2.imwrite(str(out / (Path(path).stem + ".png")), canvas)


if __name__ == "__main__":
    main()
