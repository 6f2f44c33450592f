"""The Trace job runs in a worker thread, and every module it imports there holds the GIL
while it loads (the GUI thread waits): it must not pull in scipy.stats (0.5 s of imports
on the first trace, for one normal quantile)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_a_trace_job_does_not_import_scipy_stats():
    code = textwrap.dedent("""
        import sys
        from napari_atomtomo._sample_data import synthetic_atoms_volume
        from napari_atomtomo.core.trace import TraceParams
        from napari_atomtomo.jobs import run_to_end
        from napari_atomtomo.jobs.trace import iter_trace_job
        volume, truth = synthetic_atoms_volume()  # voxels of ATOMS_VOXEL_SIZE_A = 0.5 Å
        params = TraceParams()
        assert params.classify == "auto"  # the path with the false-alarm guard
        outcome = run_to_end(iter_trace_job(volume, 0.5, params, None, truth, 1.0,
                                            "subtraction"))
        assert len(outcome.trace.atoms) > 0 and outcome.comparison is not None
        print(sorted(m for m in sys.modules if m.startswith("scipy.stats")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "[]", out.stdout
