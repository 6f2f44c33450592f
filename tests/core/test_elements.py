"""Element data and the quantification factors of paper 002 (Table 2)."""

import json

import pytest

from napari_atomtomo.core.elements import (
    ATOMIC_NUMBERS,
    ATOMIC_WEIGHTS,
    DETECTOR_EFFICIENCY,
    TABLE2_LINES,
    atomic_number,
    atomic_weight,
    element_factors,
    load_factor_file,
)


def test_periodic_table_h_to_u():
    assert len(ATOMIC_WEIGHTS) == 92
    assert atomic_number("H") == 1 and atomic_number("U") == 92
    assert atomic_number("Ag") == 47 and atomic_number("Au") == 79
    assert atomic_weight("Co") == pytest.approx(58.933, abs=1e-3)
    # Atomic weights increase with Z except for the known inversions.
    symbols = sorted(ATOMIC_NUMBERS, key=ATOMIC_NUMBERS.get)
    inversions = {
        (a, b) for a, b in zip(symbols, symbols[1:]) if ATOMIC_WEIGHTS[b] < ATOMIC_WEIGHTS[a]
    }
    assert inversions == {("Ar", "K"), ("Co", "Ni"), ("Te", "I"), ("Th", "Pa")}


@pytest.mark.parametrize(
    ("element", "which", "printed", "digits"),
    [("Co", "z", 9.49e4, 3), ("Zn", "z", 9.96e4, 3), ("Co", "f", 2.25, 3), ("Zn", "f", 1.84, 3)],
)
def test_table2_reproduces_the_papers_printed_factors(element, which, printed, digits):
    value = element_factors([element])[element].get(which)
    assert float(f"{value:.{digits}g}") == printed


def test_detector_efficiency_implied_by_the_paper():
    # f = σ_ion ω p ε / M, so the printed f_Co and f_Zn give ε; both round to 0.96.
    for el, printed in (("Co", 2.25), ("Zn", 1.84)):
        line = TABLE2_LINES[el]
        raw = line.sigma_ionisation_b * line.fluorescence_yield * line.relative_intensity
        eps = printed * line.atomic_weight / raw
        assert eps == pytest.approx(DETECTOR_EFFICIENCY, abs=0.006)


def test_partial_cross_section_ratio_matches_paper():
    # §3.2.3: (f_Co M_Co) / (f_Zn M_Zn) = 1.10.
    co, zn = TABLE2_LINES["Co"], TABLE2_LINES["Zn"]
    assert round(co.f * co.atomic_weight / (zn.f * zn.atomic_weight), 2) == 1.10


def test_ag_au_factors_from_definitions():
    f = element_factors(["Ag", "Au"])
    assert f["Ag"].z == pytest.approx(9.90e6 / 107.8682)
    assert f["Au"].f == pytest.approx(7.46e3 * 0.030 * 0.999 * 0.96 / 196.96657)
    assert list(f) == ["Ag", "Au"]


def test_user_factors_extend_and_override():
    f = element_factors(["Pt", "Ag"], {"Pt": {"z": 1.0e5, "f": 1.1}, "Ag": {"f": 2.0}}, require="f")
    assert (f["Pt"].z, f["Pt"].f, f["Pt"].source) == (1.0e5, 1.1, "user")
    assert f["Ag"].f == 2.0
    assert f["Ag"].z == pytest.approx(TABLE2_LINES["Ag"].z)  # kept from the table


def test_unknown_element_without_factor_is_named():
    with pytest.raises(ValueError, match="no 'f' factor for element 'Pt'"):
        element_factors(["Ag", "Pt"], require="f")
    with pytest.raises(ValueError, match="no 'z' factor for element 'Pt'"):
        element_factors(["Pt"], {"Pt": {"f": 1.0}}, require="z")


@pytest.mark.parametrize(
    ("user", "match"),
    [
        ({"Xx": {"z": 1.0}}, "unknown element 'Xx'"),
        ({"Pt": {"z": -1.0}}, "must be positive"),
        ({"Pt": {"z": float("nan")}}, "must be positive and finite"),
        ({"Pt": {"q": 1.0}}, "unknown keys"),
        ({"Pt": {"z": "big"}}, "must be a number"),
        ({"Pt": 3.0}, "must be an object"),
    ],
)
def test_bad_user_factors(user, match):
    with pytest.raises(ValueError, match=match):
        element_factors(["Pt"], user)


def test_bad_element_list():
    with pytest.raises(ValueError, match="no elements given"):
        element_factors([])
    with pytest.raises(ValueError, match="unknown element 'ag'"):
        element_factors(["ag"])


def test_load_factor_file(tmp_path):
    p = tmp_path / "factors.json"
    p.write_text(json.dumps({"Pt": {"z": 1.0e5, "f": 1.1}}))
    assert load_factor_file(p) == {"Pt": {"z": 1.0e5, "f": 1.1}}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_factor_file(bad)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_factor_file(tmp_path / "missing.json")
