"""The "EST reconstruction" dock widget: equally sloped tomography, or Fourier gridding.

Pick a tilt-series layer (angles from its metadata, else a ``.tlt`` file); the widget
shows which pseudopolar line each projection fills, or why the angles are not an
equally sloped set (it then selects Fourier gridding, and Run stays disabled for EST
with the reason). The result layer ``est`` is made on the click (or the previous one is
reused) and shows the current volume while the job runs; the dock shows a thumbnail of
the central xy | xz | yz slices and the error-vs-iteration curves of both rounds, whose
axes are drawn before the job so that the GUI thread only blits them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from magicgui.widgets import ComboBox, FileEdit
from qtpy.QtWidgets import QLabel, QPlainTextEdit

from .. import io
from .._layers import image_layer_data, layer_angles_deg, layer_voxel_size, series_array
from ..core.est import (
    EstParams,
    EstSetupStep,
    GriddingParams,
    iter_est,
    iter_fourier_gridding,
    match_equally_sloped,
)
from ..core.params import command_options
from ..jobs.est import EstProgress, with_error_history
from ._base import JobDockWidget, format_command, is_empty_path, layer_file_hint
from ._defaults import has_angles, is_plain, was_aligned
from ._est_live import SliceThumbnail, curve_layout, error_curves
from ._params import param_widget, params_from_widgets
from ._plot import PlotWidget
from ._results import KeepResultButton

__all__ = ["EstWidget", "SETUP_CANCEL_NOTE", "SETUP_STAGE_NOTE"]

#: Fourier gridding's set-up yields after each chunk of slices it grids: Cancel stops it
#: at the end of the current chunk.
SETUP_CANCEL_NOTE = ("Fourier gridding's set-up stops at the end of the chunk of slices it "
                     "is gridding")
#: EST's set-up yields between its stages (measured lines, each chunk of the back
#: projection, the operator): Cancel stops it at the end of the current stage.
SETUP_STAGE_NOTE = ("EST's set-up stops at the end of its current stage (measured lines, "
                    "a chunk of the back projection, or the operator)")

EST, GRIDDING = "est", "gridding"
RESULT = "est"
#: The parameter fields the widget offers (each with its spec: CLI flag, label, range).
PARAM_FIELDS = ("n_iter", "n_iter_tight", "oversampling", "loose_support_margin",
                "tight_support_threshold")


@lru_cache(maxsize=32)
def _match(angles: tuple, n_pixels: int):
    """The line assignment, or the reason (str) the angles are not equally sloped."""
    try:
        return match_equally_sloped(np.array(angles), n_pixels, EstParams.angle_tolerance_deg)
    except ValueError as exc:
        return str(exc).split(";")[0]


class EstWidget(JobDockWidget):
    """Reconstruct a tilt-series layer by EST (or Fourier gridding for any angles)."""

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        self.series = ComboBox(label="tilt series", choices=self._series_choices)
        self.series.tooltip = "tilt-series image layer (angle, y, x); the tilt axis is y"
        self.angles_file = FileEdit(label="angles (.tlt)", mode="r", filter="*.tlt *.rawtlt")
        self.angles_file.tooltip = "tilt angles in degrees, one per image (the layer has none)"
        self.method = ComboBox(label="method", value=EST, choices=[
            ("EST (equally sloped angles)", EST), ("Fourier gridding (any angles)", GRIDDING)])
        self.method.tooltip = (
            "EST puts each projection on its own line of a pseudopolar Fourier grid (exact, "
            "needs equally sloped angles); Fourier gridding puts the Fourier samples on the "
            "nearest points of a square grid (any angles, a little less exact)")
        # the parameter inputs, generated from EstParams' specs (core/est/_common.py)
        self.param_inputs = {name: param_widget(EstParams, name) for name in PARAM_FIELDS}
        (self.n_iter, self.n_iter_tight, self.oversampling, self.margin,
         self.threshold) = self.param_inputs.values()
        self.inputs.extend([self.series, self.angles_file, self.method, self.n_iter,
                            self.n_iter_tight, self.oversampling, self.margin, self.threshold])
        self.lines_view = QPlainTextEdit()
        self.lines_view.setReadOnly(True)
        self.lines_view.setMaximumHeight(96)
        self.lines_view.setToolTip("which pseudopolar Fourier line each projection fills")
        self.thumbnail = SliceThumbnail()
        self.plot = PlotWidget(self, height=2.2)
        # A fixed height: labels above that change height (status, reason) then only move
        # the canvas instead of resizing it, which would force a full redraw.
        self.plot.setFixedHeight(170)
        self.layout().insertWidget(1, self.lines_view)
        self.layout().insertWidget(self.layout().count() - 1, self.thumbnail)
        self.layout().insertWidget(self.layout().count() - 1, self.plot)
        self.keep_button = KeepResultButton(self, lambda: [RESULT])
        self.button_row.addWidget(self.keep_button)
        # Both set-ups yield between their stages (EST: lines, chunks of the back
        # projection, operator; gridding: chunks of slices), so Cancel stops them at the
        # end of the current one; the dock says so instead of looking stuck meanwhile.
        self.setup_note = QLabel("")
        self.setup_note.setWordWrap(True)
        self.setup_note.setVisible(False)
        self.layout().insertWidget(self.layout().indexOf(self.runner) + 1, self.setup_note)
        self._in_setup = False
        self.runner.started.connect(lambda *_: setattr(self, "_in_setup", True))
        self.runner.yielded.connect(
            lambda state: setattr(self, "_in_setup", isinstance(state, EstSetupStep)))
        self.runner.cancel_button.clicked.connect(self._on_cancel_clicked)
        self._auto_gridding = False
        self.runner.started.connect(self._show_result_layer)
        for signal in (self.runner.finished, self.runner.cancelled, self.runner.errored):
            signal.connect(self._on_job_end)
        self.series.changed.connect(self._on_angles_changed)
        self.angles_file.changed.connect(self._on_angles_changed)
        self.method.changed.connect(self._on_angles_changed)
        self.n_iter.changed.connect(self._prepare_plot)
        self.n_iter_tight.changed.connect(self._prepare_plot)
        # The newest aligned HAADF series with its angles (haadf_aligned over haadf).
        self.follow_newest(self.series, is_plain, was_aligned(napari_viewer), has_angles)
        self._on_angles_changed()
        self._prepare_plot()

    # ------------------------------------------------------------------ inputs
    def _angles(self):
        """``(angles, from_file)`` of the chosen layer; raises a ValueError with the reason."""
        layer = self.series.value
        angles = layer_angles_deg(layer)
        if angles is not None:
            return angles, False
        path = self.angles_file.value
        if is_empty_path(path):
            raise ValueError(f"layer '{layer.name}' has no tilt angles; choose its .tlt file")
        return io.read_tlt(path, n_images=series_array(layer).shape[0]), True

    def _params(self):
        cls = EstParams if self.method.value == EST else GriddingParams
        return params_from_widgets(cls, self.param_inputs)

    def _assignment(self):
        angles, _ = self._angles()
        return _match(tuple(float(a) for a in angles), int(series_array(self.series.value).shape[2]))

    def _on_angles_changed(self, *_):
        layer = self.series.value
        self.angles_file.visible = layer is not None and layer_angles_deg(layer) is None
        if layer is None:
            self.lines_view.setPlainText("no tilt series chosen")
        try:
            match = self._assignment() if layer is not None else None
        except ValueError as exc:
            match = None
            self.lines_view.setPlainText(str(exc))
        if isinstance(match, str):  # not equally sloped: suggest gridding
            if self.method.value == EST and not self._auto_gridding:
                self._auto_gridding = True
                self.method.value = GRIDDING  # re-enters this slot
                return
            self.lines_view.setPlainText(
                f"The angles are not an equally sloped set ({match}). EST needs each "
                "projection on its own line of a pseudopolar grid; Fourier gridding works "
                "with any angles (SIRT too).")
        elif match is not None:
            if self._auto_gridding:  # equally sloped again: back to EST if we left it
                self._auto_gridding = False
                if self.method.value == GRIDDING:
                    self.method.value = EST
                    return
            worst = max(abs(e) for e in match.angle_error_deg)
            self.lines_view.setPlainText("\n".join(
                [f"{len(match.line)} projections fill lines of the equally sloped set "
                 f"N_s={match.n_slopes} on the N={match.n_grid} pseudopolar grid (largest "
                 f"angle offset {worst:.3f}°):"] + match.describe()))
        self.revalidate()

    def validate(self) -> str | None:
        layer = self.series.value
        if layer is None:
            return "add or open a tilt-series image layer (angle, y, x)"
        self._angles()
        params = self._params()
        n = series_array(layer).shape[2]
        if 2 * params.loose_support_margin >= n:
            return (f"support margin {params.loose_support_margin} px leaves no support "
                    f"inside the {n}-px wide images")
        match = self._assignment()
        if self.method.value == EST and isinstance(match, str):
            return f"EST needs equally sloped angles: {match}; choose Fourier gridding"
        return None

    def command_line(self) -> str:
        layer = self.series.value
        _, from_file = self._angles()
        params = self._params()
        extra = {"--angles": str(self.angles_file.value) if from_file else None,
                 "--method": GRIDDING if self.method.value == GRIDDING else None,
                 **command_options(params), "--out": f"{RESULT}.mrc"}
        return format_command("est", [layer_file_hint(layer)], extra=extra)

    # ------------------------------------------------------------------ job
    def _prepare_plot(self, *_) -> None:
        """Draw the error plot's axes for the planned run now, not on the click."""
        if not self.runner.busy:
            labels, layout = curve_layout(self.n_iter.value, self.n_iter_tight.value)
            self.plot.prepare_curves(labels, **layout)

    def start_job(self) -> None:
        layer = self.series.value
        angles, _ = self._angles()
        params = self._params()
        vs = layer_voxel_size(layer)
        stack = np.asarray(series_array(layer))
        gridding = self.method.value == GRIDDING
        algorithm = GRIDDING if gridding else EST  # as `atomtomo est --method` names them
        command, source = self.command_line(), layer.name
        n = stack.shape[2]
        n_iter = params.n_iter

        def volume_layer(volume, **metadata):
            return image_layer_data(volume, vs, RESULT, algorithm, params, [source],
                                    colormap="gray", metadata=metadata or None)

        def on_yield(state: EstProgress | EstSetupStep):
            if isinstance(state, EstSetupStep):
                return None
            self.plot.update_curves(error_curves(state.errors, n_iter))
            if state.preview is None:
                return None
            self.thumbnail.show_volume(state.preview)
            return volume_layer(state.preview)  # the runner skips a volume already shown

        def describe(s) -> str:
            if isinstance(s, EstSetupStep):
                return f"set-up: {s.stage} ({s.step}/{s.n_steps})"
            return f"round {s.round}, error {s.error:.4g}"

        def on_result(result):
            self.plot.update_curves(error_curves(result.errors, n_iter))
            self.thumbnail.show_volume(result.volume)
            extra = {"final_error": float(result.errors[-1]), "command": command,
                     "errors": result.errors.astype(float)}
            if gridding:
                extra["fourier_coverage"] = result.coverage
            else:
                extra["n_slopes"] = result.line_assignment.n_slopes
                extra["n_grid"] = result.line_assignment.n_grid
            return volume_layer(result.volume, **extra)

        labels, layout = curve_layout(n_iter, params.n_iter_tight)
        self.plot.start_curves(labels, **layout)  # a blit when _prepare_plot drew the axes
        self.thumbnail.clear_picture()
        self.runner.run(
            with_error_history, iter_fourier_gridding if gridding else iter_est, stack, angles,
            params, voxel_size=vs, label="Fourier gridding" if gridding else "EST",
            total=params.n_iter + params.n_iter_tight, on_yield=on_yield, on_result=on_result,
            describe=describe, setup_steps=True,
            live_layers=volume_layer(np.zeros((n, stack.shape[1], n), np.float32)))

    def _on_cancel_clicked(self) -> None:
        if self._in_setup:
            self.setup_note.setText(SETUP_CANCEL_NOTE if self.method.value == GRIDDING
                                    else SETUP_STAGE_NOTE)
            self.setup_note.setVisible(True)

    def _on_job_end(self, *_) -> None:
        self._in_setup = False
        self.setup_note.setVisible(False)
        self.plot.finish_curves()

    def _show_result_layer(self, *_) -> None:
        """Move the z slider into the result layer when it points outside (z is the
        third axis from the end: a tilt series' angle axis comes before it)."""
        if RESULT not in self.viewer.layers:
            return
        lo, hi = self.viewer.layers[RESULT].extent.world[:, 0]
        z_axis = self.viewer.dims.ndim - 3
        if z_axis >= 0 and not lo <= self.viewer.dims.point[z_axis] <= hi:
            self.viewer.dims.set_point(z_axis, (lo + hi) / 2)
