"""HAADF-STEM tilt series of an atom model: linear (incoherent) imaging with dose noise.

Model (paper 000 used multislice; this is the linear projection it compared against):

* each atom's HAADF signal is ``Z^z_exponent`` (``z_exponent`` = 1.8) spread as a 2D
  Gaussian in the image, of variance ``σ_probe² + σ_atom²`` (``σ_probe`` = FWHM / 2.3548
  of the 0.8 Å probe; ``σ_atom`` a per-element width of the projected atomic potential
  including thermal vibration, :data:`ATOM_SIGMA_A`), integrated exactly over each pixel
  (so the pixel values of one atom sum to its weight and its centroid is its position);
* geometry of CONVENTIONS.md: an atom at ``(x, y, z)`` relative to the volume centre
  lands at ``u = x cos θ + z sin θ``, ``v = y``, plus the image shift ``(dy, dx)``;
* the clean stack is in units of ``Z^1.8`` per pixel, i.e. line integrals (voxel lengths)
  of a volume in which every atom integrates to ``Z^1.8``;
* dose: the series dose ``D`` (e/Å²) is split equally over the images; an atom scatters
  ``σ_HAADF = κ Z^1.8`` Å² into the detector (``κ`` = :data:`HAADF_CROSS_SECTION_PER_Z18`),
  so the expected count of a pixel is ``λ = (D / n_images) · κ · clean``, the noisy
  image is ``Poisson(λ) / ((D / n_images) κ)`` (same units as the clean one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange
from scipy import optimize, stats

from .._refs import PAPER_000, cites
from ..atoms import Atoms
from ..elements import atomic_number, validate_element
from ..geometry import equally_sloped_angles, validate_angles
from ..metrics import r_noise as _r_noise
from ..params import param, register_params

__all__ = [
    "ATOM_SIGMA_A",
    "HAADF_CROSS_SECTION_PER_Z18",
    "PAPER_DOSES_E_PER_A2",
    "R_NOISE_PRESETS",
    "HaadfParams",
    "SimulatedSeries",
    "centre_atoms",
    "project_atoms",
    "expected_r_noise",
    "dose_for_r_noise",
    "r_tilt",
    "simulate_haadf_series",
]

#: rms width (Å) of the projected HAADF object function of one atom (potential plus
#: thermal vibration); elements not listed use ``"default"``.
ATOM_SIGMA_A = {"O": 0.25, "Si": 0.22, "default": 0.22}

#: κ in σ_HAADF = κ Z^1.8 (Å²): the unscreened Rutherford cross-section of Si into an
#: 80–400 mrad annulus at 80 keV (3.4e-3 Å²) divided by 14^1.8.
HAADF_CROSS_SECTION_PER_Z18 = 2.9e-5

#: Total series doses of paper 000 (e/Å²) and the R_noise the paper reported for them.
PAPER_DOSES_E_PER_A2 = {0.10: 2.2e6, 0.12: 1.43e6, 0.20: 5.5e5, 0.25: 3.0e5}

#: ``--preset`` names → target R_noise.
R_NOISE_PRESETS = {10: 0.10, 12: 0.12, 20: 0.20, 25: 0.25}


@register_params("simulate.silica")
@dataclass(frozen=True)
class HaadfParams:
    """Parameters of :func:`simulate_haadf_series`.

    ``atomtomo simulate silica``'s options and the Simulate widget's inputs are made from
    the specs of the fields (:mod:`..params`); ``dose`` and ``r_noise`` (one or neither)
    are the noise choice, ``--dose``/``--r-noise``/``--preset`` on the command line.
    """

    pixel_size: float = param(0.5, flag="--pixel-size", label="pixel size", unit="Å",
                              range=(0.05, 5.0), step=0.05, metavar="A",
                              help="detector pixel size, as paper 000")
    n_pixels: int = param(100, flag="--n-pixels", label="image size", unit="px",
                          range=(8, 1024), metavar="N",
                          help="images are N × N pixels; the particle must fit with its shifts")
    probe_fwhm: float = param(0.8, flag="--probe-fwhm", label="probe FWHM", unit="Å",
                              range=(0.05, 5.0), step=0.05, metavar="A",
                              help="full width at half maximum of the probe")
    z_exponent: float = 1.8
    tilt_drift_deg: float = param(0.5, flag="--tilt-drift", label="tilt drift", unit="°",
                                  range=(-5.0, 5.0), step=0.1, metavar="DEG",
                                  help="the true tilt drifts linearly from 0 to this through the "
                                       "series (paper: 0 to 0.5°); the nominal angles are kept")
    shift_sigma_px: float = param(2.0, flag="--shift-sigma", label="image shifts rms", unit="px",
                                  range=(0.0, 100.0), step=0.5, metavar="PX",
                                  help="rms random in-plane shift (dy, dx) of each image")
    dose: float | None = None
    r_noise: float | None = None
    seed: int = param(0, flag="--seed", label="seed", range=(0, 2**31 - 1),
                      help="seed of the noise and the image shifts")
    vacuum_counts: float = param(0.0, flag="--vacuum-counts", label="vacuum level",
                                 unit="counts", range=(0.0, 1e9), metavar="COUNTS",
                                 help="flat vacuum level added before the Poisson draw, per "
                                      "pixel (needs a dose); atomtomo preprocess removes it")

    def __post_init__(self):
        for name in ("pixel_size", "probe_fwhm", "z_exponent"):
            v = getattr(self, name)
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a positive number, got {v!r}")
        if int(self.n_pixels) != self.n_pixels or self.n_pixels < 8:
            raise ValueError(f"n_pixels must be an integer ≥ 8, got {self.n_pixels!r}")
        if not (np.isfinite(self.tilt_drift_deg) and 0 <= abs(self.tilt_drift_deg) <= 5):
            raise ValueError(f"tilt_drift_deg must be within ±5°, got {self.tilt_drift_deg!r}")
        if not (np.isfinite(self.shift_sigma_px) and 0 <= self.shift_sigma_px <= self.n_pixels / 10):
            raise ValueError(
                f"shift_sigma_px must be in [0, n_pixels/10 = {self.n_pixels / 10}], "
                f"got {self.shift_sigma_px!r}"
            )
        if self.dose is not None and self.r_noise is not None:
            raise ValueError("give either dose or r_noise, not both")
        if self.dose is not None and not (np.isfinite(self.dose) and self.dose > 0):
            raise ValueError(f"dose must be a positive number of e/Å² per series, got {self.dose!r}")
        if not (np.isfinite(self.vacuum_counts) and self.vacuum_counts >= 0):
            raise ValueError(f"vacuum_counts must be a number of counts per pixel ≥ 0, "
                             f"got {self.vacuum_counts!r}")
        if self.vacuum_counts > 0 and self.dose is None and self.r_noise is None:
            raise ValueError("vacuum_counts needs a dose (or r_noise): counts exist only "
                             "with a dose")
        if self.r_noise is not None and not (0.001 <= self.r_noise <= 2.0):
            raise ValueError(f"r_noise must be a fraction in [0.001, 2], got {self.r_noise!r}")


@dataclass(frozen=True)
class SimulatedSeries:
    """A simulated tilt series and everything needed to judge a reconstruction of it."""

    stack_clean: np.ndarray
    stack_noisy: np.ndarray
    angles_nominal: np.ndarray
    angles_true: np.ndarray
    shifts: np.ndarray
    atoms: Atoms
    pixel_size: float
    dose: float | None
    r_noise: float | None
    r_noise_per_image: np.ndarray | None
    params: HaadfParams = field(repr=False)

    def truth_dict(self) -> dict:
        """The recorded truth as plain JSON-able numbers (``truth.json``)."""
        p = self.params
        return {
            "angles_nominal_deg": [float(a) for a in self.angles_nominal],
            "angles_true_deg": [float(a) for a in self.angles_true],
            "shifts_px": [[float(a), float(b)] for a, b in self.shifts],
            "shifts_order": "dy, dx: the object's projection appears at (v + dy, u + dx)",
            "dose_e_per_A2": None if self.dose is None else float(self.dose),
            "dose_per_image_e_per_A2": (None if self.dose is None
                                        else float(self.dose / len(self.angles_true))),
            "r_noise": None if self.r_noise is None else float(self.r_noise),
            "probe_fwhm_A": float(p.probe_fwhm),
            "pixel_size_A": float(self.pixel_size),
            "z_exponent": float(p.z_exponent),
            "tilt_drift_deg": float(p.tilt_drift_deg),
            "shift_sigma_px": float(p.shift_sigma_px),
            "haadf_cross_section_per_z18_A2": HAADF_CROSS_SECTION_PER_Z18,
            "atom_sigma_A": dict(ATOM_SIGMA_A),
            "seed": int(p.seed),
            "vacuum_counts_per_pixel": float(p.vacuum_counts),
            "n_atoms": len(self.atoms),
        }


def _atom_weights_sigmas(atoms: Atoms, z_exponent: float, probe_fwhm: float):
    zs = {}
    w = np.empty(len(atoms))
    s = np.empty(len(atoms))
    sig_p = probe_fwhm / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    for el in np.unique(atoms.elements):
        validate_element(str(el))
        zs[el] = atomic_number(str(el))
        sel = atoms.elements == el
        w[sel] = zs[el] ** z_exponent
        s[sel] = math.hypot(sig_p, ATOM_SIGMA_A.get(str(el), ATOM_SIGMA_A["default"]))
    return w, s


def centre_atoms(atoms: Atoms, n_pixels: int, pixel_size: float, z_exponent: float = 1.8) -> Atoms:
    """Move ``atoms`` so their ``Z^z_exponent``-weighted centre of mass is the volume centre.

    The result is in the reconstruction frame of CONVENTIONS.md for an ``n_pixels³``
    volume of ``pixel_size`` voxels (centre at ``(n - 1) / 2 · pixel_size`` on each axis).
    """
    if len(atoms) == 0:
        raise ValueError("the atom model is empty; nothing to simulate")
    w, _ = _atom_weights_sigmas(atoms, z_exponent, 1.0)
    com = (atoms.positions * w[:, None]).sum(axis=0) / w.sum()
    centre = (n_pixels - 1) / 2.0 * pixel_size
    return Atoms(atoms.elements, atoms.positions - com + centre, dict(atoms.features))


@njit(nogil=True, cache=True, parallel=True)
def _render_kernel(xc, yc, zc, weight, sigma, cos_t, sin_t, du, dv, out):
    n_a, n_v, n_u = out.shape
    c_u = (n_u - 1) * 0.5
    c_v = (n_v - 1) * 0.5
    for a in prange(n_a):
        gx = np.empty(64)
        gy = np.empty(64)
        for p in range(xc.shape[0]):
            s = sigma[p]
            u = xc[p] * cos_t[a] + zc[p] * sin_t[a] + c_u + du[a]
            v = yc[p] + c_v + dv[a]
            half = min(int(math.ceil(5.0 * s)) + 1, 31)
            iu = int(math.floor(u + 0.5))
            iv = int(math.floor(v + 0.5))
            inv = 1.0 / (math.sqrt(2.0) * s)
            for k in range(2 * half + 1):
                i = iu - half + k
                gx[k] = 0.5 * (math.erf((i + 0.5 - u) * inv) - math.erf((i - 0.5 - u) * inv))
                j = iv - half + k
                gy[k] = 0.5 * (math.erf((j + 0.5 - v) * inv) - math.erf((j - 0.5 - v) * inv))
            for kj in range(2 * half + 1):
                j = iv - half + kj
                if j < 0 or j >= n_v:
                    continue
                wy = weight[p] * gy[kj]
                for ki in range(2 * half + 1):
                    i = iu - half + ki
                    if 0 <= i < n_u:
                        out[a, j, i] += wy * gx[ki]


def project_atoms(atoms: Atoms, angles_deg, *, n_pixels: int = 100, pixel_size: float = 0.5,
                  probe_fwhm: float = 0.8, z_exponent: float = 1.8, shifts=None) -> np.ndarray:
    """Noise-free linear HAADF projections ``(angle, y, x)`` (float32, ``Z^1.8`` per pixel).

    ``atoms`` must be in the reconstruction frame of the ``n_pixels³`` volume (see
    :func:`centre_atoms`); ``shifts`` ``(n, 2)`` are ``(dy, dx)`` in pixels.
    """
    angles = validate_angles(angles_deg)
    n = int(n_pixels)
    if shifts is None:
        shifts = np.zeros((angles.size, 2))
    shifts = np.asarray(shifts, dtype=np.float64)
    w, s = _atom_weights_sigmas(atoms, z_exponent, probe_fwhm)
    centre = (n - 1) / 2.0
    rel = atoms.positions / pixel_size - centre  # px relative to the volume centre
    radius = np.sqrt(rel[:, 0] ** 2 + rel[:, 2] ** 2).max() + 4 * s.max() / pixel_size
    reach = radius + np.abs(shifts).max()
    if reach > centre or np.abs(rel[:, 1]).max() + 4 * s.max() / pixel_size + np.abs(shifts).max() > centre:
        raise ValueError(
            f"the particle (radius {radius * pixel_size:.1f} Å about the volume centre, plus shifts) "
            f"does not fit on {n} pixels of {pixel_size} Å; use more pixels"
        )
    theta = np.radians(angles)
    out = np.zeros((angles.size, n, n), dtype=np.float64)
    _render_kernel(rel[:, 0].copy(), rel[:, 1].copy(), rel[:, 2].copy(), w, s / pixel_size,
                   np.cos(theta), np.sin(theta), shifts[:, 1].copy(), shifts[:, 0].copy(), out)
    return out.astype(np.float32)


def _counts_scale(dose: float, n_images: int) -> float:
    return dose / n_images * HAADF_CROSS_SECTION_PER_Z18


def expected_r_noise(stack_clean, dose: float) -> float:
    """Expected R_noise (paper 000 Eq. 2) of Poisson noise at series dose ``dose`` (e/Å²).

    Uses the mean absolute deviation of a Poisson variable, ``E|N − λ| = 2 λ p(⌊λ⌋; λ)``.
    """
    clean = np.asarray(stack_clean, dtype=np.float64)
    scale = _counts_scale(dose, clean.shape[0])
    lam = clean * scale
    mad = np.zeros_like(lam)
    pos = lam > 0
    mad[pos] = 2.0 * lam[pos] * stats.poisson.pmf(np.floor(lam[pos]), lam[pos])
    axes = tuple(range(1, clean.ndim))
    return float(np.mean(mad.sum(axis=axes) / lam.sum(axis=axes)))


def dose_for_r_noise(stack_clean, target: float) -> float:
    """Series dose (e/Å²) whose expected R_noise is ``target`` (root of a monotonic curve)."""
    if not (0.001 <= target <= 2.0):
        raise ValueError(f"target R_noise must be a fraction in [0.001, 2], got {target!r}")
    f = lambda log_d: expected_r_noise(stack_clean, 10.0**log_d) - target  # noqa: E731
    lo, hi = 0.0, 14.0
    if f(lo) < 0 or f(hi) > 0:
        raise ValueError(f"R_noise {target} cannot be reached with doses of 1 to 1e14 e/Å²")
    return float(10.0 ** optimize.brentq(f, lo, hi, xtol=1e-6))


def r_tilt(reference, other, *, match_scale: bool = True) -> tuple[float, np.ndarray]:
    """R_tilt of paper 000 Eq. 1, read by analogy with Eq. 2.

    ``R_θ = Σ |P_other − P_ref| / Σ P_ref`` per projection, averaged over projections;
    ``P_ref`` plays the multislice series ``P_m`` and ``other`` the linear one ``P_l``.
    With ``match_scale`` the other series is first scaled to the reference's total
    signal (the two come in different units).
    """
    ref = np.asarray(reference, dtype=np.float64)
    oth = np.asarray(other, dtype=np.float64)
    if ref.shape != oth.shape:
        raise ValueError(f"reference has shape {ref.shape} but other has {oth.shape}")
    if match_scale:
        total = oth.sum()
        if total <= 0:
            raise ValueError("other has no positive signal; cannot match its scale")
        oth = oth * (ref.sum() / total)
    return _r_noise(oth, ref)


@cites(PAPER_000)
def simulate_haadf_series(atoms: Atoms, params: HaadfParams = HaadfParams(), *,
                          angles_deg=None) -> SimulatedSeries:
    """Simulate a HAADF tilt series of ``atoms`` with tilt drift, shifts and dose noise.

    ``atoms`` may be in any frame: they are first moved so their ``Z^1.8``-weighted centre
    of mass is the volume centre (:func:`centre_atoms`), so centre-of-mass alignment
    recovers the simulated x shifts exactly. ``angles_deg`` defaults to the 55 equally
    sloped angles of ±72.6°; the true angles add a linear drift from 0 to
    ``params.tilt_drift_deg`` through the series. With neither ``dose`` nor ``r_noise``
    the noisy stack equals the clean one. ``params.vacuum_counts`` adds a flat expected
    count per pixel before the Poisson draw (kept in the noisy stack, ``vacuum_counts /
    ((D / n_images) κ)`` in its units); ``angles_deg`` may be any set, e.g. 0–177° in 3° steps.

    Parameters
    ----------
    atoms : Atoms
        The atom model, positions in Å.
    params : HaadfParams
        Pixel size and count, probe, Z exponent, drift, shifts, dose or R_noise, seed.
    angles_deg : array_like, optional
        Nominal tilt angles in degrees.

    Returns
    -------
    SimulatedSeries
        Clean and noisy stacks, nominal and true angles, the applied shifts, and the truth.
    """
    if not isinstance(params, HaadfParams):
        raise ValueError(f"params must be a HaadfParams, got {type(params).__name__}")
    nominal = equally_sloped_angles(32, 72.6) if angles_deg is None else validate_angles(angles_deg)
    n_img = nominal.size
    frame = centre_atoms(atoms, params.n_pixels, params.pixel_size, params.z_exponent)
    rng = np.random.default_rng(params.seed)
    true = nominal + params.tilt_drift_deg * np.linspace(0.0, 1.0, n_img)
    shifts = rng.normal(0.0, params.shift_sigma_px, size=(n_img, 2))
    clean = project_atoms(frame, true, n_pixels=params.n_pixels, pixel_size=params.pixel_size,
                          probe_fwhm=params.probe_fwhm, z_exponent=params.z_exponent,
                          shifts=shifts)
    dose = params.dose
    if params.r_noise is not None:
        dose = dose_for_r_noise(clean, params.r_noise)
    if dose is None:
        noisy, r_mean, r_per = clean.copy(), None, None
    else:
        scale = _counts_scale(dose, n_img)
        # A flat vacuum level (detector offset, scattering of a support) adds counts to
        # every pixel: the image keeps it, as real data does, in the same units.
        counts = rng.poisson(clean.astype(np.float64) * scale + params.vacuum_counts)
        noisy = (counts / scale).astype(np.float32)
        r_mean, r_per = _r_noise(noisy, clean)
    return SimulatedSeries(clean, noisy, nominal, true, shifts, frame, float(params.pixel_size),
                           dose, r_mean, r_per, params)
