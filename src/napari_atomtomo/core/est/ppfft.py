"""Pseudopolar fast Fourier transform, its exact adjoint and an iterative inverse.

For an ``N × N`` image ``f[z, x]`` (``N`` even, pixel ``(z, x)`` at centred coordinates
``(Z, X) = (z − N/2, x − N/2)``) the pseudopolar transform samples

    F(k_x, k_z) = Σ f[z, x] exp(−2πi (k_x X + k_z Z))

on two families of lines through the origin (Averbuch, Coifman, Donoho, Israeli,
Shkolnisky, SIAM J. Sci. Comput. 30, 764 (2008)):

* family 0, "basically horizontal": ``(k_x, k_z) = (k, s·k) / M``,
* family 1, "basically vertical":   ``(k_x, k_z) = (s·k, k) / M``,

with slopes ``s = 2l/N`` (``l = −N/2 … N/2``), radial index ``k = −K … K`` and
``M = 2K + 1 = oversampling·N + 1`` (``oversampling = 2`` gives the classical ``2N + 1``
samples per line). The result is stored as ``(..., 2, N + 1, M)`` indexed
``[family, l + N/2, k + K]``. In the geometry of ``CONVENTIONS.md`` (slice ``(z, x)``,
``u = x cos θ + z sin θ``) family-0 line ``l`` holds the projection at ``θ = atan(s)``
and family-1 line ``l`` the projection at ``θ = acot(s)``.

Each family costs one fractional DFT along the dominant axis (step ``1/M``, i.e. a
zero-padded FFT) and one along the other axis with a row-dependent step ``2k/(N M)``:
O(N² log N) in all.
"""

from __future__ import annotations

import numpy as np

from .._refs import PAPER_000, cites
from ..config import TINY
from .frft import frft, frft_adjoint

__all__ = [
    "ppfft",
    "ppfft_adjoint",
    "ppfft_inverse",
    "ppfft_density_weights",
    "pseudopolar_frequencies",
    "pseudopolar_shape",
    "PpInverseResult",
]

from dataclasses import dataclass


def _check_grid(n: int, oversampling: int) -> tuple[int, int]:
    if int(n) != n or n < 2 or n % 2:
        raise ValueError(f"the pseudopolar grid size must be an even integer ≥ 2, got {n!r}")
    if int(oversampling) != oversampling or oversampling < 1:
        raise ValueError(f"oversampling must be an integer ≥ 1, got {oversampling!r}")
    k_max = int(oversampling) * int(n) // 2
    return int(n), 2 * k_max + 1


def pseudopolar_shape(n: int, oversampling: int = 2) -> tuple[int, int, int]:
    """Shape ``(2, N + 1, M)`` of the pseudopolar samples of an ``N × N`` image."""
    n, m = _check_grid(n, oversampling)
    return (2, n + 1, m)


