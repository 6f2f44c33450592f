"""numba kernels behind :mod:`napari_atomtomo.core.trace` (no validation here)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(nogil=True, cache=True, parallel=True)
def local_maxima_mask(volume, min_value, faces_only, out):
    """Mark the interior voxels of ``volume`` that are local maxima above ``min_value``.

    The neighbourhood is the 26 surrounding voxels, or the 6 face neighbours if
    ``faces_only``.
    ``out`` (uint8, same shape) is overwritten: 1 for a maximum, 0 elsewhere. Ties are
    broken by voxel order (a voxel must be strictly larger than the neighbours that come
    before it in C order and at least as large as those after it), so a flat plateau
    yields few maxima instead of every voxel.
    """
    nz, ny, nx = volume.shape
    for k in prange(nz):
        for j in range(ny):
            for i in range(nx):
                out[k, j, i] = 0
        if k == 0 or k == nz - 1:
            continue
        for j in range(1, ny - 1):
            for i in range(1, nx - 1):
                v = volume[k, j, i]
                if not v > min_value:
                    continue
                is_max = True
                for dk in range(-1, 2):
                    for dj in range(-1, 2):
                        for di in range(-1, 2):
                            n_off = abs(dk) + abs(dj) + abs(di)
                            if n_off == 0 or (faces_only and n_off > 1):
                                continue
                            w = volume[k + dk, j + dj, i + di]
                            before = dk < 0 or (dk == 0 and (dj < 0 or (dj == 0 and di < 0)))
                            if before:
                                if w >= v:
                                    is_max = False
                            elif w > v:
                                is_max = False
                        if not is_max:
                            break
                    if not is_max:
                        break
                if is_max:
                    out[k, j, i] = 1
    return out


@njit(nogil=True, cache=True)
def greedy_suppress(order, pair_ptr, pair_idx):
    """Greedy non-maximum suppression over a neighbour graph in CSR form.

    ``order`` lists candidates from the brightest down; ``pair_idx[pair_ptr[a]:pair_ptr[a+1]]``
    are the candidates closer than the minimum distance to candidate ``a``. Returns a
    boolean keep-mask: a candidate is kept unless a brighter kept candidate is its neighbour.
    """
    n = order.size
    keep = np.zeros(n, dtype=np.bool_)
    removed = np.zeros(n, dtype=np.bool_)
    for r in range(n):
        a = order[r]
        if removed[a]:
            continue
        keep[a] = True
        for p in range(pair_ptr[a], pair_ptr[a + 1]):
            removed[pair_idx[p]] = True
    return keep


@njit(nogil=True, cache=True)
def add_isotropic_gaussians(out, centres_zyx, heights, sigmas, reach):
    """Add ``h · exp(-|r - c|² / (2σ²))`` of every atom to ``out`` within ``reach·σ``.

    ``centres_zyx`` are fractional voxel indices, ``sigmas`` in voxels; ``out`` (float32)
    is updated in place (serial: neighbouring atoms write to the same voxels).
    """
    nz, ny, nx = out.shape
    for a in range(centres_zyx.shape[0]):
        cz, cy, cx = centres_zyx[a, 0], centres_zyx[a, 1], centres_zyx[a, 2]
        s = sigmas[a]
        h = heights[a]
        r = reach * s
        inv = 0.5 / (s * s)
        z0, z1 = max(int(np.floor(cz - r)), 0), min(int(np.ceil(cz + r)) + 1, nz)
        y0, y1 = max(int(np.floor(cy - r)), 0), min(int(np.ceil(cy + r)) + 1, ny)
        x0, x1 = max(int(np.floor(cx - r)), 0), min(int(np.ceil(cx + r)) + 1, nx)
        for k in range(z0, z1):
            dz2 = (k - cz) ** 2
            for j in range(y0, y1):
                dzy2 = dz2 + (j - cy) ** 2
                for i in range(x0, x1):
                    out[k, j, i] += h * np.exp(-(dzy2 + (i - cx) ** 2) * inv)
    return out
