"""Jobs the GUI runs, without Qt: generators that yield progress and return a result.

Every job here is a plain generator (validated when called, one step per yield so a
Cancel takes effect between steps, the result as ``StopIteration.value``); the widgets
hand them to their runner, and scripts, tests and the command line drive them with
:func:`run_to_end`. Layer order: ``core → io → jobs/pipelines → cli/_widgets``; nothing
here imports Qt, napari, ``cli`` or ``_widgets`` (``tests/test_manifest.py``).

* :mod:`.reconstruction`: SIRT, EDS-STEM and HEBT with residual history;
* :mod:`.sweep`: the HEBT α × n sweep (also ``atomtomo hebt --sweep``);
* :mod:`.est`: EST / Fourier gridding with error history;
* :mod:`.simulate_align`: simulation and alignment of tilt series;
* :mod:`.trace`: atom tracing and comparison with a truth;
* :mod:`._job_info`: the runner's Qt-free bookkeeping of one job.
"""

from ..core._generators import map_states, run_to_end

__all__ = ["run_to_end", "map_states"]
