"""Checks and real-space constraints shared by EST and the Fourier-gridding method.

Internally both methods keep the volume as contiguous float32 ``(y, z, x)``: every
``y`` slice is an independent 2D problem ``(z, x)``, and batched FFTs run over the
leading axis.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .. import _validate
from ..geometry import validate_angles
from ..params import param
from ..projectors import DENORMAL_FLOOR

SUPPORT_KINDS = ("box", "none")


def check_stack(stack, angles_deg) -> tuple[np.ndarray, np.ndarray]:
    """Validate a tilt series ``(angle, y, x)`` and its angles; float32 copy, denormals flushed."""
    s = _validate.check_stack(stack)
    if s.shape[2] < 2:
        raise ValueError(f"tilt series of shape {s.shape} is too small; images need ≥ 2 columns")
    angles = validate_angles(angles_deg, n_images=s.shape[0])
    out = np.array(s, dtype=np.float32, copy=True)
    out[np.abs(out) < DENORMAL_FLOOR] = 0.0
    if not np.any(out):
        raise ValueError("the tilt series is empty (all values are zero); nothing to reconstruct")
    return out, angles


def check_inputs(stack, angles_deg, params, params_cls: type, voxel_size: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Checks shared by ``iter_est`` and ``iter_fourier_gridding``: params type, voxel size
    and the tilt series (see :func:`check_stack`).
    """
    if not isinstance(params, params_cls):
        name = params_cls.__name__
        article = "an" if name[0] in "AEIOU" else "a"
        raise ValueError(f"params must be {article} {name}, got {type(params).__name__}")
    if not (np.isfinite(voxel_size) and voxel_size > 0):
        raise ValueError(f"voxel_size must be a positive number of Å, got {voxel_size!r}")
    return check_stack(stack, angles_deg)


def check_support_params(support, margin, threshold, dilation, sigma) -> None:
    if support not in SUPPORT_KINDS:
        raise ValueError(f"support must be one of {SUPPORT_KINDS}, got {support!r}")
    if int(margin) != margin or margin < 0:
        raise ValueError(f"loose_support_margin must be a whole number of pixels ≥ 0, got {margin!r}")
    if not (0.0 <= threshold < 1.0):
        raise ValueError(f"tight_support_threshold must be in [0, 1), got {threshold!r}")
    if int(dilation) != dilation or dilation < 0:
        raise ValueError(f"tight_support_dilation must be a whole number ≥ 0, got {dilation!r}")
    if not (sigma >= 0.0):
        raise ValueError(f"tight_support_sigma must be ≥ 0 pixels, got {sigma!r}")


def check_up_to(name: str, value, top: float, unit: str) -> None:
    """``value`` must lie in ``(0, top]`` (``unit`` names its unit in the error)."""
    if not (0.0 < value <= top):
        raise ValueError(f"{name} must be in (0, {top:g}] {unit}, got {value!r}")


def check_iterations(n_iter, n_iter_tight, yield_every) -> None:
    for name, v in (("n_iter", n_iter), ("n_iter_tight", n_iter_tight)):
        if int(v) != v or v < 0:
            raise ValueError(f"{name} must be a whole number ≥ 0, got {v!r}")
    if n_iter + n_iter_tight < 1:
        raise ValueError("n_iter + n_iter_tight must be at least 1")
    if int(yield_every) != yield_every or yield_every < 1:
        raise ValueError(f"yield_every must be a whole number ≥ 1, got {yield_every!r}")


def loose_support(n: int, margin: int, kind: str) -> np.ndarray:
    """Boolean ``(z, x)`` mask of one slice: the reconstruction box less ``margin`` px."""
    mask = np.zeros((n, n), dtype=bool)
    if kind == "none":
        mask[...] = True
        return mask
    if 2 * margin >= n:
        raise ValueError(
            f"loose_support_margin {margin} leaves no support inside a {n}-pixel reconstruction"
        )
    mask[margin:n - margin, margin:n - margin] = True
    return mask


def tighten_support(vol_yzx: np.ndarray, loose: np.ndarray, threshold: float, dilation: int,
                    sigma: float, top: float | None = None) -> np.ndarray:
    """Tight support ``(y, z, x)`` from a reconstruction: smoothed > threshold·max, dilated.

    Falls back to the loose support when the threshold selects nothing. ``top`` gives the
    maximum of the smoothed volume when ``vol_yzx`` is only a y-slab of it (the chunked
    path computes it once over the whole volume); an empty slab mask is then kept.
    """
    smooth = ndimage.gaussian_filter(vol_yzx, sigma) if sigma > 0 else vol_yzx
    whole = top is None
    peak = float(smooth.max()) if top is None else float(top)
    if peak <= 0:
        return np.broadcast_to(loose, vol_yzx.shape).copy()
    mask = smooth > threshold * peak
    if dilation:
        mask = ndimage.binary_dilation(mask, iterations=int(dilation))
    mask &= loose[None]
    if whole and not mask.any():
        return np.broadcast_to(loose, vol_yzx.shape).copy()
    return mask


def support_halo(dilation: int, sigma: float) -> int:
    """Rows of a y-slab's neighbours that decide its tight support: the Gaussian's radius
    (scipy's ``truncate=4``) plus the dilation.
    """
    return (int(4.0 * float(sigma) + 0.5) if sigma > 0 else 0) + int(dilation)


def apply_constraints(x: np.ndarray, support: np.ndarray, positivity: bool) -> None:
    """In place: zero outside ``support`` (broadcast against ``x``) and, optionally, negatives."""
    np.multiply(x, support, out=x)
    if positivity:
        np.maximum(x, 0.0, out=x)


