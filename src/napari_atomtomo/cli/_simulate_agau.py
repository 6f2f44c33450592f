"""``atomtomo simulate agau OUT_DIR``: the Ag–Au core–shell phantom of paper 002."""

from __future__ import annotations

from ..core.simulate.agau import AgAuParams
from ._common import Outputs, add_force, write_json
from ._params import add_param_options, read_params


def register(kinds) -> None:
    p = kinds.add_parser(
        "agau",
        help="the Ag-Au core-shell phantom of paper 002 (HAADF + EDS sinograms)",
        description=(
            "Simulate paper 002's 2D Ag-Au core-shell particle (core 80 wt% Au, shell 80 wt% "
            "Ag): 97 beam positions of 1.5 nm, 31 tilts -75..75 deg. HAADF from the thin-film "
            "model (Eq. 13-14), EDS counts (Ag La, Au Ma) from Eq. 9 with Poisson noise and a "
            "Gaussian filter of sigma 0.8 px. Writes haadf.mrc, eds_Ag.mrc, eds_Au.mrc, "
            "angles.tlt, phantom_Ag.mrc, phantom_Au.mrc and truth.json to OUT_DIR."
        ),
    )
    p.add_argument("out", metavar="OUT_DIR", help="output data-set folder")
    p.add_argument("--seed", type=int, default=0, help="seed of the Poisson noise (default 0)")
    p.add_argument("--no-filter", action="store_true",
                   help="skip the Gaussian filter (sigma 0.8 px) on the EDS sinograms")
    add_param_options(p, AgAuParams)
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..core.simulate.agau import simulate_agau
    from ..io import DataSet, write_dataset

    params = read_params(AgAuParams, args)
    outs = Outputs(args.force)
    out = outs.folder(args.out, "OUT_DIR")
    for name in ("haadf.mrc", "angles.tlt", "eds_Ag.mrc", "eds_Au.mrc", "phantom_Ag.mrc",
                 "phantom_Au.mrc", "truth.json"):
        outs.expect(out / name)
    ds = simulate_agau(args.seed, params, gaussian_sigma=0.0 if args.no_filter else None)
    with outs.writing() as stage:
        tmp = stage.folder(out)
        write_dataset(tmp, DataSet(ds.haadf, ds.eds, ds.angles_deg, ds.voxel_size,
                                   phantoms=ds.phantoms), force=True)
        write_json(tmp / "truth.json", {"simulator": "agau", **ds.truth})
    r = ds.truth["response_ratios_expected"]
    print(f"simulate agau: {ds.haadf.shape[0]} tilts x {ds.haadf.shape[2]} beam positions, "
          f"voxel {ds.voxel_size:g} Å, expected r_Ag {r['Ag']:.1f}, r_Au {r['Au']:.1f} -> {out}")
    return 0
