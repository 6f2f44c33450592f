"""Statistics and reports of the GUI heartbeat benchmark (``bench_gui_heartbeat.py``,
``_heartbeat_all.py``): stalls cut into phases, their causes (the wrapped GUI-thread
calls), the per-run and summary tables, and the every-dock table against the repaint
floor and napari's own cost of the same layer additions."""

from __future__ import annotations

import collections
import io as _io
import pstats

import numpy as np

PHASES = ("idle", "click", "running", "end")


def _phase_of(t: float, marks: dict) -> str:
    if t <= marks["click"]:
        return "idle"
    if t <= marks.get("first_yield", np.inf):
        return "click"
    if t <= marks.get("last_yield", np.inf):
        return "running"
    return "end"


def phase_stalls(ticks: np.ndarray, interval_s: float, marks: dict) -> dict:
    """Stalls (ms) and their end times by phase; the gap containing the click counts too."""
    gaps = np.diff(ticks)
    ends = ticks[1:]
    stalls = np.maximum(gaps - interval_s, 0.0) * 1e3
    out = {p: ([], []) for p in PHASES}
    for s, t_end, t_start in zip(stalls, ends, ticks[:-1]):
        phase = _phase_of(t_end, marks)
        out[phase][0].append(s)
        out[phase][1].append((t_start, t_end))
    return out


def summarise(stalls) -> tuple[float, float, float, int]:
    if not stalls:
        return (np.nan, np.nan, np.nan, 0)
    s = np.asarray(stalls)
    return float(s.max()), float(np.percentile(s, 99)), float(np.percentile(s, 95)), s.size


def causes_by_phase(calls, marks) -> dict:
    """``{phase: {cause: [n, total_ms, longest_ms]}}`` (nested causes are counted too)."""
    table = {p: collections.defaultdict(lambda: [0, 0.0, 0.0]) for p in PHASES}
    for name, t0, t1 in calls:
        row = table[_phase_of(t1, marks)][name]
        d = (t1 - t0) * 1e3
        row[0] += 1
        row[1] += d
        row[2] = max(row[2], d)
    return table


def causes_of_gap(calls, t_start, t_end) -> list[str]:
    """Wrapped calls inside one gap, longest first (``name 123 ms``)."""
    inside = [(t1 - t0, name) for name, t0, t1 in calls if t0 >= t_start - 1e-4 and t1 <= t_end + 1e-4]
    inside.sort(reverse=True)
    return [f"{name} {d * 1e3:.0f} ms" for d, name in inside[:6]] or ["(no wrapped call: GIL/CPU or Qt)"]


def print_run(title: str, per_phase: dict, causes: dict, calls, n_stalls: int,
              profiler=None) -> list[tuple]:
    """Print one run's stalls per phase, their causes and longest stalls (and the
    profile); return its ``(phase, longest, p99, p95)`` rows."""
    print(title)
    print("| phase | longest stall (ms) | p99 (ms) | p95 (ms) | ticks |")
    print("| --- | --- | --- | --- | --- |")
    rows = []
    for phase in PHASES:
        stats = summarise(per_phase[phase][0])
        print("| {} | {:.1f} | {:.1f} | {:.1f} | {} |".format(phase, *stats))
        rows.append((phase, stats[0], stats[1], stats[2]))
    print("\n| phase | cause (GUI thread) | calls | total (ms) | longest (ms) |")
    print("| --- | --- | --- | --- | --- |")
    for phase in PHASES[1:]:
        for name, (n_calls, total, longest) in sorted(
                causes[phase].items(), key=lambda kv: -kv[1][2]):
            print(f"| {phase} | {name} | {n_calls} | {total:.0f} | {longest:.1f} |")
    for phase in PHASES[1:]:
        stalls, spans = per_phase[phase]
        for i in np.argsort(stalls)[::-1][:n_stalls]:
            print(f"  {phase} stall {stalls[i]:.0f} ms: "
                  + "; ".join(causes_of_gap(calls, *spans[i])))
    if profiler is not None:
        out = _io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        print("\ncProfile of the GUI thread, running phase (by own time):")
        print("\n".join(out.getvalue().splitlines()[:45]))
    return rows


def print_summary(keys, rows) -> None:
    """Longest stall per widget and phase: run 1 apart from the later runs; ``rows`` are
    ``(key, rep, phase, longest, p99, p95, load)``."""
    print("\n## Summary: longest stall per phase (ms); the first run makes the result layer "
          "on the click (unless --fresh, every run does)")
    print("| widget | phase | run 1 | later runs: best | median | worst | p99, median |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key in keys:
        for phase in PHASES:
            first = [r[3] for r in rows if r[:3] == (key, 0, phase)]
            later = np.array([r[3:5] for r in rows
                              if r[0] == key and r[1] > 0 and r[2] == phase]).reshape(-1, 2)
            cells = [f"{first[0]:.1f}" if first else "–"]
            if later.size:
                cells += [f"{later[:, 0].min():.1f}", f"{np.median(later[:, 0]):.1f}",
                          f"{later[:, 0].max():.1f}", f"{np.median(later[:, 1]):.1f}"]
            else:
                cells += ["–"] * 4
            print(f"| {key} | {phase} | " + " | ".join(cells) + " |")


def _worst(row: dict) -> float:
    return max(row.get("click", 0.0), row.get("running", 0.0), row.get("end", 0.0))


def format_table(floor: float, rows: list[dict], load: str) -> str:
    """The every-dock table: each of our rows with the longest stall of napari alone doing
    the same layer additions (its ``"alone"`` row, measured in the same run, also listed
    below it) and the difference, ours − napari alone, of the longest stalls."""
    target = floor + 50.0
    out = [f"repaint floor (napari alone, z slider stepped): {floor:.0f} ms; target: our "
           f"stalls <= floor + 50 = {target:.0f} ms; load average {load}", "",
           "| case | click ms | running ms | end ms | job s | napari alone ms "
           "| ours − napari alone ms | over target |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['case']} | – | – | – | – | – | – | not run: {r['error']} |")
            continue
        if r.get("floor"):
            click = f"{r['click']:.0f}" if r.get("click") else "–"
            out.append(f"| {r['case']} | {click} | – | {r['end']:.0f} | {r['seconds']:.1f} | "
                       f"{_worst(r):.0f} | – | (napari's own cost) |")
            continue
        worst = _worst(r)
        alone = r.get("alone")
        if alone is not None and "error" not in alone:
            a = _worst(alone)
            cells = f"{a:.0f} | {worst - a:+.0f}"
        else:
            cells = "– | –"
        over = "no" if worst <= target else f"yes ({worst - target:+.0f} ms)"
        out.append(f"| {r['case']} | {r['click']:.0f} | {r['running']:.0f} | {r['end']:.0f} | "
                   f"{r['seconds']:.1f} | {cells} | {over} |")
    return "\n".join(out)
