"""The Dataloop SDK's Dataloop→COCO conversion, offline: ``python dtlpy_adapter.py dataloop2coco DATA OUT``.

``dl.Converter().convert_dataset(dataset, to_format='coco')`` needs the platform, so this re-creates
its ``__convert_dataset_to_coco`` / ``__single_item_to_coco`` (dtlpy 1.126) on a local export:

* same: one task per item in ``multiprocessing.pool.ThreadPool(processes=6)`` (the SDK's
  ``concurrency=6``); each task opens the item's ``json/<name>.json`` with ``json.load``, builds
  ``dl.AnnotationCollection.from_json(...)`` and converts every annotation with the SDK's own
  ``dl.Converter.to_coco`` (bbox from left/top/right/bottom; a segment's first ring as the polygon,
  its area by rasterising it with cv2; a binary mask RLE-encoded by pycocotools, iscrowd=1), then
  sets ``category_id``/``image_id``/``id`` as ``__add_item_converted_annotation`` does; a
  ``dtlpy.services.Reporter`` and a tqdm bar (to stdout) run as in the SDK; one ``json.dump``.
* differs: the item entities come from ``dl.Item.from_json`` on the same file inside each task
  (the SDK pages them from the API before the pool starts); the label→id map comes from the
  export's ``labelmap.json`` (the SDK reads ``dataset.instance_map`` from the platform); no recipe,
  so no pose/keypoint categories, and pose/child-point annotations (absent from the benchmark data)
  are not handled; no ``download_annotations`` step (the export is already on disk).

Run it in its own venv (dtlpy, opencv-python-headless, pycocotools); DATALOOP_PATH is pointed at a
scratch folder before the import so the SDK's cookie/log files never touch the user's ~/.dataloop.
"""

import json
import os
import sys
import tempfile
from multiprocessing.pool import ThreadPool
from pathlib import Path

UNSUPPORTED = 64  # exit code the runner reads as "this tool cannot do this job"
CONCURRENCY = 6  # dl.Converter(concurrency=6)


def main() -> None:
    job, data, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if job != "dataloop2coco":
        raise SystemExit(UNSUPPORTED)
    os.environ["DATALOOP_PATH"] = tempfile.mkdtemp(prefix="dtlpy-bench-")
    import dtlpy as dl
    import tqdm
    from dtlpy.services import Reporter

    root = data / "dataloop"
    labels = json.loads((root / "labelmap.json").read_text())["labels"]
    label_to_id = {label["name"]: label["instance_id"] for label in labels}
    categories = []
    for name, label_id in label_to_id.items():  # __gen_coco_categories without a recipe
        category = {"id": label_id, "name": name.split(".")[-1]}
        if "." in name:
            category["supercategory"] = ".".join(name.split(".")[:-1])
        categories.append(category)
    paths = sorted((root / "json").rglob("*.json"))
    images: list[dict | None] = [None] * len(paths)
    converted: list[list | None] = [None] * len(paths)
    reporter = Reporter(num_workers=len(paths), resource=Reporter.CONVERTER,
                        print_error_logs=dl.client_api.verbose.print_error_logs, client_api=dl.client_api)
    pbar = tqdm.tqdm(total=len(paths), file=sys.stdout, desc="Convert Annotations",
                     disable=dl.client_api.verbose.disable_progress_bar_convert_annotations)

    def single_item_to_coco(path: Path, item_id: int) -> None:
        with open(path, encoding="utf8") as handle:
            item_json = json.load(handle)
        item = dl.Item.from_json(_json=item_json, client_api=dl.client_api, is_fetched=True)
        images[item_id] = {"file_name": os.path.normpath(item.filename.lstrip("/")), "id": item_id,
                           "width": item.width, "height": item.height}
        annotations = dl.AnnotationCollection.from_json(item_json["annotations"])
        records: list = []
        for i_annotation, annotation in enumerate(annotations.annotations):
            try:
                record = dl.Converter.to_coco(annotation=annotation, item=item)
                record["category_id"] = label_to_id[annotation.label]
                record["image_id"] = item_id
                record["id"] = int(f"{item_id}{i_annotation}")
                records.append(record)
            except Exception as error:  # the SDK logs a failed annotation and goes on
                records.append(f"Error converting annotation: {error!r}")
        success = [r for r in records if not isinstance(r, str)]
        converted[item_id] = success
        failed = len(success) != len(records)
        reporter.set_index(ref=str(path), status="failed" if failed else "success", success=not failed)
        pbar.update()

    pool = ThreadPool(processes=CONCURRENCY)
    for item_id, path in enumerate(paths):
        pool.apply_async(func=single_item_to_coco, args=(path, item_id))
    pool.close()
    pool.join()
    pool.terminate()

    annotations_out = [record for records in converted if records for record in records]
    for i_ann, record in enumerate(annotations_out):
        record["id"] = i_ann
    coco = {"images": [image for image in images if image is not None], "info": {"description": root.name},
            "annotations": annotations_out, "categories": categories}
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "coco.json", "w+", encoding="utf-8") as handle:
        json.dump(coco, handle, ensure_ascii=False)
    if reporter.success_count != len(paths):
        raise SystemExit(f"{len(paths) - reporter.success_count} of {len(paths)} items failed")


if __name__ == "__main__":
    main()
