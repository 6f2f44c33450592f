"""Chemical element symbols and the energies of the main characteristic X-ray lines.

Used to validate element names (file names such as ``eds_Ag.mrc``, XYZ/CSV atoms; the
symbols H to U of :mod:`.elements`) and to integrate EDS spectra into element maps.
Energies are the Kα1, Lα1 and Mα1 lines in keV
(rounded to 1 eV, from the standard X-ray data tables); an SDD resolves none of the
finer splittings, so one energy per family is all an integration window needs. Only the
Mα lines of the heavy elements that are used for EDS mapping (Hf … Bi, Th, U) are listed.
"""

from __future__ import annotations

from .elements import ATOMIC_NUMBERS, validate_element

__all__ = [
    "XRAY_LINES_KEV",
    "check_element",
    "normalise_element",
    "line_energy",
    "main_line",
    "detector_fwhm_kev",
]

_BY_LOWER = {s.lower(): s for s in ATOMIC_NUMBERS}

_KA = dict(
    Be=0.108, B=0.183, C=0.277, N=0.392, O=0.525, F=0.677, Ne=0.849, Na=1.041, Mg=1.254,
    Al=1.487, Si=1.740, P=2.014, S=2.308, Cl=2.622, Ar=2.958, K=3.314, Ca=3.692, Sc=4.091,
    Ti=4.511, V=4.952, Cr=5.415, Mn=5.899, Fe=6.404, Co=6.930, Ni=7.478, Cu=8.048,
    Zn=8.639, Ga=9.252, Ge=9.886, As=10.544, Se=11.222, Br=11.924, Kr=12.649, Rb=13.395,
    Sr=14.165, Y=14.958, Zr=15.775, Nb=16.615, Mo=17.479, Tc=18.367, Ru=19.279,
    Rh=20.216, Pd=21.177, Ag=22.163, Cd=23.174, In=24.210, Sn=25.271, Sb=26.359,
    Te=27.472, I=28.612, Xe=29.779, Cs=30.973, Ba=32.194, La=33.442, Ce=34.720,
    Pr=36.026, Nd=37.361, Sm=40.118, Eu=41.542, Gd=42.996, Tb=44.482, Dy=45.998,
    Ho=47.547, Er=49.128, Tm=50.742, Yb=52.389, Lu=54.070, Hf=55.790, Ta=57.532,
    W=59.318, Re=61.140, Os=63.000, Ir=64.896, Pt=66.832, Au=68.804, Hg=70.819,
    Tl=72.872, Pb=74.969, Bi=77.108, Th=93.350, U=98.439,
)
_LA = dict(
    Ca=0.341, Sc=0.395, Ti=0.452, V=0.511, Cr=0.573, Mn=0.637, Fe=0.705, Co=0.776,
    Ni=0.852, Cu=0.930, Zn=1.012, Ga=1.098, Ge=1.188, As=1.282, Se=1.379, Br=1.480,
    Kr=1.587, Rb=1.694, Sr=1.806, Y=1.922, Zr=2.042, Nb=2.166, Mo=2.293, Tc=2.424,
    Ru=2.558, Rh=2.697, Pd=2.838, Ag=2.984, Cd=3.134, In=3.287, Sn=3.444, Sb=3.605,
    Te=3.769, I=3.938, Xe=4.110, Cs=4.287, Ba=4.466, La=4.651, Ce=4.840, Pr=5.034,
    Nd=5.230, Sm=5.636, Eu=5.846, Gd=6.057, Tb=6.273, Dy=6.495, Ho=6.720, Er=6.949,
    Tm=7.180, Yb=7.416, Lu=7.656, Hf=7.899, Ta=8.146, W=8.398, Re=8.652, Os=8.911,
    Ir=9.175, Pt=9.442, Au=9.713, Hg=9.989, Tl=10.269, Pb=10.551, Bi=10.839, Th=12.968,
    U=13.615,
)
_MA = dict(
    Hf=1.645, Ta=1.710, W=1.775, Re=1.843, Os=1.914, Ir=1.980, Pt=2.048, Au=2.123,
    Hg=2.195, Tl=2.271, Pb=2.346, Bi=2.423, Th=2.996, U=3.171,
)

#: ``{"Fe": {"Ka": 6.404, "La": 0.705}, ...}`` in keV.
XRAY_LINES_KEV: dict[str, dict[str, float]] = {}
for _family, _table in (("Ka", _KA), ("La", _LA), ("Ma", _MA)):
    for _el, _e in _table.items():
        XRAY_LINES_KEV.setdefault(_el, {})[_family] = _e


def normalise_element(name: str) -> str | None:
    """The canonical symbol for ``name`` in any letter case (``"SI"`` -> ``"Si"``), or None."""
    return _BY_LOWER.get(str(name).strip().lower())


def check_element(name: str, where: str = "") -> str:
    """Return ``name`` if it is a chemical symbol (exact case); see
    :func:`~napari_atomtomo.core.elements.validate_element`.
    """
    return validate_element(name, where)


def line_energy(element: str, family: str) -> float:
    """Energy in keV of ``element``'s ``family`` line (``"Ka"``, ``"La"`` or ``"Ma"``)."""
    check_element(element)
    fam = family.replace("_", "")[-2:].capitalize()
    lines = XRAY_LINES_KEV.get(element, {})
    if fam not in lines:
        known = ", ".join(f"{element}_{f}" for f in lines) or "none"
        raise ValueError(f"no {element}_{fam} line in the table (known lines: {known})")
    return lines[fam]


def main_line(element: str, max_energy_kev: float = 20.0) -> tuple[str, float]:
    """The line an EDS map of ``element`` is usually made from, as ``("Ka", 6.404)``.

    The rule: Kα if it lies below ``max_energy_kev`` (the top of the recorded spectrum),
    else Lα, else Mα. Light elements without a tabulated line raise ValueError.
    """
    check_element(element)
    lines = XRAY_LINES_KEV.get(element, {})
    for fam in ("Ka", "La", "Ma"):
        if fam in lines and lines[fam] < max_energy_kev:
            return fam, lines[fam]
    raise ValueError(
        f"element {element!r} has no tabulated X-ray line below {max_energy_kev:g} keV"
    )


def detector_fwhm_kev(energy_kev: float, sigma_abs: float | None = None,
                      sigma_lin: float | None = None) -> float:
    """Full width at half maximum of a peak at ``energy_kev`` on an SDD, in keV.

    With Bruker's calibration (``σ² = sigma_abs + sigma_lin · E``, keV² and keV) the width
    follows the file; without it, a typical 130 eV at Mn Kα scaled by the same law
    (``σ² = 4.7e-4 + 4.47e-4 · E``, the calibration of the NCEM TitanX Super-X data).
    """
    a = 4.7e-4 if sigma_abs is None else float(sigma_abs)
    b = 4.47e-4 if sigma_lin is None else float(sigma_lin)
    var = a + b * float(energy_kev)
    if not var > 0:
        raise ValueError(f"detector resolution calibration gives σ² = {var:g} keV² ≤ 0")
    return 2.0 * (2.0 * 0.6931471805599453) ** 0.5 * var**0.5
