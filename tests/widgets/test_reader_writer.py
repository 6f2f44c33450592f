"""Readers, writers and sample data through napari's own entry points (viewer.open/save)."""

from __future__ import annotations

from pathlib import Path

import napari
import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo._atoms_layers import atoms_layer_data
from napari_atomtomo._layers import image_layer_data, layer_angles_deg, layer_info, series_array
from napari_atomtomo._reader import (
    get_atoms_reader,
    get_dataset_reader,
    get_dm3_reader,
    get_mrc_reader,
)
from napari_atomtomo._sample_data import blob_volume
from napari_atomtomo._writer import write_image_mrc, write_points
from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.geometry import equally_sloped_angles

PLUGIN = "napari-atomtomo"


def test_open_mrc_tilt_series_and_save_it_back(make_napari_viewer, small_tilt_series_files,
                                               tmp_path):
    viewer = make_napari_viewer()
    mrc, _, data, angles = small_tilt_series_files
    [layer] = viewer.open(mrc, plugin=PLUGIN)
    assert layer.axis_labels == ("angle", "z", "y", "x")
    step = (angles[-1] - angles[0]) / (len(angles) - 1)
    assert tuple(layer.scale) == pytest.approx((step, 0.75, 0.75, 0.75))
    out = tmp_path / "copy.mrc"
    written = napari.save_layers(str(out), [layer], plugin=PLUGIN)
    assert sorted(written) == sorted([str(out), str(out.with_suffix(".tlt"))])
    ts = io.read_tilt_series(out)
    np.testing.assert_array_equal(ts.data, data)
    np.testing.assert_allclose(ts.angles_deg, angles)
    assert ts.voxel_size == pytest.approx(0.75)
    assert io.read_mrc_header(out).is_image_stack


@pytest.mark.slow
def test_open_dataset_folder_and_atoms(make_napari_viewer, small_dataset_folder, tmp_path):
    viewer = make_napari_viewer()
    folder, ds = small_dataset_folder
    layers = viewer.open(folder, plugin=PLUGIN)
    assert [lyr.name for lyr in layers] == [
        "haadf", "eds_Ag", "eds_Au", "phantom_Ag", "phantom_Au", "atoms_true"
    ]
    atoms = viewer.layers["atoms_true"]
    for suffix in (".xyz", ".csv"):
        out = tmp_path / f"atoms{suffix}"
        assert napari.save_layers(str(out), [atoms], plugin=PLUGIN) == [str(out)]
        [back] = viewer.open(out, plugin=PLUGIN)
        np.testing.assert_allclose(back.data, atoms.data)
        assert list(back.features["element"]) == list(ds.atoms_true.elements)


def test_points_with_intensity_round_trip_through_csv(tmp_path):
    atoms = Atoms(["Si", "O"], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
                  {"intensity": np.array([7.25, 0.5])})
    data, meta, _ = atoms_layer_data(atoms, "traced", "trace")
    out = tmp_path / "traced.csv"
    assert write_points(str(out), data, meta) == [str(out)]
    back = io.read_atoms_csv(out)
    np.testing.assert_allclose(back.positions, atoms.positions)
    np.testing.assert_allclose(back.features["intensity"], [7.25, 0.5])
    with pytest.raises(ValueError, match=r"atoms are written as \.xyz or \.csv, got 'traced\.pdb'"):
        write_points(str(tmp_path / "traced.pdb"), data, meta)


def test_volume_written_with_voxel_size_from_scale(tmp_path):
    vol = np.random.default_rng(2).random((3, 4, 5), dtype=np.float32)
    data, meta, _ = image_layer_data(vol, 0.35, "rec", "sirt")
    out = tmp_path / "rec.mrc"
    write_image_mrc(str(out), data, meta)
    back, vs = io.read_mrc(out)
    np.testing.assert_array_equal(back, vol)
    assert vs == pytest.approx(0.35)
    meta["scale"] = (0.35, 0.35, 0.5)
    with pytest.raises(ValueError, match="anisotropic scale"):
        write_image_mrc(str(tmp_path / "aniso.mrc"), data, meta)


def test_writer_never_overwrites_the_file_a_layer_came_from(small_tilt_series_files):
    from napari_atomtomo._reader import read_mrc_layers

    mrc = small_tilt_series_files[0]
    before = mrc.read_bytes()
    data, meta, _ = read_mrc_layers(mrc)[0]
    with pytest.raises(ValueError, match="is one of the inputs"):
        write_image_mrc(str(mrc), data * 2, meta)
    assert mrc.read_bytes() == before


