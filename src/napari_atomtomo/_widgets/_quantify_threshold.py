"""The Quantify dock's threshold picker (a mixin of :class:`~.quantify.QuantifyWidget`).

Moving the threshold (typed, dragged on the V(t) plot, or "auto") re-thresholds the
cached fractions and updates the ``wt_<El>`` layers (with their colour bars when the
``colour_bars`` box is ticked) and the read-out.
Uses the widget's ``picker``, ``plot``, ``threshold_edit``, ``readout``, ``regions``,
``colour_bars``, ``_fraction_names``,
``viewer``, ``_debounce``, ``_margin_value``, ``_threshold``, ``_source``, ``_particle``, ``_replicas``,
``_support`` and ``_haadf_info``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from napari.layers import Image

from .._layers import element_colormap as layer_element_colormap
from .._layers import image_layer_data
from ..core.quantify import DEFAULT_SUPPORT, QuantifyParams, check_region
from ..core.region_margin import margin_text
from ..core.regions import region_statistics
from ..jobs.quantify import labels_composition, readout_text
from ._layer_updates import add_or_replace_layers
from ._quantify_display import hide_maps_under_fractions, set_fraction_bars

__all__ = ["ThresholdPickerMixin", "element_colormap", "margin_text"]


def element_colormap(element: str):
    """Black -> the element's colour (as its maps and atoms), named ``wt-<El>``."""
    return layer_element_colormap(element, "wt", f"{element} weight fraction")


