"""HEBT on the real NCEM HAADF + EDS tilt series (issue 3, item 9) and its figures.

Reads the 16 Bruker BCF files of ``../shared/data/ncem-haadf-eds`` (an interplanetary
dust particle FIB section, TitanX 200 kV, −40…35° in 5° steps), bins them, applies the
authors' published TomViz shifts, fits the response ratios of Eq. 15, reconstructs a band
of rows with HAADF SIRT, EDS-only SIRT and HEBT (α 0.8, 100 iterations, as paper 002 did
for real data), prints the tables ``docs/real-data.md`` quotes and writes the figures
``realdata_*.png``.

    .venv/bin/python benchmarks/real_data_hebt.py [--binning 2] [--rows 32:96]
        [--img-dir docs/img] [--json OUT.json] [--dataset-out DIR]

With ``--dataset-out`` the binned, aligned data set (haadf.mrc, eds_<El>.mrc, angles.tlt)
is written so ``atomtomo eds`` / ``atomtomo hebt`` can run on it. About a minute on 2
cores.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import ndimage  # noqa: E402
from skimage.filters import sobel  # noqa: E402
from skimage.registration import phase_cross_correlation  # noqa: E402

from napari_atomtomo.core.align import apply_shifts  # noqa: E402
from napari_atomtomo.core.hebt import HebtParams, fit_response_ratios, reconstruct_hebt  # noqa: E402
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds, reconstruct_sirt  # noqa: E402
from napari_atomtomo.io import DataSet, read_bcf_tilt_series, write_dataset  # noqa: E402
from napari_atomtomo.io.vendor import read_tomviz_shifts  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NCEM = ROOT.parent / "shared" / "data" / "ncem-haadf-eds"
#: Elements mapped by default (see docs/real-data.md for the choice); Pt from its Mα line
#: (the file lists Pt Lα, 2.3× weaker here).
ELEMENTS = ("Pt", "Fe", "Ca", "Si", "Mg", "O", "C")
LINES = {"Pt": "Ma"}
#: The full acquisition of about_dataset.txt, which TomVizAlignments.json follows.
ACQUIRED_DEG = np.arange(-50.0, 50.1, 5.0)


def stretch_shifts(haadf, angles_deg) -> np.ndarray:
    """Independent check: register each image to the 0° image compressed along x by cos θ.

    For a thin slab tilted about y, image θ is the 0° image compressed along x by cos θ
    (about the rotation axis) and shifted; the registered shift is the ``(dy, dx)`` that
    puts the slab's plane at z = 0 and the rotation axis at the 0° image's centre.
    """
    ref = int(np.argmin(np.abs(angles_deg)))
    centre = (np.array(haadf.shape[1:]) - 1) / 2.0
    out = np.zeros((len(angles_deg), 2))
    for a, theta in enumerate(angles_deg):
        m = np.diag([1.0, 1.0 / np.cos(np.radians(theta - angles_deg[ref]))])
        stretched = ndimage.affine_transform(haadf[ref].astype(np.float64), m,
                                             offset=centre - m @ centre, order=1, mode="nearest")
        out[a], _, _ = phase_cross_correlation(sobel(haadf[a].astype(np.float64)),
                                               sobel(stretched), upsample_factor=20,
                                               normalization=None)
    return out


def block_mean(stack, b: int) -> np.ndarray:
    n, ny, nx = stack.shape
    ny, nx = ny // b * b, nx // b * b
    return stack[:, :ny, :nx].reshape(n, ny // b, b, nx // b, b).mean(axis=(2, 4))


def relative_residual(data, model) -> float:
    return float(np.linalg.norm(data - model) / np.linalg.norm(data))


def pearson(a, b) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def summed_spectrum(folder: Path):
    """Counts per channel summed over every pixel of every tilt, and the energy axis (keV)."""
    from rsciio import bruker

    total, energy = None, None
    for q in sorted(folder.glob("*.bcf")):
        eds = next(s for s in bruker.file_reader(str(q)) if np.ndim(s["data"]) == 3)
        spec = eds["data"].sum(axis=(0, 1), dtype=np.int64)
        total = spec if total is None else total + spec
        ax = eds["axes"][2]
        energy = ax["offset"] + ax["scale"] * np.arange(spec.size)
    return energy, total


# ------------------------------------------------------------------------------ figures
def plot_spectrum(energy, counts, metadata, path):
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.semilogy(energy, np.maximum(counts, 1), lw=0.8, color="k")
    ax.set_xlim(0, 13.5)
    ax.set_ylim(1e3, counts[energy > 0.2].max() * 2)
    marks = {"Ga Lα": 1.098, "Ti Kα": 4.511, "Cu Kα": 8.048, "Pt Lα": 9.442, "S Kα": 2.308}
    for name, e in marks.items():
        ax.axvline(e, color="0.6", lw=0.6, ls="--")
        ax.text(e, ax.get_ylim()[1] * 0.6, name, rotation=90, fontsize=7, color="0.4",
                ha="right", va="top")
    for el, info in metadata["lines"].items():
        lo, hi = info["window_keV"]
        ax.axvspan(lo, hi, color="tab:orange", alpha=0.35)
        ax.text(info["energy_keV"], ax.get_ylim()[1] * 0.6, el, rotation=90, fontsize=8,
                ha="left", va="top", color="tab:red")
    ax.set_xlabel("energy (keV)")
    ax.set_ylabel("counts (16 tilts)")
    ax.set_title("NCEM IDP section: summed EDS spectrum; orange: integration windows used",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _show(ax, img, cmap="gray", vmax=None, aspect="equal"):
    vmax = np.percentile(img, 99.5) if vmax is None else vmax
    ax.imshow(img, cmap=cmap, origin="lower", vmin=0, vmax=vmax if vmax > 0 else 1,
              aspect=aspect, interpolation="nearest")


def plot_alignment(angles, tv, st, rec_raw, rec_tv, row, path):
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), gridspec_kw={"width_ratios": [1, 1.2, 1.2]})
    ax = axes[0]
    ax.plot(angles, tv[:, 1], "o-", label="dx TomViz")
    ax.plot(angles, st[:, 1], "s--", label="dx cos-stretch check")
    ax.plot(angles, tv[:, 0], "o-", label="dy TomViz")
    ax.plot(angles, st[:, 0], "s--", label="dy cos-stretch check")
    ax.set_xlabel("tilt (°)")
    ax.set_ylabel("shift (binned px)")
    ax.legend(fontsize=7)
    for ax, rec, title in ((axes[1], rec_raw, "no shifts"), (axes[2], rec_tv, "TomViz shifts")):
        _show(ax, rec[:, row, :])
        ax.set_title(f"HAADF SIRT, x–z slice (row {row}): {title}", fontsize=9)
        ax.set_xlabel("x (px)")
        ax.set_ylabel("z (px)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_maps(haadf_rec, eds_maps, hebt_maps, row, voxel_nm, path):
    """Per element: EDS-only vs HEBT, the slab's middle x–y plane and an x–z cut."""
    els = list(hebt_maps)
    n = len(els) + 1
    zc = haadf_rec.shape[0] // 2
    n_y, n_x = haadf_rec.shape[1:]
    w = 1.9
    h_xy = w * n_y / n_x
    h_xz = 0.45  # the x–z cut is stretched along z for legibility
    fig, axes = plt.subplots(4, n, figsize=(w * n, 2 * h_xy + 2 * h_xz + 0.9),
                             gridspec_kw={"height_ratios": [h_xy, h_xy, h_xz, h_xz]})
    cuts = (("x–y", lambda v: v[zc]), ("x–z", lambda v: v[:, row, :]))
    for c, (cut_name, cut) in enumerate(cuts):
        for r, (label, maps) in enumerate((("EDS-only", eds_maps), ("HEBT", hebt_maps))):
            ax = axes[2 * c + r, 0]
            aspect = "equal" if c == 0 else "auto"
            _show(ax, cut(haadf_rec), aspect=aspect)
            ax.set_ylabel(f"{label} {cut_name}", fontsize=7)
            for j, el in enumerate(els, start=1):
                # one grey level per element and cut for both methods: the HEBT map's 99.5 %
                _show(axes[2 * c + r, j], cut(maps[el]), "magma",
                      max(np.percentile(cut(hebt_maps[el]), 99.5),
                          np.percentile(cut(eds_maps[el]), 99.5)), aspect)
    axes[0, 0].set_title("HAADF SIRT", fontsize=9)
    for j, el in enumerate(els, start=1):
        axes[0, j].set_title(el, fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"NCEM IDP section, {voxel_nm:.1f} nm voxels: x–y = middle plane of the "
                 f"slab, x–z = cut at row {row} (z stretched; beam vertical at 0°)", fontsize=9)
    fig.tight_layout(h_pad=0.3, w_pad=0.3)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binning", type=int, default=2, help="EDS/HAADF pixel binning (2 or 4)")
    ap.add_argument("--elements", default=",".join(ELEMENTS))
    ap.add_argument("--rows", default=None,
                    help="band of rows START:STOP (binned px) to reconstruct; default the middle half")
    ap.add_argument("--fit-binning", type=int, default=4,
                    help="extra block averaging for the response-ratio fit only (default 4)")
    ap.add_argument("--eds-sigma", type=float, default=0.8,
                    help="Gaussian σ (px) on every EDS image, as the paper filtered its sinograms")
    ap.add_argument("--slab-nm", type=float, default=300.0,
                    help="reconstruct a slab this thick (nm) about z = 0, the FIB section being "
                         "about 200 nm thick; 0: a cube as tall as the image is wide")
    ap.add_argument("--margin", type=int, default=16,
                    help="extra voxels either side along x for material outside the field of view")
    ap.add_argument("--alpha", type=float, default=0.8)
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--img-dir", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--json", default=None, help="write the numbers to this JSON file")
    ap.add_argument("--dataset-out", default=None,
                    help="write the binned, TomViz-aligned data set here (Fourier-shifted)")
    args = ap.parse_args()
    elements = args.elements.split(",")
    img_dir = Path(args.img_dir)
    img_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    report: dict = {"binning": args.binning, "elements": elements, "alpha": args.alpha,
                    "iterations": args.iterations}

    # 1. read ------------------------------------------------------------------
    t0 = time.perf_counter()
    ds = read_bcf_tilt_series(NCEM / "bcf", elements, lines={k: v for k, v in LINES.items()
                                                            if k in elements},
                              binning=args.binning)
    angles = ds.angles_deg
    n_a, n_y, n_x = ds.haadf.shape
    print(f"read {n_a} tilts {angles[0]:g}…{angles[-1]:g}° as {n_y}×{n_x} px of "
          f"{ds.voxel_size / 10:.1f} nm in {time.perf_counter() - t0:.1f} s")
    print("\n| element | line | window (keV) | counts (all tilts) | mean counts / px / tilt |")
    print("| --- | --- | --- | --- | --- |")
    for el in elements:
        info = ds.metadata["lines"][el]
        print(f"| {el} | {info['line']} | {info['window_keV'][0]:.3f}–{info['window_keV'][1]:.3f} "
              f"| {ds.eds[el].sum():.3g} | {ds.eds[el].mean():.2f} |")
    report["eds_counts"] = {el: float(ds.eds[el].sum()) for el in elements}
    energy, spectrum = summed_spectrum(NCEM / "bcf")
    plot_spectrum(energy, spectrum, ds.metadata, img_dir / "realdata_spectrum.png")

    # 2. align -----------------------------------------------------------------
    # entry k of the file is tilt −50 + 5k; (dy, dx) = (sy, −sx) (docs/real-data.md)
    shifts = read_tomviz_shifts(NCEM / "TomVizAlignments.json", angles, ACQUIRED_DEG,
                                binning=args.binning)
    check = stretch_shifts(ds.haadf, angles)
    diff = check - shifts
    rms_y = float(np.sqrt(np.mean(diff[:, 0] ** 2)))
    smooth = np.polyval(np.polyfit(angles, diff[:, 1], 2), angles)
    rms_x = float(np.sqrt(np.mean((diff[:, 1] - smooth) ** 2)))
    print(f"\nTomViz vs cos-stretch registration: dy RMS difference {rms_y:.2f} px; dx differs "
          f"by a smooth curve (range {np.ptp(smooth):.1f} px) plus {rms_x:.2f} px RMS "
          f"(binned px)")
    report["alignment"] = {"shifts_px": shifts.tolist(), "stretch_check_px": check.tolist(),
                           "rms_dy_px": rms_y, "rms_dx_after_quadratic_px": rms_x}

    if args.dataset_out:
        aligned = DataSet(apply_shifts(ds.haadf, shifts),
                          {el: np.maximum(apply_shifts(ds.eds[el], shifts), 0) for el in elements},
                          angles, ds.voxel_size, metadata=ds.metadata)
        write_dataset(args.dataset_out, aligned)
        print(f"\nwrote the aligned data set to {args.dataset_out}")

    # 3. response ratios (Eq. 15) on block-averaged images --------------------------
    b = args.fit_binning
    h_fit = block_mean(ds.haadf, b)
    e_fit = {el: block_mean(ds.eds[el], b) for el in elements}
    fit = fit_response_ratios(h_fit, e_fit)
    drop = {el: fit.r2 - fit_response_ratios(h_fit, {k: v for k, v in e_fit.items() if k != el}).r2
            for el in elements}
    r2_by_bin = {args.binning * bb: fit_response_ratios(block_mean(ds.haadf, bb),
                                                        {el: block_mean(ds.eds[el], bb)
                                                         for el in elements}).r2
                 for bb in (1, 2, 4, 8)}
    print(f"\nresponse ratios on {args.binning * b}×{args.binning * b}-binned pixels: "
          f"R² = {fit.r2:.3f}")
    print("\n| element | r_A (HAADF units per count) | R² lost without it |")
    print("| --- | --- | --- |")
    for el in elements:
        print(f"| {el} | {fit.ratios[el]:.3g} | {drop[el]:.3f} |")
    print("\n| total binning | " + " | ".join(f"{k}×{k}" for k in r2_by_bin) + " |")
    print("| --- |" + " --- |" * len(r2_by_bin))
    print("| R² | " + " | ".join(f"{v:.3f}" for v in r2_by_bin.values()) + " |")
    report["ratios"] = fit.ratios
    report["r2"] = fit.r2
    report["r2_lost_without"] = drop
    report["r2_by_total_binning"] = {str(k): v for k, v in r2_by_bin.items()}
    if any(r == 0.0 for r in fit.ratios.values()):
        zero = [el for el, r in fit.ratios.items() if r == 0.0]
        raise SystemExit(f"the fitted ratio of {zero} is 0; leave them out of --elements")

    # 4. band of rows, EDS filter ---------------------------------------------------
    if args.rows:
        r0, r1 = (int(v) for v in args.rows.split(":"))
    else:
        r0, r1 = n_y // 4, 3 * n_y // 4
    haadf = np.ascontiguousarray(ds.haadf[:, r0:r1])
    eds = {el: np.ascontiguousarray(ndimage.gaussian_filter(ds.eds[el], (0, args.eds_sigma,
                                                                         args.eds_sigma))[:, r0:r1])
           for el in elements}

    # 5. reconstructions ------------------------------------------------------------
    # The section is a slab wider than the field of view: a support of the slab's
    # thickness replaces the z information the ±40° range cannot give (the slab's own
    # Fourier transform lies along k_z, inside the missing wedge), and a margin along x
    # takes up material that tilted rays cross outside the field of view.
    n_z = n_x if args.slab_nm <= 0 else 2 * int(np.ceil(args.slab_nm * 5.0 / ds.voxel_size)) + 1
    m = int(args.margin)
    support = np.ones((n_z, r1 - r0, n_x + 2 * m), dtype=bool)
    report["volume"] = {"shape_zyx": list(support.shape), "slab_nm": args.slab_nm, "margin_px": m,
                        "rows": [r0, r1]}
    inner = (slice(None), slice(None), slice(m, m + n_x))
    t0 = time.perf_counter()
    sirt = SirtParams(n_iter=args.iterations, yield_every=args.iterations)
    cube = np.ones((n_x, r1 - r0, n_x + 2 * m), dtype=bool)
    haadf_raw = reconstruct_sirt(haadf, angles, sirt, support=cube).volume[inner]
    haadf_cube = reconstruct_sirt(haadf, angles, sirt, support=cube, shifts=shifts).volume[inner]
    haadf_rec = reconstruct_sirt(haadf, angles, sirt, support=support, shifts=shifts).volume
    t_haadf = time.perf_counter() - t0
    t0 = time.perf_counter()
    scaled = {el: (fit.ratios[el] * eds[el]).astype(np.float32) for el in elements}
    eds_maps = reconstruct_eds(scaled, angles, sirt, support=support, shifts=shifts)  # X_A = r_A · SIRT(I_A)
    t_eds = time.perf_counter() - t0
    t0 = time.perf_counter()
    hebt = reconstruct_hebt(haadf, eds, angles,
                            HebtParams(alpha=args.alpha, n_iter=args.iterations,
                                       yield_every=args.iterations),
                            ratios=fit.ratios, support=support, shifts=shifts)
    t_hebt = time.perf_counter() - t0
    print(f"\nband of rows {r0}:{r1}, volume {haadf_rec.shape} (z, y, x); SIRT HAADF ×3 "
          f"{t_haadf:.1f} s, EDS-only SIRT ({len(elements)} maps) {t_eds:.1f} s, HEBT "
          f"{t_hebt:.1f} s (shared 2-core machine)")
    report["timing_s"] = {"haadf_sirt_x3": t_haadf, "eds_sirt": t_eds, "hebt": t_hebt}

    # 6. numbers: data consistency and agreement with the HAADF reconstruction -----------
    from napari_atomtomo.core.projectors import forward_project

    def reproject(vol):
        return forward_project(vol, angles, n_u=n_x, shifts=shifts)

    rows = {}
    for name, maps in (("eds", eds_maps), ("hebt", hebt.maps)):
        proj = {el: reproject(maps[el]) for el in elements}
        rows[name] = {
            "haadf_residual": relative_residual(haadf, sum(proj.values())),
            "eds_residual": {el: relative_residual(scaled[el], proj[el]) for el in elements},
            "corr_with_haadf_sirt": {el: pearson(maps[el][inner], haadf_rec[inner])
                                     for el in elements},
            "corr_sum_with_haadf_sirt": pearson(sum(maps.values())[inner], haadf_rec[inner]),
        }
    report["consistency"] = rows
    print("\n| element | EDS residual, EDS-only | EDS residual, HEBT | corr. with HAADF SIRT, "
          "EDS-only | corr., HEBT |")
    print("| --- | --- | --- | --- | --- |")
    for el in elements:
        print(f"| {el} | {rows['eds']['eds_residual'][el]:.3f} | "
              f"{rows['hebt']['eds_residual'][el]:.3f} | "
              f"{rows['eds']['corr_with_haadf_sirt'][el]:.3f} | "
              f"{rows['hebt']['corr_with_haadf_sirt'][el]:.3f} |")
    print(f"| Σ maps vs HAADF | {rows['eds']['haadf_residual']:.3f} (HAADF residual) | "
          f"{rows['hebt']['haadf_residual']:.3f} | {rows['eds']['corr_sum_with_haadf_sirt']:.3f} | "
          f"{rows['hebt']['corr_sum_with_haadf_sirt']:.3f} |")

    # 7. figures ----------------------------------------------------------------------
    row = haadf_rec.shape[1] // 2
    plot_alignment(angles, shifts, check, haadf_raw, haadf_cube, row,
                   img_dir / "realdata_alignment.png")
    plot_maps(haadf_rec[inner], {el: v[inner] for el, v in eds_maps.items()},
              {el: v[inner] for el, v in hebt.maps.items()}, row, ds.voxel_size / 10,
              img_dir / "realdata_maps.png")
    print(f"\nwrote {img_dir}/realdata_spectrum.png, realdata_alignment.png, realdata_maps.png; "
          f"total {time.perf_counter() - t_start:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
