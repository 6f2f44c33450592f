"""Workflow-aware defaults (issue 14): every dock's input picks the newest suitable layer,
follows the workflow as results arrive, and keeps what the user chose."""

from __future__ import annotations

import numpy as np
import pytest

from napari_atomtomo._layers import image_layer_data, layer_info, series_array
from napari_atomtomo._widgets._base import add_or_replace_layers

PLUGIN = "napari-atomtomo"


def _dock(viewer, name):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    return widget


def _names(layers):
    return [layer.name for layer in layers]


def _map(viewer, element, algorithm="hebt"):
    add_or_replace_layers(viewer, image_layer_data(
        np.ones((97, 1, 97), np.float32), 60.0, f"map_{element}", algorithm, {}, ["haadf_aligned"],
        kind="volume", element=element))


@pytest.mark.slow
def test_docks_follow_the_workflow_and_keep_the_users_choice(make_napari_viewer, qtbot, open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "agau_phantom")
    phantoms = [viewer.layers.pop(viewer.layers.index(n)) for n in ("phantom_Ag", "phantom_Au")]
    align, est, sirt, trace, quantify, pre = (_dock(viewer, n) for n in (
        "Align tilt series", "EST reconstruction", "SIRT / HEBT", "Trace atoms",
        "Quantify (ESF threshold)", "Preprocess tilt series"))

    # Only tilt series: each series dock picks the HAADF series; Trace picks none (it
    # would refuse a tilt series) and says what it needs.
    for widget in (align, est, pre):
        assert widget.series.value is viewer.layers["haadf"]
    assert sirt.haadf.value is viewer.layers["haadf"]
    assert _names(sirt.eds.value) == ["eds_Ag", "eds_Au"]
    assert trace.volume.value is None
    assert trace.reason.text() == "open a reconstructed 3D volume (z, y, x) to trace"
    assert list(quantify.maps.value) == []

    # Align all three series for real: reconstructions move to the aligned ones.
    align.others.value = [viewer.layers["eds_Ag"], viewer.layers["eds_Au"]]
    assert align.run_button.isEnabled(), align.reason.text()
    with qtbot.waitSignal(align.runner.finished, timeout=60_000):
        align.run_button.click()
    assert layer_info(viewer.layers["haadf_aligned"])["algorithm"] == "align"
    assert est.series.value is viewer.layers["haadf_aligned"]
    assert sirt.haadf.value is viewer.layers["haadf_aligned"]
    assert _names(sirt.eds.value) == ["eds_Ag_aligned", "eds_Au_aligned"]
    assert align.series.value is viewer.layers["haadf"]  # not the result: it is aligned
    assert trace.volume.value is None

    # Preprocessing the aligned series keeps it "aligned" (its source was).
    add_or_replace_layers(viewer, image_layer_data(
        series_array(viewer.layers["haadf_aligned"]), 60.0, "haadf_aligned_pre", "preprocess", {},
        ["haadf_aligned"], kind="tilt_series",
        angles_deg=layer_info(viewer.layers["haadf_aligned"])["angles_deg"]))
    assert est.series.value is viewer.layers["haadf_aligned_pre"]

    # Volumes: Trace takes the newest one, Quantify the newest map of each element.
    viewer.layers.extend(phantoms)
    assert trace.volume.value is viewer.layers["phantom_Au"]
    _map(viewer, "Ag")
    _map(viewer, "Au")
    assert trace.volume.value is viewer.layers["map_Au"]
    assert _names(quantify.maps.value) == ["map_Ag", "map_Au"]
    assert quantify.elements.value == "Ag, Au"
    # Weight fractions are not something to trace.
    add_or_replace_layers(viewer, image_layer_data(
        np.ones((97, 1, 97), np.float32), 60.0, "wt_Au", "quantify", {}, ["map_Au"],
        kind="volume", element="Au"))
    assert trace.volume.value is viewer.layers["map_Au"]

    # What the user picks stays picked while it exists, whatever is added ...
    est.series.value = viewer.layers["haadf"]
    trace.volume.value = viewer.layers["phantom_Ag"]
    add_or_replace_layers(viewer, image_layer_data(
        series_array(viewer.layers["haadf_aligned"]), 60.0, "haadf_aligned_2", "align", {},
        ["haadf"], kind="tilt_series",
        angles_deg=layer_info(viewer.layers["haadf_aligned"])["angles_deg"]))
    _map(viewer, "Cu")
    assert est.series.value is viewer.layers["haadf"]
    assert trace.volume.value is viewer.layers["phantom_Ag"]
    # ... and when it is removed the dock follows the workflow again.
    viewer.layers.remove("haadf")
    assert est.series.value is viewer.layers["haadf_aligned_2"]
    viewer.layers.remove("phantom_Ag")
    assert trace.volume.value is viewer.layers["map_Cu"]
