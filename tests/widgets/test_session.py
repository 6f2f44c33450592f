"""Save and reopen an AtomTomo session: layers, atomtomo metadata and dock parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_atomtomo._layers import series_array
from napari_atomtomo._widgets._session import SESSION_FILE, open_session, save_session

PLUGIN = "napari-atomtomo"


@pytest.mark.slow
def test_a_session_reopens_as_it_was(make_napari_viewer, tmp_path, open_sample):
    viewer = make_napari_viewer()
    open_sample(viewer, "synthetic_atoms_volume")
    open_sample(viewer, "blob_tilt_series")
    _, trace = viewer.window.add_plugin_dock_widget(PLUGIN, "Trace atoms")
    trace.volume.value = viewer.layers["atoms volume"]
    trace.truth.value = viewer.layers["atoms_true"]
    trace.resolution.value = 0.7
    trace.elements.value = "Si, O"
    _, sirt = viewer.window.add_plugin_dock_widget(PLUGIN, "SIRT / HEBT")
    sirt.n_iter.value = 37
    viewer.layers["atoms volume"].contrast_limits = (0.1, 0.9)
    viewer.layers["atoms_true"].shown = np.arange(len(viewer.layers["atoms_true"].data)) % 2 == 0
    before = {lyr.name: lyr for lyr in viewer.layers}

    folder = save_session(viewer, tmp_path / "s1")
    record = json.loads((folder / SESSION_FILE).read_text())
    assert [e["name"] for e in record["layers"]] == list(before)
    assert [p.name for p in tmp_path.iterdir()] == ["s1"]  # no temporary left
    with pytest.raises(ValueError, match="exists"):
        save_session(viewer, folder)

    again = make_napari_viewer()
    open_session(again, folder)
    assert [lyr.name for lyr in again.layers] == list(before)
    for name, old in before.items():
        new = again.layers[name]
        assert type(new) is type(old)
        np.testing.assert_array_equal(new.data, old.data)
        assert new.data.dtype == np.asarray(old.data).dtype
        np.testing.assert_allclose(new.scale, old.scale)
        np.testing.assert_allclose(new.translate, old.translate)
        assert new.axis_labels == old.axis_labels and new.visible == old.visible
        assert new.metadata == old.metadata  # the atomtomo record: algorithm, parameters...
    series = again.layers["blobs tilt series"]
    assert series_array(series).shape == (55, 32, 40) and str(series.units[0]) == "degree"
    assert tuple(again.layers["atoms volume"].contrast_limits) == pytest.approx((0.1, 0.9))
    assert (again.layers["atoms volume"].colormap.name
            == before["atoms volume"].colormap.name)
    atoms = again.layers["atoms_true"]
    np.testing.assert_array_equal(atoms.shown, before["atoms_true"].shown)
    np.testing.assert_allclose(atoms.size, before["atoms_true"].size)
    np.testing.assert_allclose(atoms.face_color, before["atoms_true"].face_color)
    assert list(atoms.features["element"]) == list(before["atoms_true"].features["element"])
    docks = {name.rsplit(" (", 1)[0]: w for name, w in again.window.dock_widgets.items()}
    trace2, sirt2 = docks["Trace atoms"], docks["SIRT / HEBT"]
    assert trace2.volume.value is again.layers["atoms volume"]
    assert trace2.truth.value is again.layers["atoms_true"]
    assert trace2.resolution.value == 0.7 and trace2.elements.value == "Si, O"
    assert sirt2.n_iter.value == 37
