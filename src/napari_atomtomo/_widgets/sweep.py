"""Jobs (no Qt) and plots of the "SIRT / HEBT" widget, including its α × n sweep mode.

* :func:`iter_reconstruction`: SIRT of one tilt series, EDS-STEM (SIRT per element) or
  HEBT, yielding a :class:`ReconstructionState` per iteration with the residual history
  and the newest volume copies the core yields (every ``yield_every`` iterations), which
  the widget copies into its live result layers.
* :func:`iter_hebt_sweep`: HEBT run once per α to the largest ``n``, scoring the element
  maps at every ``n`` of the grid (snapshots of the same run, as in paper 002 §3.1). With
  a reference (phantom) per element the scores are the SSIM structure term and the
  scaled MSE of the raw maps (paper 002 Eq. 19–22) and the quantification error
  ``wt error %``: the element maps quantified (Eq. 18, automatic threshold) and compared
  with the references as true weight fractions, ``|C_A − C_A,true|`` averaged over the
  elements and the voxels of the true particle, in wt %; without references they are the data
  residuals, which are comparable across α: ``||I_H − W Σ_A X_A|| / ||I_H||`` for HAADF
  and ``||r_A I_A − W X_A|| / ||r_A I_A||`` per element.
* :func:`draw_residuals`, :func:`draw_sweep`: the residual curves and the heat maps
  (α across, n up) in a :class:`~._plot.PlotWidget`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from .._layers import layer_info
from ..core.hebt import HebtParams, iter_hebt
from ..core.metrics import mse_scaled, ssim_structure
from ..core.projectors import ParallelBeamProjector
from ..core.ratios import choose_ratios
from ..core.sirt import iter_sirt
from ._plot import FOREGROUND, style_axes

__all__ = [
    "ELEMENT_NAME",
    "element_of",
    "parse_ratios",
    "ReconstructionState",
    "ReconstructionResult",
    "iter_reconstruction",
    "draw_residuals",
    "SweepState",
    "SweepResult",
    "parse_alphas",
    "parse_n_values",
    "iter_hebt_sweep",
    "draw_sweep",
    "quantification_error",
]

#: Layer names that carry an element symbol: ``eds_Ag``, ``map_Au``, ``phantom_Ag``, ``wt_Au``.
ELEMENT_NAME = re.compile(r"^(?:eds|map|phantom|wt)_([A-Z][a-z]?)$")

#: y label of the residual curves.
RESIDUAL_LABEL = "‖Ax − b‖ / ‖b‖"

#: Largest number of grid points a sweep accepts (each α is one HEBT run).
MAX_ALPHAS = 101


@dataclass(frozen=True, eq=False)
class ReconstructionState:
    """One iteration of a widget job.

    ``iteration`` counts over all elements (EDS runs them one after another);
    ``residuals`` maps a curve label to its relative residuals so far; ``maps`` maps
    result names to the newest volume copies (``snapshot`` counts them; the arrays are
    the core's copies, not shared with the running solver);
    ``ratios``/``r2`` are HEBT's response ratios and their fit R² (``None`` if typed).
    """

    iteration: int
    residuals: dict[str, tuple[float, ...]]
    maps: dict[str, np.ndarray]
    snapshot: int
    ratios: dict[str, float] | None = None
    r2: float | None = None
    ratio_warning: str | None = None


@dataclass(frozen=True, eq=False)
class ReconstructionResult:
    """Final volumes by result name (``sirt`` or ``map_<El>``), residuals and ratios."""

    maps: dict[str, np.ndarray]
    residuals: dict[str, tuple[float, ...]]
    ratios: dict[str, float] | None = None
    r2: float | None = None
    ratio_warning: str | None = None


def iter_reconstruction(kind: str, stacks: dict, angles_deg, params, *, haadf=None, ratios=None):
    """Run ``kind`` (``"sirt"``, ``"eds"`` or ``"hebt"``) and yield a state per iteration.

    ``stacks`` maps a label to a tilt series: ``{"sirt": stack}`` for SIRT, element symbols
    for EDS and HEBT (whose results are named ``map_<El>``). ``params`` is a
    :class:`~napari_atomtomo.core.sirt.SirtParams` (SIRT, EDS) or a
    :class:`~napari_atomtomo.core.hebt.HebtParams` (HEBT). Returns a
    :class:`ReconstructionResult`.
    """
    def result_name(key):
        return "sirt" if kind == "sirt" else f"map_{key}"

    if kind == "hebt":
        runs = [("HEBT", iter_hebt(haadf, stacks, angles_deg, params, ratios=ratios))]
    else:
        runs = [(key, None) for key in stacks]
    history: dict[str, list[float]] = {}
    maps: dict[str, np.ndarray] = {}
    snapshot, done, state = 0, 0, None
    for label, gen in runs:
        gen = gen if gen is not None else iter_sirt(stacks[label], angles_deg, params)
        curve = history.setdefault(label, [])
        for state in gen:
            curve.append(state.residual)
            new = getattr(state, "maps", None)
            if new is None and getattr(state, "volume", None) is not None:
                new = {label: state.volume}
            if new is not None:
                maps = {**maps, **{result_name(k): v for k, v in new.items()}}
                snapshot += 1
            yield ReconstructionState(
                done + state.iteration, {k: tuple(v) for k, v in history.items()}, maps,
                snapshot, getattr(state, "ratios", None), getattr(state, "r2", None),
                getattr(state, "ratio_warning", None),
            )
        done += params.n_iter
    return ReconstructionResult(maps, {k: tuple(v) for k, v in history.items()},
                                getattr(state, "ratios", None), getattr(state, "r2", None),
                                getattr(state, "ratio_warning", None))


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
    every snapshot (a partial :class:`SweepResult`, NaN where not yet computed)."""

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


def element_of(layer) -> str:
    """Element of a layer: its metadata, else its ``eds_<El>``-style name, else the name."""
    element = layer_info(layer).get("element")
    if element:
        return str(element)
    match = ELEMENT_NAME.match(layer.name)
    return match.group(1) if match else layer.name


def parse_ratios(text: str) -> dict[str, float] | None:
    """``"Ag=805, Au: 987"`` → ``{"Ag": "805", "Au": "987"}``; empty text → ``None`` (fit).

    The values are checked (numbers > 0, one per element) by
    :func:`napari_atomtomo.core.hebt.check_ratios`.
    """
    if not str(text).strip():
        return None
    pairs = re.findall(r"([A-Za-z]+)\s*[=:]\s*([^,;\s]+)", text)
    if not pairs:
        raise ValueError(
            f"response ratios {text!r} must look like 'Ag=805, Au=987' (or be empty)")
    return dict(pairs)


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
                    ratios=None, references=None):
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
        projector = ParallelBeamProjector((haadf.shape[2], haadf.shape[1], haadf.shape[2]),
                                          angles_deg, n_u=haadf.shape[2])
        norms = {"HAADF": float(np.linalg.norm(haadf))}
        norms.update({el: float(np.linalg.norm(ratios[el] * eds[el])) for el in elements})

    def partial():
        return SweepResult(alphas, n_values, {k: v.copy() for k, v in metrics.items()},
                           dict(ratios), r2, refs is not None)

    for ia, alpha in enumerate(alphas):
        params = HebtParams(alpha=float(alpha), n_iter=n_max, relaxation=relaxation,
                            yield_every=every)
        for state in iter_hebt(haadf, eds, angles_deg, params, ratios=ratios):
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


