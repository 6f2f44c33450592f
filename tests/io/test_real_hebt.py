"""Real-data facts of the NCEM HAADF + EDS tilt series and a small HEBT run on it.

Reads ``../shared/data/ncem-haadf-eds`` (an interplanetary dust particle FIB section,
Bruker BCF, one file per tilt); skipped only where that folder (or rosettasciio) is
absent. The full run with figures is ``benchmarks/real_data_hebt.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from napari_atomtomo.core.hebt import HebtParams, fit_response_ratios, reconstruct_hebt
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds, reconstruct_sirt

NCEM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ncem-haadf-eds"
pytestmark = pytest.mark.skipif(not (NCEM / "bcf").is_dir(),
                                reason=f"real data folder {NCEM} is absent")
pytest.importorskip("rsciio")

from napari_atomtomo.io import read_bcf_tilt_series  # noqa: E402

ELEMENTS = ["Pt", "Fe", "Si", "Mg", "C"]  # ratios well determined even from 3 tilts


def tomviz_pair(theta: float) -> tuple[float, float]:
    """TomViz's ``[sx, sy]`` for tilt ``theta``: entry k is tilt −50 + 5k."""
    pairs = json.loads((NCEM / "TomVizAlignments.json").read_text())
    return tuple(pairs[int(round((theta + 50) / 5))])


def block_mean(stack, b):
    n, ny, nx = stack.shape
    return stack.reshape(n, ny // b, b, nx // b, b).mean(axis=(2, 4))


def compressed(img, factor, axis):
    """``img`` compressed along ``axis`` by ``factor`` about its centre."""
    c = (np.array(img.shape) - 1) / 2.0
    m = np.ones(2)
    m[axis] = 1.0 / factor
    m = np.diag(m)
    return ndimage.affine_transform(img, m, offset=c - m @ c, order=1, mode="nearest")


def best_compression(img, ref, axis):
    """(correlation, factor) of the best match of ``img`` to ``ref`` compressed along ``axis``."""
    best = (-1.0, None)
    for f in np.arange(0.70, 1.06, 0.04):
        r = compressed(ref, f, axis)
        shift, _, _ = phase_cross_correlation(img, r, normalization=None)
        r = ndimage.shift(r, shift, order=1, mode="nearest")
        inner = (slice(8, -8), slice(8, -8))
        best = max(best, (np.corrcoef(img[inner].ravel(), r[inner].ravel())[0, 1], f))
    return best


def test_tilt_axis_is_image_rows():
    # Tilting a thin section about y compresses its image along x by cos θ, not along y.
    ds = read_bcf_tilt_series(NCEM / "bcf", ["Pt"], lines={"Pt": "Ma"}, binning=2, tilts=[-40, 0])
    img, ref = ds.haadf[0].astype(np.float64), ds.haadf[1].astype(np.float64)
    corr_x, f_x = best_compression(img, ref, axis=1)
    corr_y, f_y = best_compression(img, ref, axis=0)
    assert corr_x > corr_y + 0.1
    assert abs(f_x - np.cos(np.radians(40))) <= 0.04
    assert abs(f_y - 1.0) <= 0.08


def test_tomviz_shifts_map_to_the_acquired_tilts():
    pairs = json.loads((NCEM / "TomVizAlignments.json").read_text())
    assert len(pairs) == 21  # −50…50° in 5° steps (about_dataset.txt)
    assert tomviz_pair(0.0) == (0, 0)  # the reference image of the alignment
    # 0° → 5°: the object moves by −sx(5°) columns and +sy(5°) rows (TomViz y points up).
    ds = read_bcf_tilt_series(NCEM / "bcf", ["Pt"], lines={"Pt": "Ma"}, tilts=[0, 5])
    shift, _, _ = phase_cross_correlation(ds.haadf[1], ds.haadf[0], upsample_factor=10,
                                          normalization=None)
    sx, sy = tomviz_pair(5.0)
    assert abs(shift[1] - (-sx)) <= 1.5
    assert abs(shift[0] - sy) <= 1.5


def test_small_hebt_run_on_three_tilts():
    angles = [-20.0, 0.0, 20.0]
    ds = read_bcf_tilt_series(NCEM / "bcf", ELEMENTS, lines={"Pt": "Ma"}, binning=4, tilts=angles)
    assert ds.haadf.shape == (3, 64, 64)
    assert ds.metadata["lines"]["Pt"]["line"] == "Pt_Ma"
    for el in ELEMENTS:
        assert ds.eds[el].shape == (3, 64, 64)
        assert ds.eds[el].min() >= 0 and ds.eds[el].sum() > 0

    # Eq. 15 on 2×2-averaged pixels: every ratio positive, R² finite and in (0.8, 1].
    fit = fit_response_ratios(block_mean(ds.haadf, 2),
                              {el: block_mean(ds.eds[el], 2) for el in ELEMENTS})
    assert np.isfinite(fit.r2) and 0.8 < fit.r2 <= 1.0
    assert all(np.isfinite(r) and r > 0 for r in fit.ratios.values())
    # the Pt-capped section: Pt explains most of the HAADF
    without_pt = fit_response_ratios(block_mean(ds.haadf, 2),
                                     {el: block_mean(ds.eds[el], 2) for el in ELEMENTS[1:]})
    assert without_pt.r2 < fit.r2 - 0.1

    shifts = np.array([(tomviz_pair(a)[1], -tomviz_pair(a)[0]) for a in angles]) / 4.0
    rows = slice(24, 40)
    haadf = ds.haadf[:, rows]
    eds = {el: ndimage.gaussian_filter(ds.eds[el], (0, 0.8, 0.8))[:, rows] for el in ELEMENTS}
    support = np.ones((7, 16, 80), dtype=bool)  # a 366 nm slab, 8 px margin either side
    inner = (slice(None), slice(None), slice(8, 72))
    sirt = SirtParams(n_iter=20, yield_every=20)
    haadf_rec = reconstruct_sirt(haadf, angles, sirt, support=support, shifts=shifts).volume
    eds_maps = reconstruct_eds({el: fit.ratios[el] * eds[el] for el in ELEMENTS}, angles, sirt,
                               support=support, shifts=shifts)
    hebt = reconstruct_hebt(haadf, eds, angles, HebtParams(alpha=0.8, n_iter=20, yield_every=20),
                            ratios=fit.ratios, support=support, shifts=shifts)
    assert hebt.ratios == fit.ratios
    assert np.all(np.diff(hebt.residuals[:5]) < 0)
    for el in ELEMENTS:
        for maps in (eds_maps, hebt.maps):
            assert maps[el].shape == (7, 16, 80)
            assert maps[el].dtype == np.float32
            assert np.all(np.isfinite(maps[el])) and maps[el].min() >= 0.0
        # the HAADF term pulls every element map towards the HAADF reconstruction
        c_eds = np.corrcoef(eds_maps[el][inner].ravel(), haadf_rec[inner].ravel())[0, 1]
        c_hebt = np.corrcoef(hebt.maps[el][inner].ravel(), haadf_rec[inner].ravel())[0, 1]
        assert c_hebt > c_eds, el
