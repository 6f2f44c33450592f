"""``atomtomo structure``: partial g(r), coordination, bond angles of a list of atoms."""

from __future__ import annotations

from pathlib import Path

from ._common import Outputs, add_force, save_figure, write_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "structure",
        help="structure report of atoms: g(r), coordination, bond angles, too-close atoms",
        description=(
            "Judge a tracing without a ground truth: partial radial distribution functions "
            "g(r) (density from the atoms' convex hull), coordination numbers and bond "
            "angles (bonds: closer than 1.2 × the sum of covalent radii), the "
            "nearest-neighbour distance histogram and the atoms closer than a physical "
            "minimum (0.7 × the covalent bond). Prints the first g(r) peak of each pair."
        ),
    )
    p.add_argument("atoms", metavar="ATOMS.xyz", help="atoms, XYZ (Å)")
    p.add_argument("--json", default=None, metavar="OUT.json", help="write the full report")
    p.add_argument("--plot", default=None, metavar="OUT.png",
                   help="plot g(r), nearest neighbours, bond angles and coordination")
    p.add_argument("--r-max-A", type=float, default=8.0, metavar="Å",
                   help="largest distance of g(r) in Å (default 8)")
    p.add_argument("--dr-A", type=float, default=0.05, metavar="Å",
                   help="g(r) bin width in Å (default 0.05)")
    add_force(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import io
    from ..core.trace._structure import plot_structure, structure_report

    outs = Outputs(args.force, (args.atoms,))
    if args.json:
        outs.file(args.json, "--json", suffix=".json")
    if args.plot:
        outs.file(args.plot, "--plot")
    atoms = io.read_xyz(args.atoms)
    rep = structure_report(atoms, r_max=args.r_max_A, dr=args.dr_A)
    with outs.writing() as stage:
        if args.json:
            write_json(stage(args.json), {"source": str(Path(args.atoms))} | rep.to_dict())
        if args.plot:
            save_figure(plot_structure(rep, title=Path(args.atoms).name), stage(args.plot))
    print(f"{rep.n_atoms} atoms (" + ", ".join(f"{e} {c}" for e, c in rep.counts.items()) + ")")
    print("first g(r) peak: " + ", ".join(
        f"{k} {v:.2f} A" if v is not None else f"{k} none" for k, v in rep.first_peak_A.items()))
    print("coordination: " + ", ".join(f"{k} {v:.2f}" for k, v in rep.coordination.items()
                                       if v > 0))
    print("mean bond angle: " + (", ".join(f"{k} {v:.1f} deg"
                                           for k, v in rep.angle_mean_deg.items()) or "none"))
    print(f"nearest neighbour median {rep.nn_median_A:.2f} A; {rep.n_atoms_too_close} atoms in "
          f"{rep.n_close_pairs} pairs closer than the physical minimum")
    return 0
