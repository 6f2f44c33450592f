"""The SIRT / HEBT dock's stopping rule (issue 12): EDS-STEM and HEBT stop by the rule of
``atomtomo eds`` / ``atomtomo hebt`` without ``--iterations`` by default, at most its limit;
fixed n is one click away; "Copy as command" leaves out ``--iterations`` for the rule."""

from __future__ import annotations

import shlex

import numpy as np
import pytest
from test_sirt_hebt_widget import agau, agau_layers, shown, widget  # noqa: F401

from napari_atomtomo._widgets._base import add_or_replace_layers
from napari_atomtomo._widgets.sirt_hebt import EDS, FIXED, HEBT, RULE, SIRT, stop_note
from napari_atomtomo.cli import build_parser
from napari_atomtomo.cli._eds import stop_params
from napari_atomtomo.core.hebt import HebtParams
from napari_atomtomo.core.stopping import (
    HEBT_STOP,
    StopParams,
    hebt_stopped,
    reconstruct_eds_stopped,
)


@pytest.fixture
def loaded(widget, agau):  # noqa: F811
    """The dock with the small Ag-Au data set's haadf and eds_ series (no phantoms)."""
    viewer, w = widget
    add_or_replace_layers(viewer, agau_layers(agau)[:1 + len(agau.eds)])
    return viewer, w


@pytest.mark.slow
def test_the_rule_is_the_default_and_fixed_n_one_click_away(loaded):
    _, w = loaded
    assert w.mode.value == HEBT and w.stop.value == RULE
    assert shown(w.stop) and not shown(w.n_iter)
    assert w.stop.choices == (RULE, FIXED)
    assert "3e-05, ≤ 1500" in w.stop.native.currentText()
    g = w.gather(arrays=False)
    assert g["stop"] == HEBT_STOP and g["params"].n_iter == HEBT_STOP.max_iterations
    # the command line without --iterations: atomtomo hebt's rule
    command = w.command_line()
    assert "--iterations" not in command
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert args.iterations is None and args.alpha == w.alpha.value
    w.mode.value = EDS
    assert w.stop.value == RULE and "0.0001, ≤ 300" in w.stop.native.currentText()
    w.relaxation.value = 1.25
    command = w.command_line()
    assert "--iterations" not in command
    assert stop_params(build_parser().parse_args(shlex.split(command)[1:])) == StopParams(
        relaxation=1.25) == w.gather(arrays=False)["stop"]
    w.chunks.value = 4  # y-slabs run a fixed count, as atomtomo eds
    assert not w.run_button.isEnabled() and "fixed n" in w.reason.text()
    w.chunks.value = 0
    w.stop.value = FIXED
    assert shown(w.n_iter) and w.gather(arrays=False)["stop"] is None
    assert "--iterations 50 " in w.command_line()
    w.stop.value = RULE
    w.n_iter.value = 12  # n set by a script or a session: a fixed count
    assert w.stop.value == FIXED
    w.mode.value = SIRT  # plain SIRT and the sweep keep a fixed n
    assert not shown(w.stop) and shown(w.n_iter) and w.gather(arrays=False)["stop"] is None
    w.mode.value, w.stop.value, w.sweep.value = HEBT, RULE, True
    assert not shown(w.stop) and not shown(w.n_iter) and w.gather(arrays=False)["stop"] is None
    w.sweep.value = False
    assert shown(w.stop) and not shown(w.n_iter)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [EDS, HEBT])
def test_the_rule_stops_before_its_limit_on_a_small_phantom(loaded, qtbot, agau, mode):  # noqa: F811
    viewer, w = loaded
    w.mode.value = mode
    assert w.stop.value == RULE
    with qtbot.waitSignal(w.runner.finished, timeout=60_000):
        w.run_button.click()
    if mode == HEBT:
        want, info = hebt_stopped(agau.haadf, agau.eds, agau.angles_deg, HebtParams(),
                                  HEBT_STOP, ratios=viewer.layers["map_Ag"].metadata[
                                      "atomtomo"]["ratios"])
        maps, infos = want.maps, {el: info for el in agau.eds}
    else:
        maps, infos = reconstruct_eds_stopped(agau.eds, agau.angles_deg, StopParams())
    limit = (HEBT_STOP if mode == HEBT else StopParams()).max_iterations
    for el in ("Ag", "Au"):
        rec = viewer.layers[f"map_{el}"].metadata["atomtomo"]
        stop = rec["stop"]
        assert stop["rule"] == "update" and stop["met"] and stop["max_iterations"] == limit
        assert stop["iterations"] == infos[el].iterations < limit
        assert rec["parameters"]["n_iter"] == stop["iterations"]
        np.testing.assert_allclose(viewer.layers[f"map_{el}"].data, maps[el], rtol=1e-4,
                                   atol=1e-6)
    k = infos["Ag"].iterations
    assert w.runner.status.text().endswith(
        f"stopped by rule at {k}" if mode == HEBT
        else f"Ag stopped by rule at {k}, Au at {infos['Au'].iterations}")
    assert w.plot.axes.get_xlim()[1] >= limit  # the live plot spans the limit
    assert len(w.plot.axes.lines[0].get_ydata()) == k


def test_stop_note():
    assert stop_note(None) == ""
    assert stop_note({"HEBT": {"iterations": 560, "met": True}}) == "stopped by rule at 560"
    assert stop_note({"Ag": {"iterations": 3, "met": True},
                      "Au": {"iterations": 300, "met": False}}) == (
        "Ag stopped by rule at 3, Au at 300 (limit reached)")


@pytest.mark.slow
def test_a_session_restores_the_stop_choice(loaded, tmp_path):
    from napari_atomtomo._widgets._session import _dock_values, _restore_values

    viewer, w = loaded
    w.n_iter.value = 37  # a fixed count
    w.stop.value = RULE  # n kept, the rule chosen again
    values = _dock_values(w)
    w.stop.value, w.n_iter.value = FIXED, 12
    _restore_values(viewer, w, values)
    assert (w.stop.value, w.n_iter.value) == (RULE, 37)
