"""``atomtomo quantify`` and ``atomtomo simulate agau``."""

import json

import mrcfile
import numpy as np
import pytest

from napari_atomtomo.cli import main
from napari_atomtomo.core.elements import TABLE2_LINES
from napari_atomtomo.io import read_dataset, read_mrc, write_mrc
from napari_atomtomo.jobs import run_to_end


def _write_maps(folder, kind="eds", extra=None):
    """Noise-free maps X_A = factor_A C_A ρ of a two-phase disc, as map_<El>.mrc."""
    which = "f" if kind == "eds" else "z"
    n = 40
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    r = np.hypot(yy, xx)
    c_au = np.where(r < 8, 0.8, np.where(r < 15, 0.2, 0.0))[:, None, :]
    c_ag = np.where(r < 15, 1.0 - c_au[:, 0, :], 0.0)[:, None, :]
    rho = np.where(r < 8, 16.5, np.where(r < 15, 11.5, 0.0))[:, None, :]
    folder.mkdir(exist_ok=True)
    for el, c in (("Ag", c_ag), ("Au", c_au)):
        write_mrc(folder / f"map_{el}.mrc", 100 * getattr(TABLE2_LINES[el], which) * c * rho, 15.0)
    for el, data in (extra or {}).items():
        write_mrc(folder / f"map_{el}.mrc", data, 15.0)
    return {"Ag": c_ag, "Au": c_au}, r < 15


@pytest.mark.parametrize("kind", ["eds", "hebt"])
def test_quantify_writes_fractions_and_json(tmp_path, kind):
    conc, particle = _write_maps(tmp_path / "maps", kind)
    out = tmp_path / "wt"
    assert main(["quantify", str(tmp_path / "maps"), "--kind", kind, "--out", str(out)]) == 0
    for el in ("Ag", "Au"):
        wt, vs = read_mrc(out / f"wt_{el}.mrc")
        assert vs == pytest.approx(15.0)
        np.testing.assert_allclose(wt, conc[el], atol=1e-6)
    info = json.loads((out / "quantify.json").read_text())
    assert info["kind"] == kind and info["threshold_method"] == "esf"
    assert info["volume_voxels"] == int(particle.sum())
    assert set(info["factors_b_mol_g"]) == {"Ag", "Au"}
    inside = info["mean_weight_fraction_inside"]
    assert inside["Ag"] + inside["Au"] == pytest.approx(1.0)
    assert len(info["esf"]["thresholds"]) == 100
    # A second run refuses to overwrite, and --force allows it.
    assert main(["quantify", str(tmp_path / "maps"), "--kind", kind, "--out", str(out)]) == 2
    assert main(["quantify", str(tmp_path / "maps"), "--kind", kind, "--out", str(out),
                 "--threshold", "1e-3", "--force"]) == 0
    assert json.loads((out / "quantify.json").read_text())["threshold"] == pytest.approx(1e-3)


