"""Process-wide settings of a ``gep`` command, applied by the command line at start-up and never by ``import
gep``: a library user's process is theirs to tune.

- GDAL's block cache (default 5% of RAM) only inflates memory, since gep reads every raster block once: 32 MiB.
- glibc's malloc: two arenas (memory freed in one worker thread's heap is otherwise not reused by another) and
  32 MiB mmap / 128 MiB trim thresholds (a raster block's arrays are reused from the heap instead of being
  mapped fresh each time). benchmarks/README.md ("process settings") has the measurements.

Each is set as an environment default too, so dask's worker processes started by this one inherit them; a
value the user set wins.
"""

from __future__ import annotations

import os
import sys

ENV_DEFAULTS = {
    "GDAL_CACHEMAX": "32",
    "MALLOC_ARENA_MAX": "2",
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(128 << 20),
}
# glibc's mallopt parameters for the variables above (M_ARENA_MAX, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD)
_MALLOPT = {"MALLOC_ARENA_MAX": -8, "MALLOC_MMAP_THRESHOLD_": -3, "MALLOC_TRIM_THRESHOLD_": -1}


def tune_process() -> None:
    """Apply :data:`ENV_DEFAULTS` to this process (environment and, on glibc, malloc) unless the user set them."""
    user_set = {k for k in ENV_DEFAULTS if k in os.environ}
    for key, value in ENV_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return
    for key, param in _MALLOPT.items():
        if key not in user_set:
            mallopt(param, int(ENV_DEFAULTS[key]))
