"""OME-Zarr and lazy readers, the chunked CLI, and napari's lazy opening of a .zarr."""

from __future__ import annotations

import json

import numpy as np
import pytest
from blob_volumes import random_blobs

from napari_atomtomo import io
from napari_atomtomo.cli import main
from napari_atomtomo.core.projectors import ParallelBeamProjector
from napari_atomtomo.io.lazy import open_lazy
from napari_atomtomo.io.omezarr import (
    OmeZarrWriter,
    downsample2,
    open_ome_zarr,
    read_ome_zarr,
    write_ome_zarr,
)


@pytest.fixture
def volume():
    return np.random.default_rng(0).random((33, 40, 37)).astype(np.float32)


def test_ome_zarr_round_trip_with_pyramid_and_ngff_metadata(tmp_path):
    import zarr

    volume = np.random.default_rng(1).random((70, 80, 67)).astype(np.float32)
    p = write_ome_zarr(tmp_path / "v.zarr", volume, 0.7, slab=8)
    levels, vs, attrs = open_ome_zarr(p)
    assert vs == pytest.approx(0.7) and attrs["kind"] == "volume"
    np.testing.assert_array_equal(np.asarray(levels[0]), volume)
    # each level is the 2×2×2 mean of the previous one, computed whole (not slab-wise)
    expect = volume
    for lv in levels[1:]:
        expect = downsample2(expect)
        np.testing.assert_allclose(np.asarray(lv), expect, rtol=1e-6)
    assert [lv.shape for lv in levels] == [(70, 80, 67), (35, 40, 34)]
    ms = zarr.open_group(str(p), mode="r").attrs["multiscales"][0]
    assert ms["version"] == "0.4"
    assert [a["name"] for a in ms["axes"]] == ["z", "y", "x"]
    assert {a["unit"] for a in ms["axes"]} == {"angstrom"}
    assert ms["datasets"][1]["coordinateTransformations"][0]["scale"] == [1.4, 1.4, 1.4]
    # a naive 2×2×2 mean at one interior voxel of level 1
    assert float(levels[1][3, 4, 5]) == pytest.approx(
        float(volume[6:8, 8:10, 10:12].mean()), rel=1e-6)


def test_ome_zarr_writer_is_all_or_nothing(tmp_path, volume):
    target = tmp_path / "v.zarr"
    with pytest.raises(RuntimeError, match="boom"):
        with OmeZarrWriter(target, volume.shape, 1.0) as w:
            w.write_slab(0, volume[:, :8])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []  # no output, no temporary folder
    write_ome_zarr(target, volume, 1.0)
    with pytest.raises(FileExistsError):
        write_ome_zarr(target, volume, 1.0)
    write_ome_zarr(target, 2 * volume, 1.0, force=True)  # replaced only when complete
    np.testing.assert_array_equal(read_ome_zarr(target)[0], 2 * volume)
    assert [q.name for q in tmp_path.iterdir()] == ["v.zarr"]


def test_lazy_readers_match_the_eager_ones(tmp_path, volume):
    pytest.importorskip("h5py")
    import h5py

    io.write_mrc(tmp_path / "v.mrc", volume, 0.5)
    lazy, vs = open_lazy(tmp_path / "v.mrc", rows=16)
    assert not isinstance(lazy, np.ndarray) and lazy.chunks[1] == (16, 16, 8)
    assert vs == pytest.approx(0.5)
    np.testing.assert_array_equal(np.asarray(lazy[:, 10:20]), volume[:, 10:20])
    with h5py.File(tmp_path / "v.h5", "w") as f:
        f["data/stack"] = volume
    lazy_h5, _ = open_lazy(tmp_path / "v.h5")
    np.testing.assert_array_equal(lazy_h5.compute(), volume)
    write_ome_zarr(tmp_path / "v.zarr", volume, 0.5)
    lazy_z, _ = open_lazy(tmp_path / "v.zarr")
    np.testing.assert_array_equal(lazy_z.compute(), volume)
    with pytest.raises(ValueError, match="unsupported format"):
        open_lazy(tmp_path / "v.txt")


@pytest.fixture
def series_file(tmp_path):
    vol = np.zeros((24, 20, 24), np.float32)
    vol[6:18, 4:16, 8:14] = 1.0
    vol[10:13, 2:18, 4:20] += 0.5
    angles = np.linspace(-60, 60, 13)
    stack = ParallelBeamProjector(vol.shape, angles, n_u=24).forward(vol)
    mrc, _ = io.write_tilt_series(tmp_path / "s.mrc", stack, angles, 2.0)
    return mrc


