"""A known-answer phantom for per-region compositions: blurred maps of a core/shell particle
and the full label map of its true regions (tests of core.region_margin, the CLI, the job)."""

import numpy as np
from scipy.ndimage import gaussian_filter

from napari_atomtomo.core.elements import TABLE2_LINES

RHO = {"Co": 8.90, "Zn": 7.14}


def blurred_core_shell(ndim: int, sigma: float, shell_cap: bool = False):
    """HEBT-like maps ``z_A C_A ρ`` of an off-centre core (80 wt % Zn) in a shell (20 %),
    blurred by a Gaussian of ``sigma`` voxels (the reconstruction's point-spread function),
    and the full label map of the true regions (what a user paints up to the boundaries)."""
    n = 48 if ndim == 2 else 32
    c = np.arange(n) - (n - 1) / 2
    if ndim == 2:
        z, x = np.meshgrid(c, c, indexing="ij")
        z, y, x = z[:, None, :], np.zeros((n, 1, n)), x[:, None, :]
    else:
        z, y, x = np.meshgrid(c, c, c, indexing="ij")
    r_p = 0.4 * n
    particle = np.sqrt(x**2 + y**2 + z**2) <= r_p
    core = np.sqrt((x - 0.12 * r_p) ** 2 + y**2 + (z + 0.08 * r_p) ** 2) <= 0.55 * r_p
    labels = np.where(core, 1, np.where(particle, 2, 0))
    zn = np.where(core, 0.8, np.where(particle, 0.2, 0.0))
    if shell_cap:  # a thin layer (2 voxels) on top of the shell: too thin for the margin
        cap = particle & ~core & (z > r_p - 2.5)
        labels[cap], zn[cap] = 3, 0.5
    co = np.where(particle, 1.0 - zn, 0.0)
    rho = np.where(particle, 1.0 / np.where(particle, co / RHO["Co"] + zn / RHO["Zn"], 1.0), 0.0)
    blur = [sigma if s > 1 else 0.0 for s in particle.shape]
    maps = {el: gaussian_filter(TABLE2_LINES[el].z * f * rho, blur).astype(np.float32)
            for el, f in (("Co", co), ("Zn", zn))}
    truth = {str(k): float(zn[labels == k].mean()) for k in np.unique(labels[labels > 0])}
    return maps, labels, truth
