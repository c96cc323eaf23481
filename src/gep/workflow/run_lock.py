"""One workflow run at a time per output folder (docs/methods.md §8.1).

Snakemake locks the output files of a run in the working folder it starts from (``.snakemake/locks``), so two
runs started from two working folders (two checkouts, or two copies of a project) into the same output folder
do not see each other and would write the same tables at once. The run therefore holds a lock file in the
output folder itself from its first job to its end. A lock whose process no longer runs (a run killed on this
machine) is taken over; one held from another machine is reported with its host so a person can decide.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from gep.core.errors import InputError

LOCK = Path(".gep") / "run.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user
        return True
    except OSError:
        return False
    return True


def acquire(out: str | Path) -> Path:
    """Take the output folder's run lock; InputError (one line) when another live run holds it."""
    out = Path(out)
    path = out / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "cwd": os.getcwd(),
          "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                held = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                held = {}
            same_host = held.get("host") == me["host"]
            if same_host and isinstance(held.get("pid"), int) and not _alive(held["pid"]):
                path.unlink(missing_ok=True)  # left by a run that was killed: take it over
                continue
            raise InputError(
                f"{out}: the output folder is in use by another gep run (process {held.get('pid', '?')} on "
                f"{held.get('host', '?')}, started {held.get('since', '?')} from {held.get('cwd', '?')}); wait for "
                f"it to finish, or set another 'output_dir' (if no such run exists, delete {path})") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(me, fh)
        return path
    raise InputError(f"{path}: cannot take the output folder's run lock; delete the file if no run is active")


def release(out: str | Path) -> None:
    """Give the lock back (only our own)."""
    path = Path(out) / LOCK
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if held.get("pid") == os.getpid() and held.get("host") == socket.gethostname():
        path.unlink(missing_ok=True)
