"""``atomtomo demo``: the product's main job, end to end on simulated data.

1. Paper 000: the shipped 1002-atom SiO2 particle → HAADF tilt series (55 equally sloped
   angles, ±72.6°, tilt drift, image shifts, Poisson noise) → alignment → EST → atom
   tracing → comparison with the truth.
2. Paper 002: the Ag–Au core–shell phantom → EDS-only SIRT and HEBT → quantification to
   weight fractions → SSIM/MSE against the phantom.

Each part writes its files, figures and a ``report.md`` into its own folder.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ..core.est import EstParams
from ..core.simulate.haadf import HaadfParams
from ..pipelines.agau import AgAuPipelineParams, run_agau_pipeline
from ..pipelines.silica import SilicaPipelineParams, dose_setting, run_silica_pipeline
from ._common import add_force


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run both papers' pipelines on simulated data and write reports",
        description=__doc__,
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", default="demo-out", help="output folder (default: demo-out)")
    p.add_argument(
        "--dose", default="10",
        help="noise of the silica series: a preset 10, 12, 20 or 25 (the paper's R_noise in %%), "
             "or a total series dose in e/Å² (default: 10)",
    )
    p.add_argument("--seed", type=int, default=1, help="noise and shift seed (default: 1)")
    p.add_argument(
        "--iterations", type=int, default=200,
        help="EST iterations of each round, loose then tight support (default: 200, as the paper)",
    )
    p.add_argument("--skip-agau", action="store_true", help="run only the silica pipeline")
    p.add_argument("--skip-silica", action="store_true", help="run only the Ag–Au pipeline")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_force(p)
    p.set_defaults(func=run)


def _progress(quiet: bool):
    """Progress on stderr: one updating line on a terminal, a line per step otherwise."""
    tty = sys.stderr.isatty()
    state = {"last": 0.0, "step": None}

    def report(step, done, total, message=""):
        if quiet:
            return
        now = time.monotonic()
        new_step = step != state["step"]
        if not new_step and now - state["last"] < (0.5 if tty else 10.0):
            return
        state["last"], state["step"] = now, step
        count = f" {done}/{total}" if total else ""
        if tty:
            print(f"\r  {step}{count} {message}".ljust(60), end="", file=sys.stderr, flush=True)
        else:
            print(f"  {step}{count} {message}", file=sys.stderr, flush=True)

    return report


def run(args) -> int:
    if args.skip_agau and args.skip_silica:
        raise ValueError("--skip-agau and --skip-silica together leave nothing to run")
    noise = dose_setting(args.dose)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()) and not args.force:
        raise FileExistsError(f"{out} exists and is not empty; pass --force to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    lines = ["# atomtomo demo", ""]
    if not args.skip_silica:
        print("silica (paper 000): simulate → align → EST → trace → compare", file=sys.stderr)
        params = SilicaPipelineParams(
            haadf=HaadfParams(seed=args.seed, **noise),
            est=EstParams(n_iter=args.iterations, n_iter_tight=args.iterations),
        )
        res = run_silica_pipeline(out / "silica", params, force=True,
                                  callback=_progress(args.quiet))
        c = res.summary["comparison"]
        msg = (f"R_noise {res.summary['r_noise'] * 100:.1f} %: traced "
               + ", ".join(f"{el} {n}" for el, n in c["counts_traced"].items())
               + "; misplaced " + ", ".join(f"{el} {n}" for el, n in c["misplaced_by_element"].items())
               + f"; RMSD {c['rmsd_A']:.3f} Å")
        print(("\r" if sys.stderr.isatty() else "") + f"  {msg}".ljust(60), file=sys.stderr)
        lines += [f"- [Silica, paper 000](silica/report.md): {msg}"]
    if not args.skip_agau:
        print("Ag–Au (paper 002): phantom → EDS SIRT and HEBT → quantify", file=sys.stderr)
        s = run_agau_pipeline(out / "agau", AgAuPipelineParams(), force=True,
                              callback=_progress(args.quiet))
        h, e = s["hebt"]["scores"], s["eds"]["scores"]
        msg = ("weight-fraction SSIM Ag/Au: EDS " + f"{e['Ag']['ssim_wt']:.3f}/{e['Au']['ssim_wt']:.3f}"
               + ", HEBT " + f"{h['Ag']['ssim_wt']:.3f}/{h['Au']['ssim_wt']:.3f}")
        print(("\r" if sys.stderr.isatty() else "") + f"  {msg}".ljust(60), file=sys.stderr)
        lines += [f"- [Ag–Au, paper 002](agau/report.md): {msg}"]
    lines += ["", f"Total time {time.perf_counter() - t0:.0f} s.", ""]
    (out / "README.md").write_text("\n".join(lines))
    print(f"reports in {out}/ ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0
