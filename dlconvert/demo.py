"""The bundled sample dataset and the demo job that runs on it (``dlconvert demo``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

__all__ = ["run_demo", "sample_dataset_path"]


def sample_dataset_path() -> Path:
    """The bundled sample: a Dataloop export folder (``items/``, ``json/``, ontology, recipe)."""
    return Path(__file__).parent / "samples"


def run_demo(out: Path) -> Iterator[str]:
    """Read the sample, summarise it, and write it back as Dataloop JSON under ``out``; yields progress lines."""
    from ._io import atomic_write
    from ._json import dumps, read_json_file
    from .formats.dataloop import iter_json_files, read_dataloop, write_dataloop
    from .summary import summarize

    sample = sample_dataset_path()
    collections = list(read_dataloop(sample))
    summary = summarize(collections)
    atomic_write(out / "summary.json", dumps(summary.to_json()))
    yield f"sample: {sample}"
    yield summary.to_text()

    written = write_dataloop(collections, out / "dataloop")
    same = sum(
        read_json_file(source) == read_json_file(target)
        for source, target in zip(iter_json_files(sample), sorted(written), strict=True)
    )
    yield f"dataloop: {len(written)} item files written to {out / 'dataloop'} ({same} identical to the source)"

    from .converter import Converter

    for target in ("coco", "yolo", "voc", "vtt"):
        report = Converter().run(sample, "dataloop", out / target, target)
        report.save(out / f"report_{target}.json")
        yield f"{target}: written to {out / target}"
        yield "  " + report.summary(max_issues=0).replace("\n", "\n  ")

    from .formats.dataloop import find_label_map
    from .render import contact_sheet, encode_picture, render_dataset

    labels = find_label_map(sample)
    views = ["mask", "instance", "object_id", "img_mask"]
    counts = render_dataset(collections, out / "render", views, images_root=sample / "items", label_map=labels,
                            frame_num=5, with_text=True)
    yield f"render: {counts.pictures} pictures in {out / 'render'} ({', '.join(views)}; video at frame 5)"
    sheet = contact_sheet(collections, images_root=sample / "items", label_map=labels, columns=2, frame_num=5)
    atomic_write(out / "render" / "sheet.png", encode_picture(sheet)[0])
    yield f"render: contact sheet {out / 'render' / 'sheet.png'}"
    from .render import item_picture, view_strip

    street = next(c for c in collections if c.filename == "/street/scene_01.png")
    strip = view_strip(street, image=item_picture(street, sample / "items"), label_map=labels)
    atomic_write(out / "render" / "four_views.png", encode_picture(strip)[0])
    yield f"render: the four views of {street.filename} side by side {out / 'render' / 'four_views.png'}"
