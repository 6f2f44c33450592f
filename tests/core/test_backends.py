"""Compute backends: the registry, the fused SIRT step against the unfused reference, and
that SIRT, EDS and HEBT reach the data only through the backend they are given."""

from __future__ import annotations

import numpy as np
import pytest

from napari_atomtomo.core import backends
from napari_atomtomo.core.backends import (
    DEFAULT_BACKEND,
    NumbaCpuBackend,
    available_backends,
    get_backend,
    register_backend,
)
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.hebt import HebtParams, reconstruct_hebt
from napari_atomtomo.core.projectors import ParallelBeamProjector, forward_project
from napari_atomtomo.core.sirt import SUM_FLOOR, SirtParams, reconstruct_eds, reconstruct_sirt

ANGLES = equally_sloped_angles(32, 72.6)


def _inv(sums):
    return np.where(sums >= SUM_FLOOR, 1.0 / np.maximum(sums, SUM_FLOOR), 0.0)


def reference_step(proj, x, e, b, support_t, relaxation, nonnegative):
    """One SIRT step with the unfused operator pair and NumPy (float64 weights)."""
    w = np.ones(proj.internal_volume_shape, np.float32) if support_t is None else support_t
    inv_rows = _inv(proj.forward_internal(w).astype(np.float64))
    inv_cols = _inv(proj.back_internal(np.ones(proj.internal_stack_shape, np.float32)))
    inv_cols = inv_cols * (1.0 if support_t is None else support_t)
    x = x + relaxation * inv_cols * proj.back_internal(e)
    if nonnegative:
        x = np.maximum(x, 0.0)
    d = b.astype(np.float64) - proj.forward_internal(x.astype(np.float32))
    return x, inv_rows * d, float(np.sum(d * d))


