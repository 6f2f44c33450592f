"""Amorphous SiO2 by BKS melt-and-quench MD: potential, forces, structure numbers.

The structure targets of issue 4 are checked on the shipped structure (seed 0, default
schedule) and on three more seeds generated once per module with ``TEST_SCHEDULE``, a
shorter quench than the default that still meets every target for these seeds.
"""

import numpy as np
import pytest
from scipy.special import erfc

from napari_atomtomo.core.simulate import _md_kernels as k
from napari_atomtomo.core.simulate.silica_structure import (
    SILICA_BOX_A,
    GenerationCancelled,
    MeltQuenchSchedule,
    _random_start,
    generate_silica,
    partial_rdf,
    silica_statistics,
)
from napari_atomtomo.io import read_xyz
from napari_atomtomo.io._paths import shipped_structure_path

TEST_SEEDS = (1, 2, 3)
TEST_SCHEDULE = MeltQuenchSchedule(melt_ps=1.0, quench_ps=4.0, cool_ps=1.0, fire_steps=600)
#: A tiny, fast system for the API tests (the box must exceed 2 × (cutoff + 1 Å)).
TINY = dict(n_si=64, box=14.3, schedule=MeltQuenchSchedule(
    melt_ps=0.05, quench_ps=0.1, cool_ps=0.05, fire_steps=20, cutoff=6.0))


@pytest.fixture(scope="module")
def generated():
    return {seed: generate_silica(seed=seed, schedule=TEST_SCHEDULE) for seed in TEST_SEEDS}


@pytest.fixture(scope="module")
def shipped():
    return read_xyz(shipped_structure_path())


def _peak(atoms, pair):
    r, g = partial_rdf(atoms, pair, SILICA_BOX_A)
    return r[np.argmax(g)]


def _assert_issue_targets(atoms):
    st = silica_statistics(atoms, box=SILICA_BOX_A)
    assert (st.n_si, st.n_o) == (334, 668)
    assert st.density_g_cm3 == pytest.approx(2.2, abs=0.02)
    assert st.frac_si_4fold >= 0.95 and st.frac_o_2fold >= 0.95
    assert st.min_si_o_A >= 1.45 and st.min_o_o_A >= 2.3 and st.min_si_si_A >= 2.8
    assert abs(st.si_o_mean_A - 1.61) <= 0.05 and st.si_o_std_A <= 0.05
    assert _peak(atoms, ("Si", "O")) == pytest.approx(1.61, abs=0.04)
    assert _peak(atoms, ("O", "O")) == pytest.approx(2.63, abs=0.08)
    assert _peak(atoms, ("Si", "Si")) == pytest.approx(3.1, abs=0.12)


def test_shipped_structure_meets_the_issue_targets(shipped):
    # the shipped file is translated into the reconstruction frame; minimum-image
    # distances in the 24.7 Å cube are unchanged by a translation
    _assert_issue_targets(shipped)


@pytest.mark.slow  # the `generated` fixture runs a melt-and-quench MD per seed (minutes)
@pytest.mark.parametrize("seed", TEST_SEEDS)
def test_generated_structures_meet_the_issue_targets(generated, seed):
    atoms = generated[seed]
    assert atoms.counts() == {"Si": 334, "O": 668}
    assert np.all((atoms.positions >= 0) & (atoms.positions < SILICA_BOX_A))
    _assert_issue_targets(atoms)
    # the finite cube has broken bonds at its faces: fewer neighbours than the network
    finite = silica_statistics(atoms, box=None)
    assert finite.frac_si_4fold < silica_statistics(atoms, box=SILICA_BOX_A).frac_si_4fold


@pytest.mark.slow
def test_seeds_give_different_structures(generated):
    a, b = generated[TEST_SEEDS[0]], generated[TEST_SEEDS[1]]
    assert np.abs(a.positions - b.positions).max() > 1.0


def _bks_reference(r, pair, alpha=0.25, cutoff=8.0):
    """V(r) of the tabulated potential written out directly (NumPy, no tables)."""
    qq = k.COULOMB * {0: 5.76, 1: -2.88, 2: 1.44}[pair]
    dsf_c = erfc(alpha * cutoff) / cutoff**2 + 2 * alpha / np.sqrt(np.pi) * np.exp(
        -(alpha * cutoff) ** 2) / cutoff
    v = qq * (erfc(alpha * r) / r - erfc(alpha * cutoff) / cutoff + dsf_c * (r - cutoff))
    a, rho, c = k.BUCKINGHAM[pair]
    eps, sigma = k.WALL[pair]

    def short(x):
        return a * np.exp(-x / rho) - c / x**6 + 4 * eps * (sigma / x) ** 30

    rs, dx = k.R_SHORT, 1e-6
    slope = (short(rs + dx) - short(rs - dx)) / (2 * dx)
    r_c, k_c = k.CONTACT[pair]
    contact = k_c * np.where(r < r_c, r_c - r, 0.0) ** 2
    return v + np.where(r < rs, short(r) - short(rs) - slope * (r - rs), 0.0) + contact


