"""Physical plausibility (issue 15): data that used to give a silent wrong result now gets
a warning, or a refusal where the result would be meaningless."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.plausibility import check_angles, check_counts, check_shifts
from napari_atomtomo.core.projectors import forward_project

ANGLES = np.arange(-60.0, 61.0, 20.0)


def _phantom(n=12):
    v = np.zeros((n, 4, n), np.float32)
    v[3:9, :, 4:8] = 1.0
    return v


@pytest.fixture
def stack_file(tmp_path):
    def make(data=None, angles=ANGLES, name="s"):
        d = forward_project(_phantom(), ANGLES) if data is None else data
        mrc, _ = io.write_tilt_series(tmp_path / f"{name}.mrc", d, angles, 1.0)
        return mrc
    return make


@pytest.mark.slow
def test_negated_stack_is_refused_by_nonnegative_sirt(stack_file, tmp_path, capsys):
    neg = stack_file(-forward_project(_phantom(), ANGLES), name="neg")
    out = tmp_path / "v.mrc"
    assert main(["sirt", str(neg), "--iterations", "3", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "mostly negative" in err and "all zeros" in err and not out.exists()
    # allowed negative voxels: it runs, with the warning
    assert main(["sirt", str(neg), "--iterations", "3", "--out", str(out), "--quiet",
                 "--allow-negative"]) == 0
    assert "warning: tilt series" in capsys.readouterr().err
    assert io.read_mrc(out)[0].min() < 0


def test_negated_stack_is_refused_by_est(stack_file, tmp_path, capsys):
    neg = stack_file(-forward_project(_phantom(), ANGLES), name="neg")
    code = main(["est", str(neg), "--iterations", "2", "--out", str(tmp_path / "e.mrc"), "--quiet"])
    assert code == 2 and "mostly negative" in capsys.readouterr().err


def test_angles_in_radians_are_refused(stack_file, tmp_path, capsys):
    rad = np.radians(ANGLES)  # ±1.05: taken as degrees this is a 2° series
    s = stack_file(angles=rad, name="rad")
    assert main(["sirt", str(s), "--iterations", "2", "--out", str(tmp_path / "v.mrc")]) == 2
    err = capsys.readouterr().err
    assert "look like radians" in err and "57.2958" in err


def test_angles_beyond_90_get_a_warning(tmp_path, capsys):
    io.write_mrc(tmp_path / "v.mrc", _phantom(), 1.0)
    io.write_tlt(tmp_path / "a.tlt", [-120.0, 0.0, 120.0])
    assert main(["project", str(tmp_path / "v.mrc"), "--angles", str(tmp_path / "a.tlt"),
                 "--out", str(tmp_path / "p.mrc")]) == 0
    assert "2 tilt angle(s) lie beyond ±90°" in capsys.readouterr().err


def test_shifts_larger_than_the_image_are_refused(stack_file, tmp_path, capsys):
    s = stack_file()
    shifts = np.zeros((ANGLES.size, 2))
    shifts[2] = (0.0, 1e9)
    io.write_shifts(tmp_path / "sh.json", shifts)
    code = main(["sirt", str(s), "--shifts", str(tmp_path / "sh.json"), "--iterations", "2",
                 "--out", str(tmp_path / "v.mrc"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "larger than the image" in err and "image 2" in err
    code = main(["align", str(s), "--apply-shifts", str(tmp_path / "sh.json"),
                 "--out", str(tmp_path / "al.mrc")])
    assert code == 2 and "larger than the image" in capsys.readouterr().err


def test_one_image_series_gets_a_warning(tmp_path, capsys):
    one = forward_project(_phantom(), [0.0])
    mrc, _ = io.write_tilt_series(tmp_path / "one.mrc", one, [0.0], 1.0)
    assert main(["sirt", str(mrc), "--iterations", "2", "--out", str(tmp_path / "v.mrc"),
                 "--quiet"]) == 0
    assert "single image" in capsys.readouterr().err


@pytest.mark.slow
def test_hebt_alpha_one_with_two_elements_gets_a_warning(small_dataset_folder, tmp_path, capsys):
    folder, _ = small_dataset_folder
    code = main(["hebt", str(folder), "--alpha", "1", "--iterations", "2", "--quiet",
                 "--out", str(tmp_path / "maps")])
    assert code == 0
    err = capsys.readouterr().err
    assert "--alpha 1 weights only the HAADF term" in err and "Ag, Au" in err


def _maps(folder):
    folder.mkdir()
    for el in ("Ag", "Au"):
        m = np.zeros((10, 1, 10), np.float32)
        m[2:8, 0, 2:8] = 1.0
        io.write_mrc(folder / f"map_{el}.mrc", m, 1.0)
    return folder


def test_factor_file_without_the_maps_elements_is_refused(tmp_path, capsys):
    maps = _maps(tmp_path / "maps")
    f = tmp_path / "f.json"
    f.write_text(json.dumps({"Pt": {"z": 1.0e5, "f": 1.1}}))
    code = main(["quantify", str(maps), "--kind", "eds", "--factors", str(f),
                 "--out", str(tmp_path / "wt")])
    err = capsys.readouterr().err
    assert code == 2 and "no 'f' factor for any element" in err and "covers Pt" in err
    assert not (tmp_path / "wt").exists()


def test_factor_file_covering_some_elements_warns_about_the_rest(tmp_path, capsys):
    maps = _maps(tmp_path / "maps")
    f = tmp_path / "f.json"
    f.write_text(json.dumps({"Ag": {"f": 1.2}}))
    assert main(["quantify", str(maps), "--kind", "eds", "--factors", str(f),
                 "--out", str(tmp_path / "wt")]) == 0
    assert "no 'f' factor for Au; the built-in factors are used" in capsys.readouterr().err


# -------------------------------------------------------------- the checks themselves
def test_check_counts_warns_about_a_large_negative_part():
    a = np.ones((3, 4, 4), np.float32)
    a[0, :2] = -1.5  # 8 pixels: -12 against +40
    assert "8 negative pixels" in check_counts(a)[0]
    assert check_counts(np.ones((2, 2, 2))) == []


def test_noise_around_a_subtracted_vacuum_is_not_flagged():
    # a small particle in a large vacuum, background subtracted: most pixels are noise
    # around zero, half of them negative; the particle's signal dominates the sum
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 0.05, (5, 40, 40))
    a[:, 18:22, 18:22] += 10.0
    assert np.mean(a < 0) > 0.45
    assert check_counts(a) == []


def test_check_angles_accepts_a_real_series_and_warns_on_a_narrow_one():
    assert check_angles(np.linspace(-70, 70, 15)) == []
    assert "span only" in check_angles([-3.0, 0.0, 3.0])[0]


def test_check_shifts_accepts_shifts_inside_the_image():
    assert check_shifts(np.full((3, 2), 7.5), (8, 8)) == []
    with pytest.raises(ValueError, match="larger than the image"):
        check_shifts(np.full((3, 2), 8.0), (8, 8))
