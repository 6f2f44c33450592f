"""EST (ours) beside GENFIRE on the same data: 55 projections of 100 × 100 px, 100 slices.

GENFIRE 1.1.11 (PyPI ``genfire``, Pryor et al. 2017) is not a dependency of this project.
It runs in its own virtual environment, outside the repository, through a subprocess::

    python3 -m venv /tmp/genfire-venv
    /tmp/genfire-venv/bin/pip install genfire==1.1.11 pyfftw
    .venv/bin/python benchmarks/bench_genfire.py --genfire-python /tmp/genfire-venv/bin/python

(genfire 1.1.11 imports and runs unchanged with Python 3.11, numpy 2.4, scipy 1.17 and
PyQt5 5.15, which it needs only because it selects matplotlib's Qt5Agg backend on import.)

The data are those of ``bench_est.py``: its blob phantom projected with our
``forward_project`` at the 55 equally sloped angles of ±72.6°. GENFIRE gets them as .npy
files with its own layout and angle convention (see ``to_genfire`` below); it runs its
default reconstruction (``GenfireReconstructor``: oversampling 3, FFT gridding with an
interpolation radius of 0.5 px, the default support = the projection-sized cube,
positivity, resolution extension/suppression) for the same number of iterations as EST
(200 + 200), with R-free off so that it, like EST, uses every measured value. Its one-off
set-up (padding, gridding) and its iteration loop are timed separately. Both
reconstructions are compared with the phantom with ``bench_est.py``'s metric
(‖rec − phantom‖ / ‖phantom‖ over the whole volume).

Run ``--size 32 --iterations 25 --check-sign`` first for a quick check of the geometry (a
few seconds; it also prints the error of GENFIRE with the opposite tilt sign, which must be
clearly worse). The full 100³ run takes GENFIRE about 20 minutes on 2 cores.
The machine is shared: read every timing as ±25 % or worse, and compare within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_est import blob_volume, rel

from napari_atomtomo.core.est import (
    EstParams,
    GriddingParams,
    reconstruct_est,
    reconstruct_fourier_gridding,
)
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project

# Executed by the GENFIRE interpreter. Reads projections/angles/params from the work folder,
# times GENFIRE's gridding and its iteration loop by wrapping the two module functions its
# GenfireReconstructor calls, and writes the reconstruction, its error curve and the times.
GENFIRE_RUNNER = r'''
import contextlib, json, os, sys, time
import numpy as np
work = sys.argv[1]
p = json.load(open(os.path.join(work, "params.json")))
log = open(os.path.join(work, "genfire.log"), "w")
with contextlib.redirect_stdout(log):
    import genfire
    import genfire.reconstruct as gr
    try:
        import pyfftw
        have_fftw = True
    except ImportError:
        have_fftw = False
    if have_fftw:  # GENFIRE hard-codes 6 FFTW threads; use the machine's cores instead
        nt = p["fftw_threads"]
        fft = pyfftw.interfaces.numpy_fft
        gr.rfftn = lambda a: fft.rfftn(a, overwrite_input=True, threads=nt)
        gr.irfftn = lambda a: fft.irfftn(a, overwrite_input=True, threads=nt)
    times = {}
    def timed(name, fn):
        def wrapper(*args, **kw):
            t0 = time.perf_counter()
            out = fn(*args, **kw)
            times[name] = time.perf_counter() - t0
            return out
        return wrapper
    gr.fillInFourierGrid = timed("gridding", gr.fillInFourierGrid)
    gr.reconstruct = timed("iterations", gr.reconstruct)
    projections = np.load(os.path.join(work, "projections.npy"))
    euler = np.load(os.path.join(work, "euler.npy"))
    rec = gr.GenfireReconstructor(
        projections=projections, eulerAngles=euler, numIterations=p["n_iter"],
        oversamplingRatio=p["oversampling"], calculateRfree=False, verbose=False,
        resultsFilename=os.path.join(work, "unused.mrc"))
    t0 = time.perf_counter()
    out = rec.reconstruct()
    times["total"] = time.perf_counter() - t0
np.save(os.path.join(work, "reconstruction.npy"), np.asarray(out["reconstruction"], np.float32))
np.save(os.path.join(work, "errK.npy"), np.asarray(out["errK"]))
times.update(genfire=getattr(genfire, "__version__", "1.1.11"), numpy=np.__version__,
             python=sys.version.split()[0], pyfftw=have_fftw)
json.dump(times, open(os.path.join(work, "times.json"), "w"))
'''


def to_genfire(stack: np.ndarray, angles_deg: np.ndarray, tilt_sign: float = -1.0):
    """Our ``(angle, y, u)`` stack and tilt angles to GENFIRE's projections and Euler angles.

    GENFIRE's projection ``P[i, j]`` (array ``(N, N, n_proj)``) has its Fourier plane at
    ``R(φ, θ, ψ)ᵀ (k_i, k_j, 0)`` in the volume ``V[a0, a1, a2]``; with φ = ψ = 0 that is
    ``(k_i cos θ, k_j, −k_i sin θ)``: the tilt axis is a1, and the image axis i runs along
    ``a0 cos θ − a2 sin θ``. Ours runs along ``u = x cos θ + z sin θ``. So with
    ``V = vol.transpose(2, 1, 0)`` (a0 = x, a1 = y, a2 = z), ``P = stack[a].T`` and
    θ_GENFIRE = −θ, GENFIRE reconstructs our ``(z, y, x)`` volume transposed.

    Centres: GENFIRE puts the origin of an even axis at index N/2, we put it at (N − 1)/2.
    The projections are therefore moved by +½ px along u (an exact Fourier shift of
    band-limited data), which makes GENFIRE reconstruct our object moved by +½ voxel along
    x and z; ``from_genfire`` moves it back.
    """
    n_u = stack.shape[2]
    ku = np.fft.fftfreq(n_u)
    shift = np.exp(-2j * np.pi * ku * 0.5) if n_u % 2 == 0 else np.ones(n_u)
    moved = np.fft.ifft(np.fft.fft(stack.astype(np.float64), axis=2) * shift, axis=2).real
    projections = np.ascontiguousarray(moved.transpose(2, 1, 0))  # (u, y, angle)
    euler = np.zeros((len(angles_deg), 3))
    euler[:, 1] = tilt_sign * np.asarray(angles_deg, np.float64)
    return projections, euler


def from_genfire(rec: np.ndarray) -> np.ndarray:
    """GENFIRE's ``(x, y, z)`` reconstruction to our ``(z, y, x)`` frame, −½ voxel in x and z."""
    vol = np.asarray(rec, np.float64).transpose(2, 1, 0)
    f = np.fft.fftn(vol, axes=(0, 2))
    for ax in (0, 2):
        n = vol.shape[ax]
        if n % 2:
            continue
        k = np.fft.fftfreq(n)
        shape = [1, 1, 1]
        shape[ax] = n
        f *= np.exp(2j * np.pi * k * 0.5).reshape(shape)
    return np.fft.ifftn(f, axes=(0, 2)).real.astype(np.float32)


