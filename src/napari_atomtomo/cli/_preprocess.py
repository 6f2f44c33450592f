"""``atomtomo preprocess``: vacuum background, bad pixels, count normalisation, denoising."""

from __future__ import annotations

from pathlib import Path

from ..core.preprocess import PreprocessParams
from ._common import Outputs, add_force, implicit_angles, output_path, write_json
from ._params import add_param_options, read_params
from ._series import add_series_options, add_stack_and_angles, read_series


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "preprocess",
        help="subtract each image's vacuum level, remove bad pixels, normalise, denoise",
        description=(
            "Prepares a tilt series for reconstruction: each image's vacuum level is found "
            "from its border strips (robust to the particle entering an edge) or from a vacuum "
            "mask and subtracted; optionally hot/dead pixels are replaced, the total counts "
            "normalised across tilts and the images denoised. Writes OUT.mrc, OUT.tlt (the "
            "angles) and a JSON report of every step and automatic choice (OUT.json unless "
            "--json is given)."
        ),
    )
    add_stack_and_angles(p)
    p.add_argument("--out", required=True, metavar="PRE.mrc", help="preprocessed tilt series")
    add_param_options(p, PreprocessParams)
    p.add_argument("--vacuum-mask", default=None, metavar="MASK.mrc",
                   help="vacuum pixels (nonzero) for --background mask: (1, y, x) or (angle, y, x)")
    p.add_argument("--json", default=None, metavar="REPORT.json",
                   help="where to write the report (default: OUT.json)")
    add_series_options(p)
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:

    from .. import io
    from ..core.preprocess import preprocess_series, report_summary

    out = output_path(args.out, ".mrc")
    report_path = Path(args.json) if args.json else out.with_suffix(".json")
    if report_path.suffix.lower() != ".json":
        raise ValueError(f"--json must name a .json file, got {report_path.name}")
    if args.vacuum_mask is not None and args.background != "mask":
        raise ValueError("--vacuum-mask needs --background mask")
    params = read_params(PreprocessParams, args)
    inputs = (args.stack, implicit_angles(args.stack, args.angles), args.vacuum_mask)
    outs = Outputs(args.force, inputs)
    tlt_path = outs.file(out.with_suffix(".tlt"), "--out (its .tlt)")
    outs.file(out, "--out")
    outs.file(report_path, "--json")
    series = read_series(args)
    mask = None
    if args.vacuum_mask is not None:
        mask, _ = io.read_mrc(args.vacuum_mask)
        if mask.shape[0] == 1:
            mask = mask[0]
        mask = mask != 0
    res = preprocess_series(series.data, params, vacuum_mask=mask)
    report = {**res.report, "input": str(args.stack), "angles_source": series.angles_source,
              "output": str(out)}
    with outs.writing() as stage:  # the stack, its angles and the report: all or nothing
        io.write_mrc(stage(out), res.stack, series.voxel_size, kind="stack")
        io.write_tlt(stage(tlt_path), series.angles_deg)
        write_json(stage(report_path), report)
    print(f"preprocessed {series.data.shape[0]} images: {report_summary(report)}")
    for w in report["warnings"]:
        print(f"warning: {w}")
    print(f"wrote {out}, {out.with_suffix('.tlt')} and {report_path}")
    return 0