def test_reader_hooks_decline_what_is_not_ours(tmp_path, small_tilt_series_files):
    other_csv = tmp_path / "table.csv"
    other_csv.write_text("a,b\n1,2\n")
    assert get_atoms_reader(str(other_csv)) is None
    assert get_mrc_reader(str(tmp_path / "missing.mrc")) is None
    assert get_mrc_reader([str(small_tilt_series_files[0])] * 2) is None
    assert get_dataset_reader(str(tmp_path)) is None  # a folder with no haadf.mrc or maps
    assert get_dataset_reader(str(small_tilt_series_files[0])) is None
    assert get_dm3_reader(str(small_tilt_series_files[0])) is None  # an MRC
    assert get_dm3_reader(str(tmp_path / "missing.dm3")) is None


def test_phantom_next_to_angles_is_a_volume(tmp_path):
    from napari_atomtomo._reader import read_mrc_layers

    io.write_tlt(tmp_path / "angles.tlt", [-10.0, 0.0, 10.0])
    io.write_mrc(tmp_path / "phantom_Ag.mrc", np.ones((3, 1, 3), np.float32), 1.5)
    _, meta, _ = read_mrc_layers(tmp_path / "phantom_Ag.mrc")[0]
    assert meta["axis_labels"] == ("z", "y", "x")  # same count as the angles, still a volume


@pytest.mark.slow
def test_sample_blob_tilt_series(make_napari_viewer, open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "blob_tilt_series")
    series = viewer.layers["blobs tilt series"]
    assert series_array(series).shape == (55, 32, 40)
    assert series.axis_labels == ("angle", "z", "y", "x")
    assert tuple(series.scale[1:]) == pytest.approx((0.5, 0.5, 0.5))
    angles = np.asarray(series.metadata["atomtomo"]["angles_deg"])
    np.testing.assert_allclose(angles, equally_sloped_angles(32, 72.6))
    assert angles.max() == pytest.approx(72.646, abs=1e-3)
    # line integrals keep the mass: every projection sums to the volume's total
    total = blob_volume().sum(dtype=np.float64)
    np.testing.assert_allclose(series_array(series).sum(axis=(1, 2), dtype=np.float64), total,
                               rtol=5e-3)
    truth = viewer.layers["blobs truth"]
    assert truth.axis_labels == ("z", "y", "x") and not truth.visible
    centres = viewer.layers["blob centres"]
    assert sorted(set(centres.features["element"])) == ["O", "Si"]


DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"outside data folder {DATA} is absent")


@pytest.mark.slow
@needs_data
def test_open_a_dm3_tilt_series_with_its_own_tilt_calibration(make_napari_viewer):
    viewer = make_napari_viewer()
    path = DATA / "etspy-haadf" / "HAADF.dm3"
    assert get_dm3_reader(str(path)) is not None
    viewer.open(path, plugin="napari-atomtomo")
    (layer,) = viewer.layers
    assert layer.name == "HAADF" and series_array(layer).shape == (91, 64, 64)
    assert layer_info(layer)["kind"] == "tilt_series"
    np.testing.assert_allclose(layer_angles_deg(layer), np.arange(-90.0, 90.1, 2.0))
    assert tuple(layer.scale[2:]) == pytest.approx((179.949, 179.949), abs=1e-3)
    assert layer.scale[0] == pytest.approx(2.0)  # the angle slider steps 2°
    assert "DM3 tilt calibration" in layer_info(layer)["angles_source"]


@needs_data
@pytest.mark.slow
def test_open_a_folder_of_bcf_files_as_haadf_and_eds_series(make_napari_viewer):
    viewer = make_napari_viewer()
    folder = DATA / "ncem-haadf-eds" / "bcf"
    viewer.open(folder, plugin="napari-atomtomo")
    names = [lyr.name for lyr in viewer.layers]
    assert names[0] == "haadf" and {"eds_Pt", "eds_Fe", "eds_Si", "eds_O"} <= set(names)
    haadf = viewer.layers["haadf"]
    assert series_array(haadf).shape == (16, 256, 256)
    np.testing.assert_allclose(layer_angles_deg(haadf)[:3], [-40.0, -35.0, -30.0])
    for lyr in viewer.layers[1:]:
        info = layer_info(lyr)
        assert info["kind"] == "tilt_series" and lyr.name == f"eds_{info['element']}"
        assert lyr.data.shape == haadf.data.shape and lyr.blending == "additive"
        assert tuple(lyr.scale) == tuple(haadf.scale)
