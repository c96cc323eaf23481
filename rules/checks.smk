# The input checks every computing rule waits for: the run's own inputs once, and each year's in a job of its
# own (adding a year checks, and redoes, only that year); and the run's provenance record.


rule validate_inputs:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["validate_inputs"],
        landcover=landcover_path(YEARS[0]),  # the grid every year shares
        regions=region_paths(),
        dem=CFG.terrain.dem_path if CFG.terrain else [],
        files=stage_files(CFG, "validate_inputs"),
    output:
        CHECKED,
    log:
        f"{OUT}/logs/validate_inputs.log",
    benchmark:
        f"{OUT}/benchmarks/validate_inputs.tsv"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "GEP_THREADS={threads} gep validate {input.cfg:q} --run-only --report {output:q} 2>&1 | tee {log:q}"


rule validate_year:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["validate_year"],
        landcover=lambda w: sorted({landcover_path(w.year), landcover_path(YEARS[0])}),
        files=stage_files(CFG, "validate_year"),
    output:
        f"{OUT}/checks/inputs_{{year}}.json",
    wildcard_constraints:
        year=r"\d{4}",
    log:
        f"{OUT}/logs/validate_year_{{year}}.log",
    benchmark:
        f"{OUT}/benchmarks/validate_year_{{year}}.tsv"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "GEP_THREADS={threads} gep validate {input.cfg:q} --year {wildcards.year} --report {output:q} 2>&1 "
        "| tee {log:q}"


rule provenance:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["provenance"],
        tables=lambda w: all_tables(),
        files=all_files(CFG),
    output:
        f"{OUT}/provenance.json",
    log:
        f"{OUT}/logs/provenance.log",
    resources:
        mem_mb=500,
        runtime=30,
    shell:
        "gep provenance {input.cfg:q} {input.tables:q} --out {output:q} 2>&1 | tee {log:q}"
