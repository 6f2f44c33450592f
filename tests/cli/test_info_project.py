"""``atomtomo info`` and ``atomtomo project`` on files the tests write."""

import json
from pathlib import Path

import numpy as np
import pytest

from napari_atomtomo.cli import main
from napari_atomtomo.cli._info import equally_sloped_match
from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.io import (
    DataSet,
    read_mrc,
    read_tilt_series,
    read_tlt,
    write_atoms_csv,
    write_dataset,
    write_mrc,
    write_shifts,
    write_tlt,
    write_xyz,
)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _volume(shape=(12, 3, 12)):
    z, y, x = np.indices(shape)
    c = (np.array(shape) - 1) / 2
    return np.exp(-((z - c[0]) ** 2 + (x - c[2]) ** 2) / 8.0 - 0.1 * y).astype(np.float32)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


# --------------------------------------------------------------------------- project
def test_project_writes_forward_projection_and_angles(tmp_path, capsys):
    vol = _volume()
    write_mrc(tmp_path / "vol.mrc", vol, 0.5)
    angles = equally_sloped_angles(8, 72.6)
    write_tlt(tmp_path / "a.tlt", angles)
    code, out, err = run(capsys, "project", tmp_path / "vol.mrc", "--angles", tmp_path / "a.tlt",
                         "--out", tmp_path / "stack.mrc")
    assert code == 0, err
    assert "stack.mrc" in out and "stack.tlt" in out
    ts = read_tilt_series(tmp_path / "stack.mrc")  # finds stack.tlt
    expected = forward_project(vol, read_tlt(tmp_path / "a.tlt"))
    np.testing.assert_array_equal(ts.data, expected)
    assert ts.voxel_size == pytest.approx(0.5)
    np.testing.assert_allclose(ts.angles_deg, angles, atol=5e-5)


def test_project_with_n_u_and_shifts(tmp_path, capsys):
    vol = _volume()
    write_mrc(tmp_path / "vol.mrc", vol, 1.0)
    angles = np.array([-40.0, 0.0, 40.0])
    write_tlt(tmp_path / "a.tlt", angles)
    shifts = np.array([[0.0, 1.5], [0.0, 0.0], [0.5, -2.0]])
    write_shifts(tmp_path / "s.json", shifts)
    code, _, err = run(capsys, "project", tmp_path / "vol.mrc", "--angles", tmp_path / "a.tlt",
                       "--out", tmp_path / "p.mrc", "--n-u", 16, "--shifts", tmp_path / "s.json")
    assert code == 0, err
    data, _ = read_mrc(tmp_path / "p.mrc")
    np.testing.assert_array_equal(data, forward_project(vol, angles, n_u=16, shifts=shifts))


def test_project_refuses_existing_output_and_inputs(tmp_path, capsys):
    write_mrc(tmp_path / "vol.mrc", _volume(), 1.0)
    write_tlt(tmp_path / "a.tlt", [0.0, 30.0])
    args = ["project", tmp_path / "vol.mrc", "--angles", tmp_path / "a.tlt", "--out", tmp_path / "p.mrc"]
    assert run(capsys, *args)[0] == 0
    first = read_mrc(tmp_path / "p.mrc")[0]
    code, _, err = run(capsys, *args)
    assert code == 2 and "p.mrc exists; pass --force to overwrite it" in err
    assert run(capsys, *args, "--force")[0] == 0
    np.testing.assert_array_equal(read_mrc(tmp_path / "p.mrc")[0], first)
    code, _, err = run(capsys, "project", tmp_path / "vol.mrc", "--angles", tmp_path / "a.tlt",
                       "--out", tmp_path / "vol.mrc", "--force")
    assert code == 2 and "is one of the inputs" in err
    assert read_mrc(tmp_path / "vol.mrc")[0].shape == (12, 3, 12)
    # A sibling .tlt with other angles is refused before any work.
    write_tlt(tmp_path / "q.tlt", [1.0, 2.0, 3.0])
    code, _, err = run(capsys, "project", tmp_path / "vol.mrc", "--angles", tmp_path / "a.tlt",
                       "--out", tmp_path / "q.mrc")
    assert code == 2 and "q.tlt exists with other angles" in err
    assert not (tmp_path / "q.mrc").exists()