def run_genfire(python: str, stack, angles, n_iter: int, oversampling: int, threads: int,
                work: Path, tilt_sign: float = -1.0) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    projections, euler = to_genfire(stack, angles, tilt_sign)
    np.save(work / "projections.npy", projections)
    np.save(work / "euler.npy", euler)
    (work / "params.json").write_text(json.dumps(
        {"n_iter": n_iter, "oversampling": oversampling, "fftw_threads": threads}))
    (work / "run_genfire.py").write_text(GENFIRE_RUNNER)
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    proc = subprocess.run([python, str(work / "run_genfire.py"), str(work)], env=env, check=False,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"GENFIRE failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads((work / "times.json").read_text())
    out["process_wall"] = wall
    out["volume"] = from_genfire(np.load(work / "reconstruction.npy"))
    out["errK"] = np.load(work / "errK.npy")
    return out


def save_figure(path: str, vol: np.ndarray, recs: list) -> None:
    """Middle y slice (z up, x across) and its log |F| for the phantom and each reconstruction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sl = vol.shape[1] // 2
    panels = [("phantom", vol)] + [(f"{t}, error {rel(v, vol):.3f}", v) for t, v in recs]
    fig, ax = plt.subplots(2, len(panels), figsize=(4 * len(panels), 8))
    for i, (title, v) in enumerate(panels):
        img = v[:, sl, :]
        ax[0, i].imshow(img, cmap="gray", vmin=0, vmax=vol.max(), origin="lower")
        ax[0, i].set_title(title, fontsize=9)
        ax[0, i].set_xlabel("x (px)")
        ax[0, i].set_ylabel("z (px)")
        spec = np.fft.fftshift(np.abs(np.fft.fft2(img)))
        ax[1, i].imshow(np.log10(spec + 1e-3), cmap="magma", vmin=-2, vmax=3, origin="lower")
        ax[1, i].set_title("log10 |F| (k_z up, k_x across)", fontsize=9)
        ax[1, i].set_xticks([])
        ax[1, i].set_yticks([])
    fig.suptitle("middle y slice, 55 equally sloped projections ±72.6°, noise free")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=70)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--iterations", type=int, default=200,
                    help="EST runs this many in each of its two rounds; GENFIRE runs twice as many")
    ap.add_argument("--genfire-python", default=os.environ.get(
        "GENFIRE_PYTHON", "/tmp/genfire-venv/bin/python"),
        help="interpreter of the environment where genfire is installed")
    ap.add_argument("--oversampling", type=int, default=3, help="GENFIRE's (its default: 3)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2,
                    help="FFTW threads for GENFIRE (it hard-codes 6)")
    ap.add_argument("--workdir", default=None, help="folder for the exchanged .npy files "
                    "(default: a new temporary folder)")
    ap.add_argument("--figure", default=None, metavar="PNG",
                    help="save the middle y slice of phantom, EST and GENFIRE (and |F|) here")
    ap.add_argument("--check-sign", action="store_true",
                    help="also run GENFIRE with the opposite tilt sign (geometry check)")
    args = ap.parse_args()
    if not Path(args.genfire_python).exists():
        raise SystemExit(f"no GENFIRE interpreter at {args.genfire_python}: see the docstring")
    n = args.size
    angles = equally_sloped_angles(32, 72.6)
    vol = blob_volume(n)
    stack = forward_project(vol, angles)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_genfire_"))
    n_it = 2 * args.iterations
    load = os.getloadavg()

    rows = []
    p = EstParams(n_iter=args.iterations, n_iter_tight=args.iterations,
                  loose_support_margin=n // 10)
    reconstruct_est(stack[:, :2], angles, EstParams(n_iter=2, n_iter_tight=0))  # warm up
    t0 = time.perf_counter()
    first: list[float] = []
    res = reconstruct_est(stack, angles, p, callback=lambda s: first.append(
        time.perf_counter()) if not first else None)
    t_est = time.perf_counter() - t0
    setup = first[0] - t0
    work.mkdir(parents=True, exist_ok=True)
    np.save(work / "est_volume.npy", res.volume)
    rows.append(("EST (ours), 2 numba threads", t_est, setup, (t_est - setup) / n_it,
                 rel(res.volume, vol)))
    gp = GriddingParams(n_iter=args.iterations, n_iter_tight=args.iterations,
                        loose_support_margin=n // 10)
    reconstruct_fourier_gridding(stack[:, :2], angles, GriddingParams(n_iter=2, n_iter_tight=0))
    first.clear()
    t0 = time.perf_counter()
    g = reconstruct_fourier_gridding(stack, angles, gp, callback=lambda s: first.append(
        time.perf_counter()) if not first else None)
    t_g = time.perf_counter() - t0
    rows.append(("Fourier gridding (ours), oversampling 2", t_g, first[0] - t0,
                 (t_g - (first[0] - t0)) / n_it, rel(g.volume, vol)))

    gf = run_genfire(args.genfire_python, stack, angles, n_it, args.oversampling,
                     args.threads, work / "genfire")
    gf_setup = gf["total"] - gf["iterations"]
    rows.append((f"GENFIRE {gf['genfire']}, oversampling {args.oversampling}, "
                 f"{args.threads} FFTW threads" + ("" if gf["pyfftw"] else " (numpy FFT)"),
                 gf["total"], gf_setup, gf["iterations"] / n_it, rel(gf["volume"], vol)))
    print(f"\n{n} slices of {n}×{n} px, {len(angles)} projections (±72.6°), {n_it} iterations "
          f"each; load average before the run {load[0]:.1f} on {os.cpu_count()} cores\n")
    print("| method | wall s | one-off set-up s | s / iteration | rel. error vs phantom |")
    print("| --- | --- | --- | --- | --- |")
    for name, t, su, per, e in rows:
        print(f"| {name} | {t:.1f} | {su:.2f} | {per:.4f} | {e:.4f} |")
    print(f"\nGENFIRE: gridding {gf['gridding']:.1f} s of its {gf_setup:.1f} s set-up; "
          f"process wall time {gf['process_wall']:.1f} s (with imports); its own error "
          f"metric (Σ||F|−|F_meas||/Σ|F_meas|) {gf['errK'][0]:.3f} → {gf['errK'][-1]:.4f}; "
          f"python {gf['python']}, numpy {gf['numpy']}")
    sl = n // 2
    print(f"middle y slice: rel. error EST {rel(res.volume[:, sl], vol[:, sl]):.4f}, "
          f"GENFIRE {rel(gf['volume'][:, sl], vol[:, sl]):.4f}")
    if args.figure:
        save_figure(args.figure, vol, [(f"EST (ours) {n_it} it, {t_est:.0f} s", res.volume),
                                       (f"GENFIRE {n_it} it, {gf['total']:.0f} s", gf["volume"])])
    if args.check_sign:
        wrong = run_genfire(args.genfire_python, stack, angles, n_it, args.oversampling,
                            args.threads, work / "genfire_wrong_sign", tilt_sign=1.0)
        print(f"geometry check: GENFIRE with θ_GENFIRE = +θ (wrong) error "
              f"{rel(wrong['volume'], vol):.4f} vs −θ {rel(gf['volume'], vol):.4f}")
    print(f"exchanged files and GENFIRE's log in {work}")


if __name__ == "__main__":
    main()
