# The 两山指数 deliverables per region level: the 20-indicator table (7, 9, 10 from the pipeline, the others from
# the department template), the Excel workbook, the QGIS GeoPackage, maps and the self-contained HTML report.


rule scorecard:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["scorecard"],
        tables=lambda w: all_tables(),
        change=[f"{OUT}/maps/protected_change.gpkg"] if PROTECTED and PAIRS else [],
        provenance=f"{OUT}/provenance.json",
        files=stage_files(CFG, "scorecard"),
    output:
        # one job per level: maps and report are the slowest part, so levels run in parallel
        [f"{OUT}/scorecard/{{level}}/{n}" for n in
         ("lianshan_index.csv", "lianshan_index.xlsx", "indicators.gpkg", "report/index.html")],
    log:
        f"{OUT}/logs/scorecard_{{level}}.log",
    benchmark:
        f"{OUT}/benchmarks/scorecard_{{level}}.tsv"
    # processes drawing the maps and the trend charts (one per region: a province has thousands); each needs
    # ~200 MB, and gep starts no more than mem_mb holds (2000: 7)
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "GEP_THREADS={threads} GEP_MEM_MB={resources.mem_mb} gep scorecard-stage {input.cfg:q} "
        "--level {wildcards.level:q} --provenance {input.provenance:q} 2>&1 | tee {log:q}"
