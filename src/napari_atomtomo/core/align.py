"""Tilt-series alignment as in paper 000: cross-correlation along y, centre of mass along x.

Along the tilt axis ``y`` the projection of every image onto ``y`` is the same curve for
every tilt (a rotation about ``y`` keeps ``y``), so each image's curve is cross-correlated
with that of the reference image (the one nearest 0°) and the peak is located to a
fraction of a pixel by an upsampled DFT (scikit-image's ``phase_cross_correlation``
without phase normalisation). Across it (``x``) the centre of mass of each image's
projection onto ``x`` is moved to the detector centre ``(n_x − 1) / 2``, which puts the
object's centre of mass at the centre of the reconstruction (CONVENTIONS.md).

Shifts follow the projectors' convention: ``shifts[a] = (dy, dx)`` means the object's
projection appears at ``(v + dy, u + dx)`` in image ``a``. :func:`apply_shifts` undoes
them by a Fourier shift, so the same shifts can be applied to other signals of the
series (EDS maps).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation

from ._refs import PAPER_000, PAPER_002, cites
from ._validate import check_stack
from .geometry import validate_angles, validate_shifts
from .params import param, register_params

__all__ = ["AlignParams", "AlignmentResult", "align_tilt_series", "estimate_shifts",
           "apply_shifts", "reference_index"]

_BACKGROUNDS = ("none", "edge")


@register_params("align")
@dataclass(frozen=True)
class AlignParams:
    """Alignment settings shared by the CLI, the widget and ``layer.metadata``.

    Attributes
    ----------
    reference : "zero" or int
        Reference image for the ``y`` alignment: the one nearest 0° or this index (its
        range is checked against the series by :func:`reference_index`).
    upsample : int
        Sub-pixel precision of the ``y`` cross-correlation is ``1 / upsample`` px (1-1000).
    background : {"none", "edge"}
        ``"edge"`` subtracts each image's border median before the centre of mass, for
        data on a constant background.
    """

    reference: str | int = "zero"  # two widgets (choice + index) and one option: by hand
    upsample: int = param(100, flag="--upsample", label="upsampling", range=(1, 1000),
                          help="sub-pixel precision of the y shifts is 1/upsampling px "
                               "(100: 0.01 px)")
    background: str = param("none", flag="--background", label="background",
                            choices=("none", "edge"),
                            help="'edge' subtracts each image's border median before the "
                                 "centre of mass: use it when the object sits on a constant "
                                 "background")

    def __post_init__(self):
        ref = self.reference
        if ref != "zero":
            if not _is_whole(ref):
                raise ValueError(f"reference must be 'zero' or an image index, got {ref!r}")
            object.__setattr__(self, "reference", int(ref))
        up = self.upsample
        if not (_is_whole(up) and 1 <= up <= 1000):
            raise ValueError(f"upsample must be an integer in 1..1000, got {up!r}")
        object.__setattr__(self, "upsample", int(up))
        if self.background not in _BACKGROUNDS:
            raise ValueError(f"background must be 'none' or 'edge', got {self.background!r}")


def _is_whole(value) -> bool:
    """A real number with an integer value (not a bool, not a string)."""
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool) and float(value).is_integer())


def _params(params, reference, upsample, background) -> AlignParams:
    """``params``, or an :class:`AlignParams` of the keyword arguments (not both)."""
    if params is None:
        return AlignParams(reference, upsample, background)
    if not isinstance(params, AlignParams):
        raise ValueError(f"params must be an AlignParams, got {type(params).__name__}")
    if (reference, upsample, background) != ("zero", 100, "none"):
        raise ValueError("give either params or reference/upsample/background, not both")
    return params


@dataclass(frozen=True)
class AlignmentResult:
    """Aligned stack ``(angle, y, x)`` float32, the shifts ``(n, 2)`` as ``(dy, dx)`` px
    that were removed, and the index of the reference image for ``y``.
    """

    aligned: np.ndarray
    shifts: np.ndarray
    reference_index: int


def reference_index(angles_deg, reference="zero") -> int:
    """Index of the reference image: the angle nearest 0° (``"zero"``) or a given index."""
    angles = validate_angles(angles_deg)
    if isinstance(reference, str):
        if reference != "zero":
            raise ValueError(f"reference must be 'zero' or an image index, got {reference!r}")
        return int(np.argmin(np.abs(angles)))
    if int(reference) != reference or not 0 <= int(reference) < angles.size:
        raise ValueError(f"reference index must be in 0..{angles.size - 1}, got {reference!r}")
    return int(reference)


def _background(stack: np.ndarray, background: str) -> np.ndarray:
    if background == "none":
        return stack
    if background == "edge":
        # median of each image's border pixels, removed and clipped at zero
        border = np.concatenate(
            [stack[:, 0, :], stack[:, -1, :], stack[:, :, 0], stack[:, :, -1]], axis=1
        )
        level = np.median(border, axis=1)
        return np.maximum(stack - level[:, None, None], 0.0)
    raise ValueError(f"background must be 'none' or 'edge', got {background!r}")


@cites(PAPER_000)
def estimate_shifts(stack, angles_deg, *, reference="zero", upsample: int = 100,
                    background: str = "none", params: AlignParams | None = None
                    ) -> tuple[np.ndarray, int]:
    """Per-image ``(dy, dx)`` shifts of a tilt series (see the module docstring).

    The settings are ``reference``, ``upsample`` and ``background`` (see
    :func:`align_tilt_series`), or all three as ``params``.

    ``dy`` is relative to the reference image (its own ``dy`` is 0); ``dx`` is the
    offset of each image's centre of mass from the detector centre.

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Tilt series; its signal must grow with the projected mass (HAADF), as the centre
        of mass across ``x`` assumes.
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees.
    reference : "zero" or int
        Reference image for the ``y`` alignment.
    upsample : int
        Sub-pixel precision ``1 / upsample`` px of the ``y`` cross-correlation.
    background : {"none", "edge"}
        Border-median subtraction before the centre of mass.
    params : AlignParams, optional
        The three settings above together.

    Returns
    -------
    (shifts, reference_index) : ((n, 2) float64, int)
    """
    params = _params(params, reference, upsample, background)
    s = check_stack(stack)
    angles = validate_angles(angles_deg, n_images=s.shape[0])
    ref = reference_index(angles, params.reference)
    data = _background(s.astype(np.float64), params.background)
    totals = data.sum(axis=(1, 2))
    bad = np.nonzero(totals <= 0)[0]
    if bad.size:
        raise ValueError(
            f"image {int(bad[0])} of the tilt series has no positive signal; "
            "alignment needs an object in every image"
        )
    n_a, n_y, n_x = data.shape
    shifts = np.zeros((n_a, 2))
    # x: centre of mass of the projection onto x, relative to the detector centre
    prof_x = data.sum(axis=1)
    x = np.arange(n_x)
    shifts[:, 1] = prof_x @ x / totals - (n_x - 1) / 2.0
    # y: cross-correlation of the projections onto y with the reference's
    if n_y > 1:
        prof_y = data.sum(axis=2)
        # zero padding keeps the correlation from wrapping around
        pad = n_y // 2
        padded = np.pad(prof_y, ((0, 0), (pad, pad)))
        for a in range(n_a):
            if a == ref:
                continue
            shift, _, _ = phase_cross_correlation(
                padded[ref], padded[a], upsample_factor=params.upsample, normalization=None
            )
            shifts[a, 0] = -float(shift[0])
    return shifts, ref


@cites(PAPER_002)
def apply_shifts(stack, shifts) -> np.ndarray:
    """Remove per-image ``(dy, dx)`` shifts by a Fourier shift.

    Image ``a`` is moved by ``(−dy, −dx)``, so an object that appeared at
    ``(v + dy, u + dx)`` appears at ``(v, u)``. Content leaving one edge re-enters at the
    other (periodic shift); keep a margin around the object. Used to apply the HAADF
    alignment to the EDS maps of the same tilts (paper 002 [2]_).

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Tilt series.
    shifts : array_like, shape (angle, 2)
        Per-image ``(dy, dx)`` in pixels, as estimated by :func:`align_tilt_series`.

    Returns
    -------
    ndarray, shape (angle, y, x), float32
        The shifted series.
    """
    s = check_stack(stack)
    sh = validate_shifts(shifts, s.shape[0])
    out = np.empty(s.shape, dtype=np.float32)
    for a in range(s.shape[0]):
        spectrum = ndimage.fourier_shift(np.fft.fft2(s[a].astype(np.float64)), (-sh[a, 0], -sh[a, 1]))
        out[a] = np.fft.ifft2(spectrum).real
    return out


@cites(PAPER_000)
def align_tilt_series(stack, angles_deg, *, reference="zero", upsample: int = 100,
                      background: str = "none", params: AlignParams | None = None
                      ) -> AlignmentResult:
    """Estimate the shifts of a tilt series and remove them (paper 000's alignment).

    Parameters
    ----------
    stack : ndarray, shape (angle, y, x)
        Tilt series (HAADF or any signal roughly proportional to the projected mass).
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees; used to find the reference image nearest 0°.
    reference : "zero" or int
        Reference image for the ``y`` alignment.
    upsample : int
        Sub-pixel precision of the ``y`` cross-correlation is ``1 / upsample`` px.
    background : {"none", "edge"}
        ``"edge"`` subtracts each image's border median before the centre of mass, for
        data on a constant background.
    params : AlignParams, optional
        The three settings above together (then leave those at their defaults).

    Returns
    -------
    AlignmentResult
        The aligned stack, the per-image ``(dy, dx)`` shifts removed and the reference image.
    """
    params = _params(params, reference, upsample, background)
    s = check_stack(stack)
    shifts, ref = estimate_shifts(s, angles_deg, params=params)
    return AlignmentResult(apply_shifts(s, shifts), shifts, ref)
