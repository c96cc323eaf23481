"""Results a failed workflow run must not cost (docs/methods.md §8.1).

Snakemake removes a job's existing outputs before it runs the job and again when the job fails. A job that gep
refuses (the publish guard, a bad table found late) would so delete the results of the previous run, although
gep itself wrote nothing. The workflow therefore keeps every result file of the run folder before the first job
(:func:`snapshot`, hard links: no copy of the data), puts back whatever a failed run removed (:func:`restore`)
and forgets the snapshot after a successful run (:func:`drop`). Results a failed run rewrote successfully stay
as they are: only missing files come back, with their old modification time, so Snakemake redoes their jobs the
next time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: the snapshot's folder, inside the run folder (same file system, so hard links work)
KEEP_DIR = Path(".gep") / "keep"
#: what is not a result: job logs and benchmarks are rewritten by every run, frozen copies are never removed
NOT_RESULTS = {".gep", "logs", "benchmarks", "published"}


def _results(out: Path):
    for top in sorted(out.iterdir()) if out.is_dir() else []:
        if top.name in NOT_RESULTS:
            continue
        if top.is_file():
            yield top
        elif top.is_dir():
            yield from sorted(p for p in top.rglob("*") if p.is_file() and not p.is_symlink())


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:  # a file system without hard links: copy (keeps the modification time)
        shutil.copy2(src, dst)


def snapshot(out: str | Path) -> int:
    """Keep every result file under ``out`` (hard links in ``out/.gep/keep``); returns how many. A snapshot left
    by an interrupted run is replaced: the files now in the folder are the ones to keep."""
    out = Path(out)
    keep = out / KEEP_DIR
    drop(out)
    n = 0
    for f in _results(out):
        _link(f, keep / f.relative_to(out))
        n += 1
    return n


def restore(out: str | Path) -> list[Path]:
    """Put back every kept file that is missing now (a failed run removed it); returns their paths. The
    snapshot is then dropped."""
    out = Path(out)
    keep = out / KEEP_DIR
    back = []
    if keep.is_dir():
        for k in sorted(p for p in keep.rglob("*") if p.is_file()):
            target = out / k.relative_to(keep)
            if not target.exists():
                _link(k, target)
                back.append(target)
    drop(out)
    return back


def drop(out: str | Path) -> None:
    """Forget the snapshot (the run folder's results are all current)."""
    keep = Path(out) / KEEP_DIR
    if keep.exists():
        shutil.rmtree(keep)
