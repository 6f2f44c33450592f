"""Screenshots of the "SIRT / HEBT" widget at work on the Ag–Au sample (user guide).

    xvfb-run -a .venv/bin/python docs/guide/shoot_sirt_hebt.py [--out-dir docs/img]

Writes ``guide_sirt_hebt.png`` (a HEBT run: element maps, fitted response ratios with R²,
residual curve) and ``guide_sirt_hebt_sweep.png`` (a small α × n sweep scored against
the phantom). Takes about a minute on a busy 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def wait_until(condition, app, timeout_s: float = 300.0) -> None:
    t0 = time.perf_counter()
    while not condition():
        app.processEvents()
        time.sleep(0.02)
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError("the job did not finish in time")


def run_job(widget, app) -> None:
    done = []
    for signal in (widget.runner.finished, widget.runner.errored, widget.runner.cancelled):
        signal.connect(lambda *_: done.append(True))
    if not widget.run_button.isEnabled():
        raise RuntimeError(f"cannot run: {widget.reason.text()}")
    widget.run_button.click()
    wait_until(lambda: bool(done), app)
    for _ in range(20):  # let the last draws land
        app.processEvents()
        time.sleep(0.02)


def grab(viewer, app, path: Path) -> None:
    for _ in range(10):
        app.processEvents()
        time.sleep(0.05)
    viewer.window._qt_window.grab().save(str(path))
    print(f"wrote {path}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=str(Path(__file__).resolve().parents[1] / "img"))
    args = parser.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.pop("QT_QPA_PLATFORM", None)  # napari needs a real (virtual) X display

    import napari
    from qtpy.QtWidgets import QApplication

    viewer = napari.Viewer(show=True, title="napari-atomtomo: SIRT / HEBT")
    app = QApplication.instance()
    viewer.window.resize(1500, 1000)
    viewer.open_sample("napari-atomtomo", "agau_phantom")
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "SIRT / HEBT")

    # 1. HEBT with fitted ratios, α = 0.8, 100 iterations
    widget.alpha.value = 0.8
    widget.n_iter.value = 100
    run_job(widget, app)
    # the maps' z-x plane with the HAADF sinogram beside them; the cursor on its row 19
    # (+15°) makes the canvas text name that row's tilt angle
    viewer.layers.selection.active = viewer.layers["map_Au"]
    viewer.reset_view()
    haadf = viewer.layers["haadf"]
    # the sinogram (angle, 1, x): row 18 along z, column 48 along x
    viewer.cursor.position = (haadf.translate[0] + 18 * haadf.scale[0], 0.0,
                              haadf.translate[2] + 48 * haadf.scale[2])
    grab(viewer, app, out / "guide_sirt_hebt.png")
    haadf.visible = False

    # 1b. keep that result, run α = 0.3, and compare the two Au maps side by side
    widget.keep_button.click()
    widget.alpha.value = 0.3
    run_job(widget, app)
    for layer in viewer.layers:
        layer.visible = layer.name in ("map_Au", "map_Au [HEBT α0.8 n100]")
    viewer.grid.enabled = True
    viewer.reset_view()
    grab(viewer, app, out / "guide_sirt_hebt_keep.png")
    viewer.grid.enabled = False

    # 2. a small sweep scored against the true weight fractions
    widget.sweep.value = True
    widget.alphas.value = "0:1:0.2"
    widget.n_values.value = "25, 50, 100"
    widget.references.value = [viewer.layers["phantom_Ag"], viewer.layers["phantom_Au"]]
    run_job(widget, app)
    # a click on a cell (here α = 0.8, n = 100) shows that cell's maps
    for layer in viewer.layers:
        layer.visible = layer.name in ("map_Ag", "map_Au")
    done = []
    widget.runner.finished.connect(lambda *_: done.append(True))
    widget.sweep_view.show_cell(2, 4)
    wait_until(lambda: bool(done), app)
    viewer.reset_view()
    for _ in range(10):
        app.processEvents()
    bar = widget.scroll_area.verticalScrollBar()
    bar.setValue(widget.plot.y() - 120)  # the dock scrolls: show the heat maps
    grab(viewer, app, out / "guide_sirt_hebt_sweep.png")
    viewer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
