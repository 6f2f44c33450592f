"""Response ratios for HEBT that cannot silently fail (paper 002, Eq. 15–16).

:func:`fit_response_ratios` fits Eq. 15 by non-negative least squares; :func:`check_ratios`
checks ratios given by the user.

The regression ``I_H ≈ Σ_A r_A I_A`` (Eq. 15, :func:`fit_response_ratios`) needs the
EDS signals to vary independently. When the particle's composition is uniform (a hollow
shell of one alloy, a single-phase particle) every ``I_A`` is proportional to the others,
the columns are collinear and the fitted ``r_A`` can split the HAADF signal arbitrarily:
the weight fractions are then off by ten or more wt % with a fine R².

:func:`choose_ratios` measures the fit's relative standard errors (ordinary least-squares
covariance ``s² (AᵀA)⁻¹``, ``s²`` the residual variance) and the cosine similarity of the
EDS signals. When they are collinear (cosine above :data:`MAX_COSINE`) and the largest
relative standard error exceeds :data:`MAX_RELATIVE_SE` (or a ratio is 0), it uses the
ratios Eq. 16 predicts up to one common constant,
``r_A = k · z_A / f_A`` (since ``r_A = D_H N_V z_A / (n f_A)``), with ``k`` fitted by least
squares, and says so (``method = "physical"``, ``warning``). This needs both factors of
every element (Table 2 or a factor file).

**Resolution matching.** Eq. 15 is linear, so it holds between the HAADF and EDS series
only when both have the same resolution. EDS series are often smoothed (paper 002 filters
its EDS sinograms with a Gaussian of σ 0.8 px) while the HAADF is not; the regression
then mixes sharp HAADF edges with blurred EDS edges and biases the ratios (Co–Zn: the
ratio r_Zn/r_Co 8 % low, the composition of a small region 5–7 wt % off). Before the fit,
:func:`match_resolution` smooths the HAADF series in the image plane by the Gaussian σ
(0–:data:`MAX_MATCH_SIGMA` px) that minimises the regression's residual (1 − R²): the
minimum is at the EDS series' extra blur (measured: σ 0.8 px on every phantom of
:mod:`.simulate.phantoms`, 2D and 3D, both doses). The HAADF series used by the
reconstruction is unchanged; only the ratio fit sees the smoothed copy. The σ is reported
(``haadf_sigma_px``). Whether the fit is well determined (the fallback above) is still
judged on the data as given: smoothing correlates neighbouring pixels, and the
least-squares standard errors, which assume independent residuals, would be too small
(a uniform Co–Zn hollow shell then kept ill-determined ratios, 3.9 wt % off).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.optimize
from scipy.ndimage import gaussian_filter

from ._iterative import check_element_stacks, check_stack
from ._refs import PAPER_002, cites
from .elements import element_factors

__all__ = ["MAX_MATCH_SIGMA", "MAX_RELATIVE_SE", "RatioChoice", "ResponseRatioFit", "check_ratios",
           "choose_ratios", "fit_response_ratios", "match_resolution"]

#: Largest Gaussian σ (px) tried to match the HAADF's resolution to the EDS series'.
MAX_MATCH_SIGMA = 2.0
#: Grid step (px) of that search (refined by a parabola through the best three).
MATCH_SIGMA_STEP = 0.2

#: Largest relative standard error of a fitted ratio before the physical ratios are used
#: (when the signals are also collinear, :data:`MAX_COSINE`).
MAX_RELATIVE_SE = 0.01
#: EDS signals whose cosine similarity (over all pixels) exceeds this vary together.
MAX_COSINE = 0.98


@dataclass(frozen=True, eq=False)
class ResponseRatioFit:
    """Response ratios ``r_A`` of Eq. 15 and the coefficient of determination ``r2``."""

    ratios: dict[str, float]
    r2: float


def check_haadf_and_eds(haadf, eds) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The HAADF series and the element stacks, checked, all of one shape."""
    h = check_stack(haadf, name="haadf")
    stacks = check_element_stacks(eds)
    for element, s in stacks.items():
        if s.shape != h.shape:
            raise ValueError(
                f"eds[{element!r}] has shape {s.shape} but the HAADF tilt series has "
                f"shape {h.shape}"
            )
    return h, stacks


