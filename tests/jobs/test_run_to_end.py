"""Every ``iter_*`` returns its result; ``run_to_end`` and ``map_states`` keep it."""

from __future__ import annotations

import numpy as np
import pytest

from napari_atomtomo.core.hebt import HebtParams, iter_hebt, reconstruct_hebt
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.core.sirt import SirtParams, iter_sirt, reconstruct_sirt
from napari_atomtomo.jobs import map_states, run_to_end

ANGLES = np.linspace(-60, 60, 9)


def _gen(n, result):
    yield from range(n)
    return result


def test_run_to_end_returns_the_value_and_reports_every_state():
    seen = []
    assert run_to_end(_gen(3, "done"), seen.append) == "done"
    assert seen == [0, 1, 2]


def test_run_to_end_closes_the_generator_when_progress_raises():
    closed = []

    def gen():
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    def cancel(state):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_to_end(gen(), cancel)
    assert closed == [True]


def test_map_states_relabels_and_keeps_the_result():
    def outer():
        return (yield from map_states(_gen(2, 7), lambda s: s * 10))

    seen = []
    assert run_to_end(outer(), seen.append) == 7 and seen == [0, 10]


def test_iter_sirt_and_iter_hebt_return_what_reconstruct_returns():
    vol = np.zeros((8, 1, 8), np.float32)
    vol[2:6, 0, 3:5] = 1.0
    stack = forward_project(vol, ANGLES)
    params = SirtParams(n_iter=5, yield_every=2)
    sirt = run_to_end(iter_sirt(stack, ANGLES, params))
    ref = reconstruct_sirt(stack, ANGLES, params)
    np.testing.assert_array_equal(sirt.volume, ref.volume)
    np.testing.assert_array_equal(sirt.residuals, ref.residuals)
    assert sirt.residuals.size == 5

    eds = {"Ag": stack / 800.0, "Au": stack / 900.0}
    hp = HebtParams(alpha=0.5, n_iter=4, yield_every=3)
    hebt = run_to_end(iter_hebt(2 * stack, eds, ANGLES, hp))
    ref_h = reconstruct_hebt(2 * stack, eds, ANGLES, hp)
    assert hebt.ratios == ref_h.ratios and hebt.residuals.size == 4
    for el in eds:
        np.testing.assert_array_equal(hebt.maps[el], ref_h.maps[el])
