"""``atomtomo eds DATA_DIR --iterations N --out MAPS_DIR``: EDS-STEM tomography."""

from __future__ import annotations

from pathlib import Path

from ..core.sirt import SirtParams, reconstruct_eds
from ..core.plausibility import check_tilt_series
from ._common import Outputs, add_force, progress_printer, warn
from ._sirt import (
    add_geometry_options, add_sirt_options, check_reconstruction_memory, read_geometry_options,
)

#: The paper's EDS-only optimum lies between 20 (Au) and 50 (Ag) iterations.
DEFAULT_ITERATIONS = 50


def output_folder(path, outs: Outputs | None = None) -> Path:
    """The output folder, checked now and created only when the results are written."""
    return (outs or Outputs()).folder(path, "--out")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "eds",
        help="EDS-STEM tomography: one SIRT map per element",
        description=(
            "Reconstruct every eds_<El>.mrc of a data-set folder with non-negative SIRT "
            "and write map_<El>.mrc (X_A = n f_A C_A ρ, paper 002 Eq. 10) to MAPS_DIR."
        ),
    )
    parser.add_argument("data_dir", metavar="DATA_DIR", help="data-set folder")
    add_sirt_options(parser, DEFAULT_ITERATIONS)
    add_geometry_options(parser)
    parser.add_argument("--out", required=True, metavar="MAPS_DIR", help="output folder")
    add_force(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from .. import io

    params = SirtParams(n_iter=args.iterations, relaxation=args.relaxation)
    outs = Outputs(args.force, (args.shifts, args.support))
    out = output_folder(args.out, outs)
    data = io.read_dataset(args.data_dir)
    if not data.eds:
        raise ValueError(f"data-set folder {args.data_dir} has no eds_<Element>.mrc files")
    shape = next(iter(data.eds.values())).shape
    shifts, support = read_geometry_options(args, shape)
    check_reconstruction_memory(shape, support, n_maps=len(data.eds))
    for el, stack in data.eds.items():
        warn("eds", check_tilt_series(stack, data.angles_deg, shifts, f"EDS series of {el}"))
    targets = {el: outs.file(out / f"map_{el}.mrc", own=True) for el in data.eds}
    report = progress_printer("eds", quiet=args.quiet)
    maps = reconstruct_eds(
        data.eds, data.angles_deg, params, support=support, shifts=shifts,
        callback=lambda el, s: report(s.iteration, params.n_iter, el),
    )
    with outs.writing() as stage:
        for el, path in targets.items():
            io.write_mrc(stage(path), maps[el], data.voxel_size)
    for path in targets.values():
        print(f"wrote {path}")
    return 0
