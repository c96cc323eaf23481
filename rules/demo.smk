# The embedded demo data, generated deterministically when the config asks for it (demo.generate).

if CFG.demo.generate:

    rule demo_data:
        conda:
            "../envs/gep.yaml"
        output:
            landcover=expand(f"{CFG.demo.dir}/landcover_{{year}}.tif", year=YEARS),
            county=f"{CFG.demo.dir}/county.gpkg",
            townships=f"{CFG.demo.dir}/townships.gpkg",
            redline=expand(f"{CFG.demo.dir}/redline_{{year}}.gpkg", year=YEARS),
            protected=expand(f"{CFG.demo.dir}/protected_{{year}}.gpkg", year=YEARS),
            dem=f"{CFG.demo.dir}/dem.tif",
            climate=expand(f"{CFG.demo.dir}/{{name}}_{{year}}.tif", name=("precip", "et", "npp"), year=YEARS),
            survey=expand(f"{CFG.demo.dir}/survey_{{year}}.gpkg", year=YEARS),  # land-survey polygons (DLTB)
            gep_tables=expand(f"{CFG.demo.dir}/{{name}}.csv", name=("water_bodies", "emissions", "discharges", "statistics")),
            manifest=f"{CFG.demo.dir}/demo_manifest.json",
        params:
            outdir=lambda w, output: str(Path(output.manifest).parent),
            seed=CFG.demo.seed,
        log:
            log("demo_data"),
        benchmark:
            benchmark("demo_data")
        resources:
            mem_mb=2000,
            runtime=10,
        shell:
            "gep demo-data {params.outdir:q} --seed {params.seed} --log {log:q}"
