"""Element data and the quantification factors of paper 002 (Yuan et al. 2020).

Two element-specific factors turn reconstructed element maps into weight fractions
(paper 002, Eq. 7 and Eq. 14), both in b·mol/g (barn per g/mol):

* ``z_A = σ_ela / M_A`` for HAADF-EDS bimodal tomography (Eq. 18);
* ``f_A = σ_ion · ω · p · ε / M_A`` for EDS-STEM tomography (Eq. 12).

The built-in table holds the physical parameters the paper extracted from MC X-ray
(its Table 2: Ag Lα and Au Mα at 100 keV, Co Kα and Zn Kα at 80 keV). The paper does
not print the detector efficiency ε; its quoted f_Co = 2.25 and f_Zn = 1.84 b·mol/g both
imply ε = 0.96 (2.25 / 2.343 = 0.960, 1.84 / 1.916 = 0.961), which is what we use for
all four lines. Any other element needs its factors from the user, as JSON
``{"Pt": {"z": 1.0e5, "f": 1.1}}`` (:func:`load_factor_file`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._refs import PAPER_002, cites
from ._validate import read_json_file

__all__ = [
    "ATOMIC_NUMBERS",
    "ATOMIC_WEIGHTS",
    "COVALENT_RADII_A",
    "DETECTOR_EFFICIENCY",
    "TABLE2_LINES",
    "ElementFactor",
    "XrayLine",
    "atomic_number",
    "atomic_weight",
    "builtin_factors",
    "element_factors",
    "load_factor_file",
    "validate_element",
]

# Standard atomic weights (g/mol, IUPAC abridged values; mass number of the longest-lived
# isotope for elements without a stable one), H to U in order of atomic number.
_WEIGHTS = (
    ("H", 1.008), ("He", 4.002602), ("Li", 6.94), ("Be", 9.0121831), ("B", 10.81),
    ("C", 12.011), ("N", 14.007), ("O", 15.999), ("F", 18.998403), ("Ne", 20.1797),
    ("Na", 22.989769), ("Mg", 24.305), ("Al", 26.981538), ("Si", 28.085), ("P", 30.973762),
    ("S", 32.06), ("Cl", 35.45), ("Ar", 39.948), ("K", 39.0983), ("Ca", 40.078),
    ("Sc", 44.955908), ("Ti", 47.867), ("V", 50.9415), ("Cr", 51.9961), ("Mn", 54.938044),
    ("Fe", 55.845), ("Co", 58.933194), ("Ni", 58.6934), ("Cu", 63.546), ("Zn", 65.38),
    ("Ga", 69.723), ("Ge", 72.630), ("As", 74.921595), ("Se", 78.971), ("Br", 79.904),
    ("Kr", 83.798), ("Rb", 85.4678), ("Sr", 87.62), ("Y", 88.90584), ("Zr", 91.224),
    ("Nb", 92.90637), ("Mo", 95.95), ("Tc", 98.0), ("Ru", 101.07), ("Rh", 102.90550),
    ("Pd", 106.42), ("Ag", 107.8682), ("Cd", 112.414), ("In", 114.818), ("Sn", 118.710),
    ("Sb", 121.760), ("Te", 127.60), ("I", 126.90447), ("Xe", 131.293), ("Cs", 132.905452),
    ("Ba", 137.327), ("La", 138.90547), ("Ce", 140.116), ("Pr", 140.90766), ("Nd", 144.242),
    ("Pm", 145.0), ("Sm", 150.36), ("Eu", 151.964), ("Gd", 157.25), ("Tb", 158.92535),
    ("Dy", 162.500), ("Ho", 164.93033), ("Er", 167.259), ("Tm", 168.93422), ("Yb", 173.045),
    ("Lu", 174.9668), ("Hf", 178.49), ("Ta", 180.94788), ("W", 183.84), ("Re", 186.207),
    ("Os", 190.23), ("Ir", 192.217), ("Pt", 195.084), ("Au", 196.966570), ("Hg", 200.592),
    ("Tl", 204.38), ("Pb", 207.2), ("Bi", 208.98040), ("Po", 209.0), ("At", 210.0),
    ("Rn", 222.0), ("Fr", 223.0), ("Ra", 226.0), ("Ac", 227.0), ("Th", 232.0377),
    ("Pa", 231.03588), ("U", 238.02891),
)

#: Element symbol -> atomic weight in g/mol (H to U).
ATOMIC_WEIGHTS: dict[str, float] = dict(_WEIGHTS)
#: Element symbol -> atomic number (H to U).
ATOMIC_NUMBERS: dict[str, int] = {sym: i + 1 for i, (sym, _) in enumerate(_WEIGHTS)}

#: Detector efficiency ε implied by the paper's f_Co and f_Zn (see the module docstring).
DETECTOR_EFFICIENCY = 0.96


#: Single-bond covalent radii in Å (Cordero et al., Dalton Trans. 2008, 2832): bond
#: lengths for tracing (:mod:`.trace`) and atom marker sizes (``_colors``).
COVALENT_RADII_A: dict[str, float] = {
    "H": 0.31, "He": 0.28, "Li": 1.28, "B": 0.84, "C": 0.76, "N": 0.71, "O": 0.66,
    "F": 0.57, "Na": 1.66, "Mg": 1.41, "Al": 1.21, "Si": 1.11, "P": 1.07, "S": 1.05,
    "Cl": 1.02, "K": 2.03, "Ca": 1.76, "Ti": 1.60, "V": 1.53, "Cr": 1.39, "Mn": 1.39,
    "Fe": 1.32, "Co": 1.26, "Ni": 1.24, "Cu": 1.32, "Zn": 1.22, "Ga": 1.22, "Ge": 1.20,
    "As": 1.19, "Se": 1.20, "Sr": 1.95, "Y": 1.90, "Zr": 1.75, "Nb": 1.64, "Mo": 1.54,
    "Ru": 1.46, "Rh": 1.42, "Pd": 1.39, "Ag": 1.45, "Cd": 1.44, "In": 1.42, "Sn": 1.39,
    "Sb": 1.39, "Te": 1.38, "Ba": 2.15, "La": 2.07, "Ce": 2.04, "Nd": 2.01, "Gd": 1.96,
    "Hf": 1.75, "Ta": 1.70, "W": 1.62, "Re": 1.51, "Os": 1.44, "Ir": 1.41, "Pt": 1.36,
    "Au": 1.36, "Hg": 1.32, "Pb": 1.46, "Bi": 1.48, "U": 1.96,
}


@dataclass(frozen=True)
class XrayLine:
    """Physical parameters of one X-ray line from paper 002, Table 2 (MC X-ray).

    Cross sections in barn, energies in keV; ``efficiency`` is the detector
    efficiency ε (not printed in the paper, see :data:`DETECTOR_EFFICIENCY`).
    """

    element: str
    line: str
    beam_energy_kev: float
    sigma_elastic_b: float
    sigma_ionisation_b: float
    fluorescence_yield: float
    relative_intensity: float
    efficiency: float = DETECTOR_EFFICIENCY

    @property
    def atomic_weight(self) -> float:
        """Standard atomic weight of the element in g/mol."""
        return ATOMIC_WEIGHTS[self.element]

    @property
    def z(self) -> float:
        """HAADF factor ``z_A = σ_ela / M_A`` in b·mol/g."""
        return self.sigma_elastic_b / self.atomic_weight

    @property
    def f(self) -> float:
        """EDS factor ``f_A = σ_ion · ω · p · ε / M_A`` in b·mol/g."""
        return (
            self.sigma_ionisation_b
            * self.fluorescence_yield
            * self.relative_intensity
            * self.efficiency
            / self.atomic_weight
        )


#: Paper 002, Table 2.
TABLE2_LINES: dict[str, XrayLine] = {
    "Ag": XrayLine("Ag", "La", 100.0, 9.90e6, 2.44e3, 0.057, 0.816),
    "Au": XrayLine("Au", "Ma", 100.0, 1.98e7, 7.46e3, 0.030, 0.999),
    "Co": XrayLine("Co", "Ka", 80.0, 5.59e6, 420.0, 0.369, 0.891),
    "Zn": XrayLine("Zn", "Ka", 80.0, 6.51e6, 302.0, 0.466, 0.890),
}


@dataclass(frozen=True)
class ElementFactor:
    """Quantification factors of one element in b·mol/g; ``None`` where unknown."""

    element: str
    z: float | None
    f: float | None
    source: str

    def get(self, which: str) -> float:
        """``z`` or ``f``, raising a clear ``ValueError`` when it is not known."""
        if which not in ("z", "f"):
            raise ValueError(f"factor must be 'z' or 'f', got {which!r}")
        value = getattr(self, which)
        if value is None:
            raise ValueError(
                f"no {which!r} factor for element {self.element!r}; supply it in a factor file "
                f'as {{"{self.element}": {{"{which}": ...}}}} in b·mol/g'
            )
        return float(value)


def validate_element(symbol, where: str = "") -> str:
    """Return ``symbol`` if it is an element symbol from H to U (exact case), else one
    ``ValueError`` (prefixed by ``where``, with the symbol it may have meant). The one
    element rule of the package: readers, tracing, quantification and widgets use it.
    """
    if isinstance(symbol, str) and symbol in ATOMIC_NUMBERS:
        return symbol
    prefix = f"{where}: " if where else ""
    guess = {s.lower(): s for s in ATOMIC_NUMBERS}.get(str(symbol).strip().lower())
    hint = (f" (did you mean {guess!r}?)" if guess
            else "; expected a symbol from H to U such as 'Si' or 'Au'")
    raise ValueError(f"{prefix}unknown element {symbol!r}{hint}")


def atomic_number(symbol: str) -> int:
    """Atomic number of ``symbol``."""
    return ATOMIC_NUMBERS[validate_element(symbol)]


def atomic_weight(symbol: str) -> float:
    """Standard atomic weight of ``symbol`` in g/mol."""
    return ATOMIC_WEIGHTS[validate_element(symbol)]


def builtin_factors() -> dict[str, ElementFactor]:
    """The factors of paper 002's Table 2 lines (Ag Lα, Au Mα, Co Kα, Zn Kα)."""
    return {
        el: ElementFactor(el, line.z, line.f, f"paper 002 Table 2 ({line.line}, "
                          f"{line.beam_energy_kev:g} keV, ε={line.efficiency:g})")
        for el, line in TABLE2_LINES.items()
    }


