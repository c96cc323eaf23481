# Indicator 9: red-line and protected-area areas per region and year (vector, exact ellipsoidal), their change
# and 不减少 verdict, the change GeoPackage, and land cover inside the red line (raster crosstab).

PROTECTED = CFG.protected.layers() if CFG.protected else {}


def protected_files():
    return sorted({lc.path.format(year=y) for lc in PROTECTED.values() for y in YEARS if not lc.carry_forward}
                  | {lc.path.format(year=YEARS[0]) for lc in PROTECTED.values()})


def protected_outputs():
    if not PROTECTED:
        return []
    names = ["protected_area", "protected_change", "redline_landcover"] + (["redline_transition"] if PAIRS else [])
    out = expand(f"{OUT}/tables/{{level}}/{{name}}.csv", level=LEVELS, name=names)
    return out + ([f"{OUT}/maps/protected_change.gpkg"] if PAIRS else [])


rule redline_account:
    input:
        cfg=RUN_CONFIG,
        checked=CHECKED,
        landcover=lambda w: landcover_path(w.year),
        layers=protected_files(),
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
        "GEP_THREADS={threads} {GEP} redline-account {input.cfg:q} --level {params.levels} "
        "--year {wildcards.year} --out {params.out:q} 2>&1 | tee {log:q}"


rule redline_transition:
    input:
        cfg=RUN_CONFIG,
        checked=CHECKED,
        prev=lambda w: landcover_path(w.y0),
        curr=lambda w: landcover_path(w.y1),
        layers=protected_files(),
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
        "GEP_THREADS={threads} {GEP} redline-account {input.cfg:q} --level {params.levels} "
        "--years {wildcards.y0} {wildcards.y1} --out {params.out:q} 2>&1 | tee {log:q}"


rule protected_tables:
    input:
        cfg=RUN_CONFIG,
        checked=CHECKED,
        layers=protected_files(),
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
        "{GEP} protected-tables {input.cfg:q} --level {params.levels} 2>&1 | tee {log:q}"


rule protected_changes:
    input:
        cfg=RUN_CONFIG,
        checked=CHECKED,
        layers=protected_files(),
    output:
        f"{OUT}/maps/protected_change.gpkg",
    log:
        f"{OUT}/logs/protected_changes.log",
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "{GEP} protected-changes {input.cfg:q} --out {output:q} 2>&1 | tee {log:q}"
