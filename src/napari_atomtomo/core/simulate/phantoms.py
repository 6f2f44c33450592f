"""A family of two-element test phantoms for quantification, 2D and 3D, with their signals.

Layouts (:data:`LAYOUTS`), each a particle of radius ``R`` in the field's centre, with
the weight fraction of the second element ``B`` given per region (region labels
1, 2, … in :attr:`PhantomDataSet.regions`):

* ``core_shell``: an off-centre core (radius 0.55 R, B 0.8) in a shell (B 0.2);
* ``core_shell_cap``: the same, with the top of the shell (``z > 0.55 R``) a cap of B 0.5;
* ``janus``: two halves, ``x < 0`` B 0.15 and ``x ≥ 0`` B 0.85;
* ``gradient``: B rising linearly with ``x`` from 0.1 to 0.9; regions are the thirds
  along ``x`` (their truth is the mean of the true fractions in them);
* ``several``: three separate particles (radius 0.42 R) of B 0.2, 0.5 and 0.8;
* ``hollow``: a hollow shell (inner radius 0.6 R) of B 0.3.

Element pairs (:data:`ELEMENT_PAIRS`) with different Z contrast: Ag–Au (Z 47/79),
Co–Au (27/79) and Co–Zn (27/30). Densities are those of an ideal alloy of the pure
metals (:data:`DENSITY_G_CM3`). The signals follow the thin-film models of the Ag–Au
phantom (:mod:`.agau`, paper 002 Eq. 6, 9, 13–14) with the Table 2 factors: HAADF with
Poisson noise at ``haadf_electrons``, EDS with Poisson noise at ``eds_electrons`` and
the paper's Gaussian filter (σ 0.8 px). ``dose`` scales both electron doses (1: the
paper's; 0.1: a tenth). 2D phantoms are ``(z, 1, x)`` volumes with ``(angle, 1, x)``
sinograms, 3D ones ``(z, y, x)`` with ``(angle, y, x)`` tilt series (tilt axis ``y``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.ndimage import gaussian_filter

from .._refs import PAPER_002, cites
from ..elements import TABLE2_LINES
from ..projectors import forward_project
from .agau import AVOGADRO, AgAuDataSet

__all__ = ["DENSITY_G_CM3", "ELEMENT_PAIRS", "LAYOUTS", "PhantomDataSet", "PhantomParams",
           "phantom_layout", "simulate_phantom"]

LAYOUTS = ("core_shell", "core_shell_cap", "janus", "gradient", "several", "hollow")
ELEMENT_PAIRS = (("Ag", "Au"), ("Co", "Au"), ("Co", "Zn"))
#: Densities of the pure metals at room temperature (g/cm³).
DENSITY_G_CM3 = {"Ag": 10.49, "Au": 19.32, "Co": 8.90, "Zn": 7.14}
_BARN_CM2 = 1e-24


@dataclass(frozen=True)
class PhantomParams:
    """Layout, elements, size and acquisition of one phantom (module docstring).

    ``n_pixels`` per side (the 2D field is ``n × n``, the 3D one ``n³``), ``radius_fraction``
    the particle radius as a fraction of the half field; ``dose`` scales the paper's
    ``eds_electrons`` and ``haadf_electrons`` per pixel.
    """

    layout: str = "core_shell"
    elements: tuple = ("Ag", "Au")
    ndim: int = 2
    n_pixels: int = 64
    pixel_size_nm: float = 1.5
    radius_fraction: float = 0.7
    max_angle_deg: float = 75.0
    angle_step_deg: float = 5.0
    dose: float = 1.0
    eds_electrons: float = 3.121e8
    haadf_electrons: float = 1.0e5
    solid_angle_sr: float = 0.7
    gaussian_sigma: float = 0.8

    def __post_init__(self):
        if self.layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if len(self.elements) != 2 or any(el not in DENSITY_G_CM3 for el in self.elements):
            raise ValueError(f"elements must be two of {sorted(DENSITY_G_CM3)}, got {self.elements!r}")
        if self.ndim not in (2, 3):
            raise ValueError(f"ndim must be 2 or 3, got {self.ndim!r}")
        if isinstance(self.n_pixels, bool) or int(self.n_pixels) != self.n_pixels or self.n_pixels < 16:
            raise ValueError(f"n_pixels must be a whole number >= 16, got {self.n_pixels!r}")
        if not (0.2 <= self.radius_fraction <= 0.9):
            raise ValueError(f"radius_fraction must be in [0.2, 0.9], got {self.radius_fraction!r}")
        for name in ("pixel_size_nm", "dose", "eds_electrons", "haadf_electrons",
                     "solid_angle_sr", "angle_step_deg", "max_angle_deg"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive finite number, got {v!r}")

    @property
    def angles_deg(self) -> np.ndarray:
        """Tilt angles in degrees, ``-max_angle_deg`` to ``+max_angle_deg``."""
        n = int(round(2 * self.max_angle_deg / self.angle_step_deg)) + 1
        return np.linspace(-self.max_angle_deg, self.max_angle_deg, n)

    @property
    def name(self) -> str:
        """A short name for files and reports, e.g. ``core-shell-AgAu-2d-dose10``."""
        a, b = self.elements
        return f"{self.layout}-{a}{b}-{self.ndim}d-dose{self.dose:g}"


@dataclass(frozen=True, eq=False)
class PhantomDataSet(AgAuDataSet):
    """A simulated data set plus ``regions``, the integer label map of the true regions."""

    regions: np.ndarray | None = field(default=None, repr=False)


def _coords(params: PhantomParams):
    n = int(params.n_pixels)
    c = (np.arange(n) - (n - 1) / 2) / ((n - 1) / 2)  # −1 … 1 across the field
    if params.ndim == 2:
        z, x = np.meshgrid(c, c, indexing="ij")
        return z[:, None, :], np.zeros((n, 1, n)), x[:, None, :]
    return np.meshgrid(c, c, c, indexing="ij")


def phantom_layout(params: PhantomParams) -> tuple[np.ndarray, np.ndarray]:
    """``(fraction_B, regions)``: B's true weight fraction (0 outside) and region labels."""
    z, y, x = _coords(params)
    r_max = params.radius_fraction
    rad = np.sqrt(x**2 + y**2 + z**2) / r_max  # in units of the particle radius
    particle = rad <= 1.0
    frac = np.zeros(rad.shape)
    regions = np.zeros(rad.shape, dtype=np.int32)
    lay = params.layout
    if lay in ("core_shell", "core_shell_cap"):
        core = np.sqrt((x / r_max - 0.12) ** 2 + (y / r_max) ** 2 + (z / r_max + 0.08) ** 2) <= 0.55
        regions[particle] = 2
        regions[core] = 1
        frac[particle], frac[core] = 0.2, 0.8
        if lay == "core_shell_cap":
            cap = particle & ~core & (z / r_max > 0.55)
            regions[cap], frac[cap] = 3, 0.5
    elif lay == "janus":
        left = particle & (x < 0)
        regions[particle], frac[particle] = 2, 0.85
        regions[left], frac[left] = 1, 0.15
    elif lay == "gradient":
        u = np.clip(x / r_max, -1, 1)
        frac[particle] = (0.5 + 0.4 * u)[particle]
        regions[particle] = np.digitize(u[particle], [-1 / 3, 1 / 3]) + 1
    elif lay == "several":
        rp = 0.42 * r_max
        centres = [(-0.55, -0.5), (0.55, -0.5), (0.0, 0.55)]  # (x, z) in particle radii
        for k, ((cx, cz), b) in enumerate(zip(centres, (0.2, 0.5, 0.8))):
            inside = np.sqrt((x - cx * r_max) ** 2 + y**2 + (z - cz * r_max) ** 2) <= rp
            regions[inside], frac[inside] = k + 1, b
        particle = regions > 0
    elif lay == "hollow":
        shell = particle & (rad >= 0.6)
        regions[shell], frac[shell] = 1, 0.3
        particle = shell
    frac[~particle] = 0.0
    return frac, regions


