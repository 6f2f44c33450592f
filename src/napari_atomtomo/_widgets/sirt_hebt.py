"""The "SIRT / HEBT" dock widget: SIRT, EDS-STEM tomography and HEBT (paper 002).

Modes: SIRT of one tilt series (result ``sirt``); EDS-STEM, a SIRT per element map
(``map_<El>``, Eq. 11); HEBT, the joint HAADF + EDS reconstruction (``map_<El>`` in
HAADF units, Eq. 17) with response ratios fitted by NNLS (Eq. 15, shown with R²) or
typed. EDS-STEM and HEBT stop by the rule of ``atomtomo eds`` / ``atomtomo hebt`` without
``--iterations`` by default ("stop: by rule", at most its limit; core/stopping.py), or run
a fixed n; how each run stopped goes to the status line and ``layer.metadata``. The
result layers are made on the click (or the previous ones reused) and show
the current maps while the job runs; the residual curves, whose axes are drawn before the
job, are blitted. The sweep mode runs HEBT over an α × n grid and shows SSIM/MSE against
reference maps with the quantification error (wt %), or the data residuals, as heat
maps; the same sweep runs from the command line (``atomtomo hebt --sweep``).
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, LineEdit, Select, SpinBox
from napari.layers import Image
from qtpy.QtWidgets import QHBoxLayout, QLabel, QPushButton

from .._layers import (
    element_colormap,
    element_of,
    image_layer_data,
    is_series_data,
    layer_info,
)
from ..core.hebt import HebtParams
from ..core.params import command_options
from ..core.ratios import choose_ratios
from ..core.sirt import SirtParams
from ..io._names import ELEMENT_NAME
from ..jobs.chunked import ChunkedState, iter_reconstruction_chunked, n_slabs
from ..jobs.reconstruction import iter_reconstruction, parse_ratios
from ..jobs.sweep import SweepResult, SweepState, iter_hebt_sweep
from ._base import JobDockWidget, format_command, layer_file_hint
from ._defaults import has_angles, is_plain, newest, was_aligned
from ._job_plots import RESIDUAL_LABEL, draw_residuals
from ._params import param_widget
from ._plot import PlotWidget
from ._results import KeepResultButton
from ._sirt_hebt_inputs import (
    DEFAULT_ITERATIONS,
    EDS,
    FIXED,
    HEBT,
    KIND,
    MODES,
    RULE,
    SIRT,
    STOP_RULE,
    GatherInputsMixin,
    _data_dir,
    stop_choices,
    stop_note,
)
from ._sweep_view import SweepClicks, draw_sweep_cells
from ._tilt_readout import show_2d_planes

__all__ = ["SirtHebtWidget", "MODES", "SIRT", "EDS", "HEBT", "RULE", "FIXED", "element_of",
           "parse_ratios", "stop_note"]

TIPS = {
    "mode": "SIRT: one tilt series. EDS-STEM: one SIRT per EDS element map. HEBT: EDS maps "
            "and the HAADF series together, for cleaner element maps (paper 002).",
    "haadf": "the HAADF (or any) tilt series, with its tilt angles (loaded with its .tlt)",
    "eds": "the EDS tilt series, one per element (ctrl-click to pick several)",
    "elements": "element of each EDS layer, in order (from the layer or its eds_<El> name)",
    "ratios": "HAADF signal per EDS count of each element, e.g. 'Ag=805, Au=987'; leave "
              "empty to fit them to the data (NNLS over all pixels, R² shown)",
    "stop": "by rule (default, as the command line without --iterations): stop when the "
            "maps change less than the tolerance per iteration, at most the limit (EDS 1e-4, "
            "≤ 300; HEBT 3e-5, ≤ 1500: needed for compositions, docs/quantification.md); "
            "fixed n: run exactly n iterations (--iterations N)",
    "sweep": "run HEBT for every α and iteration count below and score each result",
    "alphas": "α values: start:stop:step (0:1:0.1) or a list (0, 0.5, 0.8)",
    "n_values": "iteration counts to score, e.g. 50, 100, 200 (one run per α to the largest)",
    "references": "true maps (phantom_<El>) to score SSIM and MSE against; without them "
                  "the heat maps show how well each result explains the data",
    "chunks": "0: in memory, with live maps. N: reconstruct in y-slabs of N rows (dask; "
              "for series larger than memory), the maps shown at the end; as --chunks N",
    "scheduler": "with chunks: a dask.distributed scheduler address (tcp://host:8786) to "
                 "run the slabs on; empty: threads of this machine; as --scheduler",
}


class SirtHebtWidget(GatherInputsMixin, JobDockWidget):
    """SIRT, EDS-STEM or HEBT reconstruction with live preview, ratios and an α × n sweep."""

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        w = {
            "mode": ComboBox(label="mode", choices=MODES, value=HEBT),
            "haadf": ComboBox(label="HAADF series", choices=self._series_choices),
            "eds": Select(label="EDS layers", choices=self._series_choices),
            "elements": LineEdit(label="elements"),
            # parameter inputs from the specs of HebtParams / SirtParams (core/)
            "alpha": param_widget(HebtParams, "alpha"),
            # n before stop: a restored session sets n (a fixed count), then its stop choice
            "n_iter": param_widget(HebtParams, "n_iter"),
            "stop": ComboBox(label="stop", choices=stop_choices(HEBT), value=RULE),
            "relaxation": param_widget(HebtParams, "relaxation"),
            "nonnegative": param_widget(SirtParams, "nonnegative"),
            "ratios": LineEdit(label="response ratios"),
            "sweep": CheckBox(text="sweep α × n (heat maps)", value=False),
            "alphas": LineEdit(label="α values", value="0:1:0.1"),
            "n_values": LineEdit(label="iterations n", value="50, 100, 200"),
            "references": Select(label="references", choices=self._volume_choices),
            # atomtomo sirt|eds|hebt --chunks N --scheduler ADDRESS
            "chunks": SpinBox(label="chunks (rows)", value=0, min=0, max=1_000_000),
            "scheduler": LineEdit(label="scheduler"),
        }
        for name, widget in w.items():
            widget.tooltip = TIPS.get(name, widget.tooltip)
            setattr(self, name, widget)
        self.inputs.extend(list(w.values()))
        self.fit_label = QLabel("ratios: fitted when HEBT starts")
        self.fit_label.setWordWrap(True)
        self.fit_button = QPushButton("Fit ratios")
        self.fit_button.setToolTip("fit the response ratios now (Eq. 15) and show them with R²")
        row = QHBoxLayout()
        row.addWidget(self.fit_label, 1)
        row.addWidget(self.fit_button)
        self.plot = PlotWidget(self, height=2.2)
        # A fixed height: a dock area that changes (another widget's labels) then never
        # resizes the canvas, which would force a full redraw while a job runs.
        self.plot.setFixedHeight(180)
        layout = self.layout()
        layout.insertLayout(1, row)
        layout.insertWidget(layout.count() - 1, self.plot)
        self.sweep_view = SweepClicks(self)
        self.keep_button = KeepResultButton(self, self._result_names)
        self.button_row.addWidget(self.keep_button)
        self.last_sweep: SweepResult | None = None
        self.mode.changed.connect(self._on_mode_changed)
        self.sweep.changed.connect(self._on_mode_changed)
        self.stop.changed.connect(self._show_stop)
        self.n_iter.changed.connect(self._on_n_iter_set)
        self._setting_n = False
        self._stop_note = ""
        self.runner.finished.connect(self._show_stop_note)
        self.eds.changed.connect(self._on_eds_changed)
        self.fit_button.clicked.connect(self._on_fit)
        self.runner.yielded.connect(self._on_progress)
        for signal in (self.runner.finished, self.runner.errored, self.runner.cancelled):
            signal.connect(self._on_job_end)
        # Picked for the user until they choose themselves: the newest (aligned) HAADF
        # series, and the newest (aligned) EDS series of each element.
        aligned = was_aligned(napari_viewer)
        self.follow_newest(self.haadf, pick=lambda: newest(
            [lyr for lyr in self.haadf.choices if is_plain(lyr)], aligned, has_angles))
        self.follow_newest(self.eds, pick=self._pick_eds)
        self.reset_choices()
        self._on_mode_changed()

    # ------------------------------------------------------------------ inputs
    def _series_choices(self, _widget=None):
        return [(lyr.name, lyr) for lyr in self.viewer.layers if isinstance(lyr, Image)
                and (is_series_data(lyr) or lyr.ndim == 3
                     and layer_info(lyr).get("kind", "tilt_series") == "tilt_series")]

    def _volume_choices(self, _widget=None):
        return [(lyr.name, lyr) for lyr in self.viewer.layers if isinstance(lyr, Image)
                and lyr.ndim == 3 and layer_info(lyr).get("kind") == "volume"]

    def _pick_eds(self) -> list:
        """The newest EDS series of each element, aligned ones first."""
        aligned = was_aligned(self.viewer)
        signals = [lyr for lyr in self.eds.choices
                   if layer_info(lyr).get("element") or ELEMENT_NAME.match(lyr.name)]
        by_element: dict[str, list] = {}
        for layer in signals:
            by_element.setdefault(element_of(layer), []).append(layer)
        return [newest(group, aligned) for group in by_element.values()]

    def _on_mode_changed(self, *_) -> None:
        mode = self.mode.value
        sweep = self._sweeping()
        self.haadf.visible = mode != EDS
        self.haadf.label = "tilt series" if mode == SIRT else "HAADF series"
        for name in ("eds", "elements"):
            getattr(self, name).visible = mode != SIRT
        for name in ("ratios", "sweep"):
            getattr(self, name).visible = mode == HEBT
        for name in ("alphas", "n_values", "references"):
            getattr(self, name).visible = sweep
        self.alpha.visible = mode == HEBT and not sweep
        self.nonnegative.visible = mode == SIRT
        self.fit_label.setVisible(mode == HEBT)
        self.fit_button.setVisible(mode == HEBT)
        value, self._setting_n = self.stop.value, True
        try:  # the mode's defaults: not a choice of n by the user
            with self.stop.changed.blocked():
                self.stop.choices = stop_choices(mode)  # the rule's tolerance and limit shown
                self.stop.value = value
            self.n_iter.value = DEFAULT_ITERATIONS[mode]
        finally:
            self._setting_n = False
        self._show_stop()
        if not sweep:
            self.plot.setFixedHeight(180)
            self.sweep_view.hide()
        self.revalidate()

    def _show_stop(self, *_) -> None:
        """The stop choice in EDS and HEBT; n only for a fixed count."""
        sweep = self._sweeping()
        self.stop.visible = self.mode.value in STOP_RULE and not sweep
        self.n_iter.visible = not sweep and not self._ruled()

    def _on_n_iter_set(self, *_) -> None:
        """n set (a script, a restored session, a test): that is a fixed count."""
        if not self._setting_n and self.stop.value == RULE:
            self.stop.value = FIXED

    def _show_stop_note(self, *_) -> None:
        """Append "stopped by rule at k" to the runner's "done in t s" (as eds.json says)."""
        if self._stop_note:
            self.runner.status.setText(f"{self.runner.status.text()}; {self._stop_note}")
            self._stop_note = ""

    def _result_names(self) -> list[str]:
        """The live result layers of this dock (``sirt``, ``map_<El>``), not kept copies."""
        return [lyr.name for lyr in self.viewer.layers
                if layer_info(lyr).get("algorithm") in KIND.values()
                and "kept_from" not in layer_info(lyr)]

    def _on_eds_changed(self, *_) -> None:
        self.elements.value = ", ".join(element_of(lyr) for lyr in self.eds.value)

    def revalidate(self, *_) -> None:
        super().revalidate()
        if hasattr(self, "fit_button"):
            self.fit_button.setEnabled(self.run_button.isEnabled() and self.mode.value == HEBT)
            self._prepare_plot()

    def _curve_labels(self) -> list[str]:
        """One residual curve per run: ``sirt``, ``HEBT``, or each EDS element."""
        mode = self.mode.value
        if mode == SIRT:
            return ["sirt"]
        if mode == HEBT:
            return ["HEBT"]
        return [e for e in re.split(r"[,;\s]+", self.elements.value) if e]

    def _prepare_plot(self) -> None:
        """Draw the residual plot's axes for the planned run now, not on the click."""
        if (not hasattr(self, "plot") or self.runner.busy
                or self._sweeping()):
            return
        n = (STOP_RULE[self.mode.value].max_iterations if self._ruled()
             else int(self.n_iter.value))  # by rule: the limit
        self.plot.prepare_curves(self._curve_labels(), x_max=n, ylabel=RESIDUAL_LABEL)

    def validate(self) -> str | None:
        self.gather(arrays=False)
        return None

    def command_line(self) -> str:
        g = self.gather(arrays=False)
        p, mode = g["params"], g["mode"]
        if "alphas" in g:  # the same sweep from the command line (atomtomo hebt --sweep)
            grid = (",".join(f"{a:g}" for a in g["alphas"]) + ":"
                    + ",".join(str(int(n)) for n in g["n_values"]))
            return format_command("hebt", [_data_dir(g["ref_layer"])], extra={
                "--sweep": grid, "--relaxation": p.relaxation,
                "--ratios": g.get("ratios") and "ratios.json", "--out": "sweep"})
        scale = {"--chunks": g["chunks"] or None, "--scheduler": g["scheduler"]}
        if mode == SIRT:
            info = layer_info(g["ref_layer"])
            return format_command("sirt", [layer_file_hint(g["ref_layer"])], extra={
                "--angles": info.get("angles_source"), **command_options(p), **scale,
                "--out": "sirt.mrc"})
        extra = command_options(p)  # EDS is non-negative: no --allow-negative
        if g["stop"] is not None:  # by rule: the command line's default, no --iterations
            del extra["--iterations"]
        extra.update({"--ratios": g.get("ratios") and "ratios.json", **scale, "--out": "maps"})
        return format_command(KIND[mode], [_data_dir(g["ref_layer"])], extra=extra)

    # ------------------------------------------------------------------ jobs
    def _map_layer(self, name, data, g, algorithm):
        el = None if name == "sirt" else name[4:]
        colour = "gray" if el is None else element_colormap(el, "map")  # by element
        meta = ({"ratios": g.get("ratios_used"), "r2": g.get("r2"),
                 "eds_misfit_per_count": g.get("eds_misfit_per_count")}
                if g["mode"] == HEBT else {})
        params, stops = g["params"], g.get("stops")
        if stops:  # how the rule stopped this map's run, n the iterations it used
            info = stops["HEBT" if g["mode"] == HEBT else el]
            meta["stop"] = info
            params = replace(params, n_iter=info["iterations"])
        return image_layer_data(
            data, g["voxel_size"], name, algorithm,
            params, g["sources"], kind="volume", element=el, colormap=colour,
            blending="translucent" if el is None else "additive", metadata=meta)

    def start_job(self) -> None:
        g = self.gather()
        if next(iter(g["stacks"].values())).shape[1] == 1:
            show_2d_planes(self.viewer, force=True)  # z-x planes of the (z, 1, x) maps
        self.plot.hold_size(True)  # status lines that wrap move the plot, not resize it
        if "alphas" in g:
            n_max = int(g["n_values"].max())
            self.runner.run(
                iter_hebt_sweep, g["haadf"], g["stacks"], g["angles"], g["alphas"],
                g["n_values"], relaxation=g["params"].relaxation, ratios=g["ratios"],
                references=g["references"], label="HEBT sweep", total=g["alphas"].size * n_max,
                on_result=self._on_sweep_result, describe=lambda s: f"α = {s.alpha:g}")
            return
        kind, p, self._stop_note = KIND[g["mode"]], g["params"], ""
        names = ["sirt"] if kind == "sirt" else [f"map_{el}" for el in g["stacks"]]
        _, ny, nx = next(iter(g["stacks"].values())).shape
        live = [self._map_layer(n, np.zeros((nx, ny, nx), np.float32), g, kind) for n in names]
        if g["chunks"]:  # in y-slabs: the maps arrive at the end, progress per slab
            self.runner.run(
                iter_reconstruction_chunked, kind, g["stacks"], g["angles"], p,
                haadf=g.get("haadf"), ratios=g.get("ratios"), chunks=g["chunks"],
                scheduler=g["scheduler"], label=f"{kind.upper()} in slabs",
                total=n_slabs(ny, g["chunks"]), live_layers=live,
                on_result=lambda r: self._result_layers(r, g, kind),
                describe=lambda s: f"slab {s.iteration} of {s.n_slabs}")
            return
        # a blit when _prepare_plot drew these axes before the click
        self.plot.start_curves(self._curve_labels(), x_max=p.n_iter, ylabel=RESIDUAL_LABEL)
        self.runner.run(
            iter_reconstruction, kind, g["stacks"], g["angles"], p, haadf=g.get("haadf"),
            ratios=g.get("ratios"), stop=g["stop"], label=kind.upper(), total=p.n_iter * (
                len(g["stacks"]) if kind == "eds" else 1),  # by rule: the limit
            on_yield=lambda s: self._preview_layers(s, g, kind),
            on_result=lambda r: self._result_layers(r, g, kind), live_layers=live,
            describe=lambda s: f"residual {list(s.residuals.values())[-1][-1]:.4g}")

    def _preview_layers(self, state, g, kind):
        # the newest maps so far; the runner skips the ones their layers already show
        return [self._map_layer(n, v, g, kind) for n, v in state.maps.items()]

    def _on_job_end(self, *_) -> None:
        self.plot.finish_curves()
        self.plot.hold_size(False)

    def _result_layers(self, result, g, kind):
        draw_residuals(self.plot, result.residuals)
        g.update(ratios_used=result.ratios, r2=result.r2,
                 eds_misfit_per_count=getattr(result, "eds_misfit_per_count", None),
                 stops=getattr(result, "stops", None))
        self._stop_note = stop_note(g["stops"])
        self._show_ratios(result.ratios, result.r2, getattr(result, "ratio_warning", None))
        return [self._map_layer(n, v, g, kind) for n, v in result.maps.items()]

    def _on_sweep_result(self, result: SweepResult):
        self.last_sweep = result
        self.sweep_view.draw(result)
        self._show_ratios(result.ratios, result.r2, getattr(result, "ratio_warning", None))

    def _on_progress(self, state) -> None:
        """A GUI update of the running job (the runner sends at most a few per second)."""
        if isinstance(state, SweepState):  # redraw the heat maps once per finished α
            scores = state.scores
            if scores is not None and state.iteration % int(scores.n_values.max()) == 0:
                draw_sweep_cells(self.plot, scores)
            return
        if isinstance(state, ChunkedState):  # slabs: the residuals come with the result
            return
        self.plot.update_curves(state.residuals)  # blitted: no full figure draw
        if state.ratios is not None:
            self._show_ratios(state.ratios, state.r2, getattr(state, "ratio_warning", None))

    def _show_ratios(self, ratios, r2, warning=None) -> None:
        if not ratios:
            return
        text = ", ".join(f"r_{el} = {r:.4g}" for el, r in ratios.items())
        self.fit_label.setText((f"fitted: {text}, R² = {r2:.4f}" if r2 is not None
                                else f"typed: {text}") + (f"\n⚠ {warning}" if warning else ""))

    def _on_fit(self) -> None:
        g = self.gather()
        self.runner.run(choose_ratios, g["haadf"], g["stacks"], label="fit ratios",
                        exclusive=False,
                        on_result=lambda f: self._show_ratios(f.ratios, f.r2, f.warning))
