"""Readers for what microscopists have: .mat (v5, v7.3), TIFF, .mdoc, Euler tables, --center."""

import json

import h5py
import numpy as np
import pytest
import tifffile
from scipy import io as sio

from napari_atomtomo import io
from napari_atomtomo._layers import series_array
from napari_atomtomo._reader import get_mat_reader, get_mrc_reader
from napari_atomtomo.cli import main
from napari_atomtomo.io.formats import euler_tilt_column, read_angles, read_stack

ANGLES = np.array([-60.0, -30.0, 0.0, 30.0, 60.0])


def stack_ayx(n_y=12, n_x=16):
    rng = np.random.default_rng(4)
    return rng.random((ANGLES.size, n_y, n_x)).astype(np.float32)


def euler(angles, column=1):
    t = np.zeros((angles.size, 3))
    t[:, column] = angles
    return t


def write_mat73(path, **arrays):
    """A MATLAB v7.3 file as MATLAB writes it: HDF5 with a 512-byte header, arrays transposed."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for k, v in arrays.items():
            f[k] = np.asarray(v).T
    with open(path, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: test HDF5 schema 1.00 .")


@pytest.mark.parametrize("version", ["v5", "v7.3"])
def test_mat_stack_with_euler_angles_round_trips(tmp_path, version):
    data = stack_ayx()
    matlab = np.transpose(data, (1, 2, 0))  # MATLAB's [ny nx nangles]
    p = tmp_path / "series.mat"
    if version == "v5":
        sio.savemat(p, {"proj": matlab, "angles": euler(ANGLES)})
    else:
        write_mat73(p, proj=matlab, angles=euler(ANGLES))
    ts = io.read_tilt_series(p)
    np.testing.assert_array_equal(ts.data, data)
    np.testing.assert_array_equal(ts.angles_deg, ANGLES)
    assert "Euler column 2" in ts.angles_source and "variable proj" in ts.angles_source


def test_mat_axis_order_and_variable_choice(tmp_path):
    data = stack_ayx(n_y=5, n_x=5)  # every axis has length 5: the order cannot be guessed
    p = tmp_path / "s.mat"
    sio.savemat(p, {"a": np.transpose(data, (2, 1, 0)), "b": np.zeros((3, 3, 3)),
                    "theta": ANGLES})
    with pytest.raises(ValueError, match="choose the tilt-series variable"):
        io.read_tilt_series(p)
    ts = io.read_tilt_series(p, variable="a", axis_order="xya")
    np.testing.assert_array_equal(ts.data, data)
    with pytest.raises(ValueError, match="permutation"):
        io.read_tilt_series(p, variable="a", axis_order="xyz")


def test_euler_tables_single_axis_taken_multi_axis_refused(tmp_path):
    angles, col, note = euler_tilt_column(euler(ANGLES, 0).T)
    np.testing.assert_array_equal(angles, ANGLES)
    assert col == 0 and "column 2 = 0" in note
    multi = euler(ANGLES)
    multi[:, 2] = np.linspace(0, 10, ANGLES.size)
    with pytest.raises(ValueError, match="multi-axis"):
        euler_tilt_column(multi)
    txt = tmp_path / "euler.txt"
    np.savetxt(txt, euler(ANGLES, 2))
    a, src = read_angles(txt)
    np.testing.assert_array_equal(a, ANGLES)
    assert "Euler column 3" in src


def test_tiff_mdoc_and_rawtlt(tmp_path):
    data = stack_ayx()
    tif = tmp_path / "s.tif"
    tifffile.imwrite(tif, data)
    mdoc = tmp_path / "s.tif.mdoc"
    mdoc.write_text("PixelSpacing = 2.0\n\n" + "".join(
        f"[ZValue = {k}]\nTiltAngle = {a:.2f}\nExposureTime = 1\n\n" for k, a in enumerate(ANGLES)))
    ts = io.read_tilt_series(tif)
    np.testing.assert_array_equal(ts.data, data)
    np.testing.assert_allclose(ts.angles_deg, ANGLES)
    assert "mdoc" in ts.angles_source
    raw = tmp_path / "a.rawtlt"
    raw.write_text("\n".join(f"{a}" for a in ANGLES) + "\n")
    np.testing.assert_array_equal(read_angles(raw)[0], ANGLES)


def test_center_n_over_2_moves_half_a_pixel(tmp_path):
    n = 32
    x = np.arange(n)
    img = np.exp(-((x - n / 2) ** 2) / 8.0)  # centred at n/2 = 16
    data = np.repeat(np.tile(img, (6, 1))[None], ANGLES.size, axis=0).astype(np.float32)
    io.write_tilt_series(tmp_path / "c.mrc", data, ANGLES, 1.0)
    ts = io.read_tilt_series(tmp_path / "c.mrc", center="n/2")
    prof = ts.data[0, 0].astype(float)
    assert (prof @ x) / prof.sum() == pytest.approx((n - 1) / 2, abs=1e-3)
    assert "recentred by -0.5 px" in ts.angles_source


def test_unsupported_format_is_said_so(tmp_path, capsys):
    bad = tmp_path / "x.foo"
    bad.write_bytes(b"\x00" * 2048)
    (tmp_path / "x.tlt").write_text("0\n")
    out = str(tmp_path / "v.mrc")
    assert main(["sirt", str(bad), "--out", out, "--iterations", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "unsupported format '.foo'" in err and "MRC file" not in err
    with pytest.raises(ValueError, match="unsupported format"):
        io.read_mrc(bad)
    with pytest.raises(ValueError, match="unsupported format"):
        read_stack(bad)
    assert get_mrc_reader(str(tmp_path / "x.mat")) is None


def test_mat_series_on_the_cli_and_in_napari(tmp_path, capsys):
    data = stack_ayx()
    p = tmp_path / "series.mat"
    sio.savemat(p, {"proj": np.transpose(data, (1, 2, 0)), "angles": euler(ANGLES)})
    out = tmp_path / "pre.mrc"
    assert main(["preprocess", str(p), "--out", str(out), "--background", "none"]) == 0
    np.testing.assert_allclose(io.read_tilt_series(out).data, data)
    report = json.loads(out.with_suffix(".json").read_text())
    assert "Euler column 2" in report["angles_source"]
    assert main(["sirt", str(p), "--out", str(tmp_path / "v.mrc"), "--iterations", "2",
                 "--quiet"]) == 0
    layers = get_mat_reader(str(p))(str(p))
    assert len(layers) == 1
    layer_data, kwargs, kind = layers[0]
    assert kind == "image" and series_array(layer_data).shape == data.shape
    np.testing.assert_array_equal(kwargs["metadata"]["atomtomo"]["angles_deg"], ANGLES)


def test_info_describes_a_mat_series(tmp_path, capsys):
    p = tmp_path / "series.mat"
    sio.savemat(p, {"proj": np.transpose(stack_ayx(), (1, 2, 0)), "angles": euler(ANGLES)})
    assert main(["info", str(p), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["shape"] == [5, 12, 16] and "Euler column 2" in info["angles_source"]


def test_emd_tilt_series_round_trip(tmp_path):
    emd = pytest.importorskip("rsciio.emd")
    data = stack_ayx()
    axes = [{"name": "tilt", "units": "deg", "index_in_array": 0, "size": 5, "offset": -60.0,
             "scale": 30.0, "navigate": True},
            {"name": "y", "units": "nm", "index_in_array": 1, "size": 12, "offset": 0.0,
             "scale": 0.05, "navigate": False},
            {"name": "x", "units": "nm", "index_in_array": 2, "size": 16, "offset": 0.0,
             "scale": 0.05, "navigate": False}]
    p = tmp_path / "series.emd"
    metadata = {"General": {"title": "s"}, "Signal": {}}
    emd.file_writer(str(p), {"data": data, "axes": axes, "metadata": metadata,
                             "original_metadata": {}})
    ts = io.read_tilt_series(p)
    np.testing.assert_array_equal(ts.data, data)
    np.testing.assert_allclose(ts.angles_deg, ANGLES)
    assert ts.voxel_size == pytest.approx(0.5) and "EMD tilt calibration" in ts.angles_source
    from napari_atomtomo._reader import get_dm3_reader

    (layer,) = get_dm3_reader(str(p))(str(p))
    np.testing.assert_array_equal(layer[1]["metadata"]["atomtomo"]["angles_deg"], ANGLES)


def _spot(n, row, col, s2=4.0):
    yy, xx = np.mgrid[:n, :n]
    return np.exp(-((yy - row) ** 2 + (xx - col) ** 2) / s2)


def _centroid(img):
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    w = np.clip(img, 0, None)
    return float((w * yy).sum() / w.sum()), float((w * xx).sum() / w.sum())


def test_imod_xf_applied_as_imod_defines_it(tmp_path, capsys):
    """X' = A X + D about the centre, X = column, Y = row (IMOD's .xf definition)."""
    n, c = 48, 23.5
    a = np.radians(10.0)
    stack = np.stack([_spot(n, c, c + 10.0), _spot(n, c, c)]).astype(np.float32)
    io.write_tilt_series(tmp_path / "s.mrc", stack, [0.0, 10.0], 1.0)
    xf = tmp_path / "s.xf"
    rot = f"{np.cos(a):.7f} {-np.sin(a):.7f} {np.sin(a):.7f} {np.cos(a):.7f}"
    xf.write_text(f"{rot} 0 0\n{rot} 2.0 -1.0\n")
    out = tmp_path / "ali.mrc"
    assert main(["align", str(tmp_path / "s.mrc"), "--out", str(out), "--apply-shifts",
                 str(xf)]) == 0
    ali, _ = io.read_mrc(out)
    # image 0: (X, Y) = (10, 0) goes to (10 cos 10°, 10 sin 10°)
    np.testing.assert_allclose(_centroid(ali[0]), (c + 10 * np.sin(a), c + 10 * np.cos(a)),
                               atol=0.05)
    # image 1: the centre goes to (DX, DY) = (2, -1): column + 2, row - 1
    np.testing.assert_allclose(_centroid(ali[1]), (c - 1.0, c + 2.0), atol=0.05)
    bad = tmp_path / "mag.xf"
    bad.write_text("1.1 0 0 1.1 0 0\n1 0 0 1 0 0\n")
    assert main(["align", str(tmp_path / "s.mrc"), "--out", str(tmp_path / "b.mrc"),
                 "--apply-shifts", str(bad)]) == 2
    assert "magnification or stretch" in capsys.readouterr().err


def test_mrc_with_an_mdoc_beside_it(tmp_path, capsys):
    io.write_mrc(tmp_path / "s.mrc", stack_ayx(), 1.0, kind="stack")
    (tmp_path / "s.mrc.mdoc").write_text("".join(
        f"[ZValue = {k}]\nTiltAngle = {a}\n" for k, a in enumerate(ANGLES)))
    np.testing.assert_array_equal(io.read_tilt_series(tmp_path / "s.mrc").angles_deg, ANGLES)
    assert main(["info", str(tmp_path / "s.mrc"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["angles_file"].endswith("s.mrc.mdoc") and info["angles_match_images"]
    (layer,) = get_mrc_reader(str(tmp_path / "s.mrc"))(str(tmp_path / "s.mrc"))
    np.testing.assert_array_equal(layer[1]["metadata"]["atomtomo"]["angles_deg"], ANGLES)
