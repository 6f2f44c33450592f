"""Benchmark: trace 1002 atoms (334 Si + 668 O) in a 100³ volume at 0.5 Å voxels.

The volume holds a Gaussian (σ = 0.4 Å) per atom with peak ∝ Z^1.8 (Si 115.5, O 42.2) at
the positions of ``src/napari_atomtomo/data/silica_1002.xyz`` if it exists, else of a
random 1002-atom set with a minimum separation of 1.6 Å in a 24.7 Å cube (the size of the
paper's particle), plus Gaussian noise of 2 % of the O peak. Prints the time of each stage
(warm, the best of ``--repeat`` runs), the numba thread count, and what was found.
Target (issue 6): < 5 s on 2 cores.

    .venv/bin/python benchmarks/bench_trace.py [--threads 1,2] [--repeat 3]

``--figures docs/img`` also writes the Fig. 3- and Fig. 5-style plots of docs/tracing.md
(``trace_peaks.png``, ``trace_deviation.png``) for 10 % noise (automatic floor) and 15 %
noise (the list cut at the known 1002 atoms), and prints their numbers.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numba
import numpy as np

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.compare import compare_atoms
from napari_atomtomo.core.trace import (
    TraceParams,
    estimate_noise_floor,
    find_local_maxima,
    refine_peaks,
    split_elements,
    suppress_close_peaks,
    trace_atoms,
)
from napari_atomtomo.core.trace._refine import MAX_GAIN

SHAPE = (100, 100, 100)
VOXEL_A = 0.5
SIGMA_A = 0.4
PEAK = {"Si": 14**1.8, "O": 8**1.8}
SILICA = Path(__file__).resolve().parents[1] / "src/napari_atomtomo/data/silica_1002.xyz"


def random_silica(seed: int = 0, box_A: float = 24.7, min_dist_A: float = 1.6) -> Atoms:
    """334 Si + 668 O at random positions at least ``min_dist_A`` apart, centred in the volume."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    pts = np.zeros((0, 3))
    while len(pts) < 1002:
        cand = rng.uniform(0, box_A, (4000, 3))
        for c in cand:
            if len(pts) == 1002:
                break
            if len(pts) == 0 or cKDTree(pts).query(c)[0] >= min_dist_A:
                pts = np.vstack([pts, c])
    centre = (np.array(SHAPE[::-1]) - 1) / 2 * VOXEL_A
    pts += centre - pts.mean(axis=0)
    return Atoms(np.array(["Si"] * 334 + ["O"] * 668), pts)


def load_atoms() -> tuple[Atoms, str]:
    if SILICA.exists():
        from napari_atomtomo.io import read_xyz

        atoms = read_xyz(SILICA)
        centre = (np.array(SHAPE[::-1]) - 1) / 2 * VOXEL_A
        pos = atoms.positions - atoms.positions.mean(axis=0) + centre
        return Atoms(atoms.elements, pos), f"{SILICA.name}"
    return random_silica(), "random 1002-atom set (1.6 Å minimum separation)"


def gaussian_volume(atoms: Atoms, noise_frac: float = 0.02, seed: int = 1) -> np.ndarray:
    vol = np.zeros(SHAPE)
    sig = SIGMA_A / VOXEL_A
    r = int(np.ceil(4 * sig))
    for el, p in zip(atoms.elements, atoms.positions_zyx(VOXEL_A)):
        c = np.round(p).astype(int)
        sl = tuple(slice(ci - r, ci + r + 1) for ci in c)
        g = np.ogrid[sl]
        vol[sl] += PEAK[str(el)] * np.exp(
            -((g[0] - p[0]) ** 2 + (g[1] - p[1]) ** 2 + (g[2] - p[2]) ** 2) / (2 * sig**2))
    vol += np.random.default_rng(seed).normal(0, noise_frac * PEAK["O"], SHAPE)
    return vol.astype(np.float32)


