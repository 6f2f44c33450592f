"""Issue 14's Trace job end, cut into event-loop turns and cheaper draws: the canvas
legend is made after the traced layer's own turn, one overlay a turn; the plots are
runner steps of their own; a plot redraw that moves no text keeps its layout; an idle
draw never runs in the stall that asked for it."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtWidgets import QApplication

from napari_atomtomo._atoms_layers import atoms_layer_data
from napari_atomtomo._widgets._atoms_view import LEGEND_PREFIX, AtomsLegend
from napari_atomtomo._widgets._plot_canvas import _IDLE_DRAWS
from napari_atomtomo._widgets._trace_plots import PeakIntensityPlot
from napari_atomtomo.core.atoms import Atoms


def _atoms(n_si=3, n_o=5):
    rng = np.random.default_rng(0)
    elements = np.array(["Si"] * n_si + ["O"] * n_o)
    return Atoms(elements, rng.uniform(0, 10, (elements.size, 3)),
                 {"intensity": np.linspace(10, 1, elements.size)})


def test_legend_is_made_after_the_layer_one_overlay_a_turn(make_napari_viewer, qtbot):
    viewer = make_napari_viewer()
    legend = AtomsLegend(viewer)
    viewer.layers.events.inserted.connect(legend.update)
    viewer.layers.events.removed.connect(legend.update)
    overlays = viewer.canvas.overlays
    made_in = []  # each new overlay, with what the legend showed when it was made
    overlays.events.added.connect(lambda e: made_in.append((e.key, dict(legend.entries))))

    data, kwargs, _ = atoms_layer_data(_atoms(), "traced", "test")
    viewer.add_points(data, **kwargs)
    # not in the turn that added the layer (its first paint is napari's, 0.1-0.2 s)
    assert legend.pending and not any(k.startswith(LEGEND_PREFIX) for k in overlays)
    qtbot.waitUntil(lambda: legend.entries == {"Si": "● Si 3", "O": "● O 5"}, timeout=5000)
    made = [(k, shown) for k, shown in made_in if k.startswith(LEGEND_PREFIX)]
    assert [k for k, _ in made] == [LEGEND_PREFIX + "Si", LEGEND_PREFIX + "O"]
    # O's text visual came in a later refresh: one that had ended showing Si alone
    assert made[0][1] == {} and made[1][1] == {"Si": "● Si 3"}
    # the legend follows a hidden element, a turn later
    layer = viewer.layers["traced"]
    layer.shown = np.asarray(layer.features["element"]) != "O"
    legend.update()
    qtbot.waitUntil(lambda: not legend.pending, timeout=5000)
    assert legend.entries == {"Si": "● Si 3"} and not overlays[LEGEND_PREFIX + "O"].visible
    viewer.layers.remove(layer)
    qtbot.waitUntil(lambda: not legend.pending, timeout=5000)
    assert legend.entries == {} and not overlays[LEGEND_PREFIX + "Si"].visible


@pytest.fixture
def peaks(qtbot):
    plot = PeakIntensityPlot()
    qtbot.addWidget(plot)
    plot.resize(420, 260)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def test_redraws_that_move_no_text_keep_the_layout(peaks, settle):
    y = np.linspace(900.0, 100.0, 40)
    els = np.where(y > 500, "Si", "O")
    peaks.show_result(y, els, ("Si", "O"), 50.0, (500.0,))
    settle()
    engine = peaks.figure.get_layout_engine()
    layouts, draws = engine.n_layouts, peaks.n_full_draws
    assert layouts >= 1
    # same labels, new colours; a moved threshold line; a ringed point: full draws, no layout
    peaks.recolor(els[::-1])
    peaks.set_threshold_line(400.0, orientation="horizontal")
    peaks.draw()
    settle()
    peaks.axes.scatter([3], [y[2]], s=90, facecolors="none", edgecolors="w")
    peaks.draw()
    settle()
    assert peaks.n_full_draws > draws
    assert engine.n_layouts == layouts
    # the legend still sits above the data, where the last layout made room for it
    box, top = peaks.axes.get_legend().get_window_extent(), peaks.axes.get_window_extent().y1
    assert box.y0 >= top - 1 and box.y1 <= peaks.figure.bbox.y1 + 1
    # a new result (other tick labels) and a resized canvas are laid out again
    peaks.show_result(10 * y, els, ("Si", "O"), 50.0, (5000.0,))
    settle()
    assert engine.n_layouts == layouts + 1
    peaks.resize(520, 300)
    settle()
    assert engine.n_layouts == layouts + 2


def test_an_idle_draw_waits_a_turn(peaks, settle):
    settle()
    draws = peaks.n_full_draws
    peaks.canvas.draw_idle()
    QApplication.instance().sendPostedEvents()  # what runs in the stall that asked
    assert peaks.n_full_draws == draws and peaks.canvas in _IDLE_DRAWS
    settle()
    assert peaks.n_full_draws == draws + 1 and not _IDLE_DRAWS


@pytest.mark.slow
def test_trace_job_end_is_one_step_a_turn(make_napari_viewer, qtbot, open_sample):
    """The result layer, the peaks plot, g(r) and the summary with the deviation plot each
    come in an event-loop turn of their own, all before ``finished``."""
    from qtpy.QtCore import QTimer

    viewer = make_napari_viewer()
    open_sample(viewer, "synthetic_atoms_volume")
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Trace atoms")
    widget.volume.value = viewer.layers["atoms volume"]
    widget.truth.value = viewer.layers["atoms_true"]
    turn = [0]
    ticker = QTimer()
    ticker.setInterval(0)  # fires on every pass of the event loop
    ticker.timeout.connect(lambda: turn.__setitem__(0, turn[0] + 1))
    ticker.start()
    seen = []
    viewer.layers.events.inserted.connect(lambda e: seen.append((e.value.name, turn[0])))
    for name in ("_show_peaks", "_show_structure", "_show_summary"):
        method = getattr(widget, name)

        def spy(*args, _method=method, _name=name, **kwargs):
            seen.append((_name, turn[0]))
            return _method(*args, **kwargs)
        setattr(widget, name, spy)
    legend_at_finish = []
    widget.runner.finished.connect(lambda *_: legend_at_finish.append(
        [k for k in viewer.canvas.overlays if k.startswith(LEGEND_PREFIX)]))
    widget.runner.finished.connect(lambda *_: seen.append(("finished", turn[0])))
    with qtbot.waitSignal(widget.runner.finished, timeout=60_000):
        widget.run_button.click()
    ticker.stop()
    names = [n for n, _ in seen]
    assert names[0] == "atoms volume atoms" and names[-1] == "finished"
    assert names.index("_show_peaks") < names.index("_show_structure") < names.index(
        "_show_summary") < names.index("finished")
    turns = [t for n, t in seen if n != "finished"]
    assert len(set(turns)) == len(turns)  # no two steps in one turn
    assert widget.peaks_plot.intensities.size == len(viewer.layers["atoms volume atoms"].data)
    assert not widget.deviation_plot.isHidden() and not widget.structure_plot.isHidden()
    # the legend waits for the result's layers and plots: made after 'finished'
    assert legend_at_finish == [[]]
    qtbot.waitUntil(lambda: len(widget.legend.entries) == 2, timeout=5000)


def test_a_repaint_does_not_draw_a_queued_figure(peaks, settle):
    """A resize repaints the canvas at once; its draw still waits for its turn (the
    window's repaint drew the job end's resized plots all in one stall)."""
    settle()
    draws = peaks.n_full_draws
    peaks.resize(500, 280)  # resizeEvent: a draw is asked for
    peaks.repaint()  # a synchronous paintEvent, as in the window's repaint
    assert peaks.n_full_draws == draws and peaks.canvas in _IDLE_DRAWS
    settle()
    assert peaks.n_full_draws == draws + 1
    assert peaks.figure.bbox.width == pytest.approx(peaks.canvas.renderer.width)




def test_a_drawn_figure_is_shown_a_turn_later(peaks, qtbot, settle):
    """The rendered picture reaches the screen in a turn of its own: the window's repaint
    (~0.1 s under software OpenGL) is not in the draw's stall."""
    from qtpy.QtCore import QEvent, QObject

    class Paints(QObject):
        n = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                Paints.n += 1
            return False

    settle()
    paints = Paints()
    peaks.canvas.installEventFilter(paints)
    draws = peaks.n_full_draws
    peaks.canvas.draw()
    QApplication.instance().sendPostedEvents()  # what runs in the draw's stall
    assert peaks.n_full_draws == draws + 1 and Paints.n == 0  # rendered, not yet shown
    qtbot.waitUntil(lambda: Paints.n >= 1, timeout=5000)
    assert peaks.n_full_draws == draws + 1  # shown without drawing again
    peaks.canvas.removeEventFilter(paints)


