"""``dlconvert download`` and ``dlconvert upload``: the platform connector on the command line.

Register them on the main group (``main.add_command(download)``, ``main.add_command(upload)``);
errors are :class:`~dlconvert.errors.DlconvertError`\\ s, so the group prints one line. Both log in
as the SDK does (``DTLPY_API_KEY``, ``DTLPY_EMAIL``/``DTLPY_PASSWORD``, or the SDK's saved token;
``--env``/``DTLPY_ENV`` picks the environment) and exit 1 when any item failed after retries.

``download`` takes what ``dlp items download`` takes and dlconvert's pipeline can do: the views
(``--view``, alias ``--annotation-options``), the item filters (``--remote-path``, and
``--filters`` for any Dataloop query) and the annotation filters (``--annotation-filter-type``,
``--annotation-filter-label``), ``--with-text`` and ``--thickness`` for the pictures; plus the
format options of ``convert`` for ``--to``. ``dlp``'s ``--not-items-folder`` and
``--without-binaries`` have no counterpart: dlconvert downloads binaries only when the output
needs them (overlays, ``--images-mode``, images without a size).
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from .._console import print_report, progress_bar
from ..errors import OptionError
from ..formats import AnnotationFormat
from ._options import FormatFlagsCommand, convert_options, source_format_option, writable_format

__all__ = ["download", "upload"]

EXIT_FAILED = 1
_FORMATS = [f.value for f in AnnotationFormat]


def _retry_options(command):
    command = click.option("--timeout", type=click.FloatRange(min=0.01), default=None,
                           help="Seconds one request may take (default: the SDK's 120).")(command)
    command = click.option("--backoff", type=click.FloatRange(min=0), default=1.0, show_default=True,
                           help="First wait between tries of an item, doubling each time.")(command)
    command = click.option("--attempts", type=click.IntRange(1, 20), default=4, show_default=True,
                           help="Tries of each per-item step before the item is reported failed.")(command)
    command = click.option("--env", envvar="DTLPY_ENV", default=None,
                           help="Dataloop environment: an SDK alias (prod …) or a gate URL [env: DTLPY_ENV].")(command)
    return command


def _policy(attempts: int, backoff: float, timeout: float | None, settle: float | None = None):
    from ..platform._sdk import RetryPolicy

    return RetryPolicy(attempts=attempts, backoff=backoff, max_backoff=max(backoff, 30.0), request_timeout=timeout,
                       request_retries=None if timeout is None else 3,
                       request_backoff=None if timeout is None else min(backoff, 1.0), settle=settle)


# ==================================================================================================
# download
# ==================================================================================================
_VIEWS = ("mask", "instance", "object_id", "overlay", "img_mask", "json")


def _views(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """Views given repeated or comma-separated (``dlp``'s ``--annotation-options json,mask``)."""
    out: list[str] = []
    for name in _names(ctx, param, values):
        name = name.lower()
        if name not in _VIEWS:
            raise click.BadParameter(f"{name!r} is not one of {', '.join(_VIEWS)}", ctx, param)
        if name not in out:
            out.append(name)
    return tuple(out)


def _names(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    """Names given repeated or comma-separated, as ``dlp`` takes them."""
    return [name for value in values for name in (part.strip() for part in value.split(",")) if name]


def _thickness(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    from ..render.views import check_style

    try:
        check_style(thickness=value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    return value


def _query(ctx: click.Context, param: click.Parameter, value: str | None) -> dict | None:
    """A Dataloop query as JSON: the ``filter`` object of a ``dtlpy.Filters``, or the whole query."""
    if value is None:
        return None
    try:
        query = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", ctx, param) from None
    if not isinstance(query, dict) or ("filter" in query and not isinstance(query["filter"], dict)):
        raise click.BadParameter("a query is a JSON object, e.g. '{\"dir\": \"/street\"}'", ctx, param)
    return query


def _item_filters(dl: Any, remote_paths: list[str], query: dict | None) -> Any:
    """The ``dtlpy.Filters`` of ``--remote-path`` (any of them; a folder takes its subfolders, ``*`` globs,
    as ``dlp`` reads it) and ``--filters`` (both must hold); None when neither is given."""
    if not remote_paths and query is None:
        return None
    paths = dl.Filters()
    for path in remote_paths:
        paths.add(field="filename", values="/" + path.lstrip("/"), method=dl.FiltersMethod.OR)
    if query is None:
        return paths
    query = dict(query) if "filter" in query else {"filter": query}
    if remote_paths:
        query["filter"] = {"$and": [query["filter"], paths.prepare()["filter"]]}
    return dl.Filters(custom_filter=query)


def _annotation_filters(dl: Any, types: list[str], labels: list[str]) -> Any:
    """The annotation ``dtlpy.Filters`` of ``--annotation-filter-type``/``-label`` (as ``dlp``), or None;
    without the SDK's default restriction to the types it knows, so a label filter keeps every type."""
    if not types and not labels:
        return None
    filters = dl.Filters(resource=dl.FiltersResource.ANNOTATION)
    with contextlib.suppress(Exception):
        filters.pop(field="type")  # the SDK's default lists only the types it knows
    if types:
        filters.add(field="type", values=types, operator=dl.FiltersOperations.IN)
    if labels:
        filters.add(field="label", values=labels, operator=dl.FiltersOperations.IN)
    return filters


@click.command(cls=FormatFlagsCommand)
@click.option("--dataset-id", required=True, help="The Dataloop dataset to download.")
@click.option("--to", "to_format", default="dataloop", show_default=True, metavar="FORMAT",
              type=click.Choice(_FORMATS, case_sensitive=False), callback=writable_format,
              help=f"Format to write to OUT. One of: {', '.join(_FORMATS)}.")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--view", "--annotation-options", "views", multiple=True, callback=_views, metavar="VIEW",
              help="Also render these pictures of every item into OUT/<view>/ (repeatable or comma-separated, as "
                   "dlp's --annotation-options): mask, instance, object_id, overlay (img_mask/; downloads every "
                   "image and video). json is the Dataloop JSON itself (--to dataloop).")
@click.option("--annotation-filter-type", "types", multiple=True, callback=_names, metavar="TYPES",
              help="Only annotations of these types (comma-separated or repeated: box,segment …), as dlp's.")
@click.option("--annotation-filter-label", "labels", multiple=True, callback=_names, metavar="LABELS",
              help="Only annotations with these labels (comma-separated or repeated), as dlp's.")
@click.option("--remote-path", "remote_paths", multiple=True, callback=_names, metavar="PATHS",
              help="Only items at these remote paths (comma-separated or repeated): a folder takes its "
                   "subfolders, * globs (/street/*.jpg), as dlp's.")
@click.option("--filters", "query", callback=_query, metavar="JSON",
              help="Only items this Dataloop query selects: the filter of a dtlpy.Filters as JSON "
                   "('{\"dir\": \"/street\"}'), or the whole query with its filter and join.")
@click.option("--with-text", is_flag=True, help="Write label names on the pictures (needs --view; never on the "
                                                  "mask and id pictures).")
@click.option("--thickness", type=int, callback=_thickness, default=None, metavar="PIXELS",
              help="Outline width of the pictures in pixels, -1 to fill (needs --view; default: render's).")
@click.option("--allow-missing-images", is_flag=True,
              help="Draw overlays of items whose image could not be downloaded on a grey checkerboard instead "
                   "of failing (needs --view overlay).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the conversion report (JSON) here.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
              help="Stop at the first bad record, or skip it and list it in the report.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it holds a previous dlconvert output.")
@_retry_options
def download(dataset_id: str, to_format: str, out: Path, views: tuple[str, ...], types: list[str],
             labels: list[str], remote_paths: list[str], query: dict | None, with_text: bool, thickness: int | None,
             allow_missing_images: bool, report_path: Path | None, on_error: str, overwrite: bool, env: str | None,
             attempts: int, backoff: float, timeout: float | None, **format_flags: Any) -> None:
    """Download dataset --dataset-id through the Dataloop SDK, convert it to OUT (in --to), and render the
    pictures --view asks for.

    The filters are dlp's: --remote-path and --filters choose items on the server,
    --annotation-filter-type and --annotation-filter-label choose annotations (what they leave out
    is not downloaded).
    """
    from ..converter import Converter
    from ..platform.connector import get_dataset, login
    from ..platform.download import download_dataset

    if "json" in views and to_format.lower() != "dataloop":
        raise OptionError(f"--view json is the Dataloop JSON: it does not apply with --to {to_format}")
    pictures = [view for view in views if view != "json"]
    if allow_missing_images and not {"overlay", "img_mask"} & set(pictures):
        raise OptionError("--allow-missing-images applies to overlays: add --view overlay")
    options = convert_options(None, None, **format_flags)
    policy = _policy(attempts, backoff, timeout)
    dl = login(env)
    dataset = get_dataset(dataset_id, policy, dl=dl)
    converter = Converter(on_error=on_error, progress=progress_bar("converting"), options=options)
    report = download_dataset(converter, dataset, out, to_format=to_format, views=pictures,
                              filters=_item_filters(dl, remote_paths, query),
                              annotation_filter=_annotation_filters(dl, types, labels), retry=policy,
                              overwrite=overwrite, allow_missing_images=allow_missing_images,
                              with_text=with_text, thickness=thickness)
    print_report(report, report_path)
    if report.failed_files:
        sys.exit(EXIT_FAILED)


# ==================================================================================================
# upload
# ==================================================================================================
@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@source_format_option()
@click.option("--dataset-id", required=True, help="The Dataloop dataset to upload to.")
@click.option("--items", "items_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the images (videos, audio): items not on the platform yet are uploaded from it.")
@click.option("--labels", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Label map for reading SRC: labelmap.json, an ontology JSON, or a names file.")
@click.option("--only-bbox", is_flag=True, help="Upload boxes only (shapes as their bounding box).")
@click.option("--remote-items", is_flag=True,
              help="Only annotate items already on the platform (never upload binaries).")
@click.option("--overwrite", is_flag=True,
              help="Make each item hold exactly the local annotations (deletes the remote ones that differ).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the upload report (JSON, one outcome per item) here.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
              help="Stop at the first bad local record, or skip it and list it in the report.")
@click.option("--workers", type=click.IntRange(1, 8), default=4, show_default=True,
              help="Items uploaded at the same time.")
@click.option("--settle", type=click.FloatRange(0, 3600), default=None, metavar="SECONDS",
              help="After an annotation upload went unanswered (a timeout), wait this long for the server to "
                   "finish it, then check the item again and delete surplus copies (default: --timeout, or the "
                   "SDK's 120).")
@_retry_options
def upload(src: Path, from_format: str, dataset_id: str, items_dir: Path | None, labels: Path | None,
           only_bbox: bool, remote_items: bool, overwrite: bool, report_path: Path | None, on_error: str,
           workers: int, settle: float | None, env: str | None, attempts: int, backoff: float,
           timeout: float | None) -> None:
    """Upload SRC (annotations in --from, and the items of --items) to dataset --dataset-id.

    Re-running is safe: each item ends up holding every local annotation exactly once (see
    dlconvert.platform.upload); items already in that state are reported skipped.
    """
    from ..converter import Converter
    from ..detection import resolve_format
    from ..platform.connector import get_dataset, login
    from ..platform.upload import upload_local_dataset

    from_format = resolve_format(src, from_format)
    policy = _policy(attempts, backoff, timeout, settle)
    dl = login(env)
    dataset = get_dataset(dataset_id, policy, dl=dl)
    converter = Converter(concurrency=workers, on_error=on_error, progress=progress_bar("uploading"))
    report = upload_local_dataset(converter, from_format, dataset, local_items_path=items_dir,
                                  local_labels_path=labels, local_annotations_path=src, only_bbox=only_bbox,
                                  remote_items=True if remote_items else None, overwrite=overwrite, retry=policy)
    if report_path is not None:
        report.save(report_path)
    for outcome in report.failed_items[:20]:
        click.echo(f"failed: {outcome.item}: {outcome.code}: {outcome.message}", err=True)
    click.echo(report.summary(), err=True)
    if report.failed_items or report.failed_files:
        sys.exit(EXIT_FAILED)
