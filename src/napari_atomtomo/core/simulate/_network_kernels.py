"""numba kernels of the silica network generator (private).

A network is a set of positions in a periodic cubic box of edge ``box`` plus a bond
partner table ``partners[i, :]`` (``-1`` pads unused slots). Its energy is a
Keating-type valence force field written in a form that needs only the partner table:

- bond stretching ``kb[s_i, s_j] (r - r0[s_i, s_j])²`` for every bonded pair,
- bond bending ``ka[s_c] (cos φ - c0[s_c])²`` for every pair of partners of a centre ``c``,
- a soft wall ``kr (rc[s_i, s_j] - r)²`` for every *non-bonded* pair closer than ``rc``,

with ``s`` the species index (0 = Si, 1 = O). Non-bonded pairs come from a Verlet list
that the relaxation rebuilds every few steps. Relaxation is FIRE (Bitzek et al., PRL
97, 170201, 2006). ``www_anneal`` runs Wooten-Winer-Weaire bond switches with Metropolis
acceptance on a four-connected network (Wooten, Winer & Weaire, PRL 54, 1392, 1985;
Barkema & Mousseau, PRB 62, 4985, 2000).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def _wrap(d, box):
    return d - box * math.floor(d / box + 0.5)


@njit(nogil=True, cache=True)
def _is_partner(partners, i, j):
    for m in range(partners.shape[1]):
        if partners[i, m] == j:
            return True
    return False


@njit(nogil=True, cache=True)
def build_pair_list(pos, box, species, partners, cutoff):
    """Non-bonded pairs ``(i, j)``, ``i < j``, closer than ``cutoff`` (minimum image)."""
    n = pos.shape[0]
    cap = 64 * n
    pairs = np.empty((cap, 2), dtype=np.int64)
    count = 0
    c2 = cutoff * cutoff
    for i in range(n):
        for j in range(i + 1, n):
            dx = _wrap(pos[j, 0] - pos[i, 0], box)
            if abs(dx) > cutoff:
                continue
            dy = _wrap(pos[j, 1] - pos[i, 1], box)
            if abs(dy) > cutoff:
                continue
            dz = _wrap(pos[j, 2] - pos[i, 2], box)
            if dx * dx + dy * dy + dz * dz < c2 and not _is_partner(partners, i, j):
                if count == cap:
                    bigger = np.empty((2 * cap, 2), dtype=np.int64)
                    bigger[:cap] = pairs
                    pairs = bigger
                    cap *= 2
                pairs[count, 0] = i
                pairs[count, 1] = j
                count += 1
    return pairs[:count].copy()


@njit(nogil=True, cache=True)
def energy_forces(pos, box, species, partners, r0, kb, c0, ka, rc, kr, pairs, forces):
    """Total energy (eV) of the force field; ``forces`` (n, 3) is overwritten."""
    n = pos.shape[0]
    n_slots = partners.shape[1]
    forces[:] = 0.0
    energy = 0.0
    for i in range(n):
        si = species[i]
        # bond stretching, each bond once (i < j)
        for m in range(n_slots):
            j = partners[i, m]
            if j <= i:
                continue
            sj = species[j]
            dx = _wrap(pos[j, 0] - pos[i, 0], box)
            dy = _wrap(pos[j, 1] - pos[i, 1], box)
            dz = _wrap(pos[j, 2] - pos[i, 2], box)
            r = math.sqrt(dx * dx + dy * dy + dz * dz)
            dr = r - r0[si, sj]
            energy += kb[si, sj] * dr * dr
            g = 2.0 * kb[si, sj] * dr / max(r, 1e-12)
            forces[i, 0] += g * dx
            forces[i, 1] += g * dy
            forces[i, 2] += g * dz
            forces[j, 0] -= g * dx
            forces[j, 1] -= g * dy
            forces[j, 2] -= g * dz
        # bond bending about centre i
        k_ang = ka[si]
        if k_ang == 0.0:
            continue
        for m in range(n_slots):
            a = partners[i, m]
            if a < 0:
                continue
            ux = _wrap(pos[a, 0] - pos[i, 0], box)
            uy = _wrap(pos[a, 1] - pos[i, 1], box)
            uz = _wrap(pos[a, 2] - pos[i, 2], box)
            lu = math.sqrt(ux * ux + uy * uy + uz * uz)
            for q in range(m + 1, n_slots):
                b = partners[i, q]
                if b < 0:
                    continue
                vx = _wrap(pos[b, 0] - pos[i, 0], box)
                vy = _wrap(pos[b, 1] - pos[i, 1], box)
                vz = _wrap(pos[b, 2] - pos[i, 2], box)
                lv = math.sqrt(vx * vx + vy * vy + vz * vz)
                inv = 1.0 / max(lu * lv, 1e-12)
                c = (ux * vx + uy * vy + uz * vz) * inv
                dc = c - c0[si]
                energy += k_ang * dc * dc
                de = 2.0 * k_ang * dc
                # dc/du = v/(|u||v|) - c u/|u|^2 ; dc/dv likewise
                fu = c / max(lu * lu, 1e-12)
                fv = c / max(lv * lv, 1e-12)
                gux = de * (vx * inv - fu * ux)
                guy = de * (vy * inv - fu * uy)
                guz = de * (vz * inv - fu * uz)
                gvx = de * (ux * inv - fv * vx)
                gvy = de * (uy * inv - fv * vy)
                gvz = de * (uz * inv - fv * vz)
                forces[a, 0] -= gux
                forces[a, 1] -= guy
                forces[a, 2] -= guz
                forces[b, 0] -= gvx
                forces[b, 1] -= gvy
                forces[b, 2] -= gvz
                forces[i, 0] += gux + gvx
                forces[i, 1] += guy + gvy
                forces[i, 2] += guz + gvz
    # soft walls between non-bonded pairs
    for p in range(pairs.shape[0]):
        i = pairs[p, 0]
        j = pairs[p, 1]
        cut = rc[species[i], species[j]]
        dx = _wrap(pos[j, 0] - pos[i, 0], box)
        dy = _wrap(pos[j, 1] - pos[i, 1], box)
        dz = _wrap(pos[j, 2] - pos[i, 2], box)
        r2 = dx * dx + dy * dy + dz * dz
        if r2 >= cut * cut:
            continue
        r = math.sqrt(r2)
        dr = cut - r
        energy += kr * dr * dr
        g = -2.0 * kr * dr / max(r, 1e-12)
        forces[i, 0] += g * dx
        forces[i, 1] += g * dy
        forces[i, 2] += g * dz
        forces[j, 0] -= g * dx
        forces[j, 1] -= g * dy
        forces[j, 2] -= g * dz
    return energy


@njit(nogil=True, cache=True)
def fire_relax(pos, box, species, partners, r0, kb, c0, ka, rc, kr, max_steps, f_tol):
    """Relax ``pos`` in place with FIRE; returns the final energy."""
    n = pos.shape[0]
    skin = 1.0
    cut = 0.0
    for s in range(rc.shape[0]):
        for t in range(rc.shape[1]):
            cut = max(cut, rc[s, t])
    pairs = build_pair_list(pos, box, species, partners, cut + skin)
    ref = pos.copy()
    forces = np.zeros_like(pos)
    vel = np.zeros_like(pos)
    dt, dt_max, alpha, n_pos = 0.02, 0.1, 0.1, 0
    energy = energy_forces(pos, box, species, partners, r0, kb, c0, ka, rc, kr, pairs, forces)
    for _ in range(max_steps):
        f_max = 0.0
        power = 0.0
        v2 = 0.0
        f2 = 0.0
        for i in range(n):
            for d in range(3):
                f_max = max(f_max, abs(forces[i, d]))
                power += forces[i, d] * vel[i, d]
                v2 += vel[i, d] * vel[i, d]
                f2 += forces[i, d] * forces[i, d]
        if f_max < f_tol:
            break
        if power > 0.0:
            mix = alpha * math.sqrt(v2 / max(f2, 1e-30))
            for i in range(n):
                for d in range(3):
                    vel[i, d] = (1.0 - alpha) * vel[i, d] + mix * forces[i, d]
            n_pos += 1
            if n_pos > 5:
                dt = min(dt * 1.1, dt_max)
                alpha *= 0.99
        else:
            vel[:] = 0.0
            dt *= 0.5
            alpha = 0.1
            n_pos = 0
        # semi-implicit Euler step with unit masses, capped at 0.1 Å per step
        moved = 0.0
        for i in range(n):
            for d in range(3):
                vel[i, d] += dt * forces[i, d]
                step = dt * vel[i, d]
                if step > 0.1:
                    step = 0.1
                elif step < -0.1:
                    step = -0.1
                pos[i, d] += step
            dxr = pos[i, 0] - ref[i, 0]
            dyr = pos[i, 1] - ref[i, 1]
            dzr = pos[i, 2] - ref[i, 2]
            moved = max(moved, dxr * dxr + dyr * dyr + dzr * dzr)
        if moved > 0.25 * skin * skin:
            pairs = build_pair_list(pos, box, species, partners, cut + skin)
            ref[:] = pos
        energy = energy_forces(pos, box, species, partners, r0, kb, c0, ka, rc, kr, pairs, forces)
    return energy


@njit(nogil=True, cache=True)
def _local_pairs(pos, box, partners, mobile_list, is_mobile, cutoff):
    """Non-bonded pairs with at least one mobile atom (each pair once)."""
    n = pos.shape[0]
    cap = 32 * mobile_list.shape[0] + 16
    pairs = np.empty((cap, 2), dtype=np.int64)
    count = 0
    c2 = cutoff * cutoff
    for q in range(mobile_list.shape[0]):
        i = mobile_list[q]
        for j in range(n):
            if j == i or (is_mobile[j] and j < i):
                continue
            dx = _wrap(pos[j, 0] - pos[i, 0], box)
            if abs(dx) > cutoff:
                continue
            dy = _wrap(pos[j, 1] - pos[i, 1], box)
            if abs(dy) > cutoff:
                continue
            dz = _wrap(pos[j, 2] - pos[i, 2], box)
            if dx * dx + dy * dy + dz * dz < c2 and not _is_partner(partners, i, j):
                if count == cap:
                    bigger = np.empty((2 * cap, 2), dtype=np.int64)
                    bigger[:cap] = pairs
                    pairs = bigger
                    cap *= 2
                pairs[count, 0] = i
                pairs[count, 1] = j
                count += 1
    return pairs[:count]


@njit(nogil=True, cache=True)
def _local_energy_forces(pos, box, partners, centre_list, is_centre, r0, kb, ka, rc, kr,
                         pairs, forces):
    """Energy of the terms around ``centre_list`` (single species), forces overwritten."""
    forces[:] = 0.0
    energy = 0.0
    c0 = -1.0 / 3.0
    for q in range(centre_list.shape[0]):
        i = centre_list[q]
        for m in range(4):
            j = partners[i, m]
            if j < i and is_centre[j]:
                continue
            dx = _wrap(pos[j, 0] - pos[i, 0], box)
            dy = _wrap(pos[j, 1] - pos[i, 1], box)
            dz = _wrap(pos[j, 2] - pos[i, 2], box)
            r = math.sqrt(dx * dx + dy * dy + dz * dz)
            dr = r - r0
            energy += kb * dr * dr
            g = 2.0 * kb * dr / max(r, 1e-12)
            forces[i, 0] += g * dx
            forces[i, 1] += g * dy
            forces[i, 2] += g * dz
            forces[j, 0] -= g * dx
            forces[j, 1] -= g * dy
            forces[j, 2] -= g * dz
        for m in range(4):
            a = partners[i, m]
            ux = _wrap(pos[a, 0] - pos[i, 0], box)
            uy = _wrap(pos[a, 1] - pos[i, 1], box)
            uz = _wrap(pos[a, 2] - pos[i, 2], box)
            lu = math.sqrt(ux * ux + uy * uy + uz * uz)
            for t in range(m + 1, 4):
                b = partners[i, t]
                vx = _wrap(pos[b, 0] - pos[i, 0], box)
                vy = _wrap(pos[b, 1] - pos[i, 1], box)
                vz = _wrap(pos[b, 2] - pos[i, 2], box)
                lv = math.sqrt(vx * vx + vy * vy + vz * vz)
                inv = 1.0 / max(lu * lv, 1e-12)
                c = (ux * vx + uy * vy + uz * vz) * inv
                dc = c - c0
                energy += ka * dc * dc
                de = 2.0 * ka * dc
                fu = c / max(lu * lu, 1e-12)
                fv = c / max(lv * lv, 1e-12)
                gux = de * (vx * inv - fu * ux)
                guy = de * (vy * inv - fu * uy)
                guz = de * (vz * inv - fu * uz)
                gvx = de * (ux * inv - fv * vx)
                gvy = de * (uy * inv - fv * vy)
                gvz = de * (uz * inv - fv * vz)
                forces[a, 0] -= gux
                forces[a, 1] -= guy
                forces[a, 2] -= guz
                forces[b, 0] -= gvx
                forces[b, 1] -= gvy
                forces[b, 2] -= gvz
                forces[i, 0] += gux + gvx
                forces[i, 1] += guy + gvy
                forces[i, 2] += guz + gvz
    for p in range(pairs.shape[0]):
        i = pairs[p, 0]
        j = pairs[p, 1]
        dx = _wrap(pos[j, 0] - pos[i, 0], box)
        dy = _wrap(pos[j, 1] - pos[i, 1], box)
        dz = _wrap(pos[j, 2] - pos[i, 2], box)
        r2 = dx * dx + dy * dy + dz * dz
        if r2 >= rc * rc:
            continue
        r = math.sqrt(r2)
        dr = rc - r
        energy += kr * dr * dr
        g = -2.0 * kr * dr / max(r, 1e-12)
        forces[i, 0] += g * dx
        forces[i, 1] += g * dy
        forces[i, 2] += g * dz
        forces[j, 0] -= g * dx
        forces[j, 1] -= g * dy
        forces[j, 2] -= g * dz
    return energy


@njit(nogil=True, cache=True)
def _local_relax(pos, box, partners, mobile_list, is_mobile, centre_list, is_centre,
                 r0, kb, ka, rc, kr, max_steps, f_tol, forces, vel):
    """FIRE on the mobile atoms only; returns the local energy."""
    skin = 0.8
    pairs = _local_pairs(pos, box, partners, mobile_list, is_mobile, rc + skin)
    n_mob = mobile_list.shape[0]
    ref = np.empty((n_mob, 3))
    for q in range(n_mob):
        ref[q] = pos[mobile_list[q]]
        vel[q] = 0.0
    dt, alpha, n_pos = 0.05, 0.1, 0
    energy = _local_energy_forces(pos, box, partners, centre_list, is_centre, r0, kb, ka, rc,
                                  kr, pairs, forces)
    for _ in range(max_steps):
        f_max = 0.0
        power = 0.0
        v2 = 0.0
        f2 = 0.0
        for q in range(n_mob):
            i = mobile_list[q]
            for d in range(3):
                f_max = max(f_max, abs(forces[i, d]))
                power += forces[i, d] * vel[q, d]
                v2 += vel[q, d] * vel[q, d]
                f2 += forces[i, d] * forces[i, d]
        if f_max < f_tol:
            break
        if power > 0.0:
            mix = alpha * math.sqrt(v2 / max(f2, 1e-30))
            for q in range(n_mob):
                i = mobile_list[q]
                for d in range(3):
                    vel[q, d] = (1.0 - alpha) * vel[q, d] + mix * forces[i, d]
            n_pos += 1
            if n_pos > 5:
                dt = min(dt * 1.1, 0.3)
                alpha *= 0.99
        else:
            vel[:n_mob] = 0.0
            dt *= 0.5
            alpha = 0.1
            n_pos = 0
        moved = 0.0
        for q in range(n_mob):
            i = mobile_list[q]
            for d in range(3):
                vel[q, d] += dt * forces[i, d]
                step = min(max(dt * vel[q, d], -0.1), 0.1)
                pos[i, d] += step
                moved = max(moved, abs(pos[i, d] - ref[q, d]))
        if moved > 0.3 * skin:
            pairs = _local_pairs(pos, box, partners, mobile_list, is_mobile, rc + skin)
            for q in range(n_mob):
                ref[q] = pos[mobile_list[q]]
        energy = _local_energy_forces(pos, box, partners, centre_list, is_centre, r0, kb, ka,
                                      rc, kr, pairs, forces)
    return energy


@njit(nogil=True, cache=True)
def _replace(partners, i, old, new):
    for m in range(partners.shape[1]):
        if partners[i, m] == old:
            partners[i, m] = new
            return


@njit(nogil=True, cache=True)
def www_anneal(pos, box, partners, r0, kb, ka, rc, kr, n_trials, kt_start, kt_end,
               local_radius, relax_steps, seed):
    """Bond-switch Monte Carlo on a four-connected single-species network (in place).

    Each trial picks a bonded pair B–C, a partner A of B and a partner D of C, swaps
    the bonds A–B, C–D for A–C, B–D, relaxes the atoms within ``local_radius`` of B and
    C, and keeps the switch with the Metropolis probability ``exp(-ΔE / kT)``, ``kT``
    falling geometrically from ``kt_start`` to ``kt_end`` (eV). The whole network is
    relaxed every ``n / 2`` trials and at the end. Returns the accepted switch count.
    """
    np.random.seed(seed)
    n = pos.shape[0]
    species = np.zeros(n, dtype=np.int64)
    r0a = np.full((1, 1), r0)
    kba = np.full((1, 1), kb)
    c0a = np.full(1, -1.0 / 3.0)
    kaa = np.full(1, ka)
    rca = np.full((1, 1), rc)
    fire_relax(pos, box, species, partners, r0a, kba, c0a, kaa, rca, kr, 3000, 1e-3)
    accepted = 0
    saved = pos.copy()
    forces = np.zeros_like(pos)
    vel = np.zeros_like(pos)
    is_mobile = np.zeros(n, dtype=np.bool_)
    is_centre = np.zeros(n, dtype=np.bool_)
    mobile = np.empty(n, dtype=np.int64)
    centres = np.empty(n, dtype=np.int64)
    r2 = local_radius * local_radius
    for t in range(n_trials):
        kt = kt_start * (kt_end / kt_start) ** (t / max(n_trials - 1, 1))
        b = np.random.randint(n)
        c = partners[b, np.random.randint(4)]
        a = partners[b, np.random.randint(4)]
        d = partners[c, np.random.randint(4)]
        if a == c or d == b or a == d:
            continue
        if _is_partner(partners, a, c) or _is_partner(partners, b, d):
            continue
        # mobile atoms: within local_radius of B or C, plus A, B, C, D
        n_mob = 0
        for i in range(n):
            near = i == a or i == b or i == c or i == d
            if not near:
                for s in (b, c):
                    dx = _wrap(pos[i, 0] - pos[s, 0], box)
                    dy = _wrap(pos[i, 1] - pos[s, 1], box)
                    dz = _wrap(pos[i, 2] - pos[s, 2], box)
                    if dx * dx + dy * dy + dz * dz < r2:
                        near = True
            is_mobile[i] = near
            if near:
                mobile[n_mob] = i
                n_mob += 1
        # centres: mobile atoms and their partners (before and after the switch)
        n_cen = 0
        is_centre[:] = False
        for q in range(n_mob):
            i = mobile[q]
            if not is_centre[i]:
                is_centre[i] = True
                centres[n_cen] = i
                n_cen += 1
            for m in range(4):
                j = partners[i, m]
                if not is_centre[j]:
                    is_centre[j] = True
                    centres[n_cen] = j
                    n_cen += 1
        mob = mobile[:n_mob]
        cen = centres[:n_cen]
        pairs = _local_pairs(pos, box, partners, mob, is_mobile, rc)
        e_old = _local_energy_forces(pos, box, partners, cen, is_centre, r0, kb, ka, rc, kr,
                                     pairs, forces)
        for q in range(n_mob):
            saved[q] = pos[mob[q]]
        _replace(partners, a, b, c)
        _replace(partners, b, a, d)
        _replace(partners, c, d, a)
        _replace(partners, d, c, b)
        e_new = _local_relax(pos, box, partners, mob, is_mobile, cen, is_centre, r0, kb, ka,
                             rc, kr, relax_steps, 1e-2, forces, vel)
        d_e = e_new - e_old
        if d_e < 0.0 or np.random.random() < math.exp(-d_e / kt):
            accepted += 1
        else:
            _replace(partners, a, c, b)
            _replace(partners, b, d, a)
            _replace(partners, c, a, d)
            _replace(partners, d, b, c)
            for q in range(n_mob):
                pos[mob[q]] = saved[q]
        if (t + 1) % max(n // 2, 1) == 0:
            fire_relax(pos, box, species, partners, r0a, kba, c0a, kaa, rca, kr, 500, 1e-3)
    fire_relax(pos, box, species, partners, r0a, kba, c0a, kaa, rca, kr, 5000, 1e-4)
    return accepted