def _held(go):
    """A job that computes until ``go`` is set (a Trace job's compute phase, held)."""
    yield 1
    go.wait(60)
    yield 2


def test_legend_follows_layers_while_a_trace_job_computes(make_napari_viewer, qtbot):
    """Only the result's own steps hold the legend back: while a job computes, an atoms
    layer removed or added is counted at once (the legend skipped the whole job)."""
    import threading

    from napari_atomtomo._widgets.trace import TraceWidget

    viewer = make_napari_viewer()
    widget = TraceWidget(viewer)
    qtbot.addWidget(widget)
    data, kwargs, _ = atoms_layer_data(_atoms(), "traced", "test")
    viewer.add_points(data, **kwargs)
    qtbot.waitUntil(lambda: widget.legend.entries == {"Si": "● Si 3", "O": "● O 5"},
                    timeout=5000)
    go = threading.Event()
    with qtbot.waitSignal(widget.runner.yielded, timeout=10_000):
        widget.runner.run(_held, go, label="trace held", total=2)
    try:
        assert widget.runner.busy and not widget.runner.showing_result
        viewer.layers.remove("traced")
        qtbot.waitUntil(lambda: widget.legend.entries == {}, timeout=5000)
        data, kwargs, _ = atoms_layer_data(_atoms(2, 1), "other", "test")
        viewer.add_points(data, **kwargs)
        qtbot.waitUntil(lambda: widget.legend.entries == {"Si": "● Si 2", "O": "● O 1"},
                        timeout=5000)
        assert widget.runner.busy
    finally:
        go.set()
        qtbot.waitUntil(lambda: not widget.runner.busy, timeout=10_000)
