"""Run by QGIS's own Python (see tests/qgis_helpers.py): load the gep Processing provider from the repository's
qgis/ folder headless and run its algorithms.

Usage: run_provider.py GEP LANDCOVER.tif REGIONS.gpkg OUT_DIR BAD_CONFIG.yaml DEM.tif REDLINE.gpkg FAKE_GEP
CONFIG.yaml SNAKEFILE. Prints one JSON object with the provider's algorithms, and for each case (crosstab,
protected area, terrain, validate of a bad config, a missing gep executable, the workflow with a stand-in gep
and snakemake) the exception text, the errors and log lines the algorithm gave, and the
layers added to the project (raster layers: their renderer and its class labels)."""

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "qgis"))
sys.path.append("/usr/share/qgis/python/plugins")

from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback, QgsProject  # noqa: E402

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()

import processing  # noqa: E402
from processing.core.Processing import Processing  # noqa: E402

Processing.initialize()

from gep_processing import classFactory  # noqa: E402


class Feedback(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.errors, self.lines, self.progress = [], [], []

    def reportError(self, error, fatalError=False):  # noqa: N802, N803
        self.errors.append(error)

    def pushConsoleInfo(self, info):  # noqa: N802
        self.lines.append(info)

    def setProgress(self, p):  # noqa: N802
        self.progress.append(p)


def case(alg, params, env=None):
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    fb = Feedback()
    before = set(QgsProject.instance().mapLayers())
    rec = {"error": None}
    try:
        rec["result"] = {k: str(v) for k, v in processing.run(alg, params, feedback=fb).items()}
    except QgsProcessingException as err:
        rec["error"] = str(err)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    added = [QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before]
    rec["errors"], rec["lines"] = fb.errors, fb.lines
    rec["added"] = [_describe(lyr) for lyr in added]
    return rec


def _describe(lyr):
    if lyr.type() == lyr.RasterLayer:
        r = lyr.renderer()
        return {"name": lyr.name(), "valid": lyr.isValid(), "renderer": r.type(),
                "classes": [c.label for c in r.classes()] if r.type() == "paletted" else []}
    r = lyr.renderer()
    return {"name": lyr.name(), "valid": lyr.isValid(), "renderer": r.type() if r else None,
            "attr": r.classAttribute() if hasattr(r, "classAttribute") else None,
            "fields": [f.name() for f in lyr.fields()],
            "rows": [[str(v) for v in f.attributes()] for f in lyr.getFeatures()]}


def main(gep, landcover, regions, out_dir, bad_config, dem, redline, fake_gep, config, snakefile):
    plugin = classFactory(None)
    plugin.initProcessing()
    provider = QgsApplication.processingRegistry().providerById("gep")
    res = {"algorithms": sorted(a.id() for a in provider.algorithms())}
    res["crosstab"] = case("gep:crosstab", {"LANDCOVER": landcover, "REGIONS": regions, "ID_FIELD": "code",
                                            "NAME_FIELD": "name", "OUTPUT": str(Path(out_dir) / "area.csv")},
                           env={"GEP_EXECUTABLE": gep})
    res["protected"] = case("gep:protected_area", {"REGIONS": regions, "ID_FIELD": "code", "NAME_FIELD": "name",
                                                   "LAYER": redline, "YEAR": 2022, "LAYER_NAME": 0,
                                                   "OUTPUT": str(Path(out_dir) / "redline.csv")},
                            env={"GEP_EXECUTABLE": gep})
    res["terrain"] = case("gep:terrain", {"DEM": dem, "LIKE": landcover, "WINDOW_M": 2000,
                                          "OUTPUT": str(Path(out_dir) / "terrain.tif")}, env={"GEP_EXECUTABLE": gep})
    res["validate"] = case("gep:validate", {"CONFIG": bad_config}, env={"GEP_EXECUTABLE": gep})
    missing = str(Path(out_dir) / "no" / "gep")
    res["missing"] = case("gep:crosstab", {"LANDCOVER": landcover, "REGIONS": regions, "ID_FIELD": "code",
                                           "OUTPUT": str(Path(out_dir) / "never.csv")},
                          env={"GEP_EXECUTABLE": missing})
    res["workflow"] = case("gep:workflow", {"CONFIG": config, "CORES": 3, "SNAKEFILE": snakefile},
                           env={"GEP_EXECUTABLE": fake_gep})
    res["missing_written"] = (Path(out_dir) / "never.csv").exists()
    plugin.unload()
    res["unloaded"] = QgsApplication.processingRegistry().providerById("gep") is None
    print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main(*sys.argv[1:11])
    app.exitQgis()
