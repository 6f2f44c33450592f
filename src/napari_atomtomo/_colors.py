"""The one element colour table used everywhere (atoms, element-map colormaps, plots, docs).

CPK/Jmol-like colours, except the two fixed by CONVENTIONS.md: Si ``#f0c000`` (yellow)
and O ``#e00000`` (red). Qt-free and napari-free, so plots and reports can use it too.
"""

from __future__ import annotations

import numpy as np

from .core.elements import COVALENT_RADII_A

__all__ = ["ELEMENT_COLORS", "UNKNOWN_ELEMENT_COLOR", "element_color", "COVALENT_RADII_A",
           "atom_marker_diameter_A", "curve_color", "element_sizes"]

#: Element symbol -> hex colour. Jmol-like values; Si and O as fixed by CONVENTIONS.md.
ELEMENT_COLORS: dict[str, str] = {
    "H": "#ffffff",
    "He": "#d9ffff",
    "Li": "#cc80ff",
    "B": "#ffb5b5",
    "C": "#909090",
    "N": "#3050f8",
    "O": "#e00000",
    "F": "#90e050",
    "Na": "#ab5cf2",
    "Mg": "#8aff00",
    "Al": "#bfa6a6",
    "Si": "#f0c000",
    "P": "#ff8000",
    "S": "#ffff30",
    "Cl": "#1ff01f",
    "K": "#8f40d4",
    "Ca": "#3dff00",
    "Ti": "#bfc2c7",
    "V": "#a6a6ab",
    "Cr": "#8a99c7",
    "Mn": "#9c7ac7",
    "Fe": "#e06633",
    "Co": "#f090a0",
    "Ni": "#50d050",
    "Cu": "#c88033",
    "Zn": "#7d80b0",
    "Ga": "#c28f8f",
    "Ge": "#668f8f",
    "As": "#bd80e3",
    "Se": "#ffa100",
    "Sr": "#00ff00",
    "Y": "#94ffff",
    "Zr": "#94e0e0",
    "Nb": "#73c2c9",
    "Mo": "#54b5b5",
    "Ru": "#248f8f",
    "Rh": "#0a7d8c",
    "Pd": "#006985",
    "Ag": "#c0c0c0",
    "Cd": "#ffd98f",
    "In": "#a67573",
    "Sn": "#668080",
    "Sb": "#9e63b5",
    "Te": "#d47a00",
    "Ba": "#00c900",
    "La": "#70d4ff",
    "Ce": "#ffffc7",
    "Nd": "#c7ffc7",
    "Gd": "#45ffc7",
    "Hf": "#4dc2ff",
    "Ta": "#4da6ff",
    "W": "#2194d6",
    "Re": "#267dab",
    "Os": "#266696",
    "Ir": "#175487",
    "Pt": "#d0d0e0",
    "Au": "#ffd123",
    "Hg": "#b8b8d0",
    "Pb": "#575961",
    "Bi": "#9e4fb5",
}

#: Colour of any symbol missing from the table (Jmol's "unknown" pink).
UNKNOWN_ELEMENT_COLOR = "#ff1493"


def _symbol_key(symbol) -> str:
    """``symbol`` as the tables spell it: " ag " -> "Ag"."""
    s = str(symbol).strip()
    return s[:1].upper() + s[1:].lower()


def element_color(symbol: str) -> str:
    """Hex colour of an element symbol (case-insensitive); pink for unknown symbols."""
    return curve_color(symbol, UNKNOWN_ELEMENT_COLOR)


def curve_color(label: str, fallback: str) -> str:
    """Colour of a plot curve: its element's colour when ``label`` is an element symbol
    (so Ag is the same colour in plots as in map_/wt_ layers and atoms), else
    ``fallback`` (e.g. a colour by position for "HAADF" or "round 2")."""
    return ELEMENT_COLORS.get(_symbol_key(label), fallback)


#: Marker diameters (Å) span this range: small enough that the density around an atom
#: stays visible, ordered by the element's covalent radius (O 0.61, Si 0.71, Au 0.77 Å).
MARKER_DIAMETER_RANGE_A = (0.6, 0.8)


def atom_marker_diameter_A(symbol: str) -> float:
    """Marker diameter in Å of an atom: its covalent radius mapped linearly from
    0.6–1.5 Å onto :data:`MARKER_DIAMETER_RANGE_A` (clipped); 0.7 Å for unknown symbols."""
    r = COVALENT_RADII_A.get(_symbol_key(symbol))
    lo, hi = MARKER_DIAMETER_RANGE_A
    if r is None:
        return round((lo + hi) / 2, 4)
    return round(min(hi, max(lo, lo + (hi - lo) * (r - 0.6) / 0.9)), 4)


def element_sizes(elements) -> np.ndarray:
    """Marker diameters (Å) of atoms by element (:func:`atom_marker_diameter_A`), each
    element looked up once."""
    els = np.asarray(elements, dtype=str)
    table = {e: atom_marker_diameter_A(e) for e in np.unique(els)}
    return np.array([table[e] for e in els], dtype=np.float64)
