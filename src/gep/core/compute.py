"""Where dask runs: threads (default), processes, one process per worker (LocalCluster) or an existing
scheduler; and the progress of long computations (``gep: progress:`` lines in a job's log, live on a
terminal).
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
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


#: Seconds between progress lines (``GEP_PROGRESS_INTERVAL`` overrides): in a log a line every this many
#: seconds or at each tenth of the work, whichever comes first; on a terminal one line updated in place.
LOG_INTERVAL_S = 10.0
TTY_INTERVAL_S = 1.0
INTERVAL_VAR = "GEP_PROGRESS_INTERVAL"
#: What ``progress`` lines start with: a gep line, so ``gep run`` shows it (gep.workflow.summary.GEP_LINE).
PREFIX = "gep: progress: "


def _interval(live: bool) -> float:
    text = os.environ.get(INTERVAL_VAR)
    if not text:
        return TTY_INTERVAL_S if live else LOG_INTERVAL_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise InputError(f"{INTERVAL_VAR}={text}: not a number of seconds; give e.g. 10 (or unset it)")
    return value


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class Meter:
    """Progress of one piece of work of ``total`` steps (dask tasks: blocks of a raster, groups of polygons):
    nothing for the first ``interval`` seconds (short work stays quiet), then a line of done/total, rate and
    ETA every ``interval`` seconds or each tenth of the work, and a last line when it is done."""

    def __init__(self, label: str, total: int, *, stream=None, interval: float | None = None,
                 live: bool | None = None, clock=time.monotonic):
        self.stream = stream if stream is not None else sys.stderr
        self.live = _is_terminal(self.stream) if live is None else live
        self.label, self.total, self.clock = label, max(int(total), 0), clock
        self.interval = _interval(self.live) if interval is None else interval
        self.start = self.last = clock()
        self.done = 0
        self.shown = False
        self.next_tenth = 1

    def line(self, now: float) -> str:
        elapsed = now - self.start
        pct = 100.0 * self.done / self.total if self.total else 100.0
        head = f"{PREFIX}{self.label}: {self.done}/{self.total} tasks ({pct:.0f}%)"
        if self.done >= self.total:
            return f"{head} in {_duration(elapsed)}"
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = _duration((self.total - self.done) / rate) if rate > 0 else "unknown"
        return f"{head}, {rate:.3g} tasks/s, ETA {eta}"

    def _emit(self, text: str, final: bool = False) -> None:
        if self.live:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
        self.shown = True

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` steps of ``total`` (default: as before) are done; a line if one is due."""
        if total is not None:
            self.total = max(int(total), 0)
        self.done = max(0, min(int(done), self.total))
        if self.done >= self.total:
            return  # the last line comes from finish()
        now = self.clock()
        tenth = self.total and self.done * 10 // self.total >= self.next_tenth
        due = now - self.last >= self.interval
        if now - self.start < self.interval and not self.shown:
            return
        if due or (tenth and not self.live):
            self.next_tenth = self.done * 10 // self.total + 1 if self.total else 1
            self.last = now
            self._emit(self.line(now))

    def finish(self) -> None:
        """The last line, when any progress was shown (or the work took longer than the interval)."""
        now = self.clock()
        if self.shown or (now - self.start >= self.interval and self.total):
            self.done = self.total
            self._emit(self.line(now), final=True)


def _is_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal itself: a job's stream that also writes its log (``--log``) is not, so
    its log gets whole lines."""
    if not isinstance(stream, io.IOBase):
        return False
    try:
        return bool(stream.isatty()) and not os.environ.get("CI")
    except (AttributeError, ValueError):
        return False


def _distributed_client():
    """The dask.distributed client the enclosed computations go to (``scheduler`` set one), or None."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


@contextlib.contextmanager
def _cluster_progress(label: str, client, interval: float | None) -> Iterator[None]:
    """Progress of the computations on a distributed scheduler: its task counts, polled from a thread."""
    import threading

    def counts(dask_scheduler=None) -> tuple[int, int]:
        """(tasks finished, tasks known) on the scheduler (all its clients'); runs there, sent by value (a local
        function), so a scheduler without gep installed runs it too."""
        finished = ("memory", "released", "forgotten", "erred")
        states = [ts.state for ts in dask_scheduler.tasks.values()]
        return sum(s in finished for s in states), len(states)

    stop = threading.Event()
    meter = Meter(label, 0, interval=interval)

    def poll():
        while not stop.wait(min(1.0, meter.interval or 0.05)):
            try:
                done, total = client.run_on_scheduler(counts)
            except Exception:  # a scheduler that refuses code (distributed.scheduler.pickle) shows no progress
                return
            if total:
                meter.update(done, total)

    thread = threading.Thread(target=poll, name="gep-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
    meter.finish()


@contextlib.contextmanager
def progress(label: str, *, interval: float | None = None) -> Iterator[None]:
    """Progress of the enclosed dask computations: tasks done of all, rate and ETA, as ``gep: progress:`` lines on
    stderr (so in the job's log, and shown by ``gep run``) every ``interval`` seconds (``GEP_PROGRESS_INTERVAL``;
    default 10 s, or each tenth of the work) once a computation has run that long; on a terminal one line
    updated every second. Threads, processes and synchronous schedulers report through a dask callback; on a
    distributed scheduler (local-cluster, tcp://) the scheduler's task counts are polled."""
    _interval(live=False)  # a bad GEP_PROGRESS_INTERVAL stops the job before any work
    client = _distributed_client()
    if client is not None:
        with _cluster_progress(label, client, interval):
            yield
        return
    from dask.callbacks import Callback

    class _Tasks(Callback):
        """One Meter per dask.compute call inside the block."""

        def _start_state(self, dsk, state):
            total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
            self.meter = Meter(label, total, interval=interval)

        def _posttask(self, key, result, dsk, state, worker_id):
            self.meter.advance()

        def _finish(self, dsk, state, errored):
            if not errored:
                self.meter.finish()

    with _Tasks():
        yield
