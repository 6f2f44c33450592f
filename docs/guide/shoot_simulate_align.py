"""Screenshots of the "Simulate tilt series" and "Align tilt series" widgets at work.

Run under a (virtual) X server from the repository root::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/guide/shoot_simulate_align.py

Writes ``docs/img/guide_simulate.png`` and ``docs/img/guide_align.png``: the simulated
SiO2 series at R_noise 10 % (the 0° image), then its alignment with the shifts plot
(measured dy, dx against the simulation's true shifts).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

IMG = Path(os.environ.get("ATOMTOMO_IMG_DIR", Path(__file__).resolve().parents[1] / "img"))


def wait_for(widget, timeout: float = 300.0) -> None:
    """Process Qt events until the widget's job has finished (or raise after timeout)."""
    app = QApplication.instance()
    t0 = time.perf_counter()
    app.processEvents()
    while widget.runner.busy:
        app.processEvents()
        time.sleep(0.02)
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"{type(widget).__name__} did not finish in {timeout} s")
    for _ in range(20):  # let the result layers and the plot draw
        app.processEvents()
        time.sleep(0.02)


def grab(viewer, path: Path) -> None:
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    # napari warns (a toast) that the tilt series' angle axis and the atoms' z axis have
    # different units; the toast would hide part of the canvas
    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.hide()
    QApplication.instance().processEvents()
    viewer.window._qt_window.grab().save(str(path))
    print(f"wrote {path}")


def main() -> int:
    IMG.mkdir(parents=True, exist_ok=True)
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 950)

    dock, simulate = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Simulate tilt series")
    simulate.noise.value = ("preset", 10)
    simulate.run_button.click()
    wait_for(simulate)
    viewer.dims.set_point(0, 27)  # the 0° image
    viewer.reset_view()
    grab(viewer, IMG / "guide_simulate.png")
    viewer.window.remove_dock_widget(dock)

    _, align = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Align tilt series")
    align.series.value = viewer.layers["haadf"]
    align.run_button.click()
    wait_for(align)
    viewer.layers["haadf"].visible = False
    viewer.dims.set_point(0, 5)  # a high-tilt image, where the shifts are plain to see
    grab(viewer, IMG / "guide_align.png")
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
