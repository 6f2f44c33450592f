"""``atomtomo trace`` and ``atomtomo compare`` end to end on a synthetic volume."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.atoms import Atoms

VOXEL = 0.5


@pytest.fixture
def scene(tmp_path):
    """A 28³ volume of 8 bright and 16 dim Gaussians, and the true atoms as XYZ."""
    rng = np.random.default_rng(0)
    centres = []
    while len(centres) < 24:
        p = rng.uniform(4, 23, 3)
        if all(np.linalg.norm(p - q) >= 6 for q in centres):
            centres.append(p)
    centres = np.array(centres)
    amps = np.where(np.arange(24) < 8, 2.0, 1.0)
    g = np.stack(np.meshgrid(*[np.arange(28)] * 3, indexing="ij"), axis=-1)
    vol = sum(a * np.exp(-np.sum((g - c) ** 2, axis=-1) / 2.0) for c, a in zip(centres, amps))
    vol = (vol + rng.normal(0, 0.01, vol.shape)).astype(np.float32)
    vol_path = tmp_path / "volume.mrc"
    io.write_mrc(vol_path, vol, VOXEL)
    truth = Atoms(np.where(amps == 2.0, "Si", "O"), centres[:, ::-1] * VOXEL)
    truth_path = tmp_path / "truth.xyz"
    io.write_xyz(truth_path, truth)
    return tmp_path, vol_path, truth_path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_trace_then_compare(scene, capsys):
    tmp, vol_path, truth_path = scene
    before = digest(vol_path)
    out, csv, rep, png = (tmp / n for n in ("atoms.xyz", "atoms.csv", "trace.json", "peaks.png"))
    code = main(["trace", str(vol_path), "--out", str(out), "--csv", str(csv),
                 "--json", str(rep), "--plot", str(png), "--min-distance-A", "2.0",
                 "--method", "direct"])
    assert code == 0
    assert "traced 24 atoms (Si 8, O 16)" in capsys.readouterr().out
    assert digest(vol_path) == before  # the input is never modified
    atoms = io.read_xyz(out)
    assert atoms.counts() == {"Si": 8, "O": 16}
    assert "intensity" in io.read_atoms_csv(csv).features
    report = json.loads(rep.read_text())
    assert report["counts"] == {"Si": 8, "O": 16}
    assert 1.0 < report["split_thresholds"][0] < 2.0
    assert len(report["sorted_intensities"]) == 24
    assert png.stat().st_size > 1000

    cmp_json, cmp_png = tmp / "compare.json", tmp / "deviation.png"
    code = main(["compare", str(out), str(truth_path), "--resolution-A", "0.5",
                 "--json", str(cmp_json), "--plot", str(cmp_png)])
    assert code == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["element", "traced", "true", "misplaced"]
    assert table.splitlines()[3].split() == ["total", "24", "24", "0"]
    summary = json.loads(cmp_json.read_text())
    assert summary["n_misplaced"] == 0 and summary["rmsd_A"] < 0.05
    assert len(summary["deviation_A"]) == 24
    assert cmp_png.stat().st_size > 1000


def test_outputs_are_not_overwritten_without_force(scene, capsys):
    tmp, vol_path, _ = scene
    out = tmp / "atoms.xyz"
    assert main(["trace", str(vol_path), "--out", str(out), "--min-distance-A", "2"]) == 0
    first = digest(out)
    assert main(["trace", str(vol_path), "--out", str(out), "--elements", "Si"]) == 2
    assert "exists" in capsys.readouterr().err
    assert digest(out) == first
    # one element and no classification: every peak above the floor is an Si atom
    assert main(["trace", str(vol_path), "--out", str(out), "--elements", "Si",
                 "--min-distance-A", "2", "--classify", "none", "--force"]) == 0
    assert io.read_xyz(out).counts() == {"Si": 24}


def test_user_floor_and_split_are_used(scene, capsys):
    tmp, vol_path, _ = scene
    out = tmp / "si.xyz"
    code = main(["trace", str(vol_path), "--out", str(out), "--noise-floor", "1.5",
                 "--split", "1.8", "--min-distance-A", "2", "--method", "direct"])
    assert code == 0
    assert io.read_xyz(out).counts() == {"Si": 8}
    assert "noise floor 1.5" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["trace", "{vol}", "--out", "{tmp}/a.xyz", "--elements", "Si,Xx"], "unknown element"),
        (["trace", "{vol}", "--out", "{tmp}/a.xyz", "--min-distance-A", "0"], "min_distance_A"),
        (["trace", "{vol}", "--out", "{tmp}/a.xyz", "--split", "high"], "expected 'auto'"),
        (["trace", "{vol}", "--out", "{tmp}/a.mrc"], "--out must name an .xyz"),
        (["trace", "{tmp}/missing.mrc", "--out", "{tmp}/a.xyz"], "missing.mrc"),
        (["compare", "{truth}", "{tmp}/t.txt"], "must be an .xyz or .csv"),
        (["compare", "{truth}", "{truth}", "--resolution-A", "-1"], "resolution_A"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(scene, capsys, argv, message):
    tmp, vol_path, truth_path = scene
    (tmp / "t.txt").write_text("1\n\nO 0 0 0\n")
    argv = [a.format(vol=vol_path, tmp=tmp, truth=truth_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_trace_by_subtraction_finds_the_same_atoms(scene, capsys):
    """``--method subtraction`` (what the demo uses) on well-separated atoms: same result."""
    tmp, vol_path, truth_path = scene
    out, rep = tmp / "sub.xyz", tmp / "sub.json"
    assert main(["trace", str(vol_path), "--out", str(out), "--json", str(rep),
                 "--method", "subtraction", "--min-distance-A", "2.0"]) == 0
    assert io.read_xyz(out).counts() == {"Si": 8, "O": 16}
    report = json.loads(rep.read_text())
    assert report["algorithm"] == "trace_atoms_by_subtraction"
    assert report["parameters"]["method"] == "subtraction"
    capsys.readouterr()
    assert main(["compare", str(out), str(truth_path), "--resolution-A", "0.5"]) == 0
    assert capsys.readouterr().out.splitlines()[3].split() == ["total", "24", "24", "0"]
    # a pre-filter width only makes sense for the subtraction method
    assert main(["trace", str(vol_path), "--out", str(tmp / "x.xyz"),
                 "--prefilter-sigma", "0.5", "--method", "direct"]) == 2
    assert "only to --method subtraction" in capsys.readouterr().err


def test_default_trace_reports_every_automatic_value_and_gate(scene, capsys):
    """No tuning flag: the values chosen are printed and in --json, never just 'auto'."""
    tmp, vol_path, _ = scene
    out, rep = tmp / "auto.xyz", tmp / "auto.json"
    assert main(["trace", str(vol_path), "--out", str(out), "--json", str(rep)]) == 0
    text = capsys.readouterr().out
    report = json.loads(rep.read_text())
    auto, gates = report["automatic"], report["gates"]
    assert report["parameters"]["method"] == "subtraction"
    assert auto["min_distance_A"] == pytest.approx(0.7 * (1.11 + 0.66))  # Si–O bond
    assert auto["prefilter_sigma_vox"] > 0 and auto["atom_sigma_method"] in ("measured", "floor")
    assert f"min_distance_A {auto['min_distance_A']:.4g}" in text
    assert gates["n_local_maxima"] >= gates["n_above_floor"] >= gates["n_after_min_distance"]
    assert gates["n_atoms"] == len(io.read_xyz(out)) == 24
    assert "gates: local maxima" in text
    assert isinstance(report["rejected_candidates"], list)
