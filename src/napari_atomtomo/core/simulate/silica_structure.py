"""Amorphous SiO2 by a melt-and-quench molecular dynamics run (paper 000's recipe).

Paper 000 made its 334 Si + 668 O glass particle by melting and quenching a partial-charge
Buckingham model. We do the same, fast enough for an interactive tool:

- **Potential.** BKS (van Beest, Kramer & van Santen, PRL 64, 1955, 1990): charges
  q_Si = 2.4, q_O = -1.2 and Buckingham ``A exp(-r/ρ) - C/r⁶`` for Si–O and O–O (none
  for Si–Si), the short-range part cut at 5.5 Å with a shifted force (as Vollmayr, Kob &
  Binder, PRB 54, 15808, 1996, cut it at 5.5 Å). BKS diverges to -∞ at short range
  (Si–O below ~1.2 Å, O–O below ~1.4 Å), which a hot melt reaches; a steep repulsive
  wall ``4ε (σ/r)³⁰`` removes that, as the "BKS + 30-6 Lennard-Jones" variants do (e.g.
  Saika-Voivod, Sciortino & Poole, PRE 69, 041503, 2004); our wall is repulsive only,
  with ε_SiO = 3 meV, σ_SiO = 1.313 Å, ε_OO = 1.2 meV, σ_OO = 1.779 Å, i.e. negligible
  (< 10 meV) beyond 1.5 Å (Si–O) and 2.1 Å (O–O). A contact term ``k (r_c - r)²`` below
  r_c = 2.9 Å (Si–Si) and 2.45 Å (O–O) forbids edge-sharing tetrahedra, which fast
  quenches otherwise leave in (our choice; see ``_md_kernels.CONTACT``).
- **Coulomb** by the damped shifted force sum (Fennell & Gezelter, J. Chem. Phys. 124,
  234104, 2006; Wolf et al., J. Chem. Phys. 110, 8254, 1999) with α = 0.25 Å⁻¹ and an
  8 Å cutoff instead of Ewald.
- **Dynamics.** NVT velocity Verlet with a Berendsen thermostat in a periodic cube (the
  density is fixed: 334 SiO2 in 24.7 Å is 2.2 g/cm³); the kernels are in
  :mod:`._md_kernels`. Schedule (:class:`MeltQuenchSchedule`): random start (all pairs
  ≥ 1.6 Å apart), FIRE pre-relaxation, melt at 6000 K, quench to 300 K, FIRE minimisation.

The network is periodic, which is how bulk glass is modelled (the paper's MD structure was
periodic too). The particle is the cube itself: positions are wrapped into ``[0, box)³``,
so the finite cluster holds all ``3 n_si`` atoms; the Si–O bonds that cross a face of the
cube are broken in the cluster (:func:`silica_statistics` reports coordination both ways).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._generators import run_to_end
from .._refs import PAPER_000, cites
from ..atoms import Atoms
from ..config import AVOGADRO
from . import _md_kernels as _k

__all__ = [
    "SILICA_BOX_A",
    "SILICA_N_SI",
    "GenerationCancelled",
    "MeltQuenchSchedule",
    "SilicaProgress",
    "SilicaStats",
    "iter_generate_silica",
    "generate_silica",
    "silica_statistics",
    "partial_rdf",
]

#: The paper's particle: 334 Si + 668 O in a 24.7 Å cube (2.2 g/cm³).
SILICA_N_SI = 334
SILICA_BOX_A = 24.7

_MASS = _k.MASS  # amu, Si and O
_M_SIO2 = _MASS[0] + 2 * _MASS[1]  # g/mol
_SKIN = 1.0  # Å, Verlet-list skin


class GenerationCancelled(RuntimeError):
    """Raised by :func:`generate_silica` when its ``callback`` returned False."""


@dataclass(frozen=True)
class MeltQuenchSchedule:
    """The MD schedule: temperatures in K, durations in ps, time steps in fs.

    The quench runs ``t_melt → t_glass`` linearly in ``quench_ps`` (rate
    ``(t_melt - t_glass) / quench_ps`` K/ps), slowly through the glass transition; then
    ``t_glass → t_final`` in ``cool_ps`` and a FIRE minimisation.
    """

    t_melt: float = 6000.0
    melt_ps: float = 3.0
    t_glass: float = 2500.0
    quench_ps: float = 10.0
    t_final: float = 300.0
    cool_ps: float = 3.0
    dt_hot_fs: float = 1.0
    dt_cold_fs: float = 1.6
    tau_fs: float = 50.0
    fire_steps: int = 2000
    alpha: float = 0.25  # Å⁻¹, DSF damping
    cutoff: float = 8.0  # Å, Coulomb cutoff

    def __post_init__(self):
        for name in ("t_melt", "t_glass", "t_final", "dt_hot_fs", "dt_cold_fs", "tau_fs",
                     "alpha", "cutoff"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        for name in ("melt_ps", "quench_ps", "cool_ps", "fire_steps"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be ≥ 0, got {value!r}")
        if self.dt_hot_fs > 2.0 or self.dt_cold_fs > 2.0:
            raise ValueError(
                f"time steps must be ≤ 2 fs for Si–O vibrations, got {self.dt_hot_fs}, "
                f"{self.dt_cold_fs}")

    def stages(self) -> list[tuple[str, float, float, int, float]]:
        """``(name, T_start, T_end, n_steps, dt_fs)`` of the MD stages."""
        hot, cold = self.dt_hot_fs, self.dt_cold_fs
        return [
            ("melt", self.t_melt, self.t_melt, round(1000 * self.melt_ps / hot), hot),
            ("quench", self.t_melt, self.t_glass, round(1000 * self.quench_ps / hot), hot),
            ("cool", self.t_glass, self.t_final, round(1000 * self.cool_ps / cold), cold),
        ]


@dataclass(frozen=True)
class SilicaProgress:
    """State of :func:`iter_generate_silica` after a chunk of steps."""

    step: int
    total: int
    stage: str
    temperature: float  # K (instantaneous; 0 during minimisation)
    energy: float  # eV per atom, potential


def _random_start(n_si, box, min_dist, rng) -> np.ndarray:
    """``n_si`` Si then ``2 n_si`` O at random, all pairs ≥ ``min_dist`` apart (periodic)."""
    n = 3 * n_si
    pos = np.empty((n, 3))
    count = 0
    tries = 0
    while count < n:
        tries += 1
        if tries > 5000 * n:  # pragma: no cover - the density check makes this unreachable
            raise ValueError(f"could not place {n} atoms {min_dist} Å apart in a {box} Å box")
        p = rng.uniform(0.0, box, 3)
        d = pos[:count] - p
        d -= box * np.round(d / box)
        if count == 0 or np.min(np.einsum("ij,ij->i", d, d)) >= min_dist**2:
            pos[count] = p
            count += 1
    return pos


def _check_inputs(n_si, box, origin):
    if isinstance(n_si, bool) or int(n_si) != n_si or n_si < 8:
        raise ValueError(f"n_si must be an integer ≥ 8, got {n_si!r}")
    if not (np.isfinite(box) and box > 0):
        raise ValueError(f"box must be a positive length in Å, got {box!r}")
    density = n_si * _M_SIO2 / AVOGADRO / (box * 1e-8) ** 3
    if not 1.5 <= density <= 3.0:
        raise ValueError(
            f"{n_si} SiO2 in a {box} Å cube is {density:.2f} g/cm³; expected 1.5 to 3.0 "
            "(amorphous silica is 2.2)"
        )
    if origin not in ("corner", "centre"):
        raise ValueError(f"origin must be 'corner' or 'centre', got {origin!r}")


def iter_generate_silica(n_si: int = SILICA_N_SI, box: float = SILICA_BOX_A, seed: int = 0,
                         *, schedule: MeltQuenchSchedule | None = None,
                         origin: str = "corner", chunk: int = 200):
    """Melt and quench ``n_si`` SiO2 units; yields :class:`SilicaProgress` every ``chunk``
    steps and returns the :class:`~napari_atomtomo.core.atoms.Atoms` (``StopIteration.value``;
    use ``atoms = yield from iter_generate_silica(...)`` in a job generator).

    Stopping the generator early (a GUI Cancel) leaves nothing behind. See
    :func:`generate_silica` for the parameters.
    """
    _check_inputs(n_si, box, origin)
    schedule = MeltQuenchSchedule() if schedule is None else schedule
    if not isinstance(schedule, MeltQuenchSchedule):
        raise ValueError(f"schedule must be a MeltQuenchSchedule, got {type(schedule).__name__}")
    radius = schedule.cutoff + _SKIN
    if 2 * radius > box:
        raise ValueError(
            f"the box ({box} Å) must be at least twice the Coulomb cutoff plus skin "
            f"({radius} Å); use a bigger box or a smaller cutoff")
    n_si = int(n_si)
    rng = np.random.default_rng(seed)
    stages = schedule.stages()
    total = sum(s[3] for s in stages) + int(schedule.fire_steps) + 200

    table_force, table_energy, inv_h = _k.bks_pair_tables(schedule.alpha, schedule.cutoff)
    pos = _random_start(n_si, box, 1.6, rng)
    n = pos.shape[0]
    species = np.zeros(n, dtype=np.int64)
    species[n_si:] = 1
    mass = _MASS[species]
    vel = np.zeros((n, 3))
    forces = np.zeros((n, 3))
    energy = np.zeros(n)
    ref = np.full((n, 3), np.inf)  # forces a first neighbour-list build
    density = n / box**3
    cap = int(1.5 * density * 4.0 / 3.0 * math.pi * radius**3) + 32
    state = {"nbr": np.zeros((n, cap), dtype=np.int64), "n_nbr": np.zeros(n, dtype=np.int64)}

    def refresh():
        ref[:] = np.inf
        while not _k._refresh_list(pos, ref, box, radius, _SKIN, state["nbr"], state["n_nbr"]):
            state["nbr"] = np.zeros((n, 2 * state["nbr"].shape[1]), dtype=np.int64)
            ref[:] = np.inf
        return _k.compute_forces(pos, box, species, state["nbr"], state["n_nbr"],
                                 table_force, table_energy, inv_h, forces, energy)

    def fire(n_steps):
        left = n_steps
        while left > 0:
            done, _ = _k.run_fire(pos, vel, forces, energy, ref, mass, species, box, radius,
                                  _SKIN, state["nbr"], state["n_nbr"], table_force,
                                  table_energy, inv_h, 0.5, 2.0, 1e-3, left)
            if done >= 0:
                return
            left += done + 1  # overflowed after -done-1 steps: grow the list and go on
            state["nbr"] = np.zeros((n, 2 * state["nbr"].shape[1]), dtype=np.int64)
            refresh()

    step = 0
    refresh()
    fire(200)  # take the random start off its wall contacts
    step += 200
    yield SilicaProgress(step, total, "start", 0.0, float(energy.sum()) / n)
    vel[:] = rng.normal(size=(n, 3)) * np.sqrt(_k.K_B * schedule.t_melt * _k.ACCEL / mass)[:, None]
    vel -= (mass[:, None] * vel).sum(axis=0) / mass.sum()
    refresh()
    for name, t_start, t_end, n_steps, dt in stages:
        done = 0
        while done < n_steps:
            m = min(chunk, n_steps - done)
            t0 = t_start + (t_end - t_start) * done / n_steps
            t1 = t_start + (t_end - t_start) * (done + m) / n_steps
            k = _k.run_md(pos, vel, forces, energy, ref, mass, species, box, radius, _SKIN,
                          state["nbr"], state["n_nbr"], table_force, table_energy, inv_h,
                          dt, t0, t1, schedule.tau_fs, m)
            if k < m:  # the neighbour list overflowed: grow it, then redo the rest
                state["nbr"] = np.zeros((n, 2 * state["nbr"].shape[1]), dtype=np.int64)
                refresh()
                m = k
            done += m
            step += m
            if m:
                yield SilicaProgress(step, total, name, _k.kinetic_temperature(vel, mass),
                                     float(energy.sum()) / n)
    left = int(schedule.fire_steps)
    while left > 0:
        m = min(chunk * 5, left)
        fire(m)
        left -= m
        step += m
        yield SilicaProgress(step, total, "minimise", 0.0, float(energy.sum()) / n)
    pos = np.mod(pos, box)
    if origin == "centre":
        pos -= box / 2.0
    return Atoms(np.where(species == 0, "Si", "O"), pos)


@cites(PAPER_000)
def generate_silica(n_si: int = SILICA_N_SI, box: float = SILICA_BOX_A, seed: int = 0, *,
                    schedule: MeltQuenchSchedule | None = None, origin: str = "corner",
                    callback=None) -> Atoms:
    """Generate amorphous SiO2 of ``n_si`` units by a BKS melt-and-quench MD run.

    Parameters
    ----------
    n_si : int
        Number of Si atoms (the O count is ``2 n_si``); the paper's particle has 334.
    box : float
        Edge of the periodic cube in Å (24.7 Å gives 2.2 g/cm³ for 334 SiO2); at least
        twice the Coulomb cutoff plus 1 Å (20 Å with the default 9 Å cutoff).
    seed : int
        Seed of the random start and velocities; same seed, same structure (on the same
        machine and numba version).
    schedule : MeltQuenchSchedule, optional
        Temperatures, durations and time steps (default: :class:`MeltQuenchSchedule()`).
    origin : {"corner", "centre"}
        ``"corner"``: positions in ``[0, box)³``; ``"centre"``: the cube centre at 0.
    callback : callable, optional
        ``callback(done, total)`` after every chunk of steps (``done`` of ``total`` MD +
        minimisation steps); if it returns ``False`` the run stops and
        :class:`GenerationCancelled` is raised.

    Returns
    -------
    Atoms
        Si atoms first, then O; positions ``(x, y, z)`` in Å wrapped into the cube.
    """
    def report(progress) -> None:
        if callback is not None and callback(progress.step, progress.total) is False:
            raise GenerationCancelled(
                f"generate_silica(seed={seed}) cancelled after {progress.step} of "
                f"{progress.total} steps")

    return run_to_end(iter_generate_silica(n_si, box, seed, schedule=schedule, origin=origin),
                      report)


@dataclass(frozen=True)
class SilicaStats:
    """Bond and coordination statistics of a silica structure (lengths in Å)."""

    n_si: int
    n_o: int
    density_g_cm3: float
    si_o_mean_A: float
    si_o_std_A: float
    si_o_min_A: float
    si_o_max_A: float
    frac_si_4fold: float
    frac_o_2fold: float
    min_si_o_A: float
    min_o_o_A: float
    min_si_si_A: float
    periodic: bool


def _distances(pos, box):
    d = pos[:, None, :] - pos[None, :, :]
    if box is not None:
        d -= box * np.round(d / box)
    dist = np.sqrt(np.einsum("ijk,ijk->ij", d, d))
    np.fill_diagonal(dist, np.inf)
    return dist


def silica_statistics(atoms: Atoms, box: float | None = None, bond_cutoff: float = 2.0) -> SilicaStats:
    """Coordination and shortest distances of a silica model.

    ``box`` given: distances use the minimum image of that periodic cube (the network);
    ``box=None``: the finite cluster as it stands. A Si–O pair closer than
    ``bond_cutoff`` (2.0 Å, the first minimum of g_SiO) counts as a bond.
    """
    el = atoms.elements
    is_si = el == "Si"
    is_o = el == "O"
    if not is_si.any() or not is_o.any() or (is_si | is_o).sum() != len(atoms):
        raise ValueError("silica_statistics needs a structure of Si and O atoms only")
    dist = _distances(atoms.positions, box)
    d_so = dist[np.ix_(is_si, is_o)]
    bonds = d_so[d_so < bond_cutoff]
    if box is None:
        extent = np.ptp(atoms.positions, axis=0)
        volume = float(np.prod(extent))
    else:
        volume = float(box) ** 3
    n_si = int(is_si.sum())
    n_o = int(is_o.sum())
    mass = (n_si * 28.0855 + n_o * 15.999) / AVOGADRO
    return SilicaStats(
        n_si=n_si,
        n_o=n_o,
        density_g_cm3=float(mass / (volume * 1e-24)),
        si_o_mean_A=float(bonds.mean()) if bonds.size else float("nan"),
        si_o_std_A=float(bonds.std()) if bonds.size else float("nan"),
        si_o_min_A=float(bonds.min()) if bonds.size else float("nan"),
        si_o_max_A=float(bonds.max()) if bonds.size else float("nan"),
        frac_si_4fold=float(np.mean((d_so < bond_cutoff).sum(axis=1) == 4)),
        frac_o_2fold=float(np.mean((d_so < bond_cutoff).sum(axis=0) == 2)),
        min_si_o_A=float(d_so.min()),
        min_o_o_A=float(dist[np.ix_(is_o, is_o)].min()),
        min_si_si_A=float(dist[np.ix_(is_si, is_si)].min()),
        periodic=box is not None,
    )


def partial_rdf(atoms: Atoms, pair: tuple[str, str], box: float, r_max: float = 8.0,
                dr: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Partial radial distribution function g_AB(r) of a periodic structure.

    Returns ``(r, g)`` with ``r`` the bin centres in Å; ``g → 1`` at large r.
    """
    a, b = pair
    if r_max <= 0 or dr <= 0 or r_max > box / 2:
        raise ValueError(f"need 0 < r_max ≤ box/2 = {box / 2} Å and dr > 0, got {r_max}, {dr}")
    dist = _distances(atoms.positions, box)
    sel_a = atoms.elements == a
    sel_b = atoms.elements == b
    if not sel_a.any() or not sel_b.any():
        raise ValueError(f"the structure has no {a} or no {b} atoms")
    d = dist[np.ix_(sel_a, sel_b)].ravel()
    edges = np.arange(0.0, r_max + dr, dr)
    hist, _ = np.histogram(d[np.isfinite(d)], bins=edges)
    r = 0.5 * (edges[1:] + edges[:-1])
    shell = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    n_pairs = sel_a.sum() * sel_b.sum() - (sel_a & sel_b).sum()
    g = hist / (shell * n_pairs / box**3)
    return r, g
