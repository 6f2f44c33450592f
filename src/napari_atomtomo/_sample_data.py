"""npe2 sample data.

``make_blob_tilt_series``: a small synthetic tilt series, the forward projection of a few
Gaussian blobs at the 55 equally sloped angles of the paper's ±72.6° series (N = 32).
It is made on the fly by :func:`napari_atomtomo.core.projectors.forward_project` (a
fraction of a second once numba's cache is warm), so the plugin always has a working
sample. The true volume and the blob centres come with it as hidden layers.
"""

from __future__ import annotations

import numpy as np

from ._layers import atoms_layer_data, image_layer_data
from .core.atoms import Atoms
from .core.geometry import equally_sloped_angles
from .core.projectors import forward_project

__all__ = ["make_blob_tilt_series", "blob_volume", "BLOBS"]

#: Blob centres as voxel indices (z, y, x), amplitudes and labels of the sample.
BLOBS = (
    ((14.0, 10.0, 20.0), 1.0, "Si"),
    ((26.0, 20.0, 12.0), 1.0, "Si"),
    ((20.0, 16.0, 27.0), 1.0, "Si"),
    ((10.0, 22.0, 13.0), 0.5, "O"),
    ((28.0, 9.0, 25.0), 0.5, "O"),
    ((18.0, 25.0, 19.0), 0.5, "O"),
    ((22.0, 12.0, 16.0), 0.5, "O"),
)
SHAPE_ZYX = (40, 32, 40)
VOXEL_SIZE_A = 0.5
SIGMA_VOXELS = 1.5


def blob_volume(shape=SHAPE_ZYX, blobs=BLOBS, sigma: float = SIGMA_VOXELS) -> np.ndarray:
    """A float32 ``(z, y, x)`` volume holding the Gaussian blobs ``blobs``."""
    z, y, x = np.meshgrid(*(np.arange(n, dtype=np.float64) for n in shape), indexing="ij")
    vol = np.zeros(shape, dtype=np.float64)
    for (cz, cy, cx), amp, _ in blobs:
        vol += amp * np.exp(-((z - cz) ** 2 + (y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma**2))
    return vol.astype(np.float32)


def make_blob_tilt_series() -> list[tuple]:
    """Sample layers: the tilt series, and (hidden) the true volume and blob centres."""
    angles = equally_sloped_angles(32, 72.6)
    volume = blob_volume()
    stack = forward_project(volume, angles)
    params = {
        "shape_zyx": SHAPE_ZYX,
        "voxel_size_A": VOXEL_SIZE_A,
        "sigma_voxels": SIGMA_VOXELS,
        "n_slopes": 32,
        "max_angle_deg": 72.6,
    }
    centres_zyx = np.array([b[0] for b in BLOBS], dtype=np.float64)
    atoms = Atoms(
        np.array([b[2] for b in BLOBS]),
        centres_zyx[:, ::-1] * VOXEL_SIZE_A,
        {"intensity": np.array([b[1] for b in BLOBS])},
    )
    return [
        image_layer_data(
            stack, VOXEL_SIZE_A, "blobs tilt series", "sample.blob_tilt_series", params,
            kind="tilt_series", angles_deg=angles, colormap="gray",
        ),
        image_layer_data(
            volume, VOXEL_SIZE_A, "blobs truth", "sample.blob_tilt_series", params,
            kind="volume", visible=False,
        ),
        atoms_layer_data(
            atoms, "blob centres", "sample.blob_tilt_series", params, visible=False,
        ),
    ]
