"""npe2 sample data.

``make_blob_tilt_series``: a small synthetic tilt series, the forward projection of a few
Gaussian blobs at the 55 equally sloped angles of the paper's ±72.6° series (N = 32).
It is made on the fly by :func:`napari_atomtomo.core.projectors.forward_project` (a
fraction of a second once numba's cache is warm), so the plugin always has a working
sample. The true volume and the blob centres come with it as hidden layers.
"""

from __future__ import annotations

import numpy as np

from ._atoms_layers import atoms_layer_data
from ._layers import element_colormap, image_layer_data
from .core.atoms import Atoms
from .core.geometry import equally_sloped_angles
from .core.projectors import forward_project

__all__ = ["make_blob_tilt_series", "blob_volume", "BLOBS", "make_synthetic_atoms_volume",
           "synthetic_atoms_volume", "make_silica_tilt_series", "silica_series_layers"]

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


#: The synthetic atoms volume: shape (z, y, x), voxel size (Å), atom σ (Å), counts.
ATOMS_VOLUME_SHAPE = (40, 40, 40)
ATOMS_VOXEL_SIZE_A = 0.5
ATOMS_SIGMA_A = 0.4
ATOMS_COUNTS = {"Si": 20, "O": 40}
#: Peak heights ∝ Z^1.8 (HAADF-like contrast): Si 115.5, O 42.2.
ATOMS_PEAKS = {"Si": 14.0**1.8, "O": 8.0**1.8}


def synthetic_atoms_volume(shape=ATOMS_VOLUME_SHAPE, voxel_size: float = ATOMS_VOXEL_SIZE_A,
                           counts=None, *, sigma_A: float = ATOMS_SIGMA_A,
                           min_separation_A: float = 2.0, noise: float = 0.02,
                           seed: int = 7):
    """A float32 ``(z, y, x)`` volume of Gaussian atoms and the true :class:`Atoms`.

    Atoms of ``counts`` (default 20 Si and 40 O) sit at random positions at least
    ``min_separation_A`` apart and 1.5 Å inside the faces; each is a Gaussian of σ
    ``sigma_A`` with a peak ∝ Z^1.8, plus white noise of ``noise`` × the O peak.
    """
    counts = dict(ATOMS_COUNTS if counts is None else counts)
    rng = np.random.default_rng(seed)
    lo = 1.5
    hi = (np.asarray(shape[::-1], dtype=np.float64) - 1) * voxel_size - 1.5  # (x, y, z)
    positions: list[np.ndarray] = []
    elements: list[str] = []
    for el, n in counts.items():
        placed, tries = 0, 0
        while placed < n:
            tries += 1
            if tries > 10_000 * max(n, 1):
                raise ValueError(f"cannot place {n} {el} atoms {min_separation_A} Å apart "
                                 f"in a volume of shape {shape}")
            p = rng.uniform(lo, hi)
            if positions and np.min(np.linalg.norm(np.asarray(positions) - p, axis=1)) < (
                    min_separation_A):
                continue
            positions.append(p)
            elements.append(el)
            placed += 1
    pos = np.asarray(positions).reshape(-1, 3)
    axes = [np.arange(n, dtype=np.float64) * voxel_size for n in shape]  # z, y, x in Å
    vol = np.zeros(shape, dtype=np.float64)
    peaks = np.array([ATOMS_PEAKS.get(e, 1.0) for e in elements])
    for (x, y, z), amp in zip(pos, peaks):
        gz, gy, gx = (np.exp(-((a - c) ** 2) / (2 * sigma_A**2)) for a, c in zip(axes, (z, y, x)))
        vol += amp * gz[:, None, None] * gy[None, :, None] * gx[None, None, :]
    vol += rng.normal(0.0, noise * ATOMS_PEAKS["O"], size=shape)
    atoms = Atoms(np.array(elements), pos, {"intensity": peaks})
    return vol.astype(np.float32), atoms


def make_synthetic_atoms_volume() -> list[tuple]:
    """Sample layers: a volume of Si/O Gaussians to trace, and its true atoms."""
    volume, atoms = synthetic_atoms_volume()
    params = {
        "shape_zyx": ATOMS_VOLUME_SHAPE,
        "voxel_size_A": ATOMS_VOXEL_SIZE_A,
        "sigma_A": ATOMS_SIGMA_A,
        "counts": ATOMS_COUNTS,
        "noise_of_O_peak": 0.02,
        "seed": 7,
    }
    return [
        image_layer_data(volume, ATOMS_VOXEL_SIZE_A, "atoms volume",
                         "sample.synthetic_atoms_volume", params, kind="volume",
                         colormap="gray"),
        atoms_layer_data(atoms, "atoms_true", "sample.synthetic_atoms_volume", params,
                         visible=False),
    ]


