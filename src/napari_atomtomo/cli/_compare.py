"""``atomtomo compare``: traced atoms against the true structure (deviations, misplaced)."""

from __future__ import annotations

from pathlib import Path

from ._common import Outputs, add_force, save_figure, write_json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="compare traced atoms with the true structure",
        description=(
            "Match traced atoms one to one with the true ones (Hungarian assignment after "
            "removing a global translation), then report per-element counts, atoms misplaced "
            "(farther than --resolution-A or of the wrong element) and the RMSD of the rest. "
            "Atom files are XYZ or CSV (element,x,y,z,... in Å)."
        ),
    )
    p.add_argument("traced", metavar="TRACED.xyz", help="traced atoms (.xyz or .csv)")
    p.add_argument("truth", metavar="TRUTH.xyz", help="true atoms (.xyz or .csv)")
    p.add_argument("--resolution-A", type=float, default=1.0, metavar="Å",
                   help="a deviation beyond this many Å counts as misplaced (default 1.0)")
    p.add_argument("--no-offset", action="store_true",
                   help="do not remove a global translation between the two frames")
    p.add_argument("--json", default=None, metavar="OUT.json",
                   help="write the summary and the per-atom deviations as JSON")
    p.add_argument("--plot", default=None, metavar="OUT.png",
                   help="plot the deviation of every traced atom (Fig. 5 style)")
    add_force(p)
    p.set_defaults(func=run)


def read_atoms(path):
    """Atoms from an ``.xyz`` or ``.csv`` file (by suffix)."""
    from .. import io

    suffix = Path(path).suffix.lower()
    if suffix == ".xyz":
        return io.read_xyz(path)
    if suffix == ".csv":
        return io.read_atoms_csv(path)
    raise ValueError(f"{path} must be an .xyz or .csv atom file, got suffix {suffix!r}")


def format_table(result) -> str:
    """The short per-element table printed by ``atomtomo compare``."""
    d = result.to_dict()
    names = list(dict.fromkeys([*d["counts_true"], *d["counts_traced"]]))
    rows = [("element", "traced", "true", "misplaced")]
    for e in names:
        rows.append((e, d["counts_traced"].get(e, 0), d["counts_true"].get(e, 0),
                     d["misplaced_by_element"].get(e, 0)))
    rows.append(("total", d["n_traced"], d["n_true"], d["n_misplaced"]))
    lines = [f"{a:<8} {b:>7} {c:>7} {m:>10}" for a, b, c, m in rows]
    rmsd = "n/a" if d["rmsd_A"] is None else f"{d['rmsd_A']:.3f} Å"
    off = ", ".join(f"{v:.3f}" for v in d["offset_A"])
    lines.append(f"misplaced = deviation > {d['resolution_A']:g} Å "
                 f"({d['n_beyond_resolution']}) or wrong element ({d['n_wrong_element']})")
    lines.append(f"RMSD of the correctly placed: {rmsd}; offset removed (x, y, z): ({off}) Å")
    lines.append(f"unmatched: {d['n_unmatched_traced']} traced, {d['n_unmatched_true']} true")
    return "\n".join(lines)


def run(args) -> int:
    from ..core.compare import compare_atoms
    from ..plots import plot_deviations

    outs = Outputs(args.force, (args.traced, args.truth))
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path:
            outs.file(path, option)
    traced, truth = read_atoms(args.traced), read_atoms(args.truth)
    res = compare_atoms(traced, truth, resolution_A=args.resolution_A,
                        remove_offset=not args.no_offset)
    print(format_table(res))
    with outs.writing() as stage:
        if args.json:
            summary = res.to_dict(per_atom=True)
            summary = {"traced": str(Path(args.traced)), "truth": str(Path(args.truth))} | summary
            write_json(stage(args.json), summary)
        if args.plot:
            title = f"{Path(args.traced).name} vs {Path(args.truth).name}"
            save_figure(plot_deviations(res, title=title), stage(args.plot))
    return 0
