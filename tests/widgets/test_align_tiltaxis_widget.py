"""The align widget's tilt-axis estimation and projection matching, and their saved file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo._layers import image_layer_data
from napari_atomtomo._widgets._base import add_or_replace_layers
from napari_atomtomo._widgets.align import FROM_FILE, AlignWidget
from napari_atomtomo.core.simulate.haadf import HaadfParams, simulate_haadf_series
from napari_atomtomo.core.tiltaxis import apply_tilt_axis
from napari_atomtomo.io._paths import shipped_structure_path

PHI, OFF = -3.0, 1.5


@pytest.fixture(scope="module")
def rotated():
    sim = simulate_haadf_series(io.read_xyz(shipped_structure_path()),
                                HaadfParams(r_noise=0.25, seed=2, tilt_drift_deg=0.0,
                                            shift_sigma_px=0.0))
    return apply_tilt_axis(sim.stack_noisy, PHI, OFF), sim.angles_nominal


def _run(widget, qtbot):
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=120_000):
        widget.run_button.click()


@pytest.mark.slow
def test_widget_finds_the_tilt_axis_saves_it_and_reapplies_it(make_napari_viewer, qtbot,
                                                              rotated, tmp_path):
    stack, angles = rotated
    viewer = make_napari_viewer()
    for name, data in (("haadf", stack), ("eds_Si", 0.5 * stack)):
        add_or_replace_layers(viewer, image_layer_data(data, 0.5, name, "test",
                                                       kind="tilt_series", angles_deg=angles))
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Align tilt series")
    assert isinstance(widget, AlignWidget)
    widget.series.value = viewer.layers["haadf"]
    widget.tilt_axis.value = "auto"
    assert "--tilt-axis auto" in widget.command_line()
    _run(widget, qtbot)
    rec = viewer.layers["haadf_aligned"].metadata["atomtomo"]
    assert abs(rec["tilt_axis_angle_deg"] - PHI) < 0.2
    assert abs(rec["tilt_axis_offset_px"] - OFF) < 0.5
    assert rec["parameters"]["tilt_axis"] == "auto" and "tilt axis" in widget.summary.text()
    path = widget.save_shifts(tmp_path / "shifts.json")
    saved = json.loads(path.read_text())
    assert saved["tilt_axis_angle_deg"] == rec["tilt_axis_angle_deg"]

    # the saved file on another signal gives the same transform
    widget.series.value = viewer.layers["eds_Si"]
    widget.method.value = FROM_FILE
    widget.shifts_file.value = path
    _run(widget, qtbot)
    np.testing.assert_allclose(viewer.layers["eds_Si_aligned"].data,
                               0.5 * viewer.layers["haadf_aligned"].data, rtol=1e-4,
                               atol=1e-4 * float(stack.max()))
