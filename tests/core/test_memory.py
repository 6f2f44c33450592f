"""core.memory: the estimate is compared with what the machine has available."""

import pytest

from napari_atomtomo.core.memory import NotEnoughMemoryError, available_bytes, check_memory, gib


def test_available_memory_is_known_and_positive():
    avail = available_bytes()
    assert avail is not None and avail > 0


def test_check_memory_refuses_more_than_available_with_both_numbers():
    avail = available_bytes()
    with pytest.raises(NotEnoughMemoryError, match=r"needs about .* GiB, this machine has .* "
                                                    r"available; bin it") as info:
        check_memory(4 * avail, "the thing", "bin it")
    assert isinstance(info.value, ValueError)  # bad input: the CLI's one sentence, exit 2
    assert gib(4 * avail) in str(info.value)
    check_memory(avail // 10, "a small thing")  # fits: no error


def test_gib_formats_large_and_small_sizes():
    assert gib(164 * 2**30) == "164 GiB" and gib(1.5 * 2**30) == "1.5 GiB"


@pytest.mark.parametrize("support", [False, True])
def test_sirt_estimate_bounds_what_sirt_allocates(support):
    """tracemalloc sees numpy's allocations: the estimate is an upper bound, and not a
    loose one (within 2x)."""
    import tracemalloc

    import numpy as np

    from napari_atomtomo.core.geometry import equally_sloped_angles
    from napari_atomtomo.core.memory import sirt_bytes
    from napari_atomtomo.core.sirt import SirtParams, reconstruct_sirt

    angles = equally_sloped_angles(32, 72.6)
    shape = (40, 24, 40)
    stack = np.random.default_rng(0).random((angles.size, 24, 40), dtype=np.float32)
    mask = np.ones(shape, dtype=bool) if support else None
    reconstruct_sirt(stack, angles, SirtParams(n_iter=2), support=mask)  # JIT warm-up
    tracemalloc.start()
    try:
        result = reconstruct_sirt(stack, angles, SirtParams(n_iter=3, yield_every=2),
                                  support=mask)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = sirt_bytes(shape, angles.size, support=support)
    assert result.volume.shape == shape
    assert estimate / 2 <= peak <= estimate
