"""Benchmark: how long napari's Qt event loop stalls while a 3D SIRT job runs (issue 7).

A ``QTimer`` fires every ``--tick-ms`` ms in the GUI thread and records when it ran; the
largest gap between two ticks, minus the interval, is the longest stall the user would
feel. The job is a real one: ``core.sirt.iter_sirt`` on a 100³ volume of Gaussian blobs
with the 55 equally sloped angles of ±72.6°, run by the plugin's ``JobRunner`` in a
napari viewer, with a preview layer updated every ``--yield-every`` iterations (as the
widgets do). Phases are reported separately: before the first yield (numba compiling or
loading its cache, SIRT's weights) and the iterations themselves; plus an idle baseline.

    xvfb-run -a .venv/bin/python benchmarks/bench_gui_heartbeat.py [--n 100] [--iterations 30]

(Without a DISPLAY the script starts Xvfb itself through pyvirtualdisplay, which
pytest-xvfb installs.) The target is a longest stall ≤ 50 ms. The machine is shared: the
load average is printed with the table; stalls grow with load.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _ensure_display():
    if os.environ.get("DISPLAY"):
        return None
    from pyvirtualdisplay import Display

    display = Display(visible=False, size=(1280, 1024), color_depth=24)
    display.start()
    return display


def _stats(ticks: list[float], interval_s: float) -> tuple[float, float, int]:
    gaps = np.diff(np.asarray(ticks)) if len(ticks) > 1 else np.zeros(1)
    stalls = np.maximum(gaps - interval_s, 0.0) * 1e3
    return float(stalls.max()), float(np.percentile(stalls, 99)), len(ticks)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="volume edge in voxels")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--yield-every", type=int, default=5)
    parser.add_argument("--tick-ms", type=float, default=5.0)
    parser.add_argument("--idle-s", type=float, default=1.0)
    parser.add_argument("--no-preview", action="store_true", help="do not show previews")
    args = parser.parse_args(argv)
    display = _ensure_display()
    os.environ.pop("QT_QPA_PLATFORM", None)

    import napari
    from qtpy.QtCore import QElapsedTimer, QTimer
    from qtpy.QtWidgets import QApplication

    from napari_atomtomo._layers import image_layer_data
    from napari_atomtomo._widgets._runner import JobRunner
    from napari_atomtomo.core.geometry import equally_sloped_angles
    from napari_atomtomo.core.projectors import forward_project
    from napari_atomtomo.core.sirt import SirtParams, iter_sirt

    n = args.n
    angles = equally_sloped_angles(32, 72.6)
    rng = np.random.default_rng(0)
    zz, yy, xx = np.meshgrid(*(np.arange(n, dtype=np.float32),) * 3, indexing="ij")
    volume = np.zeros((n, n, n), np.float32)
    for c in rng.uniform(0.3 * n, 0.7 * n, size=(12, 3)):
        volume += np.exp(-((zz - c[0]) ** 2 + (yy - c[1]) ** 2 + (xx - c[2]) ** 2) / 8.0)
    stack = forward_project(volume, angles)
    params = SirtParams(n_iter=args.iterations, yield_every=args.yield_every)

    viewer = napari.Viewer(show=True)
    viewer.add_image(stack, name="stack")
    runner = JobRunner(viewer)
    app = QApplication.instance()
    clock = QElapsedTimer()
    clock.start()
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(int(args.tick_ms))
    timer.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() * 1e-9))
    interval = args.tick_ms * 1e-3

    def pump_until(cond, timeout_s):
        t_end = time.perf_counter() + timeout_s
        while not cond() and time.perf_counter() < t_end:
            app.processEvents()
            time.sleep(0.0005)

    pump_until(lambda: False, 2.0)  # let the window, GL and the first draw settle
    # idle baseline
    timer.start()
    pump_until(lambda: False, args.idle_s)
    idle = _stats(ticks, interval)

    marks = {}
    runner.yielded.connect(lambda s: marks.setdefault("first_yield", len(ticks)))
    runner.finished.connect(lambda r: marks.setdefault("end", len(ticks)))
    ticks.clear()
    t0 = time.perf_counter()  # ticks from here: the click (incl. creating the preview layer)
    runner.run(
        iter_sirt, stack, angles, params, label="sirt", total=args.iterations,
        on_yield=lambda s: None if s.volume is None or args.no_preview else image_layer_data(
            s.volume, 1.0, "sirt preview", "sirt", params),
        on_result=lambda r: image_layer_data(
            getattr(r, "volume", r), 1.0, "sirt result", "sirt", params),
        preview_layers=None if args.no_preview else image_layer_data(
            np.zeros_like(volume), 1.0, "sirt preview", "sirt", params),
    )
    pump_until(lambda: "end" in marks, 600)
    wall = time.perf_counter() - t0
    timer.stop()
    k = marks.get("first_yield", 1)
    before = _stats(ticks[: k + 1], interval)
    during = _stats(ticks[k:], interval)

    load = os.getloadavg()[0]
    print(f"\nGUI heartbeat: {n}³ SIRT, {len(angles)} angles, {args.iterations} iterations, "
          f"preview every {args.yield_every}; tick {args.tick_ms:g} ms; load average {load:.1f}")
    print("| phase | longest stall (ms) | 99th percentile (ms) | ticks |")
    print("| --- | --- | --- | --- |")
    print("| idle viewer | {:.1f} | {:.1f} | {} |".format(*idle))
    print("| click → first yield (preview layer, JIT/cache, weights) | {:.1f} | {:.1f} | {} |".format(*before))
    print("| iterations + previews | {:.1f} | {:.1f} | {} |".format(*during))
    print(f"\njob wall time {wall:.1f} s")
    viewer.close()
    if display is not None:
        display.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