def best_of(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def write_figures(folder: Path) -> None:
    from matplotlib.figure import Figure

    from napari_atomtomo.core.compare import plot_deviations
    from napari_atomtomo.core.trace import plot_peak_intensities

    atoms, source = load_atoms()
    cases = [(0.10, None), (0.15, 1002)]
    peaks = Figure(figsize=(10, 3.4), layout="constrained")
    devs = Figure(figsize=(10, 3.4), layout="constrained")
    print(f"figures ({source}):")
    for k, (noise, n_expected) in enumerate(cases):
        vol = gaussian_volume(atoms, noise_frac=noise)
        res = trace_atoms(vol, VOXEL_A, TraceParams(), n_expected=n_expected)
        cmp = compare_atoms(res.atoms, atoms, resolution_A=1.0)
        label = (f"noise {noise:.0%} of the O peak, "
                 + ("automatic floor" if n_expected is None else f"n_expected={n_expected}"))
        plot_peak_intensities(res, ax=peaks.add_subplot(1, 2, k + 1), title=label)
        plot_deviations(cmp, ax=devs.add_subplot(1, 2, k + 1), title=label)
        d = cmp.to_dict()
        print(f"  {label}: traced {res.atoms.counts()}, floor {res.noise_floor:.1f}, "
              f"threshold {res.split_threshold:.1f}, misplaced {d['misplaced_by_element']}, "
              f"unmatched true {d['n_unmatched_true']}, RMSD {d['rmsd_A']:.3f} Å")
    folder.mkdir(parents=True, exist_ok=True)
    peaks.savefig(folder / "trace_peaks.png", dpi=110)
    devs.savefig(folder / "trace_deviation.png", dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", default="1,2", help="numba thread counts to try, e.g. 1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--figures", default=None, metavar="DIR",
                    help="write trace_peaks.png and trace_deviation.png into DIR")
    args = ap.parse_args()
    if args.figures:
        write_figures(Path(args.figures))
    atoms, source = load_atoms()
    vol = gaussian_volume(atoms)
    params = TraceParams(min_distance_A=1.2, elements=("Si", "O"))
    trace_atoms(vol, VOXEL_A, params)  # JIT warm-up (cache=True makes later runs start warm)
    print(f"atoms: {source}; volume {SHAPE} float32 at {VOXEL_A} Å, σ = {SIGMA_A} Å, "
          f"2 % noise; machine shared, read every time as ±25 %")
    print("| threads | noise floor | local maxima | refinement | suppression | split | "
          "trace_atoms total | candidates | atoms | Si/O | misplaced | RMSD Å |")
    print("| --- " * 12 + "|")
    for n_threads in [int(t) for t in args.threads.split(",")]:
        numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
        t_floor, floor = best_of(lambda: estimate_noise_floor(vol), args.repeat)
        pre = floor - (1 - 1 / MAX_GAIN) * abs(floor)  # as trace_atoms: cut after the fit
        t_max, peaks = best_of(lambda: find_local_maxima(vol, pre), args.repeat)
        t_ref, (pos, inten, _, _, _) = best_of(lambda: refine_peaks(vol, peaks, "gaussian"),
                                            args.repeat)
        t_nms, kept = best_of(lambda: suppress_close_peaks(pos[:, ::-1] * VOXEL_A, inten, 1.2),
                              args.repeat)
        t_split, _ = best_of(lambda: split_elements(inten[kept], 2), args.repeat)
        t_all, res = best_of(lambda: trace_atoms(vol, VOXEL_A, params), args.repeat)
        cmp = compare_atoms(res.atoms, atoms, resolution_A=1.0)
        counts = res.atoms.counts()
        print(f"| {n_threads} | {t_floor * 1e3:.0f} ms | {t_max * 1e3:.0f} ms | "
              f"{t_ref * 1e3:.0f} ms | {t_nms * 1e3:.1f} ms | {t_split * 1e3:.1f} ms | "
              f"{t_all:.2f} s | {peaks.shape[0]} | {len(res.atoms)} | "
              f"{counts.get('Si', 0)}/{counts.get('O', 0)} | {cmp.n_misplaced} | "
              f"{cmp.rmsd_A:.3f} |")


if __name__ == "__main__":
    main()
