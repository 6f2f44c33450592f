"""One set of rules for the arrays every public function takes (validate first, one
sentence per problem, naming the value and what was expected; CONVENTIONS.md, Errors).

* :func:`check_real`: real numbers (booleans allowed only where asked);
* :func:`check_array`: ``ndim`` dimensions, non-empty, real, finite;
* :func:`check_stack`: a tilt series ``(angle, y, x)`` (a sinogram as ``(angle, 1, x)``);
* :func:`check_volume`: a volume ``(z, y, x)`` (a 2D slice as ``(z, 1, x)``).

Element symbols are checked by :func:`napari_atomtomo.core.elements.validate_element`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["check_real", "check_array", "check_stack", "check_volume", "read_json_file"]

_STACK_HINT = "store a sinogram as (angle, 1, x)"
_VOLUME_HINT = "store a 2D slice as (z, 1, x)"


def check_real(a: np.ndarray, name: str, allow_bool: bool = False) -> None:
    """``ValueError`` unless ``a`` holds real numbers (or booleans with ``allow_bool``)."""
    ok = np.issubdtype(a.dtype, np.number) or (allow_bool and a.dtype == bool)
    if not ok or np.iscomplexobj(a):
        raise ValueError(f"{name} must hold real numbers, got dtype {a.dtype}")


def check_array(data, name: str, axes: str, *, hint: str = "", min_size: int = 1,
                finite: bool = True, allow_bool: bool = False) -> np.ndarray:
    """``data`` as an array with one dimension per name in ``axes`` (e.g. ``"(z, y, x)"``),
    at least ``min_size`` long on every axis, of real (``finite``) numbers.
    """
    a = np.asarray(data)
    ndim = axes.count(",") + 1
    if a.ndim != ndim:
        extra = f"; {hint}" if hint else ""
        raise ValueError(f"{name} must be {ndim}D {axes}; got {a.ndim}D with shape {a.shape}"
                         f"{extra}")
    if min_size > 1 and min(a.shape) < min_size:
        raise ValueError(f"{name} must be at least {min_size} voxels along every axis, got "
                         f"shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape})")
    check_real(a, name, allow_bool)
    if finite and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def check_stack(stack, name: str = "tilt series", **kwargs) -> np.ndarray:
    """A non-empty, finite, real tilt series ``(angle, y, x)``."""
    return check_array(stack, name, "(angle, y, x)", hint=_STACK_HINT, **kwargs)


def check_volume(volume, name: str = "volume", **kwargs) -> np.ndarray:
    """A non-empty, finite, real volume ``(z, y, x)``."""
    return check_array(volume, name, "(z, y, x)", hint=_VOLUME_HINT, **kwargs)


def read_json_file(path, what: str):
    """The JSON value in the file at ``path``; ``what`` ("factor file") names it in errors."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{what} {p} does not exist")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{what} {p} is not valid JSON ({exc.msg}, line {exc.lineno})") from None
