"""Parallel-beam projection about the ``y`` axis, and its exact adjoint.

``forward_project(volume, angles)`` turns a volume ``(z, y, x)`` into a tilt series
``(angle, y, x)``; ``back_project(stack, angles)`` is its exact adjoint
(``<A x, y> = <x, Aᵀ y>`` to float rounding). Geometry as in CONVENTIONS.md:
a point at ``(x, y, z)`` relative to the volume centre lands on ``u = x cos θ + z sin θ``.

Iterative solvers should hold a :class:`ParallelBeamProjector` and work in its internal
layout (``to_internal_volume`` / ``forward_internal`` / ``back_internal``): the tilt axis
is innermost there, which makes every kernel a contiguous axpy, and converting once on
entry and exit avoids a transpose per iteration.

A 2D problem (``n_y == 1``) keeps the same internal shapes, ``(z, x, 1)`` and
``(angle, u, 1)``, which are plain ``(z, x)`` and ``(angle, u)`` arrays in memory; the
operators then dispatch to scalar 2D kernels (single-threaded unless the problem is large,
see :mod:`._threads`): the forward projection is bit-identical to the 3D kernel's, the
back projection (scatter form, the exact transpose) equal to it to float rounding.
"""

from __future__ import annotations

import numba
import numpy as np

from . import _projector_kernels as _k
from . import _validate, config
from ._refs import PAPER_000, PAPER_002, cites
from ._threads import PARALLEL_MIN_WORK, threads_for, use_parallel_2d
from .geometry import validate_angles, validate_shifts

__all__ = [
    "ParallelBeamProjector",
    "forward_project",
    "back_project",
    "flush_denormals",
    "DENORMAL_FLOOR",
]

#: Values with a smaller magnitude are flushed to zero on entry (:mod:`.config`).
DENORMAL_FLOOR = config.DENORMAL_FLOOR


def flush_denormals(array: np.ndarray, floor: float = DENORMAL_FLOOR) -> np.ndarray:
    """Set entries with ``|v| < floor`` to zero in place and return ``array``.

    ``array`` must be a C-contiguous float32 array (as every internal array is); no
    temporary of its size is made.
    """
    if array.dtype != np.float32 or not array.flags.c_contiguous:
        raise ValueError(
            f"flush_denormals needs a C-contiguous float32 array, got dtype {array.dtype}"
            f" (C-contiguous: {array.flags.c_contiguous})"
        )
    if array.size >= PARALLEL_MIN_WORK:
        _k.flush_denormals_kernel(array.reshape(-1), float(floor))
    elif array.size:
        # a parallel launch on a small array costs more than the pass (10-20 ms with two
        # threads on a loaded machine for a 97² slice, against 10 µs on one)
        _k.flush_denormals_serial_kernel(array.reshape(-1), float(floor))
    return array


def _as_float32_flushed(a: np.ndarray) -> np.ndarray:
    # order="C" matters: the default order "K" keeps a transposed view's strides, which
    # left the "internal" arrays with y outermost in memory and made the kernels 2-5x slower.
    out = np.array(a, dtype=np.float32, order="C", copy=True)
    return flush_denormals(out)


def _to_internal(a, expected: tuple, what: str) -> np.ndarray:
    """Shape-checked float32 ``(n, x, y)`` copy of ``a`` ``(n, y, x)``, denormals flushed."""
    a = np.asarray(a)
    if a.shape != expected:
        raise ValueError(f"{what} has shape {a.shape} but the projector expects {expected}")
    return _as_float32_flushed(a.transpose(0, 2, 1))


def _check_real(a: np.ndarray, name: str) -> None:
    _validate.check_real(a, name, allow_bool=True)


