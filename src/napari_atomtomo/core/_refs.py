"""The two papers the core implements, cited in one place.

Every public function of ``core`` ends its numpydoc docstring with a References section
citing paper 000 ([1]), paper 002 ([2]) or both. The citations are written once, here,
and appended to the docstrings at import time by :func:`cites`, so ``help()``,
``inspect.getdoc`` and Sphinx show the full section while the source carries one line::

    @cites(PAPER_000, PAPER_002)
    def refine_shifts(...):
        '''... the docstring without its References section ...'''

Text may cite them inline as ``paper 000 [1]_`` and ``paper 002 [2]_``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: Paper 000: atomic electron tomography of an amorphous SiO2 glass (tracing, structure).
PAPER_000 = (
    '.. [1] C. Zhu et al., "Towards three-dimensional structural determination of amorphous\n'
    '   materials at atomic resolution", Physical Review B 88, 100201(R) (2013).\n'
    "   https://doi.org/10.1103/PhysRevB.88.100201"
)

#: Paper 002: EDS-STEM tomography and HAADF-EDS bimodal tomography (SIRT, HEBT, metrics).
PAPER_002 = (
    '.. [2] Y. Yuan et al., "Extraction of 3D quantitative maps using EDS-STEM tomography and\n'
    '   HAADF-EDS bimodal tomography", Ultramicroscopy 113166 (2020).\n'
    "   https://doi.org/10.1016/j.ultramic.2020.113166"
)

_HAS_REFERENCES = re.compile(r"^\s*References\s*\n\s*-{3,}\s*$", re.M)


def with_references(doc: str, papers: tuple[str, ...]) -> str:
    """``doc`` with a numpydoc References section listing ``papers`` appended.

    The section takes the indentation of the docstring's body, so ``inspect.cleandoc``
    sees one consistent block.
    """
    if not papers:
        raise ValueError("cite at least one paper (PAPER_000, PAPER_002)")
    if _HAS_REFERENCES.search(doc):
        raise ValueError("the docstring already has a References section")
    lines = doc.expandtabs().splitlines()
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    pad = " " * min(indents, default=0)
    block = ["References", "----------", *"\n".join(papers).splitlines()]
    return doc.rstrip() + "\n\n" + "\n".join(pad + line for line in block) + "\n" + pad


def cites(*papers: str) -> Callable[[F], F]:
    """Decorator appending a References section citing ``papers`` to a docstring."""

    def decorate(func: F) -> F:
        if func.__doc__ is not None:  # None under ``python -OO``
            func.__doc__ = with_references(func.__doc__, papers)
        return func

    return decorate
