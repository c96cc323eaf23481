# Indicator 9: red-line and protected-area areas per region and year (vector, exact ellipsoidal), their change
# and 不减少 verdict, the change GeoPackage, and land cover inside the red line (raster crosstab).


rule redline_account:
    conda:
        "../envs/gep.yaml"
    input:
        files=config_files.scheme_files(CFG),
        checked=lambda w: checked(w.year),
        landcover=lambda w: landcover_path(w.year),
        regions=region_paths(),
        layers=lambda w: config_files.protected_sources(CFG, [w.year]),
    output:
        [path(run_paths.redline_path(CFG, level, "{year}")) for level in LEVELS],
    wildcard_constraints:
        year=r"\d{4}",
    params:
        settings=uses("protected", "landcover", "regions"),
        levels=LEVEL_ARGS,
    log:
        log("redline_account_{year}"),
    benchmark:
        benchmark("redline_account_{year}")
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        f"gep stage redline-account {{CONFIG_FILE:q}} --level {{params.levels}} --year {{wildcards.year}} {JOB}"


rule redline_transition:
    conda:
        "../envs/gep.yaml"
    input:
        files=config_files.scheme_files(CFG),
        checked=lambda w: checked(w.y0, w.y1),
        prev=lambda w: landcover_path(w.y0),
        curr=lambda w: landcover_path(w.y1),
        regions=region_paths(),
        layers=lambda w: config_files.protected_sources(CFG, [w.y0, w.y1]),
    output:
        [path(run_paths.redline_transition_path(CFG, level, "{y0}", "{y1}")) for level in LEVELS],
    wildcard_constraints:
        y0=r"\d{4}",
        y1=r"\d{4}",
    params:
        settings=uses("protected", "landcover", "regions"),
        levels=LEVEL_ARGS,
    log:
        log("redline_transition_{y0}_{y1}"),
    benchmark:
        benchmark("redline_transition_{y0}_{y1}")
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        f"gep stage redline-account {{CONFIG_FILE:q}} --level {{params.levels}} --years {{wildcards.y0}} "
        f"{{wildcards.y1}} {JOB}"


rule protected_tables:
    conda:
        "../envs/gep.yaml"
    input:
        files=config_files.scheme_files(CFG),
        checked=checked(),
        regions=region_paths(),
        layers=config_files.protected_sources(CFG),
        interim=[path(run_paths.redline_path(CFG, level, y)) for level in LEVELS for y in YEARS],
        transitions=[path(run_paths.redline_transition_path(CFG, level, a, b)) for level in LEVELS for a, b in PAIRS],
    output:
        protected_tables(),
    params:
        settings=uses("protected", "landcover", "regions", "years"),
        levels=LEVEL_ARGS,
    log:
        log("protected_tables"),
    benchmark:
        benchmark("protected_tables")
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        f"gep stage protected-tables {{CONFIG_FILE:q}} --level {{params.levels}} {JOB}"


rule protected_changes:
    conda:
        "../envs/gep.yaml"
    input:
        checked=checked(),
        layers=config_files.protected_sources(CFG),
    output:
        path(run_paths.protected_change_path(CFG)),
    params:
        settings=uses("protected", "years"),
    log:
        log("protected_changes"),
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        f"gep stage protected-changes {{CONFIG_FILE:q}} {JOB}"
