"""Lazy tilt series and volumes: dask arrays over MRC (memory-mapped), OME-Zarr and HDF5.

Nothing is read until a slab is computed. Each dask chunk is read by a small picklable
object holding the file name (:class:`MrcRows`, :class:`Hdf5Rows`), so a
``dask.distributed`` worker opens the file itself instead of receiving data: the file
must be visible to the workers at the same path. Values are float32 with denormals
flushed, as :func:`~napari_atomtomo.io.mrc.read_mrc` returns them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.config import DENORMAL_FLOOR
from ._paths import existing_file

__all__ = ["MrcRows", "Hdf5Rows", "open_lazy", "read_tilt_series_lazy", "LAZY_SUFFIXES"]

LAZY_SUFFIXES = (".mrc", ".mrcs", ".st", ".ali", ".rec", ".map", ".zarr", ".h5", ".hdf5")
_DENORMAL = np.float32(DENORMAL_FLOOR)


def _clean(a) -> np.ndarray:
    out = np.array(a, dtype=np.float32)
    out[np.abs(out) < _DENORMAL] = 0.0
    return out


class MrcRows:
    """Array-like view of an MRC file: ``shape``, ``dtype`` and ``__getitem__`` (float32)."""

    def __init__(self, path):
        from .mrc import read_mrc_header

        self.path = str(existing_file(path, "MRC file"))
        h = read_mrc_header(self.path)
        if len(h.shape) != 3 or h.shape[0] < 1:
            raise ValueError(f"{self.path} holds data of shape {h.shape}; expected 3D")
        if not h.dtype.startswith(("float", "int", "uint")):
            raise ValueError(f"{self.path} holds {h.dtype} data; expected real numbers")
        self.shape = h.shape
        self.voxel_size = h.voxel_size
        self.dtype = np.dtype(np.float32)
        self.ndim = 3

    def __getitem__(self, key):
        from .mrc import _open

        with _open(Path(self.path)) as mrc:
            raw = mrc.data
            if raw.ndim == 2:
                raw = raw[np.newaxis]
            return _clean(raw[key])


class Hdf5Rows:
    """Array-like view of one 3D dataset of an HDF5 file (h5py)."""

    def __init__(self, path, dataset: str | None = None):
        from ._optional import need_module

        h5py = need_module("h5py", "h5py", "HDF5 files")
        self.path = str(existing_file(path, "HDF5 file"))
        with h5py.File(self.path, "r") as f:
            names = []
            f.visititems(lambda n, o: names.append(n)
                         if isinstance(o, h5py.Dataset) and o.ndim == 3 else None)
            if dataset is None:
                if len(names) != 1:
                    raise ValueError(f"{self.path} holds {len(names)} 3D datasets "
                                     f"({', '.join(names[:5])}); name one")
                dataset = names[0]
            if dataset not in f:
                raise ValueError(f"{self.path} has no dataset {dataset!r}")
            d = f[dataset]
            self.shape = tuple(int(s) for s in d.shape)
            self.voxel_size = float(d.attrs.get("voxel_size", 1.0))
        self.dataset = dataset
        self.dtype = np.dtype(np.float32)
        self.ndim = 3

    def __getitem__(self, key):
        import h5py

        with h5py.File(self.path, "r") as f:
            return _clean(f[self.dataset][key])


def open_lazy(path, *, rows: int = 64, dataset: str | None = None):
    """``(dask array, voxel_size)`` of a 3D MRC, OME-Zarr (level 0) or HDF5 file.

    MRC and HDF5 are chunked in ``rows`` along axis 1 (whole along the others), the
    slab axis of the chunked reconstructions; OME-Zarr keeps its stored chunks.
    """
    import dask.array as da

    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".zarr":
        from .omezarr import open_ome_zarr

        levels, vs, _ = open_ome_zarr(p)
        return levels[0].astype(np.float32), vs
    src: MrcRows | Hdf5Rows
    if suffix in (".h5", ".hdf5"):
        src = Hdf5Rows(p, dataset)
    elif suffix in LAZY_SUFFIXES:
        src = MrcRows(p)
    else:
        raise ValueError(f"{p.name}: unsupported format {suffix or '(no extension)'!r} for lazy "
                         f"reading; expected one of {', '.join(LAZY_SUFFIXES)}")
    chunks = (src.shape[0], min(int(rows), src.shape[1]), src.shape[2])
    return da.from_array(src, chunks=chunks, asarray=False, fancy=False,
                         name=f"atomtomo-lazy-{p.name}-{abs(hash(str(p.absolute())))}"), \
        src.voxel_size


def read_tilt_series_lazy(path, angles_path=None, *, rows: int = 64):
    """A :class:`~napari_atomtomo.io.dataset.TiltSeries` whose ``data`` is a dask array."""
    from .dataset import TiltSeries, angles_file_for, check_angle_count
    from .formats import read_angles

    p = Path(path)
    angles_path = angles_file_for(p, angles_path)
    angles, src = read_angles(angles_path)
    data, vs = open_lazy(p, rows=rows)
    check_angle_count(angles, data.shape[0], angles_path, p)
    return TiltSeries(data, angles, vs, p, f"{src}; read lazily in slabs of {rows} rows")
