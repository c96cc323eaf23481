"""Where dask runs: threads (default), processes, one process per worker (LocalCluster) or an existing
scheduler. Progress is shown on a terminal and stays quiet in logs and CI.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

import dask

from gep.core.errors import InputError
from gep.core.workers import worker_count


@contextlib.contextmanager
def scheduler(name: str = "threads", workers: int | None = None) -> Iterator[None]:
    """Run the enclosed ``dask.compute`` calls on the named scheduler with ``workers`` workers."""
    workers = worker_count(workers)
    if name in ("threads", "processes", "synchronous"):
        # the scheduler's function rather than its name: given a name, dask imports distributed (a slow import;
        # benchmarks/README.md) to look for a client first
        if name == "threads":
            from dask.threaded import get
        elif name == "processes":
            from dask.multiprocessing import get
        else:
            from dask.local import get_sync as get
        with dask.config.set(scheduler=get, num_workers=workers):
            yield
        return
    from distributed import Client, LocalCluster

    if name == "local-cluster":
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=40) as cluster, Client(cluster):
            yield
        return
    if name.startswith("tcp://") or name.startswith("tls://"):
        try:
            client = Client(name, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise InputError(f"compute.scheduler: cannot reach the dask scheduler at {name} ({err}); "
                             f"start it or use 'threads'") from None
        try:
            yield
        finally:
            client.close()
        return
    raise InputError(f"compute.scheduler: unknown scheduler '{name}'; use threads, processes, synchronous, "
                     f"local-cluster or tcp://host:port")


@contextlib.contextmanager
def progress(label: str) -> Iterator[None]:
    """A progress bar for dask computations when stderr is a terminal (not in CI or log files)."""
    if sys.stderr.isatty() and not os.environ.get("CI"):
        from dask.diagnostics import ProgressBar

        print(label, file=sys.stderr)
        with ProgressBar(minimum=2.0, out=sys.stderr):
            yield
    else:
        yield
