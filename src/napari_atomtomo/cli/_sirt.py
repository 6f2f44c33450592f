"""``atomtomo sirt STACK.mrc --angles ANGLES.tlt --iterations N --out VOLUME.mrc``."""

from __future__ import annotations

from ..core.sirt import SirtParams, reconstruct_sirt
from ._common import add_force, check_output, progress_printer


def add_sirt_options(parser, default_iterations: int) -> None:
    """``--iterations`` and ``--relaxation``, shared by ``sirt`` and ``eds``."""
    parser.add_argument(
        "--iterations", type=int, default=default_iterations, metavar="N",
        help=f"SIRT iterations (default {default_iterations})",
    )
    parser.add_argument(
        "--relaxation", type=float, default=SirtParams.relaxation, metavar="L",
        help="relaxation λ in (0, 2) (default 1)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sirt",
        help="SIRT reconstruction of one tilt series",
        description=(
            "Reconstruct a volume (z, y, x) from one tilt series (angle, y, x) with SIRT, "
            "non-negative unless --allow-negative. The volume keeps the series' pixel size."
        ),
    )
    parser.add_argument("stack", metavar="STACK.mrc", help="tilt series (MRC)")
    parser.add_argument(
        "--angles", metavar="ANGLES.tlt", default=None,
        help="tilt angles in degrees (default: STACK.tlt or angles.tlt next to the stack)",
    )
    add_sirt_options(parser, SirtParams.n_iter)
    parser.add_argument(
        "--allow-negative", action="store_true", help="do not clip negative voxels to zero"
    )
    parser.add_argument("--out", required=True, metavar="VOLUME.mrc", help="output volume (MRC)")
    add_force(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import io

    params = SirtParams(
        n_iter=args.iterations, relaxation=args.relaxation, nonnegative=not args.allow_negative
    )
    out = check_output(args.out, args.force, inputs=(args.stack, args.angles))
    series = io.read_tilt_series(args.stack, args.angles)
    report = progress_printer("sirt", quiet=args.quiet)
    result = reconstruct_sirt(
        series.data, series.angles_deg, params,
        callback=lambda s: report(s.iteration, params.n_iter, f"residual {s.residual:.4g}"),
    )
    io.write_mrc(out, result.volume, series.voxel_size, force=args.force, inputs=(args.stack,))
    print(f"wrote {out} {result.volume.shape}, relative residual {result.residuals[-1]:.4g}")
    return 0
