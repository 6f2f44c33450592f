"""Element classes from peak intensities (constraint ii of the tracing)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._refs import PAPER_000, cites
from ..config import TINY

__all__ = ["ElementSplit", "split_elements"]

@dataclass(frozen=True)
class ElementSplit:
    """Element classes of peak intensities: label 0 is the brightest (heaviest) class.

    ``thresholds`` are descending; an intensity above ``thresholds[0]`` is class 0, one in
    ``(thresholds[1], thresholds[0]]`` class 1, and so on. ``method`` is ``"mixture"``,
    ``"otsu"`` (mixture fit rejected), ``"user"`` or ``"none"`` (too few distinct values:
    the missing thresholds are ``-inf``).
    """

    labels: np.ndarray
    thresholds: tuple[float, ...]
    method: str


def _assign(x, thresholds_desc) -> np.ndarray:
    t = np.asarray(thresholds_desc, dtype=np.float64)
    return np.sum(x[:, None] <= t[None, :], axis=1).astype(np.intp)


def _otsu_thresholds(x_sorted, n_classes) -> np.ndarray:
    """Ascending thresholds maximising the between-class variance (exact for two classes)."""
    if n_classes > 2:
        from skimage.filters import threshold_multiotsu

        return np.asarray(threshold_multiotsu(x_sorted, classes=n_classes), dtype=np.float64)
    n = x_sorted.size
    cs = np.cumsum(x_sorted)
    s = np.arange(1, n)
    mu_lo = cs[:-1] / s
    mu_hi = (cs[-1] - cs[:-1]) / (n - s)
    score = s * (n - s) * (mu_hi - mu_lo) ** 2
    score[x_sorted[1:] <= x_sorted[:-1]] = -1.0  # only split between distinct values
    b = int(np.argmax(score))
    return np.array([0.5 * (x_sorted[b] + x_sorted[b + 1])])


def _mixture_thresholds(x, init_asc, n_iter=200):
    """Refine ascending thresholds by a 1D Gaussian mixture (EM); None if the fit degenerates."""
    k = init_asc.size + 1
    lab = np.searchsorted(init_asc, x, side="left")
    var_floor = (1e-3 * (x.max() - x.min())) ** 2 + TINY
    w = np.array([np.mean(lab == c) for c in range(k)])
    if np.any(w == 0):
        return None
    mu = np.array([x[lab == c].mean() for c in range(k)])
    var = np.array([max(x[lab == c].var(), var_floor) for c in range(k)])
    for _ in range(n_iter):
        logp = np.log(w) - 0.5 * np.log(var) - 0.5 * (x[:, None] - mu) ** 2 / var
        logp -= logp.max(axis=1, keepdims=True)
        r = np.exp(logp)
        r /= r.sum(axis=1, keepdims=True)
        nk = r.sum(axis=0)
        if np.any(nk < 1.0):
            return None
        mu_new = (r * x[:, None]).sum(axis=0) / nk
        var = np.maximum((r * (x[:, None] - mu_new) ** 2).sum(axis=0) / nk, var_floor)
        w = nk / x.size
        done = np.allclose(mu_new, mu, rtol=0, atol=1e-9 * (abs(mu).max() + TINY))
        mu = mu_new
        if done:
            break
    if np.any(np.diff(mu) <= 0):
        return None
    out = []
    for b in range(k - 1):  # boundary between dimmer component b and brighter a = b + 1
        a = b + 1
        qa = -0.5 / var[a] + 0.5 / var[b]
        qb = mu[a] / var[a] - mu[b] / var[b]
        qc = 0.5 * mu[b] ** 2 / var[b] - 0.5 * mu[a] ** 2 / var[a] + np.log(
            w[a] * np.sqrt(var[b]) / (w[b] * np.sqrt(var[a])))
        roots = np.roots([qa, qb, qc]) if abs(qa) > 1e-12 * abs(qb) else np.array([-qc / qb])
        roots = np.real(roots[np.isreal(roots)])
        roots = roots[(roots > mu[b]) & (roots < mu[a])]
        if roots.size != 1:
            return None
        out.append(float(roots[0]))
    return np.array(out)


@cites(PAPER_000)
def split_elements(intensities, n_classes: int = 2, *, thresholds=None) -> ElementSplit:
    """Split peak intensities into ``n_classes`` element classes, brightest first.

    Automatic thresholds come from a ``n_classes``-component 1D Gaussian mixture fitted by
    expectation-maximisation, initialised by Otsu's method (exact on the sorted values for
    two classes, ``skimage.filters.threshold_multiotsu`` beyond); each threshold is where
    the weighted densities of neighbouring components are equal (the Bayes boundary). If
    the mixture degenerates the Otsu thresholds are used. Given ``thresholds`` (any order,
    ``n_classes - 1`` of them) only the labelling is done, cheap enough for a live slider.

    Parameters
    ----------
    intensities : array_like, shape (n,)
        Peak intensities.
    n_classes : int
        Number of element classes (``len(elements)``).
    thresholds : sequence of float, optional
        ``n_classes - 1`` user thresholds; skips the fit.

    Returns
    -------
    ElementSplit
        ``labels`` (0 = brightest class), descending ``thresholds`` and the ``method``.
    """
    x = np.asarray(intensities, dtype=np.float64).reshape(-1)
    if int(n_classes) != n_classes or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    if not np.all(np.isfinite(x)):
        raise ValueError("intensities contain NaN or infinite values")
    k = int(n_classes)
    if thresholds is not None:
        t = np.sort(np.atleast_1d(np.asarray(thresholds, dtype=np.float64)))[::-1]
        if t.size != k - 1 or not np.all(np.isfinite(t)):
            raise ValueError(f"{k} classes need {k - 1} finite thresholds, got {thresholds!r}")
        return ElementSplit(_assign(x, t), tuple(float(v) for v in t), "user")
    if k == 1:
        return ElementSplit(np.zeros(x.size, dtype=np.intp), (), "none")
    xs = np.sort(x)
    if np.unique(xs).size < k:
        mids = [0.5 * (a + b) for a, b in zip(np.unique(xs)[::-1][:-1], np.unique(xs)[::-1][1:])]
        t_arr = np.array(mids + [-np.inf] * (k - 1 - len(mids)))
        return ElementSplit(_assign(x, t_arr), tuple(float(v) for v in t_arr), "none")
    init = _otsu_thresholds(xs, k)
    mix = _mixture_thresholds(xs, init)
    method = "mixture" if mix is not None else "otsu"
    t = (mix if mix is not None else init)[::-1]
    return ElementSplit(_assign(x, t), tuple(float(v) for v in t), method)
