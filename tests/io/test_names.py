"""Element-named files and layers (``eds_Ag``, ``map_Au.mrc``, ...) are parsed in one place."""

from __future__ import annotations

import pytest

from napari_atomtomo.io._names import ELEMENT_NAME, element_name_match


@pytest.mark.parametrize("name, prefix, suffix, element", [
    ("map_Au", "map", "", "Au"),
    ("map_Au.mrc", "map", ".mrc", "Au"),
    ("map_Au.mrc", "map", "", None),  # the suffix must be asked for
    ("eds_Ag", None, "", "Ag"),
    ("wt_Co", None, "", "Co"),
    ("phantom_Zn", "phantom", "", "Zn"),
    ("eds_Ag", "map", "", None),  # another prefix
    ("map_ag", "map", "", None),  # element symbols are case-sensitive
    ("map_Au copy", "map", "", None),
    ("haadf", None, "", None),
])
def test_element_name_match(name, prefix, suffix, element):
    assert element_name_match(name, prefix, suffix) == element


def test_layer_name_pattern_knows_every_prefix():
    assert [ELEMENT_NAME.match(f"{p}_Ag").group(1) for p in ("eds", "map", "phantom", "wt")] == [
        "Ag"] * 4