def make_agau_phantom() -> list[tuple]:
    """Sample layers: paper 002's Ag–Au core–shell phantom (a 2D slice stored as ``(z, 1, x)``).

    The HAADF and EDS (Ag Lα, Au Mα) sinograms as tilt series ``(angle, 1, x)`` (31 tilts
    −75…75°, 15 Å pixels, Poisson noise, seed 0) and the true weight fractions
    ``phantom_<El>`` (hidden), simulated by
    :func:`napari_atomtomo.core.simulate.agau.simulate_agau` (≈0.1 s).
    """
    from .core.simulate.agau import AgAuParams, simulate_agau

    ds = simulate_agau(0)
    params = {"seed": 0, **{k: (list(v) if isinstance(v, tuple) else v)
                            for k, v in AgAuParams().__dict__.items()}}
    return agau_dataset_layers(ds, params, "sample.agau_phantom")


def agau_dataset_layers(ds, parameters, algorithm: str = "simulate.agau", **extra) -> list[tuple]:
    """Layers ``haadf``, ``eds_<El>`` and ``phantom_<El>`` of a simulated Ag–Au data set
    (``extra`` goes into every layer's metadata, the truth into the HAADF layer's)."""
    meta = {"truth": ds.truth, **extra}
    layers = [image_layer_data(ds.haadf, ds.voxel_size, "haadf", algorithm, parameters,
                               kind="tilt_series", angles_deg=ds.angles_deg, colormap="gray",
                               metadata=meta)]
    for el, counts in ds.eds.items():
        layers.append(image_layer_data(
            counts, ds.voxel_size, f"eds_{el}", algorithm, parameters, kind="tilt_series",
            angles_deg=ds.angles_deg, element=el, colormap=element_colormap(el, "eds"),
            blending="additive", visible=False, metadata=extra))
    for el, wt in ds.phantoms.items():
        layers.append(image_layer_data(
            wt, ds.voxel_size, f"phantom_{el}", algorithm, parameters, kind="volume",
            element=el, colormap=element_colormap(el, "phantom"), blending="additive",
            contrast_limits=(0.0, 1.0), visible=False, metadata=extra))
    return layers


# ----------------------------------------------------------------------------- silica
#: R_noise (paper 000 Eq. 2) of the silica sample: the paper's lowest noise level.
SILICA_SAMPLE_R_NOISE = 0.10


def silica_series_layers(sim, parameters, source_layers=(), **extra) -> list[tuple]:
    """Layers of a simulated silica series (``SimulatedSeries``): ``haadf`` and ``atoms_true``.

    ``haadf`` is the noisy tilt series with the nominal angles (what a user would have);
    the truth (true angles, image shifts, dose, R_noise) goes into its metadata under
    ``"truth"``. ``atoms_true`` (hidden) holds the atoms in the reconstruction frame.
    ``extra`` entries (e.g. ``command``) join both layers' metadata.
    """
    truth = sim.truth_dict()
    meta = {"truth": truth, "r_noise": sim.r_noise, "dose_e_per_A2": sim.dose, **extra}
    return [
        image_layer_data(sim.stack_noisy, sim.pixel_size, "haadf", "simulate.silica", parameters,
                         source_layers, kind="tilt_series", angles_deg=sim.angles_nominal,
                         colormap="gray", metadata=meta),
        atoms_layer_data(sim.atoms, "atoms_true", "simulate.silica", parameters, source_layers,
                         visible=False, metadata=extra),
    ]


def make_silica_tilt_series() -> list[tuple]:
    """Sample layers: paper 000's SiO2 particle (1002 atoms) as a HAADF tilt series.

    The shipped structure, 55 equally sloped angles ±72.6°, 100 × 100 pixels of 0.5 Å,
    0.8 Å probe, 0.5° tilt drift, 2 px rms image shifts and Poisson noise at the dose that
    gives R_noise 10 % (seed 0); the same as ``atomtomo simulate silica OUT --preset 10``.
    About 1 s once numba's cache is warm.
    """
    import dataclasses

    from . import io
    from .core.simulate.haadf import HaadfParams, simulate_haadf_series
    from .io._paths import SHIPPED_STRUCTURE, shipped_structure_path

    params = HaadfParams(r_noise=SILICA_SAMPLE_R_NOISE, seed=0)
    sim = simulate_haadf_series(io.read_xyz(shipped_structure_path()), params)
    parameters = {"structure": SHIPPED_STRUCTURE, **dataclasses.asdict(params)}
    return silica_series_layers(sim, parameters,
                                command="atomtomo simulate silica silica_series --preset 10")