def pseudopolar_frequencies(n: int, oversampling: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Sample frequencies ``(k_x, k_z)`` in cycles per pixel, each of shape ``(2, N + 1, M)``."""
    n, m = _check_grid(n, oversampling)
    k = (np.arange(m) - m // 2) / m
    s = 2.0 * (np.arange(n + 1) - n // 2) / n
    dominant = np.broadcast_to(k[None, :], (n + 1, m))
    other = s[:, None] * k[None, :]
    kx = np.stack([dominant, other])
    kz = np.stack([other, dominant])
    return kx, kz


def ppfft_density_weights(n: int, oversampling: int = 2) -> np.ndarray:
    """Area of the frequency cell of each pseudopolar sample (cycles²/pixel²), ``(2, N+1, M)``.

    A sample at radial index ``k ≠ 0`` owns a cell ``1/M`` wide along its line and
    ``2|k|/(N M)`` across; the diagonal lines (shared by both families) and the outermost
    samples own half a cell; the origin (on every line) shares one ``1/M²`` cell. The
    weights sum to 1, the area of the sampled square, so ``Pᴴ W P ≈ I``.
    """
    n, m = _check_grid(n, oversampling)
    k_max = m // 2
    k = np.abs(np.arange(m) - k_max).astype(np.float64)
    w = np.broadcast_to(2.0 * k / (n * m * m), (2, n + 1, m)).copy()
    w[:, :, [0, -1]] *= 0.5
    w[:, [0, -1], :] *= 0.5
    w[:, :, k_max] = 1.0 / (m * m * 2 * (n + 1))
    # Renormalise the outer half cells so the weights sum exactly to 1.
    return w / w.sum()


def _check_images(images, n_grid: int | None) -> np.ndarray:
    f = np.asarray(images)
    if f.ndim < 2 or f.shape[-1] != f.shape[-2]:
        raise ValueError(f"ppfft needs square images (..., N, N), got shape {f.shape}")
    if n_grid is None and f.shape[-1] % 2:
        raise ValueError(f"ppfft needs an even image size N, got {f.shape[-1]}")
    if not np.all(np.isfinite(f)):
        raise ValueError("the images contain NaN or infinite values")
    return f


def _family_forward(f: np.ndarray, n: int, m: int, workers) -> np.ndarray:
    """Family-0 samples of images ``f[..., z, x]``: returns ``(..., N + 1, M)``."""
    n_img = f.shape[-1]
    k_max = m // 2
    # Along x (dominant): G[z, k] = Σ_x f exp(−2πi k X / M).
    g = frft(f, 1.0 / m, m, in_offset=-(n_img // 2), out_offset=-k_max, workers=workers)
    # Along z with step 2k/(N M) for row k: H[k, l] = Σ_z G exp(−2πi (2l/N)(k/M) Z).
    alpha = 2.0 * (np.arange(m) - k_max) / (n * m)
    h = frft(
        np.swapaxes(g, -1, -2), alpha, n + 1, in_offset=-(n_img // 2), out_offset=-(n // 2),
        workers=workers,
    )
    return np.swapaxes(h, -1, -2)


def _family_adjoint(h: np.ndarray, n: int, m: int, n_img: int, workers) -> np.ndarray:
    k_max = m // 2
    alpha = 2.0 * (np.arange(m) - k_max) / (n * m)
    g = frft_adjoint(
        np.swapaxes(h, -1, -2), alpha, n_img, in_offset=-(n_img // 2), out_offset=-(n // 2),
        workers=workers,
    )
    g = np.swapaxes(g, -1, -2)  # (..., z, k)
    return frft_adjoint(g, 1.0 / m, n_img, in_offset=-(n_img // 2), out_offset=-k_max,
                        workers=workers)


@cites(PAPER_000)
def ppfft(images, oversampling: int = 2, *, n_grid: int | None = None, workers=None):
    """Pseudopolar Fourier transform of square images ``(..., N, N)`` indexed ``[z, x]``.

    Parameters
    ----------
    images : array_like
        One image ``(N, N)`` or a batch ``(B, N, N)``; ``N`` even.
    oversampling : int
        Radial oversampling: ``M = oversampling·N + 1`` samples per line.
    n_grid : int, optional
        Size ``N`` that defines the slopes ``2l/N`` and ``M`` when it differs from the
        image size (the image is then centred at pixel ``n_img // 2``).
    workers : int, optional
        Threads for the FFTs.

    Returns
    -------
    ndarray
        ``(..., 2, N + 1, M)`` complex128 (complex64 for float32 input).
    """
    f = _check_images(images, n_grid)
    n, m = _check_grid(f.shape[-1] if n_grid is None else n_grid, oversampling)
    fam0 = _family_forward(f, n, m, workers)
    fam1 = _family_forward(np.swapaxes(f, -1, -2), n, m, workers)
    return np.stack([fam0, fam1], axis=-3)


@cites(PAPER_000)
def ppfft_adjoint(pp, oversampling: int = 2, *, n_image: int | None = None, workers=None):
    """Exact adjoint of :func:`ppfft`: ``(..., 2, N + 1, M)`` → ``(..., n, n)`` images.

    ``n_image`` (default ``N``) is the output image size; the slopes and ``M`` always
    follow ``N`` (read from the pseudopolar shape).

    Parameters
    ----------
    pp : array_like, shape (..., 2, N + 1, M)
        Pseudopolar samples.
    oversampling : int
        The radial oversampling of ``pp``.
    n_image : int, optional
        Output image size.
    workers : int, optional
        Threads for the FFTs.

    Returns
    -------
    ndarray, shape (..., n_image, n_image)
        The adjoint images.
    """
    pp = np.asarray(pp)
    if pp.ndim < 3 or pp.shape[-3] != 2:
        raise ValueError(f"pseudopolar data must have shape (..., 2, N + 1, M), got {pp.shape}")
    n = pp.shape[-2] - 1
    n, m = _check_grid(n, oversampling)
    if pp.shape[-1] != m:
        raise ValueError(
            f"pseudopolar data has {pp.shape[-1]} samples per line but N={n} with "
            f"oversampling {oversampling} needs {m}"
        )
    n_img = n if n_image is None else int(n_image)
    img = _family_adjoint(pp[..., 0, :, :], n, m, n_img, workers)
    img += np.swapaxes(_family_adjoint(pp[..., 1, :, :], n, m, n_img, workers), -1, -2)
    return img


@dataclass(frozen=True)
class PpInverseResult:
    """Result of :func:`ppfft_inverse`: the images and the relative residual per CG step."""

    images: np.ndarray
    residuals: tuple[float, ...]


@cites(PAPER_000)
def ppfft_inverse(pp, oversampling: int = 2, *, n_iter: int = 10, tol: float = 1e-12,
                  real: bool = True, workers=None) -> PpInverseResult:
    """Invert :func:`ppfft` in the least-squares sense by conjugate gradients.

    Solves the density-weighted normal equations ``Pᴴ W P f = Pᴴ W y`` (``W`` from
    :func:`ppfft_density_weights`, which makes ``Pᴴ W P`` close to the identity) starting
    from ``f₀ = Pᴴ W y`` (the density-compensated adjoint). For ``y`` in the range of ``P``
    the solution is the exact inverse. ``residuals[i]`` is ``‖W^½(P f_i − y)‖ / ‖W^½ y‖``
    after ``i`` CG steps. ``real=True`` keeps the real part (real images).

    Parameters
    ----------
    pp : array_like, shape (..., 2, N + 1, M)
        Pseudopolar samples ``y``.
    oversampling : int
        The radial oversampling of ``pp``.
    n_iter : int
        Conjugate-gradient steps at most.
    tol : float
        Stop when the relative residual is below ``tol``.
    real : bool
        Return real images.
    workers : int, optional
        Threads for the FFTs.

    Returns
    -------
    PpInverseResult
        The images ``f`` and the residual after every step.
    """
    pp = np.asarray(pp)
    if not np.all(np.isfinite(pp)):
        raise ValueError("the pseudopolar data contain NaN or infinite values")
    if int(n_iter) != n_iter or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}")
    n = pp.shape[-2] - 1
    w = ppfft_density_weights(n, oversampling)

    def normal(f):
        out = ppfft_adjoint(w * ppfft(f, oversampling, workers=workers), oversampling,
                            workers=workers)
        return out.real if real else out

    def resid(f):
        d = ppfft(f, oversampling, workers=workers) - pp
        return float(np.sqrt(np.sum(w * np.abs(d) ** 2) / max(np.sum(w * np.abs(pp) ** 2), TINY)))

    b = ppfft_adjoint(w * pp, oversampling, workers=workers)
    b = b.real if real else b
    f = b.copy()
    r = b - normal(f)
    p = r.copy()
    rr = np.sum(np.abs(r) ** 2, axis=(-2, -1), keepdims=True)
    history = [resid(f)]
    for _ in range(int(n_iter)):
        if history[-1] < tol:
            break
        q = normal(p)
        pq = np.sum((np.conj(p) * q).real, axis=(-2, -1), keepdims=True)
        step = np.where(pq > 0, rr / np.where(pq > 0, pq, 1.0), 0.0)
        f = f + step * p
        r = r - step * q
        rr_new = np.sum(np.abs(r) ** 2, axis=(-2, -1), keepdims=True)
        p = r + np.where(rr > 0, rr_new / np.where(rr > 0, rr, 1.0), 0.0) * p
        rr = rr_new
        history.append(resid(f))
    return PpInverseResult(images=f, residuals=tuple(history))
