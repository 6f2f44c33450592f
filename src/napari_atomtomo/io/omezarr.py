"""OME-Zarr (NGFF 0.4) volumes and tilt series, written slab by slab, read lazily.

A volume ``(z, y, x)`` is a ``.zarr`` folder holding a multiscale pyramid: level 0 at
full size and each further level halved on every axis (the mean of 2 × 2 × 2 voxels,
an odd last voxel averaged with itself), down to :data:`MIN_LEVEL_SIZE` voxels. The
``multiscales`` metadata (zarr format 2 attributes, NGFF 0.4) names the axes ``z, y, x``
in ``angstrom`` (a tilt series: ``angle`` in ``degree``, then ``y, x``) with one
``scale`` transform per level. No ome-zarr-py: the metadata is a few lines of JSON.

Writing is atomic (CONVENTIONS.md): :class:`OmeZarrWriter` fills a temporary sibling
folder and renames it into place on :meth:`~OmeZarrWriter.close`; on an error the
temporary folder is removed and nothing is left behind. Slabs ``[y0, y1)`` are written
as they come, so a volume never needs to be in memory; every level is written from the
same slab, so slab heights must be multiples of ``2 ** (levels - 1)`` (the last slab
excepted).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._output import CommitOnExit
from ._paths import check_voxel_size

__all__ = ["OmeZarrWriter", "write_ome_zarr", "read_ome_zarr", "open_ome_zarr",
           "is_ome_zarr", "pyramid_levels", "downsample2", "ZARR_SUFFIX"]

ZARR_SUFFIX = ".zarr"
#: The pyramid stops at the first level whose largest axis is at most this many voxels.
MIN_LEVEL_SIZE = 64
#: Chunk edge of every level (z, y, x); y is the slab axis.
CHUNK = 64


def pyramid_levels(shape, min_size: int = MIN_LEVEL_SIZE) -> int:
    """Number of levels so that the last one's largest axis is ≤ ``min_size``."""
    n = max(int(s) for s in shape)
    levels = 1
    while n > min_size:
        n = (n + 1) // 2
        levels += 1
    return levels


def downsample2(block: np.ndarray, axes=(0, 1, 2)) -> np.ndarray:
    """Halve ``block`` along ``axes`` by the mean of neighbour pairs (odd last kept)."""
    out = np.asarray(block, dtype=np.float32)
    for ax in axes:
        n = out.shape[ax]
        if n < 2:
            continue
        even = np.take(out, np.arange(0, n, 2), axis=ax)
        odd_idx = np.minimum(np.arange(1, n + 1, 2), n - 1)
        odd = np.take(out, odd_idx, axis=ax)
        out = 0.5 * (even + odd)
    return out.astype(np.float32, copy=False)


def _axes(kind: str):
    if kind == "stack":
        return [{"name": "angle", "type": "angle", "unit": "degree"},
                {"name": "y", "type": "space", "unit": "angstrom"},
                {"name": "x", "type": "space", "unit": "angstrom"}]
    return [{"name": n, "type": "space", "unit": "angstrom"} for n in "zyx"]


def is_ome_zarr(path) -> bool:
    """Whether ``path`` is a ``.zarr`` folder."""
    p = Path(path)
    return p.suffix.lower() == ZARR_SUFFIX and p.is_dir()


