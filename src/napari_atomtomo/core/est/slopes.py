"""Which pseudopolar line each projection of an equally sloped tilt series fills.

An ``N_s``-slope series has angles ``atan(2k/N_s)`` (|θ| ≤ 45°, "basically horizontal")
and ``±acot(2k/N_s)`` beyond 45° ("basically vertical") (CONVENTIONS.md). On a
reconstruction grid of ``N`` pixels (a multiple of ``N_s``) the pseudopolar slopes are
``2l/N``, so slope ``2k/N_s`` is line ``l = k·N/N_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EqualSlopeAssignment", "match_equally_sloped"]


@dataclass(frozen=True)
class EqualSlopeAssignment:
    """The pseudopolar line of each projection.

    Attributes
    ----------
    n_slopes : int
        Smallest ``N_s`` whose equally sloped set contains every angle.
    n_grid : int
        Pseudopolar grid size ``N`` (a multiple of ``N_s``, ≥ the image width).
    family : tuple of int
        0 = basically horizontal (``θ = atan(2l/N)``), 1 = basically vertical
        (``θ = ±acot(2l/N)``), per projection.
    line : tuple of int
        Line index ``l`` in ``−N/2 … N/2`` on the ``N`` grid.
    line_angle_deg : tuple of float
        Exact angle of the line (in the same half turn as the measured angle).
    angle_error_deg : tuple of float
        Measured minus line angle.
    """

    n_slopes: int
    n_grid: int
    family: tuple[int, ...]
    line: tuple[int, ...]
    line_angle_deg: tuple[float, ...]
    angle_error_deg: tuple[float, ...]

    def describe(self) -> list[str]:
        """One sentence per projection: which line it fills."""
        step = self.n_grid // self.n_slopes
        names = ("basically horizontal", "basically vertical")
        out = []
        for i, (f, line, a, e) in enumerate(
            zip(self.family, self.line, self.line_angle_deg, self.angle_error_deg)
        ):
            out.append(
                f"projection {i} at {a + e:.3f}° fills the {names[f]} line l={line:+d} of the "
                f"N={self.n_grid} grid (slope {2 * (line // step)}/{self.n_slopes}, line angle "
                f"{a:.3f}°, off by {e:+.3f}°)"
            )
        return out


def _nearest_lines(theta_half: np.ndarray, n_s: int):
    """For angles in (−90, 90]: family, k (on the N_s grid) and the line angle, degrees."""
    rad = np.radians(theta_half)
    horiz = np.abs(theta_half) <= 45.0
    with np.errstate(divide="ignore"):
        slope = np.where(horiz, np.tan(rad), 1.0 / np.tan(np.where(horiz, 0.1, rad)))
    k = np.rint(slope * n_s / 2.0).astype(np.int64)
    k = np.clip(k, -(n_s // 2), n_s // 2)
    at = np.degrees(np.arctan(2.0 * k / n_s))
    line_angle = np.where(horiz, at, np.where(theta_half > 0, 90.0 - at, -90.0 - at))
    # Vertical lines with |k| = N_s/2 are the ±45° diagonals: count them as horizontal.
    diag = ~horiz & (np.abs(k) == n_s // 2)
    family = np.where(horiz | diag, 0, 1)
    k = np.where(diag, np.sign(line_angle).astype(np.int64) * (n_s // 2), k)
    return family, k, line_angle


def match_equally_sloped(angles_deg, n_pixels: int, tolerance_deg: float = 0.1,
                         max_slopes: int | None = None) -> EqualSlopeAssignment:
    """Find the smallest equally sloped set that holds every angle within ``tolerance_deg``.

    Raises a ``ValueError`` that points to SIRT or the Fourier-gridding method when the
    angles are not equally sloped, or when two projections fall on the same line.
    """
    theta = np.asarray(angles_deg, dtype=np.float64)
    if not (tolerance_deg > 0):
        raise ValueError(f"angle tolerance must be a positive number of degrees, got {tolerance_deg!r}")
    n_pixels = int(n_pixels)
    limit = int(max_slopes) if max_slopes is not None else max(64, 2 * n_pixels)
    half = theta - 180.0 * np.round(theta / 180.0)  # (−90, 90]
    half = np.where(half <= -90.0, half + 180.0, half)
    flip = theta - half
    worst = (np.inf, 0.0)
    for n_s in range(2, limit + 1, 2):
        family, k, line_angle = _nearest_lines(half, n_s)
        err = half - line_angle
        bad = np.abs(err) > tolerance_deg
        if bad.any():
            i = int(np.argmax(np.abs(err)))
            worst = (float(theta[i]), float(abs(err[i])))
            continue
        n_grid = n_s * int(np.ceil(n_pixels / n_s))
        line = k * (n_grid // n_s)
        keys = list(zip(family.tolist(), line.tolist()))
        seen: dict = {}
        for i, key in enumerate(keys):
            if key in seen:
                raise ValueError(
                    f"angles {theta[seen[key]]:g}° and {theta[i]:g}° fall on the same equally "
                    "sloped line; EST needs one projection per line (average or drop one)"
                )
            seen[key] = i
        return EqualSlopeAssignment(
            n_slopes=n_s,
            n_grid=n_grid,
            family=tuple(int(f) for f in family),
            line=tuple(int(v) for v in line),
            line_angle_deg=tuple(float(a) for a in line_angle + flip),
            angle_error_deg=tuple(float(e) for e in err),
        )
    raise ValueError(
        f"the angles are not an equally sloped set: {worst[0]:g}° is {worst[1]:.2f}° from the "
        f"nearest line of every grid up to {limit} slopes (tolerance {tolerance_deg:g}°); "
        "reconstruct them with SIRT or the arbitrary-angle Fourier gridding method "
        "(reconstruct_fourier_gridding, `atomtomo est --method gridding`)"
    )
