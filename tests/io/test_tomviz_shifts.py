"""TomViz alignment shifts: the (dy, dx) = (sy, −sx) mapping, on the real NCEM file too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from napari_atomtomo.io.vendor import read_tomviz_shifts

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ncem-haadf-eds"
TOMVIZ = DATA / "TomVizAlignments.json"
ACQUIRED = np.arange(-50.0, 50.1, 5.0)  # about_dataset.txt: the full acquisition


def test_pairs_map_to_dy_dx_and_subsets_follow_the_acquired_angles(tmp_path):
    pairs = [[float(k), 10.0 + k] for k in range(5)]  # [sx, sy] for tilts -20..20
    path = tmp_path / "align.json"
    path.write_text(json.dumps(pairs))
    acquired = [-20.0, -10.0, 0.0, 10.0, 20.0]
    np.testing.assert_array_equal(
        read_tomviz_shifts(path, acquired), [[10.0 + k, -float(k)] for k in range(5)]
    )
    got = read_tomviz_shifts(path, [10.0, -20.0], acquired, binning=2)
    np.testing.assert_array_equal(got, [[13 / 2, -3 / 2], [10 / 2, 0.0]])


def test_bad_input_is_one_sentence(tmp_path):
    path = tmp_path / "align.json"
    path.write_text(json.dumps([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match="has 2 shift pairs but 3 acquired angles were given"):
        read_tomviz_shifts(path, [0.0, 5.0, 10.0])
    with pytest.raises(ValueError, match=r"tilt 7° is not one of the acquired angles 0…5°"):
        read_tomviz_shifts(path, [7.0], [0.0, 5.0])
    with pytest.raises(ValueError, match="binning must be a whole number ≥ 1, got 0"):
        read_tomviz_shifts(path, [0.0, 5.0], binning=0)
    path.write_text(json.dumps([1, 2, 3]))
    with pytest.raises(ValueError, match=r"must hold a list of \[sx, sy\] pairs, got shape \(3,\)"):
        read_tomviz_shifts(path, [0.0, 5.0, 10.0])
    path.write_text("[[1, 2],")
    with pytest.raises(ValueError, match="is not a TomViz alignment file"):
        read_tomviz_shifts(path, [0.0])
    with pytest.raises(FileNotFoundError, match="TomViz alignment file .* does not exist"):
        read_tomviz_shifts(tmp_path / "nope.json", [0.0])


@pytest.mark.skipif(not TOMVIZ.is_file(), reason=f"outside data file {TOMVIZ} is absent")
def test_real_ncem_file():
    """21 entries for −50…50°; the stack holds −40…35°; the 0° reference is [0, 0]."""
    angles = np.arange(-40.0, 35.1, 5.0)
    raw = np.asarray(json.loads(TOMVIZ.read_text()), dtype=float)
    got = read_tomviz_shifts(TOMVIZ, angles, ACQUIRED, binning=2)
    assert got.shape == (16, 2)
    k = ((angles + 50) / 5).astype(int)  # entry k is tilt −50 + 5k
    np.testing.assert_array_equal(got, np.column_stack([raw[k, 1], -raw[k, 0]]) / 2)
    np.testing.assert_array_equal(got[angles == 0.0], [[0.0, 0.0]])
    np.testing.assert_array_equal(got[angles == 5.0] * 2, [[1.0, 16.0]])  # entry 11: [-16, 1]
