"""Figures drawn from core results in both themes (files and docks), without Qt."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_hex

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.compare import compare_atoms
from napari_atomtomo.core.trace import TraceParams, trace_atoms
from napari_atomtomo.plots import DOCK, PAPER, plot_deviations, plot_peak_intensities


def _blobs():
    """Four Gaussian atoms, two bright (Au) and two dim (Ag), 8 voxels apart."""
    zz, yy, xx = np.mgrid[:24, :24, :24].astype(np.float64)
    centres = [(6, 6, 6), (6, 16, 16), (16, 6, 16), (16, 16, 6)]
    vol = np.zeros((24, 24, 24))
    for (z, y, x), a in zip(centres, (10.0, 10.0, 4.0, 4.0)):
        vol += a * np.exp(-((zz - z) ** 2 + (yy - y) ** 2 + (xx - x) ** 2) / 2.0)
    return vol, np.asarray(centres, dtype=np.float64)


@pytest.mark.parametrize("theme", [PAPER, DOCK], ids=["paper", "dock"])
def test_peak_intensities_draw_every_peak_in_the_theme(theme):
    vol, _ = _blobs()
    res = trace_atoms(vol, 1.0, TraceParams(elements=("Au", "Ag"), min_distance_A=3.0))
    fig = plot_peak_intensities(res, title="t", theme=theme)
    ax = fig.axes[0]
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(res.atoms) == 4
    assert to_hex(ax.get_facecolor()) == to_hex(theme.face)
    assert ax.get_ylabel() == "peak intensity"


@pytest.mark.parametrize("theme", [PAPER, DOCK], ids=["paper", "dock"])
def test_deviations_ring_the_misplaced_atoms(theme):
    rng = np.random.default_rng(6)
    truth = Atoms(["Si"] * 5 + ["O"] * 10, rng.uniform(0, 20, (15, 3)))
    traced = Atoms(truth.elements, truth.positions + rng.normal(0, 0.1, (15, 3)))
    res = compare_atoms(traced, truth, resolution_A=0.15)
    assert 0 < res.misplaced.sum() < 15
    fig = plot_deviations(res, title="test", theme=theme)
    ax = fig.axes[0]
    assert ax.get_ylabel() == "deviation (Å)"
    matched, ringed = ax.collections
    assert len(matched.get_offsets()) == 15 and len(ringed.get_offsets()) == res.misplaced.sum()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["Si (5)", "O (10)"] and f"misplaced ({res.misplaced.sum()})" in labels
