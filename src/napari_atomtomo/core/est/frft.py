"""Fractional Fourier transform (Bailey & Swarztrauber) by chirp-z convolution.

The fractional DFT of ``x`` (length ``n``) with step ``alpha`` is

    G_k = Σ_j x_j · exp(−2πi · (j + a) · (k + b) · alpha),   k = 0 … n_out − 1,

with index offsets ``a`` (input) and ``b`` (output). ``alpha = 1/n`` with zero offsets is
the ordinary DFT. Writing ``J·K = (J² + K² − (K − J)²) / 2`` turns the sum into a
convolution with a chirp, done with FFTs of length ``≥ n + n_out − 1``: O(n log n)
instead of O(n²) (Bluestein's trick; Bailey & Swarztrauber, SIAM Review 33, 389 (1991)).

``alpha`` may be an array that broadcasts against the leading (non-transformed) axes,
so a batch of rows can each be transformed with its own step (the pseudopolar FFT needs
a row-dependent step).
"""

from __future__ import annotations

import os

import numpy as np
import scipy.fft as sfft

from .._refs import PAPER_000, cites

__all__ = ["frft", "frft_adjoint", "frft_centred", "fft_workers"]


def fft_workers() -> int:
    """Threads for scipy.fft: the cores this process may use (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _complex_dtype(x: np.ndarray):
    return np.complex64 if x.dtype in (np.complex64, np.float32) else np.complex128


def _chirp(alpha: np.ndarray, t: np.ndarray) -> np.ndarray:
    """exp(−iπ·alpha·t²) in float64, with alpha (...,1) and t (L,)."""
    return np.exp(-1j * np.pi * (alpha * (t * t)))


@cites(PAPER_000)
def frft(
    x,
    alpha,
    n_out: int | None = None,
    *,
    in_offset: float = 0.0,
    out_offset: float = 0.0,
    axis: int = -1,
    workers: int | None = None,
) -> np.ndarray:
    """Fractional DFT ``G_k = Σ_j x_j exp(−2πi (j + in_offset)(k + out_offset) alpha)``.

    Parameters
    ----------
    x : array_like
        Real or complex data; transformed along ``axis``.
    alpha : float or array_like
        Frequency step (cycles per sample per output index). An array must broadcast
        against ``x`` with the transformed axis removed (one step per row).
    n_out : int, optional
        Output length along ``axis`` (default: the input length).
    in_offset, out_offset : float
        Index offsets ``a`` and ``b`` (e.g. ``-n // 2`` for centred indices).
    axis : int
        Axis of ``x`` to transform.
    workers : int, optional
        Threads for the FFTs (default: all usable cores).

    Returns
    -------
    ndarray
        complex64 for float32/complex64 input, else complex128.
    """
    x = np.asarray(x)
    if x.ndim == 0:
        raise ValueError("frft needs at least a 1D array, got a scalar")
    x = np.moveaxis(x, axis, -1)
    n = x.shape[-1]
    if n < 1:
        raise ValueError("frft needs a non-empty axis to transform")
    n_out = n if n_out is None else int(n_out)
    if n_out < 1:
        raise ValueError(f"n_out must be a positive length, got {n_out}")
    a = np.asarray(alpha, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("alpha contains NaN or infinite values")
    lead = x.shape[:-1]
    try:
        rows = np.broadcast_shapes(a.shape, lead)
    except ValueError:
        rows = None
    if rows != lead:
        raise ValueError(
            f"alpha of shape {a.shape} does not broadcast against the rows {lead} of x"
        )
    # Keep alpha un-broadcast: the chirps and the kernel's FFT are computed once per
    # distinct step (a pseudopolar batch repeats the same steps for every slice), and
    # numpy broadcasting applies them to every row.
    a = a[..., None]
    cdtype = _complex_dtype(x)
    workers = fft_workers() if workers is None else workers
    length = sfft.next_fast_len(n + n_out - 1)
    aj = np.arange(n, dtype=np.float64) + in_offset  # J = j + a
    bk = np.arange(n_out, dtype=np.float64) + out_offset  # K = k + b
    # Chirp convolution kernel h[m] = exp(+iπ α (m + b − a)²) for m = k − j in
    # [−(n − 1), n_out − 1], stored circularly in a length-`length` buffer.
    m = np.zeros(length)
    valid = np.zeros(length, dtype=bool)
    m[:n_out] = np.arange(n_out)
    valid[:n_out] = True
    if n > 1:
        m[length - (n - 1):] = np.arange(-(n - 1), 0)
        valid[length - (n - 1):] = True
    t = m + (out_offset - in_offset)
    h = np.conj(_chirp(a, t)) * valid
    u = np.zeros(lead + (length,), dtype=cdtype)
    u[..., :n] = x * _chirp(a, aj).astype(cdtype, copy=False)
    conv = sfft.ifft(
        sfft.fft(u, axis=-1, workers=workers, overwrite_x=True)
        * sfft.fft(h.astype(cdtype, copy=False), axis=-1, workers=workers),
        axis=-1,
        workers=workers,
        overwrite_x=True,
    )
    out = conv[..., :n_out] * _chirp(a, bk).astype(cdtype, copy=False)
    return np.moveaxis(out, -1, axis)


def frft_adjoint(
    y,
    alpha,
    n_in: int,
    *,
    in_offset: float = 0.0,
    out_offset: float = 0.0,
    axis: int = -1,
    workers: int | None = None,
) -> np.ndarray:
    """Exact adjoint of :func:`frft`: ``x_j = Σ_k y_k exp(+2πi (j + a)(k + b) alpha)``.

    ``n_in`` is the length of the original input; offsets are those of the forward call.
    """
    y = np.asarray(y)
    res = frft(
        np.conj(y), alpha, n_in, in_offset=out_offset, out_offset=in_offset, axis=axis,
        workers=workers,
    )
    return np.conj(res, out=res)


def frft_centred(x, alpha, n_out: int | None = None, *, axis: int = -1, workers=None):
    """:func:`frft` with centred indices: ``j`` from ``−n // 2`` and ``k`` from ``−n_out // 2``.

    With ``alpha = 1 / n`` and ``n_out = n`` this is the centred DFT
    ``fftshift(fft(ifftshift(x)))``.
    """
    x = np.asarray(x)
    n = x.shape[axis]
    n_out = n if n_out is None else int(n_out)
    return frft(
        x, alpha, n_out, in_offset=-(n // 2), out_offset=-(n_out // 2), axis=axis,
        workers=workers,
    )