class _NormalEquations:
    """Eq. 15's normal equations for one set of EDS stacks, accumulated in float64 chunk by
    chunk: the EDS × EDS Gram matrix ``AᵀA`` and its Cholesky factor are built once;
    :meth:`fit` adds only a HAADF series' terms (``Aᵀb``, ``bᵀb``, ``Σb``), so the
    resolution search fits many smoothed HAADF copies against one factorisation.
    """

    def __init__(self, stacks: dict[str, np.ndarray], chunk: int = 1 << 20):
        self.elements = list(stacks)
        self.cols = [s.reshape(-1) for s in stacks.values()]
        self.n = self.cols[0].size
        self.chunk = int(chunk)
        k = len(self.elements)
        self.gram = np.zeros((k, k))
        for start, stop in self._chunks():
            block = self._block(start, stop)
            self.gram += block.T @ block
        try:
            self.chol = scipy.linalg.cholesky(self.gram, lower=True)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"the EDS maps of {self.elements} are linearly dependent (or one is all "
                "zeros), so response ratios cannot be fitted; give them with ratios="
            ) from None

    def _chunks(self):
        return ((start, min(start + self.chunk, self.n)) for start in range(0, self.n, self.chunk))

    def _block(self, start: int, stop: int) -> np.ndarray:
        block = np.empty((stop - start, len(self.cols)))
        for c, col in enumerate(self.cols):
            block[:, c] = col[start:stop]
        return block

    def fit(self, haadf: np.ndarray) -> ResponseRatioFit:
        """The NNLS fit of a HAADF series of the stacks' shape (checked by the caller)."""
        h = haadf.reshape(-1)
        rhs = np.zeros(len(self.elements))
        bb = b_sum = 0.0
        for start, stop in self._chunks():
            b = np.asarray(h[start:stop], dtype=np.float64)
            rhs += self._block(start, stop).T @ b
            bb += float(b @ b)
            b_sum += float(b.sum())
        target = scipy.linalg.solve_triangular(self.chol, rhs, lower=True)
        r, _ = scipy.optimize.nnls(self.chol.T, target)
        ss_res = max(bb - 2.0 * rhs @ r + r @ self.gram @ r, 0.0)
        ss_tot = bb - b_sum * b_sum / self.n
        if ss_tot <= 0.0:
            raise ValueError("the HAADF tilt series is constant, so R² is undefined")
        ratios = {el: float(v) for el, v in zip(self.elements, r)}
        return ResponseRatioFit(ratios, float(1.0 - ss_res / ss_tot))


@cites(PAPER_002)
def fit_response_ratios(haadf, eds, *, chunk: int = 1 << 20) -> ResponseRatioFit:
    """Fit ``I_H ≈ Σ_A r_A I_A`` (Eq. 15) over every pixel of every tilt, ``r_A ≥ 0``.

    Non-negative least squares (:func:`scipy.optimize.nnls`) without an intercept, as
    Eq. 15 has none. The normal equations are accumulated in float64 chunk by chunk, and
    NNLS runs on their Cholesky factor (``||A r − b||² = ||Lᵀ r − L⁻¹Aᵀb||² + const``),
    so memory stays small for large tilt series. ``r2 = 1 − SS_res / SS_tot`` with the usual
    centred ``SS_tot = Σ (I_H − mean I_H)²``. The paper fitted with gradient descent and got
    ``r_Ag = 805``, ``r_Au = 987`` and R² = 0.982 on its Ag–Au phantom.

    Parameters
    ----------
    haadf : ndarray, shape (angle, y, x)
        HAADF tilt series.
    eds : dict of str to ndarray, shape (angle, y, x)
        EDS counts per element, same shape as ``haadf``.
    chunk : int
        Pixels per chunk of the normal-equation accumulation (memory bound).

    Returns
    -------
    ResponseRatioFit
        ``ratios`` (``r_A`` per element) and ``r2``.
    """
    h, stacks = check_haadf_and_eds(haadf, eds)
    return _NormalEquations(stacks, chunk).fit(h)


