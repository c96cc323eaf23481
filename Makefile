# The README's two commands: `make demo` and `make test`. Both create .venv with the project's own
# dependencies (pip wheels bundle GDAL, GEOS and PROJ: no system libraries needed).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= 2
EXTRAS ?= test

.PHONY: demo demo-survey test test-fast venv bench clean lint browser qgis qgis-plugin test-slurm test-wheel test-schedulers

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "gep needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	# bytecode of every module, written once here: where PYTHONDONTWRITEBYTECODE is set (pip then writes none
	# either), each gep command and each workflow job would compile ~1,000 modules again at start-up (2.5 s of
	# CPU a process; benchmarks/README.md). A file compileall cannot compile is only compiled when imported.
	$(BIN)/python -m compileall -qq -j 0 $(VENV)/lib src || true
	@touch $@

# `gep run`: Snakemake, quietly (its output in results/demo/logs/workflow.log), then where the results are, the
# indicators per status word and every warning; a failure ends with gep's own error line
demo: venv
	$(BIN)/gep run config/config.yaml --cores $(CORES)

# The same demo with indicator 7 from land-survey polygons (config/demo_survey.yaml; results/demo_survey).
demo-survey: venv
	$(BIN)/snakemake --snakefile workflow/Snakefile --configfile config/demo_survey.yaml --cores $(CORES) --quiet rules
	@$(BIN)/gep where config/demo_survey.yaml

test: venv browser qgis
	$(BIN)/python -m pytest -q

# The fast selection while changing code (a few minutes): everything but the end-to-end runs marked slow.
test-fast: venv
	$(BIN)/python -m pytest -q -m "not slow"

# The wheel a user installs: `pip wheel . --no-deps`, installed with its dependencies from the package index
# (pinned to .venv's versions) into a fresh virtual environment, then `gep crosstab`, `gep demo-data` and the demo
# workflow run from a temporary folder. Needs the network; a few minutes. `make test` runs the same test with
# the dependencies linked from .venv instead (offline; see tests/test_wheel.py).
test-wheel: venv
	GEP_WHEEL_DEPS=index $(BIN)/python -m pytest -q tests/test_wheel.py

# The whole workflow under threads, processes, local-cluster and a running dask scheduler, every table compared
# byte for byte (four workflow runs: minutes on a quiet machine, so not part of `make test`).
test-schedulers: venv
	GEP_TEST_ALL_SCHEDULERS=1 $(BIN)/python -m pytest -q tests/workflow/test_schedulers.py

# The report test renders the HTML report in Debian's headless Chromium; without it that test is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the report rendering test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	      echo "could not install chromium: the report rendering test will be skipped"; \
	  else \
	    echo "chromium not found: run 'sudo apt-get install chromium' to enable the report rendering test"; \
	  fi; }

# The GeoPackage style and Processing plugin tests load the outputs in Debian's QGIS (python3-qgis, for the system
# Python); without it those tests are skipped. Never fails the build.
qgis:
	@/usr/bin/python3 -c 'import qgis.core' >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's python3-qgis for the QGIS loading tests (a few minutes)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      python3-qgis >/dev/null) || echo "could not install python3-qgis: the QGIS tests will be skipped"; \
	  else \
	    echo "QGIS not found: run 'sudo apt-get install python3-qgis' to enable the QGIS loading tests"; \
	  fi; }

# The QGIS Processing plugin as a zip for QGIS → Plugins → Manage and Install Plugins → Install from ZIP.
qgis-plugin:
	@mkdir -p dist
	cd qgis && $(PYTHON) -c 'import pathlib, zipfile; \
	  files = [p for p in sorted(pathlib.Path("gep_processing").rglob("*")) if p.is_file() and "__pycache__" not in p.parts]; \
	  z = zipfile.ZipFile("../dist/gep_processing.zip", "w", zipfile.ZIP_DEFLATED); [z.write(p) for p in files]; z.close()'
	@echo "dist/gep_processing.zip: in QGIS, Plugins → Manage and Install Plugins → Install from ZIP"

lint: venv
	$(BIN)/snakemake --snakefile workflow/Snakefile --configfile config/config.yaml --lint

# The demo through a real single-node SLURM on this machine (needs root: installs slurm-wlm and munge) and a
# byte-for-byte comparison of its tables with a local run. Takes 6-10 minutes on 2 cores. See docs/cluster.md.
test-slurm: venv
	$(BIN)/python -m pip install --quiet -e '.[test,slurm]'  # the extra, also into an existing .venv
	GEP_PYTHON=$(abspath $(BIN))/python scripts/test_slurm.sh

bench: venv
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'  # the extra, also into an existing .venv
	$(BIN)/python benchmarks/bench_crosstab.py

clean:
	rm -rf results resources/demo .snakemake dist
