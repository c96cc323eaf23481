# The input checks every computing rule waits for: what every job reads and does not change with the year once
# (class scheme, regions, DEM), and each year's land cover in a job of its own (adding a year checks, and
# redoes, only that year); and the run's provenance record. What one stage alone reads (a standard, a price
# table, a red-line layer) is an input of that stage's rule, checked by Snakemake (present) and the stage.


rule validate_inputs:
    conda:
        "../envs/gep.yaml"
    input:
        landcover=landcover_path(YEARS[0]),  # the grid every year shares
        regions=region_paths(),
        dem=CFG.terrain.dem_path if CFG.terrain else [],
        files=config_files.scheme_files(CFG),
    output:
        CHECKED,
    params:
        settings=uses("landcover", "regions", "checks", "terrain.dem_path", "terrain.dem_min_coverage_pct",
                          "terrain.window_m"),
        first_year=YEARS[0],
    log:
        log("validate_inputs"),
    benchmark:
        benchmark("validate_inputs")
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        f"gep stage validate {{CONFIG_FILE:q}} --shared --report {{output:q}} {JOB}"


rule validate_year:
    conda:
        "../envs/gep.yaml"
    input:
        landcover=lambda w: sorted({landcover_path(w.year), landcover_path(YEARS[0])}),
        files=config_files.scheme_files(CFG),
    output:
        path(run_paths.checks_path(CFG, "{year}")),
    wildcard_constraints:
        year=r"\d{4}",
    params:
        settings=uses("landcover"),
        first_year=YEARS[0],
    log:
        log("validate_year_{year}"),
    benchmark:
        benchmark("validate_year_{year}")
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        f"gep stage validate {{CONFIG_FILE:q}} --year {{wildcards.year}} --report {{output:q}} {JOB}"


rule provenance:
    conda:
        "../envs/gep.yaml"
    input:
        tables=lambda w: all_tables(),
        # the files the config names (provenance records their checksums)
        files=config_files.config_files(CFG) + [landcover_path(y) for y in YEARS] + region_paths()
        + ([CFG.terrain.dem_path] if CFG.terrain else []),
    output:
        path(run_paths.provenance_path(CFG)),
    params:
        settings=uses_all(),
    log:
        log("provenance"),
    resources:
        mem_mb=500,
        runtime=30,
    shell:
        f"gep stage provenance {{CONFIG_FILE:q}} {{input.tables:q}} {JOB}"
