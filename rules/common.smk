# Shared wiring: the resolved config every rule reads, the input-validation gate, and path helpers.

RUN_CONFIG = f"{OUT}/run/config.json"
CHECKED = f"{OUT}/checks/inputs.json"


def landcover_path(year):
    return CFG.landcover.path.format(year=year)


def region_paths():
    return [rc.path for rc in CFG.regions.values()]


rule resolve_config:
    output:
        RUN_CONFIG,
    params:
        cfg=config,
    log:
        f"{OUT}/logs/resolve_config.log",
    run:
        from gep.pipeline import write_resolved

        write_resolved(params.cfg, output[0])


rule validate_inputs:
    input:
        cfg=RUN_CONFIG,
        landcover=[landcover_path(y) for y in YEARS],
        regions=region_paths(),
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
