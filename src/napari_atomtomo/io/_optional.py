"""Shared helpers of the vendor readers: optional libraries and calibrated lengths."""

from __future__ import annotations

import importlib

__all__ = ["MissingDependencyError", "need_module", "length_in_angstrom"]

_LENGTH_TO_A = {"m": 1e10, "mm": 1e7, "µm": 1e4, "um": 1e4, "μm": 1e4, "micron": 1e4,
                "nm": 10.0, "Å": 1.0, "A": 1.0, "angstrom": 1.0, "pm": 0.01}


class MissingDependencyError(ImportError, ValueError):
    """An optional reader's library is not installed."""


def need_module(module: str, package: str, what: str):
    """Import an optional library, or raise :class:`MissingDependencyError`."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependencyError(
            f"reading {what} needs {package}; install it with pip install 'napari-atomtomo[formats]'"
        ) from None


def length_in_angstrom(scale, units, where: str) -> float:
    """A calibrated pixel size ``scale`` in ``units`` converted to Å."""
    factor = _LENGTH_TO_A.get(str(units).strip())
    if factor is None or not (float(scale) > 0):
        raise ValueError(f"{where} has pixel size {scale!r} {units!r}; expected a length unit")
    return float(scale) * factor
