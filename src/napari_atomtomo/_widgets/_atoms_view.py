"""Traced atoms you can inspect, for the "Trace atoms" dock.

* :class:`AtomsLegend`: a canvas legend, one coloured text overlay per element
  (``● Si 334``) stacked in the canvas corner, for the visible atoms layers;
* :class:`ElementToggles`: a check box per element that shows or hides that element's
  atoms (``Points.shown``), with its count;
* :class:`PlotLinks`: a click on a peak (intensity plot) or a deviation selects that
  atom in the Points layer and centres the view on it; an atom selected on the canvas
  is ringed in both plots;
* :func:`comparison_marker_layers`: missing (true atoms no traced atom matched),
  misplaced and extra traced atoms as marker layers over the volume.
"""

from __future__ import annotations

import numpy as np
from napari.components.overlays import TextOverlay
from napari.layers import Points
from qtpy.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from .._atoms_layers import atoms_layer_data
from .._colors import element_color, element_sizes
from .._layers import layer_info
from ._plot_canvas import run_apart
from ._tilt_readout import show_overlay

__all__ = ["AtomsLegend", "ElementToggles", "PlotLinks", "comparison_marker_layers",
           "element_sizes", "LEGEND_PREFIX"]

#: Key prefix of the legend's canvas overlays (``viewer.canvas.overlays``).
LEGEND_PREFIX = "atomtomo_legend_"


def _atoms_layers(viewer):
    return [lyr for lyr in viewer.layers if isinstance(lyr, Points) and lyr.visible
            and layer_info(lyr).get("kind") == "atoms" and "element" in lyr.features
            and not layer_info(lyr).get("class")]  # not the markers (missing, rejected)


class AtomsLegend:
    """Element colours on the canvas: one text overlay per element of the visible atoms
    layers, in the element's colour, updated when layers, visibility or labels change.

    :meth:`update` only asks for a refresh: it runs in a turn of its own, queued with
    the plots' idle draws (``_plot_canvas.run_apart``; requests in between are merged),
    and makes at most one new overlay per turn. A new
    overlay costs napari a vispy text visual (25-70 ms) and, on its first paint, a shader
    build and a signed-distance glyph for each new character (~0.1 s for the first text
    on a canvas). Refreshed in the turn that added the traced Points layer (the
    ``inserted`` event), it all went into that layer's own first paint (~0.15 s): one
    0.3-0.5 s stall.
    """

    def __init__(self, viewer, parent=None):
        self.viewer = viewer
        self.entries: dict[str, str] = {}  # element -> text shown
        self._parent = parent  # the dock: no refresh runs once it is gone
        self._queued = False

    @property
    def pending(self) -> bool:
        """A refresh is queued (the canvas does not show the current counts yet)."""
        return self._queued

    def update(self, *_) -> None:
        if not self._queued:
            self._queued = True
            run_apart(self._refresh)

    def _refresh(self) -> None:
        self._queued = False
        if self._parent is not None:
            self._parent.objectName()  # RuntimeError (the queue skips it) once deleted
        overlays = self.viewer.canvas.overlays
        layers = _atoms_layers(self.viewer)
        counts: dict[str, int] = {}
        for layer in layers:
            els = np.asarray(layer.features["element"], dtype=str)[np.asarray(layer.shown)]
            for e in dict.fromkeys(els):
                counts[e] = counts.get(e, 0) + int(np.sum(els == e))
        for key in [k for k in list(overlays) if k.startswith(LEGEND_PREFIX)]:
            if key[len(LEGEND_PREFIX):] not in counts:
                show_overlay(overlays[key], None)
        entries: dict[str, str] = {}
        made = False
        for el, n in counts.items():
            key, text = LEGEND_PREFIX + el, f"● {el} {n}"
            if key not in overlays:
                if made:  # one new text visual per turn; the rest in the next
                    self.update()
                    break
                overlays[key] = TextOverlay(text=text, color=element_color(el), font_size=11,
                                            position="top_right", box=True, visible=True)
                made = True
            show_overlay(overlays[key], text)
            entries[el] = text
        self.entries = entries


class ElementToggles(QWidget):
    """"show:" then a check box per element of the traced atoms; unchecking hides them."""

    def __init__(self, on_change=None, parent=None):
        super().__init__(parent)
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.addWidget(QLabel("show:"))
        self.boxes: dict[str, QCheckBox] = {}
        self.layer: Points | None = None
        self._on_change = on_change
        self.setVisible(False)

    def attach(self, layer: Points | None) -> None:
        """Boxes for the elements of ``layer`` (all checked)."""
        self.layer = layer
        for box in self.boxes.values():
            self._row.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        if layer is None:
            self.setVisible(False)
            return
        els = np.asarray(layer.features["element"], dtype=str)
        for el in dict.fromkeys(els):
            box = QCheckBox(f"{el} ({int(np.sum(els == el))})")
            box.setChecked(True)
            box.setStyleSheet(f"color: {element_color(el)}")
            box.toggled.connect(self.apply)
            self._row.addWidget(box)
            self.boxes[el] = box
        self.setVisible(True)

    def hidden(self) -> set[str]:
        return {el for el, box in self.boxes.items() if not box.isChecked()}

    def apply(self, *_) -> None:
        """Show the checked elements' atoms only (after a toggle or a re-split)."""
        layer = self.layer
        if layer is None:
            return
        els = np.asarray(layer.features["element"], dtype=str)
        layer.shown = ~np.isin(els, sorted(self.hidden()))
        if self._on_change is not None:
            self._on_change()


