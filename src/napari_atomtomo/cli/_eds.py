"""``atomtomo eds DATA_DIR --out MAPS_DIR``: EDS-STEM tomography with a stopping rule.

By default each element's SIRT stops by the relative-update rule (``--stop-rule update``,
at most ``--max-iterations``); ``--iterations N`` runs exactly ``N`` (rule ``none``).
The iterations used per element and the rule are printed and written to
``MAPS_DIR/eds.json``. ``--resamples K`` also reconstructs ``K`` Poisson replicas of the
counts into ``MAPS_DIR/resamples/<i>/`` (``atomtomo quantify`` turns them into standard
errors).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np

from ..core.plausibility import check_tilt_series
from ..core.stopping import STOP_RULES, EdsParams, StopParams, reconstruct_eds_stopped
from ..jobs.reconstruction import EDS_ITERATIONS
from ._common import Outputs, add_force, add_quiet, progress_printer, warn, write_json
from ._params import add_param_options
from ._scale import add_scale_options, plan_from_args, run_scheduler
from ._sirt import add_geometry_options, check_reconstruction_memory, read_geometry_options

#: Fixed iteration count the SIRT/HEBT widget's EDS mode starts with (the paper's
#: EDS-only optimum lies between 20 (Au) and 50 (Ag) iterations).
DEFAULT_ITERATIONS = EDS_ITERATIONS


def output_folder(path, outs: Outputs | None = None) -> Path:
    """The output folder, checked now and created only when the results are written."""
    return (outs or Outputs()).folder(path, "--out")


def read_eds_dataset(args, inputs=()):
    """``(outs, out, data)`` of an eds or hebt run: the outputs checked first (``inputs``,
    ``--shifts`` and ``--support`` are never written over), then the data-set folder, which
    must hold EDS series."""
    from .. import io

    outs = Outputs(args.force, (*inputs, args.shifts, args.support))
    out = output_folder(args.out, outs)
    data = io.read_dataset(args.data_dir)
    if not data.eds:
        raise ValueError(f"data-set folder {args.data_dir} has no eds_<Element>.mrc files")
    return outs, out, data


def add_resample_option(parser) -> None:
    parser.add_argument(
        "--resamples", type=int, default=0, metavar="K",
        help="also reconstruct K Poisson replicas of the counts into MAPS_DIR/resamples/<i>/ "
             "(standard errors for atomtomo quantify; default 0)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the Poisson replicas (default 0)")


def write_replicas(stage, out, replicas, voxel_size) -> None:
    """Stage the Poisson replicas as ``out/resamples/<i>/map_<El>.mrc`` (all or nothing)."""
    from .. import io

    if not replicas:
        return
    tmp = stage.folder(out / "resamples")
    for i, r_maps in enumerate(replicas):
        sub = tmp / f"{i:03d}"
        sub.mkdir(parents=True)
        for el, m in r_maps.items():
            io.write_mrc(sub / f"map_{el}.mrc", m, voxel_size)


def check_resamples(k) -> int:
    if k < 0 or k == 1 or k > 1000:
        raise ValueError(f"--resamples must be 0 or between 2 and 1000, got {k}")
    return int(k)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eds",
        help="EDS-STEM tomography: one SIRT map per element",
        description=(
            "Reconstruct every eds_<El>.mrc of a data-set folder with non-negative SIRT "
            "and write map_<El>.mrc (X_A = n f_A C_A ρ, paper 002 Eq. 10) to MAPS_DIR. "
            "The iteration count comes from a stopping rule: 'update' stops when the "
            f"relative change of the map per iteration is below {StopParams.tol:g} (slow "
            "enough for interfaces in the missing wedge to converge; docs/quantification.md); "
            "'discrepancy' when the "
            "data misfit reaches the Poisson noise level (Σ counts; stops early on smoothed "
            "counts); 'none' runs --max-iterations."
        ),
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", help="data-set folder")
    parser.add_argument("--stop-rule", choices=STOP_RULES, default=StopParams.rule,
                        help=f"stopping rule (default {StopParams.rule})")
    parser.add_argument("--max-iterations", type=int, default=StopParams.max_iterations,
                        metavar="N", help=f"iteration limit (default {StopParams.max_iterations})")
    # --iterations (unset: the stopping rule decides) and --relaxation from the specs of
    # EdsParams, as the SIRT / HEBT widget's EDS-STEM mode
    add_param_options(parser, EdsParams, defaults={"n_iter": None})
    add_quiet(parser)
    add_resample_option(parser)
    add_geometry_options(parser)
    parser.add_argument("--out", required=True, metavar="MAPS_DIR", help="output folder")
    add_scale_options(parser)
    add_force(parser)
    parser.set_defaults(func=run)


def _eds_chunked(eds, angles, stop, *, support, shifts, plan, args, scheduler, report,
                 callback=None):
    """``reconstruct_eds_stopped``'s result from the chunked path (fixed iterations);
    ``scheduler``: the run's (:func:`~._scale.run_scheduler`)."""
    from ..core.sirt import SirtParams
    from ..core.stopping import StopInfo
    from ..scale import reconstruct_eds_chunked

    params = SirtParams(n_iter=stop.max_iterations, relaxation=stop.relaxation)
    maps = {}
    info = {}
    for el, stack in eds.items():  # one element at a time: one map in memory per slab
        res = reconstruct_eds_chunked(
            {el: stack}, angles, params, support=support, shifts=shifts, chunks=plan.slab,
            scheduler=scheduler, workers=args.workers,
            progress=None if callback is None else lambda d, t, el=el: report(d, t, el))
        maps[el] = res.maps[el]
        info[el] = StopInfo(iterations=stop.max_iterations, rule="none", met=False,
                            residual=float(res.residuals[-1]), noise_level=None)
    return maps, info


