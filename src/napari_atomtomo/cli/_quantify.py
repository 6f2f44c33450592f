"""``atomtomo quantify MAPS_DIR --kind eds|hebt --out OUT_DIR``: weight-fraction maps.

The threshold's method (``esf`` or the ``otsu`` fallback), its fit quality, the fallback
flag, warnings and the support check are printed and written to ``quantify.json``. Per
region (``--regions LABELS.mrc``, else the whole particle) the mean weight fractions come
with standard errors when ``MAPS_DIR/resamples/<i>/map_<El>.mrc`` exist (written by
``atomtomo eds|hebt --resamples K``). The resolution measured at the particle's surface
(``resolution_voxels``) and, with ``--regions``, each region's reliability
(:mod:`~napari_atomtomo.core.reliability`: too thin for the resolution, or an interface in
the missing wedge of the tilt range from ``--max-tilt``, ``MAPS_DIR/eds.json|hebt.json`` or
the ``--haadf`` angles) are reported; an unreliable region gets a warning. Each region is
averaged only over its voxels at least ``--region-margin`` (``auto``: 2 σ of the measured
blur) from its boundaries (:mod:`~napari_atomtomo.core.region_margin`); the voxels painted
and used and the margin (voxels, Å, source) are reported per region.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np

from ..core.quantify import QuantifyParams
from ..io._names import element_name_match, find_resamples
from ._common import Outputs, add_force, warn, write_json
from ._params import add_param_options, read_params


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "quantify",
        help="turn EDS or HEBT element maps into weight-fraction maps (paper 002)",
        description=(
            "Read map_<El>.mrc from MAPS_DIR, divide each by its element factor (f_A for "
            "--kind eds, Eq. 12; z_A for --kind hebt, Eq. 18), zero the voxels whose summed "
            "map is below the threshold (ESF method by default) and normalise per voxel. "
            "Writes wt_<El>.mrc (weight fractions 0-1) and quantify.json to OUT_DIR."
        ),
    )
    p.add_argument("maps_dir", metavar="MAPS_DIR", help="folder with map_<El>.mrc files")
    # --kind, --threshold, --smooth, --region-margin: the specs (as the Quantify dock)
    add_param_options(p, QuantifyParams)
    p.add_argument("--factors", metavar="F.json",
                   help='element factors {"Pt": {"z": ..., "f": ...}} in b·mol/g '
                        "(default: the built-in Table 2 factors for Ag, Au, Co, Zn)")
    p.add_argument("--haadf", metavar="HAADF.mrc", default=None,
                   help="HAADF tilt series (angles from the .tlt next to it): the particle is "
                        "its SIRT reconstruction's ESF threshold instead of a threshold on the "
                        "maps, and its visual hull the support the particle is checked against")
    p.add_argument("--regions", metavar="LABELS.mrc", default=None,
                   help="integer label map of the maps' shape (0 = none): report the "
                        "composition per label")
    p.add_argument("--max-tilt", type=float, default=None, metavar="DEG",
                   help="largest tilt angle of the series the maps came from, for the "
                        "missing-wedge check of --regions (default: from MAPS_DIR/eds.json or "
                        "hebt.json, else the --haadf angles)")
    p.add_argument("--out", required=True, metavar="OUT_DIR", help="output folder")
    add_force(p)
    p.set_defaults(func=run)


def find_max_tilt(maps_dir, given=None, angles=None) -> tuple[float | None, str]:
    """``(θ_max, source)``: ``--max-tilt``, else ``eds.json``/``hebt.json``, else the HAADF angles."""
    import json

    if given is not None:
        if not (math.isfinite(given) and 0 < abs(given) <= 90):
            raise ValueError(f"--max-tilt must be an angle in (0, 90] degrees, got {given!r}")
        return abs(float(given)), "--max-tilt"
    for name in ("hebt.json", "eds.json"):
        path = Path(maps_dir) / name
        if path.is_file():
            try:
                rng = json.loads(path.read_text()).get("tilt_range_deg")
            except (ValueError, AttributeError):
                rng = None
            if isinstance(rng, list) and len(rng) == 2:
                return float(max(abs(rng[0]), abs(rng[1]))), str(path)
    if angles is not None:
        return float(np.max(np.abs(angles))), "--haadf angles"
    return None, "unknown"


def find_maps(maps_dir) -> dict[str, Path]:
    """``{element: path}`` of the ``map_<El>.mrc`` files in ``maps_dir`` (sorted)."""
    root = Path(maps_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"maps folder {root} does not exist or is not a folder")
    found = {}
    for path in sorted(root.iterdir()):
        element = element_name_match(path.name, "map", ".mrc")
        if element:
            found[element] = path
    if not found:
        raise ValueError(f"{root} holds no map_<Element>.mrc files (e.g. map_Ag.mrc)")
    return found


def _read_maps(paths: dict, voxel_size=None):
    from ..io import read_mrc

    maps = {}
    for el, path in paths.items():
        data, vs = read_mrc(path)
        if voxel_size is not None and not np.isclose(vs, voxel_size, rtol=1e-3):
            raise ValueError(f"{path} has voxel size {vs:g} Å but the other maps have {voxel_size:g} Å")
        maps[el], voxel_size = data, vs
    return maps, voxel_size


def run(args) -> int:
    from ..core.elements import load_factor_file, validate_element
    from ..core.quantify import quantify_maps, summed_map
    from ..core.region_margin import margin_text, region_composition
    from ..core.regions import (
        format_composition,
        particle_from_series,
        region_statistics,
        support_from_series,
    )
    from ..core.reliability import edge_resolution
    from ..io import read_mrc, read_tilt_series, write_mrc

    if args.max_tilt is not None:
        find_max_tilt(args.maps_dir, args.max_tilt)  # refuse a bad angle before any work
    params = read_params(QuantifyParams, args)  # a bad --region-margin: before any work
    margin = params.region_margin
    paths = find_maps(args.maps_dir)
    for el in paths:
        validate_element(el)
    factors = load_factor_file(args.factors) if args.factors else None
    if factors is not None:
        need = "f" if args.kind == "eds" else "z"
        missing = [el for el in paths if need not in factors.get(el, {})]
        if len(missing) == len(paths):
            raise ValueError(
                f"factor file {args.factors} has no {need!r} factor for any element of the "
                f"maps ({', '.join(paths)}; it covers {', '.join(factors) or 'none'}); add "
                "them, or leave out --factors to use the built-in Table 2 factors"
            )
        if missing:
            warn("quantify", [(f"factor file {args.factors} has no {need!r} factor for "
                              f"{', '.join(missing)}; the built-in factors are used for them")])
    inputs = list(paths.values()) + [q for q in (args.factors, args.haadf, args.regions) if q]
    outs = Outputs(args.force, inputs)
    out = outs.folder(args.out, "--out")
    targets = {el: outs.file(out / f"wt_{el}.mrc", own=True) for el in paths}
    json_path = outs.file(out / "quantify.json", own=True)

    maps, voxel_size = _read_maps(paths)
    shape = next(iter(maps.values())).shape
    labels = None
    if args.regions:
        labels, _ = read_mrc(args.regions)
        if labels.shape != shape:
            raise ValueError(f"--regions {args.regions} has shape {labels.shape} but the maps "
                             f"have shape {shape}")
    support = particle = haadf_info = None
    if args.haadf:
        series = read_tilt_series(args.haadf)
        support = support_from_series(series.data, series.angles_deg, volume_shape=shape)
        particle, h_esf, h_stop = particle_from_series(series.data, series.angles_deg, shape)
        haadf_info = {"path": str(args.haadf), "sirt": h_stop.as_dict(),
                      "threshold": h_esf.threshold, "method": h_esf.method,
                      "fallback": h_esf.fallback, "warning": h_esf.warning,
                      "volume_voxels": int(particle.sum()), "esf": h_esf.summary()}
    result = quantify_maps(maps, factors=factors, params=params, support=support,
                           particle=particle)
    warnings = list(result.warnings)
    if haadf_info is not None and haadf_info["warning"]:
        warnings.insert(0, f"HAADF particle: {haadf_info['warning']}")
    replicas = []
    resample_paths = find_resamples(args.maps_dir, list(paths))
    for rp in resample_paths:
        rmaps, _ = _read_maps(rp, voxel_size)
        # Every voxel (threshold 0), then the main mask: the spread is the noise's alone.
        rq = quantify_maps(rmaps, factors=factors, params=dataclasses.replace(params, threshold=0.0))
        replicas.append({el: np.where(result.mask, f, 0.0) for el, f in rq.weight_fractions.items()})
    summed, _ = summed_map(maps, result.kind, factors)
    resolution = edge_resolution(summed, result.mask)
    max_tilt, tilt_source = find_max_tilt(args.maps_dir, args.max_tilt,
                                          series.angles_deg if args.haadf else None)
    margin_info = None
    if labels is None:
        regions = region_statistics(result.weight_fractions, result.mask, None, replicas)
    else:
        regions, region_warnings, margin_info = region_composition(
            result.weight_fractions, result.mask, labels, replicas, resolution=resolution,
            margin=margin, voxel_size=voxel_size, max_tilt_deg=max_tilt)
        warnings.extend(region_warnings)
        if max_tilt is None:
            warnings.append("the tilt range is unknown (no --max-tilt, eds.json/hebt.json or "
                            "--haadf), so regions were not checked against the missing wedge")

    mean_inside = {
        el: (float(wt[result.mask].mean()) if result.n_voxels else 0.0)
        for el, wt in result.weight_fractions.items()
    }
    esf = result.esf
    with outs.writing() as stage:
        for el, wt in result.weight_fractions.items():
            write_mrc(stage(targets[el]), wt, voxel_size)
        write_json(stage(json_path), {
            **dataclasses.asdict(params),
            "kind": result.kind,
            "factor": "f" if result.kind == "eds" else "z",
            "factors_b_mol_g": {el: float(v) for el, v in result.factors_used.items()},
            "threshold": None if particle is not None else result.threshold,
            "threshold_method": result.threshold_method,
            "threshold_source": "haadf" if particle is not None else "maps",
            "fallback": bool(haadf_info["fallback"] if haadf_info else (esf is not None and esf.fallback)),
            "fit_quality": (haadf_info["esf"]["quality"] if haadf_info
                            else None if esf is None else esf.summary()["quality"]),
            "smooth_voxels_used": result.smooth_voxels,
            "warnings": warnings,
            "haadf": haadf_info,
            **result.support,
            "volume_voxels": result.n_voxels,
            "voxel_size_A": float(voxel_size),
            "mean_weight_fraction_inside": mean_inside,
            "resamples": len(replicas),
            "se_method": "poisson_resampling" if len(replicas) >= 2 else "none",
            "regions_file": args.regions,
            "resolution_voxels": resolution,
            "resolution_method": "edge FWHM of the summed map at the particle surface",
            "max_tilt_deg": max_tilt,
            "max_tilt_source": tilt_source,
            "regions": regions,
            "region_margin": margin_info,
            "maps": {el: str(p) for el, p in paths.items()},
            "esf": None if esf is None else esf.summary(),
        })
    how = result.threshold_method
    if haadf_info is not None:
        how = (f"particle from the HAADF series: SIRT {haadf_info['sirt']['iterations']} "
               f"iterations, {haadf_info['method']} threshold {haadf_info['threshold']:.4g}")
    elif esf is not None and not esf.fallback:
        q = esf.quality
        how += (f", fit residual {q['residual']:.3g}, edge fraction {q['edge_fraction']:.3g}, "
                f"separation {q['separation']:.3g}")
    t_text = "" if particle is not None else f"threshold {result.threshold:.6g} "
    print(f"quantify: {len(paths)} maps ({', '.join(paths)}), {t_text}"
          f"({how}; smoothing σ {result.smooth_voxels:g} voxels), {result.n_voxels} voxels inside "
          f"-> {out}")
    print("resolution at the particle surface (FWHM, voxels): "
          + ", ".join(f"{ax} {v:.2f}" for ax, v in resolution.items() if v is not None)
          + (f"; tilt range ±{max_tilt:g}° ({tilt_source})" if max_tilt is not None else ""))
    if margin_info is not None:
        print(margin_text(margin_info))
    print(format_composition(regions)
          + ("" if len(replicas) >= 2 else "\n(no standard errors: run eds/hebt with --resamples)"))
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    return 0
