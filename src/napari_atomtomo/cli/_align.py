"""``atomtomo align``: centre-of-mass / cross-correlation alignment of a tilt series."""

from __future__ import annotations

import dataclasses

from ..core.align import AlignParams
from ..core.tiltaxis import TiltAxisParams
from ._common import Outputs, add_force, implicit_angles, output_path, warn, write_json
from ._params import add_param_options, read_params
from ._series import add_series_options, add_stack_and_angles, read_series


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "align",
        help="align a tilt series (y: cross-correlation, x: centre of mass), or apply saved shifts",
        description=(
            "Along the tilt axis y each image's projection onto y is cross-correlated with the "
            "0° image's; across it the centre of mass of the projection onto x is moved to the "
            "detector centre (paper 000). Shifts are saved as JSON (dy, dx px: the object "
            "appeared at (v + dy, u + dx)) and can be applied to another signal of the series "
            "with --apply-shifts."
        ),
    )
    add_stack_and_angles(p)
    p.add_argument("--out", required=True, metavar="ALIGNED.mrc", help="aligned tilt series")
    p.add_argument("--shifts-out", default=None, metavar="SHIFTS.json",
                   help="write the estimated shifts here")
    p.add_argument("--apply-shifts", default=None, metavar="SHIFTS.json",
                   help="apply these saved shifts (and tilt axis) instead of estimating them; "
                        "an IMOD .xf file of one rotation plus per-image translations works too")
    p.add_argument("--reference", default="zero",
                   help="reference image for y: 'zero' (nearest 0°, default) or an index")
    add_param_options(p, AlignParams)
    p.add_argument("--tilt-axis", default=None, metavar="auto|DEG",
                   help="the tilt axis's in-plane angle (degrees from +y towards +x): 'auto' "
                        "estimates it and its offset from the data, a number fixes the angle "
                        "(the offset is still estimated); the series is resampled so its axis is "
                        "y, and both are written to the shifts JSON (default: axis already y)")
    p.add_argument("--tilt-axis-search", type=float, default=TiltAxisParams.search_deg,
                   metavar="DEG", help="--tilt-axis auto searches ±DEG, up to 90 for any "
                                       "direction, e.g. an axis near x (default "
                                       f"{TiltAxisParams.search_deg:g})")
    p.add_argument("--refine", type=int, default=0, metavar="N",
                   help="refine the shifts by up to N rounds of projection matching (SIRT → "
                        "re-projection → sub-pixel registration), stopping when they converge; "
                        "each round's shift change and residual are printed (default 0: off)")
    add_series_options(p)
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import io
    from ..core.align import apply_shifts, estimate_shifts
    from ..core.plausibility import check_angles, check_counts, check_shifts
    from ..core.projmatch import RefineParams, refine_shifts
    from ..core.tiltaxis import estimate_axis_offset, estimate_tilt_axis, remove_tilt_axis
    from ..io.formats import read_angles, read_stack, read_xf, recentre

    out = output_path(args.out, ".mrc")
    if args.apply_shifts is not None and args.shifts_out is not None:
        raise ValueError("--shifts-out and --apply-shifts exclude each other")
    inputs = (args.stack, implicit_angles(args.stack, args.angles), args.apply_shifts)
    outs = Outputs(args.force, inputs)
    outs.file(out, "--out")
    if args.shifts_out is not None:
        outs.file(args.shifts_out, "--shifts-out")
    reference = args.reference if args.reference == "zero" else _index(args.reference)
    params = read_params(AlignParams, args, reference=reference)

    tilt = _tilt_axis_choice(args)
    if args.refine < 0:
        raise ValueError(f"--refine must be a number of rounds ≥ 0, got {args.refine}")
    refine_params = RefineParams(n_iter=args.refine) if args.refine else None
    if args.apply_shifts is not None:
        if refine_params is not None:
            raise ValueError("--refine and --apply-shifts exclude each other")
        if tilt is not None:
            raise ValueError("--tilt-axis and --apply-shifts exclude each other: the saved "
                             "file carries its tilt axis")
        data, voxel_size, _ = read_stack(args.stack, variable=args.variable,
                                         axis_order=args.axis_order)
        if args.angles is not None:
            read_angles(args.angles, variable=args.angle_variable, n_images=data.shape[0])
        data, _ = recentre(data, args.center)
        if str(args.apply_shifts).lower().endswith(".xf"):  # IMOD transforms
            shifts, angle = read_xf(args.apply_shifts, n_images=data.shape[0])
            offset = 0.0
        else:
            shifts = io.read_shifts(args.apply_shifts, n_images=data.shape[0],
                                    allow_tilt_axis=True)
            angle, offset = io.read_tilt_axis(args.apply_shifts)
        if angle or offset:
            data = remove_tilt_axis(data, angle, offset)
        check_shifts(shifts, data.shape[1:])
        aligned = apply_shifts(data, shifts)
        with outs.writing() as stage:
            io.write_mrc(stage(out), aligned, voxel_size, kind="stack")
        axis = f" (tilt axis {angle:.3f}°, offset {offset:.2f} px removed)" if angle or offset else ""
        print(f"applied {args.apply_shifts} to {args.stack}{axis}: wrote {out}")
        return 0

    series = read_series(args)
    data = series.data
    warn("align", check_counts(series.data, f"tilt series {args.stack}", nonnegative=False)
         + check_angles(series.angles_deg, expect_range=series.data.shape[0] >= 3))
    axis_report = {"tilt_axis": "y (not estimated)", "tilt_axis_angle_deg": 0.0,
                   "tilt_axis_offset_px": 0.0}
    if tilt is not None:
        if tilt == "auto":
            res = estimate_tilt_axis(data, series.angles_deg, TiltAxisParams(args.tilt_axis_search))
            angle, offset, quality, warns = res.angle_deg, res.offset_px, res.quality, res.warnings
        else:
            angle = tilt
            offset, quality = estimate_axis_offset(data, series.angles_deg, angle)
            warns = tuple(quality.pop("warnings"))
        axis_report = {"tilt_axis": "auto" if tilt == "auto" else "given angle, estimated offset",
                       "tilt_axis_angle_deg": angle, "tilt_axis_offset_px": offset,
                       "tilt_axis_quality": quality, "tilt_axis_warnings": list(warns)}
        print(f"tilt axis: {angle:.3f}° from +y towards +x, offset {offset:+.2f} px "
              f"(± {quality['offset_standard_error_px']:.2f}; {axis_report['tilt_axis']}); "
              "resampled so the axis is y")
        for w in warns:
            print(f"warning: {w}")
        data = remove_tilt_axis(data, angle, offset)
    shifts, ref = estimate_shifts(data, series.angles_deg, params=params)
    refine_report = {}
    if refine_params is not None:
        def show(rec):
            print(f"refine {rec['iteration']}/{refine_params.n_iter}: shift change "
                  f"{rec['rms_change_px']:.3f} px RMS ({rec['max_change_px']:.3f} max), "
                  f"residual {rec['residual']:.4f}")

        res = refine_shifts(data, series.angles_deg, shifts, refine_params, callback=show)
        shifts = res.shifts
        refine_report = {"refine": {"parameters": dataclasses.asdict(refine_params),
                                    "converged": res.converged, "iterations": res.history}}
        if not res.converged:
            print(f"warning: projection matching did not converge in {refine_params.n_iter} "
                  f"rounds (last change {res.history[-1]['max_change_px']:.3f} px); "
                  "try a larger --refine")
    aligned = apply_shifts(data, shifts)
    with outs.writing() as stage:
        io.write_mrc(stage(out), aligned, series.voxel_size, kind="stack")
        if args.shifts_out is not None:
            write_json(stage(args.shifts_out), {**shifts_json(shifts, series.angles_deg, ref),
                                                **axis_report, **refine_report})
    print(f"aligned {series.data.shape[0]} images (reference {ref}, "
          f"{series.angles_deg[ref]:.2f}°): wrote {out}")
    return 0


def _tilt_axis_choice(args):
    """``None``, ``"auto"`` or a float from ``--tilt-axis``."""
    if args.tilt_axis is None:
        return None
    if str(args.tilt_axis).strip().lower() == "auto":
        return "auto"
    try:
        return float(args.tilt_axis)
    except ValueError:
        raise ValueError(f"--tilt-axis must be 'auto' or an angle in degrees, got "
                         f"{args.tilt_axis!r}") from None


def _index(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--reference must be 'zero' or an image index, got {text!r}") from None


def shifts_json(shifts, angles_deg, reference_index: int) -> dict:
    """The saved form of an alignment (readable by ``io.read_shifts``)."""
    return {
        "order": "dy, dx",
        "shifts_px": [[float(a), float(b)] for a, b in shifts],
        "angles_deg": [float(a) for a in angles_deg],
        "reference_index": int(reference_index),
        "convention": "the object's projection appeared at (v + dy, u + dx) in image a; "
                      "aligning moved each image by (-dy, -dx)",
    }
