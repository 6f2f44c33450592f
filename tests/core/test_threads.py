"""Thread-count choices: restored after use, 1 thread for small problems."""

from __future__ import annotations

import numba
import numpy as np

from napari_atomtomo.core import _threads
from napari_atomtomo.core._threads import (
    PARALLEL_MIN_WORK,
    ThreadPolicy,
    threads_for,
    use_parallel_2d,
)
from napari_atomtomo.core.projectors import back_project, forward_project


def test_threads_for_uses_one_thread_on_small_problems_and_restores():
    before = numba.get_num_threads()
    with threads_for(PARALLEL_MIN_WORK - 1):
        assert numba.get_num_threads() == 1
        assert not use_parallel_2d(10 * PARALLEL_MIN_WORK)
    assert numba.get_num_threads() == before
    with threads_for(PARALLEL_MIN_WORK):
        assert numba.get_num_threads() == before
    try:
        with threads_for(0):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert numba.get_num_threads() == before


def test_use_parallel_2d_needs_size_and_threads():
    assert not use_parallel_2d(PARALLEL_MIN_WORK - 1)
    assert use_parallel_2d(PARALLEL_MIN_WORK) == (numba.get_num_threads() > 1)


def test_public_projectors_restore_the_callers_thread_count():
    before = numba.get_num_threads()
    vol = np.ones((5, 2, 5), np.float32)
    stack = forward_project(vol, [0.0, 45.0])
    back_project(stack, [0.0, 45.0], volume_shape=vol.shape)
    assert numba.get_num_threads() == before


def test_thread_policy_probes_then_keeps_the_faster():
    policy = ThreadPolicy(PARALLEL_MIN_WORK)
    n = policy.n_max
    seen = []
    for _ in range(_threads.THREAD_RECHECK + 2):
        with policy:
            seen.append(numba.get_num_threads())
    if n > 1:
        assert seen[:4] == [n, 1, n, 1]
        assert seen[4] in (1, n) and seen[_threads.THREAD_RECHECK] == n  # probes again
    else:
        assert set(seen) == {1}
    assert ThreadPolicy(PARALLEL_MIN_WORK - 1).choice() == 1
