"""``atomtomo sirt STACK.mrc --angles ANGLES.tlt --iterations N --out VOLUME.mrc``.

``[--shifts SHIFTS.json] [--support MASK.mrc]`` (also on ``eds`` and ``hebt``): per-image
shifts passed to the projector, and a 0/1 support volume that also sets the volume shape.
"""

from __future__ import annotations

import sys

import numpy as np

from ..core.sirt import SirtParams, reconstruct_sirt
from ._common import (
    Outputs,
    add_force,
    add_quiet,
    implicit_angles,
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


def add_geometry_options(parser) -> None:
    """``--shifts`` and ``--support``, shared by ``sirt``, ``eds`` and ``hebt``."""
    parser.add_argument(
        "--shifts", metavar="SHIFTS.json", default=None,
        help="per-image (dy, dx) shifts in pixels (as written by atomtomo align "
             "--shifts-out), applied inside the projector instead of resampling the images",
    )
    parser.add_argument(
        "--support", metavar="MASK.mrc", default=None,
        help="0/1 volume (z, y, x) of the voxels allowed to be non-zero; its shape sets the "
             "volume's (default: a cube as wide as the images)",
    )


def read_geometry_options(args, stack_shape) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(shifts, support)`` from ``--shifts`` / ``--support``, checked against the series.

    ``stack_shape`` is the tilt series' ``(angle, y, x)``: the shifts need one pair per
    image and the support ``y`` rows of the series.
    """
    from .. import io

    n_a, n_y, _ = stack_shape
    shifts = None if args.shifts is None else io.read_shifts(args.shifts, n_images=n_a)
    support = None
    if args.support is not None:
        mask, _ = io.read_mrc(args.support)
        if mask.shape[1] != n_y:
            raise ValueError(
                f"support {args.support} has shape {mask.shape} but the tilt series "
                f"{tuple(stack_shape)} needs a (z, {n_y}, x) volume"
            )
        if not np.isin(mask, (0.0, 1.0)).all():
            odd = mask[~np.isin(mask, (0.0, 1.0))]
            raise ValueError(
                f"support {args.support} must hold only 0 and 1, found {odd.size} other "
                f"values (e.g. {float(odd[0]):g})"
            )
        if not mask.any():
            raise ValueError(f"support {args.support} is all zeros; nothing to reconstruct")
        support = mask.astype(bool)
    return shifts, support


def check_reconstruction_memory(stack_shape, support=None, n_maps: int = 1) -> None:
    """Refuse a SIRT/HEBT reconstruction that cannot fit (about four float32 volumes and
    three stacks per map), with one sentence, before allocating it."""
    from ..core.memory import check_memory

    n_a, n_y, n_u = stack_shape
    n_vox = n_u * n_y * n_u if support is None else int(np.prod(support.shape))
    check_memory(n_maps * (16.0 * n_vox + 12.0 * n_a * n_y * n_u),
                 f"reconstructing {n_maps} volume(s) of {n_vox} voxels",
                 "bin the tilt series or give a smaller --support")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sirt",
        help="SIRT reconstruction of one tilt series",
        description=(
            "Reconstruct a volume (z, y, x) from one tilt series (angle, y, x) with SIRT, "
            "non-negative unless --allow-negative. The volume keeps the series' pixel size."
        ),
    )
    add_stack_and_angles(parser)
    add_param_options(parser, SirtParams)
    add_quiet(parser)
    add_geometry_options(parser)
    parser.add_argument("--out", required=True, metavar="VOLUME.mrc",
                        help="output volume: MRC, or OME-Zarr with a multiscale pyramid (.zarr)")
    parser.add_argument("--json", metavar="REPORT.json", default=None,
                        help="also write the residuals and how the run was done (in memory or "
                             "chunked, slab height, scheduler, timings)")
    add_series_options(parser)
    add_scale_options(parser)
    add_force(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    params = read_params(SirtParams, args)
    inputs = (args.stack, implicit_angles(args.stack, args.angles), args.shifts, args.support)
    outs = Outputs(args.force, inputs)
    out = check_volume_output(outs, args.out)
    js = None if args.json is None else outs.file(args.json, "--json", suffix=".json")
    series = read_series_maybe_lazy(args)
    shifts, support = read_geometry_options(args, series.data.shape)
    n_vox = None if support is None else int(np.prod(support.shape))
    plan = plan_from_args("sirt", args, series.data.shape, n_vox)
    if not plan.chunked:
        check_reconstruction_memory(series.data.shape, support)
        series = in_memory_series(args, series, "sirt", shifts, params.nonnegative)
        data = series.data
    report = progress_printer("sirt", quiet=args.quiet)
    meta = {"algorithm": "sirt", "parameters": {"n_iter": params.n_iter,
                                                "relaxation": params.relaxation,
                                                "nonnegative": params.nonnegative},
            "source": str(args.stack), "plan": plan.to_dict()}
    if plan.chunked:
        from ..scale import reconstruct_sirt_chunked

        shape = (series.data.shape[2], series.data.shape[1], series.data.shape[2]) \
            if support is None else support.shape
        with volume_writers({"volume": out}, shape, series.voxel_size, plan.slab,
                            args.force, meta) as writers:
            result = reconstruct_sirt_chunked(
                series.data, series.angles_deg, params, support=support, shifts=shifts,
                chunks=plan.slab, scheduler=args.scheduler, workers=args.workers,
                out=writers["volume"], progress=lambda d, t: report(d, t, "slabs"))
            meta["run"] = result.report()
            meta["residual"] = float(result.residuals[-1])
        residuals = result.residuals
        print(f"atomtomo sirt: {result.n_slabs} slabs on {result.scheduler}, "
              f"{result.seconds:.1f} s, {result.seconds_per_iteration:.3g} s per iteration "
              f"(summed over slabs)", file=sys.stderr)
    else:
        result = reconstruct_sirt(
            data, series.angles_deg, params, support=support, shifts=shifts,
            callback=lambda s: report(s.iteration, params.n_iter, f"residual {s.residual:.4g}"),
        )
        residuals = result.residuals
        meta["run"] = {"chunked": False}
        meta["residual"] = float(residuals[-1])
    with outs.writing() as stage:
        if not plan.chunked:
            write_volume(stage, out, result.volume, series.voxel_size, args.force, meta)
        if js is not None:
            write_json(stage(js), {**meta, "residuals": [float(r) for r in residuals]})
    print(f"wrote {out}, relative residual {residuals[-1]:.4g}")
    return 0
