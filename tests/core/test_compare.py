"""Deviation analysis: exact matching of permuted copies, constructed misplacements."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.compare import compare_atoms, relabel_comparison


def random_structure(n_si=40, n_o=80, seed=0, min_dist=1.8, box=16.0):
    rng = np.random.default_rng(seed)
    pts = []
    while len(pts) < n_si + n_o:
        p = rng.uniform(0, box, 3)
        if all(np.linalg.norm(p - q) >= min_dist for q in pts):
            pts.append(p)
    return Atoms(np.array(["Si"] * n_si + ["O"] * n_o), np.array(pts))


def test_permuted_translated_copy_matches_exactly():
    truth = random_structure()
    rng = np.random.default_rng(1)
    perm = rng.permutation(len(truth))
    shift = np.array([3.7, -12.2, 0.45])  # far more than an interatomic distance
    traced = Atoms(truth.elements[perm], truth.positions[perm] + shift)
    res = compare_atoms(traced, truth)
    np.testing.assert_array_equal(res.truth_index, perm)
    np.testing.assert_allclose(res.offset_A, shift, atol=1e-9)
    np.testing.assert_allclose(res.deviation_A, 0.0, atol=1e-9)
    assert res.n_misplaced == 0 and res.rmsd_A == pytest.approx(0.0, abs=1e-9)
    d = res.to_dict()
    assert d["counts_traced"] == d["counts_true"] == {"Si": 40, "O": 80}
    assert d["n_unmatched_traced"] == d["n_unmatched_true"] == 0


def test_constructed_misplacements_are_counted_per_element():
    truth = random_structure(seed=2, min_dist=4.5, box=26.0)
    rng = np.random.default_rng(3)
    pos = truth.positions + rng.normal(0, 0.05, truth.positions.shape)  # jitter 0.05 Å
    elements = truth.elements.copy()
    moved = [41, 57, 90]  # three O atoms moved by 2 Å
    dirs = rng.normal(size=(3, 3))
    pos[moved] += 2.0 * dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    elements[5] = "O"  # one Si traced as O
    traced = Atoms(elements, pos + np.array([0.3, 0.2, -0.1]))
    res = compare_atoms(traced, truth, resolution_A=1.0)
    np.testing.assert_array_equal(res.truth_index, np.arange(len(truth)))
    np.testing.assert_allclose(res.deviation_A[moved], 2.0, atol=0.2)
    assert sorted(np.flatnonzero(res.misplaced)) == [5, *moved]
    assert res.misplaced_by_element == {"Si": 0, "O": 4}
    d = res.to_dict()
    assert d["n_misplaced"] == 4
    assert d["n_beyond_resolution"] == 3 and d["n_wrong_element"] == 1
    assert d["counts_traced"] == {"Si": 39, "O": 81}
    assert d["mean_deviation_misplaced_A"] > 1.0
    ok = res.correct
    assert ok.sum() == len(truth) - 4
    assert res.rmsd_A == pytest.approx(np.sqrt(np.mean(res.deviation_A[ok] ** 2)))
    assert 0.05 < res.rmsd_A < 0.15  # 3D jitter of 0.05 Å per axis, ≈ 0.087 Å
    np.testing.assert_allclose(res.offset_A, [0.3, 0.2, -0.1], atol=0.03)
    json.dumps(d)  # plain JSON types only


def test_unequal_counts_leave_atoms_unmatched():
    truth = random_structure(seed=4, min_dist=3.0, box=20.0)
    traced = truth.select(np.arange(len(truth)) != 7)  # one atom missed
    extra = Atoms(np.r_[truth.elements, ["O", "O"]],
                  np.vstack([truth.positions, [[100.0, 0, 0], [0, 100.0, 0]]]))
    missed = compare_atoms(traced, truth)
    assert missed.to_dict()["n_unmatched_true"] == 1 and missed.n_misplaced == 0
    spurious = compare_atoms(extra, truth)
    d = spurious.to_dict()
    assert d["n_unmatched_traced"] == 2 and d["n_matched"] == len(truth)
    assert np.isnan(spurious.deviation_A[-2:]).all()
    assert d["rmsd_A"] == pytest.approx(0.0, abs=1e-6)


def test_without_offset_removal_a_shift_is_a_deviation():
    truth = random_structure(seed=5)
    traced = Atoms(truth.elements, truth.positions + [0.4, 0, 0])
    res = compare_atoms(traced, truth, remove_offset=False)
    np.testing.assert_allclose(res.deviation_A, 0.4, atol=1e-9)
    np.testing.assert_array_equal(res.offset_A, 0.0)


def test_per_atom_dict():
    truth = random_structure(n_si=5, n_o=10, seed=6)
    traced = Atoms(truth.elements, truth.positions + 0.1)
    res = compare_atoms(traced, truth)
    d = res.to_dict(per_atom=True)
    assert len(d["deviation_A"]) == 15 and d["truth_index"] == list(range(15))


@pytest.mark.parametrize(
    "traced, truth, kwargs, match",
    [
        (Atoms([], np.zeros((0, 3))), Atoms(["O"], [[0, 0, 0]]), {}, "traced has no atoms"),
        (Atoms(["O"], [[0, 0, 0]]), Atoms([], np.zeros((0, 3))), {}, "truth has no atoms"),
        (Atoms(["O"], [[0, 0, 0]]), Atoms(["O"], [[0, 0, 0]]), {"resolution_A": 0}, "resolution_A"),
        (np.zeros((3, 3)), Atoms(["O"], [[0, 0, 0]]), {}, "must be an Atoms list"),
    ],
)
def test_bad_input_raises_one_sentence(traced, truth, kwargs, match):
    with pytest.raises(ValueError, match=match):
        compare_atoms(traced, truth, **kwargs)


def test_one_spurious_peak_is_counted_once_not_through_a_chain_of_reassignments():
    """True atoms 1 Å apart on a line; the traced list misses the first one, finds the
    others 0.1 Å towards it, and has a spurious peak beyond the end. Minimising the total
    distance alone shifts the whole chain (5 × 0.9 Å + 1.0 Å < 5 × 0.1 Å + 6.0 Å) and
    calls all six misplaced; matching within the resolution first marks only the
    spurious peak."""
    truth_pos = np.array([[float(i), 0.0, 0.0] for i in range(6)])
    traced_pos = np.vstack([truth_pos[1:] - [0.1, 0.0, 0.0], [[6.0, 0.0, 0.0]]])
    truth = Atoms(["O"] * 6, truth_pos)
    traced = Atoms(["O"] * 6, traced_pos)
    res = compare_atoms(traced, truth, resolution_A=0.5, remove_offset=False)
    assert res.n_misplaced == 1
    assert res.misplaced[-1]
    np.testing.assert_allclose(res.deviation_A[:-1], 0.1, atol=1e-12)


def test_relabel_comparison_equals_a_new_comparison():
    rng = np.random.default_rng(3)
    truth = Atoms(rng.choice(["Si", "O"], 30), rng.uniform(0, 20, (30, 3)))
    traced = Atoms(truth.elements[::-1].copy(), truth.positions[::-1] + rng.normal(0, 0.3, (30, 3)))
    base = compare_atoms(traced, truth, resolution_A=0.6)
    new = rng.choice(["Si", "O"], 30)
    fresh = compare_atoms(Atoms(new, traced.positions), truth, resolution_A=0.6)
    got = relabel_comparison(base, new, truth)
    assert got.to_dict(per_atom=True) == fresh.to_dict(per_atom=True)
    np.testing.assert_array_equal(got.misplaced, fresh.misplaced)
    with pytest.raises(ValueError, match="3 elements given for 30 traced atoms"):
        relabel_comparison(base, ["Si"] * 3, truth)
