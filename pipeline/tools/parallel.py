"""Spread a list of independent jobs (parse a file, render a page) over the CPU cores.

Workers are forked, so the job function may be a closure over the whole build's data: only the
items' positions go to the workers, and only the results come back. Small lists stay in this
process: forking and shipping results back costs more than it saves below a few hundred items.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MIN_ITEMS = 300  # below this a pool costs more than it saves (measured on 2 cores)

_job: Callable | None = None  # the function and items a forked worker runs, set before forking
_items: Sequence = ()


def worker_count() -> int:
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, available)


def parallel_map(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    min_items: int | None = None,
    progress: Callable | None = None,
) -> list[Result]:
    """[function(item) for item in items], on every core when there are enough items.

    `progress` wraps the items when they are done here, one by one (a progress bar). An exception
    in a worker is raised again by running that chunk here, so callers see the same exception
    (with its traceback) as without a pool."""
    items = list(items)
    min_items = MIN_ITEMS if min_items is None else min_items
    workers = min(worker_count(), len(items) // max(1, min_items // 2) or 1)
    if workers < 2 or len(items) < min_items or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in (progress(items) if progress else items)]
    global _job, _items
    _job, _items = function, items
    try:
        chunks = chunk_bounds(len(items), workers)
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_die_with, initargs=(os.getpid(),)) as pool:
            outcomes = list(pool.map(_run_chunk, chunks))
    finally:
        _job, _items = None, ()
    results: list[Result] = []
    for (start, end), (ok, values) in zip(chunks, outcomes, strict=True):
        results.extend(values if ok else [function(item) for item in items[start:end]])
    return results


def chunk_bounds(count: int, workers: int) -> list[tuple[int, int]]:
    """[start, end) of each chunk: each a share of what is left, so chunks shrink towards the end
    and the workers finish together even when the last items are the slow ones (the blog's topic
    pages, which list hundreds of articles each, come last)."""
    bounds = []
    start = 0
    while start < count:
        end = start + max(1, (count - start) // (2 * workers))
        bounds.append((start, end))
        start = end
    return bounds


def _run_chunk(bounds: tuple[int, int]) -> tuple[bool, list]:
    start, end = bounds
    try:
        return True, [_job(item) for item in _items[start:end]]
    except BaseException:  # exceptions do not all pickle: the parent runs this chunk again itself
        return False, []


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """A worker is killed with its parent (kill -9 of a build included), never left orphaned."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the pool's own shutdown is all there is
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
