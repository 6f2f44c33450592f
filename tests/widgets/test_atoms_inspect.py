"""Traced atoms you can inspect: canvas legend, per-element show/hide, plot ↔ atom links
(real clicks on the plot canvas), and missing/misplaced/extra atoms marked and counted."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QPoint, Qt

from napari_atomtomo._colors import element_color
from napari_atomtomo._widgets._atoms_view import LEGEND_PREFIX
from napari_atomtomo._widgets.trace import TraceWidget

FAR_ATOM_ZYX = (-30.0, -30.0, -30.0)  # a true atom nowhere near the traced volume's atoms


@pytest.fixture
def traced(make_napari_viewer, qtbot, open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "synthetic_atoms_volume")
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Trace atoms")
    assert isinstance(widget, TraceWidget)
    truth = viewer.layers["atoms_true"]
    truth.add([FAR_ATOM_ZYX])  # one true atom no tracing can find: "missing 1"
    widget.volume.value = viewer.layers["atoms volume"]
    widget.truth.value = truth
    widget.method.value = "direct"
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=60_000):
        widget.run_button.click()
    yield viewer, widget
    if widget.runner.busy:
        widget.runner.cancel()


def _click(plot, x, y, qtbot):
    """A real mouse click on the plot canvas at data point (x, y) of its axes."""
    canvas = plot.canvas
    canvas.draw()
    ax = plot.axes if not isinstance(plot.axes, list) else plot.axes[0]
    px, py = ax.transData.transform((x, y))
    ratio = canvas.device_pixel_ratio
    pos = QPoint(round(px / ratio), round((canvas.figure.bbox.height - py) / ratio))
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pos)


@pytest.mark.slow
def test_missing_atoms_are_counted_and_marked(traced):
    viewer, widget = traced
    assert "missing 1, extra 0" in widget.summary.text()
    marker = viewer.layers["atoms volume atoms missing"]
    # at the true place, in the traced atoms' frame (the comparison's global offset added)
    offset_zyx = widget._outcome.comparison.offset_A[::-1]
    np.testing.assert_allclose(marker.data, [np.add(FAR_ATOM_ZYX, offset_zyx)], atol=1e-6)
    assert marker.metadata["atomtomo"]["count"] == 1
    assert "atoms volume atoms extra" not in viewer.layers
    # a tighter resolution makes traced atoms misplaced: they are ringed on the canvas
    widget.resolution.value = 0.01
    n_far = int(widget._outcome.comparison.misplaced.sum())
    assert n_far > 0 and len(viewer.layers["atoms volume atoms misplaced"].data) == n_far
    assert f"misplaced {n_far} " in widget.summary.text()


@pytest.mark.slow
def test_legend_and_per_element_show_hide(traced, qtbot):
    viewer, widget = traced
    overlays = viewer.canvas.overlays
    layer = viewer.layers["atoms volume atoms"]
    # the legend names the visible atoms' elements in their own colours (made in turns
    # after the layer's own, see test_legend_is_made_after_the_layer_one_overlay_a_turn)
    qtbot.waitUntil(lambda: widget.legend.entries == {"Si": "● Si 20", "O": "● O 40"},
                    timeout=5000)
    for el in ("Si", "O"):
        overlay = overlays[LEGEND_PREFIX + el]
        assert overlay.visible
        np.testing.assert_allclose(overlay.color[:3], [int(element_color(el)[i:i + 2], 16) / 255
                                                       for i in (1, 3, 5)], atol=1e-3)
    # markers: element-sized (0.6-0.8 Å), no border, see-through
    sizes = dict(zip(layer.features["element"], layer.size))
    assert 0.6 <= sizes["O"] < sizes["Si"] <= 0.8
    assert layer.opacity < 1 and np.all(layer.border_width == 0)
    # hiding O: its atoms are not shown and it leaves the legend
    widget.toggles.boxes["O"].setChecked(False)
    els = np.asarray(layer.features["element"])
    assert not layer.shown[els == "O"].any() and layer.shown[els == "Si"].all()
    qtbot.waitUntil(lambda: not widget.legend.pending, timeout=5000)
    assert not overlays[LEGEND_PREFIX + "O"].visible and widget.legend.entries == {"Si": "● Si 20"}
    widget.toggles.boxes["O"].setChecked(True)
    assert layer.shown.all()


@pytest.mark.slow
def test_plots_and_atoms_are_linked_both_ways(traced, qtbot):
    viewer, widget = traced
    layer = viewer.layers["atoms volume atoms"]
    intensity = layer.features["intensity"].to_numpy()
    assert np.all(np.diff(intensity) <= 0)  # brightest first, as the plots
    # clicking peak number 3 selects atom 2 and moves the view onto it
    _click(widget.peaks_plot, 3, widget.peaks_plot.intensities[2], qtbot)
    assert layer.selected_data == {2}
    world = layer.data[2] * layer.scale + layer.translate
    dims = viewer.dims
    assert dims.point[dims.not_displayed[-1]] == pytest.approx(world[0], abs=0.5)
    np.testing.assert_allclose(viewer.scene.camera.center[-2:], world[1:], atol=1e-6)
    # clicking a deviation selects that atom
    dev = widget._outcome.comparison.deviation_A
    _click(widget.deviation_plot, 7, dev[7], qtbot)
    assert layer.selected_data == {7}
    # selecting on the canvas side rings the atom in both plots
    layer.selected_data = {11}
    assert widget.links.ringed == 2
    ring = widget.links._rings[0]
    assert tuple(np.asarray(ring.get_offsets())[0]) == pytest.approx(
        (12, widget.peaks_plot.intensities[11]))


@pytest.mark.slow
def test_plot_legends_sit_above_the_data(traced):
    _, widget = traced
    for plot in (widget.peaks_plot, widget.deviation_plot):
        plot.canvas.draw()
        ax = plot.axes
        legend = ax.get_legend().get_window_extent()
        assert legend.y0 >= ax.get_window_extent().y1 - 1  # above the axes, not on the data
