"""Screenshot of the "EST reconstruction" widget at work, for docs/guide/est.md.

Opens the blob tilt-series sample, docks the widget, runs EST (200 + 200 iterations) and
grabs the whole window during round 2, while the result layer, the thumbnail of the
central slices and the error plot are live:

    xvfb-run -a .venv/bin/python docs/guide/shoot_est.py [docs/img/guide_est.png]

(Without a DISPLAY it starts Xvfb itself through pyvirtualdisplay, which pytest-xvfb
installs.) Never set QT_QPA_PLATFORM=offscreen: napari's canvas would be black.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "img" / "guide_est.png"


def main(out: Path = OUT) -> int:
    display = None
    if not os.environ.get("DISPLAY"):
        from pyvirtualdisplay import Display

        display = Display(visible=False, size=(1600, 1000), color_depth=24)
        display.start()
    os.environ.pop("QT_QPA_PLATFORM", None)

    import napari
    from qtpy.QtWidgets import QApplication

    from napari_atomtomo._widgets import est as est_module
    from napari_atomtomo._widgets.est import RESULT

    real_iter_est = est_module.iter_est

    def slowed_iter_est(*args, **kwargs):
        """The real EST, 15 ms slower per iteration: the sample is so small that the job
        would otherwise end before the GUI could be caught in the middle of round 2."""
        gen = real_iter_est(*args, **kwargs)

        def run():
            while True:
                try:
                    state = next(gen)
                except StopIteration as stop:
                    return stop.value
                time.sleep(0.015)
                yield state

        return run()

    est_module.iter_est = slowed_iter_est

    viewer = napari.Viewer(show=True, title="napari-atomtomo: EST reconstruction")
    viewer.window.resize(1500, 920)
    viewer.open_sample("napari-atomtomo", "blob_tilt_series")
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "EST reconstruction")
    app = QApplication.instance()

    def pump(seconds: float, until=lambda: False) -> None:
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end and not until():
            app.processEvents()
            time.sleep(0.005)

    pump(1.0)
    state = {"iteration": 0, "done": False}
    def on_yield(s):
        state.update(iteration=s.iteration, errors=s.errors)
        if s.iteration >= 300 and widget.runner._worker is not None:
            widget.runner._worker.pause()  # hold round 2 still for the picture

    widget.runner.yielded.connect(on_yield)
    widget.runner.finished.connect(lambda _r: state.update(done=True))
    widget.n_iter.value, widget.n_iter_tight.value = 200, 200
    widget.run_button.click()
    pump(60.0, lambda: RESULT in viewer.layers)
    viewer.layers["blobs tilt series"].visible = False
    (y0, x0), (y1, x1) = viewer.layers[RESULT].extent.world[:, -2:]
    viewer.scene.camera.center = ((y0 + y1) / 2, (x0 + x1) / 2)
    viewer.scene.camera.zoom = 0.9 * viewer.window._qt_viewer.canvas.size[1] / (x1 - x0)
    pump(120.0, lambda: state["iteration"] >= 300 or state["done"])
    pump(0.8)  # let the last update reach the plot, the thumbnail and the canvas
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()  # napari's unrelated "inconsistent units" warning
    pump(0.3)
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.window._qt_window.grab().save(str(out))
    print(f"saved {out} at iteration {state['iteration']}")
    widget.runner._worker.resume()
    pump(120.0, lambda: state["done"])
    viewer.close()
    if display is not None:
        display.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
