"""MRC reading and writing: round trips, header contents, and one-sentence errors."""

import mrcfile
import numpy as np
import pytest

from napari_atomtomo.io import read_mrc, read_mrc_header, write_mrc


def _ramp(shape, dtype=np.float32):
    return (np.arange(np.prod(shape)).reshape(shape) * 0.25 - 3.0).astype(dtype)


@pytest.mark.parametrize("kind", ["volume", "stack"])
@pytest.mark.parametrize("shape", [(5, 7, 9), (4, 1, 6)])
def test_round_trip_keeps_data_voxel_size_and_kind(tmp_path, kind, shape):
    data = _ramp(shape)
    path = write_mrc(tmp_path / "a.mrc", data, 0.5, kind=kind)
    back, vs = read_mrc(path)
    assert back.dtype == np.float32 and back.shape == shape
    np.testing.assert_array_equal(back, data)
    assert vs == pytest.approx(0.5)
    hdr = read_mrc_header(path)
    assert hdr.shape == shape and hdr.dtype == "float32" and hdr.voxel_size_set
    assert hdr.is_image_stack == (kind == "stack" and shape[0] > 1)
    with mrcfile.open(path) as m:
        assert int(m.header.ispg) == (0 if kind == "stack" else 1)
        assert int(m.header.mode) == 2
        assert any("napari-atomtomo" in lbl for lbl in m.get_labels())


def test_integer_file_is_read_as_float32(tmp_path):
    p = tmp_path / "i.mrc"
    with mrcfile.new(p) as m:
        m.set_data(np.arange(24, dtype=np.int16).reshape(2, 3, 4))
        m.voxel_size = 2.0
    data, vs = read_mrc(p)
    assert data.dtype == np.float32 and vs == 2.0
    np.testing.assert_array_equal(data, np.arange(24).reshape(2, 3, 4))


def test_single_image_is_read_as_one_slice_and_unset_voxel_size_is_one(tmp_path):
    p = tmp_path / "img.mrc"
    with mrcfile.new(p) as m:
        m.set_data(_ramp((3, 4)))
        m.voxel_size = 0.0
    data, vs = read_mrc(p)
    assert data.shape == (1, 3, 4) and vs == 1.0
    assert not read_mrc_header(p).voxel_size_set


def test_denormals_are_flushed(tmp_path):
    data = np.full((2, 2, 2), 1e-38, np.float32)
    data[0, 0, 0] = 1.0
    back, _ = read_mrc(write_mrc(tmp_path / "d.mrc", data, 1.0))
    assert back[0, 0, 0] == 1.0 and np.count_nonzero(back) == 1


def test_zero_machine_stamp_is_accepted(tmp_path):
    p = write_mrc(tmp_path / "s.mrc", _ramp((2, 3, 4)), 1.5)
    raw = bytearray(p.read_bytes())
    raw[212:216] = b"\x00\x00\x00\x00"  # machine stamp, as GENFIRE writes it
    p.write_bytes(bytes(raw))
    data, vs = read_mrc(p)
    np.testing.assert_array_equal(data, _ramp((2, 3, 4)))
    assert vs == pytest.approx(1.5)


def test_truncated_file_names_the_file(tmp_path):
    p = write_mrc(tmp_path / "t.mrc", _ramp((4, 5, 6)), 1.0)
    p.write_bytes(p.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"t\.mrc is truncated or not a valid MRC file"):
        read_mrc(p)
    p.write_bytes(p.read_bytes()[:300])  # not even a header
    with pytest.raises(ValueError, match=r"t\.mrc is truncated or not a valid MRC file"):
        read_mrc(p)


def test_text_file_is_not_an_mrc(tmp_path):
    p = tmp_path / "x.mrc"
    p.write_text("hello\n" * 300)
    with pytest.raises(ValueError, match=r"x\.mrc is truncated or not a valid MRC file"):
        read_mrc(p)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"MRC file .*nope\.mrc does not exist"):
        read_mrc(tmp_path / "nope.mrc")


@pytest.mark.filterwarnings("ignore:Data array contains NaN")
def test_nan_in_file_is_refused(tmp_path):
    data = _ramp((2, 3, 4))
    data[1, 2, 3] = np.nan
    p = tmp_path / "n.mrc"
    with mrcfile.new(p) as m:
        m.set_data(data)
    with pytest.raises(ValueError, match=r"n\.mrc contains 1 NaN or infinite values"):
        read_mrc(p)


def test_anisotropic_pixels_are_refused(tmp_path):
    p = tmp_path / "an.mrc"
    with mrcfile.new(p) as m:
        m.set_data(_ramp((2, 3, 4)))
        m.voxel_size = (1.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="anisotropic pixels"):
        read_mrc(p)


@pytest.mark.parametrize(
    "data, voxel_size, match",
    [
        (np.zeros((3, 4), np.float32), 1.0, r"data must be 3D .*store a 2D map as \(z, 1, x\)"),
        (np.zeros((2, 3, 4, 5), np.float32), 1.0, "data must be 3D"),
        (np.full((2, 2, 2), np.inf, np.float32), 1.0, "data contains 8 NaN or infinite values"),
        (np.zeros((2, 2, 2), np.complex64), 1.0, "data is complex"),
        (np.zeros((2, 2, 2), np.float32), 0.0, "voxel_size must be a positive number of Å"),
        (np.zeros((2, 2, 2), np.float32), float("nan"), "voxel_size must be a positive"),
    ],
)
def test_write_refuses_bad_input(tmp_path, data, voxel_size, match):
    with pytest.raises(ValueError, match=match):
        write_mrc(tmp_path / "bad.mrc", data, voxel_size)
    assert not (tmp_path / "bad.mrc").exists()


def test_write_refuses_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="kind must be 'volume' or 'stack'"):
        write_mrc(tmp_path / "k.mrc", _ramp((2, 2, 2)), 1.0, kind="map")


def test_existing_output_needs_force_and_inputs_are_never_overwritten(tmp_path):
    p = write_mrc(tmp_path / "o.mrc", _ramp((2, 2, 2)), 1.0)
    with pytest.raises(FileExistsError, match=r"o\.mrc exists; pass force=True"):
        write_mrc(p, np.ones((2, 2, 2)), 1.0)
    np.testing.assert_array_equal(read_mrc(p)[0], _ramp((2, 2, 2)))
    write_mrc(p, np.ones((2, 2, 2)), 3.0, force=True)
    data, vs = read_mrc(p)
    assert vs == 3.0 and np.all(data == 1)
    with pytest.raises(ValueError, match="is one of the inputs"):
        write_mrc(p, np.zeros((2, 2, 2)), 1.0, force=True, inputs=[p])
    assert np.all(read_mrc(p)[0] == 1)
    assert not list(tmp_path.glob("*.part"))


def test_output_folder_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder .*missing.* does not exist"):
        write_mrc(tmp_path / "missing" / "a.mrc", _ramp((2, 2, 2)), 1.0)
