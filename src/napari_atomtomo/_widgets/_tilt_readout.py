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

__all__ = ["install_tilt_readout", "show_2d_planes", "TiltReadout", "OVERLAY_KEY",
           "show_overlay"]

OVERLAY_KEY = "atomtomo_tilt"
#: id(viewer) -> its readout (held here: napari's events only keep weak references)
_INSTALLED: dict[int, TiltReadout] = {}


def show_overlay(overlay, text: str | None) -> None:
    """Show ``text`` on a canvas text ``overlay`` (None hides it), writing only what
    changed: each write is a pydantic validation and an event."""
    if text is None:
        if overlay.visible:
            overlay.visible = False
        return
    if overlay.text != text:
        overlay.text = text
    if not overlay.visible:
        overlay.visible = True


class TiltReadout:
    """The read-out of one viewer. What it needs of the layers (the top visible series,
    the visible sinograms, their angles and placement) is gathered when the layer list
    changes or a layer's visibility, metadata, name, scale, translate or data changes
    (napari does not emit ``extent`` events), not on every mouse move; the overlay is written only when its
    text or visibility changes (a write is a pydantic validation and an event)."""

    def __init__(self, viewer):
        self._viewer = weakref.ref(viewer)
        overlays = viewer.canvas.overlays
        if OVERLAY_KEY not in overlays:
            overlays[OVERLAY_KEY] = TextOverlay(text="", position="top_left", font_size=11,
                                                box=True, visible=False)
        self.overlay = overlays[OVERLAY_KEY]
        self._cache: tuple | None = None  # (series, sinograms), None when stale
        #: Times the layers were walked (the cache rebuilt); for tests.
        self.n_scans = 0
        viewer.dims.events.point.connect(self.update)
        viewer.dims.events.ndisplay.connect(self.update)
        viewer.dims.events.order.connect(self.update)
        viewer.cursor.events.position.connect(self._on_cursor)
        viewer.layers.events.inserted.connect(self._on_inserted)
        viewer.layers.events.removed.connect(self._on_layers_changed)
        viewer.layers.events.moved.connect(self._on_layers_changed)
        viewer.layers.events.reordered.connect(self._on_layers_changed)
        for layer in viewer.layers:
            self._watch(layer)
        self.update()

    def _watch(self, layer) -> None:
        for name in ("visible", "metadata", "name", "scale", "translate", "data"):
            getattr(layer.events, name).connect(self._on_layers_changed)

    def _on_inserted(self, event) -> None:
        self._watch(event.value)
        self._cache = None
        if layer_info(event.value).get("display") == "sinogram":
            show_2d_planes(self._viewer())
        self.update()

    def _on_layers_changed(self, *_) -> None:
        self._cache = None
        self.update()

    def _on_cursor(self, *_) -> None:
        # Only a sinogram's row under the cursor depends on the cursor.
        viewer = self._viewer()
        if viewer is not None and self._layers(viewer)[1]:
            self.update()

    def _layers(self, viewer) -> tuple:
        """``(series, sinograms)``: the top visible tilt series as ``(layer, angles)`` or
        None, and the visible sinograms top first as ``(layer, angles, translate, scale)``."""
        if self._cache is None:
            self.n_scans += 1
            series, sinograms = None, []
            for layer in reversed(list(viewer.layers)):  # the top one first
                if not layer.visible:
                    continue
                info = layer_info(layer)
                display = info.get("display")
                if display == "angle_z_y_x" and series is None:
                    series = (layer, layer_angles_deg(layer))
                elif display == "sinogram" and layer.ndim == 3:
                    angles = layer_angles_deg(layer)
                    if angles is not None and angles.size == layer.data.shape[0]:
                        sinograms.append((layer, angles, np.asarray(layer.translate, float),
                                          np.asarray(layer.scale, float)))
            self._cache = (series, sinograms)
        return self._cache

    @staticmethod
    def _sinogram_row(viewer, sinograms):
        """``(layer, angles, row)`` of the top visible sinogram's row under the cursor (its
        rows on the canvas) or on the slider (its rows a slider axis), else None."""
        dims = viewer.dims
        if not sinograms or dims.ndisplay != 2 or dims.ndim < 3:
            return None
        z, y, x = dims.ndim - 3, dims.ndim - 2, dims.ndim - 1
        if x not in dims.displayed:
            return None
        position = np.asarray(viewer.cursor.position, dtype=np.float64)
        point = np.asarray(dims.point, dtype=np.float64)
        for layer, angles, t, sc in sinograms:
            if z in dims.displayed:  # the z-x view: the rows on the canvas
                if position.size != dims.ndim or abs(point[y] - t[1]) > sc[1] / 2:
                    continue
                k = int(np.floor((position[z] - t[0]) / sc[0] + 0.5))
                i = int(np.floor((position[x] - t[2]) / sc[2] + 0.5))
                if 0 <= k < angles.size and 0 <= i < layer.data.shape[2]:
                    return layer, angles, k
            else:  # the y-x view: the row on the slider
                k = int(np.floor((point[z] - t[0]) / sc[0] + 0.5))
                if 0 <= k < angles.size:
                    return layer, angles, k
        return None

    def _show(self, text: str | None) -> None:
        show_overlay(self.overlay, text)

    def update(self, *_) -> None:
        viewer = self._viewer()
        if viewer is None:
            return
        series, sinograms = self._layers(viewer)
        hit = self._sinogram_row(viewer, sinograms)
        if hit is not None:
            layer, angles, k = hit
            self._show(f"{layer.name}: tilt θ = {angles[k]:+.2f}° (row {k + 1} of {angles.size})")
            return
        layer, angles = series if series is not None else (None, None)
        dims = viewer.dims
        axis = dims.ndim - 4  # the angle axis of a 4D series (last four world axes)
        if angles is None or axis < 0 or axis in dims.displayed:
            self._show(None)
            return
        k = int(np.clip(round((dims.point[axis] - layer.translate[0]) / layer.scale[0]),
                        0, angles.size - 1))
        self._show(f"{layer.name}: tilt {angles[k]:+.2f}° (image {k + 1} of {angles.size})")


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
