"""The α × n sweep of HEBT (no Qt): the GUI's sweep mode and ``atomtomo hebt --sweep``.

:func:`iter_hebt_sweep` runs HEBT once per α to the largest ``n``, scoring the element
maps at every ``n`` of the grid (snapshots of the same run, as in paper 002 §3.1). With a
reference (phantom) per element the scores are the SSIM structure term and the scaled
MSE of the raw maps (paper 002 Eq. 19–22) and the quantification error ``wt error %``:
the element maps quantified (Eq. 18, automatic threshold) and compared with the
references as true weight fractions, ``|C_A − C_A,true|`` averaged over the elements and
the voxels of the true particle, in wt %; without references they are the data
residuals, which are comparable across α: ``||I_H − W Σ_A X_A|| / ||I_H||`` for HAADF and
``||r_A I_A − W X_A|| / ||r_A I_A||`` per element. :func:`sweep_table` turns a result
into rows for JSON and CSV.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from ..core.hebt import HebtParams, iter_hebt
from ..core.metrics import mse_scaled, ssim_structure
from ..core.projectors import ParallelBeamProjector
from ..core.ratios import choose_ratios

__all__ = [
    "MAX_ALPHAS",
    "WT_ERROR",
    "SweepState",
    "SweepResult",
    "parse_alphas",
    "parse_n_values",
    "parse_sweep",
    "iter_hebt_sweep",
    "quantification_error",
    "sweep_table",
]

#: Largest number of grid points a sweep accepts (each α is one HEBT run).
MAX_ALPHAS = 101


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Scores on the grid: ``metrics[name]`` has shape ``(len(n_values), len(alphas))``."""

    alphas: np.ndarray
    n_values: np.ndarray
    metrics: dict[str, np.ndarray]
    ratios: dict[str, float]
    r2: float | None
    with_reference: bool


@dataclass(frozen=True, eq=False)
class SweepState:
    """Progress: ``iteration`` counts HEBT iterations over all α; ``scores`` is set after
    every snapshot (a partial :class:`SweepResult`, NaN where not yet computed).
    """

    iteration: int
    alpha: float
    residual: float
    scores: SweepResult | None


def parse_alphas(text: str) -> np.ndarray:
    """α values from ``"0:1:0.1"`` (start:stop:step, stop included) or ``"0, 0.5, 0.8"``."""
    s = str(text).strip()
    try:
        if ":" in s:
            start, stop, step = (float(v) for v in s.split(":"))
            if not step > 0 or stop < start:
                raise ValueError
            n = int(math.floor((stop - start) / step + 1e-9)) + 1
            values = np.round(start + step * np.arange(n), 10)
        else:
            values = np.array([float(v) for v in re.split(r"[,\s]+", s) if v], dtype=np.float64)
    except ValueError:
        raise ValueError(
            f"α values {text!r} must be start:stop:step (e.g. 0:1:0.1) or a list (0, 0.5, 0.8)"
        ) from None
    if values.size == 0 or values.size > MAX_ALPHAS:
        raise ValueError(f"give between 1 and {MAX_ALPHAS} α values, got {values.size}")
    if np.any(values < 0) or np.any(values > 1) or not np.all(np.isfinite(values)):
        raise ValueError(f"α values must lie in [0, 1], got {text!r}")
    return np.unique(values)


def parse_n_values(text: str) -> np.ndarray:
    """Iteration counts from ``"50, 100, 200"`` (whole numbers ≥ 1, sorted)."""
    try:
        values = [int(v) for v in re.split(r"[,\s]+", str(text).strip()) if v]
    except ValueError:
        raise ValueError(
            f"iteration counts {text!r} must be whole numbers, e.g. 50, 100, 200") from None
    if not values or min(values) < 1:
        raise ValueError(f"iteration counts {text!r} must be whole numbers ≥ 1")
    return np.unique(np.asarray(values, dtype=np.int64))


#: Name of the quantification-error score (lower is better).
WT_ERROR = "wt error %"


def quantification_error(maps: dict, references: dict) -> float:
    """Mean ``|C_A − C_A,true|`` in wt % over the elements and the true particle (see above)."""
    from ..core.quantify import quantify_maps

    q = quantify_maps(maps, "hebt")
    particle = sum(np.asarray(r, dtype=np.float64) for r in references.values()) > 0
    if not particle.any():
        raise ValueError("the references hold no particle")
    err = [np.abs(q.weight_fractions[el][particle] - references[el][particle]).mean()
           for el in references]
    return 100.0 * float(np.mean(err))


def _score_names(elements, with_reference: bool) -> list[str]:
    if with_reference:
        return [f"{m} {el}" for el in elements for m in ("SSIM", "MSE")] + [WT_ERROR]
    return ["HAADF residual"] + [f"EDS residual {el}" for el in elements]


