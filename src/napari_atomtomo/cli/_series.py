"""Options for opening a tilt series in any supported format, shared by the subcommands."""

from __future__ import annotations


def in_memory_series(args, series, command: str, shifts=None, nonnegative: bool = True):
    """``series`` read whole when it was opened lazily (the full reader and its checks),
    after warning on stderr about implausible data (``core.plausibility``)."""
    import numpy as np

    from ..core.plausibility import check_tilt_series
    from ._common import warn

    if not isinstance(series.data, np.ndarray):
        series = read_series(args)
    warn(command, check_tilt_series(series.data, series.angles_deg, shifts,
                                    f"tilt series {args.stack}", nonnegative))
    return series


def add_stack_and_angles(parser) -> None:
    """The positional ``STACK.mrc`` tilt series and ``--angles`` (default: beside the stack)."""
    parser.add_argument("stack", metavar="STACK.mrc",
                        help="tilt series (angle, y, x): MRC, .mat, TIFF or DM3 (input formats below)")
    parser.add_argument("--angles", default=None, metavar="ANGLES.tlt",
                        help="tilt angles in degrees (default: STACK.tlt or angles.tlt next to the "
                             "stack)")


def add_series_options(parser) -> None:
    """``--variable``, ``--angle-variable``, ``--axis-order`` and ``--center``."""
    g = parser.add_argument_group(
        "input formats", "MRC, MATLAB .mat (v5/v7.3), TIFF or DM3 stacks; angles from .tlt, "
                         ".rawtlt, SerialEM .mdoc, or single-axis Euler tables (text or .mat)")
    g.add_argument("--variable", default=None, metavar="NAME",
                   help=".mat stack: the array variable (default: the only 3D array)")
    g.add_argument("--angle-variable", default=None, metavar="NAME",
                   help=".mat angles: the angle variable, a vector or N×3 Euler table "
                        "(default: the only 1D/2D array)")
    g.add_argument("--axis-order", default=None, metavar="ORDER",
                   help=".mat/TIFF stack: its axes as letters a (angle), y, x, e.g. yxa for "
                        "MATLAB's [ny nx nangles] (default: the axis whose length is the number "
                        "of angles; else yxa for .mat, ayx for TIFF)")
    g.add_argument("--center", choices=("(n-1)/2", "n/2"), default="(n-1)/2",
                   help="rotation centre the data was prepared for: (n-1)/2 (this package, "
                        "default) or n/2 (FFT convention; moves the images by -0.5 px along x "
                        "when n_x is even)")


def read_series(args):
    """The tilt series named by ``args.stack`` and ``args.angles`` with the options above."""
    from .. import io

    return io.read_tilt_series(args.stack, args.angles, variable=args.variable,
                               angle_variable=args.angle_variable, axis_order=args.axis_order,
                               center=args.center)


def read_series_maybe_lazy(args):
    """The tilt series, memory-mapped/lazy (a dask array) for MRC, OME-Zarr and HDF5 files
    that need no reordering, else read whole."""
    from pathlib import Path

    from ..io.lazy import LAZY_SUFFIXES, read_tilt_series_lazy

    lazy_ok = (Path(args.stack).suffix.lower() in LAZY_SUFFIXES and args.variable is None
               and args.axis_order is None and args.center == "(n-1)/2"
               and args.angle_variable is None)
    if lazy_ok:
        from ..io._paths import existing_file

        existing_file(args.stack, "tilt series")
        return read_tilt_series_lazy(args.stack, args.angles)
    return read_series(args)
