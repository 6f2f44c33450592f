"""``atomtomo preprocess``: vacuum background, bad pixels, count normalisation, denoising."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_force, output_path, write_json
from ._series import add_series_options, read_series


def _defaults():
    from ..core.preprocess import PreprocessParams

    return PreprocessParams()


def register(subparsers) -> None:
    d = _defaults()
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
    p.add_argument("stack", metavar="STACK.mrc", help="tilt series (angle, y, x): MRC, .mat, TIFF, DM3")
    p.add_argument("--angles", default=None, metavar="ANGLES.tlt",
                   help="tilt angles (default: STACK.tlt or angles.tlt next to the stack)")
    p.add_argument("--out", required=True, metavar="PRE.mrc", help="preprocessed tilt series")
    p.add_argument("--background", choices=("border", "mask", "none"), default=d.background,
                   help=f"vacuum level from the border strips, a mask, or none (default {d.background})")
    p.add_argument("--border-px", type=int, default=d.border_px, metavar="N",
                   help="width of the border strips (default: min(ny, nx) // 16, at least 2)")
    p.add_argument("--vacuum-mask", default=None, metavar="MASK.mrc",
                   help="vacuum pixels (nonzero) for --background mask: (1, y, x) or (angle, y, x)")
    p.add_argument("--hot-pixels", action=argparse.BooleanOptionalAction, default=d.hot_pixels,
                   help="replace single-pixel spikes/holes by their 3×3 median (default off)")
    p.add_argument("--hot-sigma", type=float, default=d.hot_sigma,
                   help=f"bad-pixel threshold in robust σ (default {d.hot_sigma:g})")
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=d.normalize,
                   help="scale every image to the mean total count (default off)")
    p.add_argument("--denoise", choices=("none", "wavelet", "nlmeans"), default=d.denoise,
                   help="denoise each image (default none; wavelet needs PyWavelets)")
    p.add_argument("--json", default=None, metavar="REPORT.json",
                   help="where to write the report (default: OUT.json)")
    add_series_options(p)
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from .. import io
    from ..core.preprocess import PreprocessParams, preprocess_series

    out = output_path(args.out, ".mrc")
    report_path = Path(args.json) if args.json else out.with_suffix(".json")
    if report_path.suffix.lower() != ".json":
        raise ValueError(f"--json must name a .json file, got {report_path.name}")
    if args.vacuum_mask is not None and args.background != "mask":
        raise ValueError("--vacuum-mask needs --background mask")
    params = PreprocessParams(args.background, args.border_px, args.hot_pixels, args.hot_sigma,
                              args.normalize, args.denoise)
    inputs = (args.stack, args.angles, args.vacuum_mask)
    for target in (out, out.with_suffix(".tlt"), report_path):
        io._paths.writable_path(target, args.force, inputs)
    series = read_series(args)
    mask = None
    if args.vacuum_mask is not None:
        mask, _ = io.read_mrc(args.vacuum_mask)
        if mask.shape[0] == 1:
            mask = mask[0]
        mask = mask != 0
    res = preprocess_series(series.data, params, vacuum_mask=mask)
    io.write_tilt_series(out, res.stack, series.angles_deg, series.voxel_size, force=args.force,
                         inputs=inputs)
    report = {**res.report, "input": str(args.stack), "angles_source": series.angles_source,
              "output": str(out)}
    write_json(report_path, report)
    steps = []
    if "background_levels" in report:
        lv = np.asarray(report["background_levels"])
        steps.append(f"vacuum level {lv.min():.4g}…{lv.max():.4g} subtracted ({params.background}"
                     + (f", {report['parameters']['border_px']} px strips" if params.background == "border" else "")
                     + ")")
    if "bad_pixels_replaced" in report:
        steps.append(f"{sum(report['bad_pixels_replaced'])} bad pixels replaced")
    if "normalization_factors" in report:
        f = np.asarray(report["normalization_factors"])
        steps.append(f"counts normalised (factors {f.min():.3f}…{f.max():.3f})")
    if "denoise_sigma" in report:
        steps.append(f"{params.denoise} denoising (noise σ median {np.median(report['denoise_sigma']):.3g})")
    print(f"preprocessed {series.data.shape[0]} images: " + ("; ".join(steps) or "nothing to do"))
    for w in report["warnings"]:
        print(f"warning: {w}")
    print(f"wrote {out}, {out.with_suffix('.tlt')} and {report_path}")
    return 0
