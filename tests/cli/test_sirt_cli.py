"""``atomtomo sirt``, ``atomtomo eds`` and ``atomtomo hebt`` (with ``--sweep``, the GUI's
α × n sweep) on tiny files in tmp_path."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.hebt import HebtParams, reconstruct_hebt
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds, reconstruct_sirt
from napari_atomtomo.jobs import run_to_end
from napari_atomtomo.jobs.sweep import WT_ERROR, iter_hebt_sweep, parse_sweep

ANGLES = np.arange(-75.0, 76.0, 15.0)
VOXEL = 15.0  # Å


def maps_2d(n: int = 20) -> dict[str, np.ndarray]:
    zz, xx = np.mgrid[:n, :n] - (n - 1) / 2
    rr = np.hypot(zz, 1.3 * xx)
    core, shell = rr < 0.2 * n, (rr < 0.4 * n) & (rr >= 0.2 * n)
    return {
        "Ag": (0.2 * core + 0.8 * shell).astype(np.float32)[:, None, :],
        "Au": (0.8 * core + 0.2 * shell).astype(np.float32)[:, None, :],
    }


@pytest.fixture
def dataset_dir(tmp_path):
    ratios = {"Ag": 805.0, "Au": 987.0}
    maps = maps_2d()
    eds = {el: forward_project(m, ANGLES) / ratios[el] for el, m in maps.items()}
    haadf = forward_project(sum(maps.values()), ANGLES)
    folder = tmp_path / "data"
    io.write_dataset(folder, io.DataSet(haadf, eds, ANGLES, VOXEL))
    return folder


def digest(folder) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_sirt_command_writes_the_reconstruction(tmp_path, dataset_dir, capsys):
    out = tmp_path / "vol.mrc"
    before = digest(dataset_dir)
    stack = str(dataset_dir / "haadf.mrc")
    argv = ["sirt", stack, "--iterations", "12", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert "wrote" in capsys.readouterr().out
    volume, vs = io.read_mrc(out)
    data = io.read_dataset(dataset_dir)
    expected = reconstruct_sirt(data.haadf, ANGLES, SirtParams(n_iter=12)).volume
    np.testing.assert_allclose(volume, expected, rtol=1e-6, atol=1e-7)
    assert vs == pytest.approx(VOXEL)
    assert digest(dataset_dir) == before
    # refuses to overwrite without --force, then overwrites with it
    assert main(argv) == 2
    assert "exists" in capsys.readouterr().err
    angles = ["--angles", str(dataset_dir / "angles.tlt")]
    assert main(argv + angles + ["--force", "--allow-negative"]) == 0


def test_sirt_command_bad_input_is_one_line(tmp_path, dataset_dir, capsys):
    stack = str(dataset_dir / "haadf.mrc")
    assert main(["sirt", stack, "--iterations", "0", "--out", str(tmp_path / "v.mrc")]) == 2
    err = capsys.readouterr().err.strip()
    assert "n_iter must be" in err and len(err.splitlines()) == 1
    assert main(["sirt", stack, "--relaxation", "3", "--out", str(tmp_path / "v.mrc")]) == 2
    assert "relaxation must be in (0, 2)" in capsys.readouterr().err
    assert not (tmp_path / "v.mrc").exists()


def test_eds_command_writes_one_map_per_element(tmp_path, dataset_dir):
    out = tmp_path / "maps"
    assert main(["eds", str(dataset_dir), "--iterations", "8", "--out", str(out), "--quiet"]) == 0
    data = io.read_dataset(dataset_dir)
    expected = reconstruct_eds(data.eds, ANGLES, SirtParams(n_iter=8))
    assert sorted(p.name for p in out.iterdir()) == ["eds.json", "map_Ag.mrc", "map_Au.mrc"]
    report = json.loads((out / "eds.json").read_text())
    assert report["stop"]["rule"] == "none" and report["elements"]["Ag"]["iterations"] == 8
    for el, vol in expected.items():
        got, vs = io.read_mrc(out / f"map_{el}.mrc")
        np.testing.assert_allclose(got, vol, rtol=1e-6, atol=1e-9)
        assert vs == pytest.approx(VOXEL)
    assert main(["eds", str(dataset_dir), "--iterations", "8", "--out", str(out)]) == 2


def test_eds_stop_rules_and_resamples(tmp_path, dataset_dir, capsys):
    from napari_atomtomo.core.stopping import StopParams, sirt_stopped

    data = io.read_dataset(dataset_dir)
    out = tmp_path / "maps"
    assert main(["eds", str(dataset_dir), "--stop-rule", "update", "--max-iterations", "40",
                 "--resamples", "2", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "eds.json").read_text())
    assert report["stop"]["rule"] == "update" and report["resamples"] == 2
    for el in ("Ag", "Au"):
        n = report["elements"][el]["iterations"]
        assert 1 <= n <= 40
        # The map is SIRT run for exactly the reported number of iterations.
        ref = reconstruct_sirt(data.eds[el], ANGLES, SirtParams(n_iter=n)).volume
        np.testing.assert_allclose(io.read_mrc(out / f"map_{el}.mrc")[0], ref, rtol=1e-6, atol=1e-9)
        assert (out / "resamples" / "001" / f"map_{el}.mrc").is_file()
        if report["elements"][el]["met"]:  # the rule: the last update was below tol
            prev = reconstruct_sirt(data.eds[el], ANGLES, SirtParams(n_iter=n - 1)).volume
            assert np.linalg.norm(ref - prev) <= 1e-3 * np.linalg.norm(ref)
    assert "iterations (update" in capsys.readouterr().out
    # The discrepancy principle stops at the first iteration whose misfit is below the
    # Poisson noise level Σ b.
    stack = data.eds["Au"]
    vol, info = sirt_stopped(stack, ANGLES, StopParams(rule="discrepancy", max_iterations=60))
    target = np.sqrt(np.maximum(stack, 0).sum()) / np.linalg.norm(stack)
    res = reconstruct_sirt(stack, ANGLES, SirtParams(n_iter=info.iterations)).residuals
    assert info.noise_level == pytest.approx(target)
    if info.met:
        assert res[-1] <= target and (info.iterations == 1 or res[-2] > target)
    else:
        assert info.iterations == 60 and res[-1] > target
    with pytest.raises(SystemExit):
        main(["eds", str(dataset_dir), "--stop-rule", "bogus", "--out", str(tmp_path / "x")])
    assert main(["eds", str(dataset_dir), "--resamples", "1", "--out", str(tmp_path / "x")]) == 2
    assert "--resamples must be 0 or between 2 and 1000" in capsys.readouterr().err


def test_hebt_command_fits_ratios_and_writes_maps(tmp_path, dataset_dir):
    out = tmp_path / "hebt"
    argv = ["hebt", str(dataset_dir), "--alpha", "0.6", "--iterations", "10", "--out", str(out)]
    assert main(argv + ["--quiet"]) == 0
    report = json.loads((out / "response_ratios.json").read_text())
    assert set(report) == {"r", "r2", "method", "relative_se", "warning", "haadf_sigma_px"}
    assert report["haadf_sigma_px"] == pytest.approx(0.0, abs=0.1)  # data at one resolution
    assert report["method"] == "fitted" and report["warning"] is None
    assert report["r"]["Ag"] == pytest.approx(805.0, rel=1e-4)
    assert report["r"]["Au"] == pytest.approx(987.0, rel=1e-4)
    assert report["r2"] == pytest.approx(1.0, abs=1e-6)
    data = io.read_dataset(dataset_dir)
    expected = reconstruct_hebt(data.haadf, data.eds, ANGLES, HebtParams(alpha=0.6, n_iter=10))
    for el, vol in expected.maps.items():
        got, _ = io.read_mrc(out / f"map_{el}.mrc")
        np.testing.assert_allclose(got, vol, rtol=1e-6, atol=1e-6 * vol.max())

    # given ratios (our own output format is accepted as input): r2 is null
    ratios = tmp_path / "r.json"
    ratios.write_text(json.dumps({"r": {"Ag": 800, "Au": 1000}}))
    out2 = tmp_path / "hebt2"
    assert main(["hebt", str(dataset_dir), "--ratios", str(ratios), "--iterations", "3",
                 "--out", str(out2), "--quiet"]) == 0
    report = json.loads((out2 / "response_ratios.json").read_text())
    assert report == {"r": {"Ag": 800.0, "Au": 1000.0}, "r2": None, "method": "given"}
    # Resampled replicas: same ratios, EDS counts redrawn (seeded), one folder each.
    out3 = tmp_path / "hebt3"
    assert main(["hebt", str(dataset_dir), "--ratios", str(ratios), "--iterations", "3",
                 "--resamples", "2", "--seed", "4", "--out", str(out3), "--quiet"]) == 0
    from napari_atomtomo.core.regions import poisson_resample

    data = io.read_dataset(dataset_dir)
    rng = np.random.default_rng(4)
    for i in range(2):
        ref = reconstruct_hebt(data.haadf, poisson_resample(data.eds, rng), ANGLES,
                               HebtParams(n_iter=3), ratios={"Ag": 800, "Au": 1000}).maps
        got, _ = io.read_mrc(out3 / "resamples" / f"{i:03d}" / "map_Au.mrc")
        np.testing.assert_allclose(got, ref["Au"], rtol=1e-5, atol=1e-6 * ref["Au"].max())


@pytest.mark.parametrize(
    "extra, ratios, message",
    [
        (["--alpha", "1.5"], None, r"alpha must be in [0, 1], got 1.5"),
        ([], {"Ag": 805}, "ratios has no value for element 'Au'"),
        ([], {"Ag": 805, "Au": -1}, "ratio for 'Au' must be a positive number"),
        ([], "not json", "is not valid JSON"),
    ],
)
def test_hebt_command_bad_input(tmp_path, dataset_dir, capsys, extra, ratios, message):
    argv = ["hebt", str(dataset_dir), "--iterations", "2", "--out", str(tmp_path / "o"), "--quiet"]
    if ratios is not None:
        path = tmp_path / "r.json"
        path.write_text(ratios if isinstance(ratios, str) else json.dumps({"r": ratios}))
        argv += ["--ratios", str(path)]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o" / "response_ratios.json").exists()


def test_eds_command_refuses_negative_counts(tmp_path):
    eds = {"Ag": np.ones((ANGLES.size, 1, 12), np.float32)}
    eds["Au"] = -eds["Ag"]
    folder = tmp_path / "neg"
    io.write_dataset(folder, io.DataSet(eds["Ag"], eds, ANGLES, VOXEL))
    assert main(["eds", str(folder), "--out", str(tmp_path / "m"), "--quiet"]) == 2
    assert not (tmp_path / "m").exists()


# ------------------------------------------------------------------ --shifts / --support
def shifted_dataset(tmp_path):
    """The maps of ``maps_2d`` seen with per-image shifts, and a support wider than the images.

    The volume is 24 voxels wide along x (the images 20) so the support sets its shape.
    """
    rng = np.random.default_rng(4)
    shifts = np.column_stack([np.zeros(ANGLES.size), rng.uniform(-1.5, 1.5, ANGLES.size)])
    maps = {el: np.pad(m, ((2, 2), (0, 0), (2, 2))) for el, m in maps_2d().items()}
    ratios = {"Ag": 805.0, "Au": 987.0}
    eds = {el: forward_project(m, ANGLES, n_u=20, shifts=shifts) / ratios[el]
           for el, m in maps.items()}
    haadf = forward_project(sum(maps.values()), ANGLES, n_u=20, shifts=shifts)
    folder = tmp_path / "shifted"
    io.write_dataset(folder, io.DataSet(haadf, eds, ANGLES, VOXEL))
    support = np.zeros((24, 1, 24), dtype=bool)
    support[2:-2, :, 1:-1] = True
    io.write_shifts(tmp_path / "shifts.json", shifts)
    io.write_mrc(tmp_path / "support.mrc", support.astype(np.float32), VOXEL)
    return folder, shifts, support


def test_sirt_eds_hebt_take_shifts_and_support(tmp_path):
    folder, shifts, support = shifted_dataset(tmp_path)
    extra = ["--shifts", str(tmp_path / "shifts.json"), "--support", str(tmp_path / "support.mrc"),
             "--quiet"]
    data = io.read_dataset(folder)
    params = SirtParams(n_iter=10)
    kw = {"support": support, "shifts": shifts}

    out = tmp_path / "vol.mrc"
    assert main(["sirt", str(folder / "haadf.mrc"), "--iterations", "10", "--out", str(out)]
                + extra) == 0
    got, _ = io.read_mrc(out)
    expected = reconstruct_sirt(data.haadf, ANGLES, params, **kw).volume
    assert got.shape == (24, 1, 24) and not got[~support].any()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    # the shifts matter: without them the data are explained less well
    plain = reconstruct_sirt(data.haadf, ANGLES, params, support=support)
    with_shifts = reconstruct_sirt(data.haadf, ANGLES, params, **kw)
    assert with_shifts.residuals[-1] < 0.5 * plain.residuals[-1]

    assert main(["eds", str(folder), "--iterations", "10", "--out", str(tmp_path / "e")]
                + extra) == 0
    for el, vol in reconstruct_eds(data.eds, ANGLES, params, **kw).items():
        got, _ = io.read_mrc(tmp_path / "e" / f"map_{el}.mrc")
        np.testing.assert_allclose(got, vol, rtol=1e-6, atol=1e-9)

    argv = ["hebt", str(folder), "--alpha", "0.7", "--iterations", "6", "--out",
            str(tmp_path / "h")]
    assert main(argv + extra) == 0
    hebt = reconstruct_hebt(data.haadf, data.eds, ANGLES, HebtParams(alpha=0.7, n_iter=6), **kw)
    for el, vol in hebt.maps.items():
        got, _ = io.read_mrc(tmp_path / "h" / f"map_{el}.mrc")
        assert got.shape == (24, 1, 24)
        np.testing.assert_allclose(got, vol, rtol=1e-6, atol=1e-6 * vol.max())


@pytest.mark.parametrize("command", ["sirt", "eds", "hebt"])
@pytest.mark.parametrize(
    "bad, message",
    [
        ("short-shifts", "has 3 shifts but the tilt series has 11 images"),
        ("wrong-rows", r"needs a (z, 1, x) volume"),
        ("not-binary", "must hold only 0 and 1, found 1 other values (e.g. 0.5)"),
        ("empty", "is all zeros; nothing to reconstruct"),
        ("missing", "does not exist"),
    ],
)
def test_shifts_and_support_bad_input_is_one_line(tmp_path, dataset_dir, capsys, command,
                                                   bad, message):
    mask = np.ones((20, 1, 20), np.float32)
    option, path = "--support", tmp_path / "mask.mrc"
    if bad == "short-shifts":
        option, path = "--shifts", tmp_path / "s.json"
        io.write_shifts(path, np.zeros((3, 2)))
    elif bad == "wrong-rows":
        io.write_mrc(path, np.ones((20, 2, 20), np.float32), VOXEL)
    elif bad == "not-binary":
        mask[3, 0, 4] = 0.5
        io.write_mrc(path, mask, VOXEL)
    elif bad == "empty":
        io.write_mrc(path, 0 * mask, VOXEL)
    source = str(dataset_dir / "haadf.mrc") if command == "sirt" else str(dataset_dir)
    out = tmp_path / ("v.mrc" if command == "sirt" else "maps")
    argv = [command, source, "--iterations", "2", option, str(path), "--out", str(out), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_eds_default_rule_is_the_dataclass_default():
    from napari_atomtomo.cli import build_parser
    from napari_atomtomo.core.stopping import StopParams

    args = build_parser().parse_args(["eds", "d", "--out", "o"])
    assert args.stop_rule == StopParams.rule == "update"
    assert args.max_iterations == StopParams.max_iterations


# ------------------------------------------------------------------ hebt --sweep
def _sweep_dataset(folder, with_phantoms: bool):
    ratios = {"Ag": 805.0, "Au": 987.0}
    maps = maps_2d()  # weight fractions: core 20/80 %, shell 80/20 %
    eds = {el: forward_project(m, ANGLES) / ratios[el] for el, m in maps.items()}
    haadf = forward_project(sum(maps.values()), ANGLES)
    io.write_dataset(folder, io.DataSet(haadf, eds, ANGLES, VOXEL,
                                        phantoms=maps if with_phantoms else {}))
    return folder


@pytest.mark.slow
def test_sweep_with_phantoms_reports_the_quantification_error_per_cell(tmp_path, capsys):
    data = _sweep_dataset(tmp_path / "data", with_phantoms=True)
    out = tmp_path / "sweep"
    assert main(["hebt", str(data), "--sweep", "0.5,0.8:4,8", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "sweep.json").read_text())
    assert report["alphas"] == [0.5, 0.8] and report["n_iter"] == [4, 8]
    assert report["with_reference"] is True
    cells = report["cells"]
    assert [(c["alpha"], c["n_iter"]) for c in cells] == [(0.5, 4), (0.5, 8), (0.8, 4), (0.8, 8)]
    assert all(0 <= c[WT_ERROR] < 100 for c in cells)
    # the same numbers as the GUI's job on the same data
    ds = io.read_dataset(data)
    job = run_to_end(iter_hebt_sweep(ds.haadf, ds.eds, ds.angles_deg, [0.5, 0.8], [4, 8],
                                     references=ds.phantoms))
    np.testing.assert_allclose([c[WT_ERROR] for c in cells],
                               job.metrics[WT_ERROR].T.ravel(), rtol=1e-6)
    with open(out / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and float(rows[0][WT_ERROR]) == pytest.approx(cells[0][WT_ERROR])
    assert "lowest wt error %" in capsys.readouterr().out
    assert not list(out.glob("map_*.mrc"))


def test_sweep_without_truth_reports_residuals(tmp_path):
    data = _sweep_dataset(tmp_path / "data", with_phantoms=False)
    out = tmp_path / "sweep"
    assert main(["hebt", str(data), "--sweep", "0:1:0.5:3", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "sweep.json").read_text())
    assert report["alphas"] == [0.0, 0.5, 1.0] and report["with_reference"] is False
    assert WT_ERROR not in report["scores"]
    assert all(c["HAADF residual"] is not None for c in report["cells"])


@pytest.mark.parametrize("sweep, message", [
    ("0.5,0.8", "must be ALPHAS:ITERATIONS"),
    ("1.5:10", "must lie in"),
    ("0.5:ten", "whole numbers"),
])
def test_sweep_bad_grid_is_one_line_and_writes_nothing(tmp_path, capsys, sweep, message):
    data = _sweep_dataset(tmp_path / "data", with_phantoms=False)
    out = tmp_path / "sweep"
    assert main(["hebt", str(data), "--sweep", sweep, "--out", str(out), "--quiet"]) != 0
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_parse_sweep_keeps_a_range_of_alphas():
    alphas, n = parse_sweep("0:1:0.25:50,100")
    np.testing.assert_allclose(alphas, [0, 0.25, 0.5, 0.75, 1.0])
    assert list(n) == [50, 100]
