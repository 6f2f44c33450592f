"""``atomtomo preprocess`` on a small file: levels removed, steps recorded, input untouched."""

import hashlib
import json

import numpy as np

from napari_atomtomo import io
from napari_atomtomo.cli import main


def test_preprocess_writes_series_angles_and_report(tmp_path, capsys):
    rng = np.random.default_rng(0)
    angles = np.linspace(-60, 60, 7)
    yy, xx = np.mgrid[:40, :40]
    blob = 30.0 * np.exp(-((yy - 20) ** 2 + (xx - 22) ** 2) / 30.0)
    levels = np.linspace(2.0, 3.0, angles.size)
    stack = rng.poisson(blob + levels[:, None, None]).astype(np.float32)
    src = tmp_path / "raw.mrc"
    io.write_tilt_series(src, stack, angles, 0.4)
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = tmp_path / "pre.mrc"
    argv = ["preprocess", str(src), "--angles", str(tmp_path / "raw.tlt"), "--out", str(out),
            "--normalize"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "vacuum level" in text and "normalised" in text and "wrote" in text
    ts = io.read_tilt_series(out)
    np.testing.assert_allclose(ts.angles_deg, angles)
    assert ts.voxel_size == np.float32(0.4)
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["parameters"]["background"] == "border" and report["parameters"]["normalize"]
    assert report["parameters"]["border_px"] == 2 and report["parameters"]["hot_pixels"] is False
    np.testing.assert_allclose(report["background_levels"], levels, atol=0.3)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    # existing outputs are refused without --force
    assert main(argv) == 2
    assert "exists" in capsys.readouterr().err
    assert main(argv + ["--force", "--no-normalize", "--background", "none"]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert "background_levels" not in report and "normalization_factors" not in report


def test_preprocess_bad_input_is_one_sentence(tmp_path, capsys):
    src = tmp_path / "raw.mrc"
    io.write_tilt_series(src, np.ones((3, 16, 16), np.float32), [-10, 0, 10], 1.0)
    out = str(tmp_path / "pre.mrc")
    assert main(["preprocess", str(src), "--out", out, "--background", "mask"]) == 2
    assert "vacuum mask" in capsys.readouterr().err
    assert main(["preprocess", str(src), "--out", out, "--border-px", "9"]) == 2
    assert "too wide" in capsys.readouterr().err


def test_preprocess_with_a_vacuum_mask(tmp_path):
    rng = np.random.default_rng(1)
    angles = np.array([-30.0, 0.0, 30.0])
    yy, xx = np.mgrid[:32, :32]
    particle = (np.hypot(yy - 16, xx - 16) < 12).astype(np.float32)
    levels = np.array([1.0, 2.0, 3.0])
    stack = (rng.normal(0, 0.05, (3, 32, 32)) + 20 * particle + levels[:, None, None])
    io.write_tilt_series(tmp_path / "raw.mrc", stack.astype(np.float32), angles, 1.0)
    mask = (1.0 - particle)[None].astype(np.float32)  # vacuum: everywhere but the particle
    io.write_mrc(tmp_path / "vacuum.mrc", mask, 1.0)
    out = tmp_path / "pre.mrc"
    assert main(["preprocess", str(tmp_path / "raw.mrc"), "--out", str(out), "--background",
                 "mask", "--vacuum-mask", str(tmp_path / "vacuum.mrc")]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    np.testing.assert_allclose(report["background_levels"], levels, atol=0.01)
    assert "border_strips_used" not in report
