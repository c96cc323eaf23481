# Indicator 10: GEP accounts (Tier 1 equivalent factors, Tier 2 biophysical services, carbon stock, statistics)
# per region and year, in current and constant prices, and GEP per km² with the 稳定提高 verdict.


if GEP_RASTER_NAMES:
    if GEP_LS:

        rule gep_ls:
            conda:
                "../envs/gep.yaml"
            input:
                checked=CHECKED,
                dem=GEP_DEM,
            output:
                GEP_LS,
            params:
                settings=uses("gep.dem", "gep.ls", "terrain.dem_path"),
            log:
                log("gep_ls"),
            benchmark:
                benchmark("gep_ls")
            threads: 2
            resources:
                mem_mb=2000,
                runtime=120,
            shell:
                f"gep stage gep-ls {{CONFIG_FILE:q}} {JOB}"

    # one job per year, shared by every region level
    rule gep_rasters:
        conda:
            "../envs/gep.yaml"
        input:
            checked=lambda w: checked(w.year),
            landcover=lambda w: landcover_path(w.year),
            # the year's climate/soil rasters, the physical parameter tables (never prices), the class scheme
            files=lambda w: config_files.gep_service_files(CFG, [w.year]) + config_files.scheme_files(CFG),
            ls=GEP_LS or [],
            dem=GEP_DEM or [],
        output:
            [path(run_paths.gep_raster_path(CFG, name, "{year}")) for name in GEP_RASTER_NAMES],
        wildcard_constraints:
            year=r"\d{4}",
        params:
            settings=uses(*gep_raster_settings()),
        log:
            log("gep_rasters_{year}"),
        benchmark:
            benchmark("gep_rasters_{year}")
        threads: 2
        resources:
            mem_mb=3000,
            runtime=240,
        shell:
            f"gep stage gep-rasters {{CONFIG_FILE:q}} --year {{wildcards.year}} {JOB}"

    # one job per year, summing its rasters over every level's regions: the GEP tables then read no raster, so
    # adding a year reads that year's rasters alone
    rule gep_sums:
        conda:
            "../envs/gep.yaml"
        input:
            checked=lambda w: checked(w.year),
            landcover=lambda w: landcover_path(w.year),
            regions=region_paths(),
            files=lambda w: config_files.gep_service_files(CFG, [w.year])
            + config_files.gep_regulator_rasters(CFG, [w.year]) + config_files.scheme_files(CFG),
            rasters=[path(run_paths.gep_raster_path(CFG, name, "{year}")) for name in GEP_RASTER_NAMES],
            ls=GEP_LS or [],
            dem=GEP_DEM or [],
        output:
            [path(run_paths.gep_sums_path(CFG, level, "{year}")) for level in LEVELS],
        wildcard_constraints:
            year=r"\d{4}",
        params:
            settings=uses(*gep_raster_settings(), "gep.tier1", "regions"),
            levels=LEVEL_ARGS,
        log:
            log("gep_sums_{year}"),
        benchmark:
            benchmark("gep_sums_{year}")
        threads: 2
        resources:
            mem_mb=2000,
            runtime=120,
        shell:
            f"gep stage gep-sums {{CONFIG_FILE:q}} --level {{params.levels}} --year {{wildcards.year}} {JOB}"


rule gep_tables:
    conda:
        "../envs/gep.yaml"
    input:
        checked=checked(),
        regions=region_paths(),
        landcover_area=path(run_paths.table_path(CFG, "{level}", "landcover_area")),
        # prices, deflator, every parameter table, statistics, regulator tables; the class scheme
        files=config_files.gep_table_files(CFG) + config_files.scheme_files(CFG),
        # the stored sums of the service rasters; without written rasters the job computes them from the land cover
        sums=lambda w: [path(run_paths.gep_sums_path(CFG, w.level, y)) for y in YEARS] if GEP_RASTER_NAMES else [],
        landcover=[] if GEP_RASTER_NAMES else [landcover_path(y) for y in YEARS],
    output:
        # one job per level: the heaviest stage, so levels run in parallel
        [path(run_paths.table_path(CFG, "{level}", name)) for name in gep_table_names()],
    params:
        settings=uses("gep", "landcover", "regions", "years", "terrain.dem_path"),
    log:
        log("gep_tables_{level}"),
    benchmark:
        benchmark("gep_tables_{level}")
    threads: 2
    resources:
        mem_mb=3000,
        runtime=240,
    shell:
        f"gep stage gep-tables {{CONFIG_FILE:q}} --level {{wildcards.level:q}} {JOB}"
