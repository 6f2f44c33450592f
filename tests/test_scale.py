"""The chunked path (napari_atomtomo.scale) reproduces the in-memory results.

Each algorithm runs in y-slabs on threads and on a dask.distributed LocalCluster of two
worker processes (created once for this module) and is compared with the in-memory
function on the same small data (≤ 40 px).
"""

from __future__ import annotations

import numpy as np
import pytest
from blob_volumes import random_blobs

from napari_atomtomo.core.est import (
    EstParams,
    GriddingParams,
    reconstruct_est,
    reconstruct_fourier_gridding,
)
from napari_atomtomo.core.hebt import HebtParams, reconstruct_hebt
from napari_atomtomo.core.projectors import ParallelBeamProjector
from napari_atomtomo.core.sirt import SirtParams, reconstruct_eds, reconstruct_sirt
from napari_atomtomo.core.trace import TraceParams, trace_atoms
from napari_atomtomo.scale import (
    plan_chunks,
    reconstruct_eds_chunked,
    reconstruct_est_chunked,
    reconstruct_gridding_chunked,
    reconstruct_hebt_chunked,
    reconstruct_sirt_chunked,
    trace_atoms_chunked,
)

#: A dask LocalCluster of two processes starts here: kept out of `make test-fast`.
pytestmark = pytest.mark.slow

TOL = 1e-5


