"""Screenshot of the "Quantify (ESF threshold)" widget at work, for docs/guide/quantify.md.

Opens the sample "Ag–Au core–shell phantom (paper 002)", reconstructs its EDS sinograms
into the element maps ``map_Ag`` and ``map_Au`` (EDS SIRT, 50 iterations, as the EDS
widget or ``atomtomo eds`` would), docks "Quantify (ESF threshold)", quantifies with the
defaults, and saves the whole window: the weight fractions ``wt_Au`` (gold) and
``wt_Ag`` (silver) on the z–x plane of the slice, and in the dock the V(t) curve, its
ESF fit and the threshold line.

Run under a (virtual) X server from the repository root::

    xvfb-run -a .venv/bin/python docs/guide/shoot_quantify.py [OUT.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

import napari
from _shoot import run_widget_job, save_window, settle

from napari_atomtomo._layers import image_layer_data, layer_angles_deg, series_array
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds

OUT = Path(__file__).resolve().parents[1] / "img" / "guide_quantify.png"


def main(out: Path = OUT) -> Path:
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 1000)
    viewer.open_sample("napari-atomtomo", "agau_phantom")
    eds = {el: series_array(viewer.layers[f"eds_{el}"]) for el in ("Ag", "Au")}
    angles = layer_angles_deg(viewer.layers["eds_Ag"])
    params = SirtParams(n_iter=50, yield_every=50)
    # The sinograms are not needed any more (they would also be offered nowhere here).
    for name in ("haadf", "eds_Ag", "eds_Au"):
        viewer.layers.remove(name)
    for el, m in reconstruct_eds(eds, angles, params).items():
        viewer.add_layer(napari.layers.Layer.create(*image_layer_data(
            m, 15.0, f"map_{el}", "eds", params, [f"eds_{el}"], element=el,
            colormap="gray", visible=False)))
    _, widget = viewer.window.add_plugin_dock_widget("napari-atomtomo", "Quantify (ESF threshold)")
    run_widget_job(widget)
    settle(10)
    viewer.dims.order = (1, 0, 2)  # show the z–x plane of the (z, 1, x) slice
    viewer.reset_view()
    viewer.layers.selection.active = viewer.layers["wt_Au"]
    settle()
    from napari._qt.dialogs.qt_notification import NapariQtNotification

    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.hide()  # opening the sample can leave napari's "inconsistent units" notice
    settle(5)
    save_window(viewer, out)
    viewer.close()
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
