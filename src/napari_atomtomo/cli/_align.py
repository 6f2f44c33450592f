"""``atomtomo align``: centre-of-mass / cross-correlation alignment of a tilt series."""

from __future__ import annotations

from ._common import Outputs, add_force, implicit_angles, output_path, warn, write_json


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
    p.add_argument("stack", metavar="STACK.mrc", help="tilt series (angle, y, x)")
    p.add_argument("--angles", default=None, metavar="ANGLES.tlt",
                   help="tilt angles (default: STACK.tlt or angles.tlt next to the stack)")
    p.add_argument("--out", required=True, metavar="ALIGNED.mrc", help="aligned tilt series")
    p.add_argument("--shifts-out", default=None, metavar="SHIFTS.json",
                   help="write the estimated shifts here")
    p.add_argument("--apply-shifts", default=None, metavar="SHIFTS.json",
                   help="apply these saved shifts instead of estimating them")
    p.add_argument("--reference", default="zero",
                   help="reference image for y: 'zero' (nearest 0°, default) or an index")
    p.add_argument("--upsample", type=int, default=100,
                   help="sub-pixel factor of the y cross-correlation (default 100)")
    p.add_argument("--background", choices=("none", "edge"), default="none",
                   help="'edge': subtract each image's border median before the centre of mass")
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import io
    from ..core.align import AlignParams, apply_shifts, estimate_shifts
    from ..core.plausibility import check_angles, check_counts, check_shifts

    out = output_path(args.out, ".mrc")
    if args.apply_shifts is not None and args.shifts_out is not None:
        raise ValueError("--shifts-out and --apply-shifts exclude each other")
    inputs = (args.stack, implicit_angles(args.stack, args.angles), args.apply_shifts)
    outs = Outputs(args.force, inputs)
    outs.file(out, "--out")
    if args.shifts_out is not None:
        outs.file(args.shifts_out, "--shifts-out")
    reference = args.reference if args.reference == "zero" else _index(args.reference)
    params = AlignParams(reference, args.upsample, args.background)

    if args.apply_shifts is not None:
        data, voxel_size = io.read_mrc(args.stack)
        if args.angles is not None:
            io.read_tlt(args.angles, n_images=data.shape[0])
        shifts = io.read_shifts(args.apply_shifts, n_images=data.shape[0])
        check_shifts(shifts, data.shape[1:])
        aligned = apply_shifts(data, shifts)
        with outs.writing() as stage:
            io.write_mrc(stage(out), aligned, voxel_size, kind="stack")
        print(f"applied {args.apply_shifts} to {args.stack}: wrote {out}")
        return 0

    series = io.read_tilt_series(args.stack, args.angles)
    warn("align", check_counts(series.data, f"tilt series {args.stack}", nonnegative=False)
         + check_angles(series.angles_deg, expect_range=series.data.shape[0] >= 3))
    shifts, ref = estimate_shifts(series.data, series.angles_deg, params=params)
    aligned = apply_shifts(series.data, shifts)
    with outs.writing() as stage:
        io.write_mrc(stage(out), aligned, series.voxel_size, kind="stack")
        if args.shifts_out is not None:
            write_json(stage(args.shifts_out), shifts_json(shifts, series.angles_deg, ref))
    print(f"aligned {series.data.shape[0]} images (reference {ref}, "
          f"{series.angles_deg[ref]:.2f}°): wrote {out}")
    return 0


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