@pytest.mark.parametrize("pair", [0, 1, 2])
def test_pair_tables_match_the_bks_formula_and_its_derivative(pair):
    force, energy, inv_h = k.bks_pair_tables(0.25, 8.0)
    r = np.array([1.3, 1.61, 2.0, 2.63, 3.1, 5.0, 7.0])
    idx = np.rint(r**2 * inv_h).astype(int)
    r_grid = np.sqrt(idx / inv_h)
    np.testing.assert_allclose(energy[pair, idx], _bks_reference(r_grid, pair), rtol=1e-9,
                               atol=1e-9)
    dv = (_bks_reference(r_grid + 1e-6, pair) - _bks_reference(r_grid - 1e-6, pair)) / 2e-6
    np.testing.assert_allclose(force[pair, idx], -dv / r_grid, rtol=1e-5, atol=1e-6)
    # shifted force: V and V' vanish at the cutoff
    end = int(np.floor(64.0 * inv_h))
    assert abs(energy[pair, end]) < 1e-3 and abs(force[pair, end]) < 1e-3


def test_wall_removes_the_bks_collapse():
    # bare BKS Si–O and O–O turn over and dive to -∞ below ~1.2 and ~1.45 Å; with the
    # walls the potentials only rise towards short distances
    _, energy, inv_h = k.bks_pair_tables(0.25, 8.0)
    for pair, r_min in ((0, 3.0), (1, 1.3), (2, 2.2)):
        r2 = np.arange(0.7**2, r_min**2, 0.01)
        v = energy[pair, np.rint(r2 * inv_h).astype(int)]
        assert np.all(np.diff(v) < 0), pair


@pytest.mark.slow
def test_forces_match_all_pairs_numpy_reference_and_energy_gradient():
    box = 18.0
    pos = _random_start(20, box, 1.6, np.random.default_rng(1))  # 20 Si, 40 O
    species = (np.arange(60) >= 20).astype(np.int64)
    force_t, energy_t, inv_h = k.bks_pair_tables(0.25, 8.0)
    nbr = np.zeros((60, 60), dtype=np.int64)
    n_nbr = np.zeros(60, dtype=np.int64)

    def forces_energy(p):
        k.build_neighbour_list(p, box, 8.0, nbr, n_nbr)
        f = np.zeros((60, 3))
        e = np.zeros(60)
        total = k.compute_forces(p, box, species, nbr, n_nbr, force_t, energy_t, inv_h, f, e)
        return f, total

    f, total = forces_energy(pos)
    d = pos[:, None] - pos[None]
    d -= box * np.rint(d / box)
    r = np.sqrt((d**2).sum(-1))
    pair = species[:, None] + species[None]
    np.fill_diagonal(r, 1.0)
    inside = (r < 8.0) & ~np.eye(60, dtype=bool)
    v = np.zeros_like(r)
    for p in (0, 1, 2):
        sel = inside & (pair == p)
        v[sel] = _bks_reference(r[sel], p)
    assert total == pytest.approx(v.sum() / 2, rel=1e-4)
    # the forces are the negative gradient of the total energy
    for atom, axis in ((0, 0), (30, 2), (59, 1)):
        moved = pos.copy()
        moved[atom, axis] += 1e-4
        e_plus = forces_energy(moved)[1]
        moved[atom, axis] -= 2e-4
        e_minus = forces_energy(moved)[1]
        assert f[atom, axis] == pytest.approx(-(e_plus - e_minus) / 2e-4, rel=1e-3, abs=1e-3)


@pytest.mark.slow
def test_same_seed_same_structure_and_progress_callback():
    calls = []
    a = generate_silica(seed=5, callback=lambda done, total: calls.append((done, total)), **TINY)
    b = generate_silica(seed=5, **TINY)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.counts() == {"Si": 64, "O": 128}
    done = [c[0] for c in calls]
    assert done == sorted(done) and done[-1] == calls[-1][1]


@pytest.mark.slow
def test_callback_returning_false_cancels():
    with pytest.raises(GenerationCancelled, match="cancelled after"):
        generate_silica(seed=5, callback=lambda done, total: False, **TINY)


def test_bad_input_raises_one_sentence():
    with pytest.raises(ValueError, match="g/cm³; expected 1.5 to 3.0"):
        generate_silica(n_si=334, box=15.0)
    with pytest.raises(ValueError, match="n_si must be an integer"):
        generate_silica(n_si=2.5)
    with pytest.raises(ValueError, match="origin"):
        generate_silica(origin="middle")
    with pytest.raises(ValueError, match="twice the Coulomb cutoff"):
        generate_silica(n_si=64, box=14.3)
    with pytest.raises(ValueError, match="t_melt must be a positive number"):
        MeltQuenchSchedule(t_melt=-5.0)
    with pytest.raises(ValueError, match="time steps must be ≤ 2 fs"):
        MeltQuenchSchedule(dt_hot_fs=3.0)
    with pytest.raises(ValueError, match="r_max"):
        partial_rdf(read_xyz(shipped_structure_path()), ("Si", "O"), SILICA_BOX_A, r_max=20)
