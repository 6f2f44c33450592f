"""Tilt series with sibling angle files, and data-set folders (CONVENTIONS.md)."""

import numpy as np
import pytest

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.io import (
    DataSet,
    read_dataset,
    read_tilt_series,
    write_dataset,
    write_mrc,
    write_tilt_series,
    write_tlt,
)

ANGLES = np.array([-30.0, -10.0, 10.0, 30.0])


def _series(n=4, ny=3, nx=5, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, ny, nx)).astype(np.float32)


def _dataset(with_truth=True):
    atoms = Atoms(np.array(["Ag", "Au"]), [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]) if with_truth else None
    phantoms = {"Ag": _series(5, 3, 5, 7), "Au": _series(5, 3, 5, 8)} if with_truth else {}
    return DataSet(_series(), {"Ag": _series(seed=1), "Au": _series(seed=2)}, ANGLES, 2.5,
                   atoms, phantoms)


def test_tilt_series_finds_sibling_tlt_before_angles_tlt(tmp_path):
    data = _series()
    mrc, tlt = write_tilt_series(tmp_path / "stack.mrc", data, ANGLES, 0.8)
    assert tlt.name == "stack.tlt"
    write_tlt(tmp_path / "angles.tlt", ANGLES + 1)
    ts = read_tilt_series(mrc)
    np.testing.assert_array_equal(ts.data, data)
    np.testing.assert_array_equal(ts.angles_deg, ANGLES)
    assert ts.voxel_size == pytest.approx(0.8) and ts.path == mrc
    tlt.unlink()
    ts = read_tilt_series(mrc)  # falls back to angles.tlt
    np.testing.assert_array_equal(ts.angles_deg, ANGLES + 1)
    assert ts.angles_source.endswith("angles.tlt")


def test_tilt_series_errors(tmp_path):
    mrc = write_mrc(tmp_path / "s.mrc", _series(), 1.0, kind="stack")
    with pytest.raises(FileNotFoundError, match=r"no angle file for .*s\.mrc: pass one, or put s\.tlt"):
        read_tilt_series(mrc)
    write_tlt(tmp_path / "s.tlt", np.arange(5.0))
    with pytest.raises(ValueError, match="angles has 5 entries but the tilt series has 4 images"):
        read_tilt_series(mrc)
    with pytest.raises(FileNotFoundError, match="tilt series .*t.mrc does not exist"):
        read_tilt_series(tmp_path / "t.mrc", tmp_path / "s.tlt")
    with pytest.raises(ValueError, match="angles has 3 entries but the tilt series has 4 images"):
        write_tilt_series(tmp_path / "u.mrc", _series(), ANGLES[:3], 1.0)
    assert not (tmp_path / "u.mrc").exists()


def test_dataset_round_trip(tmp_path):
    ds = _dataset()
    root = write_dataset(tmp_path / "ds", ds)
    names = sorted(p.name for p in root.iterdir())
    assert names == ["angles.tlt", "atoms_true.xyz", "eds_Ag.mrc", "eds_Au.mrc", "haadf.mrc",
                     "phantom_Ag.mrc", "phantom_Au.mrc"]
    back = read_dataset(root)
    np.testing.assert_array_equal(back.haadf, ds.haadf)
    assert back.elements == ["Ag", "Au"]
    for el in ("Ag", "Au"):
        np.testing.assert_array_equal(back.eds[el], ds.eds[el])
        np.testing.assert_array_equal(back.phantoms[el], ds.phantoms[el])
    np.testing.assert_allclose(back.angles_deg, ANGLES)
    assert back.voxel_size == pytest.approx(2.5) and back.path == root
    np.testing.assert_allclose(back.atoms_true.positions, ds.atoms_true.positions)


def test_dataset_without_truth(tmp_path):
    root = write_dataset(tmp_path / "ds", _dataset(with_truth=False))
    back = read_dataset(root)
    assert back.atoms_true is None and back.phantoms == {}


def test_write_dataset_refuses_existing_files_before_writing_any(tmp_path):
    root = write_dataset(tmp_path / "ds", _dataset())
    before = {p.name: p.stat().st_mtime_ns for p in root.iterdir()}
    (root / "eds_Ag.mrc").unlink()
    with pytest.raises(FileExistsError, match="haadf.mrc exists"):
        write_dataset(root, _dataset())
    assert not (root / "eds_Ag.mrc").exists()
    assert all(p.stat().st_mtime_ns == before[p.name] for p in root.iterdir())
    write_dataset(root, _dataset(), force=True)
    assert (root / "eds_Ag.mrc").exists()


