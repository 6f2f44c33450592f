"""The end-to-end pipelines behind ``atomtomo demo`` (short runs; full runs are benchmarks)."""

from __future__ import annotations

import json

import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.est import EstParams
from napari_atomtomo.core.simulate.haadf import HaadfParams
from napari_atomtomo.pipelines.silica import (
    SilicaPipelineParams,
    dose_setting,
    run_silica_pipeline,
)


@pytest.mark.slow
def test_silica_pipeline_traces_every_atom_of_a_low_noise_series(tmp_path):
    """Simulate → align → EST → trace → compare on the shipped particle.

    With 30 + 30 EST iterations and R_noise 10 % every Si and O is found with the right
    element and all but a few atoms within the 1 Å resolution (the full 200 + 200 run is
    ``atomtomo demo``; the paper's numbers are in docs/reproduction-silica.md).
    """
    params = SilicaPipelineParams(
        haadf=HaadfParams(r_noise=0.10, seed=1),
        est=EstParams(n_iter=30, n_iter_tight=30),
    )
    steps = []
    res = run_silica_pipeline(tmp_path, params, callback=lambda s, d, t, m: steps.append(s))
    c = res.summary["comparison"]
    assert c["counts_traced"] == {"Si": 334, "O": 668}
    assert c["misplaced_by_element"]["Si"] <= 2
    assert c["n_misplaced"] < 60
    assert c["rmsd_A"] < 0.3
    assert max(res.summary["alignment_rms_error_px"]) < 0.25
    assert abs(res.summary["r_noise"] - 0.10) < 0.01
    # the default tracing is by subtraction, with the automatic pre-filter recorded
    assert res.summary["parameters"]["tracing"] == "subtraction"
    assert 0.3 < res.summary["parameters"]["prefilter_sigma_used_voxels"] < 1.0
    assert res.traced is not None and res.comparison is not None
    assert {"simulate", "align", "est", "trace"} <= set(steps)
    for name in ("haadf.mrc", "angles.tlt", "aligned.mrc", "shifts.json", "est.mrc",
                 "atoms_traced.xyz", "atoms_traced.csv", "compare.json", "report.md",
                 "fig3_peaks.png", "fig5_deviations.png", "fig4_slices.png"):
        assert (tmp_path / name).is_file(), name
    vol, vs = io.read_mrc(tmp_path / "est.mrc")
    assert vol.shape == (100, 100, 100) and vs == pytest.approx(0.5)
    assert json.loads((tmp_path / "compare.json").read_text())["n_traced"] == 1002
    # a second run refuses to overwrite without force
    with pytest.raises(FileExistsError, match="--force"):
        run_silica_pipeline(tmp_path, params)


@pytest.mark.parametrize("kwargs, match", [({"tracing": "peakmax"}, "tracing must be one of"),
                                           ({"prefilter_sigma": -1.0}, "prefilter_sigma"),
                                           ({"resolution_A": 0.0}, "resolution_A")])
def test_silica_params_reject_bad_values_with_one_sentence(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SilicaPipelineParams(**kwargs)


@pytest.mark.parametrize("value, expected", [("10", {"r_noise": 0.10}), ("25", {"r_noise": 0.25}),
                                             ("2.2e6", {"dose": 2.2e6})])
def test_dose_setting_accepts_presets_and_doses(value, expected):
    assert dose_setting(value) == expected


@pytest.mark.parametrize("value", ["11", "abc", "-5", "nan"])
def test_dose_setting_rejects_other_values_with_one_sentence(value):
    with pytest.raises(ValueError, match="preset"):
        dose_setting(value)


@pytest.mark.slow
def test_demo_command_writes_both_reports(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--iterations", "5", "--quiet"]) == 0
    assert (out / "silica" / "report.md").is_file()
    assert (out / "agau" / "report.md").is_file()
    summary = json.loads((out / "agau" / "summary.json").read_text())
    assert set(summary["hebt"]["scores"]) == {"Ag", "Au"}
    index = (out / "README.md").read_text()
    assert "silica/report.md" in index and "agau/report.md" in index
    # refuses a non-empty output folder without --force, with one sentence
    assert main(["demo", "--out", str(out), "--quiet"]) == 2
    assert "--force" in capsys.readouterr().err
