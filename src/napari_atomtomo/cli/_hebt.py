"""``atomtomo hebt DATA_DIR --alpha A [--iterations N] --out MAPS_DIR``: HEBT maps.

Without ``--iterations`` HEBT runs until the maps stop changing (the ``update`` rule of
:data:`~napari_atomtomo.core.stopping.HEBT_STOP`); the iterations used and the rule are
printed and written to ``MAPS_DIR/hebt.json``. Replicas (``--resamples``) use the same
iteration count as the main run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..core._validate import read_json_file
from ..core.hebt import HebtParams, HebtResult, reconstruct_hebt
from ..core.plausibility import check_alpha, check_counts, check_tilt_series
from ._common import add_force, add_quiet, progress_printer, warn, write_json
from ._eds import add_resample_option, check_resamples, read_eds_dataset, write_replicas
from ._params import add_param_options, read_params
from ._scale import add_scale_options, plan_from_args, run_scheduler
from ._sirt import add_geometry_options, check_reconstruction_memory, read_geometry_options


def read_ratios(path) -> dict:
    """Response ratios from JSON: ``{"r": {"Ag": 805, ...}}`` (our output) or ``{"Ag": 805}``."""
    p = Path(path)
    obj = read_json_file(p, "ratios file")
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
            "response_ratios.json ({\"r\": {El: r_A}, \"r2\": R² or null, \"method\": ...}) to "
            "MAPS_DIR. Ratios are fitted by non-negative least squares unless --ratios is given; "
            "when the fit is ill-determined (EDS signals varying together) the ratios of Eq. 16 "
            "(r_A ∝ z_A/f_A, one fitted constant) are used, with a warning."
        ),
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", help="data-set folder")
    # no fixed count by default: the stopping rule decides
    add_param_options(parser, HebtParams, defaults={"n_iter": None}, helps={"n_iter": (
        "a fixed number of iterations (default: until the relative update per iteration is "
        "below 3e-5, at most 1500; docs/quantification.md)")})
    parser.add_argument(
        "--ratios", metavar="R.json", default=None,
        help='response ratios r_A: {"r": {"Ag": 805, "Au": 987}} (default: fitted)',
    )
    parser.add_argument(
        "--sweep", metavar="ALPHAS:ITERS", default=None,
        help="instead of one reconstruction, score HEBT on a grid of α values × iteration "
             "counts (e.g. 0.5,0.7,0.8,0.9:50,100,200 or 0:1:0.1:50,100) and write "
             "sweep.json and sweep.csv; with phantom_<El>.mrc in DATA_DIR each cell "
             "reports the quantification error (wt %%), else the data residuals",
    )
    add_geometry_options(parser)
    parser.add_argument("--out", required=True, metavar="MAPS_DIR", help="output folder")
    add_quiet(parser)
    add_resample_option(parser)
    add_scale_options(parser)
    add_force(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from dataclasses import replace

    from .. import io
    from ..core.regions import poisson_resample
    from ..core.stopping import HEBT_STOP, StopParams, eds_misfit_per_count, hebt_stopped

    given = args.iterations is not None
    stop = (StopParams(rule="none", max_iterations=max(int(args.iterations), 1)) if given
            else HEBT_STOP)
    params = read_params(HebtParams, args,
                         n_iter=args.iterations if given else stop.max_iterations)
    k = check_resamples(args.resamples)
    ratios = read_ratios(args.ratios) if args.ratios is not None else None
    outs, out, data = read_eds_dataset(args, (args.ratios,))
    shifts, support = read_geometry_options(args, data.haadf.shape)
    n_vox = None if support is None else int(np.prod(support.shape))
    plan = plan_from_args("hebt", args, data.haadf.shape, n_vox, n_maps=len(data.eds) + 1)
    if not plan.chunked:
        check_reconstruction_memory(data.haadf.shape, support, n_maps=len(data.eds) + 1)
    warn("hebt", check_tilt_series(data.haadf, data.angles_deg, shifts, "HAADF series"))
    for el, stack in data.eds.items():
        warn("hebt", check_counts(stack, f"EDS series of {el}"))
    if args.sweep is not None:
        from ._hebt_sweep import run_sweep

        return run_sweep(args, data, outs, out, ratios, shifts, support)
    warn("hebt", check_alpha(params.alpha, data.eds))
    targets = {el: outs.file(out / f"map_{el}.mrc", own=True) for el in data.eds}
    ratios_path = outs.file(out / "response_ratios.json", own=True)
    info_path = outs.file(out / "hebt.json", own=True)
    choice = None
    if ratios is None:
        from ..core.ratios import choose_ratios

        choice = choose_ratios(data.haadf, data.eds)
        ratios = choice.ratios
    report = progress_printer("hebt", quiet=args.quiet)
    progress = lambda s: report(s.iteration, params.n_iter, f"residual {s.residual:.4g}")  # noqa: E731
    # one cluster connection for the run and every replica
    with run_scheduler(args) as scheduler:
        solve = reconstruct_hebt
        if plan.chunked:  # the same maps, y-slab by y-slab, with the ratios fitted above
            from ..core.stopping import StopInfo
            from ..scale import reconstruct_hebt_chunked

            if args.iterations is None:
                params = replace(params, n_iter=HebtParams().n_iter)
                stop = StopParams(rule="none", max_iterations=params.n_iter)
                warn("hebt", [f"the update stopping rule needs the whole volume at once; chunked "
                              f"HEBT runs a fixed {params.n_iter} iterations (set --iterations)"])

            def solve(haadf, eds, angles, params, *, ratios, support, shifts, callback=None):
                res = reconstruct_hebt_chunked(
                    haadf, eds, angles, params, ratios=ratios, support=support, shifts=shifts,
                    chunks=plan.slab, scheduler=scheduler, workers=args.workers,
                    progress=None if callback is None else lambda d, t: report(d, t, "slabs"))
                return HebtResult(res.maps, dict(ratios), None, res.residuals)

            result = solve(data.haadf, data.eds, data.angles_deg, params, ratios=ratios,
                           support=support, shifts=shifts, callback=progress)
            stop_info = StopInfo(params.n_iter, "none", False, float(result.residuals[-1]), None,
                                 eds_misfit_per_count(result.maps, data.eds, data.angles_deg,
                                                      result.ratios, shifts=shifts))
        else:
            result, stop_info = hebt_stopped(
                data.haadf, data.eds, data.angles_deg, params, stop, ratios=ratios,
                support=support, shifts=shifts, callback=progress)
        params = replace(params, n_iter=stop_info.iterations)
        # Replicas: the EDS counts redrawn from Poisson(I) (the HAADF signal, ~1e5 electrons
        # per pixel and often not in counts, is kept), reconstructed with the same ratios.
        replicas = []
        rng = np.random.default_rng(args.seed)
        for i in range(k):
            replicas.append(solve(
                data.haadf, poisson_resample(data.eds, rng), data.angles_deg, params,
                ratios=result.ratios, support=support, shifts=shifts).maps)
            report(i + 1, k, "resamples")
    with outs.writing() as stage:
        for el, path in targets.items():
            io.write_mrc(stage(path), result.maps[el], data.voxel_size)
        write_replicas(stage, out, replicas, data.voxel_size)
        if choice is None:
            write_json(stage(ratios_path), {"r": result.ratios, "r2": None, "method": "given"})
        else:
            write_json(stage(ratios_path), choice.as_dict())
        write_json(stage(info_path), {"alpha": params.alpha, "relaxation": params.relaxation,
                                      "iterations": stop_info.iterations,
                                      "stop": {**stop_info.as_dict(), "tol": stop.tol,
                                               "max_iterations": stop.max_iterations},
                                      "resamples": k,
                                      "tilt_range_deg": [float(min(data.angles_deg)),
                                                         float(max(data.angles_deg))]})
    for path in targets.values():
        print(f"wrote {path}")
    if k:
        print(f"wrote {k} Poisson replicas (EDS counts resampled) to {out / 'resamples'}")
    if choice is None:
        fitted = " (given)"
    else:
        fitted = (f", R² {choice.r2:.4f} ({choice.method}; HAADF smoothed by σ "
                  f"{choice.haadf_sigma_px:.2f} px for the fit to match the EDS resolution)")
        if choice.warning:
            print(f"warning: {choice.warning}", file=sys.stderr)
    how = ("fixed" if stop.rule == "none" else
           f"update rule, tol {stop.tol:g}, {'met' if stop_info.met else 'NOT met: limit reached'}")
    print(f"hebt: {stop_info.iterations} iterations ({how}), α {params.alpha:g}")
    if stop_info.eds_misfit_per_count:
        noise = ", ".join(f"{el} {v:.3g}" for el, v in stop_info.eds_misfit_per_count.items())
        print(f"hebt: EDS misfit / Σ counts: {noise} (1 = the Poisson noise of raw counts; "
              "smoothing lowers it, e.g. to 0.35 for σ 0.8 px along x; well above it the EDS "
              "data are not fitted to their noise; docs/quantification.md)", file=sys.stderr)
    ratio_text = ", ".join(f"r_{el} {r:.4g}" for el, r in result.ratios.items())
    print(f"wrote {ratios_path}: {ratio_text}{fitted}")
    return 0
