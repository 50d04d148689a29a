"""Independent jobs in forked worker processes (at most settings.PARALLEL_JOBS), results in order.

`verify` and `generate --all` derive and verify several (name, K) that share nothing, so a second
core halves their wall time. The job function is set before the fork and inherited by the workers:
nothing but an index and the result crosses between processes. A DeriveError raised in a worker
comes back as one of the same message and exit code (errors.relayed); anything else propagates.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator

from ..errors import DeriveError
from ..settings import PARALLEL_JOBS

_WORK: Callable[[int], object] | None = None  # set in the parent just before the workers are forked


def _run(index: int):
    try:
        return False, _WORK(index)
    except DeriveError as error:  # its class may not pickle (keyword-only fields): message and code do
        return True, (str(error), error.exit_code)


def _unwrap(outcome):
    failed, value = outcome
    if failed:
        message, exit_code = value
        error = DeriveError(message)
        error.exit_code = exit_code
        raise error
    return value


def worker_count(jobs: int) -> int:
    return max(1, min(PARALLEL_JOBS, os.cpu_count() or 1, jobs))


@contextlib.contextmanager
def in_order(work: Callable[[int], object], count: int,
             weight: Callable[[int], float] | None = None) -> Iterator[Iterator]:
    """An iterator over work(0), ..., work(count - 1), in that order.

    With more than one worker the processes are forked on entry, before the caller starts a
    progress bar (whose refresh thread a fork must not copy mid-write). `weight(index)` estimates a
    job's cost: the heaviest are started first, so a long job does not start last and run alone
    while the other core idles (the results still come in index order)."""
    global _WORK
    workers = worker_count(count)
    if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield (work(index) for index in range(count))
        return
    _WORK = work
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    try:
        # Everything is submitted now (the workers fork here), heaviest first; a stable sort keeps
        # the index order among equals.
        started = sorted(range(count), key=lambda index: -weight(index)) if weight else range(count)
        futures = {index: pool.submit(_run, index) for index in started}
        yield (_unwrap(futures[index].result()) for index in range(count))
    except BaseException:
        pool.shutdown(cancel_futures=True)  # a failure stops the work not yet started
        raise
    finally:
        pool.shutdown()
        _WORK = None
