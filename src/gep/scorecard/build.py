"""The scorecard stage: from the pipeline's tables (+ the filled department template) to every deliverable.

:func:`build_outputs` writes, under ``out_dir``:

- ``lianshan_index.csv`` / ``.parquet`` / ``.meta.json`` (or under ``index_dir``): the tidy 两山指数 table;
- ``lianshan_index.xlsx``: the workbook laid out like the local work plans (with indicator 10's items, P/DEMO
  warning and change by item: :mod:`.gep_review`);
- ``tables.xlsx``: every published table of the level, codes as text, Chinese and English headers, units;
- ``indicators.gpkg``: region polygons with indicator values per year, change layers, default QGIS style;
- ``maps/*.png``: choropleths (林草覆盖率 per year, GEP per km², red-line change) and a trend chart per region;
- ``report/index.html``: the self-contained HTML report.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from gep.core.errors import InputError
from gep.io.provenance import sha256
from gep.io.tables import read_table, write_table
from gep.core.workers import worker_count
from gep.scorecard.figure_pool import drawing
from gep.scorecard.gep_review import gep_review
from gep.scorecard.geopackage import indicator_layer, write_indicators_gpkg
from gep.scorecard.index import INDEX_UNITS, consistency_notes, lianshan_index, region_label
from gep.scorecard.standard import LianshanStandard, load_lianshan_standard
from gep.scorecard.tables_book import published_tables, write_tables_workbook
from gep.scorecard.template import read_template
from gep.scorecard.workbook import write_workbook

#: Every published table of the level (and lianshan_index) as a sheet with codes as text (:mod:`.tables_book`).
TABLES_WORKBOOK = "tables.xlsx"
TABLES = ("forest_grass_coverage", "protected_area", "protected_change", "gep_summary", "gep_services", "gep_change",
          "region_area")
#: Tables whose meta repeats gep_summary's (the same run's parameter files): not listed again in the report.
SAME_META = ("gep_services", "gep_change")


def names_note(regions: gpd.GeoDataFrame) -> list[str]:
    """A warning when the region layer has no names (every name is its code: no name field was given or found),
    so that the reader knows the codes stand in for names."""
    if len(regions) and (regions["region_name"].astype(str) == regions["region_code"].astype(str)).all():
        return ["区域图层没有名称字段，报告与地图以区域代码代替区域名称（在 config 的 regions 中设置 name_field）。"
                "The region layer has no name field: region codes stand in for names (set name_field)"]
    return []


def load_tables(tables_dir: str | Path, years: Iterable[int] | None = None) -> dict[str, pd.DataFrame | None]:
    """The pipeline tables the scorecard uses (Parquet preferred, else CSV); None for a table not there.

    With ``years``, rows of other years are dropped (``protected_change`` keeps its comparison columns).
    """
    tables_dir = Path(tables_dir)
    if not tables_dir.is_dir():
        raise InputError(f"{tables_dir}: tables folder does not exist; run the pipeline first or fix the path")
    keep = None if years is None else {int(y) for y in years}
    out: dict[str, pd.DataFrame | None] = {}
    for name in TABLES:
        df = None
        for ext in (".parquet", ".csv"):
            p = tables_dir / f"{name}{ext}"
            if p.is_file():
                df = read_table(p)
                break
        if df is not None:
            df["region_code"] = df["region_code"].astype(str)
            if keep is not None and "year" in df.columns:
                df = df[df["year"].astype(int).isin(keep)].reset_index(drop=True)
        out[name] = df
    return out


def _table_paths(tables_dir: Path) -> dict[str, str]:
    found = {}
    for name in TABLES:
        for ext in (".parquet", ".csv"):
            p = tables_dir / f"{name}{ext}"
            if p.is_file():
                found[str(p)] = sha256(p)
                break
    return found


def _table_meta(tables_dir: Path) -> dict[str, dict]:
    """Parameters recorded in the tables' ``NAME.meta.json`` sidecars (class scheme, sources…), units left out."""
    out = {}
    for name in (n for n in TABLES if n not in SAME_META):
        p = tables_dir / f"{name}.meta.json"
        if p.is_file():
            try:
                meta = json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                continue
            keep = {k: v for k, v in meta.items() if k not in ("table", "units")}
            if keep:
                out[name] = keep
    return out


