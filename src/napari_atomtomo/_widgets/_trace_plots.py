"""Inputs, plots and helpers of the "Trace atoms" widget (no layers are made here).

* :func:`trace_inputs`: the magicgui inputs with their tooltips;
* :class:`PeakIntensityPlot`: the sorted peak intensities of a tracing coloured by
  element (paper 000, Fig. 3) with a draggable horizontal threshold line;
* :class:`DeviationPlot`: the deviation of every traced atom from its true position
  (paper 000, Fig. 5);
* :func:`iter_trace_job`: the worker's generator (trace, then compare with the truth);
* :func:`trace_summary`, :func:`comparison_summary`: the one-line summaries.

The core's ``plot_peak_intensities`` / ``plot_deviations`` draw report figures on white;
these draw the same data on the dock's dark theme and update in place while the
threshold line is dragged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from magicgui.widgets import ComboBox, FloatSpinBox, LineEdit, SpinBox
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from napari.layers import Image, Points

from .._colors import element_color
from ..core.atoms import Atoms
from ..core.compare import ComparisonResult, compare_atoms
from ..core.trace import REFINE_METHODS, TraceResult, trace_atoms, trace_atoms_by_subtraction
from ..core.trace._structure import StructureReport, structure_report
from ..core.trace._trace import CLASSIFY_METHODS

#: Tracing methods offered by the widget (``atomtomo trace --method``).
TRACE_METHODS = ("direct", "subtraction")
from ._plot import FACE, FOREGROUND, PlotWidget

__all__ = [
    "auto_or_numbers",
    "trace_inputs",
    "TraceStep",
    "TraceOutcome",
    "iter_trace_job",
    "trace_summary",
    "comparison_summary",
    "PeakIntensityPlot",
    "DeviationPlot",
    "StructurePlot",
]


def auto_or_numbers(text: str, what: str):
    """``"auto"``, one float, or a tuple of floats from comma-separated text."""
    t = str(text).strip()
    if t.lower() == "auto":
        return "auto"
    try:
        vals = tuple(float(v) for v in t.split(",") if v.strip())
    except ValueError:
        vals = ()
    if not vals:
        raise ValueError(f"{what} must be 'auto' or a number, got {t!r}")
    return vals[0] if len(vals) == 1 else vals


def _layer_choices(viewer, kind):
    def choices(_widget):
        return [(lyr.name, lyr) for lyr in viewer.layers if isinstance(lyr, kind)]
    return choices


def trace_inputs(viewer) -> list:
    """The widget's magicgui inputs, in order: volume, elements, min distance (Å), noise
    floor, sub-voxel fit, peak neighbours, expected atoms, element threshold, true atoms,
    resolution (Å), method, atom / non-atom classification; with the tooltips a microscopist reads."""
    volume = ComboBox(label="volume", choices=_layer_choices(viewer, Image), nullable=True,
                      value=None, tooltip=(
        "reconstructed volume (z, y, x) to trace; brighter peaks are heavier atoms. "
        "Its voxel size in Å comes from the layer's scale."))
    elements = LineEdit(label="elements", value="Si,O", tooltip=(
        "element symbols separated by commas, heaviest (brightest) first: the "
        "brightest class of peaks gets the first symbol"))
    min_distance = LineEdit(label="min distance (Å)", value="auto", tooltip=(
        "two atoms are never closer than this: of two peaks closer than this only the "
        "brighter is kept. 'auto' is 0.7 × the shortest covalent bond of the elements "
        "(1.24 Å for Si,O; 1.55 Å for Si), at least 1.5 voxels; the value used is in the "
        "result layer's metadata"))
    noise_floor = LineEdit(label="noise floor", value="auto", tooltip=(
        "peaks at or below this intensity are not atoms. 'auto' is the median voxel "
        "plus 5 robust standard deviations of the noise (3 with an expected count); "
        "type a number in the volume's intensity units to set it yourself"))
    refine = ComboBox(label="sub-voxel fit", choices=REFINE_METHODS, value="gaussian", tooltip=(
        "model fitted to the 3×3×3 voxels around each peak to place the atom between "
        "voxels: gaussian (exact for Gaussian-shaped atoms) or quadratic (parabolas "
        "along each axis, no shape assumed)"))
    connectivity = ComboBox(label="peak neighbours", choices=(6, 26), value=6, tooltip=(
        "a peak voxel must be brighter than its 6 face neighbours (finds a light atom on "
        "the shoulder of a heavy one) or all 26 neighbours (stricter)"))
    n_expected = SpinBox(label="expected atoms", value=0, min=0, max=10_000_000, tooltip=(
        "if you know how many atoms there are, keep only that many brightest peaks "
        "(0 = unknown); the automatic noise floor then drops to 3 σ"))
    split = LineEdit(label="element threshold", value="auto", tooltip=(
        "peak intensity separating the elements (heavier above). 'auto' fits a Gaussian "
        "mixture; drag the dashed line in the plot below to re-split live"))
    truth = ComboBox(label="true atoms", choices=_layer_choices(viewer, Points), nullable=True,
                     value=None, tooltip=(
        "optional Points layer of the known atoms (e.g. atoms_true of a data set): the "
        "traced atoms are matched to it and their deviations plotted (Fig. 5)"))
    resolution = FloatSpinBox(label="resolution (Å)", value=1.0, min=0.01, max=10.0,
                              step=0.05, tooltip=(
        "a traced atom farther than this from its true position, or of the wrong "
        "element, counts as misplaced"))
    classify = ComboBox(label="atom / non-atom", choices=CLASSIFY_METHODS, value="auto", tooltip=(
        "auto: split the candidate peaks into atoms and non-atoms by height and integrated "
        "intensity (one element per pass, no expected count); the rejected candidates go "
        "to a hidden '… rejected' Points layer. none: the noise floor alone decides"))
    method = ComboBox(label="method", choices=TRACE_METHODS, value="subtraction", tooltip=(
        "direct: one pass over the volume (the paper's PEAKMAX use). subtraction: trace the "
        "brightest element, subtract its fitted Gaussians, then trace the lighter atoms in "
        "the residual after a light smoothing; finds O on the shoulders of Si (what "
        "atomtomo demo uses; see docs/tracing.md)"))
    return [volume, elements, min_distance, noise_floor, refine, connectivity, n_expected,
            split, truth, resolution, method, classify]


@dataclass(frozen=True)
class TraceStep:
    """Progress of a tracing job: step number and what is being done."""

    iteration: int
    message: str


@dataclass(frozen=True)
class TraceOutcome:
    """What a tracing job returns: the tracing, and the comparison when a truth was given."""

    trace: TraceResult
    comparison: ComparisonResult | None = None
    truth: Atoms | None = None
    structure: StructureReport | None = None


def iter_trace_job(volume, voxel_size, params, n_expected=None, truth=None, resolution_A=1.0,
                   method="direct"):
    """Trace ``volume`` (``trace_atoms``, or ``trace_atoms_by_subtraction`` with
    ``method="subtraction"``), then compare with ``truth`` if given.

    Yields :class:`TraceStep` between the stages (where Cancel takes effect) and returns
    a :class:`TraceOutcome`. Raises ``ValueError`` when no peak rises above the floor.
    """
    yield TraceStep(0, "finding and fitting peaks")
    trace = trace_atoms_by_subtraction if method == "subtraction" else trace_atoms
    result = trace(volume, voxel_size, params, n_expected=n_expected)
    if len(result.atoms) == 0:
        raise ValueError(f"no peak rises above the noise floor {result.noise_floor:.4g}; "
                         "lower the noise floor")
    try:  # the structure report of the traced atoms (judges a trace without a truth)
        structure = structure_report(result.atoms)
    except ValueError:  # fewer than 5 atoms, or a flat layer of them
        structure = None
    yield TraceStep(1, f"{len(result.atoms)} atoms traced")
    comparison = None
    if truth is not None:
        comparison = compare_atoms(result.atoms, truth, resolution_A=resolution_A)
        yield TraceStep(2, "compared with the truth")
    return TraceOutcome(result, comparison, truth, structure)


def trace_summary(elements, element_order, noise_floor: float, thresholds) -> str:
    """``"60 atoms: Si 20, O 40; noise floor 4.53; threshold 54.6"``."""
    els = np.asarray(elements, dtype=str)
    counts = ", ".join(f"{e} {int(np.sum(els == e))}" for e in element_order)
    thr = ", ".join(f"{t:.4g}" for t in thresholds if np.isfinite(t)) or "none"
    return f"{els.size} atoms: {counts}; noise floor {noise_floor:.4g}; threshold {thr}"


def comparison_summary(comparison: ComparisonResult) -> str:
    """``"traced/true Si 20/20, O 40/40; misplaced 0 (Si 0, O 0); missing 0, extra 0;
    RMSD 0.011 Å"``: missing = true atoms no traced atom matched, extra = traced atoms
    with no true match."""
    d = comparison.to_dict()
    names = list(dict.fromkeys([*d["counts_true"], *d["counts_traced"]]))
    counts = ", ".join(f"{e} {d['counts_traced'].get(e, 0)}/{d['counts_true'].get(e, 0)}"
                       for e in names)
    mis = ", ".join(f"{e} {d['misplaced_by_element'].get(e, 0)}" for e in names)
    rmsd = "n/a" if d["rmsd_A"] is None else f"{d['rmsd_A']:.3f} Å"
    matched = np.unique(comparison.truth_index[comparison.truth_index >= 0]).size
    missing, extra = comparison.n_true - matched, int(np.sum(comparison.truth_index < 0))
    return (f"traced/true {counts}; misplaced {d['n_misplaced']} ({mis}); "
            f"missing {missing}, extra {extra}; RMSD {rmsd}")


def _legend(ax, elements, element_order, extra=()) -> None:
    els = np.asarray(elements, dtype=str)
    handles = [Line2D([], [], ls="", marker="o", ms=5, mfc=element_color(e), mec="k", mew=0.3,
                      label=f"{e} ({int(np.sum(els == e))})") for e in element_order]
    ax.legend(handles=handles + list(extra), fontsize=7, loc="upper right",
              facecolor=FACE, edgecolor=FOREGROUND, labelcolor=FOREGROUND)


class PeakIntensityPlot(PlotWidget):
    """Sorted peak intensities coloured by element, with a draggable threshold (Fig. 3)."""

    def __init__(self, parent=None, *, height: float = 2.4):
        super().__init__(parent, height=height)
        self._scatter = None
        self._order: tuple[str, ...] = ()
        self._floor_handle = None
        self.intensities = np.zeros(0)

    def show_result(self, intensities, elements, element_order, noise_floor, thresholds) -> None:
        """Draw the curve; the line sits on the first (brightest-pair) threshold."""
        self.reset()
        ax = self.axes
        self.intensities = np.asarray(intensities, dtype=np.float64)
        self._order = tuple(element_order)
        rank = np.arange(1, self.intensities.size + 1)
        self._scatter = ax.scatter(rank, self.intensities, s=8, c=self._colors(elements),
                                   edgecolors="k", linewidths=0.2)
        ax.axhline(noise_floor, color="0.6", ls=":", lw=0.9)
        self._floor_handle = Line2D([], [], color="0.6", ls=":", label="noise floor")
        ax.set_xlabel("peak (atom) number, brightest first", fontsize=8)
        ax.set_ylabel("peak intensity", fontsize=8)
        ax.set_xlim(0, max(self.intensities.size, 1) + 1)
        lo = min(float(noise_floor), float(self.intensities.min(initial=noise_floor)))
        hi = float(self.intensities.max(initial=noise_floor))
        pad = 0.05 * (hi - lo) if hi > lo else 1.0
        ax.set_ylim(lo - pad, hi + pad)
        finite = [t for t in thresholds if np.isfinite(t)]
        if finite:
            self.set_threshold_line(finite[0], orientation="horizontal")
        self._relegend(elements)
        self.draw()

    def recolor(self, elements) -> None:
        """New element labels for the same peaks (after a re-split)."""
        if self._scatter is None:
            return
        self._scatter.set_facecolors(self._colors(elements))
        self._relegend(elements)
        self.draw()

    def _colors(self, elements) -> np.ndarray:
        els = np.asarray(elements, dtype=str)
        table = {e: to_rgba(element_color(e)) for e in np.unique(els)}
        return np.array([table[e] for e in els]).reshape(-1, 4)

    def _relegend(self, elements) -> None:
        extra = [self._floor_handle] if self._floor_handle is not None else []
        extra.append(Line2D([], [], color="#ff6040", ls="--", label="threshold (drag)"))
        _legend(self.axes, elements, self._order, extra)


class DeviationPlot(PlotWidget):
    """Deviation (Å) of every traced atom from its match, misplaced atoms ringed (Fig. 5)."""

    def show_comparison(self, comparison: ComparisonResult, element_order) -> None:
        self.reset()
        ax = self.axes
        dev = comparison.deviation_A
        idx = np.arange(dev.size)
        ok = comparison.matched
        colors = [element_color(e) for e in comparison.traced_elements[ok]]
        ax.scatter(idx[ok], dev[ok], s=8, c=colors, edgecolors="k", linewidths=0.2)
        mis = comparison.misplaced
        ax.scatter(idx[mis], dev[mis], s=40, facecolors="none", edgecolors=FOREGROUND,
                   linewidths=0.8)
        ax.axhline(comparison.resolution_A, color="0.6", ls="--", lw=0.8)
        ax.set_xlabel("traced atom (index, brightest first)", fontsize=8)
        ax.set_ylabel("deviation (Å)", fontsize=8)
        ax.set_xlim(-1, max(dev.size, 1))
        top = np.nanmax(dev, initial=0.0)
        ax.set_ylim(0, max(top, comparison.resolution_A) * 1.1)
        extra = [
            Line2D([], [], ls="", marker="o", ms=7, mfc="none", mec=FOREGROUND,
                   label=f"misplaced ({int(mis.sum())})"),
            Line2D([], [], color="0.6", ls="--",
                   label=f"resolution {comparison.resolution_A:g} Å"),
        ]
        _legend(ax, comparison.traced_elements, element_order, extra)
        self.draw()


class StructurePlot(PlotWidget):
    """Partial g(r) and nearest-neighbour distances of the traced atoms
    (``atomtomo structure``): peaks at the bond lengths, no atom closer than physics allows."""

    def __init__(self, parent=None):
        super().__init__(parent, height=2.4, n_axes=2)

    def show_report(self, report: StructureReport) -> None:
        self.reset(2)
        ax_g, ax_nn = self.axes
        for key, g in report.partial_g.items():
            a, b = key.split("-")
            color = element_color(a) if a == b else None
            ax_g.plot(report.r, g, lw=0.9, color=color, label=key)
        ax_g.set_xlabel("r (Å)", fontsize=8)
        ax_g.set_ylabel("partial g(r)", fontsize=8)
        ax_g.legend(fontsize=7, facecolor=FACE, labelcolor=FOREGROUND, frameon=False)
        ax_nn.stairs(report.nn_hist, report.nn_edges_A, fill=True, color="0.7")
        ax_nn.set_xlabel("nearest neighbour (Å)", fontsize=8)
        ax_nn.set_ylabel("atoms", fontsize=8)
        ax_nn.set_title(f"{report.n_atoms_too_close} atoms too close", fontsize=8,
                        color=FOREGROUND)
        self.draw()
