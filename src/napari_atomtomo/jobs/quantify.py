"""The job of the quantify widget (no Qt): the cached threshold picker and the read-outs.

The job (:func:`iter_quantify_job`) runs in the worker: the summed map of
:func:`~napari_atomtomo.core.quantify.summed_map`, its ESF threshold
(:func:`~napari_atomtomo.core.threshold.esf_threshold`) and the per-voxel fractions
before any threshold. It returns a :class:`~napari_atomtomo.core.quantify.ThresholdPicker`
(re-exported here), which re-applies any threshold in a few milliseconds (2-6 ms for two
100³ maps on a loaded 2-core machine), so dragging the threshold line can update the
``wt_<El>`` layers in the GUI thread.
``ThresholdPicker.weight_fractions(t)`` equals
``quantify_maps(maps, kind, factors, threshold=t).weight_fractions`` bit for bit.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.quantify import (
    QuantifyParams,
    ThresholdPicker,
    make_picker,
    quantify_maps,
    summed_map,
)
from ..core.regions import format_composition, region_statistics
from ..io._names import element_name_match

__all__ = [
    "QuantifyStage",
    "ThresholdPicker",
    "common_folder",
    "element_of_layer",
    "fit_text",
    "format_volume",
    "iter_quantify_job",
    "labels_composition",
    "map_problem",
    "parse_elements",
    "quantify_job",
    "readout_text",
]

#: Steps of the job (for the progress bar).
N_STAGES = 3


@dataclass(frozen=True)
class QuantifyStage:
    """Progress of the quantify job: ``iteration`` of :data:`N_STAGES`, and what was done."""

    iteration: int
    text: str


def iter_quantify_job(
    maps: Mapping[str, np.ndarray], kind: str, factors=None, n_thresholds: int = 100,
    *, limits=None, smooth_voxels="auto",
) -> Generator[QuantifyStage, None, ThresholdPicker]:
    """Summed map, ESF threshold and unthresholded fractions, as a cancellable generator.

    The same steps as :func:`~napari_atomtomo.core.quantify.quantify_maps` (including the
    smoothing of EDS maps before thresholding and the Otsu fallback of a poor fit).
    """
    params = QuantifyParams(kind, n_thresholds=n_thresholds, smooth_voxels=smooth_voxels)
    summed, _ = summed_map(dict(maps), kind, factors)  # validates maps and factors
    if not np.any(summed > 0):
        raise ValueError("all maps are zero (or negative) everywhere; nothing to quantify")
    yield QuantifyStage(1, "summed map")
    picker = make_picker(dict(maps), params, factors, limits=limits)
    esf = picker.esf
    yield QuantifyStage(2, f"{esf.method} threshold {esf.threshold:.4g}")
    yield QuantifyStage(3, "weight fractions")
    return picker


def element_of_layer(name: str, metadata: Mapping | None) -> str | None:
    """The element of a map layer: ``metadata["atomtomo"]["element"]``, else ``map_<El>``."""
    element = (metadata or {}).get("atomtomo", {}).get("element")
    if element:
        return str(element)
    return element_name_match(name, "map")


def parse_elements(text: str) -> list[str]:
    """``"Ag, Au"`` or ``"Ag Au"`` -> ``["Ag", "Au"]``."""
    return [w for w in re.split(r"[,;\s]+", str(text).strip()) if w]


def map_problem(names, arrays, voxel_sizes, values: bool = True) -> str | None:
    """Why these maps cannot be quantified together, or ``None``.

    Checks equal shapes and voxel sizes and, with ``values`` (a full scan: when the job
    starts, not on every input change), finite values and some positive signal.
    """
    shape, vs = np.shape(arrays[0]), float(voxel_sizes[0])
    for name, data, size in zip(names, arrays, voxel_sizes):
        if np.shape(data) != shape:
            return f"{name} has shape {np.shape(data)} but {names[0]} has {shape}"
        if not np.isclose(size, vs, rtol=1e-3):
            return f"{name} has voxel size {size:g} Å but {names[0]} has {vs:g} Å"
        if values and not np.all(np.isfinite(data)):
            return f"{name} contains NaN or infinite values"
    if values and not any(np.any(np.asarray(a) > 0) for a in arrays):
        return "all selected maps are zero or negative everywhere; nothing to quantify"
    return None


def common_folder(paths) -> str:
    """The folder all ``paths`` lie in (the CLI's MAPS_DIR), else ``"maps_dir"``."""
    folders = {str(Path(p).parent) if p else None for p in paths}
    return folders.pop() if len(folders) == 1 and None not in folders else "maps_dir"


def format_volume(n_voxels: int, voxel_size: float) -> str:
    """``"2695 voxels = 9.10e+03 nm³"`` (Å³ below 1 nm³)."""
    cubic_a = float(n_voxels) * float(voxel_size) ** 3
    if cubic_a >= 1000.0 or n_voxels == 0:
        return f"{n_voxels} voxels = {cubic_a / 1000.0:.4g} nm³"
    return f"{n_voxels} voxels = {cubic_a:.4g} Å³"


def fit_text(picker: ThresholdPicker) -> str:
    """How the automatic threshold was chosen: method, fit quality, and any warning."""
    esf = picker.esf
    q = esf.quality
    if esf.fallback:
        return f"⚠ {esf.warning}"
    return (f"ESF fit: {esf.fit_params['n_levels']} particle level(s), residual "
            f"{q['residual']:.3g}, edge fraction {q['edge_fraction']:.3g}, separation "
            f"{q['separation']:.3g}")


def readout_text(picker: ThresholdPicker, threshold: float, fractions: dict, mask: np.ndarray,
                 voxel_size: float, regions: dict | None = None) -> str:
    """Threshold (and the automatic one), particle volume, composition per region, fit."""
    n_inside = int(np.count_nonzero(mask))
    auto = picker.auto_threshold
    method = picker.esf.method.upper() if picker.esf.method == "esf" else "Otsu"
    which = method if threshold == auto else f"{method}: {auto:.4g}"
    stats = regions if regions is not None else region_statistics(fractions, mask)
    return (f"threshold {threshold:.4g} ({which}) · particle {format_volume(n_inside, voxel_size)}"
            f"\n{format_composition(stats)}\n{fit_text(picker)}")


def labels_composition(picker: ThresholdPicker, fractions: dict, inside: np.ndarray, labels,
                       replicas, voxel_size, max_tilt_deg, warnings: list,
                       margin="auto") -> tuple[dict, dict]:
    """``(regions, margin_info)`` of a Labels layer's regions, as ``atomtomo quantify
    --regions`` reports them (:func:`~napari_atomtomo.core.region_margin.region_composition`:
    the same margin away from the boundaries, voxels used, reliability); the regions'
    warnings are appended to ``warnings``.
    """
    from ..core.region_margin import region_composition

    regions, region_warnings, margin_info = region_composition(
        fractions, inside, labels, replicas, summed=picker.summed, margin=margin,
        voxel_size=voxel_size, max_tilt_deg=max_tilt_deg)
    warnings.extend(region_warnings)
    return regions, margin_info


def quantify_job(maps, params, factors, haadf, maps_dir):
    """:func:`iter_quantify_job`, then the particle and support of a HAADF series
    ``(series, angles, name)`` (as ``atomtomo quantify --haadf``) and the weight fractions of
    the replicas in ``maps_dir/resamples/`` (for standard errors): ``(picker, extra)``.
    """
    from ..core.regions import particle_from_series, support_from_series

    picker = yield from iter_quantify_job(maps, params.kind, factors, params.n_thresholds,
                                          smooth_voxels=params.smooth_voxels)
    extra = {}
    shape = picker.summed.shape
    if haadf is not None:
        series, angles, name = haadf
        extra["support"] = support_from_series(series, angles, volume_shape=shape)
        particle, esf, info = particle_from_series(series, angles, shape)
        extra["particle"] = particle
        extra["haadf"] = {"layer": name, "sirt": info.as_dict(), "threshold": esf.threshold,
                          "method": esf.method, "fallback": esf.fallback, "warning": esf.warning,
                          "volume_voxels": int(particle.sum()),
                          "max_tilt_deg": float(np.max(np.abs(angles)))}
        yield QuantifyStage(N_STAGES + 1, f"HAADF particle ({int(particle.sum())} voxels)")
    extra["replicas"] = _replica_fractions(maps_dir, list(maps), params, factors, shape)
    yield QuantifyStage(N_STAGES + 2, f"{len(extra['replicas'])} resampled replicas")
    return picker, extra


def _replica_fractions(maps_dir, elements, params, factors, shape) -> list:
    """Weight fractions (every voxel, threshold 0) of ``maps_dir/resamples/<i>/map_<El>.mrc``."""
    from ..io import read_mrc
    from ..io._names import find_resamples

    out = []
    for paths in (find_resamples(maps_dir, elements) if maps_dir else []):
        rmaps = {el: read_mrc(q)[0] for el, q in paths.items()}
        if any(m.shape != shape for m in rmaps.values()):
            continue
        rq = quantify_maps(rmaps, factors=factors, params=dataclasses.replace(params, threshold=0.0))
        out.append(rq.weight_fractions)
    return out
