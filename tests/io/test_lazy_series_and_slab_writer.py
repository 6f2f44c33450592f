"""The lazy tilt-series reader and the slab-by-slab MRC writer agree with their eager twins:
the same angle file found, the same errors, the same header written."""

from __future__ import annotations

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.io.lazy import read_tilt_series_lazy
from napari_atomtomo.io.mrc import MrcSlabWriter, read_mrc_header


@pytest.mark.parametrize("angles_name", ["series.tlt", "series.rawtlt", "angles.tlt"])
def test_lazy_and_eager_series_find_the_same_angle_file(tmp_path, angles_name):
    data = np.random.default_rng(0).random((4, 6, 5)).astype(np.float32)
    angles = np.array([-45.0, -15.0, 15.0, 45.0])
    mrc = tmp_path / "series.mrc"
    io.write_mrc(mrc, data, 0.5, kind="stack")
    np.savetxt(tmp_path / angles_name, angles)
    eager = io.read_tilt_series(mrc)
    lazy = read_tilt_series_lazy(mrc, rows=4)
    np.testing.assert_array_equal(lazy.angles_deg, eager.angles_deg)
    np.testing.assert_array_equal(np.asarray(lazy.data), eager.data)
    assert angles_name in eager.angles_source and angles_name in lazy.angles_source


def test_lazy_and_eager_series_refuse_alike(tmp_path):
    data = np.zeros((4, 3, 5), np.float32)
    mrc = tmp_path / "series.mrc"
    io.write_mrc(mrc, data, 1.0, kind="stack")
    for read in (io.read_tilt_series, read_tilt_series_lazy):
        with pytest.raises(FileNotFoundError, match="no angle file for .*series.tlt or angles.tlt"):
            read(mrc)
    np.savetxt(tmp_path / "three.tlt", [-10.0, 0.0, 10.0])
    messages = set()
    for read in (io.read_tilt_series, read_tilt_series_lazy):
        with pytest.raises(ValueError, match="3 entries but the tilt series has 4 images") as e:
            read(mrc, tmp_path / "three.tlt")
        messages.add(str(e.value))
    assert messages == {"angles has 3 entries but the tilt series has 4 images "
                        "(three.tlt vs series.mrc)"}


def test_slab_writer_writes_the_header_of_write_mrc(tmp_path):
    vol = np.random.default_rng(1).random((5, 8, 6)).astype(np.float32)
    label = "run 7: α 0.8"  # not ASCII: the α becomes '?'
    io.write_mrc(tmp_path / "whole.mrc", vol, 0.75, label=label)
    with MrcSlabWriter(tmp_path / "slabs.mrc", vol.shape, 0.75, label=label) as w:
        for y0 in range(0, 8, 3):
            w.write_slab(y0, vol[:, y0:y0 + 3])
    whole, slabs = read_mrc_header(tmp_path / "whole.mrc"), read_mrc_header(tmp_path / "slabs.mrc")
    assert slabs == whole
    assert whole.labels[-1] == "run 7: ? 0.8" and not whole.is_image_stack
    got, vs = io.read_mrc(tmp_path / "slabs.mrc")
    np.testing.assert_array_equal(got, vol)
    assert vs == pytest.approx(0.75)


def test_slab_writer_refuses_a_bad_voxel_size_before_creating_a_file(tmp_path):
    with pytest.raises(ValueError, match="voxel"):
        MrcSlabWriter(tmp_path / "v.mrc", (2, 2, 2), -1.0)
    assert list(tmp_path.iterdir()) == []
