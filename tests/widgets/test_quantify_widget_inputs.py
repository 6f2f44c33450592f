"""Quantify widget: smoothing field, HAADF series for the particle, standard errors from the
maps' resamples/ folder (the CLI's --smooth, --haadf and replicas)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Layer

from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._widgets.quantify import QuantifyWidget
from napari_atomtomo.core.quantify import QuantifyParams, quantify_maps
from napari_atomtomo.core.regions import particle_from_series, region_statistics
from napari_atomtomo.core.simulate.agau import simulate_agau
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds
from napari_atomtomo.io import write_mrc

VS = 15.0


@pytest.fixture(scope="module")
def agau():
    ds = simulate_agau(0)
    params = SirtParams(n_iter=20, yield_every=20)
    return ds, reconstruct_eds(ds.eds, ds.angles_deg, params), params


def _widget(make_napari_viewer, maps, params, folder=None):
    viewer = make_napari_viewer()
    for el, m in maps.items():
        meta = {} if folder is None else {"source_path": str(folder / f"map_{el}.mrc")}
        data, kwargs, kind = image_layer_data(m, VS, f"map_{el}", "eds", params, [f"eds_{el}"],
                                              element=el, colormap="gray", metadata=meta)
        viewer.add_layer(Layer.create(data, kwargs, kind))
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Quantify (ESF threshold)")
    assert isinstance(widget, QuantifyWidget)
    return viewer, widget


def _run(widget, qtbot):
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=60_000):
        widget.run_button.click()


@pytest.mark.slow
def test_smoothing_field_is_used_and_checked(make_napari_viewer, qtbot, agau):
    _, maps, params = agau
    viewer, widget = _widget(make_napari_viewer, maps, params)
    widget.smooth.value = "-1"
    widget.revalidate()
    assert not widget.run_button.isEnabled()
    assert "smoothing σ must be 'auto' or a number" in widget.reason.text()
    widget.smooth.value = "0"
    widget.revalidate()
    assert "--smooth 0 " in widget.command_line()
    _run(widget, qtbot)
    meta = viewer.layers["wt_Au"].metadata["atomtomo"]
    ref = quantify_maps(maps, params=QuantifyParams("eds", smooth_voxels=0.0))
    assert meta["smooth_voxels_used"] == 0.0
    assert meta["n_voxels"] == ref.n_voxels
    np.testing.assert_array_equal(viewer.layers["wt_Au"].data, ref.weight_fractions["Au"])


@pytest.mark.slow
def test_standard_errors_from_the_maps_resamples_folder(make_napari_viewer, qtbot, agau, tmp_path):
    _, maps, params = agau
    folder = tmp_path / "maps"
    for i, scale in enumerate((1.1, 0.9, 1.05)):
        sub = folder / "resamples" / f"{i:03d}"
        sub.mkdir(parents=True)
        for el, m in maps.items():
            write_mrc(sub / f"map_{el}.mrc", m * (scale if el == "Au" else 1.0), VS)
    viewer, widget = _widget(make_napari_viewer, maps, params, folder)
    _run(widget, qtbot)
    meta = viewer.layers["wt_Au"].metadata["atomtomo"]
    assert meta["resamples"] == 3 and meta["se_method"] == "poisson_resampling"
    # The spread of the replicas' means over the main mask, as atomtomo quantify computes it.
    ref = quantify_maps(maps, "eds")
    reps = []
    for scale in (1.1, 0.9, 1.05):
        r = {el: m * (scale if el == "Au" else 1.0) for el, m in maps.items()}
        reps.append(quantify_maps(r, params=QuantifyParams("eds", 0.0)).weight_fractions)
    expected = region_statistics(ref.weight_fractions, ref.mask, None, reps)["particle"]
    se = meta["regions"]["particle"]["standard_error"]
    assert se["Au"] == pytest.approx(expected["standard_error"]["Au"], rel=1e-4)
    assert se["Au"] > 0
    assert f"± {100 * se['Au']:.1f} wt %" in widget.readout.text()


@pytest.mark.slow
def test_haadf_series_gives_the_particle(make_napari_viewer, qtbot, agau):
    ds, maps, params = agau
    viewer, widget = _widget(make_napari_viewer, maps, params)
    widget.smooth.value = "auto"
    assert widget.haadf.value is None
    data, kwargs, kind = image_layer_data(ds.haadf, VS, "haadf", "simulate", {}, [],
                                          "tilt_series", angles_deg=ds.angles_deg)
    series = viewer.add_layer(Layer.create(data, kwargs, kind))
    widget.reset_choices()
    widget.haadf.value = series
    widget.revalidate()
    assert "--haadf" in widget.command_line()
    _run(widget, qtbot)
    meta = viewer.layers["wt_Au"].metadata["atomtomo"]
    shape = next(iter(maps.values())).shape
    particle, _, _ = particle_from_series(ds.haadf, ds.angles_deg, shape)
    assert meta["threshold_source"] == "haadf"
    assert meta["haadf"]["volume_voxels"] == int(particle.sum())
    assert meta["parameters"]["threshold_method"] == "particle"
    assert meta["support_source"] == "haadf"
    assert "particle from the HAADF series" in widget.readout.text()
    summed_pos = quantify_maps(maps, "eds", threshold=0.0).mask
    assert meta["n_voxels"] == int((particle & summed_pos).sum())


@pytest.mark.slow
def test_regions_stacked_along_the_beam_are_flagged_with_a_haadf_series(make_napari_viewer,
                                                                         qtbot, agau):
    # With the HAADF series the widget knows the tilt range (±75°): painted regions stacked
    # along z (top/bottom halves, a horizontal interface in the missing wedge) are flagged,
    # left/right halves are not (as atomtomo quantify --regions).
    ds, maps, params = agau
    viewer, widget = _widget(make_napari_viewer, maps, params)
    data, kwargs, kind = image_layer_data(ds.haadf, VS, "haadf", "simulate", {}, [],
                                          "tilt_series", angles_deg=ds.angles_deg)
    series = viewer.add_layer(Layer.create(data, kwargs, kind))
    widget.reset_choices()
    widget.haadf.value = series
    _run(widget, qtbot)
    shape = next(iter(maps.values())).shape
    z = np.arange(shape[0])[:, None, None] * np.ones(shape)
    x = np.arange(shape[2])[None, None, :] * np.ones(shape)
    particle = ds.phantoms["Au"] + ds.phantoms["Ag"] > 0
    stacked = np.where(particle, np.where(z < shape[0] / 2, 1, 2), 0).astype(np.int32)
    labels = viewer.add_labels(stacked, name="regions", scale=(VS,) * 3)
    widget.reset_choices()
    widget.regions.value = labels
    qtbot.waitUntil(lambda: "reliability" in ((viewer.layers["wt_Au"].metadata["atomtomo"]
                                               .get("regions") or {}).get("1") or {}), timeout=5000)
    reg = viewer.layers["wt_Au"].metadata["atomtomo"]["regions"]
    assert not reg["1"]["reliability"]["reliable"] and not reg["2"]["reliability"]["reliable"]
    assert "composition of region 1 is unreliable" in widget.readout.text()
    side = np.where(particle, np.where(x < shape[2] / 2, 1, 2), 0).astype(np.int32)
    labels.data = side
    qtbot.waitUntil(lambda: viewer.layers["wt_Au"].metadata["atomtomo"]["regions"]["1"]
                    ["reliability"]["reliable"], timeout=5000)
    assert "unreliable" not in widget.readout.text()