def check_ratios(ratios, elements) -> dict[str, float]:
    """User-given ratios: one positive finite number for each element, no others."""
    if not isinstance(ratios, Mapping):
        raise ValueError(f"ratios must be a dict {{element: r}}, got {type(ratios).__name__}")
    out = {}
    for element in elements:
        if element not in ratios:
            raise ValueError(f"ratios has no value for element {element!r}; give one per element")
        try:
            r = float(ratios[element])
        except (TypeError, ValueError):
            raise ValueError(
                f"ratio for {element!r} must be a number, got {ratios[element]!r}"
            ) from None
        if not (np.isfinite(r) and r > 0.0):
            raise ValueError(f"ratio for {element!r} must be a positive number, got {r!r}")
        out[element] = r
    extra = [el for el in ratios if el not in out]
    if extra:
        raise ValueError(
            f"ratios has values for {extra} but the EDS data only has {list(elements)}"
        )
    return out


@dataclass(frozen=True)
class RatioChoice:
    """The ratios used, their R², how they were obtained and the fit's relative SEs."""

    ratios: dict
    r2: float
    method: str
    relative_se: dict
    warning: str | None = None
    haadf_sigma_px: float = 0.0

    def as_dict(self) -> dict:
        """The choice as plain JSON-able values."""
        return {"r": dict(self.ratios), "r2": float(self.r2), "method": self.method,
                "relative_se": dict(self.relative_se), "warning": self.warning,
                "haadf_sigma_px": float(self.haadf_sigma_px)}


