"""``atomtomo est``: equally sloped tomography (or Fourier gridding for any angles)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ._common import add_force, check_output, output_path, progress_printer, write_json
from ._series import add_series_options, read_series


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "est",
        help="reconstruct a tilt series by equally sloped tomography (EST)",
        description=(
            "Equally sloped tomography: iterate between real space (support, positivity) and "
            "pseudopolar Fourier space (measured lines enforced), 2 rounds (loose then tight "
            "support). The angles must be an equally sloped set; for other angles use "
            "--method gridding (GENFIRE-like Fourier gridding). Writes VOLUME.mrc and the "
            "error per iteration in VOLUME.est.json."
        ),
    )
    p.add_argument("stack", metavar="STACK.mrc", help="tilt series (angle, y, x), MRC")
    p.add_argument("--angles", default=None, metavar="ANGLES.tlt",
                   help="tilt angles in degrees (default: STACK.tlt or angles.tlt beside it)")
    p.add_argument("--out", required=True, metavar="VOLUME.mrc", help="output volume (z, y, x)")
    p.add_argument("--method", choices=("est", "gridding"), default="est",
                   help="est (equally sloped angles) or gridding (any angles); default est")
    p.add_argument("--iterations", type=int, default=200, metavar="N",
                   help="iterations with the loose support (default 200)")
    p.add_argument("--tight-iterations", type=int, default=200, metavar="N",
                   help="iterations with the tight support (default 200)")
    p.add_argument("--oversampling", type=int, default=2, metavar="K",
                   help="Fourier oversampling (default 2)")
    p.add_argument("--support-margin", type=int, default=0, metavar="PX",
                   help="pixels removed from each edge of the loose support box (default 0)")
    p.add_argument("--tight-threshold", type=float, default=None, metavar="F",
                   help="tight support: fraction of the smoothed round-1 maximum that a voxel "
                        "must exceed (default: the EstParams default)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_series_options(p)
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import io
    from ..core.est import EstParams, GriddingParams, iter_est, iter_fourier_gridding

    out = output_path(args.out, ".mrc")
    report_path = out.with_name(out.stem + ".est.json")
    inputs = (args.stack, args.angles)
    check_output(out, args.force, inputs)
    check_output(report_path, args.force, inputs)
    common = dict(n_iter=args.iterations, n_iter_tight=args.tight_iterations,
                  oversampling=args.oversampling, loose_support_margin=args.support_margin)
    if args.tight_threshold is not None:
        common["tight_support_threshold"] = args.tight_threshold
    if args.method == "est":
        params = EstParams(**common)
        start = iter_est
    else:
        params = GriddingParams(**common)
        start = iter_fourier_gridding
    series = read_series(args)
    gen = start(series.data, series.angles_deg, params, voxel_size=series.voxel_size)
    total = params.n_iter + params.n_iter_tight
    progress = progress_printer(f"atomtomo est ({args.method})", quiet=args.quiet)
    while True:
        try:
            state = next(gen)
        except StopIteration as stop:
            result = stop.value
            break
        progress(state.iteration, total, f"round {state.round} error {state.error:.4g}")
    io.write_mrc(out, result.volume, series.voxel_size, force=args.force, inputs=inputs)
    report = {
        "algorithm": args.method,
        "parameters": dataclasses.asdict(params),
        "source": str(Path(args.stack)),
        "voxel_size_A": float(series.voxel_size),
        "errors": [float(e) for e in result.errors],
        "final_error": float(result.errors[-1]),
        "support_fraction": float(result.support.mean()),
    }
    if args.method == "est":
        a = result.line_assignment
        report["n_slopes"] = a.n_slopes
        report["n_grid"] = a.n_grid
        report["lines"] = a.describe()
    else:
        report["fourier_coverage"] = result.coverage
    write_json(report_path, report)
    return 0
