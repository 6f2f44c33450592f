"""The "Align tilt series" dock widget: paper 000's alignment, and the same shifts for EDS maps.

Along the tilt axis ``y`` each image's projection onto ``y`` is cross-correlated with the
reference image's (nearest 0°, or a chosen index; sub-pixel by upsampling); across it
the centre of mass of the projection onto ``x`` is moved to the detector centre
(:func:`napari_atomtomo.core.align.estimate_shifts`). Or the shifts come from a JSON file
saved earlier. The same shifts are then removed from the chosen tilt series and from
any other layers of the same series (EDS maps: same number of images) by
:func:`~napari_atomtomo.core.align.apply_shifts`. Layers ``<name>_aligned``; the shifts
(dy, dx vs angle, px) are plotted, compared with the truth of a simulated series, and
can be saved as JSON (``io.write_shifts``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from magicgui.widgets import ComboBox, FileEdit, Select, SpinBox
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtWidgets import QFileDialog, QLabel, QPushButton

from .. import io
from .._layers import image_layer_data, layer_angles_deg, layer_info, layer_voxel_size, series_array
from ..core.align import AlignParams, reference_index
from ..core.params import command_options
from ..core.projmatch import RefineParams
from ..jobs.simulate_align import AlignJobResult, iter_align_layers
from ._base import JobDockWidget, format_command, is_empty_path, layer_file_hint
from ._defaults import has_angles, is_plain, is_series, was_aligned
from ._job_plots import plot_shifts
from ._params import param_widget, params_from_widgets
from ._plot import PlotWidget
from ._runner import QUICK_JOB_ACTIVITY_AFTER_S

__all__ = ["AlignWidget"]

ESTIMATE, FROM_FILE = "estimate", "file"
ZERO, INDEX = "zero", "index"


class AlignWidget(JobDockWidget):
    """Align a tilt-series layer and apply the same shifts to other layers of the series."""

    run_text = "Align"

    def __init__(self, napari_viewer, parent=None):
        super().__init__(napari_viewer, parent)
        w = self._add
        self.series = self._add_series_input(
            "the tilt series whose shifts are measured (HAADF: signal ∝ mass)")
        self.angles_file = w(FileEdit(label="angles (.tlt)", mode="r", filter="*.tlt *.rawtlt"),
                             "tilt angles in degrees, one per image (the layer has none)")
        self.method = w(ComboBox(label="method", value=ESTIMATE, choices=[
            ("cross-correlation along y + centre of mass across x (paper 000)", ESTIMATE),
            ("shifts from a JSON file", FROM_FILE)]),
            "y (tilt axis): each image's profile along y is matched to the reference image's; "
            "x: each image's centre of mass is moved to the image centre. Or re-use shifts "
            "saved from another signal of the same series")
        self.shifts_file = w(FileEdit(label="shifts (.json)", mode="r", filter="*.json"),
                             "shifts saved by this widget or by 'atomtomo align --shifts-out'")
        self.reference = w(ComboBox(label="reference for y", value=ZERO, choices=[
            ("image nearest 0°", ZERO), ("image index", INDEX)]),
            "the image that keeps its position along the tilt axis; the others follow it")
        self.ref_index = w(SpinBox(label="reference index", value=0, min=0, max=100_000),
                           "index of the reference image in the stack (0 = first image)")
        # from AlignParams' specs (core/align.py); the reference has two inputs above
        self.upsample = param_widget(AlignParams, "upsample")
        self.background = param_widget(AlignParams, "background")
        self.inputs.extend([self.upsample, self.background])
        self.tilt_axis = w(ComboBox(label="tilt axis", value="y", choices=[
            ("image y axis (as acquired)", "y"), ("estimate angle and offset", "auto")]),
            "estimate the tilt axis's in-plane angle (from +y towards +x) and offset, and "
            "resample the images so it becomes y (atomtomo align --tilt-axis auto)")
        self.refine = w(SpinBox(label="refine rounds", value=0, min=0, max=100),
                        "projection matching: up to this many rounds of SIRT → re-projection → "
                        "sub-pixel registration (0: off; atomtomo align --refine N)")
        self.others = w(Select(label="apply to", choices=self._other_choices),
                        "other layers of the same series (e.g. EDS maps: same number of images) "
                        "that get the same shifts")
        self.others.native.setMaximumHeight(80)
        self.plot = PlotWidget(height=2.2)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.save_button = QPushButton("Save shifts…")
        self.save_button.setToolTip("save the last shifts as JSON (dy, dx in px per image)")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._on_save_clicked)
        for widget in (self.plot, self.summary, self.save_button):
            self.layout().insertWidget(self.layout().count() - 1, widget)
        self.last_result: AlignJobResult | None = None
        for widget in (self.series, self.method, self.reference):
            widget.changed.connect(self._on_choice_changed)
        aligned = was_aligned(napari_viewer)
        # The newest series still to align: HAADF before an EDS map, one with angles.
        self.follow_newest(self.series, lambda lyr: not aligned(lyr), is_plain, has_angles)
        self._on_choice_changed()

    # ------------------------------------------------------------------ inputs
    def _other_choices(self, _widget=None):
        series = self.series.value
        if series is None:
            return []
        n = series_array(series).shape[0]
        return [(layer.name, layer) for layer in self.viewer.layers  # not already aligned ones
                if is_series(layer) and layer is not series and series_array(layer).shape[0] == n
                and layer_info(layer).get("algorithm") != "align"]

    def _on_choice_changed(self, *_):
        layer = self.series.value
        self.others.reset_choices()
        estimate = self.method.value == ESTIMATE
        no_angles = layer is not None and layer_angles_deg(layer) is None
        self.angles_file.visible = estimate and no_angles
        self.shifts_file.visible = not estimate
        for widget in (self.reference, self.upsample, self.background, self.tilt_axis,
                       self.refine):
            widget.visible = estimate
        self.ref_index.visible = estimate and self.reference.value == INDEX
        self.revalidate()

    def _angles(self):
        """Tilt angles of the series (metadata, else the .tlt file), or None if neither."""
        layer = self.series.value
        angles = layer_angles_deg(layer)
        if angles is None and not is_empty_path(self.angles_file.value):
            angles = io.read_tlt(self.angles_file.value, n_images=series_array(layer).shape[0])
        return angles

    def _reference(self):
        return ZERO if self.reference.value == ZERO else self.ref_index.value

    def _params(self) -> AlignParams:
        return params_from_widgets(AlignParams, {"upsample": self.upsample,
                                                 "background": self.background},
                                   reference=self._reference())

    def _file_shifts(self) -> np.ndarray:
        path = self.shifts_file.value
        if is_empty_path(path):
            raise ValueError("choose the JSON file of saved shifts")
        if not Path(path).is_file():
            raise ValueError(f"shift file {path} does not exist")
        return io.read_shifts(path, n_images=series_array(self.series.value).shape[0],
                              allow_tilt_axis=True)

    def validate(self) -> str | None:
        layer = self.series.value
        if layer is None:
            return "add or open a tilt-series image layer (angle, y, x)"
        if self.method.value == FROM_FILE:
            self._file_shifts()
            return None
        angles = self._angles()
        if angles is None:
            return f"layer '{layer.name}' has no tilt angles; choose its .tlt file"
        reference_index(angles, self._reference())
        return None

    def command_line(self) -> str:
        layer = self.series.value
        name = layer.name
        out = {"--out": f"{name}_aligned.mrc"}
        if self.method.value == FROM_FILE:
            shifts_path = str(self.shifts_file.value)
            first = format_command("align", [layer_file_hint(layer)],
                                   extra={"--apply-shifts": shifts_path, **out})
        else:
            shifts_path = f"{name}_shifts.json"
            from_file = layer_angles_deg(layer) is None
            first = format_command("align", [layer_file_hint(layer)], extra={
                "--angles": str(self.angles_file.value) if from_file else None, **out,
                "--shifts-out": shifts_path,
                "--reference": self._params().reference, **command_options(self._params()),
                "--tilt-axis": "auto" if self.tilt_axis.value == "auto" else None,
                "--refine": self.refine.value or None})
        rest = [format_command("align", [layer_file_hint(o)], extra={
            "--apply-shifts": shifts_path, "--out": f"{o.name}_aligned.mrc"})
            for o in self.others.value]
        return " && ".join([first, *rest])

    # ------------------------------------------------------------------ job
    def start_job(self) -> None:
        layer = self.series.value
        layers = [layer, *[o for o in self.others.value if o is not layer]]
        stacks = {lyr.name: np.array(series_array(lyr), dtype=np.float32) for lyr in layers}
        command = self.command_line()
        axis, tilt_axis, refine = (0.0, 0.0), "y", None
        if self.method.value == FROM_FILE:
            shifts, angles = self._file_shifts(), self._angles()
            axis = io.read_tilt_axis(self.shifts_file.value)
            params = AlignParams()  # unused: the shifts are given
            parameters = {"method": FROM_FILE, "shifts_file": str(self.shifts_file.value)}
        else:
            shifts, angles = None, self._angles()
            params = self._params()
            tilt_axis = self.tilt_axis.value
            refine = RefineParams(n_iter=self.refine.value) if self.refine.value else None
            parameters = {"method": ESTIMATE, **dataclasses.asdict(params), "tilt_axis": tilt_axis,
                          "refine": self.refine.value}
        sources = {lyr.name: lyr for lyr in layers}

        def show_shifts(result: AlignJobResult):
            truth = layer_info(layer).get("truth", {}).get("shifts_px")
            text = plot_shifts(self.plot, result, angles, truth)
            if tilt_axis == "auto":
                text += (f"; tilt axis {result.tilt_axis['tilt_axis_angle_deg']:.3f}°"
                         f", offset {result.tilt_axis['tilt_axis_offset_px']:+.2f} px")
            self.summary.setText(text)

        def on_result(result: AlignJobResult):
            self.last_result = result
            self.save_button.setEnabled(True)
            meta = {"shifts_px": result.shifts, "reference_index": result.reference_index,
                    "command": command, **result.tilt_axis,
                    **({"refine": result.refine} if result.refine else {})}
            if tilt_axis == "auto":
                for warning in result.tilt_axis.get("tilt_axis_warnings", []):
                    show_warning(warning)
            # The plot is a step of its own after the layers (the runner runs it a turn
            # later): drawn here, its full draw fell into the first layer's add_layer stall.
            return [self._aligned_layer(sources[n], data, parameters, layer.name, meta, angles)
                    for n, data in result.aligned.items()] + [lambda: show_shifts(result)]

        self.runner.run(iter_align_layers, stacks, angles, shifts, params, tilt_axis=tilt_axis,
                        axis=axis, refine=refine,
                        label=f"align {layer.name}", total=len(stacks) + (shifts is None),
                        describe=lambda s: s.message, on_result=on_result,
                        activity_after_s=QUICK_JOB_ACTIVITY_AFTER_S)

    @staticmethod
    def _aligned_layer(src, data, parameters, series_name, meta, angles=None):
        info = layer_info(src)
        own = layer_angles_deg(src)  # else the series' angles (e.g. from its .tlt file)
        sources = [src.name] if src.name == series_name else [src.name, series_name]
        return image_layer_data(
            data, layer_voxel_size(src), f"{src.name}_aligned", "align", parameters, sources,
            kind="tilt_series", angles_deg=angles if own is None else own,
            element=info.get("element"),
            colormap=src.colormap.name, blending=src.blending, visible=src.visible,
            metadata={**meta, "shifts_from": series_name})

    def save_shifts(self, path, *, force: bool = False) -> Path:
        """Write the last shifts as JSON (``io.write_shifts``); refuses to overwrite unless
        ``force``."""
        if self.last_result is None:
            raise ValueError("no shifts yet: run the alignment first")
        r = self.last_result
        extra = {k: v for k, v in r.tilt_axis.items()
                 if k in ("tilt_axis_angle_deg", "tilt_axis_offset_px")}
        return io.write_shifts(path, r.shifts, force=force, extra=extra)

    def _on_save_clicked(self) -> None:
        name = self.series.value.name if self.series.value is not None else "series"
        path, _ = QFileDialog.getSaveFileName(self, "Save shifts", f"{name}_shifts.json",
                                              "JSON (*.json)")
        if not path:
            return
        try:  # the dialog has asked before overwriting
            show_info(f"saved shifts to {self.save_shifts(path, force=True)}")
        except (ValueError, OSError) as exc:
            show_error(f"could not save the shifts: {exc}")
