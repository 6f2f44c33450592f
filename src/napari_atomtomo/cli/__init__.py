"""The ``atomtomo`` command: one subcommand per algorithm, each thin over ``core``.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a function
``(args) -> int``. Predictable bad input (``ValueError``, missing or existing files)
is reported as one sentence on stderr with exit status 2, never a traceback. Errors of
the operating system (a full disk, a file-size limit, a folder that cannot be written,
a closed output stream) and running out of memory give one sentence naming the path
and exit status 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys

from .. import __version__

#: Subcommand modules, in the order ``atomtomo --help`` lists them.
COMMAND_MODULES = [
    "_info",
    "_simulate",
    "_project",
    "_preprocess",
    "_align",
    "_est",
    "_sirt",
    "_eds",
    "_hebt",
    "_quantify",
    "_trace",
    "_structure",
    "_compare",
    "_demo",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atomtomo",
        description=(
            "Atomic-resolution and quantitative electron tomography: simulate, align, "
            "reconstruct (EST, SIRT, EDS, HEBT), quantify and trace atoms. Lengths are in Å, "
            "angles in degrees; files follow the napari-atomtomo conventions (MRC, .tlt, XYZ, CSV)."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error instead of one sentence")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


#: errno values of a write that found no room, with what to tell the user.
_NO_ROOM = {errno.ENOSPC: "the disk is full", errno.EFBIG: "a file-size limit, see ulimit -f",
            errno.EDQUOT: "the disk quota is exceeded", errno.EROFS: "a read-only file system"}


def os_error_sentence(exc: OSError) -> str:
    """One sentence for an error of the operating system, naming the path when known."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in _NO_ROOM:
        reason = f"{reason} ({_NO_ROOM[exc.errno]})"
    verb = "cannot write" if exc.errno in _NO_ROOM else "cannot use"
    if exc.filename is not None:
        where = f" {exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 else "")
        return f"{verb}{where}: {reason}"
    if exc.errno in _NO_ROOM:  # e.g. a cache file of numba or matplotlib
        return f"cannot write a file: {reason}"
    return reason if exc.errno is None else f"{reason} (errno {exc.errno})"


class _NamedStdout:
    """sys.stdout whose write errors name it (``cannot use standard output: ...``)."""

    def __init__(self, stream):
        self._stream = stream

    def _named(self, fn, *a):
        try:
            return fn(*a)
        except OSError as exc:
            _silence_stdout()
            raise OSError(exc.errno, exc.strerror, "standard output") from None

    def write(self, text):
        return self._named(self._stream.write, text)

    def flush(self):
        return self._named(self._stream.flush)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """After stdout failed (full disk, closed pipe), stop Python failing again at exit."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted after the command name too
    args = parser.parse_args([a for a in argv if a != "--debug"])
    args.debug = debug
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if hasattr(signal, "SIGXFSZ"):  # a file-size limit: an OSError (EFBIG), not a kill
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        except ValueError:  # not the main thread
            pass
    name = f"atomtomo {args.command}"
    real_stdout, sys.stdout = sys.stdout, _NamedStdout(sys.stdout)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()
    except (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError,
            IsADirectoryError, PermissionError, KeyError) as exc:
        if args.debug:
            raise
        if isinstance(exc, OSError) and exc.errno is not None:  # from the OS, not our checks
            print(f"{name}: error: {os_error_sentence(exc)}", file=sys.stderr)
            return 1
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{name}: error: {msg}", file=sys.stderr)
        return 2
    except MemoryError as exc:
        if args.debug:
            raise
        detail = f" ({exc})" if str(exc) else ""
        print(f"{name}: error: ran out of memory{detail}; use smaller data or fewer pixels",
              file=sys.stderr)
        return 1
    except OSError as exc:
        if args.debug:
            raise
        print(f"{name}: error: {os_error_sentence(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = real_stdout
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
