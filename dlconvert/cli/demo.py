"""``dlconvert demo``: the whole tool on its bundled sample."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path), default="dlconvert-demo")
@click.option("--overwrite", is_flag=True,
              help="Replace OUT when it holds a previous dlconvert output (never a folder holding files dlconvert "
                   "did not write, the working or home folder).")
def demo(out: Path, overwrite: bool) -> None:
    """Run dlconvert on its bundled sample dataset and write the results to OUT (default ./dlconvert-demo)."""
    from .._io import staged_output
    from ..demo import run_demo, sample_dataset_path

    with staged_output(out, overwrite=overwrite, sources=(sample_dataset_path(),), about={"format": "demo"}) as staging:
        lines = list(run_demo(staging))
    for line in lines:
        click.echo(line.replace(str(staging), str(out)))
