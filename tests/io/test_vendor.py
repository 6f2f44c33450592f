"""Vendor readers on the real outside data in ../shared/data, and the X-ray line table."""

from pathlib import Path

import numpy as np
import pytest

from napari_atomtomo.core.xray_lines import check_element, detector_fwhm_kev, line_energy, main_line
from napari_atomtomo.io import (
    MissingDependencyError,
    bcf_angles,
    read_bcf_tilt_series,
    read_dm3_tilt_series,
    read_fused_h5,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"outside data folder {DATA} is absent")
BCF = DATA / "ncem-haadf-eds" / "bcf"
DM3 = DATA / "etspy-haadf" / "HAADF.dm3"


# --------------------------------------------------------------------------- line table
def test_line_table_and_rules():
    assert line_energy("Au", "Ma") == pytest.approx(2.123)
    assert line_energy("Ag", "Ag_La") == pytest.approx(2.984)
    assert main_line("Fe") == ("Ka", pytest.approx(6.404))
    assert main_line("Au") == ("La", pytest.approx(9.713))  # Kα at 68.8 keV is off a 20 keV range
    assert main_line("Au", max_energy_kev=5) == ("Ma", pytest.approx(2.123))
    # Bruker's resolution law gives the usual ~130 eV at Mn Kα.
    assert detector_fwhm_kev(5.899) == pytest.approx(0.131, abs=0.002)
    with pytest.raises(ValueError, match=r"unknown element 'si' \(did you mean 'Si'\?\)"):
        check_element("si")
    with pytest.raises(ValueError, match=r"no O_La line in the table \(known lines: O_Ka\)"):
        line_energy("O", "La")
    with pytest.raises(ValueError, match="'H' has no tabulated X-ray line"):
        main_line("H")


def test_missing_library_is_one_sentence(monkeypatch, tmp_path):
    import importlib

    real = importlib.import_module

    def fake(name, *a, **k):
        if name.startswith("rsciio") or name == "h5py":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(MissingDependencyError, match=r"reading DM3 files needs rosettasciio; install"):
        read_dm3_tilt_series(tmp_path / "x.dm3")
    with pytest.raises(ValueError, match=r"reading HDF5 files needs h5py"):
        read_fused_h5(tmp_path / "x.h5")


# --------------------------------------------------------------------------- DM3
@needs_data
def test_dm3_uses_its_own_tilt_calibration():
    ts = read_dm3_tilt_series(DM3)
    assert ts.data.shape == (91, 64, 64) and ts.data.dtype == np.float32
    np.testing.assert_allclose(ts.angles_deg, np.arange(-90.0, 90.1, 2.0))
    # 0.017995 µm per rebinned pixel, from the file's calibration.
    assert ts.voxel_size == pytest.approx(179.949, abs=1e-3)
    assert "DM3 tilt calibration" in ts.angles_source
    assert "HAADF.rawtlt ignored: 77 angles for 91 images" in ts.angles_source


@needs_data
def test_dm3_with_the_rawtlt_reports_the_mismatch():
    with pytest.raises(ValueError, match="angles has 77 entries but the tilt series has 91 images"):
        read_dm3_tilt_series(DM3, DM3.with_suffix(".rawtlt"))


@needs_data
def test_dm3_corrupt_file(tmp_path):
    bad = tmp_path / "bad.dm3"
    bad.write_bytes(DM3.read_bytes()[:2000])
    with pytest.raises(ValueError, match=r"bad\.dm3 is not a readable DM3/DM4 file"):
        read_dm3_tilt_series(bad)


# --------------------------------------------------------------------------- BCF
@needs_data
def test_bcf_angles_are_sorted_from_file_names():
    angles = [a for a, _ in bcf_angles(BCF)]
    assert angles == list(np.arange(-40.0, 36.0, 5.0))


