# The input-validation gate every computing rule waits for, and the run's provenance record.


rule validate_inputs:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["validate_inputs"],
        landcover=[landcover_path(y) for y in YEARS],
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
        "GEP_THREADS={threads} gep validate {input.cfg:q} --report {output:q} 2>&1 | tee {log:q}"


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
