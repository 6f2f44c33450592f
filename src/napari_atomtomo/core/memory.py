"""Memory estimates before large allocations: refuse with one sentence, not a traceback.

``check_memory(n_bytes, what, hint)`` compares an estimate with the memory this machine
has available now (``MemAvailable`` of ``/proc/meminfo``, else physical memory) and
raises :class:`NotEnoughMemoryError` (a ``ValueError``: bad input, refused before the
work) such as "simulating the tilt series needs about 528 GiB, this machine has 23 GiB
available; use fewer pixels or binning".
"""

from __future__ import annotations

import os

__all__ = ["NotEnoughMemoryError", "available_bytes", "check_memory", "gib",
           "reconstruction_bytes", "sirt_bytes"]

#: Refuse when the estimate exceeds this fraction of the available memory.
HEADROOM = 0.9


class NotEnoughMemoryError(ValueError):
    """The estimated memory of a computation exceeds what the machine has available."""


def gib(n_bytes: float) -> str:
    """Format a byte count as GiB for messages (``'1.5 GiB'``)."""
    g = n_bytes / 2**30
    return f"{g:.0f} GiB" if g >= 10 else f"{g:.1f} GiB"


def available_bytes() -> int | None:
    """Memory available for a new allocation in bytes, or ``None`` if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(n_bytes: float, what: str, hint: str = "use smaller data") -> None:
    """Raise :class:`NotEnoughMemoryError` if ``what`` would need more than is available."""
    avail = available_bytes()
    if avail is None or n_bytes <= HEADROOM * avail:
        return
    raise NotEnoughMemoryError(
        f"{what} needs about {gib(n_bytes)}, this machine has {gib(avail)} available; {hint}"
    )


def sirt_bytes(volume_shape, n_angles: int, n_u: int | None = None, *, support: bool = False,
               n_maps: int = 1) -> float:
    """Bytes that SIRT (or EDS / HEBT with ``n_maps`` maps) allocates, beyond its input.

    Per map (numba CPU backend, float32): the working volume ``x`` (which becomes the
    result), one yielded copy of it, the tilt series in the internal layout ``b`` and the
    weighted residual ``e``: ``8 V + 8 S`` bytes for ``V`` voxels and ``S`` tilt-series
    pixels, plus the weights, which without a support are one slice each (with their
    temporaries ``8 (n_a n_u + n_z n_x)``), and the input check (``S``). A support adds
    the full weights ``C`` (``4 V``) and ``R`` (``4 S``) and, while they are computed, the
    mask and a work volume (``8 V``). The old path held about ``16 V + 12 S``.
    """
    n_z, n_y, n_x = (int(n) for n in volume_shape)
    v = float(n_z) * n_y * n_x
    n_u = n_x if n_u is None else int(n_u)
    s = float(n_angles) * n_y * n_u
    total = n_maps * (8.0 * v + 8.0 * s + 8.0 * (n_angles * n_u + n_z * n_x)) + s
    if support:
        total += 12.0 * v + 4.0 * s
    return total


def reconstruction_bytes(stack_shape, n_vox: int | None = None, n_maps: int = 1) -> float:
    """Estimated peak memory of an in-memory SIRT/EDS/HEBT/EST reconstruction.

    ``stack_shape`` is the tilt series' ``(angle, y, x)``; ``n_vox`` the voxels of one map
    (default ``x · y · x``). A y-slab of ``h`` rows needs ``h / y`` of it (rows are
    independent under a single tilt axis), which is what the chunked path budgets.
    """
    n_a, n_y, n_u = (int(s) for s in stack_shape)
    n_z = n_u if n_vox is None else max(1, round(n_vox / (n_y * n_u)))
    return sirt_bytes((n_z, n_y, n_u), n_a, n_u, n_maps=n_maps)
