"""Equally sloped tomography (EST) and Fourier-iterative reconstruction.

* :mod:`.frft`: fractional Fourier transform (chirp-z / Bluestein);
* :mod:`.ppfft`: pseudopolar FFT, its adjoint and an iterative inverse;
* :mod:`.slopes`: which pseudopolar line each projection of an equally sloped series fills;
* :mod:`.reconstruct`: the EST iteration (``iter_est`` / ``reconstruct_est``);
* :mod:`.gridding`: the arbitrary-angle, GENFIRE-like method
  (``iter_fourier_gridding`` / ``reconstruct_fourier_gridding``).
"""

from .frft import frft, frft_adjoint, frft_centred
from .gridding import (
    GriddingParams,
    GriddingResult,
    GriddingState,
    grid_projections,
    iter_fourier_gridding,
    reconstruct_fourier_gridding,
)
from .ppfft import (
    PpInverseResult,
    ppfft,
    ppfft_adjoint,
    ppfft_density_weights,
    ppfft_inverse,
    pseudopolar_frequencies,
    pseudopolar_shape,
)
from .reconstruct import (
    EstParams,
    EstResult,
    EstSetupStep,
    EstState,
    iter_est,
    measured_lines,
    reconstruct_est,
)
from .slopes import EqualSlopeAssignment, match_equally_sloped

__all__ = [
    "frft", "frft_adjoint", "frft_centred",
    "ppfft", "ppfft_adjoint", "ppfft_inverse", "ppfft_density_weights",
    "pseudopolar_frequencies", "pseudopolar_shape", "PpInverseResult",
    "EqualSlopeAssignment", "match_equally_sloped",
    "EstParams", "EstState", "EstSetupStep", "EstResult", "iter_est", "reconstruct_est", "measured_lines",
    "GriddingParams", "GriddingState", "GriddingResult", "grid_projections",
    "iter_fourier_gridding", "reconstruct_fourier_gridding",
]
