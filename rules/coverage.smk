# Indicator 7: terrain classes from the DEM on the land-cover grid (a stratum of the land-cover crosstab),
# then 林草覆盖率 per region and year with the region's terrain type, target and gap.


rule terrain_grid:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["terrain_grid"],
        files=stage_files(CFG, "terrain_grid"),
        checked=checked(YEARS[0]),
        dem=CFG.terrain.dem_path if CFG.terrain else [],
        like=landcover_path(YEARS[0]),
    output:
        TERRAIN,
    log:
        f"{OUT}/logs/terrain_grid.log",
    benchmark:
        f"{OUT}/benchmarks/terrain_grid.tsv"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=120,
    shell:
        "GEP_THREADS={threads} gep terrain-grid {input.cfg:q} --out {output:q} 2>&1 | tee {log:q}"


rule coverage_tables:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["coverage_tables"],
        crosstabs=expand(f"{OUT}/interim/{{level}}/crosstab_{{year}}.parquet", level=LEVELS, year=YEARS),
        files=stage_files(CFG, "coverage_tables"),
    output:
        [t for t in coverage_outputs() if t.endswith(".csv")],
    params:
        levels=LEVEL_ARGS,
    log:
        f"{OUT}/logs/coverage_tables.log",
    benchmark:
        f"{OUT}/benchmarks/coverage_tables.tsv"
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "gep coverage-tables {input.cfg:q} --level {params.levels} 2>&1 | tee {log:q}"
