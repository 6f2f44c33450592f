"""Memory estimates before large allocations: refuse with one sentence, not a traceback.

``check_memory(n_bytes, what, hint)`` compares an estimate with the memory this machine
has available now (``MemAvailable`` of ``/proc/meminfo``, else physical memory) and
raises :class:`NotEnoughMemoryError` (a ``ValueError``: bad input, refused before the
work) such as "simulating the tilt series needs about 528 GiB, this machine has 23 GiB
available; use fewer pixels or binning".
"""

from __future__ import annotations

import os

__all__ = ["NotEnoughMemoryError", "available_bytes", "check_memory", "gib"]

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