class ParallelBeamProjector:
    """Joseph (linear-interpolation) projector pair for one tilt geometry.

    Parameters
    ----------
    volume_shape : tuple of int
        ``(n_z, n_y, n_x)`` of the volume.
    angles_deg : array_like
        Tilt angles θ in degrees (stack order).
    n_u : int, optional
        Detector columns; default ``n_x``.
    shifts : array_like, optional
        ``(n_angles, 2)`` per-image displacements ``(dy, dx)`` in pixels: the object's
        projection appears at ``(v + dy, u + dx)`` in image ``a``. The ``x`` part is exact
        (it moves the detector), the ``y`` part is a linear interpolation along the
        tilt axis (exact adjoint too).
    """

    def __init__(self, volume_shape, angles_deg, n_u: int | None = None, shifts=None):
        try:
            shape = tuple(int(n) for n in volume_shape)
        except (TypeError, ValueError):
            shape = ()
        if len(shape) != 3 or min(shape) < 1 or shape != tuple(volume_shape):
            raise ValueError(
                f"volume_shape must be (n_z, n_y, n_x) with positive sizes, got {volume_shape!r}"
            )
        self.volume_shape = shape
        self.angles_deg = validate_angles(angles_deg)
        self.n_u = int(n_u) if n_u is not None else shape[2]
        if self.n_u < 1 or (n_u is not None and self.n_u != n_u):
            raise ValueError(f"n_u must be a positive integer, got {n_u!r}")
        theta = np.radians(self.angles_deg)
        self._cos = np.cos(theta)
        self._sin = np.sin(theta)
        n_a = self.angles_deg.size
        s = np.zeros((n_a, 2)) if shifts is None else validate_shifts(shifts, n_a)
        self._dv = np.ascontiguousarray(s[:, 0])
        self._du = np.ascontiguousarray(s[:, 1])
        self._has_dv = bool(np.any(self._dv != 0.0))

    # ------------------------------------------------------------------ shapes
    @property
    def n_angles(self) -> int:
        """Number of tilt angles."""
        return self.angles_deg.size

    @property
    def stack_shape(self) -> tuple[int, int, int]:
        """Public tilt-series shape ``(angle, y, x)``."""
        return (self.n_angles, self.volume_shape[1], self.n_u)

    @property
    def internal_volume_shape(self) -> tuple[int, int, int]:
        """Shape of the kernels' volume buffer, ``(z, x, y)``."""
        n_z, n_y, n_x = self.volume_shape
        return (n_z, n_x, n_y)

    @property
    def internal_stack_shape(self) -> tuple[int, int, int]:
        """Shape of the kernels' stack buffer, ``(angle, u, y)``."""
        return (self.n_angles, self.n_u, self.volume_shape[1])

    # ------------------------------------------------------------------ layout
    def to_internal_volume(self, volume: np.ndarray) -> np.ndarray:
        """``(z, y, x)`` -> contiguous float32 ``(z, x, y)`` (a copy, denormals flushed)."""
        return _to_internal(volume, self.volume_shape, "volume")

    def from_internal_volume(self, vol_t: np.ndarray) -> np.ndarray:
        """Contiguous ``(z, y, x)`` copy of an internal volume (always a new array)."""
        return vol_t.transpose(0, 2, 1).copy(order="C")

    def release_internal_volume(self, vol_t: np.ndarray) -> np.ndarray:
        """The ``(z, y, x)`` volume of ``vol_t``, made in ``vol_t``'s own memory.

        For a solver's last result: no copy of the volume is made (the slabs are
        transposed in place), and ``vol_t`` must not be used as an internal volume again.
        """
        n_z, n_y, n_x = self.volume_shape
        if vol_t.shape != self.internal_volume_shape or vol_t.dtype != np.float32 or \
                not vol_t.flags.c_contiguous:
            raise ValueError(
                f"vol_t must be a C-contiguous float32 internal volume of shape "
                f"{self.internal_volume_shape}, got {vol_t.dtype} {vol_t.shape}"
            )
        flat = vol_t.reshape(-1)
        if n_y > 1 and n_x > 1:
            _k.transpose_slabs_inplace_kernel(flat, n_z, n_x, n_y)
        return flat.reshape(n_z, n_y, n_x)

    def to_internal_stack(self, stack: np.ndarray) -> np.ndarray:
        """``(angle, y, x)`` -> contiguous float32 ``(angle, x, y)`` (a copy)."""
        return _to_internal(stack, self.stack_shape, "tilt series")

    def from_internal_stack(self, stk_t: np.ndarray) -> np.ndarray:
        """Contiguous ``(angle, y, x)`` copy of an internal stack (always a new array)."""
        return stk_t.transpose(0, 2, 1).copy(order="C")

    def new_internal_volume(self) -> np.ndarray:
        """A zeroed float32 volume in the kernels' layout."""
        return np.zeros(self.internal_volume_shape, dtype=np.float32)

    def new_internal_stack(self) -> np.ndarray:
        """A zeroed float32 stack in the kernels' layout."""
        return np.zeros(self.internal_stack_shape, dtype=np.float32)

    # ------------------------------------------------------------------ operators
    def _internal_input(self, arr: np.ndarray, shape, name: str) -> np.ndarray:
        if arr.shape != shape:
            raise ValueError(
                f"{name} has shape {arr.shape} but the projector expects the internal shape {shape}"
            )
        if arr.dtype != np.float32 or not arr.flags.c_contiguous:
            # the kernels are compiled (and fast) for C-contiguous float32 only
            return np.ascontiguousarray(arr, dtype=np.float32)
        return arr

    def _internal_output(self, out, shape, name: str) -> np.ndarray:
        if out is None:
            return np.empty(shape, dtype=np.float32)
        if out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
            raise ValueError(
                f"out must be a C-contiguous float32 {name} of shape {shape} (see "
                f"new_internal_{name}()), got {out.dtype} {out.shape}"
            )
        return out

    def forward_internal(self, vol_t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """A·x in the internal layout. ``out`` (internal stack) is overwritten.

        ``vol_t`` and ``out`` should be C-contiguous float32 arrays of the internal shapes
        (as made by ``to_internal_volume`` / ``new_internal_stack``); another ``vol_t``
        layout costs a converted copy, a wrong ``out`` raises ``ValueError``.
        """
        vol_t = self._internal_input(vol_t, self.internal_volume_shape, "internal volume")
        out = self._internal_output(out, self.internal_stack_shape, "stack")
        n_z, n_y, n_x = self.volume_shape
        if n_y == 1:  # a 2D problem: the internal arrays are plain (z, x) and (angle, u)
            kernel = _k.forward_kernel_2d_parallel if self._parallel_2d() else _k.forward_kernel_2d
            kernel(vol_t.reshape(n_z, n_x), self._cos, self._sin, self._du,
                   out.reshape(self.n_angles, self.n_u))
        else:
            _k.forward_kernel(vol_t, self._cos, self._sin, self._du, self.n_u, out)
        if self._has_dv:
            shifted = np.empty_like(out)
            _k.shift_rows_kernel(out, self._dv, shifted, 1)
            out[...] = shifted
        return out

    def back_internal(self, stk_t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Aᵀ·y in the internal layout. ``out`` (internal volume) is overwritten.

        Same layout rules as :meth:`forward_internal`.
        """
        stk_t = self._internal_input(stk_t, self.internal_stack_shape, "internal stack")
        out = self._internal_output(out, self.internal_volume_shape, "volume")
        if self._has_dv:
            unshifted = np.empty_like(stk_t)
            _k.shift_rows_kernel(stk_t, self._dv, unshifted, -1)
            stk_t = unshifted
        n_z, n_y, n_x = self.volume_shape
        if n_y == 1:
            args = (stk_t.reshape(self.n_angles, self.n_u), self._cos, self._sin, self._du,
                    out.reshape(n_z, n_x))
            if self._parallel_2d():
                _k.back_kernel_2d_parallel(*args, numba.get_num_threads())
            else:
                _k.back_kernel_2d(*args)
        else:
            _k.back_kernel(stk_t, self._cos, self._sin, self._du, n_x, n_z, out)
        return out

    def _parallel_2d(self) -> bool:
        n_z, _, n_x = self.volume_shape
        return use_parallel_2d(n_z * max(n_x, self.n_u) * self.n_angles)

    @property
    def work(self) -> int:
        """Voxel × tilt products of one projection (what the thread choice is based on)."""
        return int(np.prod(self.volume_shape)) * self.n_angles

    def forward(self, volume: np.ndarray) -> np.ndarray:
        """Project a ``(z, y, x)`` volume to an ``(angle, y, x)`` float32 tilt series."""
        return self.from_internal_stack(self.forward_internal(self.to_internal_volume(volume)))

    def back(self, stack: np.ndarray) -> np.ndarray:
        """Back project an ``(angle, y, x)`` tilt series to a ``(z, y, x)`` float32 volume."""
        return self.from_internal_volume(self.back_internal(self.to_internal_stack(stack)))


def _check_volume(volume) -> np.ndarray:
    return _validate.check_volume(volume, allow_bool=True)


def _check_stack(stack) -> np.ndarray:
    return _validate.check_stack(stack, allow_bool=True)


@cites(PAPER_000, PAPER_002)
def forward_project(volume, angles_deg, *, n_u: int | None = None, shifts=None) -> np.ndarray:
    """Parallel-beam forward projection of ``volume`` ``(z, y, x)`` about ``y``.

    Joseph's method (linear interpolation along each ray), the projector that the SIRT and
    HEBT reconstructions of paper 002 [2]_ iterate with, and that simulates the tilt series of
    paper 000 [1]_.

    Parameters
    ----------
    volume : ndarray, shape (z, y, x)
        The object, in any real dtype (computed in float32).
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees about the ``y`` axis (docs/conventions.md).
    n_u : int, optional
        Detector columns; default ``n_x``.
    shifts : array_like, shape (angle, 2), optional
        Per-image ``(dy, dx)`` in pixels by which each projection is displaced, as for
        :class:`ParallelBeamProjector`.

    Returns
    -------
    ndarray, shape (angle, y, u), float32
        Line integrals in voxel lengths.
    """
    v = _check_volume(volume)
    projector = ParallelBeamProjector(v.shape, angles_deg, n_u=n_u, shifts=shifts)
    with threads_for(projector.work):
        return projector.forward(v)


@cites(PAPER_000, PAPER_002)
def back_project(stack, angles_deg, *, volume_shape=None, shifts=None) -> np.ndarray:
    """Exact adjoint of :func:`forward_project`.

    ``<forward_project(v), s> == <v, back_project(s)>`` to float32 precision, so that SIRT
    (paper 002 [2]_, Eq. 7) converges as analysed.

    Parameters
    ----------
    stack : ndarray, shape (angle, y, u)
        Tilt series (or a residual) to smear back.
    angles_deg : array_like, shape (angle,)
        Tilt angles in degrees about ``y``.
    volume_shape : tuple of int, optional
        ``(z, y, x)``; defaults to ``(n_u, n_y, n_u)`` (docs/conventions.md:
        ``n_x = n_z = n_u``).
    shifts : array_like, shape (angle, 2), optional
        Per-image ``(dy, dx)`` in pixels, as given to :func:`forward_project`.

    Returns
    -------
    ndarray, shape (z, y, x), float32
        The back-projected volume.
    """
    s = _check_stack(stack)
    n_a, n_y, n_u = s.shape
    validate_angles(angles_deg, n_images=n_a)
    if volume_shape is None:
        volume_shape = (n_u, n_y, n_u)
    if len(volume_shape) != 3:
        raise ValueError(f"volume_shape must be (n_z, n_y, n_x), got {tuple(volume_shape)!r}")
    if int(volume_shape[1]) != n_y:
        raise ValueError(
            f"volume_shape {tuple(volume_shape)} has n_y={volume_shape[1]} but the tilt series "
            f"has {n_y} rows"
        )
    projector = ParallelBeamProjector(volume_shape, angles_deg, n_u=n_u, shifts=shifts)
    with threads_for(projector.work):
        return projector.back(s)
