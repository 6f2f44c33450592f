"""Screenshot of the "Trace atoms" widget at work, for docs/guide/trace.md.

Opens the sample "SiO2 reconstructed by EST" (paper 000's 1002-atom particle at R_noise
10 %, reconstructed by EST: a real reconstruction, read from the sample's cache or made
once, 15-40 s), docks "Trace atoms", traces the ``est`` volume with ``atoms_true`` as the
true atoms, and saves the whole window (3D view: the reconstruction's density, drawn
see-through, with the traced atoms on top; the dock shows the sorted peak intensities
and the deviation plot; the canvas shows the element legend; peak 3 is clicked, so its
atom is selected and ringed in both plots).

Run under a (virtual) X server from the repository root::

    xvfb-run -a .venv/bin/python docs/guide/shoot_trace.py [OUT.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

import napari
from _shoot import run_widget_job, save_window, settle

OUT = Path(__file__).resolve().parents[1] / "img" / "guide_trace.png"


def main(out: Path = OUT) -> Path:
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 1050)
    # the sample's layers, made in this thread (open_sample would make them in a worker)
    from napari_atomtomo._sample_silica import make_silica_reconstruction
    from napari_atomtomo._widgets._base import add_or_replace_layers

    add_or_replace_layers(viewer, make_silica_reconstruction())
    viewer.layers.remove("atoms_traced")  # the dock traces the volume anew
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Trace atoms")
    widget.volume.value = viewer.layers["est"]
    widget.truth.value = viewer.layers["atoms_true"]
    run_widget_job(widget, timeout_s=600.0)
    settle(20, pause_s=0.0)
    volume = viewer.layers["est"]
    volume.rendering = "mip"
    volume.contrast_limits = (0.0, float(volume.data.max()))
    atoms = viewer.layers["est atoms"]
    # the default markers (0.6-0.8 Å by element, see-through, shaded) show the density
    viewer.dims.ndisplay = 3
    viewer.reset_view()
    viewer.scene.camera.angles = (-15.0, 30.0, 75.0)
    viewer.layers.selection.active = atoms
    widget.links.select_atom(2)  # as a click on peak 3 does
    viewer.reset_view()
    viewer.scene.camera.angles = (-15.0, 30.0, 75.0)
    settle()
    save_window(viewer, out)
    viewer.close()
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
