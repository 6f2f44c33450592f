"""Why the iteration counts are what they are: composition error against iterations and noise.

For one phantom of :mod:`napari_atomtomo.core.simulate.phantoms` (default the Co–Zn
core/shell/cap, 3D, whose cap/shell interface lies in the missing wedge) this prints

* EDS-only (per-element SIRT): every region's error (wt % of the second element) after
  ``--iterations`` iterations, and the iteration at which the data misfit of each element
  first reaches the noise energy of its counts, ``Σ g² · Σ counts`` (``Σ g²`` of the
  simulator's Gaussian filter: the discrepancy principle with the true noise level);
* HEBT (α 0.8, ratios as ``atomtomo hebt`` chooses them): every region's error and the EDS
  misfit relative to that noise level (``core.stopping.eds_misfit_per_count / Σ g²``).

Run it at the paper's dose, at 1/10 of it, without noise (``--dose 1e4``) and without a
missing wedge (``--max-angle 90``) to separate convergence from noise
(docs/quantification.md, "EDS-only iterations" and "HEBT iterations").

    .venv/bin/python benchmarks/stopping_noise.py [--dose 0.1] [--max-angle 90] [--ndim 2]
"""

from __future__ import annotations

import argparse

import numpy as np
from quantify_phantoms import eval_regions, measure
from scipy.ndimage import gaussian_filter

from napari_atomtomo.core.hebt import HebtParams, iter_hebt
from napari_atomtomo.core.quantify import quantify_maps
from napari_atomtomo.core.ratios import choose_ratios
from napari_atomtomo.core.simulate.phantoms import PhantomParams, simulate_phantom
from napari_atomtomo.core.sirt import SirtParams, iter_sirt
from napari_atomtomo.core.stopping import eds_misfit_per_count


def kernel_sum_of_squares(p: PhantomParams) -> float:
    """``Σ g²`` of the simulator's Gaussian filter (1 without one)."""
    delta = np.zeros((1, 21, 21))
    delta[0, 10, 10] = 1.0
    s = p.gaussian_sigma
    return float((gaussian_filter(delta, (0, 0, s) if p.ndim == 2 else (0, s, s)) ** 2).sum())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", default="core_shell_cap")
    ap.add_argument("--pair", default="CoZn")
    ap.add_argument("--ndim", type=int, default=3)
    ap.add_argument("--dose", type=float, default=1.0)
    ap.add_argument("--max-angle", type=float, default=75.0)
    ap.add_argument("--iterations", type=int, nargs="+", default=[50, 100, 200, 300, 800, 1500])
    args = ap.parse_args(argv)
    step = 5.0 if args.max_angle == 75.0 else 2 * args.max_angle / 30
    p = PhantomParams(layout=args.layout, elements=(args.pair[:2], args.pair[2:]), ndim=args.ndim,
                      n_pixels=64 if args.ndim == 2 else 32, dose=args.dose,
                      max_angle_deg=args.max_angle, angle_step_deg=step)
    ds = simulate_phantom(p, seed=0)
    regions, truth, b = eval_regions(ds.regions), ds.truth["regions"], p.elements[1]
    kappa = kernel_sum_of_squares(p)
    its = sorted(set(args.iterations))

    def errors(maps, kind):
        m = measure(quantify_maps(maps, kind), regions)
        return " ".join(f"{lab}:{100 * (m[lab][b] - truth[lab][b]):+.1f}" for lab in truth)

    print(f"{p.name}, ±{args.max_angle:g}°, Σg² {kappa:.3f}; errors wt % of {b} per region")
    snaps: dict[int, dict] = {n: {} for n in its}
    for el, stack in ds.eds.items():
        noise = kappa * float(np.maximum(stack, 0).sum())
        b_norm = float(np.linalg.norm(stack))
        first = None
        for st in iter_sirt(stack, ds.angles_deg, SirtParams(n_iter=its[-1], nonnegative=True,
                                                             yield_every=1)):
            if first is None and (st.residual * b_norm) ** 2 <= noise:
                first = st.iteration
            if st.iteration in snaps:
                snaps[st.iteration][el] = st.volume
        print(f"EDS {el}: misfit reaches the noise level at iteration {first}")
    for n in its:
        print(f"EDS  n {n:5d}: {errors(snaps[n], 'eds')}")
    ratios = choose_ratios(ds.haadf, ds.eds).ratios
    for st in iter_hebt(ds.haadf, ds.eds, ds.angles_deg, HebtParams(n_iter=its[-1], yield_every=10),
                        ratios=ratios):
        if st.maps is None or st.iteration not in its:
            continue
        ratio = eds_misfit_per_count(st.maps, ds.eds, ds.angles_deg, ratios)
        noise_text = " ".join(f"{el} {v / kappa:.2f}" for el, v in ratio.items())
        print(f"HEBT n {st.iteration:5d}: {errors(st.maps, 'hebt')}  EDS misfit / noise: {noise_text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
