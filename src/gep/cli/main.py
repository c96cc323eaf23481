"""Entry point of the ``gep`` console script.

Exit codes: 0 ok; 2 bad input (one clear line per problem, no traceback unless ``--debug``); 1 internal error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
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
    for name in COMMAND_MODULES:
        importlib.import_module(f"gep.cli.{name}").register(sub)
    return parser


#: the modules of the commands, in the order ``gep --help`` lists them: tools on one's own files, the run's
#: config and results, then the workflow's own steps (``gep stage``)
COMMAND_MODULES = ("crosstab", "terrain", "protected", "valuation", "account", "scorecard", "demo", "pipeline",
                   "stage")


class _Tee:
    """A text stream that writes to a console stream and a log file."""

    def __init__(self, stream, log):
        self.stream, self.log = stream, log

    def write(self, text):
        self.log.write(text)
        return self.stream.write(text)

    def flush(self):
        self.log.flush()
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


@contextlib.contextmanager
def _job(args):
    """The settings of a workflow step: ``--threads`` and ``--mem-mb`` for the step and the worker processes it
    starts, ``--log`` a copy of everything it prints (the file is replaced)."""
    from gep.core.workers import ENV_VAR, MEM_VAR

    with contextlib.ExitStack() as stack:
        for value, var, flag, least in ((getattr(args, "threads", None), ENV_VAR, "--threads", 0),
                                        (getattr(args, "mem_mb", None), MEM_VAR, "--mem-mb", 1)):
            if value is None:
                continue
            if value < least:
                raise InputError(f"{flag} {value}: give a whole number ≥ {least}"
                                 + (" (0: every CPU)" if flag == "--threads" else ""))
            stack.enter_context(_environ(var, str(value)))
        log_path = getattr(args, "log", None)
        if log_path is None:
            yield
            return
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = stack.enter_context(open(log_path, "w", encoding="utf-8"))
        out, err = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(out, log), _Tee(err, log)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = out, err


@contextlib.contextmanager
def _environ(name: str, value: str):
    """``name=value`` in the environment (this process and the workers it starts) while the command runs."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as job:
        try:
            job.enter_context(_job(args))
        except (InputError, OSError) as err:
            print(f"gep {_name(args)}: error: {err}", file=sys.stderr)
            return 2
        return _run(args)


def _name(args) -> str:
    return f"stage {args.stage}" if getattr(args, "stage", None) else args.command


def _run(args) -> int:
    try:
        rc = args.func(args)
        return int(rc or 0)
    except InputError as err:
        if args.debug:
            traceback.print_exc()
        for line in err.lines():
            print(f"gep {_name(args)}: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("gep: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # whoever read our output stopped reading (gep where | head): not an error
        return 0
    except OSError as err:
        line = storage_problem(err)
        if line is None:
            return _internal(args, err)
        if args.debug:
            traceback.print_exc()
        print(f"gep {_name(args)}: error: {line}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - last-resort report of an internal error
        return _internal(args, err)


#: what to do when the output cannot be written, by errno name
_STORAGE_FIX = {
    "ENOSPC": "free space on that disk or set 'output_dir' to a disk with room",
    "EDQUOT": "free space within your quota or set 'output_dir' elsewhere",
    "EROFS": "the disk is read-only: set 'output_dir' to a writable folder",
    "EACCES": "make the folder writable for you or set 'output_dir' to a folder you can write",
    "EPERM": "make the folder writable for you or set 'output_dir' to a folder you can write",
    "ENOTDIR": "a part of the path is a file, not a folder: set 'output_dir' to a folder",
    "EISDIR": "the path is a folder where a file belongs: move the folder away or set another path",
    "EEXIST": "a file stands where gep needs a folder: move the file away or set 'output_dir' elsewhere",
}


def storage_problem(err: OSError) -> str | None:
    """One line for an output that cannot be written (full disk, read-only or not a folder), else None.
    gep writes atomically (a temporary file renamed into place), so nothing half-written is left."""
    import errno

    name = errno.errorcode.get(err.errno or -1)
    if name not in _STORAGE_FIX:
        return None
    where = err.filename or "output"
    return (f"{where}: {os.strerror(err.errno)}; {_STORAGE_FIX[name]} (nothing was half-written: results are "
            f"written to a temporary file and renamed)")


def _internal(args, err: BaseException) -> int:
    if args.debug:
        traceback.print_exc()
    print(f"gep {_name(args)}: internal error: {type(err).__name__}: {err} (rerun with --debug for details)",
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
