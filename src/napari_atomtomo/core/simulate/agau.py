"""The Ag–Au core–shell phantom of paper 002 (§3.1) and its HAADF and EDS sinograms.

A 2D slice on the X–Z plane, stored as volumes ``(z, 1, x)`` (CONVENTIONS.md): a disc
of Ag–Au alloy whose core is 80 wt% Au / 20 wt% Ag and whose shell is 20 wt% Au /
80 wt% Ag. 97 beam positions −72…72 nm (1.5 nm = 15 Å pixels), 31 tilts −75…75° (5°).

Signals follow the paper's thin-film models with its Table 2 factors
(:mod:`..elements`), using line integrals of :func:`..projectors.forward_project`
(in voxel lengths, times the voxel length in cm to give ``ρt`` in g/cm²):

* HAADF, Eq. 13–14: ``I_H = D_H · N_V · Σ_A z_A ∫ C_A ρ dt`` (electrons scattered
  onto the detector), with Poisson noise at ``D_H`` electrons per pixel.
* EDS, Eq. 6 and 9: ``I_A = n f_A ∫ C_A ρ dt`` with ``n = N_V D_e Ω / 4π``, Poisson
  noise, then (as in the paper) a Gaussian filter of σ = 0.8 px on each sinogram.

Since ``b = 1e-24 cm²``, ``N_V · z_A`` in b·mol/g is ``0.6022 · z_A`` cm²/g.
The paper leaves open the alloy density, the detector solid angle, the exact radii
and whether HAADF is noisy; our choices are the defaults of :class:`AgAuParams` and
are explained in ``docs/agau-phantom.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter

from .._refs import PAPER_002, cites
from ..config import AVOGADRO
from ..elements import TABLE2_LINES
from ..params import param, register_params
from ..projectors import forward_project

__all__ = [
    "AVOGADRO",
    "DENSITY_G_CM3",
    "AgAuDataSet",
    "AgAuParams",
    "agau_phantom",
    "alloy_density",
    "expected_response_ratios",
    "simulate_agau",
]

#: Densities of the pure metals at room temperature (g/cm³).
DENSITY_G_CM3 = {"Ag": 10.49, "Au": 19.32}
_BARN_CM2 = 1e-24
_ELEMENTS = ("Ag", "Au")


@register_params("simulate.agau")
@dataclass(frozen=True)
class AgAuParams:
    """Geometry, composition and acquisition of the Ag–Au phantom (paper 002, §3.1).

    Lengths in nm (the paper's unit for this phantom); ``core_offset_nm`` is the core
    centre ``(dx, dz)`` relative to the particle centre. Compositions are weight
    fractions of Au (Ag is the rest). ``solid_angle_sr`` is the EDS detector solid angle
    Ω; ``eds_electrons`` and ``haadf_electrons`` the electrons per pixel (``D_e``,
    ``D_H``). ``gaussian_sigma`` (px, on the EDS sinograms) 0 switches the filter off.
    """

    n_pixels: int = 97
    pixel_size_nm: float = 1.5
    max_angle_deg: float = 75.0
    angle_step_deg: float = 5.0
    particle_radius_nm: float = 45.0
    core_radius_nm: float = 24.0
    core_offset_nm: tuple = (4.5, -3.0)
    core_au: float = 0.8
    shell_au: float = 0.2
    eds_electrons: float = 3.121e8
    haadf_electrons: float = 1.0e5
    solid_angle_sr: float = param(0.7, flag="--solid-angle", label="EDS solid angle", unit="sr",
                                  range=(0.01, 12.0), step=0.05, metavar="SR",
                                  help="solid angle of the EDS detector(s); more sr, more X-ray "
                                       "counts")
    haadf_noise: bool = True
    gaussian_sigma: float = 0.8

    def __post_init__(self):
        if int(self.n_pixels) != self.n_pixels or self.n_pixels < 8:
            raise ValueError(f"n_pixels must be a whole number >= 8, got {self.n_pixels!r}")
        for name in ("pixel_size_nm", "particle_radius_nm", "core_radius_nm", "eds_electrons",
                     "haadf_electrons", "solid_angle_sr", "angle_step_deg", "max_angle_deg"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive finite number, got {v!r}")
        if self.max_angle_deg >= 90:
            raise ValueError(f"max_angle_deg must be below 90, got {self.max_angle_deg}")
        if self.solid_angle_sr > 4 * math.pi:
            raise ValueError(f"solid_angle_sr must be at most 4π sr, got {self.solid_angle_sr}")
        for name in ("core_au", "shell_au"):
            v = getattr(self, name)
            if not (0.0 <= v <= 1.0):
                raise ValueError(f"{name} must be a weight fraction in [0, 1], got {v!r}")
        if len(self.core_offset_nm) != 2:
            raise ValueError(f"core_offset_nm must be (dx, dz) in nm, got {self.core_offset_nm!r}")
        off = math.hypot(*self.core_offset_nm)
        if self.core_radius_nm + off >= self.particle_radius_nm:
            raise ValueError(
                f"the core (radius {self.core_radius_nm} nm, offset {off:.3g} nm) must lie inside "
                f"the particle (radius {self.particle_radius_nm} nm)"
            )
        half = (self.n_pixels - 1) / 2 * self.pixel_size_nm
        if self.particle_radius_nm >= half:
            raise ValueError(
                f"particle_radius_nm {self.particle_radius_nm} does not fit in the field of view "
                f"(half width {half:g} nm)"
            )
        if not (math.isfinite(self.gaussian_sigma) and self.gaussian_sigma >= 0):
            raise ValueError(f"gaussian_sigma must be >= 0 (0: no filter), got {self.gaussian_sigma!r}")

    @property
    def voxel_size(self) -> float:
        """Voxel size in Å."""
        return self.pixel_size_nm * 10.0

    @property
    def angles_deg(self) -> np.ndarray:
        """Tilt angles in degrees, ``-max_angle_deg`` to ``+max_angle_deg``."""
        n = int(round(2 * self.max_angle_deg / self.angle_step_deg)) + 1
        return np.linspace(-self.max_angle_deg, self.max_angle_deg, n)


@dataclass(frozen=True, eq=False)
class AgAuDataSet:
    """A simulated data set with the fields of the I/O layer's ``DataSet``.

    ``haadf`` and ``eds[El]`` are tilt series ``(angle, 1, x)`` (float32); ``phantoms[El]``
    the true weight fractions ``(z, 1, x)``; ``density`` the true density (g/cm³);
    ``haadf_clean`` / ``eds_clean`` the noise-free signals; ``truth`` a JSON-able dict of
    the settings and the response ratios the model implies (Eq. 16).
    """

    haadf: np.ndarray
    eds: dict
    angles_deg: np.ndarray
    voxel_size: float
    phantoms: dict
    density: np.ndarray
    haadf_clean: np.ndarray
    eds_clean: dict
    truth: dict = field(default_factory=dict)
    atoms_true: None = None
    path: None = None


def alloy_density(weight_fractions: dict) -> float:
    """Density of an ideal (volume-additive) alloy: ``1/ρ = Σ C_A / ρ_A`` (g/cm³)."""
    inv = sum(c / DENSITY_G_CM3[el] for el, c in weight_fractions.items())
    if inv <= 0:
        raise ValueError(f"weight fractions {weight_fractions!r} describe no material")
    return 1.0 / inv


def agau_phantom(params: AgAuParams = AgAuParams()) -> tuple[dict, np.ndarray]:
    """True weight fractions ``{"Ag", "Au"}`` and density (g/cm³), each ``(z, 1, x)`` float64.

    A voxel belongs to the core (or the particle) when its centre lies inside the disc.
    """
    n = int(params.n_pixels)
    c = (n - 1) / 2
    coords = (np.arange(n) - c) * params.pixel_size_nm
    z, x = np.meshgrid(coords, coords, indexing="ij")
    particle = np.hypot(x, z) <= params.particle_radius_nm
    dx, dz = params.core_offset_nm
    core = np.hypot(x - dx, z - dz) <= params.core_radius_nm
    shell = particle & ~core
    au = np.where(core, params.core_au, np.where(shell, params.shell_au, 0.0))
    ag = np.where(particle, 1.0 - au, 0.0)
    rho_core = alloy_density({"Au": params.core_au, "Ag": 1 - params.core_au})
    rho_shell = alloy_density({"Au": params.shell_au, "Ag": 1 - params.shell_au})
    density = np.where(core, rho_core, np.where(shell, rho_shell, 0.0))
    fractions = {"Ag": ag[:, None, :], "Au": au[:, None, :]}
    return fractions, density[:, None, :]


def expected_response_ratios(params: AgAuParams = AgAuParams()) -> dict[str, float]:
    """``r_A = D_H N_V z_A / (n f_A) = D_H z_A / (D_e (Ω/4π) f_A)`` (Eq. 16)."""
    omega = params.solid_angle_sr / (4 * math.pi)
    return {
        el: params.haadf_electrons * TABLE2_LINES[el].z
        / (params.eds_electrons * omega * TABLE2_LINES[el].f)
        for el in _ELEMENTS
    }


@cites(PAPER_002)
def simulate_agau(seed: int = 0, params: AgAuParams | None = None, *,
                  gaussian_sigma: float | None = None) -> AgAuDataSet:
    """Simulate paper 002's Ag–Au phantom: HAADF and EDS (Ag Lα, Au Mα) sinograms.

    Parameters
    ----------
    seed : int
        Seed of the Poisson noise (``numpy.random.default_rng``).
    params : AgAuParams, optional
        Geometry, composition and acquisition; default the paper's set-up.
    gaussian_sigma : float, optional
        Overrides ``params.gaussian_sigma`` (0 = no filter on the EDS sinograms).

    Returns
    -------
    AgAuDataSet
    """
    if params is None:
        params = AgAuParams()
    if not isinstance(params, AgAuParams):
        raise ValueError(f"params must be an AgAuParams, got {type(params).__name__}")
    if gaussian_sigma is not None:
        params = AgAuParams(**{**params.__dict__, "gaussian_sigma": float(gaussian_sigma)})
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    fractions, density = agau_phantom(params)
    angles = params.angles_deg
    voxel_cm = params.pixel_size_nm * 1e-7

    # ∫ C_A ρ dt in g/cm² for every beam position and tilt.
    mass_thickness = {
        el: forward_project((fractions[el] * density).astype(np.float32), angles).astype(np.float64)
        * voxel_cm
        for el in _ELEMENTS
    }
    for m in mass_thickness.values():
        np.maximum(m, 0.0, out=m)  # float rounding at the particle edge
    n_const = AVOGADRO * params.eds_electrons * params.solid_angle_sr / (4 * math.pi) * _BARN_CM2
    eds_clean = {el: n_const * TABLE2_LINES[el].f * mass_thickness[el] for el in _ELEMENTS}
    haadf_clean = sum(
        params.haadf_electrons * AVOGADRO * _BARN_CM2 * TABLE2_LINES[el].z * mass_thickness[el]
        for el in _ELEMENTS
    )
    eds = {}
    for el in _ELEMENTS:
        counts = rng.poisson(eds_clean[el]).astype(np.float64)
        if params.gaussian_sigma > 0:
            counts[:, 0, :] = gaussian_filter(counts[:, 0, :], params.gaussian_sigma)
        eds[el] = counts.astype(np.float32)
    haadf = rng.poisson(haadf_clean).astype(np.float32) if params.haadf_noise else haadf_clean

    truth = {
        "seed": int(seed),
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.__dict__.items()},
        "density_core_g_cm3": alloy_density({"Au": params.core_au, "Ag": 1 - params.core_au}),
        "density_shell_g_cm3": alloy_density({"Au": params.shell_au, "Ag": 1 - params.shell_au}),
        "n_eds_per_g_cm2": n_const,
        "response_ratios_expected": expected_response_ratios(params),
        "factors_b_mol_g": {el: {"z": TABLE2_LINES[el].z, "f": TABLE2_LINES[el].f} for el in _ELEMENTS},
    }
    return AgAuDataSet(
        haadf=np.asarray(haadf, dtype=np.float32),
        eds=eds,
        angles_deg=angles,
        voxel_size=params.voxel_size,
        phantoms={el: fractions[el].astype(np.float32) for el in _ELEMENTS},
        density=density.astype(np.float32),
        haadf_clean=np.asarray(haadf_clean, dtype=np.float32),
        eds_clean={el: v.astype(np.float32) for el, v in eds_clean.items()},
        truth=truth,
    )
