"""Screenshot of the "Trace atoms" widget at work, for docs/guide/trace.md.

Opens the sample "Synthetic atoms volume (Si/O Gaussians)", docks "Trace atoms", picks
``atoms_true`` as the true atoms, traces, and saves the whole window (3D view: the
volume's maximum intensity projection with the traced atoms on top; the dock shows the
sorted peak intensities and the deviation plot).

Run under a (virtual) X server from the repository root::

    xvfb-run -a .venv/bin/python docs/guide/shoot_trace.py [OUT.png]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

OUT = Path(__file__).resolve().parents[1] / "img" / "guide_trace.png"


def wait_until(condition, timeout_s: float = 120.0) -> None:
    t0 = time.perf_counter()
    while not condition():
        QApplication.processEvents()
        time.sleep(0.02)
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError("the trace job did not finish in time")


def main(out: Path = OUT) -> Path:
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 1050)
    viewer.open_sample("napari-atomtomo", "synthetic_atoms_volume")
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Trace atoms")
    widget.truth.value = viewer.layers["atoms_true"]
    done = []
    widget.runner.finished.connect(done.append)
    widget.run_button.click()
    wait_until(lambda: bool(done))
    for _ in range(20):
        QApplication.processEvents()
    volume = viewer.layers["atoms volume"]
    volume.rendering = "mip"
    volume.contrast_limits = (0.0, float(volume.data.max()))
    atoms = viewer.layers["atoms volume atoms"]
    atoms.size = 0.9  # smaller markers (default 2 Å) let the volume show between the atoms
    viewer.dims.ndisplay = 3
    viewer.reset_view()
    viewer.scene.camera.angles = (-15.0, 30.0, 75.0)
    viewer.scene.camera.zoom *= 0.9
    viewer.layers.selection.active = atoms
    for _ in range(30):
        QApplication.processEvents()
        time.sleep(0.02)
    out.parent.mkdir(parents=True, exist_ok=True)
    viewer.window._qt_window.grab().save(str(out))
    viewer.close()
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
