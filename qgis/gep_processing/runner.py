"""Finding and running the project's ``gep`` command from QGIS, outside QGIS's own Python.

gep runs in its own environment (its virtual environment's ``gep`` script), never inside QGIS: the child gets
QGIS's environment without the variables that point a Python at QGIS's (PYTHONHOME, PYTHONPATH). Its output
lines go to the Processing log as they come; known progress lines ("12 of 40 steps (30%) done" from Snakemake,
"| 45% Completed" from dask, "progress … 45%" from gep) move the progress bar; on failure gep's own one-line
error lines (``gep NAME: error: …``, one per problem) are reported and raised.

No import of QGIS here except where passed in (``feedback``), so the search for gep is testable anywhere.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

ENV_VAR = "GEP_EXECUTABLE"
#: the repository holding this plugin folder (qgis/gep_processing/ → the repository root), when run from it
REPO = Path(__file__).resolve().parents[2]

_PROGRESS = (re.compile(r"\((\d{1,3})%\) done"),            # Snakemake: "3 of 10 steps (30%) done"
             re.compile(r"\|\s*(\d{1,3}(?:\.\d+)?)% Completed"),  # dask's progress bar
             re.compile(r"^gep\b.*\bprogress\b.*?(\d{1,3}(?:\.\d+)?)\s?%"),  # gep's own progress lines
             re.compile(r"^progress\b.*?(\d{1,3}(?:\.\d+)?)\s?%", re.I))
_ERROR = re.compile(r"^gep\b[^:]*: (?:internal )?error: ")


class GepError(Exception):
    """A clear one-line message for the Processing log (gep's own error, or why gep could not be run)."""


def _venv_scripts(root: Path) -> list[Path]:
    return [root / ".venv" / "bin" / "gep", root / ".venv" / "Scripts" / "gep.exe"]


def find_gep(setting: str | None = None) -> str:
    """The gep executable: the provider setting, else the ``GEP_EXECUTABLE`` environment variable (either one
    given must exist); else ``gep`` on PATH; else the virtual environment of the repository holding this
    plugin. GepError naming every place looked at when none is found."""
    for source, value in (("the provider setting GEP_EXECUTABLE", setting),
                          (f"the environment variable {ENV_VAR}", os.environ.get(ENV_VAR))):
        if value:
            p = Path(value).expanduser()
            if p.is_file() and os.access(p, os.X_OK):
                return str(p)
            raise GepError(f"gep executable not found: {source} is '{value}', which is not an executable file; "
                           "point it at the gep of your gep installation (e.g. …/.venv/bin/gep)")
    on_path = shutil.which("gep")
    if on_path:
        return on_path
    for p in _venv_scripts(REPO):
        if p.is_file():
            return str(p)
    looked = ", ".join(str(p) for p in _venv_scripts(REPO))
    raise GepError(f"gep executable not found: looked at the provider setting and {ENV_VAR} (both unset), "
                   f"'gep' on PATH, {looked}; install gep (make venv in the repository) and set GEP_EXECUTABLE "
                   "in Processing → Options → Providers → gep to its gep")


def companion(gep: str, name: str) -> str | None:
    """Another script of gep's environment (``snakemake``), beside ``gep``, else on PATH."""
    here = Path(gep).parent
    for cand in (here / name, here / f"{name}.exe"):
        if cand.is_file():
            return str(cand)
    return shutil.which(name)


def child_env() -> dict:
    """QGIS's environment without what ties a Python to QGIS's own; output unbuffered, UTF-8."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH", "PYTHONSTARTUP",
                                                            "VIRTUAL_ENV", "QGIS_PREFIX_PATH")}
    env.update({"PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"})
    return env


def progress_of(line: str) -> float | None:
    """The percentage a progress line reports, else None."""
    for pat in _PROGRESS:
        m = pat.search(line)
        if m:
            return min(float(m.group(1)), 100.0)
    return None


def error_lines(lines: list[str]) -> list[str]:
    """gep's error lines among ``lines`` (one per problem), else the last non-empty line."""
    errors = [x for x in lines if _ERROR.match(x)]
    if errors:
        return errors
    rest = [x for x in lines if x.strip()]
    return rest[-1:] or ["no output"]


def run(args: list[str], feedback=None, *, cwd: str | None = None) -> list[str]:
    """Run ``args`` (the executable first), streaming each output line to ``feedback`` (a QgsProcessingFeedback:
    pushInfo / setProgress / isCanceled / reportError). Returns the lines; GepError with gep's error line when
    the command fails, or when the user cancels (the process is stopped)."""
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0) if sys.platform == "win32" else 0
    try:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=True, encoding="utf-8", errors="replace", cwd=cwd, env=child_env(),
                                creationflags=flags)
    except OSError as err:
        raise GepError(f"cannot start {args[0]}: {err.strerror or err}") from None
    lines: list[str] = []
    q: queue.Queue = queue.Queue()

    def pump():
        for raw in proc.stdout:  # universal newlines: "\r" progress updates arrive as lines too
            q.put(raw.rstrip("\n"))
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()
    if feedback is not None:
        feedback.pushCommandInfo(" ".join(_quote(a) for a in args))
    while True:
        try:
            line = q.get(timeout=0.2)
        except queue.Empty:
            if feedback is not None and feedback.isCanceled():
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                raise GepError(f"{Path(args[0]).name}: canceled") from None
            continue
        if line is None:
            break
        lines.append(line)
        if feedback is not None:
            feedback.pushConsoleInfo(line)
            pct = progress_of(line)
            if pct is not None:
                feedback.setProgress(pct)
    rc = proc.wait()
    if rc != 0:
        errors = error_lines(lines)
        if feedback is not None:
            for msg in errors:
                feedback.reportError(msg, True)
        raise GepError("\n".join(errors))
    return lines


def _quote(a: str) -> str:
    return a if a and not re.search(r"\s|['\"]", a) else '"' + a.replace('"', '\\"') + '"'
