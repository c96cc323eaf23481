"""How many workers (threads or processes) one gep process uses.

The workflow runs every command as ``GEP_THREADS={threads} gep …``, so a job uses exactly the cores its rule
declares (and SLURM grants: ``--cpus-per-task``). Outside the workflow the default is every CPU.
"""

from __future__ import annotations

import os

from .errors import InputError

ENV_VAR = "GEP_THREADS"


def worker_count(workers: int | None = None) -> int:
    """``workers`` when given (> 0), else ``GEP_THREADS`` when set (> 0), else the number of CPUs."""
    if workers:
        return int(workers)
    value = os.environ.get(ENV_VAR, "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            n = -1
        if n < 0:
            raise InputError(f"{ENV_VAR}={value}: not a number of threads; set a whole number ≥ 1 (0: every CPU) "
                             "or unset it")
        if n:
            return n
    return os.cpu_count() or 1


__all__ = ["ENV_VAR", "worker_count"]
