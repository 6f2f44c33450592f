"""Benchmark: the amorphous SiO2 melt-and-quench (334 Si + 668 O, 24.7 Å cube) per seed.

Prints, per seed, the wall time of ``generate_silica`` (warm JIT), the time per MD step,
and the structure numbers of issue 4 (Si–O bond mean ± std and the fraction within
1.61 ± 0.05 Å, four-coordinated Si and two-coordinated O counted with periodic images,
shortest Si–O / O–O / Si–Si, density, partial-RDF peaks). Target: < 60 s per structure
on 2 cores.

    .venv/bin/python benchmarks/bench_silica_structure.py [--seeds 0 1 2] [--threads 2]
        [--schedule default|test] [--figure docs/img/silica_rdf.png]
        [--ship src/napari_atomtomo/data/silica_1002.xyz --force]

``--schedule test`` uses the shorter schedule of ``tests/core/test_silica_structure.py``.
``--ship PATH`` writes the first seed's structure as the shipped sample (reconstruction
frame of a 100³ volume of 0.5 Å voxels); ``--figure PATH`` plots the partial RDFs of the
first seed.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from napari_atomtomo.core.simulate.silica_structure import (
    SILICA_BOX_A,
    MeltQuenchSchedule,
    _distances,
    generate_silica,
    partial_rdf,
    silica_statistics,
)

PAIRS = (("Si", "O"), ("O", "O"), ("Si", "Si"))
TEST_SCHEDULE = MeltQuenchSchedule(melt_ps=1.0, quench_ps=4.0, cool_ps=1.0, fire_steps=600)


def rdf_peak(atoms, pair) -> float:
    """Position of the highest bin of g(r) (0.02 Å bins)."""
    r, g = partial_rdf(atoms, pair, SILICA_BOX_A)
    return float(r[np.argmax(g)])


def structure_numbers(atoms) -> dict:
    st = silica_statistics(atoms, box=SILICA_BOX_A)
    d = _distances(atoms.positions, SILICA_BOX_A)
    si = atoms.elements == "Si"
    d_so = d[np.ix_(si, ~si)]
    bonds = d_so[d_so < 2.0]
    peaks = [rdf_peak(atoms, pair) for pair in PAIRS]
    return {"stats": st, "within": float(np.mean(np.abs(bonds - 1.61) <= 0.05)),
            "finite": silica_statistics(atoms, box=None), "peaks": peaks}


def plot_rdf(atoms, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    for pair, target in zip(PAIRS, (1.61, 2.63, 3.1)):
        r, g = partial_rdf(atoms, pair, SILICA_BOX_A, r_max=8.0, dr=0.02)
        line, = ax.plot(r, g, lw=1.2, label=f"{pair[0]}–{pair[1]} (peak {rdf_peak(atoms, pair):.2f} Å)")
        ax.axvline(target, color=line.get_color(), ls=":", lw=0.8)
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("g(r)")
    ax.set_xlim(0, 8)
    ax.set_title("Partial RDFs, shipped SiO2 (dotted: paper 000's peaks)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=numba.config.NUMBA_NUM_THREADS)
    ap.add_argument("--schedule", choices=("default", "test"), default="default")
    ap.add_argument("--figure", default=None, help="write the RDF plot of the first seed")
    ap.add_argument("--ship", default=None, help="write the first seed as the shipped XYZ")
    ap.add_argument("--force", action="store_true", help="overwrite --ship")
    args = ap.parse_args()
    numba.set_num_threads(args.threads)
    schedule = MeltQuenchSchedule() if args.schedule == "default" else TEST_SCHEDULE
    n_steps = sum(s[3] for s in schedule.stages())
    tiny = MeltQuenchSchedule(melt_ps=0.01, quench_ps=0.01, cool_ps=0.01, fire_steps=2)
    generate_silica(seed=0, schedule=tiny)  # compile / load the JIT cache
    print(f"schedule {args.schedule}: {schedule}")
    print(f"{n_steps} MD steps + {schedule.fire_steps} FIRE steps; numba threads "
          f"{args.threads}; quench rate {(schedule.t_melt - schedule.t_glass) / schedule.quench_ps:.0f}"
          f" K/ps, then {(schedule.t_glass - schedule.t_final) / max(schedule.cool_ps, 1e-9):.0f} K/ps")
    print()
    print("| seed | time (s) | ms/MD step | Si–O (Å) | within ±0.05 | Si 4-fold | O 2-fold "
          "| finite cube Si4 / O2 | min Si–O, O–O, Si–Si (Å) | density | RDF peaks Si–O, O–O, Si–Si (Å) |")
    print("| --- " * 11 + "|")
    first = None
    for seed in args.seeds:
        t0 = time.perf_counter()
        atoms = generate_silica(seed=seed, schedule=schedule)
        elapsed = time.perf_counter() - t0
        first = atoms if first is None else first
        m = structure_numbers(atoms)
        st, fin = m["stats"], m["finite"]
        print(f"| {seed} | {elapsed:.1f} | {1e3 * elapsed / (n_steps + schedule.fire_steps):.2f} "
              f"| {st.si_o_mean_A:.3f} ± {st.si_o_std_A:.3f} | {100 * m['within']:.1f} % "
              f"| {100 * st.frac_si_4fold:.1f} % | {100 * st.frac_o_2fold:.1f} % "
              f"| {100 * fin.frac_si_4fold:.0f} / {100 * fin.frac_o_2fold:.0f} % "
              f"| {st.min_si_o_A:.2f}, {st.min_o_o_A:.2f}, {st.min_si_si_A:.2f} "
              f"| {st.density_g_cm3:.2f} | {', '.join(f'{p:.2f}' for p in m['peaks'])} |",
              flush=True)
    if args.figure:
        plot_rdf(first, args.figure)
    if args.ship:
        from napari_atomtomo import io
        from napari_atomtomo.core.simulate.haadf import centre_atoms

        shipped = centre_atoms(first, 100, 0.5)
        io.write_xyz(args.ship, shipped, force=args.force, comment=(
            f"amorphous SiO2, napari-atomtomo generate_silica seed={args.seeds[0]}; frame: "
            "origin at voxel (0,0,0) centre of a 100^3 volume of 0.5 A voxels; periodic "
            f"parent cube {SILICA_BOX_A} A"))
        print(f"wrote {args.ship}")


if __name__ == "__main__":
    main()
