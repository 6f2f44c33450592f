"""Chunked, out-of-core and distributed runs of the in-memory algorithms (no Qt).

With a single tilt axis along ``y`` every y-slab of a volume depends only on the same
rows of the tilt series, so SIRT, EDS, HEBT, EST and Fourier gridding run slab by slab
(:mod:`.recon`, :mod:`.est`) on threads or a ``dask.distributed`` cluster
(:mod:`._engine`), with results streamed to OME-Zarr or MRC (:mod:`napari_atomtomo.io`).
:func:`plan_chunks` makes the automatic in-memory/chunked choice. Tracing runs on
overlapping chunks (:mod:`.trace`). See ``docs/scale.md``.
"""

from ._engine import open_scheduler, run_slabs, slab_bounds
from ._plan import ChunkPlan, plan_chunks
from .est import reconstruct_est_chunked, reconstruct_gridding_chunked
from .recon import (
    ChunkedResult,
    reconstruct_eds_chunked,
    reconstruct_hebt_chunked,
    reconstruct_sirt_chunked,
)
from .trace import trace_atoms_chunked

__all__ = [
    "ChunkPlan", "plan_chunks", "ChunkedResult", "open_scheduler", "run_slabs", "slab_bounds",
    "reconstruct_sirt_chunked", "reconstruct_eds_chunked", "reconstruct_hebt_chunked",
    "reconstruct_est_chunked", "reconstruct_gridding_chunked", "trace_atoms_chunked",
]
