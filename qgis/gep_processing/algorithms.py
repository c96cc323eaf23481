"""The Processing algorithms: each builds a ``gep`` (or Snakemake) command line from its parameters, runs it
(runner.run: output streamed to the log, gep's one-line error on failure) and, once it succeeded, adds its
outputs to the project: tables, every geometry layer of the GeoPackages (QGIS applies their default styles from
``layer_styles``), rasters (terrain classes with their names). A failed run adds nothing."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from qgis.core import (QgsMapLayer, QgsProcessing, QgsProcessingAlgorithm, QgsProcessingException,
                       QgsProcessingParameterBoolean, QgsProcessingParameterEnum, QgsProcessingParameterField,
                       QgsProcessingParameterFile, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterMapLayer, QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer,
                       QgsProcessingOutputFolder, QgsProcessingOutputString, QgsProcessingParameterString,
                       QgsProcessingParameterVectorLayer, QgsProject,
                       QgsProviderRegistry, QgsRasterLayer, QgsVectorLayer)

from . import runner

GROUP = ("gep", "gep 两山指数")


def layer_file(layer: QgsMapLayer, what: str) -> tuple[str, str | None]:
    """The file behind a layer and its layer name inside the file (GeoPackage); QgsProcessingException for a
    layer that is not a file gep can read (memory layers, web services)."""
    if layer is None:
        raise QgsProcessingException(f"{what}: no layer given")
    parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    path = parts.get("path") or ""
    if not path or not Path(path).exists():
        raise QgsProcessingException(f"{what}: layer '{layer.name()}' is not a file on disk ({layer.source()}); "
                                     "save it as a GeoPackage or GeoTIFF first")
    return path, parts.get("layerName") or None


def geometry_layers(path: str) -> list[str]:
    """The geometry layers of a vector file (GeoPackage: not its attribute tables or layer_styles)."""
    from osgeo import ogr

    ds = ogr.Open(path)
    if ds is None:
        return []
    return [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())
            if ds.GetLayer(i).GetGeomType() != ogr.wkbNone]


TERRAIN_COLOURS = {0: "#ffffff", 1: "#c7e9c0", 2: "#d9ef8b", 3: "#fee08b", 4: "#fdae61", 5: "#d7301f",
                   6: "#7f0000"}


def style_classes(layer: QgsRasterLayer) -> bool:
    """A paletted renderer from the ``classes`` tag gep writes into class rasters (code → names); False when
    the raster has none."""
    from osgeo import gdal
    from qgis.core import QgsPalettedRasterRenderer
    from qgis.PyQt.QtGui import QColor

    ds = gdal.Open(layer.source())
    raw = ds.GetMetadataItem("classes") if ds is not None else None
    if not raw:
        return False
    table = json.loads(raw)
    classes = []
    for code, names in sorted(table.items(), key=lambda kv: int(kv[0])):
        label = " ".join(names[k] for k in ("name_zh", "name_en") if names.get(k)) or " / ".join(names.values())
        classes.append(QgsPalettedRasterRenderer.Class(int(code), QColor(TERRAIN_COLOURS.get(int(code), "#999999")),
                                                      f"{code} {label}"))
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))
    return True


class GepAlgorithm(QgsProcessingAlgorithm):
    """Common part: finding gep, running it, the outputs to load after a successful run."""

    NAME = ""
    TITLE = ""
    HELP = ""

    def __init__(self):
        super().__init__()
        self._load: list[tuple[str, str, str]] = []  # (kind: vector | raster, uri, layer name)

    def createInstance(self):  # noqa: N802 - QGIS's names
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802
        return self.TITLE

    def group(self):
        return GROUP[1]

    def groupId(self):  # noqa: N802
        return GROUP[0]

    def shortHelpString(self):  # noqa: N802
        return self.HELP

    # ---- running

    def gep(self, feedback) -> str:
        from .provider import gep_setting

        try:
            return runner.find_gep(gep_setting())
        except runner.GepError as err:
            feedback.reportError(str(err), True)
            raise QgsProcessingException(str(err)) from None

    def run_command(self, args: list[str], feedback, cwd: str | None = None) -> list[str]:
        try:
            return runner.run(args, feedback, cwd=cwd)
        except runner.GepError as err:
            raise QgsProcessingException(str(err)) from None

    # ---- outputs

    def load_table(self, path: str, name: str) -> None:
        self._load.append(("vector", path, name))

    def load_gpkg(self, path: str, prefix: str = "") -> None:
        for layer in geometry_layers(path):
            self._load.append(("vector", f"{path}|layername={layer}", f"{prefix}{layer}"))

    def load_raster(self, path: str, name: str) -> None:
        self._load.append(("raster", path, name))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        self._load = []
        return self.process(parameters, context, feedback)

    def postProcessAlgorithm(self, context, feedback):  # noqa: N802
        project = context.project() or QgsProject.instance()
        for kind, uri, name in self._load:
            layer = QgsVectorLayer(uri, name, "ogr") if kind == "vector" else QgsRasterLayer(uri, name, "gdal")
            if not layer.isValid():
                feedback.reportError(f"could not open {uri} in QGIS")
                continue
            if kind == "raster":
                style_classes(layer)
            project.addMapLayer(layer)
            feedback.pushInfo(f"added {name} ({uri})")
        self._load = []
        return {}

    def process(self, parameters, context, feedback) -> dict:
        raise NotImplementedError


def _workdir(alg, parameters, context, config: str) -> str:
    folder = alg.parameterAsFile(parameters, "WORKDIR", context)
    return folder or str(Path(config).resolve().parent)


class Validate(GepAlgorithm):
    NAME, TITLE = "validate", "Validate a config (gep validate)"
    HELP = ("Checks a gep config file and every input it names (files, CRS, grids, class codes, region ids) and "
            "reports every problem at once. Relative paths in the config are taken from the working folder "
            "(default: the config's folder). Loads nothing.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("CONFIG", "Config (YAML)", fileFilter="YAML (*.yaml *.yml)"))
        self.addParameter(QgsProcessingParameterNumber("YEAR", "Only this year", QgsProcessingParameterNumber.Integer,
                                                       optional=True))
        self.addParameter(QgsProcessingParameterBoolean("CONFIG_ONLY", "The config file alone", False))
        self.addParameter(QgsProcessingParameterFile("WORKDIR", "Working folder", QgsProcessingParameterFile.Folder,
                                                     optional=True))
        self.addOutput(QgsProcessingOutputString("REPORT", "gep's report"))

    def process(self, parameters, context, feedback):
        config = self.parameterAsFile(parameters, "CONFIG", context)
        args = [self.gep(feedback), "validate", config]
        if parameters.get("YEAR") not in (None, ""):
            args += ["--year", str(self.parameterAsInt(parameters, "YEAR", context))]
        if self.parameterAsBool(parameters, "CONFIG_ONLY", context):
            args.append("--config-only")
        lines = self.run_command(args, feedback, cwd=_workdir(self, parameters, context, config))
        return {"REPORT": "\n".join(lines)}


class Crosstab(GepAlgorithm):
    NAME, TITLE = "crosstab", "Land-cover area per region (gep crosstab)"
    HELP = ("Exact ellipsoidal area of every land-cover code in every region, from a land-cover raster or a "
            "land-survey polygon layer (三调 DLTB; needs a gep whose crosstab reads survey layers). Writes the "
            "table region_id, lc_code, area_m2 and adds it to the project.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterMapLayer("LANDCOVER", "Land cover (raster) or survey layer"))
        self.addParameter(QgsProcessingParameterVectorLayer("REGIONS", "Regions",
                                                            [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField("ID_FIELD", "Region id field", parentLayerParameterName="REGIONS"))
        self.addParameter(QgsProcessingParameterField("NAME_FIELD", "Region name field",
                                                      parentLayerParameterName="REGIONS", optional=True))
        self.addParameter(QgsProcessingParameterString("CLASSES", "Class scheme (clcd, worldcover, … or a YAML)",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterString("CLASS_FIELD", "Class field of a survey layer", "DLBM",
                                                       optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT", "Area table",
                                                                "CSV (*.csv);;Parquet (*.parquet)"))

    def process(self, parameters, context, feedback):
        lc = self.parameterAsLayer(parameters, "LANDCOVER", context)
        regions = self.parameterAsVectorLayer(parameters, "REGIONS", context)
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        lc_path, lc_layer = layer_file(lc, "land cover")
        reg_path, reg_layer = layer_file(regions, "regions")
        args = [self.gep(feedback), "crosstab", lc_path, reg_path,
                "--id-field", self.parameterAsString(parameters, "ID_FIELD", context), "--out", out]
        if reg_layer:
            args += ["--layer", reg_layer]
        for key, flag in (("NAME_FIELD", "--name-field"), ("CLASSES", "--classes")):
            value = self.parameterAsString(parameters, key, context)
            if value:
                args += [flag, value]
        if isinstance(lc, QgsVectorLayer):  # a land-survey layer
            if lc_layer:
                args += ["--survey-layer", lc_layer]
            args += ["--class-field", self.parameterAsString(parameters, "CLASS_FIELD", context) or "DLBM"]
        self.run_command(args, feedback)
        if out.lower().endswith(".csv"):
            self.load_table(out, Path(out).stem)
        return {"OUTPUT": out}


class Terrain(GepAlgorithm):
    NAME, TITLE = "terrain", "Terrain classes from a DEM (gep terrain)"
    HELP = ("Relief classes (1 平原 … 6 极大起伏山地, 0 no DEM) from a DEM, on the land-cover raster's grid, as a "
            "Cloud-Optimized GeoTIFF; added to the project with the class names.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterRasterLayer("DEM", "DEM"))
        self.addParameter(QgsProcessingParameterRasterLayer("LIKE", "Land-cover raster (its grid is used)"))
        self.addParameter(QgsProcessingParameterNumber("WINDOW_M", "Relief window side (m; empty: 4583)",
                                                       QgsProcessingParameterNumber.Double, optional=True,
                                                       minValue=1))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT", "Terrain classes", "GeoTIFF (*.tif)"))

    def process(self, parameters, context, feedback):
        dem, _ = layer_file(self.parameterAsRasterLayer(parameters, "DEM", context), "DEM")
        like, _ = layer_file(self.parameterAsRasterLayer(parameters, "LIKE", context), "land cover")
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        args = [self.gep(feedback), "terrain", dem, "--like", like, "--out", out]
        if parameters.get("WINDOW_M") not in (None, ""):
            args += ["--window-m", f"{self.parameterAsDouble(parameters, 'WINDOW_M', context):g}"]
        self.run_command(args, feedback)
        self.load_raster(out, Path(out).stem)
        return {"OUTPUT": out}


class ProtectedArea(GepAlgorithm):
    NAME, TITLE = "protected_area", "Red-line / protected-area area per region (gep protected-area)"
    HELP = ("Ellipsoidal area (km²) and share of each region covered by a red-line or protected-area layer of one "
            "year (overlaps count once), with a __outside__ row; with a type field also per type.")
    LAYER_NAMES = ["redline", "protected"]

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterVectorLayer("REGIONS", "Regions", [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField("ID_FIELD", "Region id field", parentLayerParameterName="REGIONS"))
        self.addParameter(QgsProcessingParameterField("NAME_FIELD", "Region name field",
                                                      parentLayerParameterName="REGIONS", optional=True))
        self.addParameter(QgsProcessingParameterVectorLayer("LAYER", "Red-line or protected-area polygons",
                                                            [QgsProcessing.TypeVectorPolygon]))
        self.addParameter(QgsProcessingParameterField("TYPE_FIELD", "Protected-area type field",
                                                      parentLayerParameterName="LAYER", optional=True))
        self.addParameter(QgsProcessingParameterNumber("YEAR", "Year", QgsProcessingParameterNumber.Integer,
                                                       minValue=1900, maxValue=2100, defaultValue=2023))
        self.addParameter(QgsProcessingParameterEnum("LAYER_NAME", "Layer", self.LAYER_NAMES, defaultValue=0))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT", "Area table",
                                                                "CSV (*.csv);;Parquet (*.parquet)"))

    def process(self, parameters, context, feedback):
        reg_path, reg_layer = layer_file(self.parameterAsVectorLayer(parameters, "REGIONS", context), "regions")
        src_path, src_layer = layer_file(self.parameterAsVectorLayer(parameters, "LAYER", context), "layer")
        out = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        args = [self.gep(feedback), "protected-area", "--regions", reg_path,
                "--id-field", self.parameterAsString(parameters, "ID_FIELD", context),
                "--layer-file", src_path, "--year", str(self.parameterAsInt(parameters, "YEAR", context)),
                "--layer-name", self.LAYER_NAMES[self.parameterAsEnum(parameters, "LAYER_NAME", context)],
                "--out", out]
        for value, flag in ((reg_layer, "--regions-layer"), (src_layer, "--source-layer"),
                            (self.parameterAsString(parameters, "NAME_FIELD", context), "--name-field"),
                            (self.parameterAsString(parameters, "TYPE_FIELD", context), "--type-field")):
            if value:
                args += [flag, value]
        self.run_command(args, feedback)
        if out.lower().endswith(".csv"):
            self.load_table(out, Path(out).stem)
        return {"OUTPUT": out}


class RunWorkflow(GepAlgorithm):
    NAME, TITLE = "workflow", "Run the workflow for a config (Snakemake)"
    HELP = ("Runs the whole gep workflow for a config, as the README's command does (snakemake --snakefile "
            "workflow/Snakefile --configfile CONFIG --cores N), in the working folder (default: the config's "
            "folder; relative paths in the config are taken from it). Redoes only what changed. Adds each level's "
            "indicators.gpkg (styled) to the project; the tables and report are where `gep where` says.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile("CONFIG", "Config (YAML)", fileFilter="YAML (*.yaml *.yml)"))
        self.addParameter(QgsProcessingParameterNumber("CORES", "Cores", QgsProcessingParameterNumber.Integer,
                                                       defaultValue=max(1, (os.cpu_count() or 2) - 1), minValue=1))
        self.addParameter(QgsProcessingParameterFile("WORKDIR", "Working folder", QgsProcessingParameterFile.Folder,
                                                     optional=True))
        self.addParameter(QgsProcessingParameterFile("SNAKEFILE", "Snakefile (empty: the repository's "
                                                     "workflow/Snakefile)", optional=True,
                                                     fileFilter="Snakefile (Snakefile *.smk);;All files (*)"))
        self.addOutput(QgsProcessingOutputFolder("OUTPUT_DIR", "Output folder of the run"))

    def snakefile(self, parameters, context, gep: str) -> str:
        given = self.parameterAsFile(parameters, "SNAKEFILE", context)
        if given:
            return given
        cands = [Path(gep).resolve().parents[2] / "workflow" / "Snakefile", runner.REPO / "workflow" / "Snakefile"]
        for c in cands:
            if c.is_file():
                return str(c)
        raise QgsProcessingException("Snakefile not found: looked at " + ", ".join(str(c) for c in cands) +
                                     "; give the repository's workflow/Snakefile in the Snakefile parameter")

    def process(self, parameters, context, feedback):
        config = str(Path(self.parameterAsFile(parameters, "CONFIG", context)).resolve())
        gep = self.gep(feedback)
        snakemake = runner.companion(gep, "snakemake")
        if snakemake is None:
            msg = f"snakemake not found beside {gep} nor on PATH; install gep with its dependencies (make venv)"
            feedback.reportError(msg, True)
            raise QgsProcessingException(msg)
        cwd = _workdir(self, parameters, context, config)
        self.run_command([snakemake, "--snakefile", self.snakefile(parameters, context, gep), "--configfile", config,
                          "--cores", str(self.parameterAsInt(parameters, "CORES", context)), "--quiet", "rules"],
                         feedback, cwd=cwd)
        where = self.run_command([gep, "where", config], feedback, cwd=cwd)
        m = next((re.search(r" are in (.+)$", x) for x in where if " are in " in x), None)
        out = Path(m.group(1).strip()) if m else None
        if out is not None:
            for gpkg in sorted(out.glob("scorecard/*/indicators.gpkg")):
                self.load_gpkg(str(gpkg), prefix=f"{gpkg.parent.name} ")
            change = out / "maps" / "protected_change.gpkg"
            if change.is_file() and not any(out.glob("scorecard/*/indicators.gpkg")):
                self.load_gpkg(str(change))
        return {"OUTPUT_DIR": str(out) if out else ""}


ALGORITHMS = [Validate, Crosstab, Terrain, ProtectedArea, RunWorkflow]
