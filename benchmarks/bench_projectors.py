"""Benchmark: the Joseph projector pair against ASTRA's CPU ``linear`` projector.

Cases (issue 2): a 100³ volume with the 55 equally sloped angles of ±72.6°, and a 2D
97 × 97 slice with 31 angles (−75…75° in 5° steps, paper 002). Ours runs in its internal
layout (tilt axis innermost, as the iterative solvers use it) with 1 and 2 numba threads,
and through the public ``(z, y, x)`` API (which adds the layout conversion); ASTRA runs its
2D CPU ``FP`` / ``BP`` algorithms slice by slice on the same data (it has no CPU 3D path).
Times are the median of ``--repeat`` runs after a warm-up; the first call (JIT compile,
or loading numba's cache) is reported separately. The relative difference between our
and ASTRA's projections checks that both solve the same problem.

Geometry mapping: ASTRA's 2D volume is our ``(z, x)`` slice (rows = z); ASTRA's parallel
beam puts a point at ``u = x cos φ − z sin φ``, so ASTRA gets ``φ = −θ`` for our
``u = x cos θ + z sin θ`` (CONVENTIONS.md); detector spacing 1, ``n_u`` columns.

    .venv/bin/python benchmarks/bench_projectors.py [--repeat 7] [--threads 1,2] [--no-astra]

The machine is shared: read the figures as ±25 % unless the load average printed with the
table is near zero.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numba
import numpy as np

from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import ParallelBeamProjector


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def phantom(shape, seed: int = 0) -> np.ndarray:
    """Smooth random blobs plus a little noise: non-trivial and the same for both tools."""
    rng = np.random.default_rng(seed)
    n_z, n_y, n_x = shape
    z, y, x = np.meshgrid(
        np.arange(n_z) - (n_z - 1) / 2,
        np.arange(n_y) - (n_y - 1) / 2,
        np.arange(n_x) - (n_x - 1) / 2,
        indexing="ij",
        sparse=True,
    )
    vol = np.zeros(shape, dtype=np.float32)
    r = 0.3 * min(n_z, n_x)
    for _ in range(20):
        cz, cx = rng.uniform(-r, r, 2)
        cy = rng.uniform(-0.4, 0.4) * n_y
        s = rng.uniform(2.0, 6.0)
        vol += np.exp(-((z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2) / (2 * s * s)).astype(
            np.float32
        )
    vol += 0.01 * rng.random(shape, dtype=np.float32)
    return vol


def bench_ours(vol, angles, threads, repeat):
    rows = []
    proj = ParallelBeamProjector(vol.shape, angles)
    vol_t = proj.to_internal_volume(vol)
    stk_t = proj.new_internal_stack()
    back_t = proj.new_internal_volume()
    t0 = time.perf_counter()
    proj.forward_internal(vol_t, out=stk_t)
    proj.back_internal(stk_t, out=back_t)
    first = time.perf_counter() - t0
    for n in threads:
        numba.set_num_threads(n)
        proj.forward_internal(vol_t, out=stk_t)  # warm-up
        proj.back_internal(stk_t, out=back_t)
        fwd = median_ms(lambda: proj.forward_internal(vol_t, out=stk_t), repeat)
        back = median_ms(lambda: proj.back_internal(stk_t, out=back_t), repeat)
        rows.append((f"ours, internal layout, {n} thread{'s' * (n > 1)}", fwd, back, first))
        first = None
    n = max(threads)
    numba.set_num_threads(n)
    stack = proj.forward(vol)
    fwd = median_ms(lambda: proj.forward(vol), repeat)
    back = median_ms(lambda: proj.back(stack), repeat)
    rows.append((f"ours, public (z, y, x) API, {n} threads", fwd, back, None))
    return rows, stack, proj.back(stack)


def bench_astra(vol, angles, repeat):
    import astra

    n_z, n_y, n_x = vol.shape
    vol_geom = astra.create_vol_geom(n_z, n_x)  # rows = z, columns = x
    proj_geom = astra.create_proj_geom("parallel", 1.0, n_x, np.radians(-np.asarray(angles)))
    projector = astra.create_projector("linear", proj_geom, vol_geom)
    vol_id = astra.data2d.create("-vol", vol_geom, 0.0)
    sino_id = astra.data2d.create("-sino", proj_geom, 0.0)
    algs = {}
    for name in ("FP", "BP"):
        cfg = astra.astra_dict(name)
        cfg["ProjectorId"] = projector
        cfg["ProjectionDataId"] = sino_id
        cfg["ReconstructionDataId" if name == "BP" else "VolumeDataId"] = vol_id
        algs[name] = astra.algorithm.create(cfg)
    stack = np.empty((len(angles), n_y, n_x), dtype=np.float32)
    back = np.empty_like(vol)

    def forward():
        for j in range(n_y):
            astra.data2d.store(vol_id, vol[:, j, :])
            astra.algorithm.run(algs["FP"])
            stack[:, j, :] = astra.data2d.get_shared(sino_id)

    def backward():
        for j in range(n_y):
            astra.data2d.store(sino_id, stack[:, j, :])
            astra.algorithm.run(algs["BP"])
            back[:, j, :] = astra.data2d.get_shared(vol_id)

    t0 = time.perf_counter()
    forward()
    backward()
    first = time.perf_counter() - t0
    fwd = median_ms(forward, repeat)
    bwd = median_ms(backward, repeat)
    forward()
    backward()
    for alg in algs.values():
        astra.algorithm.delete(alg)
    astra.data2d.delete([vol_id, sino_id])
    astra.projector.delete(projector)
    return [("ASTRA 2.x CPU `linear`, slice by slice, 1 thread", fwd, bwd, first)], stack, back


def rel_diff(a, b) -> float:
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure (≥ 5)")
    parser.add_argument("--threads", default="1,2", help="numba thread counts, e.g. 1,2")
    parser.add_argument("--no-astra", action="store_true", help="skip ASTRA")
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    if max(threads) > numba.config.NUMBA_NUM_THREADS:
        parser.error(f"at most {numba.config.NUMBA_NUM_THREADS} numba threads on this machine")

    cases = [
        ("3D 100³ × 55 angles (±72.6°, equally sloped)", (100, 100, 100),
         equally_sloped_angles(32, 72.6)),
        ("2D 97² × 31 angles (−75…75°, 5°)", (97, 1, 97), np.arange(-75.0, 76.0, 5.0)),
    ]
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"numba {numba.__version__}, threading layer chosen at first parallel call")
    print()
    print("| case | implementation | forward ms | back ms | pair ms | first call s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    checks = []
    for label, shape, angles in cases:
        vol = phantom(shape)
        rows, stack, back = bench_ours(vol, angles, threads, args.repeat)
        if not args.no_astra:
            a_rows, a_stack, a_back = bench_astra(vol, angles, args.repeat)
            rows += a_rows
            checks.append((label, rel_diff(stack, a_stack), rel_diff(back, a_back)))
        for name, fwd, bwd, first in rows:
            first_s = "" if first is None else f"{first:.2f}"
            print(f"| {label} | {name} | {fwd:.1f} | {bwd:.1f} | {fwd + bwd:.1f} | {first_s} |")
    print()
    for label, d_fwd, d_back in checks:
        print(f"{label}: ‖ours − ASTRA‖ / ‖ASTRA‖ = {d_fwd:.1e} (forward), "
              f"{d_back:.1e} (back)")
    print(f"load average after: {os.getloadavg()[0]:.2f}; numba threading layer: "
          f"{numba.threading_layer()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
