"""Atom / non-atom classification of candidate peaks (after the minimum-distance step).

A noisy reconstruction has many more local maxima than atoms. Peak height alone does not
tell them apart well at small voxels (a one-voxel noise spike can be as high as a light
atom), but an atom also carries more *signal*: its integrated intensity (fitted height ×
σ³) grows with its width, a noise bump's does not. Each candidate gets the score

    s = ½ (ln I + ln M),     I = peak height (quadratic fit), M = height · σ_fit³,

the geometric mean of height and integrated intensity (σ_fit the fitted Gaussian width,
the median where the fit failed). The scores are split into ``n_elements + 1`` classes
by the same Otsu-initialised Gaussian mixture as the element split; the dimmest class is
non-atoms. The split is *accepted* only if the non-atom class is separated from the
next one by a clear gap: the separation

    d' = (μ_next − μ_non) / √(½ (σ_next² + σ_non²))

must reach :data:`MIN_SEPARATION` and the class means differ by at least ln 1.5
(:data:`MIN_SCORE_GAP`). Otherwise there is no evidence of two populations and
every candidate is kept (with a warning): the noise floor alone decides, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import DENORMAL_FLOOR, TINY
from ._split import split_elements

__all__ = ["MIN_SEPARATION", "Classification", "candidate_scores", "classify_candidates"]

#: Smallest separation d' of the non-atom class from the atoms for the split to be used.
MIN_SEPARATION = 2.5
#: ... and smallest difference of the class mean scores (ln 1.5: non-atoms carry at most
#: 2/3 of an atom's signal), so that identical atoms of a clean volume, whose scores
#: differ by sub-voxel sampling only, are never split.
MIN_SCORE_GAP = float(np.log(1.5))
#: Below this separation the split is used but flagged: atoms and noise overlap (low dose).
CLEAR_SEPARATION = 4.0


@dataclass(frozen=True)
class Classification:
    """Which candidates are atoms, and how clearly.

    ``method`` is ``"mixture"``/``"otsu"`` (split used), ``"no gap"`` (split rejected, all
    kept), ``"off"`` (not asked for) or ``"too few"`` (fewer than 4 candidates).
    ``threshold`` is the score below which a candidate is a non-atom (None if none).
    """

    is_atom: np.ndarray
    scores: np.ndarray
    threshold: float | None
    separation: float | None
    method: str
    warning: str | None = None

    def to_dict(self) -> dict:
        return {"classification_method": self.method,
                "classification_score_threshold": self.threshold,
                "classification_separation": self.separation,
                "classification_warning": self.warning}


def candidate_scores(intensity, fit_height, width_vox) -> np.ndarray:
    """``½ (ln I + ln (height · σ³))`` per candidate (non-positive values floored)."""
    inten = np.asarray(intensity, dtype=np.float64)
    h = np.asarray(fit_height, dtype=np.float64)
    w = np.asarray(width_vox, dtype=np.float64)
    ok = np.isfinite(w)
    w = np.where(ok, w, np.median(w[ok]) if ok.any() else 1.0)
    tiny = 1e-12 * max(float(np.max(np.abs(inten), initial=0.0)), DENORMAL_FLOOR)
    return 0.5 * (np.log(np.maximum(inten, tiny)) + np.log(np.maximum(h * w**3, tiny)))


def classify_candidates(intensity, fit_height, width_vox, n_elements: int = 1) -> Classification:
    """Split candidates into atoms and non-atoms (see the module docstring)."""
    s = candidate_scores(intensity, fit_height, width_vox)
    n = s.size
    if n < 4:
        return Classification(np.ones(n, bool), s, None, None, "too few")
    split = split_elements(s, int(n_elements) + 1)
    t = split.thresholds[-1]
    lo, hi = s[s <= t], s[(s > t) & ((s <= split.thresholds[-2]) if n_elements > 1 else True)]
    if not np.isfinite(t) or lo.size < 2 or hi.size < 2:
        return Classification(np.ones(n, bool), s, None, None, "no gap",
                              "no non-atom class found; every candidate above the floor is kept")
    sep = float((hi.mean() - lo.mean()) / np.sqrt(0.5 * (hi.var() + lo.var()) + TINY))
    gap = float(hi.mean() - lo.mean())
    if sep < MIN_SEPARATION or gap < MIN_SCORE_GAP:
        return Classification(np.ones(n, bool), s, float(t), sep, "no gap",
                              f"no clear gap between atoms and non-atoms (separation {sep:.2f}, "
                              f"need {MIN_SEPARATION}; score gap {gap:.2f}, need "
                              f"{MIN_SCORE_GAP:.2f}); every candidate above the floor is kept")
    # False-alarm guard: of N non-atoms drawn from the fitted noise class, about half a
    # peak reaches μ + z σ with z = Φ⁻¹(1 − 1/(2N)); atoms must clear that level too.
    # (-ndtri(q) is scipy.stats.norm.isf(q); importing scipy.stats for it cost a Trace
    # job 0.5 s of imports, one 68 ms unmarshal holding the GIL from the GUI thread.)
    from scipy.special import ndtri

    z = float(-ndtri(0.5 / lo.size))
    level = float(lo.mean() + z * lo.std())
    is_atom = (s > t) & (s > level)
    warn = None
    if sep < CLEAR_SEPARATION:
        warn = (f"atoms and non-atoms overlap (separation {sep:.2f} < {CLEAR_SEPARATION}): "
                f"expect missed and false atoms at this noise level; check the structure "
                f"report (atomtomo structure) and the rejected candidates")
    return Classification(is_atom, s, float(max(t, level)), sep, split.method, warn)


class _Cls:
    """Classification outcome over all above-floor peaks (scores indexed like them)."""

    def __init__(self, is_atom, scores_all, info):
        self.is_atom, self.scores_all, self.info = is_atom, scores_all, info
        self.warning = info.get("classification_warning")

    def to_dict(self):
        return self.info


def classify_for_trace(classify, n_expected, n_elements, kept, inten, height, width) -> _Cls:
    """The classification step of :func:`trace_atoms` over the ``kept`` (after the minimum
    distance) of all above-floor peaks; off with ``classify="none"``, an expected count or
    several elements in one pass.
    """
    scores = candidate_scores(inten, height, width) if inten.size else np.zeros(0)
    if classify == "none" or n_expected is not None or n_elements > 1:
        why = ("none" if classify == "none" else "off (n_expected cuts the list)"
               if n_expected is not None else "off (several elements: the element split "
               "decides; the subtraction method classifies each light-element pass)")
        return _Cls(np.ones(kept.size, bool), scores,
                    {"classification_method": why, "classification_score_threshold": None,
                     "classification_separation": None, "classification_warning": None})
    c = classify_candidates(inten[kept], height[kept], width[kept], n_elements)
    return _Cls(c.is_atom, scores, c.to_dict())
