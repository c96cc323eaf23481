# Core area accounting: region x (terrain) x land-cover crosstab per level and year, transitions between
# consecutive years, and the published land-cover tables (landcover_area, region_area, change, extent account).


# With compute.tile_groups > 1 each raster is accounted as several jobs (bands of block rows) whose integer
# partial sums are merged exactly; otherwise one job per year (all region levels in one process).
ACCOUNT_JOB = "account_{year}" + ("" if TILE_GROUPS == 1 else "_{part}")


rule account:
    conda:
        "../envs/gep.yaml"
    input:
        files=config_files.scheme_files(CFG),
        checked=lambda w: checked(w.year),
        landcover=lambda w: landcover_path(w.year),
        regions=region_paths(),
        terrain=TERRAIN if CFG.terrain else [],
    output:
        (
            [path(run_paths.crosstab_path(CFG, level, "{year}")) for level in LEVELS]
            if TILE_GROUPS == 1
            else [path(run_paths.crosstab_part_path(CFG, level, "{year}", "{part}")) for level in LEVELS]
        ),
    wildcard_constraints:
        year=r"\d{4}",
        part=r"\d+",
    params:
        settings=uses("landcover", "regions", "checks"),
        part=lambda w: f"--part {w.part} {TILE_GROUPS}" if TILE_GROUPS > 1 else "",
        terrain="--terrain" if CFG.terrain else "",
        levels=LEVEL_ARGS,
    log:
        log(ACCOUNT_JOB),
    benchmark:
        benchmark(ACCOUNT_JOB)
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    shell:
        f"gep stage account {{CONFIG_FILE:q}} --level {{params.levels}} --year {{wildcards.year}} {{params.part}} "
        f"{{params.terrain}} {JOB}"


if TILE_GROUPS > 1:

    rule merge_account:
        conda:
            "../envs/gep.yaml"
        input:
            landcover=lambda w: landcover_path(w.year),
            regions=region_paths(),
            parts=lambda w: [path(run_paths.crosstab_part_path(CFG, w.level, w.year, i)) for i in range(TILE_GROUPS)],
        output:
            path(run_paths.crosstab_path(CFG, "{level}", "{year}")),
        wildcard_constraints:
            year=r"\d{4}",
        params:
            settings=uses("landcover", "regions", "checks"),
        log:
            log("merge_account_{level}_{year}"),
        resources:
            mem_mb=1000,
            runtime=30,
        shell:
            f"gep stage merge-account {{CONFIG_FILE:q}} --level {{wildcards.level:q}} --year {{wildcards.year}} {JOB}"


rule transition:
    conda:
        "../envs/gep.yaml"
    input:
        files=config_files.scheme_files(CFG),
        checked=lambda w: checked(w.y0, w.y1),
        prev=lambda w: landcover_path(w.y0),
        curr=lambda w: landcover_path(w.y1),
        regions=region_paths(),
    output:
        [path(run_paths.transition_path(CFG, level, "{y0}", "{y1}")) for level in LEVELS],
    wildcard_constraints:
        y0=r"\d{4}",
        y1=r"\d{4}",
    params:
        settings=uses("landcover", "regions"),
        levels=LEVEL_ARGS,
    log:
        log("transition_{y0}_{y1}"),
    benchmark:
        benchmark("transition_{y0}_{y1}")
    threads: 2
    resources:
        mem_mb=2000,
        runtime=120,
    shell:
        f"gep stage transition {{CONFIG_FILE:q}} --level {{params.levels}} --years {{wildcards.y0}} {{wildcards.y1}} "
        f"{JOB}"


rule landcover_tables:
    conda:
        "../envs/gep.yaml"
    input:
        files=config_files.scheme_files(CFG),
        landcover=[landcover_path(y) for y in YEARS],  # each year's grid
        regions=region_paths(),
        crosstabs=[path(run_paths.crosstab_path(CFG, level, y)) for level in LEVELS for y in YEARS],
        transitions=[path(run_paths.transition_path(CFG, level, a, b)) for level in LEVELS for a, b in PAIRS],
    output:
        landcover_tables(),
    params:
        settings=uses("landcover", "regions", "years"),
        levels=LEVEL_ARGS,
    log:
        log("landcover_tables"),
    benchmark:
        benchmark("landcover_tables")
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        f"gep stage landcover-tables {{CONFIG_FILE:q}} --level {{params.levels}} {JOB}"
