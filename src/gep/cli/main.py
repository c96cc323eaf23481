"""Entry point of the ``gep`` console script.

Exit codes: 0 ok; 2 bad input (one clear line per problem, no traceback unless ``--debug``); 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback

from gep import __version__
from gep.core.errors import InputError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gep",
        description="Spatial indicators of the 两山指数 and GEP accounts from land cover, DEM and region boundaries.",
    )
    parser.add_argument("--version", action="version", version=f"gep {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for every error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import gep.cli as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name in ("main", "process"):
            continue
        module = importlib.import_module(f"gep.cli.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        rc = args.func(args)
        return int(rc or 0)
    except InputError as err:
        if args.debug:
            traceback.print_exc()
        for line in err.lines():
            print(f"gep {args.command}: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gep: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # whoever read our output stopped reading (gep where | head): not an error
        return 0
    except Exception as err:  # noqa: BLE001 - last-resort report of an internal error
        if args.debug:
            traceback.print_exc()
        print(f"gep {args.command}: internal error: {type(err).__name__}: {err} (rerun with --debug for details)",
              file=sys.stderr)
        return 1


def console() -> None:
    """The ``gep`` console script: :func:`main`, then a quick exit.

    Tearing down the interpreter (freeing every module of numpy, pandas, dask, GDAL …) takes about 0.5 s, a
    sixth of a county's whole crosstab. All outputs are written and closed when :func:`main` returns, so the
    script runs the exit handlers, flushes the standard streams and leaves without that teardown.
    """
    from gep.cli.process import tune_process

    tune_process()
    rc = main()
    import atexit
    import os

    atexit._run_exitfuncs()  # dask, logging, temporary files … still clean up
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (gep where | head) or stream: nothing left to say there
            pass
    os._exit(rc)


if __name__ == "__main__":
    console()
