"""``atomtomo trace``: atoms from a reconstruction (peaks, sub-voxel fit, element split)."""

from __future__ import annotations

import sys
from pathlib import Path

from ..core.params import auto_or_numbers_text
from ..core.trace import TraceParams
from ._common import Outputs, add_force, output_path, save_figure, write_json
from ._params import add_param_options, read_params


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "trace",
        help="trace atoms in a reconstructed volume",
        description=(
            "Trace atoms in a reconstruction with the three constraints of paper 000: local "
            "maxima above a noise floor, heavier atoms brighter (elements split by peak "
            "intensity), and a minimum separation in Å. Positions are fitted to sub-voxel "
            "precision and written in Å (voxel (k, j, i) at (x, y, z) = (i, j, k)·voxel_size). "
            "Prints the counts; --json and --plot record the noise floor, the thresholds and "
            "the sorted peak intensities (Fig. 3)."
        ),
    )
    p.add_argument("volume", metavar="VOLUME.mrc",
                   help="reconstruction (z, y, x), MRC or OME-Zarr (.zarr)")
    p.add_argument("--out", required=True, metavar="ATOMS.xyz", help="traced atoms, XYZ (Å)")
    # --min-distance-A, --elements, --noise-floor, --split, --refine, --connectivity and
    # --classify: from the specs of TraceParams (core/trace), as the widget's inputs
    add_param_options(p, TraceParams)
    p.add_argument("--method", choices=("direct", "subtraction"), default="subtraction",
                   help="direct: one pass over the volume; subtraction: trace the brightest "
                        "element, subtract its fitted Gaussians, trace the lighter ones in the "
                        "residual (finds light atoms on the shoulders of heavy ones; what "
                        "atomtomo demo uses). Default subtraction")
    p.add_argument("--prefilter-sigma", default="auto", metavar="auto|VOXELS",
                   help="subtraction only: Gaussian pre-filter σ in voxels; auto = the atom "
                        "width measured on isolated atom peaks / √2 (physical floor 0.25 Å if "
                        "it cannot be measured), 0 = off (default auto)")
    p.add_argument("--n-expected", type=int, default=None, metavar="N",
                   help="keep at most the N brightest atoms (e.g. the known count)")
    p.add_argument("--csv", default=None, metavar="ATOMS.csv",
                   help="also write element,x,y,z,intensity,... as CSV")
    p.add_argument("--json", default=None, metavar="REPORT.json",
                   help="write the parameters, noise floor, thresholds and sorted intensities")
    p.add_argument("--plot", default=None, metavar="PEAKS.png",
                   help="plot the sorted peak intensities with the thresholds (Fig. 3 style)")
    p.add_argument("--chunks", type=int, default=0, metavar="N",
                   help="trace y-chunks of N rows with one row of overlap, reading the volume "
                        "lazily (--method direct only; same atoms as in memory; default 0: "
                        "in memory)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="dask.distributed scheduler to trace the chunks on (with --chunks)")
    add_force(p)
    p.set_defaults(func=run)


def _trace_chunked(args, params):
    """``trace_atoms_chunked`` on a lazily read MRC or OME-Zarr volume."""
    from ..io.lazy import open_lazy
    from ..scale import trace_atoms_chunked

    if args.chunks < 1:
        raise ValueError(f"--chunks must be a number of rows ≥ 1 (0: in memory), got {args.chunks}")
    if args.method != "direct":
        raise ValueError("--chunks needs --method direct: tracing by subtraction subtracts "
                         "whole atoms from the whole volume")
    volume, voxel_size = open_lazy(args.volume, rows=args.chunks)
    res = trace_atoms_chunked(volume, voxel_size, params, n_expected=args.n_expected,
                              chunks=args.chunks, scheduler=args.scheduler)
    c = res.auto["chunked"]
    print(f"atomtomo trace: {c['n_chunks']} y-chunks of {c['chunk_rows']} rows "
          f"(overlap {c['halo_rows']}) on {c['scheduler']}", file=sys.stderr)
    return res, voxel_size


def element_list(text: str, option: str = "--elements") -> str:
    """``text`` ("si,o") with each symbol in its canonical case ("Si,O"), as file readers
    accept; the change is reported on stderr. An unknown symbol is left for the check."""
    import sys

    from ..core.xray_lines import normalise_element

    given = [e.strip() for e in text.split(",") if e.strip()]
    fixed = [normalise_element(e) or e for e in given]
    if fixed != given:
        print(f"atomtomo: note: {option} {text} read as {','.join(fixed)}", file=sys.stderr)
    return ",".join(fixed)


def run(args) -> int:
    from .. import io
    from ..core.trace import trace_atoms, trace_atoms_by_subtraction

    md = auto_or_numbers_text(args.min_distance_A)
    if isinstance(md, tuple):
        raise ValueError(f"--min-distance-A takes one number of Å or 'auto', "
                         f"got {args.min_distance_A!r}")
    params = read_params(TraceParams, args, min_distance_A=md,
                         elements=element_list(args.elements))
    out = output_path(args.out, ".xyz")
    outs = Outputs(args.force, (args.volume,))
    for option, path in (("--out", out), ("--csv", args.csv), ("--json", args.json),
                         ("--plot", args.plot)):
        if path:
            outs.file(path, option)
    prefilter = auto_or_numbers_text(args.prefilter_sigma)
    if isinstance(prefilter, tuple):
        if len(prefilter) != 1:
            raise ValueError(f"--prefilter-sigma takes one number of voxels or 'auto', "
                             f"got {args.prefilter_sigma!r}")
        prefilter = prefilter[0]
    if args.method == "direct" and prefilter != "auto":
        raise ValueError("--prefilter-sigma applies only to --method subtraction")
    if args.chunks:
        res, voxel_size = _trace_chunked(args, params)
    else:
        if Path(args.volume).suffix.lower() == ".zarr":
            from ..io.omezarr import read_ome_zarr

            volume, voxel_size = read_ome_zarr(args.volume)
        else:
            volume, voxel_size = io.read_mrc(args.volume)
        if args.method == "subtraction":
            res = trace_atoms_by_subtraction(volume, voxel_size, params,
                                             n_expected=args.n_expected,
                                             prefilter_sigma=prefilter)
        else:
            res = trace_atoms(volume, voxel_size, params, n_expected=args.n_expected)
    # no atom, but candidates rejected as noise: no XYZ, but the report and the summary
    noise_only = len(res.atoms) == 0 and len(res.rejected) > 0
    if len(res.atoms) == 0 and not noise_only:
        raise ValueError(f"no peak of {args.volume} rises above the noise floor "
                         f"{res.noise_floor:.4g}; lower --noise-floor")
    counts = res.atoms.counts()
    comment = (f"atomtomo trace {Path(args.volume).name}: "
               + ", ".join(f"{counts.get(e, 0)} {e}" for e in params.elements)
               + f"; voxel_size {voxel_size:g} A")
    with outs.writing() as stage:
        if not noise_only:  # nothing told from noise: only the report is written
            io.write_xyz(stage(out), res.atoms, comment)
        if args.csv and not noise_only:
            io.write_atoms_csv(stage(args.csv), res.atoms)
        if args.json:
            write_json(stage(args.json), {
                "algorithm": ("trace_atoms" if args.method == "direct"
                              else "trace_atoms_by_subtraction"),
                "parameters": params.to_dict() | {"n_expected": args.n_expected,
                                                  "method": args.method,
                                                  "prefilter_sigma": prefilter},
                "source": str(Path(args.volume)),
                "voxel_size_A": float(voxel_size),
                "noise_floor": res.noise_floor,
                "split_thresholds": [t if t != float("-inf") else None
                                     for t in res.split_thresholds],
                "n_local_maxima": res.n_local_maxima,
                "gates": res.counts,
                "automatic": _jsonable(res.auto),
                "warnings": list(res.warnings),
                "counts": {e: counts.get(e, 0) for e in params.elements},
                "sorted_intensities": [float(v) for v in res.sorted_intensities],
                "rejected_candidates": _atom_rows(res.rejected),
            })
        if args.plot and not noise_only:
            from ..plots import plot_peak_intensities

            save_figure(plot_peak_intensities(res, title=Path(args.volume).name), stage(args.plot))
    thr = ", ".join(f"{t:.4g}" for t in res.split_thresholds) or "none"
    g = res.counts
    print(f"traced {len(res.atoms)} atoms ("
          + ", ".join(f"{e} {counts.get(e, 0)}" for e in params.elements)
          + f"); noise floor {res.noise_floor:.4g}; element threshold(s) {thr}")
    print("gates: " + ", ".join(f"{k.replace('n_', '').replace('_', ' ')} {v}"
                                for k, v in g.items()))
    print("automatic: " + "; ".join(f"{k} {_fmt(v)}" for k, v in res.auto.items()
                                    if v is not None))
    for w in res.warnings:
        print(f"warning: {w}")
    if noise_only:
        raise ValueError(f"no atom of {args.volume} can be told from noise (all "
                         f"{len(res.rejected)} candidates rejected; see the warnings"
                         + (f" and {args.json}" if args.json else "") + "); no "
                         f"{out.name} written; --classify none keeps them")
    return 0


def _fmt(v):
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _jsonable(d: dict) -> dict:
    import math

    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in d.items()}


def _atom_rows(atoms) -> list:
    """Candidates as ``{"x", "y", "z", feature: value}`` rows (Å)."""
    rows = []
    for i, (x, y, z) in enumerate(atoms.positions):
        row = {"x": float(x), "y": float(y), "z": float(z)}
        row |= {k: float(v[i]) for k, v in atoms.features.items()}
        rows.append(_jsonable(row))
    return rows
