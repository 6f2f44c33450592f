"""The "SIRT / HEBT" widget on a small Ag–Au phantom: SIRT, EDS, HEBT, sweep, cancel, bad input.

Every job's layers are compared with the synchronous core functions run on the same
arrays (the widget must add nothing to the science), and the sweep's heat-map values with
the metrics computed directly from a HEBT run.
"""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtGui import QGuiApplication

from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._widgets._base import INVALID_STYLE, add_or_replace_layers
from napari_atomtomo._widgets.sirt_hebt import (
    EDS,
    HEBT,
    SIRT,
    SirtHebtWidget,
    element_of,
    parse_ratios,
)
from napari_atomtomo.cli import build_parser
from napari_atomtomo.core.hebt import HebtParams, fit_response_ratios, reconstruct_hebt
from napari_atomtomo.core.metrics import mse_scaled, ssim_structure
from napari_atomtomo.core.quantify import quantify_maps
from napari_atomtomo.core.simulate.agau import AgAuParams, simulate_agau
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds, reconstruct_sirt
from napari_atomtomo.jobs.sweep import parse_alphas, parse_n_values, parse_sweep

#: 25 px of 6 nm (60 Å), 11 tilts of 15°: the paper's phantom, coarsely sampled.
SMALL = AgAuParams(n_pixels=25, pixel_size_nm=6.0, angle_step_deg=15.0)


@pytest.fixture(scope="module")
def agau():
    return simulate_agau(0, SMALL)


def agau_layers(ds):
    layers = [image_layer_data(ds.haadf, ds.voxel_size, "haadf", "sample", {},
                               kind="tilt_series", angles_deg=ds.angles_deg)]
    layers += [image_layer_data(s, ds.voxel_size, f"eds_{el}", "sample", {}, kind="tilt_series",
                                angles_deg=ds.angles_deg, element=el) for el, s in ds.eds.items()]
    layers += [image_layer_data(p, ds.voxel_size, f"phantom_{el}", "sample", {}, kind="volume",
                                element=el) for el, p in ds.phantoms.items()]
    return layers


