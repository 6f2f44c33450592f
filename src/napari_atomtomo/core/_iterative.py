"""Plumbing shared by SIRT (:mod:`.sirt`) and HEBT (:mod:`.hebt`).

The relaxation spec and the iteration checks both parameter sets use, the validation of
tilt series, element stacks, supports and the volume shape, and two small helpers of the
iteration loops (a parallel sum of squares and a copy of the working volume that is safe
to yield). :mod:`.sirt` re-exports these names for older callers.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from . import _validate
from ._solver_kernels import sum_of_squares
from .params import param
from .projectors import ParallelBeamProjector

__all__ = [
    "RELAXATION",
    "check_element_stacks",
    "check_iteration_settings",
    "check_stack",
    "check_support",
    "public_copy",
    "resolve_volume_shape",
    "sum_of_squares",
]

# ---------------------------------------------------------------------------- parameters
#: The relaxation field of SIRT and HEBT (one spec for both).
RELAXATION = param(1.0, flag="--relaxation", label="relaxation λ", range=(0.05, 1.95), step=0.05,
                   help="relaxation λ in (0, 2): SIRT converges for any value in that range")


def check_iteration_settings(n_iter, relaxation, yield_every) -> None:
    """Shared validation of ``n_iter``, ``relaxation`` and ``yield_every``."""
    if isinstance(n_iter, bool) or int(n_iter) != n_iter or n_iter < 1:
        raise ValueError(f"n_iter must be a whole number of iterations ≥ 1, got {n_iter!r}")
    if not (np.isfinite(relaxation) and 0.0 < relaxation < 2.0):
        raise ValueError(f"relaxation must be in (0, 2), got {relaxation!r}")
    if isinstance(yield_every, bool) or int(yield_every) != yield_every or yield_every < 1:
        raise ValueError(f"yield_every must be a whole number ≥ 1, got {yield_every!r}")


def public_copy(projector: ParallelBeamProjector, vol_t: np.ndarray) -> np.ndarray:
    """A ``(z, y, x)`` copy of an internal volume that never aliases the working buffer.

    (``from_internal_volume`` returns a view when ``n_y == 1``: the transpose is then
    already contiguous.)
    """
    v = projector.from_internal_volume(vol_t)
    return v.copy() if np.shares_memory(v, vol_t) else v


# ---------------------------------------------------------------------------- validation
def check_stack(stack, name: str = "tilt series") -> np.ndarray:
    """A finite 3D ``(angle, y, x)`` array (a sinogram is ``(angle, 1, x)``)."""
    return _validate.check_stack(stack, name)


def resolve_volume_shape(stack_shape, support=None, x0=None) -> tuple[int, int, int]:
    """Volume shape: from ``x0`` or ``support`` if given, else ``(n_u, n_y, n_u)``."""
    n_a, n_y, n_u = stack_shape
    shape = None
    for name, arr in (("x0", x0), ("support", support)):
        if arr is None:
            continue
        a_shape = np.shape(arr)
        if len(a_shape) != 3 or a_shape[1] != n_y:
            raise ValueError(
                f"{name} has shape {a_shape} but a (z, {n_y}, x) volume was expected for a "
                f"tilt series of shape {tuple(stack_shape)}"
            )
        if shape is not None and a_shape != shape:
            raise ValueError(f"support has shape {a_shape} but x0 has shape {shape}")
        shape = (int(a_shape[0]), int(a_shape[1]), int(a_shape[2]))
    return shape if shape is not None else (n_u, n_y, n_u)


def check_support(support, shape) -> np.ndarray | None:
    """A non-empty boolean support mask, or ``None``."""
    if support is None:
        return None
    s = np.asarray(support)
    if s.dtype != bool:
        raise ValueError(f"support must be a boolean mask, got dtype {s.dtype}")
    if not s.any():
        raise ValueError("support is empty (no voxel is True); nothing to reconstruct")
    return s


def check_element_stacks(eds, name: str = "eds") -> dict[str, np.ndarray]:
    """A non-empty ``{element: (angle, y, x)}`` mapping of finite, non-negative stacks."""
    if not isinstance(eds, Mapping) or len(eds) == 0:
        raise ValueError(f"{name} must be a non-empty dict {{element: tilt series}}")
    out: dict[str, np.ndarray] = {}
    shape = None
    first = None
    for element, stack in eds.items():
        if not isinstance(element, str) or not element:
            raise ValueError(f"{name} keys must be element symbols, got {element!r}")
        s = check_stack(stack, name=f"{name}[{element!r}]")
        if np.any(s < 0):
            raise ValueError(
                f"{name}[{element!r}] has negative counts (min {float(s.min()):g}); "
                "X-ray counts must be ≥ 0"
            )
        if shape is not None and s.shape != shape:
            raise ValueError(
                f"{name}[{element!r}] has shape {s.shape} but {name}[{first!r}] has shape {shape}"
            )
        shape, first = s.shape, first or element
        out[element] = s
    return out
