"""The "Preprocess tilt series" dock widget: vacuum level, bad pixels, counts, denoising.

Runs :func:`napari_atomtomo.core.preprocess.preprocess_series` on a tilt-series layer
with the settings of one :class:`~napari_atomtomo.core.preprocess.PreprocessParams`
and adds ``<name>_pre``, whose metadata hold the parameters and the report (per-image
vacuum levels, replaced pixels, normalisation factors, noise levels, warnings), so
``atomtomo preprocess`` reproduces it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from napari.utils.notifications import show_warning
from qtpy.QtWidgets import QLabel

from .._layers import image_layer_data, layer_angles_deg, layer_info, layer_voxel_size, series_array
from ..core.params import command_options, param_specs
from ..core.preprocess import PreprocessParams, preprocess_series, report_summary
from ._base import JobDockWidget, format_command, layer_file_hint
from ._defaults import has_angles, is_plain
from ._params import param_widget, params_from_widgets
from ._runner import QUICK_JOB_ACTIVITY_AFTER_S

__all__ = ["PreprocessWidget"]

#: The vacuum-level choices the widget offers (a vacuum mask is a command-line option).
BACKGROUND_CHOICES = [("from the border strips", "border"), ("none", "none")]


class PreprocessWidget(JobDockWidget):
    """Preprocess a tilt-series layer before reconstruction."""

    run_text = "Preprocess"

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        self.series = self._add_series_input(
            "the tilt series (angle, y, x) to preprocess")
        # the parameter inputs, from PreprocessParams' specs (no vacuum mask in the GUI)
        self.param_inputs = {
            name: param_widget(PreprocessParams, name, choices=BACKGROUND_CHOICES
                               if name == "background" else None)
            for name in param_specs(PreprocessParams)}
        for widget in self.param_inputs.values():
            self.inputs.append(widget)
        (self.background, self.border_px, self.hot_pixels, self.hot_sigma, self.normalize,
         self.denoise) = self.param_inputs.values()
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.layout().insertWidget(self.layout().count() - 1, self.summary)
        self.hot_pixels.changed.connect(self._on_choice_changed)
        self.background.changed.connect(self._on_choice_changed)
        # The newest HAADF series with angles that is not itself a preprocessed one.
        self.follow_newest(self.series, is_plain, has_angles,
                           lambda lyr: layer_info(lyr).get("algorithm") != "preprocess")
        self._on_choice_changed()

    def _on_choice_changed(self, *_):
        self.hot_sigma.visible = self.hot_pixels.value
        self.border_px.visible = self.background.value == "border"
        self.revalidate()

    def params(self) -> PreprocessParams:
        return params_from_widgets(PreprocessParams, self.param_inputs)

    def validate(self) -> str | None:
        layer = self.series.value
        if layer is None:
            return "add or open a tilt-series image layer (angle, y, x)"
        p = self.params()
        shape = series_array(layer).shape
        if p.background == "border" and p.border_px and 2 * p.border_px >= min(shape[1:]):
            return f"border {p.border_px} px is too wide for {shape[1]} × {shape[2]} images"
        return None

    def command_line(self) -> str:
        layer = self.series.value
        p = self.params()
        return format_command("preprocess", [layer_file_hint(layer)], extra={
            "--out": f"{layer.name}_pre.mrc", **command_options(p)})

    def start_job(self) -> None:
        layer = self.series.value
        params = self.params()
        stack = np.array(series_array(layer), dtype=np.float32)
        command = self.command_line()

        def on_result(result):
            report = result.report
            for warning in report["warnings"]:
                show_warning(warning)
            self.summary.setText(report_summary(report))
            return image_layer_data(
                result.stack, layer_voxel_size(layer), f"{layer.name}_pre", "preprocess",
                dataclasses.asdict(params), [layer.name], kind="tilt_series",
                angles_deg=layer_angles_deg(layer), colormap=layer.colormap.name,
                metadata={"report": report, "command": command})

        self.runner.run(preprocess_series, stack, params, label=f"preprocess {layer.name}",
                        on_result=on_result, activity_after_s=QUICK_JOB_ACTIVITY_AFTER_S)

