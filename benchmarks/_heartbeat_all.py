"""Every dock's job end and every sample, against napari's own repaint floor (issue 14).

Used by ``bench_gui_heartbeat.py --widgets all`` (``--widgets quantify``: the floor and
the Quantify dock only, :func:`run_quantify`). One shown viewer; a 5 ms precise
``QTimer`` records when the GUI thread ran it; a stall is a gap between ticks minus the
interval. In the same run:

* **floor**: napari alone, a volume shown and its z slider stepped every 100 ms (one
  re-slice and repaint per step): the longest stall is the repaint floor of the machine;
  then napari alone pays the session's one-time costs (first image, points, colour bar,
  3D view), so no later row, ours or napari's, is charged for coming first;
* **samples**: each ``File ▸ Open Sample`` entry, opened as the menu does (napari calls
  the sample function in the GUI thread; ours return a placeholder at once, compute in a
  worker and add their layers one per event-loop turn), and, as extra floor rows, napari
  alone adding the same layers with the same kwargs;
* **docks**: each widget's Run clicked on small real inputs; the row gives the longest
  stall from the click to the first progress ("click"), while the job runs, and from
  the job's end until 0.5 s later ("end": the result layers, plots and read-outs).

Our stall counts against the target when it exceeds the floor + 50 ms.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from _heartbeat_napari import (  # noqa: E402, I001
    _floor,
    _napari_alone_add,
    _napari_alone_fraction_layer,
    _napari_first_layers,
)

PLUGIN = "napari-atomtomo"
SAMPLES = ("blob_tilt_series", "synthetic_atoms_volume", "agau_phantom", "silica_tilt_series",
           "silica_reconstruction")


class Heartbeat:
    def __init__(self, app, tick_ms: float = 5.0):
        from qtpy.QtCore import Qt, QTimer

        self.app, self.interval = app, tick_ms * 1e-3
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(int(tick_ms))
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def pump(self, seconds: float = 0.0, until=None, timeout_s: float = 600.0) -> None:
        t_end = time.perf_counter() + (timeout_s if until is not None else seconds)
        while time.perf_counter() < t_end and not (until is not None and until()):
            self.app.processEvents()
            time.sleep(0.0005)

    def longest(self, t0: float, t1: float) -> float:
        """Longest stall (ms) of a gap ending in [t0, t1]."""
        t = np.asarray(self.ticks)
        if t.size < 2:
            return float("nan")
        gaps = np.diff(t) - self.interval
        ends = t[1:]
        sel = (ends >= t0) & (ends <= t1)
        return float(gaps[sel].max() * 1e3) if sel.any() else 0.0


def _wait_samples(hb) -> None:
    from napari_atomtomo._widgets._sample_worker import running_samples

    hb.pump(until=lambda: not running_samples())


def _open_sample(viewer, hb, key) -> dict:
    """One sample as the File menu opens it. The sample computes in a worker: "click" is
    the ``open_sample`` call (the placeholder layer) and its repaint, "running" the
    worker, "end" the layers added one per turn, until 0.5 s after the last."""
    from napari_atomtomo._widgets._sample_worker import running_samples

    hb.pump(0.3)
    marks = {}
    DIAGNOSE.start()
    t0 = time.perf_counter()
    viewer.open_sample(PLUGIN, key)
    t1 = time.perf_counter()
    def on_started(_job, runner):  # the worker starts a turn after the placeholder's add
        runner._worker.returned.connect(
            lambda *_: marks.setdefault("returned", time.perf_counter()))

    for runner in running_samples():
        runner.started.connect(lambda job, r=runner: on_started(job, r))
    _wait_samples(hb)
    t_ret = marks.get("returned", t1)
    hb.pump(0.5)
    t2 = time.perf_counter()
    # the call blocks the GUI thread: its stall ends with the first tick after it
    after = [t for t in hb.ticks if t > t1]
    click_end = after[0] if after else t1
    t_ret = max(t_ret, click_end)
    DIAGNOSE.stop(hb, f"sample {key}", t0, t2, {"click": (t0, click_end),
                                                "running": (click_end, t_ret), "end": (t_ret, t2)})
    eps = 1e-6  # a gap belongs to the phase it ends in: once
    return {"case": f"sample {key}", "click": hb.longest(t0, click_end),
            "running": hb.longest(click_end + eps, t_ret), "end": hb.longest(t_ret + eps, t2),
            "seconds": t2 - t0}


def _new_layers(viewer, before: set) -> list:
    """The layers of ``viewer`` not in ``before`` (a set of layer ids): what a run added."""
    return [layer for layer in viewer.layers if id(layer) not in before]


class Diagnose:
    """``--stalls``/``--profile`` for the every-dock run: the longest stalls of each dock
    with the wrapped calls inside them, and a cProfile of the GUI thread per dock."""

    def __init__(self, log=None, n_stalls: int = 0, profile: bool = False):
        self.log, self.n_stalls, self.profile = log, n_stalls, profile
        self.reports: list[str] = []
        self.profiler = None

    def start(self):
        if self.log is not None:
            self.log.calls.clear()
        if self.profile:
            import cProfile

            self.profiler = cProfile.Profile()
            self.profiler.enable()

    def stop(self, hb, title, t0, t1, phases):
        import io
        import pstats

        if self.profiler is not None:
            self.profiler.disable()
        lines = [f"### {title}"]
        if self.n_stalls and self.log is not None:
            from _heartbeat_report import causes_of_gap

            t = np.asarray(hb.ticks)
            gaps = (np.diff(t) - hb.interval) * 1e3
            sel = np.flatnonzero((t[1:] >= t0) & (t[1:] <= t1))
            for i in sel[np.argsort(gaps[sel])[::-1][: self.n_stalls]]:
                phase = next((p for p, (a, b) in phases.items() if a <= t[i + 1] <= b), "?")
                lines.append(f"  {gaps[i]:.0f} ms ({phase}): "
                             + "; ".join(causes_of_gap(self.log.calls, t[i], t[i + 1])))
        if self.profiler is not None:
            out = io.StringIO()
            stats = pstats.Stats(self.profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(25)
            stats.print_stats("napari_atomtomo", 30)  # ours, under napari's event handlers
            lines.append(out.getvalue())
            self.profiler = None
        self.reports.append("\n".join(lines))


DIAGNOSE = Diagnose()


def _run_dock(viewer, hb, name, widget, title) -> dict:
    marks = {}
    widget.runner.yielded.connect(lambda *_: marks.setdefault("first", time.perf_counter()))
    widget.runner.finished.connect(lambda *_: marks.setdefault("end", time.perf_counter()))
    widget.runner.errored.connect(lambda exc: marks.setdefault("error", exc))
    if not widget.run_button.isEnabled():
        return {"case": title, "error": widget.reason.text()}
    hb.pump(0.3)
    before = {id(layer) for layer in viewer.layers}
    DIAGNOSE.start()
    t0 = time.perf_counter()
    widget.run_button.click()
    hb.pump(until=lambda: "end" in marks or "error" in marks)
    if "error" in marks:
        return {"case": title, "error": str(marks["error"])}
    t_end = marks["end"]
    hb.pump(0.5)
    first = marks.get("first", t_end)
    t2 = time.perf_counter()
    DIAGNOSE.stop(hb, title, t0, t2, {"click": (t0, first), "running": (first, t_end),
                                      "end": (t_end, t2)})
    return {"case": title, "click": hb.longest(t0, first), "running": hb.longest(first, t_end),
            "end": hb.longest(t_end, time.perf_counter()), "seconds": t_end - t0,
            "new": _new_layers(viewer, before)}


def _paired(viewer, hb, row: dict, alone=None) -> list[dict]:
    """``row`` and its napari-alone row, measured only when ``row`` ran: ``alone()`` (by
    default napari adding copies of the layers the run added), linked for the table's
    "ours − napari alone" column."""
    if "error" in row:
        return [row]
    if alone is None:
        names = ", ".join(layer.name for layer in row["new"]) or "no new layer"
        alone = _napari_alone_add(viewer, hb, row["new"], f"add {names}")
    else:
        alone = alone()
    row["alone"] = alone
    return [row, alone]


#: ``--only`` groups: each runs its rows in the order of a full run (a group's rows need
#: the ones before them in the group, e.g. Quantify needs SIRT / HEBT's maps).
GROUPS = ("samples", "load", "agau", "blobs", "trace")


def run_all(app, viewer, only=GROUPS) -> tuple[float, list[dict]]:
    """Floor, samples and every dock (or the ``only`` groups); returns ``(floor_ms, rows)``."""
    hb = Heartbeat(app)
    hb.timer.start()
    hb.pump(2.0)
    floor = _floor(viewer, hb)
    rows = [_napari_first_layers(viewer, hb)]
    for key in SAMPLES if "samples" in only else ():
        viewer.layers.clear()
        row = _open_sample(viewer, hb, key)
        rows += _paired(viewer, hb, row, lambda key=key: _napari_alone_add(
            viewer, hb, list(viewer.layers), f"a one-voxel image, then the {key} layers",
            placeholder=True, clear=True))

    def dock(name):
        _, w = viewer.window.add_plugin_dock_widget(PLUGIN, name)
        return w

    if "load" in only:
        rows += _load_row(viewer, hb, dock)
    if "agau" in only:
        rows += _agau_rows(viewer, hb, dock)
    if "blobs" in only:
        rows += _blob_rows(viewer, hb, dock)
    if "trace" in only:
        rows += _trace_rows(viewer, hb, dock)
    hb.timer.stop()
    return floor, rows


def _load_row(viewer, hb, dock) -> list[dict]:
    """Load: the silica series (55 x 100 x 100) as an MRC with its .tlt."""
    from napari_atomtomo import io
    viewer.layers.clear()
    from napari_atomtomo._layers import series_array
    from napari_atomtomo._sample_data import make_silica_tilt_series

    data, kwargs, _ = make_silica_tilt_series()[0]
    with tempfile.TemporaryDirectory() as folder:
        mrc = Path(folder) / "haadf.mrc"
        io.write_tilt_series(mrc, series_array(data),
                             kwargs["metadata"]["atomtomo"]["angles_deg"], 0.5)
        w = dock("Load data set")
        w.path.value = mrc
        row = _run_dock(viewer, hb, "load", w, "Load data set (55 x 100² MRC + .tlt)")
    # into an empty viewer, as the Load did (napari sets up its dims)
    return _paired(viewer, hb, row, lambda: _napari_alone_add(
        viewer, hb, row["new"], "add haadf to an empty viewer", clear=True))


def _agau_rows(viewer, hb, dock) -> list[dict]:
    """Simulate the Ag-Au data set, SIRT / HEBT on it (50 iterations), Quantify the maps."""
    viewer.layers.clear()
    w = dock("Simulate tilt series")
    w.kind.value = "agau"
    row = _run_dock(viewer, hb, "simulate", w, "Simulate (Ag-Au data set)")
    if "error" in row:
        return [row]
    # into an empty viewer, as Simulate's first layer went (napari sets up its dims)
    rows = _paired(viewer, hb, row, lambda: _napari_alone_add(
        viewer, hb, row["new"], "add the Simulate layers to an empty viewer", clear=True,
        restore=True))
    # SIRT / HEBT on the Ag-Au series, 50 iterations
    w = dock("SIRT / HEBT")
    w.n_iter.value = 50
    rows += _paired(viewer, hb, _run_dock(viewer, hb, "hebt", w, "SIRT / HEBT (HEBT, 50 it.)"))
    # Quantify the maps
    w = dock("Quantify (ESF threshold)")
    row = _run_dock(viewer, hb, "quantify", w, "Quantify (map_Ag, map_Au)")
    return rows + _paired(viewer, hb, row, lambda: _napari_alone_fraction_layer(viewer, hb))


def _blob_rows(viewer, hb, dock) -> list[dict]:
    """Preprocess, Align and EST on the blob series sample."""
    rows: list[dict] = []
    viewer.layers.clear()
    viewer.open_sample(PLUGIN, "blob_tilt_series")
    _wait_samples(hb)
    for name, title in (("Preprocess tilt series", "Preprocess (blobs)"),
                        ("Align tilt series", "Align (blobs)")):
        rows += _paired(viewer, hb, _run_dock(viewer, hb, name, dock(name), title))
    w = dock("EST reconstruction")
    w.series.value = viewer.layers["blobs tilt series"]
    w.n_iter.value, w.n_iter_tight.value = 20, 10
    return rows + _paired(viewer, hb, _run_dock(viewer, hb, "est", w, "EST (blobs, 20 + 10 it.)"))


def _trace_rows(viewer, hb, dock) -> list[dict]:
    """Trace the synthetic atoms volume against its truth."""
    viewer.open_sample(PLUGIN, "synthetic_atoms_volume")
    _wait_samples(hb)
    w = dock("Trace atoms")
    w.volume.value = viewer.layers["atoms volume"]
    w.truth.value = viewer.layers["atoms_true"]
    return _paired(viewer, hb, _run_dock(viewer, hb, "trace", w, "Trace (synthetic Si/O, with truth)"))


def run_quantify(app, viewer, repeat: int = 1) -> tuple[float, list[dict]]:
    """Floor, then the Quantify dock on EDS SIRT maps of the Ag-Au phantom (the test
    fixture's recipe), ``repeat`` runs, each followed by napari alone adding a ``wt_``
    like layer and its colour bar; returns ``(floor_ms, rows)``."""
    from napari.layers import Layer

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo.core.simulate.agau import simulate_agau
    from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds

    hb = Heartbeat(app)
    hb.timer.start()
    hb.pump(2.0)
    floor = _floor(viewer, hb)
    ds = simulate_agau(0)
    params = SirtParams(n_iter=20, yield_every=20)
    for el, m in reconstruct_eds(ds.eds, ds.angles_deg, params).items():
        data, kwargs, kind = image_layer_data(m, 15.0, f"map_{el}", "eds", params, [f"eds_{el}"],
                                              element=el, colormap="gray")
        viewer.add_layer(Layer.create(data, kwargs, kind))
    hb.pump(0.5)
    t0 = time.perf_counter()
    _, w = viewer.window.add_plugin_dock_widget(PLUGIN, "Quantify (ESF threshold)")
    hb.pump(1.0)
    rows = [{"case": "Quantify dock opened (until 1 s later)", "click": hb.longest(
        t0, time.perf_counter()), "running": 0.0, "end": 0.0, "seconds": 1.0}]
    for k in range(repeat):
        row = _run_dock(viewer, hb, "quantify", w, f"Quantify (map_Ag, map_Au), run {k + 1}")
        rows += _paired(viewer, hb, row, lambda: _napari_alone_fraction_layer(viewer, hb))
    hb.timer.stop()
    return floor, rows
