"""npe2 writers: image layers to MRC (tilt series also get their ``.tlt``), points to XYZ/CSV.

Writing goes through :mod:`napari_atomtomo.io`. The voxel size comes from the layer's
``scale`` (Å per voxel), which must be isotropic over the spatial axes. napari's save
dialog has already asked before replacing an existing file, so existing outputs are
replaced; the file a layer was read from (``metadata["atomtomo"]["source_path"]``) is
never written over.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import io
from ._atoms_layers import atoms_from_points_data
from ._layers import layer_info, series_array

__all__ = ["write_image_mrc", "write_points"]


def _voxel_size_from_scale(scale, spatial_axes: int, name: str) -> float:
    s = np.asarray(scale, dtype=np.float64)[-spatial_axes:]
    if not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"layer {name!r} has scale {tuple(s)}; expected positive Å per voxel")
    if np.max(np.abs(s - s[-1])) > 1e-6 * s[-1]:
        raise ValueError(
            f"layer {name!r} has anisotropic scale {tuple(float(v) for v in s)}; "
            "MRC files here need one voxel size"
        )
    return float(s[-1])


def _inputs(info: dict) -> list[str]:
    return [info["source_path"]] if info.get("source_path") else []


def write_image_mrc(path: str, data, meta: dict) -> list[str]:
    """Write one image layer as MRC; a tilt series with angles also gets ``<stem>.tlt``."""
    info = layer_info(meta.get("metadata", {}))
    name = meta.get("name", "layer")
    arr = np.asarray(data)
    axis_labels = tuple(meta.get("axis_labels", ()))
    is_series = info.get("kind") == "tilt_series" or (axis_labels[:1] == ("angle",))
    p = Path(path)
    if is_series:
        vs = _voxel_size_from_scale(meta.get("scale", (1.0,) * arr.ndim), 1, name)
        arr = series_array(arr)  # any of _layers.series_layout's layouts -> (angle, y, x)
        angles = info.get("angles_deg")
        if angles is not None:
            written = io.write_tilt_series(p, arr, angles, vs, force=True, inputs=_inputs(info))
            return [str(q) for q in written]
        io.write_mrc(p, arr, vs, force=True, kind="stack", inputs=_inputs(info))
        return [str(p)]
    vs = _voxel_size_from_scale(meta.get("scale", (1.0,) * arr.ndim), arr.ndim, name)
    io.write_mrc(p, arr, vs, force=True, kind="volume", inputs=_inputs(info))
    return [str(p)]


def write_points(path: str, data, meta: dict) -> list[str]:
    """Write a Points layer of atoms as XYZ or CSV (chosen by the file extension)."""
    info = layer_info(meta.get("metadata", {}))
    atoms = atoms_from_points_data(data, meta)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".xyz":
        io.write_xyz(p, atoms, comment=f"{meta.get('name', 'atoms')} (napari-atomtomo)",
                     force=True, inputs=_inputs(info))
    elif suffix == ".csv":
        io.write_atoms_csv(p, atoms, force=True, inputs=_inputs(info))
    else:
        raise ValueError(f"atoms are written as .xyz or .csv, got {p.name!r}")
    return [str(p)]