def build_outputs(tables_dir: str | Path, out_dir: str | Path, *, regions: gpd.GeoDataFrame, years: Iterable[int],
                  standard: str | Path | LianshanStandard = "national", template: str | Path | None = None,
                  provenance: str | Path | None = None, change_gpkg: str | Path | None = None,
                  index_dir: str | Path | None = None, maps: bool = True, report: bool = True,
                  title: str | None = None, workers: int | None = None,
                  other_levels: Iterable[str] = ()) -> list[Path]:
    """Write the scorecard deliverables of one region level; returns the paths written.

    ``tables_dir``: the level's ``OUTPUT_DIR/tables/LEVEL`` (forest_grass_coverage, protected_change,
    gep_summary, gep_services, gep_change: each optional). ``regions``: GeoDataFrame with region_code,
    region_name, geometry (the same regions as the tables). ``template``: the filled department template (.xlsx/.csv) or None (all 17 department
    indicators 暂未核算/暂未调查). ``provenance``: the run's provenance.json for the report. ``change_gpkg``:
    ``maps/protected_change.gpkg`` (copied into indicators.gpkg, drawn on the red-line map). ``index_dir``:
    where the tidy table goes (default ``out_dir``). ``maps``/``report``: set False to skip the PNGs / the HTML
    (a report without maps has no figures). ``workers``: processes drawing the maps and charts (default
    ``GEP_THREADS``, else every CPU; the files are the same for any number). ``other_levels``: the region codes
    of the run's other levels, whose rows a template holding every level's rows may contain.
    """
    tables_dir, out_dir = Path(tables_dir), Path(out_dir)
    years = sorted({int(y) for y in years})
    if not years:
        raise InputError("years: give at least one year")
    std = standard if isinstance(standard, LianshanStandard) else load_lianshan_standard(standard)
    need = {"region_code", "region_name", "geometry"}
    if not need <= set(regions.columns):
        raise InputError(f"regions lack {', '.join(sorted(need - set(regions.columns)))}; read them with "
                         "gep.vector.regions.read_regions")
    if regions.crs is None:
        raise InputError("regions have no CRS; read them with gep.vector.regions.read_regions (set regions.crs in the "
                         "config for files without one)")
    regions = regions.assign(region_code=regions["region_code"].astype(str))
    t = load_tables(tables_dir, years)
    dep = (read_template(template, std, years, regions, other_levels=other_levels) if template is not None
           else None)
    prov = None
    if provenance is not None:
        p = Path(provenance)
        if not p.is_file():
            raise InputError(f"{p}: provenance file does not exist; give the run's provenance.json or leave it out")
        try:
            prov = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise InputError(f"{p}: not valid JSON ({err.msg} at line {err.lineno}); give the run's "
                             "provenance.json") from None
    index = lianshan_index(std, years, regions, coverage=t["forest_grass_coverage"],
                           protected_change=t["protected_change"], gep_summary=t["gep_summary"], department=dep)
    notes = consistency_notes(std, t["forest_grass_coverage"])
    notes += names_note(regions)
    from gep.accounting.landcover import unknown_codes_notes
    from gep.indicators.coverage.index import terrain_notes

    notes += terrain_notes(t["forest_grass_coverage"]) + unknown_codes_notes(t["region_area"])
    if t["gep_summary"] is None:
        notes.append("未找到 gep_summary：指标 10 为“暂未核算”（运行 GEP 核算后生成）。"
                     "gep_summary not found: indicator 10 is 暂未核算 (run the GEP accounts to fill it)")
    gep = gep_review(t["gep_summary"], t["gep_services"], t["gep_change"])
    if gep is not None and gep.warning:
        notes.append(gep.warning)
    if template is None:
        notes.append("未提供部门填报模板（config 的 scorecard.template）：部门指标均为“暂未核算”/“暂未调查”。"
                     "No department template given: the department indicators are 暂未核算 / 暂未调查")
    for note in notes:  # into the job's log too
        print(f"gep: warning: {note}", file=sys.stderr)

    written: list[Path] = []
    # text columns typed as strings even when all empty, so Parquet readers see a string (not a null) column
    tidy = index.astype({c: "string" for c in ("region_code", "region_name", "group", "task", "indicator", "unit",
                                               "target", "value_text", "status", "note", "source",
                                               "responsible_unit")})
    written += write_table(tidy, Path(index_dir) if index_dir else out_dir, "lianshan_index", units=INDEX_UNITS,
                           extra={"standard": std.name, "standard_file": std.path,
                                  "template": str(template) if template else None, "notes": notes})
    tables = {k: t[k] for k in ("forest_grass_coverage", "protected_area", "protected_change", "gep_summary")}
    cov_ind = next((i for i in std.indicators if i.data == "coverage"), None)
    breaks = sorted(set(cov_ind.targets_pct.values())) if cov_ind and cov_ind.targets_pct else None
    map_jobs, trend_jobs = (_figure_jobs(out_dir / "maps", regions, index, std, t, years, change_gpkg, breaks)
                            if maps else ([], []))
    # the maps and trend charts are drawn in worker processes while this one writes the workbook and GeoPackage
    with drawing([job for _, job in map_jobs + trend_jobs], worker_count(workers)) as figures:
        written.append(write_workbook(out_dir / "lianshan_index.xlsx", index, std, tables=tables, notes=notes,
                                      gep=gep))
        written.append(write_tables_workbook(out_dir / TABLES_WORKBOOK,
                                             [("lianshan_index", tidy, INDEX_UNITS), *published_tables(tables_dir)],
                                             notes=notes))
        layer = indicator_layer(regions, index, std, coverage=t["forest_grass_coverage"])
        written.append(write_indicators_gpkg(out_dir / "indicators.gpkg", layer, change_gpkg=change_gpkg,
                                             breaks=breaks, comparison=(cov_ind and cov_ind.comparison) or ">"))
        paths = figures()
    map_figs = [(caption, path) for (caption, _), path in zip(map_jobs, paths)]
    trend_figs = [(caption, path) for (caption, _), path in zip(trend_jobs, paths[len(map_jobs):])]
    written += paths
    if report:
        from gep.scorecard.report import write_report

        extra = _table_paths(tables_dir)
        if template is not None:
            extra[str(template)] = sha256(template)
        written.append(write_report(out_dir / "report" / "index.html", index, std, maps=map_figs, trends=trend_figs,
                                    provenance=prov, notes=notes, title=title, extra_inputs=extra,
                                    table_meta=_table_meta(tables_dir), gep=gep))
    return written


