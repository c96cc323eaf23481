"""How many workers (threads or processes) one gep process uses.

The workflow runs every step as ``gep stage STEP … --threads N`` (N = the threads its rule declares, and SLURM
grants: ``--cpus-per-task``); the step sets ``GEP_THREADS`` for its own duration. Outside the workflow the
default is every CPU. Where workers are processes that each hold their own memory, the rule also passes its
``mem_mb`` (``--mem-mb``, set as ``GEP_MEM_MB``), and gep starts no more of them than fit.
"""

from __future__ import annotations

import os

from gep.core.errors import InputError

ENV_VAR = "GEP_THREADS"
MEM_VAR = "GEP_MEM_MB"


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


def memory_budget_mb() -> int | None:
    """The job's memory in MB when the workflow gave it (``GEP_MEM_MB``, the rule's ``mem_mb``), else None."""
    value = os.environ.get(MEM_VAR, "").strip()
    if not value:
        return None
    try:
        mb = int(value)
    except ValueError:
        mb = 0
    if mb < 1:
        raise InputError(f"{MEM_VAR}={value}: not a memory size; set whole megabytes (e.g. 2000) or unset it")
    return mb


__all__ = ["ENV_VAR", "MEM_VAR", "memory_budget_mb", "worker_count"]
