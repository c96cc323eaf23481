# Shared wiring: the resolved config every rule reads, the input-validation gate, and path helpers.

# The resolved config every stage reads. Written while the workflow is parsed, and only when its content
# changes, so its timestamp tells Snakemake exactly when settings changed (and which results to redo).
RUN_CONFIG = f"{OUT}/run/config.json"
sync_resolved_config(CFG, RUN_CONFIG)
CHECKED = f"{OUT}/checks/inputs.json"
# stages that handle every region level in one process (one start-up, one read of each raster per job)
LEVEL_ARGS = " ".join(shlex.quote(level) for level in LEVELS)
# terrain classes on the land-cover grid (indicator 7), a stratum of every land-cover crosstab
TERRAIN = f"{OUT}/rasters/terrain_classes.tif"


def landcover_path(year):
    return CFG.landcover.path.format(year=year)


def region_paths():
    return [rc.path for rc in CFG.regions.values()]


rule validate_inputs:
    input:
        cfg=RUN_CONFIG,
        landcover=[landcover_path(y) for y in YEARS],
        regions=region_paths(),
        dem=CFG.terrain.dem_path if CFG.terrain else [],
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
        "GEP_THREADS={threads} {GEP} validate {input.cfg:q} --report {output:q} 2>&1 | tee {log:q}"


rule provenance:
    input:
        cfg=RUN_CONFIG,
        tables=lambda w: all_tables(),
    output:
        f"{OUT}/provenance.json",
    log:
        f"{OUT}/logs/provenance.log",
    resources:
        mem_mb=500,
        runtime=30,
    shell:
        "{GEP} provenance {input.cfg:q} {input.tables:q} --out {output:q} 2>&1 | tee {log:q}"
