"""Angle files, XYZ/CSV atoms and shift JSON: round trips and one-sentence errors."""

import json

import numpy as np
import pytest

from napari_atomtomo.core.atoms import Atoms
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.io import (
    read_atoms_csv,
    read_shifts,
    read_tlt,
    read_xyz,
    write_atoms_csv,
    write_shifts,
    write_tlt,
    write_xyz,
)


# --------------------------------------------------------------------------- .tlt
def test_tlt_round_trip_of_the_equally_sloped_set(tmp_path):
    angles = equally_sloped_angles(32, 72.6)
    back = read_tlt(write_tlt(tmp_path / "a.tlt", angles), n_images=55)
    assert back.dtype == np.float64 and back.size == 55
    np.testing.assert_allclose(back, angles, atol=5e-5)


def test_tlt_skips_blank_lines_and_comments(tmp_path):
    p = tmp_path / "a.tlt"
    p.write_text("# from the microscope\n -60.0\n\n  0\n60.5\n\n")
    np.testing.assert_array_equal(read_tlt(p), [-60.0, 0.0, 60.5])


@pytest.mark.parametrize(
    "text, match",
    [
        ("10\nten\n30\n", r"a\.tlt line 2: expected one angle in degrees, got 'ten'"),
        ("10\n20 1.0\n", r"a\.tlt line 2: expected one angle"),
        ("\n# nothing\n", r"a\.tlt contains no angles"),
        ("10\nnan\n", "angles contains NaN"),
        ("0.5\n1.2\n3.1\n", None),  # radians are fine numerically (|θ| ≤ 180)
        ("-1.2\n250\n", r"within ±180.*were radians given"),
    ],
)
def test_tlt_errors_name_the_line(tmp_path, text, match):
    p = tmp_path / "a.tlt"
    p.write_text(text)
    if match is None:
        assert read_tlt(p).size == 3
    else:
        with pytest.raises(ValueError, match=match):
            read_tlt(p)


def test_tlt_count_mismatch_sentence(tmp_path):
    p = write_tlt(tmp_path / "a.tlt", np.linspace(-60, 60, 54))
    with pytest.raises(ValueError, match="angles has 54 entries but the tilt series has 55 images"):
        read_tlt(p, n_images=55)


def test_tlt_missing_and_existing(tmp_path):
    with pytest.raises(FileNotFoundError, match="angle file .*b.tlt does not exist"):
        read_tlt(tmp_path / "b.tlt")
    p = write_tlt(tmp_path / "a.tlt", [0.0, 1.0])
    with pytest.raises(FileExistsError, match="exists"):
        write_tlt(p, [2.0])
    write_tlt(p, [2.0], force=True)
    assert read_tlt(p).tolist() == [2.0]


# --------------------------------------------------------------------------- atoms
@pytest.fixture
def atoms():
    rng = np.random.default_rng(0)
    pos = rng.uniform(-5, 30, size=(7, 3))
    return Atoms(np.array(["Si", "O", "O", "Si", "O", "Au", "O"]), pos,
                 {"intensity": rng.uniform(0, 1, 7), "label": np.arange(7),
                  "site": np.array(list("abcdefg"))})


def test_xyz_round_trip(tmp_path, atoms):
    p = write_xyz(tmp_path / "a.xyz", atoms, comment="two\nlines")
    lines = p.read_text().splitlines()
    assert lines[0] == "7" and lines[1] == "two lines"
    assert lines[2].split()[0] == "Si"
    back = read_xyz(p)
    assert back.elements.tolist() == atoms.elements.tolist()
    np.testing.assert_allclose(back.positions, atoms.positions, atol=1e-6)
    assert back.counts() == {"Si": 2, "O": 4, "Au": 1}


def test_xyz_normalises_case_and_ignores_extra_columns(tmp_path):
    p = tmp_path / "a.xyz"
    p.write_text("2\nextended\nSI 0 0 0 1 2\no 1.5 2 3\n")
    back = read_xyz(p)
    assert back.elements.tolist() == ["Si", "O"]
    np.testing.assert_array_equal(back.positions[1], [1.5, 2, 3])