class PlotLinks:
    """Peaks and deviations ↔ atoms: clicks select and centre, selections ring points.

    The traced Points layer lists atoms brightest first, as both plots do: plotted peak
    ``k`` (rank ``k + 1``) and deviation ``k`` are atom ``k``.
    """

    def __init__(self, viewer, layer_getter, plots):
        self.viewer, self._layer, self.plots = viewer, layer_getter, list(plots)
        self._rings: list = []
        self._connected = None
        for plot in self.plots:  # before the plot's own press (the threshold line)
            plot.pick_handler = self._on_press

    def connect(self) -> None:
        """Follow the current traced layer's selection."""
        layer = self._layer()
        if layer is None or layer is self._connected:
            return
        layer.selected_data.events.items_changed.connect(self.highlight)
        self._connected = layer

    def _on_press(self, event) -> bool:
        """Select the atom of the marker under the click; ``True`` if there was one (the
        plot then does not move its threshold line there)."""
        layer = self._layer()
        if layer is None or event.inaxes is None or event.xdata is None:
            return False
        index = self.nearest_point(event.inaxes, event.x, event.y)
        if index is None:
            return False
        self.select_atom(index)
        return True

    @staticmethod
    def nearest_point(ax, x_px: float, y_px: float, max_px: float = 5.0) -> int | None:
        """Atom index of the plotted marker nearest to display point (x, y), or ``None``."""
        best, best_d = None, max_px
        for coll in ax.collections:
            offsets = np.asarray(coll.get_offsets(), dtype=np.float64)
            if offsets.size == 0 or coll.get_facecolors().size == 0:
                continue  # rings (no face) only mark; peaks and deviations carry the index
            xy = ax.transData.transform(offsets)
            d = np.hypot(xy[:, 0] - x_px, xy[:, 1] - y_px)
            k = int(np.nanargmin(d)) if np.isfinite(d).any() else None
            if k is not None and d[k] < best_d:
                x0 = offsets[k, 0]
                # peaks are plotted at rank k + 1, deviations at index k
                is_rank = ax.get_xlabel().startswith("peak")
                best, best_d = int(round(x0)) - (1 if is_rank else 0), d[k]
        return best

    def select_atom(self, index: int) -> None:
        """Select atom ``index`` of the traced layer and centre the view on it."""
        layer = self._layer()
        if layer is None or not 0 <= index < len(layer.data):
            return
        self.viewer.layers.selection.active = layer
        layer.selected_data = {index}
        world = np.asarray(layer.data[index]) * np.asarray(layer.scale) + np.asarray(layer.translate)
        dims = self.viewer.dims
        for axis, value in zip(range(dims.ndim - 3, dims.ndim), world):
            if axis >= 0 and axis not in dims.displayed:
                dims.set_point(axis, float(value))
        offset = dims.ndim - 3  # the atoms' (z, y, x) are the last three world axes
        if all(a >= offset for a in dims.displayed):
            self.viewer.scene.camera.center = tuple(float(world[a - offset]) for a in dims.displayed)
        self.highlight()

    def highlight(self, *_) -> None:
        """Ring the selected atoms in every plot."""
        for ring in self._rings:
            ring.remove()
        self._rings = []
        layer = self._layer()
        selected = sorted(layer.selected_data) if layer is not None else []
        for plot in self.plots:
            if plot.isHidden():  # e.g. the deviation plot without a truth
                continue
            ax = plot.axes if not isinstance(plot.axes, list) else plot.axes[0]
            for coll in ax.collections:
                offsets = np.asarray(coll.get_offsets())
                if offsets.size == 0 or coll.get_facecolors().size == 0 or not selected:
                    continue
                is_rank = ax.get_xlabel().startswith("peak")
                xs = np.asarray(selected) + (1 if is_rank else 0)
                pick = np.isin(np.round(offsets[:, 0]).astype(int), xs)
                if pick.any():
                    self._rings.append(ax.scatter(offsets[pick, 0], offsets[pick, 1], s=90,
                                                  facecolors="none", edgecolors="#ffffff",
                                                  linewidths=1.5, zorder=5))
            plot.canvas.draw_idle()

    @property
    def ringed(self) -> int:
        return len(self._rings)


def comparison_marker_layers(comparison, truth, traced, name: str, translate) -> list:
    """Marker layers for a comparison: ``<name> missing`` (true atoms no traced atom
    matched, at their true position, crosses), ``<name> misplaced`` (traced atoms off
    by more than the resolution or of the wrong element, rings) and ``<name> extra``
    (traced atoms with no true match, squares). Empty classes give no layer."""
    offset = np.asarray(comparison.offset_A, dtype=np.float64)
    matched_truth = np.zeros(len(truth), bool)
    idx = comparison.truth_index[comparison.truth_index >= 0]
    matched_truth[idx] = True
    classes = [
        ("missing", truth, ~matched_truth, "cross", offset, "#ff40ff"),
        ("misplaced", traced, comparison.misplaced, "ring", 0.0, "#ffffff"),
        ("extra", traced, comparison.truth_index < 0, "square", 0.0, "#40ffff"),
    ]
    layers = []
    for label, atoms, mask, symbol, shift, colour in classes:
        if not np.any(mask):
            continue
        subset = atoms.select(mask)
        data, kwargs, kind = atoms_layer_data(
            subset, f"{name} {label}", "compare_atoms", {"resolution_A": comparison.resolution_A},
            [name], diameter_A=1.6, translate=translate,
            metadata={"class": f"{label} atoms", "count": int(np.sum(mask))})
        if label == "missing":  # true positions in the traced frame (offset added back)
            data = data + np.asarray(shift)[::-1]
        kwargs = kwargs | {"symbol": symbol, "face_color": colour, "opacity": 1.0,
                           "shading": "none", "border_width": 0.0}
        kwargs.pop("face_color_cycle", None)
        layers.append((data, kwargs, kind))
    return layers
