"""The "Trace atoms" dock widget: a volume -> a Points layer of atoms coloured by element.

Run traces the chosen volume in a worker (``core.trace.trace_atoms``, and
``core.compare.compare_atoms`` when a layer of true atoms is chosen) and adds one Points
layer ``"<volume> atoms"`` in world ``(z, y, x)`` Å over the volume, with ``features``
(``element``, ``intensity``, ``fit_height``, ...). The dock then shows the sorted peak
intensities (paper 000, Fig. 3): dragging its dashed threshold line (or typing a value
in "element threshold") re-splits the elements live, debounced, by relabelling and
recolouring the same Points layer (``split_elements(..., thresholds=[t])``, no
re-trace). With true atoms it also shows the deviation plot (Fig. 5) and a summary.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QLabel
from superqt.utils import qdebounced

from .._atoms_layers import atoms_from_points_layer, atoms_layer_data
from .._layers import layer_info, layer_voxel_size
from ..core.compare import relabel_comparison
from ..core.params import command_options
from ..core.trace import TraceParams, split_elements
from ..jobs.trace import auto_or_numbers, comparison_summary, iter_trace_job, trace_summary
from ._atoms_view import (
    AtomsLegend,
    ElementToggles,
    PlotLinks,
    comparison_marker_layers,
    element_sizes,
)
from ._base import JobDockWidget, add_or_replace_layers, format_command, layer_file_hint
from ._defaults import is_volume, newest
from ._runner import QUICK_JOB_ACTIVITY_AFTER_S
from ._trace_plots import DeviationPlot, PeakIntensityPlot, StructurePlot, trace_inputs

__all__ = ["TraceWidget"]

#: Milliseconds a dragged threshold must rest before the Points layer is relabelled.
RESPLIT_DEBOUNCE_MS = 40
#: ... and before the deviation plot (a full matplotlib redraw) follows; at once on release.
DEVIATION_DEBOUNCE_MS = 300


class TraceWidget(JobDockWidget):
    """Trace atoms in a volume layer; re-split elements live; compare with true atoms."""

    run_text = "Trace"

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        inputs = trace_inputs(napari_viewer)
        (self.volume, self.elements, self.min_distance, self.noise_floor, self.refine,
         self.connectivity, self.n_expected, self.split, self.truth, self.resolution,
         self.method, self.classify) = inputs
        self.inputs.extend(inputs)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.peaks_plot = PeakIntensityPlot(self)
        self.deviation_plot = DeviationPlot(self)
        self.deviation_plot.setVisible(False)
        self.structure_plot = StructurePlot(self)
        self.structure_plot.setVisible(False)
        self.legend = AtomsLegend(napari_viewer, parent=self)
        self.toggles = ElementToggles(on_change=self.legend.update)
        self.links = PlotLinks(napari_viewer, self._result_layer,
                               [self.peaks_plot, self.deviation_plot])
        napari_viewer.layers.events.inserted.connect(self._update_legend)
        napari_viewer.layers.events.removed.connect(self._update_legend)
        layout = self.layout()
        for w, stretch in ((self.summary, 0), (self.toggles, 0), (self.peaks_plot, 2),
                           (self.deviation_plot, 2), (self.structure_plot, 2)):
            layout.insertWidget(layout.count() - 1, w, stretch)
        self._result_name: str | None = None  # the Points layer of the last tracing
        self._outcome = None  # its TraceOutcome (comparison relabelled by re-splits)
        self._thresholds: tuple[float, ...] = ()
        self._syncing = False
        self._job_source: tuple | None = None
        self._shown_comparison = None
        self._resplit_later = qdebounced(self._apply_split, timeout=RESPLIT_DEBOUNCE_MS,
                                         parent=self)
        self._redraw_deviation_later = qdebounced(self._redraw_deviation, parent=self,
                                                  timeout=DEVIATION_DEBOUNCE_MS)
        self.peaks_plot.threshold_changed.connect(self._on_threshold_dragged)
        self.peaks_plot.threshold_released.connect(self._on_threshold_released)
        self.split.changed.connect(self._on_split_typed)
        self.truth.changed.connect(self._on_truth_changed)
        self.resolution.changed.connect(self._on_truth_changed)
        self.runner.finished.connect(self._on_finished)
        self.runner.cancelled.connect(self._update_legend)  # layers may have changed
        self.runner.errored.connect(self._update_legend)
        # The newest reconstruction, never a tilt series (Run would refuse it) nor the
        # weight fractions Quantify made.
        self.follow_newest(self.volume, pick=lambda: newest(
            [lyr for lyr in self.volume.choices if is_volume(lyr)],
            lambda lyr: layer_info(lyr).get("kind") == "volume",
            lambda lyr: layer_info(lyr).get("algorithm") != "quantify"))
        self.reset_choices()

    # ------------------------------------------------------------------ inputs
    def params(self) -> TraceParams:
        """The :class:`TraceParams` of the current inputs (``ValueError`` if invalid)."""
        return TraceParams(
            min_distance_A=auto_or_numbers(self.min_distance.value, "min distance"),
            classify=self.classify.value, elements=self.elements.value,
            noise_floor=auto_or_numbers(self.noise_floor.value, "noise floor"),
            split=auto_or_numbers(self.split.value, "element threshold"),
            refine=self.refine.value, connectivity=int(self.connectivity.value))

    def validate(self) -> str | None:
        layer = self.volume.value
        if layer is None:
            return "open a reconstructed 3D volume (z, y, x) to trace"
        name = layer.name
        if layer.ndim != 3 or layer.multiscale or layer.rgb:
            return f"{name} is not a 3D volume (z, y, x); choose a reconstruction"
        if layer_info(layer).get("kind") == "tilt_series":
            return f"{name} is a tilt series; reconstruct it first, then trace the volume"
        if min(layer.data.shape) < 3:
            return f"{name} has shape {tuple(layer.data.shape)}; tracing needs ≥ 3 voxels an axis"
        scale = np.asarray(layer.scale, dtype=float)
        if not np.allclose(scale, scale[0], rtol=1e-3):
            return f"{name} has non-cubic voxels {tuple(scale)} Å; tracing needs cubic voxels"
        self.params()
        truth = self.truth.value
        if truth is not None:
            if truth.name == self._result_name:
                return f"{truth.name} is this widget's own result; choose the true atoms"
            if len(atoms_from_points_layer(truth)) == 0:
                return f"{truth.name} has no atoms to compare with"
        return None

    def command_line(self) -> str:
        layer, truth = self.volume.value, self.truth.value
        out = f"{layer.name} atoms.xyz"
        cmd = format_command("trace", [layer_file_hint(layer)],
                             extra={**command_options(self.params()), "--out": out,
                                    "--n-expected": self.n_expected.value or None,
                                    "--method": None if self.method.value == "subtraction"
                                    else self.method.value})
        if truth is not None:
            cmd += " && " + format_command("compare", [out, layer_file_hint(truth, ".xyz")],
                                           {"resolution_A": self.resolution.value})
        return cmd

    # ------------------------------------------------------------------ job
    def start_job(self) -> None:
        layer, truth = self.volume.value, self.truth.value
        params, n_expected = self.params(), self.n_expected.value or None
        method = self.method.value
        self._job_source = (layer.name, tuple(layer.translate), params, n_expected,
                            None if truth is None else truth.name, method)
        self.runner.run(
            iter_trace_job, np.asarray(layer.data), layer_voxel_size(layer), params, n_expected,
            None if truth is None else atoms_from_points_layer(truth),
            float(self.resolution.value), method,
            label=f"trace {layer.name}", total=2 if truth is None else 3,
            describe=lambda step: step.message, on_result=self._result_layer_data,
            activity_after_s=QUICK_JOB_ACTIVITY_AFTER_S)

    def _result_layer_data(self, outcome):
        name, translate, params, n_expected, truth_name, method = self._job_source
        res = outcome.trace
        self._outcome, self._result_name = outcome, f"{name} atoms"
        self._thresholds = res.split_thresholds
        extra = {"noise_floor": res.noise_floor, "voxel_size": res.voxel_size,
                 "split_thresholds": list(res.split_thresholds),
                 "n_local_maxima": res.n_local_maxima, "truth_layer": truth_name,
                 "automatic": dict(res.auto), "gates": dict(res.counts),
                 "warnings": list(res.warnings)}
        algorithm = "trace_atoms_by_subtraction" if method == "subtraction" else "trace_atoms"
        parameters = params.to_dict() | {"n_expected": n_expected, "method": method}
        layers = [atoms_layer_data(res.atoms, self._result_name, algorithm, parameters, [name],
                                   translate=translate, metadata=extra)]
        if len(res.rejected):  # non-atoms, hidden by default: a separate class to inspect
            data, kwargs, kind = atoms_layer_data(
                res.rejected, f"{name} rejected", algorithm, parameters, [name],
                translate=translate, metadata=extra | {"class": "rejected candidates"})
            layers.append((data, kwargs | {"visible": False}, kind))
        # The missing/misplaced/extra markers are result layers too, so the runner adds
        # them one per event-loop turn (each new Points layer costs napari 0.1-0.2 s; made
        # in _on_finished, the three stalled the job end 0.4-0.5 s in one turn). The plots
        # and the summary follow, each a callable the runner runs in a turn of its own:
        # made together in _on_finished they held the GUI thread 0.1-0.2 s in one turn.
        return layers + self._comparison_layers(outcome.comparison, outcome.truth,
                                                res.atoms, translate) + [
            lambda: self._show_peaks(outcome),
            lambda: self._show_structure(outcome),
            lambda: self._show_summary(res.atoms.elements, outcome.comparison)]

    def _show_peaks(self, outcome) -> None:
        res = outcome.trace
        self.peaks_plot.show_result(res.sorted_intensities, res.atoms.elements,
                                    res.params.elements, res.noise_floor, res.split_thresholds)

    def _show_structure(self, outcome) -> None:
        self.structure_plot.setVisible(outcome.structure is not None)
        if outcome.structure is not None:
            self.structure_plot.show_report(outcome.structure)

    def _on_finished(self, _outcome) -> None:
        """The result's plots are drawn (see _result_layer_data): link them to its layer."""
        layer = self._result_layer()  # its comparison markers came with the result
        self.toggles.attach(layer)
        self.links.connect()
        self.legend.update()

    def _update_legend(self, *_) -> None:
        # Not while a job shows its result (its layers, one a turn): _on_finished does,
        # after them; refreshed from the traced layer's insertion, the legend's first
        # text overlay fell into that layer's first paint whenever add_layer outlasted
        # a turn. While the job computes, layers the user adds or removes still count.
        if not self.runner.showing_result:
            self.legend.update()

    def _mark_comparison(self, comparison, truth, traced, translate) -> None:
        """Missing, misplaced and extra atoms as marker layers; stale ones removed."""
        add_or_replace_layers(self.viewer, self._comparison_layers(comparison, truth, traced,
                                                                   translate))

    def _comparison_layers(self, comparison, truth, traced, translate) -> list:
        """The marker layer data of a comparison; stale marker layers removed now."""
        base = self._result_name
        layers = [] if comparison is None or truth is None else comparison_marker_layers(
            comparison, truth, traced, base, translate)
        names = {kw["name"] for _, kw, _ in layers}
        for label in ("missing", "misplaced", "extra"):
            stale = f"{base} {label}"
            if stale in self.viewer.layers and stale not in names:
                self.viewer.layers.remove(stale)
        return layers

    def _result_layer(self):
        name = self._result_name
        return self.viewer.layers[name] if name is not None and name in self.viewer.layers else None

    # ------------------------------------------------------------------ live re-split
    def _on_threshold_dragged(self, value: float) -> None:
        self._thresholds = (float(value), *self._thresholds[1:])
        self._syncing = True  # the text follows the line without re-placing it
        try:
            self.split.value = ",".join(f"{t:.6g}" for t in self._thresholds)
        finally:
            self._syncing = False
        self._resplit_later()

    def _on_threshold_released(self, value: float) -> None:
        self._on_threshold_dragged(value)
        self._resplit_later.flush()
        self._redraw_deviation_later.flush()

    def _on_split_typed(self, text: str) -> None:
        if self._syncing or self._outcome is None:
            return
        res = self._outcome.trace
        try:
            split = auto_or_numbers(text, "element threshold")
            thr = split_elements(res.sorted_intensities, len(res.params.elements),
                                 thresholds=None if split == "auto" else split).thresholds
        except ValueError:
            return  # the reason line already says what is wrong
        self._thresholds = thr
        if thr and np.isfinite(thr[0]):
            self.peaks_plot.set_threshold_line(thr[0], orientation="horizontal")
        self._resplit_later()

    def _apply_split(self) -> None:
        """Relabel and recolour the traced Points layer, the plots and the summary."""
        if self._outcome is None or not self._thresholds:
            return
        order = np.asarray(self._outcome.trace.params.elements)
        thr = list(self._thresholds)
        layer = self._result_layer()
        if layer is not None and len(layer.data):
            features = layer.features.copy()
            split = split_elements(features["intensity"].to_numpy(float), order.size,
                                   thresholds=thr)
            features["element"] = order[split.labels]
            layer.features = features
            layer.size = element_sizes(features["element"])
            layer.refresh_colors(update_color_mapping=False)
            self.toggles.apply()
            record = layer.metadata.setdefault("atomtomo", {})
            record.setdefault("parameters", {})["split"] = thr
            record["split_thresholds"] = thr
        labels = order[split_elements(self.peaks_plot.intensities, order.size,
                                      thresholds=thr).labels]
        self.peaks_plot.recolor(labels)
        comparison = self._outcome.comparison
        if comparison is not None and comparison.traced_elements.size == labels.size:
            comparison = relabel_comparison(comparison, labels, self._outcome.truth)
        else:
            comparison = None
        self._show_summary(labels, comparison, later=True)

    # ------------------------------------------------------------------ comparison
    def _on_truth_changed(self, *_) -> None:
        """Compare the last tracing with the newly chosen truth (or resolution)."""
        if self._outcome is None or self.runner.busy or self.reason_text() is not None:
            return
        from ..core.compare import compare_atoms  # noqa: PLC0415

        truth, layer = self.truth.value, self._result_layer()
        trace = self._outcome.trace
        if truth is None or layer is None:
            self._outcome = type(self._outcome)(trace)
            self._show_summary(self._plot_labels(), None)
            return
        traced, atoms = atoms_from_points_layer(layer), atoms_from_points_layer(truth)
        comparison = compare_atoms(traced, atoms, resolution_A=float(self.resolution.value))
        self._outcome = type(self._outcome)(trace, comparison, atoms)
        self._show_summary(traced.elements, comparison)
        self._mark_comparison(comparison, atoms, traced, (0.0, 0.0, 0.0))

    def _plot_labels(self) -> np.ndarray:
        """Element labels of the plotted peaks at the current thresholds."""
        res = self._outcome.trace
        if not self._thresholds:
            return res.atoms.elements
        split = split_elements(self.peaks_plot.intensities, len(res.params.elements),
                               thresholds=list(self._thresholds))
        return np.asarray(res.params.elements)[split.labels]

    def _show_summary(self, elements, comparison, *, later: bool = False) -> None:
        """The summary now; the deviation plot now or (during a drag) debounced."""
        res = self._outcome.trace
        text = trace_summary(elements, res.params.elements, res.noise_floor, self._thresholds)
        if comparison is not None:
            text += "\n" + comparison_summary(comparison)
        self.summary.setText(text)
        self._shown_comparison = comparison
        if later:
            self._redraw_deviation_later()
        else:
            self._redraw_deviation()

    def _redraw_deviation(self) -> None:
        comparison = self._shown_comparison
        if comparison is not None:
            self.deviation_plot.show_comparison(comparison, self._outcome.trace.params.elements)
        self.deviation_plot.setVisible(comparison is not None)
