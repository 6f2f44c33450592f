"""How files and layers are named after an element: ``eds_Ag``, ``map_Au``, ``wt_Au``,
``phantom_Ag`` (CONVENTIONS.md, Files). The one place these patterns live.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["PREFIXES", "ELEMENT_NAME", "element_name_match", "find_resamples"]

#: Prefixes of element-named files and layers: tilt series, maps, weight fractions, truth.
PREFIXES = ("eds", "map", "phantom", "wt")

#: A layer name (or file stem) that carries an element symbol, e.g. ``eds_Ag``.
ELEMENT_NAME = re.compile(r"^(?:eds|map|phantom|wt)_([A-Z][a-z]?)$")


def element_name_match(name: str, prefix: str | None = None, suffix: str = "") -> str | None:
    """The element of ``<prefix>_<El><suffix>`` (any of :data:`PREFIXES` when ``prefix`` is
    None), else None: ``element_name_match("map_Au.mrc", "map", ".mrc") == "Au"``.
    """
    prefixes = PREFIXES if prefix is None else (prefix,)
    stem = str(name)
    if suffix:
        if not stem.endswith(suffix):
            return None
        stem = stem[: -len(suffix)]
    m = ELEMENT_NAME.match(stem)
    if m is None or stem.split("_", 1)[0] not in prefixes:
        return None
    return m.group(1)


def find_resamples(maps_dir, elements) -> list[dict[str, Path]]:
    """``[{element: path}]`` of the replicas in ``maps_dir/resamples/<i>/`` (complete sets only)."""
    root = Path(maps_dir) / "resamples"
    if not root.is_dir():
        return []
    out = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        paths = {el: sub / f"map_{el}.mrc" for el in elements}
        if all(q.is_file() for q in paths.values()):
            out.append(paths)
    return out
