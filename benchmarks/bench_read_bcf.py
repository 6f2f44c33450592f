"""Read the whole NCEM BCF tilt series (16 tilts) into a data set and print a table.

    .venv/bin/python benchmarks/bench_read_bcf.py [--binning 2] [--elements Fe,Pt,Si,O,Mg]
        [--out DATASET_DIR]

With ``--out`` the data set is written as a data-set folder (haadf.mrc, eds_<El>.mrc,
angles.tlt) so ``atomtomo hebt DATASET_DIR`` can run on it. Reads
``../shared/data/ncem-haadf-eds/bcf`` relative to the project root.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from napari_atomtomo.io import read_bcf_tilt_series, write_dataset

ROOT = Path(__file__).resolve().parents[1]
BCF = ROOT.parent / "shared" / "data" / "ncem-haadf-eds" / "bcf"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binning", type=int, default=2)
    ap.add_argument("--elements", default="Fe,Pt,Si,O,Mg")
    ap.add_argument("--pt-line", default="Ma", help="Pt line family (the file lists Pt_La)")
    ap.add_argument("--background", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    elements = args.elements.split(",")
    lines = {"Pt": args.pt_line} if "Pt" in elements else None
    t0 = time.perf_counter()
    ds = read_bcf_tilt_series(BCF, elements, lines=lines, binning=args.binning,
                              background=args.background)
    dt = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| tilts | image | binning | elements | read time (s) | peak RSS (MB) |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| {ds.haadf.shape[0]} | {ds.haadf.shape[1]}×{ds.haadf.shape[2]} | {args.binning} | "
          f"{len(elements)} | {dt:.1f} | {peak_mb:.0f} |")
    print()
    print("| element | line | window (keV) | total counts | max counts/pixel |")
    print("| --- | --- | --- | --- | --- |")
    for el, m in ds.eds.items():
        info = ds.metadata["lines"][el]
        lo, hi = info["window_keV"]
        print(f"| {el} | {info['line']} | {lo:.3f}–{hi:.3f} | {m.sum():.0f} | {m.max():.0f} |")
    print(f"\nvoxel size {ds.voxel_size:.1f} Å; angles {ds.angles_deg[0]:g}…{ds.angles_deg[-1]:g}°")
    if args.out:
        write_dataset(args.out, ds)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
