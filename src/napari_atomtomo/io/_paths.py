"""Path checks shared by the readers and writers: one clear sentence per problem."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import numpy as np

#: The shipped silica structure (seed 0, reconstruction frame of a 100³ volume of 0.5 Å voxels).
SHIPPED_STRUCTURE = "silica_1002.xyz"


def shipped_structure_path() -> Path:
    """Path of the shipped :data:`SHIPPED_STRUCTURE` (package data)."""
    return Path(str(resources.files("napari_atomtomo") / "data" / SHIPPED_STRUCTURE))


def existing_file(path, what: str = "file") -> Path:
    """``path`` as a Path; FileNotFoundError if it is missing or a folder."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} {p} does not exist")
    if p.is_dir():
        raise ValueError(f"{what} {p} is a folder, expected a file")
    return p


def existing_folder(path, what: str = "folder") -> Path:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{what} {p} does not exist")
    if not p.is_dir():
        raise NotADirectoryError(f"{what} {p} is not a folder")
    return p


def writable_path(path, force: bool = False, inputs=()) -> Path:
    """Check that ``path`` may be written: never an input, never existing unless ``force``."""
    p = Path(path)
    for src in inputs:
        if src is None:
            continue
        s = Path(src)
        if s.exists() and p.exists() and os.path.samefile(s, p):
            raise ValueError(f"output {p} is one of the inputs; choose another output path")
        if p.resolve() == s.resolve():
            raise ValueError(f"output {p} is one of the inputs; choose another output path")
    if p.is_dir():
        raise ValueError(f"output {p} is a folder, expected a file name")
    if p.exists() and not force:
        raise FileExistsError(f"{p} exists; pass force=True (--force) to overwrite it")
    if not p.parent.exists():
        raise FileNotFoundError(f"folder {p.parent} of output {p.name} does not exist")
    return p


def finite_float32(data, what: str) -> np.ndarray:
    """A float32 array (no copy if already float32) after checking for NaN/inf."""
    a = np.asarray(data)
    if a.dtype.kind == "c":
        raise ValueError(f"{what} is complex ({a.dtype}); expected real values")
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{what} has dtype {a.dtype}; expected numbers")
    a = a.astype(np.float32, copy=False)
    if a.size == 0:
        raise ValueError(f"{what} is empty (shape {a.shape})")
    if not np.isfinite(a).all():
        n_bad = int(np.count_nonzero(~np.isfinite(a)))
        raise ValueError(f"{what} contains {n_bad} NaN or infinite values")
    return a


def check_voxel_size(voxel_size, what: str = "voxel_size") -> float:
    try:
        v = float(voxel_size)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a positive number of Å, got {voxel_size!r}") from None
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{what} must be a positive number of Å, got {voxel_size!r}")
    return v
