# Indicator 7: terrain classes from the DEM on the land-cover grid (a stratum of the land-cover crosstab),
# then 林草覆盖率 per region and year with the region's terrain type, target and gap.


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


rule coverage_tables:
    conda:
        "../envs/gep.yaml"
    input:
        # the standard, the precipitation raster of the arid rule, the terrain-type overrides; the class scheme
        files=config_files.coverage_files(CFG) + config_files.scheme_files(CFG),
        regions=region_paths(),
        crosstabs=[path(run_paths.crosstab_path(CFG, level, y)) for level in LEVELS for y in YEARS],
    output:
        coverage_tables(),
    params:
        settings=uses("terrain", "coverage", "landcover", "regions", "years"),
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