def test_sirt_cli_chunked_equals_in_memory_and_reports_the_choice(tmp_path, series_file, capsys):
    base = ["sirt", str(series_file), "--iterations", "6", "--quiet"]
    assert main(base + ["--out", str(tmp_path / "mem.mrc"), "--chunks", "0"]) == 0
    assert "in memory (forced" in capsys.readouterr().err
    assert main(base + ["--out", str(tmp_path / "c.zarr"), "--chunks", "8",
                        "--json", str(tmp_path / "c.json")]) == 0
    assert "chunked: 3 y-slabs of 8 rows" in capsys.readouterr().err
    assert main(base + ["--out", str(tmp_path / "c.mrc"), "--chunks", "8"]) == 0
    ref, vs = io.read_mrc(tmp_path / "mem.mrc")
    got_z, vs_z = read_ome_zarr(tmp_path / "c.zarr")
    got_m, _ = io.read_mrc(tmp_path / "c.mrc")
    tol = 1e-5 * float(ref.max())
    np.testing.assert_allclose(got_z, ref, atol=tol)
    np.testing.assert_allclose(got_m, ref, atol=tol)
    assert vs_z == vs == pytest.approx(2.0)
    report = json.loads((tmp_path / "c.json").read_text())
    assert report["plan"]["chunked"] and report["run"]["n_slabs"] == 3
    assert open_ome_zarr(tmp_path / "c.zarr")[2]["run"]["slab_rows"] == 8
    from napari_atomtomo._reader import read_zarr_layers

    data, kwargs, kind = read_zarr_layers(tmp_path / "c.zarr")[0]
    assert kind == "image" and not isinstance(data, np.ndarray)  # lazy: a dask array
    meta = kwargs["metadata"]["atomtomo"]
    assert meta["run"]["n_slabs"] == 3 and meta["plan"]["chunked"]  # the choice, reported
    assert sorted(q.name for q in tmp_path.iterdir() if q.name.startswith(".")) == []


def test_est_cli_chunked_equals_in_memory(tmp_path, series_file, capsys):
    base = ["est", str(series_file), "--method", "gridding", "--iterations", "3",
            "--tight-iterations", "3", "--quiet"]
    assert main(base + ["--out", str(tmp_path / "m.mrc"), "--chunks", "0"]) == 0
    assert main(base + ["--out", str(tmp_path / "c.zarr"), "--chunks", "7"]) == 0
    ref, _ = io.read_mrc(tmp_path / "m.mrc")
    got, _ = read_ome_zarr(tmp_path / "c.zarr")
    np.testing.assert_allclose(got, ref, atol=1e-5 * float(np.abs(ref).max()))
    assert json.loads((tmp_path / "c.est.json").read_text())["run"]["halo_rows"] > 0


def test_cli_bad_chunks_and_dy_shifts_are_one_sentence(tmp_path, series_file, capsys):
    base = ["sirt", str(series_file), "--iterations", "2", "--quiet"]
    assert main(base + ["--out", str(tmp_path / "v.zarr"), "--chunks", "-3"]) == 2
    err = capsys.readouterr().err
    assert "--chunks must be" in err and "Traceback" not in err
    shifts = np.zeros((13, 2))
    shifts[2, 0] = 1.0
    io.write_shifts(tmp_path / "sh.json", shifts)
    assert main(base + ["--out", str(tmp_path / "v.zarr"), "--chunks", "8",
                        "--shifts", str(tmp_path / "sh.json")]) == 2
    err = capsys.readouterr().err
    assert "non-zero dy" in err and "Traceback" not in err
    assert not any(q.suffix == ".zarr" or q.name.startswith(".") for q in tmp_path.iterdir())


@pytest.mark.slow
def test_napari_opens_an_ome_zarr_lazily(tmp_path, make_napari_viewer, volume):
    import dask.array as da

    write_ome_zarr(tmp_path / "v.zarr", np.pad(volume, ((0, 40), (0, 24), (0, 27))), 0.5)
    viewer = make_napari_viewer()
    layers = viewer.open(str(tmp_path / "v.zarr"), plugin="napari-atomtomo")
    layer = layers[0]
    assert layer.multiscale and len(layer.data) == 2
    assert all(isinstance(level, da.Array) for level in layer.data)
    assert layer.scale[0] == pytest.approx(0.5)
    assert layer.metadata["atomtomo"]["lazy"] is True


@pytest.fixture
def eds_dataset(tmp_path):
    """A data-set folder ``tmp_path/data``: HAADF and EDS of Ag and Au blocks (16 × 12 × 16)."""
    rng = np.random.default_rng(5)
    maps = {el: np.zeros((16, 12, 16), np.float32) for el in ("Ag", "Au")}
    for i in range(12):
        z, y, x = rng.integers(4, 12), rng.integers(1, 11), rng.integers(4, 12)
        maps[("Ag", "Au")[i % 2]][z - 2:z + 2, y - 1:y + 1, x - 2:x + 2] += 1.0
    angles = np.linspace(-60, 60, 9)
    proj = ParallelBeamProjector((16, 12, 16), angles, n_u=16)
    eds = {el: proj.forward(m) / r for (el, m), r in zip(maps.items(), (800.0, 1000.0))}
    haadf = proj.forward(maps["Ag"] + maps["Au"])
    io.write_dataset(tmp_path / "data", io.DataSet(haadf, eds, angles, 1.0))
    return tmp_path / "data", eds