def stop_params(args) -> StopParams:
    if args.iterations is not None:
        return StopParams(rule="none", max_iterations=args.iterations, relaxation=args.relaxation)
    return StopParams(rule=args.stop_rule, max_iterations=args.max_iterations,
                      relaxation=args.relaxation)


def run(args) -> int:
    from .. import io
    from ..core.regions import poisson_resample

    stop = stop_params(args)
    k = check_resamples(args.resamples)
    outs, out, data = read_eds_dataset(args)
    shape = next(iter(data.eds.values())).shape
    shifts, support = read_geometry_options(args, shape)
    n_vox = None if support is None else int(np.prod(support.shape))
    plan = plan_from_args("eds", args, shape, n_vox, n_maps=len(data.eds))
    if plan.chunked and stop.rule != "none":
        raise ValueError(f"the chunked path needs a fixed iteration count (--iterations N): "
                         f"the {stop.rule!r} stopping rule looks at the whole volume at once")
    if not plan.chunked:
        check_reconstruction_memory(shape, support, n_maps=len(data.eds))
    for el, stack in data.eds.items():
        warn("eds", check_tilt_series(stack, data.angles_deg, shifts, f"EDS series of {el}"))
    targets = {el: outs.file(out / f"map_{el}.mrc", own=True) for el in data.eds}
    json_path = outs.file(out / "eds.json", own=True)
    report = progress_printer("eds", quiet=args.quiet)
    replicas = []
    rng = np.random.default_rng(args.seed)
    with run_scheduler(args) as scheduler:  # one cluster connection for every element and replica
        solve = reconstruct_eds_stopped
        if plan.chunked:
            solve = partial(_eds_chunked, plan=plan, args=args, scheduler=scheduler,
                            report=report)
        maps, info = solve(
            data.eds, data.angles_deg, stop, support=support, shifts=shifts,
            callback=lambda el, s: report(s.iteration, stop.max_iterations, el),
        )
        for i in range(k):
            r_maps, _ = solve(poisson_resample(data.eds, rng), data.angles_deg,
                              stop, support=support, shifts=shifts)
            replicas.append(r_maps)
            report(i + 1, k, "resamples")
    with outs.writing() as stage:
        for el, path in targets.items():
            io.write_mrc(stage(path), maps[el], data.voxel_size)
        write_replicas(stage, out, replicas, data.voxel_size)
        write_json(stage(json_path), {
            "stop": {"rule": stop.rule, "max_iterations": stop.max_iterations, "tau": stop.tau,
                     "tol": stop.tol, "relaxation": stop.relaxation},
            "elements": {el: i.as_dict() for el, i in info.items()},
            "resamples": k, "seed": args.seed,
            "tilt_range_deg": [float(min(data.angles_deg)), float(max(data.angles_deg))],
        })
    for el, path in targets.items():
        print(f"wrote {path}: {info[el].iterations} iterations ({stop.rule}"
              + ("" if stop.rule == "none" else (", met" if info[el].met else ", limit reached"))
              + f", relative misfit {info[el].residual:.4g})")
    if k:
        print(f"wrote {k} Poisson replicas to {out / 'resamples'}")
    return 0
