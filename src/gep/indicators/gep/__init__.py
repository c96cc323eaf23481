"""GEP accounts per region and year, and GEP per unit land area (两山指数 indicator 10; docs/methods.md §4).

The workflow calls one function::

    from gep.indicators.gep import GepConfig, load_gep_config, run_gep

    cfg = load_gep_config(config_dict["gep"])          # pydantic v2 model, every problem reported at once
    tables = run_gep(
        cfg,
        years=[2019, 2020, 2021],
        landcover_area=landcover_area_df,    # published table: region_code, region_name, year, lc_code, area_km2
        regions=regions_gdf,                 # region_code, region_name, geometry (any CRS)
        landcover_path_for_year=lambda y: f"data/clcd_{y}.tif",
        dem_path="data/dem.tif",             # or gep.dem / gep.ls.path; only for soil_retention
        out_dir="results/tables/county",
        scheme="clcd",                       # class scheme of the land cover (codes must match the parameter files)
    )
    tables["gep_services"], tables["gep_summary"], tables["gep_change"], tables["carbon_stock"]

Files it needs: the land-cover rasters of every year (for Tier 2), the region polygons, the ``landcover_area``
table of the same region level; for Tier 2 the climate and soil rasters of ``cfg.rasters`` (precipitation,
ET, NPP, erosivity R, erodibility K; any grid/CRS, resampled lazily) and a DEM (or a precomputed LS raster);
the statistics CSV (``gep gep-template``) for provisioning and cultural services; a deflator table
(``cfg.deflator``; ``src/gep/data/parameters/deflator_demo.yaml`` is invented DEMO data); the parameter files of
``cfg.parameters`` (built-in defaults under ``src/gep/data/parameters/``, each with ``status:`` and ``source:``).

Outputs (written with :func:`gep.io.tables.write_table` into ``out_dir`` as CSV + Parquet + meta sidecar):

- ``gep_services``: region_code, region_name, year, service, tier, quantity, quantity_unit, unit_price,
  price_unit, value_yuan, method, source (+ service_zh, category, value_constant_yuan, constant_price_year,
  price_record: the price records used, status: the weakest V/V2/P/DEMO mark the row rests on). Priced with
  the profile ``cfg.profile`` when set, else the price table ``cfg.parameters.prices`` (docs/methods.md §4.8);
  deductions (``cfg.deductions``) are rows of category ``deduction`` with negative values.
  Tier 1 = the 11 equivalent-factor services (quantity in standard-equivalent hectares, unit price E);
  Tier 2 = the biophysical regulating services (m³, t, t CO₂, t O₂, kWh) and the statistics rows.
- ``gep_summary``: region_code, region_name, year, gep_yuan, gep_constant_yuan, land_area_km2,
  gep_per_km2_wan_yuan, change_pct, verdict (+ gep_constant_per_km2_wan_yuan, constant_price_year,
  gep_scope, verdict_rule, esv_yuan, esv_per_km2_wan_yuan, provisional: the services resting on P or DEMO
  values, profile). GEP sums the rows of ``cfg.gep_tier`` (Tier 1 without
  its supporting services); the verdict (稳定提高) uses constant prices; ESV (生态系统服务价值) is the sum of all 11
  Tier-1 services, empty without Tier 1. With ``cfg.fixed_climate`` the weather-driven inputs are their mean over
  the climate years (the trend at fixed climate, not the years' actual GEP; gep_scope and verdict_rule say so).
- ``gep_change``: per region, year (from the second accounted year on) and item of ``cfg.gep_tier``: the change
  of constant-price value against the previous accounted year (元, 万元/km², share of the total change %), with
  a ``total`` row equal to the change of gep_constant_yuan (:mod:`.change`, docs/methods.md §4.9).
- ``carbon_stock``: t C per region × year in four pools, total, and change between years.
- ``raster_dir/SERVICE_YEAR.tif`` (default ``out_dir/rasters``): COGs of each Tier-2 service's physical
  quantity per unit area (mm/a, t/hm²/a, g CO₂/m²/a, g O₂/m²/a, kWh/m²/a) on the land-cover grid;
  ``ls_factor.tif`` on the DEM grid. The workflow writes them once per year for every region level
  (:func:`write_service_rasters`, rule ``gep_rasters``), sums them over every level's regions once per year
  (:func:`write_year_sums`, rule ``gep_sums``, :mod:`.year_sums`) and each level's
  ``run_gep(..., sums_paths=…)`` builds its tables from the stored sums without reading a raster.

Services: every Tier-2 raster service is one module of :mod:`.services` (its formulas) with its spec in the
service catalogue :mod:`gep.config.gep_services` (names, category, raster inputs, parameter tables, units);
:mod:`.services.registry` collects them and ``register(service)`` adds one. The run (:mod:`.run`) loops over
the registry: which rasters a year writes, which parameter files it reads, the sums, prices and table rows.

Modules: :mod:`.params` (parameter files), :mod:`.tier1`, :mod:`.services` (Tier-2 services and registry),
:mod:`.carbon_stock`, :mod:`.statistics` (tabular services), :mod:`.accounts` (prices, summary, verdict),
:mod:`.change` (change between years by item),
:mod:`.year_sums` (one year's zonal sums of the rasters, the only raster work behind the tables), :mod:`.run`.
"""

from gep.config.gep import GepConfig, load_gep_config
from gep.indicators.gep.run import ls_raster, preflight, run_gep, write_service_rasters, write_year_sums
from gep.indicators.gep.services.registry import register

__all__ = ["GepConfig", "load_gep_config", "ls_raster", "preflight", "register", "run_gep", "write_service_rasters",
           "write_year_sums"]
