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
from ._common import add_force, add_quiet


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
    add_quiet(p)
    add_force(p)
    p.set_defaults(func=run)


def _progress(quiet: bool, stream=None):
    """Progress on stderr: one updating line on a terminal; into a log, a line when a step
    starts and then one per 10 % of it (never a carriage return)."""
    state = {"last": 0.0, "step": None, "next": 0}

    def report(step, done, total, message=""):
        if quiet:
            return
        out = stream if stream is not None else sys.stderr
        tty = out.isatty()
        now = time.monotonic()
        new_step = step != state["step"]
        count = f" {done}/{total}" if total else ""
        if tty:
            if not new_step and now - state["last"] < 0.5:
                return
            state["last"], state["step"] = now, step
            print(f"\r  {step}{count} {message}".ljust(60), end="", file=out, flush=True)
            return
        pct = 100 * done // total if total else 0
        if new_step:
            state["step"], state["next"] = step, 0
        if new_step or pct >= state["next"]:
            state["next"] = (pct // 10 + 1) * 10
            print(f"  {step}{count} {message}".rstrip(), file=out, flush=True)

    return report


#: Lists the files a demo wrote; ``--force`` overwrites only files named in it.
MANIFEST = ".atomtomo-demo.json"


def check_demo_folder(out: Path, force: bool) -> None:
    """Refuse a non-empty ``out`` without ``force``; with it, refuse any file the demo
    would replace (``README.md``, ``silica/``, ``agau/``) that an earlier demo did not write."""
    if not out.exists() or not any(out.iterdir()):
        return
    if not force:
        raise FileExistsError(f"{out} exists and is not empty; pass --force to overwrite "
                              "the files an earlier atomtomo demo wrote there")
    import json

    try:
        own = set(json.loads((out / MANIFEST).read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        own = set()
    candidates = [out / "README.md"]
    for sub in ("silica", "agau"):
        if (out / sub).exists():
            candidates += sorted(p for p in (out / sub).rglob("*") if not p.is_dir())
    for path in candidates:
        if path.exists() and path.relative_to(out).as_posix() not in own:
            raise FileExistsError(
                f"{path} was not written by atomtomo demo; --force replaces only the demo's "
                "own files, so move it or choose another --out"
            )


def run(args) -> int:
    import json

    from ._common import Outputs

    if args.skip_agau and args.skip_silica:
        raise ValueError("--skip-agau and --skip-silica together leave nothing to run")
    noise = dose_setting(args.dose)
    outs = Outputs(args.force)
    out = outs.folder(args.out, "--out")
    check_demo_folder(out, args.force)
    t0 = time.perf_counter()
    lines = ["# atomtomo demo", ""]
    with outs.writing() as stage:
        tmp = stage.folder(out)  # everything is moved into out only when all parts succeeded
        if not args.skip_silica:
            print("silica (paper 000): simulate → align → EST → trace → compare", file=sys.stderr)
            params = SilicaPipelineParams(
                haadf=HaadfParams(seed=args.seed, **noise),
                est=EstParams(n_iter=args.iterations, n_iter_tight=args.iterations),
            )
            res = run_silica_pipeline(tmp / "silica", params, force=True,
                                      callback=_progress(args.quiet))
            c = res.summary["comparison"]
            msg = (f"R_noise {res.summary['r_noise'] * 100:.1f} %: traced "
                   + ", ".join(f"{el} {n}" for el, n in c["counts_traced"].items())
                   + "; misplaced "
                   + ", ".join(f"{el} {n}" for el, n in c["misplaced_by_element"].items())
                   + f"; RMSD {c['rmsd_A']:.3f} Å")
            print(("\r" if sys.stderr.isatty() else "") + f"  {msg}".ljust(60), file=sys.stderr)
            lines += [f"- [Silica, paper 000](silica/report.md): {msg}"]
        if not args.skip_agau:
            print("Ag–Au (paper 002): phantom → EDS SIRT and HEBT → quantify", file=sys.stderr)
            s = run_agau_pipeline(tmp / "agau", AgAuPipelineParams(), force=True,
                                  callback=_progress(args.quiet))
            h, e = s["hebt"]["scores"], s["eds"]["scores"]
            msg = ("weight-fraction SSIM Ag/Au: EDS "
                   + f"{e['Ag']['ssim_wt']:.3f}/{e['Au']['ssim_wt']:.3f}"
                   + ", HEBT " + f"{h['Ag']['ssim_wt']:.3f}/{h['Au']['ssim_wt']:.3f}")
            print(("\r" if sys.stderr.isatty() else "") + f"  {msg}".ljust(60), file=sys.stderr)
            lines += [f"- [Ag–Au, paper 002](agau/report.md): {msg}"]
        lines += ["", f"Total time {time.perf_counter() - t0:.0f} s.", ""]
        (tmp / "README.md").write_text("\n".join(lines))
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        try:
            old = json.loads((out / MANIFEST).read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError):
            old = []
        (tmp / MANIFEST).write_text(json.dumps({"files": sorted({*old, *files, MANIFEST})},
                                               indent=1) + "\n")
    print(f"reports in {out}/ ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return 0