def _check_factor_value(element: str, key: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"factor {key!r} of {element!r} must be a number in b·mol/g, got {value!r}"
        ) from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"factor {key!r} of {element!r} must be positive and finite, got {v}")
    return v


def _normalise_user_factors(user_factors) -> dict[str, dict[str, float]]:
    if user_factors is None:
        return {}
    if not isinstance(user_factors, dict):
        raise ValueError(
            'element factors must be a mapping like {"Pt": {"z": 1.0e5, "f": 1.1}}, '
            f"got {type(user_factors).__name__}"
        )
    out: dict[str, dict[str, float]] = {}
    for element, entry in user_factors.items():
        validate_element(element)
        if isinstance(entry, ElementFactor):
            entry = {k: v for k, v in (("z", entry.z), ("f", entry.f)) if v is not None}
        if not isinstance(entry, dict) or not entry:
            raise ValueError(
                f'factors of {element!r} must be an object like {{"z": 1.0e5, "f": 1.1}}, '
                f"got {entry!r}"
            )
        extra = set(entry) - {"z", "f"}
        if extra:
            raise ValueError(
                f"factors of {element!r} have unknown keys {sorted(extra)}; expected 'z' and/or 'f'"
            )
        out[element] = {k: _check_factor_value(element, k, v) for k, v in entry.items()}
    return out


