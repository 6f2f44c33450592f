"""HEBT's stopping rule (core/stopping.py): it stops when the maps stop changing, and says so."""

import json

import numpy as np
import pytest

from napari_atomtomo.core.hebt import HebtParams, reconstruct_hebt
from napari_atomtomo.core.simulate.phantoms import PhantomParams, simulate_phantom
from napari_atomtomo.core.stopping import StopParams, hebt_stopped


@pytest.fixture(scope="module")
def small():
    return simulate_phantom(PhantomParams(layout="core_shell", elements=("Co", "Au"), n_pixels=32))


def test_update_rule_stops_when_the_maps_stop_changing(small):
    ds = small
    ratios = {"Co": 1.0, "Au": 2.0}
    loose = StopParams(rule="update", max_iterations=2000, tol=1e-3)
    tight = StopParams(rule="update", max_iterations=2000, tol=1e-4)
    r_loose, i_loose = hebt_stopped(ds.haadf, ds.eds, ds.angles_deg, HebtParams(), loose, ratios=ratios)
    r_tight, i_tight = hebt_stopped(ds.haadf, ds.eds, ds.angles_deg, HebtParams(), tight, ratios=ratios)
    assert i_loose.met and i_tight.met and i_loose.rule == "update"
    assert i_loose.iterations < i_tight.iterations < 2000  # a smaller tolerance runs longer
    assert len(r_tight.residuals) == i_tight.iterations
    # The result is HEBT's at that iteration count.
    ref = reconstruct_hebt(ds.haadf, ds.eds, ds.angles_deg, HebtParams(n_iter=i_loose.iterations),
                           ratios=ratios)
    for el in ref.maps:
        np.testing.assert_allclose(r_loose.maps[el], ref.maps[el], rtol=1e-5, atol=1e-6)
    # A limit too small to meet the rule is reported as not met.
    _, info = hebt_stopped(ds.haadf, ds.eds, ds.angles_deg, HebtParams(),
                           StopParams(rule="update", max_iterations=20, tol=1e-6), ratios=ratios)
    assert info.iterations == 20 and not info.met
    _, info = hebt_stopped(ds.haadf, ds.eds, ds.angles_deg, HebtParams(),
                           StopParams(rule="none", max_iterations=7), ratios=ratios)
    assert info.iterations == 7
    with pytest.raises(ValueError, match="'update' or 'none'"):
        hebt_stopped(ds.haadf, ds.eds, ds.angles_deg, HebtParams(), StopParams(rule="discrepancy"))


def test_hebt_command_reports_how_it_stopped(tmp_path, small):
    from napari_atomtomo import io
    from napari_atomtomo.cli import main

    data = tmp_path / "data"
    io.write_dataset(data, small)
    out = tmp_path / "maps"
    assert main(["hebt", str(data), "--quiet", "--out", str(out)]) == 0
    report = json.loads((out / "hebt.json").read_text())
    assert report["stop"]["rule"] == "update" and report["stop"]["met"]
    assert 10 < report["iterations"] < report["stop"]["max_iterations"]
    fixed = tmp_path / "fixed"
    assert main(["hebt", str(data), "--quiet", "--iterations", "12", "--out", str(fixed)]) == 0
    report = json.loads((fixed / "hebt.json").read_text())
    assert report["iterations"] == 12 and report["stop"]["rule"] == "none"