def equally_sloped(n_slopes: int = 16) -> np.ndarray:
    """The 2N+... equally sloped angles of CONVENTIONS.md for an N-slope grid (N=16: 31)."""
    h = n_slopes // 2
    k = np.arange(-h, h + 1)
    inner = np.degrees(np.arctan(k / h))
    kk = np.arange(h // 3 + 1, h)
    outer = np.degrees(np.arctan2(h, kk))
    return np.sort(np.concatenate([inner, outer, -outer]))


@pytest.fixture(scope="module")
def client():
    import dask

    distributed = pytest.importorskip("distributed")
    # a loaded CI machine can take long to spawn the two worker processes: wait for them
    # (generous limits, so that slowness never fails a test) instead of dask's 30 s
    slow = {"distributed.comm.timeouts.connect": "300s", "distributed.comm.timeouts.tcp": "300s",
            "distributed.scheduler.worker-ttl": None}
    with dask.config.set(slow):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        c = distributed.Client(cluster, timeout="300s")
        yield c
        c.close()
        cluster.close()


@pytest.fixture(scope="module")
def phantom():
    """Blocks of two 'elements' in a 32 × 24 × 32 volume (rows 0–2 empty: a zero slab)."""
    rng = np.random.default_rng(7)
    vols = {el: np.zeros((32, 24, 32), np.float32) for el in ("Ag", "Au")}
    for i in range(24):
        el = ("Ag", "Au")[i % 2]
        z, y, x = rng.integers(8, 24), rng.integers(4, 22), rng.integers(8, 24)
        vols[el][z - 2:z + 2, y - 2:y + 2, x - 2:x + 2] += rng.uniform(0.5, 1.0)
    return vols


@pytest.fixture(scope="module")
def series(phantom):
    angles = np.linspace(-70, 70, 21)
    proj = ParallelBeamProjector((32, 24, 32), angles, n_u=32)
    eds = {el: proj.forward(v) for el, v in phantom.items()}
    haadf = 0.8 * eds["Ag"] + 1.2 * eds["Au"]
    return haadf, eds, angles


def _where(request, where):
    """None (threads) or the module's cluster client (created only when a test needs it)."""
    return None if where == "threads" else request.getfixturevalue("client")


@pytest.mark.parametrize("where", ["threads", "cluster"])
def test_sirt_chunked_equals_in_memory(series, request, where):
    haadf, _, angles = series
    params = SirtParams(n_iter=12)
    support = np.zeros((32, 24, 32), bool)
    support[4:28, :, 4:28] = True
    shifts = np.zeros((angles.size, 2))
    shifts[:, 1] = np.linspace(-0.5, 0.5, angles.size)  # dx only: rows stay independent
    ref = reconstruct_sirt(haadf, angles, params, support=support, shifts=shifts)
    got = reconstruct_sirt_chunked(haadf, angles, params, support=support, shifts=shifts,
                                   chunks=5, scheduler=_where(request, where))
    assert got.n_slabs == 5
    np.testing.assert_allclose(got.volume, ref.volume, atol=TOL * float(ref.volume.max()))
    np.testing.assert_allclose(got.residuals, ref.residuals, rtol=1e-5)


def test_eds_and_gridding_chunked_equal_in_memory(series):
    _, eds, angles = series
    params = SirtParams(n_iter=6)
    ref = reconstruct_eds(eds, angles, params)
    got = reconstruct_eds_chunked(eds, angles, params, chunks=7, workers=2)
    for el in eds:
        np.testing.assert_allclose(got.maps[el], ref[el], atol=TOL * float(ref[el].max()))
    gp = GriddingParams(n_iter=4, n_iter_tight=4)
    ref_g = reconstruct_fourier_gridding(eds["Au"], angles, gp)
    got_g = reconstruct_gridding_chunked(eds["Au"], angles, gp, chunks=6)
    np.testing.assert_allclose(got_g.volume, ref_g.volume,
                               atol=TOL * float(np.abs(ref_g.volume).max()))


@pytest.mark.parametrize("where", ["threads", "cluster"])
def test_hebt_chunked_equals_in_memory_with_fitted_ratios(series, request, where):
    haadf, eds, angles = series
    params = HebtParams(alpha=0.6, n_iter=10)
    ref = reconstruct_hebt(haadf, eds, angles, params)
    got = reconstruct_hebt_chunked(haadf, eds, angles, params, chunks=8,
                                   scheduler=_where(request, where))
    assert got.extra["ratios"] == pytest.approx(ref.ratios)
    for el in eds:
        np.testing.assert_allclose(got.maps[el], ref.maps[el],
                                   atol=TOL * float(ref.maps[el].max()))
    np.testing.assert_allclose(got.residuals, ref.residuals, rtol=1e-5)


@pytest.mark.parametrize("where", ["threads", "cluster"])
def test_est_chunked_equals_in_memory_with_tight_support(phantom, request, where):
    angles = equally_sloped(32)  # the 55 angles of CONVENTIONS.md
    vol = phantom["Au"] + phantom["Ag"]
    stack = ParallelBeamProjector(vol.shape, angles, n_u=32).forward(vol)
    params = EstParams(n_iter=8, n_iter_tight=8)
    ref = reconstruct_est(stack, angles, params)
    got = reconstruct_est_chunked(stack, angles, params, chunks=6,
                                  scheduler=_where(request, where))
    assert got.extra["halo_rows"] > 0 and got.extra["support_top"] > 0
    np.testing.assert_allclose(got.volume, ref.volume, atol=TOL * float(ref.volume.max()))


@pytest.fixture(scope="module")
def blobs():
    return random_blobs(36, 50)


@pytest.mark.parametrize("where", ["threads", "cluster"])
def test_trace_chunked_finds_the_same_atoms_once(blobs, request, where):
    import dask.array as da

    params = TraceParams(elements=("Au", "Ag"))
    ref = trace_atoms(blobs, 0.5, params)
    lazy = da.from_array(blobs, chunks=(36, 8, 36))
    # chunks of 5 rows: many atoms sit on or next to a chunk border
    got = trace_atoms_chunked(lazy if where == "threads" else blobs, 0.5, params, chunks=5,
                              scheduler=_where(request, where))
    assert len(ref.atoms) > 30
    assert got.counts == ref.counts
    np.testing.assert_array_equal(got.atoms.elements, ref.atoms.elements)
    np.testing.assert_allclose(got.atoms.positions, ref.atoms.positions, atol=1e-9)
    assert got.auto["chunked"]["n_chunks"] == 8


def test_plan_chooses_chunks_when_the_estimate_does_not_fit(monkeypatch):
    from napari_atomtomo.scale import _plan

    monkeypatch.setattr(_plan, "available_bytes", lambda: 8 * 2**30)
    big = plan_chunks((55, 1024, 1024))
    assert big.chunked and big.slab == 64 and big.n_slabs == 16
    assert "in memory it would need" in big.reason
    small = plan_chunks((55, 100, 100))
    assert not small.chunked and "automatic" in small.reason
    forced = plan_chunks((55, 100, 100), chunks=16)
    assert forced.chunked and forced.n_slabs == 7 and "forced" in forced.reason
    with pytest.raises(ValueError, match="chunks must be"):
        plan_chunks((55, 100, 100), chunks=-2)
    # one row of 400000² voxels cannot fit: no slab height helps, the memory check refuses
    wide = plan_chunks((5, 8, 400_000))
    assert not wide.chunked and "slabs cannot help" in wide.reason


def test_dy_shifts_are_refused_by_the_chunked_path(series):
    haadf, _, angles = series
    shifts = np.zeros((angles.size, 2))
    shifts[3, 0] = 1.0
    with pytest.raises(ValueError, match="non-zero dy"):
        reconstruct_sirt_chunked(haadf, angles, SirtParams(n_iter=1), shifts=shifts, chunks=4)


def test_sirt_chunked_reads_a_lazy_mrc_and_writes_ome_zarr(series, tmp_path):
    from napari_atomtomo import io
    from napari_atomtomo.io.lazy import read_tilt_series_lazy
    from napari_atomtomo.io.omezarr import OmeZarrWriter, read_ome_zarr

    haadf, _, angles = series
    io.write_tilt_series(tmp_path / "s.mrc", haadf, angles, 0.5)
    ts = read_tilt_series_lazy(tmp_path / "s.mrc", rows=8)
    assert not isinstance(ts.data, np.ndarray) and ts.data.chunks[1] == (8, 8, 8)
    params = SirtParams(n_iter=5)
    ref = reconstruct_sirt(haadf, angles, params)
    with OmeZarrWriter(tmp_path / "v.zarr", (32, 24, 32), 0.5, levels=2) as w:
        reconstruct_sirt_chunked(ts.data, ts.angles_deg, params, chunks=8, out=w)
    vol, vs = read_ome_zarr(tmp_path / "v.zarr")
    assert vs == 0.5
    np.testing.assert_allclose(vol, ref.volume, atol=TOL * float(ref.volume.max()))


def test_cluster_workers_read_a_lazy_mrc_themselves(series, client, tmp_path):
    from napari_atomtomo import io
    from napari_atomtomo.io.lazy import read_tilt_series_lazy

    haadf, _, angles = series
    io.write_tilt_series(tmp_path / "s.mrc", haadf, angles, 0.5)
    ts = read_tilt_series_lazy(tmp_path / "s.mrc", rows=8)
    params = SirtParams(n_iter=4)
    ref = reconstruct_sirt(haadf, angles, params)
    got = reconstruct_sirt_chunked(ts.data, ts.angles_deg, params, chunks=8, scheduler=client)
    assert "dask.distributed" in got.scheduler
    np.testing.assert_allclose(got.volume, ref.volume, atol=TOL * float(ref.volume.max()))
