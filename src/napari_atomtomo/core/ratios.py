"""Response ratios for HEBT that cannot silently fail (paper 002, Eq. 15–16).

The regression ``I_H ≈ Σ_A r_A I_A`` (Eq. 15, :func:`~.hebt.fit_response_ratios`) needs the
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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .elements import element_factors
from .hebt import fit_response_ratios

__all__ = ["MAX_RELATIVE_SE", "RatioChoice", "choose_ratios"]

#: Largest relative standard error of a fitted ratio before the physical ratios are used
#: (when the signals are also collinear, :data:`MAX_COSINE`).
MAX_RELATIVE_SE = 0.01
#: EDS signals whose cosine similarity (over all pixels) exceeds this vary together.
MAX_COSINE = 0.98


@dataclass(frozen=True)
class RatioChoice:
    """The ratios used, their R², how they were obtained and the fit's relative SEs."""

    ratios: dict
    r2: float
    method: str
    relative_se: dict
    warning: str | None = None

    def as_dict(self) -> dict:
        """The choice as plain JSON-able values."""
        return {"r": dict(self.ratios), "r2": float(self.r2), "method": self.method,
                "relative_se": dict(self.relative_se), "warning": self.warning}


def _columns(haadf, eds):
    b = np.asarray(haadf, dtype=np.float64).ravel()
    a = np.stack([np.asarray(s, dtype=np.float64).ravel() for s in eds.values()], axis=1)
    return a, b


def _r2(a, b, r) -> float:
    res = b - a @ r
    tot = b - b.mean()
    return float(1.0 - (res @ res) / (tot @ tot)) if tot @ tot > 0 else float("nan")


def choose_ratios(haadf, eds, factors=None) -> RatioChoice:
    """Fitted ratios (Eq. 15), or the physical ones (Eq. 16) when the fit is ill-determined.

    Parameters
    ----------
    haadf : ndarray, shape (angle, y, x)
        HAADF tilt series.
    eds : dict of str to ndarray, shape (angle, y, x)
        EDS counts per element, same shape as ``haadf``.
    factors : dict, optional
        ``{"El": {"z": ..., "f": ...}}`` overriding or extending Table 2.

    Returns
    -------
    RatioChoice
        The ratios, their R², the ``method`` (``"fit"`` or ``"physical"``) and a warning.

    References
    ----------
    .. [2] Y. Yuan et al., "Extraction of 3D quantitative maps using EDS-STEM tomography and
       HAADF-EDS bimodal tomography", Ultramicroscopy 113166 (2020).
       https://doi.org/10.1016/j.ultramic.2020.113166
    """
    fit = fit_response_ratios(haadf, eds)
    elements = list(eds)
    a, b = _columns(haadf, eds)
    r = np.array([fit.ratios[el] for el in elements])
    res = b - a @ r
    dof = max(b.size - len(elements), 1)
    gram = a.T @ a
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
        return RatioChoice(dict(fit.ratios), fit.r2, "fitted", rel)
    try:
        table = element_factors(elements, factors, require="z")
        shape = np.array([table[el].get("z") / table[el].get("f") for el in elements])
    except ValueError as exc:
        return RatioChoice(dict(fit.ratios), fit.r2, "fitted", rel, (
            f"the fitted response ratios are ill-determined (relative standard error up to "
            f"{100 * worst:.1f} %) and the physical ratios need both factors ({exc})"))
    s = a @ shape
    k = float(s @ b / (s @ s)) if s @ s > 0 else 0.0
    if k <= 0:
        raise ValueError("the HAADF signal is not explained by the EDS signals; give ratios explicitly")
    ratios = {el: float(k * v) for el, v in zip(elements, shape)}
    warning = (f"the fitted response ratios are ill-determined (relative standard error up to "
               f"{100 * worst:.1f} % > {100 * MAX_RELATIVE_SE:g} %: the EDS signals vary together, "
               "e.g. a uniform composition); used the ratios of Eq. 16, r_A ∝ z_A/f_A, "
               f"scaled by a fitted k = {k:.4g}")
    return RatioChoice(ratios, _r2(a, b, shape * k), "physical", rel, warning)