def _baseline_year(pc: pd.DataFrame | None, years: list[int]) -> int | None:
    """The red line's baseline year in ``protected_change`` (``year_base`` of the last year's rows), when it is
    before the last year: the scorecard then also maps the change against it."""
    if pc is None or "year_base" not in pc.columns or not years:
        return None
    sel = pc[(pc["year"].astype(int) == years[-1]) & (pc["layer"].astype(str) == "redline")]["year_base"].dropna()
    if sel.empty or int(sel.iloc[0]) >= years[-1]:
        return None
    return int(sel.iloc[0])


def _figure_jobs(maps_dir: Path, regions, index, std, t, years, change_gpkg, breaks):
    """The maps and one trend chart per region as (caption, job) pairs for :mod:`.figure_pool`: maps first,
    then the trend charts in region-code order."""
    from gep.scorecard.maps import coverage_map, gep_map, redline_map, safe_stem, trend_chart

    maps: list[tuple[str, tuple]] = []  # (caption, job)
    cov, gep, pc = t["forest_grass_coverage"], t["gep_summary"], t["protected_change"]
    if cov is not None:
        for y in sorted(set(cov["year"].astype(int)) & set(years)):
            maps.append((f"林草覆盖率（{y}年）",
                         (coverage_map, (regions, cov, y, maps_dir / f"coverage_{y}.png"), {"breaks": breaks})))
    if gep is not None and "gep_per_km2_wan_yuan" in gep.columns:
        for y in sorted(set(gep.loc[gep["gep_per_km2_wan_yuan"].notna(), "year"].astype(int)) & set(years)):
            maps.append((f"单位国土面积生态系统生产总值（{y}年）",
                         (gep_map, (regions, gep, y, maps_dir / f"gep_per_km2_{y}.png"), {})))
    layers = set(pyogrio.list_layers(change_gpkg)[:, 0]) if change_gpkg is not None else set()
    if pc is not None or layers:
        for y0, y1 in pairwise(years):
            name = f"redline_{y0}_{y1}"
            parts = pyogrio.read_dataframe(change_gpkg, layer=name) if name in layers else None
            if pc is None and parts is None:
                continue
            maps.append((f"生态保护红线面积变化（{y1}年与上一年 {y0}年比较）",
                         (redline_map, (regions, pc, y0, y1, maps_dir / f"redline_change_{y0}_{y1}.png"),
                          {"parts": parts, "comparison": "previous"})))
        base = _baseline_year(pc, years)
        if base is not None and not (len(years) > 1 and base == years[-2]):  # else the same as the last pair's map
            y1 = years[-1]
            maps.append((f"生态保护红线面积变化（{y1}年与基准年 {base}年比较）",
                         (redline_map, (regions, pc, base, y1, maps_dir / f"redline_change_base_{base}_{y1}.png"),
                          {"comparison": "baseline"})))
    trends: list[tuple[str, tuple]] = []
    seen: set[str] = set()
    by_code = index.assign(region_code=index["region_code"].astype(str)).groupby("region_code", sort=True)
    cov_by_code = dict(tuple(cov.groupby(cov["region_code"].astype(str)))) if cov is not None else {}
    for code, g in by_code:
        stem = safe_stem(code)
        k = 2
        while stem in seen:  # two codes that differ only in unusual characters
            stem, k = f"{safe_stem(code)}_{k}", k + 1
        seen.add(stem)
        name = str(g["region_name"].iloc[0])
        # each job gets its region's rows only: less to send to a worker process, the same chart
        c = cov_by_code.get(code, cov.iloc[:0]) if cov is not None else None
        trends.append((region_label(name, code), (trend_chart, (g, code, maps_dir / f"trend_{stem}.png"),
                                          {"standard": std, "coverage": c})))
    return maps, trends


__all__ = ["build_outputs", "load_tables"]
