"""``atomtomo sirt``, ``atomtomo eds`` and ``atomtomo hebt`` on tiny files in tmp_path."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.hebt import HebtParams, reconstruct_hebt
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds, reconstruct_sirt

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
    assert sorted(p.name for p in out.iterdir()) == ["map_Ag.mrc", "map_Au.mrc"]
    for el, vol in expected.items():
        got, vs = io.read_mrc(out / f"map_{el}.mrc")
        np.testing.assert_allclose(got, vol, rtol=1e-6, atol=1e-9)
        assert vs == pytest.approx(VOXEL)
    assert main(["eds", str(dataset_dir), "--iterations", "8", "--out", str(out)]) == 2


def test_hebt_command_fits_ratios_and_writes_maps(tmp_path, dataset_dir):
    out = tmp_path / "hebt"
    argv = ["hebt", str(dataset_dir), "--alpha", "0.6", "--iterations", "10", "--out", str(out)]
    assert main(argv + ["--quiet"]) == 0
    report = json.loads((out / "response_ratios.json").read_text())
    assert set(report) == {"r", "r2"}
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
    assert report == {"r": {"Ag": 800.0, "Au": 1000.0}, "r2": None}


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
