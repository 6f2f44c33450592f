"""In memory or in y-slabs: the automatic choice, and the slab height, with the reason.

The in-memory estimate (:func:`napari_atomtomo.core.memory.reconstruction_bytes`) is
compared with the memory available now. If it fits within
:data:`~napari_atomtomo.core.memory.HEADROOM` of it, the reconstruction runs in memory
(the simple default); otherwise in slabs of ``h`` rows, ``h`` the largest power of two
≤ :data:`MAX_SLAB` whose working set, times the workers, fits in :data:`SLAB_SHARE` of
the available memory. ``chunks=N`` forces slabs of ``N`` rows; ``chunks=0`` forces the
in-memory path.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..core.memory import HEADROOM, available_bytes, check_memory, gib, reconstruction_bytes

__all__ = ["ChunkPlan", "plan_chunks", "MAX_SLAB", "SLAB_SHARE"]

#: Largest automatic slab height (rows): bounded memory matters more than fewer slabs.
MAX_SLAB = 64
#: Share of the available memory all workers' slabs may use together.
SLAB_SHARE = 0.25


@dataclass(frozen=True)
class ChunkPlan:
    """``chunked`` with slabs of ``slab`` rows (``n_slabs`` of them), and why."""

    chunked: bool
    slab: int
    n_slabs: int
    estimate_bytes: float
    slab_bytes: float
    available_bytes: float | None
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        if not self.chunked:
            return f"in memory ({self.reason})"
        return f"chunked: {self.n_slabs} y-slabs of {self.slab} rows ({self.reason})"


def plan_chunks(stack_shape, *, n_vox: int | None = None, n_maps: int = 1,
                chunks: int | str | None = "auto", workers: int = 1,
                estimate: float | None = None) -> ChunkPlan:
    """Choose in-memory or chunked for a tilt series of ``(angle, y, x)`` ``stack_shape``.

    ``estimate`` replaces the SIRT estimate for other algorithms (EST's, for example).
    """
    n_y = int(stack_shape[1])
    est = reconstruction_bytes(stack_shape, n_vox, n_maps) if estimate is None else estimate
    per_row = est / n_y
    avail = available_bytes()
    if chunks is None or chunks == "auto":
        if avail is None or est <= HEADROOM * avail:
            where = "unknown" if avail is None else gib(avail)
            return ChunkPlan(False, n_y, 1, est, est, avail,
                             f"automatic: needs about {gib(est)}, {where} available")
        budget = SLAB_SHARE * avail / max(int(workers), 1)
        if per_row > HEADROOM * avail / max(int(workers), 1):
            # not even one row fits: slabs cannot help; the caller's memory check refuses
            return ChunkPlan(False, n_y, 1, est, est, avail,
                             f"automatic: one row alone needs about {gib(per_row)}, "
                             f"{gib(avail)} available, so slabs cannot help")
        slab = 1
        while slab * 2 <= min(MAX_SLAB, n_y) and per_row * slab * 2 <= budget:
            slab *= 2
        n = -(-n_y // slab)
        return ChunkPlan(True, slab, n, est, per_row * slab, avail,
                         f"automatic: in memory it would need about {gib(est)}, only "
                         f"{gib(avail)} available; one slab needs about {gib(per_row * slab)}")
    if isinstance(chunks, bool) or int(chunks) != chunks or chunks < 0:
        raise ValueError(f"chunks must be a slab height in rows ≥ 1 (0: in memory) or 'auto', "
                         f"got {chunks!r}")
    if chunks == 0:
        return ChunkPlan(False, n_y, 1, est, est, avail, "forced in memory (chunks=0)")
    slab = min(int(chunks), n_y)
    n = -(-n_y // slab)
    check_memory(per_row * slab * max(int(workers), 1),
                 f"{max(int(workers), 1)} slab(s) of {slab} rows", "use a smaller --chunks")
    return ChunkPlan(True, slab, n, est, per_row * slab, avail,
                     f"forced: chunks={int(chunks)}; one slab needs about {gib(per_row * slab)}")