@pytest.mark.parametrize(
    "setup, extra, message",
    [
        ("truncated", [], "vol.mrc is truncated or not a valid MRC file"),
        ("nan", [], "contains 1 NaN or infinite values"),
        ("bad_tlt", [], "a.tlt line 2: expected one angle in degrees"),
        ("none", ["--shifts", "s.json"], "has 3 shifts but the tilt series has 2 images"),
        ("none", ["--n-u", "0"], "--n-u must be a positive number"),
        ("missing", [], "MRC file .*vol.mrc does not exist"),
    ],
)
def test_project_bad_input_is_one_line(tmp_path, capsys, setup, extra, message):
    import re

    vol = _volume()
    if setup == "nan":
        vol[0, 0, 0] = np.nan
        import mrcfile

        with pytest.warns(RuntimeWarning), mrcfile.new(tmp_path / "vol.mrc") as m:
            m.set_data(vol)
    elif setup != "missing":
        write_mrc(tmp_path / "vol.mrc", vol, 1.0)
    if setup == "truncated":
        p = tmp_path / "vol.mrc"
        p.write_bytes(p.read_bytes()[:-100])
    (tmp_path / "a.tlt").write_text("0\nzero\n" if setup == "bad_tlt" else "0\n45\n")
    write_shifts(tmp_path / "s.json", np.zeros((3, 2)))
    extra = [str(tmp_path / e) if e.endswith(".json") else e for e in extra]
    code, _, err = run(capsys, "project", tmp_path / "vol.mrc", "--angles", tmp_path / "a.tlt",
                       "--out", tmp_path / "out.mrc", *extra)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("atomtomo project: error: ")
    assert re.search(message, err), err
    assert not (tmp_path / "out.mrc").exists()


# --------------------------------------------------------------------------- info
def test_equally_sloped_detection():
    es = equally_sloped_angles(32, 72.6)
    assert equally_sloped_match(es) == {"n_slopes": 32, "max_error_deg": 0.0}
    assert equally_sloped_match(np.round(es, 2)[::-1])["n_slopes"] == 32  # order does not matter
    assert equally_sloped_match(np.linspace(-72.6, 72.6, 55)) is None
    assert equally_sloped_match(equally_sloped_angles(512, 90.0))["n_slopes"] == 512


def test_info_mrc_with_sibling_tlt(tmp_path, capsys):
    stack = forward_project(_volume(), equally_sloped_angles(8, 72.6))
    write_mrc(tmp_path / "s.mrc", stack, 0.5, kind="stack")
    write_tlt(tmp_path / "s.tlt", equally_sloped_angles(8, 72.6))
    code, out, _ = run(capsys, "info", tmp_path / "s.mrc")
    assert code == 0
    lines = out.splitlines()
    assert "kind: MRC image stack (angle, y, x)" in lines
    assert f"shape: {stack.shape[0]}, 3, 12" in lines
    assert "voxel_size_A: 0.5" in lines
    assert f"max: {stack.max():.6g}" in lines
    assert "angles_match_images: True" in lines
    assert "angles_equally_sloped: True" in lines and "angles_equally_sloped_n: 8" in lines
    code, out, _ = run(capsys, "info", tmp_path / "s.mrc", "--json")
    d = json.loads(out)
    assert d["shape"] == list(stack.shape) and d["voxel_size_A"] == 0.5
    assert d["min"] == pytest.approx(float(stack.min()))
    assert d["mean"] == pytest.approx(float(stack.mean()), rel=1e-5)
    assert d["angles"]["count"] == stack.shape[0] and d["angles"]["equally_sloped_n"] == 8


def test_info_tlt(tmp_path, capsys):
    write_tlt(tmp_path / "a.tlt", np.arange(-60.0, 61.0, 3.0))
    code, out, _ = run(capsys, "info", tmp_path / "a.tlt", "--json")
    d = json.loads(out)
    assert code == 0 and d["count"] == 41 and d["step_deg"] == 3.0
    assert d["min_deg"] == -60.0 and d["max_deg"] == 60.0 and d["equally_sloped"] is False


def test_info_atoms(tmp_path, capsys):
    atoms = Atoms(np.array(["Si", "O", "O"]), [[0, 1, 2], [3, -1, 5], [1, 1, 1]],
                  {"intensity": np.array([3.0, 1.0, 1.5])})
    write_xyz(tmp_path / "a.xyz", atoms)
    write_atoms_csv(tmp_path / "a.csv", atoms)
    code, out, _ = run(capsys, "info", tmp_path / "a.xyz")
    assert code == 0 and "count: 3" in out and "per_element: Si: 1, O: 2" in out
    assert "bbox_min_A: 0, -1, 1" in out and "bbox_max_A: 3, 1, 5" in out
    d = json.loads(run(capsys, "info", tmp_path / "a.csv", "--json")[1])
    assert d["per_element"] == {"Si": 1, "O": 2} and d["features"] == ["intensity"]