class ThresholdPickerMixin:
    """Threshold moves and the ``wt_<El>`` layers that follow them."""

    def set_threshold(self, value: float, *, immediate: bool = False) -> None:
        """Move the threshold to ``value``; the layers follow after 150 ms (or now)."""
        if self.picker is None:
            return
        value = float(value)
        if not np.isfinite(value):
            return
        self._threshold = max(value, 0.0)  # the plot's axis starts below 0
        self.threshold_edit.setText(f"{self._threshold:.6g}")
        if self.plot.threshold != self._threshold:  # also snaps a line dragged below 0
            self.plot.set_threshold_line(self._threshold)
        if immediate:
            self._debounce.stop()
            self.apply_threshold()
        else:
            self._debounce.start()

    def _on_threshold_typed(self) -> None:
        text = self.threshold_edit.text()
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (np.isfinite(value) and value >= 0):
            self.readout.setText(f"threshold must be a number >= 0, got {text!r}")
            return
        self.set_threshold(value, immediate=True)

    def _on_auto(self) -> None:
        if self.picker is not None:
            self.set_threshold(self.picker.auto_threshold, immediate=True)

    def apply_threshold(self, *, apart: bool = False) -> list:
        """Re-threshold the cached fractions and update the ``wt_<El>`` layers now; with
        ``apart``, return the steps that make new layers (and hide the maps) instead, for
        the runner to take one per event-loop turn."""
        picker, t, vs = self.picker, self._threshold, self._source.get("voxel_size")
        if picker is None or t is None:
            return []
        try:
            region_margin = self._margin_value()
        except ValueError as exc:  # the Run button says so too; the layers stay
            self.readout.setText(str(exc))
            return []
        from_haadf = self._particle is not None
        inside = (self._particle & (picker.summed > 0)) if from_haadf else picker.mask(t)
        fractions = picker.weight_fractions(t, inside)
        esf = picker.esf
        method = "particle" if from_haadf else esf.method if t == picker.auto_threshold else "user"
        params = {**dataclasses.asdict(QuantifyParams(picker.kind, t,
                                                      region_margin=region_margin)),
                  "factors": self._source["factors"],
                  "threshold_method": method,
                  "esf_threshold": picker.auto_threshold}
        labels_layer = self.regions.value
        labels = None
        if labels_layer is not None and np.shape(labels_layer.data) == inside.shape:
            labels = np.asarray(labels_layer.data)
        replicas = self._replicas
        support, warnings = check_region(picker, inside, self._support,
                                         "haadf" if from_haadf else DEFAULT_SUPPORT,
                                         fit_warnings=not from_haadf)
        regions = margin = None
        if labels is None:
            regions = region_statistics(fractions, inside, None, replicas)
        elif np.any(labels > 0):  # as atomtomo quantify --regions: the same core function
            regions, margin = labels_composition(picker, fractions, inside, labels, replicas, vs,
                                                 (self._haadf_info or {}).get("max_tilt_deg"),
                                                 warnings, margin=region_margin)
        if from_haadf and self._haadf_info.get("warning"):
            warnings.insert(0, f"HAADF particle: {self._haadf_info['warning']}")
        extra = {"factors_b_mol_g": picker.factors_used, "n_voxels": int(inside.sum()),
                 "fallback": bool(esf.fallback), "auto_threshold_method": esf.method,
                 "fit_quality": esf.summary()["quality"], "smooth_voxels_used": picker.smooth_voxels,
                 "warnings": warnings, **support, "regions": regions,
                 "regions_layer": None if labels is None else labels_layer.name,
                 "region_margin": margin,
                 "resamples": len(replicas),
                 "se_method": "poisson_resampling" if len(replicas) >= 2 else "none",
                 "threshold_source": "haadf" if from_haadf else "maps",
                 "haadf": self._haadf_info}
        steps = []

        def make_layer(data, kwargs):
            new = add_or_replace_layers(self.viewer, [(data, kwargs, "image")])[0]
            new.contrast_limits = (0.0, 1.0)

        def show_bar(name):  # a turn of its own: napari builds the bar's visual. The box
            # is read now, not when the steps were made: a toggle in between is obeyed
            if self.colour_bars.isChecked():
                set_fraction_bars(self.viewer, [name], True)

        for el, wt in fractions.items():
            data, kwargs, _ = image_layer_data(
                wt, vs, f"wt_{el}", "quantify", params, self._source["names"], element=el,
                metadata=extra, colormap=element_colormap(el), contrast_limits=(0.0, 1.0),
                blending="additive")
            name = kwargs["name"]
            old = self.viewer.layers[name] if name in self.viewer.layers else None
            if isinstance(old, Image) and old.data.shape == wt.shape:
                old.data = data  # in place: no new layer, no contrast reset
                old.metadata = kwargs["metadata"]
            else:
                steps.append(lambda data=data, kwargs=kwargs: make_layer(data, kwargs))
                steps.append(lambda name=name: show_bar(name))  # new layers only
        self._fraction_names = [f"wt_{el}" for el in fractions]
        if getattr(self, "_hide_maps", False):  # once per Run: a map shown again stays
            names = self._source["names"]
            self._hidden_maps = [n for n in names if n in self.viewer.layers
                                 and self.viewer.layers[n].visible]
            steps.append(lambda: hide_maps_under_fractions(self.viewer, names))
            self._hide_maps = False
        if not apart:
            for step in steps:
                step()
            steps = []
        if regions is None:
            regions = region_statistics(fractions, inside, None, replicas)
        text = readout_text(picker, t, fractions, inside, vs, regions)
        if margin is not None:  # as atomtomo quantify --regions prints it
            text += "\n" + margin_text(margin)
        if from_haadf:
            text = "particle from the HAADF series (the threshold line is not used)\n" + text
        if len(replicas) < 2:
            text += ("\n(no standard errors: the maps' folder has no resamples/; run eds/hebt "
                     "with --resamples)")
        if getattr(self, "_hidden_maps", None):
            text += (f"\n{', '.join(self._hidden_maps)} hidden under the wt_ layers "
                     "(tick them to show)")
        extra_warnings = [w for w in warnings if w != esf.warning]
        self.readout.setText(text + "".join(f"\n⚠ {w}" for w in extra_warnings))
        return steps


