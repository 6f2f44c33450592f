"""Structure report: known answers on a tetrahedron and on the shipped melt-quenched SiO2."""

import json
from pathlib import Path

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.trace._structure import structure_report

SILICA = Path(__file__).parents[2] / "src" / "napari_atomtomo" / "data" / "silica_1002.xyz"


def tetrahedron(extra=()):
    """SiO4 with Si–O 1.61 Å (O–Si–O = arccos(-1/3) = 109.47°), plus extra atoms."""
    v = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3) * 1.61
    el = ["Si", "O", "O", "O", "O"] + [e for e, _ in extra]
    pos = np.vstack([np.zeros(3), v] + [np.asarray(p, float)[None] for _, p in extra])
    return Atoms(el, pos + 10.0)


def test_tetrahedron_coordination_angle_and_too_close_atoms():
    rep = structure_report(tetrahedron())
    assert rep.coordination["Si-O"] == 4 and rep.coordination["O-Si"] == 1
    assert rep.angle_mean_deg == {"O-Si-O": pytest.approx(np.degrees(np.arccos(-1 / 3)))}
    assert rep.n_close_pairs == 0
    assert rep.nn_median_A == pytest.approx(1.61)
    # an O 0.5 Å from another O: closer than 0.7 × the O–O covalent bond (0.92 Å)
    bad = structure_report(tetrahedron([("O", np.array([1, 1, 1]) / np.sqrt(3) * 1.61
                                         + [0.5, 0, 0])]))
    assert bad.n_close_pairs == 1 and bad.n_atoms_too_close == 2


def test_shipped_silica_rdf_peaks_and_cli(tmp_path, capsys):
    """Si–O 1.61, O–O 2.61, Si–Si 3.15 Å: the three peaks of amorphous SiO2."""
    out, png = tmp_path / "s.json", tmp_path / "s.png"
    assert main(["structure", str(SILICA), "--json", str(out), "--plot", str(png)]) == 0
    assert "first g(r) peak" in capsys.readouterr().out
    rep = json.loads(out.read_text())
    peaks = rep["rdf"]["first_peak_A"]
    assert peaks["Si-O"] == pytest.approx(1.61, abs=0.06)
    assert peaks["O-O"] == pytest.approx(2.61, abs=0.06)
    assert peaks["Si-Si"] == pytest.approx(3.15, abs=0.06)
    # a naive count of the Si–O bonds gives the same coordination
    atoms = io.read_xyz(SILICA)
    si, o = atoms.positions[atoms.elements == "Si"], atoms.positions[atoms.elements == "O"]
    d = np.linalg.norm(si[:, None] - o[None], axis=-1)
    assert rep["coordination"]["Si-O"] == pytest.approx(np.mean((d < 1.2 * 1.77).sum(1)))
    assert rep["too_close"]["n_pairs"] == 0
    assert png.stat().st_size > 10_000
    assert main(["structure", str(SILICA), "--json", str(out)]) == 2  # exists, no --force
