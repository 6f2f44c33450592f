"""Image-quality metrics of the two papers.

* :func:`ssim_structure` – the structure term of SSIM, paper 002 Eq. 19–22
  (sample statistics with ``N - 1``; ``C = 0`` as in the paper).
* :func:`mse` – plain mean squared error (paper 002, for weight-fraction maps).
* :func:`mse_scaled` – MSE after the scale factor that minimises it (paper 002, for raw
  reconstructed maps, which are not on the reference's scale).
* :func:`r_noise` – the noise level of a tilt series, paper 000 Eq. 2.
"""

from __future__ import annotations

import numpy as np

from ._refs import PAPER_000, PAPER_002, cites

__all__ = ["mse", "mse_scaled", "r_noise", "ssim_structure"]


def _pair(x, y, names=("x", "y")) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{names[0]} has shape {a.shape} but {names[1]} has shape {b.shape}; "
                         "expected the same shape")
    if a.size == 0:
        raise ValueError(f"{names[0]} and {names[1]} are empty; expected at least one value")
    for arr, name in zip((a, b), names):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
    return a.ravel(), b.ravel()


@cites(PAPER_002)
def ssim_structure(x, y, C: float = 0.0) -> float:
    """Structure term ``s = (σ_xy + C) / (σ_x σ_y + C)`` of SSIM (paper 002 [2]_, Eq. 19–22).

    The standard deviations and the covariance use ``1 / (N - 1)``. ``s`` is the
    Pearson correlation of ``x`` and ``y`` when ``C = 0``: 1 for images equal up to a
    positive affine map, -1 for an inverted one.

    Parameters
    ----------
    x, y : array_like
        Images (or volumes) of one shape.
    C : float
        Stabilising constant of Eq. 22.

    Returns
    -------
    float
        The structure term ``s``, in ``[-1, 1]`` when ``C = 0``.
    """
    a, b = _pair(x, y)
    if a.size < 2:
        raise ValueError(f"ssim_structure needs at least 2 values, got {a.size}")
    C = float(C)
    if not np.isfinite(C) or C < 0:
        raise ValueError(f"C must be a finite number >= 0, got {C}")
    da, db = a - a.mean(), b - b.mean()
    n1 = a.size - 1
    sxy = float(np.dot(da, db)) / n1
    sx = np.sqrt(float(np.dot(da, da)) / n1)
    sy = np.sqrt(float(np.dot(db, db)) / n1)
    denom = sx * sy + C
    if denom == 0.0:
        raise ValueError("ssim_structure is undefined: an image is constant and C is 0")
    return (sxy + C) / denom


@cites(PAPER_002)
def mse(x, y) -> float:
    """Mean squared error ``mean((x - y)²)``.

    Parameters
    ----------
    x, y : array_like
        Arrays of one shape.

    Returns
    -------
    float
        The mean squared difference (paper 002 [2]_ compares maps by it).
    """
    a, b = _pair(x, y)
    return float(np.mean((a - b) ** 2))


@cites(PAPER_002)
def mse_scaled(x, ref) -> tuple[float, float]:
    """MSE of ``a·x`` against ``ref`` with the minimising scale ``a = <x, ref> / <x, x>``.

    Reconstructions are defined up to a scale; paper 002 [2]_ compares them with the
    ground truth after that scale is removed.

    Parameters
    ----------
    x : array_like
        The reconstruction.
    ref : array_like
        The reference (ground truth), of the shape of ``x``.

    Returns
    -------
    mse : float
        ``mean((a·x − ref)²)``.
    scale : float
        The minimising scale ``a``.
    """
    a, b = _pair(x, ref, names=("x", "ref"))
    xx = float(np.dot(a, a))
    if xx == 0.0:
        raise ValueError("x is all zeros; no scale factor can match it to ref")
    scale = float(np.dot(a, b)) / xx
    return float(np.mean((scale * a - b) ** 2)), scale


@cites(PAPER_000)
def r_noise(noisy, clean) -> tuple[float, np.ndarray]:
    """Noise level of a tilt series, paper 000 [1]_ Eq. 2.

    ``R_θ = Σ_xy |P_noise(x, y) − P(x, y)| / Σ_xy P(x, y)`` for every projection θ
    (the first axis), averaged over projections.

    Parameters
    ----------
    noisy : array_like, shape (angle, y, x)
        The noisy tilt series ``P_noise``.
    clean : array_like, shape (angle, y, x)
        The noise-free tilt series ``P``.

    Returns
    -------
    mean : float
        ``R_noise``, the mean of ``R_θ`` over projections.
    per_projection : ndarray, shape (angle,)
        ``R_θ`` of every projection.
    """
    a = np.asarray(noisy, dtype=np.float64)
    b = np.asarray(clean, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"noisy has shape {a.shape} but clean has shape {b.shape}; "
                         "expected the same shape")
    if a.ndim < 2 or a.shape[0] == 0 or a[0].size == 0:
        raise ValueError(f"expected a tilt series (angle, ...) with at least one pixel, got shape {a.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("noisy or clean contains NaN or infinite values")
    axes = tuple(range(1, a.ndim))
    total = b.sum(axis=axes)
    if np.any(total <= 0):
        bad = int(np.nonzero(total <= 0)[0][0])
        raise ValueError(f"clean projection {bad} has no positive signal; R_noise needs Σ P > 0")
    per = np.abs(a - b).sum(axis=axes) / total
    return float(per.mean()), per
