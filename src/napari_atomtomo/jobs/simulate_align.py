"""Jobs of the "Simulate tilt series" and "Align tilt series" widgets.

Generators the job runner drives (one step per yield, so Cancel stops between
steps). They need no viewer, so scripts and tests can run them directly.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import io
from ..core._generators import map_states
from ..core.align import AlignParams, apply_shifts, estimate_shifts
from ..core.projmatch import RefineParams, refine_shifts
from ..core.simulate.agau import AgAuParams, simulate_agau
from ..core.simulate.haadf import HaadfParams, simulate_haadf_series
from ..core.simulate.silica_structure import iter_generate_silica
from ..core.tiltaxis import estimate_tilt_axis, remove_tilt_axis
from ..io._paths import shipped_structure_path

__all__ = ["SHIPPED", "XYZ_FILE", "GENERATE", "SimulationStep", "iter_simulate_silica",
           "iter_simulate_agau", "AlignStep", "AlignJobResult",
           "iter_align_layers"]

SHIPPED, XYZ_FILE, GENERATE = "shipped", "xyz", "generate"


@dataclasses.dataclass(frozen=True)
class SimulationStep:
    """Progress of a simulation job: the step done and what comes next."""

    iteration: int
    message: str


def iter_simulate_silica(structure: str, params: HaadfParams, xyz_path=None,
                         structure_seed: int = 0):
    """Read or generate the atom model, then simulate its series; returns a ``SimulatedSeries``."""
    if structure == GENERATE:
        yield SimulationStep(0, f"SiO2 melt-and-quench MD (seed {structure_seed}, ≈ 1 min)")
        # every MD progress report is a point where Cancel takes effect
        atoms = yield from map_states(iter_generate_silica(seed=int(structure_seed)), lambda p: (
            SimulationStep(0, f"MD {p.stage}: step {p.step}/{p.total}, T {p.temperature:.0f} K")))
    else:
        yield SimulationStep(0, "reading the atom model")
        atoms = io.read_xyz(shipped_structure_path() if structure == SHIPPED else xyz_path)
    yield SimulationStep(1, f"projecting {len(atoms)} atoms")
    sim = simulate_haadf_series(atoms, params)
    yield SimulationStep(2, "done")
    return sim


def iter_simulate_agau(seed: int, params: AgAuParams):
    """Simulate the Ag–Au phantom's data set (one step); returns an ``AgAuDataSet``."""
    yield SimulationStep(0, "projecting the phantom")
    ds = simulate_agau(seed, params)
    yield SimulationStep(1, "done")
    return ds


@dataclasses.dataclass(frozen=True)
class AlignStep:
    """Progress of an alignment job: steps done and what comes next."""

    iteration: int
    message: str


@dataclasses.dataclass(frozen=True)
class AlignJobResult:
    """Aligned stacks by layer name (the series first), the shifts removed and the reference."""

    aligned: dict
    shifts: np.ndarray
    reference_index: int | None
    #: ``tilt_axis_angle_deg``, ``tilt_axis_offset_px`` (+ quality when estimated)
    tilt_axis: dict = dataclasses.field(default_factory=dict)
    #: projection matching: ``parameters``, ``converged``, ``iterations``
    refine: dict = dataclasses.field(default_factory=dict)


def iter_align_layers(stacks: dict, angles_deg=None, shifts=None,
                      params: AlignParams = AlignParams(), *, tilt_axis: str = "y",
                      axis=(0.0, 0.0), refine: RefineParams | None = None):
    """Estimate the shifts of the first stack (unless ``shifts`` is given) and remove them
    from every stack of ``stacks`` (name -> ``(angle, y, x)``); returns an AlignJobResult.

    ``tilt_axis="auto"`` first estimates the tilt axis (angle, offset) of the first stack;
    ``axis`` is a known one (from a saved file). Either is removed from every stack before
    the shifts (``core.tiltaxis.remove_tilt_axis``). ``refine`` adds projection matching.
    """
    names = list(stacks)
    ref = None
    axis_report = {"tilt_axis_angle_deg": float(axis[0]), "tilt_axis_offset_px": float(axis[1])}
    if shifts is None and tilt_axis == "auto":
        yield AlignStep(0, f"finding the tilt axis of {names[0]}")
        found = estimate_tilt_axis(stacks[names[0]], angles_deg)
        axis = (found.angle_deg, found.offset_px)
        axis_report = found.report()
    if axis[0] or axis[1]:
        stacks = {n: remove_tilt_axis(s, axis[0], axis[1]) for n, s in stacks.items()}
    refine_report = {}
    if shifts is None:
        yield AlignStep(0, f"estimating the shifts of {names[0]}")
        shifts, ref = estimate_shifts(stacks[names[0]], angles_deg, params=params)
        if refine is not None:
            yield AlignStep(0, f"projection matching, up to {refine.n_iter} rounds")
            res = refine_shifts(stacks[names[0]], angles_deg, shifts, refine)
            shifts = res.shifts
            refine_report = {"parameters": dataclasses.asdict(refine),
                             "converged": res.converged, "iterations": res.history}
    aligned = {}
    for i, name in enumerate(names):
        yield AlignStep(i + 1, f"shifting {name}")
        aligned[name] = apply_shifts(stacks[name], shifts)
    return AlignJobResult(aligned, np.asarray(shifts, dtype=np.float64), ref, axis_report,
                          refine_report)
