"""The paper-000 pipeline: simulate → align → EST → trace → compare, with a report.

This is ``atomtomo demo``'s main job and the engine of ``benchmarks/reproduce_silica.py``.
It writes every intermediate product in the project's file formats, so each step can
be opened in napari or re-run by its own ``atomtomo`` command.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import asdict, dataclass, field, replace
from importlib.resources import files
from pathlib import Path

import numpy as np

from .. import io
from ..core._generators import run_to_end
from ..core.align import align_tilt_series
from ..core.atoms import Atoms
from ..core.compare import ComparisonResult, compare_atoms
from ..core.est import EstParams, iter_est
from ..core.simulate.haadf import R_NOISE_PRESETS, HaadfParams, simulate_haadf_series
from ..core.trace import (
    TraceParams,
    TraceResult,
    auto_prefilter_sigma,
    trace_atoms,
    trace_atoms_by_subtraction,
)
from ..io._output import write_new_json
from . import report

__all__ = ["SilicaPipelineParams", "SilicaPipelineResult", "run_silica_pipeline",
           "shipped_silica_structure", "dose_setting"]

#: Paper 000's noise levels (R_noise) and the misplaced-O counts it reported.
PAPER_MISPLACED_O = {0.10: 0, 0.12: 1, 0.20: 12, 0.25: 38}


def shipped_silica_structure() -> Atoms:
    """The 1002-atom amorphous SiO2 particle shipped with the package."""
    return io.read_xyz(files("napari_atomtomo") / "data" / "silica_1002.xyz")


def dose_setting(value) -> dict:
    """Interpret ``--dose``: a preset (10, 12, 20, 25 = the paper's R_noise in %) or e/Å².

    Returns ``{"r_noise": f}`` or ``{"dose": d}`` for :class:`HaadfParams`.
    """
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"dose must be a preset ({', '.join(str(k) for k in R_NOISE_PRESETS)}: the paper's "
            f"R_noise in %) or a dose in e/Å² (≥ 1000), got {value!r}"
        ) from None
    if v in R_NOISE_PRESETS:
        return {"r_noise": R_NOISE_PRESETS[int(v)]}
    if v >= 1000 and np.isfinite(v):
        return {"dose": v}
    raise ValueError(
        f"dose must be a preset ({', '.join(str(k) for k in R_NOISE_PRESETS)}: the paper's "
        f"R_noise in %) or a dose in e/Å² (≥ 1000), got {value!r}"
    )


#: Tracing methods: ``"subtraction"`` (:func:`trace_atoms_by_subtraction`, Si first, O in
#: the residual) or ``"direct"`` (:func:`trace_atoms`, all elements in one pass).
TRACING_METHODS = ("subtraction", "direct")


@dataclass(frozen=True)
class SilicaPipelineParams:
    """Everything that defines one run of the silica pipeline.

    ``resolution_A`` (1.0 Å) is the misplacement threshold: the Nyquist limit of the
    0.5 Å voxels, where the Fourier shell correlation of our reconstructions with the
    ideal linear-imaging volume crosses 0.5 (1.04 Å at R_noise 10 %, 1.14 Å at 20 %; see
    docs/reproduction-silica.md). ``prefilter_sigma`` (voxels or ``"auto"``) is used by
    the subtraction tracing only.
    """

    haadf: HaadfParams = field(default_factory=lambda: HaadfParams(r_noise=0.10, seed=1))
    est: EstParams = field(default_factory=EstParams)
    trace: TraceParams = field(default_factory=lambda: TraceParams(min_distance_A=1.2))
    use_expected_count: bool = True
    resolution_A: float = 1.0
    tracing: str = "subtraction"
    prefilter_sigma: str | float = "auto"

    def __post_init__(self):
        if self.tracing not in TRACING_METHODS:
            raise ValueError(f"tracing must be one of {TRACING_METHODS}, got {self.tracing!r}")
        if not (np.isfinite(self.resolution_A) and self.resolution_A > 0):
            raise ValueError(
                f"resolution_A must be a positive number of Å, got {self.resolution_A!r}")
        pf = self.prefilter_sigma
        if not (pf == "auto" or (isinstance(pf, (int, float)) and np.isfinite(pf) and pf >= 0)):
            raise ValueError(f"prefilter_sigma must be 'auto' or a number of voxels ≥ 0, got {pf!r}")


@dataclass(frozen=True)
class SilicaPipelineResult:
    """Where the silica pipeline wrote its outputs, and its summary."""

    out_dir: Path
    summary: dict
    report_path: Path
    traced: TraceResult | None = None
    comparison: ComparisonResult | None = None


def _step(callback, name: str, done: int, total: int, message: str = "") -> None:
    if callback is not None:
        callback(name, done, total, message)


def run_silica_pipeline(out_dir, params: SilicaPipelineParams = SilicaPipelineParams(), *,
                        structure: Atoms | None = None, force: bool = False,
                        callback=None) -> SilicaPipelineResult:
    """Run simulate → align → EST → trace → compare and write files, plots and a report.

    ``callback(step, done, total, message)`` reports progress (EST per iteration).
    Files written in ``out_dir``: the data set (``haadf.mrc``, ``angles.tlt``,
    ``atoms_true.xyz``, ``truth.json``), ``aligned.mrc`` + ``shifts.json``, ``est.mrc`` +
    ``est.json``, ``atoms_traced.xyz``/``.csv``, ``compare.json``, PNG figures and
    ``report.md``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    atoms = shipped_silica_structure() if structure is None else structure
    timings: dict[str, float] = {}

    t = time.perf_counter()
    _step(callback, "simulate", 0, 1)
    sim = simulate_haadf_series(atoms, params.haadf)
    vs = sim.pixel_size
    io.write_mrc(out / "haadf.mrc", sim.stack_noisy, vs, force=force, kind="stack")
    io.write_tlt(out / "angles.tlt", sim.angles_nominal, force=force)
    io.write_xyz(out / "atoms_true.xyz", sim.atoms, comment="true atoms, reconstruction frame",
                 force=force)
    write_new_json(out / "truth.json", sim.truth_dict(), force)
    timings["simulate_s"] = time.perf_counter() - t

    t = time.perf_counter()
    _step(callback, "align", 0, 1)
    aligned = align_tilt_series(sim.stack_noisy, sim.angles_nominal)
    io.write_mrc(out / "aligned.mrc", aligned.aligned, vs, force=force, kind="stack")
    io.write_shifts(out / "shifts.json", aligned.shifts, force=force)
    shift_err = aligned.shifts - sim.shifts
    shift_err -= shift_err.mean(axis=0)  # alignment frames differ by a global translation
    timings["align_s"] = time.perf_counter() - t

    t = time.perf_counter()
    est_params = params.est
    total = est_params.n_iter + est_params.n_iter_tight
    done = itertools.count(1)
    est = run_to_end(iter_est(aligned.aligned, sim.angles_nominal, est_params, voxel_size=vs),
                     lambda s: _step(callback, "est", next(done), total, f"error {s.error:.4f}"))
    io.write_mrc(out / "est.mrc", est.volume, vs, force=force)
    write_new_json(out / "est.json", {"parameters": asdict(est_params),
                                   "errors": [float(e) for e in est.errors]}, force)
    timings["est_s"] = time.perf_counter() - t

    t = time.perf_counter()
    _step(callback, "trace", 0, 1)
    n_expected = len(atoms) if params.use_expected_count else None
    prefilter = None
    if params.tracing == "subtraction":
        prefilter = params.prefilter_sigma
        if prefilter == "auto":  # resolve it here so that the summary records the number
            prefilter = auto_prefilter_sigma(est.volume, vs, params.trace, n_expected=n_expected)
        traced = trace_atoms_by_subtraction(est.volume, vs, params.trace, n_expected=n_expected,
                                            prefilter_sigma=prefilter)
    else:
        traced = trace_atoms(est.volume, vs, params.trace, n_expected=n_expected)
    io.write_xyz(out / "atoms_traced.xyz", traced.atoms, comment="traced atoms", force=force)
    io.write_atoms_csv(out / "atoms_traced.csv", traced.atoms, force=force)
    timings["trace_s"] = time.perf_counter() - t

    t = time.perf_counter()
    cmp = compare_atoms(traced.atoms, sim.atoms, resolution_A=params.resolution_A)
    write_new_json(out / "compare.json", cmp.to_dict(), force)
    timings["compare_s"] = time.perf_counter() - t

    summary = {
        "r_noise": sim.r_noise,
        "dose_e_per_A2": sim.dose,
        "alignment_rms_error_px": [float(v) for v in np.sqrt(np.mean(shift_err**2, axis=0))],
        "est_final_error": float(est.errors[-1]) if len(est.errors) else None,
        "n_local_maxima": int(traced.n_local_maxima),
        "noise_floor": float(traced.noise_floor),
        "split_threshold": traced.split_threshold,
        "comparison": cmp.to_dict(),
        "paper_misplaced_O": _paper_value(sim.r_noise),
        "timings_s": timings,
        "parameters": {
            "haadf": asdict(params.haadf),
            "est": asdict(est_params),
            "trace": params.trace.to_dict(),
            "use_expected_count": params.use_expected_count,
            "resolution_A": params.resolution_A,
            "tracing": params.tracing,
            "prefilter_sigma": params.prefilter_sigma,
            "prefilter_sigma_used_voxels": prefilter,
        },
    }
    write_new_json(out / "summary.json", summary, force)
    report_path = report.write_silica_report(out, summary, traced, cmp, est, force=force)
    return SilicaPipelineResult(out, summary, report_path, traced, cmp)


def _paper_value(r_noise) -> int | None:
    if r_noise is None:
        return None
    for level, count in PAPER_MISPLACED_O.items():
        if abs(r_noise - level) < 0.005:
            return count
    return None


def with_noise(params: SilicaPipelineParams, **haadf_changes) -> SilicaPipelineParams:
    """A copy of ``params`` with a different noise setting (``dose=`` or ``r_noise=``)."""
    return replace(params, haadf=replace(params.haadf, dose=None, r_noise=None, **haadf_changes))
