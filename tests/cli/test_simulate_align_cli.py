"""``atomtomo simulate silica`` and ``atomtomo align`` end to end on files."""

import json

import numpy as np
import pytest

from napari_atomtomo.cli import main
from napari_atomtomo.io import read_mrc, read_tlt, read_xyz, write_mrc, write_tlt


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "silica25"
    assert main(["simulate", "silica", str(out), "--preset", "25", "--seed", "2"]) == 0
    return out


@pytest.mark.slow
def test_simulate_writes_the_data_set_folder(simulated):
    data, vs = read_mrc(simulated / "haadf.mrc")
    angles = read_tlt(simulated / "angles.tlt")
    atoms = read_xyz(simulated / "atoms_true.xyz")
    truth = json.loads((simulated / "truth.json").read_text())
    assert data.shape == (55, 100, 100) and vs == pytest.approx(0.5)
    assert angles.size == 55 and angles.max() == pytest.approx(72.646, abs=1e-3)
    assert len(atoms) == 1002
    assert truth["r_noise"] == pytest.approx(0.25, abs=0.01)
    assert np.allclose(np.array(truth["angles_true_deg"]) - angles, np.linspace(0, 0.5, 55), atol=1e-4)
    assert len(truth["shifts_px"]) == 55


def test_simulate_refuses_to_overwrite(simulated, capsys):
    assert main(["simulate", "silica", str(simulated), "--dose", "1e6"]) == 2
    assert "exists" in capsys.readouterr().err


def test_align_estimates_saves_and_applies_shifts(simulated, tmp_path):
    out = tmp_path / "aligned.mrc"
    shifts_json = tmp_path / "shifts.json"
    assert main(["align", str(simulated / "haadf.mrc"), "--angles", str(simulated / "angles.tlt"),
                 "--out", str(out), "--shifts-out", str(shifts_json)]) == 0
    saved = json.loads(shifts_json.read_text())
    truth = json.loads((simulated / "truth.json").read_text())
    est = np.array(saved["shifts_px"])
    true = np.array(truth["shifts_px"])
    true[:, 0] -= true[saved["reference_index"], 0]
    assert np.sqrt(np.mean((est - true) ** 2)) <= 0.25
    # apply the saved shifts to another signal of the same series: same result
    other = tmp_path / "other.mrc"
    data, vs = read_mrc(simulated / "haadf.mrc")
    write_mrc(other, data, vs, kind="stack")
    out2 = tmp_path / "other_aligned.mrc"
    assert main(["align", str(other), "--out", str(out2), "--apply-shifts", str(shifts_json)]) == 0
    np.testing.assert_allclose(read_mrc(out2)[0], read_mrc(out)[0], atol=1e-4)


def test_align_errors_are_one_line(simulated, tmp_path, capsys):
    stack = str(simulated / "haadf.mrc")
    assert main(["align", stack, "--angles", str(tmp_path / "none.tlt"),
                 "--out", str(tmp_path / "a.mrc")]) == 2
    assert "does not exist" in capsys.readouterr().err
    short = tmp_path / "short.tlt"
    write_tlt(short, np.linspace(-60, 60, 54))
    assert main(["align", stack, "--angles", str(short), "--out", str(tmp_path / "b.mrc")]) == 2
    assert "54 entries but the tilt series has 55 images" in capsys.readouterr().err
    zeros = tmp_path / "zeros.mrc"
    write_mrc(zeros, np.zeros((3, 8, 8), np.float32), 0.5, kind="stack")
    write_tlt(tmp_path / "zeros.tlt", [-10.0, 0.0, 10.0])
    assert main(["align", str(zeros), "--out", str(tmp_path / "c.mrc")]) == 2
    assert "no positive signal" in capsys.readouterr().err
