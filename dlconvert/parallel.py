"""Per-item work on all cores — or on any ``concurrent.futures.Executor``, such as a Dask cluster's.

A job is cut into *shards* (consecutive runs of items); each shard is one task, and the results
are used in shard order, so the output does not depend on the number of workers or on which
worker finished first. At most a few shards per worker are in flight, which bounds memory.

Shards must be picklable (the process pool and Dask send them to other processes); a task that
cannot decide its output on its own raises :class:`NeedsSequential` and the caller runs the job
in one process instead.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

__all__ = [
    "NeedsSequential",
    "dask_executor",
    "default_workers",
    "map_in_order",
    "map_shared",
    "picklable",
    "shard_sizes",
    "worker_pool",
]

T = TypeVar("T")
R = TypeVar("R")

MIN_SHARD = 64  # items: below this, sending a shard costs more than the work it carries
MAX_SHARD = 1024  # items: keeps a shard's memory small and the pool balanced
SHARDS_PER_WORKER = 4  # enough to balance uneven items, few enough that set-up costs stay small
CONNECT_SECONDS = 20  # how long to try reaching a Dask scheduler


class NeedsSequential(Exception):
    """A shard met something only a single ordered pass can decide (a new label, two items on one path)."""


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def shard_sizes(total: int, workers: int) -> list[int]:
    """How many items each shard gets: even sizes, ``SHARDS_PER_WORKER`` per worker, within bounds."""
    if total <= 0:
        return []
    size = max(MIN_SHARD, min(MAX_SHARD, -(-total // (workers * SHARDS_PER_WORKER))))
    count = -(-total // size)
    base, extra = divmod(total, count)
    return [base + (i < extra) for i in range(count)]


def worth_sharding(count: int, workers: int, executor: Executor | None) -> bool:
    """Whether ``count`` items are worth cutting into shards: other workers exist and there are two shards' worth."""
    return (executor is not None or workers >= 2) and count >= 2 * MIN_SHARD


def map_shards(units: list, fn: Callable[[T], R], make_task: Callable[[bytes, int], T], *, workers: int,
               executor: Executor | None = None, progress: Callable | None = None) -> Iterator[R]:
    """``fn(make_task(packed units, index of the first))`` for each shard of ``units``, results in shard order.

    Runs on ``executor``, else on a process pool of ``workers`` made for the call. Each shard is
    packed only when it is sent, so no second copy of the source is held. ``progress`` is a tqdm-like
    wrapper (``progress(iterable, total=)``) that counts items: each finished shard advances it by
    its number of items, so its rate is items per second.
    """
    sizes = shard_sizes(len(units), workers)

    def tasks() -> Iterator[T]:
        start = 0
        for size in sizes:
            yield make_task(pack_units(units[start:start + size]), start)
            start += size

    with worker_pool(workers) if executor is None else nullcontext(executor) as pool:
        results = map_in_order(pool, fn, tasks(), window=2 * workers)
        yield from results if progress is None else _counting_items(progress, results, sizes)


_TICK = object()  # one item of a finished shard, for the progress bar


def _counting_items(progress: Callable, results: Iterator[R], sizes: list[int]) -> Iterator[R]:
    """The shards' results, through a progress bar that counts each shard's items (ticks, then the result)."""

    def ticks() -> Iterator:
        for size, result in zip(sizes, results, strict=False):
            for _ in range(size - 1):
                yield _TICK
            yield result

    for value in progress(ticks(), total=sum(sizes)):
        if value is not _TICK:
            yield value


_SHARED: dict[int, Any] = {}  # what forked workers of map_shared find (copy-on-write), by key