def draw_residuals(plot, residuals: dict) -> None:
    """Final relative residuals against iteration, one curve per label, log scale.

    Reuses the live curves of the job (:meth:`~._plot.PlotWidget.start_curves`) when
    their labels match, so the end of a job costs a blit, not a full figure draw.
    """
    if list(plot.curves) != list(residuals):
        n = max((len(v) for v in residuals.values()), default=1)
        plot.start_curves(list(residuals), x_max=n, ylabel=RESIDUAL_LABEL)
    plot.update_curves(residuals)
    plot.finish_curves()


def draw_sweep(plot, result: SweepResult) -> None:
    """Heat maps of ``result`` in ``plot`` (a :class:`PlotWidget`): one per score."""
    fig = plot.figure
    fig.clear()
    names = list(result.metrics)
    n_cols = 2 if result.with_reference else min(3, len(names))
    n_rows = math.ceil(len(names) / n_cols)
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    a, n = result.alphas, result.n_values
    for ax, name in zip(axes, names):
        style_axes(ax)
        values = result.metrics[name]
        # SSIM: higher is better (viridis); MSE and residuals: lower is better (reversed).
        # The colour scale leaves out the worst fifth (e.g. α = 1), which would flatten the rest.
        higher = name.startswith("SSIM")
        finite = values[np.isfinite(values)]
        limits = (None, None)
        if finite.size > 4:
            limits = ((np.percentile(finite, 20), finite.max()) if higher
                      else (finite.min(), np.percentile(finite, 80)))
        im = ax.imshow(values, origin="lower", aspect="auto", interpolation="nearest",
                       cmap="viridis" if higher else "viridis_r", vmin=limits[0], vmax=limits[1])
        ax.set_xticks(range(a.size), [f"{v:g}" for v in a], fontsize=6)
        ax.set_yticks(range(n.size), [str(v) for v in n], fontsize=6)
        ax.set_xlabel("α", fontsize=8)
        ax.set_ylabel("iterations n", fontsize=8)
        ax.set_title(name, fontsize=8, color=FOREGROUND)
        if np.isfinite(values).any():
            best = np.nanargmax(values) if name.startswith("SSIM") else np.nanargmin(values)
            r, c = np.unravel_index(best, values.shape)
            ax.plot(c, r, marker="o", mfc="none", mec="#ff6040", ms=8)
        bar = fig.colorbar(im, ax=ax, extend="neither" if limits[0] is None
                           else ("min" if higher else "max"))
        bar.ax.tick_params(colors=FOREGROUND, labelsize=6)
        bar.outline.set_edgecolor(FOREGROUND)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    plot.axes = list(axes[: len(names)])
    plot.canvas.draw_idle()
