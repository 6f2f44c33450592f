"""EST benchmark: 400 iterations (200 + 200), 55 projections of 100 × 100 px, 100 slices.

Prints a table: EST (total, per iteration, setup), the Fourier-gridding method on the
same data, SIRT (core.sirt) for the same wall time, relative errors against the phantom,
and the cancellation latency (time from "consumer stops" to generator return, and the
longest gap between two yields). Run: ``.venv/bin/python benchmarks/bench_est.py [--size 100]``.
The machine is shared: read every figure as ±25 %.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from napari_atomtomo.core.est import (
    EstParams,
    GriddingParams,
    iter_est,
    reconstruct_est,
    reconstruct_fourier_gridding,
)
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project


def blob_volume(n: int, seed: int = 0, n_blobs: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[0:n, 0:n, 0:n] - (n - 1) / 2
    vol = np.zeros((n, n, n), np.float32)
    for _ in range(n_blobs):
        c = rng.uniform(-0.3 * n, 0.3 * n, 3)
        s = rng.uniform(1.0, 2.5)
        vol += np.exp(-((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) / (2 * s * s))
    return vol


def rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--sirt", action="store_true", help="also run SIRT for the same wall time")
    ap.add_argument("--figure", default=None, metavar="DIR",
                    help="only make the EST-vs-SIRT figures (docs/img) on 4 slices and exit")
    args = ap.parse_args()
    if args.figure:
        make_figure(args.figure, args.size)
        return
    n = args.size
    angles = equally_sloped_angles(32, 72.6)
    vol = blob_volume(n)
    stack = forward_project(vol, angles)
    rows = []
    p = EstParams(n_iter=args.iterations, n_iter_tight=args.iterations,
                  loose_support_margin=n // 10)
    reconstruct_est(stack[:, :2], angles, EstParams(n_iter=2, n_iter_tight=0))  # warm up
    t0 = time.perf_counter()
    first = []
    res = reconstruct_est(stack, angles, p,
                          callback=lambda s: first.append(time.perf_counter()) if not first else None)
    t_est = time.perf_counter() - t0
    setup = first[0] - t0
    n_it = p.n_iter + p.n_iter_tight
    rows.append(("EST (ours)", t_est, (t_est - setup) / n_it, setup, rel(res.volume, vol),
                 res.errors[-1]))
    gp = GriddingParams(n_iter=args.iterations, n_iter_tight=args.iterations,
                        loose_support_margin=n // 10)
    t0 = time.perf_counter()
    g = reconstruct_fourier_gridding(stack, angles, gp)
    t_g = time.perf_counter() - t0
    rows.append(("Fourier gridding (ours)", t_g, float("nan"), float("nan"), rel(g.volume, vol),
                 g.errors[-1]))
    if args.sirt:
        from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt

        reconstruct_sirt(stack[:, :2], angles, SirtParams(n_iter=2))
        t0 = time.perf_counter()
        reconstruct_sirt(stack, angles, SirtParams(n_iter=10))
        per = (time.perf_counter() - t0) / 10
        k = max(1, int(t_est / per))
        t0 = time.perf_counter()
        s = reconstruct_sirt(stack, angles, SirtParams(n_iter=k))
        rows.append((f"SIRT (core.sirt), {k} it", time.perf_counter() - t0, per, 0.0,
                     rel(s.volume, vol), float("nan")))
    # cancellation: longest gap between yields, and close() latency
    gen = iter_est(stack, angles, p)
    gaps, last = [], None
    for i, _ in enumerate(gen):
        now = time.perf_counter()
        if last is not None:
            gaps.append(now - last)
        last = now
        if i == 20:
            break
    t0 = time.perf_counter()
    gen.close()
    t_close = time.perf_counter() - t0
    print(f"\n{n} slices of {n}×{n} px, {len(angles)} projections (±72.6°), "
          f"{n_it} iterations where applicable\n")
    print("| method | wall s | s / iteration | setup s | rel. error vs phantom | final metric |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, t, per, su, e, m in rows:
        print(f"| {name} | {t:.1f} | {per:.3f} | {su:.2f} | {e:.4f} | {m:.4g} |")
    print(f"\ncancellation: longest gap between yields {max(gaps) * 1e3:.0f} ms, "
          f"close() returned in {t_close * 1e3:.2f} ms")


def make_figure(folder: str, n: int) -> None:
    """EST vs SIRT at the same wall time on a few slices; real and Fourier space."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt

    angles = equally_sloped_angles(32, 72.6)
    vol = blob_volume(n)[:, n // 2 - 2:n // 2 + 2].copy()
    stack = forward_project(vol, angles)
    reconstruct_sirt(stack[:, :1], angles, SirtParams(n_iter=2))
    t0 = time.perf_counter()
    est = reconstruct_est(stack, angles, EstParams(loose_support_margin=n // 10))
    t_est = time.perf_counter() - t0
    t0 = time.perf_counter()
    reconstruct_sirt(stack, angles, SirtParams(n_iter=20))
    k = max(1, int(t_est / ((time.perf_counter() - t0) / 20)))
    sirt = reconstruct_sirt(stack, angles, SirtParams(n_iter=k)).volume
    e_est, e_sirt = rel(est.volume, vol), rel(sirt, vol)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    imgs = [("phantom", vol), (f"EST 200+200 it, error {e_est:.3f}", est.volume),
            (f"SIRT {k} it (same {t_est:.1f} s), error {e_sirt:.3f}", sirt)]
    fig, ax = plt.subplots(2, 3, figsize=(12, 8))
    for i, (title, v) in enumerate(imgs):
        sl = v[:, 1, :]
        ax[0, i].imshow(sl, cmap="gray", vmin=0, vmax=vol.max())
        ax[0, i].set_title(title, fontsize=9)
        ax[0, i].set_xlabel("x (px)")
        ax[0, i].set_ylabel("z (px)")
        spec = np.fft.fftshift(np.abs(np.fft.fft2(sl)))
        ax[1, i].imshow(np.log10(spec + 1e-3), cmap="magma", vmin=-2, vmax=3)
        ax[1, i].set_title("log10 |F| (k_z up, k_x across)", fontsize=9)
        ax[1, i].set_xticks([])
        ax[1, i].set_yticks([])
    fig.suptitle("55 equally sloped projections, ±72.6°, noise free: the missing wedge is the "
                 "vertical double cone in |F|")
    fig.tight_layout()
    fig.savefig(out / "est_vs_sirt.png", dpi=80)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(est.errors)
    ax.axvline(200, color="gray", ls=":")
    ax.set_xlabel("iteration (round 2 after the dotted line: tight support)")
    ax.set_ylabel("relative error on the measured lines")
    fig.tight_layout()
    fig.savefig(out / "est_errors.png", dpi=80)
    print(f"EST {t_est:.1f} s error {e_est:.4f}; SIRT {k} it error {e_sirt:.4f}; "
          f"figures in {out}")


if __name__ == "__main__":
    main()
