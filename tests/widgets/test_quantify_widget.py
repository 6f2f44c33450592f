"""The Quantify (ESF threshold) widget on paper 002's Ag–Au phantom.

The element maps are a quick EDS SIRT (20 iterations) of the simulated sinograms, made
once per module. The widget's live re-thresholding must equal ``quantify_maps`` bit for
bit; the quantified particle must be the phantom's (core ≈ 80 wt% Au, shell ≈ 20 wt%).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent
from matplotlib.colors import to_rgba

from napari_atomtomo._colors import element_color
from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._widgets.quantify import QuantifyWidget
from napari_atomtomo.core.quantify import quantify_maps, summed_map
from napari_atomtomo.core.region_margin import region_composition
from napari_atomtomo.core.simulate.agau import simulate_agau
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds
from napari_atomtomo.jobs.quantify import (
    element_of_layer,
    format_volume,
    iter_quantify_job,
    parse_elements,
)

VS = 15.0  # Å: the phantom's 1.5 nm pixels


@pytest.fixture(scope="module")
def agau():
    ds = simulate_agau(0)
    params = SirtParams(n_iter=20, yield_every=20)
    maps = reconstruct_eds(ds.eds, ds.angles_deg, params)
    return ds, maps, params


def run_job(maps, kind="eds", factors=None):
    gen = iter_quantify_job(maps, kind, factors)
    stages = []
    while True:
        try:
            stages.append(next(gen))
        except StopIteration as stop:
            return stages, stop.value


# ---------------------------------------------------------------------- Qt-free model
@pytest.mark.parametrize("kind", ["eds", "hebt"])
def test_picker_equals_quantify_maps_at_any_threshold(agau, kind):
    _, maps, _ = agau
    stages, picker = run_job(maps, kind)
    assert [s.iteration for s in stages] == [1, 2, 3]
    auto = quantify_maps(maps, kind)
    assert picker.auto_threshold == auto.threshold
    for t in (auto.threshold, 0.5 * auto.threshold, 1.7 * auto.threshold, 0.0):
        ref = quantify_maps(maps, kind, threshold=t)
        got = picker.weight_fractions(t)
        assert np.count_nonzero(picker.mask(t)) == ref.n_voxels
        for el in maps:
            np.testing.assert_array_equal(got[el], ref.weight_fractions[el])


def test_model_helpers_known_answers():
    assert element_of_layer("map_Au", {}) == "Au"
    assert element_of_layer("recon", {"atomtomo": {"element": "Co"}}) == "Co"
    assert element_of_layer("mapAu", None) is None
    assert parse_elements(" Ag, Au;Co  Zn ") == ["Ag", "Au", "Co", "Zn"]
    assert format_volume(2695, 15.0) == "2695 voxels = 9096 nm³"  # 2695 × 3375 Å³
    assert format_volume(3, 2.0) == "3 voxels = 24 Å³"


def test_job_rejects_zero_maps():
    gen = iter_quantify_job({"Ag": np.zeros((4, 4)), "Au": -np.ones((4, 4))}, "eds")
    with pytest.raises(ValueError, match="all maps are zero"):
        next(gen)


# ---------------------------------------------------------------------- the widget
def _layer(m, el, algorithm, params):
    from napari.layers import Layer

    data, kwargs, kind = image_layer_data(m, VS, f"map_{el}", algorithm, params, [f"eds_{el}"],
                                          element=el, colormap="gray")
    return Layer.create(data, kwargs, kind)


@pytest.fixture
def quantify(make_napari_viewer, agau):
    viewer = make_napari_viewer()
    _, maps, params = agau
    for el, m in maps.items():
        viewer.add_layer(_layer(m, el, "eds", params))
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Quantify (ESF threshold)")
    assert isinstance(widget, QuantifyWidget)
    return viewer, widget


def _run(widget, qtbot):
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=20_000):
        widget.run_button.click()


def test_opens_with_the_maps_selected(quantify):
    _, widget = quantify
    assert [lyr.name for lyr in widget.maps.value] == ["map_Ag", "map_Au"]
    assert widget.elements.value == "Ag, Au"
    assert widget.kind.value == "eds"
    assert widget.run_button.isEnabled(), widget.reason.text()
    assert widget.command_line() == (
        "atomtomo quantify maps_dir --kind eds --threshold auto --smooth auto --out quantified")
    # Maps made by HEBT select kind hebt; maps read from one folder give that folder.
    layers = list(widget.maps.value)
    for layer in layers:
        rec = layer.metadata["atomtomo"]
        layer.metadata = {"atomtomo": {**rec, "algorithm": "hebt",
                                       "source_path": f"/data/run 1/{layer.name}.mrc"}}
    widget.maps.value = []
    widget.maps.value = layers
    assert widget.kind.value == "hebt"
    assert widget.command_line() == (
        "atomtomo quantify '/data/run 1' --kind hebt --threshold auto --smooth auto "
        "--out quantified")


@pytest.mark.slow
def test_quantify_makes_weight_fraction_layers(quantify, qtbot, agau):
    viewer, widget = quantify
    ds, maps, _ = agau
    _run(widget, qtbot)
    ref = quantify_maps(maps, "eds")
    for el in ("Ag", "Au"):
        layer = viewer.layers[f"wt_{el}"]
        assert layer.data.shape == (97, 1, 97) and layer.data.dtype == np.float32
        np.testing.assert_array_equal(layer.data, ref.weight_fractions[el])
        assert tuple(layer.scale) == pytest.approx((VS,) * 3)
        assert layer.axis_labels == ("z", "y", "x")
        assert tuple(layer.contrast_limits) == (0.0, 1.0)
        assert layer.colormap.name == f"wt-{el}"
        top = layer.colormap.map(np.array([1.0]))[0]
        np.testing.assert_allclose(top, to_rgba(element_color(el)), atol=1e-6)
        rec = layer.metadata["atomtomo"]
        assert rec["algorithm"] == "quantify" and rec["element"] == el
        assert rec["source_layers"] == ["map_Ag", "map_Au"]
        assert rec["parameters"] == {"kind": "eds", "factors": None, "threshold": ref.threshold,
                                     "n_thresholds": 100, "smooth_voxels": "auto",
                                     "region_margin": "auto",  # the QuantifyParams spec
                                     "threshold_method": "esf", "esf_threshold": ref.threshold}
        assert rec["n_voxels"] == ref.n_voxels
        # How the threshold was chosen, and the particle's composition, travel with the layer.
        assert rec["fallback"] is False and rec["auto_threshold_method"] == "esf"
        assert rec["fit_quality"] == ref.esf.summary()["quality"] and rec["fit_quality"]["good"]
        assert rec["smooth_voxels_used"] == 1.0 and rec["warnings"] == []
        assert rec["regions"]["particle"]["n_voxels"] == ref.n_voxels
        assert rec["regions"]["particle"]["mean"][el] == pytest.approx(
            float(ref.weight_fractions[el][ref.mask].mean()))
    # The particle is the phantom's, with its core and shell compositions.
    particle = (ds.phantoms["Ag"] + ds.phantoms["Au"]) > 0
    core = ds.phantoms["Au"] > 0.5
    inside = ref.mask
    # (the half-maximum edge keeps a few partial-volume voxels just outside the disc)
    assert np.count_nonzero(inside & ~particle) < 0.02 * particle.sum()
    assert inside.sum() > 0.95 * particle.sum()
    au = viewer.layers["wt_Au"].data
    assert 0.65 < au[core & inside].mean() < 0.85
    assert 0.15 < au[particle & ~core & inside].mean() < 0.35
    widget.reset_choices()  # results are not offered as inputs
    assert [lyr.name for lyr in widget.maps.choices] == ["map_Ag", "map_Au"]
    # Plot, line, read-out.
    assert widget.plot.threshold == pytest.approx(ref.threshold)
    assert len(widget.plot.axes.lines) == 4  # measured, fit, ESF mark, draggable line
    assert f"particle {format_volume(ref.n_voxels, VS)}" in widget.readout.text()
    assert widget.threshold_edit.text() == f"{ref.threshold:.6g}"


def _click(plot, t):
    ax = plot.axes
    y = np.mean(ax.get_ylim())
    x_px, y_px = ax.transData.transform((t, y))
    for name in ("button_press_event", "button_release_event"):
        MouseEvent(name, plot.canvas, x_px, y_px, button=1)._process()


@pytest.mark.slow
def test_dragging_the_threshold_updates_layers_live(quantify, qtbot, agau):
    viewer, widget = quantify
    _, maps, _ = agau
    _run(widget, qtbot)
    auto = widget.picker.auto_threshold
    before = viewer.layers["wt_Au"].data.copy()
    for t in (0.9 * auto, 0.6 * auto, 0.5 * auto):  # a drag: debounced, applied once
        widget.plot.threshold_changed.emit(t)
    np.testing.assert_array_equal(viewer.layers["wt_Au"].data, before)
    ref = quantify_maps(maps, "eds", threshold=0.5 * auto)
    qtbot.waitUntil(lambda: np.array_equal(viewer.layers["wt_Au"].data, ref.weight_fractions["Au"]),
                    timeout=3000)
    rec = viewer.layers["wt_Au"].metadata["atomtomo"]
    assert rec["parameters"]["threshold_method"] == "user"
    assert rec["n_voxels"] == ref.n_voxels > np.count_nonzero(before)
    assert f"--threshold {0.5 * auto:.10g}" in widget.command_line()
    # A click on the plot moves the line there; release applies at once.
    _click(widget.plot, 1.5 * auto)
    t = widget.plot.threshold
    assert t == pytest.approx(1.5 * auto, rel=0.02)
    np.testing.assert_array_equal(viewer.layers["wt_Ag"].data,
                                  quantify_maps(maps, "eds", threshold=t).weight_fractions["Ag"])
    # Typing a value, then going back to the ESF threshold.
    widget.threshold_edit.setText("0")
    widget.threshold_edit.editingFinished.emit()
    assert viewer.layers["wt_Ag"].metadata["atomtomo"]["parameters"]["threshold"] == 0.0
    widget.auto_button.click()
    np.testing.assert_array_equal(viewer.layers["wt_Au"].data,
                                  quantify_maps(maps, "eds").weight_fractions["Au"])
    assert widget.command_line().endswith("--threshold auto --smooth auto --out quantified")


def test_cancel_leaves_no_layers(quantify, qtbot):
    viewer, widget = quantify
    with qtbot.waitSignal(widget.runner.cancelled, timeout=20_000):
        widget.run_button.click()
        widget.runner.cancel_button.click()
    assert "wt_Ag" not in viewer.layers and "wt_Au" not in viewer.layers
    assert widget.picker is None and "cancelled" in widget.runner.status.text()
    assert widget.run_button.isEnabled()


def test_invalid_inputs_disable_run_with_the_reason(quantify, tmp_path):
    viewer, widget = quantify

    def reason():
        assert not widget.run_button.isEnabled()
        return widget.reason.text()

    widget.elements.value = "Ag"
    assert reason() == "give one element per selected map: 2 maps but 1 element(s) in 'elements'"
    widget.elements.value = "Ag, Xx"
    assert "unknown element 'Xx'" in reason()
    widget.elements.value = "Ag, Ag"
    assert reason() == "each element may appear once in 'elements', got Ag, Ag"
    widget.elements.value = "Ag, Pt"
    assert "no 'f' factor for element 'Pt'" in reason()
    factors = tmp_path / "pt.json"
    factors.write_text(json.dumps({"Pt": {"z": 1.0e5, "f": 1.1}}))
    widget.factors.value = factors
    assert widget.run_button.isEnabled(), widget.reason.text()
    assert f"--factors {factors}" in widget.command_line()
    widget.factors.value = tmp_path / "missing.json"
    assert reason().endswith("missing.json does not exist")
    widget.factors.value = tmp_path
    assert reason() == f"{tmp_path} is a folder; choose a JSON factor file or clear the field"
    widget.factors.line_edit.value = ""  # what clearing the field gives
    widget.elements.value = "Ag, Au"
    viewer.layers["map_Au"].data = np.full((97, 1, 97), np.nan, np.float32)
    assert widget.run_button.isEnabled()  # an input change checks shapes, never scans values
    widget.run_button.click()  # the values are checked on Run: no job starts
    assert reason() == "map_Au contains NaN or infinite values" and not widget.runner.busy
    viewer.add_image(np.ones((5, 5), np.float32), name="other")
    widget.reset_choices()
    widget.maps.value = [viewer.layers["map_Ag"], viewer.layers["other"]]
    assert widget.elements.value == "Ag, ?"
    assert reason() == "could not tell the element of 'other'; type it in 'elements'"
    widget.elements.value = "Ag, Au"
    assert reason() == "other has shape (5, 5) but map_Ag has (97, 1, 97)"
    widget.maps.value = []
    assert reason() == "select the element-map layers to quantify (e.g. map_Ag and map_Au)"


@pytest.mark.slow
def test_agau_sample_data(make_napari_viewer, open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "agau_phantom")
    assert [lyr.name for lyr in viewer.layers] == [
        "haadf", "eds_Ag", "eds_Au", "phantom_Ag", "phantom_Au"]
    for name in ("haadf", "eds_Ag", "eds_Au"):
        layer = viewer.layers[name]
        assert layer.data.shape == (31, 1, 97)  # a one-row series opens as its sinogram
        assert layer.metadata["atomtomo"]["display"] == "sinogram"
        # rows spread over the maps' height (96 voxels, 30 steps), beside the maps
        assert tuple(layer.scale) == pytest.approx((96 * VS / 30, VS, VS))
        assert layer.translate[2] > 96 * VS
        np.testing.assert_allclose(layer.metadata["atomtomo"]["angles_deg"], np.arange(-75, 76, 5))
    wt = viewer.layers["phantom_Au"].data + viewer.layers["phantom_Ag"].data
    assert viewer.layers["phantom_Au"].data.shape == (97, 1, 97)
    assert set(np.unique(wt)) == {0.0, 1.0}
    assert viewer.layers["eds_Au"].metadata["atomtomo"]["element"] == "Au"


def _mouse(qtbot, plot, t, action):
    """A real Qt mouse event on the canvas at threshold ``t`` (middle of the y range)."""
    from qtpy.QtCore import QPoint, Qt

    ax, canvas = plot.axes, plot.canvas
    x_px, y_px = ax.transData.transform((t, np.mean(ax.get_ylim())))
    ratio = canvas.device_pixel_ratio or 1.0
    pos = QPoint(int(round(x_px / ratio)), int(round(canvas.height() - y_px / ratio)))
    if action == "press":
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=pos)
    elif action == "move":
        qtbot.mouseMove(canvas, pos=pos)
    else:
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=pos)


@pytest.mark.slow
def test_dragging_the_line_below_zero_clamps_to_zero(quantify, qtbot, agau):
    # Issue 14: the V(t) axis starts below 0; a real drag there must not raise.
    viewer, widget = quantify
    _, maps, _ = agau
    _run(widget, qtbot)
    widget.plot.canvas.draw()
    lo = widget.plot.axes.get_xlim()[0]
    assert lo < 0
    auto = widget.picker.auto_threshold
    _mouse(qtbot, widget.plot, auto, "press")
    _mouse(qtbot, widget.plot, 0.5 * lo, "move")
    _mouse(qtbot, widget.plot, 0.5 * lo, "release")
    assert widget.threshold_edit.text() == "0"
    assert widget.plot.threshold == 0.0
    rec = viewer.layers["wt_Ag"].metadata["atomtomo"]
    assert rec["parameters"]["threshold"] == 0.0
    np.testing.assert_array_equal(viewer.layers["wt_Ag"].data,
                                  quantify_maps(maps, "eds", threshold=0.0).weight_fractions["Ag"])
    assert widget.readout.text().startswith("threshold 0 ")


@pytest.mark.slow
def test_painted_labels_give_the_composition_per_region(quantify, qtbot, agau):
    viewer, widget = quantify
    ds, maps, _ = agau
    _run(widget, qtbot)
    core = ds.phantoms["Au"] > 0.5
    labels = viewer.add_labels(np.where(core, 1, 0).astype(np.int32), name="regions",
                               scale=(VS,) * 3)
    widget.reset_choices()
    widget.regions.value = labels
    ref = quantify_maps(maps, "eds")
    # The same core function as atomtomo quantify --regions: away from the boundaries.
    summed = summed_map(maps, "eds")[0]
    comp, _, margin = region_composition(ref.weight_fractions, ref.mask, np.where(core, 1, 0),
                                         summed=summed, voxel_size=VS)
    expected = comp["1"]["mean"]["Au"]
    qtbot.waitUntil(lambda: (viewer.layers["wt_Au"].metadata["atomtomo"].get("regions") or {})
                    .get("1") is not None, timeout=3000)
    reg = viewer.layers["wt_Au"].metadata["atomtomo"]["regions"]
    assert reg["1"]["mean"]["Au"] == pytest.approx(expected, rel=1e-5)
    assert reg["1"]["n_voxels_used"] == comp["1"]["n_voxels_used"] < reg["1"]["n_voxels"]
    rec = viewer.layers["wt_Au"].metadata["atomtomo"]
    assert rec["region_margin"]["margin_voxels"] == pytest.approx(margin["margin_voxels"])
    assert rec["region_margin"]["margin_A"] == pytest.approx(VS * margin["margin_voxels"])
    assert f"Au {100 * expected:.1f} wt %" in widget.readout.text()
    # Painting a second region (what the brush does: data changed, event emitted) updates it.
    shell = (ds.phantoms["Ag"] > 0.5) & ~core
    data = labels.data.copy()
    data[shell] = 2
    labels.data = data
    qtbot.waitUntil(lambda: "2" in viewer.layers["wt_Au"].metadata["atomtomo"]["regions"],
                    timeout=3000)
    reg = viewer.layers["wt_Au"].metadata["atomtomo"]["regions"]
    comp, _, _ = region_composition(ref.weight_fractions, ref.mask, labels.data, summed=summed)
    assert reg["2"]["mean"]["Ag"] == pytest.approx(comp["2"]["mean"]["Ag"], rel=1e-5)


@pytest.mark.slow
def test_a_poor_fit_falls_back_with_a_warning(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    ramp = np.broadcast_to(np.linspace(0, 1, 48, dtype=np.float32), (48, 1, 48)).copy()
    for el in ("Ag", "Au"):  # featureless maps (a ramp): no plateau in V(t)
        viewer.add_layer(_layer(ramp, el, "eds", {"n_iter": 1}))
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Quantify (ESF threshold)")
    _run(widget, qtbot)
    rec = viewer.layers["wt_Au"].metadata["atomtomo"]
    assert rec["fallback"] is True and rec["auto_threshold_method"] == "otsu"
    assert rec["parameters"]["threshold_method"] == "otsu"
    assert any("fell back to Otsu" in w for w in rec["warnings"])
    assert "⚠" in widget.readout.text() and "fell back to Otsu" in widget.readout.text()
    assert "(Otsu)" in widget.readout.text()


@pytest.mark.slow
def test_weight_fractions_get_colour_bars_on_request_and_stay_readable(quantify, qtbot,
                                                                     monkeypatch):
    """A weight-fraction colour bar per wt_ layer by default; napari's bar costs the GUI
    thread 0.1-0.3 s per wt_ layer (its visual and a full redraw), so with the dock's box
    unticked a run makes none, and ticking it shows them at once."""
    from napari._vispy.overlays.colorbar import VispyColorBarOverlay

    made = []
    real_init = VispyColorBarOverlay.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(VispyColorBarOverlay, "__init__", counting_init)
    viewer, widget = quantify
    assert widget.colour_bars.isChecked()  # on by default
    widget.colour_bars.setChecked(False)
    _run(widget, qtbot)
    qtbot.waitUntil(lambda: all(f"wt_{el}" in viewer.layers for el in ("Ag", "Au")))
    assert not any(viewer.layers[f"wt_{el}"].colorbar.visible for el in ("Ag", "Au"))
    assert made == []
    widget.colour_bars.setChecked(True)
    for el in ("Ag", "Au"):
        bar = viewer.layers[f"wt_{el}"].colorbar
        assert bar.visible and str(bar.position) == "bottom_right"
        # the maps under the additive wt_ layers are hidden (they washed them out), and
        # the read-out says so
        assert not viewer.layers[f"map_{el}"].visible
    qtbot.waitUntil(lambda: len(made) == 2)  # napari makes the bars' visuals now
    widget.colour_bars.setChecked(False)
    assert not any(viewer.layers[f"wt_{el}"].colorbar.visible for el in ("Ag", "Au"))
    assert "map_Ag, map_Au hidden under the wt_ layers" in widget.readout.text()
    # a map shown again stays shown while the threshold moves
    viewer.layers["map_Ag"].visible = True
    widget.set_threshold(0.8 * widget.picker.auto_threshold, immediate=True)
    assert viewer.layers["map_Ag"].visible
