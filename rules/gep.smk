# Indicator 10: GEP accounts (Tier 1 equivalent factors, Tier 2 biophysical services, carbon stock, statistics)
# per region and year, in current and constant prices, and GEP per km² with the 稳定提高 verdict.


if GEP_RASTER_NAMES:
    if GEP_LS:

        rule gep_ls:
            conda:
                "../envs/gep.yaml"
            input:
                cfg=ancient(RUN_CONFIG),
                settings=SETTINGS["gep_ls"],
                files=stage_files(CFG, "gep_ls"),
                checked=CHECKED,
                dem=GEP_DEM,
            output:
                GEP_LS,
            log:
                f"{OUT}/logs/gep_ls.log",
            benchmark:
                f"{OUT}/benchmarks/gep_ls.tsv"
            threads: 2
            resources:
                mem_mb=2000,
                runtime=120,
            shell:
                "GEP_THREADS={threads} gep gep-ls {input.cfg:q} 2>&1 | tee {log:q}"

    # one job per year, shared by every region level
    rule gep_rasters:
        conda:
            "../envs/gep.yaml"
        input:
            cfg=ancient(RUN_CONFIG),
            settings=SETTINGS["gep_rasters"],
            checked=lambda w: checked(w.year),
            landcover=lambda w: landcover_path(w.year),
            files=lambda w: stage_files(CFG, "gep_rasters", [int(w.year)]),
            ls=GEP_LS or [],
        output:
            [f"{GEP_RASTERS}/{name}_{{year}}.tif" for name in GEP_RASTER_NAMES],
        wildcard_constraints:
            year=r"\d{4}",
        log:
            f"{OUT}/logs/gep_rasters_{{year}}.log",
        benchmark:
            f"{OUT}/benchmarks/gep_rasters_{{year}}.tsv"
        threads: 2
        resources:
            mem_mb=3000,
            runtime=240,
        shell:
            "GEP_THREADS={threads} gep gep-rasters {input.cfg:q} --year {wildcards.year} 2>&1 | tee {log:q}"

    # one job per year, summing its rasters over every level's regions: the GEP tables then read no raster, so
    # adding a year reads that year's rasters alone
    rule gep_sums:
        conda:
            "../envs/gep.yaml"
        input:
            cfg=ancient(RUN_CONFIG),
            settings=SETTINGS["gep_sums"],
            checked=lambda w: checked(w.year),
            landcover=lambda w: landcover_path(w.year),
            files=lambda w: stage_files(CFG, "gep_sums", [int(w.year)]),
            rasters=[f"{GEP_RASTERS}/{name}_{{year}}.tif" for name in GEP_RASTER_NAMES],
        output:
            [f"{OUT}/interim/{level}/gep_sums_{{year}}.parquet" for level in LEVELS],
        wildcard_constraints:
            year=r"\d{4}",
        params:
            levels=LEVEL_ARGS,
        log:
            f"{OUT}/logs/gep_sums_{{year}}.log",
        benchmark:
            f"{OUT}/benchmarks/gep_sums_{{year}}.tsv"
        threads: 2
        resources:
            mem_mb=2000,
            runtime=120,
        shell:
            "GEP_THREADS={threads} gep gep-sums {input.cfg:q} --level {params.levels} --year {wildcards.year} "
            "2>&1 | tee {log:q}"


rule gep_tables:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["gep_tables"],
        checked=checked(),
        landcover_area=f"{OUT}/tables/{{level}}/landcover_area.csv",
        files=stage_files(CFG, "gep_tables"),
        # the stored sums of the service rasters; without written rasters the job computes them from the land cover
        sums=lambda w: [f"{OUT}/interim/{w.level}/gep_sums_{y}.parquet" for y in YEARS] if GEP_RASTER_NAMES else [],
        landcover=[] if GEP_RASTER_NAMES else [landcover_path(y) for y in YEARS],
    output:
        # one job per level: the heaviest stage, so levels run in parallel
        [f"{OUT}/tables/{{level}}/{n}.csv" for n in ("gep_services", "gep_summary")]
        + ([f"{OUT}/tables/{{level}}/carbon_stock.csv"] if CFG.gep and "carbon_stock" in CFG.gep.services else []),
    log:
        f"{OUT}/logs/gep_tables_{{level}}.log",
    benchmark:
        f"{OUT}/benchmarks/gep_tables_{{level}}.tsv"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=240,
    shell:
        "GEP_THREADS={threads} gep gep-tables {input.cfg:q} --level {wildcards.level:q} 2>&1 | tee {log:q}"
