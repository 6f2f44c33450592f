"""The "SIRT / HEBT" widget's job in y-slabs (no Qt): ``--chunks N`` and ``--scheduler``.

:func:`iter_reconstruction_chunked` runs :mod:`napari_atomtomo.scale`'s chunked SIRT,
EDS-STEM or HEBT (on local threads, or on a ``dask.distributed`` scheduler) and yields a
:class:`ChunkedState` after every slab, then returns the same
:class:`~napari_atomtomo.jobs.reconstruction.ReconstructionResult` as the in-memory job.
Closing the generator (the GUI's Cancel) stops the run at the end of its current slab.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

from .reconstruction import ReconstructionResult

__all__ = ["ChunkedState", "iter_reconstruction_chunked", "n_slabs"]


@dataclass(frozen=True)
class ChunkedState:
    """``iteration`` slabs of ``n_slabs`` are done (``iteration``: the runner's progress)."""

    iteration: int
    n_slabs: int


def n_slabs(n_rows: int, chunks: int) -> int:
    """Number of y-slabs of ``chunks`` rows in a series of ``n_rows`` rows."""
    if chunks < 1:
        raise ValueError(f"chunks must be a number of rows >= 1, got {chunks}")
    return -(-int(n_rows) // int(chunks))


class _Stopped(Exception):
    """Raised from the progress callback to stop the chunked run after a slab."""


def iter_reconstruction_chunked(kind: str, stacks: dict, angles_deg, params, *, haadf=None,
                                ratios=None, chunks: int, scheduler: str | None = None,
                                workers: int | None = None):
    """Run ``kind`` (``"sirt"``, ``"eds"`` or ``"hebt"``) in y-slabs of ``chunks`` rows.

    Same inputs as :func:`~napari_atomtomo.jobs.reconstruction.iter_reconstruction`, plus
    ``chunks`` (rows per slab), ``scheduler`` (``None``: local threads; else a
    ``dask.distributed`` address) and ``workers`` (local slabs at a time). The residual
    curve is the whole volume's (EDS: summed over the elements, labelled
    ``"all elements"``). Yields :class:`ChunkedState`; returns a ``ReconstructionResult``.
    """
    from ..scale import (  # noqa: PLC0415 (dask only when a chunked job runs)
        reconstruct_eds_chunked,
        reconstruct_hebt_chunked,
        reconstruct_sirt_chunked,
    )

    if kind not in ("sirt", "eds", "hebt"):
        raise ValueError(f"kind must be 'sirt', 'eds' or 'hebt', got {kind!r}")
    first = haadf if kind == "hebt" else next(iter(stacks.values()))
    total = n_slabs(first.shape[1], chunks)
    options = {"chunks": int(chunks), "scheduler": scheduler or None, "workers": workers}
    done: queue.Queue = queue.Queue()
    stop = threading.Event()
    out: dict = {}

    def progress(n_done, _n_total):
        if stop.is_set():
            raise _Stopped
        done.put(n_done)

    def run():
        try:
            if kind == "sirt":
                out["result"] = reconstruct_sirt_chunked(stacks["sirt"], angles_deg, params,
                                                         progress=progress, **options)
            elif kind == "eds":
                out["result"] = reconstruct_eds_chunked(stacks, angles_deg, params,
                                                        progress=progress, **options)
            else:
                out["result"] = reconstruct_hebt_chunked(haadf, stacks, angles_deg, params,
                                                         ratios=ratios, progress=progress,
                                                         **options)
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer below)
            out["error"] = exc
        finally:
            done.put(None)

    thread = threading.Thread(target=run, name="atomtomo-chunked", daemon=True)
    thread.start()
    try:
        while (n := done.get()) is not None:
            yield ChunkedState(int(n), total)
    finally:  # also on close (Cancel): the run stops at the end of its current slab
        stop.set()
        thread.join()
    if "error" in out:
        raise out["error"]
    res = out["result"]
    label = {"sirt": "sirt", "eds": "all elements", "hebt": "HEBT"}[kind]
    maps = {("sirt" if kind == "sirt" else f"map_{k}"): v for k, v in res.maps.items()}
    extra = res.extra
    return ReconstructionResult(maps, {label: tuple(float(r) for r in res.residuals)},
                                extra.get("ratios") if kind == "hebt" else None,
                                extra.get("r2"), extra.get("ratio_note"))
