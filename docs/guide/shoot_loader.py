"""Screenshot of the "Load data set" widget, for docs/user-guide.md.

Writes a simulated SiO2 data-set folder (``atomtomo simulate silica``) to a temporary
folder, loads it with the widget (HAADF tilt series + true atoms) and saves the window.

Run under a (virtual) X server from the repository root::

    xvfb-run -a .venv/bin/python docs/guide/shoot_loader.py [OUT.png]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import napari
from _shoot import run_widget_job, save_window, settle

from napari_atomtomo.cli import main as atomtomo

OUT = Path(__file__).resolve().parents[1] / "img" / "guide_loader.png"


def main(out: Path = OUT) -> Path:
    folder = Path(tempfile.mkdtemp()) / "silica_r10"
    atomtomo(["simulate", "silica", str(folder), "--preset", "10", "--seed", "1"])
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1400, 900)
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Load data set")
    widget.source.value = "data-set folder"
    widget.path.value = str(folder)
    run_widget_job(widget, timeout_s=60)
    # The truth atoms live in the reconstruction frame (z, y, x) Å; the tilt series'
    # first axis is the image index, so show the 0° image alone.
    viewer.layers["atoms_true"].visible = False
    viewer.layers.selection.active = viewer.layers["haadf"]
    viewer.dims.set_point(0, 27)  # the 0° image of the 55 equally sloped angles
    viewer.reset_view()
    settle()
    save_window(viewer, out)
    viewer.close()
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
