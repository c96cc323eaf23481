"""notebooks/worked_example.ipynb runs against a small finished run (GEP_RESULTS) and draws its two figures."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_scorecard_fixtures import YEARS, run_dir

from gep.scorecard import build_outputs

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "worked_example.ipynb"


def _execute(path: Path, cwd: Path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat not installed: notebook not executed")
    nbclient = pytest.importorskip("nbclient", reason="nbclient not installed: notebook not executed")
    pytest.importorskip("ipykernel", reason="ipykernel not installed: no Python kernel to execute the notebook")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


@pytest.mark.parametrize("with_scorecard", [True, False], ids=["regions-from-gpkg", "regions-from-provenance"])
def test_worked_example_runs(tmp_path, monkeypatch, with_scorecard):
    r = run_dir(tmp_path / "run")
    if with_scorecard:
        build_outputs(r["tables"], r["root"] / "scorecard" / "township", regions=r["regions"], years=YEARS,
                      maps=False, report=False)
    else:  # the notebook falls back to the region file named in provenance.json
        import json

        prov = json.loads(r["provenance"].read_text(encoding="utf-8"))
        prov["config"]["regions"] = {"township": {"path": str(r["regions_path"]), "layer": "townships",
                                                  "id_field": "code", "name_field": "name"}}
        r["provenance"].write_text(json.dumps(prov, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("GEP_RESULTS", str(r["root"]))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = _execute(NOTEBOOK, tmp_path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the map and the trend chart
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "level: township (3 regions" in text


def test_notebook_is_stored_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
