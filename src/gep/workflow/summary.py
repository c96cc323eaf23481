"""The end of a workflow run, for people: where the deliverables are, how many indicators met their targets,
every warning; and ``gep run``, which runs the workflow quietly and ends with that summary, or, when it fails,
with gep's own error line.

:func:`summary_lines` reads only the run folder (the level's ``lianshan_index`` table, the job logs), so
``gep where CONFIG`` prints the same summary for a run finished earlier.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gep.indicators.judgement import STATUSES
from gep.io.run_paths import report_path, scorecard_dir, tables_dir

if TYPE_CHECKING:
    from gep.config import Config

#: A line of a job log (or of the workflow's output) that is a warning: gep's ("gep …: warning: …", "gep:
#: note: …") and Python's ("…: RuntimeWarning: …").
WARNING_LINE = re.compile(r"(?i)^(gep\b[^:]*: (warning|note): .+|.*\w*Warning: .+)$")
#: gep's own error line ("gep stage validate: error: …"), as every gep command prints it.
ERROR_LINE = re.compile(r"^gep\b[^:]*: (internal )?error: .+$")
#: A line gep printed ("gep: …", "gep stage scorecard: …"; not Snakemake's job table rows that start with "gep_").
GEP_LINE = re.compile(r"^gep( [\w.-]+)*: ")
#: Snakemake's lines worth showing as the run goes: its progress and its errors. The rest (DAG building, job
#: selection, the job table …) goes to the run's log file only.
PROGRESS_LINE = re.compile(r"^\d+ of \d+ steps \(\d+%\) done$")
SNAKEMAKE_ERROR = re.compile(r"^(\w+(Exception|Error)\b.*|Missing input files.*|Error in rule .*)$")
#: Snakemake's error headers that say nothing gep's own line does not (shown only in the log file).
_SNAKEMAKE_HEADERS = ("RuleException", "WorkflowError", "CalledProcessError")
AFFECTED = "affected: "
#: The file under OUTPUT_DIR/logs that keeps everything Snakemake printed during ``gep run``.
WORKFLOW_LOG = "workflow.log"


def status_counts(index) -> dict[int, dict[str, int]]:
    """Indicators per status word for each year of a ``lianshan_index`` table (all regions together)."""
    out: dict[int, dict[str, int]] = {}
    for year, g in index.groupby("year", sort=True):
        counts = g["status"].value_counts()
        out[int(year)] = {s: int(counts.get(s, 0)) for s in STATUSES}
    return out


def log_warnings(log_dir: Path, *, skip: Iterable[str] = (WORKFLOW_LOG,)) -> list[tuple[str, list[str]]]:
    """Every distinct warning line in the job logs of ``log_dir`` with the jobs that printed it, in the order
    first seen (logs by name)."""
    found: dict[str, list[str]] = {}
    for log in sorted(log_dir.glob("*.log")) if log_dir.is_dir() else []:
        if log.name in set(skip):
            continue
        try:
            text = log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            line = line.strip()
            if WARNING_LINE.match(line):
                jobs = found.setdefault(line, [])
                if log.stem not in jobs:
                    jobs.append(log.stem)
    return list(found.items())


def _index_table(cfg: Config, level: str):
    from gep.io.tables import read_table

    folder = scorecard_dir(cfg, level)
    for ext in (".parquet", ".csv"):
        p = folder / f"lianshan_index{ext}"
        if p.is_file():
            return read_table(p)
    return None


def summary_lines(cfg: Config) -> list[str]:
    """The run's summary: the output folder, per level its report, workbooks, GeoPackage and tables, the number of
    indicators per status word per year, then every warning the jobs printed (see :func:`log_warnings`)."""
    out = cfg.out.resolve()
    lines = [f"gep: results of '{cfg.name}' are in {out}（运行结果）"]
    for level in cfg.regions:
        card = scorecard_dir(cfg, level).resolve()
        lines.append(f"  {level} tables:    {tables_dir(cfg, level).resolve()}")
        report = report_path(cfg, level)
        if report.exists():
            lines.append(f"  {level} report:    {report.resolve()}")
        files = [f for f in ("lianshan_index.xlsx", "tables.xlsx", "indicators.gpkg") if (card / f).exists()]
        if files:
            lines.append(f"  {level} scorecard: {card}/ {', '.join(files)}")
        index = _index_table(cfg, level)
        if index is None:
            lines.append(f"  {level}: no 两山指数 table yet (the scorecard step has not run)")
            continue
        n_regions = index["region_code"].nunique()
        for year, counts in status_counts(index).items():
            text = " · ".join(f"{s} {n}" for s, n in counts.items())
            lines.append(f"  {level} {year}: {text}（{n_regions} 个区域的指标数）")
    warnings = log_warnings(out / "logs")
    if warnings:
        lines.append(f"gep: {len(warnings)} warning(s) in the job logs ({out / 'logs'})（警告）:")
        for text, jobs in warnings:
            where = jobs[0] + (f" +{len(jobs) - 1}" if len(jobs) > 1 else "")
            lines.append(f"  [{where}] {text}")
    else:
        lines.append("gep: no warnings（无警告）")
    return lines


def snakemake_command(config: Path, *, snakefile: Path, cores: int, extra: Sequence[str] = ()) -> list[str]:
    """The Snakemake command ``gep run`` starts: this Python's Snakemake, rule and host details left out."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile), "--configfile", str(config),
            "--cores", str(cores), "--quiet", "rules", "host", *extra]