def to_public(vol_yzx: np.ndarray) -> np.ndarray:
    """Internal ``(y, z, x)`` → public ``(z, y, x)`` contiguous copy (always a copy)."""
    return vol_yzx.transpose(1, 0, 2).copy(order="C")


@dataclass(frozen=True)
class TwoRoundParams:
    """The fields and checks EST and Fourier gridding share (two rounds, loose then tight
    support, positivity); see :class:`~.reconstruct.EstParams` for their meaning.
    :class:`~.reconstruct.EstParams` and :class:`~.gridding.GriddingParams` add their
    own fields after these.
    """

    n_iter: int = param(200, flag="--iterations", label="iterations, loose support",
                        range=(0, 100_000), help="round 1: iterations inside the whole "
                        "reconstruction box (paper: 200); the error usually settles within 100-200")
    n_iter_tight: int = param(200, flag="--tight-iterations", label="iterations, tight support",
                              range=(0, 100_000), help="round 2: iterations inside a support "
                              "cut around the object found in round 1 (paper: 200); 0 skips it")
    oversampling: int = param(2, flag="--oversampling", label="oversampling", range=(1, 4),
                              help="Fourier-space oversampling: 2 samples each line twice as "
                                   "finely as the image; more is slower")
    support: str = "box"
    loose_support_margin: int = param(0, flag="--support-margin", label="support margin",
                                      unit="px", range=(0, 10_000),
                                      help="pixels cut from each edge of the box (x and z) "
                                           "where the object may be in round 1")
    tight_support_threshold: float = param(
        0.05, flag="--tight-threshold", label="tight support threshold", range=(0.0, 0.99),
        step=0.01, help="round 2 keeps voxels brighter than this fraction of the round-1 "
                        "maximum (after 1 px smoothing, grown by 2 px)")
    tight_support_dilation: int = 2
    tight_support_sigma: float = 1.0
    positivity: bool = True
    yield_every: int = 5

    def __post_init__(self):
        check_iterations(self.n_iter, self.n_iter_tight, self.yield_every)
        if int(self.oversampling) != self.oversampling or not 1 <= self.oversampling <= 4:
            raise ValueError(f"oversampling must be an integer from 1 to 4, got {self.oversampling!r}")
        check_support_params(self.support, self.loose_support_margin, self.tight_support_threshold,
                             self.tight_support_dilation, self.tight_support_sigma)


@dataclass(frozen=True)
class SetupStep:
    """A stage of an EST or Fourier-gridding set-up done (only with ``setup_steps=True``).

    ``stage`` names it (EST: "measured lines", "back projection", "operator"; gridding:
    "gridding"); ``step`` counts from 1 to ``n_steps`` over the whole set-up. A consumer
    that stops iterating here cancels the set-up within one stage (one chunk of slices).
    """

    stage: str
    step: int
    n_steps: int
    round: int = 0
    iteration: int = 0


class SetupCounter:
    """Numbers the :class:`SetupStep` states of one set-up of ``n_steps`` stages."""

    def __init__(self, n_steps: int):
        self.n_steps = n_steps
        self.step = 0

    def done(self, stage: str) -> SetupStep:
        self.step += 1
        return SetupStep(stage, self.step, self.n_steps)


@dataclass(frozen=True)
class FourierState:
    """The fields :class:`~.reconstruct.EstState` and :class:`~.gridding.GriddingState` share.

    ``round`` is 1 (loose support) or 2 (tight support); ``iteration`` counts from 1 over
    both rounds; ``error`` is the relative Fourier error before this iteration's update;
    ``preview`` is a ``(z, y, x)`` copy every ``yield_every`` iterations, else ``None``.
    """

    round: int
    iteration: int
    error: float
    preview: np.ndarray | None = None


def _run_rounds(x, step_fn, loose, params, yield_every, constrained_step: bool = False,
                support_top: float | None = None) -> Iterator:
    """Shared two-round driver: yields ``(round, iteration, error, preview, support)``.

    ``step_fn(x)`` updates ``x`` and returns the error; the constraints are applied after
    it. With ``constrained_step`` it is called as ``step_fn(x, support)`` and applies them
    itself (EST fuses them into its update).
    """
    support = np.broadcast_to(loose, x.shape)
    it = 0
    for rnd, count in ((1, params.n_iter), (2, params.n_iter_tight)):
        if rnd == 2 and count:
            support = tighten_support(x, loose, params.tight_support_threshold,
                                      params.tight_support_dilation, params.tight_support_sigma,
                                      top=support_top)
            apply_constraints(x, support, params.positivity)
        for _ in range(count):
            it += 1
            if constrained_step:
                err = step_fn(x, support)
            else:
                err = step_fn(x)
                apply_constraints(x, support, params.positivity)
            preview = to_public(x) if it % yield_every == 0 else None
            yield rnd, it, err, preview, support


def _drive(x, step_fn, loose, params, state_cls, support_top, constrained_step=False):
    """Run :func:`_run_rounds`, yielding ``state_cls`` per iteration (EST and gridding).

    Returns ``(errors, support)``: the error of every iteration and the last support,
    public ``(z, y, x)`` and of the volume's shape.
    """
    errors = []
    support = None
    for rnd, it, err, preview, support in _run_rounds(x, step_fn, loose, params,  # noqa: B007
                                                      params.yield_every,
                                                      constrained_step=constrained_step,
                                                      support_top=support_top):
        errors.append(err)
        yield state_cls(round=rnd, iteration=it, error=err, preview=preview)
    return np.asarray(errors), to_public(np.broadcast_to(support, x.shape))