def _safe(fn, *args) -> float:
    try:
        return float(fn(*args))
    except ValueError:  # a constant or all-zero map: the metric is undefined
        return float("nan")


def _relative(value: float, norm: float) -> float:
    return float(value) / norm if norm > 0 else float("nan")


def iter_hebt_sweep(haadf, eds, angles_deg, alphas, n_values, *, relaxation: float = 1.0,
                    ratios=None, references=None, support=None, shifts=None):
    """HEBT over ``alphas`` × ``n_values``; yields :class:`SweepState`, returns the result.

    Parameters
    ----------
    haadf, eds, angles_deg, ratios
        As for :func:`~napari_atomtomo.core.hebt.iter_hebt` (ratios fitted once when ``None``).
    alphas : array_like of float in [0, 1]
    n_values : array_like of int ≥ 1
        Iteration counts scored; each α runs to ``max(n_values)``.
    relaxation : float
        SIRT relaxation λ in (0, 2).
    references : dict of str to ndarray, optional
        A reference map per element (e.g. the true weight fractions), of the volume shape.
    support, shifts
        As for :func:`~napari_atomtomo.core.hebt.iter_hebt`.
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    n_values = np.asarray(n_values, dtype=np.int64)
    r2 = None
    if ratios is None:  # as iter_hebt chooses them (Eq. 16's when the fit is ill-determined)
        fit = choose_ratios(haadf, eds)
        ratios, r2 = fit.ratios, fit.r2
    elements = list(eds)
    refs = None if not references else {el: np.asarray(references[el]) for el in elements}
    n_max = int(n_values.max())
    every = math.gcd(*(int(n) for n in n_values))
    names = _score_names(elements, refs is not None)
    metrics = {name: np.full((n_values.size, alphas.size), np.nan) for name in names}
    projector = None
    if refs is None:
        shape = (np.shape(support) if support is not None
                 else (haadf.shape[2], haadf.shape[1], haadf.shape[2]))
        projector = ParallelBeamProjector(shape, angles_deg, n_u=haadf.shape[2], shifts=shifts)
        norms = {"HAADF": float(np.linalg.norm(haadf))}
        norms.update({el: float(np.linalg.norm(ratios[el] * eds[el])) for el in elements})

    def partial():
        return SweepResult(alphas, n_values, {k: v.copy() for k, v in metrics.items()},
                           dict(ratios), r2, refs is not None)

    for ia, alpha in enumerate(alphas):
        params = HebtParams(alpha=float(alpha), n_iter=n_max, relaxation=relaxation,
                            yield_every=every)
        for state in iter_hebt(haadf, eds, angles_deg, params, ratios=ratios, support=support,
                               shifts=shifts):
            scores = None
            if state.maps is not None and state.iteration in n_values:
                row = int(np.searchsorted(n_values, state.iteration))
                if refs is not None:
                    for el in elements:
                        metrics[f"SSIM {el}"][row, ia] = _safe(
                            ssim_structure, state.maps[el], refs[el])
                        metrics[f"MSE {el}"][row, ia] = _safe(lambda x, y: mse_scaled(x, y)[0],
                                                              state.maps[el], refs[el])
                    metrics[WT_ERROR][row, ia] = _safe(quantification_error, state.maps, refs)
                else:
                    projections = {el: projector.forward(m) for el, m in state.maps.items()}
                    total = sum(projections.values())
                    metrics["HAADF residual"][row, ia] = _relative(
                        np.linalg.norm(haadf - total), norms["HAADF"])
                    for el in elements:
                        metrics[f"EDS residual {el}"][row, ia] = _relative(
                            np.linalg.norm(ratios[el] * eds[el] - projections[el]), norms[el])
                scores = partial()
            yield SweepState(ia * n_max + state.iteration, float(alpha), state.residual, scores)
    return partial()


def parse_sweep(text: str) -> tuple[np.ndarray, np.ndarray]:
    """``"0.5,0.7,0.8:50,100,200"`` or ``"0:1:0.1:50,100"`` → (α values, iteration counts).

    The iteration counts follow the last colon; the α part is as for :func:`parse_alphas`.
    """
    alphas, sep, iters = str(text).rpartition(":")
    if not sep or not alphas.strip():
        raise ValueError(f"--sweep {text!r} must be ALPHAS:ITERATIONS, e.g. 0.5,0.7,0.8:50,100,200")
    return parse_alphas(alphas), parse_n_values(iters)


def sweep_table(result: SweepResult) -> list[dict]:
    """One row per grid cell: ``{"alpha", "n_iter", <score>: value or None, ...}``."""
    rows = []
    for ia, alpha in enumerate(result.alphas):
        for i_n, n in enumerate(result.n_values):
            row = {"alpha": float(alpha), "n_iter": int(n)}
            for name, values in result.metrics.items():
                v = float(values[i_n, ia])
                row[name] = v if math.isfinite(v) else None
            rows.append(row)
    return rows
