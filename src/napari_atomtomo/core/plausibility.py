"""Physical plausibility of a tilt series: catch data that would give a silent wrong result.

Each check returns a list of warning sentences (the caller reports them) and raises
``ValueError`` with one sentence where the result would be meaningless. The CLI prints
the warnings as ``atomtomo CMD: warning: ...``; widgets can show the same sentences.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_counts", "check_angles", "check_shifts", "check_tilt_series", "check_alpha"]

#: Fewer than this many degrees of tilt range cannot be a tomography series.
MIN_RANGE_DEG = 10.0


def check_counts(data, what: str = "tilt series", nonnegative: bool = True) -> list[str]:
    """Counts must be mostly positive; a negated stack (e.g. inverted contrast) is caught.

    Mostly negative (the negative values outweigh the positive ones): refused when the
    reconstruction is non-negative (it would be all zeros), a warning otherwise. A large
    negative part (over 20 % of the positive sum, more than the noise of a subtracted
    vacuum level): a warning. Noise around zero in a background-subtracted vacuum is fine.
    """
    a = np.asarray(data)
    neg = a < 0
    neg_mass = -float(a[neg].sum(dtype=np.float64))
    pos_mass = float(a[a > 0].sum(dtype=np.float64))
    n_neg = int(np.count_nonzero(neg))
    if neg_mass >= pos_mass and neg_mass > 0 or pos_mass == 0:
        msg = (f"{what} is mostly negative ({100 * n_neg / a.size:.0f} % of the pixels, sum "
               f"{pos_mass - neg_mass:.4g}); counts should be positive: was the contrast "
               "inverted?")
        if nonnegative:
            raise ValueError(msg + " A non-negative reconstruction of it would be all zeros; "
                             "invert the stack or allow negative voxels")
        return [msg]
    if neg_mass > 0.2 * pos_mass:
        return [f"{what} has {n_neg} negative pixels down to {float(a.min()):.4g}, summing "
                f"to {100 * neg_mass / pos_mass:.0f} % of the positive signal; counts should "
                "not be negative: was a background over-subtracted?"]
    return []


def check_angles(angles_deg, expect_range: bool = True) -> list[str]:
    """Radians taken for degrees and angles beyond ±90°.

    With ``expect_range`` (a tomography series of 3 or more images), all angles within
    ±π/2 ("degrees" spanning less than 3.2°) are refused as radians; a range below 10°
    is a warning. Any |θ| > 90° is a warning (the same projection as θ ∓ 180°, mirrored).
    """
    a = np.asarray(angles_deg, dtype=np.float64)
    out = []
    span = float(a.max() - a.min()) if a.size else 0.0
    if expect_range and a.size >= 3:
        if np.all(np.abs(a) <= math.pi / 2) and span > 0:
            raise ValueError(
                f"the {a.size} tilt angles lie within ±{np.abs(a).max():.4g}, i.e. within ±π/2: "
                f"they look like radians, but angles are degrees; multiply by 57.2958 "
                f"(e.g. {a.max():.4g} rad = {math.degrees(a.max()):.2f}°)"
            )
        if span < MIN_RANGE_DEG:
            out.append(f"the tilt angles span only {span:.3g}° ({a.min():g}..{a.max():g}); "
                       "a tomogram needs a wide range (were radians given?)")
    big = np.abs(a) > 90.0
    if np.any(big):
        out.append(f"{int(big.sum())} tilt angle(s) lie beyond ±90° (largest |θ| "
                   f"{np.abs(a).max():g}°); such an image repeats θ ∓ 180° mirrored")
    return out


def check_shifts(shifts, image_shape) -> list[str]:
    """Refuse shifts that move an image's content entirely out of the frame."""
    if shifts is None:
        return []
    s = np.abs(np.asarray(shifts, dtype=np.float64))
    n_y, n_x = image_shape
    bad = (s[:, 0] >= n_y) | (s[:, 1] >= n_x)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(
            f"{int(bad.sum())} shift(s) are larger than the image ({n_y}×{n_x} px), e.g. "
            f"image {i}: (dy, dx) = ({shifts[i][0]:.4g}, {shifts[i][1]:.4g}) px; the images "
            "would fall outside the volume (are the shifts in Å or another unit?)"
        )
    return []


def check_tilt_series(data, angles_deg, shifts=None, what: str = "tilt series",
                      nonnegative: bool = True) -> list[str]:
    """All the checks of a tilt series ``(angle, y, x)`` for a reconstruction."""
    a = np.asarray(data)
    out = []
    if a.shape[0] == 1:
        out.append(f"{what} has a single image: one projection holds no depth, so the volume "
                   "is that image smeared along z")
    out += check_counts(a, what, nonnegative)
    out += check_angles(angles_deg, expect_range=a.shape[0] >= 3)
    out += check_shifts(shifts, a.shape[1:])
    return out


def check_alpha(alpha: float, elements) -> list[str]:
    """HEBT with α = 1 uses the HAADF term alone: every element map is the same volume."""
    els = list(elements)
    if alpha >= 1.0 and len(els) > 1:
        return [f"--alpha 1 weights only the HAADF term, so the {len(els)} maps "
                f"({', '.join(els)}) are one volume scaled by the response ratios; use an "
                "alpha below 1 to separate the elements"]
    return []