@pytest.fixture
def widget(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    _, w = viewer.window.add_plugin_dock_widget("napari-atomtomo", "SIRT / HEBT")
    assert isinstance(w, SirtHebtWidget)
    yield viewer, w
    if w.runner.busy:
        w.runner.cancel()
        qtbot.waitUntil(lambda: not w.runner.busy, timeout=10_000)


@pytest.fixture
def loaded(widget, agau):
    viewer, w = widget
    add_or_replace_layers(viewer, agau_layers(agau))
    return viewer, w


def run(w, qtbot, timeout=30_000):
    assert w.run_button.isEnabled(), w.reason.text()
    with qtbot.waitSignal(w.runner.finished, timeout=timeout):
        w.run_button.click()


def shown(widget) -> bool:
    """Whether the widget is shown when the dock is (the test viewer itself is hidden)."""
    return not widget.native.isHidden()


def check_map_layer(layer, ds, algorithm, element):
    assert layer.data.shape == (25, 1, 25)
    assert tuple(layer.scale) == pytest.approx((60.0,) * 3)
    assert layer.axis_labels == ("z", "y", "x")
    assert [str(u) for u in layer.units] == ["angstrom"] * 3
    rec = layer.metadata["atomtomo"]
    assert rec["algorithm"] == algorithm and rec["kind"] == "volume"
    assert rec["element"] == element and rec["voxel_size"] == 60.0
    return rec


@pytest.mark.slow
def test_hebt_job_makes_element_maps_with_fitted_ratios(loaded, qtbot, agau):
    viewer, w = loaded
    assert w.mode.value == HEBT
    assert w.haadf.value is viewer.layers["haadf"]  # picked: the series without an element
    assert [lyr.name for lyr in w.eds.value] == ["eds_Ag", "eds_Au"]
    assert w.elements.value == "Ag, Au"
    with qtbot.waitSignal(w.runner.finished, timeout=10_000):
        w.fit_button.click()
    from napari_atomtomo.core.ratios import choose_ratios
    from napari_atomtomo.core.stopping import eds_misfit_per_count

    fit = choose_ratios(agau.haadf, agau.eds)  # Eq. 15 on the resolution-matched HAADF
    assert fit.r2 > fit_response_ratios(agau.haadf, agau.eds).r2
    assert w.fit_label.text() == (f"fitted: r_Ag = {fit.ratios['Ag']:.4g}, "
                                  f"r_Au = {fit.ratios['Au']:.4g}, R² = {fit.r2:.4f}")
    w.fit_label.setText("")
    w.alpha.value = 0.7
    w.n_iter.value = 30
    run(w, qtbot)
    expected = reconstruct_hebt(agau.haadf, agau.eds, agau.angles_deg,
                                HebtParams(alpha=0.7, n_iter=30, yield_every=1))
    colours = {}
    for el in ("Ag", "Au"):
        layer = viewer.layers[f"map_{el}"]
        rec = check_map_layer(layer, agau, "hebt", el)
        assert rec["parameters"]["alpha"] == 0.7 and rec["parameters"]["n_iter"] == 30
        assert rec["source_layers"] == ["haadf", "eds_Ag", "eds_Au"]
        assert rec["ratios"] == pytest.approx(expected.ratios) and rec["r2"] == expected.r2
        # the EDS misfit against the counts' noise, as atomtomo hebt reports it
        assert rec["eds_misfit_per_count"] == pytest.approx(eds_misfit_per_count(
            expected.maps, agau.eds, agau.angles_deg, expected.ratios), rel=1e-3)
        np.testing.assert_allclose(layer.data, expected.maps[el], rtol=1e-4, atol=1e-6)
        colours[el] = layer.colormap.name
        assert layer.blending == "additive"
    assert colours["Ag"] != colours["Au"]
    assert not any(lyr.name.endswith("preview") for lyr in viewer.layers)
    assert f"r_Ag = {expected.ratios['Ag']:.4g}" in w.fit_label.text()
    assert f"R² = {expected.r2:.4f}" in w.fit_label.text()
    line = w.plot.axes.lines[0]
    np.testing.assert_allclose(line.get_ydata(), expected.residuals, rtol=1e-4)
    assert tuple(viewer.dims.order) == (1, 0, 2)  # z–x planes of the 2D problem on screen


@pytest.mark.slow
def test_sirt_and_eds_modes_match_the_core(loaded, qtbot, agau, small_dataset_folder):
    viewer, w = loaded
    w.mode.value = SIRT
    assert w.n_iter.value == SirtParams.n_iter and not shown(w.eds) and shown(w.nonnegative)
    w.n_iter.value = 25
    w.relaxation.value = 1.5
    run(w, qtbot)
    layer = viewer.layers["sirt"]
    assert layer.data.shape == (25, 1, 25) and tuple(layer.scale) == pytest.approx((60.0,) * 3)
    rec = layer.metadata["atomtomo"]
    assert rec["algorithm"] == "sirt" and rec["source_layers"] == ["haadf"]
    assert rec["parameters"]["n_iter"] == 25 and rec["parameters"]["relaxation"] == 1.5
    want = reconstruct_sirt(agau.haadf, agau.angles_deg, SirtParams(n_iter=25, relaxation=1.5))
    np.testing.assert_allclose(layer.data, want.volume, rtol=1e-4, atol=1e-3)

    w.mode.value = EDS
    assert w.n_iter.value == 50
    w.n_iter.value = 15
    run(w, qtbot)
    want = reconstruct_eds(agau.eds, agau.angles_deg, SirtParams(n_iter=15, relaxation=1.5))
    for el in ("Ag", "Au"):
        layer = viewer.layers[f"map_{el}"]
        rec = check_map_layer(layer, agau, "eds", el)
        assert rec["source_layers"] == ["eds_Ag", "eds_Au"] and "ratios" not in rec
        assert rec["parameters"]["relaxation"] == 1.5  # kept from the SIRT run
        np.testing.assert_allclose(layer.data, want[el], rtol=1e-4, atol=1e-6)
    assert [line.get_label() for line in w.plot.axes.lines] == ["Ag", "Au"]
    assert len(w.plot.axes.lines[1].get_ydata()) == 15

    # Copy as command: the equivalent atomtomo line (λ = 1.5 kept from above)
    w.mode.value = HEBT
    w.ratios.value = "Ag=805, Au=987"
    w.copy_button.click()
    assert QGuiApplication.clipboard().text() == (
        "atomtomo hebt DATA_DIR --alpha 0.8 --iterations 200 --relaxation 1.5 "
        "--ratios ratios.json --out maps")
    w.mode.value = SIRT
    w.nonnegative.value = False
    assert w.command_line() == ("atomtomo sirt haadf.mrc --iterations 100 --relaxation 1.5 "
                                "--allow-negative --out sirt.mrc")
    from napari_atomtomo._reader import read_dataset_layers

    folder, _ = small_dataset_folder
    add_or_replace_layers(viewer, read_dataset_layers(folder))
    w.mode.value = EDS
    assert w.command_line() == f"atomtomo eds {folder} --iterations 50 --relaxation 1.5 --out maps"


@pytest.mark.slow
def test_sweep_scores_against_references_or_the_data(loaded, qtbot, agau):
    viewer, w = loaded
    w.sweep.value = True
    assert shown(w.references) and not shown(w.alpha) and not shown(w.n_iter)
    w.alphas.value = "0, 0.5, 1"
    w.n_values.value = "2, 4"
    w.references.value = [viewer.layers["phantom_Ag"]]
    assert w.reason.text() == "give a reference for every element or none; missing ['Au']"
    w.references.value = [viewer.layers["phantom_Ag"], viewer.layers["phantom_Au"]]
    # the same sweep from the command line (atomtomo hebt --sweep), parsed back to this grid
    command = w.command_line()
    assert command == "atomtomo hebt DATA_DIR --sweep 0,0.5,1:2,4 --relaxation 1 --out sweep"
    alphas, n_values = parse_sweep(build_parser().parse_args(command.split()[1:]).sweep)
    assert list(alphas) == [0, 0.5, 1] and list(n_values) == [2, 4]
    run(w, qtbot)
    res = w.last_sweep
    assert list(res.metrics) == ["SSIM Ag", "MSE Ag", "SSIM Au", "MSE Au", "wt error %"]
    assert res.metrics["SSIM Ag"].shape == (2, 3) and np.isfinite(res.metrics["MSE Au"]).all()
    maps = reconstruct_hebt(agau.haadf, agau.eds, agau.angles_deg,
                            HebtParams(alpha=0.5, n_iter=4), ratios=res.ratios).maps
    assert res.metrics["SSIM Au"][1, 1] == pytest.approx(
        ssim_structure(maps["Au"], agau.phantoms["Au"]), rel=1e-5)
    assert res.metrics["MSE Ag"][1, 1] == pytest.approx(
        mse_scaled(maps["Ag"], agau.phantoms["Ag"])[0], rel=1e-4)
    # The quantification error per cell: the naive definition on the same maps.
    q = quantify_maps(maps, "hebt")
    particle = (agau.phantoms["Ag"] + agau.phantoms["Au"]) > 0
    naive = 100 * np.mean([np.abs(q.weight_fractions[el] - agau.phantoms[el])[particle].mean()
                           for el in ("Ag", "Au")])
    assert res.metrics["wt error %"][1, 1] == pytest.approx(naive, rel=1e-4)
    assert np.isfinite(res.metrics["wt error %"]).all()
    images = [ax.images[0].get_array() for ax in w.plot.axes]
    assert len(images) == 5
    np.testing.assert_allclose(images[2], res.metrics["SSIM Au"])
    assert "map_Ag" not in viewer.layers  # a sweep scores, it makes no layers

    # without references: how well each result explains the data
    w.references.value = []

    w.alphas.value = "0:1:0.5"
    w.n_values.value = "3"
    w.ratios.value = "Ag=520, Au=545"
    run(w, qtbot)
    res = w.last_sweep
    assert list(res.metrics) == ["HAADF residual", "EDS residual Ag", "EDS residual Au"]
    assert res.ratios == {"Ag": 520.0, "Au": 545.0} and res.r2 is None
    haadf, eds_ag = res.metrics["HAADF residual"][0], res.metrics["EDS residual Ag"][0]
    # more HAADF weight explains HAADF better and the EDS data worse
    assert haadf[2] < haadf[0] and eds_ag[0] < eds_ag[2]
    assert w.fit_label.text() == "typed: r_Ag = 520, r_Au = 545"


@pytest.mark.slow
def test_cancel_leaves_no_result(widget, qtbot, job_probe):
    """Cancelled before any map was yielded: the layers made on the click go again.

    The job is held after its first state (iteration 1, no map: maps come every
    ``yield_every`` iterations), so what the GUI shows does not depend on how far the
    worker would have got on a loaded machine.
    """
    from napari_atomtomo._widgets import sirt_hebt

    viewer, w = widget
    probe = job_probe(sirt_hebt, "iter_reconstruction", hold_after=1)
    ds = simulate_agau(1)  # the paper's 97-px phantom
    add_or_replace_layers(viewer, agau_layers(ds))
    w.n_iter.value = 1000
    assert w.mode.value == HEBT
    with qtbot.waitSignal(w.runner.yielded, timeout=60_000) as first:
        w.run_button.click()
    assert first.args[0].iteration == 1 and not first.args[0].maps
    assert probe.held.wait(60)  # the worker waits after state 1
    assert not w.run_button.isEnabled()
    assert w.reason.text() == "a job is running; wait for it or cancel it"
    # the result layers are made on the click; no map has been yielded yet
    assert viewer.layers["map_Ag"].data.shape == (97, 1, 97)
    assert not viewer.layers["map_Au"].data.any()
    with qtbot.waitSignal(w.runner.cancelled, timeout=60_000):
        w.runner.cancel_button.click()
        probe.release.set()  # the job goes on to its next yield, where it stops
    assert probe.produced == 2  # it stopped at the first yield after Cancel
    assert "map_Ag" not in viewer.layers and "map_Au" not in viewer.layers  # never filled
    assert w.run_button.isEnabled()


@pytest.mark.slow
def test_invalid_inputs_disable_run_with_the_reason(widget, agau):
    viewer, w = widget
    assert not w.run_button.isEnabled()
    assert w.reason.text() == "add a tilt series layer (open an MRC with its .tlt, or a sample)"
    add_or_replace_layers(viewer, agau_layers(agau))
    assert w.run_button.isEnabled(), w.reason.text()
    w.elements.value = "Ag"
    assert w.reason.text() == "give one element per EDS layer: 2 layers but 1 elements (Ag)"
    assert w.elements.native.styleSheet() == INVALID_STYLE  # the offending field
    assert w.eds.native.styleSheet() == ""
    w.elements.value = "Ag, Xx"
    assert w.reason.text().startswith("unknown element 'Xx'")
    w.elements.value = "Ag, Au"
    w.ratios.value = "805, 987"
    assert w.reason.text() == (
        "response ratios '805, 987' must look like 'Ag=805, Au=987' (or be empty)")
    w.ratios.value = "Ag=805, Au=-1"
    assert w.reason.text() == "ratio for 'Au' must be a positive number, got -1.0"
    w.ratios.value = ""
    w.eds.value = [viewer.layers["eds_Ag"], viewer.layers["haadf"]]
    assert w.reason.text() == "haadf is both the HAADF and an EDS layer"
    bad = agau.eds["Au"].copy()
    bad[0, 0, 0] = np.nan
    add_or_replace_layers(viewer, image_layer_data(bad, 60.0, "eds_Au", "t", {}, kind="tilt_series",
                                                   angles_deg=agau.angles_deg, element="Au"))
    w.eds.value = [viewer.layers["eds_Ag"], viewer.layers["eds_Au"]]
    assert w.run_button.isEnabled()  # an input change checks shapes only, never scans
    w.run_button.click()  # the values are checked on Run: no job starts
    assert w.reason.text() == "eds['Au'] contains NaN or infinite values"
    assert not w.runner.busy and w.eds.native.styleSheet() == INVALID_STYLE
    viewer.layers.remove("haadf")
    assert w.reason.text() == "eds_Ag is both the HAADF and an EDS layer"
    add_or_replace_layers(viewer, image_layer_data(agau.haadf[:5], 60.0, "haadf", "t", {},
                                                   kind="tilt_series"))
    assert w.reason.text() == "haadf has no tilt angles; open it with its .tlt file"
    w.mode.value = SIRT
    assert not w.run_button.isEnabled() and "no tilt angles" in w.reason.text()


def test_parsers():
    np.testing.assert_allclose(parse_alphas("0:1:0.25"), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(parse_alphas("0.8, 0.2 0.5"), [0.2, 0.5, 0.8])
    assert parse_alphas("0:1:0.1").size == 11
    with pytest.raises(ValueError, match=r"α values must lie in \[0, 1\]"):
        parse_alphas("0, 1.5")
    with pytest.raises(ValueError, match="start:stop:step"):
        parse_alphas("0:1")
    assert parse_n_values("200, 50 100").tolist() == [50, 100, 200]
    with pytest.raises(ValueError, match="whole numbers ≥ 1"):
        parse_n_values("0, 10")
    assert parse_ratios("Ag=805, Au: 987") == {"Ag": "805", "Au": "987"}
    assert parse_ratios("  ") is None

    class Fake:
        def __init__(self, name, metadata=None):
            self.name, self.metadata = name, metadata or {}

    assert element_of(Fake("eds_Ag")) == "Ag"
    assert element_of(Fake("signal", {"atomtomo": {"element": "Pt"}})) == "Pt"
    assert element_of(Fake("Au counts")) == "Au counts"


@pytest.mark.slow
def test_ill_determined_ratios_are_replaced_and_flagged(widget, qtbot):
    # A hollow shell of one alloy: the EDS signals are proportional, so the fitted ratios
    # are ill-determined; the widget shows Eq. 16's ratios and says why.
    from napari_atomtomo.core.ratios import choose_ratios
    from napari_atomtomo.core.simulate.phantoms import PhantomParams, simulate_phantom

    viewer, w = widget
    ds = simulate_phantom(PhantomParams(layout="hollow", elements=("Co", "Au"), n_pixels=32))
    add_or_replace_layers(viewer, agau_layers(ds))
    w.mode.value = HEBT
    w.reset_choices()
    with qtbot.waitSignal(w.runner.finished, timeout=20_000):
        w.fit_button.click()
    choice = choose_ratios(ds.haadf, ds.eds)
    assert choice.method == "physical"
    text = w.fit_label.text()
    assert f"r_Au = {choice.ratios['Au']:.4g}" in text and "⚠" in text and "ill-determined" in text
    # A HEBT run reports the same ratios and warning while it runs.
    w.fit_label.setText("")
    w.n_iter.value = 2
    run(w, qtbot)
    assert "⚠" in w.fit_label.text() and f"r_Co = {choice.ratios['Co']:.4g}" in w.fit_label.text()


@pytest.mark.slow
def test_chunks_and_scheduler_run_the_job_in_y_slabs_as_the_cli(widget, qtbot, open_sample):
    """Issue 16 left-over: the CLI's --chunks N / --scheduler ADDRESS in the dock."""
    from napari_atomtomo._layers import layer_angles_deg, series_array

    viewer, w = widget
    open_sample(viewer, "blob_tilt_series")  # 32 rows along the tilt axis
    w.mode.value = SIRT
    series = viewer.layers["blobs tilt series"]
    w.haadf.value = series
    w.n_iter.value = 10
    w.scheduler.value = "tcp://127.0.0.1:8786"  # a scheduler without chunks means nothing
    assert not w.run_button.isEnabled()
    assert w.reason.text().startswith("a scheduler runs y-slabs: set chunks")
    w.scheduler.value = ""
    w.chunks.value = 8
    assert w.command_line().endswith("--chunks 8 --out sirt.mrc")
    w.scheduler.value = "tcp://10.0.0.5:8786"
    assert "--chunks 8 --scheduler tcp://10.0.0.5:8786" in w.command_line()
    w.scheduler.value = ""
    params = w.gather(arrays=False)["params"]
    run(w, qtbot)
    assert w.runner.status.text().startswith("SIRT in slabs: done")
    want = reconstruct_sirt(np.asarray(series_array(series), np.float32),
                            layer_angles_deg(series), params)
    got = viewer.layers["sirt"].data
    np.testing.assert_allclose(got, want.volume, atol=1e-4 * float(np.abs(want.volume).max()))
    assert [line.get_label() for line in w.plot.axes.lines] == ["sirt"]


@pytest.mark.slow
def test_the_sweep_stays_in_memory(loaded):
    _, w = loaded
    w.mode.value = HEBT
    w.sweep.value = True
    assert w.run_button.isEnabled(), w.reason.text()
    w.chunks.value = 4
    assert w.reason.text() == "the α × n sweep runs in memory: set chunks to 0"
    assert not w.run_button.isEnabled()
