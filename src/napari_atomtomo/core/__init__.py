"""Pure numpy/numba algorithms (no Qt, no napari, no magicgui).

Every algorithm of the package, by name, and where it lives. The names are importable
from here (lazily, so importing :mod:`napari_atomtomo.core` stays cheap):
``from napari_atomtomo.core import reconstruct_est``.

============================  =======================================  =========================
name                          what it does                             module
============================  =======================================  =========================
equally_sloped_angles         the EST angle set (55 angles of ±72.6°)  geometry
forward_project               volume → tilt series (Joseph)            projectors
back_project                  its exact adjoint                        projectors
ParallelBeamProjector         projector pair for iterative solvers     projectors
reconstruct_sirt              SIRT with non-negativity                 sirt
reconstruct_eds               EDS-STEM tomography (SIRT per element)   sirt
reconstruct_hebt              HAADF-EDS bimodal tomography (Eq. 17)    hebt
fit_response_ratios           r_A of Eq. 15 by NNLS, with R²           ratios
quantify_maps                 weight fractions, Eq. 12 / Eq. 18        quantify
esf_threshold                 edge-spread-function threshold           threshold
element_factors               z_A, f_A (Table 2 and user JSON)         elements
ssim_structure                SSIM structure term, Eq. 19–22           metrics
mse_scaled, mse               MSE (optimal scale / plain)              metrics
r_noise                       noise level, Eq. 2 of paper 000          metrics
frft                          fractional Fourier transform             est.frft
ppfft                         pseudopolar FFT (+ adjoint, inverse)     est.ppfft
reconstruct_est               equally sloped tomography                est.reconstruct
reconstruct_fourier_gridding  arbitrary-angle Fourier gridding         est.gridding
align_tilt_series             cross-correlation (y) + c.m. (x)         align
apply_shifts                  apply saved shifts (e.g. to EDS maps)    align
preprocess_series             vacuum level, bad pixels, normalisation  preprocess
estimate_tilt_axis            in-plane tilt-axis angle and offset      tiltaxis
remove_tilt_axis              resample a series so its axis is y       tiltaxis
refine_shifts                 projection-matching alignment            projmatch
reconstruct_eds_stopped       EDS SIRT with a stopping rule            stopping
choose_ratios                 HEBT response ratios with a fallback     ratios
region_statistics             per-region wt % with standard errors     regions
region_composition            per-region wt % away from boundaries     region_margin
simulate_phantom              HAADF+EDS phantom family (6 layouts)     simulate.phantoms
generate_silica               amorphous SiO2 (BKS melt-and-quench)     simulate.silica_structure
simulate_haadf_series         HAADF tilt series with drift and noise   simulate.haadf
simulate_agau                 Ag–Au core–shell phantom (paper 002)     simulate.agau
trace_atoms                   peak tracing + element split             trace
trace_atoms_by_subtraction    heavy atoms, subtract, then light atoms  trace
structure_report              g(r), coordination, angles of atoms      trace
split_elements                split peaks into elements by intensity   trace
compare_atoms                 Hungarian matching, deviations, RMSD     compare
relabel_comparison            re-score a comparison after a re-split   compare
============================  =======================================  =========================

Each long-running algorithm also has a generator twin (``iter_sirt``, ``iter_hebt``,
``iter_est``, ``iter_fourier_gridding``) that yields progress and intermediate results.
"""

from __future__ import annotations

import importlib

#: Public name → submodule of :mod:`napari_atomtomo.core` that defines it.
ALGORITHMS: dict[str, str] = {
    "equally_sloped_angles": "geometry",
    "TiltGeometry": "geometry",
    "forward_project": "projectors",
    "back_project": "projectors",
    "ParallelBeamProjector": "projectors",
    "Atoms": "atoms",
    "SirtParams": "sirt",
    "iter_sirt": "sirt",
    "reconstruct_sirt": "sirt",
    "reconstruct_eds": "sirt",
    "HebtParams": "hebt",
    "iter_hebt": "hebt",
    "reconstruct_hebt": "hebt",
    "fit_response_ratios": "ratios",
    "quantify_maps": "quantify",
    "QuantifyParams": "quantify",
    "esf_threshold": "threshold",
    "element_factors": "elements",
    "ssim_structure": "metrics",
    "mse_scaled": "metrics",
    "mse": "metrics",
    "r_noise": "metrics",
    "frft": "est",
    "ppfft": "est",
    "ppfft_adjoint": "est",
    "ppfft_inverse": "est",
    "EstParams": "est",
    "iter_est": "est",
    "reconstruct_est": "est",
    "GriddingParams": "est",
    "iter_fourier_gridding": "est",
    "reconstruct_fourier_gridding": "est",
    "align_tilt_series": "align",
    "AlignParams": "align",
    "estimate_shifts": "align",
    "apply_shifts": "align",
    "PreprocessParams": "preprocess",
    "preprocess_series": "preprocess",
    "TiltAxisParams": "tiltaxis",
    "estimate_tilt_axis": "tiltaxis",
    "remove_tilt_axis": "tiltaxis",
    "RefineParams": "projmatch",
    "refine_shifts": "projmatch",
    "StopParams": "stopping",
    "reconstruct_eds_stopped": "stopping",
    "choose_ratios": "ratios",
    "region_statistics": "regions",
    "region_composition": "region_margin",
    "PhantomParams": "simulate.phantoms",
    "simulate_phantom": "simulate.phantoms",
    "generate_silica": "simulate.silica_structure",
    "HaadfParams": "simulate.haadf",
    "simulate_haadf_series": "simulate.haadf",
    "simulate_agau": "simulate.agau",
    "TraceParams": "trace",
    "trace_atoms": "trace",
    "split_elements": "trace",
    "compare_atoms": "compare",
    "relabel_comparison": "compare",
    "trace_atoms_by_subtraction": "trace",
    "structure_report": "trace",
}

__all__ = sorted(ALGORITHMS)


def __getattr__(name: str):
    module = ALGORITHMS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(ALGORITHMS))
