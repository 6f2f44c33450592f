"""The SIRT, EDS-STEM and HEBT job of the "SIRT / HEBT" widget (no Qt).

:func:`iter_reconstruction` runs SIRT of one tilt series, EDS-STEM (SIRT per element)
or HEBT, yielding a :class:`ReconstructionState` per iteration with the residual history
and the newest volume copies the core yields (every ``yield_every`` iterations), and
returns a :class:`ReconstructionResult`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from ..core.hebt import iter_hebt
from ..core.sirt import iter_sirt
from ..core.stopping import EdsParams, StopParams, iter_hebt_stopped, iter_sirt_stopped

__all__ = ["EDS_ITERATIONS", "ReconstructionState", "ReconstructionResult",
           "iter_reconstruction", "parse_ratios"]

#: Default iterations of EDS-STEM (SIRT of every element's series; ``atomtomo eds
#: --iterations``), from the spec of :class:`~napari_atomtomo.core.stopping.EdsParams`.
EDS_ITERATIONS = EdsParams.n_iter


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
    #: HEBT: its EDS misfit per count (core.stopping.eds_misfit_per_count), else ``None``.
    eds_misfit_per_count: dict[str, float] | None = None
    #: With a stopping rule: per curve label (element, or ``"HEBT"``) how the run stopped,
    #: :meth:`~napari_atomtomo.core.stopping.StopInfo.as_dict` with the rule's ``tol`` and
    #: ``max_iterations`` (as ``eds.json`` / ``hebt.json``); ``None`` for a fixed count.
    stops: dict[str, dict] | None = None


def _returning(gen, out: list):
    """Yield ``gen``'s states and append its return value to ``out``."""
    out.append((yield from gen))


def iter_reconstruction(kind: str, stacks: dict, angles_deg, params, *, haadf=None, ratios=None,
                        stop: StopParams | None = None):
    """Run ``kind`` (``"sirt"``, ``"eds"`` or ``"hebt"``) and yield a state per iteration.

    With ``stop`` (EDS and HEBT) each run ends by its rule, at most
    ``stop.max_iterations``, as ``atomtomo eds`` / ``atomtomo hebt`` without
    ``--iterations`` (:func:`~napari_atomtomo.core.stopping.iter_sirt_stopped`, per element,
    with ``params``' relaxation; :func:`~napari_atomtomo.core.stopping.iter_hebt_stopped`);
    else ``params.n_iter`` iterations.

    ``stacks`` maps a label to a tilt series: ``{"sirt": stack}`` for SIRT, element symbols
    for EDS and HEBT (whose results are named ``map_<El>``). ``params`` is a
    :class:`~napari_atomtomo.core.sirt.SirtParams` (SIRT, EDS) or a
    :class:`~napari_atomtomo.core.hebt.HebtParams` (HEBT). Returns a
    :class:`ReconstructionResult`.
    """
    def result_name(key):
        return "sirt" if kind == "sirt" else f"map_{key}"

    if stop is not None and kind == "sirt":
        raise ValueError("a stopping rule is for EDS and HEBT; SIRT runs a fixed count")
    if kind == "hebt":
        gen = (iter_hebt(haadf, stacks, angles_deg, params, ratios=ratios) if stop is None
               else iter_hebt_stopped(haadf, stacks, angles_deg, params, stop, ratios=ratios))
        runs = [("HEBT", gen)]
    else:
        runs = [(key, None) for key in stacks]
    history: dict[str, list[float]] = {}
    maps: dict[str, np.ndarray] = {}
    stops: dict[str, dict] = {}
    snapshot, done, state = 0, 0, None
    for label, gen in runs:
        if gen is None:
            gen = (iter_sirt(stacks[label], angles_deg, params) if stop is None else
                   iter_sirt_stopped(stacks[label], angles_deg,
                                     replace(stop, relaxation=params.relaxation)))
        curve, out = history.setdefault(label, []), []
        for state in _returning(gen, out):
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
        if stop is None:
            done += params.n_iter
            continue
        final, info = out[0]  # the stopped run's own result (the maps at its last iterate)
        final = final.maps if kind == "hebt" else {label: final}
        maps = {**maps, **{result_name(k): v for k, v in final.items()}}
        stops[label] = {**info.as_dict(), "tol": stop.tol, "max_iterations": stop.max_iterations}
        done += info.iterations
    noise = None
    if stops.get("HEBT"):
        noise = stops["HEBT"]["eds_misfit_per_count"]
    elif kind == "hebt" and state is not None:  # in the worker: one projection per element
        from ..core.stopping import eds_misfit_per_count

        noise = eds_misfit_per_count({el: maps[result_name(el)] for el in stacks}, stacks,
                                     angles_deg, state.ratios)
    return ReconstructionResult(maps, {k: tuple(v) for k, v in history.items()},
                                getattr(state, "ratios", None), getattr(state, "r2", None),
                                getattr(state, "ratio_warning", None), noise, stops or None)


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
