"""The "Trace atoms" widget, opened through the manifest, on the synthetic atoms sample."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backend_bases import MouseButton, MouseEvent
from qtpy.QtGui import QGuiApplication

from napari_atomtomo._colors import ELEMENT_COLORS
from napari_atomtomo._sample_data import ATOMS_VOXEL_SIZE_A, synthetic_atoms_volume
from napari_atomtomo._widgets.trace import TraceWidget
from napari_atomtomo.core.trace import TraceParams, trace_atoms

SI = np.array([int(ELEMENT_COLORS["Si"][i:i + 2], 16) / 255 for i in (1, 3, 5)] + [1.0])
OX = np.array([int(ELEMENT_COLORS["O"][i:i + 2], 16) / 255 for i in (1, 3, 5)] + [1.0])


@pytest.fixture
def traced(make_napari_viewer, open_sample):
    """A viewer with the sample (volume + atoms_true) and the docked widget."""
    viewer = make_napari_viewer()
    open_sample(viewer, "synthetic_atoms_volume")
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Trace atoms")
    assert isinstance(widget, TraceWidget)
    yield viewer, widget
    if widget.runner.busy:
        widget.runner.cancel()


def _trace(widget, qtbot):
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=60_000):
        widget.run_button.click()


def _mouse(plot, *steps):
    """Send matplotlib mouse events ``(name, y in data units)`` to the plot's canvas."""
    plot.canvas.draw()
    ax = plot.axes
    x = np.mean(ax.get_xlim())
    for name, value in steps:
        px, py = ax.transData.transform((x, value))
        event = MouseEvent(name, plot.canvas, px, py, button=MouseButton.LEFT)
        plot.canvas.callbacks.process(name, event)


def _colors_match(face, elements):
    want = np.where(np.asarray(elements)[:, None] == "Si", SI, OX)
    return np.allclose(face, want, atol=1e-3)


@pytest.mark.slow
def test_trace_then_resplit_live_by_dragging_the_threshold(traced, qtbot):
    viewer, widget = traced
    volume_layer = viewer.layers["atoms volume"]
    volume_layer.translate = (1.0, 2.0, 3.0)
    widget.volume.value = volume_layer
    widget.truth.value = viewer.layers["atoms_true"]
    widget.method.value = "direct"  # the one-pass tracing (the default is subtraction)
    _trace(widget, qtbot)

    layer = viewer.layers["atoms volume atoms"]
    vol, truth = synthetic_atoms_volume()
    expected = trace_atoms(vol, ATOMS_VOXEL_SIZE_A, TraceParams())
    # world (z, y, x) Å = the core's positions, shifted like the volume layer
    np.testing.assert_allclose(layer.data, expected.atoms.positions_zyx(1.0), atol=1e-9)
    np.testing.assert_allclose(layer.translate, (1.0, 2.0, 3.0))
    assert list(layer.features["element"]) == list(expected.atoms.elements)
    np.testing.assert_allclose(layer.features["intensity"], expected.atoms.features["intensity"])
    assert {"fit_height", "width_A", "fit_r2"} <= set(layer.features.columns)
    assert dict(zip(*np.unique(layer.features["element"], return_counts=True))) == {
        "O": 40, "Si": 20}
    assert _colors_match(layer.face_color, layer.features["element"])
    rec = layer.metadata["atomtomo"]
    assert rec["algorithm"] == "trace_atoms" and rec["source_layers"] == ["atoms volume"]
    assert rec["parameters"] == TraceParams().to_dict() | {"n_expected": None, "method": "direct"}
    assert rec["noise_floor"] == pytest.approx(expected.noise_floor)
    assert rec["split_thresholds"] == pytest.approx(list(expected.split_thresholds))
    # the plots and the summary
    assert widget.peaks_plot.intensities.size == 60
    assert widget.peaks_plot.threshold == pytest.approx(expected.split_thresholds[0])
    assert not widget.deviation_plot.isHidden()
    text = widget.summary.text()
    assert text.startswith("60 atoms: Si 20, O 40;")
    assert "traced/true Si 20/20, O 40/40; misplaced 0 (Si 0, O 0); missing 0, extra 0; RMSD 0.0" in text

    # dragging the threshold line re-splits the elements live, without re-tracing
    inten = layer.features["intensity"].to_numpy()
    t = float(np.mean(np.sort(inten)[-6:-4]))  # only the 5 brightest stay Si
    start = float(widget.peaks_plot.threshold)
    _mouse(widget.peaks_plot, ("button_press_event", start),
           ("motion_notify_event", 0.5 * (start + t)), ("motion_notify_event", t))
    assert widget.peaks_plot.threshold == pytest.approx(t, rel=1e-6)
    assert widget.split.value == f"{widget.peaks_plot.threshold:.6g}"
    # still dragging: the debounced re-split relabels the layer
    qtbot.waitUntil(lambda: (layer.features["element"] == "Si").sum() == 5, timeout=2000)
    _mouse(widget.peaks_plot, ("button_release_event", t))
    legend = widget.deviation_plot.axes.get_legend()  # redrawn at once on release
    assert "misplaced (15)" in [txt.get_text() for txt in legend.get_texts()]
    assert len(layer.data) == 60  # relabelled, not re-traced
    assert _colors_match(layer.face_color, layer.features["element"])
    assert layer.metadata["atomtomo"]["parameters"]["split"] == pytest.approx([t], rel=1e-6)
    assert "misplaced 15 (Si 0, O 15)" in widget.summary.text()
    # typing 'auto' goes back to the mixture split
    widget.split.value = "auto"
    qtbot.waitUntil(lambda: (layer.features["element"] == "Si").sum() == 20, timeout=2000)
    assert "misplaced 0 " in widget.summary.text()
    assert "--split auto" in widget.command_line()
    # choosing another truth (or none) re-compares without re-tracing
    widget.truth.value = None
    assert widget.deviation_plot.isHidden() and "traced/true" not in widget.summary.text()
    widget.resolution.value = 0.01
    widget.truth.value = viewer.layers["atoms_true"]
    assert not widget.deviation_plot.isHidden()
    n_far = int(np.sum(widget._outcome.comparison.deviation_A > 0.01))
    assert n_far > 0 and f"misplaced {n_far} " in widget.summary.text()