def map_shared(shared: Any, fn: Callable[[Any, int, int], R], total: int, *, workers: int,
               progress: Callable | None = None) -> Iterator[R]:
    """``fn(shared, first, stop)`` for consecutive ranges of ``range(total)``, results in range order
    (through ``progress``, a tqdm-like factory counting the items of each range done, when given).

    ``shared`` (a :class:`~dlconvert.table.Table` and what a writer planned) is not sent anywhere:
    the workers are forked after it exists and read it as it is in memory, so a shard costs two
    integers to send. Where processes cannot be forked (no ``fork`` start method) or one worker is
    asked for, the ranges run in this process.
    """
    sizes = shard_sizes(total, workers)
    results = _map_ranges(shared, fn, sizes, workers)
    yield from results if progress is None else _counting_items(progress, results, sizes)


def _map_ranges(shared: Any, fn: Callable[[Any, int, int], R], sizes: list[int], workers: int) -> Iterator[R]:
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    ranges = [(start, start + size) for start, size in zip(starts, sizes, strict=True)]
    if workers < 2 or len(ranges) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for first, stop in ranges:
            yield fn(shared, first, stop)
        return
    key = id(shared)
    _SHARED[key] = shared
    try:
        with worker_pool(workers) as pool:
            yield from map_in_order(pool, _run_shared, ((key, fn, first, stop) for first, stop in ranges),
                                    window=2 * workers)
    finally:
        _SHARED.pop(key, None)


def _run_shared(task: tuple) -> Any:
    key, fn, first, stop = task
    return fn(_SHARED[key], first, stop)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """The cyclic collector off while the block runs: decoding a large file makes millions of acyclic objects
    (records, floats), and each collection would scan them all for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_frozen_depth = 0  # frozen_for_gc blocks open: only the outermost one thaws (gc.unfreeze thaws everything)


@contextmanager
def frozen_for_gc() -> Iterator[None]:
    """Keep what exists now — a parsed source, millions of acyclic objects — out of the cyclic
    collector's scans while the block runs (and shared, not copied, by forked workers). Blocks nest:
    an inner one freezes what was made since, and leaves the thawing to the outermost."""
    global _frozen_depth
    gc.freeze()
    _frozen_depth += 1
    try:
        yield
    finally:
        _frozen_depth -= 1
        if not _frozen_depth:
            gc.unfreeze()


def pack_units(units: list) -> bytes:
    """A shard's units (JSON values) as compact JSON bytes, the form they travel to a worker in.

    Rebuilding parsed COCO records from JSON with orjson is several times faster than unpickling
    them (at 25k images, unpickling cost the workers as much CPU as the work itself).
    """
    from ._json import dumps

    return dumps(units, indent=False)


def unpack_units(data: bytes) -> list:
    """The units :func:`pack_units` packed."""
    from ._json import loads

    return loads(data)


def picklable(*values: Any, cloud: bool = False) -> bool:
    """Whether ``values`` can be sent to another process: by a process pool (pickle: a lambda hook
    cannot), or with ``cloud`` by Dask (cloudpickle, which also sends lambdas, when installed)."""
    dumps = pickle.dumps
    if cloud:
        try:
            import cloudpickle
        except ImportError:
            pass
        else:
            dumps = cloudpickle.dumps
    try:
        dumps(values)
    except Exception:  # any failure means "keep it in this process"
        return False
    return True


def map_in_order(executor: Executor, fn: Callable[[T], R], tasks: Iterable[T], window: int) -> Iterator[R]:
    """``fn(task)`` for every task on ``executor``, yielded in task order, at most ``window`` in flight."""
    pending: deque[Future] = deque()
    try:
        for task in tasks:
            pending.append(executor.submit(fn, task))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor]:
    """A process pool of ``workers``; forked on Linux, so workers start with dlconvert already imported."""
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def dask_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """The executor of the Dask scheduler at ``address`` and its worker thread count (``dlconvert[dask]``)."""
    from .errors import PlatformError

    try:
        from distributed import Client
    except ImportError:
        raise PlatformError("--scheduler needs Dask: pip install 'dlconvert[dask]'") from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as exc:
        raise PlatformError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        yield client.get_executor(), sum(client.nthreads().values()) or 1
    finally:
        client.close()
