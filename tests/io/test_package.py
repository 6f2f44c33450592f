"""The lazy ``napari_atomtomo.io`` package: its names and submodules (PEP 562)."""

from __future__ import annotations

import subprocess
import sys

from napari_atomtomo import io


def test_dir_lists_each_name_once_loaded_or_not():
    io.read_tlt  # noqa: B018 (loaded: now in the module's globals too)
    names = dir(io)
    assert len(names) == len(set(names))
    assert set(io.__all__) <= set(names)


def test_the_submodules_are_attributes_again_in_a_fresh_interpreter():
    """``io.mrc`` was an attribute while the package imported its readers eagerly."""
    code = ("import napari_atomtomo.io as io, sys\n"
            "assert 'napari_atomtomo.io.mrc' not in sys.modules\n"
            "assert io.mrc.read_mrc is io.read_mrc\n"
            "assert io.vendor.read_fused_h5 is io.read_fused_h5\n"
            "assert io.dataset.DataSet is io.DataSet\n"
            "assert not hasattr(io, 'no_such_module')\n")
    subprocess.run([sys.executable, "-c", code], check=True)
