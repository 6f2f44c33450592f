"""End-to-end pipelines that chain the core algorithms and write files and reports.

* :func:`run_silica_pipeline`: paper 000 — simulate → align → EST → trace → compare.
* :func:`run_agau_pipeline`: paper 002 — Ag–Au phantom → EDS SIRT and HEBT → quantify.

Not part of :mod:`napari_atomtomo.core`: these write files and figures.
"""

from .silica import SilicaPipelineParams, SilicaPipelineResult, run_silica_pipeline

__all__ = ["SilicaPipelineParams", "SilicaPipelineResult", "run_silica_pipeline"]
