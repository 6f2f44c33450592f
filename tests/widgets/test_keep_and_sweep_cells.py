"""Comparing settings: "Keep result" freezes a result under a name with its parameters,
a new result hides the kept copies it supersedes, and a click on a sweep heat-map cell
shows that cell's maps (a real mouse click on the plot canvas)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Layer
from qtpy.QtCore import QPoint, Qt
from test_sirt_hebt_widget import agau, agau_layers, loaded, run, widget  # noqa: F401

from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._widgets._results import result_tag
from napari_atomtomo._widgets._sweep_view import FONT_PT
from napari_atomtomo.core.hebt import HebtParams, reconstruct_hebt


def test_result_tag_names_algorithm_and_parameters():
    def tag(algorithm, params):
        return result_tag(Layer.create(*image_layer_data(
            np.zeros((2, 2, 2), np.float32), 1.0, "x", algorithm, params)))

    assert tag("hebt", {"alpha": 0.8, "n_iter": 200, "relaxation": 1.0}) == "HEBT α0.8 n200"
    assert tag("sirt", {"n_iter": 100, "relaxation": 0.5}) == "SIRT n100 λ0.5"
    assert tag("est", {"n_iter": 20, "n_iter_tight": 10}) == "EST n20+10"


@pytest.mark.slow
def test_keep_result_freezes_maps_and_a_new_run_hides_them(loaded, qtbot):  # noqa: F811
    viewer, w = loaded
    assert not w.keep_button.isEnabled()  # nothing to keep yet
    w.alpha.value, w.n_iter.value = 0.8, 6
    run(w, qtbot)
    first = {el: np.array(viewer.layers[f"map_{el}"].data) for el in ("Ag", "Au")}
    assert w.keep_button.isEnabled()
    w.keep_button.click()
    kept = {el: viewer.layers[f"map_{el} [HEBT α0.8 n6]"] for el in ("Ag", "Au")}
    for el, layer in kept.items():
        np.testing.assert_array_equal(layer.data, first[el])
        assert layer.visible and not viewer.layers[f"map_{el}"].visible
        rec = layer.metadata["atomtomo"]
        assert rec["kept_from"] == f"map_{el}" and rec["parameters"]["alpha"] == 0.8
        assert layer.colormap.name == viewer.layers[f"map_{el}"].colormap.name

    w.alpha.value = 0.2
    run(w, qtbot)
    for el, layer in kept.items():
        live = viewer.layers[f"map_{el}"]
        assert live.visible and not layer.visible  # the new result is the one on screen
        assert live.metadata["atomtomo"]["parameters"]["alpha"] == 0.2
        np.testing.assert_array_equal(layer.data, first[el])  # the copy did not follow
        assert not np.allclose(live.data, first[el])
    w.keep_button.click()  # a second copy gets its own name
    assert "map_Au [HEBT α0.2 n6]" in viewer.layers


@pytest.mark.slow
def test_clicking_a_sweep_cell_shows_its_maps(loaded, qtbot, agau):  # noqa: F811
    viewer, w = loaded
    w.sweep.value = True
    w.alphas.value = "0, 0.5, 1"
    w.n_values.value = "2, 4"
    run(w, qtbot)
    res = w.last_sweep
    assert "map_Ag" not in viewer.layers
    canvas, ax = w.plot.canvas, w.plot.axes[0]
    canvas.draw()
    # readable heat maps: every tick label and cell value is at least 9 pt
    sizes = [t.get_fontsize() for a in w.plot.axes for t in
             (*a.get_xticklabels(), *a.get_yticklabels(), *a.texts)]
    assert sizes and min(sizes) >= FONT_PT
    assert len(ax.texts) == res.alphas.size * res.n_values.size  # a value in every cell
    # a real click on the cell α = 0.5, n = 4 (column 1, row 1)
    x, y = ax.transData.transform((1, 1))
    ratio = canvas.device_pixel_ratio
    pos = QPoint(round(x / ratio), round((canvas.figure.bbox.height - y) / ratio))
    with qtbot.waitSignal(w.runner.finished, timeout=30_000):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=pos)
    assert w.sweep_view.picked == (1, 1)
    assert "α = 0.5, n = 4" in w.sweep_view.note.text()
    want = reconstruct_hebt(agau.haadf, agau.eds, agau.angles_deg,
                            HebtParams(alpha=0.5, n_iter=4), ratios=res.ratios).maps
    for el in ("Ag", "Au"):
        layer = viewer.layers[f"map_{el}"]
        np.testing.assert_allclose(layer.data, want[el], rtol=1e-4, atol=1e-6)
        params = layer.metadata["atomtomo"]["parameters"]
        assert params["alpha"] == pytest.approx(0.5) and params["n_iter"] == 4
    assert w.plot.axes[0].images  # the heat maps stay on screen
