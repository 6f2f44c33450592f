"""One colour per element everywhere (issue 14): ``map_`` layers were coloured by their
position in the list (Ag magenta, Au green) while ``wt_`` layers and atoms were coloured
by element (Au gold)."""

from __future__ import annotations

import numpy as np
import pytest
from napari.utils.colormaps.standardize_color import transform_color

from napari_atomtomo._atoms_layers import atoms_layer_data
from napari_atomtomo._colors import element_color
from napari_atomtomo._widgets._base import add_or_replace_layers
from napari_atomtomo._widgets.sirt_hebt import EDS
from napari_atomtomo.core.atoms import Atoms

PLUGIN = "napari-atomtomo"


def top_colour(layer) -> np.ndarray:
    """The colour an image layer shows at its brightest."""
    return np.asarray(layer.colormap.map(np.array([1.0]))[0])


@pytest.mark.slow
def test_maps_weight_fractions_and_atoms_share_the_elements_colour(make_napari_viewer, qtbot, open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "agau_phantom")
    _, sirt = viewer.window.add_plugin_dock_widget(PLUGIN, "SIRT / HEBT")
    _, quantify = viewer.window.add_plugin_dock_widget(PLUGIN, "Quantify (ESF threshold)")
    sirt.mode.value = EDS
    # Au first: a colour by list position would now give Au what Ag had.
    sirt.eds.value = [viewer.layers["eds_Au"], viewer.layers["eds_Ag"]]
    sirt.elements.value = "Au, Ag"
    sirt.n_iter.value = 10
    assert sirt.run_button.isEnabled(), sirt.reason.text()
    with qtbot.waitSignal(sirt.runner.finished, timeout=60_000):
        sirt.run_button.click()
    assert [lyr.name for lyr in quantify.maps.value] == ["map_Au", "map_Ag"]
    assert quantify.run_button.isEnabled(), quantify.reason.text()
    with qtbot.waitSignal(quantify.runner.finished, timeout=60_000):
        quantify.run_button.click()
    qtbot.waitUntil(lambda: "wt_Au" in viewer.layers and "wt_Ag" in viewer.layers,
                    timeout=10_000)
    atoms = Atoms(["Au", "Ag", "Au"], np.zeros((3, 3)))
    (points,) = add_or_replace_layers(viewer, atoms_layer_data(atoms, "atoms", "test"))

    for el in ("Au", "Ag"):
        colour = transform_color(element_color(el))[0]
        for name in (f"map_{el}", f"wt_{el}", f"eds_{el}", f"phantom_{el}"):
            np.testing.assert_allclose(top_colour(viewer.layers[name]), colour, atol=1e-6,
                                       err_msg=name)
        faces = points.face_color[np.asarray(points.features["element"]) == el]
        np.testing.assert_allclose(faces, np.tile(colour, (len(faces), 1)), atol=1e-6)
    assert not np.allclose(top_colour(viewer.layers["map_Au"]),
                           top_colour(viewer.layers["map_Ag"]))


def test_curves_named_by_an_element_take_its_colour_others_their_position(qtbot):
    """Issue 14: plot curves were coloured by list position. A curve named by an element
    takes the element's colour (in any order, any case); other curves keep the colours
    by position."""
    from matplotlib.colors import to_rgba

    from napari_atomtomo._widgets._plot import CURVE_COLOURS, PlotWidget

    plot = PlotWidget()
    qtbot.addWidget(plot)
    plot.start_curves(["HAADF", "au", "Ag", "round 2"], x_max=5)
    lines = {line.get_label(): line for line in plot.axes.lines}
    for label, colour in (("HAADF", CURVE_COLOURS[0]), ("au", element_color("Au")),
                          ("Ag", element_color("Ag")), ("round 2", CURVE_COLOURS[3])):
        assert to_rgba(lines[label].get_color()) == to_rgba(colour), label
