"""``preprocess`` on the simulated SiO2 series with a vacuum offset (issue 13's "Done when").

The SiO2 series of ``atomtomo demo`` (R_noise 10 % unless given) gets a flat vacuum
level (1 count per pixel unless given; Poisson, in the simulation's count units), then is aligned, reconstructed by EST
and traced: as is, after ``preprocess`` (border level), and without the offset.

    cd benchmarks && PYTHONPATH=../src python preprocess_silica.py [R_NOISE [VACUUM_COUNTS]]
"""

from __future__ import annotations

import json
import sys

import numpy as np
from tilt_axis_silica import score

from napari_atomtomo.core.preprocess import PreprocessParams, preprocess_series
from napari_atomtomo.core.simulate.haadf import HaadfParams, _counts_scale, simulate_haadf_series
from napari_atomtomo.pipelines.silica import shipped_silica_structure


def main(r_noise="0.10", vacuum="1.0") -> int:
    sim = simulate_haadf_series(shipped_silica_structure(),
                                HaadfParams(r_noise=float(r_noise), seed=1))
    scale = _counts_scale(sim.dose, sim.angles_nominal.size)
    rng = np.random.default_rng(0)
    offset = (rng.poisson(float(vacuum), sim.stack_noisy.shape) / scale).astype(np.float32)
    with_offset = sim.stack_noisy + offset
    pre = preprocess_series(with_offset, PreprocessParams())
    levels = np.asarray(pre.report["background_levels"]) * scale
    print(f"counts per unit {scale:.4g}; particle max {sim.stack_noisy.max() * scale:.1f} counts; "
          f"vacuum level found {levels.mean():.3f} ± {levels.std():.3f} counts", flush=True)
    cases = {"offset-free": sim.stack_noisy, f"{vacuum} count vacuum, as is": with_offset,
             f"{vacuum} count vacuum, preprocess": pre.stack}
    for name, stack in cases.items():
        print(name, json.dumps(score(stack, sim.angles_nominal, sim)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