@pytest.mark.slow
def test_cancel_drops_the_result(traced, qtbot):
    viewer, widget = traced
    with qtbot.waitSignal(widget.runner.cancelled, timeout=30_000):
        widget.run_button.click()
        widget.runner.cancel()
    assert "atoms volume atoms" not in viewer.layers
    assert "cancelled" in widget.runner.status.text()
    assert widget.run_button.isEnabled()
    assert widget.summary.text() == ""


@pytest.mark.slow
def test_copy_as_command_and_invalid_inputs_disable_trace(traced):
    viewer, widget = traced
    widget.n_expected.value = 60
    widget.truth.value = viewer.layers["atoms_true"]
    widget.copy_button.click()
    assert QGuiApplication.clipboard().text() == (
        "atomtomo trace 'atoms volume.mrc' --min-distance-A auto --elements Si,O "
        "--noise-floor auto --split auto --refine gaussian --connectivity 6 --classify auto "
        "--out 'atoms volume atoms.xyz' --n-expected 60 && atomtomo compare "
        "'atoms volume atoms.xyz' atoms_true.xyz --resolution-A 1")
    viewer.add_points(np.zeros((2, 3)), name="picked")
    widget.truth.value = viewer.layers["picked"]
    assert widget.reason.text().startswith("the points have no 'element' feature")
    widget.truth.value = None
    assert widget.run_button.isEnabled()
    widget.elements.value = "Si,Xx"
    assert not widget.run_button.isEnabled()
    assert widget.reason.text() == (
        "unknown element 'Xx'; expected a symbol from H to U such as 'Si' or 'Au'")
    widget.elements.value = "Si,O"
    widget.noise_floor.value = "low"
    assert widget.reason.text() == "noise floor must be 'auto' or a number, got 'low'"
    widget.noise_floor.value = "auto"
    widget.split.value = "10,20"
    assert widget.reason.text() == "split has 2 thresholds but 2 elements need 1"
    widget.split.value = "auto"
    assert widget.run_button.isEnabled()
    viewer.add_image(np.zeros((5, 8, 8), np.float32), name="series",
                     metadata={"atomtomo": {"kind": "tilt_series"}})
    widget.volume.value = viewer.layers["series"]
    assert widget.reason.text() == (
        "series is a tilt series; reconstruct it first, then trace the volume")
    viewer.add_image(np.zeros((8, 8), np.float32), name="slice")
    widget.volume.value = viewer.layers["slice"]
    assert widget.reason.text() == "slice is not a 3D volume (z, y, x); choose a reconstruction"
    viewer.add_image(np.zeros((8, 8, 8), np.float32), name="stretched", scale=(1.0, 0.5, 0.5))
    widget.volume.value = viewer.layers["stretched"]
    assert "non-cubic voxels" in widget.reason.text()
    assert not widget.run_button.isEnabled()
    viewer.layers.clear()
    assert widget.reason.text() == "open a reconstructed 3D volume (z, y, x) to trace"


