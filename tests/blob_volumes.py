"""A noisy volume of randomly placed Gaussian atoms, two brightnesses (tests of the chunked
tracing: scale's trace_atoms_chunked and ``atomtomo trace --chunks``)."""

import numpy as np


def random_blobs(n: int, n_blobs: int, seed: int = 3) -> np.ndarray:
    """``(n, n, n)`` float32: noise σ 0.02 plus ``n_blobs`` Gaussians (σ 0.9 voxels) of
    height 1.0 or 0.5 at uniform positions at least 3 voxels inside the faces."""
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[:n, :n, :n].astype(np.float32)
    vol = rng.normal(0, 0.02, (n, n, n)).astype(np.float32)
    for _ in range(n_blobs):
        c = rng.uniform(3, n - 3, 3)
        vol += rng.choice([1.0, 0.5]) * np.exp(
            -((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) / (2 * 0.9**2))
    return vol.astype(np.float32)
