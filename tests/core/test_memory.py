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
