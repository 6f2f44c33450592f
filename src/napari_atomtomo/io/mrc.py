"""MRC files (``mrcfile``): float32 volumes ``(z, y, x)`` and tilt series ``(angle, y, x)``.

What we store: mode 2 (float32) data, the voxel size in Å in the header (``cella`` /
``voxel_size``), and one label naming the kind of data. Volumes are written as volumes
(``ispg = 1``, ``mz = nz``), tilt series as IMOD-style image stacks (``ispg = 0``,
``mz = 1``, so the voxel size along the angle axis is meaningless). Tilt angles are not
stored in the MRC; they live in a sibling ``.tlt`` file (CONVENTIONS.md).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.config import DENORMAL_FLOOR
from ._output import CommitOnExit
from ._paths import check_voxel_size, existing_file, finite_float32, writable_path

__all__ = ["read_mrc", "write_mrc", "read_mrc_header", "MrcHeader"]

#: Extensions of MRC files (IMOD's stacks, aligned stacks and reconstructions included).
MRC_SUFFIXES = (".mrc", ".mrcs", ".st", ".ali", ".rec", ".map")
_KINDS = {"volume": "volume (z, y, x)", "stack": "tilt series (angle, y, x)"}
_DENORMAL = np.float32(DENORMAL_FLOOR)


@dataclass(frozen=True)
class MrcHeader:
    """What an MRC header says, without reading the data."""

    shape: tuple[int, ...]
    dtype: str
    voxel_size: float
    voxel_size_set: bool
    is_image_stack: bool
    labels: tuple[str, ...]


#: mrcfile warnings that leave the data readable (GENFIRE and others write a zero stamp).
_HARMLESS = ("Unrecognised machine stamp",)


def _unsupported(path: Path) -> ValueError:
    """Not an MRC file, and not named like one: say so, rather than "corrupt MRC"."""
    return ValueError(f"{path.name}: unsupported format {path.suffix or '(no extension)'!r}; "
                      f"expected an MRC file ({', '.join(MRC_SUFFIXES)})")


def _open(path: Path, header_only: bool = False):
    """Open permissively, then refuse anything but harmless header quirks."""
    import mrcfile

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if header_only:
                mrc = mrcfile.open(path, mode="r", permissive=True, header_only=True)
            else:  # memory-mapped, so converting to float32 slice by slice costs one copy
                mrc = mrcfile.mmap(path, mode="r", permissive=True)
        except (FileNotFoundError, IsADirectoryError):
            raise
        except Exception as exc:  # mrcfile raises ValueError, EOFError, OSError ...
            if path.suffix.lower() not in MRC_SUFFIXES:
                raise _unsupported(path) from None
            reason = str(exc).strip().rstrip(".") or type(exc).__name__
            raise ValueError(f"{path} is truncated or not a valid MRC file ({reason})") from None
    problems = [str(w.message) for w in caught
                if not str(w.message).startswith(_HARMLESS)]
    if not header_only and mrc.data is None and not problems:
        problems = ["no data block"]
    if problems:
        mrc.close()
        if path.suffix.lower() not in MRC_SUFFIXES:
            raise _unsupported(path)
        reason = problems[0].strip().rstrip(".")
        raise ValueError(f"{path} is truncated or not a valid MRC file ({reason})")
    return mrc


def _voxel_size_of(mrc, path: Path) -> tuple[float, bool]:
    vs = mrc.voxel_size
    vx, vy = float(vs.x), float(vs.y)
    if not (np.isfinite(vx) and vx > 0):
        return 1.0, False
    if np.isfinite(vy) and vy > 0 and abs(vx - vy) > 1e-3 * vx:
        raise ValueError(
            f"{path} has anisotropic pixels ({vx:g} Å along x, {vy:g} Å along y); "
            "expected square pixels"
        )
    return vx, True


def read_mrc_header(path) -> MrcHeader:
    """Read only the header of an MRC file (shape in numpy order, dtype, voxel size)."""
    p = existing_file(path, "MRC file")
    with _open(p, header_only=True) as mrc:
        h = mrc.header
        shape = (int(h.nz), int(h.ny), int(h.nx))
        from mrcfile.utils import dtype_from_mode

        try:
            dtype = str(np.dtype(dtype_from_mode(h.mode)))
        except ValueError:
            dtype = f"mode {int(h.mode)}"
        vs, vs_set = _voxel_size_of(mrc, p)
        labels = tuple(str(lbl) for lbl in mrc.get_labels())
        stack = int(h.ispg) == 0 and shape[0] > 1
        return MrcHeader(shape, dtype, vs, vs_set, stack, labels)


def read_mrc(path) -> tuple[np.ndarray, float]:
    """Read an MRC file as ``(data, voxel_size)``.

    Returns
    -------
    data : ndarray of float32, 3D
        ``(z, y, x)`` for a volume, ``(angle, y, x)`` for a tilt series; a single image
        ``(y, x)`` is returned as ``(1, y, x)``. Float32 denormals (``|v| < 1e-30``) are
        flushed to zero.
    voxel_size : float
        Pixel size in Å from the header; 1.0 when the header leaves it unset (0).

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file is truncated or not an MRC, holds complex or 4D data, NaN/inf values,
        or anisotropic pixels.
    """
    p = existing_file(path, "MRC file")
    with _open(p) as mrc:
        raw = mrc.data
        vs, _ = _voxel_size_of(mrc, p)
        if raw is None or raw.size == 0:
            raise ValueError(f"{p} holds no data")
        if raw.ndim == 2:
            raw = raw[np.newaxis]
        elif raw.ndim != 3:
            raise ValueError(f"{p} holds {raw.ndim}D data of shape {raw.shape}; expected 3D")
        if raw.dtype.kind not in "biuf":
            raise ValueError(f"{p} holds {raw.dtype} data; expected real numbers")
        data = np.empty(raw.shape, dtype=np.float32)
        n_bad = 0
        for i in range(raw.shape[0]):  # slice by slice: no full-size temporaries
            sl = data[i]
            sl[...] = raw[i]
            finite = np.isfinite(sl)
            if not finite.all():
                n_bad += int(sl.size - np.count_nonzero(finite))
            sl[np.abs(sl) < _DENORMAL] = 0.0
    if n_bad:
        raise ValueError(f"{p} contains {n_bad} NaN or infinite values")
    return data, vs


def _set_header(mrc, kind: str, voxel_size: float, label: str | None) -> None:
    """What every file we write says: volume or image stack, the voxel size (Å, checked
    by the caller) and our label, plus ``label`` in printable ASCII (≤ 80 characters).
    """
    if kind == "stack":
        mrc.set_image_stack()
    else:
        mrc.set_volume()
    mrc.voxel_size = voxel_size
    mrc.add_label(f"napari-atomtomo {_KINDS[kind]}, voxel size in A")
    if label:
        mrc.add_label("".join(c if 32 <= ord(c) < 127 else "?" for c in str(label))[:80])


def write_mrc(path, data, voxel_size, *, force: bool = False, kind: str = "volume",
              inputs=(), label: str | None = None) -> Path:
    """Write a 3D float32 MRC file with ``voxel_size`` (Å) in its header.

    Parameters
    ----------
    path : path-like
        Output file; refused if it exists (unless ``force``) or is one of ``inputs``.
    data : array, 3D
        ``(z, y, x)`` volume or ``(angle, y, x)`` tilt series; a 2D map is stored as
        ``(z, 1, x)``, so 2D arrays are refused rather than guessed.
    voxel_size : float
        Pixel size in Å.
    kind : {"volume", "stack"}
        ``"stack"`` marks the file as an image stack (tilt series).
    inputs : sequence of path-like
        Files this output was made from; writing over one of them is refused even with
        ``force``.
    label : str, optional
        Extra printable-ASCII header label (≤ 80 characters).
    """
    import mrcfile

    if kind not in _KINDS:
        raise ValueError(f"kind must be 'volume' or 'stack', got {kind!r}")
    arr = np.asarray(data)
    if arr.ndim != 3:
        raise ValueError(
            f"data must be 3D {_KINDS[kind]}, got shape {arr.shape}; "
            "store a 2D map as (z, 1, x) and a sinogram as (angle, 1, x)"
        )
    arr = np.ascontiguousarray(finite_float32(arr, "data"))
    vs = check_voxel_size(voxel_size)
    p = writable_path(path, force=force, inputs=inputs)
    tmp = p.with_name(p.name + ".part")
    try:
        with mrcfile.new(tmp, overwrite=True) as mrc:
            mrc.set_data(arr)
            _set_header(mrc, kind, vs, label)
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()
    return p


class MrcSlabWriter(CommitOnExit):
    """Write a float32 MRC volume ``(z, y, x)`` slab by slab, atomically.

    The file is created memory-mapped under a temporary name (``<name>.part``), each
    :meth:`write_slab` fills rows ``[y0, y0 + h)`` (the OS pages them out, so memory stays
    bounded) and :meth:`close` renames it into place; on an error it is removed.
    """

    def __init__(self, path, shape, voxel_size, *, force: bool = False, inputs=(),
                 label: str | None = None):
        import mrcfile

        vs = check_voxel_size(voxel_size)  # before the .part file exists: nothing left behind
        self.path = writable_path(path, force=force, inputs=inputs)
        self.shape = tuple(int(s) for s in shape)
        self.tmp = self.path.with_name(self.path.name + ".part")
        self.mrc = mrcfile.new_mmap(self.tmp, shape=self.shape, mrc_mode=2, overwrite=True)
        _set_header(self.mrc, "volume", vs, label)

    def write_slab(self, y0: int, block) -> None:
        b = np.asarray(block, dtype=np.float32)
        self.mrc.data[:, y0:y0 + b.shape[1], :] = b
        self.mrc.flush()

    def close(self) -> Path:
        self.mrc.update_header_stats()
        self.mrc.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self.mrc.close()
        finally:
            if self.tmp.exists():
                self.tmp.unlink()
