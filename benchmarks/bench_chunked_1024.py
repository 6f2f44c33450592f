"""Chunked SIRT of a 1024² × 55 tilt series to a 1024³ OME-Zarr volume, under /usr/bin/time -v.

1. Writes a tilt series of 55 equally sloped angles (±72.6°) of 1024 × 1024 pixels to an
   MRC file image by image (memory-mapped; the series is never whole in memory): the
   exact projections of 400 random spheres (chord lengths, analytic).
2. Runs ``atomtomo sirt SERIES.mrc --iterations N --out VOLUME.zarr --chunks 64 --json``
   under ``/usr/bin/time -v`` and niced, and reads its peak RSS (``Maximum resident set
   size``), wall time and the JSON report (slabs, seconds per iteration summed over slabs).
3. Opens the result lazily (``napari_atomtomo._reader`` and ``open_ome_zarr``) and times it.

Usage (from the repository root; ~3 GB free disk in WORKDIR)::

    .venv/bin/python benchmarks/bench_chunked_1024.py [--n 1024] [--iterations 3] [--workdir /tmp/bench1024]

Prints a Markdown table; the figures recorded in docs/performance.md ("Chunked 1024³")
come from this script.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def equally_sloped_angles() -> np.ndarray:
    k = np.arange(-16, 17)
    inner = np.degrees(np.arctan(k / 16))
    kk = np.arange(5, 16)
    outer = np.degrees(np.arctan2(16, kk))  # acot(k/16)
    return np.sort(np.concatenate([inner, outer, -outer]))


def write_series(path: Path, n: int, angles: np.ndarray, n_spheres: int = 400, seed: int = 0):
    import mrcfile

    rng = np.random.default_rng(seed)
    c = (n - 1) / 2
    r = rng.uniform(0.01, 0.04, n_spheres) * n
    pos = rng.uniform(-0.3, 0.3, (n_spheres, 3)) * n  # x, y, z from the centre
    dens = rng.uniform(0.5, 1.5, n_spheres).astype(np.float32)
    with mrcfile.new_mmap(path, shape=(angles.size, n, n), mrc_mode=2, overwrite=True) as mrc:
        mrc.set_image_stack()
        mrc.voxel_size = 1.0
        for a, th in enumerate(np.radians(angles)):
            img = np.zeros((n, n), dtype=np.float32)
            u0 = pos[:, 0] * np.cos(th) + pos[:, 2] * np.sin(th)
            for (_x, y, _z), rr, d, uc in zip(pos, r, dens, u0):
                j0, j1 = int(max(c + y - rr, 0)), int(min(c + y + rr + 2, n))
                i0, i1 = int(max(c + uc - rr, 0)), int(min(c + uc + rr + 2, n))
                vv = np.arange(j0, j1)[:, None] - (c + y)
                uu = np.arange(i0, i1)[None, :] - (c + uc)
                img[j0:j1, i0:i1] += d * 2 * np.sqrt(np.maximum(rr * rr - vv**2 - uu**2, 0))
            mrc.data[a] = img
    path.with_suffix(".tlt").write_text("".join(f"{v:.4f}\n" for v in angles))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--chunks", type=int, default=64)
    ap.add_argument("--workdir", default="/tmp/bench1024")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    series = work / f"series_{args.n}.mrc"
    angles = equally_sloped_angles()
    if not series.exists():
        t0 = time.perf_counter()
        write_series(series, args.n, angles)
        print(f"wrote {series} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    out = work / f"volume_{args.n}.zarr"
    report = work / f"report_{args.n}.json"
    cmd = ["nice", "/usr/bin/time", "-v", sys.executable, "-m", "napari_atomtomo.cli", "sirt",
           str(series), "--iterations", str(args.iterations), "--out", str(out),
           "--chunks", str(args.chunks), "--json", str(report), "--force"]
    print(" ".join(cmd), file=sys.stderr)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stderr[-3000:], file=sys.stderr)
    if proc.returncode:
        return proc.returncode
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr).group(1)
    rep = json.loads(report.read_text())
    run = rep["run"]

    import dask.array  # noqa: F401  (imports are not part of opening)
    import zarr  # noqa: F401

    from napari_atomtomo.io.omezarr import open_ome_zarr

    t0 = time.perf_counter()
    levels, vs, _ = open_ome_zarr(out)
    t_open = time.perf_counter() - t0
    from napari_atomtomo._reader import get_zarr_reader

    t0 = time.perf_counter()
    layers = get_zarr_reader(str(out))(str(out))
    t_reader = time.perf_counter() - t0
    data = layers[0][0]
    lazy = all(not isinstance(d, np.ndarray) for d in (data if isinstance(data, list) else [data]))
    t0 = time.perf_counter()
    mid = np.asarray(levels[0][args.n // 2])
    t_slice = time.perf_counter() - t0
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

    print(f"| volume | iterations | slabs | peak RSS (time -v) | wall | s/iteration (sum of slabs) "
          f"| set-up (sum) |\n| --- | --- | --- | --- | --- | --- | --- |\n"
          f"| {args.n}³ × {angles.size} | {args.iterations} | {run['n_slabs']} × {run['slab_rows']} "
          f"rows | {rss_kb / 2**20:.2f} GiB | {wall} | {run['seconds_per_iteration']:.1f} "
          f"| {run['setup_seconds']:.1f} s |")
    print(f"\nopen_ome_zarr: {t_open * 1e3:.0f} ms ({len(levels)} levels "
          f"{[tuple(lv.shape) for lv in levels]}); napari reader: {t_reader * 1e3:.0f} ms, "
          f"lazy={lazy}; one z-slice of level 0: {t_slice * 1e3:.0f} ms "
          f"(mean {float(mid.mean()):.4g}); this process peak RSS {rss_self:.2f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
