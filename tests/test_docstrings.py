"""Every public function of ``napari_atomtomo.core`` has a numpydoc docstring that cites
the papers it implements.

The public names are those of ``core.ALGORITHMS`` (the index in ``core/__init__.py``).
Each function's docstring must have a one-line summary, a ``Parameters`` section naming
every parameter of its signature, a ``Returns`` (or ``Yields``) section, and a
``References`` section citing paper 000 or paper 002 by DOI. The References sections are
appended at import time by ``@cites`` from ``core/_refs.py``, the one place the citations
are written. ``make lint`` also runs ruff's pydocstyle rules (numpy convention) over the
whole public API.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from napari_atomtomo import core

#: The two papers, by DOI (docs/architecture.md, README).
DOIS = ("10.1103/PhysRevB.88.100201", "10.1016/j.ultramic.2020.113166")

FUNCTIONS = sorted(n for n in core.ALGORITHMS if inspect.isfunction(getattr(core, n)))


def _sections(doc: str) -> dict[str, str]:
    """Numpydoc sections of ``doc``: header -> body text."""
    parts = re.split(r"^([A-Z][A-Za-z ]+)\n-{3,}\s*$", doc, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _documented_names(section: str) -> set[str]:
    """Parameter names of a Parameters section (``a, b : type`` lines at column 0)."""
    names: set[str] = set()
    for line in section.splitlines():
        if line and not line[0].isspace():
            names.update(n.strip().lstrip("*") for n in line.split(":")[0].split(","))
    return names


def test_the_index_has_functions():
    assert len(FUNCTIONS) >= 40


@pytest.mark.parametrize("name", FUNCTIONS)
def test_public_function_has_numpydoc_with_references(name):
    func = getattr(core, name)
    doc = inspect.getdoc(func)
    assert doc, f"{name} has no docstring"
    summary, _, rest = doc.partition("\n")
    assert summary.strip() and (not rest or not rest.splitlines()[0].strip()), (
        f"{name}: the summary must be one line followed by a blank line")
    sections = _sections(doc)
    params = [p for p in inspect.signature(func).parameters.values()
              if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if params:
        assert "Parameters" in sections, f"{name}: no Parameters section"
        missing = {p.name for p in params} - _documented_names(sections["Parameters"])
        assert not missing, f"{name}: parameters not documented: {sorted(missing)}"
    assert "Returns" in sections or "Yields" in sections, f"{name}: no Returns/Yields section"
    refs = sections.get("References", "")
    assert any(doi in refs for doi in DOIS), f"{name}: References must cite a paper by DOI"


def test_the_citations_are_written_once():
    """Only ``core/_refs.py`` spells out the papers; docstrings get them from ``@cites``."""
    core_dir = Path(core.__file__).parent
    writers = sorted(str(p.relative_to(core_dir)) for p in core_dir.rglob("*.py")
                     if any(doi in p.read_text(encoding="utf-8") for doi in DOIS))
    assert writers == ["_refs.py"]
