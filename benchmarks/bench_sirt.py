"""Time one SIRT iteration: napari-atomtomo vs ASTRA's CPU SIRT on the same problem.

Problems (issue 3):
- 2D: a 97² slice, 31 tilts −75…75° in 5° steps (paper 002's sinogram size);
- 3D: a 100³ volume, the 55 equally sloped tilts of a ±72.6° series; ASTRA has no CPU
  3D algorithm, so it runs its 2D SIRT slice by slice (one process), as a user would.

Both use a linear-interpolation (Joseph) projector, unit detector pixels, λ = 1 and a
non-negativity constraint (ASTRA ``MinConstraint = 0``). ASTRA's angle sign is the
opposite of ours: an ``(z, x)`` slice given to ASTRA as its image with angles −θ gives
our projections at θ (checked below on an asymmetric phantom before timing). The
relative difference of the two reconstructions after the same number of iterations is
printed as a correctness check.

Our SIRT picks its numba thread count per call (``core.sirt.ThreadPolicy``): 1 thread
below ``PARALLEL_MIN_WORK``, else the faster of 1 and all threads timed on the first
iterations; the "1 thread" rows force one thread.

Run: ``.venv/bin/python benchmarks/bench_sirt.py [--iterations 50] [--quick]``.
Timings on a shared machine are noisy; compare the columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt

try:
    import astra
except ImportError:  # pragma: no cover - the benchmark extra is optional
    astra = None


def phantom_3d(n_z: int, n_y: int, n_x: int, seed: int = 0) -> np.ndarray:
    """Asymmetric blobs whose layout changes along y (float32, non-negative)."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(
        np.arange(n_z) - (n_z - 1) / 2, np.arange(n_y) - (n_y - 1) / 2,
        np.arange(n_x) - (n_x - 1) / 2, indexing="ij",
    )
    vol = np.zeros((n_z, n_y, n_x), dtype=np.float32)
    m = min(n_z, n_x)
    for _ in range(12):
        c = rng.uniform(-0.3, 0.3, 3) * (n_z, n_y, n_x)
        r = rng.uniform(0.06, 0.16, 3) * (m, max(n_y, 2) * 2, m)
        vol += rng.uniform(0.5, 2.0) * (
            ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2 < 1
        )
    return vol


# ---------------------------------------------------------------------------- ASTRA
def astra_forward(slice_zx: np.ndarray, angles_deg) -> np.ndarray:
    vg = astra.create_vol_geom(*slice_zx.shape)
    theta = np.radians(-np.asarray(angles_deg))  # ASTRA's angle sign is opposite to ours
    pg = astra.create_proj_geom("parallel", 1.0, slice_zx.shape[1], theta)
    pid = astra.create_projector("linear", pg, vg)
    sid, sino = astra.create_sino(slice_zx, pid)
    astra.data2d.delete(sid)
    astra.projector.delete(pid)
    return sino


def astra_sirt(stack, angles_deg, n_iter: int, n_z: int, rows) -> tuple[np.ndarray, float]:
    """ASTRA CPU SIRT on the y ``rows`` of ``stack``, slice by slice.

    Returns the ``(z, len(rows), x)`` volume and the seconds spent (setup included).
    """
    n_a, n_y, n_u = stack.shape
    vg = astra.create_vol_geom(n_z, n_u)
    pg = astra.create_proj_geom("parallel", 1.0, n_u, np.radians(-np.asarray(angles_deg)))
    pid = astra.create_projector("linear", pg, vg)
    out = np.zeros((n_z, len(rows), n_u), dtype=np.float32)
    t0 = time.perf_counter()
    for out_j, j in enumerate(rows):
        sid = astra.data2d.create("-sino", pg, np.ascontiguousarray(stack[:, j, :]))
        rid = astra.data2d.create("-vol", vg, 0.0)
        cfg = astra.astra_dict("SIRT")
        cfg.update(ProjectorId=pid, ProjectionDataId=sid, ReconstructionDataId=rid)
        cfg["option"] = {"MinConstraint": 0.0}
        aid = astra.algorithm.create(cfg)
        astra.algorithm.run(aid, n_iter)
        out[:, out_j, :] = astra.data2d.get(rid)
        astra.algorithm.delete(aid)
        astra.data2d.delete([sid, rid])
    seconds = time.perf_counter() - t0
    astra.projector.delete(pid)
    return out, seconds


# ---------------------------------------------------------------------------- ours
def ours_sirt(stack, angles, n_iter: int, threads: int) -> tuple[np.ndarray, float]:
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        reconstruct_sirt(stack, angles, SirtParams(n_iter=2))  # JIT / cache warm-up
        t0 = time.perf_counter()
        vol = reconstruct_sirt(stack, angles, SirtParams(n_iter=n_iter, yield_every=n_iter)).volume
        return vol, time.perf_counter() - t0
    finally:
        numba.set_num_threads(previous)


