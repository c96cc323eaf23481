"""Running QGIS (Debian's ``python3-qgis``) from the tests: QGIS's Python bindings belong to the system Python,
not to gep's environment, so the QGIS side of a test runs as a script in a subprocess of that Python.

``QGIS_PYTHON`` is the interpreter (``GEP_QGIS_PYTHON``, else /usr/bin/python3) when it can import ``qgis.core``,
else None and the QGIS tests are skipped with :data:`SKIP_REASON` (``make test`` installs python3-qgis when run as
root with apt-get; see the Makefile's ``qgis`` target)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "qgis"
SKIP_REASON = ("QGIS's Python bindings not importable by /usr/bin/python3 (apt-get install python3-qgis, or set "
               "GEP_QGIS_PYTHON to a Python that imports qgis.core): QGIS loading not tested")


def _qgis_python() -> str | None:
    exe = os.environ.get("GEP_QGIS_PYTHON", "/usr/bin/python3")
    if not Path(exe).is_file():
        return None
    try:
        r = subprocess.run([exe, "-c", "import qgis.core"], capture_output=True, timeout=120,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return exe if r.returncode == 0 else None


QGIS_PYTHON = _qgis_python()


def run_qgis_script(script: str, *args: str, env: dict | None = None, timeout: float = 600) -> dict:
    """Run ``tests/qgis/SCRIPT`` with QGIS's Python, offscreen; return the JSON object it prints last."""
    assert QGIS_PYTHON is not None
    full_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    full_env.update({"QT_QPA_PLATFORM": "offscreen", **(env or {})})
    r = subprocess.run([QGIS_PYTHON, str(SCRIPTS / script), *args], capture_output=True, text=True, env=full_env,
                       timeout=timeout)
    assert r.returncode == 0, f"{script} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    last = [line for line in r.stdout.splitlines() if line.startswith("{")]
    assert last, f"{script} printed no result:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return json.loads(last[-1])