def _shown(line: str) -> bool:
    """Whether ``gep run`` shows a line of the workflow's output on the terminal (all of it goes to the log)."""
    s = line.strip()
    return bool(GEP_LINE.match(s) or PROGRESS_LINE.match(s) or WARNING_LINE.match(s)
                or (SNAKEMAKE_ERROR.match(s) and not s.startswith(_SNAKEMAKE_HEADERS)))


def run_workflow(command: Sequence[str], log: Path, *, echo: Callable[[str], None] = print,
                 cwd: Path | None = None) -> tuple[int, list[str], list[str]]:
    """Run the workflow ``command``, keeping all it prints in ``log`` (atomically replaced at the end) and
    echoing progress, gep's lines, warnings and errors as they come. Returns (exit code, gep's error lines,
    Snakemake's error lines)."""
    from gep.core.atomic import write_text

    errors: list[str] = []
    snake_errors: list[str] = []
    kept: list[str] = []
    proc = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", bufsize=1, cwd=cwd)
    assert proc.stdout is not None
    affected = False  # inside Snakemake's list of the files a missing-input error is about
    try:
        for line in proc.stdout:
            line = line.rstrip("\n")
            kept.append(line)
            s = line.strip()
            if ERROR_LINE.match(s):
                errors.append(s)
            elif SNAKEMAKE_ERROR.match(s):
                snake_errors.append(s)
            elif affected and line[:1].isspace() and s:
                snake_errors.append(f"{AFFECTED}{s}")
                echo(line)
            affected = s == "affected files:" or (affected and line[:1].isspace() and bool(s))
            if _shown(line):
                echo(line)
        rc = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        raise
    finally:
        log.parent.mkdir(parents=True, exist_ok=True)
        write_text(log, "\n".join(kept) + "\n")
    return rc, errors, snake_errors


def failure_lines(errors: list[str], snake_errors: list[str], log: Path) -> list[str]:
    """What ``gep run`` prints last when the workflow failed: gep's own error lines (each once, in order), so
    that the last line is gep's message; without one (Snakemake stopped before any gep step failed: a missing
    input, a locked folder), a gep line quoting Snakemake's first error."""
    seen: list[str] = []
    for e in errors:
        if e not in seen:
            seen.append(e)
    if seen:
        return [f"gep run: the workflow stopped; the whole output is in {log}", *seen]
    plain = [e for e in snake_errors if not e.startswith((*_SNAKEMAKE_HEADERS, AFFECTED))]
    first = next((e for e in plain if e.startswith("Missing input files")), plain[0] if plain else None)
    files = [e[len(AFFECTED):] for e in snake_errors if e.startswith(AFFECTED)]
    why = (first or "see the output above") + (f" {', '.join(files)}" if files else "")
    return [f"gep run: error: the workflow stopped before a gep step failed: {why}; the whole output is in {log}"]


def snakefile_for(given: Path | None) -> Path:
    """The workflow to run: ``given``, else ``workflow/Snakefile`` here, else the one of the gep checkout this
    package was installed from (an editable install)."""
    from gep.core.errors import InputError

    if given is not None:
        if not Path(given).is_file():
            raise InputError(f"--snakefile {given}: file does not exist; give the path of gep's workflow/Snakefile")
        return Path(given)
    here = Path("workflow") / "Snakefile"
    checkout = Path(__file__).resolve().parents[3] / "workflow" / "Snakefile"
    for p in (here, checkout):
        if p.is_file():
            return p
    raise InputError(f"no workflow found at {here.resolve()} or {checkout}: run gep run in the gep repository "
                     "folder or give --snakefile PATH/workflow/Snakefile")


__all__ = ["ERROR_LINE", "WARNING_LINE", "WORKFLOW_LOG", "failure_lines", "log_warnings", "run_workflow",
           "snakefile_for", "snakemake_command", "status_counts", "summary_lines"]
