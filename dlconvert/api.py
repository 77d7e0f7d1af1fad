"""The public Python API: :func:`read` any format into a :class:`Dataset`, :func:`write` one in any format::

    import dlconvert

    dataset = dlconvert.read("coco/annotations.json")    # the format is detected
    for collection in dataset:                           # one AnnotationCollection per item
        print(collection.filename, len(collection))
    report = dlconvert.write(dataset, "yolo_out/", "yolo", yolo_task="detect")

One dataset concept: what :func:`read` returns is a :class:`dlconvert.dataset.Dataset` — the
object every reader hands every writer — that can also be iterated again, counts, and carries
what reading found wrong. Its ``items`` is the dataset itself, so a writer given it directly sees
the same counted items as a ``for`` loop.

Reading is lazy: an item is built when the loop reaches it. The first loop reads the items the
reader prepared; a later loop reads the source again (a COCO file is not parsed again: its plan
is kept). ``report`` lists what reading skipped or failed on (with ``on_error="skip"``; the
default ``"fail"`` raises at the first bad record, as ``dlconvert convert`` does) and counts the
items and annotations read; it is complete once a loop has reached the end (readers that check
the whole source up front, COCO's, have filled it already).

Each item's image is looked for as ``dlconvert render`` looks (``image_lookup``: ``images``
first, then the image the reader paired with the item, then the format's own image folders) and
recorded in ``collection.image_path``, so that ``collection.plot()`` and a collection shown in
Jupyter draw on it. Only names are looked up, no image is opened; when the first items' images
are all missing, the lookup stops (the images are not there).
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import dataset as _dataset
from .collection import AnnotationCollection
from .detection import resolve_format
from .errors import FormatError, OptionError
from .images import ImageLookup
from .labels import LabelMap
from .report import ConversionReport, OnError

__all__ = ["Dataset", "read", "write"]

#: Items whose image is looked for before the lookup gives up, when none of them was found.
IMAGE_PROBE = 32


@dataclass(eq=False, repr=False)
class Dataset(_dataset.Dataset):
    """A source read by :func:`read`: iterable (again and again), ``len()`` when the reader knows it.

    Attributes (besides :class:`dlconvert.dataset.Dataset`'s ``labels``, ``image_roots``, ``total`` …):
        format: the format it was read as.
        source: the path it was read from.
        report: what reading found (see the module docstring).
        image_lookup: where each item's image is looked for (:class:`~dlconvert.images.ImageLookup`),
            for ``dlconvert.render`` functions and :meth:`image_of`.
    """

    format: str | None = None
    source: Path | None = None
    report: ConversionReport = field(default_factory=ConversionReport)
    image_lookup: ImageLookup = field(default_factory=ImageLookup)
    #: ``() -> (report, items)``: a fresh reading of the source, for loops after the first.
    reread: Callable[[], tuple[ConversionReport, Iterable[AnnotationCollection]]] | None = None

    def __post_init__(self) -> None:
        self._unread: Iterable[AnnotationCollection] | None = self.items
        self.items = self
        self._complete = False  # a loop reached the end: ``report`` is final
        self._probing = True  # still looking for images (see IMAGE_PROBE)
        self._probed = 0

    def __iter__(self) -> Iterator[AnnotationCollection]:
        if self._unread is not None:
            items, self._unread, report = self._unread, None, self.report
        elif self.reread is not None:
            report, items = self.reread()
            if not self._complete:  # the first loop stopped early: this one's report replaces it
                self.report = report
        else:
            raise TypeError("this dataset's items were given as an iterator and have been read; "
                            "pass a list to read them more than once")
        for collection in items:
            report.read_item(collection)
            self._find_image(collection)
            yield collection
        if report is self.report:
            self._complete = True

    __eq__ = object.__eq__  # one dataset is one reading of a source (its items are itself: no field-wise ==)
    __hash__ = object.__hash__

    def __len__(self) -> int:
        if self.total is None:
            raise TypeError(f"the {self.format or 'source'} reader does not know the number of items before "
                            f"reading them; count them with sum(1 for _ in dataset)")
        return self.total

    def __repr__(self) -> str:
        size = "?" if self.total is None else self.total
        return (f"<dlconvert.Dataset {self.format} {str(self.source)!r} items={size} "
                f"labels={len(self.labels) if self.labels is not None else None}>")

    def image_of(self, collection: AnnotationCollection) -> Path | None:
        """The image file of an item, found as ``dlconvert render`` finds it (None when it is not found)."""
        return self.image_lookup.find(collection)

    def _find_image(self, collection: AnnotationCollection) -> None:
        if not self._probing or collection.image_path or collection.is_audio:
            return
        found = self.image_lookup.find(collection)
        if found is not None:
            collection.image_path = str(found)
            self._probed = -1  # images are here: keep looking
        elif self._probed >= 0:
            self._probed += 1
            self._probing = self._probed < IMAGE_PROBE


def read(path: str | os.PathLike[str], format: Any = "auto", images: str | os.PathLike[str] | None = None,
         labels: str | os.PathLike[str] | LabelMap | None = None, *, on_error: str = OnError.FAIL) -> Dataset:
    """Read a dataset in any format (``"auto"``: detected, see :func:`dlconvert.detect`).

    Args:
        path: a file or folder, as ``dlconvert convert`` takes it.
        format ("auto"): a format name (``dlconvert.AnnotationFormat``, the SDK's enums) or "auto".
        images: the folder of the images, when they are not where the format keeps them.
        labels: the label map to use (a path to labelmap.json, a Dataloop ontology or a names file,
            or a :class:`~dlconvert.labels.LabelMap`); it replaces the source's and is pinned.
        on_error ("fail"): "fail" raises at the first bad file or record; "skip" lists it in
            ``dataset.report`` and goes on.

    Raises :class:`~dlconvert.errors.FormatError` for a path that does not exist, a format that
    cannot be told (none or several found: the message names them and how to choose), a source
    holding nothing of the format, or (``"fail"``) the first bad record.
    """
    from .formats import get_format, require_items

    path = Path(path)
    if not path.exists():
        raise FormatError("no such file or folder", path=path)
    if on_error not in OnError.ALL:
        raise OptionError(f"on_error must be one of {', '.join(map(repr, OnError.ALL))}, not {on_error!r}")
    spec = get_format(resolve_format(path, format, choose_with="format="))
    if spec.read is None:
        raise FormatError(f"dlconvert cannot read {spec.name}", path=path)
    options = _dataset.ConvertOptions(images=images, labels=_label_map(labels))
    report = ConversionReport(source_format=spec.name, on_error=on_error, source=str(path))
    if spec.reads_in_shards:  # keep the plan: a later loop reads its units again, without parsing the source
        plan = spec.plan(path, options, report)
        after_plan = copy.deepcopy(report)

        def again() -> tuple[ConversionReport, Iterable[AnnotationCollection]]:
            fresh = copy.deepcopy(after_plan)
            return fresh, spec.read_units(plan.context, plan.units, options, fresh)

        source = plan
        items: Iterable[AnnotationCollection] = spec.read_units(plan.context, plan.units, options, report)
        total: int | None = len(plan.units)
    else:
        source = spec.read(path, options, report)

        def again() -> tuple[ConversionReport, Iterable[AnnotationCollection]]:
            fresh = report.blank()
            return fresh, spec.read(path, options, fresh).items

        items, total = source.items, source.total
    if total == 0:
        require_items(spec, path, 0, declared_empty=source.declared_empty)
    labels_read = options.labels if options.labels is not None else source.labels
    return Dataset(items, labels=labels_read, images_root=source.images_root, total=total,
                   image_roots=source.image_roots, declared_empty=source.declared_empty, format=spec.name,
                   source=path, report=report, image_lookup=ImageLookup.for_source(options.images, source),
                   reread=again)


def write(data: _dataset.Dataset | AnnotationCollection | Iterable[AnnotationCollection],
          path: str | os.PathLike[str], format: Any, *, overwrite: bool = False, on_error: str = OnError.FAIL,
          **options: Any) -> ConversionReport:
    """Write a dataset (from :func:`read`), one collection or an iterable of them in ``format``, into ``path``.

    ``options`` are :class:`~dlconvert.dataset.ConvertOptions` keywords (``yolo_task="segment"``,
    ``rle="compressed"``, ``labels=`` a path or LabelMap …); one that neither the dataset's format nor
    ``format`` uses is refused, as on the command line. ``path`` follows the rule of every output:
    it must be missing or empty, or (``overwrite=True``) hold a previous dlconvert output; a
    destination inside the source is refused; a failure leaves it as it was. ``on_error``: "fail"
    stops at the first annotation that cannot be written for a reason other than the format's
    limits, and when none of those read could be written; "skip" reports and goes on.

    Returns the :class:`~dlconvert.report.ConversionReport`: every annotation written, skipped
    (with its reason) or approximated. What reading found is in the dataset's own ``report``.
    """
    from .converter import Converter
    from .formats import format_key

    if on_error not in OnError.ALL:
        raise OptionError(f"on_error must be one of {', '.join(map(repr, OnError.ALL))}, not {on_error!r}")
    converter = Converter(on_error=on_error, options=_options(options))
    return converter.write_dataset(_as_dataset(data), path, format_key(format), overwrite=overwrite)


def _label_map(labels: str | os.PathLike[str] | LabelMap | None) -> LabelMap | None:
    if labels is None or isinstance(labels, LabelMap):
        return labels
    if not isinstance(labels, (str, os.PathLike)):
        raise OptionError(f"labels must be a path or a LabelMap, not {type(labels).__name__}")
    return LabelMap.load(labels)


def _options(given: dict[str, Any]) -> _dataset.ConvertOptions:
    """``ConvertOptions`` from keyword arguments; an unknown name is refused with the closest one."""
    names = _dataset.ConvertOptions.names()  # its own and every format's
    for name in given:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(f"write() got an unknown option {name!r}{hint}; options are: {', '.join(names)}")
    if "labels" in given:
        given = {**given, "labels": _label_map(given["labels"])}
    return _dataset.ConvertOptions(**given)


def _as_dataset(data: Any) -> _dataset.Dataset:
    """A dataset to write: a Dataset as it is; collections (one, a list, any iterable of them) in one."""
    if isinstance(data, _dataset.Dataset):
        return data
    if isinstance(data, AnnotationCollection):
        return Dataset([data], total=1)
    if isinstance(data, (str, bytes, os.PathLike)) or not isinstance(data, Iterable):
        raise TypeError(f"write() takes a Dataset (dlconvert.read), an AnnotationCollection or an iterable of "
                        f"them, not {type(data).__name__}; to convert a file, read it first")
    if isinstance(data, (list, tuple)):  # a sequence can be read again
        return Dataset(_checked(data), total=len(data), reread=lambda: (ConversionReport(), _checked(data)))
    return Dataset(_checked(data))


def _checked(collections: Iterable[Any]) -> Iterator[AnnotationCollection]:
    for index, collection in enumerate(collections):
        if not isinstance(collection, AnnotationCollection):
            raise TypeError(f"item {index} to write is a {type(collection).__name__}, not an AnnotationCollection")
        yield collection