def _smooth_images(series: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian σ (px) in each image's plane of an ``(angle, y, x)`` series (x only if y is 1)."""
    if sigma <= 0:
        return series
    s = (0.0, sigma if series.shape[1] > 1 else 0.0, sigma)
    return gaussian_filter(np.asarray(series, dtype=np.float64), s, mode="nearest")


def match_resolution(haadf, eds, max_sigma: float = MAX_MATCH_SIGMA) -> tuple[float, dict]:
    """``(σ, {σ: 1 − R²})``: the HAADF smoothing that best matches the EDS series (module docstring).

    Grid search over ``0, MATCH_SIGMA_STEP, …, max_sigma`` of the Eq. 15 fit's 1 − R²,
    refined by the vertex of the parabola through the best grid point and its neighbours.
    """
    h, stacks = check_haadf_and_eds(haadf, eds)
    return _match_resolution(h, _NormalEquations(stacks), max_sigma)


def _match_resolution(haadf: np.ndarray, normal: _NormalEquations,
                      max_sigma: float) -> tuple[float, dict]:
    """:func:`match_resolution` on checked data: each σ refits only the HAADF's terms."""
    h = np.asarray(haadf, dtype=np.float64)
    grid = np.round(np.arange(0.0, max_sigma + 1e-9, MATCH_SIGMA_STEP), 6)
    curve = {}
    for sg in grid:
        curve[float(sg)] = 1.0 - normal.fit(_smooth_images(h, sg)).r2
    vals = np.array(list(curve.values()))
    i = int(np.argmin(vals))
    best = float(grid[i])
    if 0 < i < len(grid) - 1:
        y0, y1, y2 = vals[i - 1], vals[i], vals[i + 1]
        den = y0 - 2 * y1 + y2
        if den > 0:
            best = float(grid[i] + 0.5 * MATCH_SIGMA_STEP * (y0 - y2) / den)
    return best, curve


def _columns(haadf, eds):
    b = np.asarray(haadf, dtype=np.float64).ravel()
    a = np.stack([np.asarray(s, dtype=np.float64).ravel() for s in eds.values()], axis=1)
    return a, b


def _r2(a, b, r) -> float:
    res = b - a @ r
    tot = b - b.mean()
    return float(1.0 - (res @ res) / (tot @ tot)) if tot @ tot > 0 else float("nan")


@cites(PAPER_002)
def choose_ratios(haadf, eds, factors=None, haadf_sigma="auto") -> RatioChoice:
    """Fitted ratios (Eq. 15), or the physical ones (Eq. 16) when the fit is ill-determined.

    Parameters
    ----------
    haadf, eds
        As for :func:`fit_response_ratios`.
    factors : dict, optional
        ``{"El": {"z": ..., "f": ...}}`` overriding or extending Table 2.
    haadf_sigma : "auto" or float
        The HAADF smoothing (px) for the fit: ``"auto"`` for :func:`match_resolution`, 0
        for none.

    Returns
    -------
    RatioChoice
        The ratios, their R², the ``method`` (``"fitted"`` or ``"physical"``), a warning
        and ``haadf_sigma_px``.
    """
    if haadf_sigma != "auto":
        haadf_sigma = float(haadf_sigma)
        if not (np.isfinite(haadf_sigma) and haadf_sigma >= 0):
            raise ValueError(f"haadf_sigma must be 'auto' or a number of pixels >= 0, got "
                             f"{haadf_sigma!r}")
    haadf, eds = check_haadf_and_eds(haadf, eds)
    normal = _NormalEquations(eds)  # checked and built once for every fit below
    if haadf_sigma == "auto":
        haadf_sigma, _ = _match_resolution(haadf, normal, MAX_MATCH_SIGMA)
    # Whether the fit is well determined is judged on the data as given: smoothing
    # correlates neighbouring pixels, and the least-squares standard errors (which assume
    # independent residuals) would then be too small.
    fit = normal.fit(haadf)
    matched = fit if haadf_sigma == 0 else normal.fit(_smooth_images(haadf, haadf_sigma))
    elements = list(eds)
    a, b = _columns(haadf, eds)
    r = np.array([fit.ratios[el] for el in elements])
    res = b - a @ r
    dof = max(b.size - len(elements), 1)
    gram = normal.gram
    try:
        cov = (res @ res / dof) * np.linalg.inv(gram)
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
        rel = {el: (float(s / v) if v > 0 else float("inf")) for el, s, v in zip(elements, se, r)}
    except np.linalg.LinAlgError:
        rel = {el: float("inf") for el in elements}
    worst = max(rel.values())
    norms = np.sqrt(np.diag(gram))
    cosine = gram / np.outer(norms, norms) if np.all(norms > 0) else np.ones_like(gram)
    collinear = len(elements) > 1 and float(np.max(cosine - np.eye(len(elements)))) > MAX_COSINE
    if (worst <= MAX_RELATIVE_SE and not np.any(r == 0)) or not collinear:
        # (a zero ratio of independent signals is the caller's error to report)
        return RatioChoice(dict(matched.ratios), matched.r2, "fitted", rel, None, haadf_sigma)
    try:
        table = element_factors(elements, factors, require="z")
        shape = np.array([table[el].get("z") / table[el].get("f") for el in elements])
    except ValueError as exc:
        return RatioChoice(dict(fit.ratios), fit.r2, "fitted", rel, (
            f"the fitted response ratios are ill-determined (relative standard error up to "
            f"{100 * worst:.1f} %) and the physical ratios need both factors ({exc})"), haadf_sigma)
    s = a @ shape
    k = float(s @ b / (s @ s)) if s @ s > 0 else 0.0
    if k <= 0:
        raise ValueError("the HAADF signal is not explained by the EDS signals; give ratios explicitly")
    ratios = {el: float(k * v) for el, v in zip(elements, shape)}
    warning = (f"the fitted response ratios are ill-determined (relative standard error up to "
               f"{100 * worst:.1f} % > {100 * MAX_RELATIVE_SE:g} %: the EDS signals vary together, "
               "e.g. a uniform composition); used the ratios of Eq. 16, r_A ∝ z_A/f_A, "
               f"scaled by a fitted k = {k:.4g}")
    return RatioChoice(ratios, _r2(a, b, shape * k), "physical", rel, warning, haadf_sigma)
