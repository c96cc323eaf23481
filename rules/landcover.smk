# Core area accounting: region x (terrain) x land-cover crosstab per level and year, transitions between
# consecutive years, and the published land-cover tables (landcover_area, region_area, change, extent account).


# With compute.tile_groups > 1 each raster is accounted as several jobs (bands of block rows) whose integer
# partial sums are merged exactly; otherwise one job per year (all region levels in one process).


rule account:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["account"],
        files=stage_files(CFG, "account"),
        checked=lambda w: checked(w.year),
        landcover=lambda w: landcover_path(w.year),
        terrain=TERRAIN if CFG.terrain else [],
    output:
        (
            [f"{OUT}/interim/{level}/crosstab_{{year}}.parquet" for level in LEVELS]
            if TILE_GROUPS == 1
            else [f"{OUT}/interim/{level}/parts/crosstab_{{year}}_{{part}}.parquet" for level in LEVELS]
        ),
    wildcard_constraints:
        year=r"\d{4}",
        part=r"\d+",
    params:
        part=lambda w: f"--part {w.part} {TILE_GROUPS}" if TILE_GROUPS > 1 else "",
        terrain=f"--terrain {shlex.quote(TERRAIN)}" if CFG.terrain else "",
        levels=LEVEL_ARGS,
        out=lambda w: f"{OUT}/interim/{{level}}/"
        + (f"crosstab_{w.year}.parquet" if TILE_GROUPS == 1 else f"parts/crosstab_{w.year}_{w.part}.parquet"),
    log:
        f"{OUT}/logs/account_{{year}}" + ("" if TILE_GROUPS == 1 else "_{part}") + ".log",
    benchmark:
        f"{OUT}/benchmarks/account_{{year}}" + ("" if TILE_GROUPS == 1 else "_{part}") + ".tsv"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    shell:
        "GEP_THREADS={threads} gep account {input.cfg:q} --level {params.levels} --year {wildcards.year} "
        "{params.part} {params.terrain} --out {params.out:q} 2>&1 | tee {log:q}"


if TILE_GROUPS > 1:

    rule merge_account:
        conda:
            "../envs/gep.yaml"
        input:
            cfg=ancient(RUN_CONFIG),
            settings=SETTINGS["merge_account"],
            files=stage_files(CFG, "merge_account"),
            parts=expand(
                f"{OUT}/interim/{{{{level}}}}/parts/crosstab_{{{{year}}}}_{{part}}.parquet",
                part=range(TILE_GROUPS),
            ),
        output:
            f"{OUT}/interim/{{level}}/crosstab_{{year}}.parquet",
        wildcard_constraints:
            year=r"\d{4}",
        log:
            f"{OUT}/logs/merge_account_{{level}}_{{year}}.log",
        resources:
            mem_mb=1000,
            runtime=30,
        shell:
            "gep merge-account {input.cfg:q} --level {wildcards.level:q} --year {wildcards.year} "
            "{input.parts:q} --out {output:q} 2>&1 | tee {log:q}"


rule transition:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["transition"],
        files=stage_files(CFG, "transition"),
        checked=lambda w: checked(w.y0, w.y1),
        prev=lambda w: landcover_path(w.y0),
        curr=lambda w: landcover_path(w.y1),
    output:
        [f"{OUT}/interim/{level}/transition_{{y0}}_{{y1}}.parquet" for level in LEVELS],
    wildcard_constraints:
        y0=r"\d{4}",
        y1=r"\d{4}",
    params:
        levels=LEVEL_ARGS,
        out=lambda w: f"{OUT}/interim/{{level}}/transition_{w.y0}_{w.y1}.parquet",
    log:
        f"{OUT}/logs/transition_{{y0}}_{{y1}}.log",
    benchmark:
        f"{OUT}/benchmarks/transition_{{y0}}_{{y1}}.tsv"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    shell:
        "GEP_THREADS={threads} gep transition {input.cfg:q} --level {params.levels} "
        "--years {wildcards.y0} {wildcards.y1} --out {params.out:q} 2>&1 | tee {log:q}"


rule landcover_tables:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=ancient(RUN_CONFIG),
        settings=SETTINGS["landcover_tables"],
        files=stage_files(CFG, "landcover_tables"),
        crosstabs=expand(f"{OUT}/interim/{{level}}/crosstab_{{year}}.parquet", level=LEVELS, year=YEARS),
        transitions=[f"{OUT}/interim/{level}/transition_{y0}_{y1}.parquet" for level in LEVELS for y0, y1 in PAIRS],
    output:
        landcover_tables(),
    params:
        levels=LEVEL_ARGS,
    log:
        f"{OUT}/logs/landcover_tables.log",
    benchmark:
        f"{OUT}/benchmarks/landcover_tables.tsv"
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "gep tables {input.cfg:q} --level {params.levels} 2>&1 | tee {log:q}"
