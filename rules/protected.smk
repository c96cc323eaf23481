# Indicator 9: red-line and protected-area areas per region and year (vector, exact ellipsoidal), their change
# and 不减少 verdict, the change GeoPackage, and land cover inside the red line (raster crosstab).


rule redline_account:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["redline_account"],
        files=stage_files(CFG, "redline_account"),
        checked=lambda w: checked(w.year),
        landcover=lambda w: landcover_path(w.year),
        layers=lambda w: protected_sources(CFG, [int(w.year)]),
    output:
        [f"{OUT}/interim/{level}/redline_{{year}}.parquet" for level in LEVELS],
    wildcard_constraints:
        year=r"\d{4}",
    params:
        levels=LEVEL_ARGS,
        out=lambda w: f"{OUT}/interim/{{level}}/redline_{w.year}.parquet",
    log:
        f"{OUT}/logs/redline_account_{{year}}.log",
    benchmark:
        f"{OUT}/benchmarks/redline_account_{{year}}.tsv"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "GEP_THREADS={threads} gep redline-account {input.cfg:q} --level {params.levels} "
        "--year {wildcards.year} --out {params.out:q} 2>&1 | tee {log:q}"


rule redline_transition:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["redline_transition"],
        files=stage_files(CFG, "redline_transition"),
        checked=lambda w: checked(w.y0, w.y1),
        prev=lambda w: landcover_path(w.y0),
        curr=lambda w: landcover_path(w.y1),
        layers=lambda w: protected_sources(CFG, [int(w.y0), int(w.y1)]),
    output:
        [f"{OUT}/interim/{level}/redline_transition_{{y0}}_{{y1}}.parquet" for level in LEVELS],
    wildcard_constraints:
        y0=r"\d{4}",
        y1=r"\d{4}",
    params:
        levels=LEVEL_ARGS,
        out=lambda w: f"{OUT}/interim/{{level}}/redline_transition_{w.y0}_{w.y1}.parquet",
    log:
        f"{OUT}/logs/redline_transition_{{y0}}_{{y1}}.log",
    benchmark:
        f"{OUT}/benchmarks/redline_transition_{{y0}}_{{y1}}.tsv"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "GEP_THREADS={threads} gep redline-account {input.cfg:q} --level {params.levels} "
        "--years {wildcards.y0} {wildcards.y1} --out {params.out:q} 2>&1 | tee {log:q}"


rule protected_tables:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["protected_tables"],
        files=stage_files(CFG, "protected_tables"),
        checked=checked(),
        layers=protected_sources(CFG),
        interim=expand(f"{OUT}/interim/{{level}}/redline_{{year}}.parquet", level=LEVELS, year=YEARS),
        transitions=[f"{OUT}/interim/{level}/redline_transition_{a}_{b}.parquet" for level in LEVELS
                     for a, b in PAIRS],
    output:
        [t for t in protected_outputs() if t.endswith(".csv")],
    params:
        levels=LEVEL_ARGS,
    log:
        f"{OUT}/logs/protected_tables.log",
    benchmark:
        f"{OUT}/benchmarks/protected_tables.tsv"
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "gep protected-tables {input.cfg:q} --level {params.levels} 2>&1 | tee {log:q}"


rule protected_changes:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["protected_changes"],
        files=stage_files(CFG, "protected_changes"),
        checked=checked(),
        layers=protected_sources(CFG),
    output:
        f"{OUT}/maps/protected_change.gpkg",
    log:
        f"{OUT}/logs/protected_changes.log",
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "gep protected-changes {input.cfg:q} --out {output:q} 2>&1 | tee {log:q}"
