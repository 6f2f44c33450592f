"""numba kernels of the silica melt-and-quench molecular dynamics (private).

Units: Å, eV, amu, fs, K. Two species (0 = Si, 1 = O); a pair is indexed by
``species[i] + species[j]`` (0 Si–Si, 1 Si–O, 2 O–O). The pair potential is given as two
tables sampled uniformly in r² (``table_force`` holds ``-dV/dr / r`` so that the force on
``i`` is ``table_force · (r_i - r_j)``, ``table_energy`` holds ``V``), built once by
``silica_structure._pair_tables``; a lookup is a linear interpolation, so the kernels need
no ``exp``/``erfc`` in the inner loop.

Neighbours come from a full Verlet list (every pair appears in both rows, so each atom's
force is summed by one thread: no races, and the sum order is fixed, hence reproducible)
of radius ``cutoff + skin``, rebuilt by brute force (N² distance tests, cheap for ~10³
atoms) whenever an atom has moved by more than ``skin / 2`` since the last build.
Integration is velocity Verlet with a Berendsen thermostat; minimisation is FIRE
(Bitzek et al., PRL 97, 170201, 2006).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from scipy.special import erfc

#: amu·Å²/fs² per eV: a = F/m · ACCEL with F in eV/Å, m in amu.
ACCEL = 9.648533212e-3
#: Boltzmann constant in eV/K.
K_B = 8.617333262e-5
#: Masses in amu of Si and O.
MASS = np.array([28.0855, 15.999])
#: e²/(4π ε0) in eV·Å.
COULOMB = 14.3996454784
#: BKS partial charges of Si and O (e).
CHARGE = np.array([2.4, -1.2])
#: BKS Buckingham ``(A eV, ρ Å, C eV·Å⁶)`` of the pairs Si–Si (none), Si–O, O–O.
BUCKINGHAM = np.array([[0.0, 1.0, 0.0], [18003.7572, 0.205205, 133.5381],
                       [1388.7730, 0.362319, 175.0000]])
#: Repulsive wall ``4 ε (σ/r)³⁰`` against the BKS collapse: ``(ε eV, σ Å)`` of Si–Si
#: (none), Si–O, O–O.
WALL = np.array([[0.0, 1.0], [3.0e-3, 1.313], [1.2e-3, 1.779]])
#: Contact correction ``k (r_c - r)²`` below ``r_c``: ``(r_c Å, k eV/Å²)`` of Si–Si, Si–O
#: (none), O–O. It forbids edge-sharing tetrahedra (two-membered rings: Si–Si ≈ 2.4 Å,
#: O–O ≈ 2.1 Å), which fast BKS quenches leave in but vitreous silica does not have, and
#: is exactly zero at the distances of corner-sharing tetrahedra.
CONTACT = np.array([[2.9, 10.0], [0.0, 0.0], [2.45, 10.0]])
#: Cutoff (Å) of the Buckingham + wall part, with a shifted force.
R_SHORT = 5.5


def bks_pair_tables(alpha, cutoff, h=0.004):
    """Tables ``(force, energy, 1/h)`` of the three pair potentials on a grid of r².

    ``force[p, k] = -V_p'(r)/r`` and ``energy[p, k] = V_p(r)`` at ``r² = k h`` (r below
    0.5 Å is clamped to 0.5 Å); ``V_p`` is the damped shifted force Coulomb sum
    (Fennell & Gezelter 2006) with damping ``alpha`` Å⁻¹ and ``cutoff`` Å, plus BKS
    Buckingham and the wall, force-shifted to zero at ``R_SHORT``, plus the contact
    correction.
    """
    n_tab = int(math.ceil(cutoff**2 / h)) + 3
    r = np.sqrt(np.maximum(np.arange(n_tab) * h, 0.5**2))
    rc = cutoff
    ec = erfc(alpha * rc)
    fc = ec / rc**2 + 2 * alpha / math.sqrt(math.pi) * math.exp(-(alpha * rc) ** 2) / rc
    coul_v = erfc(alpha * r) / r - ec / rc + fc * (r - rc)
    coul_d = (-erfc(alpha * r) / r**2
              - 2 * alpha / math.sqrt(math.pi) * np.exp(-(alpha * r) ** 2) / r + fc)
    force = np.zeros((3, n_tab))
    energy = np.zeros((3, n_tab))
    for p, (si, sj) in enumerate(((0, 0), (0, 1), (1, 1))):
        qq = COULOMB * CHARGE[si] * CHARGE[sj]
        a, rho, c = BUCKINGHAM[p]
        eps, sigma = WALL[p]
        r_c, k_c = CONTACT[p]

        def short(x, a=a, rho=rho, c=c, eps=eps, sigma=sigma):  # bind this pair's constants
            v = a * np.exp(-x / rho) - c / x**6 + 4 * eps * (sigma / x) ** 30
            d = -a / rho * np.exp(-x / rho) + 6 * c / x**7 - 120 * eps * sigma**30 / x**31
            return v, d

        v_s, d_s = short(r)
        v_c, d_c = short(R_SHORT)
        inside = r < R_SHORT
        v = qq * coul_v + np.where(inside, v_s - v_c - d_c * (r - R_SHORT), 0.0)
        d = qq * coul_d + np.where(inside, d_s - d_c, 0.0)
        contact = np.maximum(r_c - r, 0.0)
        v = v + k_c * contact**2
        d = d - 2 * k_c * contact
        beyond = r >= rc
        energy[p] = np.where(beyond, 0.0, v)
        force[p] = np.where(beyond, 0.0, -d / r)
    return force, energy, 1.0 / h


@njit(nogil=True, cache=True, parallel=True)
def build_neighbour_list(pos, box, radius, nbr, n_nbr):
    """Fill ``nbr[i, :n_nbr[i]]`` with every ``j`` within ``radius`` (minimum image).

    Returns the largest neighbour count; if it exceeds ``nbr.shape[1]`` the list is
    incomplete and the caller must grow ``nbr`` and call again.
    """
    n = pos.shape[0]
    cap = nbr.shape[1]
    r2max = radius * radius
    inv_box = 1.0 / box
    for i in prange(n):
        r2 = np.empty(n)
        xi = pos[i, 0]
        yi = pos[i, 1]
        zi = pos[i, 2]
        for j in range(n):  # branch-free, so it vectorises
            dx = pos[j, 0] - xi
            dy = pos[j, 1] - yi
            dz = pos[j, 2] - zi
            dx -= box * np.rint(dx * inv_box)
            dy -= box * np.rint(dy * inv_box)
            dz -= box * np.rint(dz * inv_box)
            r2[j] = dx * dx + dy * dy + dz * dz
        r2[i] = np.inf
        count = 0
        for j in range(n):
            if r2[j] < r2max:
                if count < cap:
                    nbr[i, count] = j
                count += 1
        n_nbr[i] = count
    return n_nbr.max()


@njit(nogil=True, cache=True, parallel=True)
def compute_forces(pos, box, species, nbr, n_nbr, table_force, table_energy, inv_h,
                   forces, energy, with_energy=True):
    """Pair forces (eV/Å) into ``forces`` and, if ``with_energy``, per-atom energies (half
    of each pair) into ``energy``; returns the total potential energy in eV (0 without).

    Positions may have left ``[0, box)³`` by less than half a box since the last build.
    """
    n = pos.shape[0]
    n_tab = table_force.shape[1]
    r2_last = (n_tab - 2) / inv_h
    inv_box = 1.0 / box
    for i in prange(n):
        fx = 0.0
        fy = 0.0
        fz = 0.0
        e = 0.0
        si = species[i]
        for m in range(n_nbr[i]):
            j = nbr[i, m]
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            dx -= box * np.rint(dx * inv_box)  # branch-free minimum image
            dy -= box * np.rint(dy * inv_box)
            dz -= box * np.rint(dz * inv_box)
            r2 = dx * dx + dy * dy + dz * dz
            if r2 >= r2_last:
                continue
            p = si + species[j]
            t = r2 * inv_h
            k = int(t)
            w = t - k
            f = table_force[p, k] + w * (table_force[p, k + 1] - table_force[p, k])
            if with_energy:
                e += table_energy[p, k] + w * (table_energy[p, k + 1] - table_energy[p, k])
            fx += f * dx
            fy += f * dy
            fz += f * dz
        forces[i, 0] = fx
        forces[i, 1] = fy
        forces[i, 2] = fz
        energy[i] = 0.5 * e
    if not with_energy:
        return 0.0
    return energy.sum()


@njit(nogil=True, cache=True)
def _max_displacement2(pos, ref):
    """Largest squared move since the last build (positions are not wrapped in between;
    ``ref = inf`` forces a build)."""
    worst = 0.0
    for i in range(pos.shape[0]):
        dx = pos[i, 0] - ref[i, 0]
        dy = pos[i, 1] - ref[i, 1]
        dz = pos[i, 2] - ref[i, 2]
        d2 = dx * dx + dy * dy + dz * dz
        if d2 > worst:
            worst = d2
    return worst


@njit(nogil=True, cache=True)
def _refresh_list(pos, ref, box, radius, skin, nbr, n_nbr):
    """Rebuild the list if needed; returns False if it overflowed (caller grows it)."""
    if _max_displacement2(pos, ref) > 0.25 * skin * skin:
        for i in range(pos.shape[0]):
            for a in range(3):
                pos[i, a] -= box * math.floor(pos[i, a] / box)
                ref[i, a] = pos[i, a]
        if build_neighbour_list(pos, box, radius, nbr, n_nbr) > nbr.shape[1]:
            return False
    return True


@njit(nogil=True, cache=True)
def kinetic_temperature(vel, mass):
    """Instantaneous temperature in K (3N degrees of freedom)."""
    ke = 0.0
    for i in range(vel.shape[0]):
        ke += mass[i] * (vel[i, 0] ** 2 + vel[i, 1] ** 2 + vel[i, 2] ** 2)
    return ke / ACCEL / (3.0 * vel.shape[0] * K_B)


@njit(nogil=True, cache=True, parallel=True)
def run_md(pos, vel, forces, energy, ref, mass, species, box, radius, skin, nbr, n_nbr,
           table_force, table_energy, inv_h, dt, t_start, t_end, tau, n_steps):
    """``n_steps`` velocity-Verlet steps of ``dt`` fs, the Berendsen target temperature
    going linearly from ``t_start`` to ``t_end`` K with coupling time ``tau`` fs.

    ``forces`` must hold the forces at ``pos`` on entry and holds them on exit. Returns
    the number of steps done (fewer than ``n_steps`` if the neighbour list overflowed).
    """
    n = pos.shape[0]
    for step in range(n_steps):
        target = t_start + (t_end - t_start) * (step + 1) / n_steps
        for i in prange(n):
            a = 0.5 * dt * ACCEL / mass[i]
            for c in range(3):
                vel[i, c] += a * forces[i, c]
                pos[i, c] += dt * vel[i, c]
        if not _refresh_list(pos, ref, box, radius, skin, nbr, n_nbr):
            return step
        compute_forces(pos, box, species, nbr, n_nbr, table_force, table_energy, inv_h,
                       forces, energy, step == n_steps - 1)
        for i in prange(n):
            a = 0.5 * dt * ACCEL / mass[i]
            for c in range(3):
                vel[i, c] += a * forces[i, c]
        temp = kinetic_temperature(vel, mass)
        scale = math.sqrt(max(1.0 + dt / tau * (target / max(temp, 1e-3) - 1.0), 0.25))
        scale = min(scale, 2.0)
        for i in prange(n):
            for c in range(3):
                vel[i, c] *= scale
    return n_steps


@njit(nogil=True, cache=True)
def run_fire(pos, vel, forces, energy, ref, mass, species, box, radius, skin, nbr, n_nbr,
             table_force, table_energy, inv_h, dt_start, dt_max, f_tol, n_steps):
    """FIRE minimisation (Bitzek et al. 2006) until the largest force is below ``f_tol``
    eV/Å or ``n_steps`` are done. Returns ``(steps done, largest force)``; steps is
    negative (``-step - 1``) if the neighbour list overflowed."""
    n = pos.shape[0]
    alpha = 0.1
    dt = dt_start
    n_positive = 0
    vel[:] = 0.0
    fmax = 0.0
    for step in range(n_steps):
        fmax = 0.0
        power = 0.0
        vnorm = 0.0
        fnorm = 0.0
        for i in range(n):
            for c in range(3):
                f = forces[i, c]
                power += f * vel[i, c]
                vnorm += vel[i, c] ** 2
                fnorm += f * f
                if abs(f) > fmax:
                    fmax = abs(f)
        if fmax < f_tol:
            return step, fmax
        vnorm = math.sqrt(vnorm)
        fnorm = math.sqrt(fnorm)
        if power > 0.0:
            for i in range(n):
                for c in range(3):
                    vel[i, c] = (1.0 - alpha) * vel[i, c] + alpha * vnorm * forces[i, c] / fnorm
            n_positive += 1
            if n_positive > 5:
                dt = min(dt * 1.1, dt_max)
                alpha *= 0.99
        else:
            vel[:] = 0.0
            dt *= 0.5
            alpha = 0.1
            n_positive = 0
        for i in range(n):
            a = dt * ACCEL / mass[i]
            for c in range(3):
                vel[i, c] += a * forces[i, c]
                step_len = dt * vel[i, c]
                if step_len > 0.1:  # cap the move: FIRE overshoots on a stiff wall
                    step_len = 0.1
                elif step_len < -0.1:
                    step_len = -0.1
                pos[i, c] += step_len
        if not _refresh_list(pos, ref, box, radius, skin, nbr, n_nbr):
            return -step - 1, fmax
        compute_forces(pos, box, species, nbr, n_nbr, table_force, table_energy, inv_h,
                       forces, energy)
    return n_steps, fmax
