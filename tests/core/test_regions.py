"""Per-region compositions, standard errors, and the support of a tilt series."""

import numpy as np
import pytest

from napari_atomtomo.core.projectors import forward_project
from napari_atomtomo.core.regions import (
    format_composition,
    poisson_resample,
    region_statistics,
    support_check,
    support_from_series,
)


def test_region_statistics_equal_naive_means_and_replica_spread():
    rng = np.random.default_rng(0)
    shape = (20, 1, 20)
    fr = {"Ag": rng.uniform(0, 1, shape)}
    fr["Au"] = 1 - fr["Ag"]
    mask = np.zeros(shape, bool)
    mask[2:18, 0, 2:18] = True
    labels = np.zeros(shape)
    labels[:10] = 1
    labels[10:] = 2
    reps = [{el: f * s for el, f in fr.items()} for s in (0.9, 1.0, 1.2)]
    stats = region_statistics(fr, mask, labels, reps)
    for lab in (1, 2):
        sel = (labels == lab) & mask
        assert stats[str(lab)]["n_voxels"] == sel.sum()
        assert stats[str(lab)]["mean"]["Ag"] == pytest.approx(fr["Ag"][sel].mean())
        spread = np.std([r["Au"][sel].mean() for r in reps], ddof=1)
        assert stats[str(lab)]["standard_error"]["Au"] == pytest.approx(spread)
    whole = region_statistics(fr, mask)
    assert list(whole) == ["particle"] and whole["particle"]["standard_error"]["Ag"] is None
    text = format_composition(stats)
    assert text.splitlines()[0].startswith("1 (128 voxels): Ag ") and " ± " in text
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        region_statistics(fr, mask, labels + 0.5)
    with pytest.raises(ValueError, match="has no region"):
        region_statistics(fr, mask, np.zeros(shape))


def test_poisson_resample_has_the_counts_mean_and_variance():
    counts = {"Ag": np.full((200, 1, 50), 40.0, np.float32)}
    rep = poisson_resample(counts, np.random.default_rng(1))["Ag"]
    assert rep.dtype == np.float32
    assert rep.mean() == pytest.approx(40.0, rel=0.01) and rep.var() == pytest.approx(40.0, rel=0.05)


@pytest.mark.parametrize("ndim", [2, 3])
def test_support_of_a_tilt_series_contains_the_object(ndim):
    n = 48
    c = np.arange(n) - (n - 1) / 2
    if ndim == 2:
        z, x = np.meshgrid(c, c, indexing="ij")
        obj = (np.hypot(x - 4, z) < 14)[:, None, :]
    else:
        z, y, x = np.meshgrid(c, c, c, indexing="ij")
        obj = np.sqrt((x - 4) ** 2 + y**2 + z**2) < 14
    angles = np.arange(-75, 76, 5.0)
    series = forward_project(obj.astype(np.float32), angles)
    series += np.random.default_rng(0).normal(0, 0.2, series.shape).astype(np.float32)
    hull = support_from_series(series, angles, volume_shape=obj.shape)
    assert np.count_nonzero(obj & ~hull) <= 0.01 * obj.sum()  # contains the object
    assert hull.sum() < 1.6 * obj.sum()  # and over-estimates it only by the missing wedge
    info, warning = support_check(obj, hull, "haadf")
    assert warning is None and 0.6 < info["region_to_support"] <= 1.0
    collapsed = np.zeros_like(obj)  # what the old ESF fit kept: a few voxels
    collapsed.flat[np.flatnonzero(obj)[:20]] = True
    info, warning = support_check(collapsed, hull, "haadf")
    assert info["region_to_support"] < 0.2 and "outside the plausible 20–300 %" in warning