@pytest.mark.slow
def test_trace_by_subtraction_through_the_widget(traced, qtbot):
    """The subtraction method (the demo's) through the widget: same atoms as the core."""
    viewer, widget = traced
    assert widget.method.value == "subtraction"  # the default: what a user should run
    widget.copy_button.click()
    assert "--method" not in QGuiApplication.clipboard().text()
    _trace(widget, qtbot)
    layer = viewer.layers["atoms volume atoms"]
    vol = viewer.layers["atoms volume"]
    from napari_atomtomo.core.trace import trace_atoms_by_subtraction

    want = trace_atoms_by_subtraction(np.asarray(vol.data), float(vol.scale[0]), TraceParams())
    assert list(layer.features["element"]) == list(want.atoms.elements)
    meta = layer.metadata["atomtomo"]
    assert meta["algorithm"] == "trace_atoms_by_subtraction"
    assert meta["parameters"]["method"] == "subtraction"
    # every automatic choice is recorded as a value, and every gate's count
    auto = meta["automatic"]
    assert auto["min_distance_A"] == pytest.approx(want.auto["min_distance_A"])
    assert auto["prefilter_sigma_vox"] == pytest.approx(want.auto["prefilter_sigma_vox"])
    assert meta["gates"]["n_atoms"] == len(layer.data) == len(want.atoms)
    assert meta["gates"]["n_local_maxima"] >= meta["gates"]["n_above_floor"] >= len(want.atoms)
    # the structure report of the traced atoms is drawn (atomtomo structure's plots)
    assert not widget.structure_plot.isHidden()
    assert widget.structure_plot.axes[0].get_legend_handles_labels()[1] == ["Si-Si", "Si-O", "O-O"]
    name = "atoms volume rejected"
    assert (name in viewer.layers) == (len(want.rejected) > 0)
    if name in viewer.layers:
        assert not viewer.layers[name].visible and len(viewer.layers[name].data) == len(want.rejected)
    assert _colors_match(layer.face_color, layer.features["element"])


@pytest.mark.slow
def test_one_element_shows_rejected_candidates_as_a_hidden_layer(traced, qtbot):
    """With only Si given, the dim O peaks are not Si atoms: they are classified as
    non-atoms and shown as a separate, hidden Points layer."""
    viewer, widget = traced
    widget.elements.value = "Si"
    _trace(widget, qtbot)
    atoms = viewer.layers["atoms volume atoms"]
    gates = atoms.metadata["atomtomo"]["gates"]
    rejected = viewer.layers["atoms volume rejected"]
    assert not rejected.visible
    assert len(rejected.data) == gates["n_rejected_non_atoms"] > 0
    assert len(atoms.data) == gates["n_atoms"]
    _, truth = synthetic_atoms_volume()
    assert len(atoms.data) == int(np.sum(truth.elements == "Si"))


@pytest.mark.slow
def test_trace_opens_napari_activity_bar_only_after_a_second(traced, monkeypatch):
    """A quick job: napari's activity-dock bar (0.1-0.5 s of GUI thread) only if it still
    runs a second after the click (issue 14)."""
    from napari_atomtomo._widgets._runner import QUICK_JOB_ACTIVITY_AFTER_S

    _, widget = traced
    seen = {}
    monkeypatch.setattr(widget.runner, "run", lambda *a, **k: seen.update(k))
    widget.run_button.click()
    assert seen["activity_after_s"] == QUICK_JOB_ACTIVITY_AFTER_S
