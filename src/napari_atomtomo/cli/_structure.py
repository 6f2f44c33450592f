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
    from ..core.trace import structure_report

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


def plot_structure(report, title: str = ""):
    """A 2×2 figure: partial g(r), nearest-neighbour histogram, bond angles, coordination."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 7), layout="constrained")
    ax = fig.subplots(2, 2)
    for k, g in report.partial_g.items():
        ax[0, 0].plot(report.r, g, label=k)
    ax[0, 0].set(xlabel="r (Å)", ylabel="g(r)", title="partial radial distribution")
    ax[0, 0].legend(fontsize=8)
    e = report.nn_edges_A
    ax[0, 1].stairs(report.nn_hist, e, fill=True)
    ax[0, 1].set(xlabel="nearest-neighbour distance (Å)", ylabel="atoms",
                 title=f"nearest neighbours; {report.n_atoms_too_close} atoms too close")
    for k, h in report.angle_hist.items():
        ax[1, 0].stairs(h, report.angle_edges_deg, label=k)
    ax[1, 0].set(xlabel="bond angle (°)", ylabel="count", title="bond angles")
    if report.angle_hist:
        ax[1, 0].legend(fontsize=8)
    keys = list(report.coordination)
    ax[1, 1].bar(range(len(keys)), [report.coordination[k] for k in keys])
    ax[1, 1].set_xticks(range(len(keys)), keys, rotation=45, fontsize=8)
    ax[1, 1].set(ylabel="mean neighbours", title="coordination (A-B: B around A)")
    if title:
        fig.suptitle(title)
    return fig
