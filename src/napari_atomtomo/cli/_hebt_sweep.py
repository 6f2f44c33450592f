"""``atomtomo hebt DATA_DIR --sweep ALPHAS:ITERATIONS --out DIR``: the α × n sweep of HEBT.

The same job as the "SIRT / HEBT" widget's sweep mode (:mod:`napari_atomtomo.jobs.sweep`).
Writes ``sweep.json`` (grid, ratios, one row per cell) and ``sweep.csv`` (the rows) to
the output folder. With ``phantom_<El>.mrc`` (true weight fractions) in the data set
every cell carries SSIM and scaled MSE per element and the quantification error
``wt error %``; without, the data residuals.
"""

from __future__ import annotations

import csv
import io as _textio

from ..jobs import run_to_end
from ..jobs.sweep import WT_ERROR, iter_hebt_sweep, parse_sweep, sweep_table
from ._common import progress_printer, write_json

__all__ = ["run_sweep"]


def _csv_text(rows: list[dict]) -> str:
    buf = _textio.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return buf.getvalue()


def run_sweep(args, data, outs, out, ratios, shifts, support) -> int:
    """Run the sweep of ``args.sweep`` on the read data set ``data``; write into ``out``."""
    from ..io._output import atomic_write_text

    alphas, n_values = parse_sweep(args.sweep)
    if args.resamples:
        raise ValueError("--resamples cannot be combined with --sweep")
    references = None
    if data.phantoms:
        missing = sorted(set(data.eds) - set(data.phantoms))
        if missing:
            raise ValueError(f"data set has phantoms but none for {', '.join(missing)}; "
                             "the sweep needs one per EDS element or none")
        references = {el: data.phantoms[el] for el in data.eds}
    json_path = outs.file(out / "sweep.json", own=True)
    csv_path = outs.file(out / "sweep.csv", own=True)
    total = int(alphas.size * n_values.max())
    report = progress_printer("hebt --sweep", quiet=args.quiet)
    result = run_to_end(
        iter_hebt_sweep(data.haadf, data.eds, data.angles_deg, alphas, n_values,
                        relaxation=args.relaxation, ratios=ratios, references=references,
                        support=support, shifts=shifts),
        lambda s: report(s.iteration, total, f"α {s.alpha:g} residual {s.residual:.4g}"))
    rows = sweep_table(result)
    summary = {
        "alphas": [float(a) for a in result.alphas],
        "n_iter": [int(n) for n in result.n_values],
        "relaxation": float(args.relaxation),
        "ratios": {el: float(r) for el, r in result.ratios.items()},
        "r2": None if result.r2 is None else float(result.r2),
        "with_reference": result.with_reference,
        "scores": list(result.metrics),
        "cells": rows,
    }
    with outs.writing() as stage:
        write_json(stage(json_path), summary)
        atomic_write_text(stage(csv_path), _csv_text(rows))
    print(f"wrote {json_path}")
    print(f"wrote {csv_path}")
    if result.with_reference:
        scored = [r for r in rows if r[WT_ERROR] is not None]
        if scored:
            best = min(scored, key=lambda r: r[WT_ERROR])
            print(f"lowest {WT_ERROR}: {best[WT_ERROR]:.3g} at α {best['alpha']:g}, "
                  f"n {best['n_iter']}")
    return 0
