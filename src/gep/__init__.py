"""gep: spatial indicators of the 两山指数 (7: 林草覆盖率, 9: 生态保护红线面积, 10: GEP per km²) and GEP accounts.

Every computation lives in this package; the Snakemake rules only wire files to it through the ``gep``
command line. See README.md for the two commands that set up and run everything.
"""

import os as _os

__version__ = "0.1.0"

# Every raster block is read once, so GDAL's block cache (default 5% of RAM) only inflates memory: keep it
# small in every gep process (and in its dask workers); a user's own GDAL_CACHEMAX wins.
_os.environ.setdefault("GDAL_CACHEMAX", "32")
