"""Drawing many figures at once, in worker processes (matplotlib is not thread-safe).

A province has hundreds to a couple of thousand townships, and the scorecard draws a trend chart for each
(figures in benchmarks/README.md, bench_scorecard.py). :func:`draw` runs figure jobs — ``(function,
args, kwargs)``, a module-level function that writes one file and returns its path — in ``workers``
processes and returns the paths in job order. With one worker, or too few jobs to pay for starting processes,
it draws them in this process. Each job is a function of its arguments only, so the files are byte-identical
whatever the number of workers.

The workers are forked from a fork server that has imported the drawing code once (``forkserver``; ``spawn``
where there is no fork). Forking this process itself would be faster but unsafe: reading Parquet leaves
Arrow's native threads behind, and a child forked beside them can inherit a held lock.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

from gep.core.workers import MEM_VAR, memory_budget_mb

Job = tuple[Callable[..., Any], tuple, dict]

#: Fewer jobs than this per worker are drawn with fewer workers: starting the fork server and a process costs
#: as much as several charts (figures in benchmarks/README.md).
MIN_JOBS_PER_WORKER = 8

#: Memory (MB) of one drawing process (pandas, matplotlib, the font, one figure), and of this process plus the
#: fork server, as measured with 300 regions (benchmarks/README.md) with room to spare.
PROCESS_MB = 200
BASE_MB = 600

#: Imported once, in the fork server (pandas, geopandas, the font code, most of matplotlib), not once per
#: worker. The figures draw on Agg canvases of their own, without pyplot.
_PRELOAD = ["gep.scorecard.maps", "matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.font_manager"]


def _context():
    if sys.platform == "win32":
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(_PRELOAD)
    return ctx


def _call(job: Job):
    func, args, kwargs = job
    return func(*args, **kwargs)


def processes(workers: int, njobs: int, budget_mb: int | None) -> int:
    """How many processes draw ``njobs`` figures when ``workers`` are allowed: at most one per
    MIN_JOBS_PER_WORKER jobs and, with a memory budget (MB; the job's ``GEP_MEM_MB``), at most what fits in it
    beside this process and the fork server (BASE_MB + PROCESS_MB each)."""
    n = min(int(workers), njobs // MIN_JOBS_PER_WORKER)
    if budget_mb is not None:
        n = min(n, (budget_mb - BASE_MB) // PROCESS_MB)
    return max(n, 1)


def _call_chunk(chunk: list[Job]) -> list:
    return [_call(job) for job in chunk]


@contextmanager
def drawing(jobs: Iterable[Job], workers: int) -> Iterator[Callable[[], list]]:
    """Start drawing ``jobs`` on up to ``workers`` processes (see :func:`processes`) and run the block meanwhile
    (the scorecard writes its workbook then). The block calls the yielded function for the results (paths, in
    job order), which waits for the last figure; with one process the figures are drawn in that call.

    A job that raises (or cannot be sent to a worker) makes the results function raise its exception, and a
    drawing process that dies (killed for memory) a RuntimeError saying so. When the block leaves, jobs not
    started yet are cancelled: a failure elsewhere does not wait for every chart.
    """
    jobs = list(jobs)
    budget = memory_budget_mb()
    workers, wanted = processes(workers, len(jobs), budget), processes(workers, len(jobs), None)
    if workers < wanted:
        print(f"gep: drawing {len(jobs)} figures on {workers} process(es), not {wanted}: {MEM_VAR}={budget} MB "
              f"holds {workers} at ~{PROCESS_MB} MB each; raise the rule's mem_mb for more", file=sys.stderr)
    if workers <= 1:
        yield lambda: _call_chunk(jobs)
        return
    # concurrent.futures, not multiprocessing.Pool: a drawing process killed (out of memory) breaks the pool
    # with an error, where Pool waits forever. No cancel_futures on shutdown: with a job that cannot be pickled
    # it hangs (CPython issue 116685); the futures are cancelled one by one instead.
    size = max(1, len(jobs) // (8 * workers))  # chunks of a few jobs: fewer round trips, still balanced
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context()) as pool:
        futures = [pool.submit(_call_chunk, jobs[k:k + size]) for k in range(0, len(jobs), size)]

        def results() -> list:
            try:
                return [path for f in futures for path in f.result()]
            except BrokenProcessPool:
                raise RuntimeError(f"a process drawing the figures died (killed for memory?); give the job more "
                                   f"memory (the rule's mem_mb, {MEM_VAR}) or fewer threads") from None

        try:
            yield results
        finally:
            for f in futures:
                f.cancel()


def draw(jobs: Iterable[Job], workers: int) -> list:
    """Run ``jobs`` on up to ``workers`` processes (see :func:`drawing`); their results (paths) in job order."""
    with drawing(jobs, workers) as results:
        return results()


__all__ = ["BASE_MB", "MIN_JOBS_PER_WORKER", "PROCESS_MB", "draw", "drawing", "processes"]
