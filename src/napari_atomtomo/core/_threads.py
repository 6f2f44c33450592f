"""How many numba threads a call should use (PERFORMANCE.md, "threads under load").

Two numba threads ran 3-5x slower than one when another process held a core, and a
parallel launch costs more than it saves on small problems. So:

- :class:`ThreadPolicy` picks the thread count per iteration of an iterative solver
  (1 thread below :data:`PARALLEL_MIN_WORK`, else the faster of 1 and all threads, timed
  again every :data:`THREAD_RECHECK` iterations);
- :func:`threads_for` is the one-shot version for a single call (a public
  ``forward_project`` / ``back_project``);
- :func:`use_parallel_2d` tells the 2D projector kernels whether to use their parallel
  twins: from the same :data:`PARALLEL_MIN_WORK`, and only when the caller (or a
  :class:`ThreadPolicy`) allows more than one thread, so an iterative solver's timed
  choice between 1 and all threads also decides for the 2D kernels.

numba's thread count is per calling thread; everything here restores the caller's count.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numba
import numpy as np

__all__ = [
    "PARALLEL_MIN_WORK",
    "THREAD_RECHECK",
    "ThreadPolicy",
    "threads_for",
    "use_parallel_2d",
]

#: Problems with fewer voxel × tilt products run on one numba thread: there the parallel
#: launch costs more than it saves (2D 97² × 31 tilts: 4.0 ms per SIRT iteration on 1
#: thread, 6.5 ms on 2, on the shared 2-core machine, with the 3D kernels).
PARALLEL_MIN_WORK = 2_000_000

#: Larger problems time iterations on 1 and on all threads every this many iterations and
#: keep the faster (two threads ran 3x slower than one while another process held a core).
THREAD_RECHECK = 25


class ThreadPolicy:
    """Numba thread count per iteration, chosen per call.

    Small problems (``work < PARALLEL_MIN_WORK``) use 1 thread. Larger ones run the first
    4 iterations of every :data:`THREAD_RECHECK` alternately on all threads and on 1, then
    keep the faster. ``with policy:`` wraps one iteration; the caller's thread count is
    restored on exit (numba's setting is per calling thread). The numbers computed do not
    depend on the thread count except for the order of float64 reductions.
    """

    _PROBES = 4

    def __init__(self, work: int):
        self.n_max = numba.get_num_threads()
        self.small = int(work) < PARALLEL_MIN_WORK or self.n_max == 1
        self.count = 0
        self.timings: dict[int, float] = {}
        self._state: tuple[int, int, float] | None = None

    def choice(self) -> int:
        if self.small:
            return 1
        phase = self.count % THREAD_RECHECK
        if phase < self._PROBES:
            return self.n_max if phase % 2 == 0 else 1
        return min(self.timings, key=self.timings.__getitem__) if self.timings else self.n_max

    def __enter__(self):
        n = self.choice()
        self._state = (numba.get_num_threads(), n, time.perf_counter())
        numba.set_num_threads(n)
        return self

    def __exit__(self, *exc):
        previous, n, t0 = self._state
        numba.set_num_threads(previous)
        if not self.small and self.count % THREAD_RECHECK < self._PROBES:
            if self.count % THREAD_RECHECK == 0:
                self.timings = {}
            dt = time.perf_counter() - t0
            self.timings[n] = min(dt, self.timings.get(n, np.inf))
        self.count += 1
        return False


@contextmanager
def threads_for(work: int):
    """One call's thread count: 1 below :data:`PARALLEL_MIN_WORK`, else the caller's.

    Restores the caller's numba thread count on exit.
    """
    previous = numba.get_num_threads()
    if int(work) < PARALLEL_MIN_WORK:
        numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def use_parallel_2d(work: int) -> bool:
    """Whether a 2D projector call of ``work`` pixel × tilt products should run parallel."""
    return int(work) >= PARALLEL_MIN_WORK and numba.get_num_threads() > 1
