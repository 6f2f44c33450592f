"""The default route of issue 11 end to end through the CLI, on a hard case with a vacuum level.

A 35-atom amorphous Si particle (0.2 Å pixels, 60 tilts 0–177°, 1.6e5 e/Å²) on a flat vacuum
of 1 count per pixel: ``atomtomo preprocess`` (defaults: the border vacuum level) ->
``atomtomo sirt`` (defaults) -> ``atomtomo trace --elements Si`` (no tuning flag).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial import cKDTree

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.simulate.haadf import (
    HAADF_CROSS_SECTION_PER_Z18,
    HaadfParams,
    simulate_haadf_series,
)
from napari_atomtomo.core.simulate.particles import amorphous_particle

VOXEL = 0.2
ANGLES = np.arange(0.0, 178.0, 3.0)
DOSE = 1.6e5


@pytest.mark.slow
def test_preprocess_sirt_trace_default_route_with_a_vacuum_level(tmp_path, capsys):
    atoms = amorphous_particle("Si", 35, 2.3, 4.6, 0)
    sim = simulate_haadf_series(atoms, HaadfParams(
        pixel_size=VOXEL, n_pixels=64, dose=DOSE, tilt_drift_deg=0.0, shift_sigma_px=0.0,
        probe_fwhm=0.5, seed=0, vacuum_counts=1.0), angles_deg=ANGLES)
    raw, pre, vol, xyz = (tmp_path / n for n in ("raw.mrc", "pre.mrc", "vol.mrc", "atoms.xyz"))
    io.write_tilt_series(raw, sim.stack_noisy, ANGLES, VOXEL)
    assert main(["preprocess", str(raw), "--angles", str(raw.with_suffix(".tlt")),
                 "--out", str(pre)]) == 0
    report = json.loads(pre.with_suffix(".json").read_text())
    # the border strips find the vacuum level the simulator added (1 count per pixel):
    # ~960 border pixels of Poisson(1) counts give each image's level to 1/√960 = 3.2 %
    known = 1.0 / (DOSE / ANGLES.size * HAADF_CROSS_SECTION_PER_Z18)
    levels = np.asarray(report["background_levels"])
    se = known / np.sqrt(4 * 4 * 64 - 4 * 4 * 4)
    assert np.all(np.abs(levels - known) < 4.5 * se)
    assert abs(levels.mean() - known) < 4.5 * se / np.sqrt(levels.size)
    assert main(["sirt", str(pre), "--out", str(vol), "--quiet"]) == 0
    assert main(["trace", str(vol), "--elements", "Si", "--out", str(xyz),
                 "--json", str(tmp_path / "trace.json")]) == 0
    capsys.readouterr()
    traced = io.read_xyz(xyz).positions
    truth = sim.atoms.positions
    d, _ = cKDTree(traced).query(truth)
    d_back, _ = cKDTree(truth).query(traced)
    # frames: the simulator's atoms are centred like the reconstruction's voxels
    assert np.mean(d < 0.5) >= 0.99
    assert np.sum(d_back >= 0.5) <= 1  # the pooled figure over seeds is in docs/tracing.md
    rep = json.loads((tmp_path / "trace.json").read_text())
    assert rep["gates"]["n_local_maxima"] > 20 * len(truth)
    assert rep["gates"]["n_rejected_non_atoms"] > 0


def test_trace_of_noise_writes_the_report_but_no_atoms(tmp_path, capsys):
    from scipy import ndimage

    rng = np.random.default_rng(0)
    vol = np.maximum(ndimage.gaussian_filter(rng.normal(size=(48, 48, 48)), 1.0), 0)
    io.write_mrc(tmp_path / "noise.mrc", vol.astype(np.float32), VOXEL)
    rc = main(["trace", str(tmp_path / "noise.mrc"), "--elements", "Si",
               "--out", str(tmp_path / "a.xyz"), "--json", str(tmp_path / "a.json")])
    out = capsys.readouterr()
    assert rc == 2 and "can be told from noise" in out.err
    assert "gates:" in out.out and "pile up" in out.out
    assert not (tmp_path / "a.xyz").exists()
    rep = json.loads((tmp_path / "a.json").read_text())
    assert rep["gates"]["n_atoms"] == 0
    assert len(rep["rejected_candidates"]) == rep["gates"]["n_rejected_non_atoms"] > 0
