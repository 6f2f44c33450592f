"""The SIRT / HEBT widget's chunked job (``--chunks``/``--scheduler`` as a job; issue 16)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_atomtomo.core._generators import run_to_end
from napari_atomtomo.core.geometry import equally_sloped_angles
from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.core.sirt import SirtParams
from napari_atomtomo.jobs.chunked import ChunkedState, iter_reconstruction_chunked, n_slabs
from napari_atomtomo.jobs.reconstruction import iter_reconstruction


@pytest.fixture(scope="module")
def series():
    rng = np.random.default_rng(0)
    vol = np.zeros((24, 10, 24), np.float32)
    vol[6:18, :, 8:16] = rng.uniform(0.5, 1.0, (12, 10, 8)).astype(np.float32)
    angles = equally_sloped_angles(8, 60.0)
    return forward_project(vol, angles), angles


def test_slabs_give_the_in_memory_sirt_with_a_state_per_slab(series):
    stack, angles = series
    params = SirtParams(n_iter=10)
    states = []
    chunked = run_to_end(iter_reconstruction_chunked("sirt", {"sirt": stack}, angles, params,
                                                     chunks=4), states.append)
    assert states == [ChunkedState(i, 3) for i in (1, 2, 3)]  # 10 rows: 4 + 4 + 2
    whole = run_to_end(iter_reconstruction("sirt", {"sirt": stack}, angles, params))
    assert list(chunked.maps) == ["sirt"]
    np.testing.assert_allclose(chunked.maps["sirt"], whole.maps["sirt"], atol=1e-4)
    assert len(chunked.residuals["sirt"]) == 10


def test_closing_the_job_stops_it_after_the_current_slab(series):
    stack, angles = series
    gen = iter_reconstruction_chunked("sirt", {"sirt": stack}, angles, SirtParams(n_iter=5),
                                      chunks=1)
    assert next(gen) == ChunkedState(1, 10)
    gen.close()  # returns once the run has stopped (after at most one more slab)
    with pytest.raises(StopIteration):
        next(gen)


def test_bad_chunks_are_refused():
    with pytest.raises(ValueError, match="chunks must be a number of rows >= 1, got 0"):
        n_slabs(10, 0)