@cites(PAPER_002)
def element_factors(elements, user_factors=None, require: str | None = None) -> dict[str, ElementFactor]:
    """Quantification factors for ``elements``.

    Parameters
    ----------
    elements : iterable of str
        Element symbols (``"Ag"``, ``"Au"``, ...).
    user_factors : dict, optional
        ``{"Pt": {"z": ..., "f": ...}}`` in b·mol/g; a given value overrides the
        built-in one, a missing key keeps it.
    require : {"z", "f", None}
        Which factor must be known for every element (``None``: none is checked).

    Returns
    -------
    dict of str -> ElementFactor, in the order of ``elements``.

    Raises
    ------
    ValueError
        For an unknown symbol, a bad factor value, or an element that lacks the
        required factor (the message names it).
    """
    if require not in (None, "z", "f"):
        raise ValueError(f"require must be 'z', 'f' or None, got {require!r}")
    elements = list(elements)
    if not elements:
        raise ValueError("no elements given; expected at least one element symbol")
    user = _normalise_user_factors(user_factors)
    table = builtin_factors()
    out: dict[str, ElementFactor] = {}
    for el in elements:
        validate_element(el)
        base = table.get(el, ElementFactor(el, None, None, "none"))
        given = user.get(el, {})
        if given:
            z = given.get("z", base.z)
            f = given.get("f", base.f)
            source = "user" if base.source == "none" or len(given) == 2 else "user + " + base.source
            base = ElementFactor(el, z, f, source)
        if require is not None and getattr(base, require) is None:
            raise ValueError(
                f"no {require!r} factor for element {el!r}: it is not in the built-in table "
                f"(Ag, Au, Co, Zn); supply it with a factor file such as "
                f'{{"{el}": {{"z": ..., "f": ...}}}} in b·mol/g'
            )
        out[el] = base
    return out


def load_factor_file(path) -> dict[str, dict[str, float]]:
    """Read a JSON factor file ``{"Pt": {"z": 1.0e5, "f": 1.1}, ...}`` (b·mol/g)."""
    return _normalise_user_factors(read_json_file(path, "factor file"))
