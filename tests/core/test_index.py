"""The algorithm index in ``napari_atomtomo.core`` names only things that exist."""

from __future__ import annotations

import napari_atomtomo.core as core


def test_every_indexed_algorithm_is_importable_from_core():
    for name, module in core.ALGORITHMS.items():
        obj = getattr(core, name)
        assert callable(obj), name
        assert obj.__module__.startswith(f"napari_atomtomo.core.{module.split('.')[0]}"), name


def test_every_indexed_algorithm_is_listed_in_the_docstring():
    for name in core.ALGORITHMS:
        if name[0].islower() and not name.startswith("iter_"):
            assert name in core.__doc__ or name in (
                "ppfft_adjoint", "ppfft_inverse", "estimate_shifts"), name