# (volume shape, n_u, support, shifts): the fused 3D path, with a support and x shifts,
# and the unfused fallbacks (a 2D slice; y shifts)
CASES = {
    "3d": ((12, 9, 11), None, False, None),
    "3d-support-nu": ((10, 7, 10), 13, True, None),
    "3d-dx-shift": ((9, 6, 9), None, False, "dx"),
    "2d": ((15, 1, 15), None, False, None),
    "3d-dy-shift": ((8, 5, 8), None, True, "dxdy"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sirt_step_equals_unfused_reference(case):
    shape, n_u, with_support, shifts = CASES[case]
    rng = np.random.default_rng(len(case))
    if shifts is not None:
        shifts = np.column_stack([
            rng.uniform(-1.5, 1.5, ANGLES.size) if "dy" in shifts else np.zeros(ANGLES.size),
            rng.uniform(-1.5, 1.5, ANGLES.size),
        ])
    proj = ParallelBeamProjector(shape, ANGLES, n_u=n_u, shifts=shifts)
    support = rng.random(shape) > 0.3 if with_support else None
    support_t = None if support is None else proj.to_internal_volume(support)
    x = proj.to_internal_volume(rng.standard_normal(shape))
    if support_t is not None:
        x *= support_t  # as SIRT starts: C is zero off the support, so x stays zero there
    e = proj.to_internal_stack(rng.standard_normal(proj.stack_shape) * 0.1)
    b = proj.to_internal_stack(rng.random(proj.stack_shape))

    op = get_backend().sirt_operator(proj)
    inv_rows, inv_cols = op.weights(support_t)
    x_ref, e_ref, ss_ref = reference_step(proj, x, e, b, support_t, 1.3, True)
    op.back_update(e, inv_cols, 1.3, True, x)
    ss = op.forward_residual(x, b, inv_rows, e)

    np.testing.assert_allclose(x, x_ref, rtol=1e-5, atol=1e-5 * np.abs(x_ref).max())
    np.testing.assert_allclose(e, e_ref, rtol=1e-5, atol=1e-5 * np.abs(e_ref).max())
    assert ss == pytest.approx(ss_ref, rel=1e-5)
    assert np.all(x >= 0.0)
    if support is not None:
        assert np.all(x[support_t == 0] == 0.0)


def test_fused_path_needs_no_volume_sized_scratch_and_compact_weights():
    """Without a support the weights are one slice each; the 3D step makes no scratch."""
    proj = ParallelBeamProjector((8, 6, 8), ANGLES)
    op = get_backend().sirt_operator(proj)
    inv_rows, inv_cols = op.weights()
    assert inv_rows.shape == (ANGLES.size, 8, 1) and inv_cols.shape == (8, 8, 1)
    full_rows = _inv(proj.forward_internal(np.ones(proj.internal_volume_shape, np.float32)))
    np.testing.assert_allclose(np.broadcast_to(inv_rows, full_rows.shape), full_rows, rtol=1e-6)
    x = proj.new_internal_volume()
    e = proj.to_internal_stack(np.ones(proj.stack_shape))
    op.back_update(e, inv_cols, 1.0, True, x)
    op.forward_residual(x, e.copy(), inv_rows, e)
    assert op._scratch == {}


# ------------------------------------------------------------------------------ registry
def test_registry_has_the_numba_cpu_backend_as_default():
    assert DEFAULT_BACKEND == "numba-cpu"
    assert "numba-cpu" in available_backends()
    assert isinstance(get_backend(), NumbaCpuBackend)
    assert get_backend("numba-cpu").name == "numba-cpu"


@pytest.mark.parametrize("name", ["cuda", "", None, 3])
def test_unknown_backend_is_one_sentence(name):
    if name is None:
        assert isinstance(get_backend(None), NumbaCpuBackend)
        return
    with pytest.raises(ValueError, match=r"unknown backend .*; available backends: numba-cpu"):
        get_backend(name)


def test_unknown_backend_is_refused_before_any_work():
    stack = np.ones((ANGLES.size, 2, 6), np.float32)
    with pytest.raises(ValueError, match="unknown backend 'cupy'"):
        reconstruct_sirt(stack, ANGLES, SirtParams(n_iter=1), backend="cupy")
    with pytest.raises(ValueError, match="unknown backend 'cupy'"):
        reconstruct_hebt(stack, {"Ag": stack}, ANGLES, HebtParams(n_iter=1), backend="cupy")
    with pytest.raises(ValueError, match="a backend name must be a non-empty string"):
        register_backend("", NumbaCpuBackend)


class CountingBackend(NumbaCpuBackend):
    """The numba backend with a call count on every operation the solvers may use."""

    name = "counting"
    calls: dict[str, int] = {}

    def projector(self, *args, **kwargs):
        proj = super().projector(*args, **kwargs)
        calls = self.calls

        class Counted(type(proj)):
            def forward_internal(self, *a, **k):
                calls["forward"] = calls.get("forward", 0) + 1
                return super().forward_internal(*a, **k)

            def back_internal(self, *a, **k):
                calls["back"] = calls.get("back", 0) + 1
                return super().back_internal(*a, **k)

        proj.__class__ = Counted
        return proj

    def sirt_operator(self, projector):
        op = super().sirt_operator(projector)
        calls = self.calls
        for name in ("weights", "back_update", "forward_residual"):
            method = getattr(op, name)

            def counted(*a, _m=method, _n=name, **k):
                calls[_n] = calls.get(_n, 0) + 1
                return _m(*a, **k)

            setattr(op, name, counted)
        return op


@pytest.fixture
def counting():
    CountingBackend.calls = {}
    register_backend("counting", CountingBackend)
    yield CountingBackend.calls
    backends._REGISTRY.pop("counting")


def _phantom_stack(shape=(12, 3, 12), seed=0):
    rng = np.random.default_rng(seed)
    vol = rng.random(shape).astype(np.float32)
    return vol, forward_project(vol, ANGLES)


def test_sirt_and_eds_run_through_the_given_backend(counting):
    _, stack = _phantom_stack()
    params = SirtParams(n_iter=4, yield_every=2)
    ours = reconstruct_sirt(stack, ANGLES, params, backend="counting")
    assert counting == {"weights": 1, "forward_residual": 4, "back_update": 4}  # x0 = 0: none in set-up
    default = reconstruct_sirt(stack, ANGLES, params)
    np.testing.assert_array_equal(ours.volume, default.volume)
    np.testing.assert_array_equal(ours.residuals, default.residuals)
    counting.clear()
    maps = reconstruct_eds({"Ag": stack, "Au": 2 * stack}, ANGLES, params, backend="counting")
    assert counting == {"weights": 2, "forward_residual": 8, "back_update": 8}
    np.testing.assert_allclose(maps["Au"], 2 * maps["Ag"], rtol=1e-5, atol=1e-6)


def test_hebt_runs_through_the_given_backend(counting):
    _, haadf = _phantom_stack(seed=1)
    _, ag = _phantom_stack(seed=2)
    eds = {"Ag": ag, "Au": haadf}
    params = HebtParams(alpha=0.5, n_iter=3, yield_every=3)
    ratios = {"Ag": 1.0, "Au": 2.0}
    ours = reconstruct_hebt(haadf, eds, ANGLES, params, ratios=ratios, backend="counting")
    # per iteration one fused back projection + update per element and one forward each
    assert counting["weights"] == 1
    assert counting["back_update"] == 3 * 2
    assert counting["forward"] == 3 * 2
    default = reconstruct_hebt(haadf, eds, ANGLES, params, ratios=ratios)
    for el in eds:
        np.testing.assert_array_equal(ours.maps[el], default.maps[el])
