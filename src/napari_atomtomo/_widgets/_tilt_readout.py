"""The exact tilt angle of the image on screen, on the canvas.

A tilt series' angle axis is linear in napari (first angle + k × mean step, see
``_layers.series_layout``), so for unevenly spaced angles (equally sloped tomography:
steps from 3.6° down to 1.3°) the slider's value is only near the true angle. This text
overlay (top left) names the exact angle and the image number of the top visible tilt
series, e.g. ``haadf: tilt +72.65° (image 55 of 55)``, and follows the slider. Every
AtomTomo dock installs it once per viewer.
"""

from __future__ import annotations

import weakref

import numpy as np
from napari.components.overlays import TextOverlay

from .._layers import layer_angles_deg, layer_info

__all__ = ["install_tilt_readout", "TiltReadout", "OVERLAY_KEY"]

OVERLAY_KEY = "atomtomo_tilt"
#: id(viewer) -> its readout (held here: napari's events only keep weak references)
_INSTALLED: dict[int, TiltReadout] = {}


class TiltReadout:
    def __init__(self, viewer):
        self._viewer = weakref.ref(viewer)
        overlays = viewer.canvas.overlays
        if OVERLAY_KEY not in overlays:
            overlays[OVERLAY_KEY] = TextOverlay(text="", position="top_left", font_size=11,
                                                box=True, visible=False)
        self.overlay = overlays[OVERLAY_KEY]
        viewer.dims.events.point.connect(self.update)
        viewer.dims.events.ndisplay.connect(self.update)
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self.update)
        for layer in viewer.layers:
            layer.events.visible.connect(self.update)
        self.update()

    def _on_inserted(self, event) -> None:
        event.value.events.visible.connect(self.update)
        self.update()

    def _series(self, viewer):
        for layer in reversed(list(viewer.layers)):  # the top one first
            if layer.visible and layer_info(layer).get("display") == "angle_z_y_x":
                return layer
        return None

    def update(self, *_) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        layer = self._series(viewer)
        angles = None if layer is None else layer_angles_deg(layer)
        dims = viewer.dims
        axis = dims.ndim - 4  # the angle axis of a 4D series (last four world axes)
        if angles is None or axis < 0 or axis in dims.displayed:
            self.overlay.visible = False
            return
        k = int(np.clip(round((dims.point[axis] - layer.translate[0]) / layer.scale[0]),
                        0, angles.size - 1))
        self.overlay.text = f"{layer.name}: tilt {angles[k]:+.2f}° (image {k + 1} of {angles.size})"
        self.overlay.visible = True


def install_tilt_readout(viewer) -> TiltReadout:
    """The viewer's :class:`TiltReadout`, made on the first call."""
    readout = _INSTALLED.get(id(viewer))
    if readout is None or readout._viewer() is not viewer:
        readout = TiltReadout(viewer)
        _INSTALLED[id(viewer)] = readout
    return readout
