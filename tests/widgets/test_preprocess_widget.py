"""The "Preprocess tilt series" widget: vacuum levels removed, report in metadata, same as the CLI."""

from __future__ import annotations

import argparse
import importlib
import shlex

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo._layers import image_layer_data, series_array
from napari_atomtomo._widgets._base import add_or_replace_layers
from napari_atomtomo._widgets.preprocess import PreprocessWidget
from napari_atomtomo.cli import main

ANGLES = np.linspace(-60, 60, 7)


@pytest.fixture
def widget_and_data(make_napari_viewer):
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:40, :40]
    blob = 30.0 * np.exp(-((yy - 20) ** 2 + (xx - 21) ** 2) / 30.0)
    levels = np.linspace(2.0, 3.0, ANGLES.size)
    stack = rng.poisson(blob + levels[:, None, None]).astype(np.float32)
    viewer = make_napari_viewer()
    add_or_replace_layers(viewer, image_layer_data(stack, 0.5, "raw", "test", kind="tilt_series",
                                                   angles_deg=ANGLES))
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Preprocess tilt series")
    assert isinstance(widget, PreprocessWidget)
    widget.series.value = viewer.layers["raw"]
    return viewer, widget, stack, levels


@pytest.mark.slow
def test_preprocess_widget_matches_the_cli(widget_and_data, qtbot, tmp_path):
    viewer, widget, stack, levels = widget_and_data
    widget.normalize.value = True
    assert widget.run_button.isEnabled(), widget.reason.text()
    with qtbot.waitSignal(widget.runner.finished, timeout=30_000):
        widget.run_button.click()
    out = viewer.layers["raw_pre"]
    rec = out.metadata["atomtomo"]
    assert rec["algorithm"] == "preprocess" and rec["source_layers"] == ["raw"]
    assert rec["parameters"]["normalize"] is True and rec["parameters"]["background"] == "border"
    np.testing.assert_allclose(rec["report"]["background_levels"], levels, atol=0.3)
    assert "vacuum level" in widget.summary.text()
    np.testing.assert_array_equal(series_array(viewer.layers["raw"]), stack)  # input untouched

    parser = argparse.ArgumentParser(prog="atomtomo")
    importlib.import_module("napari_atomtomo.cli._preprocess").register(
        parser.add_subparsers(dest="command"))
    words = shlex.split(widget.command_line())
    args = parser.parse_args(words[1:])
    assert args.normalize and args.background == "border" and args.denoise == "none"
    io.write_tilt_series(tmp_path / "raw.mrc", stack, ANGLES, 0.5)
    argv = [w if w != args.stack else str(tmp_path / "raw.mrc") for w in words[1:]]
    argv = [w if w != args.out else str(tmp_path / "pre.mrc") for w in argv]
    assert main(argv) == 0
    np.testing.assert_allclose(io.read_mrc(tmp_path / "pre.mrc")[0], series_array(out), rtol=1e-6,
                               atol=1e-5)


@pytest.mark.slow
def test_too_wide_border_keeps_run_disabled(widget_and_data):
    _, widget, _, _ = widget_and_data
    widget.border_px.value = 25
    assert not widget.run_button.isEnabled()
    assert "too wide" in widget.reason.text()


@pytest.mark.slow
def test_preprocess_opens_napari_activity_bar_only_after_a_second(widget_and_data, monkeypatch):
    """A quick job: napari's activity-dock bar (0.1-0.5 s of GUI thread) only if it still
    runs a second after the click (issue 14)."""
    from napari_atomtomo._widgets._runner import QUICK_JOB_ACTIVITY_AFTER_S

    _, widget, _, _ = widget_and_data
    seen = {}
    monkeypatch.setattr(widget.runner, "run", lambda *a, **k: seen.update(k))
    widget.run_button.click()
    assert seen["activity_after_s"] == QUICK_JOB_ACTIVITY_AFTER_S
