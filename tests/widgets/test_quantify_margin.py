"""The Quantify dock's "region margin (voxels)" (issue 12): the field of ``--region-margin``
(auto or voxels, 0 = off) from the QuantifyParams spec, shown in the read-out with its voxels,
Å and source, stored in the ``wt_`` layers' metadata and carried in "Copy as command"."""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from blurred_regions import blurred_core_shell
from napari.layers import Layer

from napari_atomtomo._layers import image_layer_data
from napari_atomtomo.cli import build_parser
from napari_atomtomo.cli._params import read_params
from napari_atomtomo.core.params import param_specs
from napari_atomtomo.core.quantify import QuantifyParams, quantify_maps, summed_map
from napari_atomtomo.core.region_margin import region_composition

VS = 15.0


@pytest.fixture
def loaded(make_napari_viewer):
    maps, labels, truth = blurred_core_shell(2, sigma=1.5)
    viewer = make_napari_viewer()
    for el, m in maps.items():
        viewer.add_layer(Layer.create(*image_layer_data(
            m, VS, f"map_{el}", "hebt", {}, [f"eds_{el}"], element=el, colormap="gray")))
    viewer.add_labels(labels.astype(np.int32), name="regions", scale=(VS,) * 3,
                      units=("angstrom",) * 3)
    _, w = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Quantify (ESF threshold)")
    w.regions.value = viewer.layers["regions"]
    return viewer, w, maps, labels, truth


def _wt_meta(viewer):
    return viewer.layers["wt_Zn"].metadata["atomtomo"]


@pytest.mark.slow
def test_region_margin_field_readout_metadata_and_command(loaded, qtbot):
    viewer, w, maps, labels, truth = loaded
    spec, default = param_specs(QuantifyParams)["region_margin"]
    assert w.margin.label == spec.label == "region margin (voxels)" and default == "auto"
    assert w.margin.value == "auto" and w.kind.value == "hebt"
    with qtbot.waitSignal(w.runner.finished, timeout=20_000):
        w.run_button.click()
    ref = quantify_maps(maps, "hebt")
    summed = summed_map(maps, "hebt")[0]
    want, _, info = region_composition(ref.weight_fractions, ref.mask, labels, summed=summed,
                                       voxel_size=VS)
    qtbot.waitUntil(lambda: "wt_Zn" in viewer.layers
                    and (_wt_meta(viewer).get("region_margin") or {}).get("requested") == "auto",
                    timeout=5000)
    rec = _wt_meta(viewer)
    assert rec["parameters"]["region_margin"] == "auto"
    assert info["margin_voxels"] > 1
    assert rec["region_margin"]["margin_voxels"] == pytest.approx(info["margin_voxels"])
    assert rec["regions"]["1"]["mean"]["Zn"] == pytest.approx(want["1"]["mean"]["Zn"], rel=1e-5)
    text = w.readout.text()
    assert (f"region margin {info['margin_voxels']:.2f} voxels = "
            f"{VS * info['margin_voxels']:.3g} Å (auto: 2 σ of the blur") in text
    # 0 = off: every painted voxel, re-averaged without a new run
    w.margin.value = "0"
    qtbot.waitUntil(lambda: _wt_meta(viewer)["region_margin"]["margin_voxels"] == 0,
                    timeout=5000)
    off, _, _ = region_composition(ref.weight_fractions, ref.mask, labels, summed=summed,
                                   margin=0, voxel_size=VS)
    rec = _wt_meta(viewer)
    assert rec["parameters"]["region_margin"] == 0.0
    assert rec["regions"]["1"]["mean"]["Zn"] == pytest.approx(off["1"]["mean"]["Zn"], rel=1e-5)
    assert abs(off["1"]["mean"]["Zn"] - truth["1"]) > abs(want["1"]["mean"]["Zn"] - truth["1"])
    assert "region margin 0.00 voxels = 0 Å (off: every painted voxel)" in w.readout.text()
    # Copy as command: --regions and --region-margin, parsed back to the same parameters
    w.margin.value = "2.5"
    command = w.command_line()
    assert "--regions regions.mrc --region-margin 2.5" in command
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert read_params(QuantifyParams, args) == QuantifyParams("hebt", region_margin=2.5)
    w.margin.value = "-1"  # refused with the CLI's reason
    assert not w.run_button.isEnabled()
    assert "--region-margin must be 'auto' or a finite number" in w.reason.text()
    w.regions.value = None  # no regions: no margin on the command line
    w.margin.value = "auto"
    assert "--region" not in w.command_line()
