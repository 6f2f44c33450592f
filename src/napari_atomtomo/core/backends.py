"""Compute backends: where the projector pair and the SIRT step run.

Every iterative solver (:mod:`.sirt`, :mod:`.hebt`, EDS) asks a backend by name for a
projector and a :class:`SirtOperator` and calls nothing else that touches the data, so a
GPU backend (CuPy or numba.cuda) can be added by registering one more name: callers pass
``backend="…"`` and stay as they are. Only the numba CPU backend exists; there is no
untested GPU path.

The protocol (arrays are in the projector's internal layout, tilt axis innermost):

- ``backend.projector(volume_shape, angles_deg, n_u=None, shifts=None)`` returns an object
  with the :class:`~.projectors.ParallelBeamProjector` interface (shapes, layout
  conversions ``to_internal_*`` / ``from_internal_*`` / ``new_internal_*``,
  ``forward_internal``, ``back_internal``);
- ``backend.sirt_operator(projector)`` returns a :class:`SirtOperator`: the weights
  ``R = 1/(A·w)`` and ``C = 1/(Aᵀ·1)`` once, then per iteration
  ``back_update`` (``x ← x + λ C Aᵀ e``, clipped at 0) and ``forward_residual``
  (``e = R (b − A x)``, returning ``‖b − A x‖²``).

A backend keeps its arrays wherever it likes between calls; ``to_internal_*`` and
``from_internal_*`` are where host numpy arrays go in and come out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from . import _sirt_kernels as _sk
from . import config
from .projectors import ParallelBeamProjector

__all__ = [
    "DEFAULT_BACKEND",
    "Backend",
    "SirtOperator",
    "NumbaCpuBackend",
    "NumbaSirtOperator",
    "available_backends",
    "get_backend",
    "register_backend",
]

#: The backend every solver uses unless told otherwise.
DEFAULT_BACKEND = "numba-cpu"

#: Row and column sums below this get an inverse weight of 0 (the project-wide floor).
SUM_FLOOR = config.SUM_FLOOR


class SirtOperator(Protocol):
    """The SIRT step of one projector, in its internal layout."""

    def weights(self, support_t=None) -> tuple[np.ndarray, np.ndarray]:
        """Inverse row sums ``R`` and column sums ``C`` (zero-safe, ``C = 0`` off support)."""

    def back_update(self, e, inv_cols, relaxation: float, nonnegative: bool, x) -> None:
        """``x ← x + λ · C · Aᵀ e`` in place, clipped at 0 if ``nonnegative``."""

    def forward_residual(self, x, b, inv_rows, e) -> float:
        """``e ← R (b − A x)`` in place; returns ``‖b − A x‖²`` (float64)."""


class Backend(Protocol):
    """A compute backend: a projector factory and a SIRT operator factory."""

    name: str

    def projector(self, volume_shape, angles_deg, n_u=None, shifts=None):
        """A projector with the :class:`~.projectors.ParallelBeamProjector` interface."""

    def sirt_operator(self, projector) -> SirtOperator:
        """The :class:`SirtOperator` of ``projector``."""


# ---------------------------------------------------------------------------- numba CPU
def _inverse(sums: np.ndarray) -> np.ndarray:
    inv = np.zeros(sums.shape, dtype=np.float32)
    ok = sums >= SUM_FLOOR
    inv[ok] = 1.0 / sums[ok]
    return inv


class NumbaSirtOperator:
    """:class:`SirtOperator` on the numba kernels (:mod:`._sirt_kernels`).

    3D problems without a ``y`` shift run the fused kernels (two parallel passes per
    iteration, no volume- or stack-sized temporaries). A 2D slice (``n_y == 1``, whose
    scatter-form kernels are faster) and a projector with ``y`` shifts (which couple
    neighbouring rows) run the projector and then a separate update or residual pass,
    with one scratch array made on first use and kept.
    """

    def __init__(self, projector: ParallelBeamProjector):
        self.projector = projector
        self._fused = projector.volume_shape[1] > 1 and not projector._has_dv
        self._ss = np.zeros(projector.n_angles, dtype=np.float64)
        self._scratch: dict[str, np.ndarray] = {}

    def weights(self, support_t=None):
        """``R`` and ``C``; without a support they are the same for every ``y`` and are
        returned as ``(n_a, n_u, 1)`` and ``(n_z, n_x, 1)`` (computed on one slice).
        """
        proj = self.projector
        if support_t is None and not proj._has_dv:
            n_z, _, n_x = proj.volume_shape
            one = ParallelBeamProjector((n_z, 1, n_x), proj.angles_deg, n_u=proj.n_u,
                                        shifts=np.column_stack([np.zeros_like(proj._du),
                                                                proj._du]))
            rows = one.forward_internal(np.ones(one.internal_volume_shape, np.float32))
            cols = one.back_internal(np.ones(one.internal_stack_shape, np.float32))
            return _inverse(rows), _inverse(cols)
        w = proj.new_internal_volume()
        w[...] = 1.0 if support_t is None else support_t
        inv_rows = _inverse(proj.forward_internal(w))
        ones = proj.new_internal_stack()
        ones[...] = 1.0
        inv_cols = _inverse(proj.back_internal(ones, out=w))
        if support_t is not None:
            inv_cols *= support_t
        return inv_rows, inv_cols

    def _buffer(self, name, shape):
        buf = self._scratch.get(name)
        if buf is None:
            buf = self._scratch[name] = np.empty(shape, dtype=np.float32)
        return buf

    def back_update(self, e, inv_cols, relaxation, nonnegative, x) -> None:
        """``x ← x + λ · C · Aᵀ e`` in place, clipped at 0 if ``nonnegative``."""
        proj = self.projector
        if self._fused:
            _sk.back_update_kernel(e, proj._cos, proj._sin, proj._du, inv_cols,
                                   float(relaxation), bool(nonnegative), x)
            return
        bp = proj.back_internal(e, out=self._buffer("bp", proj.internal_volume_shape))
        # here the weights are always whole arrays (n_y = 1, or y shifts): flat passes
        _sk.update_flat_kernel(x.reshape(-1), bp.reshape(-1), inv_cols.reshape(-1),
                               float(relaxation), bool(nonnegative))

    def forward_residual(self, x, b, inv_rows, e) -> float:
        """``e ← R (b − A x)`` in place; returns ``‖b − A x‖²`` (float64)."""
        proj = self.projector
        if self._fused:
            _sk.forward_residual_kernel(x, proj._cos, proj._sin, proj._du, b, inv_rows, e,
                                        self._ss)
            return float(self._ss.sum())
        proj.forward_internal(x, out=e)
        return float(_sk.residual_flat_kernel(b.reshape(-1), e.reshape(-1),
                                              inv_rows.reshape(-1), e.reshape(-1)))


class NumbaCpuBackend:
    """The numba CPU backend (the default): :class:`ParallelBeamProjector` and
    :class:`NumbaSirtOperator`.
    """

    name = "numba-cpu"

    def projector(self, volume_shape, angles_deg, n_u=None, shifts=None):
        """A :class:`ParallelBeamProjector` (validates its arguments)."""
        return ParallelBeamProjector(volume_shape, angles_deg, n_u=n_u, shifts=shifts)

    def sirt_operator(self, projector) -> NumbaSirtOperator:
        """A :class:`NumbaSirtOperator` on ``projector``."""
        return NumbaSirtOperator(projector)


# ---------------------------------------------------------------------------- registry
_REGISTRY: dict[str, Callable[[], Backend]] = {}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make ``factory()`` available as ``backend=name`` (a later call replaces it)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"a backend name must be a non-empty string, got {name!r}")
    _REGISTRY[name] = factory


def available_backends() -> list[str]:
    """Names of the registered backends."""
    return sorted(_REGISTRY)


def get_backend(name: str | None = None) -> Backend:
    """The backend registered as ``name`` (default :data:`DEFAULT_BACKEND`)."""
    name = DEFAULT_BACKEND if name is None else name
    factory = _REGISTRY.get(name) if isinstance(name, str) else None
    if factory is None:
        raise ValueError(
            f"unknown backend {name!r}; available backends: {', '.join(available_backends())}"
        )
    return factory()


register_backend(DEFAULT_BACKEND, NumbaCpuBackend)
