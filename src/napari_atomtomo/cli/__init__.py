"""The ``atomtomo`` command: one subcommand per algorithm, each thin over ``core``.

Each subcommand lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a function
``(args) -> int``. Predictable bad input (``ValueError``, missing or existing files)
is reported as one sentence on stderr with exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError, NotADirectoryError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"atomtomo {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"atomtomo {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
