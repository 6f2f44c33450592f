"""Per-region weight fractions with full painted label maps: without and with the margin.

For phantoms of :mod:`napari_atomtomo.core.simulate.phantoms` this reconstructs the EDS
maps (SIRT per element, default stopping rule) and HEBT's (α 0.8, ratios as ``atomtomo
hebt`` chooses them, HEBT's default stopping rule), quantifies them (automatic ESF
threshold) and measures each region over its full true label map, as a user paints it up
to the region boundaries (:func:`~napari_atomtomo.core.region_margin.region_composition`):
once with ``margin=0`` (every painted voxel inside the particle, the behaviour before the
margin) and once with the automatic margin (2 σ of the measured blur). Prints one line per
phantom and a Markdown table of the largest |error| over the regions (wt % of the second
element) before → after, with the regions that fell back to a smaller margin, and in
brackets the error against the true mean over the voxels used where it differs (a region
that is not uniform, the gradient's thirds: its interior's true mean is not the region's).

    .venv/bin/python benchmarks/region_margin.py [--ndim 2 3] [--layouts ...] [--pairs CoZn]

``--extra-margins 2 2.5`` also scores fixed margins (voxels), and every phantom line gives
the automatic margin the blur of each element map (``map_<El> / factor``) would give,
instead of the summed map's (issue 12: is HEBT's 1.6-voxel grid floor too small?).
"""

from __future__ import annotations

import argparse
import json
import time

from napari_atomtomo.core.elements import element_factors
from napari_atomtomo.core.hebt import HebtParams
from napari_atomtomo.core.quantify import quantify_maps, summed_map
from napari_atomtomo.core.ratios import choose_ratios
from napari_atomtomo.core.region_margin import auto_margin, region_composition, region_selections
from napari_atomtomo.core.reliability import edge_resolution
from napari_atomtomo.core.simulate.phantoms import (
    ELEMENT_PAIRS,
    LAYOUTS,
    PhantomParams,
    simulate_phantom,
)
from napari_atomtomo.core.stopping import StopParams, hebt_stopped, reconstruct_eds_stopped

SIZES = {2: 64, 3: 32}


def errors(maps, kind, ds, b, extra=()) -> dict:
    """``{margin: {"err": {region: wt % error}, "fallback": [...], "margin": voxels}}``
    (margins 0, "auto" and ``extra``), and ``"per_map"``: the automatic margin from each
    element map's own edge blur."""
    q = quantify_maps(maps, kind)
    summed = summed_map(maps, kind)[0]
    truth = ds.truth["regions"]
    factor = "f" if kind == "eds" else "z"
    facs = element_factors(list(maps), require=factor)
    out: dict = {"per_map": {el: auto_margin(edge_resolution(m / facs[el].get(factor), q.mask))[0]
                             for el, m in maps.items()}}
    for margin in (0, "auto", *extra):
        reg, _, info = region_composition(q.weight_fractions, q.mask, ds.regions, summed=summed,
                                          margin=margin, voxel_size=ds.voxel_size)
        # The true mean over the voxels used (differs from the region's only where the
        # region is not uniform: the gradient's thirds).
        sels, _, _ = region_selections(ds.regions, q.mask, info["margin_voxels"])
        interior = {k: float(ds.phantoms[b][sels[k]].mean()) for k in truth}
        out[str(margin)] = {
            "err": {k: 100 * (reg[k]["mean"][b] - truth[k][b]) for k in truth},
            "err_interior": {k: 100 * (reg[k]["mean"][b] - interior[k]) for k in truth},
            "used": {k: [reg[k]["n_voxels_used"], reg[k]["n_voxels_painted"]] for k in truth},
            "fallback": [k for k in truth if reg[k]["margin_fallback"]],
            "margin": info["margin_voxels"]}
    return out


def run_case(params: PhantomParams, seed: int = 0, extra=()) -> dict:
    ds = simulate_phantom(params, seed=seed)
    b = params.elements[1]
    maps, _ = reconstruct_eds_stopped(ds.eds, ds.angles_deg, StopParams())
    out = {"name": params.name, "EDS": errors(maps, "eds", ds, b, extra)}
    choice = choose_ratios(ds.haadf, ds.eds)
    h, _ = hebt_stopped(ds.haadf, ds.eds, ds.angles_deg, HebtParams(alpha=0.8), ratios=choice.ratios)
    out["HEBT α 0.8"] = errors(h.maps, "hebt", ds, b, extra)
    return out


def _cell(m: dict) -> str:
    before = max(abs(v) for v in m["0"]["err"].values())
    after = max(abs(v) for v in m["auto"]["err"].values())
    inner = max(abs(v) for v in m["auto"]["err_interior"].values())
    fb = f" (smaller margin: {', '.join(m['auto']['fallback'])})" if m["auto"]["fallback"] else ""
    return f"{before:.1f} → {after:.1f}{fb}" + (f" [{inner:.1f}]" if abs(inner - after) >= 0.05 else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ndim", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--layouts", nargs="+", default=list(LAYOUTS))
    ap.add_argument("--pairs", nargs="+", default=["CoZn"])
    ap.add_argument("--dose", type=float, default=1.0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--extra-margins", type=float, nargs="*", default=[], metavar="VOXELS",
                    help="also score these fixed margins")
    args = ap.parse_args(argv)
    pairs = [p for p in ELEMENT_PAIRS if "".join(p) in args.pairs]
    results = []
    for nd in args.ndim:
        for pair in pairs:
            for layout in args.layouts:
                t = time.perf_counter()
                r = run_case(PhantomParams(layout=layout, elements=pair, ndim=nd,
                                           n_pixels=SIZES[nd], dose=args.dose),
                             extra=tuple(args.extra_margins))
                results.append(r)
                print(r["name"], f"({time.perf_counter() - t:.0f} s)", flush=True)
                for method in ("EDS", "HEBT α 0.8"):
                    m = r[method]
                    print(f"  {method}: margin {m['auto']['margin']:.2f} voxels; error wt % "
                          + ", ".join(f"{k} {m['0']['err'][k]:+.1f} → {m['auto']['err'][k]:+.1f}"
                                      f" ({m['auto']['used'][k][0]}/{m['auto']['used'][k][1]})"
                                      for k in m["0"]["err"]), flush=True)
                    per = ", ".join(f"{el} {v:.2f}" for el, v in m["per_map"].items())
                    fixed = "; ".join(
                        f"{g:g}: max {max(abs(v) for v in m[str(g)]['err'].values()):.1f}"
                        for g in args.extra_margins)
                    print(f"    auto margin from each map's own blur: {per}"
                          + (f"; fixed margins, max |error|: {fixed}" if fixed else ""),
                          flush=True)
    print("\n| phantom | EDS: max \\|error\\| wt %, all painted → margin | HEBT α 0.8 |")
    print("| --- | --- | --- |")
    for r in results:
        print(f"| {r['name']} | {_cell(r['EDS'])} | {_cell(r['HEBT α 0.8'])} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
