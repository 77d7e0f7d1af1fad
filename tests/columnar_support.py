"""Comparing two ways of writing one conversion — the columnar path (dlconvert.table) and the object path, one
worker and several: the same files, byte for byte, and the same report (or the same error). Shared by the
columnar differential tests and the sharding tests."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
from realfiles import AVAILABLE, NO_REAL_FILES, real_file

from dlconvert import Converter, ConvertOptions
from dlconvert.formats import _cache, get_format

__all__ = ["assert_same", "convert", "real_coco_files", "same_tree", "spy", "tree"]


def convert(src: Path, source: str, dst: Path, target: str, *, columnar: bool, on_error: str = "skip",
            workers: int = 1, **options: Any) -> dict | str:
    """The report's facts (outputs relative to ``dst``), or the error, of ``source`` → ``target``: on the object
    path (neither format's table functions registered) or on the registry's own path."""
    saved = {name: get_format(name) for name in (source, target)}
    if not columnar:
        _cache[source] = dataclasses.replace(saved[source], read_table=None)
        _cache[target] = dataclasses.replace(_cache[target], write_table=None)
    try:
        report = Converter(on_error=on_error, concurrency=workers, options=ConvertOptions(**options)).run(
            src, source, dst, target)
    except Exception as exc:  # both paths must fail alike
        return f"{type(exc).__name__}: {exc}"
    finally:
        _cache.update(saved)
    facts = report.to_json()
    facts["outputs"] = [os.path.relpath(p, dst) for p in facts["outputs"]]
    return facts


def real_coco_files() -> list:
    """Every real COCO file (and the Dataloop examples' COCO export), as test parameters named by their path."""
    if not AVAILABLE:
        return NO_REAL_FILES
    files = [*sorted(real_file("coco").rglob("*.json")),
             real_file("dataloop/dtlpy-converters-examples/coco/coco/annotations.json")]
    return [pytest.param(p, id=str(p.relative_to(real_file(".")))) for p in files]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` and its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def same_tree(a: Path, b: Path) -> None:
    """The same files under ``a`` and ``b``, with the same bytes (the first differing names in the message)."""
    left, right = tree(a), tree(b)
    assert sorted(left) == sorted(right)
    different = [name for name in left if left[name] != right[name]]
    assert not different, f"files differ: {different[:5]}"


def assert_same(src: Path, source: str, target: str, work: Path, *, on_error: str = "skip", workers: int = 1,
                **options: Any) -> dict | str:
    """The object path in one process and the columnar path on ``workers`` write the same and report the same;
    returns the columnar path's facts."""
    by_objects = convert(src, source, work / "objects", target, columnar=False, on_error=on_error, **options)
    by_columns = convert(src, source, work / "columns", target, columnar=True, on_error=on_error, workers=workers,
                         **options)
    assert by_columns == by_objects
    if isinstance(by_objects, dict):
        assert tree(work / "columns") == tree(work / "objects")
    return by_columns


def spy(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list:
    """What each call of ``module.name`` returned (a table function: None means it left the job to the objects)."""
    results: list = []
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        results.append(real(*args, **kwargs))
        return results[-1]

    monkeypatch.setattr(module, name, wrapper)
    return results
