"""Tilt-series preprocessing before reconstruction: vacuum level, bad pixels, counts, noise.

SIRT and EST treat every count as projected mass, so a flat vacuum level (≈ 1 count per
pixel on many HAADF detectors) is spread over the whole volume. :func:`preprocess_series`
runs, in this order and each only when asked for:

1. **bad pixels** (``hot_pixels``): a pixel more than ``hot_sigma`` robust standard
   deviations (1.4826 × MAD of the image minus its 3 × 3 median) above all of its eight
   neighbours, or below all of them, is replaced by its 3 × 3 median (hot and dead
   pixels). Off by default: at coarse sampling a bright atom column can be one pixel wide;
2. **vacuum background** (``background``): ``"border"`` estimates each image's vacuum
   level from strips of ``border_px`` pixels along its four edges. The particle may enter
   an edge, so only the strips whose clipped mean lies within three standard errors of
   the lowest are kept, and of their pixels those above ``median + 4 σ`` are rejected
   (iteratively) before the mean is taken. ``"mask"`` takes the clipped mean of the pixels a
   given vacuum mask marks. The level is subtracted (not clipped: clipping the noise at
   zero would leave a positive bias);
3. **normalisation** (``normalize``): every image is scaled to the mean total count of
   the series (HAADF mass conservation across tilts);
4. **denoising** (``denoise``): scikit-image's wavelet (BayesShrink) or non-local means
   filter, with the noise level estimated per image (robust σ of neighbour differences / √2).
   The wavelet filter needs PyWavelets (``pip install PyWavelets``).

Every automatic choice (levels, rejected pixels, scale factors, noise levels) is returned
in :class:`PreprocessResult.report`, with a quality measure and warnings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from ._refs import PAPER_000, PAPER_002, cites
from ._validate import check_stack
from .params import param, register_params

__all__ = ["PreprocessParams", "PreprocessResult", "preprocess_series", "report_summary",
           "vacuum_level"]

_BACKGROUNDS = ("none", "border", "mask")
_DENOISERS = ("none", "wavelet", "nlmeans")
_MAD = 1.4826


@register_params("preprocess")
@dataclass(frozen=True)
class PreprocessParams:
    """Preprocessing settings shared by the CLI, the widget and ``layer.metadata``.

    Attributes
    ----------
    background : {"border", "mask", "none"}
        How the vacuum level of each image is found (module docstring); ``"mask"`` needs a
        vacuum mask passed to :func:`preprocess_series`.
    border_px : int or None
        Width of the edge strips; ``None`` picks ``max(2, min(ny, nx) // 16)``.
    hot_pixels : bool
        Replace hot/dead pixels by their 3 × 3 median.
    hot_sigma : float
        Threshold of the bad-pixel test, in robust standard deviations.
    normalize : bool
        Scale every image to the series' mean total count.
    denoise : {"none", "wavelet", "nlmeans"}
        Optional denoising of each image.
    """

    background: str = param(
        "border", flag="--background", label="vacuum level", choices=("border", "mask", "none"),
        help="subtract each image's vacuum level, found in strips along its edges (strips the "
             "particle crosses are left out), in a vacuum mask, or not at all")
    border_px: int | None = param(
        None, flag="--border-px", label="border (px, 0 = auto)", range=(0, 10_000), kind=int,
        none_as=0, help="width of the edge strips; automatic: min(ny, nx) // 16, at least 2")
    hot_pixels: bool = param(False, flag="--hot-pixels", label="replace hot/dead pixels",
                             widget="check",
                             help="replace single-pixel spikes and holes by their 3×3 median")
    hot_sigma: float = param(8.0, flag="--hot-sigma", label="bad-pixel threshold (σ)",
                             range=(2.5, 1000.0), step=0.5,
                             help="a pixel this many robust σ beyond all its neighbours is bad")
    normalize: bool = param(False, flag="--normalize", label="normalise total counts",
                            widget="check", help="scale every image to the series' mean total "
                                                 "count (HAADF mass conservation)")
    denoise: str = param("none", flag="--denoise", label="denoise",
                         choices=("none", "nlmeans", "wavelet"),
                         help="denoise each image: scikit-image's non-local means or a wavelet "
                              "filter (needs PyWavelets)")

    def __post_init__(self):
        if self.background not in _BACKGROUNDS:
            raise ValueError(f"background must be one of {', '.join(_BACKGROUNDS)}, "
                             f"got {self.background!r}")
        if self.denoise not in _DENOISERS:
            raise ValueError(f"denoise must be one of {', '.join(_DENOISERS)}, got {self.denoise!r}")
        b = self.border_px
        if b is not None:
            if isinstance(b, bool) or not float(b).is_integer() or b < 1:
                raise ValueError(f"border_px must be a whole number ≥ 1, got {b!r}")
            object.__setattr__(self, "border_px", int(b))
        if not (np.isfinite(self.hot_sigma) and self.hot_sigma > 2):
            raise ValueError(f"hot_sigma must be a number > 2, got {self.hot_sigma!r}")


@dataclass(frozen=True)
class PreprocessResult:
    """The preprocessed stack ``(angle, y, x)`` float32 and a JSON-ready report."""

    stack: np.ndarray
    report: dict


def _robust_sigma(values: np.ndarray) -> float:
    return float(_MAD * np.median(np.abs(values - np.median(values))))


def _border_strips(image: np.ndarray, w: int) -> list[np.ndarray]:
    return [image[:w, :].ravel(), image[-w:, :].ravel(), image[:, :w].ravel(), image[:, -w:].ravel()]


def _clipped(pix: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean and standard deviation of ``pix`` after iterative clipping above
    ``median + 4 σ`` and below ``median − 5 σ``.

    The mean (not the median) is returned: at low dose the counts are small integers and
    a median is off by up to half a count.
    """
    ok = np.ones(pix.size, dtype=bool)
    for _ in range(10):
        centre = np.median(pix[ok])
        sd = float(np.std(pix[ok]))
        new = (pix <= centre + 4.0 * sd) & (pix >= centre - 5.0 * sd) if sd > 0 else pix == centre
        if np.array_equal(new, ok):
            break
        ok = new
    return float(np.mean(pix[ok])), float(np.std(pix[ok])), ok


def vacuum_level(image, border_px: int) -> tuple[float, float, float, int]:
    """Vacuum level of one image from its edge strips (module docstring).

    Each strip's clipped mean is computed; the particle raises the mean of a strip it
    crosses, so only strips within three standard errors of the lowest are pooled, and
    the pooled pixels are clipped again.

    Returns
    -------
    (level, sigma, rejected_fraction, n_strips)
        The level, the noise width of the vacuum, the fraction of the kept strips' pixels
        rejected as object, and how many of the four strips were kept.
    """
    img = np.asarray(image, dtype=np.float64)
    strips = _border_strips(img, border_px)
    stats = [_clipped(s) for s in strips]
    means = np.array([m for m, _, _ in stats])
    errors = np.array([sd / np.sqrt(max(int(np.count_nonzero(ok)), 1)) for _, sd, ok in stats])
    low = int(np.argmin(means))
    keep = [s for s, m, e in zip(strips, means, errors)
            if m <= means[low] + 3.0 * np.hypot(e, errors[low])]
    pix = np.concatenate(keep)
    level, sigma, ok = _clipped(pix)
    rejected = float(1.0 - np.count_nonzero(ok) / pix.size)
    return level, sigma, rejected, len(keep)


_RING = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=bool)