class OmeZarrWriter(CommitOnExit):
    """Write a ``(z, y, x)`` float32 OME-Zarr pyramid slab by slab, atomically.

    Parameters
    ----------
    path : path-like
        The ``.zarr`` folder to create; refused if it exists unless ``force``.
    shape : tuple of 3 ints
        Full-size shape.
    voxel_size : float
        Voxel size in Å (level ``k`` has ``voxel_size · 2**k`` on downsampled axes).
    kind : {"volume", "stack"}
        A tilt series is only downsampled along ``y`` and ``x``.
    attrs : dict, optional
        Extra attributes stored under ``"atomtomo"`` (parameters, automatic choices).
    """

    def __init__(self, path, shape, voxel_size: float, *, force: bool = False,
                 kind: str = "volume", attrs=None, levels: int | None = None):
        import zarr

        self.path = Path(path)
        if self.path.suffix.lower() != ZARR_SUFFIX:
            raise ValueError(f"an OME-Zarr output must end in .zarr, got {self.path.name}")
        if self.path.exists() and not force:
            raise FileExistsError(f"{self.path} exists; pass --force to overwrite it")
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"{self.path} exists and is not a .zarr folder")
        voxel_size = check_voxel_size(voxel_size)
        self.shape = tuple(int(s) for s in shape)
        self.kind = kind
        self.down_axes = (1, 2) if kind == "stack" else (0, 1, 2)
        self.levels = pyramid_levels(self.shape) if levels is None else int(levels)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.atomtomo-part-",
                                         dir=self.path.absolute().parent))
        self.root = zarr.open_group(str(self.tmp), mode="w", zarr_format=2)
        self.arrays = []
        shp = self.shape
        datasets = []
        for k in range(self.levels):
            chunks = tuple(min(CHUNK, s) for s in shp)
            self.arrays.append(self.root.create_array(
                str(k), shape=shp, chunks=chunks, dtype="float32", fill_value=0.0))
            scale = [float(voxel_size) * (2**k if ax in self.down_axes else 1)
                     for ax in range(3)]
            if kind == "stack":
                scale[0] = 1.0
            datasets.append({"path": str(k),
                             "coordinateTransformations": [{"type": "scale", "scale": scale}]})
            shp = tuple((s + 1) // 2 if ax in self.down_axes else s for ax, s in enumerate(shp))
        root_attrs: Any = self.root.attrs  # zarr's JSON type is narrower than what we store
        root_attrs["multiscales"] = [{
            "version": "0.4", "name": self.path.stem, "axes": _axes(kind),
            "datasets": datasets, "type": "mean of 2x2x2",
        }]
        root_attrs["atomtomo"] = {"kind": kind, "voxel_size_A": float(voxel_size),
                                       **(attrs or {})}

    @property
    def slab_multiple(self) -> int:
        """Slab heights must be multiples of this (except the last slab)."""
        return 2 ** (self.levels - 1)

    def write_slab(self, y0: int, block: np.ndarray) -> None:
        """Write rows ``[y0, y0 + block.shape[1])`` of every level from one slab."""
        block = np.asarray(block, dtype=np.float32)
        y1 = y0 + block.shape[1]
        if y0 % self.slab_multiple and y1 != self.shape[1]:
            raise ValueError(f"slab start {y0} is not a multiple of {self.slab_multiple}")
        for k, arr in enumerate(self.arrays):
            if k:
                block = downsample2(block, self.down_axes)
            f = 2**k
            arr[:, y0 // f:y0 // f + block.shape[1], :] = block

    def set_attrs(self, **attrs) -> None:
        """Add to the ``atomtomo`` attributes (e.g. results known only at the end)."""
        meta = dict(self.root.attrs["atomtomo"])  # type: ignore[arg-type]
        meta.update(attrs)
        self.root.attrs["atomtomo"] = meta

    def close(self) -> Path:
        """Move the finished folder into place (replacing an old one only now)."""
        old = None
        if self.path.exists():
            old = self.path.with_name(f".{self.path.name}.atomtomo-old-{os.getpid()}")
            os.replace(self.path, old)
        try:
            os.replace(self.tmp, self.path)
        except OSError:
            if old is not None:
                os.replace(old, self.path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.path

    def abort(self) -> None:
        """Remove the temporary folder: nothing of this output is left."""
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_ome_zarr(path, data, voxel_size: float, *, force: bool = False, kind: str = "volume",
                   attrs=None, slab: int = CHUNK) -> Path:
    """Write a whole array (numpy or dask) as an OME-Zarr pyramid, slab by slab."""
    arr = data
    if getattr(arr, "ndim", 0) != 3:
        raise ValueError(f"data must be 3D, got shape {np.shape(arr)}")
    with OmeZarrWriter(path, arr.shape, voxel_size, force=force, kind=kind, attrs=attrs) as w:
        step = max(slab, w.slab_multiple) // w.slab_multiple * w.slab_multiple
        for y0 in range(0, arr.shape[1], step):
            w.write_slab(y0, np.asarray(arr[:, y0:y0 + step, :]))
    return Path(path)


def open_ome_zarr(path):
    """``(levels, voxel_size, attrs)``: the pyramid as lazy dask arrays, largest first."""
    import dask.array as da
    import zarr

    p = Path(path)
    if not p.is_dir():
        raise FileNotFoundError(f"{p} is not an OME-Zarr folder")
    try:
        root = zarr.open_group(str(p), mode="r")
        ms = root.attrs["multiscales"][0]
    except Exception as exc:  # zarr raises several kinds for a folder that is not one
        raise ValueError(f"{p} is not an OME-Zarr image (no multiscales metadata: "
                         f"{type(exc).__name__})") from None
    levels = [da.from_zarr(root[d["path"]]) for d in ms["datasets"]]
    scale = ms["datasets"][0]["coordinateTransformations"][0]["scale"]
    attrs = dict(root.attrs.get("atomtomo", {}))
    return levels, float(scale[-1]), attrs


def read_ome_zarr(path) -> tuple[np.ndarray, float]:
    """Level 0 of an OME-Zarr image as ``(float32 numpy array, voxel_size)``."""
    levels, vs, _ = open_ome_zarr(path)
    return np.asarray(levels[0], dtype=np.float32), vs