def test_info_dataset_folder(tmp_path, capsys):
    rng = np.random.default_rng(0)
    ds = DataSet(rng.uniform(size=(3, 2, 4)).astype(np.float32),
                 {"Ag": rng.uniform(size=(3, 2, 4))}, np.array([-20.0, 0.0, 20.0]), 15.0,
                 phantoms={"Ag": rng.uniform(size=(4, 2, 4))})
    root = write_dataset(tmp_path / "ds", ds)
    code, out, _ = run(capsys, "info", root)
    assert code == 0
    assert "kind: data-set folder" in out and "elements: Ag" in out and "consistent: True" in out
    for name in ("haadf.mrc", "eds_Ag.mrc", "phantom_Ag.mrc", "angles.tlt"):
        assert f"file: {name}" in out
    d = json.loads(run(capsys, "info", root, "--json")[1])
    assert [Path(f["path"]).name for f in d["files"]] == [
        "angles.tlt", "eds_Ag.mrc", "haadf.mrc", "phantom_Ag.mrc"]
    assert d["n_images"] == 3 and d["voxel_size_A"] == 15.0
    write_tlt(root / "angles.tlt", [0.0, 1.0], force=True)
    code, _, err = run(capsys, "info", root)
    assert code == 2 and "angles has 2 entries but the tilt series has 3 images" in err


def test_info_errors(tmp_path, capsys):
    code, _, err = run(capsys, "info", tmp_path / "none.mrc")
    assert code == 2 and "none.mrc does not exist" in err
    (tmp_path / "x.txt").write_text("hi")
    code, _, err = run(capsys, "info", tmp_path / "x.txt")
    assert code == 2 and "unsupported format '.txt'" in err
    write_mrc(tmp_path / "t.mrc", _volume(), 1.0)
    (tmp_path / "t.mrc").write_bytes((tmp_path / "t.mrc").read_bytes()[:-8])
    code, _, err = run(capsys, "info", tmp_path / "t.mrc")
    assert code == 2 and "t.mrc is truncated or not a valid MRC file" in err
    write_tlt(tmp_path / "t.tlt", [0.0, 1.0])
    (tmp_path / "t.tlt").write_text("0\n1\n2\nbad\n")
    code, _, err = run(capsys, "info", tmp_path / "t.tlt")
    assert code == 2 and "t.tlt line 4" in err


@pytest.mark.skipif(not DATA.is_dir(), reason=f"outside data folder {DATA} is absent")
def test_info_vendor_files(capsys):
    d = json.loads(run(capsys, "info", DATA / "etspy-haadf" / "HAADF.dm3", "--json")[1])
    assert d["shape"] == [91, 64, 64] and d["angles"]["count"] == 91
    d = json.loads(run(capsys, "info", DATA / "ncem-haadf-eds" / "bcf", "--json")[1])
    assert d["n_tilts"] == 16 and d["image_shape"] == [256, 256] and d["eds_channels"] == 2048
    assert d["voxel_size_A"] == pytest.approx(130.81, abs=0.01)
    d = json.loads(run(capsys, "info", DATA / "fused-multimodal" / "Co3O4_Mn3O4.h5", "--json")[1])
    assert d["datasets"]["HAADF"]["shape"] == [400, 400]


def test_project_refuses_a_tilt_series_as_its_volume(tmp_path, capsys):
    """An MRC marked as an image stack is a tilt series: projecting it is a mistake."""
    import numpy as np

    from napari_atomtomo import io
    from napari_atomtomo.cli import main

    stack = np.ones((5, 2, 8), np.float32)
    io.write_tilt_series(tmp_path / "s.mrc", stack, np.linspace(-40, 40, 5), 1.0)
    assert main(["project", str(tmp_path / "s.mrc"), "--angles", str(tmp_path / "s.tlt"),
                 "--out", str(tmp_path / "p.mrc")]) == 2
    err = capsys.readouterr().err
    assert "is an image stack (a tilt series), not a volume" in err
    assert not (tmp_path / "p.mrc").exists()