@needs_data
def test_bcf_maps_equal_window_sums_of_the_cube():
    from rsciio.bruker import file_reader

    ds = read_bcf_tilt_series(BCF, ["Fe", "Pt"], tilts=[5, -5], binning=4, lines={"Pt": "Ma"})
    np.testing.assert_array_equal(ds.angles_deg, [-5.0, 5.0])
    assert ds.haadf.shape == (2, 64, 64) and ds.eds["Fe"].shape == (2, 64, 64)
    assert ds.voxel_size == pytest.approx(4 * 130.8144, rel=1e-5)
    fe = ds.metadata["lines"]["Fe"]
    assert fe["line"] == "Fe_Ka" and ds.metadata["lines"]["Pt"]["line"] == "Pt_Ma"
    lo, hi = fe["window_keV"]
    assert hi - lo == pytest.approx(2 * detector_fwhm_kev(6.404, 4.699127e-4, 4.466391e-4), abs=1e-3)
    # Known answer: sum the raw cube over the same channels and 4x4 blocks by hand.
    sigs = file_reader(str(BCF / "-5.bcf"))
    img = next(s for s in sigs if s["data"].ndim == 2)["data"].astype(np.float64)
    eds = next(s for s in sigs if s["data"].ndim == 3)
    ax = eds["axes"][2]
    energy = ax["offset"] + ax["scale"] * np.arange(eds["data"].shape[2])
    sel = (energy >= lo) & (energy <= hi)
    ref = eds["data"][:, :, sel].sum(axis=2, dtype=np.int64).reshape(64, 4, 64, 4).sum(axis=(1, 3))
    np.testing.assert_array_equal(ds.eds["Fe"][0], ref)
    np.testing.assert_allclose(ds.haadf[0], img.reshape(64, 4, 64, 4).mean(axis=(1, 3)), rtol=1e-6)
    assert ds.eds["Pt"][0].sum() > ds.eds["Fe"][0].sum()  # the Pt cap dominates the section


@needs_data
def test_bcf_background_subtraction_lowers_non_negative_counts():
    raw = read_bcf_tilt_series(BCF, ["Si"], tilts=[0], binning=8)
    sub = read_bcf_tilt_series(BCF, ["Si"], tilts=[0], binning=8, background=True)
    assert np.all(sub.eds["Si"] >= 0) and np.all(sub.eds["Si"] <= raw.eds["Si"])
    assert sub.eds["Si"].sum() < raw.eds["Si"].sum()


@needs_data
@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(elements=["Fe"], tilts=[7]), ValueError, r"no BCF file for tilt angle\(s\) \[7.0\]"),
        (dict(elements=["Fe"], tilts=[0], binning=3), ValueError,
         "binning 3 does not divide the image size 256×256"),
        (dict(elements=["Fe"], binning=0), ValueError, "binning must be a positive integer"),
        (dict(elements=["Qq"], tilts=[0]), ValueError, "unknown element 'Qq'"),
        (dict(elements=["Fe"], lines={"Pt": "Ma"}), ValueError,
         r"lines names elements not in elements: \['Pt'\]"),
        (dict(elements=["Fe"], lines={"Fe": 30.0}), ValueError, r"line energy for Fe must be in \(0, "),
        (dict(elements=["Fe"], window_kev=5), ValueError, "window_kev must be a half width"),
    ],
)
def test_bcf_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        read_bcf_tilt_series(BCF, **kwargs)


def test_bcf_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no .bcf files"):
        bcf_angles(tmp_path)
    (tmp_path / "tilt_a.bcf").write_bytes(b"")
    with pytest.raises(ValueError, match=r"tilt_a\.bcf: expected the file name to be its tilt angle"):
        bcf_angles(tmp_path)
    (tmp_path / "tilt_a.bcf").unlink()
    (tmp_path / "10.bcf").write_bytes(b"not a bcf")
    with pytest.raises(ValueError, match=r"10\.bcf is not a readable Bruker BCF file"):
        read_bcf_tilt_series(tmp_path, ["Fe"])


# --------------------------------------------------------------------------- HDF5
@needs_data
def test_fused_h5_maps():
    maps = read_fused_h5(DATA / "fused-multimodal" / "Co3O4_Mn3O4.h5")
    assert sorted(maps) == ["Co", "HAADF", "Mn", "O"]
    assert all(m.shape == (400, 400) and m.dtype == np.float32 for m in maps.values())
    assert maps["HAADF"].min() > 0 and maps["Co"].min() >= 0


def test_h5_errors(tmp_path):
    import h5py

    p = tmp_path / "v.h5"
    with h5py.File(p, "w") as f:
        f["line"] = np.arange(5.0)
    with pytest.raises(ValueError, match=r"v\.h5 holds no 2D datasets"):
        read_fused_h5(p)
    q = tmp_path / "n.h5"
    q.write_text("not hdf5")
    with pytest.raises(ValueError, match=r"n\.h5 is not a readable HDF5 file"):
        read_fused_h5(q)
