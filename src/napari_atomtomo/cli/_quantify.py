"""``atomtomo quantify MAPS_DIR --kind eds|hebt --out OUT_DIR``: weight-fraction maps."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np

from ._common import Outputs, add_force, warn, write_json

_MAP_NAME = re.compile(r"^map_([A-Z][a-z]?)\.mrc$")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "quantify",
        help="turn EDS or HEBT element maps into weight-fraction maps (paper 002)",
        description=(
            "Read map_<El>.mrc from MAPS_DIR, divide each by its element factor (f_A for "
            "--kind eds, Eq. 12; z_A for --kind hebt, Eq. 18), zero the voxels whose summed "
            "map is below the threshold (ESF method by default) and normalise per voxel. "
            "Writes wt_<El>.mrc (weight fractions 0-1) and quantify.json to OUT_DIR."
        ),
    )
    p.add_argument("maps_dir", metavar="MAPS_DIR", help="folder with map_<El>.mrc files")
    p.add_argument("--kind", required=True, choices=("eds", "hebt"),
                   help="eds: maps from EDS-STEM tomography; hebt: maps from HEBT")
    p.add_argument("--factors", metavar="F.json",
                   help='element factors {"Pt": {"z": ..., "f": ...}} in b·mol/g '
                        "(default: the built-in Table 2 factors for Ag, Au, Co, Zn)")
    p.add_argument("--threshold", default="auto", metavar="auto|VALUE",
                   help="threshold on the summed map Σ X_A/factor_A, or 'auto' for the ESF "
                        "method (default)")
    p.add_argument("--out", required=True, metavar="OUT_DIR", help="output folder")
    add_force(p)
    p.set_defaults(func=run)


def _parse_threshold(text: str):
    if text == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--threshold must be 'auto' or a number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"--threshold must be 'auto' or a finite number >= 0, got {text!r}")
    return value


def find_maps(maps_dir) -> dict[str, Path]:
    """``{element: path}`` of the ``map_<El>.mrc`` files in ``maps_dir`` (sorted)."""
    root = Path(maps_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"maps folder {root} does not exist or is not a folder")
    found = {}
    for path in sorted(root.iterdir()):
        m = _MAP_NAME.match(path.name)
        if m:
            found[m.group(1)] = path
    if not found:
        raise ValueError(f"{root} holds no map_<Element>.mrc files (e.g. map_Ag.mrc)")
    return found


def run(args) -> int:
    from ..core.elements import load_factor_file, validate_element
    from ..core.quantify import QuantifyParams, quantify_maps
    from ..io import read_mrc, write_mrc

    params = QuantifyParams(args.kind, _parse_threshold(args.threshold))
    paths = find_maps(args.maps_dir)
    for el in paths:
        validate_element(el)
    factors = load_factor_file(args.factors) if args.factors else None
    if factors is not None:
        need = "f" if args.kind == "eds" else "z"
        missing = [el for el in paths if need not in factors.get(el, {})]
        if len(missing) == len(paths):
            raise ValueError(
                f"factor file {args.factors} has no {need!r} factor for any element of the "
                f"maps ({', '.join(paths)}; it covers {', '.join(factors) or 'none'}); add "
                "them, or leave out --factors to use the built-in Table 2 factors"
            )
        if missing:
            warn("quantify", [f"factor file {args.factors} has no {need!r} factor for "
                              f"{', '.join(missing)}; the built-in factors are used for them"])
    inputs = list(paths.values()) + ([args.factors] if args.factors else [])
    outs = Outputs(args.force, inputs)
    out = outs.folder(args.out, "--out")
    targets = {el: outs.file(out / f"wt_{el}.mrc", own=True) for el in paths}
    json_path = outs.file(out / "quantify.json", own=True)

    maps, voxel_size = {}, None
    for el, path in paths.items():
        data, vs = read_mrc(path)
        if voxel_size is not None and not np.isclose(vs, voxel_size, rtol=1e-3):
            raise ValueError(f"{path.name} has voxel size {vs:g} Å but the other maps have {voxel_size:g} Å")
        maps[el], voxel_size = data, vs
    result = quantify_maps(maps, factors=factors, params=params)

    with outs.writing() as stage:
        for el, wt in result.weight_fractions.items():
            write_mrc(stage(targets[el]), wt, voxel_size)
        mean_inside = {
            el: (float(wt[result.mask].mean()) if result.n_voxels else 0.0)
            for el, wt in result.weight_fractions.items()
        }
        write_json(stage(json_path), {
            **dataclasses.asdict(params),
            "kind": result.kind,
            "factor": "f" if result.kind == "eds" else "z",
            "factors_b_mol_g": {el: float(v) for el, v in result.factors_used.items()},
            "threshold": result.threshold,
            "threshold_method": "esf" if result.esf is not None else "user",
            "volume_voxels": result.n_voxels,
            "voxel_size_A": float(voxel_size),
            "mean_weight_fraction_inside": mean_inside,
            "maps": {el: str(p) for el, p in paths.items()},
            "esf": None if result.esf is None else result.esf.summary(),
        })
    print(f"quantify: {len(paths)} maps ({', '.join(paths)}), threshold {result.threshold:.6g}, "
          f"{result.n_voxels} voxels inside -> {out}")
    return 0
