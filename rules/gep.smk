# Indicator 10: GEP accounts (Tier 1 equivalent factors, Tier 2 biophysical services, carbon stock, statistics)
# per region and year, in current and constant prices, and GEP per km² with the 稳定提高 verdict.


rule gep_tables:
    conda:
        "../envs/gep.yaml"
    input:
        cfg=RUN_CONFIG,
        checked=CHECKED,
        landcover_area=f"{OUT}/tables/{{level}}/landcover_area.csv",
        landcover=[landcover_path(y) for y in YEARS],
        inputs=gep_inputs(),
    output:
        # one job per level: the heaviest stage, so levels run in parallel
        [f"{OUT}/tables/{{level}}/{n}.csv" for n in ("gep_services", "gep_summary")]
        + ([f"{OUT}/tables/{{level}}/carbon_stock.csv"] if CFG.gep and "carbon_stock" in CFG.gep.services else []),
    log:
        f"{OUT}/logs/gep_tables_{{level}}.log",
    benchmark:
        f"{OUT}/benchmarks/gep_tables_{{level}}.tsv"
    threads: 2
    resources:
        mem_mb=3000,
        runtime=240,
    shell:
        "GEP_THREADS={threads} gep gep-tables {input.cfg:q} --level {wildcards.level:q} 2>&1 | tee {log:q}"
