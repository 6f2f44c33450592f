"""Layer data tuples follow CONVENTIONS.md, and atoms survive a Points layer round trip."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from napari.layers import Layer
from napari.utils.colormaps.standardize_color import transform_color

from napari_atomtomo import __version__
from napari_atomtomo._atoms_layers import (
    atoms_from_points_data,
    atoms_from_points_layer,
    atoms_layer_data,
)
from napari_atomtomo._colors import ELEMENT_COLORS, UNKNOWN_ELEMENT_COLOR, element_color
from napari_atomtomo._layers import (
    contrast_range,
    image_layer_data,
    layer_angles_deg,
    layer_voxel_size,
    series_array,
)
from napari_atomtomo.core.atoms import Atoms


@dataclass(frozen=True)
class FakeParams:
    n_iter: int = 3
    alpha: float = 0.5
    elements: tuple = ("Ag", "Au")


def test_volume_tuple_has_scale_labels_units_and_provenance():
    vol = np.zeros((4, 5, 6), np.float32)
    data, kw, kind = image_layer_data(vol, 0.5, "rec", "sirt", FakeParams(), ["haadf"])
    assert kind == "image" and data is vol
    assert kw["scale"] == (0.5, 0.5, 0.5)
    assert kw["axis_labels"] == ("z", "y", "x")
    assert kw["units"] == ("angstrom",) * 3
    rec = kw["metadata"]["atomtomo"]
    assert rec["algorithm"] == "sirt"
    assert rec["parameters"] == {"n_iter": 3, "alpha": 0.5, "elements": ["Ag", "Au"]}
    assert rec["source_layers"] == ["haadf"]
    assert rec["version"] == __version__
    assert rec["kind"] == "volume" and rec["voxel_size"] == 0.5
    json.dumps(kw["metadata"])  # plain JSON values only


def test_tilt_series_tuple_and_napari_layer():
    stack = np.ones((3, 4, 5), np.float32)
    angles = np.array([-10.0, 0.0, 10.0])
    layer = Layer.create(*image_layer_data(stack, 0.8, "ts", "read", {"x": np.float32(1)},
                                           kind="tilt_series", angles_deg=angles))
    # the angle axis is its own (4D, singleton z) in degrees: start -10°, step 10°
    assert tuple(layer.scale) == (10.0, 0.8, 0.8, 0.8)
    assert tuple(layer.translate) == (-10.0, 0.0, 0.0, 0.0)
    assert layer.axis_labels == ("angle", "z", "y", "x")
    assert [str(u) for u in layer.units] == ["degree", "angstrom", "angstrom", "angstrom"]
    assert series_array(layer).shape == (3, 4, 5)
    assert layer.metadata["atomtomo"]["angle_axis"]["exact"] is True
    np.testing.assert_array_equal(layer_angles_deg(layer), angles)
    assert layer_voxel_size(layer) == 0.8
    assert layer.metadata["atomtomo"]["parameters"] == {"x": 1.0}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "tilt_series", "angles_deg": [0.0, 1.0]}, "angles has 2 entries but the tilt series has 3"),
        ({"kind": "sinogram"}, "kind must be one of"),
        ({"voxel_size": -1.0}, "voxel_size must be a positive number"),
        ({"voxel_size": float("nan")}, "voxel_size must be a positive number"),
        ({"kind": "volume", "angles_deg": [0.0, 1.0, 2.0]}, "angles_deg only applies"),
    ],
)
def test_image_tuple_rejects_bad_input(kwargs, match):
    args = {"voxel_size": 1.0, "kind": "volume", **kwargs}
    vs = args.pop("voxel_size")
    with pytest.raises(ValueError, match=match):
        image_layer_data(np.zeros((3, 4, 5)), vs, "x", "read", **args)


def test_tilt_series_must_be_3d():
    with pytest.raises(ValueError, match=r"a tilt series must be 3D \(angle, y, x\)"):
        image_layer_data(np.zeros((4, 5)), 1.0, "x", "read", kind="tilt_series")


def _atoms():
    return Atoms(
        ["Si", "O", "O", "Au"],
        [[1.0, 2.0, 3.0], [4.5, 5.5, 6.5], [0.0, 0.0, 0.0], [7.0, 8.0, 9.0]],
        {"intensity": np.array([3.0, 1.0, 1.5, 9.0]), "cluster": np.array([1, 2, 2, 3])},
    )


def test_atoms_points_layer_positions_features_and_colours():
    atoms = _atoms()
    data, kw, kind = atoms_layer_data(atoms, "atoms", "trace", {"min_distance_A": 1.2})
    assert kind == "points"
    np.testing.assert_array_equal(data, atoms.positions[:, ::-1])  # world (z, y, x) in Å
    layer = Layer.create(data, kw, kind)
    assert list(layer.features["element"]) == ["Si", "O", "O", "Au"]
    np.testing.assert_array_equal(layer.features["intensity"], [3.0, 1.0, 1.5, 9.0])
    expected = transform_color(["#f0c000", "#e00000", "#e00000", ELEMENT_COLORS["Au"]])
    np.testing.assert_allclose(layer.face_color, expected, atol=1e-6)
    assert layer.projection_mode == "all"
    # sized by element from the covalent radius, scaled down into 0.6-0.8 Å (O < Si < Au),
    # borderless, semi-transparent and spherically shaded: the density stays visible
    np.testing.assert_allclose(layer.size, [0.7133, 0.6133, 0.6133, 0.7689], atol=1e-4)
    assert 0.6 <= layer.size.min() and layer.size.max() <= 0.8
    assert np.all(layer.border_width == 0) and layer.opacity < 1
    assert str(layer.shading) == "spherical"
    assert tuple(layer.scale) == (1.0, 1.0, 1.0)
    # a point added later gets the default element's colour
    layer.add([[0.0, 0.0, 0.0]])
    np.testing.assert_allclose(layer.face_color[-1], transform_color("#f0c000")[0], atol=1e-6)


def test_atoms_round_trip_through_a_points_layer():
    atoms = _atoms()
    layer = Layer.create(*atoms_layer_data(atoms, "atoms", "trace"))
    back = atoms_from_points_layer(layer)
    np.testing.assert_array_equal(back.elements, atoms.elements)
    np.testing.assert_allclose(back.positions, atoms.positions)
    np.testing.assert_allclose(back.features["intensity"], atoms.features["intensity"])
    np.testing.assert_array_equal(back.features["cluster"], atoms.features["cluster"])


def test_empty_atoms_make_an_empty_points_layer():
    layer = Layer.create(*atoms_layer_data(Atoms([], np.zeros((0, 3))), "none", "trace"))
    assert layer.data.shape == (0, 3)


def test_points_scale_and_translate_give_world_angstrom():
    data = np.array([[1.0, 2.0, 3.0]])
    attrs = {"scale": (2.0, 2.0, 2.0), "translate": (1.0, 0.0, -1.0),
             "features": {"element": np.array(["O"])}}
    atoms = atoms_from_points_data(data, attrs)
    np.testing.assert_allclose(atoms.positions, [[5.0, 4.0, 3.0]])  # (x, y, z)


def test_points_without_element_need_a_default():
    with pytest.raises(ValueError, match="no 'element' feature"):
        atoms_from_points_data(np.zeros((2, 3)), {})
    atoms = atoms_from_points_data(np.zeros((2, 3)), {}, default_element="Pt")
    assert list(atoms.elements) == ["Pt", "Pt"]


def test_2d_points_are_refused():
    with pytest.raises(ValueError, match=r"atoms need 3D points \(z, y, x\)"):
        atoms_from_points_data(np.zeros((2, 2)), {}, default_element="Si")


def test_element_colour_table():
    assert element_color("Si") == "#f0c000"
    assert element_color("o") == "#e00000"
    assert element_color("AU") == ELEMENT_COLORS["Au"]
    assert element_color("Xx") == UNKNOWN_ELEMENT_COLOR
    assert len(set(ELEMENT_COLORS.values())) == len(ELEMENT_COLORS)  # one colour per element


def test_series_angle_axis_is_not_shared_with_a_volume_z(make_napari_viewer):
    """A 55-image series next to a 100-slice volume: an angle slider in degrees (±72.6°)
    and a z slider in Å, not one 0–108 slider shared by both."""
    viewer = make_napari_viewer()
    angles = np.degrees(np.arctan(np.linspace(-3.2, 3.2, 55)))
    viewer.add_layer(Layer.create(*image_layer_data(
        np.zeros((100, 8, 8), np.float32), 1.08, "vol", "read")))
    viewer.add_layer(Layer.create(*image_layer_data(
        np.zeros((55, 8, 8), np.float32), 1.08, "ts", "read", kind="tilt_series",
        angles_deg=angles)))
    dims = viewer.dims
    assert dims.ndim == 4 and dims.axis_labels == ("angle", "z", "y", "x")
    assert str(dims.units[0]) == "degree" and str(dims.units[1]) == "angstrom"
    angle_range, z_range = dims.range[0], dims.range[1]
    assert angle_range.start == pytest.approx(angles[0])
    assert angle_range.stop == pytest.approx(angles[-1])
    assert (z_range.start, z_range.stop) == pytest.approx((0.0, 99 * 1.08))
    # the slider shows the tilt angle: the last step is the last angle in degrees
    assert dims.nsteps[0] == 55  # every image is reachable
    dims.set_current_step(0, 54)
    assert dims.point[0] == pytest.approx(angles[-1], abs=1e-4)
    # non-uniform (equally sloped) angles: the linear axis's largest gap is recorded
    axis = viewer.layers["ts"].metadata["atomtomo"]["angle_axis"]
    assert axis["unit"] == "degree" and not axis["exact"] and axis["max_gap_deg"] > 0.05
    # in 3D the series is one flat plane (z extent 0), not a box around the volume
    dims.ndisplay = 3
    world = viewer.layers["ts"].extent.world
    assert world[1, 1] - world[0, 1] == 0.0


def test_one_row_series_opens_as_a_sinogram(make_napari_viewer):
    viewer = make_napari_viewer()
    stack = np.arange(31 * 60, dtype=np.float32).reshape(31, 1, 60)
    angles = np.linspace(-60, 60, 31)
    layer = viewer.add_layer(Layer.create(*image_layer_data(
        stack, 0.5, "sino", "read", kind="tilt_series", angles_deg=angles)))
    assert layer.data.shape == (31, 1, 60) and layer.axis_labels == ("angle", "y", "x")
    # rows spread over the maps' height (59 voxels of 0.5 Å over 30 steps), beside the
    # maps (60 voxels + a gap of 3) along x; the rows keep Å (napari shares the axis)
    assert tuple(layer.scale) == pytest.approx((59 * 0.5 / 30, 0.5, 0.5))
    assert tuple(layer.translate) == (0.0, 0.0, 63 * 0.5)
    assert [str(u) for u in layer.units] == ["angstrom"] * 3
    assert layer.metadata["atomtomo"]["display"] == "sinogram"
    axis = layer.metadata["atomtomo"]["angle_axis"]
    assert axis["readout"] == "cursor" and axis["x_offset_A"] == 31.5
    np.testing.assert_array_equal(series_array(layer), stack)


@pytest.mark.slow
def test_the_canvas_names_the_exact_tilt_angle(make_napari_viewer, open_sample):
    """The slider is linear; equally sloped angles are not: the canvas text names the
    exact angle and image number of the image on screen."""
    viewer = make_napari_viewer()
    open_sample(viewer, "blob_tilt_series")
    viewer.window.add_plugin_dock_widget("napari-atomtomo", "EST reconstruction")
    overlay = viewer.canvas.overlays["atomtomo_tilt"]
    angles = layer_angles_deg(viewer.layers["blobs tilt series"])
    for k in (0, 20, 54):
        viewer.dims.set_current_step(0, k)
        assert overlay.visible
        assert overlay.text == (f"blobs tilt series: tilt {angles[k]:+.2f}° "
                                f"(image {k + 1} of 55)")
    viewer.layers["blobs tilt series"].visible = False
    assert not overlay.visible


def test_the_canvas_names_the_tilt_angle_of_the_sinogram_row_under_the_cursor(
        make_napari_viewer):
    """A sinogram has no angle slider: in the z-x view (chosen for a 2D data set) the
    canvas text names the exact angle of the row under the cursor (uneven angles too),
    only over the sinogram, only in 2D; in the y-x view, the row on the z slider."""
    from napari_atomtomo._widgets._tilt_readout import install_tilt_readout

    viewer = make_napari_viewer()
    angles = np.degrees(np.arctan(np.linspace(-2.0, 2.0, 21)))  # uneven steps
    layer = viewer.add_layer(Layer.create(*image_layer_data(
        np.ones((21, 1, 40), np.float32), 2.0, "sino", "read", kind="tilt_series",
        angles_deg=angles)))
    assert tuple(viewer.dims.order) == (0, 1, 2)
    overlay = install_tilt_readout(viewer).overlay
    assert tuple(viewer.dims.order) == (1, 0, 2)  # the z-x view: the rows on the canvas
    x = layer.translate[2] + 5 * layer.scale[2]
    for k in (0, 7, 20):
        viewer.cursor.position = (k * layer.scale[0], 0.0, x)
        assert overlay.visible
        assert overlay.text == f"sino: tilt θ = {angles[k]:+.2f}° (row {k + 1} of 21)"
    viewer.cursor.position = (7 * layer.scale[0], 0.0, layer.translate[2] - 10.0)  # left
    assert not overlay.visible
    viewer.cursor.position = (7 * layer.scale[0], 0.0, x)
    layer.visible = False
    assert not overlay.visible
    layer.visible = True
    viewer.dims.order = (0, 1, 2)  # the y-x view: the z slider picks the row
    viewer.dims.set_current_step(0, 12)
    assert overlay.text == f"sino: tilt θ = {angles[12]:+.2f}° (row 13 of 21)"
    viewer.dims.ndisplay = 3
    assert not overlay.visible


@pytest.mark.slow
def test_a_new_volume_opens_on_its_middle_slice_next_to_a_series(make_napari_viewer, open_sample):
    from napari_atomtomo._widgets._base import add_or_replace_layers

    viewer = make_napari_viewer()
    open_sample(viewer, "blob_tilt_series")
    viewer.layers.remove("blobs truth")
    viewer.dims.set_point(1, 0.0)  # z at the series' singleton slice
    (vol,) = add_or_replace_layers(viewer, [image_layer_data(
        np.ones((40, 32, 40), np.float32), 0.5, "est", "est", {})])
    assert viewer.dims.point[1] == pytest.approx(np.mean(vol.extent.world[:, 0]), abs=0.5)


def test_atoms_tuple_imports_pandas_where_it_is_made():
    """napari imports pandas on its first Points layer with features (0.2-0.6 s in the GUI
    thread); the atoms tuple is made in a worker thread, so it imports pandas there."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from napari_atomtomo._atoms_layers import atoms_layer_data\n"
        "from napari_atomtomo.core.atoms import Atoms\n"
        "assert 'pandas' not in sys.modules\n"
        "atoms_layer_data(Atoms(np.array(['Si']), np.zeros((1, 3))), 'a', 'test')\n"
        "assert 'pandas' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_contrast_range_gives_a_flat_image_a_range_of_one():
    assert contrast_range(2.0, 5.0) == (2.0, 5.0)
    assert contrast_range(3.0, 3.0) == (3.0, 4.0)
