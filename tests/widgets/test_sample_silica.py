"""The "SiO2 particle reconstructed by EST, with traced atoms" sample (issue 7)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from napari_atomtomo import _sample_silica
from napari_atomtomo._colors import ELEMENT_COLORS
from napari_atomtomo._layers import layer_info
from napari_atomtomo._widgets._sample_worker import PLACEHOLDER, running_samples

PLUGIN = "napari-atomtomo"


@pytest.mark.slow
def test_reconstruction_sample_is_made_once_then_read_from_the_cache(
        make_napari_viewer, tmp_path, monkeypatch, qtbot):
    monkeypatch.setenv("NAPARI_ATOMTOMO_CACHE", str(tmp_path))
    folder = _sample_silica.silica_reconstruction_folder()
    assert folder.parent == tmp_path and not folder.exists()
    viewer = make_napari_viewer()
    # the pipeline (~15-40 s) runs in a worker: open_sample returns at once with a
    # placeholder layer, the window stays responsive, the layers replace it when ready
    viewer.open_sample(PLUGIN, "silica_reconstruction")
    assert [lyr.name for lyr in viewer.layers] == [PLACEHOLDER]
    assert not (folder / "summary.json").exists()
    placeholder = viewer.layers[PLACEHOLDER]
    qtbot.waitUntil(lambda: not running_samples(), timeout=600_000)
    assert [lyr.name for lyr in viewer.layers] == ["est", "atoms_traced", "atoms_true"]
    est = viewer.layers["est"]
    assert est is placeholder  # filled in place: napari made no second image layer
    assert est.data.shape == (100, 100, 100) and tuple(est.scale) == pytest.approx((0.5,) * 3)
    assert layer_info(est)["kind"] == "volume" and layer_info(est)["algorithm"] == "est"
    assert layer_info(est)["parameters"]["n_iter"] == 200
    traced = viewer.layers["atoms_traced"]
    elements = np.asarray(traced.features["element"])
    assert len(traced.data) == 1002 and (elements == "Si").sum() == 334
    for el in ("Si", "O"):  # Si yellow, O red
        np.testing.assert_allclose(traced.face_color[elements == el][0], to_rgba(ELEMENT_COLORS[el]))
    assert np.all(np.asarray(traced.features["intensity"]) > 0)
    comparison = layer_info(traced)["comparison"]
    assert comparison["n_true"] == 1002 and comparison["resolution_A"] == 1.0
    assert comparison["misplaced_by_element"] == {"Si": 0, "O": 0}  # paper: 0 at R_noise 10 %
    assert not viewer.layers["atoms_true"].visible
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]  # no temporary left

    # the second time the files are read back; the pipeline does not run again
    def fail(*_a, **_k):
        raise AssertionError("the pipeline ran again")

    monkeypatch.setattr("napari_atomtomo.pipelines.silica.run_silica_pipeline", fail)
    again = _sample_silica.make_silica_reconstruction()
    np.testing.assert_array_equal(again[0][0], est.data)


def test_an_interrupted_run_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    monkeypatch.setenv("NAPARI_ATOMTOMO_CACHE", str(tmp_path))

    def interrupted(out_dir, *_a, **_k):
        (out_dir / "est.mrc").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr("napari_atomtomo.pipelines.silica.run_silica_pipeline", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _sample_silica.make_silica_reconstruction()
    assert list(tmp_path.iterdir()) == []
