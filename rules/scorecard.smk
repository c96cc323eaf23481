# The 两山指数 deliverables per region level: the 20-indicator table (7, 9, 10 from the pipeline, the others from
# the department template), the Excel workbook, the QGIS GeoPackage, maps and the self-contained HTML report.


rule scorecard:
    conda:
        "../envs/gep.yaml"
    input:
        tables=lambda w: all_tables(),
        regions=region_paths(),
        provenance=path(run_paths.provenance_path(CFG)),
        # the 两山指数 standard and the filled department template
        files=config_files.scorecard_files(CFG),
    output:
        # one job per level: maps and report are the slowest part, so levels run in parallel
        [path(p) for p in run_paths.scorecard_paths(CFG, "{level}")],
    params:
        settings=uses("name", "scorecard", "years", "regions"),
    log:
        log("scorecard_{level}"),
    benchmark:
        benchmark("scorecard_{level}")
    # processes drawing the maps and the trend charts (one per region: a province has thousands); each needs
    # ~200 MB, and gep starts no more than mem_mb holds (2000: 7)
    threads: 2
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        f"gep stage scorecard {{CONFIG_FILE:q}} --level {{wildcards.level:q}} --mem-mb {{resources.mem_mb}} {JOB}"
