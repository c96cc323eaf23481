# Indicator 7: terrain classes from the DEM on the land-cover grid (a stratum of the land-cover crosstab) and
# region × relief-class areas on the DEM's own grid (the region terrain type), then 林草覆盖率 per region and
# year with the region's terrain type, target and gap. With landcover.survey the
# area table comes from the land survey's polygons (rule survey_account) instead of the raster crosstabs.


rule terrain_grid:
    conda:
        "../envs/gep.yaml"
    input:
        checked=checked(YEARS[0]),
        dem=CFG.terrain.dem_path if CFG.terrain else [],
        like=landcover_path(YEARS[0]),
    output:
        TERRAIN,
    params:
        settings=uses("terrain.dem_path", "terrain.window_m", "terrain.thresholds_m", "landcover.path",
                          "landcover.crs"),
        first_year=YEARS[0],
    log:
        log("terrain_grid"),
    benchmark:
        benchmark("terrain_grid")
    threads: 2
    resources:
        mem_mb=3000,
        runtime=120,
    shell:
        f"gep stage terrain-grid {{CONFIG_FILE:q}} {JOB}"


# the region terrain type is decided from region × relief-class areas on the DEM's own grid (docs/methods.md
# §2.3), not from the terrain sampled on the land-cover grid: one job for every level, one pass over the DEM
rule terrain_areas:
    conda:
        "../envs/gep.yaml"
    input:
        checked=CHECKED,
        dem=CFG.terrain.dem_path if CFG.terrain else [],
        regions=region_paths(),
    output:
        [path(run_paths.relief_areas_path(CFG, level)) for level in LEVELS],
    params:
        settings=uses("terrain.dem_path", "terrain.window_m", "terrain.thresholds_m", "regions"),
        levels=LEVEL_ARGS,
    log:
        log("terrain_areas"),
    benchmark:
        benchmark("terrain_areas")
    threads: 2
    resources:
        mem_mb=3000,
        runtime=120,
    shell:
        f"gep stage terrain-areas {{CONFIG_FILE:q}} --level {{params.levels}} {JOB}"


if CFG.landcover.survey:

    # one job per year, every level in one process: the year's survey layer with the terrain raster's shares
    rule survey_account:
        conda:
            "../envs/gep.yaml"
        input:
            checked=lambda w: checked(w.year),
            survey=lambda w: sorted({survey_path(w.year), survey_path(YEARS[0])}),  # the first year's CRS
            files=config_files.survey_scheme_files(CFG),
            regions=region_paths(),
            terrain=TERRAIN,
        output:
            [path(run_paths.survey_path(CFG, level, "{year}", kind)) for level in LEVELS
             for kind in run_paths.SURVEY_KINDS],
        wildcard_constraints:
            year=r"\d{4}",
        params:
            settings=uses("landcover.survey", "regions", "terrain.dem_path", "terrain.window_m",
                          "terrain.thresholds_m"),
            levels=LEVEL_ARGS,
        log:
            log("survey_account_{year}"),
        benchmark:
            benchmark("survey_account_{year}")
        threads: 2
        resources:
            mem_mb=3000,
            runtime=120,
        shell:
            f"gep stage survey-account {{CONFIG_FILE:q}} --level {{params.levels}} --year {{wildcards.year}} {JOB}"


rule coverage_tables:
    conda:
        "../envs/gep.yaml"
    input:
        # the standard, the precipitation raster of the arid rule, the terrain-type overrides; the class scheme
        files=config_files.coverage_files(CFG) + config_files.scheme_files(CFG),
        regions=region_paths(),
        crosstabs=coverage_inputs(),
        relief=[path(run_paths.relief_areas_path(CFG, level)) for level in LEVELS],
    output:
        coverage_tables(),
    params:
        settings=uses("terrain", "coverage", "landcover", "regions", "years",
                      *(["landcover.survey"] if CFG.landcover.survey else [])),
        levels=LEVEL_ARGS,
    log:
        log("coverage_tables"),
    benchmark:
        benchmark("coverage_tables")
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        f"gep stage coverage-tables {{CONFIG_FILE:q}} --level {{params.levels}} {JOB}"
