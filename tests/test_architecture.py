"""The package's layers: no import cycle, no import from a higher layer into a lower one, no import between two
indicators, and a configuration layer that loads no geo library. Imports are read from the source (every
``import``, also inside functions), so a lazy import cannot hide a dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gep

PKG = Path(gep.__file__).parent

# bottom to top; a module may import from its own layer or a lower one
LAYERS = ["core", "config", "io", "demo", "raster", "vector", "hydrology", "accounting", "indicators", "scorecard",
          "workflow", "cli"]


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_of(p): p for p in PKG.rglob("*.py")}


def _imports(name: str) -> set[str]:
    """The gep modules that module ``name`` imports (a name imported from a package counts as the submodule
    when there is one)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("gep.")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                base = ".".join(up[: len(up) - node.level + 1] + ([base] if base else []))
            if not (base == "gep" or base.startswith("gep.")):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.add(sub if sub in MODULES else base)
    return {m for m in out if m in MODULES and m != name}


def _layer(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


GRAPH = {name: _imports(name) for name in MODULES}


def test_no_import_from_a_higher_layer():
    bad = []
    for name, targets in GRAPH.items():
        own = _layer(name)
        if own is None:
            continue
        for t in targets:
            theirs = _layer(t)
            if theirs is not None and LAYERS.index(theirs) > LAYERS.index(own):
                bad.append(f"{name} ({own}) imports {t} ({theirs})")
    assert not bad, "\n".join(sorted(bad))


def test_indicators_do_not_import_each_other():
    bad = []
    for name, targets in GRAPH.items():
        p = name.split(".")
        if p[1:2] != ["indicators"] or len(p) < 4:
            continue
        for t in targets:
            q = t.split(".")
            if q[1:2] == ["indicators"] and len(q) >= 3 and q[2] != p[2] and t in MODULES and \
                    MODULES[t].parent != PKG / "indicators":
                bad.append(f"{name} imports {t}")
    assert not bad, "\n".join(sorted(bad))


def test_no_import_cycle():
    # a package's __init__ re-exporting its own modules is not a cycle: drop edges from a package to its children
    graph = {n: {t for t in ts if not (MODULES[n].name == "__init__.py" and t.startswith(n + "."))}
             for n, ts in GRAPH.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for t in sorted(graph[n]):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            cycle = visit(n)
            assert cycle is None, " -> ".join(cycle)


def test_layering_test_sees_a_violation():
    """The walk above finds imports inside functions and from packages (else the tests could not fail)."""
    assert "gep.config" in GRAPH["gep.cli.main"] or any(t.startswith("gep.core") for t in GRAPH["gep.cli.main"])
    assert any(t.startswith("gep.raster") for t in GRAPH["gep.accounting.landcover"])


@pytest.mark.parametrize("module", ["gep", "gep.config"])
def test_light_modules_load_no_geo_library(module):
    code = (f"import sys, {module}; heavy = [m for m in ('rasterio', 'dask.array', 'xarray', 'geopandas', "
            "'pyogrio', 'shapely', 'numba') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import {module} loads {out}"


def test_import_gep_changes_nothing_global():
    code = ("import os; before = dict(os.environ); import gep, gep.config; "
            "print(sorted(set(os.environ.items()) ^ set(before.items())))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