@cites(PAPER_002)
def simulate_phantom(params: PhantomParams = PhantomParams(), seed: int = 0) -> PhantomDataSet:
    """Simulate one phantom's HAADF and EDS tilt series (module docstring).

    The family generalises the 2D Ag–Au phantom of paper 002 [2]_.

    Parameters
    ----------
    params : PhantomParams
        Layout, elements, size, tilt range, dose and detector settings.
    seed : int
        Seed of the noise.

    Returns
    -------
    PhantomDataSet
        The I/O layer's ``DataSet`` fields and the label map ``regions``;
        ``truth["regions"][label][element]`` is the true mean weight fraction of each region.
    """
    if not isinstance(params, PhantomParams):
        raise ValueError(f"params must be a PhantomParams, got {type(params).__name__}")
    rng = np.random.default_rng(int(seed))
    a, b = params.elements
    frac_b, regions = phantom_layout(params)
    particle = regions > 0
    frac_a = np.where(particle, 1.0 - frac_b, 0.0)
    inv = np.where(particle, frac_a / DENSITY_G_CM3[a] + frac_b / DENSITY_G_CM3[b], 1.0)
    density = np.where(particle, 1.0 / inv, 0.0)
    fractions = {a: frac_a, b: frac_b}
    angles = params.angles_deg
    voxel_cm = params.pixel_size_nm * 1e-7
    mass = {el: np.maximum(forward_project((fractions[el] * density).astype(np.float32), angles)
                           .astype(np.float64) * voxel_cm, 0.0) for el in (a, b)}
    d_eds, d_h = params.eds_electrons * params.dose, params.haadf_electrons * params.dose
    n_const = AVOGADRO * d_eds * params.solid_angle_sr / (4 * math.pi) * _BARN_CM2
    eds_clean = {el: n_const * TABLE2_LINES[el].f * mass[el] for el in (a, b)}
    haadf_clean = sum(d_h * AVOGADRO * _BARN_CM2 * TABLE2_LINES[el].z * mass[el] for el in (a, b))
    eds = {}
    for el in (a, b):
        counts = rng.poisson(eds_clean[el]).astype(np.float64)
        if params.gaussian_sigma > 0:
            sigma = (0, 0, params.gaussian_sigma) if params.ndim == 2 else (0, params.gaussian_sigma,
                                                                              params.gaussian_sigma)
            counts = gaussian_filter(counts, sigma)
        eds[el] = counts.astype(np.float32)
    haadf = rng.poisson(haadf_clean).astype(np.float32)
    truth_regions = {
        str(lab): {el: float(fractions[el][regions == lab].mean()) for el in (a, b)}
        for lab in np.unique(regions[regions > 0])
    }
    truth = {"seed": int(seed), "params": {k: (list(v) if isinstance(v, tuple) else v)
                                           for k, v in asdict(params).items()},
             "name": params.name, "regions": truth_regions,
             "factors_b_mol_g": {el: {"z": TABLE2_LINES[el].z, "f": TABLE2_LINES[el].f}
                                 for el in (a, b)}}
    return PhantomDataSet(
        haadf=haadf, eds=eds, angles_deg=angles, voxel_size=params.pixel_size_nm * 10.0,
        phantoms={el: fractions[el].astype(np.float32) for el in (a, b)},
        density=density.astype(np.float32), haadf_clean=np.asarray(haadf_clean, np.float32),
        eds_clean={el: v.astype(np.float32) for el, v in eds_clean.items()}, truth=truth,
        regions=regions,
    )
