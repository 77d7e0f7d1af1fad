"""``dlconvert download`` and ``dlconvert upload``: the platform connector on the command line.

Register them on the main group (``main.add_command(download)``, ``main.add_command(upload)``);
errors are :class:`~dlconvert.errors.DlconvertError`\\ s, so the group prints one line. Both log in
as the SDK does (``DTLPY_API_KEY``, ``DTLPY_EMAIL``/``DTLPY_PASSWORD``, or the SDK's saved token;
``--env``/``DTLPY_ENV`` picks the environment) and exit 1 when any item failed after retries.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .._console import print_report, progress_bar
from ..errors import OutputError
from ..formats import AnnotationFormat

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


def _policy(attempts: int, backoff: float, timeout: float | None):
    from ._sdk import RetryPolicy

    return RetryPolicy(attempts=attempts, backoff=backoff, max_backoff=max(backoff, 30.0), request_timeout=timeout,
                       request_retries=None if timeout is None else 3,
                       request_backoff=None if timeout is None else min(backoff, 1.0))


def _refuse_non_empty(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a folder", path=out)
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputError("folder is not empty; pass --overwrite to replace it", path=out)


@click.command()
@click.option("--dataset-id", required=True, help="The Dataloop dataset to download.")
@click.option("--to", "to_format", required=True, metavar="FORMAT", type=click.Choice(_FORMATS, case_sensitive=False),
              help="Format to write to OUT.")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Save the conversion report (JSON) here.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
              help="Stop at the first bad record, or skip it and list it in the report.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it is not empty.")
@_retry_options
def download(dataset_id: str, to_format: str, out: Path, report_path: Path | None, on_error: str, overwrite: bool,
             env: str | None, attempts: int, backoff: float, timeout: float | None) -> None:
    """Download dataset --dataset-id through the Dataloop SDK and convert it to OUT (in --to)."""
    from ..converter import Converter
    from .connector import get_dataset, login
    from .download import convert_dataset

    _refuse_non_empty(out, overwrite)
    policy = _policy(attempts, backoff, timeout)
    dl = login(env)
    dataset = get_dataset(dataset_id, policy, dl=dl)
    converter = Converter(on_error=on_error, progress=progress_bar("converting"))
    report = convert_dataset(converter, dataset, to_format, out, retry=policy)
    print_report(report, report_path)
    if report.failed_files:
        sys.exit(EXIT_FAILED)


@click.command()
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option("--from", "from_format", required=True, metavar="FORMAT",
              type=click.Choice(_FORMATS, case_sensitive=False), help="Format of SRC.")
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
@_retry_options
def upload(src: Path, from_format: str, dataset_id: str, items_dir: Path | None, labels: Path | None,
           only_bbox: bool, remote_items: bool, overwrite: bool, report_path: Path | None, on_error: str,
           workers: int, env: str | None, attempts: int, backoff: float, timeout: float | None) -> None:
    """Upload SRC (annotations in --from, and the items of --items) to dataset --dataset-id.

    Re-running is safe: each item ends up holding every local annotation exactly once (see
    dlconvert.platform.upload); items already in that state are reported skipped.
    """
    from ..converter import Converter
    from .connector import get_dataset, login
    from .upload import upload_local_dataset

    policy = _policy(attempts, backoff, timeout)
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