def test_write_dataset_refuses_its_source_folder(tmp_path):
    root = write_dataset(tmp_path / "ds", _dataset())
    with pytest.raises(ValueError, match="is the data set's source folder"):
        write_dataset(root, read_dataset(root), force=True)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(eds={"Ag": _series(4, 3, 6)}),
         r"EDS map Ag has shape \(4, 3, 6\) but the HAADF series has \(4, 3, 5\)"),
        (dict(eds={"Xy": _series()}), r"dataset.eds: unknown element 'Xy'"),
        (dict(eds={"ag": _series()}), r"unknown element 'ag' \(did you mean 'Ag'\?\)"),
        (dict(angles_deg=ANGLES[:3]), "angles has 3 entries but the tilt series has 4 images"),
        (dict(haadf=np.full((4, 3, 5), np.nan)), "dataset.haadf contains 60 NaN"),
        (dict(haadf=np.zeros((3, 5))), r"dataset.haadf must be 3D \(angle, y, x\)"),
        (dict(voxel_size=-1.0), "dataset.voxel_size must be a positive number of Å"),
        (dict(phantoms={"Ag": np.zeros((3, 5))}), r"phantom Ag must be a 3D volume"),
    ],
)
def test_write_dataset_validates(tmp_path, change, match):
    ds = _dataset()
    fields = dict(haadf=ds.haadf, eds=ds.eds, angles_deg=ds.angles_deg, voxel_size=ds.voxel_size,
                  atoms_true=ds.atoms_true, phantoms=ds.phantoms)
    fields.update(change)
    with pytest.raises(ValueError, match=match):
        write_dataset(tmp_path / "ds", DataSet(**fields))
    assert not (tmp_path / "ds").exists()


def test_read_dataset_errors(tmp_path):
    root = write_dataset(tmp_path / "ds", _dataset(with_truth=False))
    write_mrc(root / "eds_Cu.mrc", _series(4, 3, 6), 2.5, kind="stack")
    with pytest.raises(ValueError, match=r"eds_Cu.mrc has shape \(4, 3, 6\) but haadf.mrc has \(4, 3, 5\)"):
        read_dataset(root)
    write_mrc(root / "eds_Cu.mrc", _series(), 2.0, kind="stack", force=True)
    with pytest.raises(ValueError, match="eds_Cu.mrc has voxel size 2 Å but haadf.mrc has 2.5 Å"):
        read_dataset(root)
    (root / "eds_Cu.mrc").rename(root / "eds_Qq.mrc")
    with pytest.raises(ValueError, match="eds_Qq.mrc: unknown element 'Qq'"):
        read_dataset(root)
    (root / "eds_Qq.mrc").unlink()
    write_tlt(root / "angles.tlt", np.arange(5.0), force=True)
    with pytest.raises(ValueError, match="angles has 5 entries but the tilt series has 4 images"):
        read_dataset(root)
    (root / "angles.tlt").unlink()
    with pytest.raises(FileNotFoundError, match="has no angles.tlt"):
        read_dataset(root)
    (root / "haadf.mrc").unlink()
    with pytest.raises(FileNotFoundError, match="has no haadf.mrc"):
        read_dataset(root)
    with pytest.raises(FileNotFoundError, match="data-set folder .*nothing does not exist"):
        read_dataset(tmp_path / "nothing")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        read_dataset(root / "eds_Ag.mrc")


def test_write_dataset_is_all_or_nothing(tmp_path):
    """A data set that cannot be written whole leaves nothing (here: a phantom that is
    not a volume is refused only after the HAADF, angles and EDS were checked)."""
    import subprocess
    import sys

    from napari_atomtomo import io as nio

    rng = np.random.default_rng(0)
    stack = rng.random((3, 1, 64), dtype=np.float32)
    ds = nio.DataSet(stack, {"Ag": stack}, np.array([-30.0, 0.0, 30.0]), 1.0,
                     phantoms={"Ag": rng.random((64, 1, 64), dtype=np.float32)})
    # the phantom (17 kB) exceeds a 4 kB file-size limit; the stacks (1.8 kB) do not
    nio.write_dataset(tmp_path / "ref", ds)
    code = ("import resource, sys, numpy as np; from napari_atomtomo import io; "
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4000, 4000)); "
            "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
            "ds = io.read_dataset(sys.argv[1]); "
            "io.write_dataset(sys.argv[2], ds)")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ref"), str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "File too large" in r.stderr
    assert not (tmp_path / "out").exists()


def test_write_tilt_series_checks_the_tlt_before_writing_the_mrc(tmp_path):
    from napari_atomtomo import io as nio

    (tmp_path / "s.tlt").mkdir()  # the .tlt cannot be written: a folder is in the way
    with pytest.raises(ValueError, match="folder"):
        nio.write_tilt_series(tmp_path / "s.mrc", np.ones((2, 3, 3), np.float32), [0.0, 10.0], 1.0)
    assert not (tmp_path / "s.mrc").exists()
