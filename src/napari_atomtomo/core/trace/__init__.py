"""Atom tracing: peaks of a reconstruction -> a list of atoms with elements.

The three constraints of the PEAKMAX tracing in paper 000: (i) atoms are brighter than
the space between them (26-neighbour local maxima above a noise floor), (ii) heavier
atoms are brighter (the element split by peak intensity), and (iii) atoms have a finite
size (greedy non-maximum suppression with a minimum separation in Å). Each peak gets a
sub-voxel position and a peak intensity from a least-squares fit on its 3×3×3
neighbourhood. ``trace_atoms_by_subtraction`` traces the heaviest element first,
subtracts it and finds the lighter atoms in the residual (light atoms on heavy shoulders).
The method and its equations are in ``docs/tracing.md``.

Defaults come from physics and the data (``_physics``: minimum distance from covalent
bonds, atom width measured on isolated peaks); candidates are classified into atoms and
non-atoms (``_classify``); ``_structure`` reports g(r), coordination and bond angles.

Modules: ``_trace`` (parameters, the pipeline, noise floor, suppression), ``_refine``
(sub-voxel fits), ``_subtract`` (tracing by subtraction), ``_split`` (element classes),
``_kernels`` (numba). The Fig. 3-style figure is
:func:`napari_atomtomo.plots.plot_peak_intensities`.
"""

from ._classify import classify_candidates
from ._physics import measure_atom_width, physical_min_distance_A
from ._refine import REFINE_METHODS, refine_peaks
from ._split import ElementSplit, split_elements
from ._structure import StructureReport, structure_report
from ._subtract import auto_prefilter_sigma, estimate_atom_width, trace_atoms_by_subtraction
from ._trace import (
    NOISE_FLOOR_SIGMAS,
    NOISE_FLOOR_SIGMAS_WITH_COUNT,
    TraceParams,
    TraceResult,
    estimate_noise_floor,
    find_local_maxima,
    suppress_close_peaks,
    trace_atoms,
    validate_volume,
)

__all__ = [
    "NOISE_FLOOR_SIGMAS",
    "NOISE_FLOOR_SIGMAS_WITH_COUNT",
    "REFINE_METHODS",
    "ElementSplit",
    "StructureReport",
    "TraceParams",
    "TraceResult",
    "auto_prefilter_sigma",
    "classify_candidates",
    "estimate_atom_width",
    "estimate_noise_floor",
    "find_local_maxima",
    "measure_atom_width",
    "physical_min_distance_A",
    "refine_peaks",
    "split_elements",
    "structure_report",
    "suppress_close_peaks",
    "trace_atoms",
    "trace_atoms_by_subtraction",
    "validate_volume",
]
