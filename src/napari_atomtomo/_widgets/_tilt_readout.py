"""The exact tilt angle of the image on screen, on the canvas.

A tilt series' angle axis is linear in napari (first angle + k × mean step, see
``_layers.series_layout``), so for unevenly spaced angles (equally sloped tomography:
steps from 3.6° down to 1.3°) the slider's value is only near the true angle. This text
overlay (top left) names the exact angle and the image number of the top visible tilt
series, e.g. ``haadf: tilt +72.65° (image 55 of 55)``, and follows the slider. A 2D data
set's sinogram ``(angle, 1, x)`` sits beside its maps (``_layers.sinogram_placement``):
in their z-x view (chosen when a sinogram is added to a 2D data set in the y-x view) the
text names the angle of the row under the cursor, e.g. ``haadf: tilt θ = +15.00° (row 19
of 31)``; in the y-x view, the row on the slider. Every AtomTomo dock installs it once
per viewer.
"""

from __future__ import annotations

import weakref

import numpy as np
from napari.components.overlays import TextOverlay

from .._layers import layer_angles_deg, layer_info

__all__ = ["install_tilt_readout", "show_2d_planes", "TiltReadout", "OVERLAY_KEY"]

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
        viewer.dims.events.order.connect(self.update)
        viewer.cursor.events.position.connect(self.update)
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self.update)
        for layer in viewer.layers:
            layer.events.visible.connect(self.update)
        self.update()

    def _on_inserted(self, event) -> None:
        event.value.events.visible.connect(self.update)
        if layer_info(event.value).get("display") == "sinogram":
            show_2d_planes(self._viewer())
        self.update()

    def _series(self, viewer):
        for layer in reversed(list(viewer.layers)):  # the top one first
            if layer.visible and layer_info(layer).get("display") == "angle_z_y_x":
                return layer
        return None

    @staticmethod
    def _sinogram_row(viewer):
        """``(layer, row, how)`` of the top visible sinogram's row under the cursor (its
        rows on the canvas) or on the slider (its rows a slider axis), else None."""
        dims = viewer.dims
        if dims.ndisplay != 2 or dims.ndim < 3:
            return None
        z, y, x = dims.ndim - 3, dims.ndim - 2, dims.ndim - 1
        if x not in dims.displayed:
            return None
        position = np.asarray(viewer.cursor.position, dtype=np.float64)
        point = np.asarray(dims.point, dtype=np.float64)
        for layer in reversed(list(viewer.layers)):
            info = layer_info(layer)
            if not layer.visible or info.get("display") != "sinogram" or layer.ndim != 3:
                continue
            angles = layer_angles_deg(layer)
            if angles is None or angles.size != layer.data.shape[0]:
                continue
            t, sc = np.asarray(layer.translate), np.asarray(layer.scale)
            if z in dims.displayed:  # the z-x view: the rows on the canvas
                if position.size != dims.ndim or abs(point[y] - t[1]) > sc[1] / 2:
                    continue
                k = int(np.floor((position[z] - t[0]) / sc[0] + 0.5))
                i = int(np.floor((position[x] - t[2]) / sc[2] + 0.5))
                if 0 <= k < angles.size and 0 <= i < layer.data.shape[2]:
                    return layer, k
            else:  # the y-x view: the row on the slider
                k = int(np.floor((point[z] - t[0]) / sc[0] + 0.5))
                if 0 <= k < angles.size:
                    return layer, k
        return None

    def update(self, *_) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        hit = self._sinogram_row(viewer)
        if hit is not None:
            layer, k = hit
            angles = layer_angles_deg(layer)
            self.overlay.text = (f"{layer.name}: tilt θ = {angles[k]:+.2f}° "
                                 f"(row {k + 1} of {angles.size})")
            self.overlay.visible = True
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


def show_2d_planes(viewer, *, force: bool = False) -> None:
    """Show the z-x planes of a 2D data set (every image ``(z, 1, x)`` or a sinogram
    ``(angle, 1, x)``) when napari shows their one-voxel y-x planes (the default order):
    y becomes the slider. The one place that switches the view: the docks' read-out
    (a sinogram added), the samples (their layers added) and SIRT/HEBT on a 2D job.
    ``force``: switch even if the viewer holds images that are not 2D (the caller knows
    its job is 2D)."""
    if viewer is None:
        return
    dims = viewer.dims
    if dims.ndim != 3 or dims.ndisplay != 2 or tuple(dims.order) != (0, 1, 2):
        return
    images = [lyr for lyr in viewer.layers if lyr._type_string == "image"]
    if force or (images and all(lyr.ndim == 3 and lyr.data.shape[1] == 1 for lyr in images)):
        dims.order = (1, 0, 2)


def install_tilt_readout(viewer) -> TiltReadout:
    """The viewer's :class:`TiltReadout`, made on the first call."""
    readout = _INSTALLED.get(id(viewer))
    if readout is None or readout._viewer() is not viewer:
        readout = TiltReadout(viewer)
        _INSTALLED[id(viewer)] = readout
        if any(layer_info(lyr).get("display") == "sinogram" for lyr in viewer.layers):
            show_2d_planes(viewer)
    return readout
