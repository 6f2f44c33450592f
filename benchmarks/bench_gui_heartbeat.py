"""Benchmark: how long napari's Qt event loop stalls while the real widgets run 3D jobs (issue 7).

A ``QTimer`` (precise, every ``--tick-ms`` ms) records when the GUI thread got to run it;
a gap between two ticks minus the interval is a stall the user would feel. The jobs are
started the way a user starts them: the "SIRT / HEBT" widget (SIRT mode) and the "EST
reconstruction" widget are docked with ``add_plugin_dock_widget`` in a shown viewer, their
inputs set, and their Run buttons clicked. The input is a 100³ volume of Gaussian blobs
projected at the 55 equally sloped angles of ±72.6° (``--n`` changes the size).

Each run is cut into phases by GUI-thread timestamps, and a stall belongs to the phase in
which it ends:

* click: from the click until the first yield reaches the GUI (the click handler with its
  preview layers and progress bar, numba loading its cache, the solver's set-up);
* running: from the first to the last yield (what the "Done when" of issue 7 bounds);
* end: from the last yield until ``--settle-s`` after the result was delivered (the result
  copied into its layer, the UI reset).

The first run of each widget makes its result layer on the click (napari's
``add_layer``); later runs reuse it (``--fresh`` removes it before every run), so the
summary shows run 1 and the later runs apart. A baseline measures napari alone, with no
job: the z slider stepped every 100 ms, each step one re-slice and repaint, which is the
floor any live view has on the machine.

Per cause: the GUI-thread slots of the runner and the widgets, napari's layer creation and
refresh, the vispy canvas paint and matplotlib draws are wrapped with timers; the table
gives, for each phase, each cause's calls, total and longest time. ``--profile`` adds a
``cProfile`` of the GUI thread over the running phase. The machine is shared: the load
average is printed with every table, and stalls grow with it (an idle baseline is measured
first in every run).

    xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python benchmarks/bench_gui_heartbeat.py \
        [--widgets sirt est | --widgets all] [--n 100] [--sirt-iterations 50] [--est-iterations 30 10] \
        [--repeat 3] [--profile]

(Without a DISPLAY the script starts Xvfb itself through pyvirtualdisplay, which
pytest-xvfb installs.) The target is a longest stall ≤ 50 ms while the job runs.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import inspect
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _heartbeat_all import GROUPS as _GROUPS  # noqa: E402, I001
from _heartbeat_report import (causes_by_phase, format_table, phase_stalls,  # noqa: E402, I001
                               print_run, print_summary)


def _ensure_display():
    if os.environ.get("DISPLAY"):
        return None
    from pyvirtualdisplay import Display

    display = Display(visible=False, size=(1280, 1024), color_depth=24)
    display.start()
    return display


# ---------------------------------------------------------------------------- timing
class CallLog:
    """Durations of wrapped GUI-thread calls: ``(name, start, end)`` in perf_counter s."""

    def __init__(self):
        self.calls: list[tuple[str, float, float]] = []
        self.main = threading.main_thread()

    def wrap(self, owner, attr: str, name: str | None = None) -> None:
        original = getattr(owner, attr, None)
        if original is None:  # not in this version of the code
            return
        label = name or f"{getattr(owner, '__name__', owner)}.{attr}"
        calls, main = self.calls, self.main

        # Qt signals connected to a slot that takes fewer arguments (napari's
        # ``destroyed.connect(prog.close)``): PyQt drops the extra arguments only when the
        # slot itself refuses them, which a ``*args`` wrapper never does, so drop them here.
        try:
            params = inspect.signature(original).parameters.values()
        except (TypeError, ValueError):
            params = ()
        if any(p.kind is p.VAR_POSITIONAL for p in params) or not params:
            max_args = None
        else:
            max_args = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            if max_args is not None:
                args = args[:max_args]
            if threading.current_thread() is not main:
                return original(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                calls.append((label, t0, time.perf_counter()))

        setattr(owner, attr, timed)


def instrument(log: CallLog) -> None:
    """Wrap the GUI-thread code paths that may stall the event loop (before the viewer)."""
    import napari.components.viewer_model as viewer_model
    from matplotlib.backends import backend_agg, backend_qtagg

    # The main window's own events: UpdateRequest is where Qt composes the window (the
    # OpenGL canvas and the widgets' backing store); under llvmpipe that is CPU work.
    from napari._qt.qt_main_window import _QtMainWindow
    from napari._vispy.canvas import VispyCanvas
    from napari.layers import Layer
    from napari.utils import progress

    from napari_atomtomo._widgets import _base, _est_live, _live_layers, _plot, _runner, sirt_hebt

    window_event = _QtMainWindow.event

    def timed_event(self, event):
        t0 = time.perf_counter()
        kind = event.type()
        try:
            return window_event(self, event)
        finally:
            t1 = time.perf_counter()
            if t1 - t0 > 0.002:
                log.calls.append((f"Qt main-window event {getattr(kind, 'name', kind)}", t0, t1))

    _QtMainWindow.event = timed_event
    log.wrap(_runner.JobRunner, "run", "runner.run (click)")
    log.wrap(_runner.JobRunner, "_flush_yield", "runner._flush_yield (a yield)")
    log.wrap(_runner.JobRunner, "_on_worker_finished", "runner._on_worker_finished")
    log.wrap(_runner.JobRunner, "_show_result", "runner._show_result (result into layers)")
    log.wrap(_runner.JobRunner, "_release", "runner._release (UI reset, terminal signal)")
    log.wrap(_live_layers, "add_or_replace_layers", "add_or_replace_layers")
    log.wrap(_base.JobDockWidget, "revalidate", "widget.revalidate")
    log.wrap(progress, "__init__", "napari progress() (activity dock)")
    log.wrap(progress, "update", "napari progress.update")
    log.wrap(progress, "close", "napari progress.close")
    log.wrap(Layer, "create", "napari Layer.create")
    log.wrap(Layer, "refresh", "napari Layer.refresh")
    log.wrap(viewer_model.ViewerModel, "add_layer", "napari viewer.add_layer")
    log.wrap(VispyCanvas, "on_draw", "napari canvas draw (vispy)")
    log.wrap(backend_agg.FigureCanvasAgg, "draw", "matplotlib full draw")
    log.wrap(backend_qtagg.FigureCanvasQTAgg, "paintEvent", "matplotlib paintEvent")
    log.wrap(backend_qtagg.FigureCanvasQTAgg, "blit", "matplotlib blit")
    log.wrap(_plot.PlotWidget, "start_curves", "PlotWidget.start_curves")
    log.wrap(_plot.PlotWidget, "update_curves", "PlotWidget.update_curves")
    log.wrap(_runner.JobRunner, "_open_live_layers", "runner: live layers on the click")
    log.wrap(_live_layers, "show", "runner: frame/result into layers")
    log.wrap(sirt_hebt.SirtHebtWidget, "_on_progress", "SIRT widget _on_progress (plot)")
    log.wrap(_est_live.SliceThumbnail, "show_volume", "EST SliceThumbnail.show_volume")
    log.wrap(viewer_model.ViewerModel, "_on_remove_layer", "napari layer removal")
    # issue 14: the job-end steps the runner takes a turn apart, and napari's colour bar
    from napari._vispy.overlays.colorbar import VispyColorBarOverlay

    from napari_atomtomo._widgets import _quantify_threshold, _sample_worker, trace

    log.wrap(_quantify_threshold, "show_fraction_bar", "Quantify: show a wt_ colour bar")
    log.wrap(_quantify_threshold, "hide_maps_under_fractions", "Quantify: hide the maps")
    log.wrap(VispyColorBarOverlay, "__init__", "napari colour-bar overlay made")
    log.wrap(trace.TraceWidget, "_on_finished", "Trace widget _on_finished (plots, summary)")
    log.wrap(_sample_worker, "_fill", "sample: fill the placeholder")
    log_gc(log)


def log_gc(log: CallLog) -> None:
    """Log Python's cyclic garbage collections in the GUI thread as calls too: a
    generation-2 pass over the ~300,000 objects of a napari session takes 100-400 ms and
    lands inside whatever allocates at that moment (issue 14: it was taken for napari's
    colour-bar overlay being slow to make)."""
    import gc

    started = {}

    def on_gc(phase, info):
        if threading.current_thread() is not log.main:
            return
        if phase == "start":
            started["t"] = time.perf_counter()
        elif "t" in started:
            t0 = started.pop("t")
            t1 = time.perf_counter()
            if t1 - t0 > 0.002:
                log.calls.append((f"Python gc generation {info['generation']}", t0, t1))

    gc.callbacks.append(on_gc)


# ---------------------------------------------------------------------------- the runs
def blob_series(n: int):
    from napari_atomtomo.core.geometry import equally_sloped_angles
    from napari_atomtomo.core.projectors import forward_project

    angles = equally_sloped_angles(32, 72.6)
    rng = np.random.default_rng(0)
    axis = np.arange(n, dtype=np.float32)
    zz, yy, xx = np.meshgrid(axis, axis, axis, indexing="ij")
    volume = np.zeros((n, n, n), np.float32)
    for c in rng.uniform(0.3 * n, 0.7 * n, size=(12, 3)):
        volume += np.exp(-((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2) / 8.0)
    return forward_project(volume, angles), angles


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--widgets", nargs="+", choices=("sirt", "est", "all", "quantify"),
                        default=["sirt", "est"],
                        help="'all': every dock's job and every sample against the repaint "
                             "floor measured in the same run (benchmarks/_heartbeat_all.py); "
                             "'quantify': the floor and the Quantify dock alone, --repeat "
                             "times, with napari alone adding a wt_ layer and its colour bar")
    parser.add_argument("--only", nargs="+", choices=_GROUPS, default=_GROUPS,
                        help="with --widgets all: run only these groups of rows")
    parser.add_argument("--n", type=int, default=100, help="volume edge in voxels")
    parser.add_argument("--sirt-iterations", type=int, default=50)
    parser.add_argument("--est-iterations", type=int, nargs=2, default=(30, 10),
                        metavar=("LOOSE", "TIGHT"))
    parser.add_argument("--repeat", type=int, default=1, help="runs per widget")
    parser.add_argument("--fresh", action="store_true",
                        help="remove the result layer before every run (default: the first "
                             "run makes it on the click, later runs reuse it)")
    parser.add_argument("--tick-ms", type=float, default=5.0)
    parser.add_argument("--idle-s", type=float, default=1.0)
    parser.add_argument("--settle-s", type=float, default=1.0,
                        help="keep measuring this long after the result was delivered")
    parser.add_argument("--ndisplay", type=int, choices=(2, 3), default=2,
                        help="canvas in 2D (default) or 3D rendering while the job runs")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the GUI thread over the running phase")
    parser.add_argument("--stalls", type=int, default=3,
                        help="list this many longest stalls per phase with their causes")
    parser.add_argument("--stalls-all", action="store_true",
                        help="with --widgets all: list the --stalls longest stalls of each "
                             "dock with the wrapped calls inside them")
    args = parser.parse_args(argv)
    display = _ensure_display()
    os.environ.pop("QT_QPA_PLATFORM", None)

    log = CallLog()
    instrument(log)
    import napari
    from qtpy.QtCore import QElapsedTimer, Qt, QTimer
    from qtpy.QtWidgets import QApplication

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._base import add_or_replace_layers
    from napari_atomtomo._widgets.sirt_hebt import SIRT

    if "all" in args.widgets or "quantify" in args.widgets:
        import _heartbeat_all
        from _heartbeat_all import run_all, run_quantify

        _heartbeat_all.DIAGNOSE = _heartbeat_all.Diagnose(
            log, args.stalls if args.stalls_all else 0, args.profile)

        viewer = napari.Viewer(show=True)
        viewer.window._qt_window.resize(1280, 900)
        if "all" in args.widgets:
            floor, rows = run_all(QApplication.instance(), viewer, args.only)
        else:
            floor, rows = run_quantify(QApplication.instance(), viewer, args.repeat)
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        for report in _heartbeat_all.DIAGNOSE.reports:
            print(report)
        print(format_table(floor, rows, load))
        viewer.close()
        if display is not None:
            display.stop()
        return 0
    stack, angles = blob_series(args.n)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1280, 900)
    add_or_replace_layers(viewer, image_layer_data(
        stack, 1.0, "blobs tilt series", "benchmark", {"n": args.n}, kind="tilt_series",
        angles_deg=angles, colormap="gray"))
    series = viewer.layers["blobs tilt series"]
    viewer.dims.ndisplay = args.ndisplay
    widgets = {}
    if "sirt" in args.widgets:
        _, w = viewer.window.add_plugin_dock_widget("napari-atomtomo", "SIRT / HEBT")
        w.mode.value = SIRT
        w.haadf.value = series
        w.n_iter.value = args.sirt_iterations
        widgets["sirt"] = (w, "sirt", f"SIRT, {args.sirt_iterations} iterations")
    if "est" in args.widgets:
        _, w = viewer.window.add_plugin_dock_widget("napari-atomtomo", "EST reconstruction")
        w.series.value = series
        w.n_iter.value, w.n_iter_tight.value = args.est_iterations
        widgets["est"] = (w, "est", "EST, {} + {} iterations".format(*args.est_iterations))

    app = QApplication.instance()
    clock = QElapsedTimer()
    clock.start()
    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(int(args.tick_ms))
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    interval = args.tick_ms * 1e-3

    def pump_until(cond, timeout_s):
        t_end = time.perf_counter() + timeout_s
        while not cond() and time.perf_counter() < t_end:
            app.processEvents()
            time.sleep(0.0005)

    pump_until(lambda: False, 2.0)  # let the window, GL and the first draw settle
    rows = []
    for key, (w, result_name, title) in widgets.items():
        for rep in range(args.repeat):
            if args.fresh and result_name in viewer.layers:  # make the result layer anew
                viewer.layers.remove(result_name)
            viewer.layers.selection.active = series
            pump_until(lambda: False, 0.5)
            marks: dict = {}

            def on_yield(_state, marks=marks):
                now = time.perf_counter()
                marks.setdefault("first_yield", now)
                marks["last_yield"] = now

            w.runner.yielded.connect(on_yield)
            done = w.runner.finished.connect(lambda _r, marks=marks: marks.setdefault(
                "end", time.perf_counter()))
            ticks.clear()
            log.calls.clear()
            timer.start()
            pump_until(lambda: False, args.idle_s)
            profiler = cProfile.Profile() if args.profile else None
            marks["click"] = time.perf_counter()
            if not w.run_button.isEnabled():
                raise SystemExit(f"{key}: Run is disabled: {w.reason.text()}")
            w.run_button.click()
            if profiler is not None:
                pump_until(lambda: "first_yield" in marks, 600)
                profiler.enable()
            pump_until(lambda: "end" in marks or not w.runner.busy, 1800)
            if profiler is not None:
                profiler.disable()
            if "end" not in marks:
                raise SystemExit(f"{key}: the job ended without a result: {w.runner.status.text()}")
            pump_until(lambda: False, args.settle_s)
            timer.stop()
            w.runner.yielded.disconnect(on_yield)
            w.runner.finished.disconnect(done)
            load = os.getloadavg()[0]
            per_phase = phase_stalls(np.asarray(ticks), interval, marks)
            causes = causes_by_phase(log.calls, marks)
            wall = marks["end"] - marks["click"]
            title_line = (f"\n## {title} on a {args.n}³ volume × {len(angles)} angles, run "
                          f"{rep + 1}; tick {args.tick_ms:g} ms; {args.ndisplay}D canvas; job "
                          f"{wall:.1f} s; load average {load:.1f}")
            for phase, *stats in print_run(title_line, per_phase, causes, log.calls,
                                           args.stalls, profiler):
                rows.append((key, rep, phase, *stats, load))

    # Baseline: napari's own cost of showing a change, with no job running: the z slider
    # moved one step every 100 ms (each step re-slices the layers and repaints the canvas).
    ticks.clear()
    timer.start()
    steps = iter(range(40))
    stepper = QTimer()
    stepper.setInterval(100)

    def step():
        i = next(steps, None)
        if i is None:
            stepper.stop()
            return
        nz = viewer.dims.nsteps[0]
        viewer.dims.set_current_step(0, (nz // 2 + (i % 10) - 5) % nz)

    stepper.timeout.connect(step)
    stepper.start()
    pump_until(lambda: not stepper.isActive(), 30)
    pump_until(lambda: False, 0.3)
    timer.stop()
    gaps = np.maximum(np.diff(np.asarray(ticks)) - interval, 0.0) * 1e3
    baseline = (float(gaps.max()), float(np.percentile(gaps, 99)), len(gaps))
    print(f"\n## Baseline, no job: the z slider stepped every 100 ms (napari re-slices and "
          f"repaints): longest stall {baseline[0]:.1f} ms, p99 {baseline[1]:.1f} ms "
          f"({baseline[2]} ticks; load average {os.getloadavg()[0]:.1f})")

    if args.repeat > 1 or len(widgets) > 1:
        print_summary(widgets, rows)
    viewer.close()
    if display is not None:
        display.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