@pytest.mark.parametrize(
    "text, match",
    [
        ("", r"a\.xyz is empty"),
        ("0\ncomment\n", r"a\.xyz holds no atoms"),
        ("two\nc\nSi 0 0 0\nO 1 1 1\n", r"a\.xyz line 1: expected the number of atoms"),
        ("3\nc\nSi 0 0 0\nO 1 1 1\n", r"declares 3 atoms on line 1 but has 2 atom lines"),
        ("2\nc\nSi 0 0 0\nXx 1 1 1\n", r"a\.xyz line 4: unknown element 'Xx'"),
        ("2\nc\nSi 0 0 0\nO 1 1\n", r"a\.xyz line 4: expected 'Element x y z'"),
        ("2\nc\nSi 0 0 zero\nO 1 1 1\n", r"a\.xyz line 3: x y z must be numbers"),
        ("1\nc\nSi 0 nan 0\n", r"a\.xyz line 3: position is NaN"),
    ],
)
def test_xyz_errors(tmp_path, text, match):
    p = tmp_path / "a.xyz"
    p.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_xyz(p)


def test_csv_round_trip_with_features(tmp_path, atoms):
    p = write_atoms_csv(tmp_path / "a.csv", atoms)
    assert p.read_text().splitlines()[0] == "element,x,y,z,intensity,label,site"
    back = read_atoms_csv(p)
    assert back.elements.tolist() == atoms.elements.tolist()
    np.testing.assert_array_equal(back.positions, atoms.positions)  # repr round-trips exactly
    np.testing.assert_array_equal(back.features["intensity"], atoms.features["intensity"])
    assert back.features["label"].dtype == np.int64
    np.testing.assert_array_equal(back.features["label"], np.arange(7))
    assert back.features["site"].tolist() == list("abcdefg")


def test_csv_without_features(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("element,x,y,z\nFe,1,2,3\n")
    back = read_atoms_csv(p)
    assert back.features == {} and back.positions.tolist() == [[1, 2, 3]]


@pytest.mark.parametrize(
    "text, match",
    [
        ("", r"a\.csv is empty"),
        ("el,x,y,z\nSi,0,0,0\n", r"a\.csv line 1: header must start with 'element,x,y,z'"),
        ("element,x,y,z,intensity\n", r"a\.csv holds no atoms"),
        ("element,x,y,z,intensity\nSi,0,0,0\n", r"a\.csv line 2: 4 values but the header has 5"),
        ("element,x,y,z\nSi,0,0,0\nQq,1,1,1\n", r"a\.csv line 3: unknown element 'Qq'"),
        ("element,x,y,z\nSi,0,a,0\n", r"a\.csv line 2: x y z must be numbers"),
    ],
)
def test_csv_errors(tmp_path, text, match):
    p = tmp_path / "a.csv"
    p.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_atoms_csv(p)


def test_atom_writers_refuse_empty_and_existing(tmp_path, atoms):
    empty = Atoms(np.array([], dtype=str), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="atoms is empty"):
        write_xyz(tmp_path / "e.xyz", empty)
    p = write_atoms_csv(tmp_path / "a.csv", atoms)
    with pytest.raises(FileExistsError):
        write_atoms_csv(p, atoms)
    bad = Atoms(np.array(["Si", "Zz"]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="unknown element 'Zz'"):
        write_xyz(tmp_path / "b.xyz", bad)


# --------------------------------------------------------------------------- shifts
def test_shifts_round_trip_and_accepted_forms(tmp_path):
    s = np.array([[0.5, -1.25], [0.0, 2.0], [-3.0, 0.125]])
    p = write_shifts(tmp_path / "s.json", s)
    np.testing.assert_array_equal(read_shifts(p, n_images=3), s)
    q = tmp_path / "bare.json"
    q.write_text(json.dumps(s.tolist()))
    np.testing.assert_array_equal(read_shifts(q), s)
    r = tmp_path / "named.json"
    r.write_text(json.dumps({"shifts": s.tolist()}))
    np.testing.assert_array_equal(read_shifts(r), s)


@pytest.mark.parametrize(
    "obj, match",
    [
        ({"dx": [1]}, "has no 'shifts_px' list"),
        ([[1, 2], [3, 4]], "has 2 shifts but the tilt series has 3 images"),
        ([[1, 2, 3]] * 3, r"shifts must have shape \(3, 2\)"),
        ([[1, None]] * 3, "NaN"),
    ],
)
def test_shift_errors(tmp_path, obj, match):
    p = tmp_path / "s.json"
    p.write_text(json.dumps(obj))
    with pytest.raises(ValueError, match=match):
        read_shifts(p, n_images=3)


def test_shift_file_not_json(tmp_path):
    p = tmp_path / "s.json"
    p.write_text("{oops")
    with pytest.raises(ValueError, match=r"s\.json is not valid JSON \(line 1"):
        read_shifts(p)
