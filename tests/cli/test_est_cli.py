"""``atomtomo est`` end to end on a small series."""

import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project


@pytest.fixture()
def series(tmp_path):
    n = 24
    z, x = np.mgrid[0:n, 0:n] - (n - 1) / 2
    vol = np.exp(-((x - 3) ** 2 + (z + 2) ** 2) / 10.0).astype(np.float32)[:, None, :]
    angles = equally_sloped_angles(16, 72.6)
    io.write_mrc(tmp_path / "stack.mrc", forward_project(vol, angles), 0.5, kind="stack")
    io.write_tlt(tmp_path / "stack.tlt", angles)
    return tmp_path, vol


@pytest.mark.slow
def test_est_writes_volume_and_report(series, capsys):
    d, vol = series
    rc = main(["est", str(d / "stack.mrc"), "--out", str(d / "vol.mrc"),
               "--iterations", "20", "--tight-iterations", "10"])
    assert rc == 0
    out, size = io.read_mrc(d / "vol.mrc")
    assert out.shape == vol.shape and size == pytest.approx(0.5)
    assert np.linalg.norm(out - vol) / np.linalg.norm(vol) < 0.2
    rep = json.loads((d / "vol.est.json").read_text())
    assert rep["algorithm"] == "est" and len(rep["errors"]) == 30 and rep["n_slopes"] == 16
    assert rep["parameters"]["n_iter"] == 20 and len(rep["lines"]) == 27
    assert "atomtomo est (est): 30/30" in capsys.readouterr().err
    # refuses to overwrite without --force
    assert main(["est", str(d / "stack.mrc"), "--out", str(d / "vol.mrc")]) == 2
    assert "--force" in capsys.readouterr().err


def test_non_equally_sloped_angles_point_to_gridding(series, capsys):
    d, _ = series
    io.write_tlt(d / "odd.tlt", np.linspace(-70, 70, 27))
    args = ["est", str(d / "stack.mrc"), "--angles", str(d / "odd.tlt"), "--out",
            str(d / "v.mrc"), "--iterations", "5", "--tight-iterations", "0"]
    assert main(args) == 2
    assert "--method gridding" in capsys.readouterr().err
    assert not (d / "v.mrc").exists()
    assert main(args + ["--method", "gridding", "--quiet"]) == 0
    rep = json.loads((d / "v.est.json").read_text())
    assert rep["algorithm"] == "gridding" and 0 < rep["fourier_coverage"] < 1


@pytest.mark.slow
def test_est_cli_passes_the_tight_threshold(tmp_path):
    """``--tight-threshold`` reaches EstParams (the widget's Copy-as-command uses it)."""
    import json

    import numpy as np

    from napari_atomtomo import io
    from napari_atomtomo.cli import main
    from napari_atomtomo.core.geometry import equally_sloped_angles
    from napari_atomtomo.core.projectors import forward_project

    vol = np.zeros((32, 2, 32), np.float32)
    vol[12:20, :, 10:22] = 1.0
    angles = equally_sloped_angles(32, 72.6)
    io.write_tilt_series(tmp_path / "s.mrc", forward_project(vol, angles), angles, 1.0)
    out = tmp_path / "v.mrc"
    assert main(["est", str(tmp_path / "s.mrc"), "--out", str(out), "--iterations", "3",
                 "--tight-iterations", "3", "--tight-threshold", "0.2", "--quiet"]) == 0
    report = json.loads((tmp_path / "v.est.json").read_text())
    assert report["parameters"]["tight_support_threshold"] == 0.2
