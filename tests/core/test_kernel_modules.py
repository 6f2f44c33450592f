"""The numba kernels release the GIL, are cached on disk, and live apart from the code
that drives them, so that editing an iteration loop does not make the next run recompile
its kernels in the job's worker (numba compiles holding the GIL: the GUI thread stalled
250-310 ms at EST's first iterations after a commit touched ``est/reconstruct.py``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from numba.core.caching import NullCache
from numba.core.registry import CPUDispatcher

import napari_atomtomo.core as core


def _core_modules():
    for info in pkgutil.walk_packages(core.__path__, core.__name__ + "."):
        yield importlib.import_module(info.name)


def _kernels():
    seen = {}
    for module in _core_modules():
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher):
                seen[id(obj)] = (f"{obj.py_func.__module__}.{obj.py_func.__name__}", obj)
    return sorted(seen.values(), key=lambda item: item[0])


def test_every_core_kernel_releases_the_gil_and_is_cached_on_disk():
    kernels = _kernels()
    assert len(kernels) > 20
    held = [name for name, k in kernels if not k.targetoptions.get("nogil")]
    uncached = [name for name, k in kernels if isinstance(k._cache, NullCache)]
    assert (held, uncached) == ([], [])


@pytest.mark.parametrize("driver", [
    "napari_atomtomo.core.est.reconstruct", "napari_atomtomo.core.est.gridding",
    "napari_atomtomo.core.sirt", "napari_atomtomo.core.hebt",
    "napari_atomtomo.core._iterative"])
def test_the_iteration_loops_define_no_kernel_of_their_own(driver):
    """numba keys a kernel's cache on the stamp of the file that defines it: a kernel
    defined in a loop's module would be recompiled after every edit to that loop."""
    module = importlib.import_module(driver)
    path = inspect.getfile(module)
    own = [name for name, k in _kernels() if inspect.getfile(k.py_func) == path]
    assert own == []