def test_quantify_with_factor_file(tmp_path):
    maps = tmp_path / "maps"
    pt = np.zeros((40, 1, 40), dtype=np.float32)
    pt[10:30, 0, 10:30] = 5.0
    _write_maps(maps, "eds", extra={"Pt": pt})
    out = tmp_path / "wt"
    assert main(["quantify", str(maps), "--kind", "eds", "--out", str(out)]) == 2  # no Pt factor
    factors = tmp_path / "f.json"
    factors.write_text(json.dumps({"Pt": {"z": 1.0e5, "f": 1.1}}))
    assert main(["quantify", str(maps), "--kind", "eds", "--factors", str(factors),
                 "--out", str(out)]) == 0
    info = json.loads((out / "quantify.json").read_text())
    assert info["factors_b_mol_g"]["Pt"] == 1.1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "eds", "--threshold", "-2"], "finite number >= 0"),
        (["--kind", "eds", "--threshold", "nan"], "finite number >= 0"),
        (["--kind", "eds", "--threshold", "otsu"], "'auto' or a number"),
    ],
)
def test_quantify_bad_threshold(tmp_path, capsys, args, message):
    _write_maps(tmp_path / "maps")
    assert main(["quantify", str(tmp_path / "maps"), *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_quantify_missing_maps_and_mismatched_shapes(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["quantify", str(tmp_path / "empty"), "--kind", "eds", "--out", str(tmp_path / "o")]) == 2
    assert "no map_<Element>.mrc" in capsys.readouterr().err
    maps = tmp_path / "maps"
    _write_maps(maps)
    write_mrc(maps / "map_Au.mrc", np.ones((10, 1, 10), np.float32), 15.0, force=True)
    before = mrcfile.read(maps / "map_Ag.mrc").copy()
    assert main(["quantify", str(maps), "--kind", "hebt", "--out", str(tmp_path / "o")]) == 2
    assert "same shape" in capsys.readouterr().err
    np.testing.assert_array_equal(mrcfile.read(maps / "map_Ag.mrc"), before)  # input untouched


def test_quantify_bad_kind_is_an_argparse_error(tmp_path):
    with pytest.raises(SystemExit):
        main(["quantify", str(tmp_path), "--kind", "haadf", "--out", str(tmp_path / "o")])


def test_simulate_agau_writes_dataset(tmp_path):
    out = tmp_path / "agau"
    assert main(["simulate", "agau", str(out), "--seed", "2"]) == 0
    ds = read_dataset(out)
    assert ds.haadf.shape == (31, 1, 97) and sorted(ds.eds) == ["Ag", "Au"]
    assert sorted(ds.phantoms) == ["Ag", "Au"] and ds.voxel_size == pytest.approx(15.0)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["seed"] == 2 and truth["params"]["gaussian_sigma"] == 0.8
    assert main(["simulate", "agau", str(out), "--seed", "2"]) == 2  # exists
    assert main(["simulate", "agau", str(out), "--no-filter", "--force"]) == 0
    assert json.loads((out / "truth.json").read_text())["params"]["gaussian_sigma"] == 0.0
    raw = read_dataset(out).eds["Ag"]
    assert np.all(raw == np.round(raw))  # unfiltered Poisson counts


def test_quantify_regions_and_standard_errors_from_resamples(tmp_path, capsys):
    conc, particle = _write_maps(tmp_path / "maps", "hebt")
    n = 40
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    r = np.hypot(yy, xx)
    labels = np.where(r < 8, 1, np.where(r < 15, 2, 0)).astype(np.float32)[:, None, :]
    write_mrc(tmp_path / "labels.mrc", labels, 15.0)
    # Two replicas: the Au map scaled by 1.1 and 0.9 (a known spread of the region means).
    means = []
    for i, scale in enumerate((1.1, 0.9)):
        sub = tmp_path / "maps" / "resamples" / f"{i:03d}"
        sub.mkdir(parents=True)
        for el in ("Ag", "Au"):
            data, _ = read_mrc(tmp_path / "maps" / f"map_{el}.mrc")
            write_mrc(sub / f"map_{el}.mrc", data * (scale if el == "Au" else 1.0), 15.0)
        q_au = scale * TABLE2_LINES["Au"].z * conc["Au"] / TABLE2_LINES["Au"].z
        wt_au = np.divide(q_au, q_au + conc["Ag"], out=np.zeros_like(q_au), where=particle[:, None, :])
        means.append({lab: float(wt_au[labels == lab].mean()) for lab in (1, 2)})
    out = tmp_path / "wt"
    assert main(["quantify", str(tmp_path / "maps"), "--kind", "hebt", "--regions",
                 str(tmp_path / "labels.mrc"), "--out", str(out)]) == 0
    info = json.loads((out / "quantify.json").read_text())
    assert info["resamples"] == 2 and info["se_method"] == "poisson_resampling"
    core, shell = info["regions"]["1"], info["regions"]["2"]
    assert core["n_voxels"] == int((labels == 1).sum()) and shell["n_voxels"] == int((labels == 2).sum())
    assert core["mean"]["Au"] == pytest.approx(0.8, abs=1e-6)
    assert shell["mean"]["Ag"] == pytest.approx(0.8, abs=1e-6)
    for lab, reg in (("1", core), ("2", shell)):
        spread = np.std([m[int(lab)] for m in means], ddof=1)
        assert reg["standard_error"]["Au"] == pytest.approx(spread, rel=1e-4)
    text = capsys.readouterr().out
    assert "1 (" in text and "Au 80.0 ± " in text and " wt %" in text
    # A label map of another shape is refused in one sentence.
    write_mrc(tmp_path / "bad.mrc", np.ones((5, 1, 5), np.float32), 15.0)
    assert main(["quantify", str(tmp_path / "maps"), "--kind", "hebt", "--regions",
                 str(tmp_path / "bad.mrc"), "--out", str(tmp_path / "o2")]) == 2
    assert "has shape (5, 1, 5)" in capsys.readouterr().err


def test_quantify_bad_fit_warns_and_falls_back(tmp_path, capsys):
    # Featureless maps (uniform noise) give a V(t) without a plateau: the ESF fit is poor,
    # the threshold falls back to Otsu's, and the CLI and the JSON say so.
    rng = np.random.default_rng(0)
    maps = tmp_path / "maps"
    maps.mkdir()
    for el in ("Ag", "Au"):
        write_mrc(maps / f"map_{el}.mrc", rng.uniform(0, 1, (48, 1, 48)).astype(np.float32), 15.0)
    out = tmp_path / "wt"
    assert main(["quantify", str(maps), "--kind", "hebt", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "(otsu" in captured.out
    assert "warning: " in captured.err and "fell back to Otsu's threshold" in captured.err
    info = json.loads((out / "quantify.json").read_text())
    assert info["threshold_method"] == "otsu" and info["fallback"] is True
    assert info["fit_quality"]["good"] is False
    assert any("fell back to Otsu" in w for w in info["warnings"])
    assert info["esf"]["warning"] == info["warnings"][0]


def test_quantify_takes_the_particle_from_the_haadf_series(tmp_path, capsys):
    from napari_atomtomo.core.simulate.phantoms import PhantomParams, simulate_phantom
    from napari_atomtomo.io import write_dataset

    ds = simulate_phantom(PhantomParams(layout="janus", n_pixels=40), seed=2)
    write_dataset(tmp_path / "data", ds)
    assert main(["eds", str(tmp_path / "data"), "--out", str(tmp_path / "maps"), "--quiet"]) == 0
    out = tmp_path / "wt"
    assert main(["quantify", str(tmp_path / "maps"), "--kind", "eds", "--haadf",
                 str(tmp_path / "data" / "haadf.mrc"), "--out", str(out)]) == 0
    assert "particle from the HAADF series" in capsys.readouterr().out
    info = json.loads((out / "quantify.json").read_text())
    assert info["threshold_source"] == "haadf" and info["threshold_method"] == "particle"
    assert info["threshold"] is None and info["haadf"]["method"] == "esf"
    particle = ds.regions > 0
    assert info["volume_voxels"] == pytest.approx(particle.sum(), rel=0.05)
    assert info["support_source"] == "haadf" and 0.6 < info["region_to_support"] <= 1.0
    wt, _ = read_mrc(out / "wt_Au.mrc")
    # The Janus halves: 15 and 85 wt % Au, within 5 wt % away from the interface.
    x = np.arange(40) - 19.5
    left = particle & (x < -3)[None, None, :]
    right = particle & (x > 3)[None, None, :]
    assert wt[left].mean() == pytest.approx(0.15, abs=0.05)
    assert wt[right].mean() == pytest.approx(0.85, abs=0.05)


def test_quantify_flags_a_region_whose_interface_lies_in_the_missing_wedge(tmp_path, capsys):
    # A disc with a horizontal interface (a cap on top, stacked along z, the beam direction)
    # and a vertical one (left/right halves below): the cap's interface faces the beam, so
    # a ±75° series never measures it (the missing wedge) and the cap is flagged; at ±90°
    # nothing is; the halves never are.
    n = 40
    zz, xx = np.mgrid[:n, :n] - (n - 1) / 2
    disc = np.hypot(zz, xx) < 15
    labels = np.where(disc, np.where(zz < -6, 3, np.where(xx < 0, 1, 2)), 0)[:, None, :]
    c_au = np.choose(labels, [0.0, 0.2, 0.8, 0.5]).astype(np.float64)
    folder = tmp_path / "maps"
    folder.mkdir()
    for el, c in (("Ag", np.where(labels > 0, 1 - c_au, 0.0)), ("Au", c_au)):
        write_mrc(folder / f"map_{el}.mrc", (100 * TABLE2_LINES[el].z * c * 12.0).astype(np.float32), 15.0)
    write_mrc(tmp_path / "labels.mrc", labels.astype(np.float32), 15.0)
    (folder / "hebt.json").write_text(json.dumps({"tilt_range_deg": [-75.0, 75.0]}))
    out = tmp_path / "wt"
    assert main(["quantify", str(folder), "--kind", "hebt", "--regions", str(tmp_path / "labels.mrc"),
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    info = json.loads((out / "quantify.json").read_text())
    assert info["max_tilt_deg"] == 75.0 and info["max_tilt_source"].endswith("hebt.json")
    assert set(info["resolution_voxels"]) == {"z", "x"}
    assert all(1.5 < v < 4 for v in info["resolution_voxels"].values())  # a sharp edge: ~2 voxels
    rel = {k: r["reliability"] for k, r in info["regions"].items()}
    assert not rel["3"]["reliable"] and rel["3"]["wedge_fraction"] > 0.5
    assert rel["1"]["reliable"] and rel["2"]["reliable"]
    assert any(w.startswith("composition of region 3 is unreliable") for w in info["warnings"])
    assert not any("region 1 " in w or "region 2 " in w for w in info["warnings"])
    assert "composition of region 3 is unreliable" in captured.err
    assert "[unreliable" in captured.out
    # A full ±90° range measures every interface: nothing is flagged.
    out90 = tmp_path / "wt90"
    assert main(["quantify", str(folder), "--kind", "hebt", "--regions", str(tmp_path / "labels.mrc"),
                 "--max-tilt", "90", "--out", str(out90)]) == 0
    info = json.loads((out90 / "quantify.json").read_text())
    assert info["max_tilt_source"] == "--max-tilt"
    assert all(r["reliability"]["reliable"] for r in info["regions"].values())
    assert not any("unreliable" in w for w in info["warnings"])
    assert main(["quantify", str(folder), "--kind", "hebt", "--max-tilt", "120",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "--max-tilt must be an angle" in capsys.readouterr().err


def _write_core_shell(tmp_path):
    """Blurred core-shell maps in ``tmp_path/maps`` and their full label map ``labels.mrc``:
    ``(folder, maps, labels, truth)`` of :func:`blurred_regions.blurred_core_shell`."""
    from blurred_regions import blurred_core_shell

    maps, labels, truth = blurred_core_shell(2, sigma=1.5)
    folder = tmp_path / "maps"
    folder.mkdir()
    for el, m in maps.items():
        write_mrc(folder / f"map_{el}.mrc", m, 15.0)
    write_mrc(tmp_path / "labels.mrc", labels.astype(np.float32), 15.0)
    return folder, maps, labels, truth


def test_quantify_regions_margin_keys_and_the_job_gives_the_same(tmp_path, capsys):
    # Blurred maps of a core (80 wt % Zn) in a shell (20 %), the full true label map (as a
    # user paints it): the CLI averages each region away from the boundaries and says so,
    # --region-margin 0 gives the former (biased) means, and the widget's job path
    # (jobs.quantify.labels_composition on a ThresholdPicker) gives the same as the CLI.
    from napari_atomtomo.jobs.quantify import iter_quantify_job, labels_composition

    folder, maps, labels, truth = _write_core_shell(tmp_path)
    (folder / "hebt.json").write_text(json.dumps({"tilt_range_deg": [-90.0, 90.0]}))
    runs = {}
    for margin in ("auto", "0"):
        out = tmp_path / f"wt_{margin}"
        assert main(["quantify", str(folder), "--kind", "hebt", "--regions",
                     str(tmp_path / "labels.mrc"), "--region-margin", margin,
                     "--out", str(out)]) == 0
        runs[margin] = json.loads((out / "quantify.json").read_text())
        text = capsys.readouterr().out
        assert "region margin " in text
    info = runs["auto"]
    rm = info["region_margin"]
    assert rm["requested"] == "auto" and rm["source"].startswith("auto: 2 σ of the blur")
    assert rm["margin_A"] == pytest.approx(15.0 * rm["margin_voxels"]) and rm["margin_voxels"] > 2
    for k, t in truth.items():
        reg, off = info["regions"][k], runs["0"]["regions"][k]
        for key in ("n_voxels", "mean", "standard_error", "reliability"):  # kept contracts
            assert key in reg
        assert reg["n_voxels_painted"] == reg["n_voxels"] == off["n_voxels_used"]
        assert 0 < reg["n_voxels_used"] < reg["n_voxels_painted"]
        assert reg["margin_voxels"] == pytest.approx(rm["margin_voxels"])
        assert reg["margin_A"] == pytest.approx(rm["margin_A"]) and reg["margin_fallback"] is False
        assert reg["margin_source"] == rm["source"]
        assert abs(reg["mean"]["Zn"] - t) < 0.02 and abs(reg["mean"]["Zn"] - t) < abs(off["mean"]["Zn"] - t)
    assert abs(runs["0"]["regions"]["1"]["mean"]["Zn"] - truth["1"]) > 0.04
    assert runs["0"]["region_margin"]["margin_voxels"] == 0
    # The widget's job path: the same core function, the same numbers.
    picker = run_to_end(iter_quantify_job(
        {el: read_mrc(folder / f"map_{el}.mrc")[0] for el in maps}, "hebt"))
    inside = picker.mask(picker.auto_threshold)
    warnings: list = []
    regions, margin = labels_composition(picker, picker.weight_fractions(picker.auto_threshold, inside),
                                         inside, labels, [], 15.0, 90.0, warnings)
    assert margin["margin_voxels"] == pytest.approx(rm["margin_voxels"])
    for k in truth:
        assert regions[k]["n_voxels_used"] == info["regions"][k]["n_voxels_used"]
        assert regions[k]["mean"]["Zn"] == pytest.approx(info["regions"][k]["mean"]["Zn"], abs=1e-6)
    # A bad margin is refused before any work.
    assert main(["quantify", str(folder), "--kind", "hebt", "--regions", str(tmp_path / "labels.mrc"),
                 "--region-margin", "-1", "--out", str(tmp_path / "bad")]) == 2
    assert "--region-margin" in capsys.readouterr().err


def test_quantify_regions_measure_the_edge_resolution_once(tmp_path, monkeypatch):
    # The CLI reports the resolution and hands the same measurement to region_composition,
    # which used to measure it again; the regions and their margins are as measured there.
    from napari_atomtomo.core import reliability
    from napari_atomtomo.core.quantify import summed_map
    from napari_atomtomo.core.region_margin import region_composition

    folder, maps, labels, _ = _write_core_shell(tmp_path)
    calls = []
    measure = reliability.edge_resolution
    monkeypatch.setattr(reliability, "edge_resolution",
                        lambda *a: calls.append(1) or measure(*a))
    assert main(["quantify", str(folder), "--kind", "hebt", "--max-tilt", "90", "--regions",
                 str(tmp_path / "labels.mrc"), "--out", str(tmp_path / "wt")]) == 0
    assert calls == [1]
    info = json.loads((tmp_path / "wt" / "quantify.json").read_text())
    assert info["region_margin"]["resolution_voxels"] == info["resolution_voxels"]
    # measured inside region_composition (summed map given), the numbers are the same
    wt = {el: read_mrc(tmp_path / "wt" / f"wt_{el}.mrc")[0] for el in maps}
    mask = wt["Zn"] > 0
    summed, _ = summed_map(maps, "hebt")
    regions, _, margin = region_composition(wt, mask, labels, summed=summed, voxel_size=15.0,
                                            max_tilt_deg=90.0)
    assert margin["resolution_voxels"] == info["resolution_voxels"]
    assert json.loads(json.dumps(regions)) == info["regions"]
