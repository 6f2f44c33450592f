"""Quantify (ESF threshold): element maps -> weight-fraction layers ``wt_<El>`` (paper 002).

Quantify divides each selected element map by its factor (``f_A`` for EDS, ``z_A`` for
HEBT), fits the ESF to the particle volume V(t) of the summed map in a worker, and
plots V(t) with its fit and the automatic threshold. Clicking or dragging the dashed
line (or typing a value) re-thresholds: the ``wt_<El>`` layers follow live, debounced
by 150 ms. Re-thresholding uses the cached fractions
(:mod:`napari_atomtomo.jobs.quantify`, a few ms for 100³) and runs in the GUI thread;
only the layer update costs more. The threshold
is clamped to ≥ 0 (the V(t) axis starts a little below 0).

The read-out gives the composition of the particle, or of each region of a napari Labels
layer chosen under "regions" (painted by the user; it follows the painting), each averaged
away from its boundaries by "region margin (voxels)" (``--region-margin``: auto = 2 σ of
the measured blur, a number, 0 = off; the margin used, in voxels and Å, and its source
are shown), and says
how the automatic threshold was chosen: the ESF fit's quality, or a warning when the fit
was poor and Otsu's threshold was used instead (also shown as a notification and stored
in the ``wt_`` layers' metadata).

As ``atomtomo quantify``: "smoothing σ" is ``--smooth``; a HAADF tilt series chosen under
"HAADF series" (``--haadf``) gives the particle (its SIRT reconstruction's ESF threshold)
and the support instead of the threshold on the maps; and when the maps were read from a
folder with ``resamples/<i>/map_<El>.mrc`` (``atomtomo eds|hebt --resamples K``), the
read-out and metadata give each region's standard errors from those replicas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from magicgui.widgets import ComboBox, FileEdit, LineEdit, Select
from napari.layers import Image, Labels
from napari.utils.notifications import show_warning
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton

from .._layers import (
    layer_angles_deg,
    layer_info,
    layer_voxel_size,
    series_array,
)
from ..core.elements import element_factors, load_factor_file, validate_element
from ..core.params import command_options, param_specs
from ..core.quantify import (
    QuantifyParams,
    default_support,
    factor_kind,
)
from ..jobs.quantify import (
    N_STAGES,
    ThresholdPicker,
    common_folder,
    element_of_layer,
    map_problem,
    parse_elements,
    quantify_job,
)
from ..plots import DOCK, plot_esf
from ._base import JobDockWidget, format_command, is_empty_path
from ._defaults import newest_per_element
from ._params import param_widget
from ._plot import PlotWidget, legend_above
from ._quantify_display import set_fraction_bars
from ._quantify_threshold import ThresholdPickerMixin

__all__ = ["QuantifyWidget"]

KINDS = ("eds", "hebt")
DEBOUNCE_MS = 150


class QuantifyWidget(ThresholdPickerMixin, JobDockWidget):
    """Element maps -> weight fractions, with the ESF threshold picker of paper 002."""

    run_text = "Quantify"
    exclusive = False  # numpy/scipy only: allowed while a reconstruction runs

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        self.maps = Select(label="element maps", choices=self._map_choices, tooltip=(
            "the reconstructed element maps (EDS or HEBT) of one particle, one layer per "
            "element; ctrl-click to select several"))
        self.elements = LineEdit(label="elements", tooltip=(
            "element symbol of each selected map, in the same order (e.g. 'Ag, Au'); filled "
            "in from the layers, edit it if a layer name does not say the element"))
        self.kind = param_widget(QuantifyParams, "kind", default="eds", tooltip=(
            "eds: maps from EDS-STEM SIRT, divided by the X-ray factor f_A (Eq. 12); "
            "hebt: maps from HAADF-EDS bimodal tomography, divided by z_A (Eq. 18)"))
        self.factors = FileEdit(label="factors (JSON)", mode="r", filter="*.json", tooltip=(
            'optional element factors in b·mol/g, e.g. {"Pt": {"z": 1.0e5, "f": 1.1}}; '
            "built in: Ag, Au, Co, Zn (paper 002, Table 2)"))
        self.regions = ComboBox(label="regions", choices=self._label_choices, nullable=True,
                                value=None, tooltip=(
            "optional Labels layer (paint it in napari): the read-out and the wt_ layers' "
            "metadata give the composition of every labelled region"))
        self.smooth = param_widget(QuantifyParams, "smooth_voxels", tooltip=(
            "Gaussian σ in voxels of the summed map before thresholding (auto: 1 for eds, 0 "
            "for hebt); the fractions themselves are never smoothed"))
        self.margin = param_widget(QuantifyParams, "region_margin", tooltip=(
            "with regions: voxels each region's mean keeps away from the other regions, the "
            "unpainted voxels and the particle's outside, where the reconstruction's blur "
            "mixes compositions; auto: 2 σ of the blur measured at the particle surface; "
            "0: every painted voxel (as --region-margin)"))
        self.haadf = ComboBox(label="HAADF series", choices=self._haadf_choices, nullable=True,
                              value=None, tooltip=(
            "optional HAADF tilt series (with its angles): the particle is its SIRT "
            "reconstruction's ESF threshold instead of a threshold on the maps"))
        self.maps.native.setMaximumHeight(110)
        self.inputs.extend([self.maps, self.elements, self.kind, self.factors, self.smooth,
                            self.haadf])
        for slot in (self.revalidate, self._on_regions_painted):  # re-averaged, not re-run
            self.margin.changed.connect(slot)
        self._particle = None
        self._replicas: list = []
        self.regions.changed.connect(self._on_regions_changed)
        self._regions_watched = None
        self._watched = []
        self.maps.changed.connect(self._on_maps_changed)

        self.picker: ThresholdPicker | None = None
        self._source = {}  # names, voxel size, factors path of the last run
        self._threshold: float | None = None
        self._support = None
        self.plot = PlotWidget(self, height=2.6)
        self.plot.setToolTip("particle volume V(t) of the summed map; click or drag the "
                             "dashed line to choose another threshold")
        self.threshold_edit = QLineEdit()
        self.threshold_edit.setToolTip(
            "threshold on the summed map Σ X_A / factor_A: voxels below it count as "
            "background (weight fractions 0); type a value and press Enter")
        self.auto_button = QPushButton("ESF")
        self.auto_button.setToolTip("go back to the automatic (ESF) threshold")
        self.readout = QLabel("press Quantify to fit the ESF threshold")
        self.readout.setWordWrap(True)
        # On by default (issue 14 asks for a weight-fraction scale on the canvas); unticked,
        # a run skips napari's bar visual and its full redraw, 0.1-0.3 s of the GUI thread
        # per wt_ layer, for a scale the contrast limits fix at 0-1 anyway.
        self.colour_bars = QCheckBox("colour bars (weight fraction 0-1) on the canvas")
        self.colour_bars.setChecked(True)
        self.colour_bars.setToolTip("show the wt_ layers' colour bars in the lower right "
                                    "corner of the canvas (untick for quicker re-runs: "
                                    "napari redraws the canvas for each bar)")
        self._fraction_names: list[str] = []
        self.colour_bars.toggled.connect(
            lambda on: set_fraction_bars(self.viewer, self._fraction_names, on))
        self.regions.native.setToolTip(self.regions.tooltip)
        row = QHBoxLayout()
        row.addWidget(QLabel("threshold"))
        row.addWidget(self.threshold_edit, 1)
        row.addWidget(self.auto_button)
        layout = self.layout()
        at = layout.indexOf(self.runner) + 1
        layout.insertWidget(at, self.plot, 1)
        layout.insertLayout(at + 1, row)
        layout.insertWidget(at + 2, self.regions.native)
        layout.insertWidget(at + 3, self.margin.native)
        layout.insertWidget(at + 4, self.readout)
        layout.insertWidget(at + 5, self.colour_bars)
        self.threshold_edit.setEnabled(False)
        self.auto_button.setEnabled(False)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_threshold)
        self.plot.threshold_changed.connect(self.set_threshold)
        self.plot.threshold_released.connect(lambda t: self.set_threshold(t, immediate=True))
        self.threshold_edit.editingFinished.connect(self._on_threshold_typed)
        self.auto_button.clicked.connect(self._on_auto)
        # The newest element map of each element, until the user selects maps themselves.
        self.follow_newest(self.maps, pick=lambda: newest_per_element(
            [lyr for lyr in self.maps.choices if lyr.name.startswith("map_")],
            lambda lyr: element_of_layer(lyr.name, lyr.metadata)))
        self.reset_choices()

    # ------------------------------------------------------------------ inputs
    def _map_choices(self, *_):
        """Image volumes and 2D maps, not tilt series nor weight fractions made here."""
        return [
            (layer.name, layer) for layer in self.viewer.layers
            if isinstance(layer, Image) and layer.ndim in (2, 3)
            and layer_info(layer).get("kind") != "tilt_series"
            and layer_info(layer).get("algorithm") != "quantify"
        ]

    def _haadf_choices(self, *_):
        return [(layer.name, layer) for layer in self.viewer.layers
                if isinstance(layer, Image) and layer_info(layer).get("kind") == "tilt_series"
                and not layer_info(layer).get("element") and layer_angles_deg(layer) is not None]

    def _label_choices(self, *_):
        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Labels)]

    def _on_regions_changed(self, layer) -> None:
        old = self._regions_watched
        if old is not None:
            for name in ("data", "paint", "labels_update"):
                if hasattr(old.events, name):
                    getattr(old.events, name).disconnect(self._on_regions_painted)
        self._regions_watched = layer
        if layer is not None:
            for name in ("data", "paint", "labels_update"):
                if hasattr(layer.events, name):
                    getattr(layer.events, name).connect(self._on_regions_painted)
        self._on_regions_painted()

    def _on_regions_painted(self, *_) -> None:
        if self.picker is not None and self._threshold is not None:
            self._debounce.start()

    def reset_choices(self, *_) -> None:
        self.regions.reset_choices()
        if hasattr(self, "haadf"):
            self.haadf.reset_choices()
        super().reset_choices()

    def _on_maps_changed(self, layers) -> None:
        for layer in self._watched:  # re-validate when a selected map's data changes
            layer.events.data.disconnect(self.revalidate)
        self._watched = list(layers)
        for layer in self._watched:
            layer.events.data.connect(self.revalidate)
        if not layers:
            return
        self.elements.value = ", ".join(
            element_of_layer(lyr.name, lyr.metadata) or "?" for lyr in layers
        )
        algorithms = {str(layer_info(lyr).get("algorithm", "")) for lyr in layers}
        self.kind.value = "hebt" if any("hebt" in a for a in algorithms) else "eds"

    def _factors_path(self) -> str | None:
        path = self.factors.value
        return None if is_empty_path(path) else str(path)

    def validate(self) -> str | None:
        layers = list(self.maps.value)
        if not layers:
            return "select the element-map layers to quantify (e.g. map_Ag and map_Au)"
        elements = parse_elements(self.elements.value)
        if len(elements) != len(layers):
            return (f"give one element per selected map: {len(layers)} maps but "
                    f"{len(elements)} element(s) in 'elements'")
        for layer, el in zip(layers, elements):
            if el == "?":
                return f"could not tell the element of {layer.name!r}; type it in 'elements'"
            validate_element(el)
        if len(set(elements)) < len(elements):
            return f"each element may appear once in 'elements', got {', '.join(elements)}"
        problem = map_problem([lyr.name for lyr in layers], [lyr.data for lyr in layers],
                              [layer_voxel_size(lyr) for lyr in layers], values=False)
        if problem:
            return problem
        path = self._factors_path()
        if path is not None and Path(path).is_dir():
            return f"{path} is a folder; choose a JSON factor file or clear the field"
        try:
            factors = None if path is None else load_factor_file(path)
        except FileNotFoundError as exc:
            return str(exc)
        element_factors(elements, factors, require=factor_kind(self.kind.value))
        self._smooth_value()  # raises with the reason
        self._margin_value()
        series = self.haadf.value
        if series is not None:
            shape = np.shape(layers[0].data)
            n_a, n_y, n_x = series_array(series).shape  # a view: no copy, no scan
            want = (n_x, n_y, n_x)
            if len(shape) != 3 or tuple(shape) != want:
                return (f"the HAADF series {series.name!r} reconstructs a volume of shape {want} "
                        f"but the maps have shape {tuple(shape)}")
        return None

    def _smooth_value(self):
        text = str(self.smooth.value).strip()
        if text in ("", "auto"):
            return "auto"
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"smoothing σ must be 'auto' or a number of voxels >= 0, got {text!r}")
        return value

    def _margin_value(self):
        """The region margin typed: ``"auto"`` or voxels ≥ 0 (``ValueError`` says why not)."""
        text = str(self.margin.value).strip() or "auto"
        return QuantifyParams("eds", region_margin=param_specs(QuantifyParams)[
            "region_margin"][0].parse(text)).region_margin

    def command_line(self) -> str:
        layers = list(self.maps.value)
        maps_dir = common_folder([layer_info(lyr).get("source_path") for lyr in layers])
        threshold = "auto"
        if self.picker is not None and self._threshold not in (None, self.picker.auto_threshold):
            threshold = self._threshold
        params = command_options(QuantifyParams(self.kind.value, threshold,
                                                smooth_voxels=self._smooth_value(),
                                                region_margin=self._margin_value()))
        margin, regions = params.pop("--region-margin"), self.regions.value
        if regions is not None:  # the margin is for --regions only (the Labels layer saved)
            params.update({"--regions": f"{regions.name}.mrc", "--region-margin": margin})
        params["--factors"] = self._factors_path()
        extra = {"--out": "quantified"}
        if self.haadf.value is not None:
            extra = {"--haadf": layer_info(self.haadf.value).get("source_path")
                     or f"{self.haadf.value.name}.mrc", **extra}
        return format_command("quantify", [maps_dir], extra={**params, **extra})

    # ------------------------------------------------------------------ job
    def start_job(self) -> None:
        layers = list(self.maps.value)
        elements = parse_elements(self.elements.value)
        maps = {el: np.asarray(lyr.data, dtype=np.float32) for el, lyr in zip(elements, layers)}
        problem = map_problem([lyr.name for lyr in layers], list(maps.values()),
                              [layer_voxel_size(lyr) for lyr in layers])
        if problem:  # the values, checked now rather than on every input change
            raise ValueError(problem)
        path = self._factors_path()
        source = {"names": [lyr.name for lyr in layers], "factors": path,
                  "voxel_size": layer_voxel_size(layers[0])}
        factors = None if path is None else load_factor_file(path)
        params = QuantifyParams(self.kind.value, smooth_voxels=self._smooth_value())
        series = self.haadf.value
        haadf = None if series is None else (np.asarray(series_array(series), np.float32),
                                             layer_angles_deg(series), series.name)
        maps_dir = common_folder([layer_info(lyr).get("source_path") for lyr in layers])
        self._hide_maps, self._hidden_maps = True, []
        self.runner.run(
            quantify_job, maps, params, factors, haadf, maps_dir,
            label="quantify", total=N_STAGES + 2, describe=lambda s: s.text,
            on_result=lambda res: self._on_result(res, source), exclusive=self.exclusive,
        )

    def _on_result(self, result, source: dict) -> None:
        picker, extra = result
        self.picker, self._source = picker, source
        self._particle, self._replicas = extra.get("particle"), extra.get("replicas", [])
        self._haadf_info = extra.get("haadf")
        # once: re-thresholding stays fast
        self._support = extra["support"] if "support" in extra else default_support(picker)
        self.plot.reset()
        plot_esf(picker, ax=self.plot.axes, theme=DOCK)
        legend_above(self.plot.axes, 3)  # not on the V(t) curve
        self.plot.set_threshold_line(picker.auto_threshold, label="threshold")
        self.threshold_edit.setEnabled(True)
        self.auto_button.setEnabled(True)
        if picker.esf.fallback:
            show_warning(f"Quantify: {picker.esf.warning}")
        # As set_threshold(auto, immediate=True), but the wt_ layers napari has to make
        # (0.1-0.3 s each with their colour bars) are steps the runner takes one per
        # event-loop turn: made here, the job end stalled the GUI 0.55-0.7 s.
        self._threshold = max(float(picker.auto_threshold), 0.0)
        self.threshold_edit.setText(f"{self._threshold:.6g}")
        if self.plot.threshold != self._threshold:
            self.plot.set_threshold_line(self._threshold)
        self._debounce.stop()
        return self.apply_threshold(apart=True)
