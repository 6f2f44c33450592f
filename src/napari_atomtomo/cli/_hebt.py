"""``atomtomo hebt DATA_DIR --alpha A --iterations N --out MAPS_DIR``: HEBT maps."""

from __future__ import annotations

import json
from pathlib import Path

from ..core.hebt import HebtParams, reconstruct_hebt
from ..core.plausibility import check_alpha, check_counts, check_tilt_series
from ._common import Outputs, add_force, progress_printer, warn, write_json
from ._eds import output_folder
from ._sirt import add_geometry_options, check_reconstruction_memory, read_geometry_options


def read_ratios(path) -> dict:
    """Response ratios from JSON: ``{"r": {"Ag": 805, ...}}`` (our output) or ``{"Ag": 805}``."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"ratios file {p} does not exist")
    try:
        obj = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"ratios file {p} is not valid JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    if isinstance(obj, dict) and isinstance(obj.get("r"), dict):
        obj = obj["r"]
    if not isinstance(obj, dict):
        raise ValueError(
            f'ratios file {p} must hold {{"r": {{"Ag": 805, ...}}}} or {{"Ag": 805, ...}}'
        )
    return obj


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "hebt",
        help="HAADF-EDS bimodal tomography (element maps in HAADF units)",
        description=(
            "Joint reconstruction of haadf.mrc and every eds_<El>.mrc of a data-set folder "
            "(paper 002, Eq. 17). Writes map_<El>.mrc (X_A = z_A C_A ρ) and "
            "response_ratios.json ({\"r\": {El: r_A}, \"r2\": R² or null}) to MAPS_DIR. "
            "Ratios are fitted by non-negative least squares unless --ratios is given."
        ),
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", help="data-set folder")
    parser.add_argument(
        "--alpha", type=float, default=HebtParams.alpha, metavar="A",
        help="weight of the HAADF term in [0, 1] (default 0.8)",
    )
    parser.add_argument(
        "--iterations", type=int, default=HebtParams.n_iter, metavar="N",
        help=f"iterations (default {HebtParams.n_iter})",
    )
    parser.add_argument(
        "--relaxation", type=float, default=HebtParams.relaxation, metavar="L",
        help="relaxation λ in (0, 2) (default 1)",
    )
    parser.add_argument(
        "--ratios", metavar="R.json", default=None,
        help='response ratios r_A: {"r": {"Ag": 805, "Au": 987}} (default: fitted)',
    )
    add_geometry_options(parser)
    parser.add_argument("--out", required=True, metavar="MAPS_DIR", help="output folder")
    parser.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    add_force(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import io

    params = HebtParams(alpha=args.alpha, n_iter=args.iterations, relaxation=args.relaxation)
    ratios = read_ratios(args.ratios) if args.ratios is not None else None
    outs = Outputs(args.force, (args.ratios, args.shifts, args.support))
    out = output_folder(args.out, outs)
    data = io.read_dataset(args.data_dir)
    if not data.eds:
        raise ValueError(f"data-set folder {args.data_dir} has no eds_<Element>.mrc files")
    shifts, support = read_geometry_options(args, data.haadf.shape)
    check_reconstruction_memory(data.haadf.shape, support, n_maps=len(data.eds) + 1)
    warn("hebt", check_tilt_series(data.haadf, data.angles_deg, shifts, "HAADF series"))
    for el, stack in data.eds.items():
        warn("hebt", check_counts(stack, f"EDS series of {el}"))
    warn("hebt", check_alpha(params.alpha, data.eds))
    targets = {el: outs.file(out / f"map_{el}.mrc", own=True) for el in data.eds}
    ratios_path = outs.file(out / "response_ratios.json", own=True)
    report = progress_printer("hebt", quiet=args.quiet)
    result = reconstruct_hebt(
        data.haadf, data.eds, data.angles_deg, params, ratios=ratios, support=support,
        shifts=shifts,
        callback=lambda s: report(s.iteration, params.n_iter, f"residual {s.residual:.4g}"),
    )
    with outs.writing() as stage:
        for el, path in targets.items():
            io.write_mrc(stage(path), result.maps[el], data.voxel_size)
        write_json(stage(ratios_path), {"r": result.ratios, "r2": result.r2})
    for path in targets.values():
        print(f"wrote {path}")
    fitted = f", R² {result.r2:.4f}" if result.r2 is not None else " (given)"
    ratio_text = ", ".join(f"r_{el} {r:.4g}" for el, r in result.ratios.items())
    print(f"wrote {ratios_path}: {ratio_text}{fitted}")
    return 0
