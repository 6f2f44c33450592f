"""Tilt geometry: angle sets, per-image shifts and voxel <-> ångström conversions.

All conventions follow ``CONVENTIONS.md``: volumes are ``(z, y, x)``, tilt series
``(angle, y, x)``, the tilt axis is ``y``, and a point at ``(x, y, z)`` relative to
the volume centre lands on detector coordinate ``u = x cos θ + z sin θ`` (measured
from the detector centre ``(n_u - 1) / 2``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._refs import PAPER_000, cites

__all__ = [
    "TiltGeometry",
    "equally_sloped_angles",
    "equally_sloped_slopes",
    "validate_angles",
    "validate_shifts",
    "index_to_angstrom",
    "angstrom_to_index",
    "volume_centre",
]


def equally_sloped_slopes(n_slopes: int, max_angle: float = 90.0) -> list[tuple[str, int]]:
    """The slope labels of an equally sloped set, in order of increasing angle.

    Returns ``(family, k)`` pairs: family ``"h"`` ("basically horizontal", θ = atan(2k/N))
    or ``"v"`` ("basically vertical", θ = ±acot(2k/N)), with ``k`` the integer numerator.
    """
    angles, labels = _equally_sloped(n_slopes, max_angle)
    return labels


def _equally_sloped(n_slopes: int, max_angle: float) -> tuple[np.ndarray, list[tuple[str, int]]]:
    if int(n_slopes) != n_slopes or n_slopes < 2 or n_slopes % 2:
        raise ValueError(f"n_slopes must be an even integer ≥ 2, got {n_slopes!r}")
    if not (0.0 < max_angle <= 90.0):
        raise ValueError(f"max_angle must be in (0, 90] degrees, got {max_angle!r}")
    n = int(n_slopes)
    half = n // 2
    tol = 1e-9
    entries: list[tuple[float, tuple[str, int]]] = []
    # Basically horizontal: theta = atan(2k/N), |2k| <= N.
    for k in range(-half, half + 1):
        theta = np.degrees(np.arctan(2.0 * k / n))
        if abs(theta) <= max_angle + tol:
            entries.append((theta, ("h", k)))
    # Basically vertical: theta = ±acot(2k/N), 0 <= k < N/2 (k = N/2 is ±45°, already counted;
    # k = 0 is ±90°).
    for k in range(0, half):
        acot = 90.0 if k == 0 else np.degrees(np.arctan(n / (2.0 * k)))
        for sign in (+1, -1):
            theta = sign * acot
            if abs(theta) <= max_angle + tol and not (k == 0 and sign < 0):
                entries.append((theta, ("v", sign * k if k else 0)))
    entries.sort(key=lambda e: e[0])
    angles = np.array([e[0] for e in entries], dtype=np.float64)
    return angles, [e[1] for e in entries]


@cites(PAPER_000)
def equally_sloped_angles(n_slopes: int, max_angle: float = 90.0) -> np.ndarray:
    """Equally sloped tilt angles (degrees, ascending) of an ``n_slopes``-slope grid.

    The angles are ``atan(2k/N)`` for ``|2k| ≤ N`` (|θ| ≤ 45°) and ``±acot(2k/N)`` beyond
    45°, keeping those with ``|θ| ≤ max_angle``. ``equally_sloped_angles(32, 72.6)`` gives
    the 55 angles of the paper's ±72.6° series (the largest is 72.646°, admitted by a
    0.05° tolerance on ``max_angle``).

    Parameters
    ----------
    n_slopes : int
        Even number ``N`` of slopes per family (the pseudopolar grid size).
    max_angle : float
        Largest |θ| in degrees; angles up to ``max_angle + 0.05`` are kept so that a
        rounded nominal range such as 72.6° includes 72.646°.

    Returns
    -------
    ndarray of float64
        The angles in degrees, ascending.
    """
    if not (0.0 < max_angle <= 90.0):
        raise ValueError(f"max_angle must be in (0, 90] degrees, got {max_angle!r}")
    angles, _ = _equally_sloped(n_slopes, min(90.0, max_angle + 0.05))
    return angles


@dataclass(frozen=True)
class TiltGeometry:
    """A single-axis parallel-beam tilt geometry.

    Attributes
    ----------
    angles_deg : tuple of float
        Tilt angles θ in degrees, in stack order.
    n_u : int
        Detector columns (image ``x``).
    n_v : int
        Detector rows (image ``y``, the tilt axis).
    voxel_size : float
        Pixel and voxel size in Å.
    shifts : tuple of (dy, dx) or None
        Per-image displacement in pixels: the object's projection appears at
        ``(v + dy, u + dx)`` in image ``a``. ``None`` means no shifts.
    """

    angles_deg: tuple[float, ...]
    n_u: int
    n_v: int
    voxel_size: float = 1.0
    shifts: tuple[tuple[float, float], ...] | None = field(default=None)

    def __post_init__(self):
        angles = validate_angles(self.angles_deg)
        object.__setattr__(self, "angles_deg", tuple(float(a) for a in angles))
        if int(self.n_u) != self.n_u or int(self.n_v) != self.n_v:
            raise ValueError(f"detector size must be whole pixels, got n_u={self.n_u}, n_v={self.n_v}")
        object.__setattr__(self, "n_u", int(self.n_u))
        object.__setattr__(self, "n_v", int(self.n_v))
        if self.n_u < 1 or self.n_v < 1:
            raise ValueError(f"detector size must be positive, got n_u={self.n_u}, n_v={self.n_v}")
        if not (np.isfinite(self.voxel_size) and self.voxel_size > 0):
            raise ValueError(f"voxel_size must be a positive number of Å, got {self.voxel_size!r}")
        if self.shifts is not None:
            s = validate_shifts(self.shifts, len(self.angles_deg))
            object.__setattr__(self, "shifts", tuple((float(a), float(b)) for a, b in s))

    @property
    def n_angles(self) -> int:
        """Number of tilt angles."""
        return len(self.angles_deg)

    @property
    def stack_shape(self) -> tuple[int, int, int]:
        """Shape ``(angle, y, x)`` of the tilt series."""
        return (self.n_angles, self.n_v, self.n_u)

    @property
    def volume_shape(self) -> tuple[int, int, int]:
        """Default reconstruction shape ``(z, y, x)``: ``n_x = n_z = n_u``, ``n_y = n_v``."""
        return (self.n_u, self.n_v, self.n_u)

    def shifts_array(self) -> np.ndarray:
        """Shifts as a float64 ``(n_angles, 2)`` array of ``(dy, dx)`` (zeros if none)."""
        if self.shifts is None:
            return np.zeros((self.n_angles, 2))
        return np.asarray(self.shifts, dtype=np.float64)


def validate_angles(angles_deg, n_images: int | None = None) -> np.ndarray:
    """Check a list of tilt angles and return it as float64; one clear sentence on error."""
    a = np.asarray(angles_deg, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"angles must be a 1D list of degrees, got an array of shape {a.shape}")
    if a.size == 0:
        raise ValueError("angles is empty; a tilt series needs at least one angle")
    if not np.all(np.isfinite(a)):
        raise ValueError("angles contains NaN or infinite values")
    if np.any(np.abs(a) > 180.0):
        raise ValueError(
            f"angles must be degrees within ±180, got a largest |θ| of {np.abs(a).max():g}"
            " (were radians given?)"
        )
    if n_images is not None and a.size != n_images:
        raise ValueError(
            f"angles has {a.size} entries but the tilt series has {n_images} images"
        )
    return a


def validate_shifts(shifts, n_angles: int) -> np.ndarray:
    """Check per-image ``(dy, dx)`` shifts in pixels and return a float64 ``(n, 2)`` array."""
    s = np.asarray(shifts, dtype=np.float64)
    if s.shape != (n_angles, 2):
        raise ValueError(
            f"shifts must have shape ({n_angles}, 2) as (dy, dx) per image, got {s.shape}"
        )
    if not np.all(np.isfinite(s)):
        raise ValueError("shifts contains NaN or infinite values")
    return s


def volume_centre(shape) -> np.ndarray:
    """Rotation centre ``(n - 1) / 2`` on each axis of ``shape`` (same axis order)."""
    return (np.asarray(shape, dtype=np.float64) - 1.0) / 2.0


def index_to_angstrom(indices_zyx, voxel_size: float) -> np.ndarray:
    """Voxel indices ``(..., 3)`` in ``(z, y, x)`` order to ``(x, y, z)`` positions in Å.

    Voxel ``(k, j, i)`` has its centre at ``(x, y, z) = (i, j, k) * voxel_size``
    (CONVENTIONS.md), so this reverses the axis order and scales.
    """
    idx = np.asarray(indices_zyx, dtype=np.float64)
    return idx[..., ::-1] * float(voxel_size)


def angstrom_to_index(xyz, voxel_size: float) -> np.ndarray:
    """Positions ``(..., 3)`` as ``(x, y, z)`` in Å to fractional ``(z, y, x)`` voxel indices."""
    p = np.asarray(xyz, dtype=np.float64)
    return p[..., ::-1] / float(voxel_size)
