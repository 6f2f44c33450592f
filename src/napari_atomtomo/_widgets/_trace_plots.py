"""Inputs, plots and helpers of the "Trace atoms" widget (no layers are made here).

* :func:`trace_inputs`: the magicgui inputs with their tooltips;
* :class:`PeakIntensityPlot`: the sorted peak intensities of a tracing coloured by
  element (paper 000, Fig. 3) with a draggable horizontal threshold line;
* :class:`DeviationPlot`: the deviation of every traced atom from its true position
  (paper 000, Fig. 5);

The job itself (trace, compare, summaries) is :mod:`napari_atomtomo.jobs.trace`.

The figures themselves are :mod:`napari_atomtomo.plots` in its dock theme; the peak
intensities plot adds a threshold line that updates in place while it is dragged.
"""

from __future__ import annotations

import numpy as np
from magicgui.widgets import ComboBox, FloatSpinBox, SpinBox
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from napari.layers import Image, Points

from .._colors import element_color
from ..core.compare import ComparisonResult
from ..core.trace import TraceParams
from ..core.trace._structure import StructureReport
from ..jobs.trace import TRACE_METHODS
from ..plots import DOCK, element_legend, plot_deviations
from ._params import param_widget
from ._plot import FACE, FOREGROUND, PlotWidget, legend_above

__all__ = [
    "trace_inputs",
    "PeakIntensityPlot",
    "DeviationPlot",
    "StructurePlot",
]


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
    elements = param_widget(TraceParams, "elements", tooltip=(
        "element symbols separated by commas, heaviest (brightest) first: the "
        "brightest class of peaks gets the first symbol"))
    min_distance = param_widget(TraceParams, "min_distance_A", tooltip=(
        "two atoms are never closer than this: of two peaks closer than this only the "
        "brighter is kept. 'auto' is 0.7 × the shortest covalent bond of the elements "
        "(1.24 Å for Si,O; 1.55 Å for Si), at least 1.5 voxels; the value used is in the "
        "result layer's metadata"))
    noise_floor = param_widget(TraceParams, "noise_floor", tooltip=(
        "peaks at or below this intensity are not atoms. 'auto' is the median voxel "
        "plus 5 robust standard deviations of the noise (3 with an expected count); "
        "type a number in the volume's intensity units to set it yourself"))
    refine = param_widget(TraceParams, "refine", tooltip=(
        "model fitted to the 3×3×3 voxels around each peak to place the atom between "
        "voxels: gaussian (exact for Gaussian-shaped atoms) or quadratic (parabolas "
        "along each axis, no shape assumed)"))
    connectivity = param_widget(TraceParams, "connectivity", tooltip=(
        "a peak voxel must be brighter than its 6 face neighbours (finds a light atom on "
        "the shoulder of a heavy one) or all 26 neighbours (stricter)"))
    n_expected = SpinBox(label="expected atoms", value=0, min=0, max=10_000_000, tooltip=(
        "if you know how many atoms there are, keep only that many brightest peaks "
        "(0 = unknown); the automatic noise floor then drops to 3 σ"))
    split = param_widget(TraceParams, "split", tooltip=(
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
    classify = param_widget(TraceParams, "classify", tooltip=(
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
        element_legend(self.axes, elements, self._order, extra)
        legend_above(self.axes, 3)


class DeviationPlot(PlotWidget):
    """Deviation (Å) of every traced atom from its match, misplaced atoms ringed (Fig. 5)."""

    def show_comparison(self, comparison: ComparisonResult, element_order) -> None:
        self.reset()
        plot_deviations(comparison, ax=self.axes, theme=DOCK, element_order=element_order)
        legend_above(self.axes, 3)
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
