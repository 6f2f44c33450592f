"""``atomtomo est``: equally sloped tomography (or Fourier gridding for any angles)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from ..core._generators import run_to_end
from ..core.est._common import TwoRoundParams
from ..core.memory import check_memory
from ._common import (
    Outputs,
    add_force,
    add_quiet,
    implicit_angles,
    output_path,
    progress_printer,
    write_json,
)
from ._params import add_param_options, read_params
from ._scale import (
    add_scale_options,
    check_volume_output,
    plan_from_args,
    volume_writers,
    write_volume,
)
from ._series import (
    add_series_options,
    add_stack_and_angles,
    in_memory_series,
    read_series_maybe_lazy,
)


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
    add_stack_and_angles(p)
    p.add_argument("--out", required=True, metavar="VOLUME.mrc",
                   help="output volume (z, y, x): MRC, or OME-Zarr with a pyramid (.zarr)")
    p.add_argument("--method", choices=("est", "gridding"), default="est",
                   help="est (equally sloped angles) or gridding (any angles); default est")
    add_param_options(p, TwoRoundParams)
    add_quiet(p)
    add_series_options(p)
    add_scale_options(p)
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.est import EstParams, GriddingParams, iter_est, iter_fourier_gridding

    out = Path(args.out)
    if out.suffix.lower() != ".zarr":
        out = output_path(args.out, ".mrc")
    report_path = out.with_name(out.stem + ".est.json")
    outs = Outputs(args.force, (args.stack, implicit_angles(args.stack, args.angles)))
    check_volume_output(outs, out)
    outs.file(report_path, "report")
    if args.method == "est":
        params = read_params(EstParams, args)
        start = iter_est
    else:
        params = read_params(GriddingParams, args)
        start = iter_fourier_gridding
    series = read_series_maybe_lazy(args)
    n_a, n_v, n_u = series.data.shape
    m = params.oversampling * n_u  # pseudopolar line length
    # pseudopolar arrays (complex128), the measured lines, the volume and its work copies
    need = 32.0 * n_v * m * m + 16.0 * n_a * n_v * m + 20.0 * n_v * n_u * n_u
    plan = plan_from_args("est", args, series.data.shape, estimate=need)
    if plan.chunked:
        return _run_chunked(args, params, series, plan, out, report_path, outs)
    check_memory(need,
                 f"EST of {n_a} images of {n_v}×{n_u} px (oversampling {params.oversampling})",
                 "bin the tilt series or lower --oversampling")
    series = in_memory_series(args, series, "est", nonnegative=params.positivity)
    gen = start(series.data, series.angles_deg, params, voxel_size=series.voxel_size)
    total = params.n_iter + params.n_iter_tight
    progress = progress_printer(f"atomtomo est ({args.method})", quiet=args.quiet)
    result = run_to_end(gen, lambda state: progress(
        state.iteration, total, f"round {state.round} error {state.error:.4g}"))
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
    report["run"] = {"chunked": False}
    with outs.writing() as stage:
        write_volume(stage, out, result.volume, series.voxel_size, args.force, report)
        write_json(stage(report_path), report)
    return 0


def _run_chunked(args, params, series, plan, out, report_path, outs) -> int:
    """EST or gridding in y-slabs (scale/est.py), the volume streamed to its file."""
    from ..scale import reconstruct_est_chunked, reconstruct_gridding_chunked

    solve = reconstruct_est_chunked if args.method == "est" else reconstruct_gridding_chunked
    n_a, n_v, n_u = series.data.shape
    progress = progress_printer(f"atomtomo est ({args.method})", quiet=args.quiet)
    report = {"algorithm": args.method, "parameters": dataclasses.asdict(params),
              "source": str(Path(args.stack)), "voxel_size_A": float(series.voxel_size),
              "plan": plan.to_dict()}
    with volume_writers({"volume": out}, (n_u, n_v, n_u), series.voxel_size, plan.slab,
                        args.force, report) as writers:
        result = solve(series.data, series.angles_deg, params, chunks=plan.slab,
                       scheduler=args.scheduler, workers=args.workers,
                       out=writers["volume"], progress=lambda d, t: progress(d, t, "slabs"))
        report |= {"errors": [float(e) for e in result.residuals],
                   "final_error": float(result.residuals[-1]), "run": result.report()}
    with outs.writing() as stage:
        write_json(stage(report_path), report)
    print(f"wrote {out}: {result.n_slabs} slabs on {result.scheduler}", file=sys.stderr)
    return 0