def check_angle_convention(angles) -> float:
    truth = phantom_3d(41, 1, 41, seed=3)
    ours = forward_project(truth, angles)[:, 0, :]
    theirs = astra_forward(truth[:, 0, :], angles)
    return float(np.abs(ours - theirs).max() / np.abs(ours).max())


def run_case(label, shape, angles, args, threads_list, rows):
    """Correctness after ``args.iterations``; timing: best of ``args.rounds`` interleaved runs."""
    truth = phantom_3d(*shape)
    stack = forward_project(truth, angles)
    n_y = shape[1]
    # ASTRA runs slice by slice, so its time is linear in the slices: on big volumes time
    # an evenly spaced subset and scale up (stated in the table).
    subset = np.unique(np.linspace(0, n_y - 1, min(n_y, args.astra_slices)).astype(int))
    scale = n_y / subset.size
    ours, _ = ours_sirt(stack, angles, args.iterations, max(threads_list))
    best: dict[str, float] = {}
    for _ in range(args.rounds):  # interleaved, so load changes hit every column alike
        for threads in threads_list:
            what = "1 thread" if threads == 1 else f"auto ≤ {threads} threads"
            _, sec = ours_sirt(stack, angles, args.time_iterations, threads)
            key = f"napari-atomtomo, {what}"
            best[key] = min(sec, best.get(key, np.inf))
        if astra is not None:
            _, sec = astra_sirt(stack, angles, args.time_iterations, shape[0], subset)
            key = "ASTRA CPU SIRT linear, slice by slice" + (
                f" (×{scale:.0f} from {subset.size})" if scale > 1 else ""
            )
            best[key] = min(sec * scale, best.get(key, np.inf))
    astra_t = next((v for k, v in best.items() if k.startswith("ASTRA")), None)
    for what, sec in best.items():
        per_it = sec / args.time_iterations
        speed = f"{astra_t / sec:.1f}×" if astra_t else "–"
        rows.append(f"| {label:<11} | {what:<52} | {per_it * 1e3:>14.2f} ms | {speed:>8} |")
    if astra is not None:
        ref, _ = astra_sirt(stack, angles, args.iterations, shape[0], subset)
        mine, true = ours[:, subset], truth[:, subset]
        diff = np.linalg.norm(mine - ref) / np.linalg.norm(ref)
        err_o = np.linalg.norm(mine - true) / np.linalg.norm(true)
        err_a = np.linalg.norm(ref - true) / np.linalg.norm(true)
        what = "||ours − ASTRA|| / ||ASTRA||"
        rows.append(f"| {label:<11} | {what:<52} | {diff:>17.1e} | {'':>8} |")
        errors = f"{err_o:.4f} / {err_a:.4f}"
        what = "error vs truth, ours / ASTRA"
        rows.append(f"| {label:<11} | {what:<52} | {errors:>17} | {'':>8} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=50, help="for the correctness check")
    parser.add_argument("--time-iterations", type=int, default=20, help="per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs; the best counts")
    parser.add_argument("--astra-slices", type=int, default=20, help="3D slices ASTRA times")
    parser.add_argument("--quick", action="store_true", help="3D at 64³, 1 round, 10 iterations")
    args = parser.parse_args(argv)
    n3 = 100
    if args.quick:
        n3, args.rounds, args.iterations, args.time_iterations = 64, 1, 10, 10
    threads_list = sorted({1, numba.config.NUMBA_NUM_THREADS})
    angles_2d = np.arange(-75.0, 75.1, 5.0)
    angles_3d = equally_sloped_angles(32, 72.6)
    if astra is None:
        print("astra-toolbox is not installed: timing napari-atomtomo only")
    else:
        print(f"angle convention check (ASTRA at −θ vs ours at θ, max rel. diff): "
              f"{check_angle_convention(angles_3d):.1e}")
    rows: list[str] = []
    run_case(f"2D 97²×{angles_2d.size}", (97, 1, 97), angles_2d, args, threads_list, rows)
    run_case(f"3D {n3}³×{angles_3d.size}", (n3, n3, n3), angles_3d, args, threads_list, rows)
    print(f"\nSIRT, non-negative, λ = 1; time per iteration = best of {args.rounds} runs of "
          f"{args.time_iterations} iterations; differences after {args.iterations} iterations "
          f"(numba threads available: {numba.config.NUMBA_NUM_THREADS})")
    print(f"| {'problem':<11} | {'what':<52} | {'per iteration':>17} | {'speed-up':>8} |")
    print(f"| {'-' * 11} | {'-' * 52} | {'-' * 17} | {'-' * 8} |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