def test_hebt_and_eds_cli_chunked_equal_in_memory(tmp_path, eds_dataset, capsys):
    _, eds = eds_dataset
    for cmd, extra in (("hebt", ["--iterations", "5"]), ("eds", ["--iterations", "5"])):
        for chunks in ("0", "5"):
            assert main([cmd, str(tmp_path / "data"), *extra, "--quiet", "--chunks", chunks,
                         "--out", str(tmp_path / f"{cmd}{chunks}")]) == 0
        for el in eds:
            ref, _ = io.read_mrc(tmp_path / f"{cmd}0" / f"map_{el}.mrc")
            got, _ = io.read_mrc(tmp_path / f"{cmd}5" / f"map_{el}.mrc")
            np.testing.assert_allclose(got, ref, atol=1e-5 * float(ref.max()))
    assert "chunked: 3 y-slabs of 5 rows" in capsys.readouterr().err
    assert main(["eds", str(tmp_path / "data"), "--stop-rule", "update", "--chunks", "5",
                 "--out", str(tmp_path / "e")]) == 2
    assert "fixed iteration count" in capsys.readouterr().err


@pytest.mark.slow  # a dask LocalCluster starts here
def test_eds_and_hebt_cli_connect_to_the_scheduler_once_per_run(tmp_path, eds_dataset,
                                                                monkeypatch):
    """Every element and every resample of one run share one Client (eds: 2 elements × 3
    reconstructions; hebt: 3), instead of one connection per chunked call."""
    distributed = pytest.importorskip("distributed")
    made = []

    class CountingClient(distributed.Client):
        def __init__(self, *args, **kwargs):
            made.append(args)
            super().__init__(*args, **kwargs)

    ds = io.read_dataset(eds_dataset[0])  # in counts, so that the Poisson replicas are not 0
    data = tmp_path / "counts"
    io.write_dataset(data, io.DataSet(ds.haadf, {el: 2e4 * s for el, s in ds.eds.items()},
                                      ds.angles_deg, 1.0))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        monkeypatch.setattr(distributed, "Client", CountingClient)
        for cmd in ("eds", "hebt"):
            made.clear()
            assert main([cmd, str(data), "--iterations", "2", "--resamples", "2", "--quiet",
                         "--scheduler", cluster.scheduler_address,
                         "--out", str(tmp_path / cmd)]) == 0
            assert made == [(cluster.scheduler_address,)], cmd
            assert len(list((tmp_path / cmd / "resamples").iterdir())) == 2


def test_trace_cli_in_chunks_finds_the_in_memory_atoms(tmp_path, capsys):
    vol = random_blobs(30, 30)
    io.write_mrc(tmp_path / "v.mrc", vol, 0.5)
    write_ome_zarr(tmp_path / "v.zarr", vol, 0.5)
    base = ["trace", "--method", "direct", "--elements", "Au,Ag"]
    assert main([*base[:1], str(tmp_path / "v.mrc"), *base[1:],
                 "--out", str(tmp_path / "mem.xyz")]) == 0
    assert main([*base[:1], str(tmp_path / "v.zarr"), *base[1:], "--chunks", "4",
                 "--out", str(tmp_path / "chunk.xyz")]) == 0
    assert "8 y-chunks of 4 rows" in capsys.readouterr().err
    ref, got = io.read_xyz(tmp_path / "mem.xyz"), io.read_xyz(tmp_path / "chunk.xyz")
    assert len(ref) > 20
    np.testing.assert_array_equal(got.elements, ref.elements)
    np.testing.assert_allclose(got.positions, ref.positions, atol=1e-4)
    assert main([*base[:1], str(tmp_path / "v.mrc"), "--chunks", "4",
                 "--out", str(tmp_path / "s.xyz")]) == 2
    assert "--method direct" in capsys.readouterr().err


def test_a_lazy_tilt_series_gets_the_series_layout(tmp_path, monkeypatch, volume):
    """A tilt series too big to read (here: any size) opens lazily in the same (angle, 1,
    y, x) layout as one read whole, not as a one-row sinogram."""
    from napari_atomtomo import _reader

    stack = volume[:7]  # (angle, y, x)
    path = tmp_path / "series.mrc"
    io.write_mrc(path, stack, 2.0, kind="stack")
    monkeypatch.setattr(_reader, "LAZY_MRC_BYTES", 0)
    data, kwargs, _ = _reader.read_mrc_layers(path)[0]
    assert not isinstance(data, np.ndarray)  # lazy
    assert data.shape == (7, 1) + stack.shape[1:] and len(kwargs["scale"]) == 4
    assert kwargs["metadata"]["atomtomo"]["display"] == "angle_z_y_x"
    np.testing.assert_array_equal(np.asarray(data[:, 0]), stack)