def _bad_pixels(image: np.ndarray, k: float) -> tuple[np.ndarray, int]:
    """Replace single-pixel spikes and holes by their 3 × 3 median.

    A pixel is bad when it lies more than ``k`` robust σ (of the image minus its 3 × 3
    median) above the largest, or below the smallest, of its eight neighbours: a real
    feature, even an atom column one pixel wide, is shared by its neighbours.
    """
    med = ndimage.median_filter(image, size=3, mode="reflect")
    sig = _robust_sigma(image - med)
    if sig == 0:
        sig = float(np.std(image - med))
    if sig == 0:
        return image, 0
    hi = ndimage.maximum_filter(image, footprint=_RING, mode="reflect")
    lo = ndimage.minimum_filter(image, footprint=_RING, mode="reflect")
    bad = (image > hi + k * sig) | (image < lo - k * sig)
    return np.where(bad, med, image), int(np.count_nonzero(bad))


def _denoise(image: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    from skimage.restoration import denoise_nl_means, denoise_wavelet

    # white-noise level from neighbour differences; the MAD ignores edges and atoms
    sigma = _robust_sigma(np.diff(image, axis=1).ravel()) / np.sqrt(2.0)
    if sigma <= 0:
        return image, sigma
    if method == "wavelet":
        out = denoise_wavelet(image, sigma=sigma, method="BayesShrink", mode="soft",
                              rescale_sigma=False)
    else:
        out = denoise_nl_means(image, h=0.8 * sigma, sigma=sigma, patch_size=5,
                               patch_distance=6, fast_mode=True)
    return np.asarray(out, dtype=np.float64), sigma


@cites(PAPER_000, PAPER_002)
def preprocess_series(stack, params: PreprocessParams = PreprocessParams(), *,
                      vacuum_mask=None) -> PreprocessResult:
    """Preprocess a tilt series ``(angle, y, x)`` (module docstring); the input is not changed.

    Parameters
    ----------
    stack : array, shape (angle, y, x)
    params : PreprocessParams
    vacuum_mask : bool array, shape (y, x) or (angle, y, x), optional
        True on vacuum pixels; required for ``background="mask"``.

    Returns
    -------
    PreprocessResult
        The processed float32 ``stack`` and a ``report`` of what was done.
    """
    if not isinstance(params, PreprocessParams):
        raise ValueError(f"params must be a PreprocessParams, got {type(params).__name__}")
    s = check_stack(stack)
    n_a, n_y, n_x = s.shape
    border = params.border_px if params.border_px is not None else max(2, min(n_y, n_x) // 16)
    if params.background == "border" and 2 * border >= min(n_y, n_x):
        raise ValueError(f"border_px {border} is too wide for {n_y} × {n_x} images")
    mask = None
    if params.background == "mask":
        if vacuum_mask is None:
            raise ValueError("background 'mask' needs a vacuum mask")
        mask = np.asarray(vacuum_mask).astype(bool)
        if mask.shape == (n_y, n_x):
            mask = np.broadcast_to(mask, s.shape)
        if mask.shape != s.shape:
            raise ValueError(f"vacuum mask has shape {np.shape(vacuum_mask)}; expected {(n_y, n_x)} "
                             f"or {s.shape}")
        empty = np.nonzero(mask.reshape(n_a, -1).sum(axis=1) < 10)[0]
        if empty.size:
            raise ValueError(f"vacuum mask marks fewer than 10 pixels in image {int(empty[0])}")
    elif vacuum_mask is not None:
        raise ValueError("a vacuum mask was given but background is not 'mask'")

    if params.denoise == "wavelet":
        try:
            import pywt  # noqa: F401
        except ImportError:
            raise ValueError("denoise 'wavelet' needs PyWavelets; install it with "
                             "pip install PyWavelets, or use denoise 'nlmeans'") from None
    out = s.astype(np.float64)  # a copy: the input is never modified
    report: dict = {"algorithm": "preprocess", "parameters": asdict(params), "warnings": []}
    if params.background == "border":
        report["parameters"]["border_px"] = border

    if params.hot_pixels:
        counts = []
        for a in range(n_a):
            out[a], n_bad = _bad_pixels(out[a], params.hot_sigma)
            counts.append(n_bad)
        report["bad_pixels_replaced"] = counts

    if params.background != "none":
        levels, sigmas = np.zeros(n_a), np.zeros(n_a)
        rejected, kept = np.zeros(n_a), np.zeros(n_a, dtype=int)
        for a in range(n_a):
            if mask is not None:
                levels[a], sigmas[a], _ = _clipped(out[a][mask[a]])
            else:
                levels[a], sigmas[a], rejected[a], kept[a] = vacuum_level(out[a], border)
            out[a] -= levels[a]
        report["background_levels"] = levels.tolist()
        report["vacuum_noise_sigma"] = sigmas.tolist()
        if mask is None:
            report["border_rejected_fraction"] = rejected.tolist()
            report["border_strips_used"] = kept.tolist()
            worst = int(np.argmax(rejected))
            if rejected[worst] > 0.3:
                report["warnings"].append(
                    f"image {worst}: {100 * rejected[worst]:.0f}% of its border pixels look like "
                    "object; its vacuum level may be too high (use a vacuum mask)")
        # quality: the subtracted vacuum should be flat, i.e. its level uncertain by < its noise
        report["quality"] = {"median_vacuum_sigma": float(np.median(sigmas))}

    if params.normalize:
        totals = out.sum(axis=(1, 2))
        if np.any(totals <= 0):
            bad = int(np.argmin(totals))
            raise ValueError(f"image {bad} has no positive total after background subtraction; "
                             "cannot normalise the counts")
        factors = totals.mean() / totals
        out *= factors[:, None, None]
        report["normalization_factors"] = factors.tolist()
        spread = float(np.std(factors))
        if spread > 0.2:
            report["warnings"].append(
                f"total counts vary by {100 * spread:.0f}% (std) across tilts; normalisation "
                "assumes the whole object is in every image")

    if params.denoise != "none":
        sig = []
        for a in range(n_a):
            out[a], sg = _denoise(out[a], params.denoise)
            sig.append(sg)
        report["denoise_sigma"] = sig
    return PreprocessResult(out.astype(np.float32), report)


def report_summary(report: dict) -> str:
    """One line saying what :func:`preprocess_series` did (CLI output and the dock)."""
    p = report.get("parameters", {})
    steps = []
    if "background_levels" in report:
        lv = np.asarray(report["background_levels"])
        how = p.get("background", "")
        if how == "border":
            how += f", {p.get('border_px')} px strips"
        steps.append(f"vacuum level {lv.min():.4g}…{lv.max():.4g} subtracted ({how})")
    if "bad_pixels_replaced" in report:
        steps.append(f"{sum(report['bad_pixels_replaced'])} bad pixels replaced")
    if "normalization_factors" in report:
        f = np.asarray(report["normalization_factors"])
        steps.append(f"counts normalised (factors {f.min():.3f}…{f.max():.3f})")
    if "denoise_sigma" in report:
        steps.append(f"{p.get('denoise')} denoising (noise σ median "
                     f"{np.median(report['denoise_sigma']):.3g})")
    return "; ".join(steps) or "nothing to do"
