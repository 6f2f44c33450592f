"""Issue 13 on real series: preprocess, tilt axis, projection matching.

The etspy DM3 HAADF series writes ``docs/img/realdata_preprocess.png`` (vacuum levels
and shifts per tilt, SIRT slices before/after); the NCEM BCF series (HAADF, 2×2 binned)
writes ``docs/img/realdata_refine_ncem.png`` (centre-of-mass and refined shifts against
the authors' TomViz shifts). Prints the numbers quoted in ``docs/real-data.md``.

    PYTHONPATH=src python benchmarks/real_data_preprocess.py [../shared/data]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from napari_atomtomo import io
from napari_atomtomo.core.align import apply_shifts, estimate_shifts
from napari_atomtomo.core.preprocess import PreprocessParams, preprocess_series
from napari_atomtomo.core.projmatch import RefineParams, refine_shifts
from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt
from napari_atomtomo.core.tiltaxis import estimate_tilt_axis, remove_tilt_axis


def main(data_root="../shared/data") -> int:
    ts = io.read_tilt_series(Path(data_root) / "etspy-haadf" / "HAADF.dm3")
    angles = ts.angles_deg
    sirt = SirtParams(n_iter=30)
    pre = preprocess_series(ts.data, PreprocessParams())
    levels = np.asarray(pre.report["background_levels"])
    print(f"{ts.data.shape} images, vacuum level {levels.min():.1f}…{levels.max():.1f} "
          f"(image mean {ts.data.mean():.1f})")
    raw_shifts, _ = estimate_shifts(ts.data, angles, background="edge")
    raw_vol = reconstruct_sirt(apply_shifts(ts.data, raw_shifts), angles, sirt).volume
    axis = estimate_tilt_axis(pre.stack, angles)
    print(f"tilt axis {axis.angle_deg:.3f}°, offset {axis.offset_px:.2f} px, "
          f"quality {axis.quality}, warnings {axis.warnings}")
    turned = remove_tilt_axis(pre.stack, axis.angle_deg, axis.offset_px)
    shifts, _ = estimate_shifts(turned, angles)
    refined = refine_shifts(turned, angles, shifts, RefineParams(n_iter=10))
    for rec in refined.history:
        print(rec)
    vol = reconstruct_sirt(apply_shifts(turned, refined.shifts), angles, sirt).volume

    fig, ax = plt.subplots(1, 4, figsize=(13, 3.2))
    ax[0].plot(angles, levels, ".-")
    ax[0].set(xlabel="tilt (°)", ylabel="vacuum level (counts)", title="preprocess: border level")
    ax[1].plot(angles, refined.shifts[:, 1] - shifts[:, 1], ".-", label="dx")
    ax[1].plot(angles, refined.shifts[:, 0] - shifts[:, 0], ".-", label="dy")
    ax[1].set(xlabel="tilt (°)", ylabel="px", title="--refine 10 minus centre of mass")
    ax[1].legend(fontsize=7)
    j = ts.data.shape[1] // 2
    for a, v, title in ((ax[2], raw_vol, "SIRT, raw (align --background edge)"),
                        (ax[3], vol, "SIRT, preprocess + tilt axis + refine")):
        a.imshow(v[:, j, :], cmap="gray")
        a.set(title=title, xticks=[], yticks=[])
        a.title.set_fontsize(8)
    fig.tight_layout()
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "realdata_preprocess.png"
    fig.savefig(out, dpi=90)
    outside = lambda v: float(np.median(v[:, j, :][:4]))
    print(f"vacuum rows of the slice: raw {outside(raw_vol):.3g}, processed {outside(vol):.3g}; "
          f"slice max raw {raw_vol[:, j].max():.3g}, processed {vol[:, j].max():.3g}")
    print(f"wrote {out}")
    ncem(data_root)
    return 0


def ncem(data_root) -> None:
    from napari_atomtomo.core.projmatch import _gauge_free

    root = Path(data_root) / "ncem-haadf-eds"
    ds = io.read_bcf_tilt_series(root / "bcf", elements=["Fe"], binning=2)
    angles = ds.angles_deg
    tomviz = io.read_tomviz_shifts(root / "TomVizAlignments.json", angles,
                                   np.arange(-50, 51, 5.0), binning=2)
    pre = preprocess_series(ds.haadf, PreprocessParams())
    axis = estimate_tilt_axis(pre.stack, angles)
    print(f"NCEM: tilt axis {axis.angle_deg:.2f}°, offset {axis.offset_px:.1f} px, "
          f"warnings {axis.warnings}")
    com, _ = estimate_shifts(pre.stack, angles)
    refined = refine_shifts(pre.stack, angles, com, RefineParams(n_iter=10))
    theta = np.radians(angles)

    def vs_tomviz(s):
        d = _gauge_free(s - tomviz, theta)
        return d, float(np.sqrt(np.mean(d**2)))

    print(f"NCEM: RMS difference from TomViz (up to a global translation): centre of mass "
          f"{vs_tomviz(com)[1]:.2f} px, refined {vs_tomviz(refined.shifts)[1]:.2f} px; "
          f"rounds {[round(h['rms_change_px'], 3) for h in refined.history]}")
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for a, k, name in ((ax[0], 1, "dx"), (ax[1], 0, "dy")):
        for s, label, style in ((com, "centre of mass", "s-"), (refined.shifts, "--refine 10", "o-"),
                                (tomviz, "TomViz (authors)", "k:")):
            a.plot(angles, tomviz[:, k] + vs_tomviz(s)[0][:, k], style, ms=3, label=label)
        a.set(xlabel="tilt (°)", title=f"{name} (px, 2×2 binned; global translation removed)")
        a.title.set_fontsize(8)
    ax[0].set_ylabel("shift (px)")
    ax[0].legend(fontsize=7)
    fig.tight_layout()
    out = Path(__file__).resolve().parents[1] / "docs" / "img" / "realdata_refine_ncem.png"
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
